//! Two API instances and two workers, each its own `nexus` process, on one PostgreSQL and one
//! Redis: the deployment of docs/deploy.md. A session, a cart, the cached catalog and a login
//! limit are one across the instances; mail enqueued through both is delivered once even when a worker is
//! killed; SIGTERM to one instance under load drops no request, the other serving on.
//!
//! PostgreSQL only: SQLite serves one process (docs/deploy.md), so on SQLite these tests note
//! that and end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nexus_tests::servers::{killed_by, shared_redis, unique_redis_prefix};
use nexus_tests::{
    MailMessage, NO_TOKEN, Role, TestApp, assert_error, customer_body, eventually, expect_json,
    note, spawn_app_with, spawn_app_with_smtp, unique_email,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// The settings every process of these tests shares: Redis under a prefix of the test's own,
/// no worker inside the API instances, and the test client trusted as a proxy so that it can
/// speak for other client addresses.
fn shared_settings(redis: &str, prefix: &str) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", redis.to_owned()),
        ("REDIS_KEY_PREFIX", prefix.to_owned()),
        ("WORKER_IN_SERVE", "false".to_owned()),
        ("TRUST_PROXY", "true".to_owned()),
    ]
}

fn pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Whether `app` runs where several processes may share its database.
fn multi_process(app: &TestApp) -> bool {
    if !app.on_postgres() {
        note("two instances need PostgreSQL (TEST_DATABASE_URL): SQLite serves one process");
    }
    app.on_postgres()
}

