#!/usr/bin/env bats
# ipc-sockserve: print mode, exec mode, Unix sockets, UDP, framing,
# broadcast, signals and resource faults, against python3, nc and socat.
bats_require_minimum_version 1.5.0
export BATS_TEST_TIMEOUT=90

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_servers
}

# pyclient ADDRESS: sends stdin, half-closes, prints the reply.
PYCLIENT='
import socket, sys
def conn(a):
    if a.startswith("unix:"):
        p = a[5:]
        if p.startswith("@"): p = "\0" + p[1:]
        s = socket.socket(socket.AF_UNIX); s.connect(p); return s
    if a.startswith("["):
        h, port = a[1:].split("]:")
    else:
        h, port = a.rsplit(":", 1)
    return socket.create_connection((h, int(port)))
s = conn(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b: break
    sys.stdout.buffer.write(b)
'
pyclient() { python3 -c "$PYCLIENT" "$@"; }


# run_clean COMMAND...: exec COMMAND with only descriptors 0-3 open.
run_clean() {
	local f
	for f in /proc/$BASHPID/fd/*; do
		f=${f##*/}
		if ((f > 3)); then eval "exec $f>&-"; fi
	done
	exec "$@"
}

lines_in() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# ---- addresses and print mode ----

@test "default bind: 127.0.0.1 and ::1 on one kernel-picked port" {
	serve_bg ipc-sockserve -r 3 0
	[ "${#srv_addrs[@]}" -eq 2 ]
	p=$(port_of "$srv_addr")
	[ "${srv_addrs[0]}" = "127.0.0.1:$p" ]
	[ "${srv_addrs[1]}" = "[::1]:$p" ]
	echo four | nc -N 127.0.0.1 "$p"
	echo six | nc -N ::1 "$p"
	poll_until 30 lines_in "$srv_out" 2
	run -0 sort "$srv_out"
	[ "$output" = "$(printf 'four\nsix')" ]
}

@test "*:PORT binds every local address" {
	serve_bg ipc-sockserve -r 3 '*:0'
	p=$(port_of "$srv_addr")
	[[ " ${srv_addrs[*]} " == *" 0.0.0.0:$p "* ]]
	[[ " ${srv_addrs[*]} " == *" [::]:$p "* ]]
}

@test "bad ports and addresses are usage errors" {
	for a in 70000 abc 010 tcp:localhost:-5 0x50 "80 " '[::1' ; do
		run -2 --separate-stderr ipc-sockserve "$a"
		[[ "$stderr" == *ipc-sockserve:* ]]
	done
	run -2 --separate-stderr ipc-sockserve -5
	[[ "$stderr" == *usage:* ]]
	# a mistyped scheme is named as one, a bare IPv6 address gets the hint
	run -2 --separate-stderr ipc-sockserve tpc:localhost:80
	[ "$stderr" = "ipc-sockserve: tpc:localhost:80: unknown scheme 'tpc' (tcp, tcp4, tcp6, udp, udp4, udp6, unix)" ]
	run -2 --separate-stderr ipc-sockserve ::1:80
	[[ "$stderr" == *"an IPv6 address needs brackets"* ]]
}

@test "an address that is not ours: the error says why" {
	run -1 --separate-stderr timeout 60 ipc-sockserve 192.0.2.1:0
	[ "$stderr" = "ipc-sockserve: 192.0.2.1: no address could be bound: Cannot assign requested address" ]
}

@test "a busy port is an error (no SO_REUSEPORT)" {
	serve_bg ipc-sockserve -r 3 tcp4:127.0.0.1:0
	run -1 --separate-stderr ipc-sockserve "$srv_addr"
	[[ "$stderr" == *"Address already in use"* ]]
}

@test "concurrent clients: lines are never interleaved" {
	serve_bg ipc-sockserve -n 6 -r 3 tcp4:127.0.0.1:0
	for i in 1 2 3 4 5 6; do
		python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
line = (sys.argv[1] * 1000 + '\n').encode()
for _ in range(300):
    s.sendall(line[:333]); s.sendall(line[333:])
s.close()" "$i" &
	done
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$srv_out")" -eq 1800 ]
	run -0 sh -c "sort '$srv_out' | uniq -c | awk '{print \$1}' | sort -u"
	[ "$output" = 300 ]
	[ "$(sort -u "$srv_out" | wc -l)" -eq 6 ]
}

@test "one client's binary bytes arrive unchanged (-1 and not)" {
	head -c 3000000 /dev/urandom >bin
	printf 'no newline at the end' >>bin
	serve_bg ipc-sockserve -1 -r 3 0
	nc -N 127.0.0.1 "$(port_of "$srv_addr")" <bin
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	cmp bin "$srv_out"
	serve_bg ipc-sockserve -r 3 0
	pyclient "$srv_addr" <bin
	poll_until 30 size_is "$srv_out" "$(stat -c %s bin)"
	cmp bin "$srv_out"
}

@test "an unterminated last line gets a newline only before another client" {
	serve_bg ipc-sockserve -n 2 -r 3 0
	printf 'first' | pyclient "$srv_addr"
	printf 'second' | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out"; echo .)" = "$(printf 'first\nsecond.')" ]
}

@test "--peer prefixes each line with the client address" {
	serve_bg ipc-sockserve --peer -1 -r 3 tcp6:0
	run -0 python3 -c "
import socket
s = socket.create_connection(('::1', $(port_of "$srv_addr")))
s.sendall(b'a\nb\n'); s.shutdown(socket.SHUT_WR); s.recv(1)
print(s.getsockname()[1])"
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = "$(printf '[::1]:%s\ta\n[::1]:%s\tb' "$output" "$output")" ]
}

@test "--count ends after N connections; socat and nc as peers" {
	serve_bg ipc-sockserve -n 2 -r 3 tcp4:127.0.0.1:0
	echo via-socat | socat - "TCP:$srv_addr"
	echo via-nc | nc -N 127.0.0.1 "$(port_of "$srv_addr")"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(sort "$srv_out")" = "$(printf 'via-nc\nvia-socat')" ]
}

@test "a stdout reader that goes away ends the server quietly with 1" {
	mkfifo ready out
	exec 4<>out
	ipc-sockserve -r 3 0 3>ready >out 2>err 4>&- &
	pid=$!
	bg_track $pid
	read -r addr <ready
	exec 4<&-
	wait_exit "$pid" 30
	[ "$status" -eq 1 ]
	[ ! -s err ]
	# and while a client is sending
	(
		ipc-sockserve -r 3 0 3>ready 2>err | head -c 10 >/dev/null
		echo "${PIPESTATUS[0]}" >st
	) &
	read -r addr <ready
	yes | head -c 1000000 | pyclient "$addr" || true
	poll_until 30 test -s st
	[ "$(cat st)" -eq 1 ]
	[ ! -s err ]
}

# ---- a blocked stdout: the loop goes on ----

