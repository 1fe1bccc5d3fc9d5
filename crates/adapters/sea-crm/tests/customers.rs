//! `SeaCustomerRepository` on every backend: storage, filters, search, sorting, paging,
//! exact totals and concurrent writers.

mod common;

use std::sync::Arc;

use common::{at, customer, email, name};
use nexus_customers::CustomerId;
use nexus_customers::{
    CompanyName, Customer, CustomerQuery, CustomerRepository, CustomerSort, CustomerStatus,
    CustomersError, Phone, SearchTerm, SortDirection, SortField, Tags,
};
use nexus_kernel::{Page, PageRequest, Role, UserId};
use nexus_sea_crm::SeaCustomerRepository;
use nexus_sea_crm::entities::customer as customer_row;
use nexus_sea_support::DatabaseConnection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn ids(page: &Page<Customer>) -> Vec<CustomerId> {
    page.items.iter().map(|c| c.id).collect()
}

async fn list(repo: &SeaCustomerRepository, query: CustomerQuery) -> Page<Customer> {
    repo.list(&query, PageRequest::new(Some(1), Some(100)))
        .await
        .expect("list")
}

fn search(term: &str) -> CustomerQuery {
    CustomerQuery {
        search: Some(SearchTerm::parse(term).expect("valid term")),
        ..CustomerQuery::default()
    }
}

/// The number of customers matching, counted by the database itself.
async fn real_count(
    db: &DatabaseConnection,
    assignee: Option<UserId>,
    status: Option<CustomerStatus>,
) -> u64 {
    let mut select = customer_row::Entity::find();
    if let Some(user) = assignee {
        select = select.filter(customer_row::Column::AssignedTo.eq(user.as_uuid()));
    }
    if let Some(status) = status {
        select = select.filter(customer_row::Column::Status.eq(status.as_str()));
    }
    select.count(db).await.expect("count")
}

/// Checks the list total against a real COUNT for every status x assignee slice, through
/// both `assigned_to` and the officer scope `visible_to`.
async fn assert_totals_exact(
    repo: &SeaCustomerRepository,
    db: &DatabaseConnection,
    staff: &[UserId],
    step: &str,
) {
    let assignees = std::iter::once(None).chain(staff.iter().copied().map(Some));
    for assignee in assignees {
        let statuses = std::iter::once(None).chain(CustomerStatus::ALL.into_iter().map(Some));
        for status in statuses {
            let expected = real_count(db, assignee, status).await;
            for scoped in [false, true] {
                let query = CustomerQuery {
                    status,
                    assigned_to: assignee.filter(|_| !scoped),
                    visible_to: assignee.filter(|_| scoped),
                    ..CustomerQuery::default()
                };
                let page = repo
                    .list(&query, PageRequest::new(Some(1), Some(1)))
                    .await
                    .expect("list");
                assert_eq!(
                    page.total, expected,
                    "{step}: assignee {assignee:?} status {status:?} scoped {scoped}"
                );
            }
        }
    }
}

#[tokio::test]
async fn an_inserted_customer_round_trips_every_field() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let officer = common::staff(&t.db, Role::Cso).await;
        let mut full = customer("ada@example.com", creator, 10);
        full.first_name = name("Ada");
        full.last_name = name("Lovelace");
        full.phone = Some(Phone::parse("+44 20 7946 0958").expect("phone"));
        full.company = Some(CompanyName::parse("Analytical Engines").expect("company"));
        full.status = CustomerStatus::Active;
        full.tags = Tags::parse(&["vip", "b2b"]).expect("tags");
        full.assigned_to = Some(officer);
        full.updated_at = at(20);
        let bare = customer("bare@example.com", creator, 30);

        repo.insert(&full, &[]).await.expect("insert full");
        repo.insert(&bare, &[]).await.expect("insert bare");

        assert_eq!(
            repo.find(full.id).await.expect("find"),
            Some(full),
            "{}",
            t.backend
        );
        assert_eq!(repo.find(bare.id).await.expect("find"), Some(bare));
        assert_eq!(repo.find(CustomerId::new()).await.expect("find"), None);
    }
}

