//! Black-box test harness: starts the real `nexus` application on a random port with a fresh
//! database, and gives tests a small HTTP client with helpers for the API contract.
//!
//! The database is a temporary SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL
//! maintenance database, a `test_<uuid>` database created for the one test and dropped with
//! its [`TestApp`]. Stale `test_*` databases left by crashed runs are swept once per process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, RequestBuilder, Response, Url};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use uuid::Uuid;

#[cfg(unix)]
pub mod servers;

/// The environment variable naming a PostgreSQL maintenance URL (`postgres://…/postgres`).
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Per-test databases older than this are considered left over by a crashed run.
/// A run of the suite is far shorter, so a concurrent run's databases are never swept.
const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// The e-mail of the administrator every [`TestApp`] bootstraps.
pub const ADMIN_EMAIL: &str = "admin@nexus.test";

/// An absent bearer token, for requests made without `Authorization`.
pub const NO_TOKEN: Option<&str> = None;

/// A role a test can sign in with; mirrors the API's role strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Full control, including user management.
    Admin,
    /// Sees and assigns all customers.
    Manager,
    /// Customer-service officer: sees only customers assigned to them.
    Cso,
    /// A buyer with no CRM access.
    Customer,
}

impl Role {
    /// The role as the API spells it (`ADMIN`, `MANAGER`, `CSO`, `CUSTOMER`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Manager => "MANAGER",
            Self::Cso => "CSO",
            Self::Customer => "CUSTOMER",
        }
    }
}

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

