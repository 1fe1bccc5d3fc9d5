//! Responses, their validated values, and the approval state machine.

use std::fmt;
use std::str::FromStr;

use crate::ResponseId;
use chrono::{DateTime, Utc};
use nexus_customers::{CustomerId, EnquiryId};
use nexus_kernel::{Unexpected, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ApprovalsError, Deadline};

/// A response value that breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidResponseValue {
    /// Subjects are 1 to 200 characters on one line.
    #[error("subject must be 1 to 200 characters without control characters")]
    Subject,
    /// Content is 1 to 20 000 characters; line breaks and tabs are the only control
    /// characters allowed.
    #[error(
        "content must be 1 to 20000 characters; line breaks and tabs are the only control characters allowed"
    )]
    Content,
    /// Review notes are 1 to 2 000 characters; line breaks and tabs are the only control
    /// characters allowed.
    #[error(
        "review notes must be 1 to 2000 characters; line breaks and tabs are the only control characters allowed"
    )]
    Notes,
    /// Unknown status name.
    #[error("status must be one of DRAFT, PENDING_APPROVAL, APPROVED, SENT, REJECTED")]
    Status,
}

/// Where a response is in its approval workflow.
///
/// ```text
/// DRAFT --submit--> PENDING_APPROVAL --approve--> APPROVED --mark_sent--> SENT
///   ^                       |
///   |                    reject
///   +------edit------ REJECTED
/// ```
///
/// `edit` keeps a DRAFT a DRAFT. Nothing else moves a response, so nothing reaches a
/// customer without an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResponseStatus {
    /// Being written by its author; only the author may change or submit it.
    Draft,
    /// Submitted and waiting for a reviewer other than the author.
    PendingApproval,
    /// Approved by a reviewer; the event that sends it was recorded with the approval.
    Approved,
    /// The mail server accepted the message. Final.
    Sent,
    /// Sent back by a reviewer with notes; the author may revise it (back to DRAFT).
    Rejected,
}

impl ResponseStatus {
    /// Every status, in workflow order.
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::PendingApproval,
        Self::Approved,
        Self::Sent,
        Self::Rejected,
    ];

    /// The stable wire and storage name (`DRAFT`, `PENDING_APPROVAL`, ...).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::PendingApproval => "PENDING_APPROVAL",
            Self::Approved => "APPROVED",
            Self::Sent => "SENT",
            Self::Rejected => "REJECTED",
        }
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseStatus {
    type Err = InvalidResponseValue;

    /// Parses a wire name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(InvalidResponseValue::Status)
    }
}

