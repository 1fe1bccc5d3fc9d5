//! [`RedirectRepository`] and the redirect unit of work over `redirect_rules`; audit entries
//! go to `content_audit`, events to the outbox, all in one transaction.

use async_trait::async_trait;
use nexus_kernel::{AuditRecord, Page, PageRequest, Unexpected, UserId, redact};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{
    DbError, EventTransaction, Transactions, actor_with_role, append_audit, begin_read,
    contains_pattern, unexpected,
};
use nexus_seo::{
    ENTITY_REDIRECT_RULE, Redirect, RedirectAudit, RedirectKind, RedirectRepository, RedirectRule,
    RedirectStore, RedirectTx, RedirectUnitOfWork, SeoError,
};
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait,
    DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, ExprTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::entities::{audit_entry, redirect_rule};

/// The advisory lock key that serialises redirect writes on PostgreSQL ("redirect").
const REDIRECT_LOCK: i64 = 0x0072_6564_6972_6563;

fn fail(context: &'static str) -> impl FnOnce(DbErr) -> SeoError {
    move |e| SeoError::Unexpected(unexpected(context)(e))
}

fn kind_of(raw: i16) -> Option<RedirectKind> {
    match raw {
        301 => Some(RedirectKind::Permanent),
        302 => Some(RedirectKind::Temporary),
        410 => Some(RedirectKind::Gone),
        _ => None,
    }
}

fn to_row(r: &RedirectRule) -> redirect_rule::Model {
    redirect_rule::Model {
        id: r.id,
        source: r.rule.from().to_owned(),
        kind: i16::try_from(r.rule.kind().status()).unwrap_or_default(),
        target: r.rule.to().map(|t| t.as_str().to_owned()),
        note: r.note.clone(),
        version: r.version,
        created_at: r.created_at,
        created_by: r.created_by,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
    }
}

