//! Spawning the application under test on a fresh database, and reaching its settings, database
//! and data directory.

use std::collections::HashMap;
use std::path::Path;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::*;

/// The environment variable naming a PostgreSQL maintenance URL (`postgres://…/postgres`).
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// The e-mail of the administrator every [`TestApp`] bootstraps.
pub const ADMIN_EMAIL: &str = "admin@nexus.test";

/// The running application of one test, with its own database.
///
/// Dropping it stops the server and drops the test's database.
pub struct TestApp {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub address: String,
    /// The port the app listens on.
    pub port: u16,
    /// The port of the dedicated metrics listener, when `METRICS_ADDR` is set.
    pub metrics_port: Option<u16>,
    /// The HTTP client the helpers use.
    pub client: reqwest::Client,
    /// The bootstrapped administrator's e-mail.
    pub admin_email: String,
    /// The bootstrapped administrator's password.
    pub admin_password: String,
    pub(crate) server: tokio::task::AbortHandle,
    /// The settings the app was built from, for [`TestApp::spawn_another`] and [`TestApp::db`].
    pub(crate) vars: HashMap<String, String>,
    // Field order is drop order: the database goes after the server stopped.
    pub(crate) smtp: Option<SmtpSink>,
    pub(crate) _database: TestDatabase,
    pub(crate) _data_dir: tempfile::TempDir,
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
pub(crate) async fn launch(
    vars: HashMap<String, String>,
    database: TestDatabase,
    data_dir: tempfile::TempDir,
) -> TestApp {
    let settings = nexus::settings::Settings::from_map(&vars).expect("test settings are valid");
    let app = nexus::Application::build(settings)
        .await
        .expect("the application builds");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let server = tokio::spawn(app.run_until_stopped()).abort_handle();

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
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

    /// Whether this app runs on PostgreSQL (`TEST_DATABASE_URL`) rather than SQLite.
    #[must_use]
    pub fn on_postgres(&self) -> bool {
        self._database.url.starts_with("postgres")
    }

    /// The data directory the app was started with (kept keys, outbox, files).
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
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
