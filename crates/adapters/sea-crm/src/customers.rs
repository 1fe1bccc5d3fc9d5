//! [`CustomerRepository`] on `customers`, with exact list totals from `customer_counts`.

use std::collections::BTreeMap;
use std::str::FromStr;

use async_trait::async_trait;
use nexus_customers::CustomerId;
use nexus_customers::{
    CompanyName, Customer, CustomerQuery, CustomerRepository, CustomerStatus, CustomersError,
    Phone, SortDirection, SortField, Tag, Tags,
};
use nexus_kernel::{AuditRecord, Email, Page, PageRequest, PersonName, Unexpected, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IntoActiveModel, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use uuid::Uuid;

use nexus_sea_support::{
    append_audit, begin_read, begin_write, contains_pattern, is_unique_violation, unexpected,
};

use crate::entities::{customer, customer_count, enquiry, response};

/// Counter rows written by one statement when rebuilding; keeps bind parameters well
/// under every backend's limit.
const RECOUNT_CHUNK: usize = 500;

/// Stores customers with SeaORM and keeps their counters exact. Cheap to clone: it shares
/// the connection pool.
///
/// Every insert, delete, and update that changes status or assignee also adjusts
/// `customer_counts` in the same transaction, so `list` answers its total from one counter
/// row unless the query has a search term. See `docs/counting.md`.
#[derive(Clone, Debug)]
pub struct SeaCustomerRepository {
    db: DatabaseConnection,
}

impl SeaCustomerRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Recomputes every counter from the customers table, in one transaction that blocks
    /// customer writes meanwhile (reads go on).
    ///
    /// The repository keeps counters exact by itself; this is for rows written around it,
    /// such as a bulk import in SQL or the `ON DELETE SET NULL` of a deleted user.
    ///
    /// # Errors
    /// `Unexpected` when the database fails or holds a row with an unknown status.
    pub async fn recount(&self) -> Result<(), CustomersError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a recount"))?;
        if tx.get_database_backend() == DbBackend::Postgres {
            // SHARE mode lets readers in but keeps writers (and their counter updates) out
            // until the new counts are committed. SQLite's IMMEDIATE transaction already
            // excludes other writers.
            tx.execute_unprepared("LOCK TABLE customers IN SHARE MODE")
                .await
                .map_err(unexpected("locking customers for a recount"))?;
        }
        let groups: Vec<(String, Option<Uuid>, i64)> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Status)
            .column(customer::Column::AssignedTo)
            .column_as(customer::Column::Id.count(), "n")
            .group_by(customer::Column::Status)
            .group_by(customer::Column::AssignedTo)
            .into_tuple()
            .all(&tx)
            .await
            .map_err(unexpected("grouping customers for a recount"))?;
        let mut counts = BTreeMap::new();
        for (status, assignee, n) in groups {
            let status = parse_status(&status)?;
            let assignee = assignee.map(UserId::from_uuid);
            for key in count_keys(status, assignee) {
                *counts.entry(key).or_insert(0) += n;
            }
        }
        customer_count::Entity::delete_many()
            .exec(&tx)
            .await
            .map_err(unexpected("clearing customer counters"))?;
        let counts: Vec<(String, i64)> = counts.into_iter().collect();
        for chunk in counts.chunks(RECOUNT_CHUNK) {
            add_to_counts(&tx, chunk).await?;
        }
        Ok(tx
            .commit()
            .await
            .map_err(unexpected("committing a recount"))?)
    }
}

/// Builds the exact statement [`SeaCustomerRepository`]'s `list` runs for one page of
/// `query` on `backend`, or `None` when the query can match nothing (`assigned_to` and
/// `visible_to` name different users) and the repository answers without asking the
/// database.
///
/// Public so that tests can `EXPLAIN` precisely what the repository executes.
#[must_use]
pub fn customer_page_statement(
    backend: DbBackend,
    query: &CustomerQuery,
    page: PageRequest,
) -> Option<Statement> {
    let scope = scope(query);
    if matches!(scope, Scope::Nobody) {
        return None;
    }
    Some(page_select(query, scope.assignee(), page).build(backend))
}

/// Whose customers a query may return.
enum Scope {
    /// `assigned_to` and `visible_to` disagree: nothing can match.
    Nobody,
    /// No assignee restriction.
    Anyone,
    /// Only customers assigned to this user.
    Only(UserId),
}

