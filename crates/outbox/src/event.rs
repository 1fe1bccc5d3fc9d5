//! Domain events and the envelope they travel in.

use chrono::{DateTime, Utc};
use nexus_kernel::Unexpected;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::EventId;

/// A fact a domain records when it changes something ("catalog.product_published").
///
/// Each domain crate defines its own events; the outbox knows them only by name and
/// version. Payloads hold ids and the facts subscribers need, never secrets unless
/// `SENSITIVE` says so (then the stored payload is cleared once every delivery ended).
pub trait DomainEvent: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name, `"<domain>.<event>"`, e.g. `"catalog.product_published"`.
    const NAME: &'static str;
    /// Payload version: raise it when the JSON shape changes incompatibly.
    const VERSION: u32;
    /// Whether the payload holds a secret (a one-time code) to clear once delivered.
    const SENSITIVE: bool = false;
}

/// An event as stored in the outbox and handed to subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    /// The event's id.
    pub id: EventId,
    /// [`DomainEvent::NAME`].
    pub name: String,
    /// [`DomainEvent::VERSION`].
    pub version: u32,
    /// The event as JSON; `Null` once a sensitive payload was cleared.
    pub payload: serde_json::Value,
    /// When the change happened.
    pub occurred_at: DateTime<Utc>,
    /// [`DomainEvent::SENSITIVE`].
    pub sensitive: bool,
    /// The id of the request that caused the change, when there was one.
    pub request_id: Option<String>,
}

/// Why an envelope could not be read as a given event. The runner treats it as permanent:
/// another attempt would read the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The envelope holds another event, or another version of it.
    #[error("expected {expected} v{expected_version}, found {found} v{found_version}")]
    WrongEvent {
        /// The name asked for.
        expected: &'static str,
        /// The version asked for.
        expected_version: u32,
        /// The stored name.
        found: String,
        /// The stored version.
        found_version: u32,
    },
    /// The payload of a sensitive event was cleared after its deliveries ended.
    #[error("the payload of event {0} was cleared")]
    Cleared(EventId),
    /// The JSON does not fit the event's type.
    #[error("the payload of event {id} is malformed: {message}")]
    Malformed {
        /// The event.
        id: EventId,
        /// What serde said.
        message: String,
    },
}

impl EventEnvelope {
    /// Wraps `event`, which happened at `now`, with a new id and no request id (the outbox
    /// writer stamps the current one).
    ///
    /// # Errors
    /// `Unexpected` when the event cannot be serialised (a broken `Serialize` impl).
    pub fn new<E: DomainEvent>(event: &E, now: DateTime<Utc>) -> Result<Self, Unexpected> {
        let payload =
            serde_json::to_value(event).map_err(Unexpected::with("encoding a domain event"))?;
        Ok(Self {
            id: EventId::new(),
            name: E::NAME.to_owned(),
            version: E::VERSION,
            payload,
            occurred_at: now,
            sensitive: E::SENSITIVE,
            request_id: None,
        })
    }

    /// Reads the payload as `E`, after checking the name and version match.
    ///
    /// # Errors
    /// `WrongEvent`, `Cleared` or `Malformed`; all permanent.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, DecodeError> {
        if self.name != E::NAME || self.version != E::VERSION {
            return Err(DecodeError::WrongEvent {
                expected: E::NAME,
                expected_version: E::VERSION,
                found: self.name.clone(),
                found_version: self.version,
            });
        }
        if self.payload.is_null() && self.sensitive {
            return Err(DecodeError::Cleared(self.id));
        }
        E::deserialize(&self.payload).map_err(|err| DecodeError::Malformed {
            id: self.id,
            message: err.to_string(),
        })
    }

    /// Whether this envelope holds event `E` (any version check is left to `decode`).
    #[must_use]
    pub fn is<E: DomainEvent>(&self) -> bool {
        self.name == E::NAME
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Published {
        product: u32,
    }
    impl DomainEvent for Published {
        const NAME: &'static str = "catalog.product_published";
        const VERSION: u32 = 1;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PublishedV2 {
        product: String,
    }
    impl DomainEvent for PublishedV2 {
        const NAME: &'static str = "catalog.product_published";
        const VERSION: u32 = 2;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct CodeIssued {
        code: String,
    }
    impl DomainEvent for CodeIssued {
        const NAME: &'static str = "identity.code_issued";
        const VERSION: u32 = 1;
        const SENSITIVE: bool = true;
    }

    #[test]
    fn an_event_round_trips_through_its_envelope() {
        let envelope = EventEnvelope::new(&Published { product: 7 }, Utc::now()).expect("encode");

        assert_eq!(envelope.name, "catalog.product_published");
        assert_eq!(envelope.version, 1);
        assert!(!envelope.sensitive);
        assert_eq!(envelope.decode::<Published>(), Ok(Published { product: 7 }));
    }

    #[test]
    fn decoding_another_version_or_event_is_refused() {
        let envelope = EventEnvelope::new(&Published { product: 7 }, Utc::now()).expect("encode");

        assert!(matches!(
            envelope.decode::<PublishedV2>(),
            Err(DecodeError::WrongEvent {
                found_version: 1,
                ..
            })
        ));
        assert!(matches!(
            envelope.decode::<CodeIssued>(),
            Err(DecodeError::WrongEvent { .. })
        ));
    }

    #[test]
    fn a_cleared_or_malformed_payload_is_refused() {
        let mut envelope = EventEnvelope::new(
            &CodeIssued {
                code: "123456".into(),
            },
            Utc::now(),
        )
        .expect("encode");
        assert!(envelope.sensitive);
        envelope.payload = serde_json::Value::Null;
        assert!(matches!(
            envelope.decode::<CodeIssued>(),
            Err(DecodeError::Cleared(_))
        ));

        envelope.payload = serde_json::json!({"nope": 1});
        assert!(matches!(
            envelope.decode::<CodeIssued>(),
            Err(DecodeError::Malformed { .. })
        ));
    }
}
