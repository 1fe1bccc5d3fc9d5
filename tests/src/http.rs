//! The HTTP client of the tests and the assertions on the API contract (status, uniform error
//! body, fields).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::Value;
use uuid::Uuid;

use super::*;

/// An absent bearer token, for requests made without `Authorization`.
pub const NO_TOKEN: Option<&str> = None;

/// The first bytes of a PNG (signature and header chunk): what the image uploads sniff.
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Something that may carry a bearer token for a request.
pub trait Bearer {
    /// The access token to send, if any.
    fn bearer(&self) -> Option<&str>;
}

impl Bearer for str {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for String {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: Bearer + ?Sized> Bearer for &T {
    fn bearer(&self) -> Option<&str> {
        (**self).bearer()
    }
}

impl<T: Bearer> Bearer for Option<T> {
    fn bearer(&self) -> Option<&str> {
        self.as_ref().and_then(Bearer::bearer)
    }
}

/// How long [`eventually`] waits for an asynchronous outcome (the job worker, the mail).
pub const EVENTUALLY: Duration = Duration::from_secs(20);

/// Polls `probe` every 100 ms until it returns `Some`, for at most [`EVENTUALLY`], and returns
/// the value. For outcomes of the background worker; never sleep a fixed time instead.
///
/// # Panics
/// If the deadline passes; `what` names what was awaited.
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + EVENTUALLY;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {EVENTUALLY:?} in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Prints `text` to stderr (shown with `--no-capture` or when the test fails), for tests that
/// document an exchange.
#[expect(
    clippy::print_stderr,
    reason = "tests show what they exchanged on demand"
)]
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// The quoted entity tag of `version`, as the API sends it in `ETag` and wants in `If-Match`.
#[must_use]
pub fn etag(version: &Value) -> String {
    format!("\"{version}\"")
}

/// A response header as text, if present and visible ASCII.
#[must_use]
pub fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Asserts `res` has `status` and returns its JSON body.
///
/// # Panics
/// If the status differs (the body is shown) or the body is not JSON.
pub async fn expect_json(res: Response, status: u16) -> Value {
    let path = res.url().path().to_owned();
    let actual = res.status().as_u16();
    let text = res.text().await.expect("the response body can be read");
    assert_eq!(actual, status, "unexpected status for {path}; body: {text}");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("body of {path} is not JSON ({e}): {text}"))
}

/// Asserts `res` has `status` and no body (for 204 answers).
///
/// # Panics
/// If the status differs (the body is shown).
pub async fn expect_empty(res: Response, status: u16) {
    let path = res.url().path().to_owned();
    let actual = res.status().as_u16();
    let text = res.text().await.expect("the response body can be read");
    assert_eq!(actual, status, "unexpected status for {path}; body: {text}");
    assert!(
        text.is_empty(),
        "{path} answered {status} with a body: {text}"
    );
}

/// Asserts `res` is an error with `status` and `code` in the uniform error body, and returns
/// the body for more checks.
///
/// Checks: `statusCode` equals the status; `timestamp` is RFC 3339; `path` is the request path
/// without query; `message` is a non-empty string; `error` is `code`; `requestId` equals the
/// `X-Request-Id` header; `details` is a non-empty list of `{field, code, message}` for
/// `validation_failed` and absent otherwise; no other key is present.
///
/// # Panics
/// If any of those checks fails.
pub async fn assert_error(res: Response, status: u16, code: &str) -> Value {
    let path = res.url().path().to_owned();
    let request_id = header(&res, "x-request-id");
    let content_type = header(&res, "content-type").unwrap_or_default();
    let body = expect_json(res, status).await;
    assert!(
        content_type.starts_with("application/") && content_type.contains("json"),
        "error of {path} has content type {content_type:?}"
    );
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("error body of {path} is not an object: {body}"));
    for key in object.keys() {
        assert!(
            [
                "statusCode",
                "timestamp",
                "path",
                "message",
                "error",
                "requestId",
                "details"
            ]
            .contains(&key.as_str()),
            "error body of {path} has an unexpected key {key:?}: {body}"
        );
    }
    assert_eq!(body["error"], code, "error code of {path}: {body}");
    assert_eq!(body["statusCode"], status, "statusCode of {path}: {body}");
    assert_eq!(body["path"], path.as_str(), "path in error body: {body}");
    let timestamp = body["timestamp"]
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {body}"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "timestamp {timestamp:?} is not RFC 3339"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "message is not a non-empty string: {body}"
    );
    let request_id =
        request_id.unwrap_or_else(|| panic!("error of {path} has no X-Request-Id header"));
    assert_eq!(body["requestId"], request_id.as_str(), "requestId: {body}");
    if code == "validation_failed" {
        let details = body["details"]
            .as_array()
            .unwrap_or_else(|| panic!("validation error without a details list: {body}"));
        assert!(
            !details.is_empty(),
            "validation error with empty details: {body}"
        );
        for detail in details {
            for key in ["field", "code", "message"] {
                assert!(
                    detail[key].is_string(),
                    "detail without a string {key}: {detail}"
                );
            }
        }
    } else {
        assert!(
            object.get("details").is_none(),
            "non-validation error {code} carries details: {body}"
        );
    }
    body
}

