//! Blog posts of the content context, their tags and their old slugs.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `posts` (Markdown body, excerpt, tags as JSON, author a team member, cover image,
/// status and schedule), `post_tags` (one row per tag, what the tag filter reads) and
/// `post_slug_history` (old slugs, each answering with a redirect), with the indexes of the
/// public list (status, last publication), the staff list, the scheduler and the tag filter.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(uuid(Posts::Id).primary_key())
                    .col(text(Posts::Slug))
                    .col(text(Posts::Title))
                    .col(text(Posts::Body))
                    .col(text(Posts::Excerpt))
                    .col(text(Posts::Tags))
                    .col(uuid(Posts::AuthorId))
                    .col(text_null(Posts::CoverKey))
                    .col(text_null(Posts::CoverContentType))
                    .col(big_integer_null(Posts::CoverSize))
                    .col(text(Posts::Status))
                    .col(timestamp_with_time_zone_null(Posts::PublishAt))
                    .col(timestamp_with_time_zone_null(Posts::PublishedAt))
                    .col(big_integer(Posts::Version))
                    .col(uuid(Posts::CreatedBy))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone(Posts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_author_id")
                            .from(Posts::Table, Posts::AuthorId)
                            .to(TeamMembers::Table, TeamMembers::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_created_by")
                            .from(Posts::Table, Posts::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes = [
            ("ux_posts_slug", vec![Posts::Slug], true),
            (
                "ix_posts_status_published_at",
                vec![Posts::Status, Posts::PublishedAt, Posts::Id],
                false,
            ),
            (
                "ix_posts_updated_at",
                vec![Posts::UpdatedAt, Posts::Id],
                false,
            ),
            (
                "ix_posts_status_publish_at",
                vec![Posts::Status, Posts::PublishAt],
                false,
            ),
            ("ix_posts_author_id", vec![Posts::AuthorId], false),
        ];
        for (name, cols, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table(Posts::Table);
            for c in cols {
                index.col(c);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .col(uuid(PostTags::PostId))
                    .col(text(PostTags::Tag))
                    .primary_key(Index::create().col(PostTags::PostId).col(PostTags::Tag))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_tags_post_id")
                            .from(PostTags::Table, PostTags::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_post_tags_tag")
                    .table(PostTags::Table)
                    .col(PostTags::Tag)
                    .col(PostTags::PostId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PostSlugHistory::Table)
                    .col(text(PostSlugHistory::Slug).primary_key())
                    .col(uuid(PostSlugHistory::PostId))
                    .col(timestamp_with_time_zone(PostSlugHistory::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_post_slug_history_post_id")
                            .from(PostSlugHistory::Table, PostSlugHistory::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_post_slug_history_post_id")
                    .table(PostSlugHistory::Table)
                    .col(PostSlugHistory::PostId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PostSlugHistory::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PostTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Posts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    Slug,
    Title,
    Body,
    Excerpt,
    Tags,
    AuthorId,
    CoverKey,
    CoverContentType,
    CoverSize,
    Status,
    PublishAt,
    PublishedAt,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PostTags {
    Table,
    PostId,
    Tag,
}

#[derive(DeriveIden)]
enum PostSlugHistory {
    Table,
    Slug,
    PostId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
