//! Product covers: an image uploaded to the asset store, beside the optional absolute
//! preview URL. The three columns are set together or not at all.

use sea_orm_migration::prelude::*;

/// Adds `cover_key`, `cover_content_type` and `cover_size` to `products`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(Products::CoverKey).text().null().to_owned(),
            ColumnDef::new(Products::CoverContentType)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Products::CoverSize)
                .big_integer()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Products::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Products::CoverSize,
            Products::CoverContentType,
            Products::CoverKey,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Products::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Products {
    Table,
    CoverKey,
    CoverContentType,
    CoverSize,
}
