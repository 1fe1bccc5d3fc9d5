//! The customer timeline: everything that happened with one customer, newest first, read
//! page by page with a cursor.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_kernel::{Actor, Email, UserId};

use crate::service::scope;
use crate::{CustomerId, CustomerRepository, CustomersError};

/// What a timeline entry records. The wire name ([`TimelineKind::as_str`]) is also the
/// second key of the timeline's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimelineKind {
    /// An enquiry came in.
    EnquiryReceived,
    /// A response was started.
    ResponseDrafted,
    /// A response was submitted for approval.
    ResponseSubmitted,
    /// A response was approved.
    ResponseApproved,
    /// A response was sent back with notes.
    ResponseRejected,
    /// A response was e-mailed.
    ResponseSent,
    /// The linked account placed an order.
    OrderPlaced,
    /// An order's payment was captured.
    PaymentCaptured,
    /// A payment attempt on an order failed at the gateway.
    PaymentFailed,
    /// Money was given back on an order.
    RefundIssued,
    /// The linked account reviewed a product.
    ReviewWritten,
    /// Site feedback from the linked account or the customer's address.
    FeedbackSent,
    /// Staff wrote a note on the customer.
    NoteAdded,
    /// The linked account downloaded a purchased file.
    Download,
}

/// A kind name that is not one of [`TimelineKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeline kind")]
pub struct UnknownTimelineKind;

impl TimelineKind {
    /// Every kind.
    pub const ALL: [Self; 14] = [
        Self::EnquiryReceived,
        Self::ResponseDrafted,
        Self::ResponseSubmitted,
        Self::ResponseApproved,
        Self::ResponseRejected,
        Self::ResponseSent,
        Self::OrderPlaced,
        Self::PaymentCaptured,
        Self::PaymentFailed,
        Self::RefundIssued,
        Self::ReviewWritten,
        Self::FeedbackSent,
        Self::NoteAdded,
        Self::Download,
    ];

    /// The stable wire name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::EnquiryReceived => "enquiry_received",
            Self::ResponseDrafted => "response_drafted",
            Self::ResponseSubmitted => "response_submitted",
            Self::ResponseApproved => "response_approved",
            Self::ResponseRejected => "response_rejected",
            Self::ResponseSent => "response_sent",
            Self::OrderPlaced => "order_placed",
            Self::PaymentCaptured => "payment_captured",
            Self::PaymentFailed => "payment_failed",
            Self::RefundIssued => "refund_issued",
            Self::ReviewWritten => "review_written",
            Self::FeedbackSent => "feedback_sent",
            Self::NoteAdded => "note_added",
            Self::Download => "download",
        }
    }

    /// Whether the entries of this kind are identified by a UUID (all but refunds, which
    /// carry the payment gateway's refund id).
    #[must_use]
    pub const fn has_uuid_ids(&self) -> bool {
        !matches!(self, Self::RefundIssued)
    }
}

impl fmt::Display for TimelineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimelineKind {
    type Err = UnknownTimelineKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(UnknownTimelineKind)
    }
}

/// A position in a timeline: the (time, kind, id) of the last entry read. The next page
/// holds the entries strictly after it in the order time, kind, id, all descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    at: DateTime<Utc>,
    kind: TimelineKind,
    id: String,
}

/// A cursor whose id cannot belong to its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timeline cursor")]
pub struct InvalidCursor;

impl TimelineCursor {
    /// The cursor after an entry.
    ///
    /// # Errors
    /// `InvalidCursor` when `id` is empty, longer than 200 characters, or not a UUID for a
    /// kind identified by UUIDs.
    pub fn new(at: DateTime<Utc>, kind: TimelineKind, id: &str) -> Result<Self, InvalidCursor> {
        let id = if kind.has_uuid_ids() {
            uuid::Uuid::parse_str(id)
                .map_err(|_| InvalidCursor)?
                .to_string()
        } else if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
            return Err(InvalidCursor);
        } else {
            id.to_owned()
        };
        Ok(Self { at, kind, id })
    }

    /// Time of the entry.
    #[must_use]
    pub const fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Kind of the entry.
    #[must_use]
    pub const fn kind(&self) -> TimelineKind {
        self.kind
    }

    /// Id of the entry (a UUID in its hyphenated form, or a gateway refund id).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// One thing that happened with a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// What happened.
    pub kind: TimelineKind,
    /// When.
    pub at: DateTime<Utc>,
    /// The id of the entry's own record (a history row, an order, a refund id, a note).
    pub id: String,
    /// The staff member who did it, by name; `None` for the customer, the public or the
    /// system.
    pub actor: Option<String>,
    /// A short text for the list.
    pub summary: String,
    /// The record the entry is about.
    pub reference: TimelineRef,
}

