use std::fmt;
use std::str::FromStr;

use crate::CustomerId;
use chrono::{DateTime, Utc};
use nexus_kernel::{Email, PersonName, Role, UserId};
use serde::{Deserialize, Serialize};

/// A customer value that breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCustomerValue {
    /// Phone numbers hold 7 to 15 digits, optionally a leading `+`, spaces, dashes, dots
    /// and parentheses.
    #[error("must be a phone number with 7 to 15 digits")]
    Phone,
    /// Company names are 1 to 200 characters.
    #[error("company name must be 1 to 200 characters without control characters")]
    Company,
    /// Tags are 1 to 32 letters, digits, `-` or `_`.
    #[error("tags must be 1 to 32 letters, digits, '-' or '_'")]
    Tag,
    /// At most 20 tags.
    #[error("at most 20 tags")]
    TooManyTags,
    /// Unknown status.
    #[error("status must be one of LEAD, ACTIVE, INACTIVE, CHURNED")]
    Status,
    /// Unknown sort.
    #[error(
        "sort must be one of createdAt, updatedAt, lastName, email, optionally prefixed with '-' or suffixed with ':asc' or ':desc'"
    )]
    Sort,
    /// Search terms are 1 to 100 characters.
    #[error("search must be 1 to 100 characters")]
    Search,
    /// Enquirer names are 1 to 200 characters.
    #[error("name must be 1 to 200 characters")]
    EnquirerName,
    /// Enquiry subjects are 1 to 200 characters.
    #[error("subject must be 1 to 200 characters")]
    EnquirySubject,
    /// Enquiry messages are 1 to 5000 characters.
    #[error("message must be 1 to 5000 characters")]
    EnquiryMessage,
    /// Notes are 1 to 4000 characters of plain text.
    #[error("a note must be 1 to 4000 characters of plain text")]
    NoteBody,
}

/// Where a customer is in their life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    /// A prospect, not yet buying.
    Lead,
    /// A paying, engaged customer.
    Active,
    /// Not engaged lately.
    Inactive,
    /// Gone.
    Churned,
}

impl CustomerStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Lead, Self::Active, Self::Inactive, Self::Churned];

    /// The stable wire and storage name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Lead => "LEAD",
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Churned => "CHURNED",
        }
    }
}

impl fmt::Display for CustomerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CustomerStatus {
    type Err = InvalidCustomerValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(InvalidCustomerValue::Status)
    }
}

/// A phone number as entered, trimmed; 7 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number.
    ///
    /// # Errors
    /// `InvalidCustomerValue::Phone`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
        let s = raw.trim();
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let allowed = s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)
        });
        if allowed && (7..=15).contains(&digits) && s.len() <= 30 {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidCustomerValue::Phone)
        }
    }

    /// The number as entered.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = InvalidCustomerValue;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}
impl From<Phone> for String {
    fn from(v: Phone) -> Self {
        v.0
    }
}

/// A company name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CompanyName(String);

impl CompanyName {
    /// Parses a company name.
    ///
    /// # Errors
    /// `InvalidCustomerValue::Company`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
        nexus_kernel::parse_text(raw, 200)
            .map(Self)
            .map_err(|_| InvalidCustomerValue::Company)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CompanyName {
    type Error = InvalidCustomerValue;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}
impl From<CompanyName> for String {
    fn from(v: CompanyName) -> Self {
        v.0
    }
}

/// A label on a customer: 1 to 32 ASCII letters, digits, `-` and `_`, stored lower-cased
/// (the documented pattern is `[\w-]{1,32}` in JSON Schema's ASCII regex).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Parses a tag.
    ///
    /// # Errors
    /// `InvalidCustomerValue::Tag`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
        // Checked before lower-casing: some non-ASCII letters lower-case to ASCII ones (the
        // Kelvin sign to `k`).
        let s = raw.trim();
        let ok = (1..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(InvalidCustomerValue::Tag)
        }
    }

    /// The tag.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = InvalidCustomerValue;
    fn try_from(v: String) -> Result<Self, Self::Error> {
        Self::parse(&v)
    }
}
impl From<Tag> for String {
    fn from(v: Tag) -> Self {
        v.0
    }
}

/// A customer's tags: at most 20, unique, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Most tags a customer may carry.
    pub const MAX: usize = 20;

    /// Parses, de-duplicates and sorts tags.
    ///
    /// # Errors
    /// `Tag` for a bad tag, `TooManyTags` for more than 20 distinct ones.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, InvalidCustomerValue> {
        let mut tags = raw
            .iter()
            .map(|s| Tag::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        if tags.len() > Self::MAX {
            return Err(InvalidCustomerValue::TooManyTags);
        }
        Ok(Self(tags))
    }

    /// The tags.
    #[must_use]
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }
}

/// A person or organisation the business serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Identity.
    pub id: CustomerId,
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Contact address, unique case-insensitively.
    pub email: Email,
    /// Contact number.
    pub phone: Option<Phone>,
    /// Organisation.
    pub company: Option<CompanyName>,
    /// Life-cycle status.
    pub status: CustomerStatus,
    /// Labels.
    pub tags: Tags,
    /// The officer responsible for this customer.
    pub assigned_to: Option<UserId>,
    /// Who created the record.
    pub created_by: UserId,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, bumped on every change.
    pub version: i64,
    /// The buyer account linked to this customer (same verified e-mail, or linked by
    /// staff), if any.
    pub account_id: Option<UserId>,
}

/// Input to create a customer.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Given name.
    pub first_name: PersonName,
    /// Family name.
    pub last_name: PersonName,
    /// Contact address.
    pub email: Email,
    /// Contact number.
    pub phone: Option<Phone>,
    /// Organisation.
    pub company: Option<CompanyName>,
    /// Initial status; LEAD when not given.
    pub status: Option<CustomerStatus>,
    /// Labels.
    pub tags: Tags,
    /// Assignee; the creator when not given. Only roles that may assign can name another.
    pub assigned_to: Option<UserId>,
}

