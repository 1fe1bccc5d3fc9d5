use nexus_kernel::Unexpected;

use crate::PageStatus;

/// One field of the input that breaks a rule: its path as the client spells it
/// (`blocks[2].items[0].question`), a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// Path of the field, camelCase, with indexes.
    pub field: String,
    /// Stable machine code (`required`, `too_long`, `invalid`, `too_many`...).
    pub code: &'static str,
    /// Human-readable text.
    pub message: String,
}

impl FieldIssue {
    /// An issue of `field`.
    #[must_use]
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in the content context.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No such page (or version), or none the caller may see.
    #[error("page not found")]
    NotFound,
    /// The caller's role may not do this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// The input breaks the rules listed.
    #[error("the page has invalid fields")]
    Invalid(Vec<FieldIssue>),
    /// Another page already has this key.
    #[error("a page with this key already exists")]
    KeyTaken,
    /// Another page already has this slug in this locale (as a draft or published).
    #[error("a page with this slug already exists in this locale")]
    SlugTaken,
    /// The page changed since the caller read it.
    #[error("the page was changed by someone else")]
    Conflict,
    /// The page's status does not allow this action.
    #[error("cannot {action} a page that is {from}")]
    InvalidTransition {
        /// The page's status.
        from: PageStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// A preview token whose signature is right but whose time is over.
    #[error("the preview link has expired")]
    PreviewExpired,
    /// The record is still referenced (a team member who wrote posts).
    #[error("{0}")]
    InUse(&'static str),
    /// An upload that is not a PNG, JPEG or WebP image (by its first bytes).
    #[error("the file is not a PNG, JPEG or WebP image")]
    UnsupportedImage,
    /// An upload larger than the limit.
    #[error("the image is larger than {max} bytes")]
    ImageTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

impl ContentError {
    /// `Invalid` with one issue.
    #[must_use]
    pub fn field(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldIssue::new(field, code, message)])
    }
}