fn from_row(row: redirect_rule::Model) -> Result<RedirectRule, SeoError> {
    let kind = kind_of(row.kind).ok_or_else(|| {
        SeoError::Unexpected(Unexpected::msg(format!(
            "redirect_rules row {} has an invalid kind",
            row.id
        )))
    })?;
    let rule = Redirect::new(&row.source, kind, row.target.as_deref()).map_err(|e| {
        SeoError::Unexpected(Unexpected::new(
            format!("redirect_rules row {} has an invalid rule", row.id),
            e,
        ))
    })?;
    Ok(RedirectRule {
        id: row.id,
        rule,
        note: row.note,
        version: row.version,
        created_at: row.created_at,
        created_by: row.created_by,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}

fn write_error(context: &'static str) -> impl FnOnce(DbErr) -> SeoError {
    move |e| match DbError::classify(&e) {
        DbError::UniqueViolation(m) if m.contains("source") => SeoError::SourceTaken,
        _ => fail(context)(e),
    }
}

async fn all_rules<C: ConnectionTrait>(
    conn: &C,
    limit: u32,
) -> Result<Vec<RedirectRule>, SeoError> {
    redirect_rule::Entity::find()
        .order_by_asc(redirect_rule::Column::Source)
        .limit(u64::from(limit))
        .all(conn)
        .await
        .map_err(fail("reading the redirect rules"))?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Reads redirect rules with SeaORM. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaRedirectRepository {
    db: DatabaseConnection,
}

impl SeaRedirectRepository {
    /// A repository over `db`, which must be migrated.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RedirectRepository for SeaRedirectRepository {
    async fn find(&self, id: Uuid) -> Result<Option<RedirectRule>, SeoError> {
        redirect_rule::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(fail("loading a redirect rule"))?
            .map(from_row)
            .transpose()
    }

    async fn list(
        &self,
        query: Option<String>,
        page: PageRequest,
    ) -> Result<Page<RedirectRule>, SeoError> {
        let mut select = redirect_rule::Entity::find();
        if let Some(q) = query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = contains_pattern(&q.to_lowercase());
            let like = |col: redirect_rule::Column| {
                Expr::expr(Func::lower(Expr::col((redirect_rule::Entity, col))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select = select.filter(
                Condition::any()
                    .add(like(redirect_rule::Column::Source))
                    .add(like(redirect_rule::Column::Target)),
            );
        }
        let select = select
            .order_by_asc(redirect_rule::Column::Source)
            .order_by_asc(redirect_rule::Column::Id);
        let tx = begin_read(&self.db)
            .await
            .map_err(fail("starting a redirect list"))?;
        let total = select
            .clone()
            .count(&tx)
            .await
            .map_err(fail("counting redirect rules"))?;
        let rows = select
            .offset(page.offset())
            .limit(u64::from(page.limit()))
            .all(&tx)
            .await
            .map_err(fail("reading redirect rules"))?;
        tx.commit()
            .await
            .map_err(fail("finishing a redirect list"))?;
        Ok(Page {
            items: rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
            total,
            request: page,
        })
    }

    async fn all(&self, limit: u32) -> Result<Vec<RedirectRule>, SeoError> {
        all_rules(&self.db, limit).await
    }
}

/// Opens [`SeaRedirectTx`]s. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaRedirectUnitOfWork {
    transactions: Transactions,
}

impl SeaRedirectUnitOfWork {
    /// Units of work over `transactions`' database, which must be migrated.
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl RedirectUnitOfWork for SeaRedirectUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn RedirectTx>, SeoError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(fail("starting a redirect unit of work"))?;
        // A write checks the new rule against every rule read in its own transaction: two
        // writers at once could each close half of a loop, so they take turns (SQLite's
        // `BEGIN IMMEDIATE` already makes them; PostgreSQL takes a transaction lock).
        let backend = tx.conn().get_database_backend();
        if backend == DatabaseBackend::Postgres {
            tx.conn()
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT pg_advisory_xact_lock($1)",
                    [REDIRECT_LOCK.into()],
                ))
                .await
                .map_err(fail("locking the redirect rules"))?;
        }
        Ok(Box::new(SeaRedirectTx { tx }))
    }
}

/// One open redirect unit of work.
#[derive(Debug)]
pub struct SeaRedirectTx {
    tx: EventTransaction,
}

#[async_trait]
impl RedirectStore for SeaRedirectTx {
    async fn all(&self, limit: u32) -> Result<Vec<RedirectRule>, SeoError> {
        all_rules(self.tx.conn(), limit).await
    }

    async fn insert(&self, rule: &RedirectRule) -> Result<(), SeoError> {
        redirect_rule::Entity::insert(to_row(rule).into_active_model())
            .exec_without_returning(self.tx.conn())
            .await
            .map_err(write_error("inserting a redirect rule"))?;
        Ok(())
    }

    async fn update(&self, rule: &RedirectRule, expected_version: i64) -> Result<(), SeoError> {
        let mut changes = to_row(rule).into_active_model().reset_all();
        changes.id = NotSet;
        changes.created_at = NotSet;
        changes.created_by = NotSet;
        let updated = redirect_rule::Entity::update_many()
            .set(changes)
            .filter(redirect_rule::Column::Id.eq(rule.id))
            .filter(redirect_rule::Column::Version.eq(expected_version))
            .exec(self.tx.conn())
            .await
            .map_err(write_error("updating a redirect rule"))?;
        if updated.rows_affected == 0 {
            return Err(SeoError::Conflict);
        }
        Ok(())
    }

    async fn delete(&self, id: Uuid, expected_version: i64) -> Result<(), SeoError> {
        let deleted = redirect_rule::Entity::delete_many()
            .filter(redirect_rule::Column::Id.eq(id))
            .filter(redirect_rule::Column::Version.eq(expected_version))
            .exec(self.tx.conn())
            .await
            .map_err(fail("deleting a redirect rule"))?;
        if deleted.rows_affected == 0 {
            return Err(SeoError::Conflict);
        }
        Ok(())
    }

    async fn insert_audit(&self, entry: &RedirectAudit) -> Result<(), SeoError> {
        let row = audit_entry::Model {
            id: entry.id,
            at: entry.at,
            actor_id: Some(entry.actor),
            entity_kind: ENTITY_REDIRECT_RULE.to_owned(),
            entity_id: entry.rule_id,
            action: entry.action.clone(),
            changes: entry.changes.to_string(),
        };
        audit_entry::Entity::insert(row.into_active_model())
            .exec_without_returning(self.tx.conn())
            .await
            .map_err(fail("inserting an audit entry"))?;
        // The same entry goes to the general audit log, in the same transaction.
        let actor = actor_with_role(self.tx.conn(), UserId::from_uuid(entry.actor)).await?;
        let record = AuditRecord {
            id: entry.id,
            actor,
            action: format!("redirects.{}", entry.action),
            target_kind: ENTITY_REDIRECT_RULE.to_owned(),
            target_id: entry.rule_id.to_string(),
            summary: redact(entry.changes.clone()),
            occurred_at: entry.at,
        };
        append_audit(self.tx.conn(), &[record], None).await?;
        Ok(())
    }
}

#[async_trait]
impl RedirectTx for SeaRedirectTx {
    fn redirects(&self) -> &dyn RedirectStore {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    async fn commit(self: Box<Self>) -> Result<(), SeoError> {
        self.tx.commit().await.map_err(SeoError::Unexpected)
    }
}
