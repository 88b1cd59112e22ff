#!/usr/bin/env bash
# make run: a local platform (embedded SQLite under ./var/demo) plus one
# agent that enrolls, checks in and scans. No root, no system paths.
# Ctrl-C stops both and leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/var/demo
PORT=${AMAGENT_DEMO_PORT:-8080}
URL=http://127.0.0.1:$PORT
CONSOLE_PORT=${AMAGENT_DEMO_CONSOLE_PORT:-8443}
KEY=demo-access-key-0123456789
# Something already listening on the port would answer the agent in the
# platform's place: fail at once, naming the port.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "make run: port $PORT on 127.0.0.1 is already in use; stop what holds it or pick another port:" >&2
  echo "  AMAGENT_DEMO_PORT=8081 make run" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$CONSOLE_PORT") 2>/dev/null; then
  echo "make run: port $CONSOLE_PORT on 127.0.0.1 (the console) is already in use; pick another one:" >&2
  echo "  AMAGENT_DEMO_CONSOLE_PORT=8444 make run" >&2
  exit 1
fi

mkdir -p "$DEMO/platform" "$DEMO/agent"
AMP=("$ROOT/bin/amplatform")

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping demo..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped; state kept under $DEMO"
}
trap cleanup INT TERM EXIT

# Example worklets and policies, signed by the platform's key.
for w in worklets/*/; do
  [ -f "$w/worklet.toml" ] || continue
  "${AMP[@]}" worklet add --data "$DEMO/platform" "$w" >/dev/null 2>&1 || echo "note: could not add $w"
done
assign() { "${AMP[@]}" groups assign --data "$DEMO/platform" "$@" >/dev/null || echo "note: could not assign $*"; }
assign default ssh-no-root-login
assign default auto-security-updates
assign default disk-usage-threshold
assign default reboot-pending-max-days
assign default package-min-version --param package=bash --param 'min_version="5.0"'
assign default required-software --param 'packages=["bash>=5.0","coreutils"]'
assign default patch-policy --remediate immediately --param mode=severity --param min_severity=important
PUBKEY=$("${AMP[@]}" key --data "$DEMO/platform")

echo "starting platform on $URL (data: $DEMO/platform)"
"${AMP[@]}" serve --data "$DEMO/platform" --listen "127.0.0.1:$PORT" --console "127.0.0.1:$CONSOLE_PORT" \
  --access-key "$KEY" --checkin-interval 30s >"$DEMO/platform/amplatform.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "the platform did not start:" >&2
    cat "$DEMO/platform/amplatform.log" >&2
    exit 1
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
if ! kill -0 "${pids[0]}" 2>/dev/null || grep -q "address already in use" "$DEMO/platform/amplatform.log"; then
  echo "make run: the platform could not listen on 127.0.0.1:$PORT:" >&2
  cat "$DEMO/platform/amplatform.log" >&2
  echo "pick another port: AMAGENT_DEMO_PORT=8081 make run" >&2
  exit 1
fi

cat >"$DEMO/amagent.toml" <<TOML
server = "$URL"
access_key = "$KEY"
state_dir = "$DEMO/agent"
log_file = "$DEMO/agent/amagent.log"
dry_run = true

[checkin]
interval = "30s"
variance = "3s"
retry_initial = "2s"
retry_max = "30s"

[worklets]
trusted_keys = ["$PUBKEY"]
TOML

echo "starting agent (config: $DEMO/amagent.toml)"
"$ROOT/bin/amagent" run --config "$DEMO/amagent.toml" &
pids+=($!)

# Wait for the device to enroll, then queue a scan and a GetOS command.
dev=""
for _ in $(seq 100); do
  dev=$("${AMP[@]}" devices --data "$DEMO/platform" --json 2>/dev/null | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' | head -1)
  [ -n "$dev" ] && break
  sleep 0.2
done
if [ -n "$dev" ]; then
  echo "device $dev enrolled; queueing a scan and execCmd GetOS"
  "${AMP[@]}" queue --data "$DEMO/platform" "$dev" scan
  "${AMP[@]}" queue --data "$DEMO/platform" "$dev" execCmd GetOS
else
  echo "the agent did not enroll; see $DEMO/agent/amagent.log" >&2
fi

cat <<TXT

The demo is running. Look at:
  http://127.0.0.1:$CONSOLE_PORT/                          the fleet console; sign in with the admin token:
      $(cat "$DEMO/platform/admin.token" 2>/dev/null || echo "(see $DEMO/platform/admin.token)")
      (kept in $DEMO/platform/admin.token; bin/amplatform admin-token --data $DEMO/platform makes a new one)
  tail -f $DEMO/agent/amagent.log                       the agent's log
  bin/amplatform devices --data $DEMO/platform          the fleet
  bin/amplatform results --data $DEMO/platform $dev     results and the latest scan
Ctrl-C stops the platform and the agent.
TXT
wait
