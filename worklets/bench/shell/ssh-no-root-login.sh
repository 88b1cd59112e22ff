# ssh-no-root-login: PermitRootLogin no.
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
[ -f "$F/etc/ssh/sshd_config" ] || say 2 "sshd is not configured on this device (/etc/ssh/sshd_config does not exist)"
v=$(cat "$F"/etc/ssh/sshd_config.d/*.conf "$F/etc/ssh/sshd_config" 2>/dev/null | awk 'tolower($1) == "permitrootlogin" { print tolower($2); exit }')
[ "${v:-prohibit-password}" = no ] && say 0 "sshd refuses root logins"
say 1 "sshd allows root logins (PermitRootLogin ${v:-prohibit-password})"
