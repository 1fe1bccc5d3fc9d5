#!/usr/bin/env bash
# Installs the local tools some adapter tests need, idempotently: a Python virtualenv at
# <repo>/.venv with aiosmtpd (the SMTP sink of nexus-smtp-mailer's tests), moto[server]
# (the local S3 of nexus-object-store's tests), and schemathesis plus openapi-spec-validator
# (scripts/schemathesis.sh: API fuzzing and the OpenAPI 3.1 check; pinned so runs reproduce).
# It also installs oauth2-mock-server (npm, pinned) into <repo>/.tools/node_modules when npm
# is there: the local OpenID Connect provider of the sign-in tests (tests/src/oauth.rs).
# Safe to run concurrently (test processes may call it at the same time) and quick when
# nothing is missing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="$venv/bin/python"

# Each entry: the pip requirement, then the module whose import proves it is installed. A
# pinned requirement (`name==version`) also needs that exact version installed.
tools=(
  "aiosmtpd aiosmtpd"
  "moto[server] moto.server"
  "schemathesis==4.32.5 schemathesis"
  "openapi-spec-validator==0.9.0 openapi_spec_validator"
)

has() {
  local requirement="$1" module="$2" pin=""
  [ -x "$python" ] || return 1
  case "$requirement" in *==*) pin="${requirement#*==}" ;; esac
  "$python" - "$module" "${requirement%%[=[]*}" "$pin" >/dev/null 2>&1 <<'PY'
import importlib, importlib.metadata, sys
module, dist, pin = sys.argv[1:]
importlib.import_module(module)
sys.exit(0 if not pin or importlib.metadata.version(dist) == pin else 1)
PY
}

# The npm tools: package@version, installed under $node_dir.
node_dir="$repo/.tools"
node_tools=(
  "oauth2-mock-server@8.2.3"
)

has_node_tool() {
  local package="${1%@*}" version="${1##*@}"
  grep -q "\"version\": \"$version\"" "$node_dir/node_modules/$package/package.json" 2>/dev/null
}

ready() {
  local tool
  for tool in "${tools[@]}"; do
    has "${tool%% *}" "${tool#* }" || return 1
  done
  # Without npm the sign-in tests skip (or fail under CI=true); nothing to install here.
  command -v npm >/dev/null 2>&1 || return 0
  for tool in "${node_tools[@]}"; do
    has_node_tool "$tool" || return 1
  done
}

ready && exit 0

install() {
  ready && return 0
  if [ ! -x "$python" ]; then
    echo "test-tools: creating $venv" >&2
    python3 -m venv "$venv"
  fi
  local tool
  for tool in "${tools[@]}"; do
    has "${tool%% *}" "${tool#* }" && continue
    echo "test-tools: installing ${tool%% *} into $venv" >&2
    "$python" -m pip install --quiet --disable-pip-version-check "${tool%% *}"
  done
  if command -v npm >/dev/null 2>&1; then
    mkdir -p "$node_dir"
    for tool in "${node_tools[@]}"; do
      has_node_tool "$tool" && continue
      echo "test-tools: installing $tool into $node_dir" >&2
      npm install --silent --no-audit --no-fund --no-save --prefix "$node_dir" "$tool"
    done
  fi
  ready
}

# One installer at a time; the others wait and then find everything in place.
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/nexus-test-tools.$(id -u).lock"
  exec 9>"$lock"
  flock 9
fi
install
