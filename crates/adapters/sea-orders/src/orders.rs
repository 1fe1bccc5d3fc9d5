//! The orders area's storage: [`OrderRepository`] and [`ProcessedEvents`] on `orders`,
//! `order_lines`, `order_refunds`, `credit_notes`, `unapplied_payments` and
//! `payment_events`; the buyer activity (`downloads`, `payment_failures`) a unit of work
//! writes; [`EntitlementRepository`] on `entitlements`; and [`ProductCatalog`]
//! read from `products`. The writes of a unit of work (`crate::SeaOrdersTx`) are the
//! functions below, generic over the connection, so the pool and a transaction share them.

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_catalog::{AssetKey, FileName, ProductStatus, ProductTitle};
use nexus_kernel::{Currency, Money, Page, PageRequest, Unexpected, UserId};
use nexus_orders::{
    CreditNote, CreditNoteNumber, Download, EntitlementRepository, GatewayEventId, GatewayKind,
    InvoiceNumber, LibraryEntry, Order, OrderId, OrderLine, OrderParts, OrderQuery, OrderRefund,
    OrderRepository, OrderStatus, OrdersError, PaymentFailure, PendingRefund, ProcessedEvents,
    ProductCatalog, PurchasableProduct, RefundReason, UnappliedPayment, UnappliedReason,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use nexus_sea_support::{begin_read, is_unique_violation, unexpected};

use crate::counters::{self, Changes, Counted};
use crate::entities::{
    credit_note, credit_note_counter, entitlement, invoice_counter, order, order_line,
    order_refund, payment_event, product, unapplied_payment,
};

/// Loads orders with their lines and refunds, unapplied payments and credit notes, and
/// records where invoices and credit notes are stored. Cheap to clone: it shares the pool.
///
/// It also implements [`ProcessedEvents`] (the `payment_events` table a unit of work writes).
#[derive(Clone, Debug)]
pub struct SeaOrderRepository {
    db: DatabaseConnection,
}

impl SeaOrderRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The order `select` finds, with its lines and refunds read in the same snapshot (so
    /// the refunded amount always matches the refunds).
    async fn find_one(&self, select: Select<order::Entity>) -> Result<Option<Order>, OrdersError> {
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting to load an order"))?;
        let row = select
            .one(&tx)
            .await
            .map_err(unexpected("loading an order"))?;
        let orders = match row {
            Some(row) => with_children(&tx, vec![row]).await?,
            None => Vec::new(),
        };
        tx.commit()
            .await
            .map_err(unexpected("finishing loading an order"))?;
        Ok(orders.into_iter().next())
    }
}

fn invalid<E>(table: &'static str, id: Uuid, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row(table, id, field)
}

fn position(index: usize) -> Result<i32, Unexpected> {
    i32::try_from(index).map_err(Unexpected::with("an order has too many lines or refunds"))
}

/// `GatewayKind` has no parser of its own; its names are matched here.
fn parse_gateway(raw: &str) -> Option<GatewayKind> {
    [GatewayKind::Razorpay, GatewayKind::Development]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
}

fn order_row(p: &OrderParts) -> order::Model {
    order::Model {
        id: p.id.as_uuid(),
        user_id: p.user_id.as_uuid(),
        total_minor: p.total.amount_minor(),
        currency: p.total.currency().as_str().to_owned(),
        status: p.status.as_str().to_owned(),
        gateway: p.gateway.as_str().to_owned(),
        gateway_order_id: p.gateway_order_id.clone(),
        payment_id: p.payment_id.clone(),
        refunded_minor: p.refunded.amount_minor(),
        invoice_number: p.invoice_number.as_ref().map(|n| n.as_str().to_owned()),
        invoice_key: p.invoice_key.as_ref().map(|k| k.as_str().to_owned()),
        created_at: p.created_at,
        updated_at: p.updated_at,
        paid_at: p.paid_at,
        version: p.version,
        checkout_key: p.checkout_key.clone(),
        pending_refund_id: p.pending_refund.as_ref().map(|r| r.id),
        pending_refund_minor: p.pending_refund.as_ref().map(|r| r.amount.amount_minor()),
        pending_refund_reason: p
            .pending_refund
            .as_ref()
            .map(|r| r.reason.as_str().to_owned()),
        pending_refund_by: p.pending_refund.as_ref().map(|r| r.requested_by.as_uuid()),
        pending_refund_at: p.pending_refund.as_ref().map(|r| r.requested_at),
        pending_refund_claimed_at: p.pending_refund.as_ref().and_then(|r| r.claimed_at),
    }
}

fn line_rows(p: &OrderParts) -> Result<Vec<order_line::Model>, Unexpected> {
    p.lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            Ok(order_line::Model {
                order_id: p.id.as_uuid(),
                position: position(i)?,
                product_id: line.product_id.as_uuid(),
                title: line.title.clone(),
                unit_price_minor: line.unit_price.amount_minor(),
                currency: line.unit_price.currency().as_str().to_owned(),
            })
        })
        .collect()
}

