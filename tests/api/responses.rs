//! `/api/v1/responses`: drafting, revising, four-eyes approval, history, CSO scoping, the
//! approve race, and the whole way from a public enquiry to an e-mail at a real SMTP server.

use futures_util::future::join_all;
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, assert_keys, customer_body, detail_fields,
    enquiry_body, etag, eventually, expect_json, header, note, spawn_app, spawn_app_with_smtp,
};
use reqwest::Response;
use serde_json::{Value, json};

const RESPONSES: &str = "/api/v1/responses";

const RESPONSE_VIEW: [&str; 17] = [
    "id",
    "customerId",
    "enquiryId",
    "authorId",
    "subject",
    "content",
    "status",
    "version",
    "createdAt",
    "updatedAt",
    "submittedAt",
    "decidedBy",
    "decidedAt",
    "decisionNotes",
    "sentAt",
    "warnAt",
    "dueAt",
];

fn response_path(response: &Value) -> String {
    format!(
        "{RESPONSES}/{}",
        response["id"].as_str().expect("a response has an id")
    )
}

fn action_path(response: &Value, action: &str) -> String {
    format!("{}/{action}", response_path(response))
}

fn draft_body(customer: &Value) -> Value {
    json!({
        "customerId": customer["id"],
        "subject": "About your order",
        "content": "Thank you for writing to us. Your order ships tomorrow.",
    })
}

async fn submit(app: &TestApp, response: &Value, token: &Signed) -> Response {
    app.post(&action_path(response, "submit"), token).await
}

async fn approve(app: &TestApp, response: &Value, token: &Signed) -> Response {
    app.post_json(&action_path(response, "approve"), &json!({}), token)
        .await
}

async fn reject(app: &TestApp, response: &Value, notes: &str, token: &Signed) -> Response {
    app.post_json(
        &action_path(response, "reject"),
        &json!({ "notes": notes }),
        token,
    )
    .await
}

async fn read(app: &TestApp, response: &Value, token: &Signed) -> Value {
    expect_json(app.get(&response_path(response), token).await, 200).await
}

async fn history(app: &TestApp, response: &Value, token: &Signed) -> Vec<Value> {
    let body = expect_json(app.get(&action_path(response, "history"), token).await, 200).await;
    body.as_array()
        .unwrap_or_else(|| panic!("history is not a list: {body}"))
        .clone()
}

fn column<'a>(events: &'a [Value], key: &str) -> Vec<&'a Value> {
    events.iter().map(|e| &e[key]).collect()
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["data"]
        .as_array()
        .expect("a page has data")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted_ids<'a>(items: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut ids: Vec<String> = items
        .into_iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

async fn list(app: &TestApp, query: &str, token: &Signed) -> Value {
    expect_json(app.get(&format!("{RESPONSES}{query}"), token).await, 200).await
}

/// Checks `res` has `status`, prints the exchange, and returns the body.
async fn logged(request: &str, body: Option<&Value>, res: Response, status: u16) -> Value {
    let value = expect_json(res, status).await;
    let sent = body.map(|b| format!(" {b}")).unwrap_or_default();
    note(&format!("> {request}{sent}\n< {status} {value}\n"));
    value
}