#[tokio::test]
async fn a_customer_is_found_by_email_in_any_case() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let ada = customer("ada@example.com", creator, 0);
        repo.insert(&ada, &[]).await.expect("insert");
        repo.insert(&customer("grace@example.com", creator, 1), &[])
            .await
            .expect("insert");

        let found = repo
            .find_by_email(&email("ADA@Example.com"))
            .await
            .expect("find by email");
        let missing = repo
            .find_by_email(&email("nobody@example.com"))
            .await
            .expect("find by email");

        assert_eq!(found, Some(ada), "{}", t.backend);
        assert_eq!(missing, None, "{}", t.backend);
    }
}

#[tokio::test]
async fn a_duplicate_customer_email_is_email_taken_and_not_counted() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        repo.insert(&customer("dup@example.com", creator, 0), &[])
            .await
            .expect("insert");

        let result = repo
            .insert(&customer("DUP@Example.com", creator, 1), &[])
            .await;

        assert!(
            matches!(result, Err(CustomersError::EmailTaken)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(list(&repo, CustomerQuery::default()).await.total, 1);
    }
}

#[tokio::test]
async fn an_update_saves_changes_and_a_stale_or_missing_row_conflicts() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let original = customer("grace@example.com", creator, 0);
        repo.insert(&original, &[]).await.expect("insert");
        let mut changed = original.clone();
        changed.first_name = name("Grace");
        changed.last_name = name("Hopper");
        changed.email = email("grace@navy.example.com");
        changed.phone = Some(Phone::parse("555 123 4567").expect("phone"));
        changed.status = CustomerStatus::Churned;
        changed.tags = Tags::parse(&["cobol"]).expect("tags");
        changed.assigned_to = Some(creator);
        changed.updated_at = at(99);
        changed.version = 2;

        repo.update(&changed, 1, &[]).await.expect("update");
        let stale = repo.update(&changed, 1, &[]).await;
        let missing = repo
            .update(&customer("ghost@example.com", creator, 0), 1, &[])
            .await;

        assert_eq!(
            repo.find(original.id).await.expect("find"),
            Some(changed),
            "{}",
            t.backend
        );
        assert!(
            matches!(stale, Err(CustomersError::Conflict)),
            "{}: {stale:?}",
            t.backend
        );
        assert!(
            matches!(missing, Err(CustomersError::Conflict)),
            "{}: {missing:?}",
            t.backend
        );
    }
}

#[tokio::test]
async fn changing_a_customer_email_to_one_in_use_is_email_taken() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        repo.insert(&customer("first@example.com", creator, 0), &[])
            .await
            .expect("insert");
        let mut second = customer("second@example.com", creator, 1);
        repo.insert(&second, &[]).await.expect("insert");
        second.email = email("first@example.com");
        second.version = 2;

        let result = repo.update(&second, 1, &[]).await;

        assert!(
            matches!(result, Err(CustomersError::EmailTaken)),
            "{}: {result:?}",
            t.backend
        );
        assert_eq!(
            repo.find(second.id).await.expect("find").map(|c| c.version),
            Some(1)
        );
    }
}

#[tokio::test]
async fn a_customer_is_deleted_once() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let doomed = customer("doomed@example.com", creator, 0);
        repo.insert(&doomed, &[]).await.expect("insert");

        let first = repo.delete(doomed.id, &[]).await.expect("delete");
        let second = repo.delete(doomed.id, &[]).await.expect("delete again");

        assert!(first, "{}", t.backend);
        assert!(!second, "{}", t.backend);
        assert_eq!(repo.find(doomed.id).await.expect("find"), None);
        assert_eq!(list(&repo, CustomerQuery::default()).await.total, 0);
    }
}