# A reader of the FIFO "out" that reads nothing until told: it holds the
# read end, makes "full" once the pipe takes no more (polled with a
# deadline: a write end of its own reports no room), waits for "go" to
# be opened, then copies everything to "got" until EOF.
HOLDREADER='
import os, select, sys, time
fd = os.open("out", os.O_RDONLY)
w = os.open("out", os.O_WRONLY | os.O_NONBLOCK)
deadline = time.monotonic() + 20
while select.select([], [w], [], 0)[1]:
    if time.monotonic() > deadline: sys.exit("the pipe never filled")
    time.sleep(0.02)
os.close(w)
open("full", "w").close()
open("go").close()
with open("got", "wb") as f:
    while True:
        b = os.read(fd, 1 << 16)
        if not b: break
        f.write(b)
'

# hold_stdout ARGS...: starts the reader above and ipc-sockserve ARGS
# (with -r 3) writing to it; sets pid (the server's) and rpid.
hold_stdout() {
	mkfifo out ready go
	python3 -c "$HOLDREADER" &
	rpid=$!
	bg_track "$rpid"
	ipc-sockserve -r 3 "$@" 3>ready >out 2>err &
	pid=$!
	bg_track "$pid"
	read -r -t 10 addr <ready
}

# A Unix-socket client that sends LINES numbered lines of varied length,
# some longer than a pipe's atomic write, then closes.
FILLER='
import socket, sys
cid, n = sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"".join(b"%s %d %s\n" % (cid.encode(), i, b"x" * (i * 37 % 9000))
    for i in range(n)))
s.close()
'

@test "stdout blocked: clients wait, new ones are accepted, -i runs, lines stay whole and in order" {
	hold_stdout -n 4 -i 1s unix:s.sock
	for c in a b c; do
		python3 -c "$FILLER" s.sock "$c" 400 &
	done
	poll_until 20 test -e full
	# The server is blocked on stdout: it still accepts, and closes a
	# client idle for 1s (the client sees EOF).
	run -0 timeout 20 python3 -c "
import socket, time
s = socket.socket(socket.AF_UNIX); s.connect('s.sock')
t = time.monotonic()
assert s.recv(10) == b''
print(time.monotonic() - t)"
	python3 -c "import sys; assert 0.9 <= float(sys.argv[1]) < 15" "$output"
	: >go
	wait_exit "$pid" 30
	[ "$status" -eq 124 ]     # one connection was closed by -i
	wait "$rpid"
	python3 -c "
import re
seen = {'a': 0, 'b': 0, 'c': 0}
for line in open('got', 'rb').read().split(b'\n')[:-1]:
    m = re.fullmatch(rb'([abc]) (\d+) (x*)', line)
    assert m, line[:80]
    c, i = m.group(1).decode(), int(m.group(2))
    assert i == seen[c] and len(m.group(3)) == i * 37 % 9000, (c, i)
    seen[c] += 1
assert seen == {'a': 400, 'b': 400, 'c': 400}, seen"
}

@test "stdout blocked: SIGTERM ends the server after --grace (143), socket removed (-1 too)" {
	for once in "" -1; do
		rm -f out ready go full got
		hold_stdout $once -v --grace 1s unix:s.sock
		python3 -c "$FILLER" s.sock a 2000 &
		bg_track $!
		poll_until 20 test -e full
		t0=$(date +%s%N)
		kill -TERM "$pid"
		wait_exit "$pid" 10
		[ "$status" -eq 143 ]
		t=$((($(date +%s%N) - t0) / 1000000))
		((t >= 900))           # it waited for the grace period
		[ ! -e s.sock ]
		grep -q 'Terminated: 1 connection to finish' err
		: >go
		wait "$rpid"
	done
}

@test "stdout blocked with -1: the bytes arrive unchanged once it drains" {
	head -c 3000000 /dev/urandom >bin
	hold_stdout -1 unix:s.sock
	python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect('s.sock')
s.sendall(open('bin', 'rb').read()); s.close()" &
	poll_until 20 test -e full
	: >go
	wait_exit "$pid" 20
	[ "$status" -eq 0 ]
	wait "$rpid"
	cmp bin got
}

# Stdout a pipe, a socket or a terminal that nobody reads: SIGTERM still
# ends the server after --grace, and the file description it shares
# with us is left blocking (it reopened or used send(MSG_DONTWAIT)).
SHAREDOUT='
import fcntl, os, pty, select, socket, subprocess, sys, time
kind = sys.argv[1]
if kind == "pipe":
    rd, wr = os.pipe()
elif kind == "socket":
    a, b = socket.socketpair(); rd, wr = a.detach(), b.detach()
else:
    rd, wr = pty.openpty()
rr, rw = os.pipe()
srv = subprocess.Popen(["ipc-sockserve", "--grace", "1s", "-r", str(rw),
    "unix:s.sock"], stdout=wr, pass_fds=[rw])
os.close(rw)
assert os.read(rr, 100) == b"unix:s.sock\n"
c = socket.socket(socket.AF_UNIX); c.connect("s.sock"); c.setblocking(False)
sent, deadline = 0, time.monotonic() + 20
# Send until the server stops taking: it is paused, stdout full.
while select.select([], [c], [], 2)[1]:
    try: sent += c.send(b"y" * 4095 + b"\n")
    except BlockingIOError: pass
    assert time.monotonic() < deadline, "the server never stopped reading"
t = time.monotonic()
srv.send_signal(15)
assert srv.wait(10) == -15
assert 0.9 <= time.monotonic() - t < 10
assert not os.path.exists("s.sock")
assert not fcntl.fcntl(wr, fcntl.F_GETFL) & os.O_NONBLOCK, "O_NONBLOCK left set"
os.set_blocking(rd, False)
got = 0
try:
    while True:
        b = os.read(rd, 1 << 16)
        if not b: break
        got += len(b)
except (BlockingIOError, OSError): pass
assert got < sent, (got, sent)
'

@test "stdout a pipe, socket or terminal not read: --grace still runs; its flags untouched" {
	for kind in pipe socket tty; do
		run -0 timeout 30 python3 -c "$SHAREDOUT" "$kind"
	done
}

@test "-i closes a connection that moved no data" {
	serve_bg ipc-sockserve -i 200ms -r 3 0
	run -0 python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
t = time.monotonic(); s.sendall(b'x\n')
assert s.recv(10) == b''
print(round(time.monotonic() - t, 1))"
	# not before 200 ms of silence, and not never
	[[ "$output" =~ ^[0-9]\.[0-9]$ ]]
	[[ "$output" > 0.1 ]]
	[ "$(cat "$srv_out")" = x ]
}

# send_until_closed ADDR: sends stdin, then waits for the server to close.
send_until_closed() {
	python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read()); assert s.recv(10) == b''" "$(port_of "$1")"
}

