//! Small pieces every repository shares: transactions, LIKE patterns and invalid rows.

use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, IsolationLevel,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Starts a transaction that will write.
///
/// On SQLite it is `BEGIN IMMEDIATE`: taking the write lock up front means a
/// read-then-write transaction waits (up to the busy timeout) for another writer instead
/// of failing with `SQLITE_BUSY` when it tries to upgrade its lock.
///
/// # Errors
/// The `DbErr` of a failed `BEGIN`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Starts a read-only transaction whose statements all see one snapshot, so that a page
/// and its total agree even while others write.
///
/// PostgreSQL needs `REPEATABLE READ` for that; a SQLite read transaction (WAL mode)
/// already reads one snapshot, and SQLite rejects isolation settings.
///
/// # Errors
/// The `DbErr` of a failed `BEGIN`.
pub async fn begin_read(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

/// `%term%` with the LIKE wildcards and the escape character itself escaped, so that a
/// search for `50%` or `a_b` matches those characters literally.
pub fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The error for a stored row that breaks a domain rule (it is never silently accepted):
/// `"<table> row <id> has an invalid <field>"`, keeping the rule's error as the source.
pub fn invalid_row<E, T>(
    table: &'static str,
    id: impl std::fmt::Display,
    field: &'static str,
) -> impl FnOnce(E) -> T
where
    E: std::error::Error + Send + Sync + 'static,
    T: From<nexus_kernel::Unexpected>,
{
    move |err| {
        nexus_kernel::Unexpected::new(format!("{table} row {id} has an invalid {field}"), err)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_character_are_escaped() {
        let cases = [
            ("ada", "%ada%"),
            ("50%", "%50\\%%"),
            ("a_b", "%a\\_b%"),
            ("back\\slash", "%back\\\\slash%"),
        ];
        for (term, expected) in cases {
            assert_eq!(contains_pattern(term), expected, "{term}");
        }
    }
}
