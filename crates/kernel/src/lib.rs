#![doc = include_str!("../README.md")]

mod access;
mod audit;
mod cache;
mod clock;
mod email;
mod error;
mod ids;
mod money;
mod name;
mod page;
mod rate;

pub use access::{Actor, Grants, Permission, Role, UnknownRole};
pub use audit::{
    AuditActor, AuditRecord, REDACTED, SMALL_SCALAR_CHARS, changed_fields, field_change,
    is_secret_key, redact, summarize, summarize_values,
};
pub use cache::{CacheFuture, SharedCache};
pub use clock::{Clock, FixedClock, SystemClock};
pub use email::{Email, InvalidEmail};
pub use error::Unexpected;
pub use ids::{InvalidId, UserId};
pub use money::{Currency, InvalidMoney, Money};
pub use name::{InvalidName, PersonName, parse_text};
pub use page::{MAX_PAGE_LIMIT, Page, PageRequest};
pub use rate::{FailureThrottle, LockoutPolicy, RateDecision, RateLimiter};

/// What [`typed_id!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use uuid::Uuid;
}
