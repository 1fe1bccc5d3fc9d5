//! Product files in a local directory, with links signed and served by the app.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use nexus_catalog::{AssetError, AssetKey, AssetStore, SignedLink, StagedFile, StoredObject};
use nexus_kernel::Unexpected;
use object_store::signer::Url;
use sha2::{Digest, Sha256};

use crate::StoreConfigError;

type HmacSha256 = Hmac<Sha256>;

/// Content type reported for a file that has no recorded type (copied in by hand).
const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";
/// Appended to a file's name for the file holding its content type. `~` is not allowed in
/// asset keys, so no key can ever name one of these files (or a temporary file).
const TYPE_SUFFIX: &str = "~type";
/// Separates the signed fields and versions the link format, so a signature made for
/// anything else with the same key can never pass as a link.
const LINK_DOMAIN: &str = "nexus-asset-link-v1";
/// Read and write in chunks of this size, hashing as we go.
const CHUNK: usize = 64 * 1024;

/// The embedded asset store: files under a directory, one per key (`<root>/<key>`, plus
/// `<root>/<key>~type` holding its content type).
///
/// Download links point at the app (`{public_base_url}/api/v1/files/{key}?expires=…&name=…&sig=…`)
/// and are checked by [`AssetStore::open_link`]; the signature is HMAC-SHA256 over the key
/// and expiry only, so `name` is informational and the app takes the download name from
/// the product. There are no direct uploads. Keys never resolve outside the directory: a
/// symbolic link that leads out of it is treated as absent when reading and refused when
/// writing or deleting.
#[derive(Clone)]
pub struct LocalAssetStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Canonical (symbolic links resolved), so containment checks compare like with like.
    root: PathBuf,
    /// Without a trailing `/`.
    public_base_url: String,
    signing_key: Vec<u8>,
}

impl fmt::Debug for LocalAssetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAssetStore")
            .field("root", &self.inner.root)
            .field("public_base_url", &self.inner.public_base_url)
            .field("signing_key", &"[redacted]")
            .finish()
    }
}

impl LocalAssetStore {
    /// Opens (creating it if needed) the directory `root` as an asset store whose links start
    /// with `public_base_url` (the app's public origin, e.g. `https://shop.example.com`) and
    /// are signed with `signing_key`. Does blocking I/O: call it at start-up.
    ///
    /// # Errors
    /// `StoreConfigError::InvalidUrl` if `public_base_url` is not an absolute `http(s)` URL
    /// without query or fragment, `EmptySigningKey`, or `Root` if the directory cannot be
    /// created or resolved.
    pub fn new(
        root: PathBuf,
        public_base_url: String,
        signing_key: Vec<u8>,
    ) -> Result<Self, StoreConfigError> {
        if signing_key.is_empty() {
            return Err(StoreConfigError::EmptySigningKey);
        }
        let public_base_url = public_base_url.trim_end_matches('/').to_owned();
        let usable = Url::parse(&public_base_url).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.has_host()
                && url.query().is_none()
                && url.fragment().is_none()
        });
        if !usable {
            return Err(StoreConfigError::InvalidUrl {
                what: "the public base URL",
            });
        }
        let root_error = |source| StoreConfigError::Root {
            root: root.display().to_string(),
            source,
        };
        fs::create_dir_all(&root).map_err(root_error)?;
        let canonical = fs::canonicalize(&root).map_err(root_error)?;
        Ok(Self {
            inner: Arc::new(Inner {
                root: canonical,
                public_base_url,
                signing_key,
            }),
        })
    }

    /// Runs blocking file work off the async executor.
    async fn blocking<T, F>(&self, what: &'static str, work: F) -> Result<T, AssetError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AssetError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| AssetError::Unexpected(Unexpected::new(what, e)))?
    }
}

impl Inner {
    fn mac(&self, key: &str, expires: i64) -> Result<HmacSha256, AssetError> {
        // HMAC takes keys of any length, so this never fails in practice.
        let mut mac = HmacSha256::new_from_slice(&self.signing_key)
            .map_err(|e| Unexpected::new("keying the link signature", e))?;
        mac.update(format!("{LINK_DOMAIN}\n{key}\n{expires}").as_bytes());
        Ok(mac)
    }

    fn signature_matches(&self, key: &str, expires: i64, signature_hex: &str) -> bool {
        let Ok(signature) = hex::decode(signature_hex) else {
            return false;
        };
        // `verify_slice` compares in constant time.
        self.mac(key, expires)
            .is_ok_and(|mac| mac.verify_slice(&signature).is_ok())
    }

