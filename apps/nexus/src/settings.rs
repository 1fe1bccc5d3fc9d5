//! The one typed configuration tree: built-in defaults, then an optional TOML file
//! (`NEXUS_CONFIG` or `--config`), then the environment (and `.env`), each winning over the
//! one before.
//!
//! Every key has a default that runs the whole service with zero setup: SQLite under
//! `./data`, pretty logs, port 8080. Each key of the tree is also an environment variable
//! ([`KEYS`] pairs them). Loading reports every problem at once ([`ConfigErrors`]), each
//! named by its environment variable. Only this module reads the environment.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use figment2::providers::{Format, Toml};
use figment2::value::{Dict, Map, Value};
use figment2::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

pub use crate::secrets::Secret;

/// The environment variable naming the optional config file (`--config` wins over it).
pub const CONFIG_FILE_VAR: &str = "NEXUS_CONFIG";

/// Development or production. Production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum AppEnv {
    /// Local development and tests (the default; also `dev`, `test`).
    Development,
    /// A real deployment (also `prod`).
    Production,
}

impl TryFrom<String> for AppEnv {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" | "test" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!(
                "unknown environment '{other}' (expected development or production)"
            )),
        }
    }
}

impl From<AppEnv> for &'static str {
    fn from(env: AppEnv) -> Self {
        match env {
            AppEnv::Development => "development",
            AppEnv::Production => "production",
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum LogFormat {
    /// Human-readable lines (default; also `text`).
    Pretty,
    /// One JSON object per line.
    Json,
}

impl TryFrom<String> for LogFormat {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pretty" | "text" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            other => Err(format!("expected pretty or json, got '{other}'")),
        }
    }
}

impl From<LogFormat> for &'static str {
    fn from(format: LogFormat) -> Self {
        match format {
            LogFormat::Pretty => "pretty",
            LogFormat::Json => "json",
        }
    }
}

/// HTTP listener and platform settings (`[http]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Interface to bind (`HOST`, default `0.0.0.0`).
    pub host: String,
    /// Port to bind (`PORT`, default 8080; 0 picks a free one).
    pub port: u16,
    /// Allowed CORS origins (`CORS_ORIGINS`, comma-separated; `*` for any; default none).
    #[serde(deserialize_with = "list::comma")]
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes (`BODY_LIMIT_BYTES`, default 1 MiB).
    pub body_limit_bytes: usize,
    /// `Strict-Transport-Security` max-age in seconds (`HSTS_MAX_AGE`, default unset: no header).
    pub hsts_max_age: Option<u64>,
    /// Worker threads (`HTTP_WORKERS`, default: number of cores).
    pub workers: Option<usize>,
    /// `METRICS_TOKEN`: bearer token that opens `GET /metrics`; unset: the public port does
    /// not serve `/metrics` at all (404).
    pub metrics_token: Option<Secret>,
    /// `METRICS_ADDR`: a separate `host:port` serving only `/metrics` (open there unless
    /// `METRICS_TOKEN` is set); unset: no separate listener.
    pub metrics_addr: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 8080,
            cors_origins: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            hsts_max_age: None,
            workers: None,
            metrics_token: None,
            metrics_addr: None,
        }
    }
}

/// Database settings (`[database]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`, default `sqlite://<DATA_DIR>/nexus.db?mode=rwc`.
    #[serde(serialize_with = "redacted_url")]
    pub url: Secret,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECS`, default 5: how long a request waits for a connection
    /// before it is answered 503 (an outage, or every connection busy).
    pub acquire_timeout_secs: u64,
    /// Run migrations at start (`MIGRATE_ON_START`, default true).
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: Secret::new(sqlite_url(Path::new(DEFAULT_DATA_DIR))),
            max_connections: 10,
            acquire_timeout_secs: 5,
            migrate_on_start: true,
        }
    }
}

/// Token and password settings (`[auth]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// HS256 signing key (`JWT_SECRET`). Unset outside production: a random key generated
    /// once and kept in `<DATA_DIR>/jwt-secret` (mode 0600). Production requires it.
    pub jwt_secret: Option<Secret>,
    /// `JWT_ISSUER`, default `customer-nexus-hub`.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`, default `customer-nexus-hub-api`.
    pub jwt_audience: String,
    /// `ACCESS_TOKEN_TTL_SECS`, default 900 (15 minutes).
    pub access_token_ttl_secs: i64,
    /// `REFRESH_TOKEN_TTL_SECS`, default 2 592 000 (30 days).
    pub refresh_token_ttl_secs: i64,
    /// `PASSWORD_RESET_TTL_MINUTES`, default 30: how long an e-mailed reset link works.
    pub password_reset_ttl_minutes: i64,
    /// `EMAIL_CHANGE_TTL_MINUTES`, default 60: how long an e-mail change confirmation link
    /// works.
    pub email_change_ttl_minutes: i64,
    /// `INVITE_TTL_MINUTES`, default 10080 (7 days): how long a staff invitation link works.
    pub invite_ttl_minutes: i64,
    /// `BCRYPT_COST`, default 12 (4 to 31).
    pub bcrypt_cost: u32,
    /// `REQUIRE_STAFF_TOTP`, default false: when true, staff (CSO, MANAGER, EDITOR, ADMIN)
    /// without an authenticator app reach only its enrolment routes and their own profile
    /// (others answer 403 `totp_required`) until they turn two-factor sign-in on.
    pub require_staff_totp: bool,
    /// `NEXUS_ADMIN_EMAIL`: administrator created on first start when there is no user.
    pub admin_email: Option<String>,
    /// `NEXUS_ADMIN_PASSWORD`: its password (generated and printed once when unset).
    pub admin_password: Option<Secret>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_issuer: "customer-nexus-hub".to_owned(),
            jwt_audience: "customer-nexus-hub-api".to_owned(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            password_reset_ttl_minutes: 30,
            email_change_ttl_minutes: 60,
            invite_ttl_minutes: 7 * 24 * 60,
            bcrypt_cost: 12,
            require_staff_totp: false,
            admin_email: None,
            admin_password: None,
        }
    }
}

/// E-mail settings (`[mail]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// `SMTP_URL`: `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS; also Amazon SES). Unset: `.eml` files
    /// in `OUTBOX_DIR`.
    #[serde(serialize_with = "redacted_optional_url")]
    pub smtp_url: Option<Secret>,
    /// `MAIL_FROM`, default `no-reply@nexus.local`.
    pub from_address: String,
    /// `MAIL_FROM_NAME`, default `Customer Nexus Hub`.
    pub from_name: String,
    /// `MAIL_FOOTER`, default a one-line signature.
    pub footer: String,
    /// `OUTBOX_DIR`, default `<DATA_DIR>/outbox`.
    pub outbox_dir: PathBuf,
    /// `PUBLIC_BASE_URL`, used in links, default `http://localhost:8080` (no trailing `/`).
    pub public_base_url: String,
    /// `SMTP_TIMEOUT_SECS`, default 10.
    pub timeout_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from_address: "no-reply@nexus.local".to_owned(),
            from_name: "Customer Nexus Hub".to_owned(),
            footer: "Customer Nexus Hub. You receive this e-mail because you contacted us or have an account with us.".to_owned(),
            outbox_dir: Path::new(DEFAULT_DATA_DIR).join("outbox"),
            public_base_url: "http://localhost:8080".to_owned(),
            timeout_secs: 10,
        }
    }
}

/// Background job settings (`[worker]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    /// `WORKER_IN_SERVE`: run the job worker inside `nexus serve` (default true).
    pub in_serve: bool,
    /// `WORKER_POLL_MS`: pause between polls when idle (default 500).
    pub poll_ms: u64,
    /// `JOB_LEASE_SECS`: how long a claimed job is reserved (default 60).
    pub lease_secs: i64,
    /// `JOB_BATCH`: jobs claimed per poll (default 10).
    pub batch: u32,
    /// `JOB_MAX_ATTEMPTS`: attempts before a job is DEAD (default 8).
    pub max_attempts: u32,
    /// `JOB_BACKOFF_BASE_SECS`: first retry delay (default 5).
    pub backoff_base_secs: i64,
    /// `JOB_BACKOFF_MAX_SECS`: longest retry delay (default 3600).
    pub backoff_max_secs: i64,
    /// `METRICS_ROLLUP_SECS`: how often the worker rolls raw page metrics up into the daily
    /// tables (default 60).
    pub metrics_rollup_secs: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            in_serve: true,
            poll_ms: 500,
            lease_secs: 60,
            batch: 10,
            max_attempts: 8,
            backoff_base_secs: 5,
            backoff_max_secs: 3600,
            metrics_rollup_secs: 60,
        }
    }
}

/// Abuse limits (`[limits]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// `ENQUIRY_RATE_LIMIT` enquiries per IP per window (default 5).
    pub enquiries: u32,
    /// `ENQUIRY_RATE_WINDOW_SECS` (default 600).
    pub enquiry_window_secs: u64,
    /// `OTP_RATE_LIMIT` code requests or checks per IP and per address per window (default 5).
    pub otp: u32,
    /// `OTP_RATE_WINDOW_SECS` (default 900).
    pub otp_window_secs: u64,
    /// `OTP_ADDRESS_RATE_LIMIT`: code requests or checks per address from all clients
    /// together per window (default 20): a looser ceiling than `OTP_RATE_LIMIT`, which counts
    /// per address and client, so one client cannot use up an address's budget.
    pub otp_per_address: u32,
    /// `TRUSTED_PROXIES`: addresses and CIDR networks of trusted proxies (comma-separated,
    /// or an array in the file); read into [`LimitSettings::proxies`].
    #[serde(deserialize_with = "list::comma")]
    pub trusted_proxies: Vec<String>,
    /// `TRUST_PROXY`: with no `TRUSTED_PROXIES`, trust loopback proxies (default false).
    pub trust_proxy: bool,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed: `TRUSTED_PROXIES`,
    /// or loopback only with `TRUST_PROXY=true` and no list; none by default.
    #[serde(skip)]
    pub proxies: crate::proxy::TrustedProxies,
    /// `AUTH_RATE_LIMIT` requests per client to login, register, refresh and password change
    /// per `AUTH_RATE_WINDOW_SECS` (defaults 100 per 60 s).
    pub auth: u32,
    /// `AUTH_RATE_WINDOW_SECS` (default 60).
    pub auth_window_secs: u64,
    /// Wrong passwords (login, password change) for one account from one client before that
    /// client is locked out of the account (`LOGIN_MAX_FAILURES`, default 5).
    pub login_max_failures: u32,
    /// Wrong passwords for one account from all clients before every client is locked out of
    /// it (`LOGIN_ACCOUNT_MAX_FAILURES`, default 50): high, so no single client can lock an
    /// owner out.
    pub login_account_max_failures: u32,
    /// First lockout in seconds, doubled by each further wrong password (`LOGIN_LOCK_SECS`,
    /// default 60).
    pub login_lock_secs: u64,
    /// Longest lockout in seconds, and how long failures are remembered
    /// (`LOGIN_LOCK_MAX_SECS`, default 900).
    pub login_lock_max_secs: u64,
    /// Password hashes (bcrypt) computed at once (`PASSWORD_HASH_CONCURRENCY`, default twice
    /// the number of cores, at least 4); requests beyond it get 429 at once.
    pub password_hash_concurrency: usize,
    /// `LOGIN_RATE_LIMIT`: sign-ins per client per window (unset: `AUTH_RATE_LIMIT`).
    pub login_rate: Option<u32>,
    /// `LOGIN_RATE_WINDOW_SECS` (unset: `AUTH_RATE_WINDOW_SECS`).
    pub login_window_secs: Option<u64>,
    /// `REGISTER_RATE_LIMIT`: registrations per client per window (unset: `AUTH_RATE_LIMIT`).
    pub register_rate: Option<u32>,
    /// `REGISTER_RATE_WINDOW_SECS` (unset: `AUTH_RATE_WINDOW_SECS`).
    pub register_window_secs: Option<u64>,
    /// `REFRESH_RATE_LIMIT`: token refreshes per client per window (unset: `AUTH_RATE_LIMIT`).
    pub refresh_rate: Option<u32>,
    /// `REFRESH_RATE_WINDOW_SECS` (unset: `AUTH_RATE_WINDOW_SECS`).
    pub refresh_window_secs: Option<u64>,
    /// `PASSWORD_CHANGE_RATE_LIMIT`: password changes per client per window (unset:
    /// `AUTH_RATE_LIMIT`).
    pub password_change_rate: Option<u32>,
    /// `PASSWORD_CHANGE_RATE_WINDOW_SECS` (unset: `AUTH_RATE_WINDOW_SECS`).
    pub password_change_window_secs: Option<u64>,
    /// `OTP_REQUEST_RATE_LIMIT`: one-time-code requests per client per window (unset:
    /// `OTP_RATE_LIMIT`).
    pub otp_request_rate: Option<u32>,
    /// `OTP_REQUEST_RATE_WINDOW_SECS` (unset: `OTP_RATE_WINDOW_SECS`).
    pub otp_request_window_secs: Option<u64>,
    /// `OTP_CHECK_RATE_LIMIT`: one-time-code checks per client per window (unset:
    /// `OTP_RATE_LIMIT`).
    pub otp_check_rate: Option<u32>,
    /// `OTP_CHECK_RATE_WINDOW_SECS` (unset: `OTP_RATE_WINDOW_SECS`).
    pub otp_check_window_secs: Option<u64>,
    /// `CHECKOUT_RATE_LIMIT`: checkouts per signed-in user per window (default 10): each one
    /// may create an order at the payment gateway.
    pub checkout: u32,
    /// `CHECKOUT_RATE_WINDOW_SECS` (default 600).
    pub checkout_window_secs: u64,
    /// `EXPORT_RATE_LIMIT`: data exports per signed-in user per window (default 5): each
    /// one reads everything about the account.
    pub export: u32,
    /// `EXPORT_RATE_WINDOW_SECS` (default 3600).
    pub export_window_secs: u64,
    /// `METRICS_EVENTS_RATE_LIMIT`: page-metrics batches per client per window (default 120).
    pub metrics_events: u32,
    /// `METRICS_EVENTS_RATE_WINDOW_SECS` (default 60).
    pub metrics_events_window_secs: u64,
    /// `FEEDBACK_RATE_LIMIT`: site feedback messages per client per window (default 5).
    pub feedback: u32,
    /// `FEEDBACK_RATE_WINDOW_SECS` (default 600).
    pub feedback_window_secs: u64,
}

