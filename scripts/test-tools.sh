#!/usr/bin/env bash
# Installs the local tools some adapter tests need, idempotently: a Python virtualenv at
# <repo>/.venv with aiosmtpd (the SMTP sink of nexus-smtp-mailer's tests) and moto[server]
# (the local S3 of nexus-object-store's tests). Safe to run concurrently (test processes may
# call it at the same time) and quick when nothing is missing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="$venv/bin/python"

# Each entry: the pip requirement, then the module whose import proves it is installed.
tools=("aiosmtpd aiosmtpd" "moto[server] moto.server")

has() { [ -x "$python" ] && "$python" -c "import $1" >/dev/null 2>&1; }

ready() {
  local tool
  for tool in "${tools[@]}"; do
    has "${tool#* }" || return 1
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
    has "${tool#* }" && continue
    echo "test-tools: installing ${tool%% *} into $venv" >&2
    "$python" -m pip install --quiet --disable-pip-version-check "${tool%% *}"
  done
  ready
}

# One installer at a time; the others wait and then find everything in place.
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/nexus-test-tools.$(id -u).lock"
  exec 9>"$lock"
  flock 9
fi
install
