//! The deployment files, read as files (no container engine runs here): the image, the
//! compose file, its `.env.example` and the hosted CI workflow. Each is checked against what
//! the code really has: environment keys against the settings module's own list, commands
//! against the built binary, health checks against real commands, ports against the URLs.
//! Then `nexus healthcheck` against running processes.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use nexus_tests::servers::nexus_binary;
use nexus_tests::{eventually, spawn_app};
use serde_norway::{Mapping, Value};

fn repo_file(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    yaml("docker/docker-compose.yml")
}

fn services(compose: &Value) -> &Mapping {
    compose["services"]
        .as_mapping()
        .expect("the compose file has services")
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => panic!("not a string: {other:?}"),
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        Value::Null => Vec::new(),
        other => panic!("not a list of strings: {other:?}"),
    }
}

fn environment(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_mapping()
        .map(|env| {
            env.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => String::new(),
                        other => panic!("environment value {other:?}"),
                    };
                    (k.as_str().expect("a key").to_owned(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The services that run the app's image (they have the Dockerfile as build or its image).
fn nexus_services(compose: &Value) -> Vec<(String, &Value)> {
    let image = services(compose)
        .values()
        .find_map(|s| {
            s["build"]
                .is_mapping()
                .then(|| s["image"].as_str())
                .flatten()
        })
        .expect("a service builds the image");
    services(compose)
        .iter()
        .filter(|(_, s)| s["image"].as_str() == Some(image))
        .map(|(name, s)| (name.as_str().expect("a name").to_owned(), s))
        .collect()
}

/// Whether `nexus <args>` exists in the built binary: clap accepts the words and flags and
/// prints the help of that subcommand.
fn binary_accepts(args: &[String]) -> bool {
    std::process::Command::new(nexus_binary())
        .args(args)
        .arg("--help")
        .env_clear()
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Compose interpolation the way `docker compose` does it, with `given` as the `.env` file:
/// `${X:-default}`, `${X:?error}` (an error when unset), `${X}`; `$$` is a literal `$`.
fn interpolate(text: &str, given: &HashMap<&str, &str>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        let body_end = rest.find('}').expect("a closed ${...}");
        let body = &rest[2..body_end];
        rest = &rest[body_end + 1..];
        let (name, op, arg) = match body.find([':', '-', '?']) {
            Some(i) if body[i..].starts_with(":-") => (&body[..i], "-", &body[i + 2..]),
            Some(i) if body[i..].starts_with(":?") => (&body[..i], "?", &body[i + 2..]),
            Some(i) => panic!("unsupported interpolation ${{{body}}} at {i}"),
            None => (body, "", ""),
        };
        match (given.get(name).filter(|v| !v.is_empty()), op) {
            (Some(v), _) => out.push_str(v),
            (None, "-") => out.push_str(arg),
            (None, "?") => return Err(format!("{name}: {arg}")),
            (None, _) => {}
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Every `${NAME...}` the compose file reads from its `.env`.
fn compose_variables(text: &str) -> BTreeSet<String> {
    text.split("${")
        .skip(1)
        .map(|s| {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The app's settings as one nexus container of the compose file would load them, with
/// `dotenv` as the `.env` file.
fn compose_settings(
    service: &Value,
    dotenv: &HashMap<&str, &str>,
) -> Result<Result<nexus::settings::Settings, nexus::settings::ConfigErrors>, String> {
    let mut vars = HashMap::new();
    for (key, value) in environment(service) {
        vars.insert(key, interpolate(&value, dotenv)?);
    }
    Ok(nexus::settings::Settings::from_map(&vars))
}

fn required_secrets() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("JWT_SECRET", "a-signing-key-of-at-least-32-bytes-xxxxxxxx"),
        ("NEXUS_ADMIN_PASSWORD", "First-Admin-Password-1"),
        ("POSTGRES_PASSWORD", "pg-password"),
        ("MEILI_MASTER_KEY", "a-meilisearch-master-key"),
        ("S3_SECRET_KEY", "s3-secret-key"),
    ])
}

#[test]
fn the_image_builds_locked_in_stages_and_runs_unprivileged_in_production_mode() {
    let dockerfile = repo_file("docker/Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();

    let stages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("FROM "))
        .collect();
    assert!(
        stages.len() >= 3,
        "plan, build and runtime stages: {stages:?}"
    );
    for stage in &stages {
        let image = stage.split_whitespace().next().unwrap_or_default();
        let tag = image.rsplit_once(':').map(|(_, t)| t);
        assert!(
            tag.is_some_and(|t| t != "latest")
                || stages.iter().any(|s| s.ends_with(&format!(" AS {image}"))),
            "{image} is not pinned by tag"
        );
    }
    let cargo_runs: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            l.contains("cargo build")
                || l.contains("cargo chef cook")
                || l.contains("cargo install")
        })
        .collect();
    assert!(
        cargo_runs.iter().any(|l| l.contains("cargo chef cook")),
        "a dependency layer built from the recipe alone: {cargo_runs:?}"
    );
    for run in &cargo_runs {
        assert!(run.contains("--locked"), "not --locked: {run}");
    }
    let runtime = dockerfile
        .rsplit("\nFROM ")
        .next()
        .expect("a runtime stage");
    assert!(
        runtime.starts_with("debian:") && runtime.contains("-slim"),
        "a small runtime image: {}",
        runtime.lines().next().unwrap_or_default()
    );
    assert!(
        !runtime.contains("rust:"),
        "no toolchain in the runtime image"
    );
    let user = runtime
        .lines()
        .find_map(|l| l.trim().strip_prefix("USER "))
        .expect("the runtime stage sets a USER");
    assert!(!["root", "0"].contains(&user.trim()), "runs as {user}");
    assert!(
        runtime
            .lines()
            .filter(|l| l.trim().starts_with("ENV "))
            .any(|l| l.split_whitespace().any(|w| w == "APP_ENV=production")),
        "no `ENV APP_ENV=production` in the runtime stage"
    );
    for secret in ["JWT_SECRET", "LINK_SIGNING_KEY", "RAZORPAY_KEY_SECRET"] {
        assert!(
            !dockerfile.contains(&format!("{secret}=")),
            "the image must not bake in {secret}"
        );
    }
    let env_keys: Vec<&str> = runtime
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(str::split_whitespace)
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        .collect();
    let known: BTreeSet<&str> = nexus::settings::environment_variables().collect();
    for key in &env_keys {
        assert!(
            known.contains(key),
            "the image sets {key}, which the app does not read"
        );
    }
    // The exposed port is the one the app binds.
    let port = runtime
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(str::split_whitespace)
        .find_map(|w| w.strip_prefix("PORT="))
        .expect("the image sets PORT");
    assert!(
        runtime
            .lines()
            .any(|l| l.trim() == format!("EXPOSE {port}")),
        "EXPOSE {port} missing"
    );
    // The health check is an exec-form call of a command the binary has (no shell, curl or
    // wget in the image).
    let healthcheck = runtime
        .lines()
        .find(|l| l.trim().starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    let exec = healthcheck
        .split_once("CMD ")
        .map(|(_, c)| c.trim())
        .expect("HEALTHCHECK ... CMD [...]");
    let argv: Vec<String> = serde_json::from_str(exec).expect("exec form (a JSON array)");
    assert_eq!(argv[0], "nexus", "{argv:?}");
    assert!(
        binary_accepts(&argv[1..]),
        "nexus has no `{}`",
        argv[1..].join(" ")
    );
    let entry: Vec<String> = runtime
        .lines()
        .find_map(|l| l.trim().strip_prefix("CMD "))
        .map(|c| serde_json::from_str(c).expect("exec form CMD"))
        .expect("a CMD");
    assert!(binary_accepts(&entry), "nexus has no `{}`", entry.join(" "));
}

#[test]
fn the_build_context_leaves_out_build_output_local_data_and_secrets() {
    let ignore = repo_file(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    for needed in ["/target", "/data", "/.git", "**/.env"] {
        assert!(
            patterns.contains(&needed),
            "{needed} is not ignored: {patterns:?}"
        );
    }
}

#[test]
fn every_compose_service_has_a_pinned_image_a_real_health_check_and_its_volumes() {
    let compose = compose();
    let declared_volumes = compose["volumes"].as_mapping().expect("named volumes");
    let nexus: Vec<String> = nexus_services(&compose)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    // Health commands the third-party images really have.
    let known_checks: &[(&str, &str)] = &[
        ("postgres:", "pg_isready"),
        ("redis:", "redis-cli"),
        ("getmeili/meilisearch:", "wget"),
        ("minio/minio:", "mc"),
        ("axllent/mailpit:", "/mailpit"),
    ];
    for want in [
        "postgres",
        "redis",
        "meilisearch",
        "s3",
        "mail",
        "api",
        "worker",
    ] {
        assert!(services(&compose).contains_key(want), "no {want} service");
    }

    for (name, service) in services(&compose) {
        let name = name.as_str().expect("a name");
        let image = service["image"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no image"));
        let one_shot = service["restart"].as_str() == Some("no");
        if !nexus.iter().any(|n| n == name) {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
            assert!(
                !tag.is_empty() && tag != "latest" && tag.contains('.'),
                "{name}: {image} is not pinned to a release tag"
            );
        }
        let check = &service["healthcheck"];
        if one_shot {
            // A one-shot has nothing to probe; what needs it waits for it to succeed.
            assert_eq!(check["disable"], Value::Bool(true), "{name}");
            let awaited = services(&compose).values().any(|s| {
                s["depends_on"][name]["condition"].as_str()
                    == Some("service_completed_successfully")
            });
            assert!(awaited, "nothing waits for the one-shot {name}");
            continue;
        }
        let test = strings(&check["test"]);
        assert_eq!(
            test.first().map(String::as_str),
            Some("CMD"),
            "{name}: {test:?}"
        );
        let command = &test[1..];
        if nexus.iter().any(|n| n == name) {
            assert_eq!(command[0], "nexus", "{name}: {test:?}");
            assert!(
                binary_accepts(&command[1..]),
                "{name}: nexus has no `{}`",
                command[1..].join(" ")
            );
        } else {
            let (_, program) = known_checks
                .iter()
                .find(|(prefix, _)| image.starts_with(prefix))
                .unwrap_or_else(|| panic!("{name}: no known health command for {image}"));
            assert_eq!(&command[0], program, "{name}: {test:?}");
        }
        let volumes = strings(&service["volumes"]);
        assert!(!volumes.is_empty(), "{name} keeps its data in no volume");
        for volume in volumes {
            let source = volume.split(':').next().unwrap_or_default();
            assert!(
                declared_volumes.contains_key(source),
                "{name}: volume {source} is not declared"
            );
        }
    }
}

#[test]
fn every_nexus_container_reads_only_keys_the_app_reads_and_runs_real_commands() {
    let compose = compose();
    let known: BTreeSet<&str> = nexus::settings::environment_variables().collect();
    let nexus = nexus_services(&compose);
    let commands: BTreeSet<String> = nexus
        .iter()
        .map(|(_, s)| strings(&s["command"]).join(" "))
        .collect();

    for (name, service) in &nexus {
        let env = environment(service);
        assert!(!env.is_empty(), "{name} has no environment");
        for (key, _) in &env {
            assert!(
                known.contains(key.as_str()),
                "{name} sets {key}, which the app does not read"
            );
        }
        let command = strings(&service["command"]);
        assert!(
            binary_accepts(&command),
            "{name}: nexus has no `{}`",
            command.join(" ")
        );
    }
    for wanted in ["serve", "worker", "migrate"] {
        assert!(
            commands.contains(wanted),
            "no service runs `nexus {wanted}`: {commands:?}"
        );
    }
}

#[test]
fn compose_ports_and_urls_line_up_and_stopping_waits_for_the_grace_period() {
    let compose = compose();
    let all = services(&compose);
    let ports_of = |service: &Value| -> BTreeSet<String> {
        let mut ports: BTreeSet<String> = strings(&service["expose"]).into_iter().collect();
        for mapping in strings(&service["ports"]) {
            ports.insert(mapping.rsplit(':').next().unwrap_or_default().to_owned());
        }
        ports
    };

    for (name, service) in nexus_services(&compose) {
        let env: HashMap<String, String> = environment(service).into_iter().collect();
        if strings(&service["command"]) == ["serve"] {
            let port = env.get("PORT").expect("the API sets PORT");
            assert!(
                ports_of(service).contains(port),
                "{name}: PORT {port} is not published"
            );
        }
        for key in [
            "DATABASE_URL",
            "REDIS_URL",
            "MEILI_URL",
            "S3_ENDPOINT",
            "SMTP_URL",
        ] {
            let url = env.get(key).unwrap_or_else(|| panic!("{name}: no {key}"));
            let authority = url
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|a| a.rsplit('@').next())
                .unwrap_or_default();
            let (host, port) = authority
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("{name}: {key} names no port: {url}"));
            let target = all
                .get(host)
                .unwrap_or_else(|| panic!("{name}: {key} points at {host}, which is no service"));
            assert!(
                ports_of(target).contains(port),
                "{name}: {key} uses port {port}, which {host} does not expose"
            );
        }
        let grace: u64 = env
            .get("SHUTDOWN_GRACE_SECS")
            .map_or(30, |g| g.parse().expect("a number"));
        let stop = service["stop_grace_period"]
            .as_str()
            .and_then(|s| s.strip_suffix('s'))
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(10);
        assert!(
            stop > grace,
            "{name}: Docker kills it after {stop} s, before its {grace} s grace period ends"
        );
    }
}

#[test]
fn compose_starts_on_the_development_gateway_without_razorpay_keys_and_in_production_with_them() {
    let compose = compose();
    let nexus = nexus_services(&compose);
    let secrets = required_secrets();

    for (name, service) in &nexus {
        let settings = compose_settings(service, &secrets)
            .expect("the required variables are given")
            .unwrap_or_else(|e| panic!("{name} would not start without Razorpay keys: {e}"));
        assert_eq!(settings.env, nexus::settings::AppEnv::Development, "{name}");
        assert!(
            settings.payments.key_id.is_none(),
            "{name}: the development gateway"
        );
        assert!(!settings.is_sqlite(), "{name} uses PostgreSQL");
        assert!(
            settings.storage.s3_bucket.is_some(),
            "{name} stores files in S3"
        );

        let mut production = secrets.clone();
        production.extend([
            ("APP_ENV", "production"),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret"),
        ]);
        let settings = compose_settings(service, &production)
            .expect("given")
            .unwrap_or_else(|e| panic!("{name} would not start in production: {e}"));
        assert_eq!(settings.env, nexus::settings::AppEnv::Production);

        let mut no_keys = secrets.clone();
        no_keys.insert("APP_ENV", "production");
        let refused = compose_settings(service, &no_keys)
            .expect("given")
            .expect_err("production without keys is refused");
        assert!(refused.names("RAZORPAY_KEY_ID"), "{refused}");
    }
    // Each secret is required from the operator, never defaulted in the file.
    for secret in required_secrets().keys() {
        let mut missing = required_secrets();
        missing.remove(secret);
        let (_, api) = nexus
            .iter()
            .find(|(n, _)| n == "api")
            .expect("an api service");
        let error = compose_settings(api, &missing)
            .err()
            .unwrap_or_else(|| panic!("{secret} has a default in the compose file"));
        assert!(error.starts_with(secret), "{error}");
    }
}

#[test]
fn the_env_example_lists_exactly_the_variables_the_compose_file_reads() {
    let text = repo_file("docker/docker-compose.yml");
    let example = repo_file("docker/.env.example");
    let listed: BTreeSet<String> = example
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();

    assert_eq!(listed, compose_variables(&text));
    for line in example.lines().filter(|l| !l.starts_with('#')) {
        if let Some((key, value)) = line.split_once('=')
            && (key.contains("SECRET") || key.contains("PASSWORD") || key.contains("MASTER_KEY"))
        {
            assert!(
                value.trim().is_empty(),
                "{key} ships with a value in .env.example"
            );
        }
    }
}

#[test]
fn hosted_ci_runs_the_same_make_targets_as_ci_run_with_postgres_and_redis_services() {
    let script = repo_file(".ci/run");
    let workflow = yaml(".github/workflows/ci.yml");
    let make_targets = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter_map(|l| l.strip_prefix("make "))
            .map(|t| t.trim().to_owned())
            .collect()
    };
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    let mut runs = Vec::new();
    let mut services = BTreeSet::new();
    let mut cached = Vec::new();
    for job in jobs.values() {
        for (name, service) in job["services"].as_mapping().into_iter().flatten() {
            let image = service["image"].as_str().unwrap_or_default().to_owned();
            services.insert((name.as_str().unwrap_or_default().to_owned(), image));
        }
        for step in job["steps"].as_sequence().expect("steps") {
            if let Some(run) = step["run"].as_str() {
                runs.extend(make_targets(run));
            }
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache@"))
            {
                cached.extend(strings(&Value::String(
                    step["with"]["path"].as_str().unwrap_or_default().to_owned(),
                )));
            }
        }
    }

    assert_eq!(
        runs,
        make_targets(&script),
        "the workflow and .ci/run run the same make targets, in order"
    );
    assert!(runs.contains(&"lint".to_owned()) && runs.contains(&"test".to_owned()));
    assert!(
        services
            .iter()
            .any(|(n, i)| n == "postgres" && i.starts_with("postgres:15")),
        "{services:?}"
    );
    assert!(
        services
            .iter()
            .any(|(n, i)| n == "redis" && i.starts_with("redis:7")),
        "{services:?}"
    );
    let cached = cached.join("\n");
    for path in ["~/.cargo/registry", "target"] {
        assert!(cached.contains(path), "{path} is not cached: {cached}");
    }
    assert_eq!(
        workflow["env"]["CI"].as_str(),
        Some("true"),
        "CI=true, as .ci/run sets"
    );
}

#[tokio::test]
async fn healthcheck_exits_0_for_a_ready_instance_and_1_when_nothing_answers() {
    let app = spawn_app().await;
    let port = app.port.to_string();
    let on = |port: &str| vec![("HOST", "0.0.0.0".to_owned()), ("PORT", port.to_owned())];
    let run = async |args: &[&str], vars: Vec<(&str, String)>| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.run_nexus(args, &vars).await
    };

    let ready = run(&["healthcheck"], on(&port)).await;
    let live = run(&["healthcheck", "--live"], on(&port)).await;
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
        .to_string();
    let nobody = run(&["healthcheck"], on(&closed_port)).await;

    let stdout = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(ready.status.code(), Some(0), "{}", stdout(&ready));
    assert!(
        stdout(&ready).contains("/health/ready"),
        "{}",
        stdout(&ready)
    );
    assert_eq!(live.status.code(), Some(0), "{}", stdout(&live));
    assert!(stdout(&live).contains("/health/live"));
    assert_eq!(nobody.status.code(), Some(1), "{}", stdout(&nobody));
    assert!(stdout(&nobody).contains("unhealthy"), "{}", stdout(&nobody));
}

#[tokio::test]
async fn healthcheck_of_a_worker_passes_while_it_runs_and_fails_before() {
    let app = spawn_app().await;

    let before = app.run_nexus(&["healthcheck", "--worker"], &[]).await;
    let worker = app.spawn_worker(&[]);
    let after = eventually("the worker's heartbeat", async || {
        let out = app.run_nexus(&["healthcheck", "--worker"], &[]).await;
        out.status.success().then_some(out)
    })
    .await;

    assert_eq!(before.status.code(), Some(1), "no worker, no heartbeat");
    assert!(String::from_utf8_lossy(&after.stdout).contains("worker alive"));
    drop(worker);
}
