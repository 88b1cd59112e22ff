#!/usr/bin/env bash
# make bench (part): whole programs side by side, interleaved round by round
# (scripts/runstat: A B C, B C A, ...), medians of RUNS runs (default 7)
# after one warm-up run each, wall time and peak RSS (ru_maxrss, as
# /usr/bin/time -f %M), the agent's ratios against baselines measured in
# the same run (issue 15's goals):
#   1. `amagent scan --once --json --no-pending` beside `dpkg-query -W`,
#      `facter -j` and `ohai` (each skipped, with the reason, where absent);
#   2. pending updates from apt's lists (the agent's Go policy) beside
#      `apt-get -s -o Debug::NoLocking=1 dist-upgrade`, both as whole
#      processes: the scan with pending updates, the same scan without, and
#      the simulation; the pending part's cost is the difference of the two
#      scans' medians;
#   3. the pending set of the whole process against `apt list --upgradable`,
#      and the Go policy's own test of it (TestAgreesWithAptListUpgradable).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
AMAGENT=${AMAGENT:-bin/amagent}
OUT=${OUT:-var/bench}
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/runstat" ./scripts/runstat
RS=("$work/runstat" -n "$RUNS" -warmup 1 --)

# result LABEL FIELD FILE: a RESULT line's field (wall_ns, peak_rss_kib).
result() { sed -n "s/^RESULT $1 .*$2=\([0-9]*\).*/\1/p" "$3"; }

echo "-- 1. scan without pending updates beside inventory tools (goals: no slower than dpkg-query -W; >= 20x faster than facter -j)"
progs=(scan "$AMAGENT" scan --once --json --no-pending)
if command -v dpkg-query >/dev/null; then progs+=(::: dpkg-query dpkg-query -W); else echo "skipped dpkg-query -W: not installed (not a dpkg system)"; fi
if command -v facter >/dev/null; then progs+=(::: facter facter -j); else echo "skipped facter -j: facter not installed (apt-get install facter)"; fi
if command -v ohai >/dev/null; then progs+=(::: ohai ohai); else echo "skipped ohai: ohai not installed (apt-get install ohai)"; fi
echo "labels: scan = amagent scan --once --json --no-pending; facter = facter -j; ohai = ohai (JSON on stdout)"
"${RS[@]}" "${progs[@]}" | tee "$work/scan.txt"
if command -v facter >/dev/null && command -v jq >/dev/null; then
  # facter exits non-zero where it cannot read something (here PID 1's
  # environment) and leaves those facts out: then its time is a lower bound.
  echo "facter -j printed $(facter -j 2>/dev/null | jq 'keys | length') top-level facts (exit $(facter -j >/dev/null 2>&1; echo $?)); amagent's document has $("$AMAGENT" scan --once --json --no-pending | jq 'keys | length') top-level keys"
fi
s=$(result scan wall_ns "$work/scan.txt")
for base in dpkg-query facter; do
  b=$(result "$base" wall_ns "$work/scan.txt")
  [ -n "$b" ] || continue
  case $base in
    dpkg-query) awk -v s="$s" -v b="$b" 'BEGIN { printf "goal no slower than dpkg-query -W: %s (%.2fx its time)\n", (s <= b ? "met" : "missed"), s / b }' ;;
    facter) awk -v s="$s" -v b="$b" 'BEGIN { printf "goal >= 20x faster than facter -j: %s (%.1fx faster)\n", (b / s >= 20 ? "met" : "missed"), b / s }' ;;
  esac
done

echo
echo "-- 2. pending updates from apt's lists beside apt-get's simulation (goals: 5x faster, < 30 MiB, identical set)"
if ! command -v apt-get >/dev/null || [ ! -d /var/lib/apt/lists ]; then
  echo "skipped: no apt-get or no /var/lib/apt/lists (not an apt system)"
  exit 0
fi
# The scan must answer from the lists, not fall back to the simulation: a
# stand-in apt-get on PATH leaves a mark if the scan ever runs it.
mkdir -p "$work/bin"
printf '#!/bin/sh\ntouch %s/ran-apt-get\nexit 1\n' "$work" >"$work/bin/apt-get"
chmod +x "$work/bin/apt-get"
PATH="$work/bin:$PATH" "$AMAGENT" scan --once --json >"$work/doc.json" 2>/dev/null || true
if [ -e "$work/ran-apt-get" ]; then
  echo "NOTE: this machine's apt configuration makes the scan fall back to apt-get's simulation (see SCANNING.md)"
else
  echo "the scan answered from apt's lists (it never started apt-get)"
fi
echo "labels: full = amagent scan --once --json (pending updates from the lists); no-pending = the same with --no-pending; apt-get-s = apt-get -s -o Debug::NoLocking=1 dist-upgrade"
"${RS[@]}" full "$AMAGENT" scan --once --json ::: apt-get-s apt-get -s -o Debug::NoLocking=1 dist-upgrade \
  ::: no-pending "$AMAGENT" scan --once --json --no-pending | tee "$work/pending.txt"
f=$(result full wall_ns "$work/pending.txt")
n=$(result no-pending wall_ns "$work/pending.txt")
a=$(result apt-get-s wall_ns "$work/pending.txt")
fm=$(result full peak_rss_kib "$work/pending.txt")
am=$(result apt-get-s peak_rss_kib "$work/pending.txt")
awk -v f="$f" -v n="$n" -v a="$a" -v fm="$fm" -v am="$am" 'BEGIN {
  p = f - n; if (p < 1e5) p = 1e5
  printf "pending updates alone (full scan - no-pending scan, medians): %.1f ms vs apt-get -s %.1f ms: %.1fx faster\n", p / 1e6, a / 1e6, a / p
  printf "whole scan with pending updates vs apt-get -s alone: %.1fx faster, peak %.1f MiB vs %.1f MiB (%.2fx)\n", a / f, fm / 1024, am / 1024, fm / am
  printf "goal 5x faster: %s (pending part %.1fx, whole scan %.1fx); goal < 30 MiB: %s (whole scan %.1f MiB)\n",
    (a / p >= 5 ? "met" : "missed"), a / p, a / f, (fm < 30 * 1024 ? "met" : "missed"), fm / 1024 }'

echo
echo "-- 3. the pending set against apt list --upgradable"
if command -v jq >/dev/null && command -v apt >/dev/null; then
  "$AMAGENT" scan --once --json | jq -r '.pending_updates[] | "\(.name) \(.version) \(.security)"' | sort -u >"$work/agent.txt"
  apt list --upgradable 2>/dev/null | awk -F'[/ ]' 'NF >= 4 && $0 ~ /\// { print $1, $3, ($2 ~ /-security/ ? "true" : "false") }' | sort -u >"$work/apt.txt"
  if diff -u "$work/apt.txt" "$work/agent.txt" >"$work/set.diff"; then
    echo "identical: $(wc -l <"$work/agent.txt") pending updates (name, version, security) in amagent scan --once --json and apt list --upgradable"
  else
    echo "DIFFERENT: amagent's pending set vs apt list --upgradable (- apt only, + amagent only):"
    grep -E '^[-+][^-+]' "$work/set.diff" | head -20
  fi
else
  echo "skipped the whole-process comparison: jq or apt missing"
fi
go test -count=1 -run 'TestAgreesWithAptListUpgradable$' -v ./agent/scan/internal/aptpolicy/ 2>&1 |
  grep -E 'agree|disagree|SKIP|FAIL|^ok' || true