impl Bearer for Signed {
    fn bearer(&self) -> Option<&str> {
        Some(&self.token)
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

/// A signed-in user: their tokens and credentials.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The access token (`access_token`).
    pub token: String,
    /// The refresh token (`refresh_token`).
    pub refresh_token: String,
    /// The user's id.
    pub user_id: String,
    /// The e-mail the user signs in with.
    pub email: String,
    /// The user's password.
    pub password: String,
}

impl Signed {
    fn from_login_body(body: &Value, email: &str, password: &str) -> Self {
        let text = |v: &Value, what: &str| {
            v.as_str()
                .unwrap_or_else(|| panic!("login body has no string {what}: {body}"))
                .to_owned()
        };
        Self {
            token: text(&body["access_token"], "access_token"),
            refresh_token: text(&body["refresh_token"], "refresh_token"),
            user_id: text(&body["user"]["id"], "user.id"),
            email: email.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// The running application of one test, with its own database.
///
/// Dropping it stops the server and drops the test's database.
pub struct TestApp {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub address: String,
    /// The port the app listens on.
    pub port: u16,
    /// The HTTP client the helpers use.
    pub client: reqwest::Client,
    /// The bootstrapped administrator's e-mail.
    pub admin_email: String,
    /// The bootstrapped administrator's password.
    pub admin_password: String,
    server: tokio::task::AbortHandle,
    /// The settings the app was built from, for [`TestApp::spawn_another`] and [`TestApp::db`].
    vars: HashMap<String, String>,
    // Field order is drop order: the database goes after the server stopped.
    smtp: Option<SmtpSink>,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the application with the default test settings.
///
/// # Panics
/// If the database cannot be created or the application does not start.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the application with the default test settings plus `overrides`
/// (for example `[("BODY_LIMIT_BYTES", "2048")]`).
///
/// # Panics
/// If the database cannot be created or the application does not start.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    nexus::telemetry::init_for_tests();
    nexus::install_crypto_provider();

    let data_dir = tempfile::tempdir().expect("a temporary data directory can be created");
    let database = TestDatabase::create(data_dir.path()).await;
    let admin_password = format!("Admin-{}", Uuid::new_v4().simple());

    let mut vars: HashMap<String, String> = [
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", "0".to_owned()),
        ("DATABASE_URL", database.url.clone()),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("BCRYPT_COST", "4".to_owned()),
        ("NEXUS_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("NEXUS_ADMIN_PASSWORD", admin_password),
        ("DATABASE_MAX_CONNECTIONS", "5".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    launch(vars, database, data_dir).await
}

/// Starts an [`SmtpSink`] and the application sending its mail there (`SMTP_URL`), with a
/// fast worker (`WORKER_POLL_MS=50`, retries after 1 to 2 s) plus `extra` settings (which
/// win). [`TestApp::smtp`] is the sink.
///
/// `None` when the sink cannot run (no Python with aiosmtpd) outside CI: the caller skips.
/// With `CI=true` that panics instead.
///
/// # Panics
/// If the sink, the database or the application does not start.
pub async fn spawn_app_with_smtp(extra: &[(&str, &str)]) -> Option<TestApp> {
    let sink = SmtpSink::start()?;
    let url = sink.url();
    let mut settings: Vec<(&str, &str)> = vec![
        ("SMTP_URL", &url),
        ("SMTP_TIMEOUT_SECS", "5"),
        ("WORKER_POLL_MS", "50"),
        ("JOB_BACKOFF_BASE_SECS", "1"),
        ("JOB_BACKOFF_MAX_SECS", "2"),
    ];
    settings.extend_from_slice(extra);
    let mut app = spawn_app_with(&settings).await;
    app.smtp = Some(sink);
    Some(app)
}

/// Builds and spawns the application from `vars` on `database`.
async fn launch(
    vars: HashMap<String, String>,
    database: TestDatabase,
    data_dir: tempfile::TempDir,
) -> TestApp {
    let settings = nexus::settings::Settings::from_map(&vars).expect("test settings are valid");
    let app = nexus::Application::build(settings)
        .await
        .expect("the application builds");
    let port = app.port();
    let server = tokio::spawn(app.run_until_stopped()).abort_handle();

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds"),
        admin_email: ADMIN_EMAIL.to_owned(),
        admin_password: vars
            .get("NEXUS_ADMIN_PASSWORD")
            .cloned()
            .unwrap_or_default(),
        server,
        vars,
        smtp: None,
        _database: database,
        _data_dir: data_dir,
    }
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

    /// Logs in with `email` and `password` and returns the session.
    ///
    /// # Panics
    /// If the login is not answered with 200 and a login body.
    pub async fn login(&self, email: &str, password: &str) -> Signed {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
                NO_TOKEN,
            )
            .await;
        let body = expect_json(res, 200).await;
        Signed::from_login_body(&body, email, password)
    }

    /// Signs in as the bootstrapped administrator (a new session each call).
    ///
    /// # Panics
    /// If the administrator cannot log in.
    pub async fn admin(&self) -> Signed {
        self.login(&self.admin_email, &self.admin_password).await
    }

    /// An access token of the bootstrapped administrator.
    ///
    /// # Panics
    /// If the administrator cannot log in.
    pub async fn admin_token(&self) -> String {
        self.admin().await.token
    }

    /// Creates a new user with `role` (staff through `POST /api/v1/users` by the
    /// administrator, customers through `/auth/register`) and logs them in. Customers'
    /// addresses are unverified ([`TestApp::verify_email`] verifies one).
    ///
    /// # Panics
    /// If the user cannot be created or cannot log in.
    pub async fn sign_in_as(&self, role: Role) -> Signed {
        let email = unique_email(&role.as_str().to_lowercase());
        let password = format!("Pw-{}", Uuid::new_v4().simple());
        let mut body = json!({
            "email": email,
            "password": password,
            "firstName": "Test",
            "lastName": role.as_str(),
        });
        let res = if role == Role::Customer {
            self.post_json("/api/v1/auth/register", &body, NO_TOKEN)
                .await
        } else {
            body["role"] = json!(role.as_str());
            let admin = self.admin_token().await;
            self.post_json("/api/v1/users", &body, &admin).await
        };
        // Registration answers 202 (the same for a taken address); staff creation 201.
        expect_json(res, if role == Role::Customer { 202 } else { 201 }).await;
        self.login(&email, &password).await
    }

    /// Creates a customer with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the customer is not created.
    pub async fn create_customer(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/customers", body, token).await;
        expect_json(res, 201).await
    }

    /// Drafts a response with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the response is not created.
    pub async fn draft_response(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/responses", body, token).await;
        expect_json(res, 201).await
    }

    /// A new customer of `cso` and a response to them drafted and submitted by `cso`, now
    /// awaiting approval: `(customer, response)`.
    ///
    /// # Panics
    /// If any step is refused.
    pub async fn pending_response(&self, cso: &Signed) -> (Value, Value) {
        let customer = self.create_customer(cso, &customer_body("Pending")).await;
        let response = self
            .draft_response(
                cso,
                &json!({
                    "customerId": customer["id"],
                    "subject": "About your account",
                    "content": "Thank you for your patience; here is our answer.",
                }),
            )
            .await;
        let id = response["id"].as_str().expect("a response has an id");
        let res = self
            .post(&format!("/api/v1/responses/{id}/submit"), cso)
            .await;
        (customer, expect_json(res, 200).await)
    }

    /// `POST path` without a body.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post(&self, path: &str, token: impl Bearer) -> Response {
        send(self.request(Method::POST, path, token)).await
    }

    /// Sends a public enquiry with `body` (no token) and returns the 201 receipt.
    ///
    /// # Panics
    /// If the enquiry is not accepted.
    pub async fn submit_enquiry(&self, body: &Value) -> Value {
        let res = self.post_json("/api/v1/enquiries", body, NO_TOKEN).await;
        expect_json(res, 201).await
    }

    /// `GET /api/v1/admin/jobs<query>` as `token` (an administrator) and returns the page.
    ///
    /// # Panics
    /// If the list is not answered with 200.
    pub async fn jobs(&self, query: &str, token: impl Bearer) -> Value {
        let res = self.get(&format!("/api/v1/admin/jobs{query}"), token).await;
        expect_json(res, 200).await
    }

    /// The SMTP sink of an app started by [`spawn_app_with_smtp`].
    ///
    /// # Panics
    /// If this app was started without one.
    #[must_use]
    pub fn smtp(&self) -> &SmtpSink {
        self.smtp
            .as_ref()
            .expect("the app was started with spawn_app_with_smtp")
    }

    /// The URL of this app's database (its `DATABASE_URL`).
    #[must_use]
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// A new connection to this app's database, opened the way the app opens it, for tests
    /// that must reach below the API (for example to play a crashed worker).
    ///
    /// # Panics
    /// If the database cannot be reached.
    pub async fn db(&self) -> DatabaseConnection {
        let mut vars = self.vars.clone();
        vars.insert("DATABASE_MAX_CONNECTIONS".to_owned(), "1".to_owned());
        let settings = nexus::settings::Settings::from_map(&vars).expect("test settings are valid");
        nexus::startup::connect(&settings, false)
            .await
            .expect("the test database is reachable")
    }

    /// Starts another instance of the application on this app's database, with this app's
    /// settings (mail server included) plus `overrides`, its own port and data directory.
    /// The database stays owned by `self`: drop the returned app first.
    ///
    /// # Panics
    /// If the application does not start.
    pub async fn spawn_another(&self, overrides: &[(&str, &str)]) -> TestApp {
        let data_dir = tempfile::tempdir().expect("a temporary data directory can be created");
        let mut vars = self.vars.clone();
        vars.insert("DATA_DIR".to_owned(), data_dir.path().display().to_string());
        for (key, value) in overrides {
            vars.insert((*key).to_owned(), (*value).to_owned());
        }
        let database = TestDatabase {
            url: self._database.url.clone(),
            _postgres: None,
        };
        launch(vars, database, data_dir).await
    }
}

/// A valid customer body with a unique e-mail; `first_name` makes it recognisable.
#[must_use]
pub fn customer_body(first_name: &str) -> Value {
    json!({
        "firstName": first_name,
        "lastName": "Tester",
        "email": unique_email(&first_name.to_lowercase()),
    })
}

/// An e-mail address no other test or user has, starting with `prefix`.
#[must_use]
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", Uuid::new_v4().simple())
}

/// A valid public enquiry from `name`, with a unique e-mail address.
#[must_use]
pub fn enquiry_body(name: &str) -> Value {
    json!({
        "name": name,
        "email": unique_email(&name.to_lowercase().replace(' ', ".")),
        "subject": format!("Question from {name}"),
        "message": "Hello, I would like to know more about your product.",
    })
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

async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("the request reaches the app")
}

/// One message the [`SmtpSink`] accepted: the envelope, the decoded headers and parts, and
/// the raw bytes as received.
#[derive(Debug, Clone)]
pub struct MailMessage {
    /// Envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The `To` header.
    pub to: String,
    /// The `From` header.
    pub from: String,
    /// The decoded `Subject`.
    pub subject: String,
    /// The `Message-ID` header.
    pub message_id: String,
    /// The text part, with `\n` line ends (empty if none).
    pub text: String,
    /// The HTML part (empty if none).
    pub html: String,
    /// The message as received on the wire.
    pub raw: String,
}

/// A real SMTP server for a test: `scripts/smtp_sink.py` (aiosmtpd) on a free port, storing
/// every accepted message in a temporary directory. It can be stopped and restarted on the
/// same port to play an unreachable mail server. Killed when dropped.
pub struct SmtpSink {
    python: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    ///
    /// `None` when no Python with aiosmtpd can be found or installed, outside CI (the caller
    /// skips; a note says why).
    ///
    /// # Panics
    /// If the tool is missing under `CI=true`, or the sink does not get ready.
    #[must_use]
    pub fn start() -> Option<Self> {
        let python = sink_python()?;
        let dir = tempfile::tempdir().expect("a temporary mail directory can be created");
        let port = free_port();
        let child = spawn_sink(&python, port, dir.path());
        Some(Self {
            python,
            port,
            dir,
            child: Mutex::new(Some(child)),
        })
    }

    /// The port it listens on (the same across restarts).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:<port>`, for `SMTP_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops the server at once; the port then refuses connections. Messages stay readable.
    pub fn stop(&self) {
        if let Some(mut child) = self.lock().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (stopping it first if it runs).
    ///
    /// # Panics
    /// If it does not get ready.
    pub fn restart(&self) {
        self.stop();
        let child = spawn_sink(&self.python, self.port, self.dir.path());
        *self.lock() = Some(child);
    }

    /// Every message received so far, oldest first.
    ///
    /// # Panics
    /// If the sink's directory or a record cannot be read.
    #[must_use]
    pub fn messages(&self) -> Vec<MailMessage> {
        let mut records: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("the mail directory can be read")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        // `<pid>-<n>.json`: a restart is a new process, so order by modification time first.
        records.sort_by_key(|path| {
            let modified = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH);
            (modified, path.clone())
        });
        records.iter().map(|path| read_record(path)).collect()
    }

    /// Waits (up to [`EVENTUALLY`]) until at least `count` messages arrived and returns all
    /// received by then.
    ///
    /// # Panics
    /// If fewer arrive in time.
    pub async fn wait_for_messages(&self, count: usize) -> Vec<MailMessage> {
        eventually(
            &format!("{count} message(s) at the SMTP sink"),
            async || {
                let messages = self.messages();
                (messages.len() >= count).then_some(messages)
            },
        )
        .await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_record(path: &Path) -> MailMessage {
    let record: Value = serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let text = |key: &str| {
        record[key]
            .as_str()
            .unwrap_or_default()
            .replace("\r\n", "\n")
    };
    let raw = std::fs::read(path.with_extension("eml"))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    MailMessage {
        rcpt_tos: record["rcpt_tos"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        to: text("to"),
        from: text("from"),
        subject: text("subject"),
        message_id: text("message_id"),
        text: text("text"),
        html: text("html"),
        raw,
    }
}

/// `<workspace>/`, from this crate's manifest directory.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn has_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A Python with aiosmtpd: `NEXUS_TEST_PYTHON`, else `<workspace>/.venv/bin/python`, running
/// `scripts/test-tools.sh` to create the latter when needed. `None` (the caller skips) when
/// that fails outside CI; with `CI=true` a missing tool fails the test instead.
fn sink_python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = workspace().join(".venv/bin/python");
            let chosen =
                std::env::var_os("NEXUS_TEST_PYTHON").map_or_else(|| venv.clone(), PathBuf::from);
            if has_aiosmtpd(&chosen) {
                return Some(chosen);
            }
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{} cannot import aiosmtpd: run `bash scripts/test-tools.sh` before the tests",
                chosen.display()
            );
            let installed = Command::new("bash")
                .arg(workspace().join("scripts/test-tools.sh"))
                .status()
                .is_ok_and(|status| status.success());
            if installed && has_aiosmtpd(&venv) {
                return Some(venv);
            }
            note("note: aiosmtpd is not available and scripts/test-tools.sh failed; skipping SMTP tests");
            None
        })
        .clone()
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port can be bound");
    listener.local_addr().expect("a local address").port()
}

/// Starts `scripts/smtp_sink.py` on `port` storing into `dir`, and waits for its "ready".
fn spawn_sink(python: &Path, port: u16, dir: &Path) -> Child {
    let mut child = Command::new(python)
        .arg(workspace().join("scripts/smtp_sink.py"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("scripts/smtp_sink.py can be started");
    let stdout = child.stdout.take().expect("a piped stdout");
    let (ready, readied) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.trim() == "ready" {
                let _ = ready.send(());
            }
        }
    });
    if let Err(e) = readied.recv_timeout(Duration::from_secs(30)) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the SMTP sink on port {port} did not get ready ({e}); see its stderr above");
    }
    child
}

