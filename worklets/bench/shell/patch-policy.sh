# patch-policy (mode security): the pending security updates to install.
. "$(dirname "$0")/lib.sh"
awk '
	/^ *"pending_updates": \[/ { in_p = 1; next }
	in_p && /^ *\],?$/ { in_p = 0 }
	in_p && /"name": / { name = $0; sub(/.*"name": "/, "", name); sub(/".*/, "", name); pending++ }
	in_p && /"security": true/ && !(name in take) { take[name] = 1; n++; list = list (n <= 10 ? (n > 1 ? ", " : "") name : "") }
	END {
		if (n == 0) { printf "nothing to install under rule security (%d pending)\n", pending; exit 0 }
		printf "%d of %d pending updates to install under rule security: %s%s\n", n, pending, list, (n > 10 ? " and " n - 10 " more" : ""); exit 1
	}' "$SCAN"
