//! Checkout, payment, refunds and reading orders.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_catalog::AssetKey;
use nexus_catalog::ProductId;
use nexus_kernel::{
    Actor, AuditRecord, Clock, Currency, Money, Page, PageRequest, Unexpected, field_change,
};
use uuid::Uuid;

use nexus_outbox::EventEnvelope;

use crate::cart_service::{CartIssue, assess};
use crate::events::{OrderPlaced, PaymentUnapplied};
use crate::{
    CartStore, Download, EntitlementRepository, GatewayEventId, GatewayKind, LibraryEntry, Order,
    OrderChange, OrderId, OrderLine, OrderQuery, OrderRefund, OrderRepository, OrderStatus,
    OrdersError, OrdersUnitOfWork, PaymentError, PaymentFailure, PaymentGateway, PendingRefund,
    ProcessedEvents, ProductCatalog, PublicKeyId, RefundReason, UnappliedPayment, UnappliedReason,
    WebhookEvent, checkout_fingerprint, is_gateway_id, reads_all_orders, write_change,
};

/// How many times a change is re-read and re-applied when another change to the same order
/// wins the race (a webhook and the browser's callback arriving together, say).
const SAVE_ATTEMPTS: usize = 3;

/// How many unpaid orders a buyer may have at once unless the app says otherwise.
pub const DEFAULT_PENDING_ORDER_LIMIT: u32 = 5;

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
    /// Whether this is an order already waiting for payment for the same cart (a repeated
    /// checkout), rather than a new one.
    pub resumed: bool,
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
    /// The order was already paid by this very payment: nothing happened.
    AlreadyPaid {
        /// The order.
        order_id: OrderId,
    },
    /// Money was captured that the order cannot take (closed, paid by another payment,
    /// products already owned, wrong amount): the payment is recorded and a subscriber refunds
    /// it through the gateway and tells the buyer. The order is unchanged.
    Refunding {
        /// The order.
        order_id: OrderId,
        /// Why the payment was not applied.
        reason: UnappliedReason,
    },
    /// The event names a gateway order or payment we do not know.
    UnknownOrder,
    /// A payment attempt failed (a declined card, say): recorded; the order stays payable,
    /// since the buyer may retry on the same gateway order.
    AttemptFailed {
        /// The order.
        order_id: OrderId,
    },
    /// A correctly signed event that cannot be used (no event id, no order id, an unknown
    /// currency, an id that is not a gateway id): recorded when it has an event id, and
    /// acknowledged so that the gateway stops redelivering it.
    Unusable {
        /// Why, for the log.
        reason: String,
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
    /// Change nothing on the order; record the payment as unapplied, to be refunded.
    Unapplied(Box<UnappliedPayment>),
}

/// The rules of buying: checkout from the cart, payment by the gateway's callback, its
/// webhooks or the development gateway, refunds by administrators, and who sees which
/// orders and files.
///
/// Who may do what: every signed-in user buys for themself; a buyer sees their own orders
/// and library; MANAGER and ADMIN see every order; only ADMIN refunds. An order the actor
/// may not see is `NotFound`.
pub struct OrderService {
    uow: Arc<dyn OrdersUnitOfWork>,
    pub(crate) orders: Arc<dyn OrderRepository>,
    events: Arc<dyn ProcessedEvents>,
    pub(crate) entitlements: Arc<dyn EntitlementRepository>,
    catalog: Arc<dyn ProductCatalog>,
    cart: Arc<dyn CartStore>,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    pending_limit: u32,
}

