// Package linux holds the pure parsers behind the Linux collectors: each
// takes the bytes of one file or one program's output and returns values,
// without touching the machine, so that tests run them on recorded inputs.
//
// Formats parsed here: os-release(5), /proc/cpuinfo, /proc/meminfo,
// /proc/mounts, /proc/stat, /proc/uptime, utmp(5) records as written by
// glibc on 64-bit Linux, the dpkg status database, dpkg.log, the output of
// `apt-get -s dist-upgrade`, and Debian version ordering
// (deb-version(7)) used to compare kernel releases.
package linux
