//! Notes that staff write on a customer: plain text, append-only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use nexus_kernel::{Actor, Clock, Page, PageRequest, UserId};
use serde::{Deserialize, Serialize};

use crate::service::scope;
use crate::{CustomerId, CustomerRepository, CustomersError, InvalidCustomerValue, NoteId};

/// The text of a note: trimmed, 1 to 4000 characters, line breaks and tabs kept, no other
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NoteBody(String);

impl NoteBody {
    /// The longest note, in characters.
    pub const MAX_CHARS: usize = 4000;

    /// Trims and checks the text.
    ///
    /// # Errors
    /// `InvalidCustomerValue::NoteBody` when empty, too long or holding control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.chars().count() <= Self::MAX_CHARS
            && !s
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidCustomerValue::NoteBody)
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NoteBody {
    type Error = InvalidCustomerValue;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}

impl From<NoteBody> for String {
    fn from(v: NoteBody) -> Self {
        v.0
    }
}

/// A note on a customer. Notes are never edited or deleted: what staff wrote stays as it
/// was written, like the approval trail of responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Id.
    pub id: NoteId,
    /// The customer it is about.
    pub customer_id: CustomerId,
    /// The staff member who wrote it.
    pub author_id: UserId,
    /// The text.
    pub body: NoteBody,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Stores and lists notes.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait NoteRepository: Send + Sync {
    /// Inserts a new note. Implementations return only `Unexpected` for failures (a
    /// customer deleted meanwhile included).
    async fn insert(&self, note: &Note) -> Result<(), CustomersError>;

    /// One page of the notes on `customer`, newest first (ties by id), with the exact total.
    async fn list(
        &self,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Note>, CustomersError>;
}

/// Who may write and read notes: any staff member who may see the customer.
pub struct NoteService {
    customers: Arc<dyn CustomerRepository>,
    notes: Arc<dyn NoteRepository>,
    clock: Arc<dyn Clock>,
}

impl NoteService {
    /// Builds the service from its ports.
    #[must_use]
    pub fn new(
        customers: Arc<dyn CustomerRepository>,
        notes: Arc<dyn NoteRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            customers,
            notes,
            clock,
        }
    }

    /// Adds a note to a customer the actor may see.
    ///
    /// # Errors
    /// `Forbidden` for non-staff, `NotFound` when absent or out of the actor's scope,
    /// `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %customer))]
    pub async fn add(
        &self,
        actor: &Actor,
        customer: CustomerId,
        body: NoteBody,
    ) -> Result<Note, CustomersError> {
        self.check_visible(actor, customer).await?;
        let note = Note {
            id: NoteId::new(),
            customer_id: customer,
            author_id: actor.user_id(),
            body,
            created_at: self.clock.now(),
        };
        self.notes.insert(&note).await?;
        tracing::info!(note_id = %note.id, "note added");
        Ok(note)
    }

    /// One page of the notes on a customer the actor may see, newest first.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    #[tracing::instrument(skip_all, fields(actor = %actor.user_id(), customer_id = %customer))]
    pub async fn list(
        &self,
        actor: &Actor,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Note>, CustomersError> {
        self.check_visible(actor, customer).await?;
        self.notes.list(customer, page).await
    }

    async fn check_visible(&self, actor: &Actor, id: CustomerId) -> Result<(), CustomersError> {
        let visible_to = scope(actor)?;
        match self.customers.find(id).await? {
            Some(c) if visible_to.is_none() || c.assigned_to == visible_to => Ok(()),
            _ => Err(CustomersError::NotFound(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;
    use nexus_kernel::{Clock, Email, FixedClock, PageRequest, PersonName, Role, UserId};

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
            account_id: None,
        }
    }

    fn service(customer: Customer, notes: MockNoteRepository) -> NoteService {
        let mut customers = MockCustomerRepository::new();
        customers
            .expect_find()
            .returning(move |_| Ok(Some(customer.clone())));
        NoteService::new(
            Arc::new(customers),
            Arc::new(notes),
            Arc::new(FixedClock::default()),
        )
    }

    fn body() -> NoteBody {
        NoteBody::parse("Called back,\nhappy with the answer.").expect("valid")
    }

    #[tokio::test]
    async fn an_officer_adds_a_note_to_their_customer_as_its_author() {
        let cso = crate::permissions::actor(UserId::new(), Role::Cso);
        let theirs = customer_assigned_to(Some(cso.user_id()));
        let customer_id = theirs.id;
        let author = cso.user_id();
        let mut notes = MockNoteRepository::new();
        notes
            .expect_insert()
            .withf(move |n| {
                n.customer_id == customer_id
                    && n.author_id == author
                    && n.created_at == FixedClock::default().now()
            })
            .times(1)
            .returning(|_| Ok(()));

        let note = service(theirs, notes)
            .add(&cso, customer_id, body())
            .await
            .expect("adds");

        assert_eq!(note.body, body());
    }

    #[tokio::test]
    async fn an_officer_cannot_note_or_read_notes_on_someone_elses_customer() {
        let cso = crate::permissions::actor(UserId::new(), Role::Cso);
        let theirs = customer_assigned_to(Some(UserId::new()));
        let id = theirs.id;
        let mut notes = MockNoteRepository::new();
        notes.expect_insert().never();
        notes.expect_list().never();
        let service = service(theirs, notes);

        let added = service.add(&cso, id, body()).await;
        let listed = service.list(&cso, id, PageRequest::new(None, None)).await;

        assert!(matches!(added, Err(CustomersError::NotFound(_))));
        assert!(matches!(listed, Err(CustomersError::NotFound(_))));
    }

    #[tokio::test]
    async fn roles_without_the_crm_cannot_note() {
        for role in [Role::Customer, Role::Editor] {
            let actor = crate::permissions::actor(UserId::new(), role);
            let mut notes = MockNoteRepository::new();
            notes.expect_insert().never();
            let service = service(customer_assigned_to(None), notes);

            let added = service.add(&actor, CustomerId::new(), body()).await;

            assert!(matches!(added, Err(CustomersError::Forbidden)));
        }
    }

    #[test]
    fn a_note_is_plain_text_of_bounded_length() {
        assert!(NoteBody::parse("one\ntwo\tthree").is_ok());
        assert!(NoteBody::parse(&"x".repeat(NoteBody::MAX_CHARS)).is_ok());
        assert!(NoteBody::parse(&"x".repeat(NoteBody::MAX_CHARS + 1)).is_err());
        assert!(NoteBody::parse("  \n ").is_err());
        assert!(NoteBody::parse("bell\u{7}").is_err());
    }
}
