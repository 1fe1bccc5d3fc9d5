//! Approval deadlines end to end: a submission answers its warning time and deadline from
//! the settings; when the warning time comes the worker e-mails the approvers (never the
//! author), and when the deadline passes it e-mails ADMIN, each once; a decided response
//! is never mailed about. The clock is controlled through the stored deadline: the test
//! moves it into the past, as time passing would, and the worker's sweep does the rest.

use chrono::{DateTime, Duration, Utc};
use nexus_tests::{Role, TestApp, eventually, expect_json, spawn_app_with_smtp};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("{v} is an RFC 3339 instant"))
}

/// Sets the stored `column` of response `id` to `at`, as if that much time had passed.
async fn move_deadline(app: &TestApp, id: &str, column: &str, at: DateTime<Utc>) {
    let db = app.db().await;
    let id = uuid::Uuid::parse_str(id).expect("a uuid");
    let update = Query::update()
        .table(Alias::new("responses"))
        .value(Alias::new(column), at)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let done = db.execute(&update).await.expect("the deadline moves");
    assert_eq!(done.rows_affected(), 1);
}

/// The messages whose subject starts with `prefix`, by recipient.
fn mailed(app: &TestApp, prefix: &str) -> Vec<String> {
    let mut to: Vec<String> = app
        .smtp()
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with(prefix))
        .flat_map(|m| m.rcpt_tos)
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn approvers_are_warned_before_the_deadline_and_admin_is_told_after_it() {
    let Some(app) = spawn_app_with_smtp(&[
        ("APPROVAL_DEADLINE_MINUTES", "120"),
        ("APPROVAL_WARN_BEFORE_MINUTES", "30"),
    ])
    .await
    else {
        return;
    };
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;
    let id = pending["id"].as_str().expect("an id").to_owned();
    let submitted = instant(&pending["submittedAt"]);
    assert_eq!(
        instant(&pending["warnAt"]),
        submitted + Duration::minutes(90)
    );
    assert_eq!(
        instant(&pending["dueAt"]),
        submitted + Duration::minutes(120)
    );

    // Nothing is due yet: no mail, whatever the worker does meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(mailed(&app, "Due for approval").is_empty());

    // The warning time comes: the approvers (the manager and the administrator) hear of it,
    // the author does not.
    move_deadline(&app, &id, "warn_at", Utc::now() - Duration::minutes(1)).await;
    let warned = eventually("the approvers are warned", async || {
        let to = mailed(&app, "Due for approval soon");
        (to.len() >= 2).then_some(to)
    })
    .await;
    let mut expected = vec![manager.email.clone(), app.admin_email.clone()];
    expected.sort();
    assert_eq!(warned, expected);
    let warning = app
        .smtp()
        .messages()
        .into_iter()
        .find(|m| m.subject.starts_with("Due for approval soon"))
        .expect("a warning");
    assert!(
        warning.subject.contains("About your account"),
        "{}",
        warning.subject
    );
    assert!(warning.text.contains(&id), "the message names the response");

    // The deadline passes: ADMIN is told, once.
    move_deadline(&app, &id, "due_at", Utc::now() - Duration::seconds(1)).await;
    let escalated = eventually("ADMIN is told", async || {
        let to = mailed(&app, "Overdue for approval");
        (!to.is_empty()).then_some(to)
    })
    .await;
    assert_eq!(escalated, std::slice::from_ref(&app.admin_email));

    // Each stage happened once: the jobs list one delivery of each.
    let admin = app.admin().await;
    for kind in ["warn_approvers", "escalate_overdue_response"] {
        let jobs = app.jobs(&format!("?kind={kind}"), &admin).await;
        assert_eq!(jobs["meta"]["total"], 1, "{kind}: {jobs}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mailed(&app, "Due for approval soon").len(),
        2,
        "warned once"
    );
    assert_eq!(
        mailed(&app, "Overdue for approval").len(),
        1,
        "escalated once"
    );
}

#[tokio::test]
async fn a_decided_response_is_never_chased_and_deadlines_can_be_turned_off() {
    let Some(app) = spawn_app_with_smtp(&[
        ("APPROVAL_DEADLINE_MINUTES", "60"),
        ("APPROVAL_WARN_BEFORE_MINUTES", "10"),
    ])
    .await
    else {
        return;
    };
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;
    let id = pending["id"].as_str().expect("an id").to_owned();
    let res = app
        .post_json(
            &format!("/api/v1/responses/{id}/approve"),
            &json!({}),
            &manager,
        )
        .await;
    let approved = expect_json(res, 200).await;
    assert_eq!(
        approved["dueAt"], pending["dueAt"],
        "the deadline stays as history"
    );
    move_deadline(&app, &id, "warn_at", Utc::now() - Duration::hours(2)).await;
    move_deadline(&app, &id, "due_at", Utc::now() - Duration::hours(1)).await;
    // The approved response is e-mailed to its customer, and nobody is chased.
    app.smtp().wait_for_messages(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(mailed(&app, "Due for approval").is_empty());
    assert!(mailed(&app, "Overdue for approval").is_empty());

    let Some(off) = spawn_app_with_smtp(&[("APPROVAL_DEADLINE_MINUTES", "0")]).await else {
        return;
    };
    let cso = off.sign_in_as(Role::Cso).await;
    let (_, pending) = off.pending_response(&cso).await;
    assert_eq!(pending["dueAt"], Value::Null, "{pending}");
    assert_eq!(pending["warnAt"], Value::Null, "{pending}");
}