/// The `field` of every entry of an error body's `details`.
#[must_use]
pub fn detail_fields(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts `body` is an object with exactly the keys `keys` (in any order), so that a
/// response neither lacks a field of the contract nor leaks one outside it.
///
/// # Panics
/// If `body` is not an object or its keys differ.
pub fn assert_keys(body: &Value, keys: &[&str]) {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    let mut actual: Vec<&str> = object.keys().map(String::as_str).collect();
    actual.sort_unstable();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(actual, expected, "keys of {body}");
}

/// Asserts no key anywhere in `body` looks like a password or its hash.
///
/// # Panics
/// If such a key is found.
pub fn assert_no_password_fields(body: &Value) {
    match body {
        Value::Object(map) => {
            for (key, value) in map {
                assert!(
                    !key.to_lowercase().contains("password"),
                    "response exposes {key:?}: {body}"
                );
                assert_no_password_fields(value);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_password_fields),
        _ => {}
    }
}

pub(crate) async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("the request reaches the app")
}

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request builder for `method` on `path`, with the bearer token if one is given.
    pub fn request(&self, method: Method, path: &str, token: impl Bearer) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token.bearer() {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// `GET path`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn get(&self, path: &str, token: impl Bearer) -> Response {
        send(self.request(Method::GET, path, token)).await
    }

    /// `POST path` with a JSON body.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post_json(&self, path: &str, body: &Value, token: impl Bearer) -> Response {
        send(self.request(Method::POST, path, token).json(body)).await
    }

    /// `PATCH path` with a JSON body and, when given, `If-Match: <if_match>` (sent verbatim,
    /// so pass the quoted form, e.g. [`etag`]`(1)`).
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn patch_json(
        &self,
        path: &str,
        body: &Value,
        token: impl Bearer,
        if_match: Option<&str>,
    ) -> Response {
        let mut builder = self.request(Method::PATCH, path, token).json(body);
        if let Some(value) = if_match {
            builder = builder.header("If-Match", value);
        }
        send(builder).await
    }

    /// `DELETE path`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn delete(&self, path: &str, token: impl Bearer) -> Response {
        send(self.request(Method::DELETE, path, token)).await
    }

    /// `POST path` without a body.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post(&self, path: &str, token: impl Bearer) -> Response {
        send(self.request(Method::POST, path, token)).await
    }

    /// `GET` of a link the app handed out (a download or invoice link), at this app: links are
    /// absolute on `PUBLIC_BASE_URL`, which the harness cannot know before the port is bound,
    /// so the link's path and query are requested here.
    ///
    /// # Panics
    /// If `link` is not a URL or the request cannot be sent.
    pub async fn follow_link(&self, link: &str) -> Response {
        let url = Url::parse(link).unwrap_or_else(|e| panic!("{link} is not a URL: {e}"));
        let local = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        send(self.client.get(self.url(&local))).await
    }

    /// `POST path` with a `multipart/form-data` body of one file `field` named `file_name`
    /// (reqwest is built without its multipart feature, so the body is written here).
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post_file(
        &self,
        path: &str,
        field: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        token: impl Bearer,
    ) -> Response {
        let boundary = format!("nexus-test-{}", Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let builder = self
            .request(Method::POST, path, token)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        send(builder).await
    }

    /// A `POST` of `body` to `path` as if from client `ip`: sends `X-Forwarded-For: ip`, which
    /// the app honours only when it trusts the test client's address (`TRUSTED_PROXIES`).
    pub async fn post_json_from(&self, ip: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, NO_TOKEN)
            .header("X-Forwarded-For", ip)
            .json(body)
            .send()
            .await
            .expect("the request is sent")
    }
}
