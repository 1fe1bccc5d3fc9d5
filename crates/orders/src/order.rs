//! Orders, their validated values, and the payment and refund state machine.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_catalog::AssetKey;
use nexus_catalog::ProductId;
use nexus_kernel::{Actor, Currency, Money, Unexpected, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{GatewayKind, OrdersError};

nexus_kernel::typed_id!(
    /// Identifies an order.
    pub OrderId
);

/// An order value that breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrderValue {
    /// Unknown status name.
    #[error(
        "status must be one of PENDING_PAYMENT, PAID, PARTIALLY_REFUNDED, REFUNDED, FAILED, CANCELLED, EXPIRED"
    )]
    Status,
    /// Invoice numbers look like `INV-2026-000001`.
    #[error("invoice numbers look like INV-2026-000001")]
    InvoiceNumber,
    /// Gateway event ids are 1 to 128 visible ASCII characters.
    #[error("event ids are 1 to 128 visible ASCII characters")]
    EventId,
    /// Refund reasons are 1 to 255 characters without control characters.
    #[error("a refund reason is 1 to 255 characters without control characters")]
    RefundReason,
}

/// Where an order is in its payment life.
///
/// ```text
/// PENDING_PAYMENT -> PAID | CANCELLED | EXPIRED
/// FAILED -> PAID                  (orders marked FAILED by older versions stay payable)
/// PAID -> PARTIALLY_REFUNDED (part of the money back) | REFUNDED (all of it)
/// PARTIALLY_REFUNDED -> PARTIALLY_REFUNDED | REFUNDED
/// ```
///
/// A failed payment attempt no longer changes the order (the buyer may retry on the same
/// gateway order). CANCELLED, EXPIRED and REFUNDED are final: nothing moves an order back,
/// so an event that arrives late (a failure after the capture) never downgrades it, and
/// money captured for a closed order is refunded automatically instead of applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Placed; waiting for the gateway to take the money.
    PendingPayment,
    /// Paid in full; the buyer owns the products.
    Paid,
    /// Part of the payment was given back; the buyer still owns the products.
    PartiallyRefunded,
    /// All of the payment was given back; the products were taken back. Final.
    Refunded,
    /// The gateway reported that a payment attempt failed (written by older versions only;
    /// still payable: a later capture pays it).
    Failed,
    /// Given up before payment (by the buyer, or because the gateway order could not be
    /// created). Final.
    Cancelled,
    /// Never paid in time. Final.
    Expired,
}

impl OrderStatus {
    /// Every status, in life-cycle order.
    pub const ALL: [Self; 7] = [
        Self::PendingPayment,
        Self::Paid,
        Self::PartiallyRefunded,
        Self::Refunded,
        Self::Failed,
        Self::Cancelled,
        Self::Expired,
    ];

    /// The stable wire and storage name (`PENDING_PAYMENT`, `PAID`, ...).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Paid => "PAID",
            Self::PartiallyRefunded => "PARTIALLY_REFUNDED",
            Self::Refunded => "REFUNDED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Whether the money was taken at some point (PAID and both refunded states).
    #[must_use]
    pub const fn was_paid(&self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = InvalidOrderValue;

    /// Parses a wire name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(InvalidOrderValue::Status)
    }
}

/// A gap-free invoice number, `INV-<year>-<sequence>` with the sequence zero-padded to at
/// least six digits (`INV-2026-000001`). The sequence is allocated by the order repository,
/// in the transaction that marks the order paid, so a rolled-back payment leaves no gap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvoiceNumber(String);

impl InvoiceNumber {
    /// The number for the `sequence`-th invoice (1-based) of `year`.
    ///
    /// # Errors
    /// `InvalidOrderValue::InvoiceNumber` when the year is not four digits or the sequence
    /// is 0.
    pub fn new(year: i32, sequence: u64) -> Result<Self, InvalidOrderValue> {
        if !(1000..=9999).contains(&year) || sequence == 0 {
            return Err(InvalidOrderValue::InvoiceNumber);
        }
        Ok(Self(format!("INV-{year}-{sequence:06}")))
    }

    /// Checks a stored number.
    ///
    /// # Errors
    /// `InvalidOrderValue::InvoiceNumber` unless it looks like `INV-2026-000001`.
    pub fn parse(raw: &str) -> Result<Self, InvalidOrderValue> {
        let bad = InvalidOrderValue::InvoiceNumber;
        let rest = raw.strip_prefix("INV-").ok_or(bad)?;
        let (year, sequence) = rest.split_once('-').ok_or(bad)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || sequence.len() < 6 || !digits(sequence) {
            return Err(bad);
        }
        let year: i32 = year.parse().map_err(|_| bad)?;
        let sequence: u64 = sequence.parse().map_err(|_| bad)?;
        let number = Self::new(year, sequence)?;
        // One spelling per number, so that uniqueness holds in storage.
        if number.0 == raw {
            Ok(number)
        } else {
            Err(bad)
        }
    }

