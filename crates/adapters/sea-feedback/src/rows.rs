//! Rows to domain values and back, through the domain's constructors: a row that breaks a
//! rule is `Unexpected`.

use nexus_catalog::ProductId;
use nexus_feedback::{
    FeedbackError, FeedbackId, FeedbackMessage, FeedbackStatus, PagePath, Rating, Review,
    ReviewBody, ReviewId, ReviewStatus, ReviewTitle, SenderName, SiteFeedback,
};
use nexus_kernel::{Email, UserId};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::entities::{product_review, site_feedback};

/// A row value the domain refuses: `Unexpected`, naming the table, row and field.
pub(crate) fn bad<E>(
    table: &'static str,
    id: uuid::Uuid,
    field: &'static str,
) -> impl FnOnce(E) -> FeedbackError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row(table, id, field)
}

pub(crate) fn rating(
    raw: i64,
    table: &'static str,
    id: uuid::Uuid,
) -> Result<Rating, FeedbackError> {
    Rating::new(raw).map_err(bad(table, id, "rating"))
}

pub(crate) fn feedback_from_row(row: site_feedback::Model) -> Result<SiteFeedback, FeedbackError> {
    const T: &str = "site_feedback";
    let id = row.id;
    Ok(SiteFeedback {
        id: FeedbackId::from_uuid(id),
        message: FeedbackMessage::parse(&row.message).map_err(bad(T, id, "message"))?,
        name: row
            .name
            .as_deref()
            .map(SenderName::parse)
            .transpose()
            .map_err(bad(T, id, "name"))?,
        email: row
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(bad(T, id, "email"))?,
        page: row
            .page
            .as_deref()
            .map(PagePath::parse)
            .transpose()
            .map_err(bad(T, id, "page"))?,
        rating: row
            .rating
            .map(|r| rating(i64::from(r), T, id))
            .transpose()?,
        user_id: row.user_id.map(UserId::from_uuid),
        status: row
            .status
            .parse::<FeedbackStatus>()
            .map_err(bad(T, id, "status"))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

pub(crate) fn feedback_to_row(f: &SiteFeedback) -> site_feedback::Model {
    site_feedback::Model {
        id: f.id.as_uuid(),
        message: f.message.as_str().to_owned(),
        name: f.name.as_ref().map(|n| n.as_str().to_owned()),
        email: f.email.as_ref().map(|e| e.as_str().to_owned()),
        page: f.page.as_ref().map(|p| p.as_str().to_owned()),
        rating: f.rating.map(|r| i32::from(r.get())),
        user_id: f.user_id.map(|u| u.as_uuid()),
        status: f.status.as_str().to_owned(),
        created_at: f.created_at,
        updated_at: f.updated_at,
        version: f.version,
    }
}

pub(crate) fn review_from_row(row: product_review::Model) -> Result<Review, FeedbackError> {
    const T: &str = "product_reviews";
    let id = row.id;
    Ok(Review {
        id: ReviewId::from_uuid(id),
        product_id: ProductId::from_uuid(row.product_id),
        user_id: UserId::from_uuid(row.user_id),
        rating: rating(i64::from(row.rating), T, id)?,
        title: row
            .title
            .as_deref()
            .map(ReviewTitle::parse)
            .transpose()
            .map_err(bad(T, id, "title"))?,
        body: ReviewBody::parse(&row.body).map_err(bad(T, id, "body"))?,
        status: row
            .status
            .parse::<ReviewStatus>()
            .map_err(bad(T, id, "status"))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        published_at: row.published_at,
        version: row.version,
    })
}

pub(crate) fn review_to_row(r: &Review) -> product_review::Model {
    product_review::Model {
        id: r.id.as_uuid(),
        product_id: r.product_id.as_uuid(),
        user_id: r.user_id.as_uuid(),
        rating: i32::from(r.rating.get()),
        title: r.title.as_ref().map(|t| t.as_str().to_owned()),
        body: r.body.as_str().to_owned(),
        status: r.status.as_str().to_owned(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        published_at: r.published_at,
        version: r.version,
    }
}

/// A statement written with PostgreSQL's `$1, $2, ...` placeholders, each used once and in
/// order, turned into `?` for SQLite.
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_owned()
    } else {
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('?');
            } else {
                out.push(c);
            }
        }
        out
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The backend of `conn`.
pub(crate) fn backend<C: ConnectionTrait>(conn: &C) -> DbBackend {
    conn.get_database_backend()
}
