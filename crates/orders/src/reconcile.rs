//! The reconciliation of orders whose payment was never reported, run a while after each is
//! placed.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use nexus_outbox::{Delivery, DeliveryError, Subscriber, Subscription};

use crate::OrderService;
use crate::events::OrderPlaced;
use crate::mailing::retry;

/// `reconcile_payment`: `after` an order is placed (`orders.order_placed`), asks the gateway
/// about it if it still waits for payment, and applies a captured payment whose webhook never
/// came ([`OrderService::reconcile_payment`]: through the webhook's path, so a second delivery,
/// or one racing the webhook, changes nothing). A gateway that does not answer is retried.
pub struct PaymentReconcileSubscriber {
    orders: Arc<OrderService>,
    after: Duration,
}

impl PaymentReconcileSubscriber {
    /// Builds the subscriber; `after` should leave the buyer time to pay and the webhook time
    /// to arrive, and be shorter than the orders' maximum age (the expiry asks the gateway
    /// again anyway).
    #[must_use]
    pub fn new(orders: Arc<OrderService>, after: Duration) -> Self {
        Self { orders, after }
    }
}

#[async_trait]
impl Subscriber for PaymentReconcileSubscriber {
    fn name(&self) -> &'static str {
        "reconcile_payment"
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![Subscription::to::<OrderPlaced>().after(self.after)]
    }

    async fn deliver(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let order_id = delivery.event.decode::<OrderPlaced>()?.order_id;
        self.orders
            .reconcile_payment(order_id)
            .await
            .map(|_| ())
            .map_err(retry)
    }
}
