#!/bin/sh
# bench-sockserve.sh: ipc-sockserve against its anchors, side by side, one run.
#   1. new connections per second, one client (sockserve-connrate.c: connect,
#      send "ping\n", half-close, read to EOF, close), N connections a run:
#      exec mode `ipc-sockserve ... -- cat` against `tcpserver ... cat`
#      (ucspi-tcp) and `socat TCP-LISTEN:...,fork EXEC:cat`; print mode
#      against `socat -u TCP-LISTEN:...,fork STDOUT`
#   2. 10,000 concurrent idle connections to one print-mode server: its RSS
#      and the CPU time it uses while they sit idle
# The two servers of a pair run at once and their runs alternate.
# Every contestant runs under the same taskset placements: "same" (client
# and server on CPU 0) and "split" (client CPU 0, server CPU 1).
# Env: N (2000) RUNS (3, the median is shown) IDLE (10000) IDLE_SECS (3)
# A missing anchor is skipped with a word. Temp files under mktemp -d.
set -u
N=${N:-2000}
RUNS=${RUNS:-3}
IDLE=${IDLE:-10000}
IDLE_SECS=${IDLE_SECS:-3}
TMP=$(mktemp -d /dev/shm/bench-sockserve.XXXXXX 2>/dev/null || mktemp -d) || exit 1
srv=
trap '[ -z "$srv" ] || kill $srv 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"
have ipc-sockserve || { echo "ipc-sockserve not on PATH: run through make bench"; exit 1; }
have cc || { echo "cc missing: cannot build the load generator"; exit 1; }
cc -O2 -o "$TMP/connrate" sockserve-connrate.c || exit 1
have taskset || echo "taskset missing: placements not enforced"

server_cmd() { # NAME PORT
	case $1 in
	sockserve-exec) echo "ipc-sockserve tcp4:127.0.0.1:$2 -- cat" ;;
	tcpserver) echo "tcpserver -q -H -R -l 0 -c 100 127.0.0.1 $2 cat" ;;
	socat-exec) echo "socat TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,backlog=1024 EXEC:cat" ;;
	sockserve-print) echo "ipc-sockserve tcp4:127.0.0.1:$2" ;;
	socat-print) echo "socat -u TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,backlog=1024 STDOUT" ;;
	esac
}

anchor_bin() { case $1 in tcpserver) echo tcpserver ;; socat*) echo socat ;; *) echo ipc-sockserve ;; esac; }

start_server() { # NAME PLACE -> sets port, srv_pid
	port=$(free_port)
	# shellcheck disable=SC2046
	timeout 600 $(pin "$2" server) $(server_cmd "$1" "$port") >/dev/null 2>"$TMP/$1.err" </dev/null &
	srv_pid=$!
	srv="$srv $srv_pid"
	wait_listen tcp "$port" || return 1
	"$TMP/connrate" -p "$port" -n 50 -t 10 >/dev/null 2>&1   # warm-up
}

one_run() { # PLACE PORT: conns/s of one run, or nothing on failure
	# shellcheck disable=SC2046
	$(pin "$1" client) "$TMP/connrate" -p "$2" -n "$N" -t 60 2>/dev/null |
	    sed -n 's/.*failed=0 .*conns_per_s=\([0-9]*\).*/\1/p'
}

median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "-"}'; }

# pair A B PLACE: both servers up at once, their runs interleaved (A, B,
# A, B, ...) so that the machine's drift hits both alike; prints the two
# medians.
pair() {
	start_server "$1" "$3" || { echo "- -"; return; }
	pa=$port a=$srv_pid
	start_server "$2" "$3" || { echo "- -"; kill $a; return; }
	pb=$port b=$srv_pid
	: >"$TMP/ra"; : >"$TMP/rb"
	r=0
	while [ $r -lt "$RUNS" ]; do
		one_run "$3" "$pa" >>"$TMP/ra"
		one_run "$3" "$pb" >>"$TMP/rb"
		r=$((r + 1))
	done
	kill $a $b 2>/dev/null
	wait $a $b 2>/dev/null
	srv=
	echo "$(median <"$TMP/ra") $(median <"$TMP/rb")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

echo "## ipc-sockserve: new connections per second (client: 1 process, $N conns/run, median of $RUNS)"
echo
echo "| server | placement | conns/s | ratio |"
echo "|---|---|---|---|"
for place in same split; do
	for pair in "sockserve-exec tcpserver" "sockserve-exec socat-exec" "sockserve-print socat-print"; do
		set -- $pair
		have "$(anchor_bin "$2")" || { echo "| $2 | $place | skipped: $(anchor_bin "$2") not installed | |"; continue; }
		set -- "$1" "$2" $(pair "$1" "$2" "$place")
		a=$3 b=$4
		echo "| $1 | $place | $a | $(ratio "$a" "$b")x $2 |"
		echo "| $2 | $place | $b | 1 |"
	done
done

echo
echo "## ipc-sockserve: $IDLE concurrent idle connections to one print-mode server"
echo
port=$(free_port)
ipc-sockserve "tcp4:127.0.0.1:$port" >/dev/null 2>"$TMP/idle.err" </dev/null &
srv=$!
wait_listen tcp "$port" || { echo "server did not listen"; exit 1; }
python3 - "$port" "$IDLE" "$IDLE_SECS" "$srv" <<'PY'
import resource, socket, sys, time
port, n, secs, pid = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def stat():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    tck = int(f[11]) + int(f[12])
    rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")][0].split()[1]
    return tck, int(rss)
_, rss0 = stat()
held = []
t0 = time.monotonic()
try:
    for i in range(n):
        held.append(socket.create_connection(("127.0.0.1", port)))
except OSError as e:
    print(f"(stopped at {len(held)} connections: {e})")
for s in held[:1]:
    s.sendall(b"x\n")    # one round trip: every earlier accept is done
time.sleep(0.5)
c0, rss = stat()
time.sleep(secs)
c1, rss1 = stat()
hz = 100
print("| measure | value | target |")
print("|---|---|---|")
print(f"| connections held | {len(held)} (opened in {time.monotonic() - t0 - 0.5 - secs:.1f} s) | {n} |")
print(f"| server RSS before | {rss0 / 1024:.1f} MiB | |")
print(f"| server RSS with them | {max(rss, rss1) / 1024:.1f} MiB | < 64 MiB |")
print(f"| server CPU while idle {secs:.0f} s | {(c1 - c0) * 1000 // hz} ms | 0 |")
PY
kill "$srv"
wait "$srv" 2>/dev/null
srv=
echo
echo "(2-CPU machine shared with other builds: figures are noisy; compare the"
echo "ratios within one run, not across runs.)"