/// Trims `raw` and checks it is 1..=`max_chars` characters whose only control characters
/// are line breaks and tabs. NUL in particular is refused: PostgreSQL cannot store it.
fn parse_multiline(raw: &str, max_chars: usize) -> Option<String> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && s.chars().count() <= max_chars
        && s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    ok.then(|| s.to_owned())
}

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $max:expr, $invalid:ident, $parse:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest value accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks the text.
            ///
            /// # Errors
            #[doc = concat!("`InvalidResponseValue::", stringify!($invalid), "` when it breaks the rule.")]
            pub fn parse(raw: &str) -> Result<Self, InvalidResponseValue> {
                let parse: fn(&str, usize) -> Option<String> = $parse;
                parse(raw, Self::MAX_CHARS)
                    .map(Self)
                    .ok_or(InvalidResponseValue::$invalid)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidResponseValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

text_newtype!(
    /// A response's subject line: trimmed, 1 to 200 characters, no control characters at
    /// all (it becomes a mail header, so a line break would be header injection).
    ResponseSubject,
    200,
    Subject,
    |raw, max| nexus_kernel::parse_text(raw, max).ok()
);

text_newtype!(
    /// A response's body: trimmed, 1 to 20 000 characters, plain text with line breaks.
    ResponseContent,
    20_000,
    Content,
    parse_multiline
);

text_newtype!(
    /// A reviewer's notes on a decision: trimmed, 1 to 2 000 characters. Required to reject
    /// (so the author knows what to fix), optional to approve.
    ReviewNotes,
    2_000,
    Notes,
    parse_multiline
);

/// A stored response that breaks the workflow's invariants (a bad row, never a client
/// error: adapters turn it into `Unexpected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stored response is inconsistent: {0}")]
pub struct InconsistentResponse(&'static str);

impl InconsistentResponse {
    /// A broken invariant an adapter found in a row before rebuilding the response.
    #[must_use]
    pub const fn new(reason: &'static str) -> Self {
        Self(reason)
    }

    /// Which invariant is broken.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        self.0
    }
}

/// The plain fields of a [`Response`], for adapters: `Response::from_parts` rebuilds a
/// response from storage (checking the workflow's invariants) and `Response::into_parts`
/// takes one apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseParts {
    /// Identity.
    pub id: ResponseId,
    /// The customer it is addressed to.
    pub customer_id: CustomerId,
    /// The enquiry it answers, if any.
    pub enquiry_id: Option<EnquiryId>,
    /// The staff member who wrote it.
    pub author_id: UserId,
    /// Subject line.
    pub subject: ResponseSubject,
    /// Body.
    pub content: ResponseContent,
    /// Workflow state.
    pub status: ResponseStatus,
    /// Optimistic-concurrency version, 1 at creation and bumped by every transition.
    pub version: i64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last transition at.
    pub updated_at: DateTime<Utc>,
    /// Last submitted for approval at.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Reviewer of the last decision.
    pub decided_by: Option<UserId>,
    /// Time of the last decision.
    pub decided_at: Option<DateTime<Utc>>,
    /// Reviewer's notes on the last decision.
    pub decision_notes: Option<ReviewNotes>,
    /// Accepted by the mail server at.
    pub sent_at: Option<DateTime<Utc>>,
    /// The deadline of the last submission, when deadlines are kept.
    pub deadline: Option<Deadline>,
}

/// A staff response to a customer and where it is in the approval workflow.
///
/// Fields are private so that a status can only change through the transition methods
/// (`edit`, `submit`, `approve`, `reject`, `mark_sent`): an approval can never be skipped.
/// Each transition returns the next version of the response together with the event that
/// records it; it does not change `self`.
///
/// The last decision (`decided_by`, `decided_at`, `decision_notes`) survives a revision of
/// a rejected response, so that its author can see what to fix; `submit` clears it, since a
/// pending response has no decision yet. Every decision also stays in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    id: ResponseId,
    customer_id: CustomerId,
    enquiry_id: Option<EnquiryId>,
    author_id: UserId,
    subject: ResponseSubject,
    content: ResponseContent,
    status: ResponseStatus,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    decided_by: Option<UserId>,
    decided_at: Option<DateTime<Utc>>,
    decision_notes: Option<ReviewNotes>,
    sent_at: Option<DateTime<Utc>>,
    deadline: Option<Deadline>,
}

/// One entry of a response's append-only history: who moved it from which status to which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEvent {
    /// Identity (UUID v7, so events sort by time).
    pub id: Uuid,
    /// The response that changed.
    pub response_id: ResponseId,
    /// Who did it; `None` for the system (the mail worker marking it sent).
    pub actor_id: Option<UserId>,
    /// Status before; `None` for the creation.
    pub from: Option<ResponseStatus>,
    /// Status after.
    pub to: ResponseStatus,
    /// The reviewer's notes, for approvals and rejections.
    pub notes: Option<ReviewNotes>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a transition produced: the response's next version and the history entry
/// recording the change, written together by a unit of work (the service records the
/// domain event a transition causes, such as `ResponseApproved`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The response after the transition, with its version bumped.
    pub response: Response,
    /// The history entry.
    pub event: ResponseEvent,
}

/// Input to draft a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResponse {
    /// The customer to answer; the author must be able to see them.
    pub customer_id: CustomerId,
    /// The enquiry it answers; it must belong to `customer_id`.
    pub enquiry_id: Option<EnquiryId>,
    /// Subject line.
    pub subject: ResponseSubject,
    /// Body.
    pub content: ResponseContent,
}

