//! The people view of the CRM: the link between a buyer account and a customer, notes on a
//! customer, and the customer timeline.

use nexus_tests::{
    RazorpayFake, Role, Signed, TestApp, assert_error, customer_body, eventually, expect_json,
    razorpay_id, razorpay_payment_event, spawn_app, spawn_app_with,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().expect("an id")
}

async fn put_account(app: &TestApp, customer: &Value, user_id: &str, who: &Signed) -> Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/customers/{}/account", id(customer)),
        who,
    )
    .json(&json!({ "userId": user_id }))
    .send()
    .await
    .expect("the request reaches the app")
}

/// A CRM customer of `cso` with `email`.
async fn customer_at(app: &TestApp, cso: &Signed, email: &str) -> Value {
    let mut body = customer_body("Linked");
    body["email"] = json!(email);
    app.create_customer(cso, &body).await
}

async fn customer(app: &TestApp, customer: &Value, who: &Signed) -> Value {
    let res = app
        .get(&format!("/api/v1/customers/{}", id(customer)), who)
        .await;
    expect_json(res, 200).await
}

#[tokio::test]
async fn an_account_is_linked_to_the_customer_with_its_address_once_it_verifies_it() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let crm = customer_at(&app, &cso, &buyer.email).await;
    assert_eq!(crm["accountId"], Value::Null, "unverified: {crm}");
    // Nothing links an unverified address, however long one waits for the worker.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(customer(&app, &crm, &cso).await["accountId"], Value::Null);

    app.verify_email(&buyer).await;

    let linked = eventually("the account linked to the customer", async || {
        let now = customer(&app, &crm, &cso).await;
        (now["accountId"] == json!(buyer.user_id)).then_some(now)
    })
    .await;
    assert!(linked["version"].as_i64() > crm["version"].as_i64());
}

#[tokio::test]
async fn a_customer_created_for_a_verified_address_is_linked_at_once() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    app.verify_email(&buyer).await;

    let crm = customer_at(&app, &cso, &buyer.email).await;

    assert_eq!(crm["accountId"], json!(buyer.user_id), "{crm}");
}

#[tokio::test]
async fn staff_link_and_unlink_an_account_by_hand_within_their_scope() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let first = app.create_customer(&cso, &customer_body("First")).await;
    let second = app.create_customer(&cso, &customer_body("Second")).await;

    let res = put_account(&app, &first, &buyer.user_id, &cso).await;
    let linked = expect_json(res, 200).await;
    assert_eq!(linked["accountId"], json!(buyer.user_id));
    // Again: nothing changes.
    let res = put_account(&app, &first, &buyer.user_id, &cso).await;
    assert_eq!(expect_json(res, 200).await["version"], linked["version"]);

    let res = put_account(&app, &second, &buyer.user_id, &manager).await;
    assert_error(res, 409, "account_already_linked").await;
    let res = put_account(&app, &second, &cso.user_id, &manager).await;
    assert_error(res, 422, "invalid_account").await;
    let res = put_account(&app, &second, &uuid::Uuid::now_v7().to_string(), &manager).await;
    assert_error(res, 422, "invalid_account").await;
    let res = put_account(&app, &second, &buyer.user_id, &other_cso).await;
    assert_error(res, 404, "not_found").await;
    let res = put_account(&app, &second, &buyer.user_id, &buyer).await;
    assert_error(res, 403, "forbidden").await;

    let path = format!("/api/v1/customers/{}/account", id(&first));
    assert_error(app.delete(&path, &other_cso).await, 404, "not_found").await;
    let unlinked = expect_json(app.delete(&path, &cso).await, 200).await;
    assert_eq!(unlinked["accountId"], Value::Null);

    // Free again, the account links to the second customer.
    let res = put_account(&app, &second, &buyer.user_id, &manager).await;
    assert_eq!(
        expect_json(res, 200).await["accountId"],
        json!(buyer.user_id)
    );
}

async fn add_note(app: &TestApp, customer: &Value, body: &str, who: &Signed) -> Response {
    app.post_json(
        &format!("/api/v1/customers/{}/notes", id(customer)),
        &json!({ "body": body }),
        who,
    )
    .await
}

