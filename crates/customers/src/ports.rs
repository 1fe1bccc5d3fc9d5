use crate::{CustomerId, EnquiryId};
use async_trait::async_trait;
use nexus_kernel::{AuditRecord, Email, Page, PageRequest, UserId};

use crate::{Customer, CustomerQuery, CustomersError, Enquiry, EnquiryQuery, StaffMember};

/// Stores and loads customers. Implementations must be safe to share across requests and
/// must keep `list` totals exact without counting the whole table on every call.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustomerRepository: Send + Sync {
    /// Inserts a new customer and appends `audit` to the audit log, in one transaction.
    ///
    /// # Errors
    /// `EmailTaken` if another customer has this e-mail (case-insensitively).
    async fn insert(
        &self,
        customer: &Customer,
        audit: &[AuditRecord],
    ) -> Result<(), CustomersError>;

    /// Loads a customer; `Ok(None)` when there is none.
    async fn find(&self, id: CustomerId) -> Result<Option<Customer>, CustomersError>;

    /// Loads the customer with this (normalised) e-mail; `Ok(None)` when there is none.
    async fn find_by_email(&self, email: &Email) -> Result<Option<Customer>, CustomersError>;

    /// Loads the customer linked to the buyer account `user`; `Ok(None)` when there is none.
    async fn find_by_account(&self, user: UserId) -> Result<Option<Customer>, CustomersError>;

    /// Saves every mutable field of `customer` (whose `version` is already the new one) if
    /// the stored version is still `expected_version`, and appends `audit` to the audit
    /// log, in one transaction.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone; `EmailTaken`;
    /// `AccountLinked` when another customer is linked to `customer.account_id`.
    async fn update(
        &self,
        customer: &Customer,
        expected_version: i64,
        audit: &[AuditRecord],
    ) -> Result<(), CustomersError>;

    /// Deletes a customer and appends `audit` to the audit log, in one transaction;
    /// `false` (and nothing appended) when there was none.
    ///
    /// A customer with a history is never deleted, because deleting would take the
    /// responses (and their approval trail) and enquiries with it. The check and the delete
    /// must be atomic against a response or enquiry being added meanwhile.
    ///
    /// # Errors
    /// `HasHistory` when any response or enquiry references the customer.
    async fn delete(&self, id: CustomerId, audit: &[AuditRecord]) -> Result<bool, CustomersError>;

    /// One page of customers matching `query`, with the exact total.
    async fn list(
        &self,
        query: &CustomerQuery,
        page: PageRequest,
    ) -> Result<Page<Customer>, CustomersError>;
}

/// Answers who the accounts are: staff, for assignment, and buyer accounts, for the link
/// between a buyer account and a customer.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StaffDirectory: Send + Sync {
    /// The account `id` with its role and status; `Ok(None)` when there is none.
    async fn find_member(&self, id: UserId) -> Result<Option<StaffMember>, CustomersError>;

    /// The active CUSTOMER account whose e-mail is `email` and verified; `Ok(None)` when
    /// there is none (no account, an unverified address, a staff or disabled account).
    async fn find_verified_customer(&self, email: &Email)
    -> Result<Option<UserId>, CustomersError>;
}

/// Stores and loads enquiries.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EnquiryRepository: Send + Sync {
    /// Inserts a new enquiry.
    async fn insert(&self, enquiry: &Enquiry) -> Result<(), CustomersError>;

    /// Loads an enquiry; `Ok(None)` when there is none.
    async fn find(&self, id: EnquiryId) -> Result<Option<Enquiry>, CustomersError>;

    /// Saves `enquiry` (whose `version` is already the new one) if the stored version is
    /// still `expected_version`.
    ///
    /// # Errors
    /// `Conflict` when the stored version differs or the row is gone.
    async fn update(&self, enquiry: &Enquiry, expected_version: i64) -> Result<(), CustomersError>;

    /// One page of enquiries matching `query`, newest first, with the exact total.
    async fn list(
        &self,
        query: &EnquiryQuery,
        page: PageRequest,
    ) -> Result<Page<Enquiry>, CustomersError>;

    /// The active CSO with the fewest OPEN enquiries (ties: the longest-standing account).
    /// When no CSO is active, the active MANAGER or ADMIN with the fewest, so that someone
    /// answers; `Ok(None)` only when there is no active staff at all.
    async fn least_loaded_officer(&self) -> Result<Option<UserId>, CustomersError>;
}
