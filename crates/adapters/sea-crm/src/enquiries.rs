//! [`EnquiryRepository`] on the `enquiries` table.

use std::str::FromStr;

use async_trait::async_trait;
use nexus_catalog::ProductId;
use nexus_customers::{CustomerId, EnquiryId};
use nexus_customers::{
    CustomersError, EnquirerName, Enquiry, EnquiryMessage, EnquiryQuery, EnquiryRepository,
    EnquiryStatus, EnquirySubject,
};
use nexus_kernel::{Email, Page, PageRequest, Role, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, Func, JoinType, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use nexus_sea_support::{begin_read, contains_pattern, unexpected};

use crate::entities::{enquiry, user};

/// Stores enquiries with SeaORM and routes new ones to the least loaded officer. Cheap to
/// clone: it shares the connection pool.
#[derive(Clone, Debug)]
pub struct SeaEnquiryRepository {
    db: DatabaseConnection,
}

impl SeaEnquiryRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_row(enquiry: &Enquiry) -> enquiry::Model {
    let search_text = format!(
        "{} {} {}",
        enquiry.subject.as_str(),
        enquiry.name.as_str(),
        enquiry.email.as_str()
    )
    .to_lowercase();
    enquiry::Model {
        id: enquiry.id.as_uuid(),
        customer_id: enquiry.customer_id.as_uuid(),
        name: enquiry.name.as_str().to_owned(),
        email: enquiry.email.as_str().to_owned(),
        subject: enquiry.subject.as_str().to_owned(),
        message: enquiry.message.as_str().to_owned(),
        product_id: enquiry.product_id.map(|p| p.as_uuid()),
        status: enquiry.status.as_str().to_owned(),
        assigned_to: enquiry.assigned_to.map(|u| u.as_uuid()),
        created_at: enquiry.created_at,
        updated_at: enquiry.updated_at,
        version: enquiry.version,
        search_text,
    }
}

/// Rebuilds an enquiry through the domain constructors; a row that breaks a rule is a bug
/// or tampering, never silently accepted.
fn from_row(row: enquiry::Model) -> Result<Enquiry, CustomersError> {
    let id = row.id;
    Ok(Enquiry {
        id: EnquiryId::from_uuid(id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        name: EnquirerName::parse(&row.name).map_err(invalid(id, "name"))?,
        email: Email::parse(&row.email).map_err(invalid(id, "email"))?,
        subject: EnquirySubject::parse(&row.subject).map_err(invalid(id, "subject"))?,
        message: EnquiryMessage::parse(&row.message).map_err(invalid(id, "message"))?,
        product_id: row.product_id.map(ProductId::from_uuid),
        status: EnquiryStatus::from_str(&row.status).map_err(invalid(id, "status"))?,
        assigned_to: row.assigned_to.map(UserId::from_uuid),
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> CustomersError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("enquiries", id, field)
}

/// The assignee a list is restricted to: `Err(())` when `assigned_to` and `visible_to`
/// (ANDed) name different users, so nothing can match.
fn assignee(query: &EnquiryQuery) -> Result<Option<UserId>, ()> {
    match (query.assigned_to, query.visible_to) {
        (Some(a), Some(v)) if a != v => Err(()),
        (Some(user), _) | (None, Some(user)) => Ok(Some(user)),
        (None, None) => Ok(None),
    }
}

/// The WHERE clause of a list, shared by its page and its `COUNT(*)`.
fn filtered(query: &EnquiryQuery, assignee: Option<UserId>) -> Select<enquiry::Entity> {
    let mut select = enquiry::Entity::find();
    if let Some(user) = assignee {
        select = select.filter(enquiry::Column::AssignedTo.eq(user.as_uuid()));
    }
    if let Some(status) = query.status {
        select = select.filter(enquiry::Column::Status.eq(status.as_str()));
    }
    if let Some(email) = &query.email {
        select = select.filter(enquiry::Column::Email.eq(email.as_str()));
    }
    if let Some(term) = &query.search {
        // The term is already lower-cased, like `search_text`. SQLite has no default
        // escape character, hence the explicit ESCAPE.
        select = select.filter(
            Expr::col((enquiry::Entity, enquiry::Column::SearchText))
                .like(LikeExpr::new(contains_pattern(term.as_str())).escape('\\')),
        );
    }
    select
}

#[async_trait]
impl EnquiryRepository for SeaEnquiryRepository {
    async fn insert(&self, enquiry: &Enquiry) -> Result<(), CustomersError> {
        enquiry::Entity::insert(to_row(enquiry).into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(unexpected("inserting an enquiry"))?;
        Ok(())
    }

    async fn find(&self, id: EnquiryId) -> Result<Option<Enquiry>, CustomersError> {
        enquiry::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading an enquiry"))?
            .map(from_row)
            .transpose()
    }

    async fn update(&self, enquiry: &Enquiry, expected_version: i64) -> Result<(), CustomersError> {
        let mut changes = to_row(enquiry).into_active_model().reset_all();
        // Identity and creation time never change.
        changes.id = NotSet;
        changes.created_at = NotSet;
        let result = enquiry::Entity::update_many()
            .set(changes)
            .filter(enquiry::Column::Id.eq(enquiry.id.as_uuid()))
            .filter(enquiry::Column::Version.eq(expected_version))
            .exec(&self.db)
            .await
            .map_err(unexpected("updating an enquiry"))?;
        if result.rows_affected == 0 {
            return Err(CustomersError::Conflict);
        }
        Ok(())
    }

    async fn list(
        &self,
        query: &EnquiryQuery,
        page: PageRequest,
    ) -> Result<Page<Enquiry>, CustomersError> {
        let Ok(assignee) = assignee(query) else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let select = filtered(query, assignee);
        // Every filter has an index ending in (created_at, id), so the COUNT is an index
        // range and the page an index scan without a sort; both read one snapshot.
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting an enquiry list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(unexpected("counting enquiries"))?;
        let rows = select
            .order_by_desc(enquiry::Column::CreatedAt)
            .order_by_desc(enquiry::Column::Id)
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(unexpected("listing enquiries"))?;
        tx.commit()
            .await
            .map_err(unexpected("finishing an enquiry list"))?;
        let items = rows
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            total,
            request: page,
        })
    }

    async fn least_loaded_officer(&self) -> Result<Option<UserId>, CustomersError> {
        // One query: every active staff member with their count of OPEN enquiries (the
        // LEFT JOIN keeps those with none), CSOs before managers and admins, then the
        // fewest, then the longest-standing account, then the id.
        let role = Expr::col((user::Entity, user::Column::Role));
        let tier = Expr::case(role.clone().eq(Role::Cso.as_str()), 0).finally(1);
        let open = Func::count(Expr::col((enquiry::Entity, enquiry::Column::Id)));
        let query = Query::select()
            .column((user::Entity, user::Column::Id))
            .from(user::Entity)
            .join(
                JoinType::LeftJoin,
                enquiry::Entity,
                Condition::all()
                    .add(
                        Expr::col((enquiry::Entity, enquiry::Column::AssignedTo))
                            .equals((user::Entity, user::Column::Id)),
                    )
                    .add(
                        Expr::col((enquiry::Entity, enquiry::Column::Status))
                            .eq(EnquiryStatus::Open.as_str()),
                    ),
            )
            .and_where(Expr::col((user::Entity, user::Column::IsActive)).eq(true))
            .and_where(role.is_in([
                Role::Cso.as_str(),
                Role::Manager.as_str(),
                Role::Admin.as_str(),
            ]))
            .group_by_columns([
                (user::Entity, user::Column::Id),
                (user::Entity, user::Column::Role),
                (user::Entity, user::Column::CreatedAt),
            ])
            .order_by_expr(tier.into(), Order::Asc)
            .order_by_expr(open.into(), Order::Asc)
            .order_by((user::Entity, user::Column::CreatedAt), Order::Asc)
            .order_by((user::Entity, user::Column::Id), Order::Asc)
            .limit(1)
            .to_owned();
        let Some(row) = self
            .db
            .query_one(&query)
            .await
            .map_err(unexpected("finding the least loaded officer"))?
        else {
            return Ok(None);
        };
        let id: Uuid = row
            .try_get("", "id")
            .map_err(unexpected("reading the least loaded officer"))?;
        Ok(Some(UserId::from_uuid(id)))
    }
}
