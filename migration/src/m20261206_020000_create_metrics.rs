//! Privacy-first page metrics: raw events, their daily roll-ups, the per-day visitor dedup
//! set and the daily salts. No table has a column for an IP address or a user agent.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates the metric tables and their indexes.
///
/// Days are `YYYY-MM-DD` text (UTC), which sorts and compares as dates on every backend.
/// Every roll-up table's primary key starts with the day, so the staff reports' range scans
/// are served by it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MetricEvents::Table)
                    .col(uuid(MetricEvents::Id).primary_key())
                    .col(string_len(MetricEvents::VisitorHash, 64))
                    .col(string_len(MetricEvents::Day, 10))
                    .col(string_len(MetricEvents::Kind, 10))
                    .col(string_len_null(MetricEvents::Name, 40))
                    .col(string_len(MetricEvents::Path, 500))
                    .col(string_len_null(MetricEvents::ReferrerHost, 255))
                    .col(string_len_null(MetricEvents::UtmSource, 100))
                    .col(string_len_null(MetricEvents::UtmMedium, 100))
                    .col(string_len_null(MetricEvents::UtmCampaign, 100))
                    .col(string_len_null(MetricEvents::UtmTerm, 100))
                    .col(string_len_null(MetricEvents::UtmContent, 100))
                    .col(timestamp_with_time_zone(MetricEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricDailyPaths::Table)
                    .col(string_len(MetricDailyPaths::Day, 10))
                    .col(string_len(MetricDailyPaths::Path, 500))
                    .col(big_integer(MetricDailyPaths::Views))
                    .col(big_integer(MetricDailyPaths::Visitors))
                    .primary_key(
                        Index::create()
                            .name("pk_metric_daily_paths")
                            .col(MetricDailyPaths::Day)
                            .col(MetricDailyPaths::Path),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricDailyReferrers::Table)
                    .col(string_len(MetricDailyReferrers::Day, 10))
                    .col(string_len(MetricDailyReferrers::ReferrerHost, 255))
                    .col(big_integer(MetricDailyReferrers::Views))
                    .primary_key(
                        Index::create()
                            .name("pk_metric_daily_referrers")
                            .col(MetricDailyReferrers::Day)
                            .col(MetricDailyReferrers::ReferrerHost),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricDailyEvents::Table)
                    .col(string_len(MetricDailyEvents::Day, 10))
                    .col(string_len(MetricDailyEvents::Name, 40))
                    .col(big_integer(MetricDailyEvents::Count))
                    .col(big_integer(MetricDailyEvents::Visitors))
                    .primary_key(
                        Index::create()
                            .name("pk_metric_daily_events")
                            .col(MetricDailyEvents::Day)
                            .col(MetricDailyEvents::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricDailyUtm::Table)
                    .col(string_len(MetricDailyUtm::Day, 10))
                    .col(string_len(MetricDailyUtm::Source, 100))
                    .col(string_len(MetricDailyUtm::Medium, 100))
                    .col(string_len(MetricDailyUtm::Campaign, 100))
                    .col(big_integer(MetricDailyUtm::Views))
                    .primary_key(
                        Index::create()
                            .name("pk_metric_daily_utm")
                            .col(MetricDailyUtm::Day)
                            .col(MetricDailyUtm::Source)
                            .col(MetricDailyUtm::Medium)
                            .col(MetricDailyUtm::Campaign),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricDailyTotals::Table)
                    .col(string_len(MetricDailyTotals::Day, 10).primary_key())
                    .col(big_integer(MetricDailyTotals::Views))
                    .col(big_integer(MetricDailyTotals::Visitors))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricVisitors::Table)
                    .col(string_len(MetricVisitors::Day, 10))
                    .col(string_len(MetricVisitors::Scope, 10))
                    .col(string_len(MetricVisitors::Key, 500))
                    .col(string_len(MetricVisitors::VisitorHash, 64))
                    .primary_key(
                        Index::create()
                            .name("pk_metric_visitors")
                            .col(MetricVisitors::Day)
                            .col(MetricVisitors::Scope)
                            .col(MetricVisitors::Key)
                            .col(MetricVisitors::VisitorHash),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MetricSalts::Table)
                    .col(string_len(MetricSalts::Day, 10).primary_key())
                    .col(string_len(MetricSalts::Salt, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MetricSalts::Table.into_iden(),
            MetricVisitors::Table.into_iden(),
            MetricDailyTotals::Table.into_iden(),
            MetricDailyUtm::Table.into_iden(),
            MetricDailyEvents::Table.into_iden(),
            MetricDailyReferrers::Table.into_iden(),
            MetricDailyPaths::Table.into_iden(),
            MetricEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MetricEvents {
    Table,
    Id,
    VisitorHash,
    Day,
    Kind,
    Name,
    Path,
    ReferrerHost,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MetricDailyPaths {
    Table,
    Day,
    Path,
    Views,
    Visitors,
}

#[derive(DeriveIden)]
enum MetricDailyReferrers {
    Table,
    Day,
    ReferrerHost,
    Views,
}

#[derive(DeriveIden)]
enum MetricDailyEvents {
    Table,
    Day,
    Name,
    Count,
    Visitors,
}

#[derive(DeriveIden)]
enum MetricDailyUtm {
    Table,
    Day,
    Source,
    Medium,
    Campaign,
    Views,
}

#[derive(DeriveIden)]
enum MetricDailyTotals {
    Table,
    Day,
    Views,
    Visitors,
}

#[derive(DeriveIden)]
enum MetricVisitors {
    Table,
    Day,
    Scope,
    Key,
    VisitorHash,
}

#[derive(DeriveIden)]
enum MetricSalts {
    Table,
    Day,
    Salt,
}
