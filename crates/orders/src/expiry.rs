//! The expiry of orders never paid, run a while after each is placed.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::OrderService;
use crate::events::OrderPlaced;
use crate::mailing::retry;

/// `expire_order`: `max_age` after an order is placed (`orders.order_placed`), expires it if
/// it still waits for payment ([`OrderService::expire_unpaid`]: conditional, so a second
/// delivery, or one after the order was paid, changes nothing).
pub struct OrderExpirySubscriber {
    orders: Arc<OrderService>,
    max_age: Duration,
}

impl OrderExpirySubscriber {
    /// Builds the subscriber; `max_age` must be longer than a buyer may take to pay (a
    /// payment captured later is refunded automatically).
    #[must_use]
    pub fn new(orders: Arc<OrderService>, max_age: Duration) -> Self {
        Self { orders, max_age }
    }
}

#[async_trait]
impl Subscriber for OrderExpirySubscriber {
    fn name(&self) -> &'static str {
        "expire_order"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<OrderPlaced>().after(self.max_age)]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let order_id = delivery.event.decode::<OrderPlaced>()?.order_id;
        self.orders
            .expire_unpaid(order_id)
            .await
            .map(|_| ())
            .map_err(retry)
    }
}
