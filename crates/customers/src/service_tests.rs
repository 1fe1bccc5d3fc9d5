//! Unit tests of `CustomerService` against mocked ports.

use std::sync::Arc;

use crate::CustomerId;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::{Clock, Email, FixedClock, Page, PageRequest, PersonName, Role, UserId};

use crate::{
    Customer, CustomerQuery, CustomerService, CustomerStatus, CustomersError,
    MockCustomerRepository, MockStaffDirectory, NewCustomer, StaffMember, Tags, UpdateCustomer,
};

fn now() -> DateTime<Utc> {
    FixedClock::default().now()
}

fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("valid name")
}

fn customer_assigned_to(assignee: Option<UserId>) -> Customer {
    let created = now() - Duration::days(7);
    Customer {
        id: CustomerId::new(),
        first_name: name("Ada"),
        last_name: name("Lovelace"),
        email: Email::parse("ada@example.com").expect("valid e-mail"),
        phone: None,
        company: None,
        status: CustomerStatus::Active,
        tags: Tags::default(),
        assigned_to: assignee,
        created_by: UserId::new(),
        created_at: created,
        updated_at: created,
        version: 4,
        account_id: None,
    }
}

fn new_customer(assigned_to: Option<UserId>) -> NewCustomer {
    NewCustomer {
        first_name: name("Grace"),
        last_name: name("Hopper"),
        email: Email::parse("grace@example.com").expect("valid e-mail"),
        phone: None,
        company: None,
        status: None,
        tags: Tags::default(),
        assigned_to,
    }
}

fn member(role: Role, is_active: bool) -> StaffMember {
    StaffMember {
        id: UserId::new(),
        email: nexus_kernel::Email::parse("staff@example.com").expect("valid"),
        role,
        is_active,
        email_verified: true,
    }
}

fn rename() -> UpdateCustomer {
    UpdateCustomer {
        first_name: Some(name("Augusta")),
        ..UpdateCustomer::default()
    }
}

/// The service; no address belongs to a verified buyer account.
fn service(customers: MockCustomerRepository, mut staff: MockStaffDirectory) -> CustomerService {
    staff
        .expect_find_verified_customer()
        .returning(|_| Ok(None));
    bare_service(customers, staff)
}

/// The service over exactly these mocks.
fn bare_service(customers: MockCustomerRepository, staff: MockStaffDirectory) -> CustomerService {
    CustomerService::new(
        Arc::new(customers),
        Arc::new(staff),
        Arc::new(FixedClock::default()),
    )
}

/// A repository that serves `customer` from `find` and expects no write.
fn repo_serving(customer: &Customer) -> MockCustomerRepository {
    let stored = customer.clone();
    let id = customer.id;
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .withf(move |wanted| *wanted == id)
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_insert().never();
    repo.expect_update().never();
    repo.expect_delete().never();
    repo
}

fn page_of(items: Vec<Customer>, request: PageRequest) -> Page<Customer> {
    Page {
        total: items.len() as u64,
        items,
        request,
    }
}

// ---- who may do anything at all -------------------------------------------------------

#[tokio::test]
async fn a_customer_account_is_forbidden_from_every_crm_operation() {
    let actor = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut repo = MockCustomerRepository::new();
    repo.expect_list().never();
    repo.expect_find().never();
    repo.expect_insert().never();
    repo.expect_update().never();
    repo.expect_delete().never();
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = service(repo, staff);
    let id = CustomerId::new();

    let results = [
        service
            .list(&actor, CustomerQuery::default(), PageRequest::default())
            .await
            .map(|_| ()),
        service.get(&actor, id).await.map(|_| ()),
        service.create(&actor, new_customer(None)).await.map(|_| ()),
        service.update(&actor, id, 1, rename()).await.map(|_| ()),
        service.delete(&actor, id).await,
        service
            .assign(&actor, id, actor.user_id())
            .await
            .map(|_| ()),
    ];

    for (i, result) in results.into_iter().enumerate() {
        assert!(matches!(result, Err(CustomersError::Forbidden)), "call {i}");
    }
}

// ---- list and get ---------------------------------------------------------------------

