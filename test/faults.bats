#!/usr/bin/env bats
# Faults (issue 12 item 8): peers killed mid-transfer, stopped consumers,
# many idle connections, the memory budget. Tests of faults that the
# per-tool files already cover are not repeated here: ulimit -n 64 with
# 200 clients and the broadcast slow reader are in ipc-sockserve.bats,
# SIGKILL of recv before its run reads is in ipc-mq.bats.
bats_require_minimum_version 1.5.0
export BATS_TEST_TIMEOUT=90

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_servers
	[ -z "${q:-}" ] || ipc-mq rm "$q" 2>/dev/null || true
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kib_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
fds_at_least() { [ "$(ls "/proc/$1/fd" | wc -l)" -ge "$2" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# idle_for_1s PID: PID used no CPU over one second. The sleep is the
# measurement window, not a synchronisation: poll_until retries it.
idle_for_1s() {
	local t0
	t0=$(cpu_ticks "$1")
	sleep 1
	[ "$(cpu_ticks "$1")" = "$t0" ]
}

# ---- kill -9 mid-transfer ----

@test "kill -9 of an ipc-sockcat client mid-record: the server serves on, only whole records printed" {
	serve_bg ipc-sockserve --netstring -v -r 3 tcp4:127.0.0.1:0
	mkfifo src
	exec 6<>src
	ipc-sockcat "$srv_addr" <src >/dev/null 2>&1 6>&- &
	cpid=$!
	bg_track $cpid
	python3 -c 'import sys; sys.stdout.buffer.write(b"".join(b"1000:%s," % (bytes([97 + i % 26]) * 1000) for i in range(50)) + b"1000:" + b"z" * 500)' >&6
	poll_until 30 size_is "$srv_out" $((50 * 1006))
	kill -KILL $cpid
	exec 6>&-
	printf '5:after,' | ipc-sockcat "$srv_addr"
	poll_until 30 size_is "$srv_out" $((50 * 1006 + 8))
	python3 -c '
d = open("'"$srv_out"'", "rb").read()
want = b"".join(b"1000:%s," % (bytes([97 + i % 26]) * 1000) for i in range(50)) + b"5:after,"
assert d == want, len(d)'
}

@test "kill -9 of ipc-sockserve mid-transfer: the client exits 1 with the reason and its counts" {
	serve_bg ipc-sockserve -r 3 tcp4:127.0.0.1:0
	yes | ipc-sockcat "$srv_addr" >/dev/null 2>cl.err &
	cpid=$!
	bg_track $cpid
	poll_until 30 test -s "$srv_out"
	kill -KILL "$srv_pid"
	wait_exit $cpid 30
	[ "$status" -eq 1 ]
	port=$(port_of "$srv_addr")
	[[ "$(cat cl.err)" =~ ^ipc-sockcat:\ 127\.0\.0\.1:$port:\ (Connection\ reset\ by\ peer|the\ peer\ closed\ before\ all\ of\ stdin\ was\ sent)\ \(sent\ [0-9]+\ bytes,\ received\ 0\)$ ]] || { cat cl.err; false; }
}

@test "kill -9 of a Unix-socket server: its stale socket is replaced by the next server" {
	serve_bg ipc-sockserve -r 3 unix:srv.sock
	yes | ipc-sockcat unix:srv.sock >/dev/null 2>&1 &
	bg_track $!
	poll_until 30 test -s "$srv_out"
	kill -KILL "$srv_pid"
	wait_exit "$srv_pid" 30
	[ -S srv.sock ]
	serve_bg ipc-sockserve -1 -r 3 unix:srv.sock
	echo again | ipc-sockcat unix:srv.sock
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = again ]
	[ ! -e srv.sock ]
}

@test "kill -9 of ipc-mq recv -- COMMAND: each message was delivered whole or is still queued, in order" {
	q=$(uniq_name /ipcfault)
	ipc-mq create -M 10 "$q"
	for i in 1 2 3 4 5; do
		head -c 8000 /dev/zero | tr '\0' "$i" | ipc-mq send -0 "$q"
	done
	# Each run copies its message; the third then waits to be killed.
	ipc-mq recv -0 -n 5 "$q" -- sh -c 'n=$(ls got.* 2>/dev/null | wc -l); cat >"got.$n.tmp"; mv "got.$n.tmp" "got.$n"
		[ "$n" -lt 2 ] || exec sleep 60' &
	pid=$!
	bg_track $pid
	poll_until 30 test -e got.2
	kill -KILL $pid
	wait_exit $pid 30
	[ "$status" -eq 137 ]
	for i in 0 1 2; do
		[ "$(tr -d '\0' <"got.$i")" = "$(head -c 8000 /dev/zero | tr '\0' $((i + 1)))" ]
	done
	run -0 ipc-mq recv -a "$q"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "$(head -c 8000 /dev/zero | tr '\0' 4)" ]
	[ "${lines[1]}" = "$(head -c 8000 /dev/zero | tr '\0' 5)" ]
}