impl TimelineEntry {
    /// The cursor that continues after this entry.
    ///
    /// # Errors
    /// `InvalidCursor` when the entry's id does not fit its kind (a bad row).
    pub fn cursor(&self) -> Result<TimelineCursor, InvalidCursor> {
        TimelineCursor::new(self.at, self.kind, &self.id)
    }
}

/// The record an entry is about: its type (`enquiry`, `response`, `order`, `product`,
/// `review`, `feedback`, `note`) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRef {
    /// Record type.
    pub kind: &'static str,
    /// Record id.
    pub id: String,
}

/// What one timeline read asks the reader for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineQuery {
    /// The customer.
    pub customer: CustomerId,
    /// The customer's address (site feedback sent with it belongs to the customer).
    pub email: Email,
    /// The linked buyer account, whose orders, payments, refunds, downloads, reviews and
    /// feedback belong to the customer; `None` when there is none.
    pub account: Option<UserId>,
    /// Only entries strictly after this position; from the newest when `None`.
    pub after: Option<TimelineCursor>,
    /// At most this many entries.
    pub limit: u32,
    /// Only these kinds; every kind when empty.
    pub kinds: Vec<TimelineKind>,
}

/// Reads timelines. Implementations must answer from indexes keyed on the customer (or
/// its account) and time, never by loading whole tables.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait TimelineReader: Send + Sync {
    /// The first `query.limit` entries after `query.after`, newest first, ordered by time,
    /// then kind name, then id, all descending.
    async fn read(&self, query: &TimelineQuery) -> Result<Vec<TimelineEntry>, CustomersError>;
}

/// One page of a timeline and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    /// Entries, newest first.
    pub entries: Vec<TimelineEntry>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<TimelineCursor>,
}

/// Who may read which customer's timeline: exactly who may see the customer.
pub struct TimelineService {
    customers: Arc<dyn CustomerRepository>,
    reader: Arc<dyn TimelineReader>,
}

impl TimelineService {
    /// Entries per page unless the caller asks otherwise.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// The most entries one page holds.
    pub const MAX_LIMIT: u32 = 100;

