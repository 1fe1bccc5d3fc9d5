//! Shared extractors: validated JSON, the authenticated caller, `If-Match`, and the
//! handlers that turn framework extraction failures into the uniform error.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use nexus_identity::AuthSession;
use serde::de::DeserializeOwned;
use validator::Validate;

use super::error::ApiError;
use crate::state::AppState;

/// A JSON body that has been deserialized AND validated; handlers cannot forget `validate()`.
#[derive(Debug)]
pub struct ValidatedJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(raw) = json.await?;
            let value = body_object::<T>(raw)?;
            value.validate().map_err(ApiError::from)?;
            Ok(Self(value))
        })
    }
}

/// Every request body is a JSON object: serde would also fill a struct from an array of its
/// fields in order (`[null, null]`), which no client means and the document does not allow.
fn body_object<T: DeserializeOwned>(raw: serde_json::Value) -> Result<T, ApiError> {
    let invalid = ApiError::invalid_json;
    if !raw.is_object() {
        return Err(invalid("The body must be a JSON object".to_owned()));
    }
    let mut raw = raw;
    integral_numbers(&mut raw);
    serde_json::from_value(raw).map_err(|e| {
        invalid(format!(
            "The JSON body does not match the expected shape: {e}"
        ))
    })
}

/// The largest integer every JSON number in `f64` holds exactly (2^53).
const EXACT_F64_INTEGER: f64 = 9_007_199_254_740_992.0;

/// JSON Schema (and JSON itself) counts `6.0` the same integer as `6`; serde would refuse it
/// for an integer field. Every integral number written with a fraction or an exponent
/// (`6.0`, `6e0`) within the range `f64` holds exactly becomes that integer, everywhere in
/// the body; any other number is left as sent (a float field still reads it as a float).
fn integral_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f.abs() <= EXACT_F64_INTEGER {
                // In range and integral, so the conversion is exact.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *value = serde_json::Value::from(i);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// What a session of staff who must enrol an authenticator (`REQUIRE_STAFF_TOTP`) and have
/// not may reach: the enrolment, their own profile and signing out. Everything else is
/// 403 `totp_required`.
const ENROLMENT_ROUTES: [&str; 5] = [
    "/api/v1/users/me/totp",
    "/api/v1/users/me/totp/confirm",
    "/api/v1/users/me",
    "/api/v1/auth/me",
    "/api/v1/auth/logout",
];

/// The authenticated caller, from a `Authorization: Bearer <access token>` header.
#[derive(Debug, Clone, Copy)]
pub struct Auth(pub AuthSession);

impl Auth {
    /// The caller as the domain sees them.
    #[must_use]
    pub fn actor(&self) -> nexus_kernel::Actor {
        self.0.actor
    }
}

impl FromRequest for Auth {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let enrolment_route = ENROLMENT_ROUTES.contains(&req.path().trim_end_matches('/'));
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, token) else {
                return Err(ApiError::unauthorized().into());
            };
            let session = state
                .identity
                .authenticate(&token)
                .await
                .map_err(ApiError::from)?;
            tracing::Span::current()
                .record("user_id", tracing::field::display(session.actor.user_id()));
            if session.totp_required && !enrolment_route {
                return Err(ApiError::totp_required().into());
            }
            Ok(Self(session))
        })
    }
}

/// The version a client read, from `If-Match: "<version>"` (weak tags accepted).
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(Self(None)),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(parse_etag)
                .map(|n| Self(Some(n)))
                .ok_or_else(|| ApiError::invalid_if_match().into()),
        };
        std::future::ready(parsed)
    }
}

/// The version in an entity tag as the API sends it, `"3"` or weak `W/"3"`, or the bare
/// version `3`; 1 to 18 digits, so it always fits a version. The OpenAPI document states the
/// same grammar as [`IF_MATCH_PATTERN`].
fn parse_etag(raw: &str) -> Option<i64> {
    let tag = raw.trim();
    let digits = match tag.strip_prefix("W/").unwrap_or(tag).strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => tag,
    };
    if (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// The grammar of `If-Match` that [`IfMatch`] accepts, for the OpenAPI document.
pub const IF_MATCH_PATTERN: &str = r#"^(?:(?:W/)?"[0-9]{1,18}"|[0-9]{1,18})$"#;

impl IfMatch {
    /// The version the client read: `If-Match`, else the body's `version` field.
    ///
    /// # Errors
    /// 428 `precondition_required` when neither was sent: an update without the version read
    /// could silently overwrite someone else's change.
    pub fn or_version(self, body_version: Option<i64>) -> Result<i64, ApiError> {
        self.0
            .or(body_version)
            .ok_or_else(ApiError::precondition_required)
    }
}

/// A query parameter with its blanks trimmed; `None` when absent or empty.
#[must_use]
pub fn non_blank(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Serde helper for PATCH fields: `Some(None)` for an explicit `null` (clear it), `None` for
/// an absent field (leave it).
///
/// # Errors
/// The deserializer's error for a value of the wrong type.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The `ETag` value for a version.
#[must_use]
pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// JSON body failures in the uniform body (the mapping is in `error.rs`).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::from(err).into()
}

/// Path parameter failures in the uniform body (the mapping is in `error.rs`).
pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::from(err).into()
}