fn refund_row(
    order_id: OrderId,
    index: usize,
    refund: &OrderRefund,
) -> Result<order_refund::Model, Unexpected> {
    Ok(order_refund::Model {
        order_id: order_id.as_uuid(),
        position: position(index)?,
        refund_id: refund.refund_id.clone(),
        amount_minor: refund.amount.amount_minor(),
        currency: refund.amount.currency().as_str().to_owned(),
        reason: refund.reason.as_ref().map(|r| r.as_str().to_owned()),
        refunded_by: refund.refunded_by.map(|u| u.as_uuid()),
        at: refund.at,
    })
}

fn money(table: &'static str, id: Uuid, minor: i64, currency: &str) -> Result<Money, Unexpected> {
    let currency = Currency::parse(currency).map_err(invalid(table, id, "currency"))?;
    Money::new(minor, currency).map_err(invalid(table, id, "amount"))
}

/// Rebuilds an order through the domain constructors and `Order::from_parts`, which
/// checks its invariants; a row that breaks any rule is `Unexpected`.
fn from_rows(
    row: order::Model,
    lines: Vec<order_line::Model>,
    refunds: Vec<order_refund::Model>,
) -> Result<Order, Unexpected> {
    const TABLE: &str = "orders";
    let id = row.id;
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(OrderLine {
                product_id: ProductId::from_uuid(l.product_id),
                title: l.title,
                unit_price: money("order_lines", id, l.unit_price_minor, &l.currency)?,
            })
        })
        .collect::<Result<Vec<_>, Unexpected>>()?;
    let refunds = refunds
        .into_iter()
        .map(|r| {
            Ok(OrderRefund {
                amount: money("order_refunds", id, r.amount_minor, &r.currency)?,
                reason: r
                    .reason
                    .as_deref()
                    .map(RefundReason::parse)
                    .transpose()
                    .map_err(invalid("order_refunds", id, "reason"))?,
                refunded_by: r.refunded_by.map(UserId::from_uuid),
                at: r.at,
                refund_id: r.refund_id,
            })
        })
        .collect::<Result<Vec<_>, Unexpected>>()?;
    let pending_refund = match (
        row.pending_refund_id,
        row.pending_refund_minor,
        row.pending_refund_reason.as_deref(),
        row.pending_refund_by,
        row.pending_refund_at,
    ) {
        (None, None, None, None, None) => None,
        (Some(refund_id), Some(minor), Some(reason), Some(by), Some(at)) => Some(PendingRefund {
            id: refund_id,
            amount: money(TABLE, id, minor, &row.currency)?,
            reason: RefundReason::parse(reason).map_err(invalid(
                TABLE,
                id,
                "pending_refund_reason",
            ))?,
            requested_by: UserId::from_uuid(by),
            requested_at: at,
            claimed_at: row.pending_refund_claimed_at,
        }),
        _ => {
            return Err(Unexpected::msg(format!(
                "orders row {id} has a partial pending refund (pending_refund_* columns go together)"
            )));
        }
    };
    let parts = OrderParts {
        id: OrderId::from_uuid(id),
        user_id: UserId::from_uuid(row.user_id),
        lines,
        total: money(TABLE, id, row.total_minor, &row.currency)?,
        status: OrderStatus::from_str(&row.status).map_err(invalid(TABLE, id, "status"))?,
        gateway: parse_gateway(&row.gateway).ok_or_else(|| {
            Unexpected::msg(format!(
                "orders row {id} has an unknown gateway {:?}",
                row.gateway
            ))
        })?,
        gateway_order_id: row.gateway_order_id,
        payment_id: row.payment_id,
        refunded: money(TABLE, id, row.refunded_minor, &row.currency)?,
        refunds,
        invoice_number: row
            .invoice_number
            .as_deref()
            .map(InvoiceNumber::parse)
            .transpose()
            .map_err(invalid(TABLE, id, "invoice_number"))?,
        invoice_key: row
            .invoice_key
            .as_deref()
            .map(AssetKey::parse)
            .transpose()
            .map_err(invalid(TABLE, id, "invoice_key"))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        paid_at: row.paid_at,
        version: row.version,
        checkout_key: row.checkout_key,
        pending_refund,
    };
    Order::from_parts(parts).map_err(invalid(TABLE, id, "state"))
}

