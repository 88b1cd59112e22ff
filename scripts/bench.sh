#!/usr/bin/env bash
# make bench: Go benchmarks (medians with spread, ratios against baselines
# measured in the same run) plus side-by-side runs of whole programs.
# BENCH_COUNT (default 5) sets -count; BENCH_PKGS narrows the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=var/bench
mkdir -p "$OUT"
COUNT=${BENCH_COUNT:-5}
PKGS=${BENCH_PKGS:-./...}

echo "== Go benchmarks (-count $COUNT), raw output in $OUT/go.txt"
go test -run '^$' -bench . -benchmem -count "$COUNT" -timeout 60m $PKGS | tee "$OUT/go.txt" | grep -E '^(ok|FAIL|---)' || true
go run ./scripts/benchreport -pairs scripts/bench-pairs.txt "$OUT/go.txt" | tee "$OUT/report.txt"

echo
echo "== WebAssembly host: interleaved side-by-side report (issue 5 goals)"
AMAGENT_BENCH=1 go test -count=1 -run BenchReport -v ./host/ | grep -vE '^(=== RUN|--- PASS|PASS|ok )' | tee -a "$OUT/report.txt"

echo
echo "== whole programs side by side, interleaved (issue 15)"
./scripts/bench-whole.sh | tee -a "$OUT/report.txt" || true

echo
echo "== scan upload bytes: a first scan and an unchanged rescan of this machine (issue 15 goal: rescan < 2 KB)"
AMAGENT_BENCH=1 go test -count=1 -run TestScanUploadBytes -v ./agent/checkin/ | grep -E 'scan upload|SKIP|FAIL' | tee -a "$OUT/report.txt" || true

echo
echo "== hardening pack vs OpenSCAP on the same root tree (whole processes)"
./scripts/bench-hardening.sh | tee -a "$OUT/report.txt" || true

echo
echo "== idle agent resident memory"
./scripts/bench-idle.sh | tee -a "$OUT/report.txt" || true

echo
echo "== fleet console: page times with 100,000 devices (SQLite; PostgreSQL with AMPLATFORM_TEST_DATABASE_URL)"
# The filled stores (22 + 15 minutes to fill) are kept and reused, migrated;
# BENCH_FRESH=1 fills them again.
if [ -n "${BENCH_FRESH:-}" ]; then
  rm -rf var/bench/console-sqlite-*
  if [ -n "${AMPLATFORM_TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
    psql -q "$AMPLATFORM_TEST_DATABASE_URL" -c 'DROP SCHEMA IF EXISTS console_bench_100000 CASCADE' || true
  fi
fi
AMPLATFORM_CONSOLE_BENCH=1 AMPLATFORM_CONSOLE_BENCH_KEEP=1 go test -count=1 -timeout 120m -run TestConsolePageTimes -v ./platform/internal/console/ |
  grep -E 'filled|reusing|p50|figures|SKIP|FAIL' | tee -a "$OUT/report.txt" || true

echo
echo "== platform load (loopback)"
./scripts/bench-load.sh | tee -a "$OUT/report.txt" || true
echo
echo "report: $OUT/report.txt"
