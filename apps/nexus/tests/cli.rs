//! The `nexus` binary's commands, run as a user would, on a temporary SQLite database.

use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexus"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("BCRYPT_COST", "4")
            .env("RUST_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("nexus runs")
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn every_command_has_help() {
    let sandbox = Sandbox::new();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["seed", "--help"],
        &["create-admin", "--help"],
    ] {
        let out = sandbox.run(args, &[]);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{args:?}");
    }
    let out = sandbox.run(&["create-admin", "--help"], &[]);
    assert!(text(&out).contains("--email") && text(&out).contains("--password"));
}

#[test]
fn migrate_creates_the_embedded_database_under_data() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(sandbox.dir.path().join("data/nexus.db").exists());
}

#[test]
fn create_admin_persists_and_refuses_a_duplicate_or_weak_password() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(
        &[
            "create-admin",
            "--email",
            "Boss@Example.com",
            "--password",
            "a-long-password",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("administrator created"));
    assert!(
        !text(&out).contains("a-long-password"),
        "the password must not be logged"
    );

    let again = sandbox.run(
        &[
            "create-admin",
            "--email",
            "boss@example.com",
            "--password",
            "another-password",
        ],
        &[],
    );
    assert!(!again.status.success(), "duplicate e-mail must fail");

    let weak = sandbox.run(
        &[
            "create-admin",
            "--email",
            "new@example.com",
            "--password",
            "short",
        ],
        &[],
    );
    assert!(!weak.status.success(), "weak password must fail");
}

#[test]
fn seed_is_repeatable_and_refused_in_production() {
    let sandbox = Sandbox::new();
    let first = sandbox.run(&["seed"], &[]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("seeded"));
    let second = sandbox.run(&["seed"], &[]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(text(&second).contains("seed already ran"));

    let secret = "p".repeat(40);
    let prod = sandbox.run(
        &["seed"],
        &[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &secret),
            ("LINK_SIGNING_KEY", &"l".repeat(40)),
            ("BCRYPT_COST", "10"),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "hook-secret"),
        ],
    );
    assert!(!prod.status.success());
    assert!(text(&prod).contains("seed is refused"), "{}", text(&prod));
}

#[test]
fn production_refuses_to_start_on_the_default_secret() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(&["serve"], &[("APP_ENV", "production"), ("PORT", "0")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("JWT_SECRET"));
}

#[cfg(unix)]
#[test]
fn the_worker_runs_alone_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["migrate"], &[]).status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexus"))
        .arg("worker")
        .current_dir(sandbox.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("WORKER_POLL_MS", "50")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("worker starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = lines
        .by_ref()
        .take(50)
        .map_while(Result::ok)
        .any(|l| l.contains("job worker started"));
    assert!(started, "the worker announces itself");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a SIGTERM stop is a clean exit");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("job worker stopped")),
        "{rest:?}"
    );
}
