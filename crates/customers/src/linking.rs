//! The subscriber that links a buyer account to the CRM customer with its address once the
//! account has verified that address.

use std::sync::Arc;

use async_trait::async_trait;
use nexus_identity::EmailVerified;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::CustomerService;

/// Links the account that verified its e-mail to the customer with that address (subscriber
/// `link_customer_account`, on `identity.email_verified`). Linking twice changes nothing, so
/// a delivery that runs again is harmless.
pub struct LinkVerifiedAccount {
    customers: Arc<CustomerService>,
}

impl LinkVerifiedAccount {
    /// Builds the subscriber over the CRM's service.
    #[must_use]
    pub fn new(customers: Arc<CustomerService>) -> Self {
        Self { customers }
    }
}

#[async_trait]
impl Subscriber for LinkVerifiedAccount {
    fn name(&self) -> &'static str {
        "link_customer_account"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<EmailVerified>()]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let EmailVerified { user_id, email } = delivery.event.decode()?;
        match self.customers.link_verified_account(user_id, &email).await {
            Ok(linked) => {
                tracing::info!(
                    user_id = %user_id,
                    linked = linked.is_some(),
                    "verified account matched against the CRM"
                );
                Ok(())
            }
            // A conflict (the customer changed meanwhile, or was linked by hand at the same
            // moment) or a database hiccup: the next attempt sees the settled state.
            Err(err) => Err(DeliveryError::Retryable(err.to_string())),
        }
    }
}
