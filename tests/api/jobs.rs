//! Background work (event deliveries to subscribers) through the API and a real SMTP server: retries while the mail server
//! is down, lease expiry after a worker died, dead letters and their retry by an
//! administrator, `/api/v1/admin/jobs` access, and the welcome e-mail of a registration.

use chrono::{DateTime, Utc};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, assert_keys, eventually, expect_json, spawn_app,
    spawn_app_with, spawn_app_with_smtp,
};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

const JOBS: &str = "/api/v1/admin/jobs";

const JOB_VIEW: [&str; 11] = [
    "id",
    "kind",
    "state",
    "attempts",
    "maxAttempts",
    "runAt",
    "lockedBy",
    "lockedUntil",
    "lastError",
    "createdAt",
    "updatedAt",
];

fn response_path(response: &Value) -> String {
    format!(
        "/api/v1/responses/{}",
        response["id"].as_str().expect("a response has an id")
    )
}

fn retry_path(job: &Value) -> String {
    format!(
        "{JOBS}/{}/retry",
        job["id"].as_str().expect("a job has an id")
    )
}

async fn approve(app: &TestApp, response: &Value, manager: &Signed) -> Value {
    let res = app
        .post_json(
            &format!("{}/approve", response_path(response)),
            &json!({}),
            manager,
        )
        .await;
    expect_json(res, 200).await
}

async fn status_of(app: &TestApp, response: &Value, token: &Signed) -> Value {
    let current = expect_json(app.get(&response_path(response), token).await, 200).await;
    current["status"].clone()
}

/// The only `send_response` job.
async fn response_job(app: &TestApp, admin: &Signed) -> Value {
    let page = app.jobs("?kind=send_response", admin).await;
    assert_eq!(page["meta"]["total"], 1, "{page}");
    page["data"][0].clone()
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    )
    .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
    .with_timezone(&Utc)
}

#[tokio::test]
async fn an_email_job_is_retried_while_the_mail_server_is_down_and_sent_once_it_is_back() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (customer, pending) = app.pending_response(&cso).await;
    app.smtp().stop();

    approve(&app, &pending, &manager).await;

    let failing = eventually("a second failed attempt", async || {
        let job = response_job(&app, &admin).await;
        (job["state"] == "PENDING"
            && job["attempts"].as_u64() >= Some(2)
            && job["lastError"].as_str().is_some_and(|e| !e.is_empty()))
        .then_some(job)
    })
    .await;
    assert_keys(&failing, &JOB_VIEW);
    assert_eq!(status_of(&app, &pending, &cso).await, "APPROVED");
    assert!(app.smtp().messages().is_empty());

    app.smtp().restart();

    let messages = app.smtp().wait_for_messages(1).await;
    let sent = eventually("the response to become SENT", async || {
        let response = expect_json(app.get(&response_path(&pending), &cso).await, 200).await;
        (response["status"] == "SENT").then_some(response)
    })
    .await;
    let done = eventually("the job to be DONE", async || {
        let job = response_job(&app, &admin).await;
        (job["state"] == "DONE").then_some(job)
    })
    .await;
    assert_eq!(app.smtp().messages().len(), 1, "{messages:#?}");
    assert_eq!(
        messages[0].rcpt_tos,
        [customer["email"].as_str().expect("email")]
    );
    assert!(sent["sentAt"].is_string(), "{sent}");
    assert_eq!(done["id"], failing["id"]);
    assert!(
        done["attempts"].as_u64() > failing["attempts"].as_u64(),
        "{done}"
    );
}

