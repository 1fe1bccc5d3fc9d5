#!/usr/bin/env bash
# Benchmark (not a test) of page-metrics ingestion: builds the release binary, starts it on a
# throw-away SQLite database (or BENCH_DATABASE_URL), and runs two wrk at once for the same
# time: one POSTs batches of 50 events to `/api/v1/metrics/events` (a Lua script, a browser
# user agent that varies per request so visitors differ and nothing is dropped as a bot),
# the other reads `GET /api/v1/products` with a few connections. Before that the product
# read runs alone once, as the baseline its latency under ingestion is compared with. It
# prints events per second (from `nexus_metrics_events_total` on /metrics, so only events
# really stored count), both latency tables, and the raw rows left once the worker's roll-up
# has caught up. The goal is at least 10,000 events/s with the product read's latency
# close to its baseline. Nothing here passes or fails on a number.
#
#   scripts/bench-metrics.sh [seconds] [connections] [read connections]
#
# Defaults: 15 s, 16 ingesting connections, 4 reading connections. Environment:
# BENCH_THREADS (wrk threads per run, default 2), BENCH_HTTP_WORKERS (server workers,
# default: one per core), BENCH_DATABASE_URL (e.g. a PostgreSQL database to fill; default a
# fresh SQLite file), BENCH_ROLLUP_SECS (METRICS_ROLLUP_SECS, default 5, so roll-ups run
# during the load), BENCH_LOG (server RUST_LOG, default `warn`), BENCH_SKIP_BUILD=1 (use the
# binary already built). Installs wrk with apt-get when it is missing. Needs curl and python3.
set -euo pipefail

seconds="${1:-15}"
connections="${2:-16}"
readers="${3:-4}"
threads="${BENCH_THREADS:-2}"
target="${CARGO_TARGET_DIR:-target}"
binary="$target/release/nexus"

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else sudo apt-get install -y wrk >/dev/null; fi
fi
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p nexus
fi
[ -x "$binary" ] || { echo "no executable at $binary" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
password="Bench-$(date +%s)-pw"
metrics_token="bench-metrics-token-0123456789abcdef"
base="http://127.0.0.1:$port"

env_extra=()
[ -n "${BENCH_HTTP_WORKERS:-}" ] && env_extra+=("HTTP_WORKERS=$BENCH_HTTP_WORKERS")
[ -n "${BENCH_DATABASE_URL:-}" ] && env_extra+=("DATABASE_URL=$BENCH_DATABASE_URL")

# The metrics limit is per client and every wrk connection comes from 127.0.0.1: lift it.
env HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" BCRYPT_COST=4 \
    NEXUS_ADMIN_EMAIL=admin@bench.local NEXUS_ADMIN_PASSWORD="$password" \
    METRICS_TOKEN="$metrics_token" RUST_LOG="${BENCH_LOG:-warn}" WORKER_POLL_MS=100 \
    METRICS_EVENTS_RATE_LIMIT=1000000000 METRICS_ROLLUP_SECS="${BENCH_ROLLUP_SECS:-5}" \
    "${env_extra[@]}" "$binary" serve >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 200); do
    curl -fsS "$base/health/live" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/health/live" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token="$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@bench.local\",\"password\":\"$password\"}" \
    "$base/api/v1/auth/login" | json "['access_token']")"

# A batch of 50: 40 page views over 8 paths (some with a referrer and campaign tags) and
# 10 events of the funnel.
python3 - >"$work/batch.json" <<'PY'
import json
events = []
for i in range(40):
    e = {"type": "pageview", "path": f"/products/p{i % 8}"}
    if i % 5 == 0:
        e["referrer"] = "https://www.google.com/search?q=bench"
    if i % 10 == 0:
        e["path"] += "?utm_source=newsletter&utm_medium=email&utm_campaign=bench"
    events.append(e)
for i in range(10):
    events.append({"type": "event", "name": "add_to_cart" if i < 7 else "purchase", "path": "/cart"})
print(json.dumps({"events": events}))
PY

cat >"$work/post.lua" <<LUA
-- POSTs the same batch of 50 events with a browser user agent that changes per request.
local body = io.open("$work/batch.json"):read("*a")
local n = 0
request = function()
    n = n + 1
    local headers = {}
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0 v" .. (n % 5000)
    return wrk.format("POST", "/api/v1/metrics/events", headers, body)
end
done = function(summary, latency, requests)
    local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format("ingest: %d requests, %d errors, %.0f events/s offered\n",
        summary.requests, errors, summary.requests * 50 / (summary.duration / 1e6)))
end
LUA

events_total() {
    curl -fsS -H "Authorization: Bearer $metrics_token" "$base/metrics" | python3 -c "
import sys
n = 0.0
for line in sys.stdin:
    if line.startswith('nexus_metrics_events_total'):
        n += float(line.rsplit(' ', 1)[1])
print(int(n))"
}

read_path="/api/v1/products?page=1&limit=20"
echo "baseline: GET $read_path alone, $seconds s, $readers connections" >&2
wrk -t1 -c"$readers" -d"${seconds}s" --latency "$base$read_path" | tee "$work/baseline.txt"

before="$(events_total)"
echo "under load: POST batches of 50 ($connections connections) and GET $read_path ($readers connections), $seconds s" >&2
wrk -t1 -c"$readers" -d"${seconds}s" --latency "$base$read_path" >"$work/read.txt" &
reader=$!
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base" | tee "$work/ingest.txt"
wait "$reader"
echo "--- GET $read_path during ingestion ---"
cat "$work/read.txt"
after="$(events_total)"
python3 - "$before" "$after" "$seconds" <<'PY'
import sys
b, a, s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
print(f"events stored: {a - b} in {s:.0f} s = {(a - b) / s:.0f} events/s (goal: at least 10000)")
PY

# Let the worker's roll-up catch up: stop when the day's rolled-up views stop changing.
today="$(date -u +%F)"
views_today() {
    curl -fsS -H "Authorization: Bearer $token" \
        "$base/api/v1/analytics/trend?from=$today&to=$today" | json "['data'][0]['views']"
}
previous=-1
for _ in $(seq 1 120); do
    views="$(views_today)"
    [ "$views" = "$previous" ] && [ "$views" != 0 ] && break
    previous="$views"
    sleep 2
done
echo "rolled-up page views today: $views"
echo "server: $binary; database: ${BENCH_DATABASE_URL:-sqlite}; RUST_LOG=${BENCH_LOG:-warn}; cores: $(nproc)"