/// The database of one test: a SQLite file in the test's data directory, or a PostgreSQL
/// database dropped when this value is.
struct TestDatabase {
    url: String,
    _postgres: Option<PostgresDatabase>,
}

struct PostgresDatabase {
    maintenance_url: String,
    name: String,
}

impl TestDatabase {
    async fn create(data_dir: &std::path::Path) -> Self {
        let Ok(maintenance_url) = std::env::var(TEST_DATABASE_URL) else {
            return Self {
                url: format!("sqlite://{}/nexus.db?mode=rwc", data_dir.display()),
                _postgres: None,
            };
        };
        let maintenance = connect_maintenance(&maintenance_url).await;
        sweep_stale_databases_once(&maintenance_url).await;

        // A v7 id embeds its creation time, which lets the sweep spare a concurrent run.
        let name = format!("test_{}", Uuid::now_v7().simple());
        maintenance
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = maintenance.close().await;

        let mut url = Url::parse(&maintenance_url)
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL} is not a URL: {e}"));
        url.set_path(&format!("/{name}"));
        Self {
            url: url.to_string(),
            _postgres: Some(PostgresDatabase {
                maintenance_url,
                name,
            }),
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let url = self.maintenance_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its
        // own runtime does the work. Best effort: the sweep removes anything left behind.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let mut options = ConnectOptions::new(url);
                options.max_connections(1).sqlx_logging(false);
                if let Ok(db) = Database::connect(options).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

async fn connect_maintenance(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    match Database::connect(options).await {
        Ok(db) => db,
        // Never fall back to SQLite when PostgreSQL was asked for: in CI that would report a
        // green PostgreSQL run that never happened, and locally it would hide a stopped server.
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            panic!("{TEST_DATABASE_URL} is set but unreachable (CI={ci}): {e}")
        }
    }
}

static SWEPT: OnceCell<()> = OnceCell::const_new();

async fn sweep_stale_databases_once(maintenance_url: &str) {
    SWEPT
        .get_or_init(|| async {
            let db = connect_maintenance(maintenance_url).await;
            let rows = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    r"SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'",
                ))
                .await
                .unwrap_or_default();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            for row in rows {
                let Ok(name) = row.try_get_by_index::<String>(0) else {
                    continue;
                };
                if is_stale(&name, now) {
                    let _ = db
                        .execute_unprepared(&format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .await;
                }
            }
            let _ = db.close().await;
        })
        .await;
}

