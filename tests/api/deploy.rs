//! The container files: the image and the compose file run the service in production mode,
//! with every secret taken from the environment (read as files; no container engine here).

use std::path::PathBuf;

fn docker_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docker")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_image_runs_in_production_mode() {
    let dockerfile = docker_file("Dockerfile");

    let env_lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("ENV "))
        .collect();

    assert!(
        env_lines
            .iter()
            .any(|l| l.split_whitespace().any(|w| w == "APP_ENV=production")),
        "no `ENV APP_ENV=production` in the Dockerfile: {env_lines:?}"
    );
    for secret in ["JWT_SECRET", "LINK_SIGNING_KEY"] {
        assert!(
            !dockerfile.contains(&format!("{secret}=")),
            "the image must not bake in {secret}"
        );
    }
}

#[test]
fn the_compose_app_runs_in_production_with_secrets_required_from_the_environment() {
    let compose = docker_file("docker-compose.yml");

    let setting = |key: &str| {
        compose
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(&format!("{key}:")).map(str::trim))
            .map(str::to_owned)
    };

    assert_eq!(setting("APP_ENV").as_deref(), Some("production"));
    for secret in [
        "JWT_SECRET",
        "LINK_SIGNING_KEY",
        "RAZORPAY_KEY_ID",
        "RAZORPAY_KEY_SECRET",
        "RAZORPAY_WEBHOOK_SECRET",
    ] {
        let value = setting(secret).unwrap_or_else(|| panic!("compose does not set {secret}"));
        assert!(
            value.starts_with(&format!("${{{secret}:?")),
            "{secret} must be required from the environment (${{{secret}:?...}}), got {value}"
        );
    }
}
