//! `S3AssetStore` against a real S3 server (moto, started per test; see `support`).
//! Presigned links are fetched over HTTP exactly as a browser would.

mod support;

use chrono::{Duration, Utc};
use nexus_catalog::{AssetError, AssetKey, AssetStore, StagedFile};
use nexus_object_store::{S3AssetStore, S3Config, SecretAccessKey};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use support::S3Server;

const BUCKET: &str = "nexus-assets";

fn key(raw: &str) -> AssetKey {
    AssetKey::parse(raw).expect("a valid key")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn config(endpoint: String, public_endpoint: Option<String>) -> S3Config {
    S3Config {
        endpoint: Some(endpoint),
        public_endpoint,
        region: support::REGION.to_owned(),
        bucket: BUCKET.to_owned(),
        access_key_id: support::ACCESS_KEY_ID.to_owned(),
        secret_access_key: SecretAccessKey::new(support::SECRET_ACCESS_KEY),
        allow_http: true,
    }
}

/// A server with an empty bucket and a store on it; `None` when moto is unavailable
/// outside CI (the test then passes vacuously, with a note on stderr).
async fn s3() -> Option<(S3Server, S3AssetStore)> {
    let python = support::python()?;
    let server = S3Server::start(&python);
    server.create_bucket(BUCKET).await;
    let store = S3AssetStore::new(config(server.endpoint(), None)).expect("an S3 store");
    Some((server, store))
}

/// Replaces one character of the X-Amz-Signature value.
fn tamper_signature(url: &str) -> String {
    let at = url.find("X-Amz-Signature=").expect("a SigV4 link") + "X-Amz-Signature=".len();
    let mut bytes = url.as_bytes().to_vec();
    bytes[at + 5] = if bytes[at + 5] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test]
async fn put_then_head_reports_size_type_and_sha256() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let bytes: Vec<u8> = (0..=255_u8).cycle().take(300_000).collect();
    let key = key("products/01a/guide.pdf");

    let stored = store
        .put(&key, bytes.clone(), "application/pdf")
        .await
        .expect("put");
    let headed = store.head(&key).await.expect("head");

    assert_eq!(stored.size, 300_000);
    assert_eq!(stored.sha256_hex, sha256_hex(&bytes));
    assert_eq!(stored.content_type, "application/pdf");
    assert_eq!(headed, Some(stored));
}

/// Writes `bytes` into `dir` as a staged upload.
fn staged(dir: &tempfile::TempDir, bytes: &[u8]) -> StagedFile {
    let path = dir.path().join("upload");
    std::fs::write(&path, bytes).expect("write the staged file");
    StagedFile {
        path,
        size: bytes.len() as u64,
        sha256_hex: sha256_hex(bytes),
    }
}

#[tokio::test]
async fn a_small_staged_file_is_stored_in_one_put_with_its_size_and_sha256() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a staging directory");
    let bytes: Vec<u8> = (0..=255_u8).cycle().take(300_000).collect();
    let key = key("products/01a/small.pdf");

    let stored = store
        .put_file(&key, &staged(&dir, &bytes), "application/pdf")
        .await
        .expect("put_file");
    let headed = store.head(&key).await.expect("head");

    assert_eq!(stored.size, 300_000);
    assert_eq!(stored.sha256_hex, sha256_hex(&bytes));
    assert_eq!(headed, Some(stored));
}

#[tokio::test]
async fn a_large_staged_file_is_streamed_in_parts_and_reads_back_identical() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a staging directory");
    // Above the single-PUT limit (8 MiB): three parts of 5 MiB, the last one short.
    let bytes: Vec<u8> = (0..12 * 1024 * 1024 + 3)
        .map(|i: usize| u8::try_from(i % 251).expect("below 256"))
        .collect();
    let key = key("products/01a/large.zip");

    let stored = store
        .put_file(&key, &staged(&dir, &bytes), "application/zip")
        .await
        .expect("put_file");
    let headed = store.head(&key).await.expect("head");

    assert_eq!(stored.size, bytes.len() as u64);
    assert_eq!(stored.content_type, "application/zip");
    assert_eq!(headed, Some(stored), "S3 holds exactly the staged bytes");
}

#[tokio::test]
async fn a_staged_file_that_changed_size_is_refused() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a staging directory");
    let mut file = staged(&dir, b"seven b");
    file.size = 8;

    let result = store
        .put_file(&key("products/01a/odd.txt"), &file, "text/plain")
        .await;

    assert!(
        matches!(result, Err(AssetError::Unexpected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn presigned_download_returns_the_exact_bytes_under_the_offered_name() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let bytes: Vec<u8> = (0..100_000_u32).flat_map(u32::to_le_bytes).collect();
    let key = key("products/02b/data.zip");
    store
        .put(&key, bytes.clone(), "application/zip")
        .await
        .expect("put");
    let now = Utc::now();

    let link = store
        .download_link(&key, "Data set 2025.zip", Duration::seconds(60), now)
        .await
        .expect("link");
    let response = support::http()
        .get(&link.url)
        .send()
        .await
        .expect("GET the link");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(link.expires_at, now + Duration::seconds(60));
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.contains("filename=\"Data set 2025.zip\""),
        "{disposition}"
    );
    assert_eq!(response.bytes().await.expect("body").as_ref(), bytes);
}

#[tokio::test]
async fn expired_presigned_link_is_refused_by_the_server() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let key = key("short.pdf");
    store
        .put(&key, b"soon gone".to_vec(), "application/pdf")
        .await
        .expect("put");
    let link = store
        .download_link(&key, "short.pdf", Duration::seconds(1), Utc::now())
        .await
        .expect("link");

    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let response = support::http()
        .get(&link.url)
        .send()
        .await
        .expect("GET the link");

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = response.text().await.expect("body");
    assert!(body.contains("Request has expired"), "{body}");
}