/// Whether `name` is a `test_<uuid v7>` database created more than [`STALE_AFTER`] ago.
/// Names that are not ours are never touched.
fn is_stale(name: &str, now: Duration) -> bool {
    let Some(created) = name
        .strip_prefix("test_")
        .and_then(|id| Uuid::parse_str(id).ok())
        .filter(|id| id.get_version_num() == 7)
        .and_then(|id| id.get_timestamp())
    else {
        return false;
    };
    let (secs, _) = created.to_unix();
    now.as_secs().saturating_sub(secs) > STALE_AFTER.as_secs()
}

// --- The shop: products, purchases and a Razorpay fake -----------------------------------------

/// The Razorpay key id of a [`RazorpayFake`] (a test-mode id, as the app wants outside prod).
pub const RAZORPAY_KEY_ID: &str = "rzp_test_x";

impl TestApp {
    /// Whether this app runs on PostgreSQL (`TEST_DATABASE_URL`) rather than SQLite.
    #[must_use]
    pub fn on_postgres(&self) -> bool {
        self._database.url.starts_with("postgres")
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

    /// Creates a product (a DRAFT) with `body` as `token`'s user and returns the 201 body.
    ///
    /// # Panics
    /// If the product is not created.
    pub async fn create_product(&self, token: impl Bearer, body: &Value) -> Value {
        let res = self.post_json("/api/v1/products", body, token).await;
        expect_json(res, 201).await
    }

    /// A PUBLISHED product titled `title` at `price_minor` paise with `bytes` attached as
    /// `<slug>.pdf`, made by `token`'s user (a manager or administrator). Returns the staff
    /// view after publishing.
    ///
    /// # Panics
    /// If any step is refused.
    pub async fn published_product(
        &self,
        token: &Signed,
        title: &str,
        price_minor: i64,
        bytes: &[u8],
    ) -> Value {
        let draft = self
            .create_product(token, &product_body(title, price_minor))
            .await;
        let id = draft["id"].as_str().expect("a product has an id");
        let slug = draft["slug"].as_str().expect("a product has a slug");
        let res = self
            .post_file(
                &format!("/api/v1/products/{id}/asset"),
                "file",
                &format!("{slug}.pdf"),
                "application/pdf",
                bytes,
                token,
            )
            .await;
        expect_json(res, 200).await;
        let res = self
            .post(&format!("/api/v1/products/{id}/publish"), token)
            .await;
        expect_json(res, 200).await
    }

    /// Registers a customer called `first_name last_name` and signs them in.
    ///
    /// # Panics
    /// If the registration or the login is refused.
    pub async fn register_customer(&self, first_name: &str, last_name: &str) -> Signed {
        let email = unique_email(&first_name.to_lowercase());
        let password = format!("Pw-{}", Uuid::new_v4().simple());
        let body = json!({
            "email": email,
            "password": password,
            "firstName": first_name,
            "lastName": last_name,
        });
        let res = self
            .post_json("/api/v1/auth/register", &body, NO_TOKEN)
            .await;
        expect_json(res, 202).await;
        self.login(&email, &password).await
    }

    /// Puts `product` (a product body) in `buyer`'s cart and checks out; returns the 201
    /// checkout session (`orderId`, `razorpayOrderId`, `amount`, ...).
    ///
    /// # Panics
    /// If the product cannot be added or the checkout is refused.
    pub async fn checkout_one(&self, buyer: impl Bearer, product: &Value) -> Value {
        let res = self
            .post_json(
                "/api/v1/cart/items",
                &json!({ "productId": product["id"] }),
                &buyer,
            )
            .await;
        expect_json(res, 200).await;
        let res = self.post("/api/v1/checkout", &buyer).await;
        expect_json(res, 201).await
    }

    /// `GET /api/v1/orders/{order_id}` as `token` and returns the 200 body.
    ///
    /// # Panics
    /// If the order is not answered with 200.
    pub async fn order(&self, order_id: &Value, token: impl Bearer) -> Value {
        let id = order_id.as_str().expect("an order id is a string");
        let res = self.get(&format!("/api/v1/orders/{id}"), token).await;
        expect_json(res, 200).await
    }

    /// `POST /api/v1/webhooks/razorpay` with the raw `body`, `X-Razorpay-Event-Id: event_id`
    /// and, when given, `X-Razorpay-Signature: signature`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn post_webhook(
        &self,
        body: &str,
        signature: Option<&str>,
        event_id: &str,
    ) -> Response {
        let mut builder = self
            .client
            .post(self.url("/api/v1/webhooks/razorpay"))
            .header("Content-Type", "application/json")
            .header("X-Razorpay-Event-Id", event_id)
            .body(body.to_owned());
        if let Some(signature) = signature {
            builder = builder.header("X-Razorpay-Signature", signature);
        }
        send(builder).await
    }
}

