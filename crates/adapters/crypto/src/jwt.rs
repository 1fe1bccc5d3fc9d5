use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use nexus_identity::SessionFamilyId;
use nexus_identity::{AccessClaims, AccessGrant, IdentityError, IssuedAccessToken, TokenIssuer};
use nexus_kernel::{Role, Unexpected, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Random bytes in a refresh token (256 bits).
const REFRESH_TOKEN_BYTES: usize = 32;

/// Settings for signing and checking access tokens.
#[derive(Clone)]
pub struct JwtConfig {
    /// HMAC key, at least 32 bytes (RFC 7518 §3.2: no shorter than the SHA-256 output).
    pub secret: Vec<u8>,
    /// `iss` written into and required from every token.
    pub issuer: String,
    /// `aud` written into and required from every token.
    pub audience: String,
    /// How long an access token lives.
    pub access_ttl: Duration,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .finish()
    }
}

/// A `JwtConfig` that would make weak or useless tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidJwtConfig {
    /// The secret is shorter than 32 bytes.
    #[error("the JWT secret must be at least 32 bytes")]
    SecretTooShort,
    /// The issuer is empty.
    #[error("the JWT issuer must not be empty")]
    EmptyIssuer,
    /// The audience is empty.
    #[error("the JWT audience must not be empty")]
    EmptyAudience,
    /// The access-token lifetime is not at least one second.
    #[error("the access-token lifetime must be at least one second")]
    NonPositiveTtl,
}

/// What an access token carries. Every field is required: a token missing one does not
/// deserialize and so does not verify.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: UserId,
    role: Role,
    sid: SessionFamilyId,
    jti: Uuid,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// Signs and verifies HS256 access tokens, and makes and hashes refresh tokens.
pub struct JwtTokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    /// Key for one-time-code hashes, derived from the secret so the two uses never share a key.
    otp_key: [u8; 32],
}

impl JwtTokenIssuer {
    /// Shortest HMAC secret accepted, in bytes.
    pub const MIN_SECRET_BYTES: usize = 32;

    /// An issuer for `config`.
    ///
    /// # Errors
    /// `InvalidJwtConfig` for a short secret, an empty issuer or audience, or a lifetime
    /// under one second.
    pub fn new(config: JwtConfig) -> Result<Self, InvalidJwtConfig> {
        if config.secret.len() < Self::MIN_SECRET_BYTES {
            return Err(InvalidJwtConfig::SecretTooShort);
        }
        if config.issuer.trim().is_empty() {
            return Err(InvalidJwtConfig::EmptyIssuer);
        }
        if config.audience.trim().is_empty() {
            return Err(InvalidJwtConfig::EmptyAudience);
        }
        if config.access_ttl < Duration::seconds(1) {
            return Err(InvalidJwtConfig::NonPositiveTtl);
        }
        // Only HS256 is accepted: this rules out `none` and algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            header: Header::new(Algorithm::HS256),
            validation,
            issuer: config.issuer,
            audience: config.audience,
            access_ttl: config.access_ttl,
            otp_key: Sha256::new_with_prefix(b"nexus one-time code key\0")
                .chain_update(&config.secret)
                .finalize()
                .into(),
        })
    }
}

impl fmt::Debug for JwtTokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtTokenIssuer")
            .field("secret", &"[redacted]")
            .field("algorithm", &self.header.alg)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .finish()
    }
}