@test "-i with -1: the unfinished last line or message is kept, the exit is 124" {
	serve_bg ipc-sockserve -1 -i 300ms -r 3 tcp4:127.0.0.1:0
	printf 'whole\npartial' | send_until_closed "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 124 ]
	[ "$(cat "$srv_out")" = "$(printf 'whole\npartial')" ]
	serve_bg ipc-sockserve -0 -1 -i 300ms -r 3 tcp4:127.0.0.1:0
	printf 'whole\0partial' | send_until_closed "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 124 ]
	cmp "$srv_out" <(printf 'whole\0partial\0')
}

@test "-i with --netstring: a truncated message is reported, never silently lost" {
	serve_bg ipc-sockserve --netstring -1 -i 300ms -r 3 tcp4:127.0.0.1:0
	printf '5:whole,7:par' | send_until_closed "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 1 ]
	[ "$(cat "$srv_out")" = "5:whole," ]
	grep -Eqx 'ipc-sockserve: 127\.0\.0\.1:[0-9]+: truncated netstring \(7 bytes announced, 3 read\), dropped' "$srv_err"
}

# ---- Unix sockets ----

@test "unix: served, mode 0600, removed on exit" {
	serve_bg ipc-sockserve -1 -r 3 unix:s.sock
	[ "$srv_addr" = unix:s.sock ]
	[ "$(stat -c %a s.sock)" = 600 ]
	echo hi | pyclient unix:s.sock
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = hi ]
	[ ! -e s.sock ]
}

@test "unix: --mode is exact whatever the umask; bad --mode uses" {
	umask 077
	serve_bg ipc-sockserve --mode 0666 -r 3 unix:m.sock
	[ "$(stat -c %a m.sock)" = 666 ]
	run -2 ipc-sockserve --mode 0600 unix:@abs
	run -2 ipc-sockserve --mode 0600 0
	run -2 ipc-sockserve --mode 99 unix:x.sock
	[ ! -e x.sock ]
}

@test "unix: removed on SIGTERM, SIGINT and SIGHUP" {
	for s in TERM INT HUP; do
		serve_bg env --default-signal=INT ipc-sockserve -r 3 unix:"$s".sock
		[ -S "$s".sock ]
		kill -"$s" "$srv_pid"
		wait_exit "$srv_pid" 30
		[ "$status" -eq $((128 + $(kill -l "$s"))) ]
		[ ! -e "$s".sock ]
	done
}

@test "nohup: SIGHUP stays ignored, the server goes on; SIGTERM ends it with 143" {
	serve_bg nohup ipc-sockserve -r 3 0
	kill -HUP "$srv_pid"
	echo hi | pyclient "$srv_addr"
	poll_until 30 grep -qx hi "$srv_out"
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 143 ]
}

