use std::fmt;

use serde::{Deserialize, Serialize};

/// The text is not an acceptable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    /// Nothing but white space.
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit.
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// Contains control characters.
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// A person's first or last name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Parses a name.
    ///
    /// # Errors
    /// `InvalidName` when empty, too long or containing control characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        parse_text(raw, Self::MAX_CHARS).map(Self)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims `raw` and checks it is 1..=`max_chars` characters with no control characters.
///
/// # Errors
/// `InvalidName` describing the first rule broken.
pub fn parse_text(raw: &str, max_chars: usize) -> Result<String, InvalidName> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidName::Empty);
    }
    if s.chars().count() > max_chars {
        return Err(InvalidName::TooLong(max_chars));
    }
    if s.chars().any(char::is_control) {
        return Err(InvalidName::ControlCharacter);
    }
    Ok(s.to_owned())
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PersonName {
    type Error = InvalidName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> Self {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada ").map(|n| n.0),
            Ok("Ada".to_owned())
        );
        assert_eq!(PersonName::parse("   "), Err(InvalidName::Empty));
        assert_eq!(
            PersonName::parse(&"x".repeat(101)),
            Err(InvalidName::TooLong(100))
        );
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            PersonName::parse("a\u{0}b"),
            Err(InvalidName::ControlCharacter)
        );
    }
}