/// Loads the lines and refunds of `rows` (two queries, whatever their number) and
/// rebuilds the orders, in the order of `rows`.
async fn with_children<C>(conn: &C, rows: Vec<order::Model>) -> Result<Vec<Order>, OrdersError>
where
    C: ConnectionTrait,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut lines: HashMap<Uuid, Vec<order_line::Model>> = HashMap::new();
    for line in order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::Position)
        .all(conn)
        .await
        .map_err(unexpected("loading order lines"))?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    let mut refunds: HashMap<Uuid, Vec<order_refund::Model>> = HashMap::new();
    for refund in order_refund::Entity::find()
        .filter(order_refund::Column::OrderId.is_in(ids))
        .order_by_asc(order_refund::Column::OrderId)
        .order_by_asc(order_refund::Column::Position)
        .all(conn)
        .await
        .map_err(unexpected("loading order refunds"))?
    {
        refunds.entry(refund.order_id).or_default().push(refund);
    }
    rows.into_iter()
        .map(|row| {
            let id = row.id;
            from_rows(
                row,
                lines.remove(&id).unwrap_or_default(),
                refunds.remove(&id).unwrap_or_default(),
            )
            .map_err(OrdersError::from)
        })
        .collect()
}

/// Records `event_id` as processed at `at` unless it already is; `true` when this call
/// recorded it.
pub(crate) async fn record_event<C>(
    conn: &C,
    event_id: &GatewayEventId,
    at: DateTime<Utc>,
) -> Result<bool, OrdersError>
where
    C: ConnectionTrait,
{
    let mut insert = Query::insert();
    insert
        .into_table(payment_event::Entity)
        .columns([
            payment_event::Column::EventId,
            payment_event::Column::ProcessedAt,
        ])
        .values([event_id.as_str().into(), at.into()])
        .map_err(|e| Unexpected::new("building a payment event insert", e))?
        .on_conflict(
            OnConflict::column(payment_event::Column::EventId)
                .do_nothing()
                .to_owned(),
        );
    let result = conn
        .execute(&insert)
        .await
        .map_err(unexpected("recording a payment event"))?;
    Ok(result.rows_affected() > 0)
}

/// Gives the buyer every product of the order, granted at its payment time. A product the
/// buyer already owns keeps its entitlement (and the order that granted it).
pub(crate) async fn grant_entitlements<C>(tx: &C, order: &Order) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    let paid_at = order.paid_at().ok_or_else(|| {
        Unexpected::msg(format!(
            "order {} grants entitlements without being paid",
            order.id()
        ))
    })?;
    if order.lines().is_empty() {
        // `Order` never has no line, but an INSERT without rows would not be SQL.
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(entitlement::Entity).columns([
        entitlement::Column::UserId,
        entitlement::Column::ProductId,
        entitlement::Column::OrderId,
        entitlement::Column::GrantedAt,
    ]);
    for line in order.lines() {
        insert
            .values([
                order.user_id().as_uuid().into(),
                line.product_id.as_uuid().into(),
                order.id().as_uuid().into(),
                paid_at.into(),
            ])
            .map_err(|e| Unexpected::new("building an entitlement insert", e))?;
    }
    insert.on_conflict(
        OnConflict::columns([entitlement::Column::UserId, entitlement::Column::ProductId])
            .do_nothing()
            .to_owned(),
    );
    let granted = tx
        .execute(&insert)
        .await
        .map_err(unexpected("granting entitlements"))?
        .rows_affected();
    if usize::try_from(granted).is_ok_and(|n| n == order.lines().len()) {
        return Ok(());
    }
    // Some product is owned already. The primary key (user, product) decided it: on
    // PostgreSQL a concurrent grant of the same product waited for the other transaction
    // and then conflicted, so two payments can never both be applied to one product.
    let products: Vec<Uuid> = order
        .lines()
        .iter()
        .map(|l| l.product_id.as_uuid())
        .collect();
    let owned: Option<Uuid> = entitlement::Entity::find()
        .select_only()
        .column(entitlement::Column::ProductId)
        .filter(entitlement::Column::UserId.eq(order.user_id().as_uuid()))
        .filter(entitlement::Column::ProductId.is_in(products))
        .filter(entitlement::Column::OrderId.ne(order.id().as_uuid()))
        .into_tuple()
        .one(tx)
        .await
        .map_err(unexpected("finding an owned product"))?;
    match owned {
        Some(product) => Err(OrdersError::AlreadyOwned(ProductId::from_uuid(product))),
        None => Ok(()),
    }
}