#[tokio::test]
async fn an_enquiry_is_answered_by_email_after_rejection_revision_and_approval() {
    let Some(app) = spawn_app_with_smtp(&[]).await else {
        return;
    };
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let enquirer = "grace.hopper@example.com";
    let subject = "Re: Volume pricing for 40 seats";
    let first_draft = "Dear Grace, thank you for your interest. Our list price applies.";
    let revised = "Dear Grace, thank you for your interest. For 40 seats we offer 15% off the \
                   list price, valid until the end of the quarter.";
    let rejection = "Please quote the volume discount instead of the list price.";
    let approval = "Good to go.";

    // 1. The public enquiry.
    let body = json!({
        "name": "Grace Hopper",
        "email": enquirer,
        "subject": "Volume pricing for 40 seats",
        "message": "Hello, what would 40 seats cost per year?",
    });
    let res = app.post_json("/api/v1/enquiries", &body, NO_TOKEN).await;
    let receipt = logged("POST /api/v1/enquiries", Some(&body), res, 201).await;
    let enquiry_path = format!("/api/v1/enquiries/{}", receipt["id"].as_str().expect("id"));

    // 2. A LEAD customer assigned to the only CSO, who sees the enquiry.
    let res = app
        .get(&format!("/api/v1/customers?search={enquirer}"), &admin)
        .await;
    let leads = logged(
        &format!("GET /api/v1/customers?search={enquirer} (ADMIN)"),
        None,
        res,
        200,
    )
    .await;
    assert_eq!(leads["meta"]["total"], 1, "{leads}");
    let lead = &leads["data"][0];
    assert_eq!(lead["status"], "LEAD");
    assert_eq!(lead["assignedTo"], cso.user_id.as_str());
    let res = app.get(&enquiry_path, &cso).await;
    let enquiry = logged(&format!("GET {enquiry_path} (CSO)"), None, res, 200).await;
    assert_eq!(enquiry["assignedTo"], cso.user_id.as_str());
    assert_eq!(enquiry["customerId"], lead["id"]);

    // 3. The CSO drafts an answer and submits it.
    let body = json!({
        "customerId": lead["id"],
        "enquiryId": receipt["id"],
        "subject": subject,
        "content": first_draft,
    });
    let res = app.post_json(RESPONSES, &body, &cso).await;
    let draft = logged("POST /api/v1/responses (CSO)", Some(&body), res, 201).await;
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["enquiryId"], receipt["id"]);
    let path = response_path(&draft);
    let res = submit(&app, &draft, &cso).await;
    let submitted = logged(&format!("POST {path}/submit (CSO)"), None, res, 200).await;
    assert_eq!(submitted["status"], "PENDING_APPROVAL");

    // 4. The manager rejects it with notes.
    let body = json!({ "notes": rejection });
    let res = app
        .post_json(&action_path(&draft, "reject"), &body, &manager)
        .await;
    let rejected = logged(
        &format!("POST {path}/reject (MANAGER)"),
        Some(&body),
        res,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["decisionNotes"], rejection);
    assert_eq!(rejected["decidedBy"], manager.user_id.as_str());

    // 5. The CSO revises it (back to DRAFT) and submits again.
    let body = json!({ "content": revised });
    let res = app
        .patch_json(&path, &body, &cso, Some(&etag(&rejected["version"])))
        .await;
    let revision = logged(
        &format!(
            "PATCH {path} (CSO, If-Match: {})",
            etag(&rejected["version"])
        ),
        Some(&body),
        res,
        200,
    )
    .await;
    assert_eq!(revision["status"], "DRAFT");
    assert_eq!(revision["content"], revised);
    let res = submit(&app, &draft, &cso).await;
    let resubmitted = logged(&format!("POST {path}/submit (CSO)"), None, res, 200).await;
    assert_eq!(resubmitted["status"], "PENDING_APPROVAL");

    // 6. The manager approves it: the e-mail goes out through the worker.
    let body = json!({ "notes": approval });
    let res = app
        .post_json(&action_path(&draft, "approve"), &body, &manager)
        .await;
    let approved = logged(
        &format!("POST {path}/approve (MANAGER)"),
        Some(&body),
        res,
        200,
    )
    .await;
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(approved["decidedBy"], manager.user_id.as_str());

    let sent = eventually("the response to become SENT", async || {
        let response = read(&app, &draft, &cso).await;
        (response["status"] == "SENT").then_some(response)
    })
    .await;
    note(&format!(
        "> GET {path} (CSO), once the worker ran\n< 200 {sent}\n"
    ));
    let messages = app.smtp().messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    note(&format!(
        "--- the message as received by the SMTP sink ---\n{}\n--- end ---",
        mail.raw
    ));
    assert_eq!(mail.rcpt_tos, [enquirer]);
    assert!(mail.to.contains(enquirer), "To: {}", mail.to);
    assert!(mail.subject.contains(subject), "Subject: {}", mail.subject);
    assert!(mail.text.contains(revised), "text: {}", mail.text);
    assert!(!mail.text.contains(first_draft), "text: {}", mail.text);
    assert!(!mail.message_id.is_empty());
    assert!(sent["sentAt"].is_string(), "{sent}");
    let enquiry = eventually("the enquiry to become ANSWERED", async || {
        let enquiry = expect_json(app.get(&enquiry_path, &cso).await, 200).await;
        (enquiry["status"] == "ANSWERED").then_some(enquiry)
    })
    .await;
    assert_eq!(enquiry["status"], "ANSWERED");

    let events = history(&app, &draft, &cso).await;
    note(&format!(
        "> GET {path}/history (CSO)\n< 200 {}\n",
        Value::Array(events.clone())
    ));
    for event in &events {
        assert_keys(event, &["id", "actorId", "from", "to", "notes", "at"]);
    }
    assert_eq!(
        column(&events, "to"),
        [
            "DRAFT",
            "PENDING_APPROVAL",
            "REJECTED",
            "DRAFT",
            "PENDING_APPROVAL",
            "APPROVED",
            "SENT"
        ]
        .map(|s| json!(s))
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(
        column(&events, "from"),
        [
            Value::Null,
            json!("DRAFT"),
            json!("PENDING_APPROVAL"),
            json!("REJECTED"),
            json!("DRAFT"),
            json!("PENDING_APPROVAL"),
            json!("APPROVED"),
        ]
        .iter()
        .collect::<Vec<_>>()
    );
    let (c, m) = (json!(cso.user_id), json!(manager.user_id));
    assert_eq!(
        column(&events, "actorId"),
        [&c, &c, &m, &c, &c, &m, &Value::Null]
    );
    assert_eq!(events[2]["notes"], rejection);
    assert_eq!(events[5]["notes"], approval);
    let times: Vec<_> = events
        .iter()
        .map(|e| {
            chrono::DateTime::parse_from_rfc3339(e["at"].as_str().expect("at")).expect("RFC 3339")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[tokio::test]
async fn drafting_a_response_returns_a_draft_with_an_etag() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Draft")).await;

    let res = app.post_json(RESPONSES, &draft_body(&customer), &cso).await;

    let tag = header(&res, "etag");
    let response = expect_json(res, 201).await;
    assert_keys(&response, &RESPONSE_VIEW);
    assert_eq!(tag, Some(etag(&response["version"])));
    assert!(
        response["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert_eq!(response["customerId"], customer["id"]);
    assert_eq!(response["enquiryId"], Value::Null);
    assert_eq!(response["authorId"], cso.user_id.as_str());
    assert_eq!(response["subject"], "About your order");
    assert_eq!(
        response["content"],
        "Thank you for writing to us. Your order ships tomorrow."
    );
    assert_eq!(response["status"], "DRAFT");
    for key in [
        "submittedAt",
        "decidedBy",
        "decidedAt",
        "decisionNotes",
        "sentAt",
    ] {
        assert_eq!(response[key], Value::Null, "{key}: {response}");
    }
    assert_eq!(read(&app, &response, &cso).await, response);
}

#[tokio::test]
async fn drafting_for_a_customer_the_caller_cannot_see_is_an_unknown_customer() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other = app.sign_in_as(Role::Cso).await;
    let theirs = app.create_customer(&other, &customer_body("Theirs")).await;
    let nobody = json!({ "id": uuid::Uuid::now_v7().to_string() });

    let hidden = app.post_json(RESPONSES, &draft_body(&theirs), &cso).await;
    let missing = app.post_json(RESPONSES, &draft_body(&nobody), &cso).await;

    assert_error(hidden, 422, "unknown_customer").await;
    assert_error(missing, 422, "unknown_customer").await;
    let manager = app.sign_in_as(Role::Manager).await;
    assert_eq!(list(&app, "", &manager).await["meta"]["total"], 0);
}

#[tokio::test]
async fn drafting_for_an_enquiry_of_another_customer_is_an_enquiry_mismatch() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let receipt = app.submit_enquiry(&enquiry_body("Enquiring Soul")).await;
    let unrelated = app.create_customer(&cso, &customer_body("Unrelated")).await;
    let mut body = draft_body(&unrelated);
    body["enquiryId"] = receipt["id"].clone();

    let res = app.post_json(RESPONSES, &body, &cso).await;

    assert_error(res, 422, "enquiry_mismatch").await;
}

#[tokio::test]
async fn drafting_a_response_reports_invalid_fields() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Blank")).await;

    let res = app
        .post_json(
            RESPONSES,
            &json!({ "customerId": customer["id"], "subject": " ", "content": "" }),
            &cso,
        )
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    let mut fields = detail_fields(&body);
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["content", "subject"]);
}

