# Sourced by every bench/bench-*.sh: the small helpers they all use.

# have CMD: CMD is on PATH.
have() { command -v "$1" >/dev/null 2>&1; }
# now: the time in nanoseconds.
now() { date +%s%N; }
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
# PIN_PAIR: the placement for two processes that share the machine's CPUs
# (every contestant of a rate benchmark runs under the same one).
if have taskset; then
	[ "$ncpu" -ge 2 ] && PIN_PAIR="taskset -c 0,1" || PIN_PAIR="taskset -c 0"
else
	PIN_PAIR=
	echo "taskset missing: placement not enforced"
fi
