//! Plain SQL shared by both backends: written with `?` placeholders, numbered `$n` for
//! PostgreSQL.

use sea_orm::{DbBackend, Statement, Value};

/// `sql` with its `?` placeholders as `backend` wants them, bound to `values`.
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + values.len() * 3);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `(?, ?, …)` repeated `rows` times for `columns` columns, comma-separated.
pub(crate) fn tuples(rows: usize, columns: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(", "));
    vec![one; rows].join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let pg = statement(DbBackend::Postgres, "a = ? AND b IN (?, ?)", vec![]);
        assert_eq!(pg.sql, "a = $1 AND b IN ($2, $3)");
        let lite = statement(DbBackend::Sqlite, "a = ?", vec![]);
        assert_eq!(lite.sql, "a = ?");
        assert_eq!(tuples(2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
