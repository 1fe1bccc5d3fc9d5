//! [`TimelineReader`] over the tables the timeline's entries come from.
//!
//! A read model: the one query reads other contexts' tables (`enquiries`, `response_events`,
//! `orders`, `order_refunds`, `payment_failures`, `downloads`, `product_reviews`,
//! `site_feedback`, `customer_notes`, and
//! `users` for staff names) by name, without their adapter crates. It is one `UNION ALL`
//! of one branch per kind of entry; each branch is keyed on the customer (or its linked
//! account) and time, has the cursor's keyset condition and the page's `LIMIT`, and is
//! served by an index on (key, time), so a page costs a few index range scans whatever the
//! size of the tables. The outer query merges the branches and applies the `LIMIT` again.

use std::cmp::Ordering;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_customers::{
    CustomersError, TimelineEntry, TimelineKind, TimelineQuery, TimelineReader, TimelineRef,
};
use nexus_kernel::Unexpected;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};
use uuid::Uuid;

use nexus_sea_support::unexpected;

/// Reads timelines with one SQL query. Cheap to clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaTimelineReader {
    db: DatabaseConnection,
}

impl SeaTimelineReader {
    /// A reader over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// What a branch is keyed on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// The customer id.
    Customer,
    /// The linked account; the branch is left out when there is none.
    Account,
    /// The customer's address, excluding rows of the linked account (read by the
    /// `Account` branch of the same kind).
    Email,
}

/// One branch of the union: the entries of one kind.
struct Branch {
    kind: TimelineKind,
    key: Key,
    /// `FROM` clause (tables and joins).
    from: &'static str,
    /// The key column, compared with the key.
    key_column: &'static str,
    /// More conditions, without parameters.
    filter: &'static str,
    /// Time column.
    at: &'static str,
    /// Id column (a UUID, or text for `text_id`).
    id: &'static str,
    /// Whether `id` is text rather than a UUID.
    text_id: bool,
    /// Staff name, or `NULL`.
    actor: &'static str,
    /// Title-like text (subject, product title, start of a message), or `NULL`.
    title: &'static str,
    /// An amount in minor units, or a rating, or `NULL`.
    amount: &'static str,
    /// Currency, or `NULL`.
    currency: &'static str,
    /// More text (reviewer's notes, refund reason), or `NULL`.
    extra: &'static str,
    /// The type of record the entry refers to.
    ref_kind: &'static str,
    /// The referred record's id (a UUID column).
    ref_id: &'static str,
}

const STAFF_NAME: &str = "u.first_name || ' ' || u.last_name";
const NO_TEXT: &str = "CAST(NULL AS TEXT)";
const NO_AMOUNT: &str = "CAST(NULL AS BIGINT)";

const RESPONSES: &str = "response_events v JOIN responses r ON r.id = v.response_id \
     LEFT JOIN users u ON u.id = v.actor_id";

const fn response_branch(kind: TimelineKind, filter: &'static str) -> Branch {
    Branch {
        kind,
        key: Key::Customer,
        from: RESPONSES,
        key_column: "r.customer_id",
        filter,
        at: "v.at",
        id: "v.id",
        text_id: false,
        actor: STAFF_NAME,
        title: "r.subject",
        amount: NO_AMOUNT,
        currency: NO_TEXT,
        extra: "v.notes",
        ref_kind: "response",
        ref_id: "r.id",
    }
}

const fn feedback_branch(key: Key) -> Branch {
    Branch {
        kind: TimelineKind::FeedbackSent,
        key,
        from: "site_feedback s",
        key_column: if matches!(key, Key::Email) {
            "s.email"
        } else {
            "s.user_id"
        },
        filter: "",
        at: "s.created_at",
        id: "s.id",
        text_id: false,
        actor: NO_TEXT,
        title: "substr(s.message, 1, 200)",
        amount: "CAST(s.rating AS BIGINT)",
        currency: NO_TEXT,
        extra: NO_TEXT,
        ref_kind: "feedback",
        ref_id: "s.id",
    }
}

