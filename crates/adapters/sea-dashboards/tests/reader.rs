//! `SeaDashboardReader` on a real database migrated by the real migrator: SQLite always,
//! PostgreSQL when `TEST_DATABASE_URL` is set. Rows are written in SQL, the way the other
//! contexts' adapters store them, at instants the test chooses.

use chrono::{DateTime, Duration, Utc};
use nexus_dashboards::{CsoQuery, DashboardReader};
use nexus_kernel::UserId;
use nexus_migration::Migrator;
use nexus_sea_dashboards::SeaDashboardReader;
use nexus_sea_support::testing::TestDb;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use uuid::Uuid;

async fn backends() -> Vec<TestDb> {
    nexus_sea_support::testing::backends::<Migrator>().await
}

/// 2026-01-01T00:00:00Z plus `seconds`: the tests' now is `at(0)`.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + seconds, 0).expect("valid instant")
}

async fn insert(db: &DatabaseConnection, table: &str, row: &[(&str, Value)]) {
    let insert = Query::insert()
        .into_table(Alias::new(table))
        .columns(row.iter().map(|(column, _)| Alias::new(*column)))
        .values_panic(row.iter().map(|(_, value)| value.clone().into()))
        .to_owned();
    db.execute(&insert)
        .await
        .unwrap_or_else(|e| panic!("a row of {table} is inserted: {e}"));
}

/// A staff member (or buyer) named `first last`, with `role`.
async fn user(db: &DatabaseConnection, role: &str, first: &str, last: &str) -> UserId {
    let id = Uuid::now_v7();
    insert(
        db,
        "users",
        &[
            ("id", id.into()),
            ("email", format!("{}@test.local", id.simple()).into()),
            ("password_hash", "x".into()),
            ("role", role.into()),
            ("first_name", first.into()),
            ("last_name", last.into()),
            ("is_active", true.into()),
            ("email_verified", true.into()),
            ("version", 1_i64.into()),
            ("created_at", at(-100_000).into()),
            ("updated_at", at(-100_000).into()),
        ],
    )
    .await;
    UserId::from_uuid(id)
}

/// A customer assigned to `officer` (who also created it), with `status`.
async fn customer(db: &DatabaseConnection, officer: UserId, status: &str) -> Uuid {
    let id = Uuid::now_v7();
    insert(
        db,
        "customers",
        &[
            ("id", id.into()),
            ("first_name", "Some".into()),
            ("last_name", "One".into()),
            ("email", format!("{}@test.local", id.simple()).into()),
            ("status", status.into()),
            ("tags", "[]".into()),
            ("assigned_to", officer.as_uuid().into()),
            ("created_by", officer.as_uuid().into()),
            ("created_at", at(-100_000).into()),
            ("updated_at", at(-100_000).into()),
            ("version", 1_i64.into()),
            ("search_text", "some one".into()),
        ],
    )
    .await;
    id
}

/// The deadline of a submission: warned at `warn`, due at `due` (seconds from now).
#[derive(Clone, Copy)]
struct Deadline {
    warn: i64,
    due: i64,
}

/// A response of `author` to `customer` in `status`, submitted `submitted` seconds from
/// now (none for a draft), with `deadline` if it has one.
async fn response(
    db: &DatabaseConnection,
    author: UserId,
    customer: Uuid,
    status: &str,
    submitted: Option<i64>,
    deadline: Option<Deadline>,
) -> Uuid {
    let id = Uuid::now_v7();
    let when = |s: Option<i64>| Value::from(s.map(at));
    insert(
        db,
        "responses",
        &[
            ("id", id.into()),
            ("customer_id", customer.into()),
            ("author_id", author.as_uuid().into()),
            ("subject", format!("Answer {}", id.simple()).into()),
            ("content", "Here it is.".into()),
            ("status", status.into()),
            ("version", 1_i64.into()),
            ("created_at", at(-200_000).into()),
            ("updated_at", at(-200_000).into()),
            ("submitted_at", when(submitted)),
            ("warn_at", when(deadline.map(|d| d.warn))),
            ("due_at", when(deadline.map(|d| d.due))),
        ],
    )
    .await;
    id
}

const HOUR: i64 = 3_600;

