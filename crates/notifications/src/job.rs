//! Background jobs: what to do, when, and how it went.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_kernel::JobId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a job does, with everything it needs. Stored as JSON; the tag is the job's kind.
///
/// The response, welcome, account-exists and one-time-code mails are outbox subscribers now
/// (their kinds stay in [`JobKind`], which names subscribers too).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Render, store and record the invoice of a paid order.
    GenerateInvoice {
        /// The paid order (a `nexus_orders::OrderId`, held as its UUID: the kernel has no
        /// order id and this crate cannot depend on the orders crate).
        order_id: Uuid,
    },
    /// E-mail the buyer that their order is paid, with its lines and invoice link.
    SendOrderConfirmation {
        /// The paid order (a `nexus_orders::OrderId`, held as its UUID).
        order_id: Uuid,
    },
    /// Render and store the credit note of a refund.
    GenerateCreditNote {
        /// The refunded order (a `nexus_orders::OrderId`, held as its UUID).
        order_id: Uuid,
        /// The gateway refund.
        refund_id: String,
    },
    /// Refund, through the gateway, a captured payment that no order could take.
    RefundUnappliedPayment {
        /// The orders area's record of the payment.
        unapplied_id: Uuid,
    },
    /// E-mail the buyer that money was given back to them.
    SendRefundNotice {
        /// The order the money was paid for (a `nexus_orders::OrderId`, held as its UUID).
        order_id: Uuid,
        /// Amount refunded, in minor units.
        amount_minor: i64,
        /// Its ISO 4217 currency.
        currency: String,
        /// Why, in a sentence for the buyer.
        explanation: String,
    },
}

impl JobPayload {
    /// The stable kind name (also the JSON tag), used for filtering and dispatch.
    #[must_use]
    pub const fn kind(&self) -> JobKind {
        match self {
            Self::GenerateInvoice { .. } => JobKind::GenerateInvoice,
            Self::SendOrderConfirmation { .. } => JobKind::SendOrderConfirmation,
            Self::GenerateCreditNote { .. } => JobKind::GenerateCreditNote,
            Self::RefundUnappliedPayment { .. } => JobKind::RefundUnappliedPayment,
            Self::SendRefundNotice { .. } => JobKind::SendRefundNotice,
        }
    }

    /// Whether the payload holds a secret that must not outlive the job. None does now:
    /// one-time codes travel as the sensitive `identity.code_issued` event. The job store
    /// still honours the flag of rows written when one did.
    #[must_use]
    pub const fn is_sensitive(&self) -> bool {
        false
    }
}

impl fmt::Debug for JobPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GenerateInvoice { order_id } => f
                .debug_struct("GenerateInvoice")
                .field("order_id", order_id)
                .finish(),
            Self::SendOrderConfirmation { order_id } => f
                .debug_struct("SendOrderConfirmation")
                .field("order_id", order_id)
                .finish(),
            Self::GenerateCreditNote {
                order_id,
                refund_id,
            } => f
                .debug_struct("GenerateCreditNote")
                .field("order_id", order_id)
                .field("refund_id", refund_id)
                .finish(),
            Self::RefundUnappliedPayment { unapplied_id } => f
                .debug_struct("RefundUnappliedPayment")
                .field("unapplied_id", unapplied_id)
                .finish(),
            Self::SendRefundNotice {
                order_id,
                amount_minor,
                currency,
                ..
            } => f
                .debug_struct("SendRefundNotice")
                .field("order_id", order_id)
                .field("amount_minor", amount_minor)
                .field("currency", currency)
                .finish_non_exhaustive(),
        }
    }
}

/// The kinds of job, for filters and dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `SendResponse`.
    SendResponse,
    /// `SendWelcome`.
    SendWelcome,
    /// `SendOtp`.
    SendOtp,
    /// `GenerateInvoice`.
    GenerateInvoice,
    /// `SendOrderConfirmation`.
    SendOrderConfirmation,
    /// `SendAccountExists`.
    SendAccountExists,
    /// `GenerateCreditNote`.
    GenerateCreditNote,
    /// `RefundUnappliedPayment`.
    RefundUnappliedPayment,
    /// `SendRefundNotice`.
    SendRefundNotice,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [Self; 9] = [
        Self::SendResponse,
        Self::SendWelcome,
        Self::SendOtp,
        Self::GenerateInvoice,
        Self::SendOrderConfirmation,
        Self::SendAccountExists,
        Self::GenerateCreditNote,
        Self::RefundUnappliedPayment,
        Self::SendRefundNotice,
    ];

    /// The stable name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::SendResponse => "send_response",
            Self::SendWelcome => "send_welcome",
            Self::SendOtp => "send_otp",
            Self::GenerateInvoice => "generate_invoice",
            Self::SendOrderConfirmation => "send_order_confirmation",
            Self::SendAccountExists => "send_account_exists",
            Self::GenerateCreditNote => "generate_credit_note",
            Self::RefundUnappliedPayment => "refund_unapplied_payment",
            Self::SendRefundNotice => "send_refund_notice",
        }
    }
}

