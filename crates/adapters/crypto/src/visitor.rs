//! The page-metrics visitor hash.

use nexus_analytics::{DailySalt, VisitorHash, VisitorHasher};
use sha2::{Digest, Sha256};

/// `SHA-256(daily salt ‖ 0 ‖ client ‖ 0 ‖ user agent)`, hex. The zero bytes keep the parts
/// apart, so `("1.2.3.4", "5x")` and `("1.2.3.45", "x")` never collide by concatenation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sha256VisitorHasher;

impl VisitorHasher for Sha256VisitorHasher {
    fn hash(&self, salt: &DailySalt, client: &str, user_agent: &str) -> VisitorHash {
        let mut digest = Sha256::new();
        digest.update(salt.as_bytes());
        digest.update([0]);
        digest.update(client.as_bytes());
        digest.update([0]);
        digest.update(user_agent.as_bytes());
        let hex = hex::encode(digest.finalize());
        // SHA-256 is always 64 lower-case hex characters.
        VisitorHash::from_hex(&hex).unwrap_or_else(|_| unreachable!("sha-256 hex is valid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_salt_client_and_agent_and_hides_them() {
        let h = Sha256VisitorHasher;
        let today = DailySalt::new(vec![1; 32]);
        let tomorrow = DailySalt::new(vec![2; 32]);
        let a = h.hash(&today, "203.0.113.7", "Firefox");
        assert_eq!(
            a,
            h.hash(&today, "203.0.113.7", "Firefox"),
            "stable within a day"
        );
        assert_ne!(
            a,
            h.hash(&tomorrow, "203.0.113.7", "Firefox"),
            "unlinkable across days"
        );
        assert_ne!(a, h.hash(&today, "203.0.113.8", "Firefox"));
        assert_ne!(a, h.hash(&today, "203.0.113.7", "Chrome"));
        assert_ne!(
            h.hash(&today, "1.2.3.4", "5x"),
            h.hash(&today, "1.2.3.45", "x")
        );
        assert!(!a.as_str().contains("203"));
        assert_eq!(a.as_str().len(), 64);
    }
}
