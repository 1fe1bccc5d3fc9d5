//! Receiving product files: a bounded number at once, each streamed to a staging file while
//! it is counted and hashed, so memory stays flat whatever the file's size.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use actix_multipart::Field;
use futures_util::StreamExt;
use nexus_catalog::{CatalogError, StagedFile};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::ApiError;

/// Seconds a client is asked to wait (`Retry-After`) when every upload slot is taken.
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

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
