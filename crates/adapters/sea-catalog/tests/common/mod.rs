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

/// Reads through the pool repository, writes through one unit of work per call, as the
/// service does (without events: these tests are about storage).
pub struct Products {
    /// The pool repository.
    pub reads: nexus_sea_catalog::SeaProductRepository,
    /// Units of work on the same database.
    pub uow: nexus_sea_catalog::SeaCatalogUnitOfWork,
}

impl Products {
    /// Both over `db`, with every subscriber route of `routes`.
    pub fn new(db: &DatabaseConnection, routes: nexus_outbox::Routes) -> Self {
        let transactions = nexus_sea_support::Transactions::new(
            db.clone(),
            nexus_outbox::RoutesHandle::installed(std::sync::Arc::new(routes)),
            std::sync::Arc::new(nexus_kernel::FixedClock::default()),
        );
        Self {
            reads: nexus_sea_catalog::SeaProductRepository::new(db.clone()),
            uow: nexus_sea_catalog::SeaCatalogUnitOfWork::new(transactions),
        }
    }

    /// Inserts `product` in a committed unit of work.
    pub async fn insert(
        &self,
        product: &nexus_catalog::Product,
    ) -> Result<(), nexus_catalog::CatalogError> {
        use nexus_catalog::CatalogUnitOfWork as _;
        let tx = self.uow.begin().await?;
        tx.products().insert(product).await?;
        tx.commit().await
    }

    /// Updates `product` from `expected` in a committed unit of work.
    pub async fn update(
        &self,
        product: &nexus_catalog::Product,
        expected: i64,
    ) -> Result<(), nexus_catalog::CatalogError> {
        use nexus_catalog::CatalogUnitOfWork as _;
        let tx = self.uow.begin().await?;
        tx.products().update(product, expected).await?;
        tx.commit().await
    }

    /// Deletes a product in a committed unit of work.
    pub async fn delete(
        &self,
        id: nexus_catalog::ProductId,
    ) -> Result<bool, nexus_catalog::CatalogError> {
        use nexus_catalog::CatalogUnitOfWork as _;
        let tx = self.uow.begin().await?;
        let deleted = tx.products().delete(id).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

impl std::ops::Deref for Products {
    type Target = nexus_sea_catalog::SeaProductRepository;

    fn deref(&self) -> &Self::Target {
        &self.reads
    }
}