#[tokio::test]
async fn customer_accounts_may_not_touch_responses() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let (customer, response) = app.pending_response(&cso).await;

    let create = app
        .post_json(RESPONSES, &draft_body(&customer), &buyer)
        .await;
    let index = app.get(RESPONSES, &buyer).await;
    let one = app.get(&response_path(&response), &buyer).await;
    let events = app.get(&action_path(&response, "history"), &buyer).await;
    let approval = approve(&app, &response, &buyer).await;

    for res in [create, index, one, events, approval] {
        assert_error(res, 403, "forbidden").await;
    }
    assert_eq!(
        read(&app, &response, &cso).await["status"],
        "PENDING_APPROVAL"
    );
}

#[tokio::test]
async fn response_routes_without_a_token_are_unauthorized() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (customer, response) = app.pending_response(&cso).await;

    let create = app
        .post_json(RESPONSES, &draft_body(&customer), NO_TOKEN)
        .await;
    let index = app.get(RESPONSES, NO_TOKEN).await;
    let approval = app
        .post_json(&action_path(&response, "approve"), &json!({}), NO_TOKEN)
        .await;

    for res in [create, index, approval] {
        assert_error(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn only_the_author_may_revise_or_submit_a_response() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Authored")).await;
    let draft = app.draft_response(&cso, &draft_body(&customer)).await;

    let revise = app
        .patch_json(
            &response_path(&draft),
            &json!({ "content": "Not mine to write." }),
            &manager,
            None,
        )
        .await;
    let submission = submit(&app, &draft, &manager).await;

    assert_error(revise, 403, "not_author").await;
    assert_error(submission, 403, "not_author").await;
    assert_eq!(read(&app, &draft, &cso).await, draft);
}

#[tokio::test]
async fn revising_a_draft_changes_the_given_fields_and_bumps_the_version() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Revised")).await;
    let draft = app.draft_response(&cso, &draft_body(&customer)).await;

    let by_header = app
        .patch_json(
            &response_path(&draft),
            &json!({ "subject": "New subject" }),
            &cso,
            Some(&etag(&draft["version"])),
        )
        .await;
    let by_header_tag = header(&by_header, "etag");
    let by_header = expect_json(by_header, 200).await;
    let by_body = app
        .patch_json(
            &response_path(&draft),
            &json!({ "content": "New content.", "version": by_header["version"] }),
            &cso,
            None,
        )
        .await;
    let by_body = expect_json(by_body, 200).await;

    assert_eq!(by_header_tag, Some(etag(&by_header["version"])));
    assert_eq!(by_header["subject"], "New subject");
    assert_eq!(by_header["content"], draft["content"]);
    assert_eq!(by_body["subject"], "New subject");
    assert_eq!(by_body["content"], "New content.");
    assert_eq!(by_body["status"], "DRAFT");
    let versions = [&draft, &by_header, &by_body].map(|r| r["version"].as_i64().expect("version"));
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}

