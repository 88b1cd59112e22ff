#!/usr/bin/env bash
# make soak: the long fault-injection variants (50 agent kill -9's, 8
# platform kill -9's under loadgen, the hostile network for 2 minutes, ...)
# and a soak of one agent and one platform with 1 s check-ins through the
# faulty proxy for AMAGENT_SOAK (default 30m), reporting the agent's
# resident memory and goroutines at start and end.
#
#   AMAGENT_SOAK=3m make soak          # a shorter soak
#   AMAGENT_FAULTS_SEED=42 make soak   # repeat a run's randomness
#   AMAGENT_SOAK_ONLY=1 make soak      # the soak without the long variants
#
# The PostgreSQL scenario runs when AMPLATFORM_TEST_DATABASE_URL is set; the
# full-disk ones need root (mount -t tmpfs). Tables land in var/soak/.
set -euo pipefail
cd "$(dirname "$0")/.."
soak=${AMAGENT_SOAK:-30m}
mkdir -p var/soak
rm -f var/soak/faults-table.txt var/soak/soak-table.txt
# go test's own deadline: the soak plus 30 minutes for the long variants.
secs=0
rest=$soak
while [ -n "$rest" ]; do
  if [[ $rest =~ ^([0-9]+)([hms])(.*)$ ]]; then
    n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in h) secs=$((secs + n * 3600)) ;; m) secs=$((secs + n * 60)) ;; s) secs=$((secs + n)) ;; esac
    rest=${BASH_REMATCH[3]}
  else
    echo "AMAGENT_SOAK=$soak: want a duration like 30m, 1h or 1h30m" >&2
    exit 2
  fi
done
mins=$((secs / 60 + 30))
run='TestSoak|TestFaults'
if [ -n "${AMAGENT_SOAK_ONLY:-}" ]; then run='TestSoak'; fi
echo "soak: $soak (go test -timeout ${mins}m), tables in var/soak/"
status=0
AMAGENT_SOAK=$soak AMAGENT_FAULTS_LONG=1 \
AMAGENT_FAULTS_TABLE=$PWD/var/soak/faults-table.txt AMAGENT_SOAK_TABLE=$PWD/var/soak/soak-table.txt \
  go test -count=1 -v -timeout "${mins}m" -run "$run" ./platform/e2e/ >var/soak/go-test.log 2>&1 || status=$?
grep -E '^(=== RUN|--- |PASS|FAIL|ok )|faults_.*_test.go:[0-9]+:' var/soak/go-test.log | grep -v '=== RUN' || true
echo
for f in var/soak/faults-table.txt var/soak/soak-table.txt; do
  [ -f "$f" ] && { cat "$f"; echo; }
done
[ $status -eq 0 ] && echo "soak: passed" || echo "soak: FAILED (exit $status); full output in var/soak/go-test.log"
exit $status
