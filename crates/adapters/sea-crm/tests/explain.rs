//! PostgreSQL query plans at scale: the customer list must never scan the whole table.
//!
//! Runs only when `TEST_DATABASE_URL` is set. It loads 200,000 customers with one
//! `INSERT ... SELECT FROM generate_series`, then `EXPLAIN`s the exact statements the
//! repository runs, built by the same public function the repository uses.

mod common;

use std::time::Instant;

use nexus_customers::{CustomerQuery, CustomerRepository, SearchTerm};
use nexus_kernel::{PageRequest, UserId};
use nexus_sea_crm::{SeaCustomerRepository, customer_page_statement};
use nexus_sea_support::DbBackend;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

const CUSTOMERS: i64 = 200_000;
const OFFICERS: i64 = 50;

/// 50 officers, then 200,000 customers spread over them and the four statuses; one in a
/// thousand is called "Zebrafield" so that a search has a selective term.
const SEED: &str = r"
INSERT INTO users (id, email, password_hash, role, first_name, last_name, is_active,
                   email_verified, version, created_at, updated_at)
SELECT gen_random_uuid(), 'cso' || g || '@bulk.example.com', 'x', 'CSO', 'Bulk', 'Officer',
       true, true, 1, now(), now()
FROM generate_series(1, 50) AS g;

INSERT INTO customers (id, first_name, last_name, email, phone, company, status, tags,
                       assigned_to, created_by, created_at, updated_at, version, search_text)
SELECT id, first_name, last_name, email, NULL, NULL, status, '[]', assigned_to, creator,
       created_at, created_at, 1, lower(first_name || ' ' || last_name || ' ' || email)
FROM (
    SELECT gen_random_uuid() AS id,
           'First' || g AS first_name,
           CASE WHEN g % 1000 = 0 THEN 'Zebrafield'
                ELSE 'Last' || substr(md5(g::text), 1, 10) END AS last_name,
           'bulk' || g || '@example.com' AS email,
           (ARRAY['LEAD', 'ACTIVE', 'INACTIVE', 'CHURNED'])[1 + g % 4] AS status,
           staff.ids[1 + g % 50] AS assigned_to,
           staff.ids[1] AS creator,
           timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS created_at
    FROM generate_series(1, 200000) AS g,
         (SELECT array_agg(id ORDER BY email) AS ids FROM users
          WHERE email LIKE '%@bulk.example.com') AS staff
) AS generated;

ANALYZE users;
ANALYZE customers;
";

async fn plan(db: &nexus_sea_support::DatabaseConnection, query: &CustomerQuery) -> String {
    let page = customer_page_statement(DbBackend::Postgres, query, PageRequest::default())
        .expect("the query can match rows");
    let explain = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("EXPLAIN {}", page.sql),
        page.values.map(|v| v.0).unwrap_or_default(),
    );
    db.query_all_raw(explain)
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn customer_list_queries_use_indexes_on_two_hundred_thousand_rows() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let started = Instant::now();
    t.db.execute_unprepared(SEED).await.expect("seed");
    let repo = SeaCustomerRepository::new(t.db.clone());
    // The seed wrote around the repository, so its counters start from a recount.
    repo.recount().await.expect("recount");
    let officer: Uuid =
        t.db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM users WHERE email = 'cso1@bulk.example.com'",
        ))
        .await
        .expect("find an officer")
        .expect("the officer exists")
        .try_get("", "id")
        .expect("id");
    let seeded = started.elapsed();

    let cases = [
        ("default list", CustomerQuery::default(), CUSTOMERS),
        (
            "officer scope",
            CustomerQuery {
                visible_to: Some(UserId::from_uuid(officer)),
                ..CustomerQuery::default()
            },
            CUSTOMERS / OFFICERS,
        ),
        (
            "search",
            CustomerQuery {
                search: Some(SearchTerm::parse("Zebra").expect("term")),
                ..CustomerQuery::default()
            },
            CUSTOMERS / 1000,
        ),
    ];
    for (label, query, expected_total) in cases {
        let plan = plan(&t.db, &query).await;
        let page = repo
            .list(&query, PageRequest::default())
            .await
            .expect("list");

        assert!(
            !plan.contains("Seq Scan on customers"),
            "{label} scans the whole table:\n{plan}"
        );
        assert_eq!(
            page.total,
            u64::try_from(expected_total).expect("positive"),
            "{label}"
        );
        assert_eq!(page.items.len(), 20, "{label}");
    }
    assert!(
        started.elapsed().as_secs() < 60,
        "seeding took {seeded:?}, everything {:?}",
        started.elapsed()
    );
}