/// A valid product body titled `title` at `price_minor` INR paise, with a unique slug.
#[must_use]
pub fn product_body(title: &str, price_minor: i64) -> Value {
    let stem: String = title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let suffix = Uuid::new_v4().simple().to_string();
    json!({
        "slug": format!("{stem}-{}", &suffix[..8]),
        "title": title,
        "description": format!("{title}: a digital download."),
        "priceMinor": price_minor,
        "currency": "INR",
        "category": "templates",
        "tags": ["business"],
    })
}

/// A fresh id in Razorpay's style, `<prefix>_` and 14 alphanumerics (for example `pay_`).
#[must_use]
pub fn razorpay_id(prefix: &str) -> String {
    let id = Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..14])
}

/// A Razorpay webhook event body in the documented shape for `event` (`payment.captured`,
/// `payment.failed`, `order.paid`), about a payment `payment_id` of `amount` paise on
/// Razorpay order `order_id`.
#[must_use]
pub fn razorpay_payment_event(event: &str, order_id: &str, payment_id: &str, amount: i64) -> Value {
    let status = if event == "payment.failed" {
        "failed"
    } else {
        "captured"
    };
    let payment = json!({
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": status,
        "order_id": order_id,
        "invoice_id": null,
        "international": false,
        "method": "upi",
        "amount_refunded": 0,
        "refund_status": null,
        "captured": status == "captured",
        "description": null,
        "email": "buyer@example.com",
        "contact": "+919000090000",
        "fee": 1178,
        "tax": 180,
        "error_code": null,
        "error_description": null,
        "created_at": 1_700_000_000,
    });
    let mut payload = json!({ "payment": { "entity": payment } });
    let mut contains = vec!["payment"];
    if event == "order.paid" {
        contains.push("order");
        payload["order"] = json!({ "entity": {
            "id": order_id,
            "entity": "order",
            "amount": amount,
            "amount_paid": amount,
            "amount_due": 0,
            "currency": "INR",
            "receipt": null,
            "status": "paid",
            "attempts": 1,
            "notes": [],
            "created_at": 1_700_000_000,
        }});
    }
    json!({
        "entity": "event",
        "account_id": "acc_x",
        "event": event,
        "contains": contains,
        "payload": payload,
        "created_at": 1_700_000_000,
    })
}

