//! A real S3 server for the tests: moto's S3, with presigned-URL checks added by
//! `moto_s3.py`, on a free loopback port; one server per test, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// Credentials the server accepts (moto takes any; the presign checker uses these).
pub const ACCESS_KEY_ID: &str = "AKIDNEXUSTEST";
/// The matching secret.
pub const SECRET_ACCESS_KEY: &str = "nexus-test-secret-key";
/// The region links are signed for.
pub const REGION: &str = "us-east-1";

/// `<workspace>/`, from this crate's manifest directory.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn has_moto(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A Python with `moto[server]`: `NEXUS_TEST_PYTHON`, else `<workspace>/.venv/bin/python`,
/// running `scripts/test-tools.sh` to install it when missing. `None` (the caller skips)
/// when that fails outside CI; with `CI=true` a missing moto fails the test instead.
pub fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = workspace().join(".venv/bin/python");
            let chosen =
                std::env::var_os("NEXUS_TEST_PYTHON").map_or_else(|| venv.clone(), PathBuf::from);
            if has_moto(&chosen) {
                return Some(chosen);
            }
            let installed = Command::new("bash")
                .arg(workspace().join("scripts/test-tools.sh"))
                .status()
                .is_ok_and(|status| status.success());
            if installed && has_moto(&venv) {
                return Some(venv);
            }
            assert!(
                !in_ci(),
                "{} cannot import moto.server and scripts/test-tools.sh did not fix it",
                chosen.display()
            );
            skip_note(
                "moto[server] is not available and scripts/test-tools.sh failed; skipping S3 tests",
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
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A reqwest client for the tests' plain-HTTP calls. Another workspace crate turns on
/// reqwest's `rustls-no-provider`, and features unify in workspace builds: reqwest then
/// panics while building any client unless a process-wide rustls provider is installed.
pub fn http() -> reqwest::Client {
    // Already installed (by an earlier call) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A running S3 server; killed when dropped.
pub struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start(python: &Path) -> Self {
        let port = free_port();
        let mut child = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_s3.py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--access-key-id",
                ACCESS_KEY_ID,
                "--secret",
                SECRET_ACCESS_KEY,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/support/moto_s3.py");
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
        let server = Self { child, port };
        // `server` is dropped (and the process killed) if this panics.
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the S3 server did not print \"ready\" (see its stderr above)");
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket with a plain, unsigned request (moto does not authenticate it).
    pub async fn create_bucket(&self, bucket: &str) {
        let response = http()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await
            .expect("create the bucket");
        assert!(
            response.status().is_success(),
            "creating the bucket answered {}",
            response.status()
        );
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
