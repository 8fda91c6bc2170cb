#!/bin/sh
# bench-sockcat.sh: ipc-sockcat against its anchors, side by side, one run.
#   1. 2 GiB TCP loopback transfer from a tmpfs file:
#      stdin -> CLIENT -> socket -> SERVER -> /dev/null
#      ipc-sockcat -> ipc-sockserve -1, nc -N -> nc -l, socat -> socat,
#      iperf3 (the ceiling: no file, no pipe, its own buffers)
#   2. the same over a Unix socket: ipc-sockcat -> ipc-sockserve -1 against
#      nc -U -> nc -lU
#   3. start-up: ipc-sockcat -V against a dynamically linked hello-world
# Every contestant runs under the same taskset placement: "same" (client and
# server on CPU 0) and "split" (client CPU 0, server CPU 1).
# Env: BYTES (2 GiB) RUNS (3, the median is shown) STARTS (1000)
# A missing anchor is skipped with a word. Temp files under /dev/shm.
set -u
BYTES=${BYTES:-2147483648}
RUNS=${RUNS:-3}
STARTS=${STARTS:-1000}
TMP=$(mktemp -d /dev/shm/bench-sockcat.XXXXXX) || exit 1
SRC=$TMP/src
SOCK=$TMP/s.sock
trap 'rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"

have ipc-sockcat || { echo "ipc-sockcat not on PATH: run through make bench"; exit 1; }
have taskset || { echo "taskset missing: placements not enforced"; }

# one NAME PLACEMENT: one transfer; prints seconds (or nothing on failure).
one() {
	name=$1 place=$2 port=$(free_port)
	ps=$(pin "$place" server) pc=$(pin "$place" client)
	rm -f "$SOCK"
	case $name in
	ipc-sockcat)
		srv="ipc-sockserve -1 127.0.0.1:$port"; cli="ipc-sockcat 127.0.0.1:$port"; w="tcp $port" ;;
	nc)
		srv="nc -l 127.0.0.1 $port"; cli="nc -N 127.0.0.1 $port"; w="tcp $port" ;;
	socat)
		srv="socat -u TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr STDOUT"
		cli="socat -u STDIN TCP:127.0.0.1:$port"; w="tcp $port" ;;
	iperf3)
		srv="iperf3 -s -1 -B 127.0.0.1 -p $port"
		cli="iperf3 -c 127.0.0.1 -p $port -n $BYTES"; w="tcp $port" ;;
	ipc-sockcat-unix)
		srv="ipc-sockserve -1 unix:$SOCK"; cli="ipc-sockcat unix:$SOCK"; w="unix $SOCK" ;;
	nc-unix)
		srv="nc -lU $SOCK"; cli="nc -NU $SOCK"; w="unix $SOCK" ;;
	esac
	# shellcheck disable=SC2086
	timeout 120 $ps $srv >/dev/null 2>"$TMP/srv.err" </dev/null &
	sp=$!
	# shellcheck disable=SC2086
	wait_listen $w || { kill $sp 2>/dev/null; wait $sp 2>/dev/null; return 1; }
	t0=$(now)
	# shellcheck disable=SC2086
	timeout 120 $pc $cli <"$SRC" >/dev/null 2>"$TMP/cli.err"
	rc=$?
	wait $sp
	rs=$?
	t1=$(now)
	if [ $rc -ne 0 ] || [ $rs -ne 0 ]; then
		echo "$name: client rc=$rc server rc=$rs: $(head -c 200 "$TMP/cli.err" "$TMP/srv.err" | tr '\n' ' ')" >&2
		return 1
	fi
	echo "$t0 $t1" | awk '{ printf "%.4f\n", ($2 - $1) / 1e9 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# bulk TITLE BASE CONTESTANT...: a table of GiB/s and ratios to BASE.
