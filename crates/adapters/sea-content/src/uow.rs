//! The content unit of work on the database: one write transaction whose page, version and
//! audit writes and recorded events commit together.

use async_trait::async_trait;
use nexus_content::{
    AuditEntry, ContentError, ContentTx, ContentUnitOfWork, Page, PageId, PageStore, PageVersion,
    Post, PostId, PostStore, TeamMember, TeamMemberId, TeamStore,
};
use nexus_kernel::{AuditRecord, redact};
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{
    EventTransaction, Transactions, actor_with_role, append_audit, unexpected,
};
use sea_orm::ConnectionTrait;

use crate::pages::{delete_page, insert_audit, insert_page, insert_version, update_page};
use crate::posts::{
    add_old_slug, delete_post, drop_old_slug, insert_post, prepare_post_write, update_post,
};
use crate::team::{delete_member, insert_member, update_member};

/// Opens [`SeaContentTx`]s. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaContentUnitOfWork {
    transactions: Transactions,
}

impl SeaContentUnitOfWork {
    /// Units of work over `transactions`' database, which must be migrated.
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl ContentUnitOfWork for SeaContentUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn ContentTx>, ContentError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting a content unit of work"))?;
        prepare_post_write(tx.conn())
            .await
            .map_err(unexpected("preparing a content unit of work"))?;
        Ok(Box::new(SeaContentTx { tx }))
    }
}

/// One open content unit of work.
#[derive(Debug)]
pub struct SeaContentTx {
    tx: EventTransaction,
}

#[async_trait]
impl PageStore for SeaContentTx {
    async fn insert(&self, page: &Page) -> Result<(), ContentError> {
        insert_page(self.tx.conn(), page).await
    }

    async fn update(&self, page: &Page, expected_version: i64) -> Result<(), ContentError> {
        update_page(self.tx.conn(), page, expected_version).await
    }

    async fn delete(&self, id: PageId, expected_version: i64) -> Result<(), ContentError> {
        delete_page(self.tx.conn(), id, expected_version).await
    }

    async fn insert_version(&self, version: &PageVersion) -> Result<(), ContentError> {
        insert_version(self.tx.conn(), version).await
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), ContentError> {
        insert_audit(self.tx.conn(), entry).await?;
        // The content trail keeps serving the page history; the same entry goes to the
        // general audit log, in the same transaction.
        let record = general_record(self.tx.conn(), entry).await?;
        append_audit(self.tx.conn(), &[record], None).await?;
        Ok(())
    }
}

/// `entry` as a record of the general audit log: action `<pages|posts|team>.<verb>`, the
/// actor with the role their account has now (the content trail keeps only the id).
async fn general_record<C: ConnectionTrait>(
    conn: &C,
    entry: &AuditEntry,
) -> Result<AuditRecord, ContentError> {
    let actor = match entry.actor {
        None => None,
        Some(user_id) => actor_with_role(conn, user_id).await?,
    };
    let context = match entry.entity_kind.as_str() {
        "page" => "pages",
        "post" => "posts",
        "team_member" => "team",
        other => other,
    };
    Ok(AuditRecord {
        id: entry.id.as_uuid(),
        actor,
        action: format!("{context}.{}", entry.action),
        target_kind: entry.entity_kind.clone(),
        target_id: entry.entity_id.to_string(),
        summary: redact(entry.changes.clone()),
        occurred_at: entry.at,
    })
}

#[async_trait]
impl TeamStore for SeaContentTx {
    async fn insert(&self, member: &TeamMember) -> Result<(), ContentError> {
        insert_member(self.tx.conn(), member).await
    }

    async fn update(&self, member: &TeamMember, expected_version: i64) -> Result<(), ContentError> {
        update_member(self.tx.conn(), member, expected_version).await
    }

    async fn delete(&self, id: TeamMemberId, expected_version: i64) -> Result<(), ContentError> {
        delete_member(self.tx.conn(), id, expected_version).await
    }
}

#[async_trait]
impl PostStore for SeaContentTx {
    async fn insert(&self, post: &Post) -> Result<(), ContentError> {
        insert_post(self.tx.conn(), post).await
    }

    async fn update(&self, post: &Post, expected_version: i64) -> Result<(), ContentError> {
        update_post(self.tx.conn(), post, expected_version).await
    }

    async fn delete(&self, id: PostId, expected_version: i64) -> Result<(), ContentError> {
        delete_post(self.tx.conn(), id, expected_version).await
    }

    async fn add_old_slug(&self, id: PostId, slug: &str) -> Result<(), ContentError> {
        add_old_slug(self.tx.conn(), id, slug, chrono::Utc::now()).await
    }

    async fn drop_old_slug(&self, id: PostId, slug: &str) -> Result<(), ContentError> {
        drop_old_slug(self.tx.conn(), id, slug).await
    }
}

#[async_trait]
impl ContentTx for SeaContentTx {
    fn pages(&self) -> &dyn PageStore {
        self
    }

    fn team(&self) -> &dyn TeamStore {
        self
    }

    fn posts(&self) -> &dyn PostStore {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.tx.audit(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), ContentError> {
        Ok(self.tx.commit().await?)
    }
}
