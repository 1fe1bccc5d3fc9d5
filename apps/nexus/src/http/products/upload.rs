//! Receiving product files: a bounded number at once, each streamed to a staging file while
//! it is counted and hashed, so memory stays flat whatever the file's size.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_multipart::Field;
use futures_util::StreamExt;
use nexus_catalog::{CatalogError, StagedFile};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::ApiError;

/// Seconds a client is asked to wait (`Retry-After`) when every upload slot is taken.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

/// Staging files older than this are left over by a process that stopped mid-upload (an
/// upload in progress is always far younger), and are deleted at start-up.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Prefix of staging files, so that a sweep never touches anything else in the directory.
const PREFIX: &str = ".upload-";

/// Stages uploaded files in a directory, at most `concurrency` at a time.
#[derive(Debug, Clone)]
pub struct UploadSpool {
    dir: PathBuf,
    slots: Arc<Semaphore>,
}

impl UploadSpool {
    /// A spool in `dir` (created if needed) receiving at most `concurrency` files at once.
    /// Does blocking I/O: call it at start-up.
    ///
    /// # Errors
    /// The I/O error when the directory cannot be created.
    pub fn new(dir: PathBuf, concurrency: usize) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        sweep(&dir, STALE_AFTER);
        Ok(Self {
            dir,
            slots: Arc::new(Semaphore::new(concurrency)),
        })
    }

    /// One upload slot, held until the permit is dropped; never waits.
    ///
    /// # Errors
    /// 503 `uploads_busy` with `Retry-After` when every slot is taken: the limit protects
    /// the server as a whole (disk, I/O), not against one client, so it is not a 429.
    pub fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ApiError::uploads_busy(BUSY_RETRY_AFTER_SECS))
    }

    /// Streams `field` into a new staging file, hashing and counting as it goes. Stops at
    /// the first byte past `max_bytes` with 413, and the partial file is deleted (as it is
    /// whenever the returned [`Spooled`] is dropped, or the request is abandoned).
    ///
    /// # Errors
    /// 413 `payload_too_large`, 400 `invalid_multipart` for a broken body, 500 for I/O.
    pub async fn receive(&self, field: &mut Field, max_bytes: u64) -> Result<Spooled, ApiError> {
        let dir = self.dir.clone();
        let temp = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new().prefix(".upload-").tempfile_in(dir)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let (file, path) = temp.into_parts();
        let mut writer = Some((file, Sha256::new()));
        let mut size = 0_u64;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::invalid_multipart(e.to_string()))?;
            size = size.saturating_add(chunk.len() as u64);
            if size > max_bytes {
                // `path` is dropped on return, which deletes the partial file.
                return Err(CatalogError::AssetTooLarge { max: max_bytes }.into());
            }
            let (mut file, mut hasher) = writer
                .take()
                .ok_or_else(|| ApiError::internal("the staging file was lost"))?;
            // Hashing and writing are blocking work: off the async executor.
            let written = tokio::task::spawn_blocking(move || {
                hasher.update(&chunk);
                file.write_all(&chunk).map(|()| (file, hasher))
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
            writer = Some(written);
        }
        let (_file, hasher) =
            writer.ok_or_else(|| ApiError::internal("the staging file was lost"))?;
        Ok(Spooled {
            path,
            size,
            sha256_hex: hex::encode(hasher.finalize()),
        })
    }
}

/// A file received in full; deleted from the staging directory when dropped (if the store
/// has not moved it away already).
#[derive(Debug)]
pub struct Spooled {
    path: TempPath,
    size: u64,
    sha256_hex: String,
}

impl Spooled {
    /// The file as the catalog's asset store takes it.
    #[must_use]
    pub fn staged(&self) -> StagedFile {
        StagedFile {
            path: self.path.to_path_buf(),
            size: self.size,
            sha256_hex: self.sha256_hex.clone(),
        }
    }
}

/// Deletes staging files older than `age` from `dir`. Best effort: a file that cannot be
/// read or removed is logged and left.
fn sweep(dir: &std::path::Path, age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|d| d > age));
        if stale && let Err(error) = std::fs::remove_file(entry.path()) {
            tracing::warn!(%error, file = ?name, "could not delete a stale staging file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_sweeps_only_stale_staging_files() {
        let dir = tempfile::tempdir().expect("a directory");
        let stale = dir.path().join(".upload-old");
        let fresh = dir.path().join(".upload-new");
        let other = dir.path().join("keep-me");
        for path in [&stale, &fresh, &other] {
            std::fs::write(path, b"x").expect("write");
        }
        let old = SystemTime::now() - Duration::from_secs(2 * 24 * 60 * 60);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .and_then(|f| f.set_modified(old))
            .expect("age the stale file");
        std::fs::File::options()
            .write(true)
            .open(&other)
            .and_then(|f| f.set_modified(old))
            .expect("age the other file");

        UploadSpool::new(dir.path().to_path_buf(), 1).expect("a spool");

        assert!(!stale.exists());
        assert!(fresh.exists());
        assert!(other.exists(), "only staging files are swept");
    }
}
