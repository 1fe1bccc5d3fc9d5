//! Checkout, payment, refunds and reading orders.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::AssetKey;
use nexus_kernel::{Actor, Clock, Currency, Money, Page, PageRequest, ProductId, Role, Unexpected};
use uuid::Uuid;

use crate::cart_service::{CartIssue, assess};
use crate::{
    CartStore, EntitlementRepository, GatewayEventId, GatewayKind, LibraryEntry, Order,
    OrderChange, OrderEffects, OrderId, OrderLine, OrderQuery, OrderRefund, OrderRepository,
    OrderStatus, OrdersError, PaymentError, PaymentGateway, ProcessedEvents, ProductCatalog,
    PublicKeyId, RefundReason, WebhookEvent,
};

/// How many times a change is re-read and re-applied when another change to the same order
/// wins the race (a webhook and the browser's callback arriving together, say).
const SAVE_ATTEMPTS: usize = 3;

/// What the browser needs to open the gateway's checkout for a new order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// Our order.
    pub order_id: OrderId,
    /// The gateway's public key id.
    pub key_id: PublicKeyId,
    /// The gateway's order id.
    pub gateway_order_id: String,
    /// Amount to pay, in minor units.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: Currency,
    /// Which gateway (the development one needs no browser checkout).
    pub gateway: GatewayKind,
}

/// A stored file the actor may download; the app turns it into a signed link through the
/// asset store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadTarget {
    /// Where the file is stored.
    pub key: AssetKey,
    /// The name to offer for the download.
    pub file_name: String,
}

/// What a verified webhook did. Every outcome is answered with success, so that the
/// gateway stops redelivering; the ones worth a human's attention are logged as warnings
/// or errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The event was already processed: nothing happened.
    Duplicate,
    /// The order is now PAID.
    Paid {
        /// The order.
        order_id: OrderId,
    },
    /// The order was already paid: nothing happened (logged as an error if by another
    /// payment, which then needs a refund).
    AlreadyPaid {
        /// The order.
        order_id: OrderId,
    },
    /// The amount or currency captured is not the order's: the order stays unpaid.
    AmountMismatch {
        /// The order.
        order_id: OrderId,
        /// The order's total.
        expected: Money,
        /// What the gateway reported.
        received: Money,
    },
    /// Money was captured for an order that can no longer be paid (FAILED, CANCELLED,
    /// EXPIRED): nothing changed; logged as an error for a manual refund.
    NotPayable {
        /// The order.
        order_id: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// The event names a gateway order or payment we do not know.
    UnknownOrder,
    /// The order is now FAILED.
    Failed {
        /// The order.
        order_id: OrderId,
    },
    /// A failure reported for an order that is no longer awaiting payment: ignored (a
    /// paid order is never downgraded).
    FailureIgnored {
        /// The order.
        order_id: OrderId,
        /// Its status, unchanged.
        status: OrderStatus,
    },
    /// A refund was counted.
    Refunded {
        /// The order.
        order_id: OrderId,
        /// Its status now (PARTIALLY_REFUNDED or REFUNDED).
        status: OrderStatus,
    },
    /// The refund was already counted (made here, then reported by the gateway).
    RefundAlreadyCounted {
        /// The order.
        order_id: OrderId,
    },
    /// A refund that cannot be counted against the order (not refundable, or more than
    /// remains): nothing changed; logged as an error.
    RefundNotReconciled {
        /// The order.
        order_id: OrderId,
    },
    /// An event the orders area does not act on.
    Ignored,
}

/// What to do with an order, decided on its freshest copy.
enum Step {
    /// Save this change; the outcome if the save succeeds.
    Save(Box<OrderChange>, WebhookOutcome),
    /// Change nothing.
    Stop(WebhookOutcome),
}