#[tokio::test]
async fn an_officer_lists_only_their_own_customers_whatever_the_client_asks() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let cso_id = cso.user_id();
    let mut repo = MockCustomerRepository::new();
    repo.expect_list()
        .withf(move |q, _| q.visible_to == Some(cso_id) && q.status == Some(CustomerStatus::Lead))
        .times(1)
        .returning(|_, page| Ok(page_of(vec![], page)));
    let service = service(repo, MockStaffDirectory::new());
    let query = CustomerQuery {
        status: Some(CustomerStatus::Lead),
        visible_to: Some(UserId::new()),
        ..CustomerQuery::default()
    };

    let result = service.list(&cso, query, PageRequest::default()).await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn managers_and_administrators_list_every_customer() {
    for role in [Role::Manager, Role::Admin] {
        let actor = crate::permissions::actor(UserId::new(), role);
        let listed = customer_assigned_to(Some(UserId::new()));
        let listed_id = listed.id;
        let mut repo = MockCustomerRepository::new();
        repo.expect_list()
            .withf(|q, _| q.visible_to.is_none())
            .times(1)
            .returning(move |_, page| Ok(page_of(vec![listed.clone()], page)));
        let service = service(repo, MockStaffDirectory::new());
        let query = CustomerQuery {
            visible_to: Some(actor.user_id()),
            ..CustomerQuery::default()
        };

        let page = service
            .list(&actor, query, PageRequest::default())
            .await
            .expect("lists");

        let ids: Vec<CustomerId> = page.items.iter().map(|c| c.id).collect();
        assert_eq!(ids, [listed_id], "{role}");
    }
}

#[tokio::test]
async fn an_officer_does_not_see_a_customer_assigned_to_someone_else() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let theirs = customer_assigned_to(Some(UserId::new()));
    let service = service(repo_serving(&theirs), MockStaffDirectory::new());

    let result = service.get(&cso, theirs.id).await;

    assert!(matches!(result, Err(CustomersError::NotFound(id)) if id == theirs.id));
}

#[tokio::test]
async fn an_officer_does_not_see_an_unassigned_customer() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let unassigned = customer_assigned_to(None);
    let service = service(repo_serving(&unassigned), MockStaffDirectory::new());

    let result = service.get(&cso, unassigned.id).await;

    assert!(matches!(result, Err(CustomersError::NotFound(_))));
}

#[tokio::test]
async fn an_officer_sees_their_own_customer() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let mine = customer_assigned_to(Some(cso.user_id()));
    let service = service(repo_serving(&mine), MockStaffDirectory::new());

    let found = service.get(&cso, mine.id).await.expect("visible");

    assert_eq!(found, mine);
}

#[tokio::test]
async fn getting_a_missing_customer_is_not_found() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let missing = CustomerId::new();
    let mut repo = MockCustomerRepository::new();
    repo.expect_find().returning(|_| Ok(None));
    let service = service(repo, MockStaffDirectory::new());

    let result = service.get(&manager, missing).await;

    assert!(matches!(result, Err(CustomersError::NotFound(id)) if id == missing));
}

// ---- delete ---------------------------------------------------------------------------

#[tokio::test]
async fn an_officer_may_not_delete_their_own_customer() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let mine = customer_assigned_to(Some(cso.user_id()));
    let service = service(repo_serving(&mine), MockStaffDirectory::new());

    let result = service.delete(&cso, mine.id).await;

    assert!(matches!(result, Err(CustomersError::Forbidden)));
}

#[tokio::test]
async fn an_officer_deleting_someone_elses_customer_learns_nothing_about_it() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let theirs = customer_assigned_to(Some(UserId::new()));
    let service = service(repo_serving(&theirs), MockStaffDirectory::new());

    let result = service.delete(&cso, theirs.id).await;

    assert!(matches!(result, Err(CustomersError::NotFound(id)) if id == theirs.id));
}

#[tokio::test]
async fn a_manager_deletes_any_customer() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let theirs = customer_assigned_to(Some(UserId::new()));
    let (id, stored) = (theirs.id, theirs.clone());
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_delete()
        .withf(move |wanted, _| *wanted == id)
        .times(1)
        .returning(|_, _| Ok(true));
    let service = service(repo, MockStaffDirectory::new());

    let result = service.delete(&manager, id).await;

    assert!(result.is_ok());
}

#[tokio::test]
async fn deleting_a_customer_that_vanished_meanwhile_is_not_found() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let stored = customer_assigned_to(None);
    let id = stored.id;
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_delete().times(1).returning(|_, _| Ok(false));
    let service = service(repo, MockStaffDirectory::new());

    let result = service.delete(&manager, id).await;

    assert!(matches!(result, Err(CustomersError::NotFound(gone)) if gone == id));
}

// ---- create ---------------------------------------------------------------------------

