#!/bin/sh
# bench-fifo.sh: ipc-fifo against its anchors, side by side, one run.
#   BYTES (2 GiB) from a tmpfs file -> writer -> FIFO -> reader -> /dev/null:
#   - cat on both ends (`cat SRC >F` and `cat F >/dev/null`): the anchor;
#   - a splice(2) relay on both ends (splicecat.c): the ceiling;
#   - ipc-fifo write --raw -> ipc-fifo read (splice on both ends);
#   - ipc-fifo write (line-atomic default) -> ipc-fifo read.
#   The source is zeros, as in the shared harness (bulk_pipe.sh): no
#   newline, so the line-atomic writer sends one long line in large pieces.
#   A second table does the same with TEXT_BYTES (256 MiB) of text lines of
#   48-108 bytes, where the line-atomic writer packs whole lines into writes
#   of at most PIPE_BUF (4096) bytes: the cost of atomicity.
# Every contestant runs with the same placement: both ends on CPU 0 (PIN=same,
# the default) or writer on 0 and reader on 1 (PIN=split).
# Env: BYTES TEXT_BYTES RUNS (3, median) PIN.
set -u
BYTES=${BYTES:-2147483648}
TEXT_BYTES=${TEXT_BYTES:-268435456}
RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d /tmp/bench-fifo.XXXXXX) || exit 1
SHM=$(mktemp -d /dev/shm/bench-fifo.XXXXXX 2>/dev/null) || SHM=$TMP
trap 'rm -rf "$TMP" "$SHM"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

. "$(dirname "$0")/lib.sh"
have ipc-fifo || { echo "ipc-fifo not on PATH: run through make bench"; exit 1; }
P0= P1=
if have taskset; then
	case ${PIN:-same} in
	split) P0="taskset -c 0" P1="taskset -c 1" ;;
	*) P0="taskset -c 0" P1="taskset -c 0" ;;
	esac
else
	echo "taskset missing: placement not enforced"
fi
CC=${CC:-cc}
have "$CC" && $CC -O2 -o "$TMP/splicecat" "$here/splicecat.c" 2>/dev/null ||
	echo "splice ceiling: no C compiler, skipped"

F=$TMP/bench.fifo
mkfifo -m 600 "$F" || exit 1

# run NAME WRITER READER: one contestant, RUNS times; prints the median
# seconds. WRITER reads $SRC and writes $F; READER reads $F.
run() {
	i=0
	: >"$TMP/times"
	while [ $i -lt "$RUNS" ]; do
		t0=$(now)
		sh -c "$3" &
		rpid=$!
		sh -c "$2" || echo "$1: writer failed" >&2
		wait $rpid || echo "$1: reader failed" >&2
		t1=$(now)
		echo $((t1 - t0)) >>"$TMP/times"
		i=$((i + 1))
	done
	sort -n "$TMP/times" | awk '{ t[NR] = $1 } END { printf "%.3f\n", t[int((NR + 1) / 2)] / 1e9 }'
}

# table BYTES ROWS...: ROWS are "NAME|WRITER|READER"; ratios are to cat.
table() {
	bytes=$1
	shift
	: >"$TMP/rows"
	for row in "$@"; do
		name=${row%%|*}
		rest=${row#*|}
		case $name in
		splice*) [ -x "$TMP/splicecat" ] || { echo "| $name | skipped: no splicecat | | | |" >>"$TMP/rows"; continue; } ;;
		esac
		s=$(run "$name" "${rest%%|*}" "${rest#*|}")
		echo "$name $s" >>"$TMP/rows"
	done
	awk -v b="$bytes" '
	/^\|/ { skipped[++k] = $0; next }
	{ name[++n] = $1; sec[n] = $2; if ($1 == "cat") cat = $2; if ($1 == "splice") spl = $2 }
	END {
		print "| contestant | median s | GiB/s | ratio to cat | ratio to splice |"
		print "|---|---|---|---|---|"
		for (i = 1; i <= n; i++)
			printf "| %s | %.3f | %.2f | %s | %s |\n", name[i], sec[i],
			    b / sec[i] / 2^30,
			    cat ? sprintf("%.2f", cat / sec[i]) : "-",
			    spl ? sprintf("%.2f", spl / sec[i]) : "-"
		for (i = 1; i <= k; i++) print skipped[i]
	}' "$TMP/rows"
}

echo "# $((BYTES >> 20)) MiB of zeros through a FIFO, PIN=${PIN:-same}, $RUNS runs, median"
SRC=$SHM/zero
dd if=/dev/zero of="$SRC" bs=1M count=$((BYTES >> 20)) status=none || exit 1
export SRC F
S=$TMP/splicecat
table "$BYTES" \
	"cat|$P0 cat \"\$SRC\" >\"\$F\"|$P1 cat \"\$F\" >/dev/null" \
	"splice|$P0 $S <\"\$SRC\" >\"\$F\"|$P1 $S <\"\$F\" >/dev/null" \
	"ipc-fifo-raw|$P0 ipc-fifo write --raw \"\$F\" <\"\$SRC\"|$P1 ipc-fifo read \"\$F\" >/dev/null" \
	"ipc-fifo-lines|$P0 ipc-fifo write \"\$F\" <\"\$SRC\"|$P1 ipc-fifo read \"\$F\" >/dev/null"
rm -f "$SRC"

echo
echo "# $((TEXT_BYTES >> 20)) MiB of text lines (48-108 bytes) through a FIFO, same placement"
SRC=$SHM/text
awk -v n="$TEXT_BYTES" 'BEGIN { x = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	while (b < n) { s = sprintf("%09d the quick brown fox jumps over %s\n", i, substr(x, 1, i % 61)); i++; b += length(s); printf "%s", s } }' >"$SRC"
TEXT_BYTES=$(wc -c <"$SRC")
table "$TEXT_BYTES" \
	"cat|$P0 cat \"\$SRC\" >\"\$F\"|$P1 cat \"\$F\" >/dev/null" \
	"splice|$P0 $S <\"\$SRC\" >\"\$F\"|$P1 $S <\"\$F\" >/dev/null" \
	"ipc-fifo-raw|$P0 ipc-fifo write --raw \"\$F\" <\"\$SRC\"|$P1 ipc-fifo read \"\$F\" >/dev/null" \
	"ipc-fifo-lines|$P0 ipc-fifo write \"\$F\" <\"\$SRC\"|$P1 ipc-fifo read \"\$F\" >/dev/null" \
	"ipc-fifo-lines-to-cat|$P0 ipc-fifo write \"\$F\" <\"\$SRC\"|$P1 cat \"\$F\" >/dev/null"
echo
echo "Targets: ipc-fifo-raw >= 0.8x splice; ipc-fifo-lines >= 1.0x cat (zeros)."
