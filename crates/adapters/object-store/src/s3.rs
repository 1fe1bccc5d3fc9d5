//! Product files in S3-compatible storage, with presigned links served by the storage.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use nexus_catalog::{AssetError, AssetKey, AssetStore, SignedLink, StagedFile, StoredObject};
use nexus_kernel::Unexpected;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::{HeaderName, HeaderValue, Method, SignedUrlOptions, Signer, Url};
use object_store::{
    Attribute, Attributes, GetOptions, ObjectStore, ObjectStoreExt, PutMultipartOptions,
    PutOptions, PutPayload, WriteMultipart,
};
use sha2::{Digest, Sha256};

use crate::StoreConfigError;
use crate::https::RingHttpsConnector;

/// Content type reported for an object stored without one.
const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";
/// Payloads above this size are hashed off the async executor.
const HASH_INLINE_LIMIT: usize = 256 * 1024;
/// Staged files up to this size go up in one PUT (read into memory); larger ones as a
/// multipart upload, so memory stays bounded whatever the file's size.
const SINGLE_PUT_LIMIT: u64 = 8 * 1024 * 1024;
/// Part size of multipart uploads (S3's minimum for every part but the last is 5 MiB).
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight at once, per upload: with [`PART_SIZE`], about 15 MiB of buffers.
const PARTS_IN_FLIGHT: usize = 2;
/// Read the staged file in chunks of this size.
const READ_CHUNK: usize = 256 * 1024;
/// S3 accepts presigned links valid for one second up to seven days.
const MAX_LINK_SECONDS: i64 = 7 * 24 * 60 * 60;

/// The secret half of an S3 access key. `Debug` never prints it.
#[derive(Clone)]
pub struct SecretAccessKey(String);

impl SecretAccessKey {
    /// Wraps a secret access key.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the client that signs with it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where and how to reach an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Base URL of the S3 API, e.g. `http://127.0.0.1:9000` for a local server or an
    /// R2/MinIO endpoint; `None` for AWS itself (derived from `region`). Requests use path
    /// style (`{endpoint}/{bucket}/{key}`).
    pub endpoint: Option<String>,
    /// Base URL that browsers use to reach the same storage, when it differs from
    /// `endpoint` (say, the app talks to `http://minio:9000` inside a network while clients
    /// see `https://files.example.com`). Presigned links are signed for this host. `None`:
    /// `endpoint`.
    pub public_endpoint: Option<String>,
    /// Region, e.g. `eu-west-1` (anything for most local servers, `auto` for R2).
    pub region: String,
    /// Bucket name; the bucket must exist.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretAccessKey,
    /// Allow plain `http://` endpoints (local servers); otherwise HTTPS only.
    pub allow_http: bool,
}

/// The asset store on S3-compatible storage: objects under their keys, downloads and
/// uploads by presigned URLs that the storage serves (so [`AssetStore::open_link`] always
/// answers `InvalidLink`).
///
/// [`AssetStore::head`] reads the whole object to compute its SHA-256 (S3 keeps no SHA-256
/// of an object uploaded without a checksum): one GET, costing transfer time and request
/// charges in proportion to the object's size. Call it once after a direct upload and keep
/// the result, not on every page view.
#[derive(Clone)]
pub struct S3AssetStore {
    /// Does the I/O.
    store: AmazonS3,
    /// Signs links for the public endpoint; no I/O.
    signer: AmazonS3,
    bucket: String,
}

