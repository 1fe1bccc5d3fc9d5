//! `nexus seed`: the demo store it fills, read back through the API as each role would,
//! the same store after a second run, and its refusal in production.

use std::process::Output;

use chrono::{Duration, Utc};
use nexus_tests::*;
use reqwest::Response;
use serde_json::Value;

const DEMO_PASSWORD: &str = nexus::cli::DEMO_PASSWORD;

const STAFF: [&str; 6] = [
    "admin@nexus.local",
    "manager@nexus.local",
    "cso1@nexus.local",
    "cso2@nexus.local",
    "cso3@nexus.local",
    "editor@nexus.local",
];

const BUYER: &str = "ananya.krishnan@example.com";

const PAGES: [&str; 6] = ["home", "about", "contact", "faq", "terms", "privacy"];

/// An app whose worker does not run, so that what the seed left (an APPROVED response
/// waiting to be mailed, say) stays as it was for the test to read.
async fn app() -> TestApp {
    spawn_app_with(&[("WORKER_IN_SERVE", "false")]).await
}

async fn seed(app: &TestApp, overrides: &[(&str, &str)]) -> Output {
    app.run_nexus(&["seed"], overrides).await
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn total(app: &TestApp, path: &str, who: impl Bearer) -> u64 {
    let body = expect_json(app.get(path, who).await, 200).await;
    body["meta"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("GET {path} has a total: {body}"))
}

async fn data(app: &TestApp, path: &str, who: impl Bearer) -> Vec<Value> {
    let body = expect_json(app.get(path, who).await, 200).await;
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path} lists data: {body}"))
        .clone()
}

fn id(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("{value} is an id"))
}

/// Follows the 303 of an invoice or credit note (or the 200 of a download) to the file.
async fn file(app: &TestApp, res: Response, status: u16) -> Vec<u8> {
    let link = expect_json(res, status).await;
    let url = link["url"].as_str().expect("a link").to_owned();
    let res = app.follow_link(&url).await;
    assert_eq!(res.status(), 200, "{url}");
    res.bytes().await.expect("the file").to_vec()
}

/// The counts a second run must leave unchanged.
async fn counts(app: &TestApp, manager: &Signed, admin: &Signed) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for path in [
        "/api/v1/customers?limit=1",
        "/api/v1/enquiries?limit=1",
        "/api/v1/responses?limit=1",
        "/api/v1/products?limit=1",
        "/api/v1/orders?limit=1",
        "/api/v1/users?limit=1",
        "/api/v1/admin/pages?limit=1",
        "/api/v1/admin/team?limit=1",
        "/api/v1/admin/posts?limit=1",
        "/api/v1/admin/reviews?limit=1",
        "/api/v1/admin/feedback?limit=1",
    ] {
        let who = if path.contains("admin") || path.contains("users") || path.contains("orders") {
            admin
        } else {
            manager
        };
        found.push((path.to_owned(), total(app, path, who).await));
    }
    found
}