    /// The file stored under `key`, resolved through any symbolic links; `None` when there is
    /// none or it lies outside the root.
    fn existing_file(&self, key: &str) -> io::Result<Option<PathBuf>> {
        let path = match fs::canonicalize(self.root.join(key)) {
            Ok(path) => path,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !path.starts_with(&self.root) {
            tracing::warn!(key, "asset path leads outside the store directory; ignored");
            return Ok(None);
        }
        Ok(fs::metadata(&path)?.is_file().then_some(path))
    }

    /// The directory that holds `key`'s file, created as needed, never outside the root.
    fn parent_dir(&self, key: &AssetKey) -> Result<PathBuf, AssetError> {
        let mut dir = self.root.clone();
        let mut parts: Vec<&str> = key.as_str().split('/').collect();
        parts.pop();
        for part in parts {
            let next = dir.join(part);
            if let Err(e) = fs::create_dir(&next)
                && e.kind() != io::ErrorKind::AlreadyExists
            {
                return Err(unexpected("creating an asset directory", e));
            }
            // Resolve what is there now (ours, or a link someone placed) and check it.
            let resolved = fs::canonicalize(&next)
                .map_err(|e| unexpected("resolving an asset directory", e))?;
            if !resolved.starts_with(&self.root) {
                return Err(escapes());
            }
            if !resolved.is_dir() {
                return Err(AssetError::Unexpected(Unexpected::msg(
                    "an asset key's directory is taken by a file",
                )));
            }
            dir = resolved;
        }
        Ok(dir)
    }

    /// Like [`Self::parent_dir`] but creates nothing: `None` if the directory is missing.
    fn existing_parent_dir(&self, key: &AssetKey) -> Result<Option<PathBuf>, AssetError> {
        let path = self.root.join(key.as_str());
        let Some(parent) = path.parent() else {
            return Ok(Some(self.root.clone()));
        };
        match fs::canonicalize(parent) {
            Ok(dir) if dir.starts_with(&self.root) => Ok(Some(dir)),
            Ok(_) => Err(escapes()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unexpected("resolving an asset directory", e)),
        }
    }

    fn put(
        &self,
        key: &AssetKey,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let dir = self.parent_dir(key)?;
        let name = file_name(key);
        // The type first: a reader racing this write sees the old bytes with the new type
        // for a moment, never new bytes without a type file.
        write_atomically(
            &dir,
            &format!("{name}{TYPE_SUFFIX}"),
            content_type.as_bytes(),
        )
        .map_err(|e| unexpected("writing an asset's content type", e))?;
        let sha256 =
            write_atomically(&dir, name, bytes).map_err(|e| unexpected("writing an asset", e))?;
        Ok(StoredObject {
            key: key.clone(),
            size: bytes.len() as u64,
            content_type: content_type.to_owned(),
            sha256_hex: sha256,
        })
    }

    fn put_file(
        &self,
        key: &AssetKey,
        file: &StagedFile,
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let dir = self.parent_dir(key)?;
        let name = file_name(key);
        write_atomically(
            &dir,
            &format!("{name}{TYPE_SUFFIX}"),
            content_type.as_bytes(),
        )
        .map_err(|e| unexpected("writing an asset's content type", e))?;
        move_into_place(&file.path, &dir, name).map_err(|e| unexpected("storing an asset", e))?;
        Ok(StoredObject {
            key: key.clone(),
            size: file.size,
            content_type: content_type.to_owned(),
            sha256_hex: file.sha256_hex.clone(),
        })
    }

    fn head(&self, key: &AssetKey) -> Result<Option<StoredObject>, AssetError> {
        let Some(path) = self
            .existing_file(key.as_str())
            .map_err(|e| unexpected("finding an asset", e))?
        else {
            return Ok(None);
        };
        let (size, sha256) = hash_file(&path).map_err(|e| unexpected("reading an asset", e))?;
        Ok(Some(StoredObject {
            key: key.clone(),
            size,
            content_type: self.content_type(key)?,
            sha256_hex: sha256,
        }))
    }

    fn read(&self, key: &AssetKey) -> Result<(Vec<u8>, String), AssetError> {
        let path = self
            .existing_file(key.as_str())
            .map_err(|e| unexpected("finding an asset", e))?
            .ok_or(AssetError::NotFound)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            // Deleted between the lookup and the read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(AssetError::NotFound),
            Err(e) => return Err(unexpected("reading an asset", e)),
        };
        Ok((bytes, self.content_type(key)?))
    }

    fn content_type(&self, key: &AssetKey) -> Result<String, AssetError> {
        let type_key = format!("{key}{TYPE_SUFFIX}");
        let Some(path) = self
            .existing_file(&type_key)
            .map_err(|e| unexpected("finding an asset's content type", e))?
        else {
            return Ok(FALLBACK_CONTENT_TYPE.to_owned());
        };
        match fs::read_to_string(path) {
            Ok(found) if !found.trim().is_empty() => Ok(found.trim().to_owned()),
            Ok(_) => Ok(FALLBACK_CONTENT_TYPE.to_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FALLBACK_CONTENT_TYPE.to_owned()),
            Err(e) => Err(unexpected("reading an asset's content type", e)),
        }
    }

