//! The CRM as the feedback context sees it: a customer's address, with the CRM's own
//! visibility rules (a CSO sees only the customers assigned to them).

use std::sync::Arc;

use async_trait::async_trait;
use nexus_customers::{CustomerId, CustomerService, CustomersError};
use nexus_feedback::{CustomerDirectory, FeedbackError};
use nexus_kernel::{Actor, Email};

/// [`CustomerDirectory`] over the [`CustomerService`]: the same answer as
/// `GET /api/v1/customers/{id}` gives the same caller.
pub struct CrmCustomerDirectory {
    customers: Arc<CustomerService>,
}

impl CrmCustomerDirectory {
    /// A directory over `customers`.
    #[must_use]
    pub fn new(customers: Arc<CustomerService>) -> Self {
        Self { customers }
    }
}

#[async_trait]
impl CustomerDirectory for CrmCustomerDirectory {
    async fn email_of(&self, actor: &Actor, customer: CustomerId) -> Result<Email, FeedbackError> {
        match self.customers.get(actor, customer).await {
            Ok(found) => Ok(found.email),
            Err(CustomersError::NotFound(_)) => Err(FeedbackError::NotFound),
            Err(CustomersError::Forbidden) => Err(FeedbackError::Forbidden),
            Err(CustomersError::Unexpected(e)) => Err(FeedbackError::Unexpected(e)),
            Err(other) => Err(FeedbackError::Unexpected(nexus_kernel::Unexpected::new(
                "reading a customer for its feedback",
                other,
            ))),
        }
    }
}
