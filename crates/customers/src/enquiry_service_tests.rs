use std::sync::Arc;

use crate::{CustomerId, EnquiryId};
use nexus_kernel::{Email, FixedClock, PageRequest, PersonName, Role, UserId};

use super::EnquiryService;
use crate::{
    Customer, CustomerStatus, CustomersError, EnquirerName, Enquiry, EnquiryMessage, EnquiryStatus,
    EnquirySubject, MockCustomerRepository, MockEnquiryRepository, MockStaffDirectory, NewEnquiry,
    StaffMember, Tags,
};

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid")
}

fn new_enquiry() -> NewEnquiry {
    NewEnquiry {
        name: EnquirerName::parse("Ada King Lovelace").expect("valid"),
        email: email("ada@example.com"),
        subject: EnquirySubject::parse("Pricing").expect("valid"),
        message: EnquiryMessage::parse("How much is the template pack?").expect("valid"),
        product_id: None,
    }
}

fn customer(assigned_to: Option<UserId>) -> Customer {
    let now = FixedClock::default().0;
    Customer {
        id: CustomerId::new(),
        first_name: PersonName::parse("Ada").expect("valid"),
        last_name: PersonName::parse("Lovelace").expect("valid"),
        email: email("ada@example.com"),
        phone: None,
        company: None,
        status: CustomerStatus::Active,
        tags: Tags::default(),
        assigned_to,
        created_by: UserId::new(),
        created_at: now,
        updated_at: now,
        version: 1,
        account_id: None,
    }
}

fn enquiry(assigned_to: Option<UserId>, status: EnquiryStatus) -> Enquiry {
    let input = new_enquiry();
    let now = FixedClock::default().0;
    Enquiry {
        id: EnquiryId::new(),
        customer_id: CustomerId::new(),
        name: input.name,
        email: input.email,
        subject: input.subject,
        message: input.message,
        product_id: None,
        status,
        assigned_to,
        created_at: now,
        updated_at: now,
        version: 2,
    }
}

fn member(id: UserId, role: Role, is_active: bool) -> StaffMember {
    StaffMember {
        id,
        email: email("staff@example.com"),
        role,
        is_active,
        email_verified: true,
    }
}

fn service(
    enquiries: MockEnquiryRepository,
    customers: MockCustomerRepository,
    mut staff: MockStaffDirectory,
) -> EnquiryService {
    // No address in these tests belongs to a verified buyer account.
    staff
        .expect_find_verified_customer()
        .returning(|_| Ok(None));
    EnquiryService::new(
        Arc::new(enquiries),
        Arc::new(customers),
        Arc::new(staff),
        Arc::new(FixedClock::default()),
    )
}