/// Takes back what `order` granted, then gives each of those products back through another
/// PAID or PARTIALLY_REFUNDED order of the same buyer that has it (the oldest), so that an
/// entitlement survives while any paid order still pays for it.
pub(crate) async fn revoke_entitlements<C>(tx: &C, order: &Order) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    entitlement::Entity::delete_many()
        .filter(entitlement::Column::OrderId.eq(order.id().as_uuid()))
        .exec(tx)
        .await
        .map_err(unexpected("revoking entitlements"))?;
    let products: Vec<Uuid> = order
        .lines()
        .iter()
        .map(|l| l.product_id.as_uuid())
        .collect();
    let others: Vec<(Uuid, Uuid, Option<DateTime<Utc>>)> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::ProductId)
        .column(order::Column::Id)
        .column(order::Column::PaidAt)
        .join(
            sea_orm::JoinType::InnerJoin,
            order_line::Entity::belongs_to(order::Entity)
                .from(order_line::Column::OrderId)
                .to(order::Column::Id)
                .into(),
        )
        .filter(order::Column::UserId.eq(order.user_id().as_uuid()))
        .filter(order::Column::Id.ne(order.id().as_uuid()))
        .filter(order::Column::Status.is_in([
            OrderStatus::Paid.as_str(),
            OrderStatus::PartiallyRefunded.as_str(),
        ]))
        .filter(order_line::Column::ProductId.is_in(products))
        .order_by_asc(order::Column::PaidAt)
        .into_tuple()
        .all(tx)
        .await
        .map_err(unexpected("finding other orders of revoked products"))?;
    for (product_id, order_id, paid_at) in others {
        let Some(paid_at) = paid_at else { continue };
        let mut insert = Query::insert();
        insert
            .into_table(entitlement::Entity)
            .columns([
                entitlement::Column::UserId,
                entitlement::Column::ProductId,
                entitlement::Column::OrderId,
                entitlement::Column::GrantedAt,
            ])
            .values([
                order.user_id().as_uuid().into(),
                product_id.into(),
                order_id.into(),
                paid_at.into(),
            ])
            .map_err(|e| Unexpected::new("building an entitlement insert", e))?
            .on_conflict(
                OnConflict::columns([entitlement::Column::UserId, entitlement::Column::ProductId])
                    .do_nothing()
                    .to_owned(),
            );
        tx.execute(&insert)
            .await
            .map_err(unexpected("granting an entitlement again"))?;
    }
    Ok(())
}

/// Takes the next number of `year`'s series in `counter` (one upsert that creates the
/// year's counter at 1 or increments it, and returns the new value).
///
/// The counter row stays locked until the transaction ends, so concurrent units of work
/// take numbers one after the other; a rollback undoes the increment, so an abandoned
/// payment or refund leaves no gap. (SQLite's `BEGIN IMMEDIATE` already admits one writer.)
async fn next_in_series<C, E>(
    conn: &C,
    year: i32,
    counter: E,
    year_column: E::Column,
    last_column: E::Column,
    what: &'static str,
) -> Result<u64, OrdersError>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let mut upsert = Query::insert();
    upsert
        .into_table(counter)
        .columns([year_column, last_column])
        .values([year.into(), 1_i64.into()])
        .map_err(|e| Unexpected::new(format!("building the {what} counter update"), e))?
        .on_conflict(
            OnConflict::column(year_column)
                .value(last_column, Expr::col((counter, last_column)).add(1))
                .to_owned(),
        )
        .returning_col(last_column);
    let row = conn
        .query_one(&upsert)
        .await
        .map_err(|e| Unexpected::new(format!("allocating a {what} number"), e))?
        .ok_or_else(|| Unexpected::msg(format!("the {what} counter upsert returned no row")))?;
    let last: i64 = row
        .try_get("", "last")
        .map_err(|e| Unexpected::new(format!("reading an allocated {what} number"), e))?;
    Ok(u64::try_from(last)
        .map_err(|e| Unexpected::new(format!("{what} counter {year} is negative ({last})"), e))?)
}

/// The next invoice number of `year`.
pub(crate) async fn next_invoice_number<C>(
    conn: &C,
    year: i32,
) -> Result<InvoiceNumber, OrdersError>
where
    C: ConnectionTrait,
{
    let sequence = next_in_series(
        conn,
        year,
        invoice_counter::Entity,
        invoice_counter::Column::Year,
        invoice_counter::Column::Last,
        "invoice",
    )
    .await?;
    Ok(InvoiceNumber::new(year, sequence).map_err(|e| {
        Unexpected::new(
            format!("no invoice number for year {year}, sequence {sequence}"),
            e,
        )
    })?)
}

/// The next credit note number of `year`.
pub(crate) async fn next_credit_note_number<C>(
    conn: &C,
    year: i32,
) -> Result<CreditNoteNumber, OrdersError>
where
    C: ConnectionTrait,
{
    let sequence = next_in_series(
        conn,
        year,
        credit_note_counter::Entity,
        credit_note_counter::Column::Year,
        credit_note_counter::Column::Last,
        "credit note",
    )
    .await?;
    Ok(CreditNoteNumber::new(year, sequence)
        .map_err(|e| Unexpected::new(format!("no credit note number for {year}, {sequence}"), e))?)
}

/// Stores the invoice number allocated to order `id`.
pub(crate) async fn set_invoice_number<C>(
    conn: &C,
    id: OrderId,
    number: &InvoiceNumber,
) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    order::Entity::update_many()
        .col_expr(order::Column::InvoiceNumber, Expr::value(number.as_str()))
        .filter(order::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await
        .map_err(unexpected("storing an invoice number"))?;
    Ok(())
}