impl fmt::Debug for S3AssetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3AssetStore")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl S3AssetStore {
    /// Builds the store. Makes no request: a wrong bucket or key shows on first use.
    ///
    /// # Errors
    /// `StoreConfigError::InvalidUrl` if an endpoint is not an absolute `http(s)` URL (or is
    /// `http` without `allow_http`), `S3` if object_store rejects the settings.
    pub fn new(config: S3Config) -> Result<Self, StoreConfigError> {
        check_endpoint(
            config.endpoint.as_deref(),
            config.allow_http,
            "the S3 endpoint",
        )?;
        check_endpoint(
            config.public_endpoint.as_deref(),
            config.allow_http,
            "the public S3 endpoint",
        )?;
        let store = build(&config, config.endpoint.as_deref())?;
        let signer = match config.public_endpoint.as_deref() {
            Some(public) => build(&config, Some(public))?,
            None => store.clone(),
        };
        Ok(Self {
            store,
            signer,
            bucket: config.bucket,
        })
    }

    /// Lists a prefix nothing is ever stored under, for readiness probes: a bucket that
    /// answers the listing is reachable with these credentials; a missing bucket, refused
    /// credentials or no answer is an error.
    ///
    /// # Errors
    /// `Unexpected` naming the failure.
    pub async fn ping(&self) -> Result<(), AssetError> {
        let prefix = Path::from("nexus-readiness-probe");
        self.store
            .list_with_delimiter(Some(&prefix))
            .await
            .map(drop)
            .map_err(|e| unexpected("listing the S3 bucket", e))
    }

    async fn presign(
        &self,
        method: Method,
        key: &AssetKey,
        ttl: Duration,
        now: DateTime<Utc>,
        options: &SignedUrlOptions,
    ) -> Result<SignedLink, AssetError> {
        let seconds = ttl.num_seconds();
        if !(1..=MAX_LINK_SECONDS).contains(&seconds) {
            return Err(Unexpected::msg("presigned links last from 1 second to 7 days").into());
        }
        let expires_at = now
            .checked_add_signed(Duration::seconds(seconds))
            .ok_or_else(|| Unexpected::msg("a presigned link's expiry is out of range"))?;
        // The signature is dated by the system clock, which `now` is expected to be.
        let url: Url = self
            .signer
            .signed_url_opts(
                method,
                &object_path(key)?,
                std::time::Duration::from_secs(seconds.unsigned_abs()),
                options,
            )
            .await
            .map_err(|e| unexpected("presigning an S3 link", e))?;
        Ok(SignedLink {
            url: url.into(),
            expires_at,
        })
    }
}

fn build(config: &S3Config, endpoint: Option<&str>) -> Result<AmazonS3, StoreConfigError> {
    let mut builder = AmazonS3Builder::new()
        .with_region(&config.region)
        .with_bucket_name(&config.bucket)
        .with_access_key_id(&config.access_key_id)
        .with_secret_access_key(config.secret_access_key.expose())
        .with_allow_http(config.allow_http)
        .with_http_connector(RingHttpsConnector {
            allow_http: config.allow_http,
        });
    if let Some(endpoint) = endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
    }
    builder
        .build()
        .map_err(|source| StoreConfigError::S3 { source })
}

fn check_endpoint(
    endpoint: Option<&str>,
    allow_http: bool,
    what: &'static str,
) -> Result<(), StoreConfigError> {
    let Some(endpoint) = endpoint else {
        return Ok(());
    };
    let usable = Url::parse(endpoint).is_ok_and(|url| {
        url.has_host()
            && url.query().is_none()
            && match url.scheme() {
                "https" => true,
                "http" => allow_http,
                _ => false,
            }
    });
    if usable {
        Ok(())
    } else {
        Err(StoreConfigError::InvalidUrl { what })
    }
}

fn object_path(key: &AssetKey) -> Result<Path, AssetError> {
    Path::parse(key.as_str())
        .map_err(|e| AssetError::Unexpected(Unexpected::new("mapping an asset key to S3", e)))
}

/// Wraps a storage failure. A 404 is handled where it means "no such object" (`head`,
/// `delete`); anywhere else it means a missing bucket, which is a misconfiguration.
fn unexpected(context: &'static str, error: object_store::Error) -> AssetError {
    AssetError::Unexpected(Unexpected::new(context, error))
}