#[tokio::test]
async fn staff_add_notes_and_read_them_newest_first() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let crm = app.create_customer(&cso, &customer_body("Noted")).await;

    let first = expect_json(
        add_note(&app, &crm, "Called; wants a quote.", &cso).await,
        201,
    )
    .await;
    let second = expect_json(
        add_note(&app, &crm, "  Quote sent.\nFollow up Friday.  ", &manager).await,
        201,
    )
    .await;

    assert_eq!(first["authorId"], json!(cso.user_id));
    assert_eq!(second["body"], "Quote sent.\nFollow up Friday.");
    let res = app
        .get(&format!("/api/v1/customers/{}/notes", id(&crm)), &cso)
        .await;
    let page = expect_json(res, 200).await;
    assert_eq!(page["meta"]["total"], 2);
    let ids: Vec<&Value> = page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| &n["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    let res = app
        .get(
            &format!("/api/v1/customers/{}/notes?page=2&limit=1", id(&crm)),
            &cso,
        )
        .await;
    assert_eq!(expect_json(res, 200).await["data"][0]["id"], first["id"]);
}

#[tokio::test]
async fn a_note_is_plain_text_of_at_most_4000_characters() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let crm = app.create_customer(&cso, &customer_body("Strict")).await;

    for bad in ["   ", "bell\u{7}", &"x".repeat(4001)] {
        let res = add_note(&app, &crm, bad, &cso).await;
        let body = assert_error(res, 400, "validation_failed").await;
        assert_eq!(body["details"][0]["field"], "body", "{body}");
    }
    expect_json(add_note(&app, &crm, &"x".repeat(4000), &cso).await, 201).await;
}

#[tokio::test]
async fn notes_are_scoped_like_their_customer() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let crm = app.create_customer(&cso, &customer_body("Private")).await;
    let path = format!("/api/v1/customers/{}/notes", id(&crm));

    assert_error(
        add_note(&app, &crm, "Peek", &other_cso).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.get(&path, &other_cso).await, 404, "not_found").await;
    assert_error(
        add_note(&app, &crm, "Peek", &editor).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(app.get(&path, &buyer).await, 403, "forbidden").await;
    let res = app.get(&path, &cso).await;
    assert_eq!(expect_json(res, 200).await["meta"]["total"], 0);
}

async fn timeline(app: &TestApp, customer: &Value, query: &str, who: &Signed) -> Response {
    app.get(
        &format!("/api/v1/customers/{}/timeline{query}", id(customer)),
        who,
    )
    .await
}

/// Every entry of a timeline, read `limit` at a time by following the cursors.
async fn read_in_pages(app: &TestApp, customer: &Value, limit: u32, who: &Signed) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let query = match &cursor {
            Some(c) => format!("?limit={limit}&cursor={c}"),
            None => format!("?limit={limit}"),
        };
        let page = expect_json(timeline(app, customer, &query, who).await, 200).await;
        let data = page["data"].as_array().expect("a list");
        assert!(data.len() <= limit as usize, "{page}");
        entries.extend(data.iter().cloned());
        match page["meta"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return entries,
        }
    }
    panic!("the timeline never ended");
}

/// The (at, kind, id) keys of `entries` strictly descend: newest first, no repeats.
fn assert_strictly_descending(entries: &[Value]) {
    let keys: Vec<(chrono::DateTime<chrono::Utc>, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["at"].as_str().expect("a time").parse().expect("RFC 3339"),
                e["kind"].as_str().expect("a kind").to_owned(),
                e["id"].as_str().expect("an id").to_owned(),
            )
        })
        .collect();
    for pair in keys.windows(2) {
        assert!(pair[0] > pair[1], "out of order: {pair:?}");
    }
}

fn kinds_of(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["kind"].as_str().expect("a kind"))
        .collect()
}

