//! Short-lived preview links of a page's draft: a token naming the page, the version and
//! an expiry, signed by a [`PreviewSigner`] (HMAC-SHA256 with a key of the app's settings).
//!
//! The token is `<page id, 32 hex>.<version>.<expiry, unix seconds>.<signature>`: only
//! URL-safe characters, and it reveals nothing the holder may not see anyway.

use chrono::{DateTime, Utc};

use crate::PageId;

/// Signs and checks preview tokens. Implementations keep their key secret and compare
/// signatures in constant time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PreviewSigner: Send + Sync {
    /// The signature of `message`, URL-safe.
    fn sign(&self, message: &str) -> String;
    /// Whether `signature` is the signature of `message`.
    fn verify(&self, message: &str, signature: &str) -> bool;
}

/// What a preview token grants: reading `version` of `page_id` until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewClaims {
    /// The page.
    pub page_id: PageId,
    /// The version shown.
    pub version: i64,
    /// Until when.
    pub expires_at: DateTime<Utc>,
}

/// A preview link as handed to an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewLink {
    /// The token.
    pub token: String,
    /// The claims it carries.
    pub claims: PreviewClaims,
}

impl PreviewClaims {
    fn message(&self) -> String {
        format!(
            "{}.{}.{}",
            self.page_id.as_uuid().simple(),
            self.version,
            self.expires_at.timestamp()
        )
    }

    /// The signed token of these claims.
    #[must_use]
    pub fn token(&self, signer: &dyn PreviewSigner) -> String {
        let message = self.message();
        let signature = signer.sign(&message);
        format!("{message}.{signature}")
    }

    /// The claims of `token` when its signature is right (expired or not); `None` when it is
    /// malformed or tampered with.
    #[must_use]
    pub fn verify(token: &str, signer: &dyn PreviewSigner) -> Option<Self> {
        let (message, signature) = token.rsplit_once('.')?;
        let mut parts = message.split('.');
        let (id, version, exp) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !signer.verify(message, signature) {
            return None;
        }
        Some(Self {
            page_id: PageId::from_uuid(uuid::Uuid::parse_str(id).ok()?),
            version: version.parse().ok()?,
            expires_at: DateTime::from_timestamp(exp.parse().ok()?, 0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Signs" by reversing the message: enough to see what is signed.
    struct Reverse;
    impl PreviewSigner for Reverse {
        fn sign(&self, message: &str) -> String {
            message
                .chars()
                .rev()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect()
        }
        fn verify(&self, message: &str, signature: &str) -> bool {
            self.sign(message) == signature
        }
    }

    #[test]
    fn a_token_round_trips_and_any_change_breaks_it() {
        let claims = PreviewClaims {
            page_id: PageId::new(),
            version: 7,
            expires_at: DateTime::from_timestamp(1_800_000_000, 0).expect("instant"),
        };
        let token = claims.token(&Reverse);
        assert_eq!(PreviewClaims::verify(&token, &Reverse), Some(claims));
        let bumped = token.replacen(".7.", ".8.", 1);
        assert_eq!(PreviewClaims::verify(&bumped, &Reverse), None);
        assert_eq!(PreviewClaims::verify("garbage", &Reverse), None);
        assert_eq!(PreviewClaims::verify("a.b.c.d.e", &Reverse), None);
    }
}