@test "exec: under nohup the child keeps SIGHUP ignored, SIGTERM and SIGPIPE at default" {
	serve_bg nohup ipc-sockserve -1 -r 3 0 -- grep SigIgn /proc/self/status
	run -0 pyclient "$srv_addr" </dev/null
	ign=$(awk '{print $2}' <<<"$output")
	(( 16#$ign & 1 ))                  # SIGHUP (bit 1-1)
	(( (16#$ign & (1 << 14)) == 0 ))   # SIGTERM (bit 15-1)
	(( (16#$ign & (1 << 12)) == 0 ))   # SIGPIPE (bit 13-1)
}

@test "unix: a path too long is a usage error, nothing created" {
	long=$(printf 'd%.0s' {1..120})
	run -2 --separate-stderr ipc-sockserve "unix:$long"
	[[ "$stderr" == *limit* ]]
	[ ! -e "$long" ]
}

@test "unix: a regular file or directory at the path is left untouched" {
	echo precious >file.sock
	run -1 --separate-stderr ipc-sockserve unix:file.sock
	[[ "$stderr" == *"not a socket"* ]]
	[ "$(cat file.sock)" = precious ]
	mkdir dir.sock
	run -1 ipc-sockserve unix:dir.sock
	[ -d dir.sock ]
}

@test "unix: a stale socket is replaced, a live one and a datagram one refused" {
	python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('stale.sock')"
	[ -S stale.sock ]
	serve_bg ipc-sockserve -1 -r 3 unix:stale.sock
	# A second server finds it live without connecting: the first, which
	# takes one connection only, is still there for the real client.
	run -1 --separate-stderr ipc-sockserve unix:stale.sock
	[[ "$stderr" == *"stale.sock: a server is listening on it" ]]
	[ -S stale.sock ]
	kill -0 "$srv_pid"
	[ ! -s "$srv_err" ]
	echo ok | pyclient unix:stale.sock
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = ok ]
	# a live datagram socket (a stale one is as stale as any)
	exec 5< <(python3 -c "
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind('dg.sock')
print('bound', flush=True); time.sleep(30)" 3>&-)
	read -r _ <&5
	ino=$(stat -c %i dg.sock)
	run -1 --separate-stderr ipc-sockserve unix:dg.sock
	[[ "$stderr" == *datagram* ]]
	[ "$(stat -c %i dg.sock)" = "$ino" ]
	exec 5<&-
}

@test "unix: another user's stale socket is left untouched, even by root" {
	skip_unless_root
	d=$(mktemp -d /tmp/sockserve.XXXXXX)
	chmod 1777 "$d"
	as_nobody /usr/bin/python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$d/s')"
	ino=$(stat -c %i "$d/s")
	run -1 --separate-stderr timeout 30 ipc-sockserve "unix:$d/s"
	[ "$stderr" = "ipc-sockserve: $d/s: a socket of user nobody (uid $(id -u nobody)), not ours (left untouched)" ]
	[ "$(stat -c %i "$d/s")" = "$ino" ]
	# one of ours is still replaced there
	python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$d/t')"
	serve_bg ipc-sockserve -1 -r 3 "unix:$d/t"
	echo ok | pyclient "unix:$d/t"
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = ok ]
	rm -rf "$d"
}

@test "unix: a socket replaced by another server is not removed at exit" {
	serve_bg ipc-sockserve -r 3 unix:r.sock
	first=$srv_pid
	rm r.sock
	serve_bg ipc-sockserve -r 3 unix:r.sock
	ino=$(stat -c %i r.sock)
	kill -TERM "$first"
	wait_exit "$first" 30
	[ "$(stat -c %i r.sock)" = "$ino" ]
}

@test "unix: a peer of another uid is refused, --allow-uid admits it" {
	skip_unless_root
	name=$(uniq_name)
	serve_bg ipc-sockserve -v -1 -r 3 "unix:@$name"
	[ "$srv_addr" = "unix:@$name" ]
	echo intruder | as_nobody /usr/bin/python3 -c "$PYCLIENT" "unix:@$name" || true
	echo root | pyclient "unix:@$name"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = root ]
	grep -q "refused a peer of uid $(id -u nobody)" "$srv_err"
	serve_bg ipc-sockserve -1 --allow-uid nobody -r 3 "unix:@$name"
	echo guest | as_nobody /usr/bin/python3 -c "$PYCLIENT" "unix:@$name"
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = guest ]
}

@test "unix: --peer names the client by pid" {
	serve_bg ipc-sockserve --peer -1 -r 3 unix:p.sock
	run -0 python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.connect('p.sock')
s.sendall(b'me\n'); s.shutdown(socket.SHUT_WR); s.recv(1); print(os.getpid())"
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = "$(printf 'pid=%s\tme' "$output")" ]
}

# ---- exec mode ----

@test "exec: the UCSPI environment over TCP and Unix" {
	export UNIXREMOTEPID=stale TCPREMOTEHOST=stale
	serve_bg ipc-sockserve -1 -r 3 tcp4:127.0.0.1:0 -- sh -c \
	    'echo "$PROTO $TCPREMOTEIP $TCPLOCALIP:$TCPLOCALPORT ${UNIXREMOTEPID-unset} ${TCPREMOTEHOST-unset}"'
	run -0 pyclient "$srv_addr" </dev/null
	[ "$output" = "TCP 127.0.0.1 $srv_addr unset unset" ]
	serve_bg ipc-sockserve -1 -r 3 unix:e.sock -- sh -c \
	    'echo "$PROTO $UNIXREMOTEEUID $UNIXREMOTEEGID ${TCPREMOTEIP-unset}"'
	run -0 pyclient unix:e.sock </dev/null
	[ "$output" = "UNIX $(id -u) $(id -g) unset" ]
}

@test "exec: a client's half-close reaches sort, whose answer arrives whole" {
	serve_bg ipc-sockserve -r 3 0 -- sort
	run -0 pyclient "$srv_addr" < <(seq 20000 -1 1)
	[ "$output" = "$(seq 1 20000 | sort)" ]
	run -0 pyclient "${srv_addrs[1]}" < <(printf 'b\na\n')
	[ "$output" = "$(printf 'a\nb')" ]
}

@test "exec: the child sees none of our descriptors and default signals" {
	serve_bg run_clean ipc-sockserve -r 3 0 -- sh -c \
	    'cd /proc/self/fd && echo *; grep -E "^Sig(Ign|Blk)" /proc/self/status'
	# a second client is connected meanwhile
	exec 5< <(python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
print('held', flush=True); time.sleep(30)" 3>&-)
	read -r _ <&5
	run -0 pyclient "$srv_addr" </dev/null
	# 3 is the directory the shell's glob reads
	[ "${lines[0]}" = "0 1 2 3" ]
	[[ "${lines[1]}" == SigBlk:*0000000000000000 ]]
	# SIGPIPE (bit 13) is not ignored. Other ignored signals pass through
	# as the shell convention wants (make, for one, ignores 32 and 33).
	[[ "${lines[2]}" == SigIgn:* ]]
	ign=$(echo "${lines[2]}" | awk '{print $2}')
	(( (0x$ign >> 12 & 1) == 0 ))
	exec 5<&-
}

@test "exec: SIGPIPE is default in the child (yes | head ends)" {
	serve_bg ipc-sockserve -1 -r 3 0 -- sh -c 'yes | head -1'
	run -0 timeout 60 python3 -c "$PYCLIENT" "$srv_addr" </dev/null
	[ "$output" = y ]
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ ! -s "$srv_err" ]
}

@test "exec: -1 passes the child's status through" {
	serve_bg ipc-sockserve -1 -r 3 0 -- sh -c 'exit 42'
	pyclient "$srv_addr" </dev/null
	wait_exit "$srv_pid" 30
	[ "$status" -eq 42 ]
}

@test "exec: a COMMAND that cannot run fails at start: 127 not found, 126 a directory" {
	run -127 --separate-stderr timeout 30 ipc-sockserve 0 -- no-such-command-xyz
	[ "$stderr" = "ipc-sockserve: no-such-command-xyz: command not found" ]
	run -127 --separate-stderr timeout 30 ipc-sockserve unix:m.sock -- /no/such/cmd
	[ "$stderr" = "ipc-sockserve: /no/such/cmd: No such file or directory" ]
	[ ! -e m.sock ]
	mkdir -p dir a/tool b
	run -126 --separate-stderr timeout 30 ipc-sockserve 0 -- ./dir
	[ "$stderr" = "ipc-sockserve: ./dir: Is a directory" ]
	# On PATH, as execvp: a directory or a file we may not run is passed
	# over, and reported only when nothing runnable comes later.
	run -126 --separate-stderr env PATH="$PWD/a:$PATH" timeout 30 ipc-sockserve 0 -- tool
	[ "$stderr" = "ipc-sockserve: $PWD/a/tool: Is a directory" ]
	printf '#!/bin/sh\necho "from $1"\n' >b/tool
	run -126 --separate-stderr env PATH="$PWD/b:$PATH" timeout 30 ipc-sockserve 0 -- tool
	[ "$stderr" = "ipc-sockserve: $PWD/b/tool: Permission denied" ]
	chmod 755 b/tool
	serve_bg env PATH="$PWD/a:$PWD/b:$PATH" ipc-sockserve -1 -r 3 0 -- tool b
	run -0 pyclient "$srv_addr" </dev/null
	[ "$output" = "from b" ]
	# An empty PATH entry is the current directory, as for execvp.
	cd b
	serve_bg env PATH="/usr/bin::/bin" "$IPC_BIN/ipc-sockserve" -1 -r 3 0 -- tool cwd
	run -0 pyclient "$srv_addr" </dev/null
	[ "$output" = "from cwd" ]
}

@test "exec: no zombies after many connections; -c caps them" {
	serve_bg ipc-sockserve -C 3 -r 3 tcp4:127.0.0.1:0 -- cat
	python3 -c "
import socket
for i in range(150):
    s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
    s.sendall(b'x'); s.shutdown(socket.SHUT_WR)
    assert s.recv(10) == b'x'
    s.close()"
	no_zombie() { ! ps --ppid "$srv_pid" -o stat= | grep -q Z; }
	poll_until 30 no_zombie
	[ "$(ps --ppid "$srv_pid" -o pid= | wc -l)" -eq 0 ]
}

@test "exec: -i over a Unix socket is a usage error pointing to timeout(1)" {
	run -2 --separate-stderr ipc-sockserve -i 1s unix:i.sock -- cat
	[[ "$stderr" == *"is for TCP"*"timeout(1)"* ]]
	[ ! -e i.sock ]
}

# idle_client PORT: connects, sends nothing, prints the seconds until the
# server ends the connection (EOF), bounded by 60 s.
idle_client() {
	python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
t = time.monotonic(); s.settimeout(60)
assert s.recv(10) == b''
print(round(time.monotonic() - t, 1))" "$1"
}

@test "exec -i: a connection idle for DUR is ended, busy ones are served" {
	serve_bg ipc-sockserve -v -i 2s -r 3 tcp4:127.0.0.1:0 -- cat
	port=$(port_of "$srv_addr")
	idle_client "$port" >idle.out &
	bg_track $!
	# A client that sends a little every 0.2 s for longer than DUR is
	# never idle: it gets all of it back.
	run -0 python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $port)); s.settimeout(60)
for i in range(15):
    s.sendall(b'%d\n' % i); time.sleep(0.2)
s.shutdown(socket.SHUT_WR)
got = []
while True:
    b = s.recv(65536)
    if not b: break
    got.append(b)
print(b''.join(got).decode().split() == [str(i) for i in range(15)])"
	[ "$output" = True ]
	poll_until 60 test -s idle.out
	# not before 2 s of silence
	[[ "$(cat idle.out)" =~ ^[0-9]+\.[0-9]$ ]]
	[[ "$(cat idle.out)" > 1.8 ]]
	grep -Eq '^ipc-sockserve: pid [0-9]+: connection idle, ended$' "$srv_err"
}

@test "exec -i with -C 1: an idle connection no longer locks out the next client" {
	serve_bg ipc-sockserve -C 1 -i 1s -r 3 tcp4:127.0.0.1:0 -- cat
	port=$(port_of "$srv_addr")
	idle_client "$port" >idle.out &
	bg_track $!
	one_child() { [ "$(ps --ppid "$srv_pid" -o pid= | wc -l)" -eq 1 ]; }
	poll_until 30 one_child
	# waits in the backlog until the idle one is ended, then is served
	run -0 timeout 60 python3 -c "$PYCLIENT" "$srv_addr" <<<next
	[ "$output" = next ]
	poll_until 60 test -s idle.out
}

@test "exec -i with -1: the idle-ended child makes the exit 124; SIGKILL after --grace" {
	serve_bg ipc-sockserve -1 -i 300ms -r 3 tcp4:127.0.0.1:0 -- cat
	idle_client "$(port_of "$srv_addr")"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 124 ]
	# A child that ignores SIGTERM is killed --grace later.
	serve_bg ipc-sockserve -v -1 -i 300ms --grace 300ms -r 3 tcp4:127.0.0.1:0 -- \
	    sh -c "trap '' TERM; exec sleep 60"
	idle_client "$(port_of "$srv_addr")"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 124 ]
	grep -Eq '^ipc-sockserve: pid [0-9]+: still there after --grace, killed$' "$srv_err"
}

