# auditd-running: systemctl is-active auditd prints "active".
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
out=$(run "systemctl is-active auditd")
rc=$?
[ $rc -eq 127 ] && say 2 "systemctl is not available"
case $out in
active*) say 0 "auditd is active" ;;
*"not been booted with systemd"* | *"Failed to connect to bus"*) say 2 "systemd is not running" ;;
*) say 1 "auditd is ${out%%
*}" ;;
esac