async fn sha256_hex(bytes: Vec<u8>) -> Result<(Vec<u8>, String), AssetError> {
    if bytes.len() <= HASH_INLINE_LIMIT {
        let digest = hex::encode(Sha256::digest(&bytes));
        return Ok((bytes, digest));
    }
    tokio::task::spawn_blocking(move || {
        let digest = hex::encode(Sha256::digest(&bytes));
        (bytes, digest)
    })
    .await
    .map_err(|e| AssetError::Unexpected(Unexpected::new("hashing an asset", e)))
}

/// Feeds the staged file to a multipart upload, a few parts in flight at a time.
async fn stream_parts(writer: &mut WriteMultipart, file: &StagedFile) -> Result<(), AssetError> {
    use tokio::io::AsyncReadExt;

    let mut source = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| Unexpected::new("opening a staged file", e))?;
    let mut buffer = vec![0; READ_CHUNK];
    let mut sent = 0_u64;
    loop {
        let read = source
            .read(&mut buffer)
            .await
            .map_err(|e| Unexpected::new("reading a staged file", e))?;
        if read == 0 {
            break;
        }
        writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| unexpected("uploading a part to S3", e))?;
        writer.write(&buffer[..read]);
        sent += read as u64;
    }
    check_staged_size(file, sent)
}

/// A staged file must still be the size it was staged with: anything else means it was
/// changed underneath us, and the recorded size and checksum would lie.
fn check_staged_size(file: &StagedFile, read: u64) -> Result<(), AssetError> {
    if read == file.size {
        Ok(())
    } else {
        Err(Unexpected::msg("a staged file changed size before it was stored").into())
    }
}

