//! `LocalAssetStore` on a temporary directory: storage, signed links, and keys that try to
//! leave the directory.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use nexus_catalog::{AssetError, AssetKey, AssetStore, StagedFile};
use nexus_object_store::{LocalAssetStore, StoreConfigError};
use reqwest::Url;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const BASE_URL: &str = "https://shop.example.com";
const SIGNING_KEY: &[u8] = b"test-signing-key-of-32-bytes-abc";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 10, 0, 0)
        .single()
        .expect("a valid instant")
}

fn key(raw: &str) -> AssetKey {
    AssetKey::parse(raw).expect("a valid key")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

struct Fixture {
    dir: TempDir,
    store: LocalAssetStore,
}

impl Fixture {
    fn new() -> Self {
        let dir = TempDir::new().expect("a temporary directory");
        let store = LocalAssetStore::new(
            dir.path().join("assets"),
            format!("{BASE_URL}/"),
            SIGNING_KEY.to_vec(),
        )
        .expect("a local store");
        Self { dir, store }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("assets")
    }
}

/// The parts of a download link that the app hands to `open_link`.
struct LinkParts {
    key: String,
    expires: i64,
    sig: String,
    name: String,
}

fn parts(url: &str) -> LinkParts {
    let url = Url::parse(url).expect("an absolute URL");
    let key = url
        .path()
        .strip_prefix("/api/v1/files/")
        .expect("the files route")
        .to_owned();
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in the link"))
    };
    LinkParts {
        key,
        expires: query("expires").parse().expect("numeric expiry"),
        sig: query("sig"),
        name: query("name"),
    }
}