/// Razorpay's API on a local [`wiremock`] server, for `RAZORPAY_API_BASE`: `POST /v1/orders`
/// and `POST /v1/payments/{id}/refund` with basic auth (`rzp_test_x` and the key secret)
/// answer like Razorpay, echoing the amount asked for; anything else is a 404. Also signs
/// webhooks and checkout callbacks with its secrets.
pub struct RazorpayFake {
    server: wiremock::MockServer,
    api_base: String,
    key_secret: String,
    webhook_secret: String,
    state: Arc<Mutex<FakeState>>,
}

/// What the fake gateway holds: payments it reports and refunds it made.
#[derive(Default)]
struct FakeState {
    /// Payment entities by id, for `GET /v1/payments/{id}`.
    payments: HashMap<String, Value>,
    /// Refund entities made, oldest first, for `GET /v1/payments/{id}/refunds`.
    refunds: Vec<Value>,
    /// Refund requests still to be answered only after this delay (a gateway that made the
    /// refund but whose answer does not arrive in time).
    slow_refunds: Vec<std::time::Duration>,
}

impl RazorpayFake {
    /// Starts the fake with fresh secrets.
    pub async fn start() -> Self {
        use wiremock::matchers::{basic_auth, method, path, path_regex};
        let server = wiremock::MockServer::start().await;
        let key_secret = format!("key-secret-{}", Uuid::new_v4().simple());
        let webhook_secret = format!("webhook-secret-{}", Uuid::new_v4().simple());
        wiremock::Mock::given(method("POST"))
            .and(path("/v1/orders"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(CreatedOrders)
            .mount(&server)
            .await;
        let state = Arc::new(Mutex::new(FakeState::default()));
        wiremock::Mock::given(method("POST"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+/refund$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(ProcessedRefunds(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+/refunds$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(ListedRefunds(state.clone()))
            .mount(&server)
            .await;
        wiremock::Mock::given(method("GET"))
            .and(path_regex(r"^/v1/payments/pay_[A-Za-z0-9]+$"))
            .and(basic_auth(RAZORPAY_KEY_ID, &key_secret))
            .respond_with(FetchedPayments(state.clone()))
            .mount(&server)
            .await;
        Self {
            api_base: server.uri(),
            server,
            key_secret,
            webhook_secret,
            state,
        }
    }

    /// Makes the fake report payment `payment_id` of `amount` paise on Razorpay order
    /// `order_id` with `status` (`captured`, `authorized`, `failed`) at `GET /v1/payments/{id}`,
    /// in Razorpay's documented payment shape.
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn report_payment(&self, payment_id: &str, order_id: &str, amount: i64, status: &str) {
        let payment = json!({
            "id": payment_id,
            "entity": "payment",
            "amount": amount,
            "currency": "INR",
            "status": status,
            "order_id": order_id,
            "invoice_id": null,
            "international": false,
            "method": "upi",
            "amount_refunded": 0,
            "refund_status": null,
            "captured": status == "captured",
            "description": null,
            "email": "buyer@example.com",
            "contact": "+919000090000",
            "fee": 1178,
            "tax": 180,
            "error_code": null,
            "error_description": null,
            "created_at": 1_700_000_000,
        });
        self.state
            .lock()
            .expect("fake state")
            .payments
            .insert(payment_id.to_owned(), payment);
    }

    /// The next refund request is made (it shows in the payment's refunds) but answered only
    /// after `delay`: with a shorter `RAZORPAY_TIMEOUT_SECS` the app sees a timeout.
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    pub fn answer_next_refund_late(&self, delay: std::time::Duration) {
        self.state
            .lock()
            .expect("fake state")
            .slow_refunds
            .push(delay);
    }

    /// The refunds the fake made, oldest first (Razorpay refund entities).
    ///
    /// # Panics
    /// If the fake's state lock is poisoned.
    #[must_use]
    pub fn refunds_made(&self) -> Vec<Value> {
        self.state.lock().expect("fake state").refunds.clone()
    }

    /// The settings pointing the app at this fake, for [`spawn_app_with`].
    #[must_use]
    pub fn vars(&self) -> [(&str, &str); 4] {
        [
            ("RAZORPAY_KEY_ID", RAZORPAY_KEY_ID),
            ("RAZORPAY_KEY_SECRET", &self.key_secret),
            ("RAZORPAY_WEBHOOK_SECRET", &self.webhook_secret),
            ("RAZORPAY_API_BASE", &self.api_base),
        ]
    }

    /// `X-Razorpay-Signature` of a webhook `body`: hex HMAC-SHA256 with the webhook secret.
    #[must_use]
    pub fn sign_webhook(&self, body: &str) -> String {
        hmac_hex(&self.webhook_secret, body.as_bytes())
    }

    /// The `razorpay_signature` Checkout hands the browser: hex HMAC-SHA256 of
    /// `"<order_id>|<payment_id>"` with the key secret.
    #[must_use]
    pub fn checkout_signature(&self, order_id: &str, payment_id: &str) -> String {
        hmac_hex(
            &self.key_secret,
            format!("{order_id}|{payment_id}").as_bytes(),
        )
    }

    /// Delivers `event` to `app` as Razorpay would: the serialized body, signed, with
    /// `X-Razorpay-Event-Id: event_id`.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn deliver(&self, app: &TestApp, event: &Value, event_id: &str) -> Response {
        let body = event.to_string();
        app.post_webhook(&body, Some(&self.sign_webhook(&body)), event_id)
            .await
    }

    /// The JSON bodies of the requests the fake received on `path`, oldest first.
    ///
    /// # Panics
    /// If recording is off or a body is not JSON.
    pub async fn bodies(&self, path: &str) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).expect("a JSON request body"))
            .collect()
    }
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Answers `POST /v1/orders` like Razorpay: a fresh `order_…` id, the amount and receipt asked for.
struct CreatedOrders;

impl wiremock::Respond for CreatedOrders {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let Ok(asked) = serde_json::from_slice::<Value>(&request.body) else {
            return wiremock::ResponseTemplate::new(400);
        };
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "id": razorpay_id("order"),
            "entity": "order",
            "amount": asked["amount"],
            "amount_paid": 0,
            "amount_due": asked["amount"],
            "currency": asked["currency"],
            "receipt": asked["receipt"],
            "offer_id": null,
            "status": "created",
            "attempts": 0,
            "notes": [],
            "created_at": 1_700_000_000,
        }))
    }
}