    /// The number.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The year the number belongs to.
    #[must_use]
    pub fn year(&self) -> i32 {
        // `new` and `parse` only ever store four ASCII digits here.
        self.0
            .get(4..8)
            .and_then(|y| y.parse().ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for InvoiceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for InvoiceNumber {
    type Error = InvalidOrderValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InvoiceNumber> for String {
    fn from(value: InvoiceNumber) -> Self {
        value.0
    }
}

/// A gap-free credit note number, `CN-<year>-<sequence>` (`CN-2026-000001`): its own series,
/// allocated like invoice numbers in the transaction that counts the refund.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditNoteNumber(String);

impl CreditNoteNumber {
    /// The number for the `sequence`-th credit note (1-based) of `year`.
    ///
    /// # Errors
    /// `InvalidOrderValue::InvoiceNumber` when the year is not four digits or the sequence
    /// is 0.
    pub fn new(year: i32, sequence: u64) -> Result<Self, InvalidOrderValue> {
        let invoice = InvoiceNumber::new(year, sequence)?;
        Ok(Self(format!("CN-{}", &invoice.as_str()[4..])))
    }

    /// Checks a stored number.
    ///
    /// # Errors
    /// `InvalidOrderValue::InvoiceNumber` unless it looks like `CN-2026-000001`.
    pub fn parse(raw: &str) -> Result<Self, InvalidOrderValue> {
        let rest = raw
            .strip_prefix("CN-")
            .ok_or(InvalidOrderValue::InvoiceNumber)?;
        InvoiceNumber::parse(&format!("INV-{rest}"))?;
        Ok(Self(raw.to_owned()))
    }

    /// The number.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The year the number belongs to.
    #[must_use]
    pub fn year(&self) -> i32 {
        self.0
            .get(3..7)
            .and_then(|y| y.parse().ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for CreditNoteNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The credit note of one refund: its number, and where its PDF is stored once rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditNote {
    /// Its number.
    pub number: CreditNoteNumber,
    /// The refunded order.
    pub order_id: OrderId,
    /// The gateway refund it documents.
    pub refund_id: String,
    /// When it was issued (the refund was counted).
    pub issued_at: DateTime<Utc>,
    /// Where its PDF is stored, once rendered.
    pub key: Option<AssetKey>,
}

/// Where a credit note's PDF is stored: `credit-notes/<year>/<number>.pdf`.
///
/// # Errors
/// `Unexpected` if the number cannot form a key (it always can: numbers are ASCII).
pub fn credit_note_key(number: &CreditNoteNumber) -> Result<AssetKey, Unexpected> {
    AssetKey::parse(&format!("credit-notes/{}/{number}.pdf", number.year()))
        .map_err(Unexpected::with("building a credit note key"))
}

/// The gateway's id of one webhook event (Razorpay's `X-Razorpay-Event-Id`): the same
/// event delivered ten times carries the same id, which is what makes webhooks idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GatewayEventId(String);

impl GatewayEventId {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 128;

    /// Checks an id: 1 to 128 visible ASCII characters (no spaces).
    ///
    /// # Errors
    /// `InvalidOrderValue::EventId`.
    pub fn parse(raw: &str) -> Result<Self, InvalidOrderValue> {
        let s = raw.trim();
        if (1..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidOrderValue::EventId)
        }
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GatewayEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for GatewayEventId {
    type Error = InvalidOrderValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<GatewayEventId> for String {
    fn from(value: GatewayEventId) -> Self {
        value.0
    }
}

/// Why an administrator refunds: trimmed, 1 to 255 characters, no control characters. It
/// is sent to the gateway as the refund's note and kept on the order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefundReason(String);

impl RefundReason {
    /// Longest reason accepted, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Trims and checks a reason.
    ///
    /// # Errors
    /// `InvalidOrderValue::RefundReason`.
    pub fn parse(raw: &str) -> Result<Self, InvalidOrderValue> {
        nexus_kernel::parse_text(raw, Self::MAX_CHARS)
            .map(Self)
            .map_err(|_| InvalidOrderValue::RefundReason)
    }

    /// The reason.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RefundReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RefundReason {
    type Error = InvalidOrderValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RefundReason> for String {
    fn from(value: RefundReason) -> Self {
        value.0
    }
}

/// One product bought, as it was at checkout: later price or title changes never alter
/// an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The product.
    pub product_id: ProductId,
    /// Its title at checkout.
    pub title: String,
    /// Its price at checkout (digital products are bought once, so there is no quantity).
    pub unit_price: Money,
}

/// One refund counted against an order, identified by the gateway's refund id so that the
/// same refund (made here, then reported again by a webhook) is never counted twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRefund {
    /// The gateway's refund id (`rfnd_…`).
    pub refund_id: String,
    /// Amount given back.
    pub amount: Money,
    /// Why, when an administrator refunded here; `None` for a refund learnt from the
    /// gateway (made in its dashboard).
    pub reason: Option<RefundReason>,
    /// The administrator who refunded here; `None` for a refund learnt from the gateway.
    pub refunded_by: Option<UserId>,
    /// When it was counted.
    pub at: DateTime<Utc>,
}

/// A refund an administrator asked for, written on the order (version-guarded) before the
/// gateway is called, so that one refund at a time runs per order and a retry after a
/// timeout finds it again instead of refunding twice. Its id is sent to the gateway as the
/// refund's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRefund {
    /// Our id of the refund; [`PendingRefund::receipt`] derives the gateway receipt from it.
    pub id: Uuid,
    /// Amount asked for.
    pub amount: Money,
    /// Why.
    pub reason: RefundReason,
    /// The administrator who asked.
    pub requested_by: UserId,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When a request last took it to the gateway; `None` once that call has ended without
    /// an answer (a timeout), so that the next request may look it up and finish it.
    pub claimed_at: Option<DateTime<Utc>>,
}

impl PendingRefund {
    /// How long a claim keeps other requests away (a crashed request frees it after this).
    pub const CLAIM_LEASE_SECS: i64 = 300;

    /// The receipt sent to the gateway (`rf_<32 hex>`, within Razorpay's 40 characters).
    #[must_use]
    pub fn receipt(&self) -> String {
        format!("rf_{}", self.id.simple())
    }

    fn claimable(&self, now: DateTime<Utc>) -> bool {
        self.claimed_at
            .is_none_or(|at| now.signed_duration_since(at).num_seconds() >= Self::CLAIM_LEASE_SECS)
    }
}

/// Why a captured payment was not applied to its order (and is refunded instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnappliedReason {
    /// The order was closed (EXPIRED, CANCELLED) when the money arrived.
    OrderClosed,
    /// The order was already paid by another payment.
    PaidByAnotherPayment,
    /// The buyer already owns a product of the order (through another order).
    AlreadyOwned,
    /// The amount or currency captured is not the order's total.
    AmountMismatch,
}

impl UnappliedReason {
    /// Every reason.
    pub const ALL: [Self; 4] = [
        Self::OrderClosed,
        Self::PaidByAnotherPayment,
        Self::AlreadyOwned,
        Self::AmountMismatch,
    ];

    /// The stable storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::OrderClosed => "ORDER_CLOSED",
            Self::PaidByAnotherPayment => "PAID_BY_ANOTHER_PAYMENT",
            Self::AlreadyOwned => "ALREADY_OWNED",
            Self::AmountMismatch => "AMOUNT_MISMATCH",
        }
    }

    /// Reads a storage name.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// A sentence for the buyer's e-mail.
    #[must_use]
    pub const fn explanation(&self) -> &'static str {
        match self {
            Self::OrderClosed => {
                "the order had already expired or been cancelled when the payment arrived"
            }
            Self::PaidByAnotherPayment => "the order had already been paid by another payment",
            Self::AlreadyOwned => "you already own a product of this order",
            Self::AmountMismatch => "the amount paid did not match the order's total",
        }
    }
}

/// Money captured at the gateway that no order can take: recorded once per gateway payment
/// (the database enforces it), with `orders.payment_unapplied`, whose subscriber refunds it
/// through the gateway and has the buyer told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnappliedPayment {
    /// Our id of the record; the refund's receipt derives from it.
    pub id: Uuid,
    /// The order the payment was made for.
    pub order_id: OrderId,
    /// Its buyer.
    pub user_id: UserId,
    /// The gateway payment.
    pub payment_id: String,
    /// What was captured.
    pub amount: Money,
    /// Why it was not applied.
    pub reason: UnappliedReason,
    /// The gateway refund, once made.
    pub refund_id: Option<String>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

impl UnappliedPayment {
    /// The receipt of its refund at the gateway (`up_<32 hex>`).
    #[must_use]
    pub fn receipt(&self) -> String {
        format!("up_{}", self.id.simple())
    }
}

/// A fingerprint of what a checkout buys (each product at its price), so that checking out
/// an unchanged cart twice finds the order already waiting for payment. FNV-1a (64 bits)
/// over the sorted lines: a collision needs two different carts of the same buyer.
#[must_use]
pub fn checkout_fingerprint(lines: &[OrderLine]) -> String {
    let mut parts: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "{}:{}:{}",
                l.product_id,
                l.unit_price.amount_minor(),
                l.unit_price.currency().as_str()
            )
        })
        .collect();
    parts.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.join(",").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("v1:{}:{hash:016x}", lines.len())
}

