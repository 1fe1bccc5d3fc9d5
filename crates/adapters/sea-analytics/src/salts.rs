//! The daily salts, in `metric_salts`.

use async_trait::async_trait;
use chrono::NaiveDate;
use nexus_analytics::{AnalyticsError, DailySalt, SaltStore};
use nexus_kernel::Unexpected;
use nexus_sea_support::unexpected;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::sql::statement;

/// One random 32-byte salt per UTC day, created by whichever instance needs it first.
/// Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaSaltStore {
    db: DatabaseConnection,
}

impl SeaSaltStore {
    /// A store over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SaltStore for SeaSaltStore {
    async fn salt_for(&self, day: NaiveDate) -> Result<DailySalt, AnalyticsError> {
        let backend = self.db.get_database_backend();
        let day = day.to_string();
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| Unexpected::msg(format!("no random salt: {e}")))?;
        // Two instances creating the day's salt at once: the first insert wins, and both
        // read the winner back.
        self.db
            .execute_raw(statement(
                backend,
                "INSERT INTO metric_salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
                vec![day.clone().into(), hex::encode(fresh).into()],
            ))
            .await
            .map_err(unexpected("creating the day's metrics salt"))?;
        let row = self
            .db
            .query_one_raw(statement(
                backend,
                "SELECT salt FROM metric_salts WHERE day = ?",
                vec![day.into()],
            ))
            .await
            .map_err(unexpected("loading the day's metrics salt"))?
            .ok_or_else(|| Unexpected::msg("the day's metrics salt vanished"))?;
        let text: String = row
            .try_get("", "salt")
            .map_err(unexpected("reading the day's metrics salt"))?;
        let bytes = hex::decode(text)
            .map_err(|e| Unexpected::new("metric_salts row has an invalid salt", e))?;
        Ok(DailySalt::new(bytes))
    }

    async fn purge_before(&self, day: NaiveDate) -> Result<u64, AnalyticsError> {
        let done = self
            .db
            .execute_raw(statement(
                self.db.get_database_backend(),
                "DELETE FROM metric_salts WHERE day < ?",
                vec![day.to_string().into()],
            ))
            .await
            .map_err(unexpected("deleting old metrics salts"))?;
        Ok(done.rows_affected())
    }
}
