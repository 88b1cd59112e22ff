# required-software: every listed package installed, at least at its version.
. "$(dirname "$0")/lib.sh"
bad=""
n=0
for req in openssl'>='3.0.0 bash'>='5.2 ca-certificates coreutils'>='9.1 zlib1g'>='1:1.2.13; do
	n=$((n + 1))
	name=${req%%>=*}
	v=$(pkgver "$name")
	if [ -z "$v" ]; then
		bad="$bad; $name is not installed"
	elif [ "$name" != "$req" ] && ! dpkg --compare-versions "$v" ge "${req#*>=}"; then
		bad="$bad; $name $v is older than ${req#*>=}"
	fi
done
[ -n "$bad" ] && say 1 "required packages missing or outdated${bad}"
say 0 "all $n required packages installed at the required versions"