#[tokio::test]
async fn a_new_customer_is_assigned_to_its_creator_by_default() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let cso_id = cso.user_id();
    let mut repo = MockCustomerRepository::new();
    repo.expect_insert()
        .withf(move |c, _| {
            c.assigned_to == Some(cso_id)
                && c.created_by == cso_id
                && c.version == 1
                && c.status == CustomerStatus::Lead
                && c.created_at == now()
                && c.updated_at == now()
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = service(repo, staff);
    let input = new_customer(None);

    let created = service.create(&cso, input.clone()).await.expect("creates");

    assert_eq!(created.assigned_to, Some(cso_id));
    assert_eq!(created.email, input.email);
}

#[tokio::test]
async fn an_officer_may_name_themselves_as_assignee() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let mut repo = MockCustomerRepository::new();
    repo.expect_insert().times(1).returning(|_, _| Ok(()));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = service(repo, staff);

    let created = service
        .create(&cso, new_customer(Some(cso.user_id())))
        .await
        .expect("creates");

    assert_eq!(created.assigned_to, Some(cso.user_id()));
}

#[tokio::test]
async fn an_officer_may_not_assign_a_new_customer_to_someone_else() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let mut repo = MockCustomerRepository::new();
    repo.expect_insert().never();
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = service(repo, staff);

    let result = service
        .create(&cso, new_customer(Some(UserId::new())))
        .await;

    assert!(matches!(result, Err(CustomersError::Forbidden)));
}

#[tokio::test]
async fn a_manager_cannot_assign_a_new_customer_to_anyone_but_active_staff() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let candidates = [
        Some(member(Role::Cso, false)),
        Some(member(Role::Customer, true)),
        None,
    ];
    for candidate in candidates {
        let assignee = candidate.as_ref().map_or_else(UserId::new, |m| m.id);
        let answer = candidate.clone();
        let mut repo = MockCustomerRepository::new();
        repo.expect_insert().never();
        let mut staff = MockStaffDirectory::new();
        staff
            .expect_find_member()
            .withf(move |id| *id == assignee)
            .times(1)
            .returning(move |_| Ok(answer.clone()));
        let service = service(repo, staff);

        let result = service.create(&manager, new_customer(Some(assignee))).await;

        assert!(
            matches!(result, Err(CustomersError::InvalidAssignee)),
            "{candidate:?}"
        );
    }
}

#[tokio::test]
async fn a_manager_assigns_a_new_customer_to_an_active_officer() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let officer = member(Role::Cso, true);
    let officer_id = officer.id;
    let mut repo = MockCustomerRepository::new();
    repo.expect_insert()
        .withf(move |c, _| c.assigned_to == Some(officer_id) && c.created_by == manager.user_id())
        .times(1)
        .returning(|_, _| Ok(()));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning({
        let o = officer.clone();
        move |_| Ok(Some(o.clone()))
    });
    let service = service(repo, staff);

    let created = service
        .create(&manager, new_customer(Some(officer.id)))
        .await
        .expect("creates");

    assert_eq!(created.assigned_to, Some(officer.id));
}

// ---- update ---------------------------------------------------------------------------

#[tokio::test]
async fn updating_from_a_stale_version_is_a_conflict_and_writes_nothing() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let stored = customer_assigned_to(None);
    let service = service(repo_serving(&stored), MockStaffDirectory::new());

    let result = service
        .update(&manager, stored.id, stored.version - 1, rename())
        .await;

    assert!(matches!(result, Err(CustomersError::Conflict)));
}

#[tokio::test]
async fn updating_saves_against_the_expected_version_and_bumps_it() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let stored = customer_assigned_to(Some(cso.user_id()));
    let (id, version) = (stored.id, stored.version);
    let change = rename();
    let new_first = change.first_name.clone().expect("renames");
    let expected_first = new_first.clone();
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    let cso_id = cso.user_id();
    repo.expect_update()
        .withf(move |c, expected, audit| {
            *expected == version
                && c.version == version + 1
                && c.updated_at == now()
                && c.first_name == expected_first
                && audit.len() == 1
                && audit[0].action == "customers.updated"
                && audit[0].target_id == id.to_string()
                && audit[0].actor.map(|a| a.user_id) == Some(cso_id)
                && audit[0].summary["fields"] == serde_json::json!(["firstName"])
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = service(repo, MockStaffDirectory::new());

    let updated = service
        .update(&cso, id, version, change)
        .await
        .expect("updates");

    assert_eq!(updated.version, version + 1);
    assert_eq!(updated.first_name, new_first);
    assert_eq!(updated.updated_at, now());
}

#[tokio::test]
async fn an_officer_cannot_update_someone_elses_customer() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let theirs = customer_assigned_to(Some(UserId::new()));
    let service = service(repo_serving(&theirs), MockStaffDirectory::new());

    let result = service
        .update(&cso, theirs.id, theirs.version, rename())
        .await;

    assert!(matches!(result, Err(CustomersError::NotFound(id)) if id == theirs.id));
}

