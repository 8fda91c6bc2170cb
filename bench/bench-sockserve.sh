#!/bin/sh
# bench-sockserve.sh: ipc-sockserve against its anchors, side by side, one run.
#   1. new connections per second, one client (sockserve-connrate.c: connect,
#      send "ping\n", half-close, read to EOF, close):
#      exec mode `ipc-sockserve ... -- cat` against `tcpserver ... cat`
#      (ucspi-tcp), `socat TCP-LISTEN:...,fork EXEC:cat` and the exec floor
#      (sockserve-floor.c: accept, vfork, execve cat, nothing else); print
#      mode against `socat -u TCP-LISTEN:...,fork STDOUT` and the accept
#      floor (accept, read to EOF, close, in one process)
#   2. 10,000 concurrent idle connections to one print-mode server: its RSS
#      and the CPU time it uses while they sit idle
# The servers of a group run at once and take turns in chunks of CHUNK
# connections, ROUNDS times, so that the machine's drift hits all alike;
# a server's rate is its connections over the sum of its chunks' times.
# Every contestant runs under the same taskset placements: "same" (client
# and server on CPU 0) and "split" (client CPU 0, server CPU 1).
# Env: CHUNK (250) ROUNDS (12) IDLE (10000) IDLE_SECS (3)
# A missing anchor is skipped with a word. Temp files under mktemp -d.
set -u
CHUNK=${CHUNK:-250}
ROUNDS=${ROUNDS:-12}
IDLE=${IDLE:-10000}
IDLE_SECS=${IDLE_SECS:-3}
TMP=$(mktemp -d /dev/shm/bench-sockserve.XXXXXX 2>/dev/null || mktemp -d) || exit 1
srv=
trap '[ -z "$srv" ] || kill $srv 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"
have ipc-sockserve || { echo "ipc-sockserve not on PATH: run through make bench"; exit 1; }
have cc || { echo "cc missing: cannot build the load generator"; exit 1; }
cc -O2 -o "$TMP/connrate" sockserve-connrate.c || exit 1
cc -O2 -o "$TMP/floor" sockserve-floor.c || exit 1
have taskset || echo "taskset missing: placements not enforced"

server_cmd() { # NAME PORT
	case $1 in
	sockserve-exec) echo "ipc-sockserve tcp4:127.0.0.1:$2 -- cat" ;;
	tcpserver) echo "tcpserver -q -H -R -l 0 -c 100 127.0.0.1 $2 cat" ;;
	socat-exec) echo "socat TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,backlog=1024 EXEC:cat" ;;
	exec-floor) echo "$TMP/floor $2 exec $(command -v cat)" ;;
	sockserve-print) echo "ipc-sockserve tcp4:127.0.0.1:$2" ;;
	socat-print) echo "socat -u TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,backlog=1024 STDOUT" ;;
	accept-floor) echo "$TMP/floor $2 inline" ;;
	esac
}

anchor_bin() { case $1 in tcpserver) echo tcpserver ;; socat*) echo socat ;; *) echo true ;; esac; }

start_server() { # NAME PLACE -> sets port, srv_pid
	port=$(free_port)
	# shellcheck disable=SC2046
	timeout 900 $(pin "$2" server) $(server_cmd "$1" "$port") >/dev/null 2>"$TMP/$1.err" </dev/null &
	srv_pid=$!
	srv="$srv $srv_pid"
	wait_listen tcp "$port" || return 1
	"$TMP/connrate" -p "$port" -n 50 -t 10 >/dev/null 2>&1   # warm-up
}

chunk_secs() { # PLACE PORT: seconds one chunk took, or nothing on failure
	# shellcheck disable=SC2046
	$(pin "$1" client) "$TMP/connrate" -p "$2" -n "$CHUNK" -t 60 2>/dev/null |
	    sed -n 's/.*failed=0 .*secs=\([0-9.]*\).*/\1/p'
}

# group PLACE NAME...: the servers up at once, their chunks interleaved;
# prints "NAME conns/s" for each (conns/s "-" for a skipped or failed one).
group() {
	place=$1
	shift
	names= ports=
	for name in "$@"; do
		if ! have "$(anchor_bin "$name")"; then
			echo "$name skipped"
			continue
		fi
		if ! start_server "$name" "$place"; then
			echo "$name -"
			continue
		fi
		names="$names $name" ports="$ports $port"
		: >"$TMP/t.$name"
	done
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		set -- $ports
		for name in $names; do
			chunk_secs "$place" "$1" >>"$TMP/t.$name"
			shift
		done
		r=$((r + 1))
	done
	# shellcheck disable=SC2086
	kill $srv 2>/dev/null
	wait 2>/dev/null
	srv=
	for name in $names; do
		awk -v n="$name" -v c="$CHUNK" -v r="$ROUNDS" '
		    { t += $1; k++ }
		    END { if (k == r && t > 0) printf "%s %.0f\n", n, c * k / t
			  else print n, "-" }' "$TMP/t.$name"
	done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# table PLACE ANCHOR NAME...: one row per server, its rate over ANCHOR's.
table() {
	place=$1 anchor=$2
	shift 2
	group "$place" "$@" >"$TMP/g"
	base=$(awk -v a="$anchor" '$1 == a { print $2 }' "$TMP/g")
	while read -r name rate; do
		case $rate in
		skipped) echo "| $name | $place | skipped: $(anchor_bin "$name") not installed | |" ;;
		*) echo "| $name | $place | $rate | $(ratio "$rate" "$base") |" ;;
		esac
	done <"$TMP/g"
}

echo "## ipc-sockserve: new connections per second"
echo
echo "One client process; $ROUNDS rounds of $CHUNK connections per server, taken in turns."
echo "The floors are the least any server can do: exec-floor forks and execs"
echo "cat and does nothing else; accept-floor reads and closes in one process."
echo
echo "| exec mode | placement | conns/s | x tcpserver |"
echo "|---|---|---|---|"
for place in same split; do
	table "$place" tcpserver sockserve-exec tcpserver socat-exec exec-floor
done
echo
echo "| print mode | placement | conns/s | x socat fork |"
echo "|---|---|---|---|"
for place in same split; do
	table "$place" socat-print sockserve-print socat-print accept-floor
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