#[tokio::test]
async fn the_timeline_tells_the_whole_story_newest_first_in_pages() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let admin = app.admin().await;
    let buyer = app.sign_in_as(Role::Customer).await;
    app.verify_email(&buyer).await;
    let crm = customer_at(&app, &cso, &buyer.email).await;
    assert_eq!(crm["accountId"], json!(buyer.user_id));

    // An enquiry from the customer's address, answered, approved and sent.
    let mut enquiry = nexus_tests::enquiry_body("Timeline Asker");
    enquiry["email"] = json!(buyer.email);
    let enquiry = app.submit_enquiry(&enquiry).await;
    let response = app
        .draft_response(
            &cso,
            &json!({
                "customerId": crm["id"],
                "enquiryId": enquiry["id"],
                "subject": "Your question",
                "content": "Here is the answer you asked for.",
            }),
        )
        .await;
    let path = format!("/api/v1/responses/{}", id(&response));
    expect_json(
        app.post_json(&format!("{path}/submit"), &json!({}), &cso)
            .await,
        200,
    )
    .await;
    let res = app
        .post_json(
            &format!("{path}/approve"),
            &json!({ "notes": "Good answer" }),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    eventually("the response to be sent", async || {
        let r = expect_json(app.get(&path, &cso).await, 200).await;
        (r["status"] == "SENT").then_some(())
    })
    .await;

    // A purchase, paid, partly refunded, downloaded and reviewed.
    let product = app
        .published_product(&manager, "Timeline guide", 4_900, b"%PDF-1.4 timeline")
        .await;
    let session = app.checkout_one(&buyer, &product).await;
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": session["orderId"] }),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/orders/{}/refund",
                session["orderId"].as_str().expect("an id")
            ),
            &json!({ "amountMinor": 900, "reason": "goodwill" }),
            &admin,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .request(
            Method::PUT,
            &format!("/api/v1/products/{}/review", id(&product)),
            &buyer,
        )
        .json(&json!({ "rating": 4, "body": "Clear and useful." }))
        .send()
        .await
        .expect("the request reaches the app");
    expect_json(res, 201).await;
    let res = app
        .get(
            &format!("/api/v1/products/{}/download", id(&product)),
            &buyer,
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .post_json(
            &format!("/api/v1/customers/{}/notes", id(&crm)),
            &json!({ "body": "Happy customer." }),
            &cso,
        )
        .await;
    expect_json(res, 201).await;

    let whole = expect_json(timeline(&app, &crm, "?limit=100", &cso).await, 200).await;
    let entries = whole["data"].as_array().expect("a list").clone();
    assert_eq!(whole["meta"]["nextCursor"], Value::Null);
    assert_strictly_descending(&entries);
    let mut kinds = kinds_of(&entries);
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "download",
            "enquiry_received",
            "note_added",
            "order_placed",
            "payment_captured",
            "refund_issued",
            "response_approved",
            "response_drafted",
            "response_sent",
            "response_submitted",
            "review_written",
        ],
        "{whole}"
    );
    // The story reads in the order it happened.
    let story: Vec<&str> = kinds_of(&entries).into_iter().rev().collect();
    let position = |kind: &str| story.iter().position(|k| *k == kind).expect("present");
    assert!(position("enquiry_received") < position("response_drafted"));
    assert!(position("response_submitted") < position("response_approved"));
    assert!(position("response_approved") < position("response_sent"));
    assert!(position("order_placed") <= position("payment_captured"));
    assert!(position("payment_captured") < position("refund_issued"));
    assert!(position("review_written") < position("download"));
    assert!(position("download") < position("note_added"));
    let approved = entries
        .iter()
        .find(|e| e["kind"] == "response_approved")
        .expect("an approval");
    assert_eq!(approved["actor"], "Test MANAGER", "{approved}");
    assert_eq!(
        approved["ref"],
        json!({ "type": "response", "id": response["id"] })
    );
    let download = entries
        .iter()
        .find(|e| e["kind"] == "download")
        .expect("a download");
    assert_eq!(
        download["ref"],
        json!({ "type": "product", "id": product["id"] })
    );
    assert_eq!(
        download["summary"], "Downloaded: Timeline guide",
        "{download}"
    );
    assert_eq!(download["actor"], Value::Null);
    let refund = entries
        .iter()
        .find(|e| e["kind"] == "refund_issued")
        .expect("a refund");
    assert!(
        refund["summary"]
            .as_str()
            .expect("a summary")
            .contains("9.00 INR"),
        "{refund}"
    );

    // Pages of every size give the same entries, none skipped or repeated.
    for limit in [1, 2, 3, 7] {
        assert_eq!(
            read_in_pages(&app, &crm, limit, &cso).await,
            entries,
            "limit {limit}"
        );
    }
    // The same for a manager; only some kinds when asked.
    assert_eq!(read_in_pages(&app, &crm, 4, &manager).await, entries);
    let notes = expect_json(
        timeline(&app, &crm, "?kinds=note_added,refund_issued", &cso).await,
        200,
    )
    .await;
    let mut some = kinds_of(notes["data"].as_array().expect("a list"));
    some.sort_unstable();
    assert_eq!(some, ["note_added", "refund_issued"]);
}