# ---- connections per source ----

# three_from_one ADDRESS OUTFILE: two clients connect and send a line
# (kept open until OUTFILE shows both lines, so both were taken), then a
# third; prints what the third reads: nothing (EOF) when it was closed.
THREE='
import socket, sys, time
def conn(a):
    if a.startswith("unix:"):
        p = a[5:]
        if p.startswith("@"): p = "\0" + p[1:]
        s = socket.socket(socket.AF_UNIX); s.connect(p); return s
    h, port = a.rsplit(":", 1)
    return socket.create_connection((h, int(port)))
a, out = sys.argv[1], sys.argv[2]
held = []
for w in (b"one\n", b"two\n"):
    s = conn(a); s.sendall(w); held.append(s)
end = time.monotonic() + 30
while open(out, "rb").read().count(b"\n") < 2:
    assert time.monotonic() < end, "the first two were not served"
    time.sleep(0.02)
third = conn(a); third.settimeout(30)
print("third:", third.recv(10))
for s in held: s.close()
'

@test "--max-per-source 2: a third client from 127.0.0.1 is closed at once (print mode)" {
	serve_bg ipc-sockserve -v --max-per-source 2 -n 3 -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "$THREE" "$srv_addr" "$srv_out"
	[ "$output" = "third: b''" ]
	# The closed one did not count toward -n: this is the third (from
	# another address, which has a count of its own).
	python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")),
    source_address=('127.0.0.2', 0))
s.sendall(b'three\n'); s.shutdown(socket.SHUT_WR); s.settimeout(30)
assert s.recv(10) == b''"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(sort "$srv_out")" = "$(printf 'one\nthree\ntwo')" ]
	grep -Eq '^ipc-sockserve: 127\.0\.0\.1:[0-9]+: closed: 2 connections from its address already \(--max-per-source\)$' "$srv_err"
}

@test "--max-per-source 2 in exec mode: the third is closed, a slot frees when a child ends" {
	# -i keeps the connection in the server until its child is reaped, so
	# a client's EOF means its slot is free again.
	serve_bg ipc-sockserve -v --max-per-source 2 -i 60s -r 3 tcp4:127.0.0.1:0 -- cat
	run -0 python3 -c "
import socket
a = ('127.0.0.1', $(port_of "$srv_addr"))
def echo(s, w):
    s.sendall(w); assert s.recv(10) == w
c1 = socket.create_connection(a); c1.settimeout(30); echo(c1, b'one')
c2 = socket.create_connection(a); c2.settimeout(30); echo(c2, b'two')
c3 = socket.create_connection(a); c3.settimeout(30)
print('third:', c3.recv(10))
c1.shutdown(socket.SHUT_WR); assert c1.recv(10) == b''
c4 = socket.create_connection(a); c4.settimeout(30); echo(c4, b'four')
print('fourth served')"
	[ "$output" = "$(printf "third: b''\nfourth served")" ]
	[ "$(grep -c 'closed: 2 connections from its address already' "$srv_err")" -eq 1 ]
}

@test "--max-per-source over Unix counts per uid" {
	skip_unless_root
	name=$(uniq_name)
	serve_bg ipc-sockserve -v --max-per-source 2 --allow-uid any -r 3 "unix:@$name"
	run -0 python3 -c "$THREE" "unix:@$name" "$srv_out"
	[ "$output" = "third: b''" ]
	grep -Eq "^ipc-sockserve: uid 0 \(pid [0-9]+\): closed: 2 connections from its uid already" "$srv_err"
	# another uid has its own count
	echo guest | as_nobody /usr/bin/python3 -c "$PYCLIENT" "unix:@$name"
	poll_until 30 grep -qx guest "$srv_out"
	run -2 --separate-stderr ipc-sockserve --max-per-source 2 udp:0
	[[ "$stderr" == *"udp: has none"* ]]
}

# ---- signals ----

@test "SIGTERM wakes an idle server at once" {
	serve_bg ipc-sockserve -r 3 0
	start=$SECONDS
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 143 ]
}

