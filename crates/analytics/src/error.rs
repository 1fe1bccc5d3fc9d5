use nexus_kernel::Unexpected;

use crate::InvalidRange;

/// One refused field of a request, named as the client spells it (`events[3].path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's path in the request.
    pub field: String,
    /// A stable machine code (`invalid`, `too_long`, `required`, `too_many`...).
    pub code: &'static str,
    /// Human-readable text.
    pub message: String,
}

/// Everything that can go wrong with page metrics.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The caller's role may not read reports.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// A batch of events was refused as a whole; nothing of it was stored.
    #[error("the batch has invalid events")]
    InvalidBatch(Vec<FieldProblem>),
    /// The report's date range was refused.
    #[error(transparent)]
    InvalidRange(#[from] InvalidRange),
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
