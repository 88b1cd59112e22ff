# disk-usage-threshold: every file system at most 90% used.
. "$(dirname "$0")/lib.sh"
awk -v max=90 '
	/"disks": \[/ { in_d = 1 }
	in_d && /"mountpoint":/ { mp = $0; sub(/.*"mountpoint": "/, "", mp); sub(/".*/, "", mp) }
	in_d && /"fstype":/ { fs = $0; sub(/.*"fstype": "/, "", fs); sub(/".*/, "", fs) }
	in_d && /"used_percent":/ {
		p = $0; sub(/.*"used_percent": /, "", p); sub(/,.*/, "", p); p += 0
		if (fs == "squashfs" || fs == "iso9660") next
		n++; if (p > top) { top = p; topmp = mp }
		if (p > max) bad = bad " " mp
	}
	in_d && /^ *\],?$/ { in_d = 0 }
	END {
		if (n == 0) { print "no file systems in the scan"; exit 2 }
		if (bad != "") { print "over " max "%:" bad; exit 1 }
		printf "%d file system(s) at most %d%% used (fullest: %s %s%%)\n", n, max, topmp, top; exit 0
	}' "$SCAN"
