#!/bin/sh
# bench-spawnpipe.sh: ipc-spawnpipe against its anchors, side by side, one run.
#   1. BYTES (1 GiB) of a tmpfs file through a child and back, to /dev/null,
#      every contestant on CPU 0:
#        cat | cat                       (a plain shell pipe)
#        splicecat | splicecat           (a splice relay: the ceiling)
#        the same with a 1 MiB pipe     (ipc-spawnpipe's pipe size)
#        ipc-spawnpipe -- cat            (the issue's figure; cat's own
#                                         read/write bounds it)
#        ipc-spawnpipe -- splicecat      (our relay with a splicing child:
#                                         compared with the splice relay)
#   2. a pool: `seq LINES` (2,000,000) from a tmpfs file through a streaming
#      worker (a script that execs awk '{print $1*2}'), every contestant on
#      CPUs 0,1: the worker alone, ipc-spawnpipe -j 2, GNU parallel --pipe
#      -j 2 (and with --block 10M).
# Env: BYTES (1 GiB) LINES (2000000) RUNS (5 interleaved rounds, the median
# is shown)
# A missing anchor is skipped with a word. Temp files under /dev/shm.
set -u
BYTES=${BYTES:-1073741824}
LINES=${LINES:-2000000}
RUNS=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /dev/shm/bench-spawnpipe.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
# A signal ends us through exit, so the EXIT trap removes the 1 GiB file.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

. "$(dirname "$0")/lib.sh"

have ipc-spawnpipe || { echo "ipc-spawnpipe not on PATH: run through make bench"; exit 1; }
if have taskset; then
	P1="taskset -c 0"
	[ "$ncpu" -ge 2 ] && P2="taskset -c 0,1" || P2="taskset -c 0"
else
	echo "taskset missing: placements not enforced"
	P1= P2=
fi
${CC:-cc} -O2 -o "$TMP/splicecat" "$here/splicecat.c" || exit 1
dd if=/dev/zero of="$TMP/zero" bs=1048576 count=$((BYTES / 1048576)) status=none || exit 1
seq "$LINES" >"$TMP/seq"
printf '#!/bin/sh\nexec awk %s\n' "'{print \$1*2}'" >"$TMP/worker"
chmod +x "$TMP/worker"
want_sum=$("$TMP/worker" <"$TMP/seq" | cksum)

# bench SECTION NAME:::CMD...: runs every CMD (`sh -c`) once per round,
# RUNS rounds, contestants interleaved so that a change in the machine's
# load hits them alike; leaves the median ms of contestant I in
# $TMP/SECTION.I (empty if a run failed or took over 2 minutes).
bench() {
	sec=$1
	shift
	r=0
	while [ $r -lt "$RUNS" ]; do
		i=0
		for row in "$@"; do
			i=$((i + 1))
			cmd=${row#*:::}
			[ -n "$cmd" ] || continue
			t0=$(now)
			if timeout 120 sh -c "$cmd"; then
				t1=$(now)
				echo $(((t1 - t0) / 1000000)) >>"$TMP/$sec.$i.all"
			else
				echo fail >>"$TMP/$sec.$i.all"
			fi
		done
		r=$((r + 1))
	done
	i=0
	for row in "$@"; do
		i=$((i + 1))
		if [ -f "$TMP/$sec.$i.all" ] && ! grep -q fail "$TMP/$sec.$i.all"; then
			sort -n "$TMP/$sec.$i.all" | sed -n "$(((RUNS + 1) / 2))p" >"$TMP/$sec.$i"
		else
			: >"$TMP/$sec.$i"
		fi
	done
}

gibs() { awk -v b="$BYTES" -v ms="$1" 'BEGIN { printf "%.2f", b / 2^30 / (ms / 1000) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

S=$TMP/splicecat Z=$TMP/zero
set -- \
    "cat \\| cat:::$P1 cat $Z | $P1 cat >/dev/null" \
    "splicecat \\| splicecat (splice relay):::$P1 $S <$Z | $P1 $S >/dev/null" \
    "splicecat -p 1MiB \\| splicecat (1 MiB pipe, as ours):::$P1 $S -p 1048576 <$Z | $P1 $S >/dev/null" \
    "ipc-spawnpipe -- cat:::$P1 ipc-spawnpipe -- cat <$Z >/dev/null" \
    "ipc-spawnpipe -- splicecat:::$P1 ipc-spawnpipe -- $S <$Z >/dev/null"
bench bulk "$@"
ms_splice=$(cat "$TMP/bulk.2")
echo "## ipc-spawnpipe: $((BYTES / 1048576)) MiB through a child, all on CPU 0 (median of $RUNS interleaved rounds)"
echo
echo "| contestant | ms | GiB/s | ratio to splice relay |"
echo "|---|---|---|---|"
i=0
for row in "$@"; do
	i=$((i + 1))
	name=${row%%:::*} ms=$(cat "$TMP/bulk.$i")
	if [ -z "$ms" ] || [ -z "$ms_splice" ]; then
		echo "| $name | failed | | |"
		continue
	fi
	echo "| $name | $ms | $(gibs "$ms") | $(ratio "$ms_splice" "$ms") |"
done

W=$TMP/worker Q=$TMP/seq
# Every line must come back once: the check runs outside the timing.
got=$(ipc-spawnpipe -j 2 -- "$W" <"$Q" | sort -n | cksum)
[ "$got" = "$want_sum" ] || echo "(ipc-spawnpipe -j 2: OUTPUT DIFFERS from the lone worker)"
if have parallel; then
	PAR="$P2 parallel --will-cite --pipe -j 2 $W <$Q >/dev/null"
	PARB="$P2 parallel --will-cite --pipe --block 10M -j 2 $W <$Q >/dev/null"
else
	PAR= PARB=
fi
set -- \
    "worker alone:::$P2 $W <$Q >/dev/null" \
    "ipc-spawnpipe -j 2:::$P2 ipc-spawnpipe -j 2 -- $W <$Q >/dev/null" \
    "parallel --pipe -j 2:::$PAR" \
    "parallel --pipe --block 10M -j 2:::$PARB"
bench pool "$@"
ms_lone=$(cat "$TMP/pool.1")
echo
echo "## ipc-spawnpipe -j 2: seq $LINES through awk '{print \$1*2}', all on CPUs 0,1 (median of $RUNS interleaved rounds)"
echo
echo "| contestant | ms | speed-up over the lone worker |"
echo "|---|---|---|"
i=0
for row in "$@"; do
	i=$((i + 1))
	name=${row%%:::*} cmd=${row#*:::} ms=$(cat "$TMP/pool.$i")
	if [ -z "$cmd" ]; then
		echo "| $name | skipped: GNU parallel not installed | |"
	elif [ -z "$ms" ] || [ -z "$ms_lone" ]; then
		echo "| $name | failed | |"
	else
		echo "| $name | $ms | $(ratio "$ms_lone" "$ms") |"
	fi
done
echo
echo "(Targets: ipc-spawnpipe -- splicecat >= 0.8 of the splice relay; the pool"
echo "-j 2 >= 1.5x the lone worker. The machine may be shared: compare rows of"
echo "one run, not runs.)"