/// What a transition means beyond the order itself: the service carries it out in the
/// same unit of work as the order's save (see [`crate::write_change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderTransition {
    /// Only the order changes (a pending refund moves, the order closes).
    Updated,
    /// The order is paid: the buyer gets its products and the order an invoice number.
    Paid,
    /// A refund is counted: it gets a credit note number; a full refund (`full`) takes
    /// back the products this order granted.
    Refunded {
        /// The refund counted.
        refund: OrderRefund,
        /// Whether nothing remains to refund.
        full: bool,
    },
}

/// The next version of an order and what its transition means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The order after the transition (its `version` already bumped).
    pub order: Order,
    /// What else the transition means.
    pub transition: OrderTransition,
}

impl OrderChange {
    const fn updated(order: Order) -> Self {
        Self {
            order,
            transition: OrderTransition::Updated,
        }
    }
}

/// Which orders to list. The service forces `user_id` to the caller for non-staff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Only this buyer's orders.
    pub user_id: Option<UserId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

/// A stored order that breaks the model's invariants (a bad row, never a client error:
/// adapters turn it into `Unexpected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stored order is inconsistent: {0}")]
pub struct InconsistentOrder(&'static str);

impl InconsistentOrder {
    /// Which invariant is broken.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        self.0
    }
}

