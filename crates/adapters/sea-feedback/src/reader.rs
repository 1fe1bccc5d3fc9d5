//! [`FeedbackReader`] over the feedback tables.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_feedback::{
    CustomerFeedback, FeedbackError, FeedbackFilter, FeedbackId, FeedbackKind, FeedbackReader,
    PublicReview, RatingSummary, Review, ReviewBody, ReviewFilter, ReviewId, ReviewStatus,
    ReviewTitle, SiteFeedback, reviewer_display,
};
use nexus_kernel::{Email, Page, PageRequest, UserId};
use nexus_sea_support::{begin_read, unexpected};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{product_rating, product_review, site_feedback};
use crate::rows::{bad, feedback_from_row, rating, review_from_row, statement};

/// Reads feedback and reviews with SeaORM. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaFeedbackReader {
    db: DatabaseConnection,
}

impl SeaFeedbackReader {
    /// A reader over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn page_of<T>(items: Vec<T>, total: u64, request: PageRequest) -> Page<T> {
    Page {
        items,
        total,
        request,
    }
}

#[derive(FromQueryResult)]
struct PublicRow {
    id: Uuid,
    product_id: Uuid,
    rating: i32,
    title: Option<String>,
    body: String,
    published_at: Option<DateTime<Utc>>,
    first_name: String,
    last_name: String,
}

#[derive(FromQueryResult)]
struct CustomerRow {
    kind: String,
    id: Uuid,
    product_id: Option<Uuid>,
    rating: Option<i32>,
    title: Option<String>,
    body: String,
    status: String,
    created_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct Total {
    total: i64,
}

/// What a customer sent or wrote, matched by address: site feedback with that address or
/// from the account with it, and the reviews of that account. Each `$n` once, in order.
const BY_EMAIL_WHERE_FEEDBACK: &str =
    "f.email = $1 OR f.user_id IN (SELECT u.id FROM users u WHERE u.email = $2)";
const BY_EMAIL_WHERE_REVIEW: &str = "r.user_id IN (SELECT u.id FROM users u WHERE u.email = $3)";

#[async_trait]
impl FeedbackReader for SeaFeedbackReader {
    async fn find_feedback(&self, id: FeedbackId) -> Result<Option<SiteFeedback>, FeedbackError> {
        site_feedback::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading site feedback"))?
            .map(feedback_from_row)
            .transpose()
    }

