//! Faults: the database restarted under load, Redis stopped and started again, a worker killed
//! in the middle of a job. Each test breaks only servers it owns (`nexus_tests::servers`): a
//! private PostgreSQL or Redis on its own port and data directory, its own worker processes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexus_tests::servers::{PrivatePostgres, PrivateRedis, StallingSmtp, killed_by, spawn_app_on};
use nexus_tests::{
    Role, Signed, SmtpSink, TestApp, assert_error, customer_body, eventually, expect_json, header,
    note, spawn_app_with,
};
use reqwest::{Method, Response};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

/// An upper bound on any one request of these tests: a request that hangs through an outage
/// fails the test instead of stalling it.
const REQUEST_LIMIT: Duration = Duration::from_secs(20);

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Response {
    let mut builder = app.request(method, path, token).timeout(REQUEST_LIMIT);
    if let Some(body) = body {
        builder = builder.json(body);
    }
    builder
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer within {REQUEST_LIMIT:?}: {e}"))
}

/// Asserts `res` is 503 `service_unavailable` in the uniform body, with a `Retry-After`.
async fn assert_unavailable(res: Response) -> Value {
    let retry_after = header(&res, "retry-after");
    let path = res.url().path().to_owned();
    let body = assert_error(res, 503, "service_unavailable").await;
    assert!(
        retry_after
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|secs| secs > 0),
        "{path}: 503 without a Retry-After in seconds: {retry_after:?}"
    );
    body
}

async fn approve(app: &TestApp, response: &Value, token: &str) -> Response {
    let id = response["id"].as_str().expect("a response has an id");
    let path = format!("/api/v1/responses/{id}/approve");
    send(app, Method::POST, &path, Some(&json!({})), Some(token)).await
}

async fn response_status(app: &TestApp, response: &Value, token: &Signed) -> Value {
    let id = response["id"].as_str().expect("a response has an id");
    let res = app.get(&format!("/api/v1/responses/{id}"), token).await;
    expect_json(res, 200).await["status"].clone()
}

/// `(e-mail, rows with it)` for every stored customer.
async fn stored_customers(app: &TestApp) -> HashMap<String, i64> {
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT email, COUNT(*) FROM customers GROUP BY email",
        ))
        .await
        .expect("the customers can be counted");
    rows.iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).expect("an e-mail"),
                row.try_get_by_index::<i64>(1).expect("a count"),
            )
        })
        .collect()
}

/// What the background writer saw: for each customer it tried to create, the e-mail and the
/// status; and the status of each list it read in between.
#[derive(Default)]
struct Traffic {
    creates: Vec<(String, u16)>,
    reads: Vec<u16>,
}

impl Traffic {
    fn statuses(&self) -> impl Iterator<Item = u16> + '_ {
        self.creates
            .iter()
            .map(|(_, s)| *s)
            .chain(self.reads.iter().copied())
    }

    fn count(&self, status: u16) -> usize {
        self.statuses().filter(|s| *s == status).count()
    }
}

