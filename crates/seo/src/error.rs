use nexus_kernel::Unexpected;

use crate::redirects::RedirectError;

/// Everything that can go wrong in the SEO context.
#[derive(Debug, thiserror::Error)]
pub enum SeoError {
    /// No stored audit of this item (never audited, not public, or unknown).
    #[error("no SEO audit of this item")]
    NotFound,
    /// The caller's role may not do this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// No redirect rule with this id.
    #[error("no such redirect rule")]
    RedirectNotFound,
    /// The record was changed by someone else since the version given was read.
    #[error("the redirect rule was changed by someone else; read it again")]
    Conflict,
    /// The rule breaks a rule of redirects (a bad path, a loop, a chain too long).
    #[error(transparent)]
    Redirect(#[from] RedirectError),
    /// Another rule already has this source path.
    #[error("another redirect rule already has this source path")]
    SourceTaken,
    /// The site already has the most rules kept.
    #[error("the site already has {max} redirect rules, the most kept; delete some first")]
    TooManyRedirects {
        /// The limit.
        max: u32,
    },
    /// The source is a path the service answers itself, where a rule would never apply.
    #[error("the source must not be under {0}: the service answers those paths itself")]
    ReservedSource(String),
    /// The note is longer than allowed.
    #[error("the note must be at most {max} characters")]
    NoteTooLong {
        /// The limit.
        max: usize,
    },
    /// A failure that is not a business outcome.
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}
