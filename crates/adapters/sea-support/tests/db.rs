//! Connecting, migrating (as the app does, with `nexus_migration::Migrator`) and pinging.

mod common;

use nexus_migration::Migrator;
use nexus_sea_support::db;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

async fn pragma(db: &nexus_sea_support::DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .expect("pragma")
        .expect("a row");
    row.try_get_by_index::<i64>(0)
        .map(|n| n.to_string())
        .or_else(|_| row.try_get_by_index::<String>(0))
        .expect("pragma value")
}

#[tokio::test]
async fn sqlite_file_is_created_with_foreign_keys_wal_and_a_busy_timeout() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fresh.db");
    assert!(!path.exists());

    let db = db::connect(&format!("sqlite://{}", path.display()), 2)
        .await
        .expect("connect");

    assert!(path.exists(), "connect creates the database file");
    assert_eq!(pragma(&db, "foreign_keys").await, "1");
    assert_eq!(pragma(&db, "journal_mode").await, "wal");
    assert_eq!(pragma(&db, "busy_timeout").await, "5000");
}

#[tokio::test]
async fn connecting_with_a_malformed_url_is_an_error_not_a_panic() {
    let result = db::connect("not-a-database-url", 1).await;

    assert!(result.is_err());
}

#[tokio::test]
async fn migrating_again_is_a_no_op_and_ping_answers() {
    for t in common::backends().await {
        Migrator::up(&t.db, None).await.expect("second migrate");
        db::ping(&t.db).await.expect("ping");

        let pending = Migrator::get_pending_migrations(&t.db)
            .await
            .expect("pending migrations");
        assert!(pending.is_empty(), "{}", t.backend);
    }
}

#[tokio::test]
async fn every_migration_rolls_back_and_reapplies_cleanly() {
    for t in common::backends().await {
        // One connection throughout: the schema it drops and makes again is the one it reads.
        let db = t.single_connection().await;
        Migrator::reset(&db).await.expect("roll back everything");
        let applied = Migrator::get_applied_migrations(&db)
            .await
            .expect("applied migrations");
        assert!(applied.is_empty(), "{}", t.backend);

        Migrator::up(&db, None).await.expect("migrate again");
        let applied = Migrator::get_applied_migrations(&db)
            .await
            .expect("applied migrations");
        assert_eq!(applied.len(), Migrator::migrations().len(), "{}", t.backend);
    }
}

#[tokio::test]
async fn postgres_gets_the_trigram_index_for_customer_search() {
    let Some(t) = common::postgres().await else {
        return;
    };

    let row =
        t.db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customers_search_text_trgm'",
        ))
        .await
        .expect("query pg_indexes")
        .expect("the trigram index exists");
    let definition: String = row.try_get("", "indexdef").expect("indexdef");

    assert!(definition.contains("gin_trgm_ops"), "{definition}");
}