/// A partial change to a customer. `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct UpdateCustomer {
    /// New given name.
    pub first_name: Option<PersonName>,
    /// New family name.
    pub last_name: Option<PersonName>,
    /// New address.
    pub email: Option<Email>,
    /// New or cleared number.
    pub phone: Option<Option<Phone>>,
    /// New or cleared company.
    pub company: Option<Option<CompanyName>>,
    /// New status.
    pub status: Option<CustomerStatus>,
    /// Replacement tags.
    pub tags: Option<Tags>,
}

/// A case-insensitive substring to look for in first name, last name and e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// Parses a search term (trimmed, lower-cased, 1 to 100 characters).
    ///
    /// # Errors
    /// `InvalidCustomerValue::Search`.
    pub fn parse(raw: &str) -> Result<Self, InvalidCustomerValue> {
        let s = raw.trim().to_lowercase();
        if (1..=100).contains(&s.chars().count()) && !s.chars().any(char::is_control) {
            Ok(Self(s))
        } else {
            Err(InvalidCustomerValue::Search)
        }
    }

    /// The lower-cased term.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fields a customer list can be sorted by; each has an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Family name.
    LastName,
    /// E-mail.
    Email,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first.
    Asc,
    /// Largest first (the default).
    #[default]
    Desc,
}

/// A sort order; ties are always broken by id in the same direction, so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CustomerSort {
    /// Field.
    pub field: SortField,
    /// Direction.
    pub direction: SortDirection,
}

impl FromStr for CustomerSort {
    type Err = InvalidCustomerValue;

    /// Accepts `field`, `-field`, `field:asc` and `field:desc`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        let (name, direction) = if let Some(rest) = raw.strip_prefix('-') {
            (rest, SortDirection::Desc)
        } else if let Some((name, dir)) = raw.split_once(':') {
            let direction = match dir.to_ascii_lowercase().as_str() {
                "asc" => SortDirection::Asc,
                "desc" => SortDirection::Desc,
                _ => return Err(InvalidCustomerValue::Sort),
            };
            (name, direction)
        } else {
            (raw, SortDirection::Asc)
        };
        let field = match name {
            "createdAt" => SortField::CreatedAt,
            "updatedAt" => SortField::UpdatedAt,
            "lastName" => SortField::LastName,
            "email" => SortField::Email,
            _ => return Err(InvalidCustomerValue::Sort),
        };
        Ok(Self { field, direction })
    }
}

/// What to list. `visible_to` is set by the service for officers and ANDed with the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerQuery {
    /// Substring in names or e-mail.
    pub search: Option<SearchTerm>,
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Only customers assigned to this user.
    pub assigned_to: Option<UserId>,
    /// Scope: only customers assigned to this user (set for CSOs, never by clients).
    pub visible_to: Option<UserId>,
    /// Order.
    pub sort: CustomerSort,
}

/// A user as seen by the CRM when assigning customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Account id.
    pub id: UserId,
    /// Sign-in address.
    pub email: Email,
    /// Current role.
    pub role: Role,
    /// Whether the account is active.
    pub is_active: bool,
    /// Whether the account has proved it owns `email` (a one-time code sent to it, or a
    /// provider that vouches for it). Anything keyed on the address needs this.
    pub email_verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        for ok in ["+91 98765 43210", "(020) 7946-0958", "5551234"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["123", "phone", "12+345678", "1234567890123456", ""] {
            assert_eq!(Phone::parse(bad), Err(InvalidCustomerValue::Phone), "{bad}");
        }
    }

    #[test]
    fn tags_are_normalised_deduplicated_and_bounded() {
        let tags = Tags::parse(&["VIP", "vip", "b2b"]).expect("valid");
        let names: Vec<_> = tags.as_slice().iter().map(Tag::as_str).collect();
        assert_eq!(names, ["b2b", "vip"]);
        assert_eq!(Tags::parse(&["has space"]), Err(InvalidCustomerValue::Tag));
        assert_eq!(Tags::parse(&[""]), Err(InvalidCustomerValue::Tag));
        for not_ascii in ["ßu0", "\u{212a}", "café"] {
            assert_eq!(
                Tags::parse(&[not_ascii]),
                Err(InvalidCustomerValue::Tag),
                "{not_ascii}"
            );
        }
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(&many), Err(InvalidCustomerValue::TooManyTags));
    }

    #[test]
    fn sort_parsing() {
        let cases = [
            (
                "createdAt",
                Some((SortField::CreatedAt, SortDirection::Asc)),
            ),
            (
                "-lastName",
                Some((SortField::LastName, SortDirection::Desc)),
            ),
            ("email:desc", Some((SortField::Email, SortDirection::Desc))),
            (
                "updatedAt:ASC",
                Some((SortField::UpdatedAt, SortDirection::Asc)),
            ),
            ("password", None),
            ("email:sideways", None),
        ];
        for (raw, expected) in cases {
            let got = raw
                .parse::<CustomerSort>()
                .ok()
                .map(|s| (s.field, s.direction));
            assert_eq!(got, expected, "{raw}");
        }
    }

    #[test]
    fn status_and_search() {
        assert_eq!(
            "churned".parse::<CustomerStatus>(),
            Ok(CustomerStatus::Churned)
        );
        assert!("GONE".parse::<CustomerStatus>().is_err());
        assert_eq!(
            SearchTerm::parse(" ADA ").map(|s| s.0),
            Ok("ada".to_owned())
        );
        assert!(SearchTerm::parse("  ").is_err());
    }
}
