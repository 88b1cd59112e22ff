# firewall-active: firewalld running, ufw enabled, or nftables filtering input.
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
out=$(run "firewall-cmd --state")
[ $? -eq 0 ] && [ "$out" = running ] && say 0 "firewalld is running"
if [ -f "$F/etc/ufw/ufw.conf" ] && grep -q '^ENABLED=yes' "$F/etc/ufw/ufw.conf"; then
	say 0 "ufw is enabled"
fi
rules=$(run "nft list ruleset")
if [ $? -eq 0 ] && printf '%s\n' "$rules" | grep -q 'hook input.*policy drop\|hook input' && printf '%s\n' "$rules" | grep -q 'drop\|reject'; then
	say 0 "nftables filters input"
fi
say 1 "no active firewall (firewalld, ufw, nftables)"
