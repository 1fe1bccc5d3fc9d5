#!/usr/bin/env bash
# Benchmark (not a test) of the dashboards: builds the `bench` example of
# nexus-sea-dashboards in release mode (a debug build times the wrong thing), creates a
# PostgreSQL database (dropped at the end), migrates it, fills it with bulk SQL (INSERT ...
# SELECT generate_series: 1,000,000 customers over 20 officers, 100,000 orders of 20,000
# buyers with their lines, entitlements and refunds, 200,000 enquiries, 100,000 responses
# with their deadlines and history, 200,000 downloads, 50,000 outbox deliveries) and the
# counters the repositories keep beside those rows (customer_counts,
# response_event_counts, order_status_counts, order_day_counts, product_day_counts), runs VACUUM ANALYZE (what autovacuum does to a table that stopped
# growing), then reads every role's dashboard through `SeaDashboardReader` (the SQL the
# API runs) and prints p50 / p99 / max per role. The target is p99 < 50 ms per dashboard.
# Nothing here passes or fails on a number.
#
#   scripts/bench-dashboards.sh [rounds]
#
# Defaults: 200 timed reads per role (after 10 warm-up reads). Environment: BENCH_PG (the
# server, default postgres://postgres@127.0.0.1:5432), BENCH_KEEP=1 (keep the database,
# named bench_dashboards), BENCH_REUSE=1 (time the database a BENCH_KEEP=1 run kept: apply
# pending migrations, no refill; implies BENCH_KEEP=1), BENCH_SKIP_BUILD=1 (use the example
# already built). Needs psql.
set -euo pipefail

rounds="${1:-200}"
server="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
name="bench_dashboards"
url="$server/$name"
target="${CARGO_TARGET_DIR:-target}"
bench="$target/release/examples/bench"
reuse="${BENCH_REUSE:-0}"
[ "$reuse" = 1 ] && BENCH_KEEP=1

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p nexus-sea-dashboards --example bench
fi
[ -x "$bench" ] || { echo "no executable at $bench" >&2; exit 1; }

cleanup() {
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $name" || true
    fi
}
trap cleanup EXIT

if [ "$reuse" = 1 ]; then
    psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
        { echo "no database $name to reuse: run once with BENCH_KEEP=1" >&2; exit 1; }
    "$bench" migrate "$url"
    psql "$url" -qc "VACUUM ANALYZE"
    "$bench" run "$url" "$rounds"
    exit 0
fi

psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
"$bench" migrate "$url"

started=$(date +%s)
psql "$url" -v ON_ERROR_STOP=1 -q <<'SQL'
-- Staff: 20 officers, a manager, an administrator; 20,000 buyers.
INSERT INTO users (id, email, password_hash, role, first_name, last_name, is_active,
                   email_verified, version, created_at, updated_at)
SELECT gen_random_uuid(), 'cso' || n || '@bench.local', 'x', 'CSO', 'Officer', 'No' || n,
       TRUE, TRUE, 1, now(), now()
FROM generate_series(1, 20) AS n;
INSERT INTO users (id, email, password_hash, role, first_name, last_name, is_active,
                   email_verified, version, created_at, updated_at)
SELECT gen_random_uuid(), 'buyer' || n || '@bench.local', 'x', 'CUSTOMER', 'Buyer', 'No' || n,
       TRUE, TRUE, 1, now(), now()
FROM generate_series(1, 20000) AS n;
CREATE TEMP TABLE officers AS
SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users WHERE role = 'CSO';
CREATE TEMP TABLE buyers AS
SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users WHERE role = 'CUSTOMER';

-- 1,000,000 customers spread over the officers (1% unassigned), in four statuses.
INSERT INTO customers (id, first_name, last_name, email, status, tags, assigned_to, created_by,
                       created_at, updated_at, version, search_text)
SELECT gen_random_uuid(), 'First' || n, 'Last' || n, 'c' || n || '@bench.local',
       (ARRAY['LEAD', 'ACTIVE', 'INACTIVE', 'CHURNED'])[1 + n % 4], '[]',
       CASE WHEN n % 100 = 0 THEN NULL ELSE o.id END, o.id,
       now() - (n % 720) * interval '1 hour', now(), 1, 'first' || n || ' last' || n
FROM generate_series(1, 1000000) AS n
JOIN officers o ON o.k = n % 20;

