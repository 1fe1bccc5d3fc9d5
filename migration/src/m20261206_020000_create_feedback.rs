//! Site feedback, product reviews, their moderation history and the product rating
//! summaries.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `site_feedback`, `product_reviews`, `feedback_moderations` and
/// `product_ratings`, with the indexes of their lists and of the CRM's match by e-mail.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for col in cols {
        idx.col(Alias::new(*col));
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SiteFeedback::Table)
                    .col(uuid(SiteFeedback::Id).primary_key())
                    .col(text(SiteFeedback::Message))
                    .col(string_len_null(SiteFeedback::Name, 100))
                    // Lower-cased (the domain's Email); matched by the CRM.
                    .col(string_len_null(SiteFeedback::Email, 254))
                    .col(string_len_null(SiteFeedback::Page, 500))
                    .col(integer_null(SiteFeedback::Rating))
                    .col(uuid_null(SiteFeedback::UserId))
                    .col(string_len(SiteFeedback::Status, 16))
                    .col(timestamp_with_time_zone(SiteFeedback::CreatedAt))
                    .col(timestamp_with_time_zone(SiteFeedback::UpdatedAt))
                    .col(big_integer(SiteFeedback::Version))
                    .foreign_key(
                        // Feedback outlives its sender's account.
                        ForeignKey::create()
                            .name("fk_site_feedback_user_id")
                            .from(SiteFeedback::Table, SiteFeedback::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // Moderation queue and the public list: by status, newest first.
        manager
            .create_index(index(
                "ix_site_feedback_status_created_at_id",
                SiteFeedback::Table,
                &["status", "created_at", "id"],
            ))
            .await?;
        // The unfiltered moderation queue, newest first.
        manager
            .create_index(index(
                "ix_site_feedback_created_at_id",
                SiteFeedback::Table,
                &["created_at", "id"],
            ))
            .await?;
        // The CRM's match by e-mail, and by the sender's account.
        manager
            .create_index(index(
                "ix_site_feedback_email_created_at",
                SiteFeedback::Table,
                &["email", "created_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_site_feedback_user_id",
                SiteFeedback::Table,
                &["user_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductReviews::Table)
                    .col(uuid(ProductReviews::Id).primary_key())
                    .col(uuid(ProductReviews::ProductId))
                    .col(uuid(ProductReviews::UserId))
                    .col(integer(ProductReviews::Rating))
                    .col(string_len_null(ProductReviews::Title, 120))
                    .col(text(ProductReviews::Body))
                    .col(string_len(ProductReviews::Status, 16))
                    .col(timestamp_with_time_zone(ProductReviews::CreatedAt))
                    .col(timestamp_with_time_zone(ProductReviews::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ProductReviews::PublishedAt))
                    .col(big_integer(ProductReviews::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_product_reviews_product_id")
                            .from(ProductReviews::Table, ProductReviews::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_product_reviews_user_id")
                            .from(ProductReviews::Table, ProductReviews::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One review per product per user; also the user's own list, newest first.
        manager
            .create_index(
                index(
                    "ux_product_reviews_user_id_product_id",
                    ProductReviews::Table,
                    &["user_id", "product_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_product_reviews_user_id_created_at",
                ProductReviews::Table,
                &["user_id", "created_at"],
            ))
            .await?;
        // The public list of a product's published reviews.
        manager
            .create_index(index(
                "ix_product_reviews_product_id_status_published_at",
                ProductReviews::Table,
                &["product_id", "status", "published_at"],
            ))
            .await?;
        // The moderation queue, unfiltered or by status.
        manager
            .create_index(index(
                "ix_product_reviews_created_at_id",
                ProductReviews::Table,
                &["created_at", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_product_reviews_status_created_at",
                ProductReviews::Table,
                &["status", "created_at"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FeedbackModerations::Table)
                    .col(uuid(FeedbackModerations::Id).primary_key())
                    // `FEEDBACK` or `REVIEW`; no foreign key, so the history outlives a
                    // deleted review.
                    .col(string_len(FeedbackModerations::SubjectKind, 16))
                    .col(uuid(FeedbackModerations::SubjectId))
                    .col(string_len(FeedbackModerations::Action, 16))
                    .col(text_null(FeedbackModerations::Reason))
                    .col(uuid_null(FeedbackModerations::ModeratorId))
                    .col(timestamp_with_time_zone(FeedbackModerations::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_feedback_moderations_moderator_id")
                            .from(FeedbackModerations::Table, FeedbackModerations::ModeratorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_feedback_moderations_subject",
                FeedbackModerations::Table,
                &["subject_kind", "subject_id", "at"],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_feedback_moderations_moderator_id",
                FeedbackModerations::Table,
                &["moderator_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductRatings::Table)
                    .col(uuid(ProductRatings::ProductId).primary_key())
                    .col(big_integer(ProductRatings::ReviewCount).default(0))
                    .col(big_integer(ProductRatings::RatingSum).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_product_ratings_product_id")
                            .from(ProductRatings::Table, ProductRatings::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProductRatings::Table.into_iden(),
            FeedbackModerations::Table.into_iden(),
            ProductReviews::Table.into_iden(),
            SiteFeedback::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SiteFeedback {
    Table,
    Id,
    Message,
    Name,
    Email,
    Page,
    Rating,
    UserId,
    Status,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ProductReviews {
    Table,
    Id,
    ProductId,
    UserId,
    Rating,
    Title,
    Body,
    Status,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
    Version,
}

#[derive(DeriveIden)]
enum FeedbackModerations {
    Table,
    Id,
    SubjectKind,
    SubjectId,
    Action,
    Reason,
    ModeratorId,
    At,
}

#[derive(DeriveIden)]
enum ProductRatings {
    Table,
    ProductId,
    ReviewCount,
    RatingSum,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}