/// A revision of a draft or rejected response; fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateResponse {
    /// New subject line.
    pub subject: Option<ResponseSubject>,
    /// New body.
    pub content: Option<ResponseContent>,
}

/// Which responses to list. `visible_to` is set by the service, never by clients, and is
/// ANDed with the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseQuery {
    /// Only this status.
    pub status: Option<ResponseStatus>,
    /// Only responses to this customer.
    pub customer_id: Option<CustomerId>,
    /// Only responses written by this user.
    pub author_id: Option<UserId>,
    /// Scope: only responses written by this user OR to a customer assigned to this user.
    pub visible_to: Option<UserId>,
}

impl Response {
    /// A new DRAFT by `author_id`, at version 1, with its creation event.
    ///
    /// Whether the author may answer this customer, and whether the enquiry is theirs, are
    /// the service's checks; this only builds the values.
    #[must_use]
    pub fn draft(author_id: UserId, input: NewResponse, at: DateTime<Utc>) -> Transition {
        let response = Self {
            id: ResponseId::new(),
            customer_id: input.customer_id,
            enquiry_id: input.enquiry_id,
            author_id,
            subject: input.subject,
            content: input.content,
            status: ResponseStatus::Draft,
            version: 1,
            created_at: at,
            updated_at: at,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            decision_notes: None,
            sent_at: None,
            deadline: None,
        };
        let event = ResponseEvent {
            id: Uuid::now_v7(),
            response_id: response.id,
            actor_id: Some(author_id),
            from: None,
            to: ResponseStatus::Draft,
            notes: None,
            at,
        };
        Transition { response, event }
    }

    /// Rebuilds a response from storage, checking the invariants each status implies.
    ///
    /// # Errors
    /// `InconsistentResponse` naming the first invariant broken.
    pub fn from_parts(parts: ResponseParts) -> Result<Self, InconsistentResponse> {
        use ResponseStatus as S;
        let p = &parts;
        let decided = p.submitted_at.is_some() && p.decided_by.is_some() && p.decided_at.is_some();
        if p.version < 1 {
            return Err(InconsistentResponse("version must be at least 1"));
        }
        if p.sent_at.is_some() != (p.status == S::Sent) {
            return Err(InconsistentResponse("sent_at is set exactly when SENT"));
        }
        match p.status {
            S::Draft => {}
            S::PendingApproval => {
                if p.submitted_at.is_none() || p.decided_by.is_some() || p.decided_at.is_some() {
                    return Err(InconsistentResponse(
                        "a pending response is submitted and undecided",
                    ));
                }
            }
            S::Approved | S::Sent | S::Rejected => {
                if !decided {
                    return Err(InconsistentResponse(
                        "a decided response has submitted_at, decided_by and decided_at",
                    ));
                }
                if p.status == S::Rejected && p.decision_notes.is_none() {
                    return Err(InconsistentResponse("a rejection has notes"));
                }
            }
        }
        if p.decided_by.is_some_and(|reviewer| reviewer == p.author_id) {
            return Err(InconsistentResponse("decided by its own author"));
        }
        if let Some(d) = p.deadline
            && (p.submitted_at.is_none() || d.warn_at > d.due_at)
        {
            return Err(InconsistentResponse(
                "a deadline belongs to a submission, and its warning comes before it is due",
            ));
        }
        Ok(Self {
            id: parts.id,
            customer_id: parts.customer_id,
            enquiry_id: parts.enquiry_id,
            author_id: parts.author_id,
            subject: parts.subject,
            content: parts.content,
            status: parts.status,
            version: parts.version,
            created_at: parts.created_at,
            updated_at: parts.updated_at,
            submitted_at: parts.submitted_at,
            decided_by: parts.decided_by,
            decided_at: parts.decided_at,
            decision_notes: parts.decision_notes,
            sent_at: parts.sent_at,
            deadline: parts.deadline,
        })
    }

