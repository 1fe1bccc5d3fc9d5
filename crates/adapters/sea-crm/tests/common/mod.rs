//! Fresh, migrated databases on every backend (see `nexus_sea_support::testing`) and
//! fixtures for this crate's tests.
//!
//! Every test body runs once per backend from [`backends`]: SQLite always (a temporary
//! file), PostgreSQL when `TEST_DATABASE_URL` names a maintenance database (a
//! `test_<uuid v7>` database is created over it and dropped afterwards). With `CI=true`
//! a missing or unreachable PostgreSQL fails the test instead of being skipped.

#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]

use chrono::{DateTime, Utc};
use nexus_customers::{
    Customer, CustomerRepository, CustomerStatus, EnquirerName, Enquiry, EnquiryMessage,
    EnquiryStatus, EnquirySubject, Tags,
};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_identity::{PasswordHash, User, UserRepository};
use nexus_kernel::{Email, PersonName, Role, UserId};
use nexus_migration::Migrator;
pub use nexus_sea_support::testing::TestDb;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// Every backend to run a test on, each a fresh database migrated by the real migrator.
pub async fn backends() -> Vec<TestDb> {
    nexus_sea_support::testing::backends::<Migrator>().await
}

/// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset outside CI.
pub async fn postgres() -> Option<TestDb> {
    nexus_sea_support::testing::postgres::<Migrator>().await
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    nexus_sea_support::testing::sqlite::<Migrator>().await
}

/// 2026-01-01T00:00:00Z plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("valid instant")
}

/// A parsed e-mail address.
pub fn email(raw: &str) -> Email {
    Email::parse(raw).expect("valid e-mail")
}

/// A parsed person name.
pub fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).expect("valid name")
}

/// An active, verified account, created at `at(created)`.
pub fn user(address: &str, role: Role, created: i64) -> User {
    User {
        id: UserId::new(),
        email: email(address),
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".to_owned()),
        role,
        first_name: name("Test"),
        last_name: name("User"),
        is_active: true,
        email_verified: true,
        version: 1,
        created_at: at(created),
        updated_at: at(created),
    }
}

/// Inserts a staff member and returns their id (customers need a real creator).
pub async fn staff(db: &DatabaseConnection, role: Role) -> UserId {
    let member = user(
        &format!("{}@staff.example.com", Uuid::now_v7().simple()),
        role,
        0,
    );
    nexus_sea_identity::SeaUserRepository::new(db.clone())
        .insert(&member)
        .await
        .expect("insert staff member");
    member.id
}

/// A LEAD customer with no phone, company or tags, created and updated at `at(created)`.
pub fn customer(address: &str, created_by: UserId, created: i64) -> Customer {
    Customer {
        id: CustomerId::new(),
        first_name: name("Pat"),
        last_name: name("Doe"),
        email: email(address),
        phone: None,
        company: None,
        status: CustomerStatus::Lead,
        tags: Tags::default(),
        assigned_to: None,
        created_by,
        created_at: at(created),
        updated_at: at(created),
        version: 1,
        account_id: None,
    }
}

/// Inserts a LEAD customer with this address (and a manager who created it).
pub async fn inserted_customer(db: &DatabaseConnection, address: &str) -> Customer {
    let creator = staff(db, Role::Manager).await;
    let c = customer(address, creator, 0);
    nexus_sea_crm::SeaCustomerRepository::new(db.clone())
        .insert(&c, &[])
        .await
        .expect("insert customer");
    c
}

/// An OPEN, unassigned enquiry from `customer`, created and updated at `at(created)`.
pub fn enquiry(customer: &Customer, subject: &str, created: i64) -> Enquiry {
    Enquiry {
        id: EnquiryId::new(),
        customer_id: customer.id,
        name: EnquirerName::parse("Pat Doe").expect("valid name"),
        email: customer.email.clone(),
        subject: EnquirySubject::parse(subject).expect("valid subject"),
        message: EnquiryMessage::parse("How much is it?\nThanks.").expect("valid message"),
        product_id: None,
        status: EnquiryStatus::Open,
        assigned_to: None,
        created_at: at(created),
        updated_at: at(created),
        version: 1,
    }
}