/// The name of one rate limit: what operators see in logs, in the
/// `nexus_rate_limit_rejections_total{limit=...}` metric and in 429 bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitName {
    /// `login`: sign-ins per client.
    Login,
    /// `register`: registrations per client.
    Register,
    /// `register_address`: registrations per address from all clients.
    RegisterAddress,
    /// `refresh`: token refreshes per client.
    Refresh,
    /// `password_change`: password changes per client.
    PasswordChange,
    /// `otp_request`: one-time-code requests per client and address.
    OtpRequest,
    /// `otp_request_address`: one-time-code requests per address from all clients.
    OtpRequestAddress,
    /// `otp_check`: one-time-code checks per client and address.
    OtpCheck,
    /// `otp_check_address`: one-time-code checks per address from all clients.
    OtpCheckAddress,
    /// `enquiry`: public enquiries per client.
    Enquiry,
    /// `checkout`: checkouts per signed-in user.
    Checkout,
    /// `export`: data exports per signed-in user.
    Export,
    /// `metrics_events`: page-metrics batches per client.
    MetricsEvents,
    /// `feedback`: site feedback per client.
    Feedback,
}

impl RateLimitName {
    /// Every limit, in the order of the README's table.
    pub const ALL: [Self; 14] = [
        Self::Login,
        Self::Register,
        Self::RegisterAddress,
        Self::Refresh,
        Self::PasswordChange,
        Self::OtpRequest,
        Self::OtpRequestAddress,
        Self::OtpCheck,
        Self::OtpCheckAddress,
        Self::Enquiry,
        Self::Checkout,
        Self::Export,
        Self::MetricsEvents,
        Self::Feedback,
    ];

    /// The name, in snake case.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::RegisterAddress => "register_address",
            Self::Refresh => "refresh",
            Self::PasswordChange => "password_change",
            Self::OtpRequest => "otp_request",
            Self::OtpRequestAddress => "otp_request_address",
            Self::OtpCheck => "otp_check",
            Self::OtpCheckAddress => "otp_check_address",
            Self::Enquiry => "enquiry",
            Self::Checkout => "checkout",
            Self::Export => "export",
            Self::MetricsEvents => "metrics_events",
            Self::Feedback => "feedback",
        }
    }
}

/// One rate limit's budget: at most `limit` hits per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    /// Hits allowed per window.
    pub limit: u32,
    /// The window, in seconds (a sliding window in Redis, a fixed one in process).
    pub window_secs: u64,
}

impl LimitSettings {
    /// The budget of `name`: its own variables when set, else the family's (`AUTH_*` for
    /// login, register, refresh and password change; `OTP_*` for codes).
    #[must_use]
    pub fn rule(&self, name: RateLimitName) -> RateRule {
        use RateLimitName as N;
        let rule = |limit: Option<u32>, window: Option<u64>, family: (u32, u64)| RateRule {
            limit: limit.unwrap_or(family.0),
            window_secs: window.unwrap_or(family.1),
        };
        let auth = (self.auth, self.auth_window_secs);
        let otp = (self.otp, self.otp_window_secs);
        let per_address = RateRule {
            limit: self.otp_per_address,
            window_secs: self.otp_window_secs,
        };
        match name {
            N::Login => rule(self.login_rate, self.login_window_secs, auth),
            N::Register => rule(self.register_rate, self.register_window_secs, auth),
            N::Refresh => rule(self.refresh_rate, self.refresh_window_secs, auth),
            N::PasswordChange => rule(
                self.password_change_rate,
                self.password_change_window_secs,
                auth,
            ),
            N::OtpRequest => rule(self.otp_request_rate, self.otp_request_window_secs, otp),
            N::OtpCheck => rule(self.otp_check_rate, self.otp_check_window_secs, otp),
            N::RegisterAddress | N::OtpRequestAddress | N::OtpCheckAddress => per_address,
            N::Enquiry => RateRule {
                limit: self.enquiries,
                window_secs: self.enquiry_window_secs,
            },
            N::Checkout => RateRule {
                limit: self.checkout,
                window_secs: self.checkout_window_secs,
            },
            N::Export => RateRule {
                limit: self.export,
                window_secs: self.export_window_secs,
            },
            N::MetricsEvents => RateRule {
                limit: self.metrics_events,
                window_secs: self.metrics_events_window_secs,
            },
            N::Feedback => RateRule {
                limit: self.feedback,
                window_secs: self.feedback_window_secs,
            },
        }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            enquiries: 5,
            enquiry_window_secs: 600,
            otp: 5,
            otp_window_secs: 900,
            otp_per_address: 20,
            trusted_proxies: Vec::new(),
            trust_proxy: false,
            proxies: crate::proxy::TrustedProxies::none(),
            auth: 100,
            auth_window_secs: 60,
            login_max_failures: 5,
            login_account_max_failures: 50,
            login_lock_secs: 60,
            login_lock_max_secs: 900,
            password_hash_concurrency: std::thread::available_parallelism()
                .map_or(4, |n| n.get().saturating_mul(2))
                .max(4),
            login_rate: None,
            login_window_secs: None,
            register_rate: None,
            register_window_secs: None,
            refresh_rate: None,
            refresh_window_secs: None,
            password_change_rate: None,
            password_change_window_secs: None,
            otp_request_rate: None,
            otp_request_window_secs: None,
            otp_check_rate: None,
            otp_check_window_secs: None,
            checkout: 10,
            checkout_window_secs: 600,
            export: 5,
            export_window_secs: 3600,
            metrics_events: 120,
            metrics_events_window_secs: 60,
            feedback: 5,
            feedback_window_secs: 600,
        }
    }
}

/// Files: product assets, invoices (`[storage]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// `FILES_DIR`: local storage root when S3 is not configured (default `<DATA_DIR>/files`).
    pub files_dir: PathBuf,
    /// `S3_BUCKET`: use S3-compatible storage when set.
    pub s3_bucket: Option<String>,
    /// `S3_ENDPOINT`: for S3-compatible servers (MinIO, moto...); unset for AWS.
    pub s3_endpoint: Option<String>,
    /// `S3_PUBLIC_ENDPOINT`: the endpoint put in presigned links, if different.
    pub s3_public_endpoint: Option<String>,
    /// `S3_REGION` (default `us-east-1`).
    pub s3_region: String,
    /// `S3_ACCESS_KEY_ID`.
    pub s3_access_key_id: Option<String>,
    /// `S3_SECRET_ACCESS_KEY`.
    pub s3_secret_access_key: Option<Secret>,
    /// `S3_ALLOW_HTTP` (default false).
    pub s3_allow_http: bool,
    /// `LINK_SIGNING_KEY`: HMAC key of local file links. Unset outside production: a random
    /// key generated once and kept in `<DATA_DIR>/link-signing-key` (mode 0600). Production
    /// requires it unless files are in S3.
    pub link_signing_key: Option<Secret>,
    /// `LINK_TTL_SECS`: lifetime of download links (default 300).
    pub link_ttl_secs: i64,
    /// `ASSET_MAX_BYTES`: largest product file (default 100 MiB).
    pub asset_max_bytes: u64,
    /// `ASSET_CONTENT_TYPES`: allowed MIME types (comma-separated, or an array in the file).
    #[serde(deserialize_with = "list::comma")]
    pub asset_content_types: Vec<String>,
    /// `UPLOAD_DIR`: where uploaded files are staged while they arrive (default
    /// `<DATA_DIR>/uploads`; on the file system of `FILES_DIR`, a stored file is a rename).
    pub upload_dir: PathBuf,
    /// `UPLOAD_CONCURRENCY`: product files received at once (default 4); more get 503.
    pub upload_concurrency: usize,
}

impl Default for StorageSettings {
    fn default() -> Self {
        let data_dir = Path::new(DEFAULT_DATA_DIR);
        Self {
            files_dir: data_dir.join("files"),
            s3_bucket: None,
            s3_endpoint: None,
            s3_public_endpoint: None,
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            link_signing_key: None,
            link_ttl_secs: 300,
            asset_max_bytes: 100 * 1024 * 1024,
            asset_content_types: [
                "application/pdf",
                "application/zip",
                "application/epub+zip",
                "application/octet-stream",
                "image/png",
                "image/jpeg",
                "video/mp4",
                "audio/mpeg",
                "text/plain",
            ]
            .map(str::to_owned)
            .to_vec(),
            upload_dir: data_dir.join("uploads"),
            upload_concurrency: 4,
        }
    }
}

/// Payments (`[payments]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentSettings {
    /// `RAZORPAY_KEY_ID`; with no keys, the development gateway is used (refused in production).
    pub key_id: Option<String>,
    /// `RAZORPAY_KEY_SECRET`.
    pub key_secret: Option<Secret>,
    /// `RAZORPAY_WEBHOOK_SECRET`.
    pub webhook_secret: Option<Secret>,
    /// `RAZORPAY_API_BASE` (default `https://api.razorpay.com`).
    pub api_base: String,
    /// `RAZORPAY_TIMEOUT_SECS`: how long a Razorpay call may take (default 10).
    pub timeout_secs: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            key_id: None,
            key_secret: None,
            webhook_secret: None,
            api_base: "https://api.razorpay.com".to_owned(),
            timeout_secs: 10,
        }
    }
}

/// The longest `CACHE_TTL_SECS` accepted: a day.
const MAX_CACHE_TTL_SECS: u64 = 86_400;

