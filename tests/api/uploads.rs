//! `POST /api/v1/products/{id}/asset` as a stream: who may upload is decided before the body
//! is read, files are staged on disk and never held whole in memory, the size limit stops
//! the stream, and concurrent uploads are bounded.
//!
//! Several tests talk raw HTTP/1.1 over a socket: they announce a large body, send only its
//! beginning, and read the answer. An answer that arrives proves the server decided without
//! reading the rest of the body (had it waited for it, the read would time out instead).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use nexus_tests::{
    Role, Signed, TestApp, assert_error, eventually, expect_json, header, product_body, spawn_app,
    spawn_app_with,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const MIB: usize = 1024 * 1024;

/// How long a raw exchange waits for the answer before concluding the server is waiting
/// for the rest of the body. Only a failing test ever waits this long.
const NO_ANSWER: Duration = Duration::from_secs(30);

fn asset_path(product: &Value) -> String {
    format!(
        "/api/v1/products/{}/asset",
        product["id"].as_str().expect("a product has an id")
    )
}

/// Deterministic bytes that are not all alike, so a checksum mix-up would show.
fn bytes_of(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 31 + i / 977) % 251).expect("below 256"))
        .collect()
}

/// What a raw exchange got back.
struct RawAnswer {
    status: u16,
    body: Value,
}

/// Sends a `multipart/form-data` request for one `file` field whose `Content-Length`
/// announces `file_len` file bytes, but writes only the first `sent_len` of them, then reads
/// the answer. Panics if no answer comes (the server waited for bytes never sent).
async fn partial_upload(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    file_len: usize,
    sent_len: usize,
) -> RawAnswer {
    let boundary = format!("nexus-raw-{}", Uuid::new_v4().simple());
    let preamble = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let epilogue = format!("\r\n--{boundary}--\r\n");
    let content_length = preamble.len() + file_len + epilogue.len();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; \
         boundary={boundary}\r\nContent-Length: {content_length}\r\n"
    );
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    let port = app.port;
    let sent = bytes_of(sent_len);
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
        stream
            .set_read_timeout(Some(NO_ANSWER))
            .expect("set a read timeout");
        stream.write_all(head.as_bytes()).expect("send the head");
        stream
            .write_all(preamble.as_bytes())
            .expect("send the preamble");
        // The server may stop reading (and close) once it has answered: later writes may fail.
        let _ = stream.write_all(&sent);
        let _ = stream.flush();
        read_answer(&mut BufReader::new(stream))
    })
    .await
    .expect("the raw exchange runs")
}

fn read_answer(reader: &mut BufReader<TcpStream>) -> RawAnswer {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap_or_else(|e| {
        panic!("no answer before the whole body was sent (the server waited for it): {e}")
    });
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read a header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a numeric Content-Length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("read the body");
    RawAnswer {
        status,
        body: serde_json::from_slice(&body).expect("a JSON body"),
    }
}

/// The files left in `dir` (the staging directory of the test's app).
fn staged_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The stored product files under `dir` (not their `~type` companions), at any depth.
fn stored_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.to_string_lossy().ends_with("~type") {
                found.push(path);
            }
        }
    }
    found
}

/// An app whose files are limited to `max_bytes`, staging uploads in a directory the test
/// can inspect, plus its manager and a draft product.
async fn app_with_limit(
    max_bytes: usize,
    extra: &[(&str, &str)],
) -> (TestApp, tempfile::TempDir, Signed, Value) {
    let staging = tempfile::tempdir().expect("a staging directory");
    let dir = staging.path().display().to_string();
    let max = max_bytes.to_string();
    let mut settings = vec![
        ("ASSET_MAX_BYTES", max.as_str()),
        ("UPLOAD_DIR", dir.as_str()),
    ];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(&settings).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .create_product(&manager, &product_body("Big deck", 9_900))
        .await;
    (app, staging, manager, product)
}

#[tokio::test]
async fn a_customer_is_refused_before_the_server_reads_the_body() {
    let (app, staging, _, product) = app_with_limit(100 * MIB, &[]).await;
    let customer = app.sign_in_as(Role::Customer).await;

    // 200 MiB announced (twice the limit), 256 KiB sent.
    let over = partial_upload(
        &app,
        &asset_path(&product),
        Some(&customer.token),
        200 * MIB,
        MIB / 4,
    )
    .await;
    // A normal-sized file, of which only the start is sent.
    let normal = partial_upload(
        &app,
        &asset_path(&product),
        Some(&customer.token),
        2 * MIB,
        MIB / 4,
    )
    .await;
    let anonymous = partial_upload(&app, &asset_path(&product), None, 200 * MIB, MIB / 4).await;

    assert_eq!(
        (over.status, &over.body["error"]),
        (403, &json!("forbidden"))
    );
    assert_eq!(
        (normal.status, &normal.body["error"]),
        (403, &json!("forbidden"))
    );
    assert_eq!(
        (anonymous.status, &anonymous.body["error"]),
        (401, &json!("unauthorized"))
    );
    assert!(staged_files(staging.path()).is_empty());
}

#[tokio::test]
async fn a_customer_sending_a_whole_file_gets_403_and_nothing_is_stored() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let customer = app.sign_in_as(Role::Customer).await;
    let product = app
        .create_product(&manager, &product_body("Deck", 9_900))
        .await;

    let res = app
        .post_file(
            &asset_path(&product),
            "file",
            "deck.pdf",
            "application/pdf",
            &bytes_of(64 * 1024),
            &customer,
        )
        .await;

    assert_error(res, 403, "forbidden").await;
    let res = app
        .get(&format!("/api/v1/admin/products?q={}", "Deck"), &manager)
        .await;
    let page = expect_json(res, 200).await;
    assert_eq!(page["data"][0]["hasAsset"], false, "{page}");
}