impl Scope {
    /// The assignee to filter on, if any.
    fn assignee(&self) -> Option<UserId> {
        match self {
            Self::Only(user) => Some(*user),
            Self::Nobody | Self::Anyone => None,
        }
    }
}

fn scope(query: &CustomerQuery) -> Scope {
    // `visible_to` (the officer's own scope) is ANDed with any `assigned_to` filter.
    match (query.assigned_to, query.visible_to) {
        (Some(a), Some(v)) if a != v => Scope::Nobody,
        (Some(user), _) | (None, Some(user)) => Scope::Only(user),
        (None, None) => Scope::Anyone,
    }
}

/// The WHERE clause of a list, shared by its page and its `COUNT(*)`.
fn filtered(query: &CustomerQuery, assignee: Option<UserId>) -> Select<customer::Entity> {
    let mut select = customer::Entity::find();
    if let Some(user) = assignee {
        select = select.filter(customer::Column::AssignedTo.eq(user.as_uuid()));
    }
    if let Some(status) = query.status {
        select = select.filter(customer::Column::Status.eq(status.as_str()));
    }
    if let Some(term) = &query.search {
        // The term is already lower-cased, like `search_text`. The explicit ESCAPE is
        // needed because SQLite has no default escape character.
        select = select.filter(
            Expr::col((customer::Entity, customer::Column::SearchText))
                .like(LikeExpr::new(contains_pattern(term.as_str())).escape('\\')),
        );
    }
    select
}

fn page_select(
    query: &CustomerQuery,
    assignee: Option<UserId>,
    page: PageRequest,
) -> Select<customer::Entity> {
    let column = match query.sort.field {
        SortField::CreatedAt => customer::Column::CreatedAt,
        SortField::UpdatedAt => customer::Column::UpdatedAt,
        SortField::LastName => customer::Column::LastName,
        SortField::Email => customer::Column::Email,
    };
    let order = match query.sort.direction {
        SortDirection::Asc => Order::Asc,
        SortDirection::Desc => Order::Desc,
    };
    // Ties break by id in the same direction, so the sort matches an index exactly and
    // pages never overlap or skip rows.
    filtered(query, assignee)
        .order_by(column, order.clone())
        .order_by(customer::Column::Id, order)
        .offset(page.offset())
        .limit(u64::from(page.limit()))
}

/// The counter a list without search reads its total from.
fn count_key(assignee: Option<UserId>, status: Option<CustomerStatus>) -> String {
    match (assignee, status) {
        (None, None) => "all".to_owned(),
        (None, Some(s)) => format!("status:{s}"),
        (Some(u), None) => format!("assignee:{u}"),
        (Some(u), Some(s)) => format!("assignee:{u}:status:{s}"),
    }
}

/// Every counter a customer with this status and assignee is counted in.
fn count_keys(status: CustomerStatus, assignee: Option<UserId>) -> Vec<String> {
    let mut keys = vec![count_key(None, None), count_key(None, Some(status))];
    if let Some(user) = assignee {
        keys.push(count_key(Some(user), None));
        keys.push(count_key(Some(user), Some(status)));
    }
    keys
}

/// Counter changes, netted per key. A `BTreeMap` so that every transaction touches
/// counter rows in the same (key) order, which rules out deadlocks between writers.
#[derive(Default)]
struct CountDeltas(BTreeMap<String, i64>);

impl CountDeltas {
    fn add(&mut self, status: CustomerStatus, assignee: Option<UserId>, delta: i64) {
        for key in count_keys(status, assignee) {
            *self.0.entry(key).or_insert(0) += delta;
        }
    }

    async fn apply(self, tx: &DatabaseTransaction) -> Result<(), CustomersError> {
        let changes: Vec<(String, i64)> = self.0.into_iter().filter(|(_, d)| *d != 0).collect();
        add_to_counts(tx, &changes).await
    }
}