/// Creates customers and reads the list, one after the other, until `stop`: the load the
/// database restart happens under.
fn keep_writing(
    app: &TestApp,
    token: &str,
    stop: Arc<AtomicBool>,
    traffic: Arc<Mutex<Traffic>>,
) -> tokio::task::JoinHandle<()> {
    let client = app.client.clone();
    let base = app.address.clone();
    let token = token.to_owned();
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            let body = customer_body("Fault");
            let email = body["email"].as_str().expect("an e-mail").to_owned();
            let created = client
                .post(format!("{base}/api/v1/customers"))
                .bearer_auth(&token)
                .json(&body)
                .timeout(REQUEST_LIMIT)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            let read = client
                .get(format!("{base}/api/v1/customers?limit=1"))
                .bearer_auth(&token)
                .timeout(REQUEST_LIMIT)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            {
                let mut traffic = traffic.lock().expect("traffic lock");
                traffic.creates.push((email, created));
                traffic.reads.push(read);
            }
            // A steady trickle rather than a flood: the machine is shared.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

fn seen(traffic: &Mutex<Traffic>, status: u16) -> usize {
    traffic.lock().expect("traffic lock").count(status)
}

#[tokio::test]
async fn a_postgres_restart_answers_503_during_the_outage_and_recovers_with_nothing_half_written() {
    let Some(postgres) = PrivatePostgres::start().await else {
        return;
    };
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let smtp_url = smtp.url();
    let app = spawn_app_on(
        &postgres.url("postgres"),
        &[
            ("SMTP_URL", &smtp_url),
            ("SMTP_TIMEOUT_SECS", "5"),
            ("WORKER_POLL_MS", "50"),
            ("JOB_BACKOFF_BASE_SECS", "1"),
            ("JOB_BACKOFF_MAX_SECS", "2"),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, before) = app.pending_response(&cso).await;
    let (_, during) = app.pending_response(&cso).await;
    assert_eq!(approve(&app, &before, &manager.token).await.status(), 200);
    smtp.wait_for_messages(1).await;
    let known = app.create_customer(&manager, &customer_body("Known")).await;

    let stop = Arc::new(AtomicBool::new(false));
    let traffic = Arc::new(Mutex::new(Traffic::default()));
    let writer = keep_writing(&app, &manager.token, stop.clone(), traffic.clone());
    eventually("the writer to create customers", async || {
        (seen(&traffic, 201) >= 3).then_some(())
    })
    .await;

    postgres.stop().await;

    // Every kind of request that needs the database, during the outage.
    let known_path = format!("/api/v1/customers/{}", known["id"].as_str().expect("id"));
    let login = json!({ "email": app.admin_email, "password": app.admin_password });
    let outage_customer = customer_body("Outage");
    let probes: [(Method, &str, Option<&Value>, Option<&str>); 7] = [
        (Method::GET, "/health/ready", None, None),
        (Method::GET, "/api/v1/customers", None, Some(&admin.token)),
        (Method::GET, &known_path, None, Some(&manager.token)),
        (
            Method::POST,
            "/api/v1/customers",
            Some(&outage_customer),
            Some(&manager.token),
        ),
        (Method::GET, "/api/v1/admin/jobs", None, Some(&admin.token)),
        (Method::POST, "/api/v1/auth/login", Some(&login), None),
        (Method::GET, "/api/v1/responses", None, Some(&cso.token)),
    ];
    let mut unavailable = 0;
    for (method, path, body, token) in probes {
        let res = send(&app, method, path, body, token).await;
        assert_unavailable(res).await;
        unavailable += 1;
    }
    assert_unavailable(approve(&app, &during, &manager.token).await).await;
    unavailable += 1;
    let live = send(&app, Method::GET, "/health/live", None, None).await;
    assert_eq!(
        live.status(),
        200,
        "liveness does not depend on the database"
    );
    eventually("the writer to see the outage", async || {
        (seen(&traffic, 503) >= 2).then_some(())
    })
    .await;

    postgres.start_again().await;
    let restarted = Instant::now();
    eventually("/health/ready to answer 200 again", async || {
        let res = send(&app, Method::GET, "/health/ready", None, None).await;
        (res.status() == 200).then_some(())
    })
    .await;
    let ready_after = restarted.elapsed();
    let created_before = seen(&traffic, 201);
    eventually("the writer to create customers again", async || {
        (seen(&traffic, 201) >= created_before + 3).then_some(())
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("the writer ends");

    let traffic = Arc::try_unwrap(traffic)
        .ok()
        .expect("the writer is done")
        .into_inner()
        .expect("traffic lock");
    let statuses: HashMap<u16, usize> = traffic.statuses().fold(HashMap::new(), |mut m, s| {
        *m.entry(s).or_default() += 1;
        m
    });
    note(&format!(
        "postgres restart: {unavailable} probes and {} writer requests answered 503; \
         writer statuses {statuses:?}; ready {ready_after:?} after the restart",
        traffic.count(503)
    ));
    // Never a 500, never a dropped connection: 2xx while up, 503 while down.
    for status in traffic.statuses() {
        assert!(
            matches!(status, 200 | 201 | 503),
            "writer got {status}: {statuses:?}"
        );
    }

    // Nothing half-written: every 201 is there once; a 503 write is there once or not at all
    // (the connection may break after COMMIT); the counters match the rows.
    let stored = stored_customers(&app).await;
    let rows: i64 = stored.values().sum();
    for (email, status) in &traffic.creates {
        let there = stored.get(email).copied().unwrap_or_default();
        match status {
            201 => assert_eq!(
                there, 1,
                "{email} was created (201) but is stored {there} times"
            ),
            _ => assert!(there <= 1, "{email} ({status}) is stored {there} times"),
        }
    }
    let listed = expect_json(app.get("/api/v1/customers?limit=1", &admin).await, 200).await;
    assert_eq!(
        listed["meta"]["total"],
        json!(rows),
        "counted total vs rows"
    );
    let outage_email = outage_customer["email"].as_str().expect("an e-mail");
    assert!(
        !stored.contains_key(outage_email),
        "the create refused during the outage left a row"
    );

    // The approval refused during the outage changed nothing; done again, it is mailed once
    // by the in-process worker, which kept running through the outage.
    assert_eq!(
        response_status(&app, &during, &cso).await,
        "PENDING_APPROVAL"
    );
    assert_eq!(approve(&app, &during, &manager.token).await.status(), 200);
    let messages = smtp.wait_for_messages(2).await;
    eventually("both responses to be SENT", async || {
        (response_status(&app, &before, &cso).await == "SENT"
            && response_status(&app, &during, &cso).await == "SENT")
            .then_some(())
    })
    .await;
    let jobs = app.jobs("?kind=send_response", &admin).await;
    assert_eq!(jobs["meta"]["total"], 2, "{jobs}");
    for job in jobs["data"].as_array().expect("a list") {
        assert_eq!(job["state"], "DONE", "{job}");
    }
    let messages_now = smtp.messages();
    assert_eq!(
        messages_now.len(),
        2,
        "each approval mailed exactly once: {messages:#?}"
    );
    assert_ne!(messages_now[0].message_id, messages_now[1].message_id);
}

#[tokio::test]
async fn a_redis_outage_makes_carts_503_while_the_rest_works_and_carts_recover_without_a_restart() {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let app = spawn_app_with(&[("REDIS_URL", &redis.url())]).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let first = app
        .published_product(&manager, "Outage Guide", 49_900, b"%PDF-1.4 first")
        .await;
    let second = app
        .published_product(&manager, "Recovery Guide", 29_900, b"%PDF-1.4 second")
        .await;
    let buyer = app.register_customer("Cart", "Keeper").await;
    let add = |product: &Value| json!({ "productId": product["id"] });
    let res = app
        .post_json("/api/v1/cart/items", &add(&first), &buyer)
        .await;
    expect_json(res, 200).await;

    redis.stop().await;

    let first_id = first["id"].as_str().expect("id");
    let buyer_token = Some(buyer.token.as_str());
    let mut unavailable = 0;
    for _ in 0..2 {
        let cart_requests = [
            send(&app, Method::GET, "/api/v1/cart", None, buyer_token).await,
            send(
                &app,
                Method::POST,
                "/api/v1/cart/items",
                Some(&add(&second)),
                buyer_token,
            )
            .await,
            send(
                &app,
                Method::DELETE,
                &format!("/api/v1/cart/items/{first_id}"),
                None,
                buyer_token,
            )
            .await,
            send(&app, Method::DELETE, "/api/v1/cart", None, buyer_token).await,
            send(&app, Method::POST, "/api/v1/checkout", None, buyer_token).await,
        ];
        for res in cart_requests {
            assert_unavailable(res).await;
            unavailable += 1;
        }
    }
    // What does not need Redis keeps working.
    let products = send(&app, Method::GET, "/api/v1/products", None, None).await;
    assert_eq!(products.status(), 200);
    let me = send(&app, Method::GET, "/api/v1/auth/me", None, buyer_token).await;
    assert_eq!(me.status(), 200);
    let ready = send(&app, Method::GET, "/health/ready", None, None).await;
    assert_eq!(
        ready.status(),
        200,
        "readiness follows the database, not Redis"
    );
    let orders = expect_json(app.get("/api/v1/orders", &buyer).await, 200).await;
    assert_eq!(
        orders["meta"]["total"], 0,
        "a refused checkout wrote no order: {orders}"
    );

    redis.start_again().await;
    let restarted = Instant::now();
    // The connection manager reconnects on the next command; no restart of the app.
    let cart = eventually("the cart to accept items again", async || {
        let body = add(&second);
        let res = send(
            &app,
            Method::POST,
            "/api/v1/cart/items",
            Some(&body),
            buyer_token,
        )
        .await;
        match res.status().as_u16() {
            200 => Some(expect_json(res, 200).await),
            503 => None,
            other => panic!("after the restart the cart answered {other}"),
        }
    })
    .await;
    note(&format!(
        "redis outage: {unavailable} cart requests answered 503; carts back {:?} after the restart",
        restarted.elapsed()
    ));
    // Redis ran without persistence, so the cart from before the outage is gone.
    assert_eq!(
        cart["items"].as_array().map(Vec::len),
        Some(1),
        "only the item added after the restart: {cart}"
    );
    assert_eq!(cart["items"][0]["productId"], second["id"], "{cart}");
    let res = app.post("/api/v1/checkout", &buyer).await;
    expect_json(res, 201).await;
}

/// Signs the administrator in on `app`: the status, after checking that a refusal is the
/// uniform 429 with `Retry-After` (never a 500 or 503 because of the limiter).
async fn login_status(app: &TestApp) -> u16 {
    let body = json!({ "email": app.admin_email, "password": app.admin_password });
    let res = send(app, Method::POST, "/api/v1/auth/login", Some(&body), None).await;
    let status = res.status().as_u16();
    match status {
        200 => {}
        429 => {
            assert!(
                header(&res, "retry-after").is_some(),
                "429 without Retry-After"
            );
            assert_error(res, 429, "rate_limited").await;
        }
        other => panic!("a login answered {other}"),
    }
    status
}

#[tokio::test]
async fn a_redis_outage_makes_rate_limits_count_in_process_and_they_are_shared_again_once_it_is_back()
 {
    let Some(redis) = PrivateRedis::start().await else {
        return;
    };
    let a = spawn_app_with(&[
        ("REDIS_URL", &redis.url()),
        ("LOGIN_RATE_LIMIT", "3"),
        ("LOGIN_RATE_WINDOW_SECS", "3600"),
    ])
    .await;
    let b = a.spawn_another(&[]).await;
    let shared_before = [login_status(&a).await, login_status(&b).await];

    redis.stop().await;
    let stopped = Instant::now();
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    for _ in 0..4 {
        on_a.push(login_status(&a).await);
        on_b.push(login_status(&b).await);
    }
    let outage_answers = stopped.elapsed();

    redis.start_again().await;
    // Each instance counts in process (its count is full) until it tries Redis again, at most
    // SHARED_RETRY_EVERY later; the restarted Redis is empty.
    eventually("instance a to count in Redis again", async || {
        (login_status(&a).await == 200).then_some(())
    })
    .await;
    eventually("instance b to count in Redis again", async || {
        (login_status(&b).await == 200).then_some(())
    })
    .await;
    let third = login_status(&a).await;
    let fourth = login_status(&b).await;
    note(&format!(
        "redis outage: 8 logins answered in {outage_answers:?} while Redis was down"
    ));

    assert_eq!(shared_before, [200, 200]);
    assert_eq!(
        on_a,
        [200, 200, 200, 429],
        "instance a counts alone during the outage"
    );
    assert_eq!(
        on_b,
        [200, 200, 200, 429],
        "instance b counts alone during the outage"
    );
    assert_eq!(
        (third, fourth),
        (200, 429),
        "the two instances share one count again"
    );
    drop(b);
}

#[tokio::test]
async fn a_worker_killed_mid_job_leaves_it_to_the_next_worker_after_the_lease_and_mail_goes_once() {
    let smtp = StallingSmtp::start(1);
    let smtp_url = smtp.url();
    let app = spawn_app_with(&[
        ("WORKER_IN_SERVE", "false"),
        ("SMTP_URL", &smtp_url),
        // Long enough that the first worker is still waiting for the server when killed.
        ("SMTP_TIMEOUT_SECS", "120"),
        ("JOB_LEASE_SECS", "2"),
        ("WORKER_POLL_MS", "50"),
        ("JOB_BACKOFF_BASE_SECS", "1"),
        ("JOB_BACKOFF_MAX_SECS", "2"),
    ])
    .await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (customer, pending) = app.pending_response(&cso).await;
    assert_eq!(approve(&app, &pending, &manager.token).await.status(), 200);
    let job_of = async || {
        let page = app.jobs("?kind=send_response", &admin).await;
        assert_eq!(page["meta"]["total"], 1, "{page}");
        page["data"][0].clone()
    };
    assert_eq!(job_of().await["state"], "PENDING");

    let first = app.spawn_worker(&[]);
    let held = eventually(
        "the first worker to be in the middle of sending",
        async || smtp.held().first().cloned(),
    )
    .await;
    let running = job_of().await;
    assert_eq!(running["state"], "RUNNING", "{running}");
    assert_eq!(running["attempts"], 1, "{running}");
    let first_log = first.log();
    let status = first.kill().await;
    assert_eq!(
        killed_by(status),
        Some(9),
        "SIGKILL ended the worker: {first_log}"
    );
    assert!(
        smtp.accepted().is_empty(),
        "the held message was never accepted"
    );
    assert_eq!(response_status(&app, &pending, &cso).await, "APPROVED");

    let mut second = app.spawn_worker(&[]);
    let done = eventually("the job to be DONE", async || {
        let job = job_of().await;
        (job["state"] == "DONE").then_some(job)
    })
    .await;
    assert!(
        second.running(),
        "the second worker runs on: {}",
        second.log()
    );
    assert_eq!(done["id"], running["id"]);
    assert_eq!(done["attempts"], 2, "the killed attempt counts: {done}");
    let accepted = smtp.accepted();
    assert_eq!(accepted.len(), 1, "delivered exactly once: {accepted:?}");
    assert_eq!(
        accepted[0].message_id, held.message_id,
        "the retry sends the same message"
    );
    let job_id = running["id"].as_str().expect("a job id");
    assert!(
        accepted[0].message_id.contains(job_id),
        "the Message-ID is per job: {}",
        accepted[0].message_id
    );
    assert_eq!(
        accepted[0].rcpt_tos,
        [customer["email"].as_str().expect("an e-mail")]
    );
    assert_eq!(response_status(&app, &pending, &cso).await, "SENT");
}