/// Records a credit note.
pub(crate) async fn add_credit_note<C>(conn: &C, note: &CreditNote) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    credit_note::Entity::insert(credit_note::ActiveModel {
        number: sea_orm::ActiveValue::Set(note.number.as_str().to_owned()),
        order_id: sea_orm::ActiveValue::Set(note.order_id.as_uuid()),
        refund_id: sea_orm::ActiveValue::Set(note.refund_id.clone()),
        issued_at: sea_orm::ActiveValue::Set(note.issued_at),
        file_key: sea_orm::ActiveValue::Set(note.key.as_ref().map(|k| k.as_str().to_owned())),
    })
    .exec_without_returning(conn)
    .await
    .map_err(unexpected("recording a credit note"))?;
    Ok(())
}

/// Saves `order` if the stored version is still `expected_version`, with the refunds it
/// adds (see `OrderStore::save`); an error leaves `tx` for the caller to roll back.
pub(crate) async fn save_order<C>(
    tx: &C,
    order: &Order,
    expected_version: i64,
) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    let parts = order.clone().into_parts();
    let mut changes = order_row(&parts).into_active_model().reset_all();
    // Identity, buyer, what was bought and when never change; the invoice number is
    // only ever written by its allocation and the key by `set_invoice_key`, so a save
    // from an older copy cannot erase them.
    changes.id = NotSet;
    changes.user_id = NotSet;
    changes.total_minor = NotSet;
    changes.currency = NotSet;
    changes.gateway = NotSet;
    changes.invoice_number = NotSet;
    changes.invoice_key = NotSet;
    changes.created_at = NotSet;
    changes.checkout_key = NotSet;
    // What the counters counted this order for (see `crate::counters`): the version
    // guard below proves the stored row is still the one read here.
    let before = order::Entity::find()
        .select_only()
        .columns([order::Column::Status, order::Column::PaidAt])
        .filter(order::Column::Id.eq(parts.id.as_uuid()))
        .filter(order::Column::Version.eq(expected_version))
        .into_tuple::<(String, Option<DateTime<Utc>>)>()
        .one(tx)
        .await
        .map_err(unexpected("reading an order's counted state"))?;
    let Some((status, paid_at)) = before else {
        return Err(OrdersError::Conflict);
    };
    let before = Counted {
        status: OrderStatus::from_str(&status).map_err(invalid(
            "orders",
            parts.id.as_uuid(),
            "status",
        ))?,
        paid_at,
    };
    let updated = order::Entity::update_many()
        .set(changes)
        .filter(order::Column::Id.eq(parts.id.as_uuid()))
        .filter(order::Column::Version.eq(expected_version))
        .exec(tx)
        .await
        .map_err(unexpected("saving an order"))?;
    if updated.rows_affected == 0 {
        return Err(OrdersError::Conflict);
    }

    // Refunds are only ever appended, and the guard above proves the stored ones are
    // those of `expected_version`: the new ones are those past the stored count.
    let stored = order_refund::Entity::find()
        .filter(order_refund::Column::OrderId.eq(parts.id.as_uuid()))
        .count(tx)
        .await
        .map_err(unexpected("counting an order's refunds"))?;
    let stored = usize::try_from(stored).map_err(Unexpected::with("counting refunds"))?;
    if stored > parts.refunds.len() {
        return Err(Unexpected::msg(format!(
            "saving order {} would drop {} stored refunds",
            parts.id,
            stored - parts.refunds.len()
        ))
        .into());
    }
    let new_refunds = parts
        .refunds
        .iter()
        .enumerate()
        .skip(stored)
        .map(|(i, r)| refund_row(parts.id, i, r).map(IntoActiveModel::into_active_model))
        .collect::<Result<Vec<_>, _>>()?;
    if !new_refunds.is_empty() {
        order_refund::Entity::insert_many(new_refunds)
            .exec_without_returning(tx)
            .await
            .map_err(|err| {
                // Another order already counted this gateway refund.
                if is_unique_violation(
                    &err,
                    "ux_order_refunds_refund_id",
                    "order_refunds.refund_id",
                ) {
                    OrdersError::Conflict
                } else {
                    OrdersError::Unexpected(Unexpected::new("recording a refund", err))
                }
            })?;
    }
    counters::apply(tx, Changes::of(&parts, Some(before))).await?;
    Ok(())
}

