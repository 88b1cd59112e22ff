#!/bin/sh
# Records the inputs of the collectors added by issue 15 (GetNetwork,
# GetStorage, GetResources, GetVirtualization, GetSecurity, GetServices,
# GetListeningPorts and the time zone and machine id of GetOS) into ./root,
# beside record.sh's files, and the IPv4 addresses (which no file holds;
# the live agent asks netlink) into ./netlink.json. Run as root:
# sh record-system.sh
set -eu
cd "$(dirname "$0")"
copy() { # copy /path to root/path, following symlinks, when readable
	for p in "$@"; do
		[ -r "/$p" ] || continue
		mkdir -p "root/$(dirname "$p")"
		cat "/$p" > "root/$p" 2>/dev/null || rm -f "root/$p"
	done
}
link() { # recreate the symbolic link /path under root/
	mkdir -p "root/$(dirname "$1")"
	ln -sfn "$(readlink "/$1")" "root/$1"
}
copy etc/resolv.conf etc/hosts etc/timezone etc/machine-id etc/passwd \
	proc/net/if_inet6 proc/net/route proc/net/ipv6_route \
	proc/net/tcp proc/net/tcp6 proc/net/udp proc/net/udp6 \
	proc/self/mountinfo proc/loadavg proc/version proc/1/cgroup \
	sys/devices/system/clocksource/clocksource0/available_clocksource \
	sys/module/apparmor/parameters/enabled proc/sys/crypto/fips_enabled \
	sys/fs/selinux/enforce
[ -e /.dockerenv ] && : > root/.dockerenv
[ -e /run/.containerenv ] && copy run/.containerenv
# /etc/localtime stays a copy (record.sh): an absolute link would read the
# recording machine's zone files; /etc/timezone names the zone.
for d in /sys/class/net/*; do
	n=${d#/sys/class/net/}
	for a in ifindex address mtu operstate type; do copy "sys/class/net/$n/$a"; done
done
for d in /sys/block/*; do
	n=${d#/sys/block/}
	for a in size ro removable serial queue/rotational device/model device/vendor device/serial; do copy "sys/block/$n/$a"; done
	for p in "$d"/"$n"*; do
		[ -e "$p/partition" ] || continue
		copy "sys/block/$n/${p##*/}/partition" "sys/block/$n/${p##*/}/size"
	done
done
for c in /sys/devices/system/cpu/cpu[0-9]*; do copy "${c#/}/topology/physical_package_id"; done
# systemd: enablement links as links, unit files reduced to their
# [Install] section (all the collector reads of them).
[ -d /run/systemd/system ] && mkdir -p root/run/systemd/system
find /etc/systemd/system -type l | while read -r l; do link "${l#/}"; done
for f in /usr/lib/systemd/system/*.service; do
	mkdir -p root/usr/lib/systemd/system
	if [ -L "$f" ]; then link "${f#/}"; continue; fi
	awk '/^\[/{s=($0=="[Install]")} s' "$f" > "root/${f#/}"
done
# Sockets' owners: the fd links that are sockets, and the process names.
for fd in /proc/[0-9]*/fd/*; do
	t=$(readlink "$fd" 2>/dev/null) || continue
	case $t in socket:*) ;; *) continue ;; esac
	grep -q " $(echo "$t" | tr -dc 0-9) " /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null || continue
	p=${fd#/proc/}; p=${p%%/*}
	link "${fd#/}"
	copy "proc/$p/comm"
done
ip -j -4 addr | python3 -c '
import json, sys
out = []
for i in json.load(sys.stdin):
    for a in i.get("addr_info", []):
        out.append({"index": i["ifindex"], "interface": a.get("label", i["ifname"]), "address": a["local"], "prefix_len": a["prefixlen"], "scope": a["scope"]})
json.dump(out, sys.stdout, indent=1)
print()' > netlink.json