@test "SIGTERM lets a connection finish within --grace, then the server dies of it" {
	serve_bg ipc-sockserve --grace 10s -r 3 tcp4:127.0.0.1:0
	# The client sends "late" only when told, after the SIGTERM.
	mkfifo go
	exec 5< <(python3 -c "
import socket, time, sys
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
s.sendall(b'early\n'); print('sent', flush=True)
sys.stdin.readline()
s.sendall(b'late\n'); s.recv(1)" <go)
	exec 6>go
	read -r _ <&5
	poll_until 30 lines_in "$srv_out" 1
	kill -TERM "$srv_pid"
	# no longer accepting
	poll_until 30 sh -c "! nc -z 127.0.0.1 $(port_of "$srv_addr")"
	echo go >&6
	exec 6>&-
	poll_until 30 lines_in "$srv_out" 2
	kill -0 "$srv_pid"
	# the grace period ends the wait for the client, which stays open
	wait_exit "$srv_pid" 30
	[ "$status" -eq 143 ]
	[ "$(cat "$srv_out")" = "$(printf 'early\nlate')" ]
	exec 5<&-
}

@test "a second signal ends the grace period at once" {
	serve_bg env --default-signal=INT ipc-sockserve -v --grace 20s -r 3 0 -- sleep 30
	exec 5< <(pyclient "$srv_addr" </dev/null)
	poll_until 30 sh -c "ps --ppid $srv_pid -o pid= | grep -q ."
	kill -INT "$srv_pid"
	poll_until 30 grep -q "to finish" "$srv_err"
	kill -0 "$srv_pid"
	kill -INT "$srv_pid"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 130 ]
	exec 5<&-
}

# ---- descriptors running out ----

@test "ulimit -n 64 and 200 connections: no spin, serves again after" {
	# ASan's runtime holds descriptors of its own: give it a higher limit
	# and as many more connections, so the server still runs out.
	local lim=64 n=200
	[ -z "${IPC_ASAN:-}" ] || { lim=256; n=500; }
	ipc-sockserve_limited() { ulimit -n "$lim"; exec ipc-sockserve "$@"; }
	serve_bg ipc-sockserve_limited -C 1000 -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "
import socket, time
port = $(port_of "$srv_addr")
def cpu():
    f = open('/proc/$srv_pid/stat').read().split(')')[1].split()
    return int(f[11]) + int(f[12])
held = [socket.create_connection(('127.0.0.1', port)) for _ in range($n)]
for s in held: s.sendall(b'held\n')
time.sleep(0.3); c0 = cpu(); time.sleep(1); print(cpu() - c0)
for s in held: s.close()
s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'after\n'); s.close()"
	[ "$output" -le 10 ]    # clock ticks in one second: not spinning
	poll_until 30 grep -q after "$srv_out"
	poll_until 30 lines_in "$srv_out" $((n + 1))
	grep -q "Too many open files" "$srv_err"
	# the default cap (limit less 32) never hits EMFILE
	serve_bg ipc-sockserve_limited -r 3 tcp4:127.0.0.1:0
	python3 -c "
import socket
port = $(port_of "$srv_addr")
held = [socket.create_connection(('127.0.0.1', port)) for _ in range($n)]
for s in held: s.sendall(b'x\n'); s.close()"
	poll_until 30 lines_in "$srv_out" "$n"
	[ ! -s "$srv_err" ]
}

# ---- UDP and framing ----

@test "udp: each datagram one line, no second newline; --peer; -n" {
	serve_bg ipc-sockserve -n 3 -r 3 udp4:127.0.0.1:0
	[[ "$srv_addr" == udp:127.0.0.1:* ]]
	python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b'one', b'two\n', b''): s.sendto(m, ('127.0.0.1', $(port_of "$srv_addr")))"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out"; echo .)" = "$(printf 'one\ntwo\n\n.')" ]
	serve_bg ipc-sockserve --peer -0 -1 -r 3 udp4:127.0.0.1:0
	run -0 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'dg', ('127.0.0.1', $(port_of "$srv_addr"))); print(s.getsockname()[1])"
	wait_exit "$srv_pid" 30
	[ "$(tr '\0' '|' <"$srv_out")" = "$(printf '127.0.0.1:%s\tdg|' "$output")" ]
	# no connections to wait for: SIGTERM ends it at once
	serve_bg ipc-sockserve -r 3 udp:0
	kill -TERM "$srv_pid"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 143 ]
}

@test "--len32 talks to Python's multiprocessing.connection.Client" {
	serve_bg ipc-sockserve -1 --len32 -r 3 tcp4:127.0.0.1:0
	python3 -c "
from multiprocessing.connection import Client
c = Client(('127.0.0.1', $(port_of "$srv_addr")))
c.send_bytes(b'hello'); c.send_bytes(b'two words'); c.send_bytes(b''); c.close()"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out"; echo .)" = "$(printf 'hello\ntwo words\n\n.')" ]
	serve_bg ipc-sockserve -1 --len32 --netstring -r 3 unix:l.sock
	python3 -c "
from multiprocessing.connection import Client
c = Client('l.sock'); c.send_bytes(b'a,b'); c.close()"
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = "3:a,b," ]
}

@test "--len32: a truncated frame is reported, not printed" {
	serve_bg ipc-sockserve -1 --len32 -r 3 tcp4:127.0.0.1:0
	printf '\0\0\0\011abc' | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	# the one connection's data was not delivered: -1 says so
	[ "$status" -eq 1 ]
	[ ! -s "$srv_out" ]
	grep -Eqx 'ipc-sockserve: 127\.0\.0\.1:[0-9]+: truncated len32 frame \(9 bytes announced, 3 read\)' "$srv_err"
}

# LEN32SEND PORT MSG...: one TCP client sending each MSG (Python bytes
# literals) as a len32 frame; prints its own port.
LEN32SEND='
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1])
for a in sys.argv[2:]:
    m = eval(a)
    s.sendall(struct.pack("!i", len(m)) + m)
s.close()'

@test "--peer --len32: a frame with a newline inside is dropped, never a forged line" {
	serve_bg ipc-sockserve --peer -1 --len32 -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "$LEN32SEND" "$(port_of "$srv_addr")" \
	    "b'ok\n10.9.8.7:4444\tFORGED'" "b'good'"
	wait_exit "$srv_pid" 5
	# the connection's data was not all delivered: -1 says so
	[ "$status" -eq 1 ]
	! grep -q '^10\.9\.8\.7' "$srv_out"
	[ "$(cat "$srv_out")" = "$(printf '127.0.0.1:%s\tgood' "$output")" ]
	[ "$(cat "$srv_err")" = "ipc-sockserve: 127.0.0.1:$output: message dropped: 23 bytes with a newline inside (at byte 3) would print as 2 lines; --netstring carries any bytes" ]
	# --netstring carries the same frame intact
	serve_bg ipc-sockserve --peer -1 --len32 --netstring -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "$LEN32SEND" "$(port_of "$srv_addr")" \
	    "b'ok\n10.9.8.7:4444\tFORGED'"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 0 ]
	pre=$(printf '127.0.0.1:%s\t' "$output")
	[ "$(cat "$srv_out")" = "$((${#pre} + 23)):${pre}$(printf 'ok\n10.9.8.7:4444\tFORGED,')" ]
	[ ! -s "$srv_err" ]
}

