//! Graceful shutdown: `nexus serve` as its own process gets SIGTERM under load. Requests in
//! flight finish and no request the server took is reset (a request arriving on a keep-alive
//! connection just as it is closed was never taken: nothing happened, it can be sent again);
//! the delivery in hand finishes and the rest of the
//! batch is handed back at once; past the grace period the interrupted delivery is handed
//! back too. No job is lost: another worker delivers every one, each once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nexus_tests::servers::StallingSmtp;
use nexus_tests::{Role, TestApp, customer_body, eventually, expect_json, spawn_app_with};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What one background client saw.
#[derive(Default, Debug)]
struct Seen {
    /// Customers created and answered 201.
    answered: usize,
    /// Connections refused: the listener was closed, nothing was sent.
    refused: usize,
    /// Requests with no complete answer (a closed keep-alive connection, a reset), by the
    /// e-mail of the customer each tried to create.
    unanswered: Vec<(String, String)>,
    /// Answers other than 201.
    errors: Vec<String>,
}

/// Creates customers one after another on its own keep-alive connection until the server
/// stops taking connections or `stop`.
fn keep_writing(
    address: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Seen> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut seen = Seen::default();
        while !stop.load(Ordering::SeqCst) {
            let body = customer_body("Load");
            let email = body["email"].as_str().expect("an e-mail").to_owned();
            let sent = client
                .post(format!("{address}/api/v1/customers"))
                .bearer_auth(&token)
                .json(&body)
                .timeout(Duration::from_secs(20))
                .send()
                .await;
            match sent {
                Ok(res) => {
                    let status = res.status();
                    match res.bytes().await {
                        Ok(_) if status == 201 => seen.answered += 1,
                        Ok(_) => seen.errors.push(format!("status {status}")),
                        Err(e) => seen.unanswered.push((email, format!("body cut off: {e}"))),
                    }
                }
                Err(e) if e.is_connect() => {
                    seen.refused += 1;
                    break;
                }
                Err(e) => seen.unanswered.push((email, format!("{e:?}"))),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        seen
    })
}

#[tokio::test]
async fn sigterm_under_load_finishes_requests_in_flight_and_resets_none_it_took() {
    let app = spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (server, address) = app.spawn_server(&[("SHUTDOWN_GRACE_SECS", "10")]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| keep_writing(address.clone(), cso.token.clone(), stop.clone()))
        .collect();
    // A request in flight at the signal: its body arrives half before, half after.
    let body = customer_body("Inflight").to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let mut inflight = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .expect("connect");
    let request = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: nexus\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        cso.token,
        body.len()
    );
    inflight
        .write_all(request.as_bytes())
        .await
        .expect("send the first half");
    tokio::time::sleep(Duration::from_millis(500)).await;

    server.send_sigterm();
    let signalled = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    inflight
        .write_all(tail.as_bytes())
        .await
        .expect("send the rest after SIGTERM");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), inflight.read_to_end(&mut answer))
        .await
        .expect("the request in flight is answered within the grace period")
        .expect("and not reset");
    let status = server.wait().await;
    let stopped_after = signalled.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for reader in readers {
        seen.push(reader.await.expect("a reader task"));
    }

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(status.code(), Some(0), "a clean exit after SIGTERM");
    assert!(
        stopped_after < Duration::from_secs(10),
        "stopped in {stopped_after:?}"
    );
    let created: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default())
        .expect("a JSON body");
    let res = app
        .get(
            &format!(
                "/api/v1/customers/{}",
                created["id"].as_str().expect("an id")
            ),
            &cso,
        )
        .await;
    expect_json(res, 200).await;
    for s in &seen {
        assert!(s.errors.is_empty(), "error answers: {seen:?}");
        assert!(
            s.answered > 0,
            "every writer was served before the signal: {seen:?}"
        );
    }
    // A request with no answer must be one the server never took (its keep-alive connection
    // was closed as idle at the signal, before the request arrived): nothing was created, so
    // the client or load balancer can send it again. A created customer without an answer
    // would be a request reset in flight.
    let stored = stored_emails(&app).await;
    for (email, error) in seen.iter().flat_map(|s| &s.unanswered) {
        assert!(
            !stored.contains(email),
            "{email} was created but its answer was lost ({error})"
        );
    }
    let answered: usize = seen.iter().map(|s| s.answered).sum();
    let load: Vec<&String> = stored.iter().filter(|e| e.starts_with("load")).collect();
    assert_eq!(
        load.len(),
        answered,
        "every answered create is stored, once"
    );
}

/// The e-mails of every stored customer.
async fn stored_emails(app: &TestApp) -> BTreeSet<String> {
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT email FROM customers",
        ))
        .await
        .expect("the customers can be listed");
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("an e-mail"))
        .collect()
}

/// `n` approved responses: `n` e-mails waiting to be sent.
async fn approved_responses(app: &TestApp, n: usize) {
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    for _ in 0..n {
        let (_, pending) = app.pending_response(&cso).await;
        let id = pending["id"].as_str().expect("an id");
        let res = app
            .post_json(
                &format!("/api/v1/responses/{id}/approve"),
                &json!({}),
                &manager,
            )
            .await;
        assert_eq!(res.status(), 200);
    }
}