#[tokio::test]
async fn a_job_held_by_a_dead_worker_is_taken_over_only_after_its_lease_expires() {
    let Some(app) = spawn_app_with_smtp(&[("WORKER_IN_SERVE", "false")]).await else {
        return;
    };
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (customer, pending) = app.pending_response(&cso).await;
    approve(&app, &pending, &manager).await;
    let queued = response_job(&app, &admin).await;
    assert_eq!(queued["state"], "PENDING", "{queued}");
    assert_eq!(queued["attempts"], 0);

    // A worker claimed the delivery and died: RUNNING, its lease running out in 2 seconds.
    let lease_end = Utc::now() + chrono::Duration::seconds(2);
    let job_id = uuid::Uuid::parse_str(queued["id"].as_str().expect("id")).expect("a UUID");
    let db = app.db().await;
    let claim = Query::update()
        .table(Alias::new("event_deliveries"))
        .value(Alias::new("state"), "RUNNING")
        .value(Alias::new("locked_by"), "dead-worker")
        .value(Alias::new("locked_until"), lease_end)
        .value(Alias::new("attempts"), 1)
        .and_where(Expr::col(Alias::new("id")).eq(job_id))
        .to_owned();
    let claimed = db
        .execute(&claim)
        .await
        .expect("the delivery can be updated");
    assert_eq!(claimed.rows_affected(), 1);
    let _ = db.close().await;

    let worker = app.spawn_another(&[("WORKER_IN_SERVE", "true")]).await;

    let mut held = 0;
    let taken_over = eventually("another worker to take the job over", async || {
        let job = response_job(&app, &admin).await;
        let observed_before_expiry = Utc::now() < lease_end;
        if job["lockedBy"] == "dead-worker" {
            assert_eq!(job["state"], "RUNNING", "{job}");
            assert!(app.smtp().messages().is_empty(), "sent during the lease");
            if observed_before_expiry {
                held += 1;
            }
            return None;
        }
        // Whoever took it must not have done so before the lease ended.
        assert!(
            !observed_before_expiry,
            "taken over before the lease ended: {job}"
        );
        Some(job)
    })
    .await;
    let messages = app.smtp().wait_for_messages(1).await;
    let sent = eventually("the response to become SENT", async || {
        let response = expect_json(app.get(&response_path(&pending), &cso).await, 200).await;
        (response["status"] == "SENT").then_some(response)
    })
    .await;
    let done = eventually("the job to be DONE", async || {
        let job = response_job(&app, &admin).await;
        (job["state"] == "DONE").then_some(job)
    })
    .await;

    assert!(
        held > 0,
        "the job was never observed under the dead worker's lease"
    );
    assert_ne!(taken_over["lockedBy"], "dead-worker");
    assert!(timestamp(&sent["sentAt"]) >= lease_end, "{sent}");
    assert_eq!(app.smtp().messages().len(), 1, "{messages:#?}");
    assert_eq!(
        messages[0].rcpt_tos,
        [customer["email"].as_str().expect("email")]
    );
    assert_eq!(done["lockedBy"], Value::Null);
    drop(worker);
}