#[tokio::test]
async fn revising_with_a_stale_version_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Stale")).await;
    let draft = app.draft_response(&cso, &draft_body(&customer)).await;
    let current = expect_json(
        app.patch_json(
            &response_path(&draft),
            &json!({ "subject": "First edit" }),
            &cso,
            Some(&etag(&draft["version"])),
        )
        .await,
        200,
    )
    .await;

    let res = app
        .patch_json(
            &response_path(&draft),
            &json!({ "subject": "Lost update" }),
            &cso,
            Some(&etag(&draft["version"])),
        )
        .await;

    assert_error(res, 409, "conflict").await;
    assert_eq!(read(&app, &draft, &cso).await, current);
}

#[tokio::test]
async fn revising_a_response_awaiting_approval_is_an_invalid_transition() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;

    let res = app
        .patch_json(
            &response_path(&pending),
            &json!({ "content": "Sneaky late edit." }),
            &cso,
            None,
        )
        .await;

    let body = assert_error(res, 409, "invalid_transition").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("PENDING_APPROVAL")),
        "{body}"
    );
    assert_eq!(read(&app, &pending, &cso).await, pending);
}

#[tokio::test]
async fn submitting_twice_is_an_invalid_transition_naming_the_state() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;

    let res = submit(&app, &pending, &cso).await;

    let body = assert_error(res, 409, "invalid_transition").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("PENDING_APPROVAL")),
        "{body}"
    );
}

