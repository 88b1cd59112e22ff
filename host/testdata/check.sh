#!/bin/sh
# check.sh: the benchmark's baseline, the same check as check.c as a script.
grep -q '^PermitRootLogin no' "$1"
