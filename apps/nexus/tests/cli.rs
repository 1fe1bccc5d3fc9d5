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
        &["config", "--help"],
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
    assert!(
        text(&first).contains("seed customers: 200 created, 0 already there"),
        "{}",
        text(&first)
    );
    let second = sandbox.run(&["seed"], &[]);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        text(&second).contains("seed customers: 0 created, 200 already there"),
        "{}",
        text(&second)
    );
    assert!(!text(&second).contains(" created, 0 already there"));

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
fn config_prints_the_effective_configuration_with_every_secret_redacted() {
    let sandbox = Sandbox::new();
    let file = sandbox.dir.path().join("nexus.toml");
    std::fs::write(
        &file,
        "[http]\nport = 9090\nhost = \"127.0.0.1\"\n[payments]\nkey_id = \"rzp_test_x\"\n\
         key_secret = \"razorpay-key-secret\"\nwebhook_secret = \"razorpay-hook-secret\"\n",
    )
    .expect("write the config file");
    let jwt = "jwt-secret-jwt-secret-jwt-secret-0123";

    let out = sandbox.run(
        &["--config", file.to_str().expect("utf-8 path"), "config"],
        &[
            ("PORT", "7070"),
            ("JWT_SECRET", jwt),
            ("DATABASE_URL", "postgres://nexus:db-password@db:5432/nexus"),
            ("SMTP_URL", "smtps://mailer:smtp-password@smtp.example:465"),
            ("S3_SECRET_ACCESS_KEY", "s3-secret-key"),
        ],
    );

    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    for secret in [
        jwt,
        "db-password",
        "smtp-password",
        "s3-secret-key",
        "razorpay-key-secret",
        "razorpay-hook-secret",
    ] {
        assert!(!text(&out).contains(secret), "{secret} printed:\n{printed}");
    }
    assert!(
        printed.contains("port = 7070"),
        "the environment wins:\n{printed}"
    );
    assert!(
        printed.contains("host = \"127.0.0.1\""),
        "the file is read:\n{printed}"
    );
    assert!(printed.contains("url = \"postgres://nexus:[redacted]@db:5432/nexus\""));
    assert!(printed.contains("jwt_secret = \"[redacted]\""));
    assert!(printed.contains("key_secret = \"[redacted]\""));
    assert!(
        !sandbox.dir.path().join("data").exists(),
        "printing the configuration touches nothing"
    );
}

#[test]
fn config_lists_every_problem_at_once_and_exits_2() {
    let sandbox = Sandbox::new();
    let file = sandbox.dir.path().join("nexus.toml");
    std::fs::write(&file, "[worker]\nbatch = 0\n[http]\nprot = 1\n").expect("write");

    let out = sandbox.run(
        &["config"],
        &[
            ("NEXUS_CONFIG", file.to_str().expect("utf-8 path")),
            ("APP_ENV", "production"),
            ("PORT", "eighty"),
            ("BCRYPT_COST", "3"),
        ],
    );

    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let problems = String::from_utf8_lossy(&out.stderr);
    for key in [
        "PORT",
        "BCRYPT_COST",
        "JOB_BATCH",
        "JWT_SECRET",
        "LINK_SIGNING_KEY",
        "RAZORPAY_KEY_ID",
        "unknown key `http.prot`",
    ] {
        assert!(problems.contains(key), "{key} not listed:\n{problems}");
    }
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
        .any(|l| l.contains("worker started"));
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
        rest.iter().any(|l| l.contains("worker stopped")),
        "{rest:?}"
    );
}
