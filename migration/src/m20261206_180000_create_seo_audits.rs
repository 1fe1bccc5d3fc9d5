//! The stored SEO audit of each public item (products, pages): what the rules found, its
//! score and the text the duplicate rules compare.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `seo_audits`: one row per audited public item, keyed by its kind and id, with the
/// normalized title and description (looked up by the duplicate rules), its path (looked up by
/// the broken-link rule), its score and the count of findings per severity (summed by the
/// site report) and the findings as JSON.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SeoAudits::Table)
                    .col(text(SeoAudits::Kind))
                    .col(uuid(SeoAudits::ItemId))
                    .col(text(SeoAudits::Path))
                    .col(text(SeoAudits::Slug))
                    .col(text(SeoAudits::Title))
                    .col(text(SeoAudits::TitleKey))
                    .col(text_null(SeoAudits::DescriptionKey))
                    .col(integer(SeoAudits::Score))
                    .col(integer(SeoAudits::Errors))
                    .col(integer(SeoAudits::Warnings))
                    .col(integer(SeoAudits::Notices))
                    .col(text(SeoAudits::Findings))
                    .col(timestamp_with_time_zone(SeoAudits::AuditedAt))
                    .primary_key(Index::create().col(SeoAudits::Kind).col(SeoAudits::ItemId))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            (
                "ix_seo_audits_score_path",
                vec![SeoAudits::Score, SeoAudits::Path, SeoAudits::ItemId],
            ),
            ("ix_seo_audits_title_key", vec![SeoAudits::TitleKey]),
            (
                "ix_seo_audits_description_key",
                vec![SeoAudits::DescriptionKey],
            ),
            ("ix_seo_audits_path", vec![SeoAudits::Path]),
            ("ix_seo_audits_audited_at", vec![SeoAudits::AuditedAt]),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create();
            index.name(name).table(SeoAudits::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SeoAudits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SeoAudits {
    Table,
    Kind,
    ItemId,
    Path,
    Slug,
    Title,
    TitleKey,
    DescriptionKey,
    Score,
    Errors,
    Warnings,
    Notices,
    Findings,
    AuditedAt,
}