    async fn list_feedback(
        &self,
        filter: FeedbackFilter,
        page: PageRequest,
    ) -> Result<Page<SiteFeedback>, FeedbackError> {
        let mut select = site_feedback::Entity::find();
        if let Some(status) = filter.status {
            select = select.filter(site_feedback::Column::Status.eq(status.as_str()));
        }
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a feedback list"))?;
        let rows = select
            .clone()
            .order_by(site_feedback::Column::CreatedAt, Order::Desc)
            .order_by(site_feedback::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing site feedback"))?;
        let total = select
            .count(&tx)
            .await
            .map_err(unexpected("counting site feedback"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a feedback list"))?;
        let items = rows
            .into_iter()
            .map(feedback_from_row)
            .collect::<Result<_, _>>()?;
        Ok(page_of(items, total, page))
    }

    async fn find_review(&self, id: ReviewId) -> Result<Option<Review>, FeedbackError> {
        product_review::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a review"))?
            .map(review_from_row)
            .transpose()
    }

    async fn find_review_of(
        &self,
        user: UserId,
        product: ProductId,
    ) -> Result<Option<Review>, FeedbackError> {
        product_review::Entity::find()
            .filter(product_review::Column::UserId.eq(user.as_uuid()))
            .filter(product_review::Column::ProductId.eq(product.as_uuid()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a user's review"))?
            .map(review_from_row)
            .transpose()
    }

    async fn list_reviews(
        &self,
        filter: ReviewFilter,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError> {
        let mut select = product_review::Entity::find();
        if let Some(status) = filter.status {
            select = select.filter(product_review::Column::Status.eq(status.as_str()));
        }
        if let Some(product) = filter.product_id {
            select = select.filter(product_review::Column::ProductId.eq(product.as_uuid()));
        }
        reviews_page(&self.db, select, page).await
    }

    async fn reviews_by(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<Review>, FeedbackError> {
        let select = product_review::Entity::find()
            .filter(product_review::Column::UserId.eq(user.as_uuid()));
        reviews_page(&self.db, select, page).await
    }

    async fn public_reviews(
        &self,
        product: ProductId,
        page: PageRequest,
    ) -> Result<Page<PublicReview>, FeedbackError> {
        let published = ReviewStatus::Published.as_str();
        let backend = self.db.get_database_backend();
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a review list"))?;
        let rows = PublicRow::find_by_statement(statement(
            backend,
            "SELECT r.id, r.product_id, r.rating, r.title, r.body, r.published_at, \
             u.first_name, u.last_name \
             FROM product_reviews r JOIN users u ON u.id = r.user_id \
             WHERE r.product_id = $1 AND r.status = $2 \
             ORDER BY r.published_at DESC, r.id DESC LIMIT $3 OFFSET $4",
            vec![
                product.as_uuid().into(),
                published.into(),
                i64::from(page.limit()).into(),
                i64::try_from(page.offset()).unwrap_or(i64::MAX).into(),
            ],
        ))
        .all(&tx)
        .await
        .map_err(unexpected("listing published reviews"))?;
        let total = product_review::Entity::find()
            .filter(product_review::Column::ProductId.eq(product.as_uuid()))
            .filter(product_review::Column::Status.eq(published))
            .count(&tx)
            .await
            .map_err(unexpected("counting published reviews"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing a review list"))?;
        let items = rows
            .into_iter()
            .map(|row| {
                const T: &str = "product_reviews";
                Ok(PublicReview {
                    id: ReviewId::from_uuid(row.id),
                    product_id: ProductId::from_uuid(row.product_id),
                    rating: rating(i64::from(row.rating), T, row.id)?,
                    title: row
                        .title
                        .as_deref()
                        .map(ReviewTitle::parse)
                        .transpose()
                        .map_err(bad(T, row.id, "title"))?,
                    body: ReviewBody::parse(&row.body).map_err(bad(T, row.id, "body"))?,
                    reviewer: reviewer_display(&row.first_name, &row.last_name),
                    published_at: row.published_at.unwrap_or_default(),
                })
            })
            .collect::<Result<_, FeedbackError>>()?;
        Ok(page_of(items, total, page))
    }

    async fn ratings(
        &self,
        products: &[ProductId],
    ) -> Result<Vec<(ProductId, RatingSummary)>, FeedbackError> {
        let rows = product_rating::Entity::find()
            .filter(product_rating::Column::ProductId.is_in(products.iter().map(|p| p.as_uuid())))
            .all(&self.db)
            .await
            .map_err(unexpected("loading product ratings"))?;
        Ok(rows
            .into_iter()
            .filter(|r| r.review_count > 0)
            .map(|r| {
                (
                    ProductId::from_uuid(r.product_id),
                    RatingSummary {
                        count: u64::try_from(r.review_count).unwrap_or_default(),
                        sum: u64::try_from(r.rating_sum).unwrap_or_default(),
                    },
                )
            })
            .collect())
    }

    async fn by_email(
        &self,
        email: &Email,
        page: PageRequest,
    ) -> Result<Page<CustomerFeedback>, FeedbackError> {
        let address = email.as_str();
        said(
            &self.db,
            BY_EMAIL_WHERE_FEEDBACK,
            BY_EMAIL_WHERE_REVIEW,
            vec![address.into(), address.into(), address.into()],
            page,
        )
        .await
    }

    async fn written_by(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<CustomerFeedback>, FeedbackError> {
        said(
            &self.db,
            "f.user_id = $1",
            "r.user_id = $2",
            vec![user.as_uuid().into(), user.as_uuid().into()],
            page,
        )
        .await
    }
}

/// Site feedback and reviews matching the two conditions, newest first, in one list:
/// `args` are the conditions' parameters (`$1`..`$n`); paging takes the two after them.
async fn said(
    db: &DatabaseConnection,
    where_feedback: &str,
    where_review: &str,
    args: Vec<sea_orm::Value>,
    page: PageRequest,
) -> Result<Page<CustomerFeedback>, FeedbackError> {
    let backend = db.get_database_backend();
    let limit_at = args.len() + 1;
    let offset_at = args.len() + 2;
    let list_sql = format!(
        "SELECT kind, id, product_id, rating, title, body, status, created_at FROM ( \
         SELECT 'SITE' AS kind, f.id AS id, NULL AS product_id, f.rating AS rating, \
         NULL AS title, f.message AS body, f.status AS status, f.created_at AS created_at \
         FROM site_feedback f WHERE {where_feedback} \
         UNION ALL \
         SELECT 'REVIEW', r.id, r.product_id, r.rating, r.title, r.body, r.status, r.created_at \
         FROM product_reviews r WHERE {where_review} \
         ) said ORDER BY created_at DESC, id DESC LIMIT ${limit_at} OFFSET ${offset_at}"
    );
    let count_sql = format!(
        "SELECT (SELECT COUNT(*) FROM site_feedback f WHERE {where_feedback}) \
         + (SELECT COUNT(*) FROM product_reviews r WHERE {where_review}) AS total"
    );
    let mut list_args = args.clone();
    list_args.push(i64::from(page.limit()).into());
    list_args.push(i64::try_from(page.offset()).unwrap_or(i64::MAX).into());
    let tx = begin_read(db)
        .await
        .map_err(unexpected("starting a customer feedback list"))?;
    let rows = CustomerRow::find_by_statement(statement(backend, &list_sql, list_args))
        .all(&tx)
        .await
        .map_err(unexpected("listing a customer's feedback"))?;
    let total = Total::find_by_statement(statement(backend, &count_sql, args))
        .one(&tx)
        .await
        .map_err(unexpected("counting a customer's feedback"))?
        .map_or(0, |t| t.total);
    tx.commit()
        .await
        .map_err(unexpected("finishing a customer feedback list"))?;
    let items = rows
        .into_iter()
        .map(|row| {
            let table = if row.kind == "SITE" {
                "site_feedback"
            } else {
                "product_reviews"
            };
            Ok(CustomerFeedback {
                kind: if row.kind == "SITE" {
                    FeedbackKind::Site
                } else {
                    FeedbackKind::Review
                },
                id: row.id,
                product_id: row.product_id.map(ProductId::from_uuid),
                rating: row
                    .rating
                    .map(|r| rating(i64::from(r), table, row.id))
                    .transpose()?,
                title: row.title,
                text: row.body,
                status: row.status,
                created_at: row.created_at,
            })
        })
        .collect::<Result<_, FeedbackError>>()?;
    Ok(page_of(
        items,
        u64::try_from(total).unwrap_or_default(),
        page,
    ))
}

async fn reviews_page(
    db: &DatabaseConnection,
    select: sea_orm::Select<product_review::Entity>,
    page: PageRequest,
) -> Result<Page<Review>, FeedbackError> {
    let tx = begin_read(db)
        .await
        .map_err(unexpected("starting a review list"))?;
    let rows = select
        .clone()
        .order_by(product_review::Column::CreatedAt, Order::Desc)
        .order_by(product_review::Column::Id, Order::Desc)
        .offset(page.offset())
        .limit(u64::from(page.limit()))
        .all(&tx)
        .await
        .map_err(unexpected("listing reviews"))?;
    let total = select
        .count(&tx)
        .await
        .map_err(unexpected("counting reviews"))?;
    tx.commit()
        .await
        .map_err(unexpected("finishing a review list"))?;
    let items = rows
        .into_iter()
        .map(review_from_row)
        .collect::<Result<_, _>>()?;
    Ok(page_of(items, total, page))
}