#[tokio::test]
async fn a_file_over_the_limit_stops_the_stream_with_413_and_leaves_nothing_behind() {
    let (app, staging, manager, product) = app_with_limit(MIB, &[]).await;

    // 50 MiB announced; the server must give up after the first MiB and a bit.
    let answer = partial_upload(
        &app,
        &asset_path(&product),
        Some(&manager.token),
        50 * MIB,
        MIB + 128 * 1024,
    )
    .await;

    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(answer.body["error"], "payload_too_large");
    assert_eq!(answer.body["statusCode"], 413);
    assert!(answer.body["requestId"].is_string(), "{}", answer.body);
    assert!(
        staged_files(staging.path()).is_empty(),
        "{:?}",
        staged_files(staging.path())
    );
    let res = app.get("/api/v1/admin/products", &manager).await;
    assert_eq!(expect_json(res, 200).await["data"][0]["hasAsset"], false);
}

#[tokio::test]
async fn a_file_exactly_at_the_limit_is_accepted_and_one_byte_more_is_413() {
    let (app, _staging, manager, product) = app_with_limit(MIB, &[]).await;

    let over = app
        .post_file(
            &asset_path(&product),
            "file",
            "deck.pdf",
            "application/pdf",
            &bytes_of(MIB + 1),
            &manager,
        )
        .await;
    let exact = app
        .post_file(
            &asset_path(&product),
            "file",
            "deck.pdf",
            "application/pdf",
            &bytes_of(MIB),
            &manager,
        )
        .await;

    assert_error(over, 413, "payload_too_large").await;
    assert_eq!(expect_json(exact, 200).await["asset"]["size"], MIB);
}

#[tokio::test]
async fn a_streamed_upload_records_the_exact_size_and_sha256_and_stores_the_bytes() {
    let files = tempfile::tempdir().expect("a files directory");
    let files_dir = files.path().display().to_string();
    let (app, staging, manager, product) =
        app_with_limit(100 * MIB, &[("FILES_DIR", files_dir.as_str())]).await;
    // Larger than any single read or write buffer on the way.
    let file = bytes_of(3 * MIB + 12_345);

    let res = app
        .post_file(
            &asset_path(&product),
            "file",
            "deck.pdf",
            "application/pdf",
            &file,
            &manager,
        )
        .await;

    let uploaded = expect_json(res, 200).await;
    assert_eq!(
        uploaded["asset"],
        json!({
            "fileName": "deck.pdf",
            "contentType": "application/pdf",
            "size": file.len(),
            "sha256": hex::encode(Sha256::digest(&file)),
        })
    );
    assert!(staged_files(staging.path()).is_empty());
    // The stored bytes are the uploaded ones (the local store moved the staged file).
    let stored = stored_files(&files.path().join("products"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    let bytes = std::fs::read(&stored[0]).expect("the stored file");
    assert_eq!(bytes.len(), file.len());
    assert!(
        bytes == file,
        "the stored bytes differ from the uploaded ones"
    );
}

#[tokio::test]
async fn uploads_beyond_the_concurrency_limit_get_503_with_retry_after() {
    let (app, _staging, manager, product) =
        app_with_limit(100 * MIB, &[("UPLOAD_CONCURRENCY", "1")]).await;
    let path = asset_path(&product);
    // Hold the only slot: a body announced at 50 MiB of which a little is sent, on a
    // socket kept open (the server waits for the rest). Should a probe below win the slot
    // first, the holder is refused and simply tries again.
    let port = app.port;
    let token = manager.token.clone();
    let holder_path = path.clone();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let boundary = "nexus-holder";
        let preamble = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"held.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        );
        let head = format!(
            "POST {holder_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            50 * MIB
        );
        loop {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream.write_all(head.as_bytes()).expect("head");
            stream.write_all(preamble.as_bytes()).expect("preamble");
            stream.write_all(&bytes_of(64 * 1024)).expect("some bytes");
            stream
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("a read timeout");
            let mut byte = [0_u8; 1];
            loop {
                if !matches!(
                    release_rx.try_recv(),
                    Err(std::sync::mpsc::TryRecvError::Empty)
                ) {
                    return;
                }
                match stream.read(&mut byte) {
                    // Still waiting for the body: the slot is held.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    // Answered (refused) or closed: try again.
                    _ => break,
                }
            }
        }
    });

    let busy = eventually("the held upload to take the only slot", async || {
        let res = app
            .post_file(
                &path,
                "file",
                "deck.pdf",
                "application/pdf",
                b"%PDF-1.4",
                &manager,
            )
            .await;
        (res.status() == 503).then_some(res)
    })
    .await;

    let retry_after = header(&busy, "retry-after");
    assert_error(busy, 503, "uploads_busy").await;
    assert_eq!(retry_after.as_deref(), Some("5"));
    release_tx.send(()).expect("release the holder");
    holder.join().expect("the holder ends");
    // Once the slot is free again, uploads go through.
    let done = eventually("the slot to be released", async || {
        let res = app
            .post_file(
                &path,
                "file",
                "deck.pdf",
                "application/pdf",
                b"%PDF-1.4",
                &manager,
            )
            .await;
        (res.status() == 200).then_some(res)
    })
    .await;
    assert_eq!(expect_json(done, 200).await["asset"]["size"], 8);
}