/// Commerce settings: cart storage, search and the seller printed on invoices (`[commerce]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CommerceSettings {
    /// `REDIS_URL`: carts in Redis with a time-to-live; unset: carts in the database.
    #[serde(serialize_with = "redacted_optional_url")]
    pub redis_url: Option<Secret>,
    /// `REDIS_KEY_PREFIX`: the first part of every key the service writes to Redis (carts,
    /// rate limits), so that deployments can share one Redis (default `nexus`).
    pub redis_key_prefix: String,
    /// `CART_TTL_SECS` (default 30 days).
    pub cart_ttl_secs: u64,
    /// `CACHE_TTL_SECS`: how long a cached public answer (product list page, product detail)
    /// is kept at most (default 300); writes invalidate it long before. 0 turns the cache off.
    pub cache_ttl_secs: u64,
    /// `SELLER_NAME` (default `Customer Nexus Hub`).
    pub seller_name: String,
    /// `SELLER_ADDRESS`: address lines separated by `|` (or an array in the file).
    #[serde(deserialize_with = "list::pipe")]
    pub seller_address: Vec<String>,
    /// `SELLER_TAX_ID` (GSTIN), optional.
    pub seller_tax_id: Option<String>,
    /// `SELLER_EMAIL` (default `billing@nexus.local`).
    pub seller_email: String,
    /// `MEILI_URL`: search the catalog and the blog with Meilisearch instead of the
    /// database.
    pub meili_url: Option<String>,
    /// `MEILI_API_KEY`.
    pub meili_api_key: Option<Secret>,
    /// `MEILI_INDEX` (default `products`).
    pub meili_index: String,
    /// `MEILI_POSTS_INDEX`: the blog posts' index (default `posts`; must differ from
    /// `MEILI_INDEX`).
    pub meili_posts_index: String,
    /// `ORDER_EXPIRY_MINUTES`: unpaid orders older than this become EXPIRED (default 60).
    pub order_expiry_minutes: i64,
    /// `PAYMENT_RECONCILE_AFTER_SECS`: how long after checkout the gateway is asked about an
    /// order still unpaid, in case its webhook was lost (default 900; shorter than
    /// `ORDER_EXPIRY_MINUTES`).
    pub payment_reconcile_after_secs: i64,
    /// `STORE_CURRENCIES`: ISO 4217 codes products may be priced in (comma-separated, or an
    /// array in the file); the first is the store currency (default `INR`).
    #[serde(deserialize_with = "list::currencies")]
    pub currencies: Vec<nexus_kernel::Currency>,
    /// `MAX_PRICE_MINOR`: highest product price in minor units (default 10,000,000,000).
    pub max_price_minor: i64,
    /// `ORDER_PENDING_LIMIT`: unpaid orders a buyer may have at once (default 5).
    pub order_pending_limit: u32,
    /// `INVOICE_TAX_LABEL`: name of a tax included in prices, shown on invoices (`GST`).
    pub invoice_tax_label: Option<String>,
    /// `INVOICE_TAX_RATE_BP`: its rate in basis points (1800 = 18%).
    pub invoice_tax_rate_bp: Option<u32>,
    /// The invoice tax as (label, basis points) when both keys are set; unset: no tax line.
    #[serde(skip)]
    pub invoice_tax: Option<(String, u32)>,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_key_prefix: "nexus".to_owned(),
            cart_ttl_secs: 30 * 24 * 3600,
            cache_ttl_secs: 300,
            seller_name: "Customer Nexus Hub".to_owned(),
            seller_address: Vec::new(),
            seller_tax_id: None,
            seller_email: "billing@nexus.local".to_owned(),
            meili_url: None,
            meili_api_key: None,
            meili_index: "products".to_owned(),
            meili_posts_index: "posts".to_owned(),
            order_expiry_minutes: 60,
            payment_reconcile_after_secs: 900,
            currencies: vec![nexus_kernel::Currency::INR],
            max_price_minor: nexus_catalog::CatalogConfig::DEFAULT_MAX_PRICE_MINOR,
            order_pending_limit: 5,
            invoice_tax_label: None,
            invoice_tax_rate_bp: None,
            invoice_tax: None,
        }
    }
}

/// Everything the service needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `APP_ENV`: `development` (default) or `production`.
    pub env: AppEnv,
    /// `DATA_DIR`: where embedded data lives (default `./data`).
    pub data_dir: PathBuf,
    /// `LOG_FORMAT`: `pretty` (default) or `json`; levels from `RUST_LOG` (default `info`).
    pub log_format: LogFormat,
    /// `SHUTDOWN_GRACE_SECS`: after SIGTERM, how long in-flight requests and the delivery in
    /// hand may take to finish before they are cut off (default 30).
    pub shutdown_grace_secs: u64,
    /// HTTP.
    pub http: HttpSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Authentication.
    pub auth: AuthSettings,
    /// E-mail.
    pub mail: MailSettings,
    /// Background jobs.
    pub worker: WorkerSettings,
    /// Abuse limits.
    pub limits: LimitSettings,
    /// Files.
    pub storage: StorageSettings,
    /// Payments.
    pub payments: PaymentSettings,
    /// Cart, search and invoices.
    pub commerce: CommerceSettings,
    /// What search engines are told: robots.txt and the sitemap.
    pub site: SiteSettings,
    /// CMS content.
    pub content: ContentSettings,
    /// Sign-in with Google and GitHub.
    pub oauth: OAuthSettings,
    /// Approval deadlines.
    pub approvals: ApprovalSettings,
}

/// Approval deadlines (`[approvals]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ApprovalSettings {
    /// `APPROVAL_DEADLINE_MINUTES`: how long (in working time) a submitted response may wait
    /// for a decision before ADMIN is told (default 1440, one day; 0 turns deadlines off; at
    /// most 43200, thirty days).
    pub deadline_minutes: i64,
    /// `APPROVAL_WARN_BEFORE_MINUTES`: how long before the deadline its approvers are warned
    /// (default 240; less than the deadline).
    pub warn_before_minutes: i64,
    /// `APPROVAL_BUSINESS_HOURS`: when set (`Mon-Fri 09:00-17:00 +05:30`), the deadline's
    /// clock runs only in these hours; unset, it runs round the clock.
    pub business_hours: Option<String>,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            deadline_minutes: 24 * 60,
            warn_before_minutes: 4 * 60,
            business_hours: None,
        }
    }
}

impl ApprovalSettings {
    /// The deadline policy these settings describe; `Ok(None)` when deadlines are off.
    ///
    /// # Errors
    /// The key at fault and why, for [`Settings::validate`].
    pub fn policy(
        &self,
    ) -> Result<Option<nexus_approvals::DeadlinePolicy>, (&'static str, String)> {
        if self.deadline_minutes == 0 {
            return Ok(None);
        }
        if !(1..=30 * 24 * 60).contains(&self.deadline_minutes) {
            return Err((
                "APPROVAL_DEADLINE_MINUTES",
                "must be between 0 (off) and 43200 (thirty days)".to_owned(),
            ));
        }
        let hours = self
            .business_hours
            .as_deref()
            .map(str::parse::<nexus_approvals::BusinessHours>)
            .transpose()
            .map_err(|e| ("APPROVAL_BUSINESS_HOURS", e.to_string()))?;
        nexus_approvals::DeadlinePolicy::new(
            chrono::Duration::minutes(self.deadline_minutes),
            chrono::Duration::minutes(self.warn_before_minutes),
            hours,
        )
        .map(Some)
        .map_err(|e| ("APPROVAL_WARN_BEFORE_MINUTES", e.to_string()))
    }
}

/// What search engines are told (`[site]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteSettings {
    /// `ROBOTS_DISALLOW`: paths robots.txt asks every crawler to keep out of, comma-separated
    /// (default `/api/,/admin/,/cart,/checkout,/account`); `/` keeps them out of everything
    /// (a staging site).
    #[serde(deserialize_with = "list::comma")]
    pub robots_disallow: Vec<String>,
    /// `SITEMAP_MAX_URLS`: the most URLs one sitemap file lists (default and most 50000);
    /// a site with more is a sitemap index of files per kind of item.
    pub sitemap_max_urls: u64,
    /// `SITE_NAME`: the business's name, in generated meta titles, the site's
    /// `Organization`, the feeds' titles and e-mail headings (default `Customer Nexus Hub`).
    pub name: String,
    /// `SITE_LOGO_URL`: an absolute http(s) URL of the logo, for the `Organization`
    /// (optional).
    pub logo_url: Option<String>,
    /// `SITE_SAME_AS`: the business's profiles elsewhere, absolute http(s) URLs,
    /// comma-separated (the `Organization`'s `sameAs`; default none).
    #[serde(deserialize_with = "list::comma")]
    pub same_as: Vec<String>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            robots_disallow: ["/api/", "/admin/", "/cart", "/checkout", "/account"]
                .map(ToOwned::to_owned)
                .to_vec(),
            sitemap_max_urls: nexus_seo::SITEMAP_URL_LIMIT,
            name: "Customer Nexus Hub".to_owned(),
            logo_url: None,
            same_as: Vec::new(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: AppEnv::Development,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            log_format: LogFormat::Pretty,
            shutdown_grace_secs: 30,
            http: HttpSettings::default(),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            mail: MailSettings::default(),
            worker: WorkerSettings::default(),
            limits: LimitSettings::default(),
            storage: StorageSettings::default(),
            payments: PaymentSettings::default(),
            commerce: CommerceSettings::default(),
            site: SiteSettings::default(),
            content: ContentSettings::default(),
            oauth: OAuthSettings::default(),
            approvals: ApprovalSettings::default(),
        }
    }
}

/// Sign-in with Google and GitHub (`[oauth]`). A provider is enabled when its client id
/// and secret are both set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthSettings {
    /// `GOOGLE_CLIENT_ID`.
    pub google_client_id: Option<String>,
    /// `GOOGLE_CLIENT_SECRET`.
    pub google_client_secret: Option<Secret>,
    /// `GOOGLE_ISSUER` (default `https://accounts.google.com`): discovery is read from
    /// `{issuer}/.well-known/openid-configuration`, and ID tokens must name it.
    pub google_issuer: String,
    /// `GOOGLE_REDIRECT_URI`: the exact callback registered with Google (default
    /// `{OAUTH_REDIRECT_BASE}/api/v1/auth/oauth/google/callback`).
    pub google_redirect_uri: Option<String>,
    /// `GITHUB_CLIENT_ID`.
    pub github_client_id: Option<String>,
    /// `GITHUB_CLIENT_SECRET`.
    pub github_client_secret: Option<Secret>,
    /// `GITHUB_OAUTH_URL` (default `https://github.com`).
    pub github_oauth_url: String,
    /// `GITHUB_API_URL` (default `https://api.github.com`).
    pub github_api_url: String,
    /// `GITHUB_REDIRECT_URI`: the exact callback registered with GitHub (default
    /// `{OAUTH_REDIRECT_BASE}/api/v1/auth/oauth/github/callback`).
    pub github_redirect_uri: Option<String>,
    /// `OAUTH_REDIRECT_BASE`: the public origin the provider callbacks are derived from
    /// (default `PUBLIC_BASE_URL`). An `https` one makes the browser-binding cookie `Secure`.
    pub redirect_base: Option<String>,
    /// `OAUTH_TIMEOUT_SECS`: how long one call to a provider may take (default 10).
    pub timeout_secs: u64,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            google_client_id: None,
            google_client_secret: None,
            google_issuer: "https://accounts.google.com".to_owned(),
            google_redirect_uri: None,
            github_client_id: None,
            github_client_secret: None,
            github_oauth_url: "https://github.com".to_owned(),
            github_api_url: "https://api.github.com".to_owned(),
            github_redirect_uri: None,
            redirect_base: None,
            timeout_secs: 10,
        }
    }
}

impl OAuthSettings {
    /// The callback URI of `provider` (`google` or `github`): the exact one configured, else
    /// derived from `OAUTH_REDIRECT_BASE`, else from `public_base_url`.
    #[must_use]
    pub fn redirect_uri(&self, provider: &str, public_base_url: &str) -> String {
        let exact = match provider {
            "google" => self.google_redirect_uri.as_ref(),
            _ => self.github_redirect_uri.as_ref(),
        };
        exact.cloned().unwrap_or_else(|| {
            let base = self.redirect_base.as_deref().unwrap_or(public_base_url);
            format!(
                "{}/api/v1/auth/oauth/{provider}/callback",
                base.trim_end_matches('/')
            )
        })
    }
}

/// CMS content (`[content]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentSettings {
    /// `PREVIEW_TTL_SECS`: lifetime of a page preview link (default 900, at most 86400).
    pub preview_ttl_secs: i64,
    /// `PREVIEW_SIGNING_KEY`: HMAC key of preview links. Unset: a random key generated once
    /// and kept in `<DATA_DIR>/preview-signing-key` (mode 0600); set it when several
    /// instances share the API, so a link made by one works on the others.
    pub preview_signing_key: Option<Secret>,
}

impl Default for ContentSettings {
    fn default() -> Self {
        Self {
            preview_ttl_secs: 900,
            preview_signing_key: None,
        }
    }
}

/// Where embedded data lives unless `DATA_DIR` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The signing key earlier versions used when `JWT_SECRET` was unset. It is published, so
/// it is refused everywhere: anyone could sign tokens with it.
pub const DEV_JWT_SECRET: &str = "development-only-secret-change-me-in-production!!";

/// Shortest `METRICS_TOKEN` accepted, in bytes: it is a password for the scrape endpoint.
pub const MIN_METRICS_TOKEN_BYTES: usize = 16;

/// Shortest signing key accepted in production, in bytes.
pub const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

/// One setting: its environment variable and its dotted key in the tree and the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The environment variable, e.g. `PORT`.
    pub env: &'static str,
    /// The key in the tree and the config file, e.g. `http.port`.
    pub path: &'static str,
}

const fn key(env: &'static str, path: &'static str) -> Key {
    Key { env, path }
}

