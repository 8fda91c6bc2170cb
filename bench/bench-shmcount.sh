#!/bin/sh
# bench-shmcount.sh: ipc-shmcount against its anchors, side by side, one run.
#   1. increments per second from 2 processes at once on one counter:
#      `ipc-shmcount incr -n N` x 2 (whole processes, start-up included),
#      a raw C11 atomic_fetch_add loop on POSIX shm (raw-shmcount.c: the
#      ceiling, no overflow check, timed after fork), Python
#      multiprocessing.Value with its lock (the seed article's choice).
#   2. per-call cost from a shell: one `ipc-shmcount incr` process against a
#      dynamically linked hello-world (interleaved runs by
#      startup-shmcount.py; else hyperfine -N; else a bounded shell loop),
#      and 2 shell loops of `ipc-shmcount incr` against the
#      flock(1)+file counter scripts use today.
# Every contestant runs under the same placement (taskset -c 0,1 where there
# are 2 CPUs). Env: N (10000000 per process) NPY (300000) RUNS (5, median
# shown) STARTS (1000) NCLI (300 per loop).
set -u
N=${N:-10000000}
NPY=${NPY:-300000}
RUNS=${RUNS:-5}
STARTS=${STARTS:-1000}
NCLI=${NCLI:-300}
here=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /tmp/bench-shmcount.XXXXXX) || exit 1
C=bench-shmcount-$$
trap 'ipc-shmcount rm "$C" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$(dirname "$0")/lib.sh"
have ipc-shmcount || { echo "ipc-shmcount not on PATH: run through make bench"; exit 1; }
PIN=$PIN_PAIR
CC=${CC:-cc}
have "$CC" || CC=
[ -n "$CC" ] && $CC -O2 -o "$TMP/raw" "$here/raw-shmcount.c" -lpthread 2>/dev/null || echo "raw C anchor: no C compiler, skipped"
[ -n "$CC" ] && $CC -O2 -o "$TMP/hello" "$here/hello.c" 2>/dev/null || echo "hello-world anchor: no C compiler, skipped"
have python3 || echo "Python anchor: python3 missing, skipped"

median() { sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
rate_of() { sed -n 's/.*increments_per_s=\([0-9]*\).*/\1/p'; }

# ours: 2 processes of `incr -n N`, timed from before the first start to
# after the last exit; prints increments/s, or nothing if a count is wrong.
ours() {
	ipc-shmcount set "$C" 0 || return
	t0=$(now)
	$PIN ipc-shmcount incr -n "$N" "$C" >/dev/null &
	$PIN ipc-shmcount incr -n "$N" "$C" >/dev/null
	wait
	t1=$(now)
	v=$(ipc-shmcount get "$C")
	[ "$v" = $((2 * N)) ] || { echo "ipc-shmcount: got $v, expected $((2 * N))" >&2; return; }
	awk -v n="$((2 * N))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / ((b - a) / 1e9) }'
}

ipc-shmcount create -x "$C" || exit 1
: >"$TMP/ours"; : >"$TMP/raw.r"; : >"$TMP/py.r"
i=0
while [ "$i" -lt "$RUNS" ]; do   # interleaved rounds: the noise hits all alike
	ours >>"$TMP/ours"
	[ -x "$TMP/raw" ] && $PIN "$TMP/raw" -m atomic -p 2 -n "$N" | rate_of >>"$TMP/raw.r"
	[ "$i" -lt 3 ] && have python3 &&
		$PIN python3 "$here/mp_value-shmcount.py" locked "$NPY" 2 | rate_of >>"$TMP/py.r"
	i=$((i + 1))
done
o=$(median <"$TMP/ours"); r=$(median <"$TMP/raw.r"); p=$(median <"$TMP/py.r")

echo
echo "### Increments per second, 2 processes on one counter (median of $RUNS; Python: of 3)"
echo
echo "| contestant | increments/s | ipc-shmcount / it |"
echo "|---|---:|---:|"
echo "| ipc-shmcount incr -n $N, x2 | ${o:-failed} | 1.00 |"
[ -n "$r" ] && echo "| raw C atomic_fetch_add on shm (ceiling) | $r | $(ratio "${o:-0}" "$r") (target >= 0.5) |"
[ -n "$p" ] && echo "| Python multiprocessing.Value + lock | $p | $(ratio "${o:-0}" "$p") (target >= 100) |"

# One process per increment: the start-up cost.
echo
echo "### One ipc-shmcount incr process against a hello-world"
echo
if [ ! -x "$TMP/hello" ]; then
	echo "skipped: no hello-world"
elif have python3; then
	# Interleaved runs (hello, ours, hello, ...): the load of a busy
	# machine drifts, and a run of one after the other would charge the
	# drift to whichever ran second.
	echo "| command | median wall us | ratio | median CPU us | ratio |"
	echo "|---|---:|---:|---:|---:|"
	$PIN python3 "$here/startup-shmcount.py" "$STARTS" "$TMP/hello" "ipc-shmcount incr $C"
	echo
	echo "(interleaved posix_spawn + wait4, $STARTS runs each; target <= 1.05)"
elif have hyperfine; then
	# The placement is hyperfine's own, inherited: a taskset per run
	# would add its own exec to both sides and blur the ratio.
	$PIN hyperfine -N --style basic --warmup 50 --runs "$STARTS" \
		"$TMP/hello" "ipc-shmcount incr $C" 2>&1 | grep -E 'Benchmark|Time|faster'
else
	loop() { t0=$(now); j=0; while [ $j -lt "$STARTS" ]; do "$@" >/dev/null; j=$((j + 1)); done; t1=$(now); echo $(((t1 - t0) / STARTS / 1000)); }
	h=$(loop "$TMP/hello"); o=$(loop ipc-shmcount incr "$C")
	echo "| contestant | us per run (shell loop) | ratio to hello |"
	echo "|---|---:|---:|"
	echo "| hello-world (dynamic) | $h | 1.00 |"
	echo "| ipc-shmcount incr | $o | $(ratio "$o" "$h") (target <= 1.05) |"
fi

# Two shell loops bumping one counter, once per call: what scripts get.
cli() { # INC-COMMAND: prints calls/s of 2 loops of NCLI calls
	t0=$(now)
	for _ in 1 2; do
		(j=0; while [ $j -lt "$NCLI" ]; do eval "$1" || exit 1; j=$((j + 1)); done) &
	done
	wait
	t1=$(now)
	awk -v n="$((2 * NCLI))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / ((b - a) / 1e9) }'
}
echo
echo "### 2 shell loops x $NCLI calls, one process per increment"
echo
ipc-shmcount set "$C" 0
oc=$(cli "$PIN ipc-shmcount incr $C >/dev/null")
echo "| contestant | increments/s | final | ipc-shmcount / it |"
echo "|---|---:|---:|---:|"
echo "| ipc-shmcount incr | $oc | $(ipc-shmcount get "$C") | 1.00 |"
if have flock; then
	F=$TMP/ctr
	echo 0 >"$F"
	fc=$(cli "$PIN flock $F.lock sh -c 'read n <$F; echo \$((n + 1)) >$F'")
	echo "| flock(1) + file | $fc | $(cat "$F") | $(ratio "$oc" "$fc") |"
else
	echo "| flock(1) + file | skipped: flock missing | | |"
fi
echo
echo "(machine: $ncpu CPUs, $(uname -r); placement: ${PIN:-none})"
