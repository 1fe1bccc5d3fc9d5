//! `SeaEnquiryRepository` on every backend: storage, guarded updates, list filters and
//! scope, search, and routing to the least loaded officer.

mod common;

use common::{at, enquiry, user};
use nexus_approvals::EnquiryLookup;
use nexus_catalog::ProductId;
use nexus_customers::EnquiryId;
use nexus_customers::{
    CustomerRepository, CustomersError, Enquiry, EnquiryQuery, EnquiryRepository, EnquiryStatus,
    EnquirySubject, SearchTerm,
};
use nexus_identity::{User, UserRepository};
use nexus_kernel::{Page, PageRequest, Role, UserId};
use nexus_sea_approvals::SeaEnquiryLookup;
use nexus_sea_crm::{SeaCustomerRepository, SeaEnquiryRepository};
use nexus_sea_identity::SeaUserRepository;
use nexus_sea_support::DatabaseConnection;

fn ids(page: &Page<Enquiry>) -> Vec<EnquiryId> {
    page.items.iter().map(|e| e.id).collect()
}

async fn list(repo: &SeaEnquiryRepository, query: EnquiryQuery) -> Page<Enquiry> {
    repo.list(&query, PageRequest::new(Some(1), Some(100)))
        .await
        .expect("list")
}

fn search(term: &str) -> EnquiryQuery {
    EnquiryQuery {
        search: Some(SearchTerm::parse(term).expect("valid term")),
        ..EnquiryQuery::default()
    }
}

/// Inserts a staff account with `role`, created at `at(created)`, active or not.
async fn officer(db: &DatabaseConnection, role: Role, created: i64, active: bool) -> User {
    let mut u = user(
        &format!("{}@staff.example.com", uuid::Uuid::now_v7().simple()),
        role,
        created,
    );
    u.is_active = active;
    SeaUserRepository::new(db.clone())
        .insert(&u)
        .await
        .expect("insert staff");
    u
}

/// Inserts `n` enquiries with `status` assigned to `to`.
async fn assign(
    repo: &SeaEnquiryRepository,
    customer: &nexus_customers::Customer,
    to: UserId,
    status: EnquiryStatus,
    n: usize,
) {
    for _ in 0..n {
        let mut e = enquiry(customer, "Load", 0);
        e.assigned_to = Some(to);
        e.status = status;
        repo.insert(&e).await.expect("insert");
    }
}

#[tokio::test]
async fn an_inserted_enquiry_round_trips_every_field() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "ada@example.com").await;
        let cso = common::staff(&t.db, Role::Cso).await;
        let mut full = enquiry(&customer, "Pricing for teams", 10);
        full.product_id = Some(ProductId::new());
        full.assigned_to = Some(cso);
        full.status = EnquiryStatus::Answered;
        full.updated_at = at(20);
        full.version = 3;
        let bare = enquiry(&customer, "Hello", 30);

        repo.insert(&full).await.expect("insert full");
        repo.insert(&bare).await.expect("insert bare");

        assert_eq!(
            repo.find(full.id).await.expect("find"),
            Some(full),
            "{}",
            t.backend
        );
        assert_eq!(repo.find(bare.id).await.expect("find"), Some(bare));
        assert_eq!(repo.find(EnquiryId::new()).await.expect("find"), None);
    }
}

#[tokio::test]
async fn an_update_is_guarded_by_the_version() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "ada@example.com").await;
        let cso = common::staff(&t.db, Role::Cso).await;
        let original = enquiry(&customer, "Question", 0);
        repo.insert(&original).await.expect("insert");
        let mut changed = original.clone();
        changed.status = EnquiryStatus::Closed;
        changed.assigned_to = Some(cso);
        changed.subject = EnquirySubject::parse("Renamed question").expect("subject");
        changed.updated_at = at(60);
        changed.version = 2;

        repo.update(&changed, 1).await.expect("update");
        let stale = repo.update(&changed, 1).await;
        let missing = repo.update(&enquiry(&customer, "Ghost", 0), 1).await;

        assert_eq!(
            repo.find(original.id).await.expect("find"),
            Some(changed.clone()),
            "{}",
            t.backend
        );
        assert!(
            matches!(stale, Err(CustomersError::Conflict)),
            "{}: {stale:?}",
            t.backend
        );
        assert!(matches!(missing, Err(CustomersError::Conflict)));
        // The search text follows the new subject.
        assert_eq!(ids(&list(&repo, search("renamed")).await), [original.id]);
    }
}