/// Answers `POST /v1/payments/{id}/refund` like Razorpay: a processed refund of the amount
/// asked for, with the receipt asked for, remembered for the payment's refund list.
struct ProcessedRefunds(Arc<Mutex<FakeState>>);

impl wiremock::Respond for ProcessedRefunds {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let Ok(asked) = serde_json::from_slice::<Value>(&request.body) else {
            return wiremock::ResponseTemplate::new(400);
        };
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        let refund = json!({
            "id": razorpay_id("rfnd"),
            "entity": "refund",
            "amount": asked["amount"],
            "currency": "INR",
            "payment_id": payment_id,
            "notes": asked["notes"],
            "receipt": asked["receipt"],
            "acquirer_data": { "arn": null },
            "created_at": 1_700_000_000,
            "batch_id": null,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": "normal",
        });
        let mut state = self.0.lock().expect("fake state");
        state.refunds.push(refund.clone());
        let template = wiremock::ResponseTemplate::new(200).set_body_json(refund);
        if state.slow_refunds.is_empty() {
            template
        } else {
            let delay = state.slow_refunds.remove(0);
            template.set_delay(delay)
        }
    }
}

/// Answers `GET /v1/payments/{id}/refunds` like Razorpay: a collection of the refunds made.
struct ListedRefunds(Arc<Mutex<FakeState>>);