#[tokio::test]
async fn deadlines_at_risk_and_overdue_count_waiting_responses_by_their_warning_and_due_times() {
    for t in backends().await {
        let db = &t.db;
        let officer = user(db, "CSO", "Ada", "Officer").await;
        let other = user(db, "CSO", "Bo", "Officer").await;
        let client = customer(db, officer, "ACTIVE").await;
        let theirs = customer(db, other, "LEAD").await;
        let ahead = Deadline {
            warn: 2 * HOUR,
            due: 3 * HOUR,
        };
        let warning = Deadline {
            warn: -HOUR,
            due: HOUR,
        };
        // Warned at exactly now: the window is reached.
        let warned_now = Deadline { warn: 0, due: HOUR };
        let overdue = Deadline {
            warn: -5 * HOUR,
            due: -HOUR,
        };
        // Due at exactly now: overdue.
        let due_now = Deadline {
            warn: -4 * HOUR,
            due: 0,
        };
        let pending = "PENDING_APPROVAL";
        let oldest = response(
            db,
            officer,
            client,
            pending,
            Some(-30 * HOUR),
            Some(overdue),
        )
        .await;
        response(
            db,
            officer,
            client,
            pending,
            Some(-20 * HOUR),
            Some(due_now),
        )
        .await;
        response(
            db,
            officer,
            client,
            pending,
            Some(-10 * HOUR),
            Some(warning),
        )
        .await;
        response(
            db,
            officer,
            client,
            pending,
            Some(-9 * HOUR),
            Some(warned_now),
        )
        .await;
        response(db, officer, client, pending, Some(-HOUR), Some(ahead)).await;
        // Submitted while deadlines were off: waiting, never at risk.
        let undated = response(db, officer, client, pending, Some(-40 * HOUR), None).await;
        // Decided or not submitted: not waiting, whatever their old deadline says.
        response(
            db,
            officer,
            client,
            "REJECTED",
            Some(-50 * HOUR),
            Some(overdue),
        )
        .await;
        response(
            db,
            officer,
            client,
            "APPROVED",
            Some(-50 * HOUR),
            Some(overdue),
        )
        .await;
        response(db, officer, client, "DRAFT", None, None).await;
        // Another officer's: only in the manager's queue.
        response(db, other, theirs, pending, Some(-25 * HOUR), Some(overdue)).await;
        let reader = SeaDashboardReader::new(db.clone());

        let mine = reader
            .cso(&CsoQuery {
                officer,
                now: at(0),
            })
            .await
            .expect("the officer's figures");
        let queue = reader
            .manager(at(0), at(0) - Duration::days(30), 3)
            .await
            .expect("the manager's figures")
            .approval_queue;

        let b = t.backend;
        assert_eq!(mine.waiting_for_approval, 6, "{b}");
        assert_eq!(mine.deadlines_at_risk, 4, "{b}");
        assert_eq!(mine.deadlines_overdue, 2, "{b}");
        assert_eq!((mine.drafts, mine.rejected), (1, 1), "{b}");
        assert_eq!(queue.total, 7, "{b}");
        assert_eq!(queue.deadlines_at_risk, 5, "{b}");
        assert_eq!(queue.deadlines_overdue, 3, "{b}");
        let listed: Vec<(Uuid, Option<DateTime<Utc>>)> =
            queue.oldest.iter().map(|q| (q.id, q.due_at)).collect();
        assert_eq!(listed[0], (undated, None), "{b}");
        assert_eq!(listed[1], (oldest, Some(at(-HOUR))), "{b}");
        assert_eq!(listed.len(), 3, "{b}");
        assert_eq!(queue.oldest[2].author_name, "Bo Officer", "{b}");
    }
}

/// A status change of `response` (by `author`) to `to` at `when` seconds from now, with the
/// counter the approvals adapter writes in the same transaction.
async fn event(db: &DatabaseConnection, response: Uuid, author: UserId, to: &str, when: i64) {
    insert(
        db,
        "response_events",
        &[
            ("id", Uuid::now_v7().into()),
            ("response_id", response.into()),
            ("actor_id", author.as_uuid().into()),
            ("to_status", to.into()),
            ("at", at(when).into()),
        ],
    )
    .await;
    let upsert = Query::insert()
        .into_table(Alias::new("response_event_counts"))
        .columns(["day", "author_id", "to_status", "n"].map(Alias::new))
        .values_panic([
            at(when).date_naive().into(),
            author.as_uuid().into(),
            to.into(),
            1_i64.into(),
        ])
        .on_conflict(
            OnConflict::columns(["day", "author_id", "to_status"].map(Alias::new))
                .value(
                    Alias::new("n"),
                    Expr::cust("response_event_counts.n + excluded.n"),
                )
                .to_owned(),
        )
        .to_owned();
    db.execute(&upsert).await.expect("the event is counted");
}