/// Every branch, in no particular order (the query orders the union).
const BRANCHES: &[Branch] = &[
    Branch {
        kind: TimelineKind::EnquiryReceived,
        key: Key::Customer,
        from: "enquiries q",
        key_column: "q.customer_id",
        filter: "",
        at: "q.created_at",
        id: "q.id",
        text_id: false,
        actor: NO_TEXT,
        title: "q.subject",
        amount: NO_AMOUNT,
        currency: NO_TEXT,
        extra: NO_TEXT,
        ref_kind: "enquiry",
        ref_id: "q.id",
    },
    // The history of each response: its creation (not later edits of the draft), and each
    // move through the approval workflow.
    response_branch(
        TimelineKind::ResponseDrafted,
        "v.to_status = 'DRAFT' AND v.from_status IS NULL",
    ),
    response_branch(
        TimelineKind::ResponseSubmitted,
        "v.to_status = 'PENDING_APPROVAL'",
    ),
    response_branch(TimelineKind::ResponseApproved, "v.to_status = 'APPROVED'"),
    response_branch(TimelineKind::ResponseRejected, "v.to_status = 'REJECTED'"),
    response_branch(TimelineKind::ResponseSent, "v.to_status = 'SENT'"),
    Branch {
        kind: TimelineKind::OrderPlaced,
        key: Key::Account,
        from: "orders o",
        key_column: "o.user_id",
        filter: "",
        at: "o.created_at",
        id: "o.id",
        text_id: false,
        actor: NO_TEXT,
        title: NO_TEXT,
        amount: "o.total_minor",
        currency: "o.currency",
        extra: "o.status",
        ref_kind: "order",
        ref_id: "o.id",
    },
    Branch {
        kind: TimelineKind::PaymentCaptured,
        key: Key::Account,
        from: "orders o",
        key_column: "o.user_id",
        filter: "o.paid_at IS NOT NULL",
        at: "o.paid_at",
        id: "o.id",
        text_id: false,
        actor: NO_TEXT,
        title: "o.payment_id",
        amount: "o.total_minor",
        currency: "o.currency",
        extra: NO_TEXT,
        ref_kind: "order",
        ref_id: "o.id",
    },
    // A failed attempt is keyed on the order's buyer: the order's (user_id, created_at)
    // index finds the buyer's orders, `payment_failures (order_id, at)` their failures.
    Branch {
        kind: TimelineKind::PaymentFailed,
        key: Key::Account,
        from: "payment_failures pf JOIN orders o ON o.id = pf.order_id",
        key_column: "o.user_id",
        filter: "",
        at: "pf.at",
        id: "pf.id",
        text_id: false,
        actor: NO_TEXT,
        title: "pf.error_code",
        amount: "o.total_minor",
        currency: "o.currency",
        extra: "pf.error_description",
        ref_kind: "order",
        ref_id: "o.id",
    },
    Branch {
        kind: TimelineKind::Download,
        key: Key::Account,
        from: "downloads d LEFT JOIN products p ON p.id = d.product_id",
        key_column: "d.user_id",
        filter: "",
        at: "d.at",
        id: "d.id",
        text_id: false,
        actor: NO_TEXT,
        title: "p.title",
        amount: NO_AMOUNT,
        currency: NO_TEXT,
        extra: NO_TEXT,
        ref_kind: "product",
        ref_id: "d.product_id",
    },
    Branch {
        kind: TimelineKind::RefundIssued,
        key: Key::Account,
        from: "order_refunds f JOIN orders o ON o.id = f.order_id \
               LEFT JOIN users u ON u.id = f.refunded_by",
        key_column: "o.user_id",
        filter: "",
        at: "f.at",
        id: "f.refund_id",
        text_id: true,
        actor: STAFF_NAME,
        title: NO_TEXT,
        amount: "f.amount_minor",
        currency: "f.currency",
        extra: "f.reason",
        ref_kind: "order",
        ref_id: "o.id",
    },
    Branch {
        kind: TimelineKind::ReviewWritten,
        key: Key::Account,
        from: "product_reviews w JOIN products p ON p.id = w.product_id",
        key_column: "w.user_id",
        filter: "",
        at: "w.created_at",
        id: "w.id",
        text_id: false,
        actor: NO_TEXT,
        title: "p.title",
        amount: "CAST(w.rating AS BIGINT)",
        currency: NO_TEXT,
        extra: NO_TEXT,
        ref_kind: "review",
        ref_id: "w.id",
    },
    feedback_branch(Key::Account),
    feedback_branch(Key::Email),
    Branch {
        kind: TimelineKind::NoteAdded,
        key: Key::Customer,
        from: "customer_notes n LEFT JOIN users u ON u.id = n.author_id",
        key_column: "n.customer_id",
        filter: "",
        at: "n.created_at",
        id: "n.id",
        text_id: false,
        actor: STAFF_NAME,
        title: "substr(n.body, 1, 200)",
        amount: NO_AMOUNT,
        currency: NO_TEXT,
        extra: NO_TEXT,
        ref_kind: "note",
        ref_id: "n.id",
    },
];

