#!/bin/sh
# make bench: each bench/bench-*.sh measures one tool against its anchors,
# side by side in one run, and prints a table of ratios.
# BENCH=NAME runs only bench/bench-NAME.sh.
set -u
cd "$(dirname "$0")"
for b in bench-${BENCH:-*}.sh; do
	[ -e "$b" ] || continue
	printf '\n==== %s ====\n' "$b"
	sh "$b" || echo "bench $b FAILED" >&2
done
