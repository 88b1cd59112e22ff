#!/bin/sh
# Records this machine's collector inputs into ./root and ./exec.json.
# Run as root on the machine to record: sh record.sh
# It copies only the files the Linux collectors read (see
# agent/scan/collect_linux.go) and runs the one program they run.
set -eu
cd "$(dirname "$0")"
rm -rf root && mkdir -p root
copy() { # copy /path to root/path, following symlinks, when it exists
	for p in "$@"; do
		[ -e "/$p" ] || continue
		mkdir -p "root/$(dirname "$p")"
		cat "/$p" > "root/$p"
	done
}
copy etc/os-release etc/localtime \
	proc/sys/kernel/osrelease proc/sys/kernel/arch proc/sys/kernel/random/boot_id \
	proc/cpuinfo proc/meminfo proc/self/mounts proc/stat proc/uptime \
	sys/hypervisor/type var/log/wtmp run/utmp \
	var/lib/dpkg/status run/reboot-required run/reboot-required.pkgs
for f in /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name /sys/class/dmi/id/product_serial \
	/sys/class/dmi/id/bios_vendor /sys/class/dmi/id/bios_version /sys/class/dmi/id/board_asset_tag \
	/var/log/dpkg.log* /boot/vmlinuz-*; do
	[ -e "$f" ] && copy "${f#/}"
done
# Placeholder: the collector only checks that apt-get exists.
mkdir -p root/usr/bin && : > root/usr/bin/apt-get
# The one program: the apt simulation, stdout recorded as it came.
out=$(mktemp) err=$(mktemp)
rc=0
LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade >"$out" 2>"$err" || rc=$?
python3 - "$out" "$err" "$rc" > exec.json <<'PY'
import json, sys
out = open(sys.argv[1]).read()
err = open(sys.argv[2]).read()
json.dump([{"argv": ["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"],
            "exit_code": int(sys.argv[3]), "stdout": out, "stderr": err}], sys.stdout, indent=1)
print()
PY
rm -f "$out" "$err"
total=$(df -B1 --output=size / | tail -1 | tr -d ' ')
used=$(df -B1 --output=used / | tail -1 | tr -d ' ')
cat > machine.json <<JSON
{
  "hostname": "$(hostname)",
  "goos": "linux",
  "now": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "description": "recorded from this Debian 12 machine (a Firecracker VM without DMI) by record.sh: the files the Linux collectors read, copied as they were, and the apt simulation's real output",
  "disk_usage": {"/": {"total_bytes": $total, "used_bytes": $used}}
}
JSON