/// Every setting, in the order `nexus config` prints them (top-level keys first).
pub const KEYS: &[Key] = &[
    key("APP_ENV", "env"),
    key("DATA_DIR", "data_dir"),
    key("LOG_FORMAT", "log_format"),
    key("SHUTDOWN_GRACE_SECS", "shutdown_grace_secs"),
    key("HOST", "http.host"),
    key("PORT", "http.port"),
    key("CORS_ORIGINS", "http.cors_origins"),
    key("BODY_LIMIT_BYTES", "http.body_limit_bytes"),
    key("HSTS_MAX_AGE", "http.hsts_max_age"),
    key("HTTP_WORKERS", "http.workers"),
    key("METRICS_TOKEN", "http.metrics_token"),
    key("METRICS_ADDR", "http.metrics_addr"),
    key("DATABASE_URL", "database.url"),
    key("DATABASE_MAX_CONNECTIONS", "database.max_connections"),
    key(
        "DATABASE_ACQUIRE_TIMEOUT_SECS",
        "database.acquire_timeout_secs",
    ),
    key("MIGRATE_ON_START", "database.migrate_on_start"),
    key("JWT_SECRET", "auth.jwt_secret"),
    key("JWT_ISSUER", "auth.jwt_issuer"),
    key("JWT_AUDIENCE", "auth.jwt_audience"),
    key("ACCESS_TOKEN_TTL_SECS", "auth.access_token_ttl_secs"),
    key("REFRESH_TOKEN_TTL_SECS", "auth.refresh_token_ttl_secs"),
    key(
        "PASSWORD_RESET_TTL_MINUTES",
        "auth.password_reset_ttl_minutes",
    ),
    key("EMAIL_CHANGE_TTL_MINUTES", "auth.email_change_ttl_minutes"),
    key("INVITE_TTL_MINUTES", "auth.invite_ttl_minutes"),
    key("BCRYPT_COST", "auth.bcrypt_cost"),
    key("REQUIRE_STAFF_TOTP", "auth.require_staff_totp"),
    key("NEXUS_ADMIN_EMAIL", "auth.admin_email"),
    key("NEXUS_ADMIN_PASSWORD", "auth.admin_password"),
    key("SMTP_URL", "mail.smtp_url"),
    key("MAIL_FROM", "mail.from_address"),
    key("MAIL_FROM_NAME", "mail.from_name"),
    key("MAIL_FOOTER", "mail.footer"),
    key("OUTBOX_DIR", "mail.outbox_dir"),
    key("PUBLIC_BASE_URL", "mail.public_base_url"),
    key("SMTP_TIMEOUT_SECS", "mail.timeout_secs"),
    key("WORKER_IN_SERVE", "worker.in_serve"),
    key("WORKER_POLL_MS", "worker.poll_ms"),
    key("JOB_LEASE_SECS", "worker.lease_secs"),
    key("JOB_BATCH", "worker.batch"),
    key("JOB_MAX_ATTEMPTS", "worker.max_attempts"),
    key("JOB_BACKOFF_BASE_SECS", "worker.backoff_base_secs"),
    key("JOB_BACKOFF_MAX_SECS", "worker.backoff_max_secs"),
    key("METRICS_ROLLUP_SECS", "worker.metrics_rollup_secs"),
    key("ENQUIRY_RATE_LIMIT", "limits.enquiries"),
    key("ENQUIRY_RATE_WINDOW_SECS", "limits.enquiry_window_secs"),
    key("OTP_RATE_LIMIT", "limits.otp"),
    key("OTP_RATE_WINDOW_SECS", "limits.otp_window_secs"),
    key("OTP_ADDRESS_RATE_LIMIT", "limits.otp_per_address"),
    key("TRUSTED_PROXIES", "limits.trusted_proxies"),
    key("TRUST_PROXY", "limits.trust_proxy"),
    key("AUTH_RATE_LIMIT", "limits.auth"),
    key("AUTH_RATE_WINDOW_SECS", "limits.auth_window_secs"),
    key("LOGIN_MAX_FAILURES", "limits.login_max_failures"),
    key(
        "LOGIN_ACCOUNT_MAX_FAILURES",
        "limits.login_account_max_failures",
    ),
    key("LOGIN_LOCK_SECS", "limits.login_lock_secs"),
    key("LOGIN_LOCK_MAX_SECS", "limits.login_lock_max_secs"),
    key(
        "PASSWORD_HASH_CONCURRENCY",
        "limits.password_hash_concurrency",
    ),
    key("LOGIN_RATE_LIMIT", "limits.login_rate"),
    key("LOGIN_RATE_WINDOW_SECS", "limits.login_window_secs"),
    key("REGISTER_RATE_LIMIT", "limits.register_rate"),
    key("REGISTER_RATE_WINDOW_SECS", "limits.register_window_secs"),
    key("REFRESH_RATE_LIMIT", "limits.refresh_rate"),
    key("REFRESH_RATE_WINDOW_SECS", "limits.refresh_window_secs"),
    key("PASSWORD_CHANGE_RATE_LIMIT", "limits.password_change_rate"),
    key(
        "PASSWORD_CHANGE_RATE_WINDOW_SECS",
        "limits.password_change_window_secs",
    ),
    key("OTP_REQUEST_RATE_LIMIT", "limits.otp_request_rate"),
    key(
        "OTP_REQUEST_RATE_WINDOW_SECS",
        "limits.otp_request_window_secs",
    ),
    key("OTP_CHECK_RATE_LIMIT", "limits.otp_check_rate"),
    key("OTP_CHECK_RATE_WINDOW_SECS", "limits.otp_check_window_secs"),
    key("CHECKOUT_RATE_LIMIT", "limits.checkout"),
    key("CHECKOUT_RATE_WINDOW_SECS", "limits.checkout_window_secs"),
    key("EXPORT_RATE_LIMIT", "limits.export"),
    key("EXPORT_RATE_WINDOW_SECS", "limits.export_window_secs"),
    key("METRICS_EVENTS_RATE_LIMIT", "limits.metrics_events"),
    key(
        "METRICS_EVENTS_RATE_WINDOW_SECS",
        "limits.metrics_events_window_secs",
    ),
    key("FEEDBACK_RATE_LIMIT", "limits.feedback"),
    key("FEEDBACK_RATE_WINDOW_SECS", "limits.feedback_window_secs"),
    key("FILES_DIR", "storage.files_dir"),
    key("S3_BUCKET", "storage.s3_bucket"),
    key("S3_ENDPOINT", "storage.s3_endpoint"),
    key("S3_PUBLIC_ENDPOINT", "storage.s3_public_endpoint"),
    key("S3_REGION", "storage.s3_region"),
    key("S3_ACCESS_KEY_ID", "storage.s3_access_key_id"),
    key("S3_SECRET_ACCESS_KEY", "storage.s3_secret_access_key"),
    key("S3_ALLOW_HTTP", "storage.s3_allow_http"),
    key("LINK_SIGNING_KEY", "storage.link_signing_key"),
    key("LINK_TTL_SECS", "storage.link_ttl_secs"),
    key("ASSET_MAX_BYTES", "storage.asset_max_bytes"),
    key("ASSET_CONTENT_TYPES", "storage.asset_content_types"),
    key("UPLOAD_DIR", "storage.upload_dir"),
    key("UPLOAD_CONCURRENCY", "storage.upload_concurrency"),
    key("RAZORPAY_KEY_ID", "payments.key_id"),
    key("RAZORPAY_KEY_SECRET", "payments.key_secret"),
    key("RAZORPAY_WEBHOOK_SECRET", "payments.webhook_secret"),
    key("RAZORPAY_API_BASE", "payments.api_base"),
    key("RAZORPAY_TIMEOUT_SECS", "payments.timeout_secs"),
    key("REDIS_URL", "commerce.redis_url"),
    key("REDIS_KEY_PREFIX", "commerce.redis_key_prefix"),
    key("CART_TTL_SECS", "commerce.cart_ttl_secs"),
    key("CACHE_TTL_SECS", "commerce.cache_ttl_secs"),
    key("SELLER_NAME", "commerce.seller_name"),
    key("SELLER_ADDRESS", "commerce.seller_address"),
    key("SELLER_TAX_ID", "commerce.seller_tax_id"),
    key("SELLER_EMAIL", "commerce.seller_email"),
    key("MEILI_URL", "commerce.meili_url"),
    key("MEILI_API_KEY", "commerce.meili_api_key"),
    key("MEILI_INDEX", "commerce.meili_index"),
    key("MEILI_POSTS_INDEX", "commerce.meili_posts_index"),
    key("ORDER_EXPIRY_MINUTES", "commerce.order_expiry_minutes"),
    key(
        "PAYMENT_RECONCILE_AFTER_SECS",
        "commerce.payment_reconcile_after_secs",
    ),
    key("STORE_CURRENCIES", "commerce.currencies"),
    key("MAX_PRICE_MINOR", "commerce.max_price_minor"),
    key("ORDER_PENDING_LIMIT", "commerce.order_pending_limit"),
    key("INVOICE_TAX_LABEL", "commerce.invoice_tax_label"),
    key("INVOICE_TAX_RATE_BP", "commerce.invoice_tax_rate_bp"),
    key("ROBOTS_DISALLOW", "site.robots_disallow"),
    key("SITEMAP_MAX_URLS", "site.sitemap_max_urls"),
    key("SITE_NAME", "site.name"),
    key("SITE_LOGO_URL", "site.logo_url"),
    key("SITE_SAME_AS", "site.same_as"),
    key("PREVIEW_TTL_SECS", "content.preview_ttl_secs"),
    key("PREVIEW_SIGNING_KEY", "content.preview_signing_key"),
    key("GOOGLE_CLIENT_ID", "oauth.google_client_id"),
    key("GOOGLE_CLIENT_SECRET", "oauth.google_client_secret"),
    key("GOOGLE_ISSUER", "oauth.google_issuer"),
    key("GOOGLE_REDIRECT_URI", "oauth.google_redirect_uri"),
    key("GITHUB_CLIENT_ID", "oauth.github_client_id"),
    key("GITHUB_CLIENT_SECRET", "oauth.github_client_secret"),
    key("GITHUB_OAUTH_URL", "oauth.github_oauth_url"),
    key("GITHUB_API_URL", "oauth.github_api_url"),
    key("GITHUB_REDIRECT_URI", "oauth.github_redirect_uri"),
    key("OAUTH_REDIRECT_BASE", "oauth.redirect_base"),
    key("OAUTH_TIMEOUT_SECS", "oauth.timeout_secs"),
    key("APPROVAL_DEADLINE_MINUTES", "approvals.deadline_minutes"),
    key(
        "APPROVAL_WARN_BEFORE_MINUTES",
        "approvals.warn_before_minutes",
    ),
    key("APPROVAL_BUSINESS_HOURS", "approvals.business_hours"),
];

/// Every environment variable the binary reads: each setting of [`KEYS`], the config file
/// ([`CONFIG_FILE_VAR`]), log levels (`RUST_LOG`) and `create-admin`'s password
/// (`NEXUS_NEW_ADMIN_PASSWORD`). Deployment files are checked against it.
pub fn environment_variables() -> impl Iterator<Item = &'static str> {
    KEYS.iter()
        .map(|k| k.env)
        .chain([CONFIG_FILE_VAR, "RUST_LOG", "NEXUS_NEW_ADMIN_PASSWORD"])
}

/// Keys whose values are secrets: a problem with one never quotes its value.
const SECRET_KEYS: &[&str] = &[
    "DATABASE_URL",
    "METRICS_TOKEN",
    "JWT_SECRET",
    "NEXUS_ADMIN_PASSWORD",
    "SMTP_URL",
    "S3_SECRET_ACCESS_KEY",
    "LINK_SIGNING_KEY",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "REDIS_URL",
    "MEILI_API_KEY",
    "PREVIEW_SIGNING_KEY",
    "GOOGLE_CLIENT_SECRET",
    "GITHUB_CLIENT_SECRET",
];