-- 200 products.
INSERT INTO products (id, slug, title, description, price_minor, currency, category, tags,
                      status, created_by, created_at, updated_at, published_at, version)
SELECT gen_random_uuid(), 'product-' || n, 'Product ' || n, 'A product.', 100 * (10 + n % 90),
       'INR', 'guides', '[]', 'PUBLISHED', (SELECT id FROM officers WHERE k = 0), now(), now(),
       now(), 1
FROM generate_series(1, 200) AS n;
CREATE TEMP TABLE items AS
SELECT id, title, price_minor, row_number() OVER (ORDER BY id) - 1 AS k FROM products;

-- 100,000 orders over 90 days: 70% paid, 10% partly refunded, 20% unpaid or expired.
CREATE TEMP TABLE seeded AS
SELECT gen_random_uuid() AS id, n, b.id AS user_id, i.id AS product_id, i.title,
       i.price_minor, now() - (n % 2160) * interval '1 hour' AS created_at
FROM generate_series(1, 100000) AS n
JOIN buyers b ON b.k = n % 20000
JOIN items i ON i.k = n % 200;
INSERT INTO orders (id, user_id, total_minor, currency, status, gateway, gateway_order_id,
                    payment_id, refunded_minor, created_at, updated_at, paid_at, version)
SELECT id, user_id, price_minor, 'INR',
       CASE WHEN n % 10 < 7 THEN 'PAID' WHEN n % 10 = 7 THEN 'PARTIALLY_REFUNDED'
            WHEN n % 10 = 8 THEN 'PENDING_PAYMENT' ELSE 'EXPIRED' END,
       'development', 'dev_order_' || n,
       CASE WHEN n % 10 < 8 THEN 'dev_pay_' || n END,
       CASE WHEN n % 10 = 7 THEN 100 ELSE 0 END, created_at, created_at,
       CASE WHEN n % 10 < 8 THEN created_at + interval '5 minutes' END, 1
FROM seeded;
INSERT INTO order_lines (order_id, position, product_id, title, unit_price_minor, currency)
SELECT id, 0, product_id, title, price_minor, 'INR' FROM seeded;
INSERT INTO entitlements (user_id, product_id, order_id, granted_at)
SELECT user_id, product_id, id, created_at FROM seeded WHERE n % 10 < 8
ON CONFLICT DO NOTHING;
INSERT INTO order_refunds (order_id, position, refund_id, amount_minor, currency, reason, at)
SELECT id, 0, 'rfnd_bench' || n, 100, 'INR', 'goodwill', created_at + interval '1 day'
FROM seeded WHERE n % 10 = 7;

-- 200,000 enquiries of the officers' customers, 100,000 responses with their history.
CREATE TEMP TABLE some_customers AS
SELECT id, assigned_to, row_number() OVER (ORDER BY id) - 1 AS k
FROM customers WHERE assigned_to IS NOT NULL LIMIT 200000;
INSERT INTO enquiries (id, customer_id, name, email, subject, message, status, assigned_to,
                       created_at, updated_at, version, search_text)
SELECT gen_random_uuid(), c.id, 'Asker', 'q' || c.k || '@bench.local', 'A question',
       'Hello.', (ARRAY['OPEN', 'ANSWERED', 'CLOSED'])[1 + c.k % 3], c.assigned_to,
       now() - (c.k % 400) * interval '1 hour', now(), 1, 'a question'
