//! The one typed configuration tree, read from the environment (and an optional `.env`).
//!
//! Every key has a default that runs the whole service with zero setup: SQLite under
//! `./data`, pretty logs, port 8080. Only this module reads the environment.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// A secret value whose `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Development or production. Production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development and tests (the default).
    Development,
    /// A real deployment.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (default).
    Pretty,
    /// One JSON object per line.
    Json,
}

/// HTTP listener and platform settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Interface to bind (`HOST`, default `0.0.0.0`).
    pub host: String,
    /// Port to bind (`PORT`, default 8080; 0 picks a free one).
    pub port: u16,
    /// Allowed CORS origins (`CORS_ORIGINS`, comma-separated; `*` for any; default none).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes (`BODY_LIMIT_BYTES`, default 1 MiB).
    pub body_limit_bytes: usize,
    /// `Strict-Transport-Security` max-age in seconds (`HSTS_MAX_AGE`, default unset: no header).
    pub hsts_max_age: Option<u64>,
    /// Worker threads (`HTTP_WORKERS`, default: number of cores).
    pub workers: Option<usize>,
}

/// Database settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`, default `sqlite://<DATA_DIR>/nexus.db?mode=rwc`.
    pub url: Secret,
    /// `DATABASE_MAX_CONNECTIONS`, default 10.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECS`, default 5: how long a request waits for a connection
    /// before it is answered 503 (an outage, or every connection busy).
    pub acquire_timeout_secs: u64,
    /// Run migrations at start (`MIGRATE_ON_START`, default true).
    pub migrate_on_start: bool,
}

/// Token and password settings.
#[derive(Debug, Clone)]
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
    /// `BCRYPT_COST`, default 12 (4 to 31).
    pub bcrypt_cost: u32,
    /// `NEXUS_ADMIN_EMAIL`: administrator created on first start when there is no user.
    pub admin_email: Option<String>,
    /// `NEXUS_ADMIN_PASSWORD`: its password (generated and printed once when unset).
    pub admin_password: Option<Secret>,
}

/// E-mail settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL`: `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS; also Amazon SES). Unset: `.eml` files
    /// in `OUTBOX_DIR`.
    pub smtp_url: Option<Secret>,
    /// `MAIL_FROM`, default `no-reply@nexus.local`.
    pub from_address: String,
    /// `MAIL_FROM_NAME`, default `Customer Nexus Hub`.
    pub from_name: String,
    /// `MAIL_FOOTER`, default a one-line signature.
    pub footer: String,
    /// `OUTBOX_DIR`, default `<DATA_DIR>/outbox`.
    pub outbox_dir: PathBuf,
    /// `PUBLIC_BASE_URL`, used in links, default `http://localhost:8080`.
    pub public_base_url: String,
    /// `SMTP_TIMEOUT_SECS`, default 10.
    pub timeout_secs: u64,
}

/// Background job settings.
#[derive(Debug, Clone)]
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
}

/// Abuse limits.
#[derive(Debug, Clone)]
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
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed: `TRUSTED_PROXIES`
    /// (addresses and CIDR networks, comma-separated), or loopback only with `TRUST_PROXY=true`
    /// and no list; none by default.
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
}

/// Files (product assets, invoices).
#[derive(Debug, Clone)]
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
    /// `ASSET_CONTENT_TYPES`: comma-separated allowed MIME types.
    pub asset_content_types: Vec<String>,
    /// `UPLOAD_DIR`: where uploaded files are staged while they arrive (default
    /// `<DATA_DIR>/uploads`; on the file system of `FILES_DIR`, a stored file is a rename).
    pub upload_dir: PathBuf,
    /// `UPLOAD_CONCURRENCY`: product files received at once (default 4); more get 503.
    pub upload_concurrency: usize,
}

/// Payments.
#[derive(Debug, Clone)]
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