#[tokio::test]
async fn entries_at_the_same_instant_page_by_kind_then_id() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Query};

    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let crm = app.create_customer(&cso, &customer_body("Busy")).await;
    let db = app.db().await;
    let instant: chrono::DateTime<chrono::Utc> =
        "2026-12-01T10:00:00.123456Z".parse().expect("a time");
    let customer_id: uuid::Uuid = id(&crm).parse().expect("a uuid");
    let author: uuid::Uuid = cso.user_id.parse().expect("a uuid");
    for n in 0..5 {
        let note = Query::insert()
            .into_table(Alias::new("customer_notes"))
            .columns(["id", "customer_id", "author_id", "body", "created_at"].map(Alias::new))
            .values_panic([
                uuid::Uuid::new_v4().into(),
                customer_id.into(),
                author.into(),
                format!("Same instant {n}").into(),
                instant.into(),
            ])
            .to_owned();
        db.execute(&note).await.expect("a note is inserted");
        let feedback = Query::insert()
            .into_table(Alias::new("site_feedback"))
            .columns(
                [
                    "id",
                    "message",
                    "email",
                    "status",
                    "created_at",
                    "updated_at",
                    "version",
                ]
                .map(Alias::new),
            )
            .values_panic([
                uuid::Uuid::new_v4().into(),
                format!("Feedback {n}").into(),
                crm["email"].as_str().expect("an address").into(),
                "NEW".into(),
                instant.into(),
                instant.into(),
                1_i64.into(),
            ])
            .to_owned();
        db.execute(&feedback).await.expect("feedback is inserted");
    }
    let _ = db.close().await;

    let whole = expect_json(timeline(&app, &crm, "?limit=100", &cso).await, 200).await;
    let entries = whole["data"].as_array().expect("a list").clone();

    assert_eq!(entries.len(), 10, "{whole}");
    assert_strictly_descending(&entries);
    assert_eq!(
        kinds_of(&entries),
        [["note_added"; 5], ["feedback_sent"; 5]].concat()
    );
    for limit in [1, 2, 3, 4, 6] {
        assert_eq!(
            read_in_pages(&app, &crm, limit, &cso).await,
            entries,
            "limit {limit}"
        );
    }
}

#[tokio::test]
async fn the_timeline_is_scoped_like_its_customer_and_refuses_foreign_cursors() {
    let app = spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other_cso = app.sign_in_as(Role::Cso).await;
    let editor = app.sign_in_as(Role::Editor).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let crm = app.create_customer(&cso, &customer_body("Scoped")).await;

    assert_error(timeline(&app, &crm, "", &other_cso).await, 404, "not_found").await;
    assert_error(timeline(&app, &crm, "", &buyer).await, 403, "forbidden").await;
    assert_error(timeline(&app, &crm, "", &editor).await, 403, "forbidden").await;
    for bad in [
        "?cursor=not-a-cursor",
        "?cursor=djF8eHx5fHo",
        "?cursor=%25%25",
    ] {
        assert_error(timeline(&app, &crm, bad, &cso).await, 400, "invalid_cursor").await;
    }
    let body = assert_error(
        timeline(&app, &crm, "?kinds=order", &cso).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["details"][0]["field"], "kinds");
    let empty = expect_json(timeline(&app, &crm, "", &cso).await, 200).await;
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["meta"]["nextCursor"], Value::Null);
}

#[tokio::test]
async fn a_failed_payment_attempt_is_on_the_timeline_once_with_the_gateways_reason() {
    let razorpay = RazorpayFake::start().await;
    let app = spawn_app_with(razorpay.vars().as_slice()).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    app.verify_email(&buyer).await;
    let crm = customer_at(&app, &cso, &buyer.email).await;
    let product = app
        .published_product(&manager, "Declined guide", 4_900, b"%PDF-1.4 declined")
        .await;
    let checkout = app.checkout_one(&buyer, &product).await;
    let mut failed = razorpay_payment_event(
        "payment.failed",
        checkout["razorpayOrderId"].as_str().expect("an id"),
        &razorpay_id("pay"),
        4_900,
    );
    failed["payload"]["payment"]["entity"]["error_code"] = json!("BAD_REQUEST_ERROR");
    failed["payload"]["payment"]["entity"]["error_description"] =
        json!("Payment failed because the card was declined");
    let event_id = razorpay_id("evt");

    // Delivered twice, as the gateway may: one entry.
    for _ in 0..2 {
        let res = razorpay.deliver(&app, &failed, &event_id).await;
        expect_json(res, 200).await;
    }

    let page = expect_json(
        timeline(&app, &crm, "?kinds=payment_failed,order_placed", &cso).await,
        200,
    )
    .await;
    let entries = page["data"].as_array().expect("a list");
    let mut kinds = kinds_of(entries);
    kinds.sort_unstable();
    assert_eq!(kinds, ["order_placed", "payment_failed"], "{page}");
    let failure = entries
        .iter()
        .find(|e| e["kind"] == "payment_failed")
        .expect("a failure");
    assert_eq!(
        failure["summary"],
        "Payment failed: 49.00 INR: BAD_REQUEST_ERROR (Payment failed because the card was declined)"
    );
    assert_eq!(
        failure["ref"],
        json!({ "type": "order", "id": checkout["orderId"] })
    );
    // The order is still payable.
    let order = app.order(&checkout["orderId"], &buyer).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
}
