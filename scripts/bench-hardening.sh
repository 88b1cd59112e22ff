#!/usr/bin/env bash
# make bench (part): the hardening pack against OpenSCAP on the same root
# tree, both as whole processes: every OVAL definition the pack maps to
# (one `oscap oval eval --id` each, under OSCAP_PROBE_ROOT) against one
# `amagent worklet run --root TREE --json` of the whole pack (compiled
# modules cached, as on an agent), interleaved by scripts/runstat with
# wall time and peak RSS. Medians of RUNS (default 5) runs each.
# Skipped when oscap or ssg-debian is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
OVAL=/usr/share/xml/scap/ssg/content/ssg-debian11-oval.xml
if ! command -v oscap >/dev/null || [ ! -f "$OVAL" ]; then
  echo "skipped: oscap or $OVAL missing (apt-get install openscap-scanner ssg-debian)"
  exit 0
fi
RUNS=${RUNS:-5}
AMAGENT=${AMAGENT:-bin/amagent}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"

# The tree: this machine's account files, login.defs, os-release and dpkg
# database, with a hardened sshd_config and sysctl drop-in.
for f in /etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/passwd- /etc/shadow- /etc/group- /etc/gshadow- \
  /etc/login.defs /usr/lib/os-release /var/lib/dpkg/status; do
  if [ -e "$f" ]; then mkdir -p "$tree$(dirname "$f")"; cp -a "$f" "$tree$f"; fi
done
ln -sf ../usr/lib/os-release "$tree/etc/os-release"
mkdir -p "$tree/etc/ssh/sshd_config.d" "$tree/etc/sysctl.d"
printf 'PermitRootLogin no\nMaxAuthTries 4\nX11Forwarding no\nPermitUserEnvironment no\nClientAliveInterval 300\n' >"$tree/etc/ssh/sshd_config"
chmod 600 "$tree/etc/ssh/sshd_config"
printf 'kernel.randomize_va_space = 2\nfs.protected_hardlinks = 1\nfs.protected_symlinks = 1\nfs.suid_dumpable = 0\n' >"$tree/etc/sysctl.d/60-hardening.conf"
cat >"$work/vars.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<oval_variables xmlns="http://oval.mitre.org/XMLSchema/oval-variables-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
  <generator><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>
  <variables>
    <variable id="oval:ssg-var_accounts_user_umask:var:1" datatype="string" comment="umask"><value>027</value></variable>
    <variable id="oval:ssg-var_accounts_maximum_age_login_defs:var:1" datatype="int" comment="max days"><value>365</value></variable>
    <variable id="oval:ssg-sshd_max_auth_tries_value:var:1" datatype="int" comment="tries"><value>4</value></variable>
    <variable id="oval:ssg-sshd_idle_timeout_value:var:1" datatype="int" comment="idle"><value>300</value></variable>
    <variable id="oval:ssg-sshd_required:var:1" datatype="int" comment="unset"><value>0</value></variable>
  </variables>
</oval_variables>
XML

# The pack's folders and the definitions their references map to (a
# kernel parameter's persisted half: a tree has no running kernel). "same"
# holds the worklets whose definition the content has: the same rules on
# both sides.
all=()
same=()
defs=()
for m in worklets/*/worklet.toml; do
  ref=$(sed -n 's/^references = \["xccdf_org.ssgproject.content_rule_\(.*\)"\]$/\1/p' "$m")
  [ -n "$ref" ] || continue
  all+=("$(dirname "$m")")
  for id in "oval:ssg-${ref}_static:def:1" "oval:ssg-${ref}:def:1"; do
    if [[ $ref == sysctl_* || $id != *_static* ]] && grep -q "id=\"$id\"" "$OVAL"; then
      defs+=("$id")
      same+=("$(dirname "$m")")
      break
    fi
  done
done
echo "pack: ${#all[@]} worklets; OpenSCAP: ${#defs[@]} of their rules have a definition in $(basename "$OVAL")"

# Each side is one program for scripts/runstat (interleaved rounds, wall
# time and peak RSS): a shell running one oscap process per definition, and
# one amagent process for the pack (its modules compiled into the cache
# once first, as on an agent after its first scan).
{
  echo 'for id in "$@"; do'
  echo "  OSCAP_PROBE_ROOT='$tree' oscap oval eval --skip-valid --variables '$work/vars.xml' --id \"\$id\" '$OVAL' >/dev/null 2>&1 || exit 1"
  echo 'done'
} >"$work/oscap.sh"
pack=("$AMAGENT" worklet run --root "$tree" --json --no-pending --cache "$work/cache")
"${pack[@]}" "${all[@]}" >/dev/null 2>&1 || true
verdicts=$("$AMAGENT" worklet run --root "$tree" --no-pending --cache "$work/cache" "${all[@]}" 2>&1 | tail -1 || true)
echo "the pack on this tree: $verdicts (exit 1 below means a non-compliant rule, as designed; 3 would be an error)"
go build -o "$work/runstat" ./scripts/runstat
"$work/runstat" -n "$RUNS" -warmup 1 -- pack-same-rules "${pack[@]}" "${same[@]}" ::: oscap bash "$work/oscap.sh" "${defs[@]}" \
  ::: pack-all "${pack[@]}" "${all[@]}" | tee "$work/out.txt"
result() { sed -n "s/^RESULT $1 .*wall_ns=\([0-9]*\).*/\1/p" "$work/out.txt"; }
echo "labels: pack-same-rules = amagent worklet run --root, the ${#same[@]} worklets with a definition, one process; oscap = oscap oval eval --id, ${#defs[@]} definitions, one process each; pack-all = the whole pack, ${#all[@]} worklets"
awk -v o="$(result oscap)" -v p="$(result pack-same-rules)" -v a="$(result pack-all)" -v nd="${#defs[@]}" -v na="${#all[@]}" 'BEGIN {
  printf "ratio over the same %d rules: the pack is %.1fx faster (goal 20x: %s); per rule %.1f ms vs %.1f ms\n", nd, o / p, (o / p >= 20 ? "met" : "missed"), p / nd / 1e6, o / nd / 1e6
  printf "the whole pack (%d worklets) against the %d definitions: %.1fx faster\n", na, nd, o / a }'