/// The plain fields of an [`Order`], for adapters: `Order::from_parts` rebuilds an order
/// from storage (checking its invariants) and `Order::into_parts` takes one apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderParts {
    /// Identity.
    pub id: OrderId,
    /// The buyer.
    pub user_id: UserId,
    /// What was bought, as it was at checkout.
    pub lines: Vec<OrderLine>,
    /// Sum of the lines; its currency is the order's.
    pub total: Money,
    /// Payment state.
    pub status: OrderStatus,
    /// The gateway that takes (took) the payment.
    pub gateway: GatewayKind,
    /// The gateway's order id, once created.
    pub gateway_order_id: Option<String>,
    /// The gateway's payment id, once paid.
    pub payment_id: Option<String>,
    /// Sum of `refunds`.
    pub refunded: Money,
    /// Refunds counted, oldest first.
    pub refunds: Vec<OrderRefund>,
    /// Allocated when paid.
    pub invoice_number: Option<InvoiceNumber>,
    /// Where the invoice PDF is stored, once generated.
    pub invoice_key: Option<AssetKey>,
    /// Placed at.
    pub created_at: DateTime<Utc>,
    /// Last change at.
    pub updated_at: DateTime<Utc>,
    /// Paid at.
    pub paid_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version, 1 when placed and bumped by every change.
    pub version: i64,
    /// The fingerprint of the cart it was checked out from ([`checkout_fingerprint`]).
    pub checkout_key: Option<String>,
    /// A refund asked for and not yet counted.
    pub pending_refund: Option<PendingRefund>,
}

/// An order: an immutable snapshot of what was bought and for how much, and where its
/// payment is.
///
/// Fields are private so that the status only changes through the transitions (`pay`,
/// `fail`, `cancel`, `expire`, `record_refund`), each of which returns the next version
/// with what the transition means ([`OrderTransition`]); `self` is never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    id: OrderId,
    user_id: UserId,
    lines: Vec<OrderLine>,
    total: Money,
    status: OrderStatus,
    gateway: GatewayKind,
    gateway_order_id: Option<String>,
    payment_id: Option<String>,
    refunded: Money,
    refunds: Vec<OrderRefund>,
    invoice_number: Option<InvoiceNumber>,
    invoice_key: Option<AssetKey>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    version: i64,
    checkout_key: Option<String>,
    pending_refund: Option<PendingRefund>,
}

/// Adds amounts that must share one currency; a mismatch or overflow is a broken
/// invariant, never a client error.
fn sum<'a>(
    currency: Currency,
    amounts: impl IntoIterator<Item = &'a Money>,
) -> Result<Money, Unexpected> {
    let zero = Money::new(0, currency).map_err(Unexpected::with("zero is a valid amount"))?;
    amounts.into_iter().try_fold(zero, |acc, m| {
        acc.checked_add(*m)
            .map_err(Unexpected::with("adding order amounts"))
    })
}