#[tokio::test]
async fn the_teams_throughput_counts_exactly_the_events_from_the_start_of_the_window() {
    for t in backends().await {
        let db = &t.db;
        let ada = user(db, "CSO", "Ada", "Officer").await;
        let bo = user(db, "CSO", "Bo", "Officer").await;
        let client = customer(db, ada, "ACTIVE").await;
        let response = response(db, ada, client, "SENT", Some(-40 * 86_400), None).await;
        let theirs = customer(db, bo, "ACTIVE").await;
        let old = response_of(db, bo, theirs).await;
        // Now is 15:00 UTC, so the window starts at 15:00 on its first day: the events of
        // that day before 15:00 are out, the rest in.
        let now = 15 * HOUR;
        let since = now - 30 * 86_400;
        event(db, response, ada, "REJECTED", since - HOUR).await;
        event(db, response, ada, "APPROVED", since).await;
        event(db, response, ada, "SENT", since + HOUR).await;
        event(db, response, ada, "PENDING_APPROVAL", since + 2 * HOUR).await;
        event(db, response, ada, "REJECTED", since + 86_400).await;
        event(db, response, ada, "APPROVED", now - HOUR).await;
        event(db, old, bo, "APPROVED", since - 1).await;
        let reader = SeaDashboardReader::new(db.clone());

        let team = reader
            .manager(at(now), at(since), 10)
            .await
            .expect("the manager's figures")
            .team;

        let b = t.backend;
        let figures: Vec<(UserId, &str, u64, u64, u64)> = team
            .iter()
            .map(|o| {
                (
                    o.officer_id,
                    o.name.as_str(),
                    o.sent,
                    o.approved,
                    o.rejected,
                )
            })
            .collect();
        assert_eq!(figures, [(ada, "Ada Officer", 1, 2, 1)], "{b}");
    }
}

/// A response of `author` to `customer` sent long ago, to hang events on.
async fn response_of(db: &DatabaseConnection, author: UserId, customer: Uuid) -> Uuid {
    response(db, author, customer, "SENT", Some(-40 * 86_400), None).await
}

#[tokio::test]
async fn an_officers_customers_by_status_are_the_crms_counters() {
    for t in backends().await {
        let db = &t.db;
        let ada = user(db, "CSO", "Ada", "Officer").await;
        let bo = user(db, "CSO", "Bo", "Officer").await;
        for status in ["LEAD", "LEAD", "ACTIVE", "CHURNED"] {
            customer(db, ada, status).await;
        }
        customer(db, bo, "INACTIVE").await;
        // Written around the repository, so the counters are rebuilt as after an import.
        nexus_sea_crm::SeaCustomerRepository::new(db.clone())
            .recount()
            .await
            .expect("the counters are rebuilt");
        // A counter that went back to 0 (its customers moved on) shows no status.
        db.execute_unprepared(&format!(
            "UPDATE customer_counts SET n = 0 WHERE key = 'assignee:{ada}:status:CHURNED'"
        ))
        .await
        .expect("the counter is cleared");
        let reader = SeaDashboardReader::new(db.clone());
        let query = |officer| CsoQuery {
            officer,
            now: at(0),
        };

        let mine = reader.cso(&query(ada)).await.expect("Ada's figures");
        let theirs = reader.cso(&query(bo)).await.expect("Bo's figures");

        let b = t.backend;
        let statuses = |d: &nexus_dashboards::CsoDashboard| -> Vec<(String, u64)> {
            d.customers_by_status
                .iter()
                .map(|s| (s.status.clone(), s.count))
                .collect()
        };
        assert_eq!(
            statuses(&mine),
            [("ACTIVE".to_owned(), 1), ("LEAD".to_owned(), 2)],
            "{b}"
        );
        assert_eq!(statuses(&theirs), [("INACTIVE".to_owned(), 1)], "{b}");
    }
}

/// A published product priced `minor` INR, for order lines to point at.
async fn product(db: &DatabaseConnection, creator: UserId, minor: i64) -> nexus_catalog::ProductId {
    let id = Uuid::now_v7();
    insert(
        db,
        "products",
        &[
            ("id", id.into()),
            ("slug", format!("guide-{}", id.simple()).into()),
            ("title", format!("Guide {minor}").into()),
            ("description", "".into()),
            ("price_minor", minor.into()),
            ("currency", "INR".into()),
            ("category", "guides".into()),
            ("tags", "[]".into()),
            ("status", "PUBLISHED".into()),
            ("created_by", creator.as_uuid().into()),
            ("created_at", at(-100_000).into()),
            ("updated_at", at(-100_000).into()),
            ("version", 1_i64.into()),
        ],
    )
    .await;
    nexus_catalog::ProductId::from_uuid(id)
}

