#!/bin/sh
# make demo: the seed article's examples, done with ipc-utils. Each
# demo/NN-*.sh says what it does, then does it.
set -eu
cd "$(dirname "$0")"
status=0
for d in [0-9]*.sh; do
	[ -e "$d" ] || continue
	printf '\n==== %s ====\n' "$d"
	if ! sh "$d"; then
		echo "demo $d FAILED" >&2
		status=1
	fi
done
exit $status
