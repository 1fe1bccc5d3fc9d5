//! Redirect rules of the SEO context.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `redirect_rules`: one rule per source path (unique index, also the lookup and
/// list order), its kind (301, 302, 410), target (none for 410), an editor's note, an
/// optimistic version and who created and last changed it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RedirectRules::Table)
                    .col(uuid(RedirectRules::Id).primary_key())
                    .col(string_len(RedirectRules::Source, 500))
                    .col(small_integer(RedirectRules::Kind))
                    .col(string_len_null(RedirectRules::Target, 2000))
                    .col(text_null(RedirectRules::Note))
                    .col(big_integer(RedirectRules::Version))
                    .col(timestamp_with_time_zone(RedirectRules::CreatedAt))
                    .col(uuid_null(RedirectRules::CreatedBy))
                    .col(timestamp_with_time_zone(RedirectRules::UpdatedAt))
                    .col(uuid_null(RedirectRules::UpdatedBy))
                    .check(Expr::col(RedirectRules::Kind).is_in([301, 302, 410]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_redirect_rules_source")
                    .table(RedirectRules::Table)
                    .col(RedirectRules::Source)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RedirectRules::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RedirectRules {
    Table,
    Id,
    Source,
    Kind,
    Target,
    Note,
    Version,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
}