// ---- assign ---------------------------------------------------------------------------

#[tokio::test]
async fn an_officer_may_not_assign_customers() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let mut repo = MockCustomerRepository::new();
    repo.expect_find().never();
    repo.expect_update().never();
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = service(repo, staff);

    let result = service.assign(&cso, CustomerId::new(), cso.user_id()).await;

    assert!(matches!(result, Err(CustomersError::Forbidden)));
}

#[tokio::test]
async fn assigning_a_customer_to_its_current_officer_writes_nothing() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let officer = member(Role::Cso, true);
    let stored = customer_assigned_to(Some(officer.id));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning({
        let o = officer.clone();
        move |_| Ok(Some(o.clone()))
    });
    let service = service(repo_serving(&stored), staff);

    let result = service
        .assign(&manager, stored.id, officer.id)
        .await
        .expect("assigns");

    assert_eq!(result, stored);
}

#[tokio::test]
async fn assigning_a_customer_to_another_officer_saves_a_new_version() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let officer = member(Role::Cso, true);
    let stored = customer_assigned_to(Some(UserId::new()));
    let (id, version) = (stored.id, stored.version);
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_update()
        .withf(move |c, expected, _| {
            *expected == version && c.version == version + 1 && c.assigned_to == Some(officer.id)
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning({
        let o = officer.clone();
        move |_| Ok(Some(o.clone()))
    });
    let service = service(repo, staff);

    let assigned = service
        .assign(&manager, id, officer.id)
        .await
        .expect("assigns");

    assert_eq!(assigned.assigned_to, Some(officer.id));
    assert_eq!(assigned.version, version + 1);
}

#[tokio::test]
async fn assigning_to_an_inactive_officer_is_refused_without_writing() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let officer = member(Role::Cso, false);
    let stored = customer_assigned_to(None);
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning({
        let o = officer.clone();
        move |_| Ok(Some(o.clone()))
    });
    let service = service(repo_serving(&stored), staff);

    let result = service.assign(&manager, stored.id, officer.id).await;

    assert!(matches!(result, Err(CustomersError::InvalidAssignee)));
}

// ---- the link between a customer and a buyer account ----------------------------------

#[tokio::test]
async fn a_new_customer_is_linked_to_the_verified_account_with_its_address() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let account = UserId::new();
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_verified_customer()
        .returning(move |_| Ok(Some(account)));
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_account().returning(|_| Ok(None));
    repo.expect_insert()
        .withf(move |c, _| c.account_id == Some(account))
        .times(1)
        .returning(|_, _| Ok(()));
    let service = bare_service(repo, staff);

    let created = service
        .create(&cso, new_customer(None))
        .await
        .expect("creates");

    assert_eq!(created.account_id, Some(account));
}

#[tokio::test]
async fn a_new_customer_is_not_linked_to_an_account_already_linked_elsewhere() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let account = UserId::new();
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_verified_customer()
        .returning(move |_| Ok(Some(account)));
    let elsewhere = customer_assigned_to(None);
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_account()
        .returning(move |_| Ok(Some(elsewhere.clone())));
    repo.expect_insert()
        .withf(|c, _| c.account_id.is_none())
        .times(1)
        .returning(|_, _| Ok(()));
    let service = bare_service(repo, staff);

    let created = service
        .create(&cso, new_customer(None))
        .await
        .expect("creates");

    assert_eq!(created.account_id, None);
}

#[tokio::test]
async fn changing_the_address_moves_the_link_to_the_account_with_the_new_one() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let mut stored = customer_assigned_to(None);
    stored.account_id = Some(UserId::new());
    let (id, version) = (stored.id, stored.version);
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_update()
        .withf(|c, _, _| c.account_id.is_none())
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = service(repo, MockStaffDirectory::new());
    let change = UpdateCustomer {
        email: Some(Email::parse("moved@example.com").expect("valid")),
        ..UpdateCustomer::default()
    };

    let updated = service
        .update(&manager, id, version, change)
        .await
        .expect("updates");

    assert_eq!(updated.account_id, None);
}

