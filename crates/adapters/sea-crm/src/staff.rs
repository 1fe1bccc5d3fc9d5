//! [`StaffDirectory`] read from the `users` table.

use std::str::FromStr;

use async_trait::async_trait;
use nexus_customers::{CustomersError, StaffDirectory, StaffMember};
use nexus_kernel::{Role, Unexpected, UserId};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::user;

/// Answers who the staff are from the users table. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaStaffDirectory {
    db: DatabaseConnection,
}

impl SeaStaffDirectory {
    /// A directory over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl StaffDirectory for SeaStaffDirectory {
    async fn find_member(&self, id: UserId) -> Result<Option<StaffMember>, CustomersError> {
        let row: Option<(String, String, bool, bool)> = user::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(user::Column::Email)
            .column(user::Column::Role)
            .column(user::Column::IsActive)
            .column(user::Column::EmailVerified)
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| Unexpected::new("loading a staff member", e))?;
        let Some((email, role, is_active, email_verified)) = row else {
            return Ok(None);
        };
        let role = Role::from_str(&role).map_err(|e| {
            Unexpected::new(format!("users row {id} has an unknown role {role:?}"), e)
        })?;
        let email = nexus_kernel::Email::parse(&email)
            .map_err(|e| Unexpected::new(format!("users row {id} has an invalid e-mail"), e))?;
        Ok(Some(StaffMember {
            id,
            email,
            role,
            is_active,
            email_verified,
        }))
    }

    async fn find_verified_customer(
        &self,
        email: &nexus_kernel::Email,
    ) -> Result<Option<UserId>, CustomersError> {
        // Served by the unique index on the (lower-cased) e-mail.
        let id: Option<uuid::Uuid> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Email.eq(email.as_str()))
            .filter(user::Column::Role.eq(Role::Customer.as_str()))
            .filter(user::Column::EmailVerified.eq(true))
            .filter(user::Column::IsActive.eq(true))
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(|e| Unexpected::new("looking up a verified customer account", e))?;
        Ok(id.map(UserId::from_uuid))
    }
}