/// `attachment` with `file_name` both as a plain-ASCII fallback and RFC 6266/5987-encoded.
fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let ascii = if ascii.trim().is_empty() {
        "download".to_owned()
    } else {
        ascii
    };
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    if encoded.is_empty() {
        format!("attachment; filename=\"{ascii}\"")
    } else {
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

#[async_trait]
impl AssetStore for S3AssetStore {
    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn put(
        &self,
        key: &AssetKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let path = object_path(key)?;
        let (bytes, sha256_hex) = sha256_hex(bytes).await?;
        let size = bytes.len() as u64;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&path, PutPayload::from(bytes), options)
            .await
            .map_err(|e| unexpected("storing an asset in S3", e))?;
        Ok(StoredObject {
            key: key.clone(),
            size,
            content_type: content_type.to_owned(),
            sha256_hex,
        })
    }

    #[tracing::instrument(skip_all, fields(key = %key, size = file.size))]
    async fn put_file(
        &self,
        key: &AssetKey,
        file: &StagedFile,
        content_type: &str,
    ) -> Result<StoredObject, AssetError> {
        let path = object_path(key)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        if file.size <= SINGLE_PUT_LIMIT {
            let bytes = tokio::fs::read(&file.path)
                .await
                .map_err(|e| Unexpected::new("reading a staged file", e))?;
            check_staged_size(file, bytes.len() as u64)?;
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            self.store
                .put_opts(&path, PutPayload::from(bytes), options)
                .await
                .map_err(|e| unexpected("storing an asset in S3", e))?;
        } else {
            let options = PutMultipartOptions {
                attributes,
                ..PutMultipartOptions::default()
            };
            let upload = self
                .store
                .put_multipart_opts(&path, options)
                .await
                .map_err(|e| unexpected("starting a multipart upload to S3", e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            match stream_parts(&mut writer, file).await {
                Ok(()) => {
                    writer
                        .finish()
                        .await
                        .map_err(|e| unexpected("completing a multipart upload to S3", e))?;
                }
                Err(err) => {
                    if let Err(abort) = writer.abort().await {
                        tracing::warn!(error = %abort, "could not abort a multipart upload");
                    }
                    return Err(err);
                }
            }
        }
        Ok(StoredObject {
            key: key.clone(),
            size: file.size,
            content_type: content_type.to_owned(),
            sha256_hex: file.sha256_hex.clone(),
        })
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn head(&self, key: &AssetKey) -> Result<Option<StoredObject>, AssetError> {
        let path = object_path(key)?;
        // One GET gives size, type and bytes of the same version of the object.
        let result = match self.store.get_opts(&path, GetOptions::default()).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(unexpected("reading an asset from S3", e)),
        };
        let size = result.meta.size;
        let content_type = result
            .attributes
            .get(&Attribute::ContentType)
            .map_or(FALLBACK_CONTENT_TYPE, AsRef::as_ref)
            .to_owned();
        let mut hasher = Sha256::new();
        let mut stream = result.into_stream();
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| unexpected("reading an asset from S3", e))?
        {
            hasher.update(&chunk);
        }
        Ok(Some(StoredObject {
            key: key.clone(),
            size,
            content_type,
            sha256_hex: hex::encode(hasher.finalize()),
        }))
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn download_link(
        &self,
        key: &AssetKey,
        file_name: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<SignedLink, AssetError> {
        // S3 answers with this Content-Disposition; it is part of the signature, so the
        // download name cannot be changed by whoever holds the link.
        let options = SignedUrlOptions::default().with_query([(
            "response-content-disposition",
            content_disposition(file_name),
        )]);
        self.presign(Method::GET, key, ttl, now, &options).await
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn upload_link(
        &self,
        key: &AssetKey,
        content_type: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedLink>, AssetError> {
        // Signed, so the uploader must send exactly this Content-Type and S3 records it.
        let value = HeaderValue::from_str(content_type)
            .map_err(|e| Unexpected::new("using a content type as a header", e))?;
        let options = SignedUrlOptions::default()
            .with_signed_header(HeaderName::from_static("content-type"), value);
        self.presign(Method::PUT, key, ttl, now, &options)
            .await
            .map(Some)
    }

    async fn open_link(
        &self,
        _key: &str,
        _expires: i64,
        _signature: &str,
        _now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), AssetError> {
        // Links to S3 objects are served by S3; the app never signs any.
        Err(AssetError::InvalidLink)
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn delete(&self, key: &AssetKey) -> Result<(), AssetError> {
        match self.store.delete(&object_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unexpected("deleting an asset from S3", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_quoted_safely_and_encoded() {
        assert_eq!(
            content_disposition("report 2025.pdf"),
            "attachment; filename=\"report 2025.pdf\"; filename*=UTF-8''report%202025.pdf"
        );
        assert_eq!(
            content_disposition("naïve \"q\".pdf"),
            "attachment; filename=\"na_ve _q_.pdf\"; filename*=UTF-8''na%C3%AFve%20%22q%22.pdf"
        );
        assert_eq!(content_disposition(""), "attachment; filename=\"download\"");
    }

    #[test]
    fn secret_access_key_is_redacted_in_debug() {
        let config = S3Config {
            endpoint: None,
            public_endpoint: None,
            region: "us-east-1".to_owned(),
            bucket: "b".to_owned(),
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: SecretAccessKey::new("wJalrXUtnFEMI-very-secret"),
            allow_http: false,
        };

        let dump = format!("{config:?}");

        assert!(!dump.contains("very-secret"), "{dump}");
        assert!(dump.contains("[redacted]"), "{dump}");
    }

    #[test]
    fn plain_http_endpoints_need_allow_http() {
        assert!(matches!(
            check_endpoint(Some("http://127.0.0.1:9000"), false, "e"),
            Err(StoreConfigError::InvalidUrl { .. })
        ));
        assert!(check_endpoint(Some("http://127.0.0.1:9000"), true, "e").is_ok());
        assert!(check_endpoint(Some("https://s3.example.com"), false, "e").is_ok());
        assert!(matches!(
            check_endpoint(Some("s3.example.com"), true, "e"),
            Err(StoreConfigError::InvalidUrl { .. })
        ));
    }
}