/// Adds each delta to its counter, creating missing counters, in one statement.
async fn add_to_counts(
    tx: &DatabaseTransaction,
    deltas: &[(String, i64)],
) -> Result<(), CustomersError> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(customer_count::Entity)
        .columns([customer_count::Column::Key, customer_count::Column::N]);
    for (key, delta) in deltas {
        insert
            .values([Expr::val(key.as_str()), Expr::val(*delta)])
            .map_err(|e| Unexpected::new("building a counter update", e))?;
    }
    // Valid on both PostgreSQL and SQLite (3.24+).
    insert.on_conflict(
        OnConflict::column(customer_count::Column::Key)
            .value(
                customer_count::Column::N,
                Expr::cust("customer_counts.n + excluded.n"),
            )
            .to_owned(),
    );
    tx.execute(&insert)
        .await
        .map_err(unexpected("updating customer counters"))?;
    Ok(())
}

/// `EmailTaken` for a clash on the unique e-mail, `Unexpected` for anything else.
fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> CustomersError {
    move |err| {
        if is_unique_violation(&err, "ux_customers_email", "customers.email") {
            CustomersError::EmailTaken
        } else if is_unique_violation(&err, "ux_customers_user_id", "customers.user_id") {
            CustomersError::AccountLinked
        } else {
            CustomersError::Unexpected(Unexpected::new(context, err))
        }
    }
}

/// Whether any response or enquiry references the customer: such a customer is kept, so
/// that what was sent to them and its approval trail survive.
async fn has_history(tx: &DatabaseTransaction, id: CustomerId) -> Result<bool, CustomersError> {
    let response: Option<Uuid> = response::Entity::find()
        .select_only()
        .column(response::Column::Id)
        .filter(response::Column::CustomerId.eq(id.as_uuid()))
        .limit(1)
        .into_tuple()
        .one(tx)
        .await
        .map_err(unexpected("looking for a customer's responses"))?;
    if response.is_some() {
        return Ok(true);
    }
    let enquiry: Option<Uuid> = enquiry::Entity::find()
        .select_only()
        .column(enquiry::Column::Id)
        .filter(enquiry::Column::CustomerId.eq(id.as_uuid()))
        .limit(1)
        .into_tuple()
        .one(tx)
        .await
        .map_err(unexpected("looking for a customer's enquiries"))?;
    Ok(enquiry.is_some())
}

fn parse_status(raw: &str) -> Result<CustomerStatus, CustomersError> {
    CustomerStatus::from_str(raw).map_err(|e| {
        CustomersError::Unexpected(Unexpected::new(
            format!("customers row has an unknown status {raw:?}"),
            e,
        ))
    })
}

fn to_row(customer: &Customer) -> Result<customer::Model, CustomersError> {
    let tags: Vec<&str> = customer.tags.as_slice().iter().map(Tag::as_str).collect();
    let tags =
        serde_json::to_string(&tags).map_err(|e| Unexpected::new("encoding customer tags", e))?;
    let search_text = format!(
        "{} {} {}",
        customer.first_name.as_str(),
        customer.last_name.as_str(),
        customer.email.as_str()
    )
    .to_lowercase();
    Ok(customer::Model {
        id: customer.id.as_uuid(),
        first_name: customer.first_name.as_str().to_owned(),
        last_name: customer.last_name.as_str().to_owned(),
        email: customer.email.as_str().to_owned(),
        phone: customer.phone.as_ref().map(|p| p.as_str().to_owned()),
        company: customer.company.as_ref().map(|c| c.as_str().to_owned()),
        status: customer.status.as_str().to_owned(),
        tags,
        assigned_to: customer.assigned_to.map(|u| u.as_uuid()),
        created_by: customer.created_by.as_uuid(),
        created_at: customer.created_at,
        updated_at: customer.updated_at,
        version: customer.version,
        search_text,
        user_id: customer.account_id.map(|u| u.as_uuid()),
    })
}

/// Rebuilds a customer through the domain constructors; a row that breaks a rule is a bug
/// or tampering, never silently accepted.
fn from_row(row: customer::Model) -> Result<Customer, CustomersError> {
    let id = row.id;
    let tags: Vec<String> = serde_json::from_str(&row.tags).map_err(invalid(id, "tags"))?;
    Ok(Customer {
        id: CustomerId::from_uuid(id),
        first_name: PersonName::parse(&row.first_name).map_err(invalid(id, "first_name"))?,
        last_name: PersonName::parse(&row.last_name).map_err(invalid(id, "last_name"))?,
        email: Email::parse(&row.email).map_err(invalid(id, "email"))?,
        phone: row
            .phone
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(invalid(id, "phone"))?,
        company: row
            .company
            .as_deref()
            .map(CompanyName::parse)
            .transpose()
            .map_err(invalid(id, "company"))?,
        status: parse_status(&row.status)?,
        tags: Tags::parse(&tags).map_err(invalid(id, "tags"))?,
        assigned_to: row.assigned_to.map(UserId::from_uuid),
        created_by: UserId::from_uuid(row.created_by),
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
        account_id: row.user_id.map(UserId::from_uuid),
    })
}