@test "--len32 -0: a frame with a NUL inside is dropped; a trailing newline too" {
	serve_bg ipc-sockserve -n 2 --len32 -0 -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "$LEN32SEND" "$(port_of "$srv_addr")" \
	    "b'a\0b'" "b'two\nlines'"
	run -0 python3 -c "$LEN32SEND" "$(port_of "$srv_addr")" "b'end\n'"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 1 ]
	[ "$(tr '\0' '|' <"$srv_out")" = "two
lines|end
|" ]
	grep -q 'message dropped: 3 bytes with a NUL inside (at byte 2) would print as 2 NUL-terminated records; --netstring carries any bytes$' "$srv_err"
	[ "$(wc -l <"$srv_err")" -eq 1 ]
	# in line output a frame's own trailing newline would be an empty line
	serve_bg ipc-sockserve -1 --len32 -r 3 tcp4:127.0.0.1:0
	run -0 python3 -c "$LEN32SEND" "$(port_of "$srv_addr")" "b'x\n'" "b'y'"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 1 ]
	[ "$(cat "$srv_out")" = "y" ]
	grep -q ': message dropped: 2 bytes with a newline inside (at byte 2) would print as 2 lines' "$srv_err"
}

@test "udp: a datagram with a newline inside (-0: a NUL) is dropped with a note" {
	serve_bg ipc-sockserve --peer -n 4 -r 3 udp4:127.0.0.1:0
	run -0 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])
for m in (b'ok\n10.9.8.7:4444\tFORGED', b'good\n', b'a\n\n', b'last'):
    s.sendto(m, ('127.0.0.1', $(port_of "$srv_addr")))"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 1 ]
	[ "$(cat "$srv_out")" = "$(printf '127.0.0.1:%s\tgood\n127.0.0.1:%s\tlast' "$output" "$output")" ]
	# the trailing newline is the line's own; the one before it is not
	[ "$(cat "$srv_err")" = "ipc-sockserve: 127.0.0.1:$output: message dropped: 23 bytes with a newline inside (at byte 3) would print as 2 lines; --netstring carries any bytes
ipc-sockserve: 127.0.0.1:$output: message dropped: 3 bytes with a newline inside (at byte 2) would print as 2 lines; --netstring carries any bytes" ]
	serve_bg ipc-sockserve -0 -n 2 -r 3 udp4:127.0.0.1:0
	run -0 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b'x\0y\0z', b'ok\n'): s.sendto(m, ('127.0.0.1', $(port_of "$srv_addr")))"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 1 ]
	[ "$(tr '\0' '|' <"$srv_out")" = "ok
|" ]
	grep -Eqx 'ipc-sockserve: 127\.0\.0\.1:[0-9]+: message dropped: 5 bytes with 2 NULs inside \(the first at byte 2\) would print as 3 NUL-terminated records; --netstring carries any bytes' "$srv_err"
	# --netstring carries such datagrams intact
	serve_bg ipc-sockserve --netstring -1 -r 3 udp4:127.0.0.1:0
	python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'a\nb\0c', ('127.0.0.1', $(port_of "$srv_addr")))"
	wait_exit "$srv_pid" 5
	[ "$status" -eq 0 ]
	[ "$(tr '\0' '|' <"$srv_out")" = "5:a
b|c," ]
}

@test "-0: NUL-terminated messages are printed whole" {
	serve_bg ipc-sockserve -0 -n 2 -r 3 0
	printf 'a\0b c\0' | pyclient "$srv_addr"
	printf 'last' | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$(tr '\0' '|' <"$srv_out")" = "a|b c|last|" ]
}

@test "--max-message: a message of the limit is printed, one byte more ends its connection" {
	serve_bg ipc-sockserve -0 -n 2 --max-message 10 -r 3 0
	printf '0123456789\0' | pyclient "$srv_addr"
	printf '0123456789A\0' | pyclient "$srv_addr" || true
	wait_exit "$srv_pid" 30
	[ "$status" -eq 1 ]
	[ "$(tr '\0' '|' <"$srv_out")" = "0123456789|" ]
	grep -q 'over the limit of 10' "$srv_err"
}

@test "--max-held and --max-message: usage errors" {
	run -2 --separate-stderr ipc-sockserve --max-held 1M 0 -- cat
	[[ "$stderr" == "ipc-sockserve: --max-held and --max-message are for print mode"* ]]
	run -2 --separate-stderr ipc-sockserve --max-held 1M --max-message 2M 0
	[[ "$stderr" == "ipc-sockserve: --max-message: 2097152 bytes are more than --max-held (1048576 bytes) can hold"* ]]
	run -2 --separate-stderr ipc-sockserve --max-held 1Q 0
	[[ "$stderr" == *"--max-held"* ]]
}

@test "--max-held: the client that would pass the budget is dropped, the others are served" {
	serve_bg ipc-sockserve -v -0 -n 3 --max-held 1M -r 3 0
	# Two clients each send 600,000 bytes of a message they do not end:
	# one of them (whichever the server reads second) would take the
	# budget past 1 MiB and is dropped; the other then ends its message.
	timeout 60 python3 - "$srv_addr" <<-'EOF'
	import select, socket, sys
	host, port = sys.argv[1].rsplit(':', 1)
	a = socket.create_connection((host, int(port)))
	b = socket.create_connection((host, int(port)))
	a.sendall(b'a' * 600000)
	b.sendall(b'b' * 600000)
	def dropped(s):
	    try:
	        return s.recv(1) == b''
	    except ConnectionResetError:
	        return True
	r, _, _ = select.select([a, b], [], [], 50)
	assert len(r) == 1, r
	assert dropped(r[0])
	keep = b if r[0] is a else a
	keep.sendall(b'\0')
	keep.close()
	EOF
	# once the survivor's message is out, its memory is free again
	poll_until 30 size_is "$srv_out" 600001
	printf 'c\0' | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 1 ]
	python3 -c '
d = open("'"$srv_out"'", "rb").read().split(b"\0")
assert d[1:] == [b"c", b""], d[1:]
assert d[0] in (b"a" * 600000, b"b" * 600000), len(d[0])'
	grep -q 'dropped: it would take the memory held for clients past --max-held (1048576 bytes)' "$srv_err"
}

# ---- broadcast ----

@test "--broadcast: stdin lines reach every client, then EOF" {
	mkfifo in
	exec 6<>in
	# (a background job's stdin is /dev/null unless redirected there)
	serve_bg run_clean sh -c 'exec "$@" <in' sh ipc-sockserve -b -r 3 0
	for i in 1 2; do
		python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
s.sendall(b'hello $i\n')
out = bytearray()
while True:
    b = s.recv(100)
    if not b: break
    out.extend(b)
sys.stdout.buffer.write(out)" >got$i 6>&- &
		bg_track $!
	done
	poll_until 30 lines_in "$srv_out" 2
	printf 'news\nmore news\n' >&6
	exec 6>&-
	poll_until 30 test -s got2 || { cat "$srv_err" got1 got2; false; }
	poll_until 30 test -s got1
	[ "$(cat got1)" = "$(printf 'news\nmore news')" ]
	[ "$(cat got2)" = "$(printf 'news\nmore news')" ]
	[ "$(sort "$srv_out")" = "$(printf 'hello 1\nhello 2')" ]
}

