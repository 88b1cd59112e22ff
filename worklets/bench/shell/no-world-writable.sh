# no-world-writable: no world-writable regular files under the paths.
. "$(dirname "$0")/lib.sh"
found=""
n=0
for p in /etc /usr /bin /sbin /boot; do
	q=$(printf '%s' "$p" | sed 's,/,%,g')
	out=$(run "find $q -xdev -type f -perm -0002 -print" 2>/dev/null)
	[ $? -eq 127 ] && continue
	n=$((n + 1))
	[ -n "$out" ] && found="$found $out"
done
[ $n -eq 0 ] && say 2 "none of the paths exist"
[ -n "$found" ] && say 1 "world-writable:$found"
say 0 "no world-writable files under $n paths"