/// Commerce settings: cart storage and the seller printed on invoices.
#[derive(Debug, Clone)]
pub struct CommerceSettings {
    /// `REDIS_URL`: carts in Redis with a time-to-live; unset: carts in the database.
    pub redis_url: Option<Secret>,
    /// `CART_TTL_SECS` (default 30 days).
    pub cart_ttl_secs: u64,
    /// `SELLER_NAME` (default `Customer Nexus Hub`).
    pub seller_name: String,
    /// `SELLER_ADDRESS`: address lines separated by `|`.
    pub seller_address: Vec<String>,
    /// `SELLER_TAX_ID` (GSTIN), optional.
    pub seller_tax_id: Option<String>,
    /// `SELLER_EMAIL` (default `billing@nexus.local`).
    pub seller_email: String,
    /// `MEILI_URL`: search the catalog with Meilisearch instead of the database.
    pub meili_url: Option<String>,
    /// `MEILI_API_KEY`.
    pub meili_api_key: Option<Secret>,
    /// `MEILI_INDEX` (default `products`).
    pub meili_index: String,
    /// `ORDER_EXPIRY_MINUTES`: unpaid orders older than this become EXPIRED (default 60).
    pub order_expiry_minutes: i64,
    /// `STORE_CURRENCIES`: comma-separated ISO 4217 codes products may be priced in; the
    /// first is the store currency (default `INR`).
    pub currencies: Vec<nexus_kernel::Currency>,
    /// `MAX_PRICE_MINOR`: highest product price in minor units (default 10,000,000,000).
    pub max_price_minor: i64,
    /// `ORDER_PENDING_LIMIT`: unpaid orders a buyer may have at once (default 5).
    pub order_pending_limit: u32,
    /// `INVOICE_TAX_LABEL` and `INVOICE_TAX_RATE_BP` (basis points, e.g. 1800 = 18%):
    /// a tax included in prices, shown on invoices. Unset: no tax line.
    pub invoice_tax: Option<(String, u32)>,
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ENV`: `development` (default) or `production`.
    pub env: AppEnv,
    /// `DATA_DIR`: where embedded data lives (default `./data`).
    pub data_dir: PathBuf,
    /// `LOG_FORMAT`: `pretty` (default) or `json`; levels from `RUST_LOG` (default `info`).
    pub log_format: LogFormat,
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
    /// Cart and invoices.
    pub commerce: CommerceSettings,
}

/// The signing key earlier versions used when `JWT_SECRET` was unset. It is published, so
/// it is refused everywhere: anyone could sign tokens with it.
pub const DEV_JWT_SECRET: &str = "development-only-secret-change-me-in-production!!";

/// Shortest signing key accepted in production, in bytes.
pub const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {key}: {reason}")]
pub struct SettingsError {
    /// The environment key.
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(key: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        key,
        reason: reason.into(),
    }
}

impl Settings {
    /// Reads settings from the process environment, after loading `.env` if present.
    ///
    /// # Errors
    /// `SettingsError` naming the first unusable key.
    pub fn from_env() -> Result<Self, SettingsError> {
        // A missing .env file is normal; a malformed one is reported by the parse below.
        let _ = dotenvy::dotenv();
        Self::from_map(&std::env::vars().collect())
    }

    /// Reads settings from a map of keys to values (the environment, or a test's).
    ///
    /// # Errors
    /// `SettingsError` naming the first unusable key.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let env = match get("APP_ENV").map(str::to_ascii_lowercase).as_deref() {
            None | Some("development" | "dev" | "test") => AppEnv::Development,
            Some("production" | "prod") => AppEnv::Production,
            Some(other) => return Err(bad("APP_ENV", format!("unknown environment '{other}'"))),
        };
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or("./data"));
        let log_format = match get("LOG_FORMAT").map(str::to_ascii_lowercase).as_deref() {
            None | Some("pretty" | "text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("expected pretty or json, got '{other}'"),
                ));
            }
        };
        let http = HttpSettings {
            host: get("HOST").unwrap_or("0.0.0.0").to_owned(),
            port: parse(get("PORT"), "PORT", 8080)?,
            cors_origins: get("CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            body_limit_bytes: parse(get("BODY_LIMIT_BYTES"), "BODY_LIMIT_BYTES", 1024 * 1024)?,
            hsts_max_age: get("HSTS_MAX_AGE")
                .map(|v| {
                    v.parse()
                        .map_err(|_| bad("HSTS_MAX_AGE", "expected seconds"))
                })
                .transpose()?,
            workers: get("HTTP_WORKERS")
                .map(|v| {
                    v.parse()
                        .map_err(|_| bad("HTTP_WORKERS", "expected a number"))
                })
                .transpose()?,
        };
        let default_db = format!("sqlite://{}/nexus.db?mode=rwc", data_dir.display());
        let database = DatabaseSettings {
            url: Secret::new(get("DATABASE_URL").map_or(default_db, str::to_owned)),
            max_connections: parse(
                get("DATABASE_MAX_CONNECTIONS"),
                "DATABASE_MAX_CONNECTIONS",
                10,
            )?,
            acquire_timeout_secs: parse(
                get("DATABASE_ACQUIRE_TIMEOUT_SECS"),
                "DATABASE_ACQUIRE_TIMEOUT_SECS",
                5,
            )?,
            migrate_on_start: parse_bool(get("MIGRATE_ON_START"), "MIGRATE_ON_START", true)?,
        };
        let auth = AuthSettings {
            jwt_secret: get("JWT_SECRET").map(Secret::new),
            jwt_issuer: get("JWT_ISSUER").unwrap_or("customer-nexus-hub").to_owned(),
            jwt_audience: get("JWT_AUDIENCE")
                .unwrap_or("customer-nexus-hub-api")
                .to_owned(),
            access_token_ttl_secs: parse(
                get("ACCESS_TOKEN_TTL_SECS"),
                "ACCESS_TOKEN_TTL_SECS",
                900,
            )?,
            refresh_token_ttl_secs: parse(
                get("REFRESH_TOKEN_TTL_SECS"),
                "REFRESH_TOKEN_TTL_SECS",
                30 * 24 * 3600,
            )?,
            bcrypt_cost: parse(get("BCRYPT_COST"), "BCRYPT_COST", 12)?,
            admin_email: get("NEXUS_ADMIN_EMAIL").map(str::to_owned),
            admin_password: get("NEXUS_ADMIN_PASSWORD").map(Secret::new),
        };
        let mail = MailSettings {
            smtp_url: get("SMTP_URL").map(Secret::new),
            from_address: get("MAIL_FROM").unwrap_or("no-reply@nexus.local").to_owned(),
            from_name: get("MAIL_FROM_NAME").unwrap_or("Customer Nexus Hub").to_owned(),
            footer: get("MAIL_FOOTER").unwrap_or("Customer Nexus Hub. You receive this e-mail because you contacted us or have an account with us.").to_owned(),
            outbox_dir: get("OUTBOX_DIR").map_or_else(|| data_dir.join("outbox"), PathBuf::from),
            public_base_url: get("PUBLIC_BASE_URL").unwrap_or("http://localhost:8080").trim_end_matches('/').to_owned(),
            timeout_secs: parse(get("SMTP_TIMEOUT_SECS"), "SMTP_TIMEOUT_SECS", 10)?,
        };
        let worker = WorkerSettings {
            in_serve: parse_bool(get("WORKER_IN_SERVE"), "WORKER_IN_SERVE", true)?,
            poll_ms: parse(get("WORKER_POLL_MS"), "WORKER_POLL_MS", 500)?,
            lease_secs: parse(get("JOB_LEASE_SECS"), "JOB_LEASE_SECS", 60)?,
            batch: parse(get("JOB_BATCH"), "JOB_BATCH", 10)?,
            max_attempts: parse(get("JOB_MAX_ATTEMPTS"), "JOB_MAX_ATTEMPTS", 8)?,
            backoff_base_secs: parse(get("JOB_BACKOFF_BASE_SECS"), "JOB_BACKOFF_BASE_SECS", 5)?,
            backoff_max_secs: parse(get("JOB_BACKOFF_MAX_SECS"), "JOB_BACKOFF_MAX_SECS", 3600)?,
        };
        let limits = LimitSettings {
            enquiries: parse(get("ENQUIRY_RATE_LIMIT"), "ENQUIRY_RATE_LIMIT", 5)?,
            enquiry_window_secs: parse(
                get("ENQUIRY_RATE_WINDOW_SECS"),
                "ENQUIRY_RATE_WINDOW_SECS",
                600,
            )?,
            otp: parse(get("OTP_RATE_LIMIT"), "OTP_RATE_LIMIT", 5)?,
            otp_window_secs: parse(get("OTP_RATE_WINDOW_SECS"), "OTP_RATE_WINDOW_SECS", 900)?,
            otp_per_address: parse(get("OTP_ADDRESS_RATE_LIMIT"), "OTP_ADDRESS_RATE_LIMIT", 20)?,
            proxies: match get("TRUSTED_PROXIES") {
                Some(list) => crate::proxy::TrustedProxies::parse_list(list)
                    .map_err(|reason| bad("TRUSTED_PROXIES", reason))?,
                None if parse_bool(get("TRUST_PROXY"), "TRUST_PROXY", false)? => {
                    crate::proxy::TrustedProxies::loopback()
                }
                None => crate::proxy::TrustedProxies::none(),
            },
            auth: parse(get("AUTH_RATE_LIMIT"), "AUTH_RATE_LIMIT", 100)?,
            auth_window_secs: parse(get("AUTH_RATE_WINDOW_SECS"), "AUTH_RATE_WINDOW_SECS", 60)?,
            login_max_failures: parse(get("LOGIN_MAX_FAILURES"), "LOGIN_MAX_FAILURES", 5)?,
            login_account_max_failures: parse(
                get("LOGIN_ACCOUNT_MAX_FAILURES"),
                "LOGIN_ACCOUNT_MAX_FAILURES",
                50,
            )?,
            login_lock_secs: parse(get("LOGIN_LOCK_SECS"), "LOGIN_LOCK_SECS", 60)?,
            login_lock_max_secs: parse(get("LOGIN_LOCK_MAX_SECS"), "LOGIN_LOCK_MAX_SECS", 900)?,
            password_hash_concurrency: parse(
                get("PASSWORD_HASH_CONCURRENCY"),
                "PASSWORD_HASH_CONCURRENCY",
                std::thread::available_parallelism()
                    .map_or(4, |n| n.get().saturating_mul(2))
                    .max(4),
            )?,
        };
        let storage = StorageSettings {
            files_dir: get("FILES_DIR").map_or_else(|| data_dir.join("files"), PathBuf::from),
            s3_bucket: get("S3_BUCKET").map(str::to_owned),
            s3_endpoint: get("S3_ENDPOINT").map(str::to_owned),
            s3_public_endpoint: get("S3_PUBLIC_ENDPOINT").map(str::to_owned),
            s3_region: get("S3_REGION").unwrap_or("us-east-1").to_owned(),
            s3_access_key_id: get("S3_ACCESS_KEY_ID").map(str::to_owned),
            s3_secret_access_key: get("S3_SECRET_ACCESS_KEY").map(Secret::new),
            s3_allow_http: parse_bool(get("S3_ALLOW_HTTP"), "S3_ALLOW_HTTP", false)?,
            link_signing_key: get("LINK_SIGNING_KEY").map(Secret::new),
            link_ttl_secs: parse(get("LINK_TTL_SECS"), "LINK_TTL_SECS", 300)?,
            asset_max_bytes: parse(get("ASSET_MAX_BYTES"), "ASSET_MAX_BYTES", 100 * 1024 * 1024)?,
            asset_content_types: get("ASSET_CONTENT_TYPES").map_or_else(
                || {
                    [
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
                    .to_vec()
                },
                |v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                },
            ),
            upload_dir: get("UPLOAD_DIR").map_or_else(|| data_dir.join("uploads"), PathBuf::from),
            upload_concurrency: parse(get("UPLOAD_CONCURRENCY"), "UPLOAD_CONCURRENCY", 4)?,
        };
        let payments = PaymentSettings {
            key_id: get("RAZORPAY_KEY_ID").map(str::to_owned),
            key_secret: get("RAZORPAY_KEY_SECRET").map(Secret::new),
            webhook_secret: get("RAZORPAY_WEBHOOK_SECRET").map(Secret::new),
            api_base: get("RAZORPAY_API_BASE")
                .unwrap_or("https://api.razorpay.com")
                .to_owned(),
            timeout_secs: parse(get("RAZORPAY_TIMEOUT_SECS"), "RAZORPAY_TIMEOUT_SECS", 10)?,
        };
        let invoice_tax = match (get("INVOICE_TAX_LABEL"), get("INVOICE_TAX_RATE_BP")) {
            (Some(label), Some(rate)) => Some((
                label.to_owned(),
                rate.parse()
                    .map_err(|_| bad("INVOICE_TAX_RATE_BP", "expected basis points, e.g. 1800"))?,
            )),
            (None, None) => None,
            _ => {
                return Err(bad(
                    "INVOICE_TAX_LABEL",
                    "set both INVOICE_TAX_LABEL and INVOICE_TAX_RATE_BP, or neither",
                ));
            }
        };
        let currencies = get("STORE_CURRENCIES")
            .unwrap_or("INR")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(nexus_kernel::Currency::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                bad(
                    "STORE_CURRENCIES",
                    "expected ISO 4217 codes such as INR,USD",
                )
            })?;
        if currencies.is_empty() {
            return Err(bad("STORE_CURRENCIES", "name at least one currency"));
        }
        let max_price_minor: i64 = parse(
            get("MAX_PRICE_MINOR"),
            "MAX_PRICE_MINOR",
            nexus_catalog::CatalogConfig::DEFAULT_MAX_PRICE_MINOR,
        )?;
        if !(1..=1_000_000_000_000_000).contains(&max_price_minor) {
            return Err(bad(
                "MAX_PRICE_MINOR",
                "expected 1 to 1000000000000000 (so that cart totals cannot overflow)",
            ));
        }
        let commerce = CommerceSettings {
            currencies,
            max_price_minor,
            redis_url: get("REDIS_URL").map(Secret::new),
            cart_ttl_secs: parse(get("CART_TTL_SECS"), "CART_TTL_SECS", 30 * 24 * 3600)?,
            seller_name: get("SELLER_NAME")
                .unwrap_or("Customer Nexus Hub")
                .to_owned(),
            seller_address: get("SELLER_ADDRESS")
                .map(|v| {
                    v.split('|')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            seller_tax_id: get("SELLER_TAX_ID").map(str::to_owned),
            seller_email: get("SELLER_EMAIL")
                .unwrap_or("billing@nexus.local")
                .to_owned(),
            meili_url: get("MEILI_URL").map(str::to_owned),
            meili_api_key: get("MEILI_API_KEY").map(Secret::new),
            meili_index: get("MEILI_INDEX").unwrap_or("products").to_owned(),
            order_expiry_minutes: parse(get("ORDER_EXPIRY_MINUTES"), "ORDER_EXPIRY_MINUTES", 60)?,
            order_pending_limit: parse(get("ORDER_PENDING_LIMIT"), "ORDER_PENDING_LIMIT", 5)?,
            invoice_tax,
        };
        let settings = Self {
            env,
            data_dir,
            log_format,
            http,
            database,
            auth,
            mail,
            worker,
            limits,
            storage,
            payments,
            commerce,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Checks cross-field rules and the production guard rails.
    ///
    /// # Errors
    /// `SettingsError` naming the offending key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            return Err(bad("BCRYPT_COST", "must be between 4 and 31"));
        }
        if self.auth.access_token_ttl_secs <= 0 || self.auth.refresh_token_ttl_secs <= 0 {
            return Err(bad(
                "ACCESS_TOKEN_TTL_SECS",
                "token lifetimes must be positive",
            ));
        }
        if self.auth.refresh_token_ttl_secs < self.auth.access_token_ttl_secs {
            return Err(bad(
                "REFRESH_TOKEN_TTL_SECS",
                "must not be shorter than ACCESS_TOKEN_TTL_SECS",
            ));
        }
        if self.worker.lease_secs < 1 || self.worker.batch == 0 || self.worker.max_attempts == 0 {
            return Err(bad(
                "JOB_LEASE_SECS",
                "job lease, batch and attempts must be at least 1",
            ));
        }
        if self.worker.backoff_base_secs < 1
            || self.worker.backoff_max_secs < self.worker.backoff_base_secs
        {
            return Err(bad(
                "JOB_BACKOFF_BASE_SECS",
                "backoff must be at least 1 second and not above JOB_BACKOFF_MAX_SECS",
            ));
        }
        let p = &self.payments;
        let keys = [
            p.key_id.is_some(),
            p.key_secret.is_some(),
            p.webhook_secret.is_some(),
        ];
        if keys.contains(&true) && keys.contains(&false) {
            return Err(bad(
                "RAZORPAY_KEY_ID",
                "set RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET together",
            ));
        }
        if self.storage.s3_bucket.is_some()
            && (self.storage.s3_access_key_id.is_none()
                || self.storage.s3_secret_access_key.is_none())
        {
            return Err(bad(
                "S3_BUCKET",
                "S3 storage needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
            ));
        }
        if self.commerce.order_expiry_minutes < 1 {
            return Err(bad("ORDER_EXPIRY_MINUTES", "must be at least 1"));
        }
        if self.payments.timeout_secs < 1 {
            return Err(bad("RAZORPAY_TIMEOUT_SECS", "must be at least 1"));
        }
        if self.commerce.order_pending_limit < 1 {
            return Err(bad("ORDER_PENDING_LIMIT", "must be at least 1"));
        }
        if self.storage.link_ttl_secs < 1 {
            return Err(bad("LINK_TTL_SECS", "must be at least 1"));
        }
        if self.storage.upload_concurrency == 0 {
            return Err(bad("UPLOAD_CONCURRENCY", "must be at least 1"));
        }
        let l = &self.limits;
        let checks: [(bool, &'static str, &str); 6] = [
            (l.auth == 0, "AUTH_RATE_LIMIT", "must be at least 1"),
            (l.otp == 0, "OTP_RATE_LIMIT", "must be at least 1"),
            (
                l.otp_per_address < l.otp,
                "OTP_ADDRESS_RATE_LIMIT",
                "must be at least OTP_RATE_LIMIT",
            ),
            (
                l.login_max_failures == 0,
                "LOGIN_MAX_FAILURES",
                "must be at least 1",
            ),
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
        ];
        if let Some((_, key, reason)) = checks.into_iter().find(|(broken, _, _)| *broken) {
            return Err(bad(key, reason));
        }
        if l.password_hash_concurrency == 0 {
            return Err(bad("PASSWORD_HASH_CONCURRENCY", "must be at least 1"));
        }
        if self.database.max_connections == 0 {
            return Err(bad("DATABASE_MAX_CONNECTIONS", "must be at least 1"));
        }
        if self.database.acquire_timeout_secs == 0 {
            return Err(bad("DATABASE_ACQUIRE_TIMEOUT_SECS", "must be at least 1"));
        }
        self.validate_secrets()?;
        if self.env == AppEnv::Production {
            if self.payments.key_id.is_none() {
                return Err(bad(
                    "RAZORPAY_KEY_ID",
                    "production refuses the development payment gateway; configure Razorpay",
                ));
            }
            if self.auth.bcrypt_cost < 10 {
                return Err(bad("BCRYPT_COST", "must be at least 10 in production"));
            }
        }
        Ok(())
    }

    /// No secret may be a published constant or short; production takes its secrets from
    /// the environment only (elsewhere a missing one is generated into the data directory).
    fn validate_secrets(&self) -> Result<(), SettingsError> {
        let production = self.env == AppEnv::Production;
        let jwt = self.auth.jwt_secret.as_ref().map(Secret::expose);
        let link = self.storage.link_signing_key.as_ref().map(Secret::expose);
        if jwt == Some(DEV_JWT_SECRET) {
            return Err(bad(
                "JWT_SECRET",
                "this value is published; set a random secret of at least 32 bytes, or unset it outside production",
            ));
        }
        for (key, value) in [("JWT_SECRET", jwt), ("LINK_SIGNING_KEY", link)] {
            if value.is_some_and(|v| v.len() < MIN_PRODUCTION_SECRET_BYTES) {
                return Err(bad(
                    key,
                    format!("must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes"),
                ));
            }
        }
        if jwt.is_some() && jwt == link {
            return Err(bad("LINK_SIGNING_KEY", "must differ from JWT_SECRET"));
        }
        if production && jwt.is_none() {
            return Err(bad(
                "JWT_SECRET",
                "production requires a random secret of at least 32 bytes from the environment",
            ));
        }
        if production && link.is_none() && self.storage.s3_bucket.is_none() {
            return Err(bad(
                "LINK_SIGNING_KEY",
                "production with local files requires a random key of at least 32 bytes from the environment",
            ));
        }
        Ok(())
    }

    /// Whether the database is the embedded SQLite file.
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database.url.expose().starts_with("sqlite:")
    }
}

fn parse<T: std::str::FromStr>(
    raw: Option<&str>,
    key: &'static str,
    default: T,
) -> Result<T, SettingsError> {
    raw.map_or(Ok(default), |v| {
        v.parse()
            .map_err(|_| bad(key, format!("cannot parse '{v}'")))
    })
}

fn parse_bool(raw: Option<&str>, key: &'static str, default: bool) -> Result<bool, SettingsError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(bad(key, format!("expected true or false, got '{other}'"))),
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

    #[test]
    fn defaults_run_everything_embedded() {
        let s = Settings::from_map(&HashMap::new()).expect("defaults are valid");
        assert_eq!(s.http.port, 8080);
        assert_eq!(s.http.host, "0.0.0.0");
        assert!(s.is_sqlite());
        assert_eq!(s.auth.bcrypt_cost, 12);
        assert_eq!(s.env, AppEnv::Development);
    }

    #[test]
    fn production_refuses_default_or_short_secret() {
        let err =
            Settings::from_map(&vars(&[("APP_ENV", "production")])).expect_err("default secret");
        assert_eq!(err.key, "JWT_SECRET");
        let err = Settings::from_map(&vars(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]))
            .expect_err("short");
        assert_eq!(err.key, "JWT_SECRET");
        let no_link_key = Settings::from_map(&vars(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(40)),
        ]))
        .expect_err("no link signing key");
        assert_eq!(no_link_key.key, "LINK_SIGNING_KEY");
        let refused = Settings::from_map(&vars(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(40)),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
        ]))
        .expect_err("no payment gateway");
        assert_eq!(
            refused.key, "RAZORPAY_KEY_ID",
            "production refuses the development gateway"
        );
        let ok = Settings::from_map(&vars(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"k".repeat(40)),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "s"),
            ("RAZORPAY_WEBHOOK_SECRET", "w"),
        ]));
        assert!(ok.is_ok());
    }

    #[test]
    fn the_published_development_secret_is_refused_in_every_environment() {
        for env in ["development", "production"] {
            let err =
                Settings::from_map(&vars(&[("APP_ENV", env), ("JWT_SECRET", DEV_JWT_SECRET)]))
                    .expect_err("published secret");
            assert_eq!(err.key, "JWT_SECRET", "{env}");
        }
        let unset = Settings::from_map(&HashMap::new()).expect("development may leave it unset");
        assert!(unset.auth.jwt_secret.is_none());
        assert!(unset.storage.link_signing_key.is_none());
    }

    #[test]
    fn trusted_proxies_come_from_the_list_or_loopback_with_trust_proxy() {
        let none = Settings::from_map(&HashMap::new()).expect("valid");
        let loopback = Settings::from_map(&vars(&[("TRUST_PROXY", "true")])).expect("valid");
        let listed =
            Settings::from_map(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1")])).expect("valid");
        let bad_list = Settings::from_map(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/99")]));

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
        assert_eq!(bad_list.expect_err("bad CIDR").key, "TRUSTED_PROXIES");
    }

    #[test]
    fn looser_ceilings_may_not_be_tighter_than_the_per_client_limits() {
        let err = Settings::from_map(&vars(&[
            ("OTP_RATE_LIMIT", "10"),
            ("OTP_ADDRESS_RATE_LIMIT", "5"),
        ]))
        .expect_err("ceiling below the per-client limit");
        assert_eq!(err.key, "OTP_ADDRESS_RATE_LIMIT");
        let err = Settings::from_map(&vars(&[
            ("LOGIN_MAX_FAILURES", "10"),
            ("LOGIN_ACCOUNT_MAX_FAILURES", "5"),
        ]))
        .expect_err("ceiling below the per-client limit");
        assert_eq!(err.key, "LOGIN_ACCOUNT_MAX_FAILURES");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Settings::from_map(&vars(&[("PORT", "eighty")])).expect_err("bad port");
        assert_eq!(err.key, "PORT");
        let err = Settings::from_map(&vars(&[("BCRYPT_COST", "3")])).expect_err("low cost");
        assert_eq!(err.key, "BCRYPT_COST");
    }

    #[test]
    fn the_database_acquire_timeout_defaults_to_5_s_and_must_be_positive() {
        let s = Settings::from_map(&HashMap::new()).expect("defaults are valid");
        assert_eq!(s.database.acquire_timeout_secs, 5);
        let s = Settings::from_map(&vars(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "2")])).expect("2 s");
        assert_eq!(s.database.acquire_timeout_secs, 2);
        let err =
            Settings::from_map(&vars(&[("DATABASE_ACQUIRE_TIMEOUT_SECS", "0")])).expect_err("zero");
        assert_eq!(err.key, "DATABASE_ACQUIRE_TIMEOUT_SECS");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Settings::from_map(&vars(&[
            ("JWT_SECRET", "super-secret-value-123456789012345"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
        ]))
        .expect("valid");
        let dump = format!("{s:?}");
        assert!(!dump.contains("super-secret"));
        assert!(!dump.contains("pw@h"));
    }
}