fn invalid<E>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> CustomersError
where
    E: std::error::Error + Send + Sync + 'static,
{
    nexus_sea_support::invalid_row("customers", id, field)
}

#[async_trait]
impl CustomerRepository for SeaCustomerRepository {
    async fn insert(
        &self,
        customer: &Customer,
        audit: &[AuditRecord],
    ) -> Result<(), CustomersError> {
        let row = to_row(customer)?;
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a customer insert"))?;
        customer::Entity::insert(row.into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(write_error("inserting a customer"))?;
        let mut deltas = CountDeltas::default();
        deltas.add(customer.status, customer.assigned_to, 1);
        deltas.apply(&tx).await?;
        append_audit(&tx, audit, None).await?;
        tx.commit()
            .await
            .map_err(write_error("committing a customer insert"))
    }

    async fn find(&self, id: CustomerId) -> Result<Option<Customer>, CustomersError> {
        customer::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(unexpected("loading a customer"))?
            .map(from_row)
            .transpose()
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<Customer>, CustomersError> {
        // Served by the unique index on the (already lower-cased) e-mail.
        customer::Entity::find()
            .filter(customer::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a customer by e-mail"))?
            .map(from_row)
            .transpose()
    }

    async fn find_by_account(&self, user: UserId) -> Result<Option<Customer>, CustomersError> {
        // Served by the unique index on `user_id`.
        customer::Entity::find()
            .filter(customer::Column::UserId.eq(user.as_uuid()))
            .one(&self.db)
            .await
            .map_err(unexpected("loading a customer by account"))?
            .map(from_row)
            .transpose()
    }

    async fn update(
        &self,
        customer: &Customer,
        expected_version: i64,
        audit: &[AuditRecord],
    ) -> Result<(), CustomersError> {
        let mut changes = to_row(customer)?.into_active_model().reset_all();
        // Identity, creator and creation time never change.
        changes.id = NotSet;
        changes.created_by = NotSet;
        changes.created_at = NotSet;
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a customer update"))?;
        // Read the old status and assignee under a row lock (FOR UPDATE on PostgreSQL;
        // SQLite's IMMEDIATE transaction already excludes writers), so the counter
        // adjustment matches exactly the row version this transaction replaces.
        let current: Option<(String, Option<Uuid>, i64)> =
            customer::Entity::find_by_id(customer.id.as_uuid())
                .select_only()
                .column(customer::Column::Status)
                .column(customer::Column::AssignedTo)
                .column(customer::Column::Version)
                .lock_exclusive()
                .into_tuple()
                .one(&tx)
                .await
                .map_err(unexpected("locking a customer for update"))?;
        let Some((old_status, old_assignee, stored_version)) = current else {
            return Err(CustomersError::Conflict);
        };
        if stored_version != expected_version {
            return Err(CustomersError::Conflict);
        }
        let updated = customer::Entity::update_many()
            .set(changes)
            .filter(customer::Column::Id.eq(customer.id.as_uuid()))
            .filter(customer::Column::Version.eq(expected_version))
            .exec(&tx)
            .await
            .map_err(write_error("updating a customer"))?;
        if updated.rows_affected == 0 {
            return Err(CustomersError::Conflict);
        }
        let mut deltas = CountDeltas::default();
        deltas.add(
            parse_status(&old_status)?,
            old_assignee.map(UserId::from_uuid),
            -1,
        );
        deltas.add(customer.status, customer.assigned_to, 1);
        deltas.apply(&tx).await?;
        append_audit(&tx, audit, None).await?;
        tx.commit()
            .await
            .map_err(write_error("committing a customer update"))
    }

    async fn delete(&self, id: CustomerId, audit: &[AuditRecord]) -> Result<bool, CustomersError> {
        let tx = begin_write(&self.db)
            .await
            .map_err(unexpected("starting a customer delete"))?;
        // Lock the row before looking for history. On PostgreSQL, FOR UPDATE waits for any
        // transaction inserting a response or enquiry of this customer (its foreign-key
        // check holds KEY SHARE on the row) and makes later ones wait for this delete, so
        // the check below sees every row the cascade could take. SQLite's IMMEDIATE
        // transaction already excludes other writers.
        let found: Option<Uuid> = customer::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(customer::Column::Id)
            .lock_exclusive()
            .into_tuple()
            .one(&tx)
            .await
            .map_err(unexpected("locking a customer for delete"))?;
        if found.is_none() {
            return Ok(false);
        }
        if has_history(&tx, id).await? {
            return Err(CustomersError::HasHistory);
        }
        // RETURNING hands back exactly the row this statement removed, so the counters
        // are decremented for what was really deleted.
        let delete = Query::delete()
            .from_table(customer::Entity)
            .and_where(Expr::col(customer::Column::Id).eq(id.as_uuid()))
            .returning(
                Query::returning()
                    .columns([customer::Column::Status, customer::Column::AssignedTo]),
            )
            .to_owned();
        let Some(row) = tx
            .query_one(&delete)
            .await
            .map_err(unexpected("deleting a customer"))?
        else {
            return Ok(false);
        };
        let status: String = row
            .try_get("", "status")
            .map_err(unexpected("reading a deleted customer's status"))?;
        let assignee: Option<Uuid> = row
            .try_get("", "assigned_to")
            .map_err(unexpected("reading a deleted customer's assignee"))?;
        let mut deltas = CountDeltas::default();
        deltas.add(parse_status(&status)?, assignee.map(UserId::from_uuid), -1);
        deltas.apply(&tx).await?;
        append_audit(&tx, audit, None).await?;
        tx.commit()
            .await
            .map_err(unexpected("committing a customer delete"))?;
        Ok(true)
    }

    async fn list(
        &self,
        query: &CustomerQuery,
        page: PageRequest,
    ) -> Result<Page<Customer>, CustomersError> {
        // The very function tests EXPLAIN, so the plan checked is the plan run.
        let Some(statement) = customer_page_statement(self.db.get_database_backend(), query, page)
        else {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                request: page,
            });
        };
        let assignee = scope(query).assignee();
        let tx = begin_read(&self.db)
            .await
            .map_err(unexpected("starting a customer list"))?;
        let rows = customer::Entity::find()
            .from_raw_sql(statement)
            .all(&tx)
            .await
            .map_err(unexpected("listing customers"))?;
        let total = if query.search.is_some() {
            // A search cannot be counted ahead of time; the trigram index bounds this
            // COUNT on PostgreSQL.
            filtered(query, assignee)
                .count(&tx)
                .await
                .map_err(unexpected("counting matching customers"))?
        } else {
            let key = count_key(assignee, query.status);
            let n = customer_count::Entity::find_by_id(key.clone())
                .one(&tx)
                .await
                .map_err(unexpected("reading a customer counter"))?
                .map_or(0, |row| row.n);
            u64::try_from(n).map_err(|e| {
                Unexpected::new(format!("customer counter {key} is negative ({n})"), e)
            })?
        };
        tx.commit()
            .await
            .map_err(unexpected("finishing a customer list"))?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_keys_name_every_slice_a_customer_is_counted_in() {
        let user = UserId::new();
        assert_eq!(
            count_keys(CustomerStatus::Lead, None),
            ["all", "status:LEAD"]
        );
        assert_eq!(
            count_keys(CustomerStatus::Active, Some(user)),
            [
                "all".to_owned(),
                "status:ACTIVE".to_owned(),
                format!("assignee:{user}"),
                format!("assignee:{user}:status:ACTIVE"),
            ]
        );
    }

    #[test]
    fn an_officer_filtering_for_someone_else_gets_no_statement() {
        let query = CustomerQuery {
            assigned_to: Some(UserId::new()),
            visible_to: Some(UserId::new()),
            ..CustomerQuery::default()
        };
        assert!(
            customer_page_statement(DbBackend::Postgres, &query, PageRequest::default()).is_none()
        );
    }
}
