//! Enquiries: what the public and customers ask, and who answers.

use std::fmt;
use std::str::FromStr;

use crate::{CustomerId, EnquiryId};
use chrono::{DateTime, Utc};
use nexus_catalog::ProductId;
use nexus_kernel::{Email, UserId};
use serde::{Deserialize, Serialize};

use crate::InvalidCustomerValue;

/// Where an enquiry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnquiryStatus {
    /// Waiting for an answer.
    Open,
    /// A response was sent.
    Answered,
    /// Done.
    Closed,
}

impl EnquiryStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Open, Self::Answered, Self::Closed];

    /// The stable wire and storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Answered => "ANSWERED",
            Self::Closed => "CLOSED",
        }
    }

    /// Whether a change from `self` to `to` is allowed: OPEN -> ANSWERED -> CLOSED, OPEN ->
    /// CLOSED, and reopening (ANSWERED or CLOSED -> OPEN). Staying put is allowed.
    #[must_use]
    pub fn can_become(self, to: Self) -> bool {
        use EnquiryStatus::{Answered, Closed, Open};
        self == to
            || matches!(
                (self, to),
                (Open, Answered | Closed) | (Answered, Closed | Open) | (Closed, Open)
            )
    }
}

impl fmt::Display for EnquiryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no enquiry status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("status must be one of OPEN, ANSWERED, CLOSED")]
pub struct UnknownEnquiryStatus;

impl FromStr for EnquiryStatus {
    type Err = UnknownEnquiryStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownEnquiryStatus)
    }
}

macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $max:expr, $variant:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks the text.
            ///
            /// # Errors
            /// `InvalidCustomerValue` when empty, too long or holding control characters.
            pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
                let s = raw.trim();
                let ok = !s.is_empty()
                    && s.chars().count() <= $max
                    && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
                if ok { Ok(Self(s.to_owned())) } else { Err(InvalidCustomerValue::$variant) }
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidCustomerValue;
            fn try_from(v: String) -> Result<Self, Self::Error> {
                Self::parse(&v)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> Self {
                v.0
            }
        }
    };
}

bounded_text!(
    /// The enquirer's name as they gave it: 1 to 200 characters.
    EnquirerName, 200, EnquirerName
);
bounded_text!(
    /// An enquiry subject: 1 to 200 characters.
    EnquirySubject, 200, EnquirySubject
);
bounded_text!(
    /// An enquiry message: 1 to 5000 characters, line breaks kept.
    EnquiryMessage, 5000, EnquiryMessage
);

impl EnquirerName {
    /// First and last name for a new customer record: the first word, and the rest (or
    /// `-` when the enquirer gave one word).
    #[must_use]
    pub fn split(&self) -> (String, String) {
        let mut words = self.0.split_whitespace();
        let first = words.next().unwrap_or("-").to_owned();
        let rest = words.collect::<Vec<_>>().join(" ");
        (
            first,
            if rest.is_empty() {
                "-".to_owned()
            } else {
                rest
            },
        )
    }
}

/// A question from the public or a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enquiry {
    /// Id.
    pub id: EnquiryId,
    /// The customer it was linked to (found by e-mail, or created as a LEAD).
    pub customer_id: CustomerId,
    /// Name given.
    pub name: EnquirerName,
    /// Address given (normalised).
    pub email: Email,
    /// Subject.
    pub subject: EnquirySubject,
    /// Message.
    pub message: EnquiryMessage,
    /// The product it is about, if any.
    pub product_id: Option<ProductId>,
    /// Status.
    pub status: EnquiryStatus,
    /// The officer who answers it.
    pub assigned_to: Option<UserId>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A new enquiry from the public form.
#[derive(Debug, Clone)]
pub struct NewEnquiry {
    /// Name.
    pub name: EnquirerName,
    /// Address.
    pub email: Email,
    /// Subject.
    pub subject: EnquirySubject,
    /// Message.
    pub message: EnquiryMessage,
    /// Product, if any.
    pub product_id: Option<ProductId>,
}

/// Which enquiries to list. `visible_to` is set by the service for officers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnquiryQuery {
    /// Only this status.
    pub status: Option<EnquiryStatus>,
    /// Only assigned to this user.
    pub assigned_to: Option<UserId>,
    /// Scope: only assigned to this user (never set by clients).
    pub visible_to: Option<UserId>,
    /// Only from this address (a customer's own enquiries).
    pub email: Option<Email>,
    /// Case-insensitive substring of subject, name or e-mail.
    pub search: Option<crate::SearchTerm>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        use EnquiryStatus::{Answered, Closed, Open};
        let allowed = [
            (Open, Answered),
            (Open, Closed),
            (Answered, Closed),
            (Answered, Open),
            (Closed, Open),
        ];
        for from in EnquiryStatus::ALL {
            for to in EnquiryStatus::ALL {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn names_split_into_first_and_rest() {
        let n = EnquirerName::parse("  Ada  King Lovelace ").expect("valid");
        assert_eq!(n.split(), ("Ada".to_owned(), "King Lovelace".to_owned()));
        let one = EnquirerName::parse("Cher").expect("valid");
        assert_eq!(one.split(), ("Cher".to_owned(), "-".to_owned()));
    }

    #[test]
    fn texts_are_bounded_and_keep_line_breaks() {
        assert!(EnquiryMessage::parse("line one\nline two").is_ok());
        assert!(EnquiryMessage::parse("   ").is_err());
        assert!(EnquirySubject::parse(&"s".repeat(201)).is_err());
        assert!(EnquirySubject::parse("bell\u{7}").is_err());
    }
}
