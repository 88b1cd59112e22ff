# reboot-pending-max-days: no reboot pending for more than 7 days.
. "$(dirname "$0")/lib.sh"
req=$(awk '/^ *"reboot": \{/ { r = 1 } r && /"required":/ { sub(/.*"required": /, ""); sub(/,.*/, ""); print; exit }' "$SCAN")
[ -n "$req" ] || say 2 "the scan has no reboot information"
[ "$req" = false ] && say 0 "no reboot pending"
since=$(awk '/^ *"reboot": \{/ { r = 1 } r && /"since":/ { sub(/.*"since": "/, ""); sub(/".*/, ""); print; exit }' "$SCAN")
[ -n "$since" ] || say 1 "reboot pending since an unknown time"
age=$(( ($(date +%s) - $(date -d "$since" +%s)) / 86400 ))
[ "$age" -gt 7 ] && say 1 "reboot pending for $age days, more than 7"
say 0 "reboot pending for $age days, within 7"
