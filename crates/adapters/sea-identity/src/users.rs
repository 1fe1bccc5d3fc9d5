//! [`UserRepository`] on the `users` table, and the insert a unit of work makes there
//! (one function over any connection, shared by both).

use std::str::FromStr;

use async_trait::async_trait;
use nexus_identity::{IdentityError, PasswordHash, User, UserFilter, UserRepository};
use nexus_kernel::{Email, Page, PageRequest, PersonName, Role, Unexpected, UserId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use uuid::Uuid;

use nexus_sea_support::{begin_read, is_unique_violation, unexpected};

use crate::entities::user;

/// Stores user accounts with SeaORM. Cheap to clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaUserRepository {
    db: DatabaseConnection,
}

impl SeaUserRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// `EmailTaken` for a clash on the unique e-mail, `Unexpected` for anything else.
fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> IdentityError {
    move |err| {
        if is_unique_violation(&err, "ux_users_email", "users.email") {
            IdentityError::EmailTaken
        } else {
            IdentityError::Unexpected(Unexpected::new(context, err))
        }
    }
}

fn to_row(user: &User) -> user::Model {
    user::Model {
        id: user.id.as_uuid(),
        email: user.email.as_str().to_owned(),
        password_hash: user.password_hash.expose().to_owned(),
        role: user.role.as_str().to_owned(),
        first_name: user.first_name.as_str().to_owned(),
        last_name: user.last_name.as_str().to_owned(),
        is_active: user.is_active,
        email_verified: user.email_verified,
        version: user.version,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

/// Rebuilds a user through the domain constructors; a row that breaks a rule is a bug
/// or tampering, never silently accepted.
pub(crate) fn from_row(row: user::Model) -> Result<User, Unexpected> {
    let id = row.id;
    Ok(User {
        id: UserId::from_uuid(id),
        email: Email::parse(&row.email).map_err(invalid(id, "email"))?,
        password_hash: PasswordHash::new(row.password_hash),
        role: Role::from_str(&row.role).map_err(invalid(id, "role"))?,
        first_name: PersonName::parse(&row.first_name).map_err(invalid(id, "first_name"))?,
        last_name: PersonName::parse(&row.last_name).map_err(invalid(id, "last_name"))?,
        is_active: row.is_active,
        email_verified: row.email_verified,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> Unexpected
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("users", id, field)
}

fn from_rows(rows: Vec<user::Model>) -> Result<Vec<User>, IdentityError> {
    rows.into_iter()
        .map(|row| from_row(row).map_err(IdentityError::from))
        .collect()
}

/// On `conn`: inserts `user`. `EmailTaken` when the address has an account.
pub(crate) async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    user: &User,
) -> Result<(), IdentityError> {
    user::Entity::insert(to_row(user).into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(write_error("inserting a user"))?;
    Ok(())
}

/// On `conn`: saves every mutable field of `user` if the stored version is still
/// `expected_version`; `Conflict` otherwise, `EmailTaken` on a clash of addresses.
pub(crate) async fn update_user<C: ConnectionTrait>(
    conn: &C,
    user: &User,
    expected_version: i64,
) -> Result<(), IdentityError> {
    let mut changes = to_row(user).into_active_model().reset_all();
    // Identity and creation time never change.
    changes.id = NotSet;
    changes.created_at = NotSet;
    let result = user::Entity::update_many()
        .set(changes)
        .filter(user::Column::Id.eq(user.id.as_uuid()))
        .filter(user::Column::Version.eq(expected_version))
        .exec(conn)
        .await
        .map_err(write_error("updating a user"))?;
    if result.rows_affected == 0 {
        return Err(IdentityError::Conflict);
    }
    Ok(())
}

#[async_trait]
impl UserRepository for SeaUserRepository {
    async fn insert(&self, user: &User) -> Result<(), IdentityError> {
        insert_user(&self.db, user).await
    }

    async fn find(&self, id: UserId) -> Result<Option<User>, IdentityError> {
        user::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a user"))?
            .map(from_row)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, IdentityError> {
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a user by e-mail"))?
            .map(from_row)
            .transpose()
            .map_err(IdentityError::from)
    }

    async fn update(&self, user: &User, expected_version: i64) -> Result<(), IdentityError> {
        update_user(&self.db, user, expected_version).await
    }

    async fn list(
        &self,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<User>, IdentityError> {
        let mut select = user::Entity::find();
        if let Some(role) = filter.role {
            select = select.filter(user::Column::Role.eq(role.as_str()));
        }
        if let Some(is_active) = filter.is_active {
            select = select.filter(user::Column::IsActive.eq(is_active));
        }
        // The users table stays small (staff plus storefront accounts), so an exact
        // COUNT with the same filter is cheap; both read one snapshot.
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting to list users"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting users"))?;
        let rows = select
            .order_by_desc(user::Column::CreatedAt)
            .order_by_desc(user::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing users"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing the user list"))?;
        Ok(Page {
            items: from_rows(rows)?,
            total,
            request: page,
        })
    }

    async fn count(&self) -> Result<u64, IdentityError> {
        Ok(user::Entity::find()
            .count(&self.db)
            .await
            .map_err(unexpected("counting users"))?)
    }
}