/// Signs like the store does (documented in its README), to forge links that carry a
/// correct signature for keys the store would never issue.
fn sign(key: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_KEY).expect("any key length");
    mac.update(format!("nexus-asset-link-v1\n{key}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn stored_file_comes_back_through_its_link_byte_for_byte() {
    let fx = Fixture::new();
    let bytes: Vec<u8> = (0..=255_u8).cycle().take(200_000).collect();
    let key = key("products/01a/guide.pdf");
    fx.store
        .put(&key, bytes.clone(), "application/pdf")
        .await
        .expect("put");

    let link = fx
        .store
        .download_link(&key, "Guide 2025.pdf", Duration::minutes(10), now())
        .await
        .expect("link");
    let p = parts(&link.url);
    let (served, content_type) = fx
        .store
        .open_link(&p.key, p.expires, &p.sig, now())
        .await
        .expect("open");

    assert_eq!(served, bytes);
    assert_eq!(content_type, "application/pdf");
    assert!(
        link.url
            .starts_with("https://shop.example.com/api/v1/files/products/01a/guide.pdf?"),
        "{}",
        link.url
    );
    assert_eq!(p.name, "Guide 2025.pdf");
    assert_eq!(link.expires_at, now() + Duration::minutes(10));
    assert_eq!(p.expires, link.expires_at.timestamp());
}

#[tokio::test]
async fn put_and_head_report_size_type_and_sha256_of_the_bytes() {
    let fx = Fixture::new();
    let key = key("a/b/c.txt");

    let stored = fx
        .store
        .put(&key, b"hello world".to_vec(), "text/plain")
        .await
        .expect("put");
    let headed = fx.store.head(&key).await.expect("head");

    assert_eq!(stored.size, 11);
    assert_eq!(stored.content_type, "text/plain");
    assert_eq!(
        stored.sha256_hex,
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    assert_eq!(headed, Some(stored));
    assert_eq!(
        std::fs::read(fx.root().join("a/b/c.txt")).expect("the file under root/key"),
        b"hello world"
    );
}

#[tokio::test]
async fn put_replaces_content_and_leaves_no_temporary_files() {
    let fx = Fixture::new();
    let key = key("x/file.bin");
    fx.store
        .put(&key, vec![1; 1000], "application/octet-stream")
        .await
        .expect("first put");

    let stored = fx
        .store
        .put(&key, vec![2; 10], "application/zip")
        .await
        .expect("second put");

    let headed = fx.store.head(&key).await.expect("head").expect("present");
    assert_eq!(headed, stored);
    assert_eq!(headed.sha256_hex, sha256_hex(&[2; 10]));
    assert_eq!(headed.content_type, "application/zip");
    let mut names: Vec<String> = std::fs::read_dir(fx.root().join("x"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["file.bin", "file.bin~type"]);
}

/// Writes `bytes` to `name` in `dir` as a staged upload.
fn staged(dir: &std::path::Path, name: &str, bytes: &[u8]) -> StagedFile {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the staged file");
    StagedFile {
        path,
        size: bytes.len() as u64,
        sha256_hex: sha256_hex(bytes),
    }
}

#[tokio::test]
async fn a_staged_file_is_moved_into_place_with_its_size_and_checksum() {
    let fx = Fixture::new();
    let staging = fx.dir.path().join("staging");
    std::fs::create_dir(&staging).expect("a staging directory");
    let bytes: Vec<u8> = (0..=255_u8).cycle().take(3 * 1024 * 1024 + 7).collect();
    let file = staged(&staging, "upload-1", &bytes);
    let key = key("products/01a/big.zip");

    let stored = fx
        .store
        .put_file(&key, &file, "application/zip")
        .await
        .expect("put_file");

    assert_eq!(stored.size, bytes.len() as u64);
    assert_eq!(stored.sha256_hex, sha256_hex(&bytes));
    assert_eq!(stored.content_type, "application/zip");
    assert_eq!(fx.store.head(&key).await.expect("head"), Some(stored));
    assert!(
        std::fs::read(fx.root().join("products/01a/big.zip")).expect("stored") == bytes,
        "the stored bytes differ"
    );
    assert!(!file.path.exists(), "the staged file was moved, not copied");
}

#[tokio::test]
async fn a_staged_file_replaces_the_previous_content_and_leaves_no_temporary_files() {
    let fx = Fixture::new();
    let staging = fx.dir.path().join("staging");
    std::fs::create_dir(&staging).expect("a staging directory");
    let key = key("x/file.bin");
    fx.store
        .put(&key, vec![1; 1000], "application/octet-stream")
        .await
        .expect("first put");

    let stored = fx
        .store
        .put_file(
            &key,
            &staged(&staging, "second", &[2; 10]),
            "application/zip",
        )
        .await
        .expect("put_file");

    let headed = fx.store.head(&key).await.expect("head").expect("present");
    assert_eq!(headed, stored);
    assert_eq!(headed.sha256_hex, sha256_hex(&[2; 10]));
    let mut names: Vec<String> = std::fs::read_dir(fx.root().join("x"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["file.bin", "file.bin~type"]);
}

#[tokio::test]
async fn head_of_a_missing_key_is_none() {
    let fx = Fixture::new();

    let found = fx.store.head(&key("nothing/here.pdf")).await.expect("head");

    assert_eq!(found, None);
}

#[tokio::test]
async fn file_copied_in_by_hand_is_reported_as_octet_stream() {
    let fx = Fixture::new();
    std::fs::write(fx.root().join("manual.bin"), b"abc").expect("write");

    let headed = fx
        .store
        .head(&key("manual.bin"))
        .await
        .expect("head")
        .expect("present");

    assert_eq!(headed.content_type, "application/octet-stream");
    assert_eq!(headed.sha256_hex, sha256_hex(b"abc"));
}

#[tokio::test]
async fn link_works_through_its_last_second_and_is_refused_after() {
    let fx = Fixture::new();
    let key = key("e.pdf");
    fx.store
        .put(&key, b"x".to_vec(), "application/pdf")
        .await
        .expect("put");
    let link = fx
        .store
        .download_link(&key, "e.pdf", Duration::seconds(60), now())
        .await
        .expect("link");
    let p = parts(&link.url);

    let at_expiry = fx
        .store
        .open_link(&p.key, p.expires, &p.sig, now() + Duration::seconds(60))
        .await;
    let after = fx
        .store
        .open_link(&p.key, p.expires, &p.sig, now() + Duration::seconds(61))
        .await;

    assert!(at_expiry.is_ok());
    assert!(matches!(after, Err(AssetError::InvalidLink)));
}

#[tokio::test]
async fn tampered_signature_is_refused() {
    let fx = Fixture::new();
    let key = key("t.pdf");
    fx.store
        .put(&key, b"x".to_vec(), "application/pdf")
        .await
        .expect("put");
    let link = fx
        .store
        .download_link(&key, "t.pdf", Duration::minutes(5), now())
        .await
        .expect("link");
    let p = parts(&link.url);
    let mut flipped = p.sig.clone().into_bytes();
    flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).expect("ascii");

    for bad in [
        flipped.as_str(),
        &p.sig[..p.sig.len() - 2],
        "",
        "not-hex",
        &"g".repeat(64),
    ] {
        let result = fx.store.open_link(&p.key, p.expires, bad, now()).await;
        assert!(matches!(result, Err(AssetError::InvalidLink)), "{bad}");
    }
}

#[tokio::test]
async fn link_for_one_key_does_not_open_another() {
    let fx = Fixture::new();
    for name in ["mine.pdf", "theirs.pdf"] {
        fx.store
            .put(&key(name), b"x".to_vec(), "application/pdf")
            .await
            .expect("put");
    }
    let link = fx
        .store
        .download_link(&key("mine.pdf"), "mine.pdf", Duration::minutes(5), now())
        .await
        .expect("link");
    let p = parts(&link.url);

    let other_key = fx
        .store
        .open_link("theirs.pdf", p.expires, &p.sig, now())
        .await;
    let later_expiry = fx
        .store
        .open_link(&p.key, p.expires + 3600, &p.sig, now())
        .await;

    assert!(matches!(other_key, Err(AssetError::InvalidLink)));
    assert!(matches!(later_expiry, Err(AssetError::InvalidLink)));
}

#[tokio::test]
async fn valid_link_to_a_deleted_file_is_not_found() {
    let fx = Fixture::new();
    let key = key("gone.pdf");
    fx.store
        .put(&key, b"x".to_vec(), "application/pdf")
        .await
        .expect("put");
    let link = fx
        .store
        .download_link(&key, "gone.pdf", Duration::minutes(5), now())
        .await
        .expect("link");
    let p = parts(&link.url);

    fx.store.delete(&key).await.expect("delete");
    let result = fx.store.open_link(&p.key, p.expires, &p.sig, now()).await;

    assert!(matches!(result, Err(AssetError::NotFound)));
    assert_eq!(fx.store.head(&key).await.expect("head"), None);
    fx.store.delete(&key).await.expect("deleting twice is fine");
}

#[tokio::test]
async fn keys_that_leave_the_directory_are_refused_even_when_signed() {
    let fx = Fixture::new();
    std::fs::write(fx.dir.path().join("secret.txt"), b"top secret").expect("write");
    let expires = (now() + Duration::minutes(5)).timestamp();

    for forged in [
        "../secret.txt",
        "/etc/passwd",
        "a/../../secret.txt",
        "./../secret.txt",
        "..\\secret.txt",
        "%2e%2e/secret.txt",
    ] {
        let result = fx
            .store
            .open_link(forged, expires, &sign(forged, expires), now())
            .await;
        assert!(matches!(result, Err(AssetError::InvalidLink)), "{forged}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn symbolic_links_out_of_the_directory_are_not_followed() {
    let fx = Fixture::new();
    let outside = fx.dir.path().join("outside");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.txt"), b"top secret").expect("write");
    std::os::unix::fs::symlink(&outside, fx.root().join("evil")).expect("symlink dir");
    std::os::unix::fs::symlink(outside.join("secret.txt"), fx.root().join("file-link"))
        .expect("symlink file");

    for raw in ["evil/secret.txt", "file-link"] {
        let key = key(raw);
        let link = fx
            .store
            .download_link(&key, "s.txt", Duration::minutes(5), now())
            .await
            .expect("link");
        let p = parts(&link.url);

        let headed = fx.store.head(&key).await.expect("head");
        let opened = fx.store.open_link(&p.key, p.expires, &p.sig, now()).await;

        assert_eq!(headed, None, "{raw}");
        assert!(matches!(opened, Err(AssetError::NotFound)), "{raw}");
    }
    let put = fx
        .store
        .put(&key("evil/new.txt"), b"x".to_vec(), "text/plain")
        .await;
    let deleted = fx.store.delete(&key("evil/secret.txt")).await;

    assert!(matches!(put, Err(AssetError::Unexpected(_))));
    assert!(matches!(deleted, Err(AssetError::Unexpected(_))));
    assert!(!outside.join("new.txt").exists());
    assert_eq!(
        std::fs::read(outside.join("secret.txt")).expect("still there"),
        b"top secret"
    );
}

#[tokio::test]
async fn local_store_offers_no_direct_upload() {
    let fx = Fixture::new();

    let link = fx
        .store
        .upload_link(
            &key("u.pdf"),
            "application/pdf",
            Duration::minutes(5),
            now(),
        )
        .await
        .expect("upload link");

    assert!(link.is_none());
}

#[test]
fn unusable_settings_are_refused_at_start_up() {
    let dir = TempDir::new().expect("a temporary directory");
    let root = dir.path().join("assets");

    let empty_key = LocalAssetStore::new(root.clone(), BASE_URL.to_owned(), Vec::new());
    let relative = LocalAssetStore::new(root.clone(), "/files".to_owned(), b"k".to_vec());
    let with_query = LocalAssetStore::new(root.clone(), format!("{BASE_URL}?x=1"), b"k".to_vec());
    let ftp = LocalAssetStore::new(root, "ftp://example.com".to_owned(), b"k".to_vec());
    let file_as_root = LocalAssetStore::new(
        dir.path().join("assets-file"),
        BASE_URL.to_owned(),
        b"k".to_vec(),
    );
    std::fs::write(dir.path().join("blocker"), b"").expect("write");
    let root_is_a_file = LocalAssetStore::new(
        dir.path().join("blocker"),
        BASE_URL.to_owned(),
        b"k".to_vec(),
    );

    assert!(matches!(empty_key, Err(StoreConfigError::EmptySigningKey)));
    assert!(matches!(relative, Err(StoreConfigError::InvalidUrl { .. })));
    assert!(matches!(
        with_query,
        Err(StoreConfigError::InvalidUrl { .. })
    ));
    assert!(matches!(ftp, Err(StoreConfigError::InvalidUrl { .. })));
    assert!(file_as_root.is_ok());
    assert!(matches!(root_is_a_file, Err(StoreConfigError::Root { .. })));
}

#[test]
fn debug_output_hides_the_signing_key() {
    let fx = Fixture::new();

    let dump = format!("{:?}", fx.store);

    assert!(!dump.contains("test-signing-key"), "{dump}");
    assert!(dump.contains("[redacted]"), "{dump}");
}