    /// Takes the response apart, for storage.
    #[must_use]
    pub fn into_parts(self) -> ResponseParts {
        ResponseParts {
            id: self.id,
            customer_id: self.customer_id,
            enquiry_id: self.enquiry_id,
            author_id: self.author_id,
            subject: self.subject,
            content: self.content,
            status: self.status,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            submitted_at: self.submitted_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_notes: self.decision_notes,
            sent_at: self.sent_at,
            deadline: self.deadline,
        }
    }

    /// Revises a DRAFT or REJECTED response; the result is a DRAFT (a rejected response
    /// must be submitted again after its revision).
    ///
    /// # Errors
    /// `NotAuthor` unless `by` wrote it; `InvalidTransition` from any other status.
    pub fn edit(
        &self,
        by: UserId,
        change: UpdateResponse,
        at: DateTime<Utc>,
    ) -> Result<Transition, ApprovalsError> {
        self.ensure_author(by)?;
        self.ensure_status(&[ResponseStatus::Draft, ResponseStatus::Rejected], "edit")?;
        let mut next = self.next_version(at)?;
        if let Some(subject) = change.subject {
            next.subject = subject;
        }
        if let Some(content) = change.content {
            next.content = content;
        }
        next.status = ResponseStatus::Draft;
        Ok(self.transition(next, Some(by), None))
    }

    /// Submits a DRAFT for approval.
    ///
    /// # Errors
    /// `NotAuthor` unless `by` wrote it; `InvalidTransition` unless it is a DRAFT.
    pub fn submit(&self, by: UserId, at: DateTime<Utc>) -> Result<Transition, ApprovalsError> {
        self.ensure_author(by)?;
        self.ensure_status(&[ResponseStatus::Draft], "submit")?;
        let mut next = self.next_version(at)?;
        next.status = ResponseStatus::PendingApproval;
        next.submitted_at = Some(at);
        next.deadline = None;
        next.decided_by = None;
        next.decided_at = None;
        next.decision_notes = None;
        Ok(self.transition(next, Some(by), None))
    }

    /// Approves a pending response (the service records the event that sends it).
    ///
    /// # Errors
    /// `SelfApproval` when `by` wrote it (four eyes); `InvalidTransition` unless it is
    /// PENDING_APPROVAL.
    pub fn approve(
        &self,
        by: UserId,
        notes: Option<ReviewNotes>,
        at: DateTime<Utc>,
    ) -> Result<Transition, ApprovalsError> {
        self.ensure_not_author(by)?;
        self.ensure_status(&[ResponseStatus::PendingApproval], "approve")?;
        let mut next = self.next_version(at)?;
        next.status = ResponseStatus::Approved;
        next.decided_by = Some(by);
        next.decided_at = Some(at);
        next.decision_notes.clone_from(&notes);
        Ok(self.transition(next, Some(by), notes))
    }

    /// Sends a pending response back to its author with notes.
    ///
    /// # Errors
    /// `SelfApproval` when `by` wrote it (four eyes); `InvalidTransition` unless it is
    /// PENDING_APPROVAL.
    pub fn reject(
        &self,
        by: UserId,
        notes: ReviewNotes,
        at: DateTime<Utc>,
    ) -> Result<Transition, ApprovalsError> {
        self.ensure_not_author(by)?;
        self.ensure_status(&[ResponseStatus::PendingApproval], "reject")?;
        let mut next = self.next_version(at)?;
        next.status = ResponseStatus::Rejected;
        next.decided_by = Some(by);
        next.decided_at = Some(at);
        next.decision_notes = Some(notes.clone());
        Ok(self.transition(next, Some(by), Some(notes)))
    }

    /// Records that the mail server accepted an approved response. The system does this,
    /// so the event has no actor.
    ///
    /// # Errors
    /// `InvalidTransition` unless it is APPROVED.
    pub fn mark_sent(&self, at: DateTime<Utc>) -> Result<Transition, ApprovalsError> {
        self.ensure_status(&[ResponseStatus::Approved], "mark as sent")?;
        let mut next = self.next_version(at)?;
        next.status = ResponseStatus::Sent;
        next.sent_at = Some(at);
        Ok(self.transition(next, None, None))
    }