#[tokio::test]
async fn the_list_filters_by_status_assignee_and_officer_scope() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let (cso_a, cso_b) = (
            common::staff(&t.db, Role::Cso).await,
            common::staff(&t.db, Role::Cso).await,
        );
        let mut a_lead = customer("a-lead@example.com", creator, 1);
        a_lead.assigned_to = Some(cso_a);
        let mut a_active = customer("a-active@example.com", creator, 2);
        a_active.assigned_to = Some(cso_a);
        a_active.status = CustomerStatus::Active;
        let mut b_active = customer("b-active@example.com", creator, 3);
        b_active.assigned_to = Some(cso_b);
        b_active.status = CustomerStatus::Active;
        let nobodys = customer("nobodys@example.com", creator, 4);
        for c in [&a_lead, &a_active, &b_active, &nobodys] {
            repo.insert(c, &[]).await.expect("insert");
        }

        let active = list(
            &repo,
            CustomerQuery {
                status: Some(CustomerStatus::Active),
                ..CustomerQuery::default()
            },
        )
        .await;
        let assigned_a = list(
            &repo,
            CustomerQuery {
                assigned_to: Some(cso_a),
                ..CustomerQuery::default()
            },
        )
        .await;
        let visible_to_b = list(
            &repo,
            CustomerQuery {
                visible_to: Some(cso_b),
                ..CustomerQuery::default()
            },
        )
        .await;
        let a_and_active = list(
            &repo,
            CustomerQuery {
                status: Some(CustomerStatus::Active),
                visible_to: Some(cso_a),
                ..CustomerQuery::default()
            },
        )
        .await;

        let backend = t.backend;
        assert_eq!(ids(&active), [b_active.id, a_active.id], "{backend}");
        assert_eq!(active.total, 2);
        assert_eq!(ids(&assigned_a), [a_active.id, a_lead.id], "{backend}");
        assert_eq!(assigned_a.total, 2);
        assert_eq!(ids(&visible_to_b), [b_active.id], "{backend}");
        assert_eq!(visible_to_b.total, 1);
        assert_eq!(ids(&a_and_active), [a_active.id], "{backend}");
        assert_eq!(a_and_active.total, 1);
    }
}

#[tokio::test]
async fn assigned_to_and_officer_scope_are_combined_with_and() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let (cso_a, cso_b) = (
            common::staff(&t.db, Role::Cso).await,
            common::staff(&t.db, Role::Cso).await,
        );
        let mut mine = customer("mine@example.com", creator, 1);
        mine.assigned_to = Some(cso_a);
        let mut theirs = customer("theirs@example.com", creator, 2);
        theirs.assigned_to = Some(cso_b);
        repo.insert(&mine, &[]).await.expect("insert");
        repo.insert(&theirs, &[]).await.expect("insert");

        let own = list(
            &repo,
            CustomerQuery {
                assigned_to: Some(cso_a),
                visible_to: Some(cso_a),
                ..CustomerQuery::default()
            },
        )
        .await;
        let someone_elses = list(
            &repo,
            CustomerQuery {
                assigned_to: Some(cso_b),
                visible_to: Some(cso_a),
                ..CustomerQuery::default()
            },
        )
        .await;

        assert_eq!(ids(&own), [mine.id], "{}", t.backend);
        assert_eq!(own.total, 1);
        assert!(someone_elses.items.is_empty(), "{}", t.backend);
        assert_eq!(someone_elses.total, 0);
    }
}