#[tokio::test]
async fn a_job_that_keeps_failing_becomes_dead_until_an_admin_retries_it() {
    let Some(app) = spawn_app_with_smtp(&[("JOB_MAX_ATTEMPTS", "2")]).await else {
        return;
    };
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (customer, pending) = app.pending_response(&cso).await;
    app.smtp().stop();
    approve(&app, &pending, &manager).await;

    let dead = eventually("the job to be DEAD", async || {
        let page = app.jobs("?state=DEAD", &admin).await;
        (page["meta"]["total"] == 1).then(|| page["data"][0].clone())
    })
    .await;
    assert_keys(&dead, &JOB_VIEW);
    assert_eq!(dead["kind"], "send_response");
    assert_eq!(dead["attempts"], 2);
    assert!(
        dead["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{dead}"
    );
    assert_eq!(app.jobs("?state=PENDING", &admin).await["meta"]["total"], 0);
    assert_eq!(status_of(&app, &pending, &cso).await, "APPROVED");
    assert_error(app.get(JOBS, &manager).await, 403, "forbidden").await;
    assert_error(
        app.post(&retry_path(&dead), &manager).await,
        403,
        "forbidden",
    )
    .await;

    app.smtp().restart();
    let retried = expect_json(app.post(&retry_path(&dead), &admin).await, 200).await;

    assert_keys(&retried, &JOB_VIEW);
    assert_eq!(retried["id"], dead["id"]);
    assert_eq!(retried["state"], "PENDING");
    let messages = app.smtp().wait_for_messages(1).await;
    eventually("the response to become SENT", async || {
        (status_of(&app, &pending, &cso).await == "SENT").then_some(())
    })
    .await;
    let done = eventually("the job to be DONE", async || {
        let job = response_job(&app, &admin).await;
        (job["state"] == "DONE").then_some(job)
    })
    .await;
    assert_eq!(done["id"], dead["id"]);
    assert_eq!(app.smtp().messages().len(), 1, "{messages:#?}");
    assert_eq!(
        messages[0].rcpt_tos,
        [customer["email"].as_str().expect("email")]
    );
}

#[tokio::test]
async fn a_dead_job_shows_the_attempt_budget_it_ran_with() {
    let Some(app) = spawn_app_with_smtp(&[("JOB_MAX_ATTEMPTS", "2")]).await else {
        return;
    };
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;
    app.smtp().stop();

    approve(&app, &pending, &manager).await;

    let dead = eventually("the job to be DEAD", async || {
        let page = app.jobs("?state=DEAD", &admin).await;
        (page["meta"]["total"] == 1).then(|| page["data"][0].clone())
    })
    .await;
    // An administrator must read "2 of 2 attempts", not "2 of 8", on a job that gave up.
    assert_eq!(dead["attempts"], 2, "{dead}");
    assert_eq!(dead["maxAttempts"], 2, "{dead}");
}

#[tokio::test]
async fn retrying_a_job_that_is_not_dead_is_an_invalid_state() {
    let app = spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await;
    let admin = app.admin().await;
    app.sign_in_as(Role::Customer).await;
    let page = app.jobs("?kind=send_welcome", &admin).await;
    assert_eq!(page["meta"]["total"], 1, "{page}");
    let job = &page["data"][0];
    assert_eq!(job["state"], "PENDING");

    let res = app.post(&retry_path(job), &admin).await;

    assert_error(res, 409, "invalid_state").await;
    let unchanged = app.jobs("?kind=send_welcome", &admin).await;
    assert_eq!(unchanged["data"][0], *job);
}

#[tokio::test]
async fn retrying_an_unknown_job_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let missing = json!({ "id": uuid::Uuid::now_v7().to_string() });

    let res = app.post(&retry_path(&missing), &admin).await;

    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn only_administrators_may_list_or_retry_jobs() {
    let app = spawn_app().await;
    let missing = json!({ "id": uuid::Uuid::now_v7().to_string() });
    let mut callers = Vec::new();
    for role in [Role::Manager, Role::Cso, Role::Customer] {
        callers.push(app.sign_in_as(role).await);
    }

    for caller in &callers {
        assert_error(app.get(JOBS, caller).await, 403, "forbidden").await;
        assert_error(
            app.post(&retry_path(&missing), caller).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_error(app.get(JOBS, NO_TOKEN).await, 401, "unauthorized").await;
    assert_error(
        app.post(&retry_path(&missing), NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn listing_jobs_filters_by_state_and_kind_and_never_shows_a_payload() {
    let app = spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    app.sign_in_as(Role::Customer).await;
    let (_, pending) = app.pending_response(&cso).await;
    approve(&app, &pending, &manager).await;

    let all = app.jobs("", &admin).await;
    let responses = app.jobs("?kind=send_response", &admin).await;
    let welcomes = app.jobs("?kind=send_welcome&state=PENDING", &admin).await;
    let done = app.jobs("?state=DONE", &admin).await;
    let bad_state = app.get(&format!("{JOBS}?state=FINISHED"), &admin).await;
    let bad_kind = app.get(&format!("{JOBS}?kind=send_fax"), &admin).await;

    assert_eq!(all["meta"]["total"], 2, "{all}");
    for job in all["data"].as_array().expect("data") {
        assert_keys(job, &JOB_VIEW);
        assert_eq!(job["state"], "PENDING");
        assert_eq!(job["attempts"], 0);
        assert_eq!(job["lockedBy"], Value::Null);
    }
    assert_eq!(responses["meta"]["total"], 1);
    assert_eq!(responses["data"][0]["kind"], "send_response");
    assert_eq!(welcomes["meta"]["total"], 1);
    assert_eq!(welcomes["data"][0]["kind"], "send_welcome");
    assert_eq!(done["meta"]["total"], 0);
    assert_error(bad_state, 400, "validation_failed").await;
    assert_error(bad_kind, 400, "validation_failed").await;
}

#[tokio::test]
async fn registering_sends_a_welcome_email() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let admin = app.admin().await;

    let customer = app.sign_in_as(Role::Customer).await;

    let messages = app.smtp().wait_for_messages(1).await;
    let done = eventually("the welcome job to be DONE", async || {
        let page = app.jobs("?kind=send_welcome&state=DONE", &admin).await;
        (page["meta"]["total"] == 1).then(|| page["data"][0].clone())
    })
    .await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    assert_eq!(mail.rcpt_tos, [customer.email.as_str()]);
    assert!(mail.to.contains(&customer.email), "To: {}", mail.to);
    assert!(
        mail.subject.contains("Welcome"),
        "Subject: {}",
        mail.subject
    );
    assert!(
        mail.text.contains("Test"),
        "the first name is missing: {}",
        mail.text
    );
    assert_eq!(done["kind"], "send_welcome");
    assert_eq!(
        app.jobs("?kind=send_welcome", &admin).await["meta"]["total"],
        1
    );
}