@test "--broadcast: a client 1 MiB behind is dropped, the others get all" {
	mkfifo in
	exec 6<>in
	serve_bg run_clean sh -c 'exec "$@" <in' sh ipc-sockserve -v -b -r 3 0
	port=$(port_of "$srv_addr")
	python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $port)); s.sendall(b'fast\n')
n = 0
while True:
    b = s.recv(1 << 16)
    if not b: break
    n += len(b)
print(n)" >fast 6>&- &
	bg_track $!
	python3 -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b'slow\n'); time.sleep(60)" 6>&- &
	bg_track $!
	poll_until 30 lines_in "$srv_out" 2
	yes 0123456789abcdefghijklmnopqrstuvwxyz | head -n 400000 >&6
	exec 6>&-
	poll_until 30 test -s fast
	[ "$(cat fast)" -eq $((400000 * 37)) ] || { cat fast "$srv_err"; false; }
	grep -q "1 MiB behind" "$srv_err"
}

@test "-c caps concurrent print-mode clients; the next waits in the backlog" {
	serve_bg ipc-sockserve -C 1 -n 2 -r 3 tcp4:127.0.0.1:0
	port=$(port_of "$srv_addr")
	mkfifo hold
	exec 7<>hold
	python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $port)); s.sendall(b'first\n')
sys.stdin.readline(); s.close()" <hold 7>&- &
	bg_track $!
	poll_until 30 lines_in "$srv_out" 1
	echo second | pyclient "$srv_addr" 7>&- &
	# the second connection waits, unaccepted, in the listener's queue
	queued() { [ "$(ss -Hltn "sport = :$port" | awk '{print $2}')" = 1 ]; }
	poll_until 30 queued
	[ "$(cat "$srv_out")" = first ]
	echo done >&7
	exec 7>&-
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = "$(printf 'first\nsecond')" ]
}

@test "option errors: a closed --ready-fd, an unknown user, exec-only conflicts" {
	run -2 --separate-stderr ipc-sockserve -r 77 0
	[[ "$stderr" == *"ready-fd 77"* ]]
	run -2 --separate-stderr bash -c 'timeout 60 ipc-sockserve -r 5 0 5</dev/null'
	[[ "$stderr" == *"--ready-fd 5: not open for writing"* ]]
	run -2 --separate-stderr ipc-sockserve --allow-uid no-such-user-xyz unix:@x
	[[ "$stderr" == *no-such-user-xyz* ]]
	run -2 ipc-sockserve --peer 0 -- cat
	run -2 ipc-sockserve -b udp:0
	run -2 ipc-sockserve -n -1 0
	run -2 ipc-sockserve -C -1 0
	run -2 ipc-sockserve --grace soon 0
	run -2 ipc-sockserve
}

@test "command line: options may follow ADDRESS; after -- every word is COMMAND's" {
	serve_bg ipc-sockserve 127.0.0.1:0 -1 --ready-fd=3
	echo hi | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = hi ]
	serve_bg ipc-sockserve -1 127.0.0.1:0 -r 3 -- echo -v -r 3
	run -0 pyclient "$srv_addr" </dev/null
	[ "$output" = "-v -r 3" ]
	run -2 --separate-stderr ipc-sockserve 0 cat
	[ "${stderr%%$'\n'*}" = "ipc-sockserve: extra operand 'cat' (a COMMAND goes after --)" ]
	run -2 --separate-stderr ipc-sockserve --count -1 0
	[ "${stderr%%$'\n'*}" = "ipc-sockserve: --count: '-1' is out of range (0 to 9223372036854775807)" ]
}

@test "exit 0 of -n: a killed client's FIN looks like an end in line mode, not with --netstring" {
	# What status 0 promises: every client ended with an orderly close.
	# A client killed mid-line ends with one too (the kernel closes its
	# socket): in line or -0 mode its bytes are a last line; only a
	# length-framed message shows it was cut short.
	killed_client() {
		python3 -c "
import os, signal, socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(sys.argv[2].encode()); os.kill(os.getpid(), signal.SIGKILL)" "$(port_of "$srv_addr")" "$1" || true
	}
	serve_bg ipc-sockserve -n 1 -r 3 tcp4:127.0.0.1:0
	killed_client $'whole\npart'
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat "$srv_out")" = "$(printf 'whole\npart')" ]
	serve_bg ipc-sockserve --netstring -n 1 -r 3 tcp4:127.0.0.1:0
	killed_client '5:whole,7:par'
	wait_exit "$srv_pid" 30
	[ "$status" -eq 1 ]
	[ "$(cat "$srv_out")" = "5:whole," ]
}

@test "a client that resets mid-stream ends only its own connection" {
	serve_bg ipc-sockserve -v -n 2 -r 3 tcp4:127.0.0.1:0
	python3 -c "
import socket, struct
s = socket.create_connection(('127.0.0.1', $(port_of "$srv_addr")))
s.sendall(b'whole line\npartial')
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()"
	echo after | pyclient "$srv_addr"
	wait_exit "$srv_pid" 30
	# served on, but a connection failed: non-zero at the end of -n
	[ "$status" -eq 1 ]
	grep -qx 'whole line' "$srv_out"
	grep -qx after "$srv_out"
	grep -Eq '^ipc-sockserve: 127\.0\.0\.1:[0-9]+: Connection reset by peer$' "$srv_err"
}

@test "0 is an amount: -n 0 serves none; -i 0 closes a connection at its first idle moment" {
	serve_bg ipc-sockserve -n 0 -r 3 tcp4:127.0.0.1:0
	wait_exit "$srv_pid" 30
	[ "$status" -eq 0 ]
	serve_bg ipc-sockserve -i 0 -r 3 tcp4:127.0.0.1:0
	# It sends nothing and keeps its end open: only the server's idle
	# limit can close it (idle_client fails unless it sees that close).
	run -0 idle_client "$(port_of "$srv_addr")"
	kill -0 "$srv_pid"
}

@test "timeout: an exit 124 after -i says why on stderr, in one line" {
	serve_bg ipc-sockserve -1 -i 200ms -r 3 tcp4:127.0.0.1:0
	# It sends nothing and keeps its end open: only the server's idle
	# limit can close it (idle_client fails unless it sees that close).
	run -0 idle_client "$(port_of "$srv_addr")"
	wait_exit "$srv_pid" 30
	[ "$status" -eq 124 ]
	[ "$(cat "$srv_err")" = "ipc-sockserve: 1 connection(s) closed after 200ms idle (-i)" ]
}