impl wiremock::Respond for ListedRefunds {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        let items: Vec<Value> = self
            .0
            .lock()
            .expect("fake state")
            .refunds
            .iter()
            .filter(|r| r["payment_id"] == payment_id)
            .cloned()
            .collect();
        wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "entity": "collection",
            "count": items.len(),
            "items": items,
        }))
    }
}

/// Helpers for the identity and access tests: accounts at chosen addresses, e-mail
/// verification through the real one-time-code mail, requests from chosen client addresses,
/// and access tokens made outside the app.
impl TestApp {
    /// The data directory the app was started with (kept keys, outbox, files).
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    /// `POST /api/v1/auth/register` for `email` with `password`.
    pub async fn register_at(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace" }),
            NO_TOKEN,
        )
        .await
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

    /// Verifies `user`'s address the way its owner would: asks for a VERIFY_EMAIL code, reads
    /// it from the mail the app wrote to its outbox (`<DATA_DIR>/outbox`), and checks it.
    ///
    /// # Panics
    /// If no code arrives or the check is refused.
    pub async fn verify_email(&self, user: &Signed) {
        let outbox = self.data_dir().join("outbox");
        let before = eml_files(&outbox);
        let res = self
            .post_json(
                "/api/v1/auth/otp/request",
                &json!({ "email": user.email, "purpose": "VERIFY_EMAIL" }),
                NO_TOKEN,
            )
            .await;
        expect_json(res, 202).await;
        let code = eventually("the verification code in the outbox", async || {
            eml_files(&outbox)
                .into_iter()
                .filter(|path| !before.contains(path))
                .filter_map(|path| std::fs::read_to_string(path).ok())
                .filter(|text| text.contains(&user.email))
                .find_map(|text| {
                    text.lines()
                        .map(str::trim)
                        .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_owned)
                })
        })
        .await;
        let res = self
            .post_json(
                "/api/v1/auth/otp/verify",
                &json!({ "email": user.email, "code": code, "purpose": "VERIFY_EMAIL" }),
                NO_TOKEN,
            )
            .await;
        let body = expect_json(res, 200).await;
        assert_eq!(body["verified"], true, "{body}");
    }

    /// The raw messages (`.eml`) the app has written to its outbox (`<DATA_DIR>/outbox`).
    #[must_use]
    pub fn outbox_messages(&self) -> Vec<String> {
        eml_files(&self.data_dir().join("outbox"))
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect()
    }

    /// The key the app signs access tokens with when `JWT_SECRET` is unset: the one it
    /// generated into its data directory.
    ///
    /// # Panics
    /// If the app has no such file.
    #[must_use]
    pub fn generated_jwt_secret(&self) -> Vec<u8> {
        std::fs::read_to_string(self.data_dir().join("jwt-secret"))
            .expect("the app keeps a generated key in its data directory")
            .trim()
            .as_bytes()
            .to_vec()
    }
}

/// The `.eml` files in `dir` (none if it does not exist yet).
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

/// The claims of an access token signed with `secret` (checking the signature, issuer and
/// audience the app uses by default).
///
/// # Panics
/// If the token does not verify with `secret`.
#[must_use]
pub fn access_claims(token: &str, secret: &[u8]) -> Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["customer-nexus-hub"]);
    validation.set_audience(&["customer-nexus-hub-api"]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret),
        &validation,
    )
    .expect("the token verifies with this key")
    .claims
}

/// An access token for user `sub` with role `role` and session family `sid`, signed with
/// `secret`: what someone holding the key could make.
///
/// # Panics
/// If signing fails.
#[must_use]
pub fn forge_access_token(secret: &[u8], sub: &str, role: &str, sid: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": sub,
        "role": role,
        "sid": sid,
        "jti": Uuid::now_v7(),
        "iat": now,
        "exp": now + 600,
        "iss": "customer-nexus-hub",
        "aud": "customer-nexus-hub-api",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signs")
}

/// Answers `GET /v1/payments/{id}` with a payment made known by
/// [`RazorpayFake::report_payment`], or Razorpay's 400 for an unknown id.
struct FetchedPayments(Arc<Mutex<FakeState>>);

impl wiremock::Respond for FetchedPayments {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let payment_id = request.url.path().split('/').nth(3).unwrap_or_default();
        match self.0.lock().expect("fake state").payments.get(payment_id) {
            Some(payment) => wiremock::ResponseTemplate::new(200).set_body_json(payment),
            None => wiremock::ResponseTemplate::new(400).set_body_json(json!({
                "error": {
                    "code": "BAD_REQUEST_ERROR",
                    "description": "The id provided does not exist",
                    "source": "business",
                    "step": "payment_initiation",
                    "reason": "input_validation_failed",
                    "metadata": {},
                    "field": "id"
                }
            })),
        }
    }
}
