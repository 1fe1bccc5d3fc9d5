//! The one mapping from a database error to a domain error, shared by every repository.
//!
//! A repository recognises the few failures its port names (a unique violation is
//! `EmailTaken` or `Conflict`) through [`DbError::classify`]; everything else becomes the
//! domain's `Unexpected` through [`unexpected`], with the `DbErr` kept as its source.

use nexus_kernel::Unexpected;
use sea_orm::{DbErr, SqlErr};

/// What a failed statement means, as far as a repository needs to tell.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbError {
    /// A unique index or primary key refused the row; the database's message names it
    /// (PostgreSQL names the index, SQLite names the column as `table.column`).
    UniqueViolation(String),
    /// A foreign key refused the row or its deletion.
    ForeignKeyViolation(String),
    /// The database could not be reached or went away (see [`crate::db::is_unavailable`]).
    Unavailable,
    /// Anything else: a bug, a broken row or a failed statement.
    Other,
}

impl DbError {
    /// Classifies `err`.
    #[must_use]
    pub fn classify(err: &DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => Self::UniqueViolation(message),
            Some(SqlErr::ForeignKeyConstraintViolation(message)) => {
                Self::ForeignKeyViolation(message)
            }
            _ if crate::db::is_unavailable(err) => Self::Unavailable,
            _ => Self::Other,
        }
    }
}

/// Whether `err` is a unique violation of the index `index` (PostgreSQL names the index,
/// SQLite names the column as `table.column`).
#[must_use]
pub fn is_unique_violation(err: &DbErr, index: &str, table_column: &str) -> bool {
    match DbError::classify(err) {
        DbError::UniqueViolation(message) => {
            message.contains(index) || message.contains(table_column)
        }
        _ => false,
    }
}

/// Wraps a database error as `Unexpected` with a context message (`"loading a customer"`),
/// keeping the `DbErr` as its source; `?` then turns it into the domain's own error, whose
/// `Unexpected` variant every domain error enum has.
pub fn unexpected(context: &'static str) -> impl FnOnce(DbErr) -> Unexpected {
    move |err| Unexpected::new(context, err)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn other_failures_are_other_and_keep_their_source() {
        let err = DbErr::Custom("bad row".to_owned());
        assert_eq!(DbError::classify(&err), DbError::Other);
        assert!(!is_unique_violation(&err, "ux_users_email", "users.email"));

        let wrapped = unexpected("loading a user")(err);
        assert_eq!(wrapped.to_string(), "loading a user");
        assert!(wrapped.source().is_some());
    }
}
