# Shared by the shell versions of the example checks (benchmark only:
# worklets/bench_test.go runs them beside the wasm modules). POSIX sh,
# grep, sed, awk; no jq. Usage: sh CHECK.sh ROOT, where ROOT holds
#   scan.json        the scan document, as the modules get it
#   files/<path>     the recorded files at their absolute paths
#   exec/<argv>.rc   recorded programs (argv joined by spaces, / as %):
#   exec/<argv>.out  exit code, stdout, stderr
#   exec/<argv>.err
# Exit codes as the modules': 0 compliant, 1 non-compliant, 2 not applicable.
ROOT=${1:?usage: sh check.sh ROOT}
SCAN=$ROOT/scan.json
F=$ROOT/files
X=$ROOT/exec

# run ARGV: what the recorded program printed (stdout, then stderr) and its
# exit code; 127 when it is not on the machine.
run() {
	[ -f "$X/$1.rc" ] || return 127
	cat "$X/$1.out" "$X/$1.err"
	read -r rc <"$X/$1.rc"
	return "$rc"
}

# str KEY: the first string value of "KEY" in the scan document.
str() { sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" "$SCAN" | sed -n 1p; }

# pkgver NAME: the installed version of package NAME (software list).
pkgver() {
	awk -v want="$1" '
		/^ *"software": \[/ { in_sw = 1; next }
		in_sw && /^ *\],?$/ { exit }
		in_sw && /"name": / { name = $0; sub(/.*"name": "/, "", name); sub(/".*/, "", name) }
		in_sw && /"version": / && name == want { v = $0; sub(/.*"version": "/, "", v); sub(/".*/, "", v); print v; exit }
	' "$SCAN"
}

say() { printf '%s\n' "$2"; exit "$1"; }
