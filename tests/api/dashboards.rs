//! `GET /api/v1/me/dashboard`: the figures of each role, seeded through the API (and, for
//! ages and the unassigned, by moving times and owners in the database), on the database
//! of the run.

use chrono::DateTime;
use chrono::{Duration, Utc};
use nexus_tests::{
    NO_TOKEN, Role, Signed, TestApp, assert_error, customer_body, enquiry_body, eventually,
    expect_json, spawn_app_with,
};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

async fn dashboard(app: &TestApp, who: &Signed) -> Value {
    expect_json(app.get("/api/v1/me/dashboard", who).await, 200).await
}

fn uuid_of(value: &Value) -> Uuid {
    value.as_str().expect("an id").parse().expect("a uuid")
}

/// Pays the order of `checkout` through the development gateway.
async fn pay(app: &TestApp, buyer: &Signed, checkout: &Value) {
    let res = app
        .post_json(
            "/api/v1/payments/dev/complete",
            &json!({ "orderId": checkout["orderId"] }),
            buyer,
        )
        .await;
    expect_json(res, 200).await;
}

async fn download(app: &TestApp, buyer: &Signed, product: &Value) {
    let res = app
        .get(
            &format!(
                "/api/v1/products/{}/download",
                product["id"].as_str().expect("an id")
            ),
            buyer,
        )
        .await;
    expect_json(res, 200).await;
}

/// Two paid orders of `buyer` (49.00 and 15.00 INR, the first refunded 9.00 by `admin`) and
/// one waiting for payment (7.00 INR): the products, in that order.
async fn purchases(app: &TestApp, buyer: &Signed, admin: &Signed) -> [Value; 3] {
    let manager = app.sign_in_as(Role::Manager).await;
    let big = app
        .published_product(&manager, "Big guide", 4_900, b"%PDF-1.4 big")
        .await;
    let small = app
        .published_product(&manager, "Small guide", 1_500, b"%PDF-1.4 small")
        .await;
    let unpaid = app
        .published_product(&manager, "Unpaid guide", 700, b"%PDF-1.4 unpaid")
        .await;
    let first = app.checkout_one(buyer, &big).await;
    pay(app, buyer, &first).await;
    let second = app.checkout_one(buyer, &small).await;
    pay(app, buyer, &second).await;
    app.checkout_one(buyer, &unpaid).await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/orders/{}/refund",
                first["orderId"].as_str().expect("an id")
            ),
            &json!({ "amountMinor": 900, "reason": "goodwill" }),
            admin,
        )
        .await;
    expect_json(res, 200).await;
    [big, small, unpaid]
}

#[tokio::test]
async fn a_buyer_sees_their_own_orders_spending_library_enquiries_and_downloads() {
    let app = nexus_tests::spawn_app().await;
    let admin = app.admin().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let stranger = app.sign_in_as(Role::Customer).await;
    app.verify_email(&buyer).await;
    let mut body = customer_body("Buyer");
    body["email"] = json!(buyer.email);
    let crm = app.create_customer(&cso, &body).await;
    assert_eq!(crm["accountId"], json!(buyer.user_id));
    let mut enquiry = enquiry_body("Buyer Asks");
    enquiry["email"] = json!(buyer.email);
    app.submit_enquiry(&enquiry).await;
    let [big, small, _] = purchases(&app, &buyer, &admin).await;
    download(&app, &buyer, &big).await;
    download(&app, &buyer, &big).await;
    download(&app, &buyer, &small).await;

    let mine = dashboard(&app, &buyer).await;

    assert_eq!(mine["role"], "CUSTOMER", "{mine}");
    assert_eq!(mine["ordersPlaced"], 3, "{mine}");
    assert_eq!(mine["ordersPaid"], 2, "{mine}");
    assert_eq!(
        mine["totalSpent"],
        json!([{ "amountMinor": 4_900 + 1_500 - 900, "currency": "INR" }])
    );
    assert_eq!(mine["librarySize"], 2);
    assert_eq!(mine["openEnquiries"], 1);
    let titles: Vec<&str> = mine["recentDownloads"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["title"].as_str().expect("a title"))
        .collect();
    assert_eq!(titles, ["Small guide", "Big guide", "Big guide"]);
    assert_eq!(mine["recentDownloads"][0]["productId"], small["id"]);
    // Someone else's figures are their own: nothing.
    let theirs = dashboard(&app, &stranger).await;
    assert_eq!(theirs["ordersPlaced"], 0, "{theirs}");
    assert_eq!(theirs["totalSpent"], json!([]));
    assert_eq!(theirs["librarySize"], 0);
    assert_eq!(theirs["openEnquiries"], 0);
    assert_eq!(theirs["recentDownloads"], json!([]));
}