#[tokio::test]
async fn search_finds_case_insensitive_substrings_of_names_and_email() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let officer = common::staff(&t.db, Role::Cso).await;
        let mut ada = customer("ada@analytical.example.com", creator, 1);
        (ada.first_name, ada.last_name) = (name("Ada"), name("Lovelace"));
        let mut grace = customer("grace@navy.example.com", creator, 2);
        (grace.first_name, grace.last_name) = (name("Grace"), name("Hopper"));
        grace.assigned_to = Some(officer);
        let mut alan = customer("alan@bletchley.example.com", creator, 3);
        (alan.first_name, alan.last_name) = (name("Alan"), name("Turing"));
        alan.status = CustomerStatus::Active;
        for c in [&ada, &grace, &alan] {
            repo.insert(c, &[]).await.expect("insert");
        }

        let by_last_name = list(&repo, search("LoveLACE")).await;
        let by_email = list(&repo, search("NAVY")).await;
        let across_fields = list(&repo, search("turing alan@")).await;
        let everyone = list(&repo, search("example")).await;
        let nobody = list(&repo, search("zebra")).await;
        let active_only = list(
            &repo,
            CustomerQuery {
                status: Some(CustomerStatus::Active),
                ..search("a")
            },
        )
        .await;
        let in_scope = list(
            &repo,
            CustomerQuery {
                visible_to: Some(officer),
                ..search("a")
            },
        )
        .await;

        let backend = t.backend;
        assert_eq!(ids(&by_last_name), [ada.id], "{backend}");
        assert_eq!(by_last_name.total, 1);
        assert_eq!(ids(&by_email), [grace.id], "{backend}");
        assert_eq!(ids(&across_fields), [alan.id], "{backend}");
        assert_eq!(everyone.total, 3, "{backend}");
        assert_eq!(nobody.total, 0);
        assert!(nobody.items.is_empty());
        assert_eq!(ids(&active_only), [alan.id], "{backend}");
        assert_eq!(active_only.total, 1);
        assert_eq!(ids(&in_scope), [grace.id], "{backend}");
        assert_eq!(in_scope.total, 1);
    }
}

#[tokio::test]
async fn percent_underscore_and_backslash_in_a_search_match_literally() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let mut inserted = Vec::new();
        for (i, last) in [
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
            let mut c = customer(
                &format!("c{i}@example.com"),
                creator,
                i64::try_from(i).expect("small"),
            );
            c.last_name = name(last);
            repo.insert(&c, &[]).await.expect("insert");
            inserted.push(c.id);
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
async fn every_sort_field_orders_both_ways_with_ties_broken_by_id() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        // Distinct first letters keep byte order and every database collation in agreement.
        let rows = [
            ("Adams", "delta", 30, 100),
            ("Baker", "alpha", 10, 300),
            ("Clark", "charlie", 20, 200),
            ("Dunn", "bravo", 40, 50),
            ("Evans", "echo1", 25, 250),
            ("Evans", "echo2", 25, 250),
        ];
        let mut customers = Vec::new();
        for (last, local, created, updated) in rows {
            let mut c = customer(&format!("{local}@example.com"), creator, created);
            c.last_name = name(last);
            c.updated_at = at(updated);
            repo.insert(&c, &[]).await.expect("insert");
            customers.push(c);
        }

        for field in [
            SortField::CreatedAt,
            SortField::UpdatedAt,
            SortField::LastName,
            SortField::Email,
        ] {
            for direction in [SortDirection::Asc, SortDirection::Desc] {
                let page = list(
                    &repo,
                    CustomerQuery {
                        sort: CustomerSort { field, direction },
                        ..CustomerQuery::default()
                    },
                )
                .await;

                let mut expected = customers.clone();
                expected.sort_by(|a, b| {
                    let key = |c: &Customer| match field {
                        SortField::CreatedAt => c.created_at.to_rfc3339(),
                        SortField::UpdatedAt => c.updated_at.to_rfc3339(),
                        SortField::LastName => c.last_name.as_str().to_owned(),
                        SortField::Email => c.email.as_str().to_owned(),
                    };
                    key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
                });
                if direction == SortDirection::Desc {
                    expected.reverse();
                }
                let expected: Vec<_> = expected.iter().map(|c| c.id).collect();
                assert_eq!(
                    ids(&page),
                    expected,
                    "{}: {field:?} {direction:?}",
                    t.backend
                );
            }
        }
    }
}

#[tokio::test]
async fn pages_split_the_list_without_overlap_and_keep_the_total() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let mut all = Vec::new();
        for i in 0..7 {
            let c = customer(&format!("p{i}@example.com"), creator, i);
            repo.insert(&c, &[]).await.expect("insert");
            all.push(c.id);
        }
        all.reverse();

        let mut seen = Vec::new();
        for page_number in 1..=4 {
            let page = repo
                .list(
                    &CustomerQuery::default(),
                    PageRequest::new(Some(page_number), Some(3)),
                )
                .await
                .expect("list");
            assert_eq!(page.total, 7, "{}: page {page_number}", t.backend);
            assert_eq!(page.total_pages(), 3);
            seen.extend(ids(&page));
        }

        assert_eq!(seen, all, "{}", t.backend);
    }
}

