# time-synchronised: timedatectl says NTPSynchronized=yes, or chrony is in sync.
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
out=$(run "timedatectl show -p NTPSynchronized --value" 2>/dev/null)
rc=$?
[ $rc -eq 0 ] && [ "$out" = yes ] && say 0 "NTPSynchronized=yes"
[ $rc -eq 0 ] && say 1 "the clock is not synchronised (NTPSynchronized=$out)"
out=$(run "chronyc tracking" 2>/dev/null)
if [ $? -eq 0 ]; then
	printf '%s\n' "$out" | grep -q '^Leap status *: Normal' && say 0 "chrony: leap status Normal"
	say 1 "chrony is not synchronised"
fi
say 2 "neither timedatectl nor chronyc can tell"