@test "kill -9 of an ipc-spawnpipe pool mid-stream: no worker is left" {
	m=$(uniq_name faultmarker)
	mkfifo src
	exec 6<>src
	ipc-spawnpipe -j 4 -- sh -c 'while read -r l; do echo "$l"; done' "$m" <src >out 6>&- &
	pid=$!
	bg_track $pid
	seq 1000 >&6
	poll_until 30 test -s out
	[ "$(pgrep -c -f -- "$m")" -eq 5 ]
	kill -KILL $pid
	wait_exit $pid 30
	[ "$status" -eq 137 ]
	no_workers() { ! pgrep -f -- "$m" >/dev/null; }
	poll_until 30 no_workers
	exec 6>&-
}

# ---- many idle connections ----

@test "10,000 idle TCP connections: RSS under 64 MiB, no CPU while idle, still serving" {
	serve_bg ipc-sockserve -r 3 tcp4:127.0.0.1:0
	mkfifo hold
	exec 6<>hold
	python3 "$BATS_TEST_DIRNAME/faults-hold.py" "$(port_of "$srv_addr")" 10000 <hold >held 6>&- &
	bg_track $!
	poll_until 60 grep -q ready held
	poll_until 60 fds_at_least "$srv_pid" 10000
	rss=$(kib_of "$srv_pid" VmRSS)
	echo "RSS at 10,000 idle connections: $rss kB" >&3
	[ -n "${IPC_ASAN:-}" ] || [ "$rss" -lt $((64 * 1024)) ]
	poll_until 30 idle_for_1s "$srv_pid"
	echo more | ipc-sockcat "$srv_addr"
	poll_until 30 grep -qx more "$srv_out"
	exec 6>&-
}

# ---- stopped peers ----

@test "a SIGSTOP'd mq consumer: send -t to the full queue is 124, nothing queued is lost" {
	q=$(uniq_name /ipcfault)
	ipc-mq create -M 3 "$q"
	ipc-mq recv -f "$q" >out &
	pid=$!
	bg_track $pid
	ipc-mq send "$q" 1 2 3
	poll_until 30 grep -qx 3 out
	kill -STOP $pid
	ipc-mq send "$q" 4 5 6
	run -124 ipc-mq send -t 1s "$q" 7
	run -0 ipc-mq info "$q"
	[[ "$output" == *"curmsgs=3"* ]]
	kill -CONT $pid
	poll_until 30 grep -qx 6 out
	[ "$(cat out)" = "$(seq 6)" ]
	ipc-mq send "$q" 8
	poll_until 30 grep -qx 8 out
	[ "$(cat out)" = "$(printf '1\n2\n3\n4\n5\n6\n8')" ]
}