/// The setting at `path`, or the one an element path such as `commerce.currencies.1` is in.
fn key_at(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| {
        path == k.path
            || path
                .strip_prefix(k.path)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// One unusable setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error in {key}: {reason}")]
pub struct SettingsError {
    /// The environment variable (`NEXUS_CONFIG` for the config file itself).
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Every problem found while loading the configuration, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(Vec<SettingsError>);

impl ConfigErrors {
    /// The problems, each naming its environment variable.
    #[must_use]
    pub fn problems(&self) -> &[SettingsError] {
        &self.0
    }

    /// Whether a problem names `key`.
    #[must_use]
    pub fn names(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
    }

    fn push(&mut self, key: &'static str, reason: impl Into<String>) {
        self.0.push(SettingsError {
            key,
            reason: reason.into(),
        });
    }

    fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} configuration problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  {}: {}", p.key, p.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Settings {
    /// Reads the configuration as `nexus` does: `.env` (when present) into the environment,
    /// then defaults, the config file (`config_file`, else `NEXUS_CONFIG`) and the environment.
    ///
    /// # Errors
    /// `ConfigErrors` listing every unusable setting.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigErrors> {
        // A missing .env file is normal.
        let _ = dotenvy::dotenv();
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::from_sources(config_file, &vars)
    }

    /// Reads the configuration from a map of environment variables (the environment, or a
    /// test's), with the config file its `NEXUS_CONFIG` names, if any.
    ///
    /// # Errors
    /// `ConfigErrors` listing every unusable setting.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        Self::from_sources(None, vars)
    }

    /// Reads defaults, then the TOML file `config_file` (else the one `NEXUS_CONFIG` in
    /// `vars` names), then the environment variables `vars`; each wins over the one before.
    /// An empty or blank variable counts as unset.
    ///
    /// # Errors
    /// `ConfigErrors` listing every unusable setting, with the file's unknown keys.
    pub fn from_sources(
        config_file: Option<&Path>,
        vars: &HashMap<String, String>,
    ) -> Result<Self, ConfigErrors> {
        let mut problems = ConfigErrors::default();
        let config_file = config_file
            .map(Path::to_path_buf)
            .or_else(|| env_value(vars, CONFIG_FILE_VAR).map(PathBuf::from));
        let file = match &config_file {
            Some(path) => Layer::file(path, &mut problems),
            None => Layer::named("no config file"),
        };
        let env = Layer::environment(vars);
        let data_dir = [&env, &file]
            .into_iter()
            .find_map(|layer| match layer.data.get("data_dir") {
                Some(Value::String(_, dir)) => Some(PathBuf::from(dir)),
                _ => None,
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let mut layers = [Layer::derived_defaults(&data_dir), file, env];
        let settings = extract(&mut layers, &mut problems).finish(&mut problems);
        problems.into_result(settings)
    }

    /// Checks cross-field rules and the production guard rails.
    ///
    /// # Errors
    /// `ConfigErrors` naming every offending key.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut problems = ConfigErrors::default();
        self.check(&mut problems);
        problems.into_result(())
    }

    /// Whether the database is the embedded SQLite file.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database.url.expose().starts_with("sqlite:")
    }

    /// The effective configuration as a TOML document that could serve as a config file:
    /// every key with its value (unset ones commented out) and its environment variable;
    /// secrets are `[redacted]`, and so is the password in a database, Redis or SMTP URL.
    #[must_use]
    pub fn to_toml(&self) -> String {
        let tree = serde_json::to_value(self).unwrap_or_default();
        let mut out = String::from(
            "# Effective configuration: defaults < config file < environment.\n\
             # Each key names its environment variable; secrets are [redacted].\n",
        );
        let mut table = "";
        for key in KEYS {
            let (section, name) = key.path.rsplit_once('.').unwrap_or(("", key.path));
            if section != table {
                let _ = write!(out, "\n[{section}]\n");
                table = section;
            }
            let pointer = format!("/{}", key.path.replace('.', "/"));
            let line = match tree.pointer(&pointer) {
                None | Some(serde_json::Value::Null) => format!("# {name} (unset)"),
                // JSON scalars and arrays of them are TOML too, except DEL, which TOML escapes.
                Some(value) => format!(
                    "{name} = {}",
                    value.to_string().replace('\u{7f}', "\\u007F")
                ),
            };
            let _ = writeln!(out, "{line:<60} # {}", key.env);
        }
        out
    }

    /// Fills the values read from two keys or post-processed, then checks every rule.
    fn finish(mut self, problems: &mut ConfigErrors) -> Self {
        let base = self.mail.public_base_url.trim_end_matches('/').len();
        self.mail.public_base_url.truncate(base);
        let l = &mut self.limits;
        l.proxies = if !l.trusted_proxies.is_empty() {
            crate::proxy::TrustedProxies::parse_list(&l.trusted_proxies.join(",")).unwrap_or_else(
                |reason| {
                    problems.push("TRUSTED_PROXIES", reason);
                    crate::proxy::TrustedProxies::none()
                },
            )
        } else if l.trust_proxy {
            crate::proxy::TrustedProxies::loopback()
        } else {
            crate::proxy::TrustedProxies::none()
        };
        let c = &mut self.commerce;
        c.invoice_tax = match (&c.invoice_tax_label, c.invoice_tax_rate_bp) {
            (Some(label), Some(rate)) => Some((label.clone(), rate)),
            (None, None) => None,
            _ => {
                problems.push(
                    "INVOICE_TAX_LABEL",
                    "set both INVOICE_TAX_LABEL and INVOICE_TAX_RATE_BP, or neither",
                );
                None
            }
        };
        self.check(problems);
        self
    }

    fn check(&self, problems: &mut ConfigErrors) {
        let (a, w, l) = (&self.auth, &self.worker, &self.limits);
        let (st, p, c, db) = (
            &self.storage,
            &self.payments,
            &self.commerce,
            &self.database,
        );
        let production = self.env == AppEnv::Production;
        let razorpay = [
            p.key_id.is_some(),
            p.key_secret.is_some(),
            p.webhook_secret.is_some(),
        ];
        let at_least_1 = "must be at least 1";
        let rules: [(bool, &'static str, &str); 35] = [
            (
                self.http
                    .metrics_addr
                    .as_deref()
                    .is_some_and(|a| a.parse::<std::net::SocketAddr>().is_err()),
                "METRICS_ADDR",
                "expected an IP address and port, e.g. 127.0.0.1:9464",
            ),
            (
                !(4..=31).contains(&a.bcrypt_cost),
                "BCRYPT_COST",
                "must be between 4 and 31",
            ),
            (
                production && a.bcrypt_cost < 10,
                "BCRYPT_COST",
                "must be at least 10 in production",
            ),
            (
                a.access_token_ttl_secs <= 0,
                "ACCESS_TOKEN_TTL_SECS",
                "token lifetimes must be positive",
            ),
            (
                a.refresh_token_ttl_secs <= 0,
                "REFRESH_TOKEN_TTL_SECS",
                "token lifetimes must be positive",
            ),
            (
                !(1..=24 * 60).contains(&a.password_reset_ttl_minutes),
                "PASSWORD_RESET_TTL_MINUTES",
                "must be between 1 and 1440 minutes",
            ),
            (
                !(1..=7 * 24 * 60).contains(&a.email_change_ttl_minutes),
                "EMAIL_CHANGE_TTL_MINUTES",
                "must be between 1 and 10080 minutes",
            ),
            (
                !(1..=30 * 24 * 60).contains(&a.invite_ttl_minutes),
                "INVITE_TTL_MINUTES",
                "must be between 1 and 43200 minutes",
            ),
            (
                a.refresh_token_ttl_secs < a.access_token_ttl_secs,
                "REFRESH_TOKEN_TTL_SECS",
                "must not be shorter than ACCESS_TOKEN_TTL_SECS",
            ),
            (w.lease_secs < 1, "JOB_LEASE_SECS", at_least_1),
            (w.batch == 0, "JOB_BATCH", at_least_1),
            (w.max_attempts == 0, "JOB_MAX_ATTEMPTS", at_least_1),
            (
                w.backoff_base_secs < 1 || w.backoff_max_secs < w.backoff_base_secs,
                "JOB_BACKOFF_BASE_SECS",
                "backoff must be at least 1 second and not above JOB_BACKOFF_MAX_SECS",
            ),
            (
                razorpay.contains(&true) && razorpay.contains(&false),
                "RAZORPAY_KEY_ID",
                "set RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET together",
            ),
            (
                production && p.key_id.is_none(),
                "RAZORPAY_KEY_ID",
                "production refuses the development payment gateway; configure Razorpay",
            ),
            (p.timeout_secs < 1, "RAZORPAY_TIMEOUT_SECS", at_least_1),
            (
                st.s3_bucket.is_some()
                    && (st.s3_access_key_id.is_none() || st.s3_secret_access_key.is_none()),
                "S3_BUCKET",
                "S3 storage needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
            ),
            (st.link_ttl_secs < 1, "LINK_TTL_SECS", at_least_1),
            (st.upload_concurrency == 0, "UPLOAD_CONCURRENCY", at_least_1),
            (
                c.order_expiry_minutes < 1,
                "ORDER_EXPIRY_MINUTES",
                at_least_1,
            ),
            (
                c.payment_reconcile_after_secs < 1,
                "PAYMENT_RECONCILE_AFTER_SECS",
                at_least_1,
            ),
            (
                c.order_expiry_minutes >= 1
                    && c.payment_reconcile_after_secs >= c.order_expiry_minutes.saturating_mul(60),
                "PAYMENT_RECONCILE_AFTER_SECS",
                "must be shorter than ORDER_EXPIRY_MINUTES, so that the gateway is asked \
                 before an unpaid order expires",
            ),
            (c.order_pending_limit < 1, "ORDER_PENDING_LIMIT", at_least_1),
            (
                c.currencies.is_empty(),
                "STORE_CURRENCIES",
                "name at least one currency",
            ),
            (
                !(1..=1_000_000_000_000_000).contains(&c.max_price_minor),
                "MAX_PRICE_MINOR",
                "expected 1 to 1000000000000000 (so that cart totals cannot overflow)",
            ),
            (l.auth == 0, "AUTH_RATE_LIMIT", at_least_1),
            (l.otp == 0, "OTP_RATE_LIMIT", at_least_1),
            (
                l.otp_per_address < l.otp,
                "OTP_ADDRESS_RATE_LIMIT",
                "must be at least OTP_RATE_LIMIT",
            ),
            (l.login_max_failures == 0, "LOGIN_MAX_FAILURES", at_least_1),
            (
                l.login_account_max_failures < l.login_max_failures,
                "LOGIN_ACCOUNT_MAX_FAILURES",
                "must be at least LOGIN_MAX_FAILURES",
            ),
            (
                l.login_lock_secs == 0 || l.login_lock_max_secs < l.login_lock_secs,
                "LOGIN_LOCK_SECS",
                "must be at least 1 and not above LOGIN_LOCK_MAX_SECS",
            ),
            (
                l.password_hash_concurrency == 0,
                "PASSWORD_HASH_CONCURRENCY",
                at_least_1,
            ),
            (
                db.max_connections == 0,
                "DATABASE_MAX_CONNECTIONS",
                at_least_1,
            ),
            (
                db.acquire_timeout_secs == 0,
                "DATABASE_ACQUIRE_TIMEOUT_SECS",
                at_least_1,
            ),
            (
                self.shutdown_grace_secs == 0,
                "SHUTDOWN_GRACE_SECS",
                at_least_1,
            ),
        ];
        for (broken, key, reason) in rules {
            if broken {
                problems.push(key, reason);
            }
        }
        // The per-limit variables are new: unlike the older family ones, 0 is refused.
        let named: [(Option<u64>, &'static str); 18] = [
            (l.login_rate.map(u64::from), "LOGIN_RATE_LIMIT"),
            (l.login_window_secs, "LOGIN_RATE_WINDOW_SECS"),
            (l.register_rate.map(u64::from), "REGISTER_RATE_LIMIT"),
            (l.register_window_secs, "REGISTER_RATE_WINDOW_SECS"),
            (l.refresh_rate.map(u64::from), "REFRESH_RATE_LIMIT"),
            (l.refresh_window_secs, "REFRESH_RATE_WINDOW_SECS"),
            (
                l.password_change_rate.map(u64::from),
                "PASSWORD_CHANGE_RATE_LIMIT",
            ),
            (
                l.password_change_window_secs,
                "PASSWORD_CHANGE_RATE_WINDOW_SECS",
            ),
            (l.otp_request_rate.map(u64::from), "OTP_REQUEST_RATE_LIMIT"),
            (l.otp_request_window_secs, "OTP_REQUEST_RATE_WINDOW_SECS"),
            (l.otp_check_rate.map(u64::from), "OTP_CHECK_RATE_LIMIT"),
            (l.otp_check_window_secs, "OTP_CHECK_RATE_WINDOW_SECS"),
            (Some(u64::from(l.checkout)), "CHECKOUT_RATE_LIMIT"),
            (Some(l.checkout_window_secs), "CHECKOUT_RATE_WINDOW_SECS"),
            (Some(u64::from(l.export)), "EXPORT_RATE_LIMIT"),
            (Some(l.export_window_secs), "EXPORT_RATE_WINDOW_SECS"),
            (Some(u64::from(l.feedback)), "FEEDBACK_RATE_LIMIT"),
            (Some(l.feedback_window_secs), "FEEDBACK_RATE_WINDOW_SECS"),
        ];
        for (value, key) in named {
            if value == Some(0) {
                problems.push(key, at_least_1);
            }
        }
        // Page metrics.
        for (value, key) in [
            (u64::from(l.metrics_events), "METRICS_EVENTS_RATE_LIMIT"),
            (
                l.metrics_events_window_secs,
                "METRICS_EVENTS_RATE_WINDOW_SECS",
            ),
            (self.worker.metrics_rollup_secs, "METRICS_ROLLUP_SECS"),
        ] {
            if value == 0 {
                problems.push(key, at_least_1);
            }
        }
        if self.commerce.redis_key_prefix.trim().is_empty() {
            problems.push("REDIS_KEY_PREFIX", "must not be blank");
        }
        if self.commerce.cache_ttl_secs > MAX_CACHE_TTL_SECS {
            problems.push("CACHE_TTL_SECS", "must be at most 86400 (one day)");
        }
        if !(1..=nexus_seo::SITEMAP_URL_LIMIT).contains(&self.site.sitemap_max_urls) {
            problems.push("SITEMAP_MAX_URLS", "must be 1 to 50000");
        }
        if let Some(bad) =
            self.site.robots_disallow.iter().find(|p| {
                !p.starts_with('/') || p.chars().any(|c| c.is_whitespace() || c.is_control())
            })
        {
            problems.push(
                "ROBOTS_DISALLOW",
                format!("{bad:?} is not a path starting with / without spaces"),
            );
        }
        if self.site.name.trim().is_empty() || self.site.name.chars().count() > 100 {
            problems.push("SITE_NAME", "must be 1 to 100 characters");
        }
        if let Some(bad) = self
            .site
            .logo_url
            .as_deref()
            .filter(|u| !absolute_http_url(u))
        {
            problems.push(
                "SITE_LOGO_URL",
                format!("{bad:?} is not an absolute http(s) URL"),
            );
        }
        if let Some(bad) = self.site.same_as.iter().find(|u| !absolute_http_url(u)) {
            problems.push(
                "SITE_SAME_AS",
                format!("{bad:?} is not an absolute http(s) URL"),
            );
        }
        if !(1..=86_400).contains(&self.content.preview_ttl_secs) {
            problems.push("PREVIEW_TTL_SECS", "must be between 1 and 86400 (one day)");
        }
        if let Err((key, reason)) = self.approvals.policy() {
            problems.push(key, reason);
        }
        self.check_oauth(problems);
        self.check_secrets(problems);
    }

    /// A provider's id and secret come together; every URL it uses is an absolute one.
    fn check_oauth(&self, problems: &mut ConfigErrors) {
        let o = &self.oauth;
        if o.google_client_id.is_some() != o.google_client_secret.is_some() {
            problems.push(
                "GOOGLE_CLIENT_ID",
                "set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET together",
            );
        }
        if o.github_client_id.is_some() != o.github_client_secret.is_some() {
            problems.push(
                "GITHUB_CLIENT_ID",
                "set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET together",
            );
        }
        let urls = [
            ("GOOGLE_ISSUER", Some(&o.google_issuer)),
            ("GOOGLE_REDIRECT_URI", o.google_redirect_uri.as_ref()),
            ("GITHUB_OAUTH_URL", Some(&o.github_oauth_url)),
            ("GITHUB_API_URL", Some(&o.github_api_url)),
            ("GITHUB_REDIRECT_URI", o.github_redirect_uri.as_ref()),
            ("OAUTH_REDIRECT_BASE", o.redirect_base.as_ref()),
        ];
        for (key, url) in urls {
            if let Some(bad) = url.filter(|u| !absolute_http_url(u)) {
                problems.push(key, format!("{bad:?} is not an absolute http(s) URL"));
            }
        }
        if o.timeout_secs < 1 {
            problems.push("OAUTH_TIMEOUT_SECS", "must be at least 1");
        }
    }

    /// No secret may be a published constant or short; production takes its secrets from the
    /// environment or the config file (elsewhere a missing one is generated into the data
    /// directory).
    fn check_secrets(&self, problems: &mut ConfigErrors) {
        let production = self.env == AppEnv::Production;
        let jwt = self.auth.jwt_secret.as_ref().map(Secret::expose);
        let link = self.storage.link_signing_key.as_ref().map(Secret::expose);
        let short = |v: Option<&str>| v.is_some_and(|v| v.len() < MIN_PRODUCTION_SECRET_BYTES);
        let too_short = format!("must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes");
        if jwt == Some(DEV_JWT_SECRET) {
            problems.push(
                "JWT_SECRET",
                "this value is published; set a random secret of at least 32 bytes, or unset it outside production",
            );
        }
        if short(jwt) {
            problems.push("JWT_SECRET", too_short.clone());
        }
        if short(link) {
            problems.push("LINK_SIGNING_KEY", too_short);
        }
        let metrics = self.http.metrics_token.as_ref().map(Secret::expose);
        if metrics.is_some_and(|t| t.len() < MIN_METRICS_TOKEN_BYTES) {
            problems.push(
                "METRICS_TOKEN",
                format!("must be at least {MIN_METRICS_TOKEN_BYTES} bytes"),
            );
        }
        let preview = self
            .content
            .preview_signing_key
            .as_ref()
            .map(Secret::expose);
        if short(preview) {
            problems.push(
                "PREVIEW_SIGNING_KEY",
                format!("must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes"),
            );
        }
        if preview.is_some() && (preview == jwt || preview == link) {
            problems.push(
                "PREVIEW_SIGNING_KEY",
                "must differ from JWT_SECRET and LINK_SIGNING_KEY",
            );
        }
        if jwt.is_some() && jwt == link {
            problems.push("LINK_SIGNING_KEY", "must differ from JWT_SECRET");
        }
        if production && jwt.is_none() {
            problems.push(
                "JWT_SECRET",
                "production requires a random secret of at least 32 bytes from the environment or the config file",
            );
        }
        if production && link.is_none() && self.storage.s3_bucket.is_none() {
            problems.push(
                "LINK_SIGNING_KEY",
                "production with local files requires a random key of at least 32 bytes from the environment or the config file",
            );
        }
    }
}

/// Reads the tree from the layers. A value that does not fit is reported, dropped from the
/// layer it came from, and the tree read again (the key falls back to the layer below or its
/// default), so that one load lists every problem rather than the first.
fn extract(layers: &mut [Layer; 3], problems: &mut ConfigErrors) -> Settings {
    for _ in 0..=KEYS.len() {
        let figment = layers.iter().cloned().fold(Figment::new(), Figment::merge);
        let errors = match figment.extract_lossy::<Settings>() {
            Ok(settings) => return settings,
            Err(errors) => errors,
        };
        let mut dropped = false;
        for error in errors {
            let path = error.path.join(".");
            let source = error.metadata.as_ref().map(|m| m.name.to_string());
            let key = key_at(&path).map_or(CONFIG_FILE_VAR, |k| k.env);
            // The message of a serde error quotes the value: never a secret's.
            let what = if SECRET_KEYS.contains(&key) {
                "expected text".to_owned()
            } else {
                error.kind.to_string()
            };
            let reason = match source.as_deref() {
                Some(name) if name.starts_with(FILE_LAYER) => format!("{path} in {name}: {what}"),
                _ => what,
            };
            problems.push(key, reason);
            for layer in layers.iter_mut().rev() {
                if source.as_deref().is_none_or(|s| s == layer.name) && layer.remove(&path) {
                    dropped = true;
                    break;
                }
            }
        }
        if !dropped {
            break;
        }
    }
    Settings::default()
}

/// `vars[name]`, trimmed; blank counts as unset.
fn env_value<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}/nexus.db?mode=rwc", data_dir.display())
}

