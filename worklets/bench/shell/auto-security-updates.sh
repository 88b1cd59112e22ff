# auto-security-updates: unattended-upgrades installed and enabled with a
# security origin, apt timers on (Debian family).
. "$(dirname "$0")/lib.sh"
[ "$(str family)" = linux ] || say 2 "not Linux"
case $(str id) in
debian | ubuntu) ;;
*) say 2 "no check for $(str id)" ;;
esac
[ -n "$(pkgver unattended-upgrades)" ] || say 1 "security updates are not automatic: the unattended-upgrades package is not installed"
conf=$(cat "$F"/etc/apt/apt.conf.d/* "$F"/etc/apt/apt.conf 2>/dev/null)
p=""
printf '%s\n' "$conf" | grep -q 'APT::Periodic::Update-Package-Lists *"[1-9]' || p="$p; package lists are not refreshed"
printf '%s\n' "$conf" | grep -q 'APT::Periodic::Unattended-Upgrade *"[1-9]' || p="$p; APT::Periodic::Unattended-Upgrade is off"
printf '%s\n' "$conf" | grep -qi 'origin.*security' || p="$p; no security origin"
for t in apt-daily.timer apt-daily-upgrade.timer; do
	run "systemctl is-enabled $t" >/dev/null || p="$p; $t is not enabled"
done
[ -z "$p" ] || say 1 "security updates are not automatic${p}"
say 0 "unattended-upgrades installs security updates daily"