bulk() {
	title=$1 base=$2
	shift 2
	echo
	echo "### $title, $((BYTES / 1048576)) MiB from tmpfs, median of $RUNS"
	echo
	echo "| contestant | placement | median s | GiB/s | ratio to $base |"
	echo "|---|---|---|---|---|"
	for place in same split; do
		: >"$TMP/res"
		list=
		for n in "$@"; do
			case $n in
			ipc-sockcat*) have ipc-sockserve || { echo "| $n | $place | skipped: no ipc-sockserve on PATH | | |"; continue; } ;;
			nc*) have nc || { echo "| $n | $place | skipped: no nc | | |"; continue; } ;;
			*) have "$n" || { echo "| $n | $place | skipped: no $n | | |"; continue; } ;;
			esac
			list="$list $n"
			: >"$TMP/times.$n"
		done
		# Round robin, so a change in the machine's load hits every
		# contestant alike.
		r=0
		while [ $r -lt "$RUNS" ]; do
			for n in $list; do
				one "$n" "$place" >>"$TMP/times.$n"
			done
			r=$((r + 1))
		done
		for n in $list; do
			m=$(median <"$TMP/times.$n")
			[ -n "$m" ] && echo "$n $m" >>"$TMP/res"
		done
		awk -v b="$BYTES" -v base="$base" -v place="$place" '
			{ name[NR] = $1; t[NR] = $2; if ($1 == base) bt = $2 }
			END { for (i = 1; i <= NR; i++) {
				g = b / t[i] / 1073741824
				r = bt ? sprintf("%.2f", bt / t[i]) : "-"
				printf "| %s | %s | %.3f | %.2f | %s |\n", name[i], place, t[i], g, r } }' "$TMP/res"
	done
}

startup() {
	echo
	cc -O2 -o "$TMP/hello-dyn" hello.c 2>/dev/null || { echo "no C compiler: start-up skipped"; return; }
	sc=$(command -v ipc-sockcat)
	if have hyperfine && have python3; then
		echo "### start-up: hyperfine -N, $STARTS runs each, median (min)"
		echo
		echo "| contestant | placement | median us | min us | ratio of medians to hello-dyn |"
		echo "|---|---|---|---|---|"
		for place in same split; do
			pc=$(pin "$place" client)
			# shellcheck disable=SC2086
			$pc hyperfine -N --warmup 50 --runs "$STARTS" --export-json "$TMP/su.json" \
			    -n hello-dyn "$TMP/hello-dyn" -n "ipc-sockcat -V" "$sc -V" >/dev/null 2>&1 ||
				{ echo "| hyperfine failed | $place | | | |"; continue; }
			python3 - "$TMP/su.json" "$place" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["results"]
base = d[0]["median"]
for r in d:
    print("| %s | %s | %.0f | %.0f | %.3f |" % (r["command"], sys.argv[2],
          r["median"] * 1e6, min(r["times"]) * 1e6, r["median"] / base))
PY
		done
		return
	fi
	echo "### start-up: $STARTS starts each from a shell loop (no hyperfine), median of 3"
	echo
	echo "| contestant | placement | us per start | ratio to hello-dyn |"
	echo "|---|---|---|---|"
	: >"$TMP/su"
	for c in "$TMP/hello-dyn" "$sc -V"; do
		: >"$TMP/times"
		for r in 1 2 3; do
			t0=$(now)
			sh -c 'i=0; while [ $i -lt "$1" ]; do '"$c"' >/dev/null; i=$((i+1)); done' _ "$STARTS"
			t1=$(now)
			echo "$t0 $t1" | awk -v n="$STARTS" '{ printf "%.1f\n", ($2 - $1) / 1e3 / n }' >>"$TMP/times"
		done
		echo "$(basename "${c%% *}") $(median <"$TMP/times")" >>"$TMP/su"
	done
	awk '{ n[NR] = $1; t[NR] = $2 } NR == 1 { b = $2 }
		END { for (i = 1; i <= NR; i++) printf "| %s | - | %.1f | %.2f |\n", n[i], t[i], t[i] / b }' "$TMP/su"
}

echo "## ipc-sockcat bench ($(uname -r), $ncpu CPUs; a shared machine is noisy)"
dd if=/dev/zero of="$SRC" bs=1M count=$((BYTES / 1048576)) status=none || exit 1
bulk "TCP loopback bulk" iperf3 iperf3 ipc-sockcat nc socat
bulk "Unix socket bulk" nc-unix ipc-sockcat-unix nc-unix
startup