/// Query string failures in the uniform body (the mapping is in `error.rs`).
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::from(err).into()
}

/// Serde helper for integer fields: also takes a JSON number with a zero fraction (`3.0`),
/// which JSON Schema counts as an integer, so every value the OpenAPI document allows is
/// accepted.
///
/// # Errors
/// The deserializer's error for anything but a whole number within `i64`.
pub fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = <serde_json::Number as serde::Deserialize>::deserialize(d)?;
    whole_number(&n).ok_or_else(|| {
        serde::de::Error::custom(format_args!("invalid value: {n}, expected an integer"))
    })
}

/// [`whole`] for an optional field (use with `#[serde(default)]`).
///
/// # Errors
/// As [`whole`].
pub fn whole_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match <Option<serde_json::Number> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(n) => whole_number(&n).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format_args!("invalid value: {n}, expected an integer"))
        }),
    }
}

fn whole_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        // `i64::MAX as f64` is 2^63, one past the largest i64: the bound is exclusive.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a whole number strictly inside the i64 range converts exactly"
        )]
        let whole =
            (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64);
        whole
    })
}

#[cfg(test)]
mod body_tests {
    use super::body_object;

    #[derive(Debug, serde::Deserialize)]
    struct Names {
        #[serde(rename = "firstName")]
        _first_name: Option<String>,
    }

    #[test]
    fn a_body_must_be_an_object() {
        assert!(body_object::<Names>(serde_json::json!({"firstName": "Ada"})).is_ok());
        assert!(body_object::<Names>(serde_json::json!({})).is_ok());
        for raw in [
            serde_json::json!([null]),
            serde_json::json!(null),
            serde_json::json!("x"),
        ] {
            let err = body_object::<Names>(raw).expect_err("not an object");
            assert_eq!(err.code(), "invalid_json");
        }
    }
}

#[cfg(test)]
mod etag_tests {
    use super::parse_etag;

    #[test]
    fn entity_tags_strong_weak_and_bare_give_the_version() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"42\""), Some(42));
        assert_eq!(parse_etag(" \"7\" "), Some(7));
        assert_eq!(
            parse_etag("\"999999999999999999\""),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(parse_etag("5"), Some(5));
    }

    #[test]
    fn anything_else_is_not_an_entity_tag() {
        for raw in [
            "",
            "\"\"",
            "-3",
            "+3",
            "1234567890123456789",
            "\"-1\"",
            "\"+1\"",
            "\"1",
            "1\"",
            "null",
            "W/3",
            "\"\"3\"\"",
            "\"1234567890123456789\"",
            "*",
        ] {
            assert_eq!(parse_etag(raw), None, "{raw}");
        }
    }
}

#[cfg(test)]
mod whole_tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::whole")]
        n: i64,
        #[serde(default, deserialize_with = "super::whole_opt")]
        m: Option<i64>,
    }

    fn parse(json: &str) -> Option<(i64, Option<i64>)> {
        serde_json::from_str::<Body>(json).ok().map(|b| (b.n, b.m))
    }

    #[test]
    fn integers_written_with_a_zero_fraction_are_accepted() {
        assert_eq!(parse(r#"{"n": 3}"#), Some((3, None)));
        assert_eq!(
            parse(r#"{"n": 86706.0, "m": -2.0}"#),
            Some((86706, Some(-2)))
        );
        assert_eq!(parse(r#"{"n": 1, "m": null}"#), Some((1, None)));
    }

    #[test]
    fn fractions_out_of_range_numbers_and_strings_are_refused() {
        assert_eq!(parse(r#"{"n": 1.5}"#), None);
        assert_eq!(parse(r#"{"n": 9223372036854775808}"#), None);
        assert_eq!(parse(r#"{"n": 1e300}"#), None);
        assert_eq!(parse(r#"{"n": "1"}"#), None);
        assert_eq!(parse(r#"{"n": 1, "m": 0.5}"#), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Grid {
        limit: u32,
        ratio: f64,
        nested: Vec<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        position: i64,
    }

    #[test]
    fn integral_floats_read_as_integers_at_any_depth() {
        let raw: serde_json::Value =
            serde_json::from_str(r#"{"limit": 6.0, "ratio": 2.5, "nested": [{"position": -3e0}]}"#)
                .expect("test setup");
        let grid: Grid = body_object(raw).expect("test setup");
        assert_eq!(
            grid,
            Grid {
                limit: 6,
                ratio: 2.5,
                nested: vec![Inner { position: -3 }],
            }
        );
    }

    #[test]
    fn a_fraction_or_an_inexact_number_stays_a_float_and_is_refused_for_an_integer() {
        for body in [
            json!({"limit": 6.5, "ratio": 1, "nested": []}),
            json!({"limit": 1e300, "ratio": 1, "nested": []}),
        ] {
            assert!(body_object::<Grid>(body).is_err());
        }
        // An integer still reads as a float where a float is wanted.
        let grid: Grid =
            body_object(json!({"limit": 1, "ratio": 2, "nested": []})).expect("test setup");
        assert!((grid.ratio - 2.0).abs() < f64::EPSILON);
    }
}
