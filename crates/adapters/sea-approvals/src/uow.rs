//! The approvals' unit of work: one write transaction ([`EventTransaction`]) with the
//! response store and the enquiry side bound to it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_approvals::{
    ApprovalsError, ApprovalsTx, ApprovalsUnitOfWork, DeadlineStage, DueResponse, EnquiryAnswers,
    Response, ResponseEvent, ResponseId, ResponseStore,
};
use nexus_customers::EnquiryId;
use nexus_outbox::EventEnvelope;
use nexus_sea_support::{EventTransaction, Transactions, unexpected};

use crate::responses::{
    due_responses, insert_response, mark_deadline_stage, mark_enquiry_answered, save_response,
};

/// Opens approvals units of work on the database of `transactions`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaApprovalsUnitOfWork {
    transactions: Transactions,
}

impl SeaApprovalsUnitOfWork {
    /// Units of work over `transactions` (a migrated database and the subscriber routes).
    #[must_use]
    pub fn new(transactions: Transactions) -> Self {
        Self { transactions }
    }
}

#[async_trait]
impl ApprovalsUnitOfWork for SeaApprovalsUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn ApprovalsTx>, ApprovalsError> {
        let tx = self
            .transactions
            .begin()
            .await
            .map_err(unexpected("starting an approvals unit of work"))?;
        Ok(Box::new(SeaApprovalsTx { tx }))
    }
}

/// One open approvals unit of work; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct SeaApprovalsTx {
    tx: EventTransaction,
}

#[async_trait]
impl ApprovalsTx for SeaApprovalsTx {
    fn responses(&self) -> &dyn ResponseStore {
        self
    }

    fn enquiries(&self) -> &dyn EnquiryAnswers {
        self
    }

    fn record(&mut self, event: EventEnvelope) {
        self.tx.record(event);
    }

    fn audit(&mut self, record: nexus_kernel::AuditRecord) {
        self.tx.audit(record);
    }

    async fn commit(self: Box<Self>) -> Result<(), ApprovalsError> {
        Ok(self.tx.commit().await?)
    }
}

#[async_trait]
impl ResponseStore for SeaApprovalsTx {
    async fn insert(
        &self,
        response: &Response,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        insert_response(self.tx.conn(), response, event).await
    }

    async fn save(
        &self,
        response: &Response,
        expected_version: i64,
        event: &ResponseEvent,
    ) -> Result<(), ApprovalsError> {
        save_response(self.tx.conn(), response, expected_version, event).await
    }

    async fn due(
        &self,
        stage: DeadlineStage,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DueResponse>, ApprovalsError> {
        due_responses(self.tx.conn(), stage, now, limit).await
    }

    async fn mark_stage(
        &self,
        id: ResponseId,
        stage: DeadlineStage,
        at: DateTime<Utc>,
    ) -> Result<bool, ApprovalsError> {
        mark_deadline_stage(self.tx.conn(), id, stage, at).await
    }
}

#[async_trait]
impl EnquiryAnswers for SeaApprovalsTx {
    async fn mark_answered(
        &self,
        id: EnquiryId,
        at: DateTime<Utc>,
    ) -> Result<bool, ApprovalsError> {
        mark_enquiry_answered(self.tx.conn(), id, at).await
    }
}