#[tokio::test]
async fn totals_stay_exact_through_inserts_status_changes_reassignments_and_deletes() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let db = &t.db;
        let creator = common::staff(db, Role::Manager).await;
        let staff = [
            common::staff(db, Role::Cso).await,
            common::staff(db, Role::Cso).await,
        ];
        let mut customers = Vec::new();
        for (i, (status, assignee)) in [
            (CustomerStatus::Lead, Some(staff[0])),
            (CustomerStatus::Lead, Some(staff[0])),
            (CustomerStatus::Active, Some(staff[0])),
            (CustomerStatus::Active, Some(staff[1])),
            (CustomerStatus::Inactive, None),
            (CustomerStatus::Churned, Some(staff[1])),
        ]
        .into_iter()
        .enumerate()
        {
            let mut c = customer(&format!("n{i}@example.com"), creator, 0);
            c.status = status;
            c.assigned_to = assignee;
            repo.insert(&c, &[]).await.expect("insert");
            customers.push(c);
        }
        assert_totals_exact(&repo, db, &staff, "after inserts").await;

        let save = |c: &mut Customer| {
            c.version += 1;
            c.clone()
        };
        customers[0].status = CustomerStatus::Active;
        repo.update(&save(&mut customers[0]), 1, &[])
            .await
            .expect("status change");
        assert_totals_exact(&repo, db, &staff, "after a status change").await;

        customers[1].assigned_to = Some(staff[1]);
        repo.update(&save(&mut customers[1]), 1, &[])
            .await
            .expect("reassign");
        customers[3].assigned_to = None;
        repo.update(&save(&mut customers[3]), 1, &[])
            .await
            .expect("unassign");
        customers[4].assigned_to = Some(staff[0]);
        repo.update(&save(&mut customers[4]), 1, &[])
            .await
            .expect("assign");
        assert_totals_exact(&repo, db, &staff, "after reassignments").await;

        customers[2].status = CustomerStatus::Churned;
        customers[2].assigned_to = Some(staff[1]);
        repo.update(&save(&mut customers[2]), 1, &[])
            .await
            .expect("both");
        customers[5].first_name = name("Renamed");
        repo.update(&save(&mut customers[5]), 1, &[])
            .await
            .expect("rename");
        assert_totals_exact(&repo, db, &staff, "after mixed updates").await;

        let stale = repo.update(&customers[2].clone(), 1, &[]).await;
        let duplicate = repo
            .insert(&customer("n0@example.com", creator, 0), &[])
            .await;
        assert!(matches!(stale, Err(CustomersError::Conflict)));
        assert!(matches!(duplicate, Err(CustomersError::EmailTaken)));
        assert_totals_exact(&repo, db, &staff, "after failed writes").await;

        assert!(repo.delete(customers[0].id, &[]).await.expect("delete"));
        assert!(repo.delete(customers[4].id, &[]).await.expect("delete"));
        assert!(
            !repo
                .delete(customers[4].id, &[])
                .await
                .expect("delete again")
        );
        assert_totals_exact(&repo, db, &staff, "after deletes").await;
        assert_eq!(list(&repo, CustomerQuery::default()).await.total, 4);
    }
}