@test "read -k with a SIGSTOP'd reader: writers wait, nothing is lost after SIGCONT" {
	mkfifo f
	ipc-fifo read -k f >out &
	pid=$!
	bg_track $pid
	ipc-fifo write -m first f
	poll_until 30 grep -qx first out
	kill -STOP $pid
	seq 200000 | ipc-fifo write f &
	wpid=$!
	bg_track $wpid
	# The writer fills the pipe and then waits in write(2) (syscall 1).
	in_write() { read -r nr _ <"/proc/$wpid/syscall" && [ "$nr" = 1 ]; }
	poll_until 30 in_write
	[ "$(cat out)" = first ]
	kill -CONT $pid
	wait_exit $wpid 30
	[ "$status" -eq 0 ]
	poll_until 30 grep -qx 200000 out
	[ "$(cat out)" = "$(echo first; seq 200000)" ]
}

@test "read -k with a SIGSTOP'd writer: other writers get through, its rest comes after SIGCONT" {
	mkfifo f src
	ipc-fifo read -k f >out &
	bg_track $!
	exec 6<>src
	ipc-fifo write f <src 6>&- &
	wpid=$!
	bg_track $wpid
	echo a1 >&6
	poll_until 30 grep -qx a1 out
	kill -STOP $wpid
	echo a2 >&6
	ipc-fifo write -m b1 f
	poll_until 30 grep -qx b1 out
	kill -CONT $wpid
	exec 6>&-
	wait_exit $wpid 30
	[ "$status" -eq 0 ]
	poll_until 30 grep -qx a2 out
	[ "$(cat out)" = "$(printf 'a1\nb1\na2')" ]
}

# ---- the memory budget ----

@test "--max-held 16M with 40 clients each 1 MiB into a message: RSS follows the budget, the excess dropped" {
	serve_bg ipc-sockserve -v -0 --max-held 16M -r 3 tcp4:127.0.0.1:0
	base=$(kib_of "$srv_pid" VmRSS)
	# Each client sends 1 MiB of a message, then (if still connected) its
	# NUL; the server keeps what its budget holds and drops the others.
	run -0 timeout 60 python3 - "$(port_of "$srv_addr")" <<-'EOF'
	import select, socket, sys
	port = int(sys.argv[1])
	cs = [socket.create_connection(('127.0.0.1', port)) for _ in range(40)]
	for c in cs:
	    c.setblocking(False)
	left = {c: memoryview(b'm' * (1 << 20)) for c in cs}
	while left:
	    _, w, _ = select.select([], list(left), [], 50)
	    assert w, "stalled"
	    for c in w:
	        try:
	            n = c.send(left[c])
	        except OSError:
	            del left[c]; continue
	        left[c] = left[c][n:]
	        if not left[c]:
	            del left[c]
	for c in cs:
	    try:
	        c.setblocking(True); c.sendall(b'\0')
	    except OSError:
	        pass
	    c.close()
	EOF
	# Every client is accounted for: printed whole, or dropped with a note.
	accounted() {
		local d s
		d=$(grep -c 'dropped: it would take the memory held for clients past --max-held (16777216 bytes)' "$srv_err")
		s=$(stat -c %s "$srv_out")
		[ $((s + d * ((1 << 20) + 1))) -eq $((40 * ((1 << 20) + 1))) ]
	}
	poll_until 30 accounted
	dropped=$(grep -c 'dropped: it would take' "$srv_err")
	echo "dropped $dropped of 40" >&3
	[ "$dropped" -ge 1 ]
	[ "$dropped" -lt 40 ]
	hwm=$(kib_of "$srv_pid" VmHWM)
	echo "peak RSS $hwm kB (at start $base kB)" >&3
	[ -n "${IPC_ASAN:-}" ] || [ "$hwm" -lt $((base + 16 * 1024 + 8 * 1024)) ]
	out=$(stat -c %s "$srv_out")
	printf 'late\0' | ipc-sockcat "$srv_addr"
	poll_until 30 size_is "$srv_out" $((out + 5))
}