/// Inserts a new order with its lines and refunds (`Conflict` on a taken id or a second
/// unpaid order of one cart, see `OrderStore::insert`).
pub(crate) async fn insert_order<C>(conn: &C, order: &Order) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    let parts = order.clone().into_parts();
    let lines = line_rows(&parts)?
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect::<Vec<_>>();
    let refunds = parts
        .refunds
        .iter()
        .enumerate()
        .map(|(i, r)| refund_row(parts.id, i, r).map(IntoActiveModel::into_active_model))
        .collect::<Result<Vec<_>, _>>()?;
    order::Entity::insert(order_row(&parts).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|err| {
            if is_unique_violation(&err, "orders_pkey", "orders.id")
                || is_unique_violation(&err, "ux_orders_pending_checkout", "orders.checkout_key")
            {
                OrdersError::Conflict
            } else {
                OrdersError::Unexpected(Unexpected::new("inserting an order", err))
            }
        })?;
    if !lines.is_empty() {
        order_line::Entity::insert_many(lines)
            .exec_without_returning(conn)
            .await
            .map_err(unexpected("inserting order lines"))?;
    }
    if !refunds.is_empty() {
        order_refund::Entity::insert_many(refunds)
            .exec_without_returning(conn)
            .await
            .map_err(unexpected("inserting order refunds"))?;
    }
    counters::apply(conn, Changes::of(&parts, None)).await?;
    Ok(())
}

/// Records `payment` unless one is recorded for the same gateway payment; whether it was new.
pub(crate) async fn insert_unapplied<C>(
    conn: &C,
    payment: &UnappliedPayment,
) -> Result<bool, OrdersError>
where
    C: ConnectionTrait,
{
    let mut insert = Query::insert();
    insert
        .into_table(unapplied_payment::Entity)
        .columns([
            unapplied_payment::Column::Id,
            unapplied_payment::Column::OrderId,
            unapplied_payment::Column::UserId,
            unapplied_payment::Column::PaymentId,
            unapplied_payment::Column::AmountMinor,
            unapplied_payment::Column::Currency,
            unapplied_payment::Column::Reason,
            unapplied_payment::Column::CreatedAt,
        ])
        .values([
            payment.id.into(),
            payment.order_id.as_uuid().into(),
            payment.user_id.as_uuid().into(),
            payment.payment_id.clone().into(),
            payment.amount.amount_minor().into(),
            payment.amount.currency().as_str().into(),
            payment.reason.as_str().into(),
            payment.at.into(),
        ])
        .map_err(|e| Unexpected::new("building an unapplied payment insert", e))?
        .on_conflict(
            OnConflict::column(unapplied_payment::Column::PaymentId)
                .do_nothing()
                .to_owned(),
        );
    Ok(conn
        .execute(&insert)
        .await
        .map_err(unexpected("recording an unapplied payment"))?
        .rows_affected()
        > 0)
}

/// Stores the gateway refund of the unapplied payment `id` unless one is stored already;
/// whether it was stored now.
pub(crate) async fn mark_unapplied_refunded<C>(
    conn: &C,
    id: Uuid,
    refund_id: &str,
    at: DateTime<Utc>,
) -> Result<bool, OrdersError>
where
    C: ConnectionTrait,
{
    Ok(unapplied_payment::Entity::update_many()
        .col_expr(unapplied_payment::Column::RefundId, Expr::value(refund_id))
        .col_expr(unapplied_payment::Column::RefundedAt, Expr::value(at))
        .filter(unapplied_payment::Column::Id.eq(id))
        .filter(unapplied_payment::Column::RefundId.is_null())
        .exec(conn)
        .await
        .map_err(unexpected("marking an unapplied payment refunded"))?
        .rows_affected
        > 0)
}

/// The WHERE clause of a list, shared by its page and its `COUNT(*)`.
fn filtered(query: &OrderQuery) -> Select<order::Entity> {
    let mut select = order::Entity::find();
    if let Some(user) = query.user_id {
        select = select.filter(order::Column::UserId.eq(user.as_uuid()));
    }
    if let Some(status) = query.status {
        select = select.filter(order::Column::Status.eq(status.as_str()));
    }
    select
}

#[async_trait]
impl OrderRepository for SeaOrderRepository {
    async fn find(&self, id: OrderId) -> Result<Option<Order>, OrdersError> {
        self.find_one(order::Entity::find_by_id(id.as_uuid())).await
    }

    async fn find_pending_checkout(
        &self,
        user: UserId,
        key: &str,
    ) -> Result<Option<Order>, OrdersError> {
        // Served by ux_orders_pending_checkout.
        self.find_one(
            order::Entity::find()
                .filter(order::Column::UserId.eq(user.as_uuid()))
                .filter(order::Column::CheckoutKey.eq(key))
                .filter(order::Column::Status.eq(OrderStatus::PendingPayment.as_str())),
        )
        .await
    }

    async fn count_pending(&self, user: UserId) -> Result<u64, OrdersError> {
        Ok(order::Entity::find()
            .filter(order::Column::UserId.eq(user.as_uuid()))
            .filter(order::Column::Status.eq(OrderStatus::PendingPayment.as_str()))
            .count(&self.db)
            .await
            .map_err(unexpected("counting unpaid orders"))?)
    }

