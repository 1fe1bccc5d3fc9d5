#!/usr/bin/env bash
# Checks the OpenAPI document against the real binary: validates it as OpenAPI 3.1
# (openapi-spec-validator), then fuzzes every operation with schemathesis once per role
# (anonymous, CUSTOMER, CSO, MANAGER, ADMIN) with every check enabled.
#
# Builds nothing: it runs <target>/debug/nexus from the workspace build (CARGO_TARGET_DIR is
# honoured). The app gets a temporary DATA_DIR with its own SQLite database, or, with
# FUZZ_DATABASE=postgres, a fresh PostgreSQL database made over TEST_DATABASE_URL (dropped
# at the end). It is seeded (`nexus seed`, `nexus create-admin`, a published product and a
# paid order) and runs with the abuse limits raised so fuzzing is not throttled.
#
# Knobs: FUZZ_MAX_EXAMPLES (default 10), FUZZ_WORKERS (default 2), FUZZ_SEED,
# FUZZ_REPORT_DIR (kept reports), FUZZ_ROLES (default "anonymous customer cso manager admin").
# With CI=true a missing tool or a failed start fails the run; otherwise it is skipped.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
bin="$target/debug/nexus"
venv="$repo/.venv"
max_examples="${FUZZ_MAX_EXAMPLES:-10}"
workers="${FUZZ_WORKERS:-2}"
roles="${FUZZ_ROLES:-anonymous customer cso manager admin}"

say() { echo "schemathesis.sh: $*" >&2; }

# A missing prerequisite fails under CI and skips elsewhere.
unavailable() {
  if [ "${CI:-}" = "true" ]; then
    say "FAILED: $*"
    exit 1
  fi
  say "skipped: $*"
  exit 0
}

[ -x "$bin" ] || unavailable "$bin is missing; run cargo build --workspace first"
[ -x "$venv/bin/schemathesis" ] || unavailable "schemathesis is missing; run bash scripts/test-tools.sh"
[ -x "$venv/bin/openapi-spec-validator" ] || unavailable "openapi-spec-validator is missing; run bash scripts/test-tools.sh"
command -v curl >/dev/null || unavailable "curl is missing"

work="$(mktemp -d "${TMPDIR:-/tmp}/nexus-fuzz.XXXXXX")"
server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_db" ]; then
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
admin_email="fuzz-admin@nexus.local"
admin_password="fuzz-admin-password-1"

export APP_ENV=development HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" HTTP_WORKERS=2
export BCRYPT_COST=4 LOG_FORMAT=json RUST_LOG="${RUST_LOG:-warn}"
export ENQUIRY_RATE_LIMIT=1000000 OTP_RATE_LIMIT=1000000
export NEXUS_ADMIN_EMAIL="$admin_email" NEXUS_ADMIN_PASSWORD="$admin_password"
unset DATABASE_URL REDIS_URL S3_BUCKET SMTP_URL MEILI_URL RAZORPAY_KEY_ID RAZORPAY_KEY_SECRET RAZORPAY_WEBHOOK_SECRET
if [ "${FUZZ_DATABASE:-sqlite}" = "postgres" ]; then
  [ -n "${TEST_DATABASE_URL:-}" ] || unavailable "FUZZ_DATABASE=postgres needs TEST_DATABASE_URL"
  command -v psql >/dev/null || unavailable "psql is missing"
  pg_db="fuzz_$(date +%s)_$$"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE \"$pg_db\"" >/dev/null ||
    unavailable "cannot create a database over TEST_DATABASE_URL"
  export DATABASE_URL="${TEST_DATABASE_URL%/*}/$pg_db"
fi
mkdir -p "$DATA_DIR"

started=$(date +%s)
log="$work/nexus.log"
"$bin" migrate >>"$log" 2>&1 || { tail -20 "$log" >&2; unavailable "nexus migrate failed"; }
"$bin" seed >>"$log" 2>&1 || { tail -20 "$log" >&2; unavailable "nexus seed failed"; }
"$bin" create-admin --email "$admin_email" --password "$admin_password" >>"$log" 2>&1 ||
  { tail -20 "$log" >&2; unavailable "nexus create-admin failed"; }
"$bin" serve >>"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { tail -20 "$log" >&2; unavailable "nexus serve exited"; }
  sleep 0.2
done
curl -fsS "$base/health/ready" >/dev/null 2>&1 || { tail -20 "$log" >&2; unavailable "nexus serve did not become ready"; }

# Tokens and fixtures, through the API itself.
python="$venv/bin/python"
"$python" "$repo/scripts/fuzz_fixtures.py" "$base" "$admin_email" "$admin_password" "$work/tokens.env" ||
  { tail -20 "$log" >&2; unavailable "fixtures could not be created"; }
# shellcheck disable=SC1091
. "$work/tokens.env"

curl -fsS "$base/api-docs/openapi.json" -o "$work/openapi.json"
operations="$("$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["paths"].values() for m in p if m in ("get","put","post","delete","patch","head","options","trace")))' "$work/openapi.json")"

status=0
if "$venv/bin/openapi-spec-validator" --schema 3.1.0 "$work/openapi.json" >"$work/validator.txt" 2>&1; then
  echo "openapi-spec-validator: OK (OpenAPI 3.1, $operations operations)"
else
  status=1
  echo "openapi-spec-validator: FAILED"
  head -40 "$work/validator.txt"
fi

report_dir="${FUZZ_REPORT_DIR:-$work/reports}"
mkdir -p "$report_dir"
seed_args=()
[ -n "${FUZZ_SEED:-}" ] && seed_args=(--seed "$FUZZ_SEED")
summary=()
for role in $roles; do
  token_var="TOKEN_$(echo "$role" | tr '[:lower:]' '[:upper:]')"
  auth=()
  if [ "$role" != "anonymous" ]; then
    [ -n "${!token_var:-}" ] || { say "no token for $role"; exit 1; }
    auth=(-H "Authorization: Bearer ${!token_var}")
  fi
  out="$report_dir/$role.txt"
  set +e
  "$venv/bin/schemathesis" --config-file "$repo/scripts/schemathesis.toml" run "$work/openapi.json" --url "$base" "${auth[@]}" \
    --checks all --max-examples "$max_examples" --workers "$workers" "${seed_args[@]}" \
    --report junit --report-junit-path "$report_dir/$role.xml" \
    --generation-database none --no-color >"$out" 2>&1
  rc=$?
  set -e
  line="$("$python" "$repo/scripts/fuzz_summary.py" "$role" "$rc" "$report_dir/$role.xml")"
  summary+=("$line")
  echo "$line"
  if [ "$rc" -ne 0 ]; then
    status=1
    sed -n '/FAILURES/,$p' "$out" | head -${FUZZ_SHOW_LINES:-200}
  fi
done

echo "---"
for line in "${summary[@]}"; do echo "$line"; done
echo "schemathesis.sh: $(( $(date +%s) - started ))s, $([ "$status" -eq 0 ] && echo OK || echo FAILED)"
if kill -0 "$server_pid" 2>/dev/null; then :; else say "nexus serve died during the run"; status=1; fi
if grep -q '"level":"ERROR"' "$log"; then
  say "the server logged errors:"
  grep '"level":"ERROR"' "$log" | head -20 >&2
fi
exit "$status"