/// `a - b` for amounts of one currency, `None` when negative or the currencies differ.
pub(crate) fn subtract(a: Money, b: Money) -> Option<Money> {
    if a.currency() != b.currency() {
        return None;
    }
    let diff = a.amount_minor().checked_sub(b.amount_minor())?;
    Money::new(diff, a.currency()).ok()
}

impl Order {
    /// A new PENDING_PAYMENT order at version 1, for `lines` (priced now) to be paid
    /// through `gateway`.
    ///
    /// # Errors
    /// `CartEmpty` without lines; `CurrencyConflict` when the lines' currencies differ;
    /// `CartTotalTooLarge` when their sum overflows.
    pub fn place(
        user_id: UserId,
        lines: Vec<OrderLine>,
        gateway: GatewayKind,
        at: DateTime<Utc>,
    ) -> Result<Self, OrdersError> {
        let first = lines.first().ok_or(OrdersError::CartEmpty)?;
        let currency = first.unit_price.currency();
        if let Some(other) = lines.iter().find(|l| l.unit_price.currency() != currency) {
            return Err(OrdersError::CurrencyConflict {
                cart: currency,
                product: other.product_id,
                price: other.unit_price.currency(),
            });
        }
        let total = sum(currency, lines.iter().map(|l| &l.unit_price))
            .map_err(|_| OrdersError::CartTotalTooLarge)?;
        let refunded = sum(currency, [])?;
        Ok(Self {
            id: OrderId::new(),
            user_id,
            lines,
            total,
            status: OrderStatus::PendingPayment,
            gateway,
            gateway_order_id: None,
            payment_id: None,
            refunded,
            refunds: Vec::new(),
            invoice_number: None,
            invoice_key: None,
            created_at: at,
            updated_at: at,
            paid_at: None,
            version: 1,
            checkout_key: None,
            pending_refund: None,
        })
    }

    /// The same new order, keyed by the fingerprint of the cart it comes from.
    #[must_use]
    pub fn with_checkout_key(mut self, key: String) -> Self {
        self.checkout_key = Some(key);
        self
    }

    /// Rebuilds an order from storage, checking the invariants of its status.
    ///
    /// # Errors
    /// `InconsistentOrder` naming the first broken invariant.
    pub fn from_parts(parts: OrderParts) -> Result<Self, InconsistentOrder> {
        use OrderStatus as S;
        let p = &parts;
        if p.version < 1 {
            return Err(InconsistentOrder("versions start at 1"));
        }
        if p.lines.is_empty() {
            return Err(InconsistentOrder("an order has at least one line"));
        }
        let currency = p.total.currency();
        let lines_total = sum(currency, p.lines.iter().map(|l| &l.unit_price))
            .map_err(|_| InconsistentOrder("lines are in the order's currency"))?;
        if lines_total != p.total {
            return Err(InconsistentOrder("the total is the sum of the lines"));
        }
        let refunds_total = sum(currency, p.refunds.iter().map(|r| &r.amount))
            .map_err(|_| InconsistentOrder("refunds are in the order's currency"))?;
        if refunds_total != p.refunded {
            return Err(InconsistentOrder("refunded is the sum of the refunds"));
        }
        if p.refunded.amount_minor() > p.total.amount_minor() {
            return Err(InconsistentOrder("refunded is at most the total"));
        }
        let paid = p.paid_at.is_some() && p.payment_id.is_some() && p.invoice_number.is_some();
        let untouched = p.paid_at.is_none()
            && p.payment_id.is_none()
            && p.invoice_number.is_none()
            && p.refunds.is_empty();
        let consistent = match p.status {
            S::PendingPayment | S::Failed | S::Cancelled | S::Expired => untouched,
            S::Paid => paid && p.refunds.is_empty(),
            S::PartiallyRefunded => {
                paid && !p.refunds.is_empty() && p.refunded.amount_minor() < p.total.amount_minor()
            }
            S::Refunded => paid && p.refunded == p.total,
        };
        if !consistent {
            return Err(InconsistentOrder(
                "paid orders have paid_at, payment_id and invoice_number, others none; refunds match the status",
            ));
        }
        if p.pending_refund.is_some() && !p.status.was_paid() {
            return Err(InconsistentOrder("only a paid order has a pending refund"));
        }
        if p.invoice_key.is_some() && p.invoice_number.is_none() {
            return Err(InconsistentOrder("an invoice file needs an invoice number"));
        }
        if p.status.was_paid() && p.gateway_order_id.is_none() {
            return Err(InconsistentOrder("a paid order has a gateway order"));
        }
        Ok(Self {
            id: parts.id,
            user_id: parts.user_id,
            lines: parts.lines,
            total: parts.total,
            status: parts.status,
            gateway: parts.gateway,
            gateway_order_id: parts.gateway_order_id,
            payment_id: parts.payment_id,
            refunded: parts.refunded,
            refunds: parts.refunds,
            invoice_number: parts.invoice_number,
            invoice_key: parts.invoice_key,
            created_at: parts.created_at,
            updated_at: parts.updated_at,
            paid_at: parts.paid_at,
            version: parts.version,
            checkout_key: parts.checkout_key,
            pending_refund: parts.pending_refund,
        })
    }

