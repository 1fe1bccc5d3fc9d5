//! RFC 6238 codes, computed here independently of the app: HMAC-SHA-1, 6 digits, 30 s.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Decodes RFC 4648 base32 (no padding, case-insensitive).
///
/// # Panics
/// On a character outside the base32 alphabet.
#[must_use]
pub fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').chars() {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => u32::from(c) - u32::from('A'),
            c @ '2'..='7' => u32::from(c) - u32::from('2') + 26,
            other => panic!("{other:?} is not base32"),
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).expect("a byte"));
        }
    }
    out
}

/// The code of the base32 `secret` for time step `step`.
#[must_use]
pub fn totp_code_at(secret: &str, step: i64) -> String {
    let key = base32_decode(secret);
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).expect("any key length");
    mac.update(&u64::try_from(step).expect("a positive step").to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// The current time step.
#[must_use]
pub fn totp_step_now() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(30)
}

/// The code of the base32 `secret` now.
#[must_use]
pub fn totp_code(secret: &str) -> String {
    totp_code_at(secret, totp_step_now())
}

impl crate::TestApp {
    /// Turns two-factor sign-in on for `user` (enrolment with the password, then the first
    /// code) and answers the base32 secret and the time step the first code used.
    ///
    /// # Panics
    /// If the enrolment or its confirmation is refused.
    pub async fn enable_totp(&self, user: &crate::Signed) -> (String, i64) {
        let res = self
            .post_json(
                "/api/v1/users/me/totp",
                &serde_json::json!({ "currentPassword": user.password }),
                user,
            )
            .await;
        let setup = crate::expect_json(res, 200).await;
        let secret = setup["secret"].as_str().expect("a secret").to_owned();
        let step = totp_step_now();
        let res = self
            .post_json(
                "/api/v1/users/me/totp/confirm",
                &serde_json::json!({ "code": totp_code_at(&secret, step) }),
                user,
            )
            .await;
        crate::expect_json(res, 200).await;
        (secret, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors() {
        // "12345678901234567890" in base32.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp_code_at(secret, 59 / 30), "287082");
        assert_eq!(totp_code_at(secret, 1_111_111_109 / 30), "081804");
    }
}