impl OrderService {
    /// Builds the service from its ports: `uow` writes, the others read (and `events`
    /// records webhook events that change nothing).
    #[must_use]
    #[expect(
        clippy::too_many_arguments,
        reason = "one port each; a parameter struct would only rename them"
    )]
    pub fn new(
        uow: Arc<dyn OrdersUnitOfWork>,
        orders: Arc<dyn OrderRepository>,
        events: Arc<dyn ProcessedEvents>,
        entitlements: Arc<dyn EntitlementRepository>,
        catalog: Arc<dyn ProductCatalog>,
        cart: Arc<dyn CartStore>,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            uow,
            orders,
            events,
            entitlements,
            catalog,
            cart,
            gateway,
            clock,
            pending_limit: DEFAULT_PENDING_ORDER_LIMIT,
        }
    }

    /// The same service allowing each buyer at most `limit` unpaid orders at once.
    #[must_use]
    pub const fn with_pending_order_limit(mut self, limit: u32) -> Self {
        self.pending_limit = limit;
        self
    }

    /// Turns the actor's cart into a PENDING_PAYMENT order at today's prices and creates
    /// its gateway order. The cart is kept: it is emptied of what was bought once the
    /// payment arrives.
    ///
    /// Idempotent: while an order for the same cart (same products at the same prices) is
    /// waiting for payment, checking out again returns it (`resumed`). The database keeps
    /// one such order per buyer and cart, so concurrent checkouts make one order.
    ///
    /// # Errors
    /// `CartEmpty`; `CartNotPurchasable` listing every product that is unavailable or
    /// already owned; `TooManyPendingOrders` when the buyer already has the allowed number
    /// of unpaid orders; `Payment` when the gateway refuses or is down (nothing is stored);
    /// `Unexpected`.
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
        let key = checkout_fingerprint(&lines);
        if let Some(session) = self.pending_session(user, &key).await? {
            tracing::info!(order_id = %session.order_id, "unchanged cart: the order waiting for payment is returned");
            return Ok(session);
        }
        if self.orders.count_pending(user).await? >= u64::from(self.pending_limit) {
            return Err(OrdersError::TooManyPendingOrders {
                limit: self.pending_limit,
            });
        }
        let now = self.clock.now();
        let order =
            Order::place(user, lines, self.gateway.kind(), now)?.with_checkout_key(key.clone());
        // The gateway order first, so that the order is stored whole or not at all: a
        // checkout that loses the race below leaves only an unused gateway order behind.
        let created = self
            .gateway
            .create_order(order.total(), &order.id().to_string())
            .await?;
        if created.amount != order.total() {
            return Err(Unexpected::msg(format!(
                "the gateway recorded {} minor units for an order of {}",
                created.amount.amount_minor(),
                order.total().amount_minor()
            ))
            .into());
        }
        let order = order.attach_gateway_order(&created.gateway_order_id, now)?;
        match self.place(&order).await {
            Ok(()) => {}
            Err(OrdersError::Conflict) => {
                // A concurrent checkout of the same cart won: answer with its order.
                return self
                    .pending_session(user, &key)
                    .await?
                    .ok_or(OrdersError::Conflict);
            }
            Err(e) => return Err(e),
        }
        tracing::info!(order_id = %order.id(), total = order.total().amount_minor(), "order placed");
        session(&order, self.gateway.key_id(), false)
            .ok_or_else(|| Unexpected::msg("a placed order has no gateway order").into())
    }

    /// Stores a new order and records `orders.order_placed` (its expiry follows from it).
    async fn place(&self, order: &Order) -> Result<(), OrdersError> {
        let mut tx = self.uow.begin().await?;
        tx.orders().insert(order).await?;
        tx.record(EventEnvelope::new(
            &OrderPlaced {
                order_id: order.id(),
                user_id: order.user_id(),
            },
            order.created_at(),
        )?);
        tx.commit().await
    }

    /// Writes `change` of an order stored at `expected_version` (and records `event`) in
    /// one unit of work.
    async fn write_audited(
        &self,
        expected_version: i64,
        change: OrderChange,
        audit: Option<AuditRecord>,
    ) -> Result<Order, OrdersError> {
        let mut tx = self.uow.begin().await?;
        let order = write_change(&mut *tx, expected_version, change, None).await?;
        if let Some(record) = audit {
            tx.audit(record);
        }
        tx.commit().await?;
        Ok(order)
    }

    async fn write(
        &self,
        expected_version: i64,
        change: OrderChange,
        event: Option<&GatewayEventId>,
    ) -> Result<Order, OrdersError> {
        let mut tx = self.uow.begin().await?;
        let order = write_change(&mut *tx, expected_version, change, event).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// The session of the buyer's order waiting for payment for the cart `key`, if any.
    async fn pending_session(
        &self,
        user: nexus_kernel::UserId,
        key: &str,
    ) -> Result<Option<CheckoutSession>, OrdersError> {
        Ok(self
            .orders
            .find_pending_checkout(user, key)
            .await?
            .and_then(|o| session(&o, self.gateway.key_id(), true)))
    }

    /// The browser's callback after a successful checkout: checks the gateway's signature
    /// over the gateway order and payment, then pays the actor's order as a captured
    /// payment would, for the amount the gateway reports (`fetch_payment`; the development
    /// gateway is not asked). Idempotent: an order already paid by this payment is returned
    /// as it is.
    ///
    /// # Errors
    /// `InvalidSignature` (nothing changes); `NotFound` when the gateway order is unknown
    /// or another user's; `PaymentNotCaptured` / `PaymentMismatch` when the gateway does not
    /// report this payment captured for this order; `PaymentNotApplied` when the order cannot
    /// take it (it is refunded automatically); `Payment` when the gateway fails; `Conflict`;
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id()))]
    pub async fn confirm_payment(
        &self,
        actor: &Actor,
        gateway_order_id: &str,
        payment_id: &str,
        signature: &str,
    ) -> Result<Order, OrdersError> {
        if !is_gateway_id(gateway_order_id)
            || !is_gateway_id(payment_id)
            || !self
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
        if order.status().was_paid() && order.payment_id() == Some(payment_id) {
            return Ok(order);
        }
        let amount = if self.gateway.kind() == GatewayKind::Development {
            // No money moves with the development gateway: there is nothing to ask.
            order.total()
        } else {
            // The signature only proves the browser saw this payment; the gateway says
            // whether money was taken, how much, and for which order.
            let payment = self.gateway.fetch_payment(payment_id).await?;
            if payment.payment_id != payment_id
                || payment.gateway_order_id.as_deref() != Some(gateway_order_id)
            {
                tracing::warn!(order_id = %order.id(), "the gateway's payment is for another order");
                return Err(OrdersError::PaymentMismatch);
            }
            if !payment.status.eq_ignore_ascii_case("captured") {
                tracing::info!(order_id = %order.id(), status = %payment.status, "payment not captured yet");
                return Err(OrdersError::PaymentNotCaptured);
            }
            payment.amount
        };
        self.pay_as_owner(order, payment_id, amount).await
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
        let total = order.total();
        self.pay_as_owner(order, &payment_id, total).await
    }

    /// Handles a gateway webhook: checks its signature over the raw body, skips an event
    /// already processed, and applies it. An event changes an order in the same
    /// unit of work that records it, so ten deliveries have one effect.
    ///
    /// - capture / order paid: a PENDING_PAYMENT (or FAILED) order whose total matches
    ///   becomes PAID (products granted, invoice number allocated, invoice and
    ///   confirmation queued, the products taken out of the cart); money the order cannot
    ///   take is recorded and refunded automatically (`Refunding`);
    /// - payment failed: the attempt is recorded with the order (`payment_failures`, with
    ///   the gateway's error code and description); the order stays payable (`AttemptFailed`);
    /// - refund processed: counted once per refund id;
    /// - a signed event that cannot be used is `Unusable`; anything else is acknowledged.
    ///
    /// # Errors
    /// `InvalidSignature` (nothing changes); `Conflict` after repeated races; `Unexpected`.
    /// Every outcome of a correctly signed event is `Ok`, so that the gateway stops
    /// redelivering.
    #[tracing::instrument(skip_all, fields(event_id = tracing::field::Empty))]
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
        let Ok(event_id) = GatewayEventId::parse(event_id) else {
            let reason = "signed webhook without a usable event id".to_owned();
            tracing::warn!(%reason, "webhook ignored");
            return Ok(WebhookOutcome::Unusable { reason });
        };
        tracing::Span::current().record("event_id", event_id.as_str());
        if self.events.seen(&event_id).await? {
            tracing::info!(%event_id, "webhook event already processed");
            return Ok(WebhookOutcome::Duplicate);
        }
        let event = match self.gateway.parse_webhook(raw_body) {
            Ok(event) => event,
            Err(PaymentError::MalformedEvent(reason)) => {
                return self.unusable(&event_id, reason).await;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(bad) = event_ids(&event).into_iter().find(|id| !is_gateway_id(id)) {
            let reason = format!(
                "an id of the event is not a gateway id ({} characters)",
                bad.chars().count()
            );
            return self.unusable(&event_id, reason).await;
        }
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
                        tracing::error!(%event_id, payment_id, "money captured for a gateway order we do not know");
                        self.record_only(&event_id, WebhookOutcome::UnknownOrder)
                            .await?
                    }
                }
            }
            WebhookEvent::PaymentFailed {
                gateway_order_id,
                payment_id,
                code,
                reason,
            } => {
                let found = self.orders.find_by_gateway_order(&gateway_order_id).await?;
                match found {
                    Some(order) => {
                        tracing::info!(order_id = %order.id(), payment_id, code, reason, "payment attempt failed; the order stays payable");
                        let failure = PaymentFailure::new(
                            order.id(),
                            &payment_id,
                            code.as_deref(),
                            reason.as_deref(),
                            self.clock.now(),
                        );
                        self.record_failure(&event_id, &failure).await?
                    }
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
                captured_for,
            } => match self.orders.find_by_payment(&payment_id).await? {
                Some(order) => {
                    self.reconcile_refund(order, &refund_id, amount, &event_id)
                        .await?
                }
                None => {
                    self.refund_before_capture(
                        &payment_id,
                        &refund_id,
                        amount,
                        captured_for,
                        &event_id,
                    )
                    .await?
                }
            },
            WebhookEvent::Other { event } => {
                tracing::debug!(event = %event, "webhook event ignored");
                self.record_only(&event_id, WebhookOutcome::Ignored).await?
            }
        };
        tracing::info!(%event_id, outcome = ?outcome, "webhook handled");
        Ok(outcome)
    }

    /// A refund of a payment no order has taken yet. A refund proves the capture, so when
    /// the event names an order that can still take the payment (its capture event is late),
    /// the capture is applied first and the refund counted against it; otherwise the event
    /// is only recorded (the money is back with the buyer, nothing of ours moved).
    async fn refund_before_capture(
        &self,
        payment_id: &str,
        refund_id: &str,
        amount: Money,
        captured_for: Option<(String, Money)>,
        event_id: &GatewayEventId,
    ) -> Result<WebhookOutcome, OrdersError> {
        let Some((gateway_order_id, paid)) = captured_for else {
            return self
                .record_only(event_id, WebhookOutcome::UnknownOrder)
                .await;
        };
        let order = match self.orders.find_by_gateway_order(&gateway_order_id).await? {
            Some(order) if order.is_payable() && order.total() == paid => order,
            _ => {
                tracing::warn!(
                    payment_id,
                    refund_id,
                    "refund of a payment no order took; recorded only"
                );
                return self
                    .record_only(event_id, WebhookOutcome::UnknownOrder)
                    .await;
            }
        };
        tracing::info!(order_id = %order.id(), payment_id, "refund reported before its capture: applying the capture first");
        let (outcome, order) = self.capture(order, payment_id, paid, None).await?;
        if matches!(outcome, WebhookOutcome::Paid { .. }) {
            self.reconcile_refund(order, refund_id, amount, event_id)
                .await
        } else {
            self.record_only(event_id, outcome).await
        }
    }

    /// Records a signed event that cannot be used, so that it is answered with success.
    async fn unusable(
        &self,
        event_id: &GatewayEventId,
        reason: String,
    ) -> Result<WebhookOutcome, OrdersError> {
        tracing::warn!(%event_id, %reason, "signed webhook event cannot be used; ignored");
        self.record_only(event_id, WebhookOutcome::Unusable { reason })
            .await
    }

    /// Refunds a paid order, in full by default or `amount_minor` in the order's currency,
    /// through the gateway; a full refund takes the products back. ADMIN only.
    ///
    /// One refund at a time per order: the refund is written on the order (version-guarded)
    /// before the gateway is called, with our receipt. If the call ends without an answer
    /// (a timeout), the refund stays written down; the next request for it first asks the
    /// gateway for a refund with that receipt, so a retry never refunds twice.
    ///
    /// # Errors
    /// `Forbidden` for other roles; `NotFound`; `NotRefundable`; `InvalidRefundAmount`;
    /// `RefundTooLarge`; `RefundInProgress` while another refund of the order runs (or a
    /// pending one is for another amount); `Payment` when the gateway refuses or does not
    /// answer; `Conflict`; `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), order_id = %order_id))]
    pub async fn refund(
        &self,
        actor: &Actor,
        order_id: OrderId,
        amount_minor: Option<i64>,
        reason: RefundReason,
    ) -> Result<Order, OrdersError> {
        if !actor.can(crate::permissions::ORDERS_REFUND) {
            return Err(OrdersError::Forbidden);
        }
        let order = self.find(order_id).await?;
        // A refund is in the order's currency: the caller names only the amount.
        let amount = amount_minor
            .map(|minor| Money::new(minor, order.currency()))
            .transpose()
            .map_err(|_| OrdersError::InvalidRefundAmount)?;
        if order.gateway() != self.gateway.kind() {
            tracing::warn!(
                gateway = order.gateway().as_str(),
                "order was paid through another gateway than the configured one"
            );
            return Err(OrdersError::NotRefundable);
        }
        let now = self.clock.now();
        let (change, pending, audit) = match order.pending_refund() {
            Some(pending) => {
                if amount.is_some_and(|a| a != pending.amount) {
                    return Err(OrdersError::RefundInProgress);
                }
                tracing::info!(refund = %pending.id, "resuming a refund written down earlier");
                (order.claim_refund(now)?, pending.clone(), None)
            }
            None => {
                let pending = PendingRefund {
                    id: Uuid::now_v7(),
                    amount: amount.unwrap_or_else(|| order.refundable()),
                    reason,
                    requested_by: actor.user_id(),
                    requested_at: now,
                    claimed_at: None,
                };
                let mut summary = field_change(
                    "refundedMinor",
                    order.refunded().amount_minor(),
                    order
                        .refunded()
                        .amount_minor()
                        .saturating_add(pending.amount.amount_minor()),
                );
                summary["amountMinor"] = pending.amount.amount_minor().into();
                summary["currency"] = pending.amount.currency().as_str().into();
                summary["reason"] = pending.reason.as_str().into();
                summary["refundId"] = pending.id.to_string().into();
                let audit = AuditRecord::new(
                    Some(actor),
                    "orders.refund_requested",
                    "order",
                    order_id,
                    summary,
                    now,
                );
                (order.begin_refund(pending.clone())?, pending, Some(audit))
            }
        };
        let order = match self.write_audited(order.version(), change, audit).await {
            Ok(order) => order,
            // Another request changed the order first: most likely a refund of its own.
            Err(OrdersError::Conflict) => return Err(OrdersError::RefundInProgress),
            Err(e) => return Err(e),
        };
        let Some(payment_id) = order.payment_id().map(str::to_owned) else {
            return Err(OrdersError::NotRefundable);
        };
        let receipt = pending.receipt();
        let asked = match self.gateway.find_refund(&payment_id, &receipt).await {
            Ok(Some(found)) => {
                tracing::info!(refund_id = %found.refund_id, "the gateway already made this refund");
                Ok(found)
            }
            Ok(None) => {
                self.gateway
                    .refund(
                        &payment_id,
                        pending.amount,
                        pending.reason.as_str(),
                        &receipt,
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        let refunded = match asked {
            Ok(refunded) if !refunded.status.eq_ignore_ascii_case("failed") => refunded,
            Ok(_) | Err(PaymentError::Rejected(_)) => {
                // No money moved: the refund is forgotten so that another may be asked for.
                self.change_pending(&order, |o, now| o.drop_refund(now))
                    .await;
                return Err(match asked {
                    Err(e) => e.into(),
                    Ok(_) => OrdersError::Payment(PaymentError::Rejected(
                        "the gateway reports the refund as failed".into(),
                    )),
                });
            }
            Err(e) => {
                // The gateway may or may not have refunded: the refund stays written down,
                // and the next request looks it up by its receipt before refunding.
                self.change_pending(&order, |o, now| o.release_refund(now))
                    .await;
                return Err(e.into());
            }
        };
        if refunded.amount != pending.amount {
            tracing::warn!(
                asked = pending.amount.amount_minor(),
                refunded = refunded.amount.amount_minor(),
                "the gateway refunded another amount than asked; counting the gateway's"
            );
        }
        let refund = OrderRefund {
            refund_id: refunded.refund_id.clone(),
            amount: refunded.amount,
            reason: Some(pending.reason.clone()),
            refunded_by: Some(pending.requested_by),
            at: now,
        };
        let settled = self
            .settle(order, None, |o, now| {
                let change = o.complete_refund(OrderRefund {
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
                // The money has moved and the refund stays written down: the next request
                // (or the gateway's refund.processed webhook) finishes the bookkeeping.
                tracing::error!(refund_id = %refunded.refund_id, error = %e, "refunded at the gateway but not recorded");
                Err(e)
            }
        }
    }

    /// Saves a change of the pending refund; best effort (a failure leaves it claimed until
    /// its lease runs out).
    async fn change_pending<F>(&self, order: &Order, change: F)
    where
        F: Fn(&Order, DateTime<Utc>) -> Result<OrderChange, OrdersError>,
    {
        let result = match change(order, self.clock.now()) {
            Ok(c) => self.write(order.version(), c, None).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(order_id = %order.id(), error = %e, "could not update the pending refund");
        }
    }

    /// Asks the gateway about order `id` when it still waits for payment (PENDING_PAYMENT,
    /// or FAILED by an older version) and was placed with the configured gateway, that
    /// gateway being one where money moves (Razorpay): system maintenance with no actor,
    /// run (by the `reconcile_payment` subscriber) a while after checkout, for orders whose
    /// webhook and callback never came. Returns what each captured payment did, in the
    /// gateway's order; empty when nothing was asked or nothing is captured (then nothing
    /// changes).
    ///
    /// Each captured payment for the order's gateway order is applied through the same path
    /// as a webhook's capture, so whichever of webhook, callback and reconciliation comes
    /// first, in any order or at once, the payment has one effect: the order's version check
    /// decides, and the others see the order already paid by it (`AlreadyPaid`). A payment
    /// the order cannot take (wrong amount, say) is refunded automatically (`Refunding`),
    /// once per payment; a second captured payment is refunded like a second webhook's.
    ///
    /// # Errors
    /// `Payment` when the gateway does not answer or refuses; `Conflict` after repeated
    /// races; `Unexpected`.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn reconcile_payment(&self, id: OrderId) -> Result<Vec<WebhookOutcome>, OrdersError> {
        let Some(mut order) = self.orders.find(id).await? else {
            tracing::info!("an order to reconcile no longer exists");
            return Ok(Vec::new());
        };
        if !order.is_payable() || !self.asks_gateway(&order) {
            return Ok(Vec::new());
        }
        let Some(gateway_order_id) = order.gateway_order_id().map(str::to_owned) else {
            return Ok(Vec::new());
        };
        let payments = self.gateway.order_payments(&gateway_order_id).await?;
        let mut outcomes = Vec::new();
        for payment in payments {
            if !payment.status.eq_ignore_ascii_case("captured") {
                tracing::debug!(status = %payment.status, "payment attempt not captured");
                continue;
            }
            if payment.gateway_order_id.as_deref() != Some(gateway_order_id.as_str())
                || !is_gateway_id(&payment.payment_id)
            {
                tracing::warn!(
                    "the gateway listed a payment of another order, or an unusable id; skipped"
                );
                continue;
            }
            tracing::warn!(payment_id = %payment.payment_id, "captured payment found without its webhook; applying it");
            let (outcome, next) = self
                .capture(order, &payment.payment_id, payment.amount, None)
                .await?;
            tracing::info!(outcome = ?outcome, "reconciled payment");
            outcomes.push(outcome);
            order = next;
        }
        Ok(outcomes)
    }

    /// Whether the gateway is asked about `order`: placed with the configured gateway, one
    /// where money moves (the development gateway pays orders directly and holds nothing).
    fn asks_gateway(&self, order: &Order) -> bool {
        order.gateway() == self.gateway.kind() && order.gateway() != GatewayKind::Development
    }

    /// Expires order `id` if it still waits for payment: system maintenance with no
    /// actor, run (by the `expire_order` subscriber) once the order is older than a buyer
    /// may take to pay. Returns whether it expired it now.
    ///
    /// The gateway is asked first ([`OrderService::reconcile_payment`]), so an order paid at
    /// the gateway whose webhook was lost is paid rather than expired; when the gateway
    /// cannot answer, nothing is expired and the error is returned (to be retried).
    ///
    /// Idempotent and never in the way of a payment: an order paid, failed, cancelled or
    /// already expired is left as it is, and one changed between the read and the save is
    /// a `Conflict` skipped, never retried, so a payment that wins the race stands. A
    /// payment captured after the order expired is not applied but refunded automatically
    /// (`WebhookOutcome::Refunding`).
    ///
    /// # Errors
    /// `Payment` when the gateway does not answer; `Unexpected`.
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn expire_unpaid(&self, id: OrderId) -> Result<bool, OrdersError> {
        let Some(order) = self.orders.find(id).await? else {
            tracing::info!("an order to expire no longer exists");
            return Ok(false);
        };
        if order.status() != OrderStatus::PendingPayment {
            return Ok(false);
        }
        if self.asks_gateway(&order) {
            self.reconcile_payment(id).await?;
        }
        // Read again: the reconciliation (or anything else meanwhile) may have paid it.
        let Some(order) = self.orders.find(id).await? else {
            return Ok(false);
        };
        if order.status() != OrderStatus::PendingPayment {
            return Ok(false);
        }
        let change = order.expire(self.clock.now())?;
        match self.write(order.version(), change, None).await {
            Ok(_) => {
                tracing::info!("unpaid order expired");
                Ok(true)
            }
            Err(OrdersError::Conflict) => {
                tracing::info!("order changed while expiring; left as it is");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// One order the actor may see (their own, or any for MANAGER and ADMIN).
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

    /// One page of orders, newest first: the actor's own whatever the query says, except for
    /// MANAGER and ADMIN, who see every order and may filter by buyer and status.
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
        if !reads_all_orders(actor) {
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

    /// Records that the actor downloaded `product_id` now (called once its link is issued).
    ///
    /// # Errors
    /// `Unexpected`.
    pub(crate) async fn record_download(
        &self,
        actor: &Actor,
        product_id: ProductId,
    ) -> Result<(), OrdersError> {
        let tx = self.uow.begin().await?;
        tx.activity()
            .record_download(&Download {
                user_id: actor.user_id(),
                product_id,
                at: self.clock.now(),
            })
            .await?;
        tx.commit().await
    }

    async fn find(&self, id: OrderId) -> Result<Order, OrdersError> {
        self.orders.find(id).await?.ok_or(OrdersError::NotFound)
    }

    /// The owner's paths (checkout callback, development gateway): applies `amount`.
    async fn pay_as_owner(
        &self,
        order: Order,
        payment_id: &str,
        amount: Money,
    ) -> Result<Order, OrdersError> {
        match self.capture(order, payment_id, amount, None).await? {
            (WebhookOutcome::Paid { .. } | WebhookOutcome::AlreadyPaid { .. }, order) => Ok(order),
            (WebhookOutcome::Refunding { .. }, _) => Err(OrdersError::PaymentNotApplied),
            (other, _) => {
                Err(Unexpected::msg(format!("paying as the owner ended in {other:?}")).into())
            }
        }
    }

    /// The one path of a captured payment, whoever reports it. Money the order cannot take
    /// is recorded as unapplied and refunded by the `refund_unapplied_payment` subscriber.
    async fn capture(
        &self,
        order: Order,
        payment_id: &str,
        amount: Money,
        event: Option<&GatewayEventId>,
    ) -> Result<(WebhookOutcome, Order), OrdersError> {
        // Read outside the paying unit of work to decide early; the grant checks again in
        // the database, so a race between two payments cannot grant a product twice.
        let owned = if order.is_payable() {
            self.owns_any(&order).await?
        } else {
            false
        };
        // A product owned may have been granted by this very payment through another path
        // (webhook, callback, reconciliation) since `order` was read: the order is read again
        // after the entitlements, so that such a payment is seen as paying it rather than
        // refunded as money for a product already owned.
        let order = if owned {
            self.find(order.id()).await?
        } else {
            order
        };
        let unapplied = |o: &Order, reason: UnappliedReason, now: DateTime<Utc>| {
            Step::Unapplied(Box::new(UnappliedPayment {
                id: Uuid::now_v7(),
                order_id: o.id(),
                user_id: o.user_id(),
                payment_id: payment_id.to_owned(),
                amount,
                reason,
                refund_id: None,
                at: now,
            }))
        };
        let settled = self
            .settle(order.clone(), event, |o, now| {
                let order_id = o.id();
                let status = o.status();
                if status.was_paid() {
                    if o.payment_id() == Some(payment_id) {
                        return Ok(Step::Stop(WebhookOutcome::AlreadyPaid { order_id }));
                    }
                    return Ok(unapplied(o, UnappliedReason::PaidByAnotherPayment, now));
                }
                if !o.is_payable() {
                    return Ok(unapplied(o, UnappliedReason::OrderClosed, now));
                }
                if amount != o.total() {
                    tracing::warn!(
                        %order_id,
                        expected = o.total().amount_minor(),
                        expected_currency = o.currency().as_str(),
                        received = amount.amount_minor(),
                        received_currency = amount.currency().as_str(),
                        "captured amount does not match the order"
                    );
                    return Ok(unapplied(o, UnappliedReason::AmountMismatch, now));
                }
                if owned {
                    return Ok(unapplied(o, UnappliedReason::AlreadyOwned, now));
                }
                Ok(Step::Save(
                    Box::new(o.pay(payment_id, now)?),
                    WebhookOutcome::Paid { order_id },
                ))
            })
            .await;
        let (outcome, order) = match settled {
            Err(OrdersError::AlreadyOwned(product)) => {
                tracing::info!(order_id = %order.id(), %product, "a product of the order was granted by another payment meanwhile");
                let step = unapplied(&order, UnappliedReason::AlreadyOwned, self.clock.now());
                self.settle(order, event, move |_, _| Ok(clone_step(&step)))
                    .await?
            }
            other => other?,
        };
        if matches!(outcome, WebhookOutcome::Paid { .. }) {
            tracing::info!(order_id = %order.id(), "order paid");
            self.take_bought_out_of_cart(&order).await;
        }
        Ok((outcome, order))
    }

    /// Whether the buyer already owns a product of `order`.
    async fn owns_any(&self, order: &Order) -> Result<bool, OrdersError> {
        for line in order.lines() {
            if self
                .entitlements
                .owns(order.user_id(), line.product_id)
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
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
    /// unit of work; when another change wins the race, re-reads the order and decides again
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
                Step::Unapplied(payment) => {
                    let outcome = self.record_unapplied(&payment, event, now).await?;
                    return Ok((outcome, order));
                }
                Step::Save(change, outcome) => (change, outcome),
            };
            match self.write(order.version(), *change, event).await {
                Ok(next) => return Ok((outcome, next)),
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

    /// Records a payment the order cannot take, and the event that has it refunded, in
    /// one unit of work with `event`; once per gateway payment.
    async fn record_unapplied(
        &self,
        payment: &UnappliedPayment,
        event: Option<&GatewayEventId>,
        now: DateTime<Utc>,
    ) -> Result<WebhookOutcome, OrdersError> {
        match self.write_unapplied(payment, event, now).await {
            Ok(new) => {
                if new {
                    tracing::error!(
                        order_id = %payment.order_id,
                        payment_id = %payment.payment_id,
                        reason = payment.reason.as_str(),
                        "money captured that the order cannot take; refunding it automatically"
                    );
                }
                Ok(WebhookOutcome::Refunding {
                    order_id: payment.order_id,
                    reason: payment.reason,
                })
            }
            Err(OrdersError::Conflict) => Ok(WebhookOutcome::Duplicate),
            Err(e) => Err(e),
        }
    }

    /// Records `event` (`Conflict` when it already is) and `payment` unless one is
    /// recorded for its gateway payment, with `orders.payment_unapplied` when it is new.
    async fn write_unapplied(
        &self,
        payment: &UnappliedPayment,
        event: Option<&GatewayEventId>,
        now: DateTime<Utc>,
    ) -> Result<bool, OrdersError> {
        let mut tx = self.uow.begin().await?;
        if let Some(event) = event {
            tx.gateway_events().record(event, now).await?;
        }
        let new = tx.unapplied_payments().insert(payment).await?;
        if new {
            tx.record(EventEnvelope::new(
                &PaymentUnapplied {
                    unapplied_id: payment.id,
                    order_id: payment.order_id,
                },
                now,
            )?);
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Records an event that changes no order.
    /// Records a failed payment attempt and its webhook event as processed, together: a
    /// redelivery of the event adds no second failure (`Duplicate`).
    async fn record_failure(
        &self,
        event: &GatewayEventId,
        failure: &PaymentFailure,
    ) -> Result<WebhookOutcome, OrdersError> {
        let tx = self.uow.begin().await?;
        tx.activity().record_payment_failure(failure).await?;
        match tx.gateway_events().record(event, failure.at).await {
            Ok(()) => {}
            Err(OrdersError::Conflict) => return Ok(WebhookOutcome::Duplicate),
            Err(e) => return Err(e),
        }
        match tx.commit().await {
            Ok(()) => Ok(WebhookOutcome::AttemptFailed {
                order_id: failure.order_id,
            }),
            Err(OrdersError::Conflict) => Ok(WebhookOutcome::Duplicate),
            Err(e) => Err(e),
        }
    }

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
}

/// A copy of an unapplied-payment step (the only kind `capture` replays).
fn clone_step(step: &Step) -> Step {
    match step {
        Step::Unapplied(p) => Step::Unapplied(p.clone()),
        Step::Stop(o) => Step::Stop(o.clone()),
        Step::Save(c, o) => Step::Save(c.clone(), o.clone()),
    }
}

/// The ids a webhook event carries (checked before any of them reaches storage).
fn event_ids(event: &WebhookEvent) -> Vec<&str> {
    match event {
        WebhookEvent::PaymentCaptured {
            gateway_order_id,
            payment_id,
            ..
        }
        | WebhookEvent::OrderPaid {
            gateway_order_id,
            payment_id,
            ..
        }
        | WebhookEvent::PaymentFailed {
            gateway_order_id,
            payment_id,
            ..
        } => vec![gateway_order_id, payment_id],
        WebhookEvent::RefundProcessed {
            payment_id,
            refund_id,
            captured_for,
            ..
        } => {
            let mut ids = vec![payment_id.as_str(), refund_id.as_str()];
            if let Some((order, _)) = captured_for {
                ids.push(order);
            }
            ids
        }
        WebhookEvent::Other { .. } => Vec::new(),
    }
}

/// The checkout session of an order with a gateway order.
fn session(order: &Order, key_id: PublicKeyId, resumed: bool) -> Option<CheckoutSession> {
    Some(CheckoutSession {
        order_id: order.id(),
        key_id,
        gateway_order_id: order.gateway_order_id()?.to_owned(),
        amount_minor: order.total().amount_minor(),
        currency: order.currency(),
        gateway: order.gateway(),
        resumed,
    })
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
