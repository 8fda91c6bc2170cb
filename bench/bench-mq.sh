#!/bin/sh
# bench-mq.sh: ipc-mq against its anchors, side by side, one run.
#   Messages per second between two processes through a POSIX queue of
#   maxmsg 10 (the default /proc/sys/fs/mqueue/msg_max, left as it is):
#   - ipc-mq: `seq N | ipc-mq send q` with `ipc-mq recv -n N q >/dev/null`
#     running at the same time (whole processes, start-up and the framing
#     of stdin and stdout included), and the same into a pipe (`| cat`);
#   - a raw C mq_send/mq_receive loop (mq_bench.c: the ceiling, 64-byte
#     messages, timed after the queue is made);
#   - Python multiprocessing.Queue (mp_queue.py: the seed article's choice).
# Every contestant runs under the same placement (taskset -c 0,1 where there
# are 2 CPUs). Env: N (1000000) NRAW (1000000) NPY (200000) RUNS (3, median).
set -u
N=${N:-1000000}
NRAW=${NRAW:-1000000}
NPY=${NPY:-200000}
RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /tmp/bench-mq.XXXXXX) || exit 1
Q=bench-mq-$$
trap 'ipc-mq rm "$Q" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$(dirname "$0")/lib.sh"
have ipc-mq || { echo "ipc-mq not on PATH: run through make bench"; exit 1; }
PIN=$PIN_PAIR
CC=${CC:-cc}
have "$CC" || CC=
[ -n "$CC" ] && $CC -O2 -o "$TMP/mq_bench" "$here/mq_bench.c" -lrt 2>/dev/null ||
	echo "raw C anchor: no C compiler, skipped"
have python3 || echo "Python anchor: python3 missing, skipped"

median() { sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
rate_of() { sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'; }

# ours SINK: a sender and a receiver of N lines at once, timed from before
# both start to after both exit; prints messages/s, nothing on failure.
ours() {
	t0=$(now)
	if [ "$1" = pipe ]; then
		$PIN sh -c 'ipc-mq recv -n "$1" "$2" | cat >/dev/null' _ "$N" "$Q" &
	else
		$PIN ipc-mq recv -n "$N" "$Q" >/dev/null &
	fi
	r=$!
	seq "$N" | $PIN ipc-mq send "$Q" || { kill $r; return; }
	wait $r || return
	t1=$(now)
	awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / ((b - a) / 1e9) }'
}

ipc-mq create -x -M 10 -S 64 "$Q" || exit 1
: >"$TMP/ours"; : >"$TMP/pipe"; : >"$TMP/raw"; : >"$TMP/py"
i=0
while [ "$i" -lt "$RUNS" ]; do   # interleaved rounds: the noise hits all alike
	ours null >>"$TMP/ours"
	ours pipe >>"$TMP/pipe"
	[ -x "$TMP/mq_bench" ] && $PIN "$TMP/mq_bench" 64 "$NRAW" 10 | rate_of >>"$TMP/raw"
	have python3 && $PIN python3 "$here/mp_queue.py" 64 "$NPY" | rate_of >>"$TMP/py"
	i=$((i + 1))
done
o=$(median <"$TMP/ours"); op=$(median <"$TMP/pipe")
r=$(median <"$TMP/raw"); p=$(median <"$TMP/py")

echo
echo "### Messages per second through a POSIX queue (maxmsg 10), median of $RUNS"
echo
echo "| contestant | messages/s | ipc-mq / it |"
echo "|---|---:|---:|"
echo "| seq $N \| ipc-mq send, ipc-mq recv -n $N >/dev/null | ${o:-failed} | 1.00 |"
echo "| the same, recv into a pipe (\| cat) | ${op:-failed} | $(ratio "${o:-0}" "${op:-0}") |"
if [ -n "$r" ]; then
	echo "| raw C mq_send/mq_receive loop, 64 B (ceiling) | $r | $(ratio "${o:-0}" "$r") (target >= 0.6) |"
else
	echo "| raw C mq_send/mq_receive loop | skipped | |"
fi
if [ -n "$p" ]; then
	echo "| Python multiprocessing.Queue, 64 B ($NPY msgs) | $p | $(ratio "${o:-0}" "$p") |"
else
	echo "| Python multiprocessing.Queue | skipped | |"
fi
echo
echo "(machine: $ncpu CPUs, $(uname -r); placement: ${PIN:-none}; mqueue msg_max $(cat /proc/sys/fs/mqueue/msg_max), not changed)"
