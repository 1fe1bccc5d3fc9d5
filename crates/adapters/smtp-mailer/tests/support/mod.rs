//! A real SMTP server for the tests: `scripts/smtp_sink.py` (aiosmtpd) on a free port,
//! storing what it receives in a temporary directory.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// `<workspace>/`, from this crate's manifest directory.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
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
pub fn python() -> Option<PathBuf> {
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
            skip_note(
                "aiosmtpd is not available and scripts/test-tools.sh failed; skipping SMTP tests",
            );
            None
        })
        .clone()
}

#[expect(
    clippy::print_stderr,
    reason = "a skipped test must say why, outside any tracing setup"
)]
fn skip_note(note: &str) {
    eprintln!("note: {note}");
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A running SMTP sink; killed when dropped.
pub struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    /// Starts a sink on a free port, storing into `dir`.
    pub fn start(python: &Path, dir: &Path) -> Self {
        Self::start_on(python, free_port(), dir, None)
    }

    /// Starts a sink on `port`, storing into `dir`, answering RCPT TO with `reply` if given.
    pub fn start_on(python: &Path, port: u16, dir: &Path, reply: Option<&str>) -> Self {
        let mut command = Command::new(python);
        command
            .arg(workspace().join("scripts/smtp_sink.py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(reply) = reply {
            command.args(["--reply", reply]);
        }
        let mut child = command.spawn().expect("start scripts/smtp_sink.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim() == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        let sink = Self {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        // `sink` is dropped (and the process killed) if this panics.
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the SMTP sink did not print \"ready\" (see its stderr above)");
        sink
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far (the sink's JSON records), oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .expect("read the sink directory")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                serde_json::from_slice(&std::fs::read(path).expect("read a record"))
                    .expect("a JSON record")
            })
            .collect()
    }

    /// Stops the server at once.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.kill();
    }
}
