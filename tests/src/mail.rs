//! Mail capture: the SMTP sink (aiosmtpd) and the outbox of `.eml` files.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::*;

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

pub(crate) fn read_record(path: &Path) -> MailMessage {
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
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn has_aiosmtpd(python: &Path) -> bool {
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
pub(crate) fn sink_python() -> Option<PathBuf> {
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
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port can be bound");
    listener.local_addr().expect("a local address").port()
}

/// Starts `scripts/smtp_sink.py` on `port` storing into `dir`, and waits for its "ready".
pub(crate) fn spawn_sink(python: &Path, port: u16, dir: &Path) -> Child {
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

/// The `.eml` files in `dir` (none if it does not exist yet).
pub(crate) fn eml_files(dir: &Path) -> Vec<PathBuf> {
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

impl TestApp {
    /// The raw messages (`.eml`) the app has written to its outbox (`<DATA_DIR>/outbox`).
    #[must_use]
    pub fn outbox_messages(&self) -> Vec<String> {
        eml_files(&self.data_dir().join("outbox"))
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect()
    }
}
