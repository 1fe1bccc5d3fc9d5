#!/usr/bin/env bash
# Measures the memory a product-file upload costs the server: starts the nexus binary on a
# throw-away SQLite database, uploads one file with curl as the administrator, and prints
# the process's resident set (VmRSS) when idle and its peak (VmHWM) during the upload, from
# /proc/<pid>/status. A figure, not a test: nothing here passes or fails on a number.
#
#   scripts/measure-upload-rss.sh [path/to/nexus] [megabytes]
#
# Defaults: the debug binary of $CARGO_TARGET_DIR (or ./target), 60 MB. Build it first
# (`cargo build -p nexus`, or `--release` and pass target/release/nexus). Needs Linux, curl
# and python3 (to read JSON).
set -euo pipefail

binary="${1:-${CARGO_TARGET_DIR:-target}/debug/nexus}"
megabytes="${2:-60}"
[ -x "$binary" ] || { echo "no executable at $binary; build it first" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
password="Measure-$(date +%s)-pw"
base="http://127.0.0.1:$port"

HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" BCRYPT_COST=4 HTTP_WORKERS=2 \
    NEXUS_ADMIN_EMAIL=admin@measure.local NEXUS_ADMIN_PASSWORD="$password" \
    ASSET_MAX_BYTES=$((200 * 1024 * 1024)) WORKER_IN_SERVE=false RUST_LOG=warn \
    "$binary" serve >"$work/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
    curl -fsS "$base/health/live" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/health/live" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token="$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@measure.local\",\"password\":\"$password\"}" \
    "$base/api/v1/auth/login" | json "['access_token']")"
product="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d '{"slug":"measure-rss","title":"Measure RSS","priceMinor":100,"category":"tools"}' \
    "$base/api/v1/products" | json "['id']")"

head -c "$((megabytes * 1024 * 1024))" /dev/urandom >"$work/file.bin"

# Warm up the upload path with a tiny file, then reset the peak so it covers the upload only.
printf 'warm' >"$work/warm.bin"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" \
    -F "file=@$work/warm.bin;type=application/pdf" "$base/api/v1/products/$product/asset"
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
idle_rss="$(kb VmRSS)"
echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || echo "note: cannot reset VmHWM; the peak may predate the upload" >&2

status="$(curl -sS -o "$work/answer.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -F "file=@$work/file.bin;type=application/pdf" "$base/api/v1/products/$product/asset")"
peak="$(kb VmHWM)"
after_rss="$(kb VmRSS)"

expected_sha="$(sha256sum "$work/file.bin" | cut -d' ' -f1)"
recorded_sha="$(json "['asset']['sha256']" <"$work/answer.json" 2>/dev/null || echo "-")"

echo "binary:            $binary"
echo "upload:            ${megabytes} MiB, HTTP $status, sha256 recorded $([ "$recorded_sha" = "$expected_sha" ] && echo "matches" || echo "DIFFERS ($recorded_sha)")"
echo "idle VmRSS:        $((idle_rss / 1024)) MiB ($idle_rss kB)"
echo "peak VmHWM:        $((peak / 1024)) MiB ($peak kB)"
echo "VmRSS after:       $((after_rss / 1024)) MiB ($after_rss kB)"
echo "peak above idle:   $(((peak - idle_rss) / 1024)) MiB ($((peak - idle_rss)) kB)"
