//! Where product files live: the asset-store port.

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use nexus_kernel::Unexpected;

/// An object key that is not safe to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "asset keys are 1 to 512 characters of letters, digits, '/', '_', '-', '.', without '..' or a leading '/'"
)]
pub struct InvalidAssetKey;

/// The key of a stored object, safe as an S3 key and as a relative file path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetKey(String);

impl AssetKey {
    /// Checks a key.
    ///
    /// # Errors
    /// `InvalidAssetKey`.
    pub fn parse(raw: &str) -> Result<Self, InvalidAssetKey> {
        let ok = (1..=512).contains(&raw.len())
            && !raw.starts_with('/')
            && !raw
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'.'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidAssetKey)
        }
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is stored under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Key.
    pub key: AssetKey,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub content_type: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256_hex: String,
}

/// A file received in full into a local staging area, with the size and SHA-256 measured
/// while it was written (so nobody reads it again to learn them).
///
/// Whoever staged the file owns it and deletes whatever is left at `path` once the store
/// has taken it: a store may move the file away instead of copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256_hex: String,
}

/// A link that works until `expires_at`.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// The URL (absolute).
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for SignedLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is a bearer credential until it expires.
        f.debug_struct("SignedLink")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why an asset operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// Nothing is stored under the key.
    #[error("no such file")]
    NotFound,
    /// An app-signed link is malformed, tampered with or expired.
    #[error("the link is invalid or expired")]
    InvalidLink,
    /// A failure that is not an outcome (storage down, I/O).
    #[error(transparent)]
    Unexpected(#[from] Unexpected),
}

/// Stores product files and hands out expiring links to them. Implementations: a local
/// directory whose links are signed by the app and served by it, and S3-compatible storage
/// with presigned URLs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AssetStore: Send + Sync {
    /// Stores `bytes` under `key` (replacing what was there) and reports size and SHA-256.
    /// For small files made in memory (invoices); product files use [`Self::put_file`].
    async fn put(
        &self,
        key: &AssetKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<StoredObject, AssetError>;

    /// Stores the staged `file` under `key` (replacing what was there) without holding it in
    /// memory, and reports its size and SHA-256 as staged. The store may move the file (the
    /// local store renames it into place) or stream it (S3); the caller removes whatever is
    /// left at `file.path` afterwards, whatever the outcome.
    async fn put_file(
        &self,
        key: &AssetKey,
        file: &StagedFile,
        content_type: &str,
    ) -> Result<StoredObject, AssetError>;

    /// What is stored under `key` (after a presigned upload, say), with its SHA-256;
    /// `Ok(None)` when nothing is.
    async fn head(&self, key: &AssetKey) -> Result<Option<StoredObject>, AssetError>;

    /// A GET link valid for `ttl` from `now`, offering `file_name` as the download name.
    async fn download_link(
        &self,
        key: &AssetKey,
        file_name: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<SignedLink, AssetError>;

    /// A presigned PUT link for direct uploads, or `Ok(None)` when the store has none (local).
    async fn upload_link(
        &self,
        key: &AssetKey,
        content_type: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedLink>, AssetError>;

    /// Serves an app-signed link: checks `expires` (unix seconds) and `signature` for `key`
    /// and returns the bytes and content type. Stores whose links are served elsewhere (S3)
    /// answer `InvalidLink`.
    async fn open_link(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), AssetError>;

    /// Deletes the object (idempotent).
    async fn delete(&self, key: &AssetKey) -> Result<(), AssetError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_their_directory() {
        for ok in ["products/01a/asset.pdf", "a", "x/y_z-1.tar.gz"] {
            assert!(AssetKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/abs",
            "a/../b",
            "..",
            "a//b",
            "a/./b",
            "sp ace",
            "ü",
            &"k".repeat(513),
        ] {
            assert_eq!(AssetKey::parse(bad), Err(InvalidAssetKey), "{bad}");
        }
    }
}
