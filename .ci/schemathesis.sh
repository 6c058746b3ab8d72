#!/usr/bin/env bash
# The contract check: schemathesis, with all its checks, against the real binary and its own
# /api/openapi.json, once with a company member's token and once with an admin's. Any finding
# (a 5xx, an undocumented status, an answer off its schema, valid input refused, invalid input
# accepted, a wrong answer to an undocumented method…) fails the script.
#
# Per-operation settings, and the few rules a JSON Schema cannot say, are in
# .ci/schemathesis.toml, each with its reason.
#
# Environment: KAKEHASHI_FUZZ_EXAMPLES (examples per operation, default 25), KAKEHASHI_VENV (the
# Python environment, default ~/.cache/kakehashi/venv, created and reused), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${KAKEHASHI_FUZZ_EXAMPLES:-25}"
VENV="${KAKEHASHI_VENV:-$HOME/.cache/kakehashi/venv}"
TARGET="${CARGO_TARGET_DIR:-target}"

step() { printf '\n==> %s\n' "$*"; }

step "schemathesis $SCHEMATHESIS_VERSION in $VENV"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
  python3 -m venv "$VENV" 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$VENV/bin/schemathesis" --version

step "the server"
cargo build -q -p kakehashi
BIN="$TARGET/debug/kakehashi"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Its own data directory and SQLite database, whatever the caller's environment says; tokens that
# outlive the run, so a token run never ends on an expired one.
env -u KAKEHASHI__DATABASE__URL \
  KAKEHASHI__DATA_DIR="$WORK/data" \
  KAKEHASHI__SERVER__BIND="127.0.0.1:$PORT" \
  KAKEHASHI__SERVER__PUBLIC_URL="$BASE" \
  KAKEHASHI__AUTH__ACCESS_TOKEN_TTL_SECS=3600 \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$BIN" serve --demo >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "$BASE/readyz" >/dev/null 2>&1 && grep -q '^company ' "$WORK/server.log" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "the server stopped" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; echo "the server is not ready" >&2; exit 1; }

# The demo prints one line per member: role, e-mail, organisation, password.
credentials() { awk -v role="$1" '$1 == role { print $2, $NF; exit }' "$WORK/server.log"; }
token() {
  read -r email password < <(credentials "$1")
  curl -fsS "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
COMPANY_TOKEN=$(token company)
ADMIN_TOKEN=$(token admin)

# Operations that end the caller's sessions run last, in their own run.
SESSION_ENDING='^/api/v1/auth/(logout|password-reset)'
# All checks but one: `DELETE` on a seed or need archives it, and its owner still reads it (status
# `archived`, restorable), as the README's life cycle says; use_after_free expects a 404 after a
# DELETE, which that design does not give on purpose.
fuzz() {
  local name=$1
  shift
  step "schemathesis: $name"
  "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run "$BASE/api/openapi.json" \
    --url "$BASE" --checks all --exclude-checks use_after_free \
    --max-examples "$EXAMPLES" --seed 20261202 --no-color \
    --report junit --report-dir "$WORK/reports" "$@"
}
status=0
fuzz "company member" -H "Authorization: Bearer $COMPANY_TOKEN" --exclude-path-regex "$SESSION_ENDING" || status=1
fuzz "admin" -H "Authorization: Bearer $ADMIN_TOKEN" --exclude-path-regex "$SESSION_ENDING" || status=1
fuzz "session-ending operations" -H "Authorization: Bearer $COMPANY_TOKEN" --include-path-regex "$SESSION_ENDING" || status=1

if grep -q 'panicked' "$WORK/server.log"; then
  grep -B2 -A8 'panicked' "$WORK/server.log" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "schemathesis found disagreements between /api/openapi.json and the server" >&2
  exit 1
fi
echo "schemathesis: no findings"