    async fn find_unapplied(&self, id: Uuid) -> Result<Option<UnappliedPayment>, OrdersError> {
        let Some(row) = unapplied_payment::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(unexpected("loading an unapplied payment"))?
        else {
            return Ok(None);
        };
        const TABLE: &str = "unapplied_payments";
        let reason = UnappliedReason::parse(&row.reason)
            .ok_or_else(|| Unexpected::msg(format!("{TABLE} row {id} has an unknown reason")))?;
        Ok(Some(UnappliedPayment {
            id: row.id,
            order_id: OrderId::from_uuid(row.order_id),
            user_id: UserId::from_uuid(row.user_id),
            amount: money(TABLE, id, row.amount_minor, &row.currency)?,
            payment_id: row.payment_id,
            reason,
            refund_id: row.refund_id,
            at: row.created_at,
        }))
    }

    async fn find_by_gateway_order(
        &self,
        gateway_order_id: &str,
    ) -> Result<Option<Order>, OrdersError> {
        // Served by the unique index ux_orders_gateway_order_id.
        self.find_one(
            order::Entity::find().filter(order::Column::GatewayOrderId.eq(gateway_order_id)),
        )
        .await
    }

    async fn find_by_payment(&self, payment_id: &str) -> Result<Option<Order>, OrdersError> {
        // Served by ix_orders_payment_id; a payment pays one order.
        self.find_one(order::Entity::find().filter(order::Column::PaymentId.eq(payment_id)))
            .await
    }

    async fn list(
        &self,
        query: &OrderQuery,
        page: PageRequest,
    ) -> Result<Page<Order>, OrdersError> {
        let select = filtered(query);
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting an order list"))?;
        // Indexed by buyer, by status, or overall: an exact COUNT stays cheap for a
        // buyer's orders and the staff's filtered views.
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting orders"))?;
        let rows = select
            .order_by_desc(order::Column::CreatedAt)
            .order_by_desc(order::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing orders"))?;
        let items = with_children(&tx, rows).await?;
        tx.commit()
            .await
            .map_err(unexpected("finishing an order list"))?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn find_credit_note(&self, refund_id: &str) -> Result<Option<CreditNote>, OrdersError> {
        let Some(row) = credit_note::Entity::find()
            .filter(credit_note::Column::RefundId.eq(refund_id))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a credit note"))?
        else {
            return Ok(None);
        };
        let number = CreditNoteNumber::parse(&row.number).map_err(invalid(
            "credit_notes",
            row.order_id,
            "number",
        ))?;
        let key = row
            .file_key
            .as_deref()
            .map(AssetKey::parse)
            .transpose()
            .map_err(invalid("credit_notes", row.order_id, "file_key"))?;
        Ok(Some(CreditNote {
            number,
            order_id: OrderId::from_uuid(row.order_id),
            refund_id: row.refund_id,
            issued_at: row.issued_at,
            key,
        }))
    }

    async fn set_credit_note_key(
        &self,
        number: &CreditNoteNumber,
        key: &AssetKey,
    ) -> Result<(), OrdersError> {
        let updated = credit_note::Entity::update_many()
            .col_expr(credit_note::Column::FileKey, Expr::value(key.as_str()))
            .filter(credit_note::Column::Number.eq(number.as_str()))
            .exec(&self.db)
            .await
            .map_err(unexpected("recording a credit note file"))?;
        if updated.rows_affected == 0 {
            return Err(OrdersError::NotFound);
        }
        Ok(())
    }

    async fn set_invoice_key(&self, id: OrderId, key: &AssetKey) -> Result<(), OrdersError> {
        let updated = order::Entity::update_many()
            .col_expr(order::Column::InvoiceKey, Expr::value(key.as_str()))
            .filter(order::Column::Id.eq(id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(unexpected("recording an invoice key"))?;
        if updated.rows_affected == 0 {
            return Err(OrdersError::NotFound);
        }
        Ok(())
    }
}

#[async_trait]
impl ProcessedEvents for SeaOrderRepository {
    async fn seen(&self, event_id: &GatewayEventId) -> Result<bool, OrdersError> {
        let found: Option<String> = payment_event::Entity::find_by_id(event_id.as_str())
            .select_only()
            .column(payment_event::Column::EventId)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(unexpected("looking up a payment event"))?;
        Ok(found.is_some())
    }

    async fn record(
        &self,
        event_id: &GatewayEventId,
        at: DateTime<Utc>,
    ) -> Result<bool, OrdersError> {
        record_event(&self.db, event_id, at).await
    }
}

/// Answers who owns which product from `entitlements`, which only a unit of work
/// (`crate::SeaOrdersTx`) writes. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaEntitlementRepository {
    db: DatabaseConnection,
}

impl SeaEntitlementRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl EntitlementRepository for SeaEntitlementRepository {
    async fn owns(&self, user: UserId, product: ProductId) -> Result<bool, OrdersError> {
        let found: Option<Uuid> =
            entitlement::Entity::find_by_id((user.as_uuid(), product.as_uuid()))
                .select_only()
                .column(entitlement::Column::OrderId)
                .into_tuple()
                .one(&self.db)
                .await
                .map_err(unexpected("looking up an entitlement"))?;
        Ok(found.is_some())
    }

    async fn list(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<LibraryEntry>, OrdersError> {
        let select =
            entitlement::Entity::find().filter(entitlement::Column::UserId.eq(user.as_uuid()));
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a library list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting a library"))?;
        // Served by ix_entitlements_user_id_granted_at_product_id, read backwards.
        let rows = select
            .order_by_desc(entitlement::Column::GrantedAt)
            .order_by_desc(entitlement::Column::ProductId)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing a library"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a library list"))?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|row| LibraryEntry {
                    product_id: ProductId::from_uuid(row.product_id),
                    order_id: OrderId::from_uuid(row.order_id),
                    granted_at: row.granted_at,
                })
                .collect(),
            total,
            request: page,
        })
    }
}