    fn delete(&self, key: &AssetKey) -> Result<(), AssetError> {
        let Some(dir) = self.existing_parent_dir(key)? else {
            return Ok(());
        };
        let name = file_name(key);
        for file in [name.to_owned(), format!("{name}{TYPE_SUFFIX}")] {
            match fs::remove_file(dir.join(file)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(unexpected("deleting an asset", e)),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl AssetStore for LocalAssetStore {
    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn put(
        &self,
        key: &AssetKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let key = key.clone();
        let content_type = content_type.to_owned();
        self.blocking("storing an asset", move |inner| {
            inner.put(&key, &bytes, &content_type)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(key = %key, size = file.size))]
    async fn put_file(
        &self,
        key: &AssetKey,
        file: &StagedFile,
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let key = key.clone();
        let file = file.clone();
        let content_type = content_type.to_owned();
        self.blocking("storing an asset", move |inner| {
            inner.put_file(&key, &file, &content_type)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn head(&self, key: &AssetKey) -> Result<Option<StoredObject>, AssetError> {
        let key = key.clone();
        self.blocking("inspecting an asset", move |inner| inner.head(&key))
            .await
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn download_link(
        &self,
        key: &AssetKey,
        file_name: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<SignedLink, AssetError> {
        let expires_at = now
            .checked_add_signed(ttl)
            .ok_or_else(|| Unexpected::msg("a download link's expiry is out of range"))?;
        // The link carries whole seconds; report the instant it really stops working.
        let expires = expires_at.timestamp();
        let expires_at = DateTime::from_timestamp(expires, 0)
            .ok_or_else(|| Unexpected::msg("a download link's expiry is out of range"))?;
        let signature = hex::encode(
            self.inner
                .mac(key.as_str(), expires)?
                .finalize()
                .into_bytes(),
        );
        let url = Url::parse_with_params(
            &format!("{}/api/v1/files/{key}", self.inner.public_base_url),
            [
                ("expires", expires.to_string().as_str()),
                ("name", file_name),
                ("sig", signature.as_str()),
            ],
        )
        .map_err(|e| Unexpected::new("building a download link", e))?;
        Ok(SignedLink {
            url: url.into(),
            expires_at,
        })
    }

    async fn upload_link(
        &self,
        _key: &AssetKey,
        _content_type: &str,
        _ttl: Duration,
        _now: DateTime<Utc>,
    ) -> Result<Option<SignedLink>, AssetError> {
        // Uploads go through the app, which calls `put`.
        Ok(None)
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn open_link(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), AssetError> {
        // A key that could never have been issued (`..`, absolute, odd characters) is a
        // forged link, whatever its signature.
        let key = AssetKey::parse(key).map_err(|_| AssetError::InvalidLink)?;
        if !self
            .inner
            .signature_matches(key.as_str(), expires, signature)
        {
            return Err(AssetError::InvalidLink);
        }
        // Valid up to and including the second it names.
        if now.timestamp() > expires {
            return Err(AssetError::InvalidLink);
        }
        self.blocking("serving an asset", move |inner| inner.read(&key))
            .await
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn delete(&self, key: &AssetKey) -> Result<(), AssetError> {
        let key = key.clone();
        self.blocking("deleting an asset", move |inner| inner.delete(&key))
            .await
    }
}

/// The last segment of a key (keys have no empty segments).
fn file_name(key: &AssetKey) -> &str {
    key.as_str().rsplit('/').next().unwrap_or(key.as_str())
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so readers see the
/// old or the new content, never a mix; returns the SHA-256 of what was written.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<String> {
    let mut temp = tempfile::Builder::new()
        .prefix(".")
        .suffix("~tmp")
        .tempfile_in(dir)?;
    let mut hasher = Sha256::new();
    for chunk in bytes.chunks(CHUNK) {
        hasher.update(chunk);
        temp.write_all(chunk)?;
    }
    temp.as_file().sync_all()?;
    // `persist` renames over the final name; a failure drops (deletes) the temporary file.
    temp.persist(dir.join(name)).map_err(|e| e.error)?;
    // Make the rename itself durable.
    File::open(dir)?.sync_all()?;
    Ok(hex::encode(hasher.finalize()))
}

/// Moves the file at `source` to `dir/name`, replacing what is there, so readers see the old
/// or the new content, never a mix: a rename when both are on one file system (no byte is
/// copied), otherwise a streamed copy into a temporary file in `dir` and a rename of that.
/// The source is synced first, so the stored file is durable once the rename is.
fn move_into_place(source: &Path, dir: &Path, name: &str) -> io::Result<()> {
    File::open(source)?.sync_all()?;
    let target = dir.join(name);
    if fs::rename(source, &target).is_err() {
        // Most likely another file system (EXDEV); a real I/O problem fails the copy too.
        let mut temp = tempfile::Builder::new()
            .prefix(".")
            .suffix("~tmp")
            .tempfile_in(dir)?;
        io::copy(&mut File::open(source)?, temp.as_file_mut())?;
        temp.as_file().sync_all()?;
        temp.persist(&target).map_err(|e| e.error)?;
    }
    File::open(dir)?.sync_all()
}

/// Size and SHA-256 of a file, read in chunks.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; CHUNK];
    let mut size = 0_u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn unexpected(context: &'static str, source: io::Error) -> AssetError {
    AssetError::Unexpected(Unexpected::new(context, source))
}

fn escapes() -> AssetError {
    AssetError::Unexpected(Unexpected::msg(
        "an asset key resolves outside the store directory",
    ))
}