/// SQL text and its parameters, with the backend's placeholders.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a placeholder bound to `value`.
    fn param(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        if self.backend == DbBackend::Postgres {
            self.text.push_str(&format!("${}", self.values.len()));
        } else {
            self.text.push('?');
        }
    }

    /// A UUID column as lower-case text that sorts as the UUID does.
    fn uuid_text(&self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
            _ => format!("lower(hex({column}))"),
        }
    }

    /// Byte-wise comparison of text, whatever the database's collation.
    fn bytewise(&self) -> &'static str {
        match self.backend {
            DbBackend::Postgres => " COLLATE \"C\"",
            _ => "",
        }
    }
}

/// The id of an entry as the cursor holds it, bound in the branch's own type.
fn id_value(branch: &Branch, id: &str) -> Result<Value, CustomersError> {
    if branch.text_id {
        Ok(id.to_owned().into())
    } else {
        let id = Uuid::parse_str(id)
            .map_err(|e| Unexpected::new("a timeline cursor holds a bad id", e))?;
        Ok(id.into())
    }
}

/// Appends one branch: its rows after the cursor, newest first, at most `limit`.
fn push_branch(
    sql: &mut Sql,
    index: usize,
    branch: &Branch,
    query: &TimelineQuery,
) -> Result<(), CustomersError> {
    let id_text = if branch.text_id {
        branch.id.to_owned()
    } else {
        sql.uuid_text(branch.id)
    };
    let ref_id = sql.uuid_text(branch.ref_id);
    sql.push(&format!(
        "SELECT * FROM (SELECT '{kind}' AS kind, {at} AS at, {id_text} AS id, {actor} AS actor, \
         {title} AS title, {amount} AS amount, {currency} AS currency, {extra} AS extra, \
         '{ref_kind}' AS ref_kind, {ref_id} AS ref_id FROM {from} WHERE {key} = ",
        kind = branch.kind.as_str(),
        at = branch.at,
        actor = branch.actor,
        title = branch.title,
        amount = branch.amount,
        currency = branch.currency,
        extra = branch.extra,
        ref_kind = branch.ref_kind,
        from = branch.from,
        key = branch.key_column,
    ));
    match branch.key {
        Key::Customer => sql.param(query.customer.as_uuid()),
        Key::Account => {
            let Some(account) = query.account else {
                return Err(Unexpected::msg("an account branch without an account").into());
            };
            sql.param(account.as_uuid());
        }
        Key::Email => {
            sql.param(query.email.as_str().to_owned());
            if let Some(account) = query.account {
                let column = branch.key_column.replace("email", "user_id");
                sql.push(&format!(" AND ({column} IS NULL OR {column} <> "));
                sql.param(account.as_uuid());
                sql.push(")");
            }
        }
    }
    if !branch.filter.is_empty() {
        sql.push(" AND ");
        sql.push(branch.filter);
    }
    if let Some(after) = &query.after {
        // After (T, K0, I0) in descending (time, kind, id): an earlier time, or the same
        // time with a smaller kind, or the same time and kind with a smaller id. The kind
        // of a branch is fixed, so the condition reduces to one of three forms, each a
        // range on the branch's (key, time) index.
        let collate = if branch.text_id { sql.bytewise() } else { "" };
        match branch.kind.as_str().cmp(after.kind().as_str()) {
            Ordering::Less => {
                sql.push(&format!(" AND {} <= ", branch.at));
                sql.param(after.at());
            }
            Ordering::Greater => {
                sql.push(&format!(" AND {} < ", branch.at));
                sql.param(after.at());
            }
            Ordering::Equal => {
                sql.push(&format!(" AND {} <= ", branch.at));
                sql.param(after.at());
                sql.push(&format!(" AND ({} < ", branch.at));
                sql.param(after.at());
                sql.push(&format!(" OR {}{collate} < ", branch.id));
                sql.param(id_value(branch, after.id())?);
                sql.push(")");
            }
        }
    }
    let collate = if branch.text_id { sql.bytewise() } else { "" };
    sql.push(&format!(
        " ORDER BY {at} DESC, {id}{collate} DESC LIMIT {limit}) AS b{index}",
        at = branch.at,
        id = branch.id,
        limit = query.limit,
    ));
    Ok(())
}