    fn ensure_author(&self, by: UserId) -> Result<(), ApprovalsError> {
        if by == self.author_id {
            Ok(())
        } else {
            Err(ApprovalsError::NotAuthor)
        }
    }

    fn ensure_not_author(&self, by: UserId) -> Result<(), ApprovalsError> {
        if by == self.author_id {
            Err(ApprovalsError::SelfApproval)
        } else {
            Ok(())
        }
    }

    fn ensure_status(
        &self,
        allowed: &[ResponseStatus],
        action: &'static str,
    ) -> Result<(), ApprovalsError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(ApprovalsError::InvalidTransition {
                from: self.status,
                action,
            })
        }
    }

    fn next_version(&self, at: DateTime<Utc>) -> Result<Self, ApprovalsError> {
        let mut next = self.clone();
        next.version = self
            .version
            .checked_add(1)
            .ok_or_else(|| Unexpected::msg("response version overflows"))?;
        next.updated_at = at;
        Ok(next)
    }

    fn transition(
        &self,
        next: Self,
        actor_id: Option<UserId>,
        notes: Option<ReviewNotes>,
    ) -> Transition {
        let event = ResponseEvent {
            id: Uuid::now_v7(),
            response_id: self.id,
            actor_id,
            from: Some(self.status),
            to: next.status,
            notes,
            at: next.updated_at,
        };
        Transition {
            response: next,
            event,
        }
    }

    /// Identity.
    #[must_use]
    pub const fn id(&self) -> ResponseId {
        self.id
    }

    /// The customer it is addressed to.
    #[must_use]
    pub const fn customer_id(&self) -> CustomerId {
        self.customer_id
    }

    /// The enquiry it answers, if any.
    #[must_use]
    pub const fn enquiry_id(&self) -> Option<EnquiryId> {
        self.enquiry_id
    }

    /// The staff member who wrote it.
    #[must_use]
    pub const fn author_id(&self) -> UserId {
        self.author_id
    }

    /// Subject line.
    #[must_use]
    pub const fn subject(&self) -> &ResponseSubject {
        &self.subject
    }

    /// Body.
    #[must_use]
    pub const fn content(&self) -> &ResponseContent {
        &self.content
    }

    /// Workflow state.
    #[must_use]
    pub const fn status(&self) -> ResponseStatus {
        self.status
    }

    /// Optimistic-concurrency version.
    #[must_use]
    pub const fn version(&self) -> i64 {
        self.version
    }

    /// Created at.
    #[must_use]
    pub const fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Last transition at.
    #[must_use]
    pub const fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Last submitted for approval at.
    #[must_use]
    pub const fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.submitted_at
    }

    /// The deadline of the last submission (kept after the decision, as history); `None`
    /// when deadlines were not kept or it was never submitted.
    #[must_use]
    pub const fn deadline(&self) -> Option<Deadline> {
        self.deadline
    }

    /// Sets the deadline of a submission the service just made.
    pub(crate) const fn set_deadline(&mut self, deadline: Deadline) {
        self.deadline = Some(deadline);
    }

    /// Reviewer of the last decision.
    #[must_use]
    pub const fn decided_by(&self) -> Option<UserId> {
        self.decided_by
    }

    /// Time of the last decision.
    #[must_use]
    pub const fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.decided_at
    }

    /// Reviewer's notes on the last decision.
    #[must_use]
    pub const fn decision_notes(&self) -> Option<&ReviewNotes> {
        self.decision_notes.as_ref()
    }

    /// Accepted by the mail server at.
    #[must_use]
    pub const fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.sent_at
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use nexus_kernel::{Clock, FixedClock};

    use super::*;

    fn t0() -> DateTime<Utc> {
        FixedClock::default().now()
    }

    fn new_response() -> NewResponse {
        NewResponse {
            customer_id: CustomerId::new(),
            enquiry_id: None,
            subject: ResponseSubject::parse("Your invoice").expect("valid"),
            content: ResponseContent::parse("Dear Ada,\n\nhere it is.").expect("valid"),
        }
    }

    fn notes(raw: &str) -> ReviewNotes {
        ReviewNotes::parse(raw).expect("valid notes")
    }

    /// A response by `author` driven through the real transitions into `status`.
    fn response_in(status: ResponseStatus, author: UserId, reviewer: UserId) -> Response {
        use ResponseStatus as S;
        let draft = Response::draft(author, new_response(), t0()).response;
        let step = |r: Result<Transition, ApprovalsError>| r.expect("valid transition").response;
        let pending = || step(draft.submit(author, t0()));
        match status {
            S::Draft => draft,
            S::PendingApproval => pending(),
            S::Approved => step(pending().approve(reviewer, None, t0())),
            S::Sent => step(step(pending().approve(reviewer, None, t0())).mark_sent(t0())),
            S::Rejected => step(pending().reject(reviewer, notes("Too curt."), t0())),
        }
    }

    #[test]
    fn statuses_have_stable_wire_names() {
        let names: Vec<_> = ResponseStatus::ALL
            .iter()
            .map(ResponseStatus::as_str)
            .collect();
        assert_eq!(
            names,
            ["DRAFT", "PENDING_APPROVAL", "APPROVED", "SENT", "REJECTED"]
        );
        for status in ResponseStatus::ALL {
            assert_eq!(status.as_str().to_lowercase().parse(), Ok(status));
            let json = serde_json::to_string(&status).expect("serializes");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(
                serde_json::from_str::<ResponseStatus>(&json).ok(),
                Some(status)
            );
        }
        assert_eq!(
            "pending".parse::<ResponseStatus>(),
            Err(InvalidResponseValue::Status)
        );
    }

    #[test]
    fn subjects_are_trimmed_single_lines_of_at_most_200_characters() {
        let cases: [(&str, Option<&str>); 7] = [
            ("  Hello ", Some("Hello")),
            ("", None),
            ("   ", None),
            ("Bcc: x\r\nSubject: y", None),
            ("tab\there", None),
            ("nul\0", None),
            ("Ünïcödé ✓", Some("Ünïcödé ✓")),
        ];
        for (raw, expected) in cases {
            let got = ResponseSubject::parse(raw).ok();
            assert_eq!(
                got.as_ref().map(ResponseSubject::as_str),
                expected,
                "{raw:?}"
            );
        }
        assert!(ResponseSubject::parse(&"é".repeat(200)).is_ok());
        assert_eq!(
            ResponseSubject::parse(&"é".repeat(201)),
            Err(InvalidResponseValue::Subject)
        );
    }

    #[test]
    fn content_is_multi_line_text_of_at_most_20000_characters() {
        let ok = ResponseContent::parse("\n Dear Ada,\r\n\tthanks.\n\n").expect("valid");
        assert_eq!(ok.as_str(), "Dear Ada,\r\n\tthanks.");
        assert!(ResponseContent::parse(&"x".repeat(20_000)).is_ok());
        for bad in [
            String::new(),
            " \n\t ".to_owned(),
            "a\0b".to_owned(),
            "bell\u{7}".to_owned(),
            "x".repeat(20_001),
        ] {
            assert_eq!(
                ResponseContent::parse(&bad),
                Err(InvalidResponseValue::Content),
                "{:?}",
                bad.get(..20)
            );
        }
    }

    #[test]
    fn review_notes_are_1_to_2000_characters() {
        assert_eq!(notes("  Fix the greeting.\n").as_str(), "Fix the greeting.");
        assert!(ReviewNotes::parse(&"n".repeat(2_000)).is_ok());
        for bad in [
            String::new(),
            "  ".to_owned(),
            "n".repeat(2_001),
            "\0".to_owned(),
        ] {
            assert_eq!(ReviewNotes::parse(&bad), Err(InvalidResponseValue::Notes));
        }
    }

    #[test]
    fn text_values_deserialize_through_the_same_check() {
        let subject: ResponseSubject = serde_json::from_str("\"  Hi \"").expect("valid");
        assert_eq!(subject.as_str(), "Hi");
        assert!(serde_json::from_str::<ResponseSubject>("\"a\\nb\"").is_err());
        assert!(serde_json::from_str::<ReviewNotes>("\"   \"").is_err());
        assert_eq!(
            ResponseSubject::try_from("  Hi ".to_owned()).map(String::from),
            Ok("Hi".to_owned())
        );
        assert!(ResponseContent::try_from(String::new()).is_err());
        assert!(ReviewNotes::try_from("\u{1b}[31m".to_owned()).is_err());
    }

    #[test]
    fn a_draft_starts_at_version_1_with_a_creation_event() {
        let author = UserId::new();
        let input = new_response();

        let Transition { response, event } = Response::draft(author, input.clone(), t0());

        assert_eq!(response.status(), ResponseStatus::Draft);
        assert_eq!(response.version(), 1);
        assert_eq!(response.author_id(), author);
        assert_eq!(response.customer_id(), input.customer_id);
        assert_eq!(response.subject(), &input.subject);
        assert_eq!((response.created_at(), response.updated_at()), (t0(), t0()));
        assert_eq!(event.response_id, response.id());
        assert_eq!(event.actor_id, Some(author));
        assert_eq!((event.from, event.to), (None, ResponseStatus::Draft));
        assert_eq!(event.id.get_version_num(), 7);
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Action {
        Edit,
        Submit,
        Approve,
        Reject,
        MarkSent,
    }

    #[test]
    fn every_transition_of_the_state_machine() {
        use ResponseStatus as S;
        let actions = [
            Action::Edit,
            Action::Submit,
            Action::Approve,
            Action::Reject,
            Action::MarkSent,
        ];
        // The whole table: anything absent is an invalid transition.
        let allowed = [
            (S::Draft, Action::Edit, S::Draft),
            (S::Rejected, Action::Edit, S::Draft),
            (S::Draft, Action::Submit, S::PendingApproval),
            (S::PendingApproval, Action::Approve, S::Approved),
            (S::PendingApproval, Action::Reject, S::Rejected),
            (S::Approved, Action::MarkSent, S::Sent),
        ];
        let (author, reviewer) = (UserId::new(), UserId::new());
        let later = t0() + Duration::minutes(5);
        for from in ResponseStatus::ALL {
            for action in actions {
                let response = response_in(from, author, reviewer);
                let result = match action {
                    Action::Edit => response.edit(author, UpdateResponse::default(), later),
                    Action::Submit => response.submit(author, later),
                    Action::Approve => response.approve(reviewer, Some(notes("Fine.")), later),
                    Action::Reject => response.reject(reviewer, notes("No."), later),
                    Action::MarkSent => response.mark_sent(later),
                };
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (expected, result) {
                    (Some(to), Ok(t)) => {
                        assert_eq!(t.response.status(), to, "{from} {action:?}");
                        assert_eq!(t.response.version(), response.version() + 1);
                        assert_eq!(t.response.updated_at(), later);
                        assert_eq!((t.event.from, t.event.to), (Some(from), to));
                        assert_eq!(t.event.at, later);
                        assert_eq!(t.event.response_id, response.id());
                        let actor = match action {
                            Action::Edit | Action::Submit => Some(author),
                            Action::Approve | Action::Reject => Some(reviewer),
                            Action::MarkSent => None,
                        };
                        assert_eq!(t.event.actor_id, actor);
                    }
                    (None, Err(ApprovalsError::InvalidTransition { from: got, .. })) => {
                        assert_eq!(got, from, "{action:?}");
                    }
                    (expected, result) => {
                        panic!("{from} {action:?}: expected {expected:?}, got {result:?}")
                    }
                }
            }
        }
    }

    #[test]
    fn only_the_author_edits_or_submits() {
        let (author, other) = (UserId::new(), UserId::new());
        let draft = response_in(ResponseStatus::Draft, author, other);

        assert!(matches!(
            draft.edit(other, UpdateResponse::default(), t0()),
            Err(ApprovalsError::NotAuthor)
        ));
        assert!(matches!(
            draft.submit(other, t0()),
            Err(ApprovalsError::NotAuthor)
        ));
    }

    #[test]
    fn nobody_decides_on_their_own_response_whatever_its_status() {
        let author = UserId::new();
        for status in ResponseStatus::ALL {
            let response = response_in(status, author, UserId::new());

            assert!(matches!(
                response.approve(author, None, t0()),
                Err(ApprovalsError::SelfApproval)
            ));
            assert!(matches!(
                response.reject(author, notes("Mine."), t0()),
                Err(ApprovalsError::SelfApproval)
            ));
        }
    }

    #[test]
    fn a_rejection_is_kept_while_revising_and_cleared_on_resubmission() {
        let (author, reviewer) = (UserId::new(), UserId::new());
        let rejected = response_in(ResponseStatus::Rejected, author, reviewer);
        let change = UpdateResponse {
            content: Some(ResponseContent::parse("Better words.").expect("valid")),
            subject: None,
        };

        let revised = rejected
            .edit(author, change, t0())
            .expect("editable")
            .response;

        assert_eq!(revised.status(), ResponseStatus::Draft);
        assert_eq!(revised.content().as_str(), "Better words.");
        assert_eq!(revised.subject(), rejected.subject());
        assert_eq!(
            revised.decision_notes().map(ReviewNotes::as_str),
            Some("Too curt.")
        );
        assert_eq!(revised.decided_by(), Some(reviewer));

        let resubmitted = revised.submit(author, t0()).expect("submittable").response;

        assert_eq!(resubmitted.status(), ResponseStatus::PendingApproval);
        assert_eq!(resubmitted.decision_notes(), None);
        assert_eq!(resubmitted.decided_by(), None);
        assert_eq!(resubmitted.decided_at(), None);
    }

    #[test]
    fn decisions_record_reviewer_time_and_notes() {
        let (author, reviewer) = (UserId::new(), UserId::new());
        let pending = response_in(ResponseStatus::PendingApproval, author, UserId::new());
        let later = t0() + Duration::hours(1);

        let rejected = pending
            .reject(reviewer, notes("Say sorry."), later)
            .expect("rejectable");

        assert_eq!(rejected.response.decided_by(), Some(reviewer));
        assert_eq!(rejected.response.decided_at(), Some(later));
        assert_eq!(rejected.event.notes, Some(notes("Say sorry.")));
        assert_eq!(
            rejected.response.decision_notes(),
            Some(&notes("Say sorry."))
        );

        let approved = pending.approve(reviewer, None, later).expect("approvable");

        assert_eq!(approved.response.decision_notes(), None);
        assert_eq!(approved.event.notes, None);
    }

    #[test]
    fn every_reachable_response_survives_a_round_trip_through_its_parts() {
        for status in ResponseStatus::ALL {
            let response = response_in(status, UserId::new(), UserId::new());

            let rebuilt = Response::from_parts(response.clone().into_parts());

            assert_eq!(rebuilt, Ok(response), "{status}");
        }
    }

    #[test]
    fn inconsistent_stored_responses_are_refused() {
        let author = UserId::new();
        let sent = response_in(ResponseStatus::Sent, author, UserId::new()).into_parts();
        let pending =
            response_in(ResponseStatus::PendingApproval, author, UserId::new()).into_parts();
        let rejected = response_in(ResponseStatus::Rejected, author, UserId::new()).into_parts();
        let broken = [
            ResponseParts {
                sent_at: None,
                ..sent.clone()
            },
            ResponseParts {
                decided_by: Some(author),
                ..sent.clone()
            },
            ResponseParts {
                status: ResponseStatus::Approved,
                ..sent.clone()
            },
            ResponseParts { version: 0, ..sent },
            ResponseParts {
                submitted_at: None,
                ..pending.clone()
            },
            ResponseParts {
                status: ResponseStatus::Approved,
                ..pending
            },
            ResponseParts {
                decision_notes: None,
                ..rejected
            },
        ];
        for (i, parts) in broken.into_iter().enumerate() {
            assert!(Response::from_parts(parts).is_err(), "case {i}");
        }
    }
}
