//! CMS pages of the content context: the pages, every saved version of each, and the
//! content audit trail.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `pages` (the draft as JSON plus the columns that are looked up: key, locale and
/// slug of the draft and of the published snapshot, title, status, schedule), `page_versions`
/// (one row per write, removed with their page) and `content_audit` (kept after a page is
/// deleted, so no foreign key), with the indexes of their lookups and lists.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Pages::Table)
                    .col(uuid(Pages::Id).primary_key())
                    .col(text(Pages::Key))
                    .col(text(Pages::Slug))
                    .col(text(Pages::Locale))
                    .col(text(Pages::Title))
                    .col(text(Pages::Content))
                    .col(text(Pages::Status))
                    .col(timestamp_with_time_zone_null(Pages::PublishAt))
                    .col(timestamp_with_time_zone_null(Pages::UnpublishAt))
                    .col(text_null(Pages::PublishedSlug))
                    .col(text_null(Pages::PublishedLocale))
                    .col(text_null(Pages::PublishedContent))
                    .col(big_integer_null(Pages::PublishedVersion))
                    .col(timestamp_with_time_zone_null(Pages::PublishedAt))
                    .col(big_integer(Pages::Version))
                    .col(uuid(Pages::CreatedBy))
                    .col(timestamp_with_time_zone(Pages::CreatedAt))
                    .col(timestamp_with_time_zone(Pages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_pages_created_by")
                            .from(Pages::Table, Pages::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes = [
            ("ux_pages_key", vec![Pages::Key], true),
            (
                "ux_pages_locale_slug",
                vec![Pages::Locale, Pages::Slug],
                true,
            ),
            // NULLs are distinct on both backends: only published pages take part.
            (
                "ux_pages_published_locale_slug",
                vec![Pages::PublishedLocale, Pages::PublishedSlug],
                true,
            ),
            (
                "ix_pages_updated_at",
                vec![Pages::UpdatedAt, Pages::Id],
                false,
            ),
            (
                "ix_pages_status_updated_at",
                vec![Pages::Status, Pages::UpdatedAt],
                false,
            ),
            (
                "ix_pages_status_publish_at",
                vec![Pages::Status, Pages::PublishAt],
                false,
            ),
            (
                "ix_pages_status_unpublish_at",
                vec![Pages::Status, Pages::UnpublishAt],
                false,
            ),
        ];
        for (name, cols, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table(Pages::Table);
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
                    .table(PageVersions::Table)
                    .col(uuid(PageVersions::PageId))
                    .col(big_integer(PageVersions::Number))
                    .col(text(PageVersions::Content))
                    .col(uuid_null(PageVersions::Author))
                    .col(timestamp_with_time_zone(PageVersions::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(PageVersions::PageId)
                            .col(PageVersions::Number),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_page_versions_page_id")
                            .from(PageVersions::Table, PageVersions::PageId)
                            .to(Pages::Table, Pages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContentAudit::Table)
                    .col(uuid(ContentAudit::Id).primary_key())
                    .col(timestamp_with_time_zone(ContentAudit::At))
                    .col(uuid_null(ContentAudit::ActorId))
                    .col(text(ContentAudit::EntityKind))
                    .col(uuid(ContentAudit::EntityId))
                    .col(text(ContentAudit::Action))
                    .col(text(ContentAudit::Changes))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_content_audit_entity")
                    .table(ContentAudit::Table)
                    .col(ContentAudit::EntityKind)
                    .col(ContentAudit::EntityId)
                    .col(ContentAudit::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_content_audit_at")
                    .table(ContentAudit::Table)
                    .col(ContentAudit::At)
                    .col(ContentAudit::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContentAudit::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PageVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Pages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Pages {
    Table,
    Id,
    Key,
    Slug,
    Locale,
    Title,
    Content,
    Status,
    PublishAt,
    UnpublishAt,
    PublishedSlug,
    PublishedLocale,
    PublishedContent,
    PublishedVersion,
    PublishedAt,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PageVersions {
    Table,
    PageId,
    Number,
    Content,
    Author,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ContentAudit {
    Table,
    Id,
    At,
    ActorId,
    EntityKind,
    EntityId,
    Action,
    Changes,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