/// Inserts an enquiry of `customer` assigned to `officer` with `status`, `age` old.
async fn enquiry_aged(
    app: &TestApp,
    customer: &Value,
    officer: &Signed,
    status: &str,
    age: Duration,
) {
    let db = app.db().await;
    let at = Utc::now() - age;
    let insert = Query::insert()
        .into_table(Alias::new("enquiries"))
        .columns(
            [
                "id",
                "customer_id",
                "name",
                "email",
                "subject",
                "message",
                "status",
                "assigned_to",
                "created_at",
                "updated_at",
                "version",
                "search_text",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            uuid_of(&customer["id"]).into(),
            "Aged".into(),
            customer["email"].as_str().expect("an address").into(),
            "An aged question".into(),
            "Still waiting.".into(),
            status.into(),
            uuid_of(&json!(officer.user_id)).into(),
            at.into(),
            at.into(),
            1_i64.into(),
            "an aged question".into(),
        ])
        .to_owned();
    db.execute(&insert).await.expect("an enquiry is inserted");
    let _ = db.close().await;
}

/// Moves the stored time `column` (`submitted_at`, `warn_at`, `due_at`) of `response` `age`
/// into the past, as time passing would.
async fn moved_back(app: &TestApp, response: &Value, column: &str, age: Duration) {
    let db = app.db().await;
    let update = Query::update()
        .table(Alias::new("responses"))
        .value(Alias::new(column), Utc::now() - age)
        .and_where(Expr::col(Alias::new("id")).eq(uuid_of(&response["id"])))
        .to_owned();
    let done = db.execute(&update).await.expect("the response is updated");
    assert_eq!(done.rows_affected(), 1);
    let _ = db.close().await;
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("{value} is an RFC 3339 instant"))
}

#[tokio::test]
async fn an_officer_sees_only_their_own_customers_enquiries_and_responses() {
    let app = nexus_tests::spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let other = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let lead = app.create_customer(&cso, &customer_body("Lead")).await;
    let mut active = customer_body("Active");
    active["status"] = json!("ACTIVE");
    app.create_customer(&cso, &active).await;
    let theirs = app.create_customer(&other, &customer_body("Theirs")).await;
    for (status, hours) in [
        ("OPEN", 2),
        ("OPEN", 30),
        ("OPEN", 50),
        ("OPEN", 4 * 24),
        ("OPEN", 10 * 24),
        ("CLOSED", 1),
    ] {
        enquiry_aged(&app, &lead, &cso, status, Duration::hours(hours)).await;
    }
    enquiry_aged(&app, &theirs, &other, "OPEN", Duration::hours(1)).await;
    app.draft_response(
        &cso,
        &json!({ "customerId": lead["id"], "subject": "Draft", "content": "Not yet sent anywhere." }),
    )
    .await;
    let (_, late) = app.pending_response(&cso).await;
    let (_, overdue) = app.pending_response(&cso).await;
    app.pending_response(&cso).await;
    let (_, rejected) = app.pending_response(&cso).await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/responses/{}/reject",
                rejected["id"].as_str().expect("an id")
            ),
            &json!({ "notes": "Please add the order number." }),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    // The late one is in its warning window; the overdue one is past its deadline.
    moved_back(&app, &late, "submitted_at", Duration::hours(30)).await;
    moved_back(&app, &late, "warn_at", Duration::minutes(1)).await;
    moved_back(&app, &overdue, "warn_at", Duration::hours(5)).await;
    moved_back(&app, &overdue, "due_at", Duration::hours(1)).await;
    app.pending_response(&other).await;

    let mine = dashboard(&app, &cso).await;

    assert_eq!(mine["role"], "CSO", "{mine}");
    // Two made by hand, four with the responses (one each); ACTIVE sorts first.
    assert_eq!(
        mine["customersByStatus"],
        json!([{ "status": "ACTIVE", "count": 1 }, { "status": "LEAD", "count": 5 }])
    );
    assert_eq!(
        mine["openEnquiries"],
        json!({ "under1Day": 1, "from1To3Days": 2, "from3To7Days": 1, "over7Days": 1 })
    );
    assert_eq!(mine["drafts"], 1);
    assert_eq!(mine["rejected"], 1);
    assert_eq!(mine["waitingForApproval"], 3);
    assert_eq!(mine["deadlinesAtRisk"], 2);
    assert_eq!(mine["deadlinesOverdue"], 1);
    assert!(mine.get("atRiskAfterHours").is_none(), "{mine}");
    let theirs = dashboard(&app, &other).await;
    assert_eq!(
        theirs["customersByStatus"],
        json!([{ "status": "LEAD", "count": 2 }])
    );
    assert_eq!(
        theirs["openEnquiries"],
        json!({ "under1Day": 1, "from1To3Days": 0, "from3To7Days": 0, "over7Days": 0 })
    );
    assert_eq!(theirs["waitingForApproval"], 1);
    assert_eq!(theirs["deadlinesAtRisk"], 0);
    assert_eq!(theirs["deadlinesOverdue"], 0);
    assert_eq!(theirs["drafts"], 0);

    // The manager's queue holds every officer's, the late one first; the team's decisions.
    let managed = dashboard(&app, &manager).await;
    assert_eq!(managed["role"], "MANAGER", "{managed}");
    assert_eq!(managed["approvalQueue"]["total"], 4);
    assert_eq!(managed["approvalQueue"]["deadlinesAtRisk"], 2);
    assert_eq!(managed["approvalQueue"]["deadlinesOverdue"], 1);
    let oldest = &managed["approvalQueue"]["oldest"];
    assert_eq!(oldest.as_array().map(Vec::len), Some(4), "{managed}");
    assert_eq!(oldest[0]["id"], late["id"]);
    assert_eq!(instant(&oldest[0]["dueAt"]), instant(&late["dueAt"]));
    assert_eq!(oldest[0]["authorId"], json!(cso.user_id));
    assert!(
        oldest[0]["ageSeconds"].as_i64() >= Some(30 * 3600),
        "{managed}"
    );
    let team = managed["team"].as_array().expect("a list");
    assert_eq!(team.len(), 1, "{managed}");
    assert_eq!(team[0]["officerId"], json!(cso.user_id));
    assert_eq!(team[0]["rejected"], 1);
    assert_eq!(team[0]["approved"], 0);
    assert_eq!(team[0]["rejectionRate"], 1.0);
    assert_eq!(managed["unassignedLeads"], 0);
}