    /// Takes the order apart, for storage.
    #[must_use]
    pub fn into_parts(self) -> OrderParts {
        OrderParts {
            id: self.id,
            user_id: self.user_id,
            lines: self.lines,
            total: self.total,
            status: self.status,
            gateway: self.gateway,
            gateway_order_id: self.gateway_order_id,
            payment_id: self.payment_id,
            refunded: self.refunded,
            refunds: self.refunds,
            invoice_number: self.invoice_number,
            invoice_key: self.invoice_key,
            created_at: self.created_at,
            updated_at: self.updated_at,
            paid_at: self.paid_at,
            version: self.version,
            checkout_key: self.checkout_key,
            pending_refund: self.pending_refund,
        }
    }

    /// Records the gateway order created for this order (once, while it awaits payment).
    ///
    /// # Errors
    /// `InvalidTransition` unless PENDING_PAYMENT without a gateway order yet.
    pub fn attach_gateway_order(
        &self,
        gateway_order_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Self, OrdersError> {
        if self.status != OrderStatus::PendingPayment || self.gateway_order_id.is_some() {
            return Err(self.invalid("attach a gateway order to"));
        }
        let mut next = self.next_version(at)?;
        next.gateway_order_id = Some(gateway_order_id.to_owned());
        Ok(next)
    }

    /// Marks the order paid by `payment_id` ([`OrderTransition::Paid`]: its unit of work
    /// grants the products, refused with `AlreadyOwned` if the buyer owns one already, and
    /// allocates the invoice number).
    ///
    /// # Errors
    /// `InvalidTransition` unless PENDING_PAYMENT or FAILED (a failed attempt leaves the
    /// order payable: the buyer may retry at the gateway).
    pub fn pay(&self, payment_id: &str, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.ensure_status(&[OrderStatus::PendingPayment, OrderStatus::Failed], "pay")?;
        let mut next = self.next_version(at)?;
        next.status = OrderStatus::Paid;
        next.payment_id = Some(payment_id.to_owned());
        next.paid_at = Some(at);
        Ok(OrderChange {
            order: next,
            transition: OrderTransition::Paid,
        })
    }

    /// Marks the payment failed.
    ///
    /// # Errors
    /// `InvalidTransition` unless PENDING_PAYMENT (a paid order is never downgraded).
    pub fn fail(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.close(OrderStatus::Failed, "fail", at)
    }

    /// Gives up an unpaid order.
    ///
    /// # Errors
    /// `InvalidTransition` unless PENDING_PAYMENT.
    pub fn cancel(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.close(OrderStatus::Cancelled, "cancel", at)
    }

    /// Closes an order that was never paid in time.
    ///
    /// # Errors
    /// `InvalidTransition` unless PENDING_PAYMENT.
    pub fn expire(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.close(OrderStatus::Expired, "expire", at)
    }

    /// What may still be refunded (the total less what was refunded).
    #[must_use]
    pub fn refundable(&self) -> Money {
        // `from_parts` and every transition keep refunded <= total in one currency.
        subtract(self.total, self.refunded).unwrap_or(self.refunded)
    }

    /// Checks that `amount` may be refunded now, without changing anything: the service
    /// asks before it moves money at the gateway.
    ///
    /// # Errors
    /// `NotRefundable` unless PAID or PARTIALLY_REFUNDED with a payment;
    /// `InvalidRefundAmount` for zero or another currency; `RefundTooLarge` above what
    /// remains.
    pub fn check_refund(&self, amount: Money) -> Result<(), OrdersError> {
        let refundable_status = matches!(
            self.status,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded
        );
        if !refundable_status || self.payment_id.is_none() {
            return Err(OrdersError::NotRefundable);
        }
        if amount.amount_minor() == 0 || amount.currency() != self.total.currency() {
            return Err(OrdersError::InvalidRefundAmount);
        }
        let remaining = self.refundable();
        if amount.amount_minor() > remaining.amount_minor() {
            return Err(OrdersError::RefundTooLarge { remaining });
        }
        Ok(())
    }

    /// Whether the gateway refund `refund_id` is already counted.
    #[must_use]
    pub fn has_refund(&self, refund_id: &str) -> bool {
        self.refunds.iter().any(|r| r.refund_id == refund_id)
    }

    /// Counts a refund: PARTIALLY_REFUNDED while money remains, REFUNDED (and the products
    /// taken back) once all of it is refunded.
    ///
    /// # Errors
    /// As [`Order::check_refund`]; `Conflict` when this refund id is already counted.
    pub fn record_refund(&self, refund: OrderRefund) -> Result<OrderChange, OrdersError> {
        self.check_refund(refund.amount)?;
        if self.has_refund(&refund.refund_id) {
            return Err(OrdersError::Conflict);
        }
        let mut next = self.next_version(refund.at)?;
        next.refunded = self
            .refunded
            .checked_add(refund.amount)
            .map_err(Unexpected::with("adding a refund"))?;
        let full = next.refunded == next.total;
        next.status = if full {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        next.refunds.push(refund.clone());
        Ok(OrderChange {
            order: next,
            transition: OrderTransition::Refunded { refund, full },
        })
    }

    /// Whether a captured payment can still pay this order (PENDING_PAYMENT, or FAILED
    /// after a declined attempt).
    #[must_use]
    pub const fn is_payable(&self) -> bool {
        matches!(
            self.status,
            OrderStatus::PendingPayment | OrderStatus::Failed
        )
    }

    /// Writes down a refund before the gateway is asked for it (claimed by this request).
    ///
    /// # Errors
    /// `RefundInProgress` while another refund is pending; otherwise as
    /// [`Order::check_refund`].
    pub fn begin_refund(&self, pending: PendingRefund) -> Result<OrderChange, OrdersError> {
        if self.pending_refund.is_some() {
            return Err(OrdersError::RefundInProgress);
        }
        self.check_refund(pending.amount)?;
        let mut next = self.next_version(pending.requested_at)?;
        next.pending_refund = Some(PendingRefund {
            claimed_at: Some(pending.requested_at),
            ..pending
        });
        Ok(OrderChange::updated(next))
    }

    /// Takes the pending refund to the gateway again (a retry after a call that ended
    /// without an answer, or after a crashed request's lease ran out).
    ///
    /// # Errors
    /// `NotRefundable` without a pending refund; `RefundInProgress` while another request
    /// holds it.
    pub fn claim_refund(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        let pending = self
            .pending_refund
            .as_ref()
            .ok_or(OrdersError::NotRefundable)?;
        if !pending.claimable(at) {
            return Err(OrdersError::RefundInProgress);
        }
        let mut next = self.next_version(at)?;
        if let Some(p) = next.pending_refund.as_mut() {
            p.claimed_at = Some(at);
        }
        Ok(OrderChange::updated(next))
    }

    /// Lets the pending refund go unclaimed: the gateway call ended without an answer, so
    /// the refund may or may not exist there; the next request looks it up first.
    ///
    /// # Errors
    /// `NotRefundable` without a pending refund.
    pub fn release_refund(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.pending_refund
            .as_ref()
            .ok_or(OrdersError::NotRefundable)?;
        let mut next = self.next_version(at)?;
        if let Some(p) = next.pending_refund.as_mut() {
            p.claimed_at = None;
        }
        Ok(OrderChange::updated(next))
    }

    /// Forgets the pending refund: the gateway refused it, so no money moved.
    ///
    /// # Errors
    /// `NotRefundable` without a pending refund.
    pub fn drop_refund(&self, at: DateTime<Utc>) -> Result<OrderChange, OrdersError> {
        self.pending_refund
            .as_ref()
            .ok_or(OrdersError::NotRefundable)?;
        let mut next = self.next_version(at)?;
        next.pending_refund = None;
        Ok(OrderChange::updated(next))
    }

    /// Counts the gateway's refund of the pending refund and clears it; when the refund
    /// was already counted (its webhook came first), only clears it.
    ///
    /// # Errors
    /// As [`Order::record_refund`].
    pub fn complete_refund(&self, refund: OrderRefund) -> Result<OrderChange, OrdersError> {
        if self.has_refund(&refund.refund_id) {
            let mut next = self.next_version(refund.at)?;
            next.pending_refund = None;
            return Ok(OrderChange::updated(next));
        }
        let mut change = self.record_refund(refund)?;
        change.order.pending_refund = None;
        Ok(change)
    }

    /// The refund written down and not yet counted, if any.
    #[must_use]
    pub const fn pending_refund(&self) -> Option<&PendingRefund> {
        self.pending_refund.as_ref()
    }

    /// The fingerprint of the cart the order was checked out from.
    #[must_use]
    pub fn checkout_key(&self) -> Option<&str> {
        self.checkout_key.as_deref()
    }

    /// Whether `actor` may see this order: its buyer, a MANAGER or an ADMIN. Customer
    /// service officers do not read buyers' orders and invoices (they are not scoped to
    /// buyers the way they are to customers).
    #[must_use]
    pub fn is_visible_to(&self, actor: &Actor) -> bool {
        actor.user_id() == self.user_id || reads_all_orders(actor)
    }

    /// The same order with the invoice number its save allocated.
    pub(crate) fn with_invoice_number(mut self, number: InvoiceNumber) -> Self {
        self.invoice_number = Some(number);
        self
    }

    fn close(
        &self,
        to: OrderStatus,
        action: &'static str,
        at: DateTime<Utc>,
    ) -> Result<OrderChange, OrdersError> {
        self.ensure_status(&[OrderStatus::PendingPayment], action)?;
        let mut next = self.next_version(at)?;
        next.status = to;
        Ok(OrderChange::updated(next))
    }

    fn ensure_status(
        &self,
        allowed: &[OrderStatus],
        action: &'static str,
    ) -> Result<(), OrdersError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(self.invalid(action))
        }
    }

