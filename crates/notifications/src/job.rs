//! Background jobs: what to do, when, and how it went.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use nexus_kernel::{Email, JobId, ResponseId, UserId};
use serde::{Deserialize, Serialize};

/// What a job does, with everything it needs. Stored as JSON; the tag is the job's kind.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// E-mail an approved response to its customer, then mark it sent.
    SendResponse {
        /// The approved response.
        response_id: ResponseId,
    },
    /// Welcome a newly registered user.
    SendWelcome {
        /// The new user.
        user_id: UserId,
    },
    /// Tell the owner of an address that someone tried to register it again (registration
    /// answers the same either way, so the owner hears of it by e-mail instead).
    SendAccountExists {
        /// The existing account.
        user_id: UserId,
    },
    /// Send a one-time code. The code is cleared from storage once the job has finished.
    SendOtp {
        /// Recipient account.
        user_id: UserId,
        /// Recipient address.
        email: Email,
        /// The plain code (6 digits).
        code: String,
        /// `VERIFY_EMAIL` or `LOGIN`.
        purpose: String,
        /// Minutes until the code expires, for the message.
        expires_in_minutes: u32,
    },
}

impl JobPayload {
    /// The stable kind name (also the JSON tag), used for filtering and dispatch.
    #[must_use]
    pub const fn kind(&self) -> JobKind {
        match self {
            Self::SendResponse { .. } => JobKind::SendResponse,
            Self::SendWelcome { .. } => JobKind::SendWelcome,
            Self::SendAccountExists { .. } => JobKind::SendAccountExists,
            Self::SendOtp { .. } => JobKind::SendOtp,
        }
    }

    /// Whether the payload holds a secret that must not outlive the job.
    #[must_use]
    pub const fn is_sensitive(&self) -> bool {
        matches!(self, Self::SendOtp { .. })
    }
}

impl fmt::Debug for JobPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SendResponse { response_id } => f
                .debug_struct("SendResponse")
                .field("response_id", response_id)
                .finish(),
            Self::SendWelcome { user_id } => f
                .debug_struct("SendWelcome")
                .field("user_id", user_id)
                .finish(),
            Self::SendAccountExists { user_id } => f
                .debug_struct("SendAccountExists")
                .field("user_id", user_id)
                .finish(),
            Self::SendOtp {
                user_id, purpose, ..
            } => f
                .debug_struct("SendOtp")
                .field("user_id", user_id)
                .field("purpose", purpose)
                .field("code", &"[redacted]")
                .finish_non_exhaustive(),
        }
    }
}

/// The kinds of job, for filters and dispatch. An event subscriber's name is a kind too
/// (the administrators' list shows deliveries beside jobs): the orders area's kinds have no
/// [`JobPayload`] any more, only subscribers of that name.
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
    /// `ExpireOrder` (the subscriber expiring an order never paid).
    ExpireOrder,
    /// The catalog's `index_product` subscriber (a delivery kind only: no job payload).
    IndexProduct,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [Self; 10] = [
        Self::SendResponse,
        Self::SendWelcome,
        Self::SendOtp,
        Self::GenerateInvoice,
        Self::SendOrderConfirmation,
        Self::SendAccountExists,
        Self::GenerateCreditNote,
        Self::RefundUnappliedPayment,
        Self::SendRefundNotice,
        Self::ExpireOrder,
        Self::IndexProduct,
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
            Self::ExpireOrder => "expire_order",
            Self::IndexProduct => "index_product",
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
        let user_id = UserId::new();
        vec![
            JobPayload::SendResponse {
                response_id: ResponseId::new(),
            },
            JobPayload::SendWelcome { user_id },
            JobPayload::SendOtp {
                user_id,
                email: Email::parse("ada@example.com").expect("valid e-mail"),
                code: "123456".into(),
                purpose: "LOGIN".into(),
                expires_in_minutes: 10,
            },
            JobPayload::SendAccountExists { user_id },
        ]
    }

    #[test]
    fn every_payload_has_its_own_kind_listed_in_all() {
        let kinds: Vec<JobKind> = one_payload_of_each_kind()
            .iter()
            .map(JobPayload::kind)
            .collect();

        let unique: std::collections::HashSet<&JobKind> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len());
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
    fn only_one_time_codes_are_sensitive_and_debug_hides_the_code() {
        for payload in one_payload_of_each_kind() {
            assert_eq!(
                payload.is_sensitive(),
                payload.kind() == JobKind::SendOtp,
                "{payload:?}"
            );
            assert!(!format!("{payload:?}").contains("123456"));
        }
    }
}