    /// Builds the service from its ports.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>, reader: Arc<dyn TimelineReader>) -> Self {
        Self { customers, reader }
    }

    /// One page of the timeline of a customer the actor may see: `limit` entries (default
    /// 20, at most 100) after `after`, of `kinds` (every kind when empty).
    ///
    /// # Errors
    /// `Forbidden` for non-staff, `NotFound` when the customer is absent or out of the
    /// actor's scope, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %id))]
    pub async fn page(
        &self,
        actor: &Actor,
        id: CustomerId,
        after: Option<TimelineCursor>,
        limit: Option<u32>,
        kinds: Vec<TimelineKind>,
    ) -> Result<TimelinePage, CustomersError> {
        let visible_to = scope(actor)?;
        let customer = match self.customers.find(id).await? {
            Some(c) if visible_to.is_none() || c.assigned_to == visible_to => c,
            _ => return Err(CustomersError::NotFound(id)),
        };
        let limit = limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT);
        // One more than asked says whether another page follows.
        let query = TimelineQuery {
            customer: customer.id,
            email: customer.email,
            account: customer.account_id,
            after,
            limit: limit + 1,
            kinds,
        };
        let mut entries = self.reader.read(&query).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next = match entries.last() {
            Some(last) if more => Some(last.cursor().map_err(|e| {
                nexus_kernel::Unexpected::new(format!("timeline entry {} has a bad id", last.id), e)
            })?),
            _ => None,
        };
        Ok(TimelinePage { entries, next })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;
    use nexus_kernel::{Clock, Email, FixedClock, PersonName, Role, UserId};

    use super::*;
    use crate::{Customer, CustomerStatus, MockCustomerRepository, Tags};

    fn customer_assigned_to(officer: Option<UserId>) -> Customer {
        let at = FixedClock::default().now() - Duration::days(1);
        Customer {
            id: CustomerId::new(),
            first_name: PersonName::parse("Ada").expect("valid"),
            last_name: PersonName::parse("Lovelace").expect("valid"),
            email: Email::parse("ada@example.com").expect("valid"),
            phone: None,
            company: None,
            status: CustomerStatus::Active,
            tags: Tags::default(),
            assigned_to: officer,
            created_by: UserId::new(),
            created_at: at,
            updated_at: at,
            version: 1,
            account_id: Some(UserId::new()),
        }
    }

    fn entry(seconds_ago: i64, kind: TimelineKind) -> TimelineEntry {
        TimelineEntry {
            kind,
            at: FixedClock::default().now() - Duration::seconds(seconds_ago),
            id: uuid::Uuid::now_v7().to_string(),
            actor: None,
            summary: "something".to_owned(),
            reference: TimelineRef {
                kind: "note",
                id: uuid::Uuid::now_v7().to_string(),
            },
        }
    }

    fn service(customer: Customer, reader: MockTimelineReader) -> TimelineService {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_find()
            .returning(move |_| Ok(Some(customer.clone())));
        TimelineService::new(Arc::new(customers), Arc::new(reader))
    }

    #[tokio::test]
    async fn a_full_page_asks_for_one_more_and_continues_after_its_last_entry() {
        let cso = crate::permissions::actor(UserId::new(), Role::Cso);
        let theirs = customer_assigned_to(Some(cso.user_id()));
        let (id, email, account) = (theirs.id, theirs.email.clone(), theirs.account_id);
        let found = vec![
            entry(1, TimelineKind::NoteAdded),
            entry(2, TimelineKind::OrderPlaced),
            entry(3, TimelineKind::EnquiryReceived),
        ];
        let second = found[1].clone();
        let mut reader = MockTimelineReader::new();
        reader
            .expect_read()
            .withf(move |q| {
                q.customer == id
                    && q.email == email
                    && q.account == account
                    && q.limit == 3
                    && q.after.is_none()
            })
            .times(1)
            .returning(move |_| Ok(found.clone()));

        let page = service(theirs, reader)
            .page(&cso, id, None, Some(2), Vec::new())
            .await
            .expect("reads");

        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.next, Some(second.cursor().expect("a cursor")));
    }

    #[tokio::test]
    async fn the_last_page_has_no_next_cursor_and_limits_are_clamped() {
        let manager = crate::permissions::actor(UserId::new(), Role::Manager);
        let any = customer_assigned_to(None);
        let id = any.id;
        let mut reader = MockTimelineReader::new();
        reader
            .expect_read()
            .withf(|q| q.limit == TimelineService::MAX_LIMIT + 1)
            .returning(|_| Ok(vec![entry(1, TimelineKind::NoteAdded)]));

        let page = service(any, reader)
            .page(&manager, id, None, Some(10_000), Vec::new())
            .await
            .expect("reads");

        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.next, None);
    }

    #[tokio::test]
    async fn an_officer_reading_another_officers_customer_learns_nothing() {
        let cso = crate::permissions::actor(UserId::new(), Role::Cso);
        let theirs = customer_assigned_to(Some(UserId::new()));
        let id = theirs.id;
        let mut reader = MockTimelineReader::new();
        reader.expect_read().never();

        let result = service(theirs, reader)
            .page(&cso, id, None, None, Vec::new())
            .await;

        assert!(matches!(result, Err(CustomersError::NotFound(_))));
    }

    #[tokio::test]
    async fn roles_without_the_crm_are_forbidden() {
        for role in [Role::Customer, Role::Editor] {
            let actor = crate::permissions::actor(UserId::new(), role);
            let mut reader = MockTimelineReader::new();
            reader.expect_read().never();

            let result = service(customer_assigned_to(None), reader)
                .page(&actor, CustomerId::new(), None, None, Vec::new())
                .await;

            assert!(matches!(result, Err(CustomersError::Forbidden)));
        }
    }

    #[test]
    fn a_cursor_id_must_fit_its_kind() {
        let at = FixedClock::default().now();
        assert!(TimelineCursor::new(at, TimelineKind::NoteAdded, "not-a-uuid").is_err());
        assert!(TimelineCursor::new(at, TimelineKind::RefundIssued, "rfnd_123").is_ok());
        assert!(TimelineCursor::new(at, TimelineKind::RefundIssued, "").is_err());
        let id = uuid::Uuid::now_v7();
        let cursor = TimelineCursor::new(at, TimelineKind::NoteAdded, &id.simple().to_string())
            .expect("a uuid in any form");
        assert_eq!(cursor.id(), id.to_string());
    }

    #[test]
    fn kinds_round_trip_through_their_wire_names() {
        for kind in TimelineKind::ALL {
            assert_eq!(kind.as_str().parse::<TimelineKind>(), Ok(kind));
        }
        assert!("order".parse::<TimelineKind>().is_err());
    }
}
