#!/usr/bin/env bash
# Benchmark (not a test) of the cached public product list: builds the release binary,
# starts it on a throw-away SQLite database, seeds published products through the API, runs
# wrk against `GET /api/v1/products?...` and prints requests per second, latency and the
# cache hit rate read from /metrics. Nothing here passes or fails on a number.
#
#   scripts/bench-cache.sh [seconds] [connections] [products]
#
# Defaults: 15 s, 32 connections, 40 products. Environment: BENCH_THREADS (wrk threads,
# default 2), BENCH_HTTP_WORKERS (server workers, default: the app's own default, one per
# core), BENCH_REDIS_URL (run with the Redis tier: entries and generations shared), BENCH_LOG
# (server RUST_LOG, default `warn`: one info line per request costs throughput; set `info`
# to see the price), BENCH_SKIP_BUILD=1 (use the binary already built). Installs wrk with
# apt-get when it is missing. Needs curl and python3 (to read JSON).
set -euo pipefail

seconds="${1:-15}"
connections="${2:-32}"
products="${3:-40}"
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
[ -n "${BENCH_REDIS_URL:-}" ] && env_extra+=("REDIS_URL=$BENCH_REDIS_URL" "REDIS_KEY_PREFIX=bench-$(date +%s)")

env HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" BCRYPT_COST=4 \
    NEXUS_ADMIN_EMAIL=admin@bench.local NEXUS_ADMIN_PASSWORD="$password" \
    METRICS_TOKEN="$metrics_token" RUST_LOG="${BENCH_LOG:-warn}" WORKER_POLL_MS=100 \
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
auth=(-H "Authorization: Bearer $token")

printf '%%PDF-1.4 bench' >"$work/file.pdf"
echo "seeding $products products" >&2
for i in $(seq 1 "$products"); do
    id="$(curl -fsS -H 'Content-Type: application/json' "${auth[@]}" \
        -d "{\"slug\":\"bench-$i\",\"title\":\"Bench product $i\",\"description\":\"A benchmark product number $i.\",\"priceMinor\":$((i * 1000)),\"category\":\"templates\",\"tags\":[\"business\"]}" \
        "$base/api/v1/products" | json "['id']")"
    curl -fsS -o /dev/null "${auth[@]}" -F "file=@$work/file.pdf;type=application/pdf" \
        "$base/api/v1/products/$id/asset"
    curl -fsS -o /dev/null -X POST "${auth[@]}" "$base/api/v1/products/$id/publish"
done

# Wait for the publishing invalidations to be delivered, so the run measures a settled cache.
for _ in $(seq 1 100); do
    pending="$(curl -fsS "${auth[@]}" "$base/api/v1/admin/jobs?kind=invalidate_catalog_cache&state=PENDING" | json "['meta']['total']")"
    [ "$pending" = 0 ] && break
    sleep 0.2
done

path="/api/v1/products?category=templates&sort=price&page=1&limit=20"
metric() {
    curl -fsS -H "Authorization: Bearer $metrics_token" "$base/metrics" | python3 -c "
import sys
total = {'hit': 0.0, 'miss': 0.0, 'bypass': 0.0}
for line in sys.stdin:
    if line.startswith('nexus_cache_requests_total{') and 'cache=\"products\"' in line:
        for k in total:
            if 'outcome=\"%s\"' % k in line:
                total[k] += float(line.rsplit(' ', 1)[1])
print(total['hit'], total['miss'], total['bypass'])"
}
curl -fsS -o /dev/null "$base$path"
read -r hit0 miss0 bypass0 < <(metric)

echo "wrk: $seconds s, $connections connections, $threads threads, GET $path" >&2
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$base$path" | tee "$work/wrk.txt"

read -r hit1 miss1 bypass1 < <(metric)
python3 - "$hit0" "$miss0" "$bypass0" "$hit1" "$miss1" "$bypass1" <<'PY'
import sys
h0, m0, b0, h1, m1, b1 = map(float, sys.argv[1:])
h, m, b = h1 - h0, m1 - m0, b1 - b0
n = h + m + b
print(f"cache during the run: {h:.0f} hits, {m:.0f} misses, {b:.0f} bypasses; hit rate {100 * h / n if n else 0:.3f}%")
PY
echo "products: $products; server: $binary; RUST_LOG=${BENCH_LOG:-warn}; redis: ${BENCH_REDIS_URL:-none}; cores: $(nproc)"