#[tokio::test]
async fn seed_fills_a_realistic_store_and_a_second_run_adds_nothing() {
    let app = app().await;
    let started = std::time::Instant::now();
    let out = seed(&app, &[]).await;
    let report = text(&out);
    note(&format!("> nexus seed ({:?})\n{report}", started.elapsed()));
    assert!(out.status.success(), "{report}");
    for kind in [
        "staff",
        "customers",
        "products",
        "enquiries",
        "orders",
        "pages",
        "team",
        "posts",
        "reviews",
        "feedback",
        "metrics",
    ] {
        assert!(
            report.contains(&format!("seed {kind}: ")),
            "{kind}: {report}"
        );
    }

    // Staff of every role sign in with the demo password.
    let mut staff = Vec::new();
    for email in STAFF {
        staff.push(app.login(email, DEMO_PASSWORD).await);
    }
    let (admin, manager, editor) = (&staff[0], &staff[1], &staff[5]);
    let me = expect_json(app.get("/api/v1/auth/me", admin).await, 200).await;
    assert_eq!(me["role"], "ADMIN", "{me}");

    // 200 customers, spread over the three officers.
    assert_eq!(total(&app, "/api/v1/customers?limit=1", manager).await, 200);
    let mut spread = 0;
    for cso in &staff[2..5] {
        let theirs = total(&app, "/api/v1/customers?limit=1", cso).await;
        assert!((60..=70).contains(&theirs), "an officer has {theirs}");
        spread += theirs;
    }
    assert_eq!(spread, 200);
    for status in ["LEAD", "ACTIVE", "INACTIVE"] {
        let n = total(
            &app,
            &format!("/api/v1/customers?limit=1&status={status}"),
            manager,
        )
        .await;
        assert!(n > 0, "no {status} customer");
    }

    // Enquiries and responses in every state.
    assert_eq!(total(&app, "/api/v1/enquiries?limit=1", manager).await, 50);
    for status in ["OPEN", "ANSWERED", "CLOSED"] {
        let n = total(
            &app,
            &format!("/api/v1/enquiries?limit=1&status={status}"),
            manager,
        )
        .await;
        assert!(n > 0, "no {status} enquiry");
    }
    for status in ["DRAFT", "PENDING_APPROVAL", "APPROVED", "SENT", "REJECTED"] {
        let n = total(
            &app,
            &format!("/api/v1/responses?limit=1&status={status}"),
            manager,
        )
        .await;
        assert!(n > 0, "no {status} response");
    }

    // Twenty products on sale, with files a buyer downloads and covers of their own, no
    // picture from another site.
    let products = data(&app, "/api/v1/products?limit=100", NO_TOKEN).await;
    assert_eq!(products.len(), 20);
    assert!(products.iter().all(|p| p["previewImageUrl"].is_null()));
    for product in &products {
        assert_eq!(product["cover"]["contentType"], "image/png", "{product}");
        let link = product["cover"]["url"].as_str().expect("a cover");
        let res = app.get(link, NO_TOKEN).await;
        assert_eq!(res.status(), 302, "{link}");
        let location = header(&res, "location").expect("a Location");
        let bytes = app
            .follow_link(&location)
            .await
            .bytes()
            .await
            .expect("bytes");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{link}");
        assert_eq!(Some(bytes.len() as u64), product["cover"]["size"].as_u64());
    }
    let buyer = app.login(BUYER, DEMO_PASSWORD).await;
    let library = data(&app, "/api/v1/me/library", &buyer).await;
    assert!(!library.is_empty());
    for entry in &library {
        let path = format!("/api/v1/products/{}/download", id(&entry["productId"]));
        let bytes = file(&app, app.get(&path, &buyer).await, 200).await;
        assert!(
            bytes.starts_with(b"%PDF") || bytes.starts_with(b"PK\x03\x04") || bytes.is_ascii(),
            "a real file"
        );
        assert!(!bytes.is_empty());
    }

    // Orders paid and refunded, with invoices and credit notes.
    assert_eq!(total(&app, "/api/v1/orders?limit=1", admin).await, 12);
    assert_eq!(
        total(&app, "/api/v1/orders?limit=1&status=REFUNDED", admin).await,
        2
    );
    assert_eq!(
        total(
            &app,
            "/api/v1/orders?limit=1&status=PARTIALLY_REFUNDED",
            admin
        )
        .await,
        1
    );
    assert_eq!(
        total(&app, "/api/v1/orders?limit=1&status=PAID", admin).await,
        9
    );
    let paid = data(&app, "/api/v1/orders?limit=1&status=PAID", admin).await;
    let path = format!("/api/v1/orders/{}/invoice", id(&paid[0]["id"]));
    let pdf = file(&app, app.get(&path, admin).await, 303).await;
    assert!(pdf.starts_with(b"%PDF"));
    for status in ["REFUNDED", "PARTIALLY_REFUNDED"] {
        let refunded = data(&app, &format!("/api/v1/orders?status={status}"), admin).await;
        for order in refunded {
            let refund = &order["refunds"][0]["refundId"];
            let path = format!(
                "/api/v1/orders/{}/refunds/{}/credit-note",
                id(&order["id"]),
                id(refund)
            );
            let pdf = file(&app, app.get(&path, admin).await, 303).await;
            assert!(pdf.starts_with(b"%PDF"), "the credit note of {order}");
            let path = format!("/api/v1/orders/{}/invoice", id(&order["id"]));
            assert!(
                file(&app, app.get(&path, admin).await, 303)
                    .await
                    .starts_with(b"%PDF")
            );
        }
    }

    // Six pages anyone reads.
    for slug in PAGES {
        let page = expect_json(
            app.get(&format!("/api/v1/content/pages/{slug}"), NO_TOKEN)
                .await,
            200,
        )
        .await;
        assert!(
            page["blocks"].as_array().is_some_and(|b| !b.is_empty()),
            "{page}"
        );
    }

    // The visible team in order, and their blog: eight published posts with authors, in
    // both feeds; one more scheduled and one draft that staff see.
    let team = data(&app, "/api/v1/content/team", NO_TOKEN).await;
    let names: Vec<&str> = team.iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "Aarav Mehta",
            "Priya Nair",
            "Rohan Iyer",
            "Sara Thomas",
            "Kabir Singh"
        ]
    );
    assert_eq!(total(&app, "/api/v1/admin/team?limit=1", editor).await, 6);
    // Each with a portrait that is served as a PNG.
    for member in &team {
        let link = member["photoUrl"].as_str().expect("a photo");
        let res = app.get(link, NO_TOKEN).await;
        assert_eq!(res.status(), 302, "{link}");
        let location = header(&res, "location").expect("a Location");
        let image = app.follow_link(&location).await;
        assert_eq!(image.status(), 200);
        let bytes = image.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{link}");
    }
    assert_eq!(
        total(&app, "/api/v1/content/posts?limit=1", NO_TOKEN).await,
        8
    );
    assert_eq!(total(&app, "/api/v1/admin/posts?limit=1", editor).await, 10);
    let post = expect_json(
        app.get(
            "/api/v1/content/posts/seo-basics-for-small-stores",
            NO_TOKEN,
        )
        .await,
        200,
    )
    .await;
    assert!(post["author"]["name"].is_string(), "{post}");
    assert!(
        post["html"].as_str().is_some_and(|h| h.contains("<h2>")),
        "{post}"
    );
    for (feed, item) in [("/feed.xml", "<item>"), ("/atom.xml", "<entry>")] {
        let res = app.get(feed, NO_TOKEN).await;
        assert_eq!(res.status(), 200, "{feed}");
        let xml = res.text().await.expect("the feed");
        assert_eq!(xml.matches(item).count(), 8, "{feed}: {xml}");
    }

    // Reviews visible on products, and published site feedback.
    let mut reviews = 0;
    for product in &products {
        let path = format!("/api/v1/products/{}/reviews", id(&product["id"]));
        reviews += data(&app, &path, NO_TOKEN).await.len();
    }
    assert!(reviews >= 10, "{reviews} published reviews");
    let feedback = data(&app, "/api/v1/feedback", NO_TOKEN).await;
    assert!(feedback.len() >= 5, "{} published feedback", feedback.len());

    // A month of page metrics in the staff reports.
    let today = Utc::now().date_naive();
    let from = today - Duration::days(29);
    let trend = data(
        &app,
        &format!("/api/v1/analytics/trend?from={from}&to={today}"),
        editor,
    )
    .await;
    assert_eq!(trend.len(), 30);
    let with_views = trend
        .iter()
        .filter(|d| d["views"].as_u64().is_some_and(|v| v > 0))
        .count();
    assert_eq!(with_views, 30, "{trend:?}");

    // Again: nothing new.
    let before = counts(&app, manager, admin).await;
    let out = seed(&app, &[]).await;
    let report = text(&out);
    note(&format!("> nexus seed (again)\n{report}"));
    assert!(out.status.success(), "{report}");
    assert!(
        report
            .lines()
            .filter(|l| l.starts_with("seed ") && l.contains(": "))
            .all(|l| l.contains(": 0 created")),
        "{report}"
    );
    assert_eq!(counts(&app, manager, admin).await, before);
}

#[tokio::test]
async fn seed_is_refused_in_production_and_changes_nothing() {
    let app = app().await;
    let out = seed(
        &app,
        &[
            ("APP_ENV", "production"),
            ("BCRYPT_COST", "10"),
            ("JWT_SECRET", "a-production-secret-of-more-than-32-bytes"),
            (
                "LINK_SIGNING_KEY",
                "a-production-link-key-of-more-than-32-bytes",
            ),
            ("RAZORPAY_KEY_ID", "rzp_live_x"),
            ("RAZORPAY_KEY_SECRET", "key-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "webhook-secret"),
        ],
    )
    .await;
    let report = text(&out);
    note(&format!("> APP_ENV=production nexus seed\n{report}"));
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("seed is refused when APP_ENV=production"),
        "{report}"
    );
    let admin = app.admin().await;
    assert_eq!(total(&app, "/api/v1/customers?limit=1", &admin).await, 0);
    assert_eq!(total(&app, "/api/v1/users?limit=1", &admin).await, 1);
}