/// The whole query, or `None` when no branch applies.
fn timeline_statement(
    backend: DbBackend,
    query: &TimelineQuery,
) -> Result<Option<Statement>, CustomersError> {
    let mut sql = Sql::new(backend);
    let branches: Vec<&Branch> = BRANCHES
        .iter()
        .filter(|b| query.kinds.is_empty() || query.kinds.contains(&b.kind))
        .filter(|b| b.key != Key::Account || query.account.is_some())
        .collect();
    if branches.is_empty() {
        return Ok(None);
    }
    sql.push("SELECT kind, at, id, actor, title, amount, currency, extra, ref_kind, ref_id FROM (");
    for (index, branch) in branches.into_iter().enumerate() {
        if index > 0 {
            sql.push(" UNION ALL ");
        }
        push_branch(&mut sql, index, branch, query)?;
    }
    let collate = sql.bytewise();
    sql.push(&format!(
        ") AS timeline ORDER BY at DESC, kind{collate} DESC, id{collate} DESC LIMIT {}",
        query.limit
    ));
    Ok(Some(Statement::from_sql_and_values(
        backend, sql.text, sql.values,
    )))
}

/// A UUID read as text (hyphenated on PostgreSQL, bare hex on SQLite) in its hyphenated
/// form; other text as it is.
fn normal_id(raw: String) -> String {
    Uuid::parse_str(&raw).map_or(raw, |id| id.to_string())
}

/// Money in minor units as `49.00 INR` (two decimals, as every supported currency has).
fn money(minor: Option<i64>, currency: Option<&str>) -> String {
    match (minor, currency) {
        (Some(minor), Some(currency)) => format!(
            "{}.{:02} {currency}",
            minor / 100,
            (minor % 100).unsigned_abs()
        ),
        _ => String::new(),
    }
}

/// At most `max` characters of `text` on one line, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

