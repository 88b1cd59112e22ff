#!/usr/bin/env bash
# Platform load on loopback: the project's load generator checks in with the
# real protocol as 100,000 registered devices against the embedded SQLite
# store (and PostgreSQL when AMPLATFORM_BENCH_DATABASE_URL is set).
# BENCH_LOAD_DURATION (default 10s), BENCH_LOAD_DEVICES (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
key=bench-access-key-0123456789
dur=${BENCH_LOAD_DURATION:-10s}
devs=${BENCH_LOAD_DEVICES:-100000}
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
run() {
  local label=$1; shift
  local port=$(( 20000 + RANDOM % 20000 ))
  bin/amplatform serve "$@" --listen "127.0.0.1:$port" --access-key "$key" >"$tmp/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  echo "-- $label"
  bin/amplatform loadgen --url "http://127.0.0.1:$port" --access-key "$key" --devices "$devs" \
    --duration "$dur" --concurrency 16 --register "$@"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
run "SQLite (embedded), $devs devices" --data "$tmp/sqlite"
if [ -n "${AMPLATFORM_BENCH_DATABASE_URL:-}" ]; then
  run "PostgreSQL, $devs devices" --database "$AMPLATFORM_BENCH_DATABASE_URL"
fi
