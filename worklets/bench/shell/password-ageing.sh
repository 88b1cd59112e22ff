# password-ageing: PASS_MAX_DAYS in /etc/login.defs at most 365.
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
[ -f "$F/etc/login.defs" ] || say 1 "/etc/login.defs does not exist"
awk -v max=365 -v min=0 '
	$1 == "PASS_MAX_DAYS" { maxd = $2; line = NR }
	$1 == "PASS_MIN_DAYS" { mind = $2 }
	END {
		if (maxd == "") { print "PASS_MAX_DAYS is not set"; exit 1 }
		if (maxd + 0 > max) { printf "PASS_MAX_DAYS %s exceeds %d (/etc/login.defs:%d)\n", maxd, max, line; exit 1 }
		if (mind + 0 < min) { printf "PASS_MIN_DAYS %s is below %d\n", mind, min; exit 1 }
		printf "PASS_MAX_DAYS %s\n", maxd; exit 0
	}' "$F/etc/login.defs"
