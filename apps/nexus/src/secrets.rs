//! Secret settings, and the keys an operator may leave unset outside production.
//!
//! [`Secret`] wraps `secrecy::SecretString`: it never prints (`Debug` and `Serialize` give
//! `[redacted]`, there is no `Display`) and its memory is wiped on drop; `expose` is called
//! only where an adapter is built. A missing signing key is generated once and kept in the
//! data directory (mode 0600) so restarts keep sessions and links valid. No key is ever a
//! constant in the code: a published key lets anyone sign tokens or links.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

/// What a secret prints as, wherever it is shown.
pub const REDACTED: &str = "[redacted]";

/// A secret setting: signing keys, passwords, credentials (also inside URLs).
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret itself, for the one place that builds the adapter needing it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The value as a URL with its password (and any password-like query parameter)
    /// replaced by `[redacted]`: what may be shown of a database, Redis or SMTP URL.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        redact_url(self.expose())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// `url` with the password of its user part and the values of query parameters that look
/// like credentials (`password`, `secret`, `token`, `key`) replaced by `[redacted]`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let mut out = match head.split_once("://") {
        // The last `@` ends the user part, so a password holding `/` or `@` is still hidden.
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((user_info, host)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:{REDACTED}@{host}"),
                None => head.to_owned(),
            },
            None => head.to_owned(),
        },
        None => head.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if looks_secret(name) => format!("{name}={REDACTED}"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "secret", "token", "key"]
        .iter()
        .any(|word| name.contains(word))
}

/// File (under `DATA_DIR`) of the token signing key used when `JWT_SECRET` is unset.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// File (under `DATA_DIR`) of the link signing key used when `LINK_SIGNING_KEY` is unset.
pub const LINK_SIGNING_KEY_FILE: &str = "link-signing-key";
/// File (under `DATA_DIR`) of the preview signing key used when `PREVIEW_SIGNING_KEY` is
/// unset.
pub const PREVIEW_SIGNING_KEY_FILE: &str = "preview-signing-key";

/// Random bytes in a generated key (hex-encoded in the file).
const GENERATED_BYTES: usize = 32;

/// Why a kept key could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    /// Reading, creating or protecting the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// The file exists but does not hold a usable key.
    #[error("{0} does not hold a key of at least 32 characters; delete it to make a new one")]
    Unusable(PathBuf),
    /// The system's random number generator failed.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// `configured` when set; otherwise the key kept in `<data_dir>/<file>`, generated (random,
/// file mode 0600) on first use. Concurrent first starts agree on one key: the file appears
/// atomically and whoever loses the race reads the winner's.
///
/// # Errors
/// `SecretFileError` when the file cannot be read or created, or holds no usable key.
pub fn resolve(
    configured: Option<&Secret>,
    data_dir: &Path,
    file: &str,
) -> Result<Secret, SecretFileError> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = data_dir.join(file);
    let io = |source| SecretFileError::Io {
        path: path.clone(),
        source,
    };
    if !path.exists() {
        fs::create_dir_all(data_dir).map_err(io)?;
        let mut bytes = [0u8; GENERATED_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| SecretFileError::Random(e.to_string()))?;
        let tmp = data_dir.join(format!(".{file}.{}", uuid::Uuid::now_v7().simple()));
        write_private(&tmp, hex::encode(bytes).as_bytes()).map_err(io)?;
        // A hard link never replaces an existing file: if another process got there first,
        // its key stands.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => tracing::info!(file, "generated a signing key in the data directory"),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
    }
    let text = fs::read_to_string(&path).map_err(io)?;
    let key = text.trim();
    if key.len() < 32 {
        return Err(SecretFileError::Unusable(path));
    }
    Ok(Secret::new(key))
}

/// Writes `contents` to a new file readable and writable by the owner only.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_secret_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let configured = Secret::new("c".repeat(40));

        let secret = resolve(Some(&configured), dir.path(), JWT_SECRET_FILE).expect("resolves");

        assert_eq!(secret.expose(), configured.expose());
        assert!(!dir.path().join(JWT_SECRET_FILE).exists());
    }

    #[test]
    fn a_generated_key_is_private_random_and_kept_across_calls() {
        let dir = tempfile::tempdir().expect("temp dir");

        let first = resolve(None, dir.path(), JWT_SECRET_FILE).expect("generates");
        let again = resolve(None, dir.path(), JWT_SECRET_FILE).expect("reads");
        let other = resolve(None, dir.path(), LINK_SIGNING_KEY_FILE).expect("generates");

        assert_eq!(first.expose(), again.expose(), "a restart keeps the key");
        assert_ne!(first.expose(), other.expose(), "each use has its own key");
        assert_eq!(first.expose().len(), GENERATED_BYTES * 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(JWT_SECRET_FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_unusable_key_file_is_an_error_not_a_weak_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(JWT_SECRET_FILE), "short").expect("write");

        let result = resolve(None, dir.path(), JWT_SECRET_FILE);

        assert!(matches!(result, Err(SecretFileError::Unusable(_))));
    }

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("hunter2-hunter2");

        let debug = format!("{secret:?}");
        let json = serde_json::to_string(&secret).expect("serializes");

        assert_eq!(debug, REDACTED);
        assert_eq!(json, format!("\"{REDACTED}\""));
    }

    #[test]
    fn a_url_shows_everything_but_its_credentials() {
        let cases = [
            (
                "postgres://nexus:hunter2@db:5432/nexus",
                "postgres://nexus:[redacted]@db:5432/nexus",
            ),
            (
                "smtps://user:p%40ss@mail.example.com:465",
                "smtps://user:[redacted]@mail.example.com:465",
            ),
            (
                "redis://:hunter2@cache:6379/0",
                "redis://:[redacted]@cache:6379/0",
            ),
            ("redis://cache:6379", "redis://cache:6379"),
            (
                "sqlite://./data/nexus.db?mode=rwc",
                "sqlite://./data/nexus.db?mode=rwc",
            ),
            (
                "postgres://db/nexus?user=u&password=hunter2",
                "postgres://db/nexus?user=u&password=[redacted]",
            ),
            ("smtp://user@mail:25", "smtp://user@mail:25"),
            (
                "postgres://nexus:a/b@c@db/nexus",
                "postgres://nexus:[redacted]@db/nexus",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