#[tokio::test]
async fn recount_repairs_counters_after_writes_that_bypassed_the_repository() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let officer = common::staff(&t.db, Role::Cso).await;
        for i in 0..4 {
            let mut c = customer(&format!("r{i}@example.com"), creator, i);
            c.assigned_to = Some(officer).filter(|_| i % 2 == 0);
            repo.insert(&c, &[]).await.expect("insert");
        }
        customer_row::Entity::update_many()
            .col_expr(
                customer_row::Column::Status,
                Expr::value(CustomerStatus::Churned.as_str()),
            )
            .filter(customer_row::Column::Email.eq("r0@example.com"))
            .exec(&t.db)
            .await
            .expect("bypass the repository");
        customer_row::Entity::delete_many()
            .filter(customer_row::Column::Email.eq("r1@example.com"))
            .exec(&t.db)
            .await
            .expect("bypass the repository");
        assert_eq!(list(&repo, CustomerQuery::default()).await.total, 4);

        repo.recount().await.expect("recount");

        assert_totals_exact(&repo, &t.db, &[officer], "after recount").await;
        assert_eq!(list(&repo, CustomerQuery::default()).await.total, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_updates_from_the_same_version_give_one_success_and_one_conflict() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let officer = common::staff(&t.db, Role::Cso).await;
        let original = customer("race@example.com", creator, 0);
        repo.insert(&original, &[]).await.expect("insert");
        let mut reassigned = original.clone();
        reassigned.assigned_to = Some(officer);
        reassigned.version = 2;
        let mut activated = original.clone();
        activated.status = CustomerStatus::Active;
        activated.version = 2;

        let (first, second) = tokio::join!(
            repo.update(&reassigned, 1, &[]),
            repo.update(&activated, 1, &[])
        );

        let outcomes = [&first, &second];
        let wins = outcomes.iter().filter(|r| r.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|r| matches!(r, Err(CustomersError::Conflict)))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "{}: {outcomes:?}", t.backend);
        let stored = repo.find(original.id).await.expect("find").expect("stored");
        let winner = if first.is_ok() {
            &reassigned
        } else {
            &activated
        };
        assert_eq!(&stored, winner, "{}", t.backend);
        assert_totals_exact(&repo, &t.db, &[officer], "after the race").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_keep_the_counters_exact() {
    for t in common::backends().await {
        let repo = Arc::new(SeaCustomerRepository::new(t.db.clone()));
        let creator = common::staff(&t.db, Role::Manager).await;
        let officer = common::staff(&t.db, Role::Cso).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..24 {
            let repo = Arc::clone(&repo);
            let mut c = customer(&format!("burst{i}@example.com"), creator, i);
            c.assigned_to = Some(officer).filter(|_| i % 3 == 0);
            tasks.spawn(async move { repo.insert(&c, &[]).await });
        }

        while let Some(joined) = tasks.join_next().await {
            joined.expect("task").expect("insert");
        }

        assert_eq!(
            list(&repo, CustomerQuery::default()).await.total,
            24,
            "{}",
            t.backend
        );
        assert_totals_exact(&repo, &t.db, &[officer], "after a burst").await;
    }
}

#[tokio::test]
async fn a_customer_row_that_breaks_a_domain_rule_is_unexpected_not_accepted() {
    for t in common::backends().await {
        let repo = SeaCustomerRepository::new(t.db.clone());
        let creator = common::staff(&t.db, Role::Manager).await;
        let bad_tags = customer("tags@example.com", creator, 0);
        let bad_status = customer("status@example.com", creator, 1);
        repo.insert(&bad_tags, &[]).await.expect("insert");
        repo.insert(&bad_status, &[]).await.expect("insert");
        customer_row::Entity::update_many()
            .col_expr(customer_row::Column::Tags, Expr::value("not json"))
            .filter(customer_row::Column::Id.eq(bad_tags.id.as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt tags");
        customer_row::Entity::update_many()
            .col_expr(customer_row::Column::Status, Expr::value("GONE"))
            .filter(customer_row::Column::Id.eq(bad_status.id.as_uuid()))
            .exec(&t.db)
            .await
            .expect("corrupt status");

        let tags = repo.find(bad_tags.id).await;
        let status = repo.find(bad_status.id).await;
        let listed = repo
            .list(&CustomerQuery::default(), PageRequest::default())
            .await;

        for result in [tags.map(|_| ()), status.map(|_| ()), listed.map(|_| ())] {
            assert!(
                matches!(result, Err(CustomersError::Unexpected(_))),
                "{}: {result:?}",
                t.backend
            );
        }
    }
}