/// The rules of buying: checkout from the cart, payment by the gateway's callback, its
/// webhooks or the development gateway, refunds by administrators, and who sees which
/// orders and files.
///
/// Who may do what: every signed-in user buys for themself; a buyer sees their own orders
/// and library; any staff member sees every order; only ADMIN refunds. An order the actor
/// may not see is `NotFound`.
pub struct OrderService {
    orders: Arc<dyn OrderRepository>,
    events: Arc<dyn ProcessedEvents>,
    entitlements: Arc<dyn EntitlementRepository>,
    catalog: Arc<dyn ProductCatalog>,
    cart: Arc<dyn CartStore>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
}

impl OrderService {
    /// Builds the service from its ports.
    #[must_use]
    pub fn new(
        orders: Arc<dyn OrderRepository>,
        events: Arc<dyn ProcessedEvents>,
        entitlements: Arc<dyn EntitlementRepository>,
        catalog: Arc<dyn ProductCatalog>,
        cart: Arc<dyn CartStore>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            orders,
            events,
            entitlements,
            catalog,
            cart,
            gateway,
            clock,
        }
    }

    /// Turns the actor's cart into a PENDING_PAYMENT order at today's prices and creates
    /// its gateway order. The cart is kept: it is emptied of what was bought once the
    /// payment arrives.
    ///
    /// # Errors
    /// `CartEmpty`; `CartNotPurchasable` listing every product that is unavailable or
    /// already owned; `Payment` when the gateway refuses or is down (the order is then
    /// CANCELLED); `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn checkout(&self, actor: &Actor) -> Result<CheckoutSession, OrdersError> {
        let user = actor.user_id();
        let items = self.cart.items(user).await?;
        if items.is_empty() {
            return Err(OrdersError::CartEmpty);
        }
        let (mut lines, mut unavailable, mut owned) = (Vec::new(), Vec::new(), Vec::new());
        for item in items {
            match assess(&*self.catalog, &*self.entitlements, user, item.product_id).await? {
                (Some(product), None) => lines.push(OrderLine {
                    product_id: item.product_id,
                    title: product.title,
                    unit_price: product.price,
                }),
                (_, Some(CartIssue::AlreadyOwned)) => owned.push(item.product_id),
                (_, _) => unavailable.push(item.product_id),
            }
        }
        if !unavailable.is_empty() || !owned.is_empty() {
            return Err(OrdersError::CartNotPurchasable { unavailable, owned });
        }
        let now = self.clock.now();
        let order = Order::place(user, lines, self.gateway.kind(), now)?;
        self.orders.insert(&order).await?;
        let created = match self
            .gateway
            .create_order(order.total(), &order.id().to_string())
            .await
        {
            Ok(created) if created.amount == order.total() => created,
            Ok(created) => {
                self.abandon(&order).await;
                return Err(Unexpected::msg(format!(
                    "the gateway recorded {} minor units for an order of {}",
                    created.amount.amount_minor(),
                    order.total().amount_minor()
                ))
                .into());
            }
            Err(e) => {
                self.abandon(&order).await;
                return Err(e.into());
            }
        };
        let attached = order.attach_gateway_order(&created.gateway_order_id, now)?;
        self.orders
            .save(&attached, order.version(), &OrderEffects::default())
            .await?;
        tracing::info!(order_id = %order.id(), total = order.total().amount_minor(), "order placed");
        Ok(CheckoutSession {
            order_id: order.id(),
            key_id: self.gateway.key_id(),
            gateway_order_id: created.gateway_order_id,
            amount_minor: order.total().amount_minor(),
            currency: order.currency(),
            gateway: order.gateway(),
        })
    }

    /// The browser's callback after a successful checkout: checks the gateway's signature
    /// over the gateway order and payment, then pays the actor's order as a captured
    /// payment would. Idempotent: an order already paid is returned as it is.
    ///
    /// # Errors
    /// `InvalidSignature` (nothing changes); `NotFound` when the gateway order is unknown
    /// or another user's; `InvalidTransition` when the order can no longer be paid;
    /// `Conflict`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn confirm_payment(
        &self,
        actor: &Actor,
        gateway_order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> Result<Order, OrdersError> {
        if !self
            .gateway
            .verify_checkout_signature(gateway_order_id, payment_id, signature)
        {
            return Err(OrdersError::InvalidSignature);
        }
        let order = self
            .orders
            .find_by_gateway_order(gateway_order_id)
            .await?
            .filter(|o| o.user_id() == actor.user_id())
            .ok_or(OrdersError::NotFound)?;
        self.pay_as_owner(order, payment_id).await
    }

    /// Pays the actor's order without any money moving. Only while the development gateway
    /// is configured (never in production), for orders placed with it.
    ///
    /// # Errors
    /// `DevGatewayOnly`; `NotFound` when absent or another user's; `InvalidTransition`;
    /// `Conflict`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn complete_dev_payment(
        &self,
        actor: &Actor,
        order_id: OrderId,
    ) -> Result<Order, OrdersError> {
        if self.gateway.kind() != GatewayKind::Development {
            return Err(OrdersError::DevGatewayOnly);
        }
        let order = self
            .orders
            .find(order_id)
            .await?
            .filter(|o| o.user_id() == actor.user_id())
            .ok_or(OrdersError::NotFound)?;
        if order.gateway() != GatewayKind::Development {
            return Err(OrdersError::DevGatewayOnly);
        }
        let payment_id = format!("pay_dev_{}", Uuid::now_v7().simple());
        self.pay_as_owner(order, &payment_id).await
    }

    /// Handles a gateway webhook: checks its signature over the raw body, skips an event
    /// already processed, and applies it. An event changes an order in the same
    /// transaction that records it, so ten deliveries have one effect.
    ///
    /// - capture / order paid: a PENDING_PAYMENT order whose total matches becomes PAID
    ///   (products granted, invoice number allocated, invoice and confirmation queued, the
    ///   products taken out of the cart); a mismatch leaves it unpaid;
    /// - payment failed: a PENDING_PAYMENT order becomes FAILED; any other is left alone;
    /// - refund processed: counted once per refund id;
    /// - anything else is acknowledged.
    ///
    /// # Errors
    /// `InvalidSignature` (nothing changes); `Payment(MalformedEvent)` for a body or event
    /// id that cannot be read; `Conflict` after repeated races; `Unexpected`. Every
    /// business outcome is `Ok`, so that the gateway stops redelivering.
    #[tracing::instrument(skip_all, fields(event_id = %event_id))]
    pub async fn handle_webhook(
        &self,
        raw_body: &[u8],
        signature: &str,
        event_id: &str,
    ) -> Result<WebhookOutcome, OrdersError> {
        if !self.gateway.verify_webhook_signature(raw_body, signature) {
            tracing::warn!("webhook with an invalid signature refused");
            return Err(OrdersError::InvalidSignature);
        }
        let event_id = GatewayEventId::parse(event_id)
            .map_err(|e| OrdersError::Payment(PaymentError::MalformedEvent(e.to_string())))?;
        if self.events.seen(&event_id).await? {
            tracing::info!("webhook event already processed");
            return Ok(WebhookOutcome::Duplicate);
        }
        let event = self.gateway.parse_webhook(raw_body)?;
        let outcome = match event {
            WebhookEvent::PaymentCaptured {
                gateway_order_id,
                payment_id,
                amount,
            }
            | WebhookEvent::OrderPaid {
                gateway_order_id,
                payment_id,
                amount,
            } => {
                let found = self.orders.find_by_gateway_order(&gateway_order_id).await?;
                match found {
                    Some(order) => {
                        self.capture(order, &payment_id, amount, Some(&event_id))
                            .await?
                            .0
                    }
                    None => {
                        self.record_only(&event_id, WebhookOutcome::UnknownOrder)
                            .await?
                    }
                }
            }
            WebhookEvent::PaymentFailed {
                gateway_order_id,
                reason,
                ..
            } => {
                let found = self.orders.find_by_gateway_order(&gateway_order_id).await?;
                match found {
                    Some(order) => self.fail(order, reason.as_deref(), &event_id).await?,
                    None => {
                        self.record_only(&event_id, WebhookOutcome::UnknownOrder)
                            .await?
                    }
                }
            }
            WebhookEvent::RefundProcessed {
                payment_id,
                refund_id,
                amount,
            } => match self.orders.find_by_payment(&payment_id).await? {
                Some(order) => {
                    self.reconcile_refund(order, &refund_id, amount, &event_id)
                        .await?
                }
                None => {
                    self.record_only(&event_id, WebhookOutcome::UnknownOrder)
                        .await?
                }
            },
            WebhookEvent::Other { event } => {
                tracing::debug!(event = %event, "webhook event ignored");
                self.record_only(&event_id, WebhookOutcome::Ignored).await?
            }
        };
        tracing::info!(outcome = ?outcome, "webhook handled");
        Ok(outcome)
    }

    /// Refunds a paid order, in full by default, through the gateway; a full refund takes
    /// the products back. ADMIN only.
    ///
    /// # Errors
    /// `Forbidden` for other roles; `NotFound`; `NotRefundable`; `InvalidRefundAmount`;
    /// `RefundTooLarge`; `Payment` when the gateway refuses; `Conflict`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn refund(
        &self,
        actor: &Actor,
        order_id: OrderId,
        amount: Option<Money>,
        reason: RefundReason,
    ) -> Result<Order, OrdersError> {
        if actor.role() != Role::Admin {
            return Err(OrdersError::Forbidden);
        }
        let order = self.find(order_id).await?;
        let amount = amount.unwrap_or_else(|| order.refundable());
        order.check_refund(amount)?;
        let Some(payment_id) = order.payment_id() else {
            return Err(OrdersError::NotRefundable);
        };
        if order.gateway() != self.gateway.kind() {
            tracing::warn!(
                gateway = order.gateway().as_str(),
                "order was paid through another gateway than the configured one"
            );
            return Err(OrdersError::NotRefundable);
        }
        let refunded = self
            .gateway
            .refund(payment_id, amount, reason.as_str())
            .await?;
        if refunded.status.eq_ignore_ascii_case("failed") {
            return Err(OrdersError::Payment(PaymentError::Rejected(
                "the gateway reports the refund as failed".into(),
            )));
        }
        if refunded.amount != amount {
            tracing::warn!(
                asked = amount.amount_minor(),
                refunded = refunded.amount.amount_minor(),
                "the gateway refunded another amount than asked; counting the gateway's"
            );
        }
        let refund = OrderRefund {
            refund_id: refunded.refund_id.clone(),
            amount: refunded.amount,
            reason: Some(reason),
            refunded_by: Some(actor.user_id()),
            at: self.clock.now(),
        };
        let settled = self
            .settle(order, None, |o, now| {
                if o.has_refund(&refund.refund_id) {
                    return Ok(Step::Stop(WebhookOutcome::RefundAlreadyCounted {
                        order_id: o.id(),
                    }));
                }
                let change = o.record_refund(OrderRefund {
                    at: now,
                    ..refund.clone()
                })?;
                let status = change.order.status();
                Ok(Step::Save(
                    Box::new(change),
                    WebhookOutcome::Refunded {
                        order_id: o.id(),
                        status,
                    },
                ))
            })
            .await;
        match settled {
            Ok((_, order)) => {
                tracing::info!(refund_id = %refunded.refund_id, status = %order.status(), "order refunded");
                Ok(order)
            }
            Err(e) => {
                // The money has moved: whoever reads this log must finish the bookkeeping
                // (the gateway's refund.processed webhook usually does it on its own).
                tracing::error!(refund_id = %refunded.refund_id, error = %e, "refunded at the gateway but not recorded");
                Err(e)
            }
        }
    }

    /// Expires up to `limit` orders left PENDING_PAYMENT for longer than `max_age`, oldest
    /// first, and returns how many it expired. System maintenance with no actor: the app
    /// runs it periodically (each run takes the next `limit`).
    ///
    /// An order that changed since it was read (paid or failed meanwhile) is a `Conflict`
    /// on save: it is skipped, never retried, so a payment that wins the race stands. A
    /// payment captured after the order expired is not applied (`WebhookOutcome::NotPayable`,
    /// logged for a manual refund), so `max_age` must be longer than a buyer may take to pay.
    ///
    /// # Errors
    /// `Unexpected` when `max_age` is not positive or the repository fails; orders expired
    /// before the failure stay expired.
    #[tracing::instrument(skip_all, fields(max_age_secs = max_age.num_seconds(), limit = limit))]
    pub async fn expire_stale(
        &self,
        max_age: chrono::Duration,
        limit: u32,
    ) -> Result<usize, OrdersError> {
        if max_age <= chrono::Duration::zero() {
            return Err(Unexpected::msg(format!(
                "orders expire after a positive age, not {max_age}"
            ))
            .into());
        }
        let now = self.clock.now();
        let cutoff = now
            .checked_sub_signed(max_age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut expired = 0;
        for order in self.orders.stale_pending(cutoff, limit).await? {
            let order_id = order.id();
            let change = match order.expire(now) {
                Ok(change) => change,
                Err(e) => {
                    // The port returns only unpaid orders; skipping keeps one odd row from
                    // blocking every later run (they are read oldest first).
                    tracing::warn!(%order_id, error = %e, "a stale order could not be expired");
                    continue;
                }
            };
            match self
                .orders
                .save(&change.order, order.version(), &change.effects)
                .await
            {
                Ok(_) => {
                    tracing::info!(%order_id, "unpaid order expired");
                    expired += 1;
                }
                Err(OrdersError::Conflict) => {
                    tracing::info!(%order_id, "order changed while expiring; left as it is");
                }
                Err(e) => {
                    tracing::warn!(expired, error = %e, "expiring stale orders stopped");
                    return Err(e);
                }
            }
        }
        if expired > 0 {
            tracing::info!(expired, "stale orders expired");
        }
        Ok(expired)
    }

    /// One order the actor may see (their own, or any for staff).
    ///
    /// # Errors
    /// `NotFound` when absent or not visible; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %id))]
    pub async fn get(&self, actor: &Actor, id: OrderId) -> Result<Order, OrdersError> {
        let order = self.find(id).await?;
        if order.is_visible_to(actor) {
            Ok(order)
        } else {
            Err(OrdersError::NotFound)
        }
    }

    /// One page of orders, newest first: a buyer's own whatever the query says; staff may
    /// filter by buyer and status.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn list(
        &self,
        actor: &Actor,
        mut query: OrderQuery,
        page: PageRequest,
    ) -> Result<Page<Order>, OrdersError> {
        if !actor.role().is_staff() {
            query.user_id = Some(actor.user_id());
        }
        self.orders.list(&query, page).await
    }

    /// One page of the products the actor owns.
    ///
    /// # Errors
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn library(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<LibraryEntry>, OrdersError> {
        self.entitlements.list(actor.user_id(), page).await
    }

    /// The file of a product the actor owns (published or not any more).
    ///
    /// # Errors
    /// `NotFound` when the actor does not own it, or it has no file; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), product_id = %product_id))]
    pub async fn download(
        &self,
        actor: &Actor,
        product_id: ProductId,
    ) -> Result<DownloadTarget, OrdersError> {
        if !self.entitlements.owns(actor.user_id(), product_id).await? {
            return Err(OrdersError::NotFound);
        }
        let product = self
            .catalog
            .purchasable(product_id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let key = product.asset_key.ok_or(OrdersError::NotFound)?;
        let file_name = product
            .asset_file_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| {
                key.as_str()
                    .rsplit('/')
                    .next()
                    .unwrap_or(key.as_str())
                    .to_owned()
            });
        Ok(DownloadTarget { key, file_name })
    }

    async fn find(&self, id: OrderId) -> Result<Order, OrdersError> {
        self.orders.find(id).await?.ok_or(OrdersError::NotFound)
    }

    /// The owner's paths (checkout callback, development gateway): pays for the total.
    async fn pay_as_owner(&self, order: Order, payment_id: &str) -> Result<Order, OrdersError> {
        let total = order.total();
        match self.capture(order, payment_id, total, None).await? {
            (WebhookOutcome::Paid { .. } | WebhookOutcome::AlreadyPaid { .. }, order) => Ok(order),
            (WebhookOutcome::NotPayable { status, .. }, _) => Err(OrdersError::InvalidTransition {
                from: status,
                action: "pay",
            }),
            (other, _) => {
                Err(Unexpected::msg(format!("paying as the owner ended in {other:?}")).into())
            }
        }
    }

    /// The one path of a captured payment, whoever reports it.
    async fn capture(
        &self,
        order: Order,
        payment_id: &str,
        amount: Money,
        event: Option<&GatewayEventId>,
    ) -> Result<(WebhookOutcome, Order), OrdersError> {
        let (outcome, order) = self
            .settle(order, event, |o, now| {
                let order_id = o.id();
                let status = o.status();
                if status.was_paid() {
                    if o.payment_id() != Some(payment_id) {
                        tracing::error!(%order_id, payment_id, "a second payment was captured for a paid order; refund it at the gateway");
                    }
                    return Ok(Step::Stop(WebhookOutcome::AlreadyPaid { order_id }));
                }
                if status != OrderStatus::PendingPayment {
                    tracing::error!(%order_id, %status, payment_id, "money captured for an order that can no longer be paid; refund it at the gateway");
                    return Ok(Step::Stop(WebhookOutcome::NotPayable { order_id, status }));
                }
                if amount != o.total() {
                    tracing::warn!(
                        %order_id,
                        expected = o.total().amount_minor(),
                        expected_currency = o.currency().as_str(),
                        received = amount.amount_minor(),
                        received_currency = amount.currency().as_str(),
                        "captured amount does not match the order; left unpaid"
                    );
                    return Ok(Step::Stop(WebhookOutcome::AmountMismatch {
                        order_id,
                        expected: o.total(),
                        received: amount,
                    }));
                }
                Ok(Step::Save(
                    Box::new(o.pay(payment_id, now)?),
                    WebhookOutcome::Paid { order_id },
                ))
            })
            .await?;
        if matches!(outcome, WebhookOutcome::Paid { .. }) {
            tracing::info!(order_id = %order.id(), "order paid");
            self.take_bought_out_of_cart(&order).await;
        }
        Ok((outcome, order))
    }

    async fn fail(
        &self,
        order: Order,
        reason: Option<&str>,
        event: &GatewayEventId,
    ) -> Result<WebhookOutcome, OrdersError> {
        let (outcome, _) = self
            .settle(order, Some(event), |o, now| {
                let (order_id, status) = (o.id(), o.status());
                if status == OrderStatus::PendingPayment {
                    tracing::info!(%order_id, reason, "payment failed");
                    Ok(Step::Save(
                        Box::new(o.fail(now)?),
                        WebhookOutcome::Failed { order_id },
                    ))
                } else {
                    Ok(Step::Stop(WebhookOutcome::FailureIgnored {
                        order_id,
                        status,
                    }))
                }
            })
            .await?;
        Ok(outcome)
    }

    async fn reconcile_refund(
        &self,
        order: Order,
        refund_id: &str,
        amount: Money,
        event: &GatewayEventId,
    ) -> Result<WebhookOutcome, OrdersError> {
        let (outcome, _) = self
            .settle(order, Some(event), |o, now| {
                let order_id = o.id();
                if o.has_refund(refund_id) {
                    return Ok(Step::Stop(WebhookOutcome::RefundAlreadyCounted { order_id }));
                }
                let refund = OrderRefund {
                    refund_id: refund_id.to_owned(),
                    amount,
                    reason: None,
                    refunded_by: None,
                    at: now,
                };
                match o.record_refund(refund) {
                    Ok(change) => {
                        let status = change.order.status();
                        Ok(Step::Save(
                            Box::new(change),
                            WebhookOutcome::Refunded { order_id, status },
                        ))
                    }
                    Err(
                        e @ (OrdersError::NotRefundable
                        | OrdersError::InvalidRefundAmount
                        | OrdersError::RefundTooLarge { .. }),
                    ) => {
                        tracing::error!(%order_id, refund_id, error = %e, "gateway refund cannot be counted against the order");
                        Ok(Step::Stop(WebhookOutcome::RefundNotReconciled { order_id }))
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(outcome)
    }

    /// Decides on the order and saves the change with `event` recorded in the same
    /// transaction; when another change wins the race, re-reads the order and decides again
    /// (or stops if that change was this very event). A decision to change nothing still
    /// records the event.
    async fn settle<F>(
        &self,
        mut order: Order,
        event: Option<&GatewayEventId>,
        decide: F,
    ) -> Result<(WebhookOutcome, Order), OrdersError>
    where
        F: Fn(&Order, DateTime<Utc>) -> Result<Step, OrdersError> + Send + Sync,
    {
        for _ in 0..SAVE_ATTEMPTS {
            let now = self.clock.now();
            let (change, outcome) = match decide(&order, now)? {
                Step::Stop(outcome) => {
                    if let Some(event) = event {
                        self.events.record(event, now).await?;
                    }
                    return Ok((outcome, order));
                }
                Step::Save(change, outcome) => (change, outcome),
            };
            let OrderChange {
                order: next,
                mut effects,
            } = *change;
            effects.event_id = event.cloned();
            match self.orders.save(&next, order.version(), &effects).await {
                Ok(number) => {
                    let next = match number {
                        Some(number) => next.with_invoice_number(number),
                        None => next,
                    };
                    return Ok((outcome, next));
                }
                Err(OrdersError::Conflict) => {
                    if let Some(event) = event
                        && self.events.seen(event).await?
                    {
                        return Ok((WebhookOutcome::Duplicate, order));
                    }
                    order = self.find(order.id()).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(OrdersError::Conflict)
    }

    /// Records an event that changes no order.
    async fn record_only(
        &self,
        event: &GatewayEventId,
        outcome: WebhookOutcome,
    ) -> Result<WebhookOutcome, OrdersError> {
        if self.events.record(event, self.clock.now()).await? {
            Ok(outcome)
        } else {
            Ok(WebhookOutcome::Duplicate)
        }
    }

    /// Takes the products just bought out of the buyer's cart (items added since checkout
    /// stay). Best effort: the order is paid whatever happens here, and the cart shows
    /// owned products as unavailable anyway.
    async fn take_bought_out_of_cart(&self, order: &Order) {
        for line in order.lines() {
            if let Err(e) = self.cart.remove(order.user_id(), line.product_id).await {
                tracing::warn!(order_id = %order.id(), error = %e, "could not take a bought product out of the cart");
            }
        }
    }

    /// Cancels an order whose gateway order could not be created. Best effort: an order
    /// left PENDING_PAYMENT without a gateway order can never be paid.
    async fn abandon(&self, order: &Order) {
        let result = match order.cancel(self.clock.now()) {
            Ok(change) => {
                self.orders
                    .save(&change.order, order.version(), &change.effects)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(order_id = %order.id(), error = %e, "could not cancel an order without a gateway order");
        }
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