impl TokenIssuer for JwtTokenIssuer {
    fn issue_access(
        &self,
        grant: &AccessGrant,
        now: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, IdentityError> {
        let expires_at = now
            .checked_add_signed(self.access_ttl)
            .ok_or_else(|| Unexpected::msg("access-token expiry out of range"))?;
        let claims = Claims {
            sub: grant.user_id,
            role: grant.role,
            sid: grant.family_id,
            jti: Uuid::now_v7(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.encoding)
            .map_err(Unexpected::with("signing an access token"))?;
        Ok(IssuedAccessToken {
            token,
            expires_in: self.access_ttl.num_seconds(),
        })
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, IdentityError> {
        // Whatever went wrong, the caller learns only that the token is not valid.
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| IdentityError::InvalidToken)?
            .claims;
        let expires_at =
            DateTime::from_timestamp(claims.exp, 0).ok_or(IdentityError::InvalidToken)?;
        Ok(AccessClaims {
            grant: AccessGrant {
                user_id: claims.sub,
                role: claims.role,
                family_id: claims.sid,
            },
            expires_at,
        })
    }

    /// # Panics
    /// If the operating system's random source fails (see the crate README).
    fn new_refresh_token(&self) -> String {
        let mut bytes = [0_u8; REFRESH_TOKEN_BYTES];
        // No weaker fallback exists that would be acceptable for a credential, and the
        // port cannot return an error: failing closed is the only safe answer.
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        hex::encode(bytes)
    }

    fn hash_refresh_token(&self, token: &str) -> String {
        hex::encode(Sha256::digest(token.as_bytes()))
    }

    fn new_otp_code(&self) -> String {
        // Rejection sampling keeps the six digits uniform: 4_294_000_000 is the largest
        // multiple of 1_000_000 below 2^32.
        loop {
            let mut bytes = [0_u8; 4];
            getrandom::fill(&mut bytes).expect("the operating system's random source failed");
            let n = u32::from_le_bytes(bytes);
            if n < 4_294_000_000 {
                return format!("{:06}", n % 1_000_000);
            }
        }
    }

    fn hash_otp_code(&self, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.otp_key)
            .expect("HMAC accepts keys of any length");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

    #[test]
    fn one_time_codes_are_six_digits_and_vary() {
        let issuer = issuer();
        let codes: HashSet<String> = (0..50).map(|_| issuer.new_otp_code()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 40, "codes must be random");
    }

    #[test]
    fn one_time_code_hashes_are_keyed_by_the_secret() {
        let a = issuer();
        let mut other = config();
        other.secret = b"another-secret-of-at-least-32-bytes!!".to_vec();
        let b = JwtTokenIssuer::new(other).expect("valid");
        assert_eq!(a.hash_otp_code("123456"), a.hash_otp_code("123456"));
        assert_ne!(a.hash_otp_code("123456"), a.hash_otp_code("123457"));
        assert_ne!(a.hash_otp_code("123456"), b.hash_otp_code("123456"));
        assert_ne!(
            a.hash_otp_code("123456"),
            hex::encode(Sha256::digest(b"123456"))
        );
    }

    /// base64url of `{"alg":"none","typ":"JWT"}`.
    const NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

    fn config() -> JwtConfig {
        JwtConfig {
            secret: SECRET.to_vec(),
            issuer: "nexus".to_owned(),
            audience: "nexus-api".to_owned(),
            access_ttl: Duration::minutes(15),
        }
    }

    fn issuer_with(change: impl FnOnce(&mut JwtConfig)) -> JwtTokenIssuer {
        let mut config = config();
        change(&mut config);
        JwtTokenIssuer::new(config).expect("valid config")
    }

    fn issuer() -> JwtTokenIssuer {
        issuer_with(|_| {})
    }

    fn grant() -> AccessGrant {
        AccessGrant {
            user_id: UserId::new(),
            role: Role::Manager,
            family_id: SessionFamilyId::new(),
        }
    }

    fn fresh_token(issuer: &JwtTokenIssuer) -> String {
        issuer
            .issue_access(&grant(), Utc::now())
            .expect("issues")
            .token
    }

    #[test]
    fn a_token_verifies_back_to_its_grant() {
        let issuer = issuer();
        let grant = grant();
        let now = Utc::now();

        let issued = issuer.issue_access(&grant, now).expect("issues");
        let claims = issuer.verify_access(&issued.token).expect("verifies");

        assert_eq!(claims.grant, grant);
        assert_eq!(
            claims.expires_at.timestamp(),
            (now + config().access_ttl).timestamp()
        );
        assert_eq!(issued.expires_in, config().access_ttl.num_seconds());
    }

    #[test]
    fn expiry_is_computed_from_the_given_instant_not_the_system_clock() {
        let issuer = issuer();
        let now = Utc::now() - Duration::days(3);

        let issued = issuer.issue_access(&grant(), now).expect("issues");
        let claims = jsonwebtoken::decode::<Claims>(&issued.token, &issuer.decoding, &{
            let mut v = issuer.validation.clone();
            v.validate_exp = false;
            v
        })
        .expect("decodes")
        .claims;

        assert_eq!(claims.iat, now.timestamp());
        assert_eq!(claims.exp, (now + config().access_ttl).timestamp());
        assert_eq!(claims.iss, config().issuer);
        assert_eq!(claims.aud, config().audience);
    }

    #[test]
    fn every_token_has_its_own_id() {
        let issuer = issuer();
        let grant = grant();
        let now = Utc::now();

        let first = issuer.issue_access(&grant, now).expect("issues");
        let second = issuer.issue_access(&grant, now).expect("issues");

        assert_ne!(first.token, second.token);
    }

    #[test]
    fn a_tampered_signature_is_rejected() {
        let issuer = issuer();
        let token = fresh_token(&issuer);
        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let first = signature.chars().next().expect("non-empty signature");
        let replacement = if first == 'A' { 'B' } else { 'A' };
        let tampered = format!("{signed}.{replacement}{}", &signature[1..]);

        let result = issuer.verify_access(&tampered);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let issuer = issuer();
        let mine = fresh_token(&issuer);
        let other = fresh_token(&issuer);
        let parts: Vec<&str> = mine.split('.').collect();
        let other_payload = other.split('.').nth(1).expect("three parts");
        let spliced = format!("{}.{other_payload}.{}", parts[0], parts[2]);

        let result = issuer.verify_access(&spliced);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let other = issuer_with(|c| c.secret = b"another-secret-that-is-32-bytes-long!!".to_vec());
        let token = fresh_token(&other);

        let result = issuer().verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_token_from_another_issuer_is_rejected() {
        let other = issuer_with(|c| c.issuer = "someone-else".to_owned());
        let token = fresh_token(&other);

        let result = issuer().verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_token_for_another_audience_is_rejected() {
        let other = issuer_with(|c| c.audience = "another-api".to_owned());
        let token = fresh_token(&other);

        let result = issuer().verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let issuer = issuer();
        let two_hours_ago = Utc::now() - Duration::hours(2);
        let token = issuer
            .issue_access(&grant(), two_hours_ago)
            .expect("issues")
            .token;

        let result = issuer.verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_rejected() {
        let issuer = issuer();
        let token = fresh_token(&issuer);
        let payload = token.split('.').nth(1).expect("three parts");
        let unsigned = format!("{NONE_HEADER}.{payload}.");

        let result = issuer.verify_access(&unsigned);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_token_signed_with_another_hmac_algorithm_is_rejected() {
        let issuer = issuer();
        let now = Utc::now();
        let claims = Claims {
            sub: UserId::new(),
            role: Role::Admin,
            sid: SessionFamilyId::new(),
            jti: Uuid::now_v7(),
            iat: now.timestamp(),
            exp: (now + Duration::minutes(5)).timestamp(),
            iss: config().issuer,
            aud: config().audience,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signs");

        let result = issuer.verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn a_token_missing_a_required_claim_is_rejected() {
        #[derive(Serialize)]
        struct WithoutSession {
            sub: UserId,
            role: Role,
            jti: Uuid,
            iat: i64,
            exp: i64,
            iss: String,
            aud: String,
        }
        let issuer = issuer();
        let now = Utc::now();
        let claims = WithoutSession {
            sub: UserId::new(),
            role: Role::Admin,
            jti: Uuid::now_v7(),
            iat: now.timestamp(),
            exp: (now + Duration::minutes(5)).timestamp(),
            iss: config().issuer,
            aud: config().audience,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signs");

        let result = issuer.verify_access(&token);

        assert!(matches!(result, Err(IdentityError::InvalidToken)));
    }

    #[test]
    fn garbage_is_rejected() {
        let issuer = issuer();

        for garbage in ["", "garbage", "a.b.c", "..", "eyJ.eyJ.sig"] {
            let result = issuer.verify_access(garbage);
            assert!(
                matches!(result, Err(IdentityError::InvalidToken)),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn refresh_tokens_are_unique_and_256_bit() {
        let issuer = issuer();

        let tokens: Vec<String> = (0..100).map(|_| issuer.new_refresh_token()).collect();

        let distinct: HashSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), tokens.len());
        for token in &tokens {
            let bytes = hex::decode(token).expect("hex");
            assert_eq!(bytes.len() * 8, 256);
        }
    }

    #[test]
    fn refresh_token_hashes_are_deterministic_and_differ_from_the_token() {
        let issuer = issuer();
        let token = issuer.new_refresh_token();

        let first = issuer.hash_refresh_token(&token);
        let second = issuer.hash_refresh_token(&token);

        assert_eq!(first, second);
        assert_ne!(first, token);
        assert_eq!(hex::decode(&first).expect("hex").len(), 32);
        assert_ne!(
            first,
            issuer.hash_refresh_token(&issuer.new_refresh_token())
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret_text = String::from_utf8(SECRET.to_vec()).expect("ascii");

        let printed = [format!("{:?}", issuer()), format!("{:?}", config())];

        for text in printed {
            assert!(!text.contains(&secret_text), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    #[test]
    fn weak_configurations_are_refused() {
        type Weaken = fn(&mut JwtConfig);
        let cases: [(Weaken, InvalidJwtConfig); 4] = [
            (
                |c| c.secret = b"short".to_vec(),
                InvalidJwtConfig::SecretTooShort,
            ),
            (|c| c.issuer = " ".to_owned(), InvalidJwtConfig::EmptyIssuer),
            (
                |c| c.audience = String::new(),
                InvalidJwtConfig::EmptyAudience,
            ),
            (
                |c| c.access_ttl = Duration::zero(),
                InvalidJwtConfig::NonPositiveTtl,
            ),
        ];
        for (change, expected) in cases {
            let mut config = config();
            change(&mut config);
            assert_eq!(JwtTokenIssuer::new(config).map(|_| ()), Err(expected));
        }
    }
}
