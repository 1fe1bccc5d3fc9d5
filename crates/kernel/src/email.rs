use std::fmt;

use serde::{Deserialize, Serialize};
use validator::ValidateEmail;

/// The text is not a usable e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a valid e-mail address")]
pub struct InvalidEmail;

/// A syntactically valid e-mail address, trimmed and lower-cased so that comparisons
/// and uniqueness are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises an address.
    ///
    /// # Errors
    /// `InvalidEmail` when the text is empty, too long or not an address.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim().to_lowercase();
        if s.len() <= Self::MAX_LEN && s.validate_email() {
            Ok(Self(s))
        } else {
            Err(InvalidEmail)
        }
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        let cases = [
            ("Ada@Example.COM", Some("ada@example.com")),
            ("  bob@example.org ", Some("bob@example.org")),
            ("", None),
            ("no-at-sign", None),
            ("a@", None),
            ("@b.c", None),
            ("two@@example.com", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                Email::parse(raw).ok().as_ref().map(Email::as_str),
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_overlong_addresses() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&raw), Err(InvalidEmail));
    }

    #[test]
    fn deserializing_goes_through_parse() {
        let ok: Email = serde_json::from_str("\"X@Y.io\"").expect("valid");
        assert_eq!(ok.as_str(), "x@y.io");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
