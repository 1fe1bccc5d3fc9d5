//! Keys the service needs but an operator may leave unset outside production: generated once,
//! kept in the data directory (mode 0600) so restarts keep sessions and links valid.
//!
//! No key is ever a constant in the code: a published key lets anyone sign tokens or links.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::settings::Secret;

/// File (under `DATA_DIR`) of the token signing key used when `JWT_SECRET` is unset.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// File (under `DATA_DIR`) of the link signing key used when `LINK_SIGNING_KEY` is unset.
pub const LINK_SIGNING_KEY_FILE: &str = "link-signing-key";

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

        assert_eq!(secret, configured);
        assert!(!dir.path().join(JWT_SECRET_FILE).exists());
    }

    #[test]
    fn a_generated_key_is_private_random_and_kept_across_calls() {
        let dir = tempfile::tempdir().expect("temp dir");

        let first = resolve(None, dir.path(), JWT_SECRET_FILE).expect("generates");
        let again = resolve(None, dir.path(), JWT_SECRET_FILE).expect("reads");
        let other = resolve(None, dir.path(), LINK_SIGNING_KEY_FILE).expect("generates");

        assert_eq!(first, again, "a restart keeps the key");
        assert_ne!(first, other, "each use has its own key");
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
}
