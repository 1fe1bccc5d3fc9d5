use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use nexus_identity::{IdentityError, Password, PasswordHash, PasswordHasher};
use nexus_kernel::Unexpected;

/// A bcrypt cost outside the range the algorithm accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bcrypt cost must be between 4 and 31, got {0}")]
pub struct InvalidCost(u32);

impl InvalidCost {
    /// The rejected cost.
    #[must_use]
    pub const fn cost(&self) -> u32 {
        self.0
    }
}

/// Hashes and checks passwords with bcrypt, off the async executor, at most
/// `max_in_flight` at once: a flood of logins cannot queue up work that delays everyone
/// (each excess call fails at once with `IdentityError::Busy`).
#[derive(Clone)]
pub struct BcryptPasswordHasher {
    cost: u32,
    /// One permit per hash allowed in flight; a permit is held until bcrypt finishes, even
    /// if the caller gave up waiting.
    permits: Arc<tokio::sync::Semaphore>,
    /// A hash of a throw-away password at `cost`, verified against when the account is
    /// unknown so that an unknown e-mail costs as much as a wrong password.
    dummy_hash: Arc<str>,
}

impl BcryptPasswordHasher {
    /// The smallest cost bcrypt accepts (use it in tests only).
    pub const MIN_COST: u32 = 4;
    /// The largest cost bcrypt accepts.
    pub const MAX_COST: u32 = 31;
    /// A sensible production cost.
    pub const DEFAULT_COST: u32 = bcrypt::DEFAULT_COST;
    /// Hashes in flight at once unless [`Self::with_max_in_flight`] says otherwise.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;

    /// A hasher at `cost` (a power of two of rounds). Computes the dummy hash once, on the
    /// calling thread: call it at start-up, not on a request path.
    ///
    /// # Errors
    /// `InvalidCost` when `cost` is outside `MIN_COST..=MAX_COST`.
    pub fn new(cost: u32) -> Result<Self, InvalidCost> {
        if !(Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            return Err(InvalidCost(cost));
        }
        // A fixed salt is fine here: the dummy hash protects no secret, it only has to cost
        // the same to verify as a real one of the same cost.
        let dummy = bcrypt::hash_with_salt(b"nexus dummy password", cost, [0x5a; 16])
            .map_err(|_| InvalidCost(cost))?;
        Ok(Self {
            cost,
            permits: Arc::new(tokio::sync::Semaphore::new(Self::DEFAULT_MAX_IN_FLIGHT)),
            dummy_hash: dummy.to_string().into(),
        })
    }

    /// The same hasher allowing `max` hashes in flight at once (at least 1).
    #[must_use]
    pub fn with_max_in_flight(mut self, max: usize) -> Self {
        self.permits = Arc::new(tokio::sync::Semaphore::new(max.max(1)));
        self
    }

    fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, IdentityError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!("password hashing at capacity; refusing");
            IdentityError::Busy
        })
    }

    /// The cost new hashes are made with.
    #[must_use]
    pub const fn cost(&self) -> u32 {
        self.cost
    }
}

impl fmt::Debug for BcryptPasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BcryptPasswordHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl PasswordHasher for BcryptPasswordHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, IdentityError> {
        let permit = self.permit()?;
        let plain = password.expose().to_owned();
        let cost = self.cost;
        // `Password` refuses more than 72 bytes, so nothing is ever truncated here. (bcrypt's
        // non-truncating variant also counts the trailing NUL and so refuses exactly 72.)
        let hash = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            bcrypt::hash(plain, cost)
        })
        .await
        .map_err(Unexpected::with("password hashing task failed"))?
        .map_err(Unexpected::with("hashing a password"))?;
        Ok(PasswordHash::new(hash))
    }

    async fn verify<'a>(
        &self,
        plain: &str,
        hash: Option<&'a PasswordHash>,
    ) -> Result<bool, IdentityError> {
        let permit = self.permit()?;
        let known = hash.is_some();
        let stored = hash.map_or_else(|| self.dummy_hash.to_string(), |h| h.expose().to_owned());
        let plain = plain.to_owned();
        // Truncating verify, as every bcrypt implementation does, so that hashes made
        // elsewhere (imports) keep working.
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            bcrypt::verify(plain, &stored)
        })
        .await
        .map_err(Unexpected::with("password verifying task failed"))?
        .map_err(Unexpected::with(
            "verifying a password against a stored hash",
        ))?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use nexus_kernel::Email;

    use super::*;

    fn hasher() -> BcryptPasswordHasher {
        BcryptPasswordHasher::new(BcryptPasswordHasher::MIN_COST).expect("valid cost")
    }

    fn password(raw: &str) -> Password {
        let email = Email::parse("ada@example.com").expect("valid e-mail");
        Password::parse(raw, &email).expect("valid password")
    }

    #[tokio::test]
    async fn a_hashed_password_verifies() {
        let hasher = hasher();
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .expect("hashes");

        let ok = hasher
            .verify("correct horse battery", Some(&hash))
            .await
            .expect("verifies");

        assert!(ok);
        assert!(hash.expose().starts_with("$2b$04$"));
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let hasher = hasher();
        let first = hasher
            .hash(&password("correct horse"))
            .await
            .expect("hashes");
        let second = hasher
            .hash(&password("correct horse"))
            .await
            .expect("hashes");

        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_wrong_password_does_not_verify() {
        let hasher = hasher();
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .expect("hashes");

        let ok = hasher
            .verify("wrong horse battery", Some(&hash))
            .await
            .expect("verifies");

        assert!(!ok);
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        let hasher = hasher();

        let ok = hasher
            .verify("nexus dummy password", None)
            .await
            .expect("verifies");

        assert!(!ok);
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_unexpected() {
        let hasher = hasher();
        let broken = PasswordHash::new("not a bcrypt hash".to_owned());

        let result = hasher.verify("whatever1", Some(&broken)).await;

        assert!(matches!(result, Err(IdentityError::Unexpected(_))));
    }

    #[test]
    fn costs_outside_the_bcrypt_range_are_refused() {
        for cost in [0, 3, 32] {
            assert_eq!(
                BcryptPasswordHasher::new(cost).map(|h| h.cost()),
                Err(InvalidCost(cost))
            );
        }
    }

    #[tokio::test]
    async fn beyond_the_hashes_in_flight_a_call_is_refused_at_once_and_served_again_after() {
        let hasher = hasher().with_max_in_flight(1);
        let held = hasher.permit().expect("the one permit");

        let refused_verify = hasher.verify("whatever1", None).await;
        let refused_hash = hasher.hash(&password("correct horse")).await;
        drop(held);
        let served = hasher.verify("whatever1", None).await;

        assert!(matches!(refused_verify, Err(IdentityError::Busy)));
        assert!(matches!(refused_hash, Err(IdentityError::Busy)));
        assert!(matches!(served, Ok(false)));
    }

    #[test]
    fn the_dummy_hash_has_the_configured_cost() {
        let hasher = BcryptPasswordHasher::new(5).expect("valid cost");

        assert!(hasher.dummy_hash.starts_with("$2b$05$"));
    }
}
