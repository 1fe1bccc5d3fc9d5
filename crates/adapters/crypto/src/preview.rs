//! HMAC-SHA256 signatures of content preview tokens.

use hmac::{Hmac, KeyInit, Mac};
use nexus_content::PreviewSigner;
use sha2::Sha256;

/// Signs preview tokens with HMAC-SHA256 under a key of its own (never the token secret),
/// hex-encoded; checks them in constant time.
pub struct HmacPreviewSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for HmacPreviewSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacPreviewSigner([redacted])")
    }
}

impl HmacPreviewSigner {
    /// A signer with `key`.
    #[must_use]
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(message.as_bytes());
        mac
    }
}

impl PreviewSigner for HmacPreviewSigner {
    fn sign(&self, message: &str) -> String {
        hex::encode(self.mac(message).finalize().into_bytes())
    }

    fn verify(&self, message: &str, signature: &str) -> bool {
        hex::decode(signature).is_ok_and(|sig| self.mac(message).verify_slice(&sig).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let signer = HmacPreviewSigner::new(b"k".repeat(32));
        let sig = signer.sign("page.1.100");
        assert_eq!(sig.len(), 64);
        assert!(signer.verify("page.1.100", &sig));
        assert!(!signer.verify("page.2.100", &sig));
        assert!(!signer.verify("page.1.100", "zz"));
        assert!(!HmacPreviewSigner::new(b"x".repeat(32)).verify("page.1.100", &sig));
    }
}