const FILE_LAYER: &str = "config file";

/// One source of values, handed to figment: defaults that follow `DATA_DIR`, the config file,
/// or the environment.
#[derive(Clone)]
struct Layer {
    name: String,
    data: Dict,
}

impl Layer {
    fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            data: Dict::new(),
        }
    }

    /// The defaults that are paths under the data directory.
    fn derived_defaults(data_dir: &Path) -> Self {
        let mut layer = Self::named("defaults");
        let under = |leaf: &str| data_dir.join(leaf).display().to_string();
        layer.insert("data_dir", data_dir.display().to_string());
        layer.insert("database.url", sqlite_url(data_dir));
        layer.insert("mail.outbox_dir", under("outbox"));
        layer.insert("storage.files_dir", under("files"));
        layer.insert("storage.upload_dir", under("uploads"));
        layer
    }

    /// The TOML file at `path`; a missing or malformed file, or a key the tree does not have,
    /// is a problem.
    fn file(path: &Path, problems: &mut ConfigErrors) -> Self {
        let mut layer = Self::named(&format!("{FILE_LAYER} {}", path.display()));
        match Toml::file(path).search(false).required(true).data() {
            Ok(mut profiles) => {
                layer.data = profiles.remove(&Profile::Default).unwrap_or_default();
            }
            Err(error) => {
                // A parse error quotes the offending line, which may hold a secret: keep its
                // position and cause only.
                let message = error.kind.to_string();
                let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
                let first = lines.next().unwrap_or_default();
                let reason = match lines.next_back() {
                    Some(last) if !last.contains(['=', '"', '\'']) => format!("{first}: {last}"),
                    _ => first.to_owned(),
                };
                problems.push(CONFIG_FILE_VAR, format!("{}: {reason}", path.display()));
            }
        }
        let mut leaves = Vec::new();
        collect_leaves(&layer.data, "", &mut leaves);
        for leaf in leaves {
            let section = KEYS.iter().any(|k| k.path.starts_with(&format!("{leaf}.")));
            if key_at(&leaf).is_none() && !section {
                problems.push(
                    CONFIG_FILE_VAR,
                    format!("{}: unknown key `{leaf}`", path.display()),
                );
            }
        }
        layer
    }

    /// The variables of [`KEYS`] that are set and not blank, trimmed, as text: figment reads
    /// numbers and booleans (`true`/`yes`/`on`/`1`) out of them as the tree asks.
    fn environment(vars: &HashMap<String, String>) -> Self {
        let mut layer = Self::named("the environment");
        for key in KEYS {
            if let Some(value) = env_value(vars, key.env) {
                layer.insert(key.path, value.to_owned());
            }
        }
        layer
    }

    fn insert(&mut self, path: &str, value: String) {
        let mut dict = &mut self.data;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                dict.insert(part.to_owned(), Value::from(value));
                return;
            }
            let entry = dict
                .entry(part.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            let Value::Dict(_, inner) = entry else { return };
            dict = inner;
        }
    }

    fn remove(&mut self, path: &str) -> bool {
        let mut dict = &mut self.data;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                return dict.remove(part).is_some();
            }
            if !matches!(dict.get(part), Some(Value::Dict(..))) {
                // An element of a list: drop the whole list.
                return dict.remove(part).is_some();
            }
            let Some(Value::Dict(_, inner)) = dict.get_mut(part) else {
                return false;
            };
            dict = inner;
        }
        false
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment2::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

fn collect_leaves(dict: &Dict, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in dict {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Value::Dict(_, inner) => collect_leaves(inner, &path, out),
            _ => out.push(path),
        }
    }
}

fn redacted_url<S: serde::Serializer>(url: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&url.redacted_url())
}

fn redacted_optional_url<S: serde::Serializer>(
    url: &Option<Secret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&url.redacted_url()),
        None => serializer.serialize_none(),
    }
}