    fn invalid(&self, action: &'static str) -> OrdersError {
        OrdersError::InvalidTransition {
            from: self.status,
            action,
        }
    }

    fn next_version(&self, at: DateTime<Utc>) -> Result<Self, OrdersError> {
        let mut next = self.clone();
        next.version = self
            .version
            .checked_add(1)
            .ok_or_else(|| Unexpected::msg("order version overflows"))?;
        next.updated_at = at;
        Ok(next)
    }

    /// Identity.
    #[must_use]
    pub const fn id(&self) -> OrderId {
        self.id
    }

    /// The buyer.
    #[must_use]
    pub const fn user_id(&self) -> UserId {
        self.user_id
    }

    /// What was bought, as it was at checkout.
    #[must_use]
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    /// Sum of the lines.
    #[must_use]
    pub const fn total(&self) -> Money {
        self.total
    }

    /// The order's currency (the total's).
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.total.currency()
    }

    /// Payment state.
    #[must_use]
    pub const fn status(&self) -> OrderStatus {
        self.status
    }

    /// The gateway that takes (took) the payment.
    #[must_use]
    pub const fn gateway(&self) -> GatewayKind {
        self.gateway
    }

    /// The gateway's order id, once created.
    #[must_use]
    pub fn gateway_order_id(&self) -> Option<&str> {
        self.gateway_order_id.as_deref()
    }

    /// The gateway's payment id, once paid.
    #[must_use]
    pub fn payment_id(&self) -> Option<&str> {
        self.payment_id.as_deref()
    }

    /// How much was refunded so far.
    #[must_use]
    pub const fn refunded(&self) -> Money {
        self.refunded
    }

    /// The refunds counted, oldest first.
    #[must_use]
    pub fn refunds(&self) -> &[OrderRefund] {
        &self.refunds
    }

    /// The invoice number, once paid.
    #[must_use]
    pub const fn invoice_number(&self) -> Option<&InvoiceNumber> {
        self.invoice_number.as_ref()
    }

    /// Where the invoice PDF is stored, once generated.
    #[must_use]
    pub const fn invoice_key(&self) -> Option<&AssetKey> {
        self.invoice_key.as_ref()
    }

    /// Placed at.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Last change at.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Paid at.
    #[must_use]
    pub const fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.paid_at
    }

    /// Optimistic-concurrency version.
    #[must_use]
    pub const fn version(&self) -> i64 {
        self.version
    }
}

/// Whether `actor` reads every buyer's orders, invoices and refunds
/// ([`ORDERS_READ_ALL`](crate::permissions::ORDERS_READ_ALL)).
#[must_use]
pub fn reads_all_orders(actor: &Actor) -> bool {
    actor.can(crate::permissions::ORDERS_READ_ALL)
}

/// Where an order's invoice PDF is stored: `invoices/<year>/<number>.pdf`.
///
/// # Errors
/// `Unexpected` if the number cannot form a key (it always can: numbers are ASCII).
pub fn invoice_key(number: &InvoiceNumber) -> Result<AssetKey, Unexpected> {
    AssetKey::parse(&format!("invoices/{}/{number}.pdf", number.year()))
        .map_err(Unexpected::with("building an invoice key"))
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