#[tokio::test]
async fn the_list_filters_newest_first_with_exact_totals() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let ada = common::inserted_customer(&t.db, "ada@example.com").await;
        let grace = common::inserted_customer(&t.db, "grace@example.com").await;
        let (cso_a, cso_b) = (
            common::staff(&t.db, Role::Cso).await,
            common::staff(&t.db, Role::Cso).await,
        );
        let rows = [
            (&ada, Some(cso_a), EnquiryStatus::Open),
            (&ada, Some(cso_a), EnquiryStatus::Answered),
            (&grace, Some(cso_b), EnquiryStatus::Open),
            (&grace, None, EnquiryStatus::Closed),
            (&ada, Some(cso_a), EnquiryStatus::Open),
        ];
        let mut inserted = Vec::new();
        for (i, (customer, assignee, status)) in rows.into_iter().enumerate() {
            let mut e = enquiry(customer, "Question", i64::try_from(i).expect("small"));
            e.assigned_to = assignee;
            e.status = status;
            repo.insert(&e).await.expect("insert");
            inserted.push(e.id);
        }
        let e = |i: usize| inserted[i];

        let everything = list(&repo, EnquiryQuery::default()).await;
        let paged = repo
            .list(&EnquiryQuery::default(), PageRequest::new(Some(2), Some(2)))
            .await
            .expect("page 2");
        let open = list(
            &repo,
            EnquiryQuery {
                status: Some(EnquiryStatus::Open),
                ..EnquiryQuery::default()
            },
        )
        .await;
        let assigned_a = list(
            &repo,
            EnquiryQuery {
                assigned_to: Some(cso_a),
                ..EnquiryQuery::default()
            },
        )
        .await;
        let visible_a_open = list(
            &repo,
            EnquiryQuery {
                visible_to: Some(cso_a),
                status: Some(EnquiryStatus::Open),
                ..EnquiryQuery::default()
            },
        )
        .await;
        let a_asks_for_b = list(
            &repo,
            EnquiryQuery {
                assigned_to: Some(cso_b),
                visible_to: Some(cso_a),
                ..EnquiryQuery::default()
            },
        )
        .await;
        let graces = list(
            &repo,
            EnquiryQuery {
                email: Some(grace.email.clone()),
                ..EnquiryQuery::default()
            },
        )
        .await;

        let backend = t.backend;
        assert_eq!(
            ids(&everything),
            [e(4), e(3), e(2), e(1), e(0)],
            "{backend}"
        );
        assert_eq!(everything.total, 5);
        assert_eq!(ids(&paged), [e(2), e(1)], "{backend}");
        assert_eq!(paged.total, 5);
        assert_eq!(ids(&open), [e(4), e(2), e(0)], "{backend}");
        assert_eq!(open.total, 3);
        assert_eq!(ids(&assigned_a), [e(4), e(1), e(0)], "{backend}");
        assert_eq!(ids(&visible_a_open), [e(4), e(0)], "{backend}");
        assert_eq!(visible_a_open.total, 2);
        assert!(a_asks_for_b.items.is_empty(), "{backend}");
        assert_eq!(a_asks_for_b.total, 0);
        assert_eq!(ids(&graces), [e(3), e(2)], "{backend}");
        assert_eq!(graces.total, 2);
    }
}

#[tokio::test]
async fn search_matches_subject_name_or_email_case_insensitively() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let ada = common::inserted_customer(&t.db, "ada@engines.example.com").await;
        let grace = common::inserted_customer(&t.db, "grace@navy.example.com").await;
        let cso = common::staff(&t.db, Role::Cso).await;
        let mut pricing = enquiry(&ada, "Volume PRICING", 0);
        pricing.name = nexus_customers::EnquirerName::parse("Ada Lovelace").expect("name");
        let mut refund = enquiry(&grace, "Refund please", 1);
        refund.name = nexus_customers::EnquirerName::parse("Grace Hopper").expect("name");
        refund.assigned_to = Some(cso);
        for e in [&pricing, &refund] {
            repo.insert(e).await.expect("insert");
        }

        let by_subject = list(&repo, search("pricing")).await;
        let by_name = list(&repo, search("HOPPER")).await;
        let by_email = list(&repo, search("engines.example")).await;
        let everyone = list(&repo, search("example")).await;
        let nobody = list(&repo, search("zebra")).await;
        let scoped = list(
            &repo,
            EnquiryQuery {
                visible_to: Some(cso),
                ..search("example")
            },
        )
        .await;

        let backend = t.backend;
        assert_eq!(ids(&by_subject), [pricing.id], "{backend}");
        assert_eq!(by_subject.total, 1);
        assert_eq!(ids(&by_name), [refund.id], "{backend}");
        assert_eq!(ids(&by_email), [pricing.id], "{backend}");
        assert_eq!(everyone.total, 2, "{backend}");
        assert_eq!(nobody.total, 0);
        assert_eq!(ids(&scoped), [refund.id], "{backend}");
        assert_eq!(scoped.total, 1);
    }
}

#[tokio::test]
async fn percent_underscore_and_backslash_in_a_search_match_literally() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "pat@example.com").await;
        let mut inserted = Vec::new();
        for (i, subject) in [
            "Under_Score",
            "UnderXScore",
            "100%Real",
            "100XReal",
            "Back\\Slash",
            "BackSlash",
        ]
        .into_iter()
        .enumerate()
        {
            let e = enquiry(&customer, subject, i64::try_from(i).expect("small"));
            repo.insert(&e).await.expect("insert");
            inserted.push(e.id);
        }

        let underscore = list(&repo, search("under_s")).await;
        let percent = list(&repo, search("0%r")).await;
        let backslash = list(&repo, search("k\\s")).await;

        assert_eq!(ids(&underscore), [inserted[0]], "{}", t.backend);
        assert_eq!(underscore.total, 1);
        assert_eq!(ids(&percent), [inserted[2]], "{}", t.backend);
        assert_eq!(percent.total, 1);
        assert_eq!(ids(&backslash), [inserted[4]], "{}", t.backend);
        assert_eq!(backslash.total, 1);
    }
}

