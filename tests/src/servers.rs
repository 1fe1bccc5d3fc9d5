//! Servers a fault test owns, so that it can break them without disturbing anything else: a
//! private PostgreSQL and a private Redis on their own ports and temporary data directories,
//! stopped and started again on the same port; `nexus worker` processes that can be killed;
//! and an SMTP server that holds a message in flight.
//!
//! The machine's own services (PostgreSQL on 5432, Redis on 6379) are never touched. A missing
//! server binary skips the test with a note, or fails it when `CI=true`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use uuid::Uuid;

use crate::{ADMIN_EMAIL, TestApp, TestDatabase, launch, note};

/// How long a server may take to get ready or to stop before the test fails.
const SERVER_DEADLINE: Duration = Duration::from_secs(30);

/// Whether missing tools must fail the run (`CI=true`) instead of skipping.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `None` with a note outside CI, a panic under `CI=true`: what a missing tool means.
fn missing<T>(what: &str) -> Option<T> {
    assert!(
        !in_ci(),
        "{what} is needed by the fault tests (CI=true: failing instead of skipping)"
    );
    note(&format!("note: {what} not found; skipping this fault test"));
    None
}

/// `name` on `PATH`, if there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A port outside the kernel's ephemeral range (32768 and up here), so that no socket bound
/// to port 0 elsewhere can take it while a server of ours is stopped; free right now.
fn private_port() -> u16 {
    for _ in 0..200 {
        let random = Uuid::new_v4().as_u128();
        let port = 20_000 + u16::try_from(random % 12_000).unwrap_or_default();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}

/// Polls `ready` every 50 ms until it holds, for at most [`SERVER_DEADLINE`].
async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + SERVER_DEADLINE;
    while !ready() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {SERVER_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for `child` to exit (it was signalled), for at most [`SERVER_DEADLINE`].
async fn wait_for_exit(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = tokio::time::Instant::now() + SERVER_DEADLINE;
    loop {
        if let Some(status) = child.try_wait().expect("a child's status can be read") {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not exit within {SERVER_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends `signal` (`INT`, `QUIT`, ...) to process `pid`; `false` if it is gone.
fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn id_of(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

// --- PostgreSQL ------------------------------------------------------------------------------

/// A PostgreSQL server of one test: `initdb` into a temporary directory, `postgres` on a
/// private port listening on 127.0.0.1 only, trust authentication for user `postgres`.
///
/// PostgreSQL refuses to run as root, so under root the directory is given to, and the server
/// run as, the `postgres` OS user. Binaries come from `NEXUS_PG_BIN` (a directory), else the
/// newest `/usr/lib/postgresql/<version>/bin`, else `initdb` on `PATH`. The server is killed
/// (immediate shutdown) when this is dropped.
pub struct PrivatePostgres {
    bin: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    user: Option<(u32, u32)>,
    child: Mutex<Option<Child>>,
}

impl PrivatePostgres {
    /// Initialises a cluster and starts it; ready for connections on return.
    ///
    /// `None` (the caller skips) when the PostgreSQL server binaries are missing, outside CI.
    ///
    /// # Panics
    /// If the binaries are missing under `CI=true`, or the cluster cannot be created or started.
    pub async fn start() -> Option<Self> {
        let Some(bin) = postgres_bin_dir() else {
            return missing("PostgreSQL server binaries (initdb, postgres, pg_isready)");
        };
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        let user = if id_of(&["-u"]) == Some(0) {
            let uid = id_of(&["-u", "postgres"]).expect("running as root needs a postgres user");
            let gid = id_of(&["-g", "postgres"]).expect("the postgres user has a group");
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("the temporary directory can be given to postgres");
            Some((uid, gid))
        } else {
            None
        };
        let server = Self {
            bin,
            port: private_port(),
            dir,
            user,
            child: Mutex::new(None),
        };
        let mut initdb = server.command("initdb");
        initdb
            .arg("-D")
            .arg(server.data())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .stdout(Stdio::null());
        let out = initdb.output().expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        server.start_again().await;
        Some(server)
    }

    /// The port it listens on (the same across restarts).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    #[must_use]
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server with a *fast* shutdown (what `pg_ctl stop` does): open sessions are
    /// ended, their open transactions rolled back. Returns once the process has exited, so
    /// the port refuses connections.
    ///
    /// # Panics
    /// If it does not stop in time.
    pub async fn stop(&self) {
        let child = lock(&self.child).take();
        if let Some(mut child) = child {
            signal(child.id(), "INT");
            wait_for_exit(&mut child, "PostgreSQL").await;
        }
    }

    /// Starts the server on the same port and data directory (if stopped) and waits until it
    /// accepts connections.
    ///
    /// # Panics
    /// If it exits or does not get ready in time; its log is shown.
    pub async fn start_again(&self) {
        if lock(&self.child).is_some() {
            return;
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the server log can be opened");
        let mut postgres = self.command("postgres");
        postgres
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            // Durability against an OS crash is not under test; a clean stop still
            // checkpoints, so nothing committed is lost across the restarts we make.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "shared_buffers=16MB", "-c", "max_connections=40"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = postgres.spawn().expect("postgres can be started");
        *lock(&self.child) = Some(child);
        let isready = self.bin.join("pg_isready");
        let port = self.port.to_string();
        wait_until("PostgreSQL accepting connections", || {
            if let Some(child) = lock(&self.child).as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("postgres exited with {status}; log:\n{}", self.log());
            }
            Command::new(&isready)
                .args(["-h", "127.0.0.1", "-p", &port, "-q"])
                .status()
                .is_ok_and(|s| s.success())
        })
        .await;
    }

    /// The server's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(self.dir.path());
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Some(mut child) = lock(&self.child).take() {
            // Immediate shutdown: the postmaster takes its backends down with it.
            signal(child.id(), "QUIT");
            let _ = child.wait();
        }
    }
}

/// The directory holding `initdb`, `postgres` and `pg_isready`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "pg_isready"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("NEXUS_PG_BIN").map(PathBuf::from) {
        return complete(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    let initdb = on_path("initdb")?.canonicalize().ok()?;
    initdb
        .parent()
        .map(Path::to_path_buf)
        .filter(|d| complete(d))
}

// --- Redis -----------------------------------------------------------------------------------

/// A Redis server of one test: `redis-server` (from `PATH`) on a private port bound to
/// 127.0.0.1, without persistence, in a temporary directory. Killed when dropped.
pub struct PrivateRedis {
    program: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl PrivateRedis {
    /// Starts the server; it answers `PING` on return.
    ///
    /// `None` (the caller skips) when `redis-server` is missing, outside CI.
    ///
    /// # Panics
    /// If it is missing under `CI=true`, or does not get ready.
    pub async fn start() -> Option<Self> {
        let Some(program) = on_path("redis-server") else {
            return missing("redis-server");
        };
        let server = Self {
            program,
            port: private_port(),
            dir: tempfile::tempdir().expect("a temporary directory can be created"),
            child: Mutex::new(None),
        };
        server.start_again().await;
        Some(server)
    }

    /// `redis://127.0.0.1:<port>`, for `REDIS_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL, as a crash would) and waits until it is gone: the port then
    /// refuses connections, and every cart is lost (there is no persistence).
    ///
    /// # Panics
    /// If it does not exit in time.
    pub async fn stop(&self) {
        let child = lock(&self.child).take();
        if let Some(mut child) = child {
            let _ = child.kill();
            wait_for_exit(&mut child, "redis-server").await;
        }
    }

    /// Starts the server on the same port (if stopped) and waits until it answers `PING`.
    ///
    /// # Panics
    /// If it exits or does not get ready in time.
    pub async fn start_again(&self) {
        if lock(&self.child).is_some() {
            return;
        }
        let child = Command::new(&self.program)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server can be started");
        *lock(&self.child) = Some(child);
        wait_until("Redis answering PING", || {
            if let Some(child) = lock(&self.child).as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("redis-server exited with {status}");
            }
            redis_pings(self.port)
        })
        .await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = lock(&self.child).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Redis every test may share (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`), if
/// it answers `PING`; tests on it keep to a key prefix of their own (`REDIS_KEY_PREFIX`),
/// see [`unique_redis_prefix`].
///
/// `None` (the caller skips) when it does not answer, outside CI.
///
/// # Panics
/// If it does not answer under `CI=true`.
#[must_use]
pub fn shared_redis() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let port = url
        .rsplit(':')
        .next()
        .and_then(|tail| tail.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(6379);
    if redis_pings(port) {
        Some(url)
    } else {
        missing("a Redis answering on TEST_REDIS_URL (127.0.0.1)")
    }
}

/// A fresh `REDIS_KEY_PREFIX`, so that tests sharing one Redis never see each other's keys.
#[must_use]
pub fn unique_redis_prefix() -> String {
    format!("nexus-test-{}", Uuid::new_v4().simple())
}

fn redis_pings(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("+PONG")
}

// --- Apps on a private database, and worker processes ----------------------------------------

/// Starts the application (like [`crate::spawn_app_with`]) on `database_url`, a database the
/// caller owns and that outlives the app (for example one of a [`PrivatePostgres`]).
///
/// # Panics
/// If the application does not start.
pub async fn spawn_app_on(database_url: &str, overrides: &[(&str, &str)]) -> TestApp {
    nexus::telemetry::init_for_tests();
    nexus::install_crypto_provider();
    let data_dir = tempfile::tempdir().expect("a temporary data directory can be created");
    let mut vars: HashMap<String, String> = [
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", "0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("BCRYPT_COST", "4".to_owned()),
        ("NEXUS_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        (
            "NEXUS_ADMIN_PASSWORD",
            format!("Admin-{}", Uuid::new_v4().simple()),
        ),
        ("DATABASE_MAX_CONNECTIONS", "5".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    let database = TestDatabase {
        url: database_url.to_owned(),
        _postgres: None,
    };
    launch(vars, database, data_dir).await
}

/// The `nexus` binary: `NEXUS_BIN`, else `nexus` in the directory above this test executable
/// (`target/<profile>/deps/..`), where `cargo build --workspace` / `cargo test --workspace`
/// put it.
///
/// # Panics
/// If it is not there, or is older than the `nexus` library this test was built with (a
/// build of this crate alone does not rebuild the binary): build it with
/// `cargo build -p nexus`.
#[must_use]
pub fn nexus_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NEXUS_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable is in a directory");
    let profile = deps
        .parent()
        .expect("deps/ is inside the profile directory");
    let binary = profile.join("nexus");
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): run `cargo build -p nexus` or the whole workspace",
                binary.display()
            )
        });
    // The library the binary is linked from: `libnexus-<hash>.rlib` in deps/.
    let newest_library = std::fs::read_dir(deps)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_name().to_str().is_some_and(|name| {
                name.strip_prefix("libnexus-")
                    .and_then(|rest| rest.strip_suffix(".rlib"))
                    .is_some_and(|hash| hash.chars().all(|c| c.is_ascii_hexdigit()))
            })
        })
        .filter_map(|entry| entry.metadata().and_then(|m| m.modified()).ok())
        .max();
    assert!(
        newest_library.is_none_or(|library| library <= built),
        "{} is older than the nexus library: run `cargo build -p nexus` (or test the workspace)",
        binary.display()
    );
    binary
}

/// A `nexus worker` process on a test app's database and settings. Killed when dropped.
pub struct WorkerProcess {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl TestApp {
    /// Starts `nexus worker` as its own process with this app's settings (database, mail
    /// server, job settings) plus `overrides`. Its output goes to [`WorkerProcess::log`].
    ///
    /// # Panics
    /// If the binary cannot be found or started.
    #[must_use]
    pub fn spawn_worker(&self, overrides: &[(&str, &str)]) -> WorkerProcess {
        let log = tempfile::NamedTempFile::new().expect("a log file can be created");
        let mut command = Command::new(nexus_binary());
        command
            .arg("worker")
            .current_dir(self._data_dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(&self.vars)
            .envs(overrides.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("the log file can be reopened"))
            .stderr(log.reopen().expect("the log file can be reopened"));
        let child = command.spawn().expect("nexus worker can be started");
        WorkerProcess { child, log }
    }
}

impl TestApp {
    /// Starts `nexus serve` as its own process with this app's settings (database, data
    /// directory and so signing keys, mail server) plus `overrides`, on a free port, and
    /// waits until it answers `/health/live`. Returns it and its base URL.
    ///
    /// # Panics
    /// If the binary cannot be found or started, or does not answer in time.
    pub async fn spawn_server(&self, overrides: &[(&str, &str)]) -> (WorkerProcess, String) {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("a log file can be created");
        let mut command = Command::new(nexus_binary());
        command
            .arg("serve")
            .current_dir(self._data_dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(&self.vars)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HTTP_WORKERS", "2")
            .envs(overrides.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("the log file can be reopened"))
            .stderr(log.reopen().expect("the log file can be reopened"));
        let child = command.spawn().expect("nexus serve can be started");
        let mut server = WorkerProcess { child, log };
        let address = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + SERVER_DEADLINE;
        loop {
            let live = self
                .client
                .get(format!("{address}/health/live"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if live {
                return (server, address);
            }
            assert!(
                server.running() && tokio::time::Instant::now() < deadline,
                "nexus serve did not come up: {}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl TestApp {
    /// Runs `nexus <args>` to its end with this app's settings plus `overrides`, as an
    /// operator would on the same deployment, and returns its exit status and output.
    ///
    /// # Panics
    /// If the binary cannot be found or started.
    pub async fn run_nexus(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut command = Command::new(nexus_binary());
        command
            .args(args)
            .current_dir(self._data_dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(&self.vars)
            .envs(overrides.iter().copied())
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the command's thread finishes")
            .expect("nexus can be started")
    }
}

impl WorkerProcess {
    /// Sends SIGTERM (what `docker stop` and Kubernetes send) and returns how the process
    /// ended.
    ///
    /// # Panics
    /// If it does not exit.
    pub async fn terminate(mut self) -> ExitStatus {
        signal(self.child.id(), "TERM");
        wait_for_exit(&mut self.child, "nexus").await
    }

    /// Sends SIGTERM and returns at once.
    pub fn send_sigterm(&self) {
        signal(self.child.id(), "TERM");
    }

    /// Waits for the process to exit and returns how it ended.
    ///
    /// # Panics
    /// If it does not exit.
    pub async fn wait(mut self) -> ExitStatus {
        wait_for_exit(&mut self.child, "nexus").await
    }

    /// The process id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to finish anything) and returns how it ended.
    ///
    /// # Panics
    /// If it does not exit.
    pub async fn kill(mut self) -> ExitStatus {
        let _ = self.child.kill();
        wait_for_exit(&mut self.child, "nexus worker").await
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it printed so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The signal that ended a process, if one did.
#[must_use]
pub fn killed_by(status: ExitStatus) -> Option<i32> {
    status.signal()
}

// --- An SMTP server that holds messages in flight --------------------------------------------

/// One message as [`StallingSmtp`] received it.
#[derive(Debug, Clone)]
pub struct HeldMessage {
    /// The `Message-ID` header (empty if none).
    pub message_id: String,
    /// Envelope recipients.
    pub rcpt_tos: Vec<String>,
}

#[derive(Default)]
struct Mailbox {
    /// With a hold: every message is answered `250` only after it.
    hold: Option<Duration>,
    stalls_left: usize,
    held: Vec<HeldMessage>,
    accepted: Vec<HeldMessage>,
}

/// A plain SMTP server on 127.0.0.1 for the worker-crash test. The first `stalls` messages are
/// received in full (`DATA` and the message up to its final dot) and then never answered: the
/// sender waits for the `250`, provably in the middle of its job, and the message is not
/// accepted, as with a real server that never replied. Later messages are accepted with
/// `250`. Stops listening when dropped.
pub struct StallingSmtp {
    port: u16,
    mailbox: Arc<Mutex<Mailbox>>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    stopping: Arc<AtomicBool>,
}

impl StallingSmtp {
    /// Listens on a free port, holding the first `stalls` messages.
    ///
    /// # Panics
    /// If no port can be bound.
    #[must_use]
    pub fn start(stalls: usize) -> Self {
        Self::listen(Mailbox {
            stalls_left: stalls,
            ..Mailbox::default()
        })
    }

    /// Listens on a free port and answers every message only `hold` after receiving it (a
    /// slow server): [`StallingSmtp::held`] lists every message received, answered or not.
    ///
    /// # Panics
    /// If no port can be bound.
    #[must_use]
    pub fn slow(hold: Duration) -> Self {
        Self::listen(Mailbox {
            hold: Some(hold),
            ..Mailbox::default()
        })
    }

    fn listen(mailbox: Mailbox) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port can be bound");
        let port = listener.local_addr().expect("a local address").port();
        let server = Self {
            port,
            mailbox: Arc::new(Mutex::new(mailbox)),
            connections: Arc::default(),
            stopping: Arc::default(),
        };
        let (mailbox, connections, stopping) = (
            server.mailbox.clone(),
            server.connections.clone(),
            server.stopping.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(clone) = stream.try_clone() {
                    lock(&connections).push(clone);
                }
                let mailbox = mailbox.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &mailbox);
                });
            }
        });
        server
    }

    /// `smtp://127.0.0.1:<port>`, for `SMTP_URL`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Messages received in full but never answered.
    #[must_use]
    pub fn held(&self) -> Vec<HeldMessage> {
        lock(&self.mailbox).held.clone()
    }

    /// Messages accepted with `250`.
    #[must_use]
    pub fn accepted(&self) -> Vec<HeldMessage> {
        lock(&self.mailbox).accepted.clone()
    }
}

impl Drop for StallingSmtp {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for stream in lock(&self.connections).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wakes the accept loop so that it sees `stopping`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One SMTP session, just enough of RFC 5321 for lettre.
fn converse(stream: TcpStream, mailbox: &Mutex<Mailbox>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 stall.test ESMTP\r\n")?;
    let mut rcpt_tos = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250 stall.test\r\n")?,
            "MAIL" => {
                rcpt_tos.clear();
                out.write_all(b"250 OK\r\n")?;
            }
            "RCPT" => {
                let address = line
                    .split_once(':')
                    .map(|(_, a)| a.trim().trim_start_matches('<'))
                    .and_then(|a| a.split('>').next())
                    .unwrap_or_default()
                    .to_owned();
                rcpt_tos.push(address);
                out.write_all(b"250 OK\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let message = HeldMessage {
                    message_id: read_message_id(&mut lines)?,
                    rcpt_tos: std::mem::take(&mut rcpt_tos),
                };
                let hold = lock(mailbox).hold;
                if let Some(hold) = hold {
                    lock(mailbox).held.push(message.clone());
                    std::thread::sleep(hold);
                    lock(mailbox).accepted.push(message);
                    out.write_all(b"250 OK: queued\r\n")?;
                    continue;
                }
                let mut mailbox = lock(mailbox);
                if mailbox.stalls_left > 0 {
                    mailbox.stalls_left -= 1;
                    mailbox.held.push(message);
                    drop(mailbox);
                    // Never answer: wait until the client goes away.
                    let mut rest = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut lines, &mut rest);
                    return Ok(());
                }
                mailbox.accepted.push(message);
                drop(mailbox);
                out.write_all(b"250 OK: queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 Bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"250 OK\r\n")?,
        }
    }
}

/// Reads a message up to its final `.` line and returns its `Message-ID`.
fn read_message_id(lines: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut message_id = String::new();
    let mut in_headers = true;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text == "." {
            return Ok(message_id);
        }
        if text.is_empty() {
            in_headers = false;
        }
        if in_headers
            && let Some((name, value)) = text.split_once(':')
            && name.eq_ignore_ascii_case("message-id")
        {
            value.trim().clone_into(&mut message_id);
        }
    }
}