#[tokio::test]
async fn managers_and_administrators_see_sales_leads_revenue_and_background_work() {
    let app = nexus_tests::spawn_app().await;
    let admin = app.admin().await;
    let manager = app.sign_in_as(Role::Manager).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let buyer = app.sign_in_as(Role::Customer).await;
    let [big, small, _] = purchases(&app, &buyer, &admin).await;
    let (_, approved) = app.pending_response(&cso).await;
    let res = app
        .post_json(
            &format!(
                "/api/v1/responses/{}/approve",
                approved["id"].as_str().expect("an id")
            ),
            &json!({}),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    let orphan = app.create_customer(&cso, &customer_body("Orphan")).await;
    let db = app.db().await;
    let update = Query::update()
        .table(Alias::new("customers"))
        .value(Alias::new("assigned_to"), Option::<Uuid>::None)
        .and_where(Expr::col(Alias::new("id")).eq(uuid_of(&orphan["id"])))
        .to_owned();
    db.execute(&update).await.expect("the customer is updated");
    let _ = db.close().await;

    let managed = eventually("the approved response to be sent", async || {
        let d = dashboard(&app, &manager).await;
        (d["team"][0]["sent"] == 1).then_some(d)
    })
    .await;

    assert_eq!(managed["unassignedLeads"], 1, "{managed}");
    assert_eq!(managed["team"][0]["approved"], 1);
    assert_eq!(managed["team"][0]["rejectionRate"], 0.0);
    assert_eq!(managed["approvalQueue"]["total"], 0);
    assert_eq!(
        managed["salesLast30Days"],
        json!({ "ordersPaid": 2, "revenue": [{ "amountMinor": 6_400, "currency": "INR" }] })
    );

    let run = dashboard(&app, &admin).await;
    assert_eq!(run["role"], "ADMIN", "{run}");
    let today = Utc::now().date_naive().to_string();
    assert_eq!(
        run["revenueByDay"],
        json!([{ "day": today, "orders": 2, "revenue": { "amountMinor": 6_400, "currency": "INR" } }])
    );
    assert_eq!(
        run["ordersByStatus"],
        json!([
            { "status": "PAID", "count": 1 },
            { "status": "PARTIALLY_REFUNDED", "count": 1 },
            { "status": "PENDING_PAYMENT", "count": 1 },
        ])
    );
    assert_eq!(
        run["refundsLast30Days"],
        json!({ "count": 1, "amounts": [{ "amountMinor": 900, "currency": "INR" }] })
    );
    let top = run["topProducts"].as_array().expect("a list");
    assert_eq!(top.len(), 2, "{run}");
    assert_eq!(top[0]["productId"], big["id"]);
    assert_eq!(top[0]["units"], 1);
    assert_eq!(top[0]["revenue"]["amountMinor"], 4_900);
    assert_eq!(top[1]["productId"], small["id"]);
    assert_eq!(run["conversion"]["placed"], 3);
    assert_eq!(run["conversion"]["paid"], 2);
    let rate = run["conversion"]["rate"].as_f64().expect("a rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{run}");
    assert_eq!(run["deliveries"]["dead"], 0, "{run}");
    assert!(run["deliveries"]["pending"].as_u64().is_some(), "{run}");
}

#[tokio::test]
async fn a_response_counts_as_at_risk_from_its_warning_time_and_overdue_from_its_deadline() {
    let app = nexus_tests::spawn_app().await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let (_, pending) = app.pending_response(&cso).await;
    let figures = async || {
        let mine = dashboard(&app, &cso).await;
        let queue = dashboard(&app, &manager).await["approvalQueue"].clone();
        (
            [
                mine["deadlinesAtRisk"].clone(),
                mine["deadlinesOverdue"].clone(),
            ],
            [
                queue["deadlinesAtRisk"].clone(),
                queue["deadlinesOverdue"].clone(),
            ],
            queue,
        )
    };

    // Just submitted: waiting, with a deadline ahead.
    let (mine, queued, queue) = figures().await;
    assert_eq!(mine, [json!(0), json!(0)]);
    assert_eq!(queued, [json!(0), json!(0)]);
    assert_eq!(queue["total"], 1);
    assert_eq!(
        instant(&queue["oldest"][0]["dueAt"]),
        instant(&pending["dueAt"])
    );
    assert!(
        instant(&queue["oldest"][0]["dueAt"]) > Utc::now(),
        "{queue}"
    );

    // The warning time passes: at risk, not yet overdue.
    moved_back(&app, &pending, "warn_at", Duration::seconds(1)).await;
    let (mine, queued, _) = figures().await;
    assert_eq!(mine, [json!(1), json!(0)]);
    assert_eq!(queued, [json!(1), json!(0)]);

    // The deadline passes: overdue, and still at risk.
    moved_back(&app, &pending, "due_at", Duration::seconds(1)).await;
    let (mine, queued, _) = figures().await;
    assert_eq!(mine, [json!(1), json!(1)]);
    assert_eq!(queued, [json!(1), json!(1)]);

    // Once decided, it waits no more and counts nowhere.
    let res = app
        .post_json(
            &format!(
                "/api/v1/responses/{}/reject",
                pending["id"].as_str().expect("an id")
            ),
            &json!({ "notes": "Please add the order number." }),
            &manager,
        )
        .await;
    expect_json(res, 200).await;
    let (mine, queued, queue) = figures().await;
    assert_eq!(mine, [json!(0), json!(0)]);
    assert_eq!(queued, [json!(0), json!(0)]);
    assert_eq!(queue["total"], 0);
}

#[tokio::test]
async fn without_approval_deadlines_nothing_is_at_risk_and_no_due_time_is_shown() {
    let app = spawn_app_with(&[("APPROVAL_DEADLINE_MINUTES", "0")]).await;
    let cso = app.sign_in_as(Role::Cso).await;
    let manager = app.sign_in_as(Role::Manager).await;
    let (_, pending) = app.pending_response(&cso).await;
    moved_back(&app, &pending, "submitted_at", Duration::days(30)).await;

    let mine = dashboard(&app, &cso).await;
    let managed = dashboard(&app, &manager).await;

    assert_eq!(mine["waitingForApproval"], 1, "{mine}");
    assert_eq!(mine["deadlinesAtRisk"], 0);
    assert_eq!(mine["deadlinesOverdue"], 0);
    let queue = &managed["approvalQueue"];
    assert_eq!(queue["total"], 1, "{managed}");
    assert_eq!(queue["deadlinesAtRisk"], 0);
    assert_eq!(queue["deadlinesOverdue"], 0);
    assert_eq!(queue["oldest"][0]["dueAt"], Value::Null, "{managed}");
}

#[tokio::test]
async fn an_editor_has_no_dashboard_and_strangers_none_at_all() {
    let app = nexus_tests::spawn_app().await;
    let editor = app.sign_in_as(Role::Editor).await;

    assert_error(
        app.get("/api/v1/me/dashboard", &editor).await,
        403,
        "no_dashboard",
    )
    .await;
    assert_error(
        app.get("/api/v1/me/dashboard", NO_TOKEN).await,
        401,
        "unauthorized",
    )
    .await;
}