#[tokio::test]
async fn submitting_records_when_and_approving_records_who() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;

    // The notes body is optional: an approval may come without any body at all.
    let res = app.post(&action_path(&pending, "approve"), &manager).await;

    let approved = expect_json(res, 200).await;
    assert!(pending["submittedAt"].is_string(), "{pending}");
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(approved["decidedBy"], manager.user_id.as_str());
    assert!(approved["decidedAt"].is_string(), "{approved}");
    assert_eq!(approved["decisionNotes"], Value::Null);
    assert!(approved["version"].as_i64() > pending["version"].as_i64());
}

#[tokio::test]
async fn rejecting_keeps_the_notes_and_a_revision_returns_to_draft() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;

    let rejected = expect_json(reject(&app, &pending, "Too terse.", &manager).await, 200).await;
    let revised = expect_json(
        app.patch_json(
            &response_path(&pending),
            &json!({ "content": "A longer, kinder answer." }),
            &cso,
            None,
        )
        .await,
        200,
    )
    .await;
    let resubmitted = expect_json(submit(&app, &pending, &cso).await, 200).await;

    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["decisionNotes"], "Too terse.");
    assert_eq!(rejected["decidedBy"], manager.user_id.as_str());
    assert_eq!(revised["status"], "DRAFT");
    assert_eq!(resubmitted["status"], "PENDING_APPROVAL");
    assert_eq!(resubmitted["content"], "A longer, kinder answer.");
}

#[tokio::test]
async fn an_author_may_not_approve_or_reject_their_own_response() {
    let app = spawn_app().await;
    let author = app.sign_in_as(Role::Manager).await;
    let peer = app.sign_in_as(Role::Manager).await;
    let customer = app.create_customer(&author, &customer_body("Own")).await;
    let draft = app.draft_response(&author, &draft_body(&customer)).await;
    let pending = expect_json(submit(&app, &draft, &author).await, 200).await;

    let own_approval = approve(&app, &pending, &author).await;
    let own_rejection = reject(&app, &pending, "Hmm.", &author).await;

    assert_error(own_approval, 403, "self_approval").await;
    assert_error(own_rejection, 403, "self_approval").await;
    assert_eq!(read(&app, &pending, &author).await, pending);
    let approved = expect_json(approve(&app, &pending, &peer).await, 200).await;
    assert_eq!(approved["decidedBy"], peer.user_id.as_str());
}

#[tokio::test]
async fn a_cso_may_not_approve_or_reject() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;

    let approval = approve(&app, &pending, &cso).await;
    let rejection = reject(&app, &pending, "No.", &cso).await;

    assert_error(approval, 403, "forbidden").await;
    assert_error(rejection, 403, "forbidden").await;
    assert_eq!(read(&app, &pending, &cso).await, pending);
}

#[tokio::test]
async fn approving_a_draft_is_an_invalid_transition_naming_the_state() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Early")).await;
    let draft = app.draft_response(&cso, &draft_body(&customer)).await;

    let approval = approve(&app, &draft, &manager).await;
    let rejection = reject(&app, &draft, "Not yet.", &manager).await;

    for res in [approval, rejection] {
        let body = assert_error(res, 409, "invalid_transition").await;
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("DRAFT")),
            "{body}"
        );
    }
    assert_eq!(read(&app, &draft, &cso).await, draft);
}

#[tokio::test]
async fn rejecting_without_notes_is_a_validation_error() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let (_, pending) = app.pending_response(&cso).await;
    let path = action_path(&pending, "reject");

    let missing = app.post_json(&path, &json!({}), &manager).await;
    let blank = app
        .post_json(&path, &json!({ "notes": "   " }), &manager)
        .await;

    for res in [missing, blank] {
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(detail_fields(&body), ["notes"]);
    }
    assert_eq!(
        read(&app, &pending, &cso).await["status"],
        "PENDING_APPROVAL"
    );
}

#[tokio::test]
async fn another_csos_response_looks_exactly_like_a_missing_one() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other = app.sign_in_as(Role::Cso).await;
    let (_, theirs) = app.pending_response(&other).await;
    let missing = json!({ "id": uuid::Uuid::now_v7().to_string() });

    for response in [&theirs, &missing] {
        let one = app.get(&response_path(response), &cso).await;
        let events = app.get(&action_path(response, "history"), &cso).await;
        let revise = app
            .patch_json(
                &response_path(response),
                &json!({ "content": "Mine now." }),
                &cso,
                None,
            )
            .await;
        for res in [one, events, revise] {
            assert_error(res, 404, "not_found").await;
        }
    }
    assert_eq!(read(&app, &theirs, &other).await, theirs);
}