#[tokio::test]
async fn staff_link_a_customer_account_by_hand() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let stored = customer_assigned_to(Some(cso.user_id()));
    let (id, version) = (stored.id, stored.version);
    let buyer = member(Role::Customer, true);
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning({
        let b = buyer.clone();
        move |_| Ok(Some(b.clone()))
    });
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_find_by_account().returning(|_| Ok(None));
    repo.expect_update()
        .withf(move |c, expected, _| *expected == version && c.account_id == Some(buyer.id))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = bare_service(repo, staff);

    let linked = service
        .link_account(&cso, id, buyer.id)
        .await
        .expect("links");

    assert_eq!(linked.account_id, Some(buyer.id));
    assert_eq!(linked.version, version + 1);
}

#[tokio::test]
async fn only_a_customer_account_can_be_linked() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let stored = customer_assigned_to(None);
    for found in [None, Some(member(Role::Cso, true))] {
        let mut staff = MockStaffDirectory::new();
        staff
            .expect_find_member()
            .returning(move |_| Ok(found.clone()));
        let service = bare_service(repo_serving(&stored), staff);

        let result = service
            .link_account(&manager, stored.id, UserId::new())
            .await;

        assert!(matches!(result, Err(CustomersError::InvalidAccount)));
    }
}

#[tokio::test]
async fn an_account_linked_to_another_customer_cannot_be_linked_again() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let stored = customer_assigned_to(None);
    let other = customer_assigned_to(None);
    let buyer = member(Role::Customer, true);
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_member()
        .returning(move |_| Ok(Some(buyer.clone())));
    let mut repo = repo_serving(&stored);
    repo.expect_find_by_account()
        .returning(move |_| Ok(Some(other.clone())));
    let service = bare_service(repo, staff);

    let result = service
        .link_account(&manager, stored.id, UserId::new())
        .await;

    assert!(matches!(result, Err(CustomersError::AccountLinked)));
}

#[tokio::test]
async fn an_officer_cannot_link_or_unlink_someone_elses_customer() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let theirs = customer_assigned_to(Some(UserId::new()));
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().never();
    let service = bare_service(repo_serving(&theirs), staff);

    let link = service.link_account(&cso, theirs.id, UserId::new()).await;
    let unlink = service.unlink_account(&cso, theirs.id).await;

    assert!(matches!(link, Err(CustomersError::NotFound(_))));
    assert!(matches!(unlink, Err(CustomersError::NotFound(_))));
}

#[tokio::test]
async fn unlinking_clears_the_account_and_saves_a_new_version() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let mut stored = customer_assigned_to(None);
    stored.account_id = Some(UserId::new());
    let (id, version) = (stored.id, stored.version);
    let mut repo = MockCustomerRepository::new();
    repo.expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_update()
        .withf(move |c, expected, _| *expected == version && c.account_id.is_none())
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = bare_service(repo, MockStaffDirectory::new());

    let unlinked = service.unlink_account(&manager, id).await.expect("unlinks");

    assert_eq!(unlinked.account_id, None);
}

#[tokio::test]
async fn a_verified_account_is_linked_to_the_unlinked_customer_with_its_address() {
    let account = UserId::new();
    let stored = customer_assigned_to(None);
    let email = stored.email.clone();
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_verified_customer()
        .returning(move |_| Ok(Some(account)));
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_email()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_find_by_account().returning(|_| Ok(None));
    repo.expect_update()
        .withf(move |c, _, _| c.account_id == Some(account))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let service = bare_service(repo, staff);

    let linked = service
        .link_verified_account(account, &email)
        .await
        .expect("links");

    assert!(linked.is_some_and(|c| c.account_id == Some(account)));
}

#[tokio::test]
async fn an_address_that_is_no_longer_verified_for_the_account_links_nothing() {
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_verified_customer()
        .returning(|_| Ok(None));
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_email().never();
    repo.expect_update().never();
    let service = bare_service(repo, staff);

    let linked = service
        .link_verified_account(
            UserId::new(),
            &Email::parse("ada@example.com").expect("valid"),
        )
        .await
        .expect("answers");

    assert!(linked.is_none());
}

#[tokio::test]
async fn a_customer_already_linked_keeps_its_link_when_another_account_verifies() {
    let account = UserId::new();
    let mut stored = customer_assigned_to(None);
    stored.account_id = Some(UserId::new());
    let email = stored.email.clone();
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_verified_customer()
        .returning(move |_| Ok(Some(account)));
    let mut repo = MockCustomerRepository::new();
    repo.expect_find_by_email()
        .returning(move |_| Ok(Some(stored.clone())));
    repo.expect_update().never();
    let service = bare_service(repo, staff);

    let linked = service
        .link_verified_account(account, &email)
        .await
        .expect("answers");

    assert!(linked.is_none());
}
