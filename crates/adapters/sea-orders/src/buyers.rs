//! [`BuyerDirectory`] read from the `users` table.

use async_trait::async_trait;
use nexus_kernel::{Email, PersonName, Unexpected, UserId};
use nexus_orders::{Buyer, BuyerDirectory, OrdersError};
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};

use crate::entities::user;

/// Answers who a buyer is (for invoices and confirmation e-mails) from the users table.
/// Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaBuyerDirectory {
    db: DatabaseConnection,
}

impl SeaBuyerDirectory {
    /// A directory over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn invalid<E>(id: UserId, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("users", id, field)
}

#[async_trait]
impl BuyerDirectory for SeaBuyerDirectory {
    async fn buyer(&self, id: UserId) -> Result<Option<Buyer>, OrdersError> {
        let row: Option<(String, String, String)> = user::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(user::Column::FirstName)
            .column(user::Column::LastName)
            .column(user::Column::Email)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(Unexpected::with("loading a buyer"))?;
        let Some((first, last, email)) = row else {
            return Ok(None);
        };
        // Through the constructors, so an invoice never prints a row that breaks a rule.
        let first = PersonName::parse(&first).map_err(invalid(id, "first_name"))?;
        let last = PersonName::parse(&last).map_err(invalid(id, "last_name"))?;
        let email = Email::parse(&email).map_err(invalid(id, "email"))?;
        Ok(Some(Buyer {
            name: format!("{} {}", first.as_str(), last.as_str()),
            email: email.as_str().to_owned(),
        }))
    }
}