#[tokio::test]
async fn a_cso_lists_their_own_responses_and_those_to_their_customers() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other = app.sign_in_as(Role::Cso).await;
    let mine = app.create_customer(&cso, &customer_body("Mine")).await;
    let theirs = app.create_customer(&other, &customer_body("Theirs")).await;
    let own = app.draft_response(&cso, &draft_body(&mine)).await;
    let to_mine = app.draft_response(&manager, &draft_body(&mine)).await;
    let their_own = app.draft_response(&other, &draft_body(&theirs)).await;
    let to_theirs = app.draft_response(&manager, &draft_body(&theirs)).await;
    expect_json(submit(&app, &own, &cso).await, 200).await;

    let visible = list(&app, "", &cso).await;
    let everything = list(&app, "", &manager).await;
    let pending = list(&app, "?status=PENDING_APPROVAL", &manager).await;
    let by_customer = list(
        &app,
        &format!("?customerId={}", theirs["id"].as_str().expect("id")),
        &manager,
    )
    .await;
    let by_author = list(&app, &format!("?authorId={}", manager.user_id), &manager).await;
    let peeking = list(&app, &format!("?authorId={}", other.user_id), &cso).await;

    assert_eq!(ids(&visible), sorted_ids([&own, &to_mine]));
    assert_eq!(visible["meta"]["total"], 2);
    assert_keys(&visible["data"][0], &RESPONSE_VIEW);
    assert_eq!(
        ids(&everything),
        sorted_ids([&own, &to_mine, &their_own, &to_theirs])
    );
    assert_eq!(ids(&pending), sorted_ids([&own]));
    assert_eq!(ids(&by_customer), sorted_ids([&their_own, &to_theirs]));
    assert_eq!(ids(&by_author), sorted_ids([&to_mine, &to_theirs]));
    assert_eq!(peeking["meta"]["total"], 0);
}

#[tokio::test]
async fn listing_responses_rejects_an_unknown_status() {
    let app = spawn_app().await;
    let manager = app.sign_in_as(Role::Manager).await;

    let res = app
        .get(&format!("{RESPONSES}?status=PUBLISHED"), &manager)
        .await;

    let body = assert_error(res, 400, "validation_failed").await;
    assert_eq!(detail_fields(&body), ["status"]);
}

#[tokio::test]
async fn a_new_response_has_one_history_entry_for_its_creation() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let customer = app.create_customer(&cso, &customer_body("Fresh")).await;
    let draft = app.draft_response(&cso, &draft_body(&customer)).await;

    let events = history(&app, &draft, &cso).await;

    assert_eq!(events.len(), 1, "{events:?}");
    assert_keys(&events[0], &["id", "actorId", "from", "to", "notes", "at"]);
    assert_eq!(events[0]["actorId"], cso.user_id.as_str());
    assert_eq!(events[0]["from"], Value::Null);
    assert_eq!(events[0]["to"], "DRAFT");
    assert_eq!(events[0]["notes"], Value::Null);
}

#[tokio::test]
async fn concurrent_approvals_of_one_response_let_exactly_one_through() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let managers = [
        app.sign_in_as(Role::Manager).await,
        app.sign_in_as(Role::Manager).await,
        app.sign_in_as(Role::Manager).await,
    ];

    for round in 1..=5 {
        let (_, pending) = app.pending_response(&cso).await;
        let path = action_path(&pending, "approve");
        let no_notes = json!({});

        let results = join_all(
            managers
                .iter()
                .map(|manager| app.post_json(&path, &no_notes, manager)),
        )
        .await;

        let mut winners = 0;
        for res in results {
            let status = res.status().as_u16();
            let body: Value = res.json().await.expect("a JSON body");
            match status {
                200 => winners += 1,
                409 => assert!(
                    ["conflict", "invalid_transition"]
                        .contains(&body["error"].as_str().unwrap_or("")),
                    "round {round}: {body}"
                ),
                other => panic!("round {round}: unexpected {other}: {body}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
        let events = history(&app, &pending, &cso).await;
        let approvals = events.iter().filter(|e| e["to"] == "APPROVED").count();
        assert_eq!(approvals, 1, "round {round}: {events:?}");
        let jobs = app.jobs("?kind=send_response", &admin).await;
        assert_eq!(jobs["meta"]["total"], round, "round {round}: {jobs}");
    }
}