/// A text that names no job kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown job kind")]
pub struct UnknownJobKind;

impl FromStr for JobKind {
    type Err = UnknownJobKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownJobKind)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Waiting for `run_at`.
    Pending,
    /// Claimed by a worker until `locked_until`; claimable again after that.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up after too many attempts or a permanent failure; visible to administrators.
    Dead,
}

impl JobState {
    /// Every state.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Running, Self::Done, Self::Dead];

    /// The stable name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Done => "DONE",
            Self::Dead => "DEAD",
        }
    }
}

/// A text that names no job state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state (expected PENDING, RUNNING, DONE or DEAD)")]
pub struct UnknownJobState;

impl FromStr for JobState {
    type Err = UnknownJobState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownJobState)
    }
}

/// A job to write, usually in the same transaction as the state change that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Id (also the idempotency key of what the job sends).
    pub id: JobId,
    /// What to do.
    pub payload: JobPayload,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Attempts before the job is DEAD.
    pub max_attempts: u32,
}

impl NewJob {
    /// Attempts allowed when nothing else is configured.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

    /// A job due now with the default attempt budget.
    #[must_use]
    pub fn now(payload: JobPayload, now: DateTime<Utc>) -> Self {
        Self {
            id: JobId::new(),
            payload,
            run_at: now,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Id.
    pub id: JobId,
    /// What to do; `None` once a sensitive payload has been cleared after the job ended.
    pub payload: Option<JobPayload>,
    /// The kind (kept when the payload is cleared).
    pub kind: JobKind,
    /// State.
    pub state: JobState,
    /// Attempts started so far.
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Next time it may run.
    pub run_at: DateTime<Utc>,
    /// Worker holding it, while running.
    pub locked_by: Option<String>,
    /// Lease end, while running.
    pub locked_until: Option<DateTime<Utc>>,
    /// Last failure message.
    pub last_error: Option<String>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_payload_of_each_kind() -> Vec<JobPayload> {
        vec![
            JobPayload::GenerateInvoice {
                order_id: Uuid::now_v7(),
            },
            JobPayload::SendOrderConfirmation {
                order_id: Uuid::now_v7(),
            },
            JobPayload::GenerateCreditNote {
                order_id: Uuid::now_v7(),
                refund_id: "rfnd_1".into(),
            },
            JobPayload::RefundUnappliedPayment {
                unapplied_id: Uuid::now_v7(),
            },
            JobPayload::SendRefundNotice {
                order_id: Uuid::now_v7(),
                amount_minor: 100,
                currency: "INR".into(),
                explanation: "a test".into(),
            },
        ]
    }

    #[test]
    fn every_payload_has_its_own_kind_listed_in_all() {
        let kinds: Vec<JobKind> = one_payload_of_each_kind()
            .iter()
            .map(JobPayload::kind)
            .collect();

        let mut distinct = kinds.clone();
        distinct.dedup();
        assert_eq!(distinct, kinds);
        assert!(kinds.iter().all(|k| JobKind::ALL.contains(k)), "{kinds:?}");
    }

    #[test]
    fn kind_names_are_unique_and_parse_back() {
        let mut names: Vec<&str> = JobKind::ALL.iter().map(JobKind::as_str).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JobKind::ALL.len());
        for kind in JobKind::ALL {
            assert_eq!(kind.as_str().to_uppercase().parse::<JobKind>(), Ok(kind));
        }
        assert_eq!("send_fax".parse::<JobKind>(), Err(UnknownJobKind));
    }

    #[test]
    fn no_job_payload_is_sensitive_any_more() {
        for payload in one_payload_of_each_kind() {
            assert!(!payload.is_sensitive(), "{payload:?}");
        }
    }
}
