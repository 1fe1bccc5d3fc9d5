//! The writes of a unit of work, on its transaction.

use nexus_catalog::ProductId;
use nexus_feedback::{
    FeedbackError, ModerationAction, ModerationEntry, Review, ReviewId, SiteFeedback, Subject,
};
use nexus_kernel::AuditRecord;
use nexus_sea_support::{DbError, actor_with_role, append_audit, unexpected};
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter,
};

use crate::entities::{feedback_moderation, product_review, site_feedback};
use crate::rows::{backend, feedback_to_row, review_to_row, statement};

pub(crate) async fn insert_feedback<C: ConnectionTrait>(
    conn: &C,
    f: &SiteFeedback,
) -> Result<(), FeedbackError> {
    site_feedback::Entity::insert(feedback_to_row(f).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(unexpected("inserting site feedback"))?;
    Ok(())
}

pub(crate) async fn update_feedback<C: ConnectionTrait>(
    conn: &C,
    f: &SiteFeedback,
    expected_version: i64,
) -> Result<(), FeedbackError> {
    let mut changes = feedback_to_row(f).into_active_model().reset_all();
    changes.id = NotSet;
    changes.created_at = NotSet;
    let updated = site_feedback::Entity::update_many()
        .set(changes)
        .filter(site_feedback::Column::Id.eq(f.id.as_uuid()))
        .filter(site_feedback::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(unexpected("updating site feedback"))?;
    if updated.rows_affected == 0 {
        return Err(FeedbackError::Conflict);
    }
    Ok(())
}

fn review_write_error(context: &'static str) -> impl FnOnce(DbErr) -> FeedbackError {
    move |err| match DbError::classify(&err) {
        // A racing first review of the same product by the same user.
        DbError::UniqueViolation(_) => FeedbackError::Conflict,
        _ => unexpected(context)(err).into(),
    }
}

pub(crate) async fn insert_review<C: ConnectionTrait>(
    conn: &C,
    r: &Review,
) -> Result<(), FeedbackError> {
    product_review::Entity::insert(review_to_row(r).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(review_write_error("inserting a review"))?;
    Ok(())
}

pub(crate) async fn update_review<C: ConnectionTrait>(
    conn: &C,
    r: &Review,
    expected_version: i64,
) -> Result<(), FeedbackError> {
    let mut changes = review_to_row(r).into_active_model().reset_all();
    changes.id = NotSet;
    changes.product_id = NotSet;
    changes.user_id = NotSet;
    changes.created_at = NotSet;
    let updated = product_review::Entity::update_many()
        .set(changes)
        .filter(product_review::Column::Id.eq(r.id.as_uuid()))
        .filter(product_review::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(review_write_error("updating a review"))?;
    if updated.rows_affected == 0 {
        return Err(FeedbackError::Conflict);
    }
    Ok(())
}

pub(crate) async fn delete_review<C: ConnectionTrait>(
    conn: &C,
    id: ReviewId,
    expected_version: i64,
) -> Result<(), FeedbackError> {
    let deleted = product_review::Entity::delete_many()
        .filter(product_review::Column::Id.eq(id.as_uuid()))
        .filter(product_review::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(unexpected("deleting a review"))?;
    if deleted.rows_affected == 0 {
        return Err(FeedbackError::Conflict);
    }
    Ok(())
}

/// One statement, no read: concurrent adjustments of one product add up exactly.
pub(crate) async fn adjust_rating<C: ConnectionTrait>(
    conn: &C,
    product: ProductId,
    count: i64,
    sum: i64,
) -> Result<(), FeedbackError> {
    let sql = "INSERT INTO product_ratings (product_id, review_count, rating_sum) \
               VALUES ($1, $2, $3) \
               ON CONFLICT (product_id) DO UPDATE SET \
               review_count = product_ratings.review_count + excluded.review_count, \
               rating_sum = product_ratings.rating_sum + excluded.rating_sum";
    conn.execute_raw(statement(
        backend(conn),
        sql,
        vec![product.as_uuid().into(), count.into(), sum.into()],
    ))
    .await
    .map_err(unexpected("adjusting a product rating"))?;
    Ok(())
}

pub(crate) async fn add_moderation<C: ConnectionTrait>(
    conn: &C,
    entry: &ModerationEntry,
) -> Result<(), FeedbackError> {
    let (kind, id) = match entry.subject {
        Subject::Feedback(id) => ("FEEDBACK", id.as_uuid()),
        Subject::Review(id) => ("REVIEW", id.as_uuid()),
    };
    feedback_moderation::ActiveModel {
        id: sea_orm::ActiveValue::Set(uuid::Uuid::now_v7()),
        subject_kind: sea_orm::ActiveValue::Set(kind.to_owned()),
        subject_id: sea_orm::ActiveValue::Set(id),
        action: sea_orm::ActiveValue::Set(entry.action.as_str().to_owned()),
        reason: sea_orm::ActiveValue::Set(entry.reason.as_ref().map(|r| r.as_str().to_owned())),
        moderator_id: sea_orm::ActiveValue::Set(Some(entry.moderator.as_uuid())),
        at: sea_orm::ActiveValue::Set(entry.at),
    }
    .insert(conn)
    .await
    .map_err(unexpected("recording a moderation"))?;
    // Moderation is a staff action: it goes to the audit log too, in the same transaction.
    let (target_kind, context) = match entry.subject {
        Subject::Feedback(_) => ("feedback", "feedback"),
        Subject::Review(_) => ("review", "reviews"),
    };
    let verb = match entry.action {
        ModerationAction::Publish => "published",
        ModerationAction::Hide => "hidden",
    };
    let record = AuditRecord {
        id: uuid::Uuid::now_v7(),
        actor: actor_with_role(conn, entry.moderator).await?,
        action: format!("{context}.{verb}"),
        target_kind: target_kind.to_owned(),
        target_id: id.to_string(),
        summary: serde_json::json!({
            "reason": entry.reason.as_ref().map(|r| r.as_str()),
        }),
        occurred_at: entry.at,
    };
    append_audit(conn, &[record], None).await?;
    Ok(())
}

pub(crate) async fn anonymise_feedback_of<C: ConnectionTrait>(
    conn: &C,
    user: nexus_kernel::UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, FeedbackError> {
    let updated = site_feedback::Entity::update_many()
        .col_expr(
            site_feedback::Column::Name,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            site_feedback::Column::Email,
            Expr::value(Option::<String>::None),
        )
        .col_expr(site_feedback::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            site_feedback::Column::Version,
            Expr::col(site_feedback::Column::Version).add(1),
        )
        .filter(site_feedback::Column::UserId.eq(user.as_uuid()))
        .filter(
            site_feedback::Column::Name
                .is_not_null()
                .or(site_feedback::Column::Email.is_not_null()),
        )
        .exec(conn)
        .await
        .map_err(unexpected("anonymising an erased account's site feedback"))?;
    Ok(updated.rows_affected)
}