async fn login_from(app: &TestApp, address: &str, ip: &str, email: &str, password: &str) -> u16 {
    app.client
        .post(format!("{address}/api/v1/auth/login"))
        .header("X-Forwarded-For", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("the login reaches an instance")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_session_a_cart_a_product_change_and_a_login_limit_are_one_across_two_instances() {
    let Some(redis) = shared_redis() else { return };
    let settings = shared_settings(&redis, &unique_redis_prefix());
    let mut settings = pairs(&settings);
    settings.extend([("LOGIN_RATE_LIMIT", "4"), ("LOGIN_RATE_WINDOW_SECS", "120")]);
    let mut app = spawn_app_with(&settings).await;
    if !multi_process(&app) {
        return;
    }
    let (_a, a) = app.spawn_server(&[]).await;
    let (_b, b) = app.spawn_server(&[]).await;
    let _workers = [
        app.spawn_worker(&[("WORKER_POLL_MS", "100")]),
        app.spawn_worker(&[("WORKER_POLL_MS", "100")]),
    ];
    let harness = app.address.clone();

    // A product to buy, made through the harness instance.
    let manager = app.sign_in_as(Role::Manager).await;
    let product = app
        .published_product(&manager, "Shared Handbook", 49_900, b"%PDF-1.4 shared")
        .await;

    // The buyer registers and signs in through A ...
    app.address.clone_from(&a);
    let buyer = app.register_customer("Ada", "Instances").await;
    // ... and B knows the session.
    app.address.clone_from(&b);
    let me = expect_json(app.get("/api/v1/auth/me", &buyer).await, 200).await;
    assert_eq!(me["email"], buyer.email.as_str(), "{me}");

    // A cart written through A is read through B.
    app.address.clone_from(&a);
    let res = app
        .post_json(
            "/api/v1/cart/items",
            &json!({ "productId": product["id"] }),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;
    app.address.clone_from(&b);
    let cart = expect_json(app.get("/api/v1/cart", &buyer).await, 200).await;
    assert_eq!(cart["items"][0]["productId"], product["id"], "{cart}");
    assert_eq!(cart["items"].as_array().map(Vec::len), Some(1), "{cart}");

    // A product change through A is seen through B's cache once its invalidation is
    // delivered by one of the workers (the delay is printed, not asserted: speed is for
    // benchmarks).
    let detail = format!(
        "/api/v1/products/{}",
        product["id"].as_str().expect("an id")
    );
    app.address.clone_from(&b);
    let cached = expect_json(app.get(&detail, NO_TOKEN).await, 200).await;
    assert_eq!(cached["title"], "Shared Handbook");
    app.address.clone_from(&a);
    let body = json!({ "title": "Shared Handbook, second edition", "version": product["version"] });
    let res = app.patch_json(&detail, &body, &manager, None).await;
    expect_json(res, 200).await;
    let written = Instant::now();
    app.address.clone_from(&b);
    let seen_after = eventually("B to show the change", async || {
        let now = expect_json(app.get(&detail, NO_TOKEN).await, 200).await;
        (now["title"] == "Shared Handbook, second edition").then(|| written.elapsed())
    })
    .await;
    note(&format!(
        "two instances: a product change through A was served by B {seen_after:?} after A answered it"
    ));

    // Logout through A is refused through B at once.
    app.address.clone_from(&a);
    assert_eq!(app.post("/api/v1/auth/logout", &buyer).await.status(), 204);
    app.address.clone_from(&b);
    assert_error(
        app.get("/api/v1/auth/me", &buyer).await,
        401,
        "unauthorized",
    )
    .await;

    // One login limit: four attempts from one client through A and B, then both refuse.
    let client = "203.0.113.44";
    let mut statuses = Vec::new();
    for address in [&a, &b, &a, &b] {
        statuses.push(login_from(&app, address, client, &buyer.email, &buyer.password).await);
    }
    let fifth_on_a = login_from(&app, &a, client, &buyer.email, &buyer.password).await;
    let fifth_on_b = login_from(&app, &b, client, &buyer.email, &buyer.password).await;
    let other_client = login_from(&app, &b, "203.0.113.45", &buyer.email, &buyer.password).await;
    assert_eq!(statuses, [200; 4], "four logins across the two instances");
    assert_eq!(
        (fifth_on_a, fifth_on_b),
        (429, 429),
        "the fifth is over the shared limit"
    );
    assert_eq!(other_client, 200, "another client has its own count");
    app.address = harness;
}

/// Registers `count` customers through `addresses` in turn, `parallel` at a time; returns
/// their e-mails.
async fn register_through(
    app: &TestApp,
    addresses: &[String],
    count: usize,
    parallel: usize,
) -> Vec<String> {
    let emails: Vec<String> = (0..count)
        .map(|i| unique_email(&format!("load{i}")))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..parallel {
        let client = app.client.clone();
        let addresses = addresses.to_vec();
        let mine: Vec<(usize, String)> = emails
            .iter()
            .enumerate()
            .filter(|(i, _)| i % parallel == lane)
            .map(|(i, e)| (i, e.clone()))
            .collect();
        tasks.spawn(async move {
            for (i, email) in mine {
                let address = &addresses[i % addresses.len()];
                let res = client
                    .post(format!("{address}/api/v1/auth/register"))
                    .json(&json!({
                        "email": email,
                        "password": "Load-password-1",
                        "firstName": "Load",
                        "lastName": "Test",
                    }))
                    .send()
                    .await
                    .expect("the registration reaches an instance");
                assert_eq!(
                    res.status(),
                    202,
                    "registration of {email} through {address}"
                );
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a registering task");
    }
    emails
}

#[tokio::test]
async fn mail_enqueued_through_two_instances_is_delivered_once_by_two_workers_one_killed() {
    let Some(redis) = shared_redis() else { return };
    let settings = shared_settings(&redis, &unique_redis_prefix());
    let mut settings = pairs(&settings);
    settings.extend([
        ("REGISTER_RATE_LIMIT", "100000"),
        ("AUTH_RATE_LIMIT", "100000"),
        ("JOB_LEASE_SECS", "3"),
        ("JOB_BATCH", "5"),
    ]);
    let Some(app) = spawn_app_with_smtp(&settings).await else {
        return;
    };
    if !multi_process(&app) {
        return;
    }
    let (_a, a) = app.spawn_server(&[]).await;
    let (_b, b) = app.spawn_server(&[]).await;
    let first = app.spawn_worker(&[]);
    let mut second = app.spawn_worker(&[]);

    const MAILS: usize = 500;
    let emails = register_through(&app, &[a.clone(), b.clone()], MAILS, 8).await;

    // Kill the first worker with SIGKILL while the mail is going out.
    eventually("a fifth of the mail to be sent", async || {
        (app.smtp().messages().len() >= MAILS / 5).then_some(())
    })
    .await;
    let first_log = first.log();
    assert_eq!(killed_by(first.kill().await), Some(9), "{first_log}");

    let expected: BTreeSet<&str> = emails.iter().map(String::as_str).collect();
    let recipients = |messages: &[MailMessage]| {
        messages
            .iter()
            .flat_map(|m| m.rcpt_tos.iter().map(String::as_str))
            .filter(|to| expected.contains(to))
            .collect::<BTreeSet<_>>()
            .len()
    };
    // Longer than `eventually`: 500 messages go through a Python SMTP sink on a busy machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let messages = loop {
        let messages = app.smtp().messages();
        let seen = recipients(&messages);
        if seen == MAILS {
            break messages;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{seen} of {MAILS} recipients got their welcome mail; the surviving worker: {}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        second.running(),
        "the second worker runs on: {}",
        second.log()
    );

    // Each recipient got one message; only a message the killed worker was sending when it
    // died may have been accepted twice, with the same Message-ID.
    let mut by_recipient: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &messages {
        for to in &m.rcpt_tos {
            by_recipient
                .entry(to.as_str())
                .or_default()
                .push(m.message_id.as_str());
        }
    }
    let mut repeated = 0;
    for email in &expected {
        let ids = &by_recipient[email];
        let distinct: BTreeSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 1, "{email} got one message: {ids:?}");
        repeated += ids.len() - 1;
    }
    assert!(repeated <= 1, "{repeated} messages accepted again");

    // Every delivery is DONE: none lost, none dead.
    let admin = app.admin().await;
    let jobs = |state: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            app.jobs(&format!("?kind=send_welcome&state={state}&limit=1"), admin)
                .await["meta"]["total"]
                .as_u64()
        }
    };
    let done = eventually("every welcome delivery DONE", async || {
        let done = jobs("DONE").await?;
        (done >= MAILS as u64).then_some(done)
    })
    .await;
    assert_eq!(done, MAILS as u64);
    assert_eq!(jobs("DEAD").await, Some(0));
    assert_eq!(jobs("PENDING").await, Some(0));
    note(&format!(
        "two instances, two workers: {MAILS} welcome mails registered through both, one worker \
         SIGKILLed after {} were sent, {} messages accepted ({repeated} again)",
        MAILS / 5,
        messages.len()
    ));
}

/// What one client acting as a load balancer saw.
#[derive(Default, Debug)]
struct Balanced {
    /// Customers created (201), by e-mail.
    created: Vec<String>,
    /// Requests sent again to the other instance after the first closed or refused them.
    resent: usize,
    /// Any other answer.
    errors: Vec<String>,
}

/// Creates customers, alternating between `addresses`; a request whose connection is refused
/// or closed without an answer is sent again to the next instance, as a load balancer
/// retrying a request that was never taken would.
fn balance(
    client: reqwest::Client,
    addresses: Vec<String>,
    token: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Balanced> {
    tokio::spawn(async move {
        let mut seen = Balanced::default();
        let mut turn = 0usize;
        while !stop.load(Ordering::SeqCst) {
            let body = customer_body("Balanced");
            let email = body["email"].as_str().expect("an e-mail").to_owned();
            let mut tries = 0;
            loop {
                let address = &addresses[turn % addresses.len()];
                turn += 1;
                let sent = client
                    .post(format!("{address}/api/v1/customers"))
                    .bearer_auth(&token)
                    .json(&body)
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                let answer = match sent {
                    Ok(res) => {
                        let status = res.status();
                        res.bytes().await.ok().map(|_| status)
                    }
                    Err(_) => None,
                };
                match answer {
                    Some(status) if status == 201 => seen.created.push(email.clone()),
                    Some(status) => seen.errors.push(format!("{email}: {status}")),
                    None if tries < 3 => {
                        tries += 1;
                        seen.resent += 1;
                        continue;
                    }
                    None => seen.errors.push(format!("{email}: never answered")),
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        seen
    })
}

#[tokio::test]
async fn sigterm_to_one_of_two_instances_under_load_drops_no_request() {
    let Some(redis) = shared_redis() else { return };
    let settings = shared_settings(&redis, &unique_redis_prefix());
    let app = spawn_app_with(&pairs(&settings)).await;
    if !multi_process(&app) {
        return;
    }
    let cso = app.sign_in_as(Role::Cso).await;
    let (a_process, a) = app.spawn_server(&[("SHUTDOWN_GRACE_SECS", "10")]).await;
    let (_b, b) = app.spawn_server(&[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            balance(
                app.client.clone(),
                vec![a.clone(), b.clone()],
                cso.token.clone(),
                stop.clone(),
            )
        })
        .collect();
    eventually(
        "customers to be created through both instances",
        async || {
            let count = count_customers(&app).await;
            (count >= 40).then_some(())
        },
    )
    .await;

    let status = a_process.terminate().await;
    assert!(status.success(), "instance A stops cleanly: {status:?}");
    // B serves on after A is gone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for client in clients {
        seen.push(client.await.expect("a client task"));
    }

    let errors: Vec<&String> = seen.iter().flat_map(|s| &s.errors).collect();
    assert!(errors.is_empty(), "every request answered 201: {errors:?}");
    let created: Vec<&String> = seen.iter().flat_map(|s| &s.created).collect();
    let stored = stored_emails(&app).await;
    for email in &created {
        assert_eq!(
            stored.get(email.as_str()),
            Some(&1),
            "{email} was stored exactly once"
        );
    }
    assert_eq!(
        stored.values().sum::<i64>(),
        i64::try_from(created.len()).expect("a count"),
        "nothing stored that was not answered"
    );
    let resent: usize = seen.iter().map(|s| s.resent).sum();
    note(&format!(
        "SIGTERM to one of two instances under load: {} customers created, {resent} requests \
         sent again to the other instance after a refused or closed connection",
        created.len()
    ));
}

async fn count_customers(app: &TestApp) -> i64 {
    stored_emails(app).await.values().sum()
}

/// How many customers each e-mail has.
async fn stored_emails(app: &TestApp) -> BTreeMap<String, i64> {
    let db = app.db().await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT email, COUNT(*) AS n FROM customers GROUP BY email",
        ))
        .await
        .expect("customers can be counted");
    rows.into_iter()
        .map(|row| {
            (
                row.try_get::<String>("", "email").expect("an e-mail"),
                row.try_get::<i64>("", "n").expect("a count"),
            )
        })
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .filter(|(email, _)| email.starts_with("balanced"))
        .collect()
}