/// Stores, through the orders adapter (which keeps the order counters), an order of `buyer`
/// for `product` at `minor` INR placed at `at(placed)`, then paid at `at(paid)` when given,
/// or else expired at `at(expired)` when given.
async fn order(
    orders: &nexus_sea_orders::SeaOrdersUnitOfWork,
    buyer: UserId,
    product: nexus_catalog::ProductId,
    minor: i64,
    placed: i64,
    paid: Option<i64>,
    expired: Option<i64>,
) {
    use nexus_orders::{GatewayKind, Order, OrderLine, OrdersUnitOfWork};
    let line = OrderLine {
        product_id: product,
        title: format!("Guide {minor}"),
        unit_price: nexus_kernel::Money::new(minor, nexus_kernel::Currency::INR).expect("money"),
    };
    let mut order = Order::place(buyer, vec![line], GatewayKind::Razorpay, at(placed))
        .expect("placed")
        .attach_gateway_order(&format!("order_{}", Uuid::now_v7().simple()), at(placed))
        .expect("attached");
    if let Some(paid) = paid {
        order = order
            .pay(&format!("pay_{paid}"), at(paid))
            .expect("paid")
            .order;
    } else if let Some(expired) = expired {
        order = order.expire(at(expired)).expect("expired").order;
    }
    let tx = orders.begin().await.expect("begin");
    tx.orders().insert(&order).await.expect("insert");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn the_administrators_order_figures_count_exactly_the_orders_from_the_start_of_the_window() {
    for t in backends().await {
        let db = &t.db;
        let orders =
            nexus_sea_orders::SeaOrdersUnitOfWork::new(nexus_sea_support::Transactions::new(
                db.clone(),
                nexus_outbox::RoutesHandle::new(),
                std::sync::Arc::new(nexus_kernel::FixedClock::default()),
            ));
        let admin = user(db, "ADMIN", "Ada", "Admin").await;
        let buyer = user(db, "CUSTOMER", "Bo", "Buyer").await;
        // Now is 15:00 UTC, so the window starts at 15:00 on its first day.
        let now = 15 * HOUR;
        let since = now - 30 * 86_400;
        let mut products = Vec::new();
        for minor in [100, 200, 300, 400, 500, 600, 700] {
            products.push(product(db, admin, minor).await);
        }
        // Paid on the first day before the window starts: out.
        order(
            &orders,
            buyer,
            products[0],
            100,
            since - 2 * HOUR,
            Some(since - HOUR),
            None,
        )
        .await;
        // Placed before the window, paid on its first day: sold, but not placed, in it.
        order(
            &orders,
            buyer,
            products[1],
            200,
            since - 2 * HOUR,
            Some(since + HOUR),
            None,
        )
        .await;
        // Placed and paid on the first day.
        order(
            &orders,
            buyer,
            products[2],
            300,
            since,
            Some(since + 3 * HOUR),
            None,
        )
        .await;
        // Placed and paid the next day.
        order(
            &orders,
            buyer,
            products[3],
            400,
            since + 86_400,
            Some(since + 86_400),
            None,
        )
        .await;
        // Placed later: unpaid, and expired.
        order(
            &orders,
            buyer,
            products[4],
            500,
            since + 5 * 86_400,
            None,
            None,
        )
        .await;
        order(
            &orders,
            buyer,
            products[5],
            600,
            since + 2 * 86_400,
            None,
            Some(now),
        )
        .await;
        // Long before the window.
        order(
            &orders,
            buyer,
            products[6],
            700,
            -40 * 86_400,
            Some(-40 * 86_400),
            None,
        )
        .await;
        let reader = SeaDashboardReader::new(db.clone());

        let run = reader
            .admin(at(since), 5)
            .await
            .expect("the admin's figures");

        let b = t.backend;
        let days: Vec<(String, u64, i64)> = run
            .revenue_by_day
            .iter()
            .map(|d| (d.day.to_string(), d.orders, d.revenue.amount_minor()))
            .collect();
        let day = |s: i64| at(s).date_naive().to_string();
        assert_eq!(
            days,
            [(day(since), 2, 500), (day(since + 86_400), 1, 400)],
            "{b}"
        );
        let statuses: Vec<(String, u64)> = run
            .orders_by_status
            .iter()
            .map(|s| (s.status.clone(), s.count))
            .collect();
        let status = |s: &str, n| (s.to_owned(), n);
        assert_eq!(
            statuses,
            [
                status("EXPIRED", 1),
                status("PAID", 5),
                status("PENDING_PAYMENT", 1)
            ],
            "{b}"
        );
        let top: Vec<(Uuid, String, u64, i64)> = run
            .top_products
            .iter()
            .map(|p| {
                (
                    p.product_id,
                    p.title.clone(),
                    p.units,
                    p.revenue.amount_minor(),
                )
            })
            .collect();
        assert_eq!(
            top,
            [
                (products[3].as_uuid(), "Guide 400".to_owned(), 1, 400),
                (products[2].as_uuid(), "Guide 300".to_owned(), 1, 300),
                (products[1].as_uuid(), "Guide 200".to_owned(), 1, 200),
            ],
            "{b}"
        );
        assert_eq!((run.conversion.placed, run.conversion.paid), (4, 2), "{b}");
    }
}
