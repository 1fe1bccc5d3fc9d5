//! Administrators' view of background work: every subscriber's deliveries, dead letters
//! included, and sending a dead one round again.

use std::sync::Arc;

use nexus_kernel::{Actor, Clock, Page, PageRequest};

use crate::permissions;
use crate::{Delivery, DeliveryFilter, DeliveryId, DeliveryStore, OutboxError};

/// Lists deliveries and retries dead ones, for actors with the jobs permission.
pub struct DeliveryAdmin {
    store: Arc<dyn DeliveryStore>,
    clock: Arc<dyn Clock>,
    max_attempts: u32,
}

impl DeliveryAdmin {
    /// Builds the service. `max_attempts` is the workers' configured budget: deliveries are
    /// shown with the limit actually applied, the smaller of theirs and this one.
    #[must_use]
    pub fn new(store: Arc<dyn DeliveryStore>, clock: Arc<dyn Clock>, max_attempts: u32) -> Self {
        Self {
            store,
            clock,
            max_attempts,
        }
    }

    fn effective(&self, mut delivery: Delivery) -> Delivery {
        delivery.max_attempts = delivery.max_attempts.min(self.max_attempts);
        delivery
    }

    /// One page of deliveries, newest first.
    ///
    /// # Errors
    /// `Forbidden` without the jobs permission, `Unexpected`.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: DeliveryFilter,
        page: PageRequest,
    ) -> Result<Page<Delivery>, OutboxError> {
        require(actor)?;
        Ok(self
            .store
            .list(filter, page)
            .await?
            .map(|delivery| self.effective(delivery)))
    }

    /// Puts a DEAD delivery back in the queue with a fresh attempt budget.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvalidState` (not DEAD), `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), delivery_id = %id))]
    pub async fn retry(&self, actor: &Actor, id: DeliveryId) -> Result<Delivery, OutboxError> {
        require(actor)?;
        let delivery = self.store.retry(id, self.clock.now()).await?;
        tracing::info!(subscriber = %delivery.subscriber, "dead delivery sent round again");
        Ok(self.effective(delivery))
    }
}

fn require(actor: &Actor) -> Result<(), OutboxError> {
    if actor.can(permissions::JOBS_MANAGE) {
        Ok(())
    } else {
        Err(OutboxError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::{FixedClock, Role, UserId};

    use super::*;
    use crate::MockDeliveryStore;

    #[tokio::test]
    async fn only_administrators_see_or_retry_deliveries() {
        for role in [Role::Manager, Role::Cso, Role::Customer] {
            let mut store = MockDeliveryStore::new();
            store.expect_list().never();
            store.expect_retry().never();
            let admin = DeliveryAdmin::new(Arc::new(store), Arc::new(FixedClock::default()), 8);
            let actor = crate::permissions::actor(UserId::new(), role);
            assert!(matches!(
                admin
                    .list(&actor, DeliveryFilter::default(), PageRequest::default())
                    .await,
                Err(OutboxError::Forbidden)
            ));
            assert!(matches!(
                admin.retry(&actor, DeliveryId::new()).await,
                Err(OutboxError::Forbidden)
            ));
        }
    }

    #[tokio::test]
    async fn an_administrator_retries_through_the_store() {
        let id = DeliveryId::new();
        let mut store = MockDeliveryStore::new();
        store
            .expect_retry()
            .withf(move |d, _| *d == id)
            .times(1)
            .returning(|_, _| Err(OutboxError::InvalidState("DONE")));
        let admin = DeliveryAdmin::new(Arc::new(store), Arc::new(FixedClock::default()), 8);
        let actor = crate::permissions::actor(UserId::new(), Role::Admin);
        assert!(matches!(
            admin.retry(&actor, id).await,
            Err(OutboxError::InvalidState("DONE"))
        ));
    }
}