fn summary(
    kind: TimelineKind,
    title: Option<&str>,
    amount: Option<i64>,
    currency: Option<&str>,
    extra: Option<&str>,
) -> String {
    let title = title.map(|t| short(t, 120)).unwrap_or_default();
    let extra = extra.map(|t| short(t, 120));
    let with_extra = |text: String| match &extra {
        Some(e) if !e.is_empty() => format!("{text}: {e}"),
        _ => text,
    };
    match kind {
        TimelineKind::EnquiryReceived => format!("Enquiry received: {title}"),
        TimelineKind::ResponseDrafted => format!("Response drafted: {title}"),
        TimelineKind::ResponseSubmitted => format!("Response submitted for approval: {title}"),
        TimelineKind::ResponseApproved => with_extra(format!("Response approved: {title}")),
        TimelineKind::ResponseRejected => with_extra(format!("Response rejected: {title}")),
        TimelineKind::ResponseSent => format!("Response sent: {title}"),
        TimelineKind::OrderPlaced => format!("Order placed: {}", money(amount, currency)),
        TimelineKind::PaymentCaptured => format!("Payment captured: {}", money(amount, currency)),
        TimelineKind::PaymentFailed => {
            let text = format!("Payment failed: {}", money(amount, currency));
            match (title.is_empty(), &extra) {
                (false, Some(e)) if !e.is_empty() => format!("{text}: {title} ({e})"),
                (false, _) => format!("{text}: {title}"),
                (true, _) => with_extra(text),
            }
        }
        TimelineKind::RefundIssued => with_extra(format!("Refund: {}", money(amount, currency))),
        TimelineKind::ReviewWritten => match amount {
            Some(stars) => format!("Review of {title}: {stars}/5"),
            None => format!("Review of {title}"),
        },
        TimelineKind::FeedbackSent => format!("Site feedback: {title}"),
        TimelineKind::NoteAdded => format!("Note: {title}"),
        TimelineKind::Download if title.is_empty() => "Downloaded a deleted product".to_owned(),
        TimelineKind::Download => format!("Downloaded: {title}"),
    }
}

fn from_row(row: &QueryResult) -> Result<TimelineEntry, CustomersError> {
    let get_text = |column: &str| -> Result<String, CustomersError> {
        row.try_get::<String>("", column)
            .map_err(|e| unexpected("reading a timeline row")(e).into())
    };
    let get_opt = |column: &str| -> Result<Option<String>, CustomersError> {
        row.try_get::<Option<String>>("", column)
            .map_err(|e| unexpected("reading a timeline row")(e).into())
    };
    let kind_name = get_text("kind")?;
    let kind: TimelineKind = kind_name
        .parse()
        .map_err(|e| Unexpected::new(format!("a timeline row of kind {kind_name:?}"), e))?;
    let at: DateTime<Utc> = row
        .try_get("", "at")
        .map_err(unexpected("reading a timeline row's time"))?;
    let amount: Option<i64> = row
        .try_get("", "amount")
        .map_err(unexpected("reading a timeline row's amount"))?;
    let title = get_opt("title")?;
    let currency = get_opt("currency")?;
    let extra = get_opt("extra")?;
    let ref_kind = match get_text("ref_kind")?.as_str() {
        "enquiry" => "enquiry",
        "response" => "response",
        "order" => "order",
        "review" => "review",
        "feedback" => "feedback",
        "product" => "product",
        _ => "note",
    };
    Ok(TimelineEntry {
        kind,
        at,
        id: normal_id(get_text("id")?),
        actor: get_opt("actor")?,
        summary: summary(
            kind,
            title.as_deref(),
            amount,
            currency.as_deref(),
            extra.as_deref(),
        ),
        reference: TimelineRef {
            kind: ref_kind,
            id: normal_id(get_text("ref_id")?),
        },
    })
}

#[async_trait]
impl TimelineReader for SeaTimelineReader {
    async fn read(&self, query: &TimelineQuery) -> Result<Vec<TimelineEntry>, CustomersError> {
        let Some(statement) = timeline_statement(self.db.get_database_backend(), query)? else {
            return Ok(Vec::new());
        };
        let rows = self
            .db
            .query_all_raw(statement)
            .await
            .map_err(unexpected("reading a timeline"))?;
        rows.iter().map(from_row).collect()
    }
}

/// The timeline query for `query` on `backend`, for `EXPLAIN` in tests; `None` when no
/// branch applies.
///
/// # Errors
/// `Unexpected` when the cursor holds an id its kind cannot have.
pub fn timeline_query_statement(
    backend: DbBackend,
    query: &TimelineQuery,
) -> Result<Option<Statement>, CustomersError> {
    timeline_statement(backend, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_two_decimals() {
        assert_eq!(money(Some(4_900), Some("INR")), "49.00 INR");
        assert_eq!(money(Some(5), Some("INR")), "0.05 INR");
    }

    #[test]
    fn long_texts_are_cut_on_one_line() {
        assert_eq!(short("a\nb", 10), "a b");
        assert_eq!(short("abcdef", 3), "abc…");
    }
}