FROM some_customers c;
CREATE TEMP TABLE seeded_responses AS
SELECT gen_random_uuid() AS id, c.id AS customer_id, c.assigned_to AS author_id, c.k,
       (ARRAY['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'SENT', 'REJECTED'])[1 + c.k % 5] AS status,
       now() - (c.k % 1440) * interval '1 hour' AS at
FROM some_customers c WHERE c.k < 100000;
-- Submitted ones carry the deadline of their submission (warned 20 h, due 24 h after it).
INSERT INTO responses (id, customer_id, author_id, subject, content, status, version,
                       created_at, updated_at, submitted_at, warn_at, due_at)
SELECT id, customer_id, author_id, 'An answer', 'Here it is.', status, 1, at, at,
       CASE WHEN status <> 'DRAFT' THEN at END,
       CASE WHEN status <> 'DRAFT' THEN at + interval '20 hours' END,
       CASE WHEN status <> 'DRAFT' THEN at + interval '24 hours' END
FROM seeded_responses;
INSERT INTO response_events (id, response_id, actor_id, from_status, to_status, at)
SELECT gen_random_uuid(), id, author_id, 'PENDING_APPROVAL', status, at + interval '1 hour'
FROM seeded_responses WHERE status IN ('APPROVED', 'SENT', 'REJECTED');

-- 200,000 downloads by the buyers.
INSERT INTO downloads (id, user_id, product_id, at)
SELECT gen_random_uuid(), b.id, i.id, now() - (n % 2000) * interval '1 hour'
FROM generate_series(1, 200000) AS n
JOIN buyers b ON b.k = n % 20000
JOIN items i ON i.k = n % 200;

-- 50,000 outbox deliveries: mostly done, some pending, a few dead.
INSERT INTO outbox_events (id, name, version, sensitive, occurred_at, created_at)
SELECT gen_random_uuid(), 'bench.event', 1, FALSE, now(), now() - (n % 500) * interval '1 minute'
FROM generate_series(1, 50000) AS n;
INSERT INTO event_deliveries (id, event_id, subscriber, state, attempts, max_attempts, run_at,
                              created_at, updated_at)
SELECT gen_random_uuid(), e.id, 'bench.subscriber',
       CASE WHEN r % 100 = 0 THEN 'PENDING' WHEN r % 1000 = 1 THEN 'DEAD' ELSE 'DONE' END,
       1, 5, e.created_at, e.created_at, e.created_at
FROM (SELECT id, created_at, row_number() OVER () AS r FROM outbox_events) AS e;

-- The customer counters SeaCustomerRepository keeps with every write (its recount, in SQL).
INSERT INTO customer_counts (key, n)
SELECT 'all', COUNT(*) FROM customers
UNION ALL
SELECT 'status:' || status, COUNT(*) FROM customers GROUP BY status
UNION ALL
SELECT 'assignee:' || assigned_to, COUNT(*) FROM customers
WHERE assigned_to IS NOT NULL GROUP BY assigned_to
UNION ALL
SELECT 'assignee:' || assigned_to || ':status:' || status, COUNT(*) FROM customers
WHERE assigned_to IS NOT NULL GROUP BY assigned_to, status;

-- The response events per UTC day, author and status reached, which the approvals adapter
-- keeps with every event (what migration m20261208_090000 does for events already stored).
INSERT INTO response_event_counts (day, author_id, to_status, n)
SELECT CAST((v.at AT TIME ZONE 'UTC') AS DATE), r.author_id, v.to_status, COUNT(*)
FROM response_events v JOIN responses r ON r.id = v.response_id
GROUP BY 1, 2, 3;

-- The order counters the orders adapter keeps with every order write (what migration
-- m20261209_090000 does for orders already stored).
INSERT INTO order_status_counts (status, n) SELECT status, COUNT(*) FROM orders GROUP BY status;
INSERT INTO order_day_counts (day, currency, placed, placed_paid, paid, paid_minor)
SELECT day, currency, SUM(placed), SUM(placed_paid), SUM(paid), SUM(paid_minor) FROM (
  SELECT CAST((created_at AT TIME ZONE 'UTC') AS DATE) AS day, currency, 1 AS placed,
         CASE WHEN paid_at IS NULL THEN 0 ELSE 1 END AS placed_paid, 0 AS paid,
         0 AS paid_minor FROM orders
  UNION ALL
  SELECT CAST((paid_at AT TIME ZONE 'UTC') AS DATE), currency, 0, 0, 1, total_minor
  FROM orders WHERE paid_at IS NOT NULL
) o GROUP BY day, currency;
INSERT INTO product_day_counts (day, product_id, currency, title, units, amount_minor)
SELECT CAST((o.paid_at AT TIME ZONE 'UTC') AS DATE), l.product_id, l.currency, MAX(l.title),
       COUNT(*), SUM(l.unit_price_minor)
FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.paid_at IS NOT NULL
GROUP BY 1, 2, 3;
SQL
psql "$url" -qc "VACUUM ANALYZE"
echo "filled in $(( $(date +%s) - started )) s: $(psql "$url" -tAc "SELECT (SELECT COUNT(*) FROM customers) || ' customers, ' || (SELECT COUNT(*) FROM orders) || ' orders'")"

"$bench" run "$url" "$rounds"
