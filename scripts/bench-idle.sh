#!/usr/bin/env bash
# Resident memory of the idle agent between check-ins (goal: under 20 MiB),
# beside the platform process measured in the same run. Starts a platform
# and an agent on loopback under a temp dir, waits for a check-in and the
# boot scan, then reads VmRSS/VmHWM from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
key=bench-access-key-0123456789
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
# Three worklets of different languages are assigned, as on a real device.
for w in disk-usage-threshold auditd-running firewall-active; do
  bin/amplatform worklet add "worklets/$w" --data "$tmp/p" >/dev/null
  bin/amplatform groups assign default "$w" --data "$tmp/p" >/dev/null
done
pubkey=$(bin/amplatform key --data "$tmp/p")
bin/amplatform serve --data "$tmp/p" --listen "127.0.0.1:$port" --access-key "$key" --checkin-interval 1h >"$tmp/p.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
cat >"$tmp/a.toml" <<TOML
server = "http://127.0.0.1:$port"
access_key = "$key"
state_dir = "$tmp/a"
log_file = "$tmp/a/amagent.log"
dry_run = true
[scan]
skip_pending = true
[worklets]
trusted_keys = ["$pubkey"]
TOML
# A new agent scans at once, and again when its first configuration brings
# the assigned worklets.
bin/amagent run --config "$tmp/a.toml" &
apid=$!
pids+=($apid)
for _ in $(seq 600); do grep -q 'command_name=firewall-active' "$tmp/a/amagent.log" 2>/dev/null && [ "$(grep -c 'msg="scan complete"' "$tmp/a/amagent.log")" -ge 2 ] && break; sleep 0.1; done
grep -q 'command_name=firewall-active' "$tmp/a/amagent.log" || echo "warning: the worklets did not run" >&2
sleep 3
rss() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; }
a_rss=$(rss "$apid" VmRSS); a_hwm=$(rss "$apid" VmHWM)
p_rss=$(rss "${pids[0]}" VmRSS)
awk -v a="$a_rss" -v h="$a_hwm" -v p="$p_rss" 'BEGIN {
  printf "idle agent (3 worklets assigned) VmRSS %.1f MiB (peak %.1f MiB during start and boot scan); goal < 20 MiB: %.2f of goal\n", a/1024, h/1024, a/1024/20
  printf "platform VmRSS (same run, for scale) %.1f MiB; agent/platform %.2fx\n", p/1024, a/p
}'
# Issue 15: what this agent's two scans cost on the wire to a real
# platform. The first goes whole (gzip); the second, seconds later, adds
# the worklets' first results and sends the sections the platform holds as
# digests (the unchanged rescan's figure is TestScanUploadBytes above).
grep 'msg="scan uploaded"' "$tmp/a/amagent.log" | awk '{
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "scan upload %d (%s): document %d bytes, %d bytes sent (gzip %s), %d of %d sections as digests\n",
    NR, (NR == 1 ? "first scan" : "rescan adding the worklet results"), v["scan_bytes"], v["sent_bytes"], v["gzip"], v["sections_as_digest"], v["sections"]
}'
