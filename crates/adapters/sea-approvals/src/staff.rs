//! The approvals' [`StaffContacts`], read from `users` (the identity context's table) with
//! a tuple select of the few columns it needs.

use async_trait::async_trait;
use nexus_approvals::{ApprovalsError, StaffContact, StaffContacts};
use nexus_kernel::{Email, Role, UserId};
use nexus_sea_support::unexpected;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Finds active staff by role. Cheap to clone: it shares the pool.
#[derive(Clone, Debug)]
pub struct SeaStaffContacts {
    db: DatabaseConnection,
}

impl SeaStaffContacts {
    /// A directory over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl StaffContacts for SeaStaffContacts {
    async fn active_with_roles(&self, roles: &[Role]) -> Result<Vec<StaffContact>, ApprovalsError> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let col = |name: &str| Expr::col((Alias::new("users"), Alias::new(name)));
        let query = Query::select()
            .columns(["id", "email", "first_name"].map(|c| (Alias::new("users"), Alias::new(c))))
            .from(Alias::new("users"))
            .and_where(col("is_active").eq(true))
            .and_where(col("role").is_in(roles.iter().map(Role::as_str)))
            .order_by(
                (Alias::new("users"), Alias::new("email")),
                sea_orm::Order::Asc,
            )
            .to_owned();
        let rows = self
            .db
            .query_all(&query)
            .await
            .map_err(unexpected("listing staff by role"))?;
        let mut contacts = Vec::with_capacity(rows.len());
        for row in rows {
            let id: uuid::Uuid = row
                .try_get("", "id")
                .map_err(unexpected("reading a user's id"))?;
            let email: String = row
                .try_get("", "email")
                .map_err(unexpected("reading a user's e-mail"))?;
            let first_name: String = row
                .try_get("", "first_name")
                .map_err(unexpected("reading a user's name"))?;
            let email = Email::parse(&email)
                .map_err(nexus_sea_support::invalid_row::<_, ApprovalsError>(
                    "users", id, "email",
                ))?;
            contacts.push(StaffContact {
                user_id: UserId::from_uuid(id),
                email,
                first_name,
            });
        }
        Ok(contacts)
    }
}