/// Looks products up for the orders area straight from `products` (the catalog's table).
/// Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaProductCatalog {
    db: DatabaseConnection,
}

impl SeaProductCatalog {
    /// A catalog over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// The columns of a product the orders area reads.
type ProductColumns = (String, i64, String, String, Option<String>, Option<String>);

#[async_trait]
impl ProductCatalog for SeaProductCatalog {
    async fn purchasable(&self, id: ProductId) -> Result<Option<PurchasableProduct>, OrdersError> {
        let row: Option<ProductColumns> = product::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(product::Column::Title)
            .column(product::Column::PriceMinor)
            .column(product::Column::Currency)
            .column(product::Column::Status)
            .column(product::Column::AssetKey)
            .column(product::Column::AssetFileName)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(unexpected("loading a product"))?;
        let Some((title, price_minor, currency, status, asset_key, asset_file_name)) = row else {
            return Ok(None);
        };
        const TABLE: &str = "products";
        let uuid = id.as_uuid();
        // Through the catalog's constructors: a row that breaks a rule is `Unexpected`.
        let title = ProductTitle::parse(&title).map_err(invalid(TABLE, uuid, "title"))?;
        let status = ProductStatus::from_str(&status).map_err(invalid(TABLE, uuid, "status"))?;
        let (asset_key, asset_file_name) = match (asset_key, asset_file_name) {
            (Some(key), Some(name)) => (
                Some(AssetKey::parse(&key).map_err(invalid(TABLE, uuid, "asset_key"))?),
                Some(
                    FileName::parse(&name)
                        .map_err(invalid(TABLE, uuid, "asset_file_name"))?
                        .as_str()
                        .to_owned(),
                ),
            ),
            (None, None) => (None, None),
            _ => {
                return Err(Unexpected::msg(format!(
                    "products row {id} has a partial file (asset_* columns must be set together)"
                ))
                .into());
            }
        };
        Ok(Some(PurchasableProduct {
            id,
            title: title.as_str().to_owned(),
            price: money(TABLE, uuid, price_minor, &currency)?,
            status_published: status == ProductStatus::Published,
            asset_key,
            asset_file_name,
        }))
    }
}

/// Inserts one row into `downloads`.
pub(crate) async fn insert_download<C>(conn: &C, download: &Download) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("downloads"))
        .columns([
            Alias::new("id"),
            Alias::new("user_id"),
            Alias::new("product_id"),
            Alias::new("at"),
        ])
        .values([
            Uuid::now_v7().into(),
            download.user_id.as_uuid().into(),
            download.product_id.as_uuid().into(),
            download.at.into(),
        ])
        .map_err(|e| Unexpected::new("building a download insert", e))?;
    conn.execute(&insert)
        .await
        .map_err(unexpected("recording a download"))?;
    Ok(())
}

/// Inserts one row into `payment_failures`.
pub(crate) async fn insert_payment_failure<C>(
    conn: &C,
    failure: &PaymentFailure,
) -> Result<(), OrdersError>
where
    C: ConnectionTrait,
{
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("payment_failures"))
        .columns([
            Alias::new("id"),
            Alias::new("order_id"),
            Alias::new("payment_id"),
            Alias::new("error_code"),
            Alias::new("error_description"),
            Alias::new("at"),
        ])
        .values([
            Uuid::now_v7().into(),
            failure.order_id.as_uuid().into(),
            failure.payment_id.clone().into(),
            failure.error_code.clone().into(),
            failure.error_description.clone().into(),
            failure.at.into(),
        ])
        .map_err(|e| Unexpected::new("building a payment failure insert", e))?;
    conn.execute(&insert)
        .await
        .map_err(unexpected("recording a payment failure"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_name_reads_back() {
        for kind in [GatewayKind::Razorpay, GatewayKind::Development] {
            assert_eq!(parse_gateway(kind.as_str()), Some(kind));
        }
        assert_eq!(parse_gateway("RAZORPAY"), None);
        assert_eq!(parse_gateway(""), None);
    }
}