#[tokio::test]
async fn an_enquiry_from_a_new_address_creates_a_lead_routed_to_the_least_loaded_officer() {
    let officer = UserId::new();
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_least_loaded_officer()
        .returning(move || Ok(Some(officer)));
    enquiries
        .expect_insert()
        .withf(move |e| e.assigned_to == Some(officer) && e.status == EnquiryStatus::Open)
        .times(1)
        .returning(|_| Ok(()));
    let mut customers = MockCustomerRepository::new();
    customers.expect_find_by_email().returning(|_| Ok(None));
    customers
        .expect_insert()
        .withf(move |c, _| {
            c.status == CustomerStatus::Lead
                && c.assigned_to == Some(officer)
                && c.first_name.as_str() == "Ada"
                && c.last_name.as_str() == "King Lovelace"
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let service = service(enquiries, customers, MockStaffDirectory::new());

    let created = service.submit(new_enquiry()).await.expect("accepted");

    assert_eq!(created.assigned_to, Some(officer));
}

#[tokio::test]
async fn an_enquiry_from_a_known_customer_goes_to_their_active_officer() {
    let officer = UserId::new();
    let known = customer(Some(officer));
    let known_id = known.id;
    let mut enquiries = MockEnquiryRepository::new();
    enquiries.expect_least_loaded_officer().never();
    enquiries
        .expect_insert()
        .withf(move |e| e.customer_id == known_id && e.assigned_to == Some(officer))
        .times(1)
        .returning(|_| Ok(()));
    let mut customers = MockCustomerRepository::new();
    customers
        .expect_find_by_email()
        .returning(move |_| Ok(Some(known.clone())));
    customers.expect_insert().never();
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_member()
        .returning(move |id| Ok(Some(member(id, Role::Cso, true))));

    let created = service(enquiries, customers, staff)
        .submit(new_enquiry())
        .await
        .expect("accepted");

    assert_eq!(created.customer_id, known_id);
}

#[tokio::test]
async fn a_known_customer_whose_officer_left_is_routed_to_the_least_loaded_one() {
    let departed = UserId::new();
    let fallback = UserId::new();
    let known = customer(Some(departed));
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_least_loaded_officer()
        .times(1)
        .returning(move || Ok(Some(fallback)));
    enquiries
        .expect_insert()
        .withf(move |e| e.assigned_to == Some(fallback))
        .times(1)
        .returning(|_| Ok(()));
    let mut customers = MockCustomerRepository::new();
    customers
        .expect_find_by_email()
        .returning(move |_| Ok(Some(known.clone())));
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_member()
        .returning(move |id| Ok(Some(member(id, Role::Cso, false))));

    let created = service(enquiries, customers, staff)
        .submit(new_enquiry())
        .await
        .expect("accepted");

    assert_eq!(created.assigned_to, Some(fallback));
}

#[tokio::test]
async fn two_enquiries_racing_to_create_the_same_lead_link_to_one_customer() {
    let officer = UserId::new();
    let winner = customer(Some(officer));
    let winner_id = winner.id;
    let mut customers = MockCustomerRepository::new();
    let mut seq = mockall::Sequence::new();
    customers
        .expect_find_by_email()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(None));
    customers
        .expect_insert()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Err(CustomersError::EmailTaken));
    customers
        .expect_find_by_email()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(winner.clone())));
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_least_loaded_officer()
        .returning(move || Ok(Some(officer)));
    enquiries
        .expect_insert()
        .withf(move |e| e.customer_id == winner_id)
        .times(1)
        .returning(|_| Ok(()));
    let mut staff = MockStaffDirectory::new();
    staff
        .expect_find_member()
        .returning(move |id| Ok(Some(member(id, Role::Cso, true))));

    let created = service(enquiries, customers, staff)
        .submit(new_enquiry())
        .await
        .expect("accepted");

    assert_eq!(created.customer_id, winner_id);
}

#[tokio::test]
async fn with_no_active_staff_an_enquiry_is_refused_cleanly() {
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_least_loaded_officer()
        .returning(|| Ok(None));
    enquiries.expect_insert().never();
    let mut customers = MockCustomerRepository::new();
    customers.expect_find_by_email().returning(|_| Ok(None));
    customers.expect_insert().never();

    let result = service(enquiries, customers, MockStaffDirectory::new())
        .submit(new_enquiry())
        .await;

    assert!(matches!(result, Err(CustomersError::NoStaffAvailable)));
}

#[tokio::test]
async fn an_officer_lists_only_their_enquiries_and_a_manager_all() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let cso_id = cso.user_id();
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_list()
        .withf(move |q, _| q.visible_to == Some(cso_id))
        .times(1)
        .returning(|_, p| {
            Ok(nexus_kernel::Page {
                items: vec![],
                total: 0,
                request: p,
            })
        });
    enquiries
        .expect_list()
        .withf(|q, _| q.visible_to.is_none())
        .times(1)
        .returning(|_, p| {
            Ok(nexus_kernel::Page {
                items: vec![],
                total: 0,
                request: p,
            })
        });
    let service = service(
        enquiries,
        MockCustomerRepository::new(),
        MockStaffDirectory::new(),
    );

    service
        .list(&cso, crate::EnquiryQuery::default(), PageRequest::default())
        .await
        .expect("lists");
    service
        .list(
            &manager,
            crate::EnquiryQuery::default(),
            PageRequest::default(),
        )
        .await
        .expect("lists");
    let customer = crate::permissions::actor(UserId::new(), Role::Customer);
    assert!(matches!(
        service
            .list(
                &customer,
                crate::EnquiryQuery::default(),
                PageRequest::default()
            )
            .await,
        Err(CustomersError::Forbidden)
    ));
}