/// Every delivery, as the admin API lists them.
async fn deliveries(app: &TestApp) -> Vec<Value> {
    let admin = app.admin().await;
    let page = app.jobs("?limit=100", &admin).await;
    page["data"].as_array().expect("a list").clone()
}

#[tokio::test]
async fn sigterm_lets_the_delivery_in_hand_finish_and_hands_the_rest_back_at_once() {
    let smtp = StallingSmtp::slow(Duration::from_millis(1500));
    let smtp_url = smtp.url();
    let app = spawn_app_with(&[
        ("WORKER_IN_SERVE", "false"),
        ("SMTP_URL", &smtp_url),
        ("WORKER_POLL_MS", "50"),
        ("JOB_BATCH", "20"),
        // Long: nothing may wait for a lease to end.
        ("JOB_LEASE_SECS", "300"),
    ])
    .await;
    approved_responses(&app, 3).await;
    let waiting = deliveries(&app).await.len();
    assert!(waiting >= 3, "{waiting} deliveries");
    let (server, _) = app
        .spawn_server(&[("WORKER_IN_SERVE", "true"), ("SHUTDOWN_GRACE_SECS", "20")])
        .await;

    eventually("a delivery in hand", async || smtp.held().first().cloned()).await;
    let started = Instant::now();
    server.send_sigterm();
    let status = server.wait().await;
    let stopped_after = started.elapsed();

    assert_eq!(status.code(), Some(0));
    assert!(stopped_after < Duration::from_secs(20), "{stopped_after:?}");
    let after = deliveries(&app).await;
    assert_eq!(
        smtp.accepted().len(),
        smtp.held().len(),
        "every message begun was finished"
    );
    let handed_back: Vec<&Value> = after.iter().filter(|d| d["state"] != "DONE").collect();
    assert!(!handed_back.is_empty(), "the rest of the batch: {after:#?}");
    for d in handed_back {
        assert_eq!(
            d["state"], "PENDING",
            "handed back, not left under its lease: {d}"
        );
        assert_eq!(d["attempts"], 0, "it never ran: {d}");
    }

    let _next = app.spawn_worker(&[]);
    eventually("every delivery done by the next worker", async || {
        let all = deliveries(&app).await;
        all.iter().all(|d| d["state"] == "DONE").then_some(())
    })
    .await;
    let accepted = smtp.accepted();
    let distinct: BTreeSet<&str> = accepted.iter().map(|m| m.message_id.as_str()).collect();
    assert!(
        accepted.len() >= 3,
        "the three responses were mailed: {accepted:?}"
    );
    assert!(accepted.len() <= waiting, "{accepted:?}");
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "none sent twice: {accepted:?}"
    );
}

#[tokio::test]
async fn past_the_grace_period_the_interrupted_delivery_is_handed_back_and_sent_once() {
    let smtp = StallingSmtp::start(1);
    let smtp_url = smtp.url();
    let app = spawn_app_with(&[
        ("WORKER_IN_SERVE", "false"),
        ("SMTP_URL", &smtp_url),
        ("SMTP_TIMEOUT_SECS", "120"),
        ("WORKER_POLL_MS", "50"),
        ("JOB_BATCH", "20"),
        ("JOB_LEASE_SECS", "300"),
    ])
    .await;
    approved_responses(&app, 1).await;
    let waiting = deliveries(&app).await.len();
    let (server, _) = app
        .spawn_server(&[("WORKER_IN_SERVE", "true"), ("SHUTDOWN_GRACE_SECS", "1")])
        .await;

    let held = eventually("a delivery stuck in hand", async || {
        smtp.held().first().cloned()
    })
    .await;
    let started = Instant::now();
    server.send_sigterm();
    let status = server.wait().await;
    let stopped_after = started.elapsed();

    assert_eq!(status.code(), Some(0));
    assert!(
        stopped_after < Duration::from_secs(10),
        "cut off after the grace: {stopped_after:?}"
    );
    let after = deliveries(&app).await;
    assert!(
        after
            .iter()
            .all(|d| d["state"] == "PENDING" || d["state"] == "DONE"),
        "nothing left under its lease: {after:#?}"
    );
    let interrupted: Vec<&Value> = after.iter().filter(|d| d["attempts"] == 1).collect();
    assert_eq!(interrupted.len(), 1, "{after:#?}");
    assert!(
        interrupted[0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("interrupted")),
        "{}",
        interrupted[0]
    );

    let _next = app.spawn_worker(&[]);
    eventually(
        "every delivery done well before the lease would end",
        async || {
            let all = deliveries(&app).await;
            all.iter().all(|d| d["state"] == "DONE").then_some(())
        },
    )
    .await;
    let accepted = smtp.accepted();
    let distinct: BTreeSet<&str> = accepted.iter().map(|m| m.message_id.as_str()).collect();
    assert!(accepted.len() <= waiting, "{accepted:?}");
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "none sent twice: {accepted:?}"
    );
    assert_eq!(
        accepted
            .iter()
            .filter(|m| m.message_id == held.message_id)
            .count(),
        1,
        "the interrupted message is sent once"
    );
}