#[tokio::test]
async fn tampered_presigned_link_is_refused_by_the_server() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    for name in ["mine.pdf", "theirs.pdf"] {
        store
            .put(&key(name), b"private".to_vec(), "application/pdf")
            .await
            .expect("put");
    }
    let link = store
        .download_link(
            &key("mine.pdf"),
            "mine.pdf",
            Duration::seconds(60),
            Utc::now(),
        )
        .await
        .expect("link");
    let genuine = support::http()
        .get(&link.url)
        .send()
        .await
        .expect("GET the link");
    assert_eq!(genuine.status(), StatusCode::OK);

    for tampered in [
        tamper_signature(&link.url),
        link.url.replace("/mine.pdf?", "/theirs.pdf?"),
        link.url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"),
        link.url.replace("mine.pdf%22", "other.pdf%22"),
    ] {
        assert_ne!(tampered, link.url, "the tampering changed nothing");
        let response = support::http()
            .get(&tampered)
            .send()
            .await
            .expect("GET the link");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{tampered}");
        let body = response.text().await.expect("body");
        assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    }
}

#[tokio::test]
async fn presigned_upload_then_head_records_size_type_and_sha256() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let key = key("uploads/direct.pdf");
    let bytes: Vec<u8> = (0..=255_u8).rev().cycle().take(70_000).collect();
    let link = store
        .upload_link(&key, "application/pdf", Duration::seconds(60), Utc::now())
        .await
        .expect("upload link")
        .expect("S3 offers direct uploads");

    let response = support::http()
        .put(&link.url)
        .header("content-type", "application/pdf")
        .body(bytes.clone())
        .send()
        .await
        .expect("PUT the link");
    let headed = store.head(&key).await.expect("head");

    assert_eq!(response.status(), StatusCode::OK);
    let headed = headed.expect("the upload is there");
    assert_eq!(headed.size, 70_000);
    assert_eq!(headed.sha256_hex, sha256_hex(&bytes));
    assert_eq!(headed.content_type, "application/pdf");
}

#[tokio::test]
async fn presigned_upload_with_another_content_type_is_refused() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let key = key("uploads/typed.pdf");
    let link = store
        .upload_link(&key, "application/pdf", Duration::seconds(60), Utc::now())
        .await
        .expect("upload link")
        .expect("S3 offers direct uploads");

    let response = support::http()
        .put(&link.url)
        .header("content-type", "text/html")
        .body("<script>")
        .send()
        .await
        .expect("PUT the link");

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(store.head(&key).await.expect("head"), None);
}

#[tokio::test]
async fn delete_then_head_finds_nothing() {
    let Some((_server, store)) = s3().await else {
        return;
    };
    let key = key("doomed.bin");
    store
        .put(&key, vec![7; 10], "application/octet-stream")
        .await
        .expect("put");

    store.delete(&key).await.expect("delete");
    let headed = store.head(&key).await.expect("head");

    assert_eq!(headed, None);
    store.delete(&key).await.expect("deleting twice is fine");
}

#[tokio::test]
async fn head_of_a_missing_key_is_none() {
    let Some((_server, store)) = s3().await else {
        return;
    };

    let headed = store.head(&key("never/stored.pdf")).await.expect("head");

    assert_eq!(headed, None);
}

#[tokio::test]
async fn app_signed_links_are_not_served_by_the_s3_store() {
    let Some((_server, store)) = s3().await else {
        return;
    };

    let result = store
        .open_link("anything.pdf", i64::MAX, "00", Utc::now())
        .await;

    assert!(matches!(result, Err(AssetError::InvalidLink)));
}

#[tokio::test]
async fn links_are_signed_for_the_public_endpoint() {
    let Some((server, _store)) = s3().await else {
        return;
    };
    let public = server.endpoint().replace("127.0.0.1", "localhost");
    let store =
        S3AssetStore::new(config(server.endpoint(), Some(public.clone()))).expect("an S3 store");
    let key = key("public.txt");
    store
        .put(&key, b"hello".to_vec(), "text/plain")
        .await
        .expect("put");

    let link = store
        .download_link(&key, "public.txt", Duration::seconds(60), Utc::now())
        .await
        .expect("link");
    let response = support::http()
        .get(&link.url)
        .send()
        .await
        .expect("GET the link");

    assert!(link.url.starts_with(&public), "{}", link.url);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.expect("body").as_ref(), b"hello");
}

#[tokio::test]
async fn missing_bucket_is_an_unexpected_error_without_credentials_in_it() {
    let Some((server, _store)) = s3().await else {
        return;
    };
    let mut settings = config(server.endpoint(), None);
    settings.bucket = "no-such-bucket".to_owned();
    let store = S3AssetStore::new(settings).expect("an S3 store");

    let result = store.put(&key("x.txt"), b"x".to_vec(), "text/plain").await;

    let Err(AssetError::Unexpected(error)) = result else {
        panic!("expected Unexpected, got {result:?}");
    };
    let mut chain = format!("{error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(" / {cause}"));
        source = cause.source();
    }
    assert!(!chain.contains(support::SECRET_ACCESS_KEY), "{chain}");
}

#[test]
fn plain_http_endpoint_needs_allow_http() {
    let mut settings = config("http://127.0.0.1:9".to_owned(), None);
    settings.allow_http = false;

    let result = S3AssetStore::new(settings);

    assert!(result.is_err());
}