#[tokio::test]
async fn the_least_loaded_active_officer_counts_only_open_enquiries_and_breaks_ties_by_seniority() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "pat@example.com").await;
        // `inserted_customer` made a manager; managers never win while a CSO is active.
        let busy = officer(&t.db, Role::Cso, 0, true).await;
        let senior = officer(&t.db, Role::Cso, 10, true).await;
        let junior = officer(&t.db, Role::Cso, 20, true).await;
        let idle_but_inactive = officer(&t.db, Role::Cso, 0, false).await;
        let idle_customer = officer(&t.db, Role::Customer, 0, true).await;
        assign(&repo, &customer, busy.id, EnquiryStatus::Open, 2).await;
        assign(&repo, &customer, senior.id, EnquiryStatus::Open, 1).await;
        // Answered and closed enquiries are no load.
        assign(&repo, &customer, senior.id, EnquiryStatus::Answered, 3).await;
        assign(&repo, &customer, senior.id, EnquiryStatus::Closed, 3).await;
        assign(&repo, &customer, junior.id, EnquiryStatus::Open, 1).await;

        let chosen = repo.least_loaded_officer().await.expect("route");

        assert_eq!(chosen, Some(senior.id), "{}", t.backend);
        assert_ne!(chosen, Some(idle_but_inactive.id));
        assert_ne!(chosen, Some(idle_customer.id));

        // A CSO with nothing open beats everyone, however new.
        let newcomer = officer(&t.db, Role::Cso, 500, true).await;
        assert_eq!(
            repo.least_loaded_officer().await.expect("route"),
            Some(newcomer.id),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn officers_with_equal_load_and_age_are_chosen_by_id() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let first = officer(&t.db, Role::Cso, 5, true).await;
        let second = officer(&t.db, Role::Cso, 5, true).await;

        let chosen = repo.least_loaded_officer().await.expect("route");

        assert_eq!(chosen, Some(first.id.min(second.id)), "{}", t.backend);
    }
}

#[tokio::test]
async fn without_an_active_cso_a_manager_or_admin_answers_and_without_staff_nobody() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let users = SeaUserRepository::new(t.db.clone());
        assert_eq!(repo.least_loaded_officer().await.expect("route"), None);
        let _customer_only = officer(&t.db, Role::Customer, 0, true).await;
        let _inactive_cso = officer(&t.db, Role::Cso, 0, false).await;
        assert_eq!(
            repo.least_loaded_officer().await.expect("route"),
            None,
            "{}: no active staff",
            t.backend
        );

        let customer = common::inserted_customer(&t.db, "pat@example.com").await;
        // `inserted_customer` made an active manager (created at 0) to be the creator.
        let creator = users
            .find(customer.created_by)
            .await
            .expect("find")
            .expect("creator");
        let admin = officer(&t.db, Role::Admin, 100, true).await;
        assign(&repo, &customer, creator.id, EnquiryStatus::Open, 1).await;

        let chosen = repo.least_loaded_officer().await.expect("route");

        assert_eq!(chosen, Some(admin.id), "{}: fewest open wins", t.backend);
        assign(&repo, &customer, admin.id, EnquiryStatus::Open, 1).await;
        assert_eq!(
            repo.least_loaded_officer().await.expect("route"),
            Some(creator.id),
            "{}: equal load, the older account",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_lookup_names_the_customer_of_an_enquiry() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let lookup = SeaEnquiryLookup::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "pat@example.com").await;
        let e = enquiry(&customer, "Question", 0);
        repo.insert(&e).await.expect("insert");

        assert_eq!(
            lookup.customer_of(e.id).await.expect("lookup"),
            Some(customer.id),
            "{}",
            t.backend
        );
        assert_eq!(
            lookup.customer_of(EnquiryId::new()).await.expect("lookup"),
            None
        );
    }
}

#[tokio::test]
async fn a_customer_with_enquiries_is_not_deleted_and_keeps_them() {
    for t in common::backends().await {
        let repo = SeaEnquiryRepository::new(t.db.clone());
        let customer = common::inserted_customer(&t.db, "pat@example.com").await;
        let e = enquiry(&customer, "Question", 0);
        repo.insert(&e).await.expect("insert");
        let customers = SeaCustomerRepository::new(t.db.clone());

        let result = customers.delete(customer.id, &[]).await;

        assert!(
            matches!(result, Err(CustomersError::HasHistory)),
            "{}: {result:?}",
            t.backend
        );
        assert!(
            repo.find(e.id).await.expect("find").is_some(),
            "{}",
            t.backend
        );
        assert!(
            customers.find(customer.id).await.expect("find").is_some(),
            "{}",
            t.backend
        );
    }
}