#[tokio::test]
async fn another_officers_enquiry_is_not_found() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    let theirs = enquiry(Some(UserId::new()), EnquiryStatus::Open);
    let id = theirs.id;
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_find()
        .returning(move |_| Ok(Some(theirs.clone())));
    enquiries.expect_update().never();
    let service = service(
        enquiries,
        MockCustomerRepository::new(),
        MockStaffDirectory::new(),
    );

    assert!(matches!(
        service.get(&cso, id).await,
        Err(CustomersError::EnquiryNotFound(_))
    ));
    assert!(matches!(
        service
            .set_status(&cso, id, EnquiryStatus::Closed, None)
            .await,
        Err(CustomersError::EnquiryNotFound(_))
    ));
}

#[tokio::test]
async fn status_changes_follow_the_life_cycle() {
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    for from in EnquiryStatus::ALL {
        for to in EnquiryStatus::ALL {
            let stored = enquiry(Some(cso.user_id()), from);
            let id = stored.id;
            let writes = usize::from(from != to && from.can_become(to));
            let mut enquiries = MockEnquiryRepository::new();
            enquiries
                .expect_find()
                .returning(move |_| Ok(Some(stored.clone())));
            enquiries
                .expect_update()
                .withf(move |e, v| e.status == to && *v == 2 && e.version == 3)
                .times(writes)
                .returning(|_, _| Ok(()));
            let service = service(
                enquiries,
                MockCustomerRepository::new(),
                MockStaffDirectory::new(),
            );

            let result = service.set_status(&cso, id, to, None).await;

            if from.can_become(to) {
                assert_eq!(result.expect("allowed").status, to, "{from} -> {to}");
            } else {
                assert!(
                    matches!(result, Err(CustomersError::InvalidEnquiryTransition { .. })),
                    "{from} -> {to}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict() {
    let manager = crate::permissions::actor(UserId::new(), Role::Manager);
    let stored = enquiry(None, EnquiryStatus::Open);
    let id = stored.id;
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    enquiries.expect_update().never();
    let service = service(
        enquiries,
        MockCustomerRepository::new(),
        MockStaffDirectory::new(),
    );

    let result = service
        .set_status(&manager, id, EnquiryStatus::Closed, Some(1))
        .await;

    assert!(matches!(result, Err(CustomersError::Conflict)));
}

#[tokio::test]
async fn a_customer_sees_the_enquiries_sent_from_their_address() {
    let me = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning(|id| {
        Ok(Some(StaffMember {
            id,
            email: email("me@example.com"),
            role: Role::Customer,
            is_active: true,
            email_verified: true,
        }))
    });
    let mut enquiries = MockEnquiryRepository::new();
    enquiries
        .expect_list()
        .withf(|q, _| {
            q.email.as_ref().map(Email::as_str) == Some("me@example.com") && q.visible_to.is_none()
        })
        .times(1)
        .returning(|_, p| {
            Ok(nexus_kernel::Page {
                items: vec![],
                total: 0,
                request: p,
            })
        });
    let service = service(enquiries, MockCustomerRepository::new(), staff);

    service
        .mine(&me, PageRequest::default())
        .await
        .expect("lists");
    let cso = crate::permissions::actor(UserId::new(), Role::Cso);
    assert!(matches!(
        service.mine(&cso, PageRequest::default()).await,
        Err(CustomersError::Forbidden)
    ));
}

#[tokio::test]
async fn an_account_that_has_not_verified_its_address_sees_no_enquiries_sent_from_it() {
    let me = crate::permissions::actor(UserId::new(), Role::Customer);
    let mut staff = MockStaffDirectory::new();
    staff.expect_find_member().returning(|id| {
        Ok(Some(StaffMember {
            id,
            email: email("victim@example.com"),
            role: Role::Customer,
            is_active: true,
            email_verified: false,
        }))
    });
    let mut enquiries = MockEnquiryRepository::new();
    enquiries.expect_list().never();
    let service = service(enquiries, MockCustomerRepository::new(), staff);

    let result = service.mine(&me, PageRequest::default()).await;

    assert!(matches!(result, Err(CustomersError::EmailUnverified)));
}