/// Lists read from one separated string (the environment) or an array (the file).
/// Whether `raw` is an absolute `http://` or `https://` URL with a host and no white space
/// or control character.
fn absolute_http_url(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty()
            && !host.starts_with(':')
            && !host.contains('@')
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

mod list {
    use std::fmt;

    use serde::Deserializer;
    use serde::de::{self, SeqAccess, Visitor};

    struct Items(char);

    impl<'de> Visitor<'de> for Items {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a list separated by '{}', or an array of strings",
                self.0
            )
        }

        fn visit_str<E: de::Error>(self, raw: &str) -> Result<Vec<String>, E> {
            Ok(raw
                .split(self.0)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                let item = item.trim();
                if !item.is_empty() {
                    items.push(item.to_owned());
                }
            }
            Ok(items)
        }
    }

    pub(super) fn comma<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
        de.deserialize_any(Items(','))
    }

    pub(super) fn pipe<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
        de.deserialize_any(Items('|'))
    }

    pub(super) fn currencies<'de, D: Deserializer<'de>>(
        de: D,
    ) -> Result<Vec<nexus_kernel::Currency>, D::Error> {
        comma(de)?
            .iter()
            .map(|code| {
                nexus_kernel::Currency::parse(code).map_err(|_| {
                    de::Error::custom(format!(
                        "'{code}' is not a currency; expected ISO 4217 codes such as INR,USD"
                    ))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        Settings::from_map(&vars(pairs))
    }

    fn with_file(toml: &str, pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nexus.toml");
        std::fs::write(&path, toml).expect("write the config file");
        Settings::from_sources(Some(&path), &vars(pairs))
    }

    fn keys(errors: &ConfigErrors) -> Vec<&'static str> {
        errors.problems().iter().map(|p| p.key).collect()
    }

    #[test]
    fn defaults_run_everything_embedded() {
        let s = load(&[]).expect("defaults are valid");
        assert_eq!(s.http.port, 8080);
        assert_eq!(s.http.host, "0.0.0.0");
        assert!(s.is_sqlite());
        assert_eq!(s.database.url.expose(), "sqlite://./data/nexus.db?mode=rwc");
        assert_eq!(s.auth.bcrypt_cost, 12);
        assert_eq!(s.env, AppEnv::Development);
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert_eq!(s.mail.outbox_dir, Path::new("./data/outbox"));
        assert_eq!(s.commerce.currencies, vec![nexus_kernel::Currency::INR]);
        assert_eq!(s.storage.asset_content_types.len(), 9);
        assert!(s.commerce.invoice_tax.is_none());
        assert!(s.limits.proxies.is_empty());
    }

    #[test]
    fn paths_under_the_data_directory_follow_it_unless_set() {
        let s = load(&[("DATA_DIR", "/srv/nexus"), ("FILES_DIR", "/mnt/files")]).expect("valid");

        assert_eq!(
            s.database.url.expose(),
            "sqlite:///srv/nexus/nexus.db?mode=rwc"
        );
        assert_eq!(s.mail.outbox_dir, Path::new("/srv/nexus/outbox"));
        assert_eq!(s.storage.upload_dir, Path::new("/srv/nexus/uploads"));
        assert_eq!(s.storage.files_dir, Path::new("/mnt/files"));
    }

    #[test]
    fn variables_keep_their_meaning_and_blank_ones_count_as_unset() {
        let s = load(&[
            ("PORT", " 9000 "),
            ("HOST", ""),
            ("APP_ENV", "Dev"),
            ("LOG_FORMAT", "JSON"),
            ("MIGRATE_ON_START", "off"),
            ("S3_ALLOW_HTTP", "Yes"),
            ("CORS_ORIGINS", "https://a.example, ,https://b.example"),
            ("SELLER_ADDRESS", "1 Main St | Pune"),
            ("STORE_CURRENCIES", "usd, inr"),
            ("INVOICE_TAX_LABEL", "GST"),
            ("INVOICE_TAX_RATE_BP", "1800"),
            ("PUBLIC_BASE_URL", "https://shop.example/"),
            ("HSTS_MAX_AGE", "31536000"),
        ])
        .expect("valid");

        assert_eq!(s.http.port, 9000);
        assert_eq!(s.http.host, "0.0.0.0");
        assert_eq!(s.env, AppEnv::Development);
        assert_eq!(s.log_format, LogFormat::Json);
        assert!(!s.database.migrate_on_start);
        assert!(s.storage.s3_allow_http);
        assert_eq!(
            s.http.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(s.commerce.seller_address, ["1 Main St", "Pune"]);
        assert_eq!(s.commerce.currencies[0].to_string(), "USD");
        assert_eq!(s.commerce.invoice_tax, Some(("GST".to_owned(), 1800)));
        assert_eq!(s.mail.public_base_url, "https://shop.example");
        assert_eq!(s.http.hsts_max_age, Some(31_536_000));
    }

    #[test]
    fn the_file_wins_over_defaults_and_the_environment_over_the_file() {
        let file = r#"
            env = "development"
            [http]
            port = 9090
            host = "127.0.0.1"
            cors_origins = ["https://a.example", "https://b.example"]
            [auth]
            jwt_issuer = "from-the-file"
            [commerce]
            currencies = ["EUR", "INR"]
            seller_address = ["1 Main St", "Pune"]
        "#;

        let s = with_file(file, &[("PORT", "7070")]).expect("valid");

        assert_eq!(s.http.port, 7070, "the environment wins over the file");
        assert_eq!(s.http.host, "127.0.0.1", "the file wins over the default");
        assert_eq!(s.auth.jwt_issuer, "from-the-file");
        assert_eq!(
            s.auth.jwt_audience, "customer-nexus-hub-api",
            "default kept"
        );
        assert_eq!(s.http.cors_origins.len(), 2);
        assert_eq!(s.commerce.currencies[0].to_string(), "EUR");
        assert_eq!(s.commerce.seller_address, ["1 Main St", "Pune"]);
    }

    #[test]
    fn nexus_config_names_the_file_and_an_explicit_path_wins_over_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let named = dir.path().join("named.toml");
        let explicit = dir.path().join("explicit.toml");
        std::fs::write(&named, "[http]\nport = 1111\n").expect("write");
        std::fs::write(&explicit, "[http]\nport = 2222\n").expect("write");
        let env = vars(&[(CONFIG_FILE_VAR, named.to_str().expect("utf-8 path"))]);

        let by_variable = Settings::from_map(&env).expect("valid");
        let by_flag = Settings::from_sources(Some(&explicit), &env).expect("valid");

        assert_eq!(by_variable.http.port, 1111);
        assert_eq!(by_flag.http.port, 2222);
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let file = r#"
            [http]
            port = "eighty"
            prot = 1
            [worker]
            batch = 0
        "#;

        let errors = with_file(
            file,
            &[
                ("BCRYPT_COST", "3"),
                ("HSTS_MAX_AGE", "a year"),
                ("STORE_CURRENCIES", "INR,rupees"),
                ("TRUSTED_PROXIES", "10.0.0.0/99"),
                ("INVOICE_TAX_LABEL", "GST"),
                ("APP_ENV", "staging"),
            ],
        )
        .expect_err("invalid");

        let found = keys(&errors);
        for key in [
            "PORT",
            "NEXUS_CONFIG",
            "JOB_BATCH",
            "BCRYPT_COST",
            "HSTS_MAX_AGE",
            "STORE_CURRENCIES",
            "TRUSTED_PROXIES",
            "INVOICE_TAX_LABEL",
            "APP_ENV",
        ] {
            assert!(found.contains(&key), "{key} missing from {errors}");
        }
        let text = errors.to_string();
        assert!(text.contains("http.port in config file"), "{text}");
        assert!(text.contains("unknown key `http.prot`"), "{text}");
    }

    #[test]
    fn a_bad_value_in_the_environment_does_not_hide_one_in_the_file() {
        let errors = with_file("[http]\nport = \"x\"\n", &[("PORT", "y")]).expect_err("invalid");

        assert_eq!(keys(&errors), ["PORT", "PORT"], "{errors}");
    }

    #[test]
    fn a_missing_or_malformed_config_file_is_a_problem() {
        let missing =
            Settings::from_sources(Some(Path::new("/nonexistent/nexus.toml")), &vars(&[]))
                .expect_err("missing file");
        let malformed = with_file("[auth]\njwt_secret = \"s3cr3t-value-never-shown", &[])
            .expect_err("bad TOML");

        assert_eq!(keys(&missing), ["NEXUS_CONFIG"]);
        assert_eq!(keys(&malformed), ["NEXUS_CONFIG"]);
        assert!(!malformed.to_string().contains("s3cr3t"), "{malformed}");
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_reported_without_its_value() {
        let errors =
            with_file("[auth]\njwt_secret = 123456789012345\n", &[]).expect_err("a number");

        assert_eq!(keys(&errors), ["JWT_SECRET"]);
        assert!(!errors.to_string().contains("1234567890"), "{errors}");
    }

    #[test]
    fn production_refuses_default_or_short_secret() {
        let errors = load(&[("APP_ENV", "production")]).expect_err("no secrets");
        assert_eq!(
            keys(&errors),
            ["RAZORPAY_KEY_ID", "JWT_SECRET", "LINK_SIGNING_KEY"],
            "every missing production setting at once"
        );
        let short = load(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).expect_err("short");
        assert!(short.names("JWT_SECRET"));
        let no_gateway = load(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(40)),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
        ])
        .expect_err("no payment gateway");
        assert_eq!(
            keys(&no_gateway),
            ["RAZORPAY_KEY_ID"],
            "production refuses the development gateway"
        );
        let low_cost = load(&[
            ("APP_ENV", "prod"),
            ("JWT_SECRET", &"k".repeat(40)),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "s"),
            ("RAZORPAY_WEBHOOK_SECRET", "w"),
            ("BCRYPT_COST", "8"),
        ])
        .expect_err("cheap hashes");
        assert_eq!(keys(&low_cost), ["BCRYPT_COST"]);
        let ok = load(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(40)),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "s"),
            ("RAZORPAY_WEBHOOK_SECRET", "w"),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn production_takes_its_secrets_from_the_config_file_too() {
        let file = format!(
            "env = \"production\"\n[auth]\njwt_secret = \"{}\"\n[storage]\nlink_signing_key = \"{}\"\n\
             [payments]\nkey_id = \"rzp_live_x\"\nkey_secret = \"s\"\nwebhook_secret = \"w\"\n",
            "k".repeat(40),
            "l".repeat(40)
        );

        let s = with_file(&file, &[]).expect("valid");

        assert_eq!(s.env, AppEnv::Production);
        assert_eq!(
            s.auth.jwt_secret.as_ref().map(Secret::expose),
            Some("k".repeat(40).as_str())
        );
    }

    #[test]
    fn the_published_development_secret_is_refused_in_every_environment() {
        for env in ["development", "production"] {
            let errors =
                load(&[("APP_ENV", env), ("JWT_SECRET", DEV_JWT_SECRET)]).expect_err("published");
            assert!(errors.names("JWT_SECRET"), "{env}");
        }
        let unset = load(&[]).expect("development may leave it unset");
        assert!(unset.auth.jwt_secret.is_none());
        assert!(unset.storage.link_signing_key.is_none());
    }

    #[test]
    fn the_link_key_must_differ_from_the_token_key() {
        let same = "s".repeat(40);

        let errors =
            load(&[("JWT_SECRET", &same), ("LINK_SIGNING_KEY", &same)]).expect_err("reused");

        assert_eq!(keys(&errors), ["LINK_SIGNING_KEY"]);
    }

    #[test]
    fn trusted_proxies_come_from_the_list_or_loopback_with_trust_proxy() {
        let none = load(&[]).expect("valid");
        let loopback = load(&[("TRUST_PROXY", "true")]).expect("valid");
        let listed = load(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).expect("valid");
        let bad_list = load(&[("TRUSTED_PROXIES", "10.0.0.0/99")]);

        assert!(none.limits.proxies.is_empty());
        assert_eq!(
            loopback.limits.proxies,
            crate::proxy::TrustedProxies::loopback()
        );
        assert!(
            listed
                .limits
                .proxies
                .trusts("10.1.2.3".parse().expect("ip"))
        );
        assert!(
            !listed
                .limits
                .proxies
                .trusts("127.0.0.1".parse().expect("ip"))
        );
        assert_eq!(keys(&bad_list.expect_err("bad CIDR")), ["TRUSTED_PROXIES"]);
    }

    #[test]
    fn looser_ceilings_may_not_be_tighter_than_the_per_client_limits() {
        let errors = load(&[
            ("OTP_RATE_LIMIT", "10"),
            ("OTP_ADDRESS_RATE_LIMIT", "5"),
            ("LOGIN_MAX_FAILURES", "10"),
            ("LOGIN_ACCOUNT_MAX_FAILURES", "5"),
        ])
        .expect_err("ceilings below the per-client limits");

        assert_eq!(
            keys(&errors),
            ["OTP_ADDRESS_RATE_LIMIT", "LOGIN_ACCOUNT_MAX_FAILURES"]
        );
    }

    #[test]
    fn each_named_limit_inherits_its_family_unless_its_own_variables_are_set() {
        let s = load(&[
            ("AUTH_RATE_LIMIT", "30"),
            ("AUTH_RATE_WINDOW_SECS", "90"),
            ("LOGIN_RATE_LIMIT", "7"),
            ("OTP_CHECK_RATE_WINDOW_SECS", "120"),
            ("CHECKOUT_RATE_LIMIT", "3"),
            ("EXPORT_RATE_WINDOW_SECS", "60"),
        ])
        .expect("valid")
        .limits;
        let rule = |name| {
            let r = s.rule(name);
            (r.limit, r.window_secs)
        };

        assert_eq!(rule(RateLimitName::Login), (7, 90));
        assert_eq!(rule(RateLimitName::Register), (30, 90));
        assert_eq!(rule(RateLimitName::Refresh), (30, 90));
        assert_eq!(rule(RateLimitName::OtpCheck), (5, 120));
        assert_eq!(rule(RateLimitName::OtpRequest), (5, 900));
        assert_eq!(rule(RateLimitName::OtpCheckAddress), (20, 900));
        assert_eq!(rule(RateLimitName::Enquiry), (5, 600));
        assert_eq!(rule(RateLimitName::Checkout), (3, 600));
        assert_eq!(rule(RateLimitName::Export), (5, 60));
        let defaults = load(&[]).expect("defaults").limits;
        assert_eq!(
            defaults.rule(RateLimitName::Checkout),
            RateRule {
                limit: 10,
                window_secs: 600
            }
        );
        let names: Vec<&str> = RateLimitName::ALL.iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names.len(),
            names.iter().collect::<std::collections::HashSet<_>>().len(),
            "names are unique"
        );
    }

    #[test]
    fn a_named_limit_of_zero_is_refused_and_a_blank_redis_prefix_keeps_the_default() {
        for key in [
            "LOGIN_RATE_LIMIT",
            "OTP_REQUEST_RATE_WINDOW_SECS",
            "CHECKOUT_RATE_LIMIT",
            "CHECKOUT_RATE_WINDOW_SECS",
            "EXPORT_RATE_LIMIT",
        ] {
            let errors = load(&[(key, "0")]).expect_err(key);
            assert_eq!(keys(&errors), [key]);
        }
        let errors = load(&[("REDIS_KEY_PREFIX", " ")]);
        // A blank variable counts as unset, so the default prefix stays.
        assert!(errors.is_ok_and(|s| s.commerce.redis_key_prefix == "nexus"));
    }

    #[test]
    fn the_sitemap_takes_1_to_50000_urls_a_file_and_robots_take_paths() {
        let defaults = load(&[]).expect("defaults load");
        assert_eq!(defaults.site.sitemap_max_urls, 50_000);
        assert_eq!(defaults.site.robots_disallow[0], "/api/");
        let refused = |vars: &[(&str, &str)]| keys(&load(vars).expect_err("refused"));
        assert_eq!(refused(&[("SITEMAP_MAX_URLS", "0")]), ["SITEMAP_MAX_URLS"]);
        assert_eq!(
            refused(&[("SITEMAP_MAX_URLS", "50001")]),
            ["SITEMAP_MAX_URLS"]
        );
        assert_eq!(
            refused(&[("ROBOTS_DISALLOW", "/ok,no-slash")]),
            ["ROBOTS_DISALLOW"]
        );
        let staging = load(&[("ROBOTS_DISALLOW", "/")]).expect("loads");
        assert_eq!(staging.site.robots_disallow, ["/"]);
    }

    #[test]
    fn the_site_identity_has_a_default_name_and_takes_only_absolute_http_urls() {
        let defaults = load(&[]).expect("defaults load");
        assert_eq!(defaults.site.name, "Customer Nexus Hub");
        assert_eq!(defaults.site.logo_url, None);
        assert!(defaults.site.same_as.is_empty());
        let set = load(&[
            ("SITE_NAME", "Acme Guides"),
            ("SITE_LOGO_URL", "https://cdn.example/logo.png"),
            (
                "SITE_SAME_AS",
                "https://x.example/acme, ,http://social.example/acme",
            ),
        ])
        .expect("loads");
        assert_eq!(set.site.name, "Acme Guides");
        assert_eq!(
            set.site.logo_url.as_deref(),
            Some("https://cdn.example/logo.png")
        );
        assert_eq!(
            set.site.same_as,
            ["https://x.example/acme", "http://social.example/acme"]
        );
        let refused = |vars: &[(&str, &str)]| keys(&load(vars).expect_err("refused"));
        assert_eq!(
            refused(&[("SITE_LOGO_URL", "/logo.png")]),
            ["SITE_LOGO_URL"]
        );
        assert_eq!(
            refused(&[("SITE_LOGO_URL", "ftp://cdn.example/logo.png")]),
            ["SITE_LOGO_URL"]
        );
        assert_eq!(
            refused(&[("SITE_SAME_AS", "https://x.example/a,https://")]),
            ["SITE_SAME_AS"]
        );
        assert_eq!(
            refused(&[("SITE_SAME_AS", "https://x.example/a b")]),
            ["SITE_SAME_AS"]
        );
        assert_eq!(refused(&[("SITE_NAME", &"n".repeat(101))]), ["SITE_NAME"]);
    }

    #[test]
    fn the_cache_ttl_defaults_to_five_minutes_may_be_zero_and_is_capped_at_a_day() {
        assert!(load(&[]).is_ok_and(|s| s.commerce.cache_ttl_secs == 300));
        assert!(load(&[("CACHE_TTL_SECS", "0")]).is_ok_and(|s| s.commerce.cache_ttl_secs == 0));
        let errors = load(&[("CACHE_TTL_SECS", "86401")]).expect_err("over a day");
        assert_eq!(keys(&errors), ["CACHE_TTL_SECS"]);
    }

    #[test]
    fn the_payment_reconciliation_runs_before_the_expiry_or_the_settings_are_refused() {
        let defaults = load(&[]).expect("defaults are valid");
        let tiny = load(&[
            ("PAYMENT_RECONCILE_AFTER_SECS", "1"),
            ("ORDER_EXPIRY_MINUTES", "1"),
        ])
        .expect("one second before one minute");

        assert_eq!(defaults.commerce.payment_reconcile_after_secs, 900);
        assert!(
            defaults.commerce.payment_reconcile_after_secs
                < defaults.commerce.order_expiry_minutes * 60
        );
        assert_eq!(tiny.commerce.payment_reconcile_after_secs, 1);
        for (after, expiry) in [("0", "60"), ("3600", "60"), ("4000", "60"), ("60", "1")] {
            let errors = load(&[
                ("PAYMENT_RECONCILE_AFTER_SECS", after),
                ("ORDER_EXPIRY_MINUTES", expiry),
            ])
            .expect_err(after);
            assert_eq!(
                keys(&errors),
                ["PAYMENT_RECONCILE_AFTER_SECS"],
                "{after} {expiry}"
            );
        }
        let errors = load(&[
            ("PAYMENT_RECONCILE_AFTER_SECS", "1200"),
            ("ORDER_EXPIRY_MINUTES", "15"),
        ])
        .expect_err("after the expiry");
        assert!(
            errors
                .to_string()
                .contains("shorter than ORDER_EXPIRY_MINUTES"),
            "{errors}"
        );
    }

    #[test]
    fn approval_deadlines_default_to_a_day_can_be_off_and_refuse_a_late_warning() {
        let defaults = load(&[]).expect("defaults are valid");
        let policy = defaults
            .approvals
            .policy()
            .expect("valid")
            .expect("on by default");
        assert_eq!(policy.limit(), chrono::Duration::hours(24));
        assert_eq!(policy.warn_before(), chrono::Duration::hours(4));
        assert!(policy.hours().is_none());
        let off = load(&[("APPROVAL_DEADLINE_MINUTES", "0")]).expect("off is valid");
        assert!(off.approvals.policy().expect("valid").is_none());
        let office = load(&[
            ("APPROVAL_DEADLINE_MINUTES", "480"),
            ("APPROVAL_WARN_BEFORE_MINUTES", "60"),
            ("APPROVAL_BUSINESS_HOURS", "Mon-Fri 09:00-17:00 +05:30"),
        ])
        .expect("office hours are valid");
        let hours = office.approvals.policy().expect("valid").expect("on");
        assert_eq!(
            hours.hours().map(ToString::to_string).as_deref(),
            Some("mon,tue,wed,thu,fri 09:00-17:00 +05:30")
        );
        for (vars, key) in [
            (
                vec![("APPROVAL_DEADLINE_MINUTES", "-1")],
                "APPROVAL_DEADLINE_MINUTES",
            ),
            (
                vec![("APPROVAL_DEADLINE_MINUTES", "43201")],
                "APPROVAL_DEADLINE_MINUTES",
            ),
            (
                vec![
                    ("APPROVAL_DEADLINE_MINUTES", "60"),
                    ("APPROVAL_WARN_BEFORE_MINUTES", "60"),
                ],
                "APPROVAL_WARN_BEFORE_MINUTES",
            ),
            (
                vec![("APPROVAL_WARN_BEFORE_MINUTES", "-5")],
                "APPROVAL_WARN_BEFORE_MINUTES",
            ),
            (
                vec![("APPROVAL_BUSINESS_HOURS", "weekdays 9 to 5")],
                "APPROVAL_BUSINESS_HOURS",
            ),
        ] {
            let errors = load(&vars).expect_err(key);
            assert_eq!(keys(&errors), [key], "{vars:?}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("BCRYPT_COST", "3"),
            ("MIGRATE_ON_START", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("JOB_LEASE_SECS", "0"),
            ("MAX_PRICE_MINOR", "0"),
            ("INVOICE_TAX_RATE_BP", "18%"),
            ("SHUTDOWN_GRACE_SECS", "0"),
            ("SHUTDOWN_GRACE_SECS", "soon"),
        ];
        for (key, value) in cases {
            let errors = load(&[(key, value)]).expect_err(key);
            assert!(errors.names(key), "{key}={value}: {errors}");
        }
    }

    #[test]
    fn the_database_acquire_timeout_defaults_to_5_s_and_must_be_positive() {
        let s = load(&[]).expect("defaults are valid");
        assert_eq!(s.database.acquire_timeout_secs, 5);
        let s = load(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "2")]).expect("2 s");
        assert_eq!(s.database.acquire_timeout_secs, 2);
        let errors = load(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "0")]).expect_err("zero");
        assert_eq!(keys(&errors), ["DATABASE_ACQUIRE_TIMEOUT_SECS"]);
    }

    #[test]
    fn the_shutdown_grace_period_defaults_to_30_s_and_is_read_from_the_environment() {
        assert_eq!(load(&[]).expect("defaults").shutdown_grace_secs, 30);
        let s = load(&[("SHUTDOWN_GRACE_SECS", "5")]).expect("5 s");
        assert_eq!(s.shutdown_grace_secs, 5);
        assert!(s.to_toml().contains("shutdown_grace_secs = 5"));
    }

    #[test]
    fn metrics_are_closed_by_default_and_their_settings_are_checked() {
        let s = load(&[]).expect("defaults are valid");
        assert!(s.http.metrics_token.is_none());
        assert!(s.http.metrics_addr.is_none());

        let s = load(&[
            ("METRICS_TOKEN", "a-scrape-token-of-some-length"),
            ("METRICS_ADDR", "127.0.0.1:9464"),
        ])
        .expect("valid");
        assert_eq!(
            s.http.metrics_token.as_ref().map(Secret::expose),
            Some("a-scrape-token-of-some-length")
        );
        assert_eq!(s.http.metrics_addr.as_deref(), Some("127.0.0.1:9464"));

        let errors = load(&[("METRICS_TOKEN", "short"), ("METRICS_ADDR", "localhost")])
            .expect_err("both refused");
        assert_eq!(keys(&errors), ["METRICS_ADDR", "METRICS_TOKEN"]);
        assert!(!errors.to_string().contains("short"), "{errors}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = load(&[
            ("JWT_SECRET", "super-secret-value-123456789012345"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
        ])
        .expect("valid");
        let dump = format!("{s:?}");
        assert!(!dump.contains("super-secret"));
        assert!(!dump.contains("pw@h"));
    }

    #[test]
    fn the_printed_configuration_redacts_secrets_and_reads_back_as_a_config_file() {
        let s = load(&[
            ("JWT_SECRET", "super-secret-value-123456789012345"),
            ("DATABASE_URL", "postgres://nexus:hunter2@db/nexus"),
            ("SMTP_URL", "smtps://mailer:mail-pass@smtp.example:465"),
            ("MEILI_API_KEY", "meili-master-key"),
            ("METRICS_TOKEN", "scrape-token-0123456789"),
            ("MAIL_FOOTER", "Quote \" and backslash \\ and\ttab"),
            ("PORT", "9191"),
        ])
        .expect("valid");

        let printed = s.to_toml();

        for secret in [
            "super-secret",
            "hunter2",
            "mail-pass",
            "meili-master-key",
            "scrape-token",
        ] {
            assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        }
        assert!(printed.contains("url = \"postgres://nexus:[redacted]@db/nexus\""));
        assert!(printed.contains("jwt_secret = \"[redacted]\""));
        assert!(printed.contains("# s3_bucket (unset)"));
        let path = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(path.path(), &printed).expect("write");
        let again = Settings::from_sources(Some(path.path()), &HashMap::new())
            .expect_err("a redacted secret is too short to use");
        assert_eq!(keys(&again), ["JWT_SECRET", "METRICS_TOKEN"], "{again}");
        let reread = Settings::from_sources(
            Some(path.path()),
            &vars(&[
                ("JWT_SECRET", "super-secret-value-123456789012345"),
                ("METRICS_TOKEN", "scrape-token-0123456789"),
            ]),
        )
        .expect("the printed file reads back");
        assert_eq!(reread.http.port, 9191);
        assert_eq!(reread.mail.footer, s.mail.footer);
    }

    #[test]
    fn every_key_is_documented_in_the_readme_and_every_documented_key_exists() {
        let readme = include_str!("../../../README.md");
        let table = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has a Configuration section");
        let documented: Vec<&str> = table
            .lines()
            .filter(|l| l.starts_with("| `"))
            .flat_map(|l| l.split('|').nth(1).unwrap_or_default().split('`'))
            .map(str::trim)
            .filter(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            })
            .collect();

        for key in KEYS {
            assert!(
                documented.contains(&key.env),
                "{} is not in the README",
                key.env
            );
        }
        for name in documented {
            let known =
                KEYS.iter().any(|k| k.env == name) || ["RUST_LOG", CONFIG_FILE_VAR].contains(&name);
            assert!(known, "the README documents {name}, which nothing reads");
        }
    }
}
