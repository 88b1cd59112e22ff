# ssh-no-password-login: PasswordAuthentication and KbdInteractiveAuthentication no.
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
[ -f "$F/etc/ssh/sshd_config" ] || say 2 "sshd is not configured on this device (/etc/ssh/sshd_config does not exist)"
# sshd takes the first value of a keyword, drop-ins (Include) first.
first() { cat "$F"/etc/ssh/sshd_config.d/*.conf "$F/etc/ssh/sshd_config" 2>/dev/null | awk -v k="$1" 'tolower($1) == tolower(k) { print tolower($2); exit }'; }
pa=$(first PasswordAuthentication)
ki=$(first KbdInteractiveAuthentication)
[ "${pa:-yes}" = no ] && [ "${ki:-yes}" = no ] && say 0 "sshd refuses password logins"
say 1 "sshd allows password logins (PasswordAuthentication ${pa:-yes}, KbdInteractiveAuthentication ${ki:-yes})"
