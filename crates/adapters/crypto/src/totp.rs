//! RFC 6238 codes (HMAC-SHA-1, 6 digits) and sealed authenticator secrets.
//!
//! A secret is stored sealed: encrypted with a keystream of HMAC-SHA-256 blocks over a
//! random nonce (HMAC as a pseudo-random function in counter mode) and authenticated with
//! a separate HMAC-SHA-256 tag over nonce and ciphertext. Both keys are derived from the
//! server secret (`JWT_SECRET`) with their own labels, so no key serves two uses. The
//! stored form is `v1.<nonce>.<ciphertext>.<tag>` in hex.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use nexus_identity::{Authenticator, IdentityError};
use nexus_kernel::Unexpected;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const SECRET_BYTES: usize = 20;
const NONCE_BYTES: usize = 16;
const TAG_BYTES: usize = 16;

/// Computes TOTP codes and seals secrets with keys derived from a server secret.
pub struct TotpAuthenticator {
    seal_key: [u8; 32],
    tag_key: [u8; 32],
}

impl TotpAuthenticator {
    /// An authenticator whose keys derive from `server_secret`.
    #[must_use]
    pub fn new(server_secret: &[u8]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            Sha256::new_with_prefix(label)
                .chain_update(server_secret)
                .finalize()
                .into()
        };
        Self {
            seal_key: derive(b"nexus totp seal key\0"),
            tag_key: derive(b"nexus totp tag key\0"),
        }
    }

    fn keystream_xor(&self, nonce: &[u8], data: &mut [u8]) {
        for (counter, chunk) in (0_u32..).zip(data.chunks_mut(32)) {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.seal_key)
                .expect("HMAC accepts keys of any length");
            mac.update(nonce);
            mac.update(&counter.to_be_bytes());
            let block = mac.finalize().into_bytes();
            for (byte, key) in chunk.iter_mut().zip(block.iter()) {
                *byte ^= key;
            }
        }
    }

    fn tag(&self, nonce: &[u8], ciphertext: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.tag_key)
            .expect("HMAC accepts keys of any length");
        mac.update(b"v1");
        mac.update(nonce);
        mac.update(ciphertext);
        mac
    }
}

impl fmt::Debug for TotpAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpAuthenticator([redacted])")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

impl Authenticator for TotpAuthenticator {
    fn new_secret(&self) -> Vec<u8> {
        random::<SECRET_BYTES>().to_vec()
    }

    fn code_at(&self, secret: &[u8], step: u64) -> String {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
            .expect("HMAC accepts keys of any length");
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        // RFC 4226 §5.3: dynamic truncation.
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!("{:06}", binary % 1_000_000)
    }

    fn seal(&self, secret: &[u8]) -> String {
        let nonce = random::<NONCE_BYTES>();
        let mut ciphertext = secret.to_vec();
        self.keystream_xor(&nonce, &mut ciphertext);
        let tag = self.tag(&nonce, &ciphertext).finalize().into_bytes();
        format!(
            "v1.{}.{}.{}",
            hex::encode(nonce),
            hex::encode(&ciphertext),
            hex::encode(&tag[..TAG_BYTES])
        )
    }

    fn open(&self, sealed: &str) -> Result<Vec<u8>, IdentityError> {
        let broken = || IdentityError::Unexpected(Unexpected::msg("a sealed secret does not open"));
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(nonce), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(broken());
        };
        let nonce = hex::decode(nonce).map_err(|_| broken())?;
        let mut ciphertext = hex::decode(ciphertext).map_err(|_| broken())?;
        let tag = hex::decode(tag).map_err(|_| broken())?;
        // A shortened tag would be checked only as far as it goes: only the full length
        // counts.
        if nonce.len() != NONCE_BYTES || tag.len() != TAG_BYTES {
            return Err(broken());
        }
        self.tag(&nonce, &ciphertext)
            .verify_truncated_left(&tag)
            .map_err(|_| broken())?;
        self.keystream_xor(&nonce, &mut ciphertext);
        Ok(ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_sha1_vectors() {
        let totp = TotpAuthenticator::new(b"server secret");
        // RFC 6238 appendix B (SHA-1), last six of the eight digits.
        for (time, code) in [
            (59_u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp.code_at(RFC_SECRET, time / 30), code, "T = {time}");
        }
    }

    #[test]
    fn a_sealed_secret_opens_and_hides_itself() {
        let totp = TotpAuthenticator::new(b"server secret");
        let secret = totp.new_secret();
        let sealed = totp.seal(&secret);
        assert!(!sealed.contains(&hex::encode(&secret)));
        assert_ne!(sealed, totp.seal(&secret), "a fresh nonce each time");
        assert_eq!(totp.open(&sealed).expect("opens"), secret);
    }

    #[test]
    fn a_tampered_or_foreign_seal_does_not_open() {
        let totp = TotpAuthenticator::new(b"server secret");
        let sealed = totp.seal(RFC_SECRET);
        let other = TotpAuthenticator::new(b"another server secret");
        assert!(other.open(&sealed).is_err());
        let mut parts: Vec<String> = sealed.split('.').map(str::to_owned).collect();
        let flipped = if parts[2].starts_with('0') { "1" } else { "0" };
        parts[2].replace_range(0..1, flipped);
        assert!(totp.open(&parts.join(".")).is_err());
        assert!(totp.open("garbage").is_err());
    }

    #[test]
    fn a_shortened_tag_does_not_open_even_when_its_bytes_match() {
        let totp = TotpAuthenticator::new(b"server secret");
        let sealed = totp.seal(RFC_SECRET);
        let mut parts: Vec<&str> = sealed.split('.').collect();
        let full = parts[3];
        assert_eq!(full.len(), TAG_BYTES * 2);
        // The first byte of the right tag: a forger would need 256 tries at most.
        parts[3] = &full[..2];
        assert!(totp.open(&parts.join(".")).is_err());
    }
}
