#!/usr/bin/env bats
# ipc-sockcat against real servers: python3 sockets and
# multiprocessing.connection, OpenBSD nc, socat.
bats_require_minimum_version 1.5.0
# Every test here is bounded; set at file level, bats reads it before a test starts.
BATS_TEST_TIMEOUT=90

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}
teardown() {
	kill_servers
	if [ -f "$BATS_TEST_TMPDIR/dir" ]; then rm -rf "$(cat "$BATS_TEST_TMPDIR/dir")"; fi
}

# pyserve [AF] [ADDR] CODE: a python3 server listening on port 0 (or a Unix
# path/abstract name); it prints its ADDRESS on fd 3 (serve_bg waits for
# it), accepts one connection as `c` and runs CODE.
pyserve() {
	local fam=INET addr="('127.0.0.1', 0)"
	case $1 in INET6) fam=INET6 addr="('::1', 0)"; shift ;;
	UNIX) fam=UNIX addr="'$2'"; shift 2 ;; esac
	cat >server.py <<-EOF
	import hashlib, os, socket, struct, sys, threading, time
	s = socket.socket(socket.AF_$fam)
	s.bind($addr)
	s.listen(8)
	a = s.getsockname()
	if isinstance(a, bytes): a = 'unix:@' + a[1:].decode()
	elif isinstance(a, str): a = 'unix:' + a
	elif ':' in a[0]: a = '[%s]:%d' % a[:2]
	else: a = '%s:%d' % a
	os.write(3, (a + '\n').encode()); os.close(3)
	c, _ = s.accept()
	def readall():
	    # a list joined once: growing bytes with += is quadratic
	    parts = []
	    while True:
	        b = c.recv(1 << 16)
	        if not b: return b''.join(parts)
	        parts.append(b)
	$1
	EOF
	serve_bg python3 server.py
}

@test "relays stdin to the server and the reply to stdout, binary-safe" {
	pyserve 'c.sendall(readall()); c.close()'
	printf 'a\0b\nlast line without newline' >in
	ipc-sockcat "$srv_addr" <in >out 2>err
	cmp in out
	[ ! -s err ]
}

@test "a server that answers only after EOF: the whole reply arrives" {
	pyserve 'd = readall(); time.sleep(0.1); c.sendall(d[::-1] * 1000); c.close()'
	printf 'hello' >in
	ipc-sockcat "$srv_addr" <in >out
	python3 -c 'import sys; assert open("out","rb").read() == b"olleh" * 1000'
}

@test "10 MB each way at once: no deadlock, nothing lost" {
	head -c 10000000 /dev/urandom >in
	head -c 10000000 /dev/urandom >reply
	pyserve '
def send():
    c.sendall(open("reply", "rb").read()); c.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
open("got", "wb").write(readall()); t.join(); c.close()'
	ipc-sockcat "$srv_addr" <in >out
	wait_exit "$srv_pid" 30
	[ "$(sha256sum <out)" = "$(sha256sum <reply)" ]
	[ "$(sha256sum <got)" = "$(sha256sum <in)" ]
}

@test "IPv6 literal [::1]:PORT and tcp6:" {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' ||
		skip "no IPv6 loopback"
	pyserve INET6 'c.sendall(readall().upper()); c.close()'
	[[ "$srv_addr" == "[::1]:"* ]]
	run -0 ipc-sockcat -m six "$srv_addr"
	[ "$output" = SIX ]
	pyserve INET6 'c.sendall(readall().upper()); c.close()'
	run -0 ipc-sockcat -m six "tcp6:$srv_addr"
	[ "$output" = SIX ]
}

@test "PORT alone means localhost: both families tried in order" {
	pyserve 'c.sendall(readall()); c.close()'
	run -0 ipc-sockcat -m hi "$(port_of "$srv_addr")"
	[ "$output" = hi ]
}

@test "Unix socket by path and by abstract name" {
	pyserve UNIX "$BATS_TEST_TMPDIR/s.sock" 'c.sendall(readall()[::-1]); c.close()'
	[ "$srv_addr" = "unix:$BATS_TEST_TMPDIR/s.sock" ]
	run -0 ipc-sockcat -m abc "$BATS_TEST_TMPDIR/s.sock"
	[ "$output" = "$(printf '\ncba')" ]
	name=$(uniq_name sockcat)
	pyserve UNIX "\0$name" 'c.sendall(readall()[::-1]); c.close()'
	[ "$srv_addr" = "unix:@$name" ]
	run -0 ipc-sockcat -m xyz "unix:@$name"
	[ "$output" = "$(printf '\nzyx')" ]
}

@test "bad ports and malformed addresses are usage errors (2)" {
	for a in 127.0.0.1:70000 127.0.0.1:abc 127.0.0.1:010 127.0.0.1:-5 \
	    127.0.0.1:0 127.0.0.1:0x50 '127.0.0.1:80 ' 127.0.0.1: ::1:80 \
	    'tcp:[::1]' '[]:80' '[::1]80' '*:80' '' \
	    "[$(printf 'a%.0s' {1..300})]:80" "$(printf 'a%.0s' {1..300}):80"; do
		run -2 --separate-stderr ipc-sockcat -d "$a"
		[[ "$stderr" == "ipc-sockcat: "* ]]
		[ -z "$output" ]
	done
	long=$BATS_TEST_TMPDIR/$(printf 'x%.0s' {1..120})
	run -2 --separate-stderr ipc-sockcat -d "unix:$long"
	[[ "$stderr" == *"limit is 107"* ]]
	run -2 ipc-sockcat -t soon 127.0.0.1:1
	run -2 ipc-sockcat
	run -2 ipc-sockcat -m x -d 127.0.0.1:1
}

@test "refused: exit 1 promptly, naming the address" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	SECONDS=0
	run -1 --separate-stderr ipc-sockcat "127.0.0.1:$port" </dev/null
	[ "$SECONDS" -le 5 ]
	[ "$stderr" = "ipc-sockcat: 127.0.0.1:$port: Connection refused" ]
	run -1 --separate-stderr ipc-sockcat "$BATS_TEST_TMPDIR/none.sock" </dev/null
	[[ "$stderr" == *"$BATS_TEST_TMPDIR/none.sock: No such file or directory" ]]
	touch plain
	run -1 --separate-stderr ipc-sockcat "$BATS_TEST_TMPDIR/plain" </dev/null
	[[ "$stderr" == *"$BATS_TEST_TMPDIR/plain: Connection refused" ]]
	[ -f plain ]
	[ ! -s plain ]
}

@test "a peer that resets mid-stream: exit 1 with the byte counts" {
	pyserve 'c.sendall(b"x" * 5); c.recv(100)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()'
	run -1 --separate-stderr ipc-sockcat "$srv_addr" < <(yes)
	[[ "$stderr" =~ ^ipc-sockcat:\ 127.0.0.1:[0-9]+:\ .*\(sent\ [0-9]+\ bytes,\ received\ 5\)$ ]]
	[ "$output" = xxxxx ]
}

@test "peer closes while stdin is still open and quiet: exit 0 (as nc)" {
	pyserve 'c.sendall(b"bye\n"); c.close()'
	mkfifo quiet
	sleep 30 >quiet &
	bg_track $!
	run -0 ipc-sockcat "$srv_addr" <quiet
	[ "$output" = bye ]
}

@test "| head -c 10 ends promptly and quietly with status 1" {
	pyserve 'b = b"y" * 65536
while True: c.sendall(b)'
	run -0 --separate-stderr bash -c \
	    'ipc-sockcat -d "$1" | head -c 10; echo "${PIPESTATUS[0]}" >&2' _ "$srv_addr"
	[ "$output" = yyyyyyyyyy ]
	[ "$stderr" = 1 ]
}

@test "stdin /dev/null or closed is an immediate EOF" {
	pyserve 'd = readall(); c.sendall(b"got %d\n" % len(d)); c.close()'
	run -0 ipc-sockcat "$srv_addr" </dev/null
	[ "$output" = "got 0" ]
	pyserve 'd = readall(); c.sendall(b"got %d\n" % len(d)); c.close()'
	# (not under `run`: its capture pipe would take the free fd 0)
	ipc-sockcat "$srv_addr" <&- >out
	[ "$(cat out)" = "got 0" ]
}

@test "-m sends one line, -d sends nothing, both then half-close" {
	pyserve 'c.sendall(repr(readall()).encode()); c.close()'
	run -0 ipc-sockcat -m 'hi there' "$srv_addr" </dev/zero
	[ "$output" = "b'hi there\\n'" ]
	pyserve 'c.sendall(repr(readall()).encode()); c.close()'
	run -0 ipc-sockcat -d "$srv_addr" </dev/zero
	[ "$output" = "b''" ]
}

@test "-s prints nothing and reads the peer out so nothing is reset" {
	pyserve 'c.sendall(b"noise" * 100000); d = readall(); open("got", "wb").write(d); c.close()'
	head -c 3000000 /dev/urandom >in
	run -0 --separate-stderr ipc-sockcat -s "$srv_addr" <in
	[ -z "$output" ]
	wait_exit "$srv_pid" 30
	cmp in got
}

@test "--no-shutdown keeps the sending side open; the peer ends it" {
	# The peer answers what it got and whether our side is still open.
	# (an EOF that takes 5 s to come is taken for an open side)
	local peer='d = c.recv(100); c.settimeout(5)
try:
    e = c.recv(100)
except socket.timeout:
    e = b"open"
c.sendall(d + b" " + (e or b"eof")); c.close()'
	pyserve "$peer"
	run -0 ipc-sockcat --no-shutdown -m x "$srv_addr"
	[ "$output" = "$(printf 'x\n open')" ]
	pyserve "$peer"
	run -0 ipc-sockcat -m x "$srv_addr"
	[ "$output" = "$(printf 'x\n eof')" ]
}

# serve_full_backlog: a python3 listener on port 0 that never accepts,
# its backlog filled by connections it holds itself, so a further connect
# never completes; sets srv_addr (serve_bg).
serve_full_backlog() {
	cat >full.py <<-'EOF'
	import os, socket, time
	s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
	held = []
	for i in range(8):
	    c = socket.socket(); c.setblocking(False)
	    try: c.connect(s.getsockname())
	    except BlockingIOError: pass
	    held.append(c)
	os.write(3, b"127.0.0.1:%d\n" % s.getsockname()[1]); os.close(3)
	time.sleep(60)
	EOF
	serve_bg python3 full.py
}

@test "-t bounds the connect: a listener whose backlog is full gives 124" {
	# A listener that never accepts, its backlog filled by held connections
	serve_full_backlog
	SECONDS=0
	run -124 --separate-stderr ipc-sockcat -t 300ms "$srv_addr" </dev/null
	[ "$SECONDS" -le 10 ]
	[ "$stderr" = "ipc-sockcat: $srv_addr: timed out connecting" ]
}

@test "-w bounds a connect that hangs: exit 1 with the last error" {
	serve_full_backlog
	SECONDS=0
	run -1 --separate-stderr timeout 60 ipc-sockcat -w 300ms -d "$srv_addr"
	[ "$SECONDS" -le 15 ]
	[ "$stderr" = "ipc-sockcat: $srv_addr: Connection timed out" ]
}

@test "a name's first address hangs: the next one is tried after 2 s" {
	dns_jail
	printf '127.0.0.1 localhost\n127.0.0.1 two.test\n::1 two.test\n' >hosts
	cat >two.py <<-'EOF'
	import os, socket
	# whichever address the resolver gives first hangs (a full backlog);
	# the second, on the same port, answers
	order = [a for a in socket.getaddrinfo("two.test", 0, 0, socket.SOCK_STREAM)]
	first, second = order[0], order[1]
	hang = socket.socket(first[0]); hang.bind((first[4][0], 0)); hang.listen(0)
	port = hang.getsockname()[1]
	held = []
	for i in range(8):
	    c = socket.socket(first[0]); c.setblocking(False)
	    try: c.connect(hang.getsockname())
	    except BlockingIOError: pass
	    held.append(c)
	ok = socket.socket(second[0]); ok.bind((second[4][0], port)); ok.listen(1)
	ok.settimeout(60)
	os.write(3, b"%d\n" % port); os.close(3)
	c, _ = ok.accept(); c.sendall(b"second " + c.recv(100)); c.close()
	EOF
	cat >two.sh <<-'EOF'
	mount --bind hosts /etc/hosts || exit 99
	mkfifo two.up
	python3 two.py 3>two.up &
	echo $! >>.pids
	read -r port <two.up
	exec ipc-sockcat -v -t 30s -m hi "two.test:$port"
	EOF
	SECONDS=0
	run -0 --separate-stderr timeout -s KILL 60 unshare -m -n sh jail.sh sh two.sh
	[ "$output" = "second hi" ]
	# 2 s for the first address, not the whole -t
	[ "$SECONDS" -ge 2 ]
	[ "$SECONDS" -le 20 ]
	[[ "$stderr" == *"Connection timed out"* ]]
}

@test "-w waits for a server that starts later; runs out with the last error" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	ipc-sockcat -v -w 60s -m late "127.0.0.1:$port" >out 2>err &
	cli=$!
	bg_track $cli
	# the client is already waiting: -v shows its refused attempts
	poll_until 30 grep -q 'Connection refused' err
	cat >late.py <<-EOF
	import socket
	s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", $port)); s.listen(1)
	c, _ = s.accept(); c.sendall(c.recv(100).upper()); c.close()
	EOF
	python3 late.py &
	bg_track $!
	wait_exit $cli 30
	[ "$status" = 0 ]
	[ "$(cat out)" = LATE ]
	SECONDS=0
	run -1 --separate-stderr ipc-sockcat -w 300ms -d "127.0.0.1:$port"
	[ "$stderr" = "ipc-sockcat: 127.0.0.1:$port: Connection refused" ]
	run -1 --separate-stderr ipc-sockcat -w 300ms -d "$BATS_TEST_TMPDIR/later.sock"
	[[ "$stderr" == *"later.sock: No such file or directory" ]]
	[ "$SECONDS" -le 15 ]
}

@test "-i gives up when no data moved (124)" {
	pyserve 'time.sleep(60)'
	SECONDS=0
	run -124 --separate-stderr ipc-sockcat -i 300ms -d "$srv_addr"
	[ "$SECONDS" -le 15 ]
	[[ "$stderr" == *"idle"* ]]
}

@test "-z probes: 0 when accepted, 1 when refused" {
	pyserve 'c.close()'
	run -0 ipc-sockcat -z "$srv_addr"
	[ -z "$output" ]
	# Until the server has exited its socket still listens (and the
	# kernel completes a connect to it from the backlog).
	wait_exit "$srv_pid" 30
	run -1 ipc-sockcat -z "127.0.0.1:$(port_of "$srv_addr")"
}

@test "-P shows bytes and rate on stderr" {
	pyserve 'readall(); c.sendall(b"ok"); c.close()'
	head -c 2000000 /dev/zero >in
	run -0 --separate-stderr ipc-sockcat -P "$srv_addr" <in
	[ "$output" = ok ]
	[[ "$stderr" == *"sent 1.9 MiB, received 2 B, "*"/s" ]]
}

@test "talks to OpenBSD nc -l and to socat" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	nc -l 127.0.0.1 "$port" >got </dev/null &
	bg_track $!
	ipc-sockcat -w 30s -m 'to nc' "127.0.0.1:$port"
	poll_until 30 grep -q 'to nc' got
	sock=$BATS_TEST_TMPDIR/socat.sock
	socat UNIX-LISTEN:"$sock" EXEC:'tr a-z A-Z' &
	bg_track $!
	run -0 ipc-sockcat -w 30s -m 'via socat' "unix:$sock"
	[ "$output" = 'VIA SOCAT' ]
}

@test "UDP: each line one datagram, each reply printed, then -i of silence" {
	cat >udp.py <<-'EOF'
	import os, socket
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
	os.write(3, b"udp:127.0.0.1:%d\n" % s.getsockname()[1]); os.close(3)
	while True:
	    d, a = s.recvfrom(70000)
	    s.sendto(b"<" + d + b">", a)
	    if d.endswith(b"\n"): s.sendto(b"nl\n", a)
	EOF
	serve_bg python3 udp.py
	SECONDS=0
	run -0 ipc-sockcat -i 1s "$srv_addr" < <(printf 'one\ntwo\n\nlast')
	[ "$output" = "$(printf '<one>\n<two>\n<>\n<last>')" ]
	[ "$SECONDS" -le 15 ]
	ipc-sockcat -i 1s -0 "$srv_addr" < <(printf 'a\nb\0c') >out
	cmp out <(printf '<a\nb>\0<c>\0')
	run -0 ipc-sockcat -s -m quick "$srv_addr"
	[ -z "$output" ]
	head -c 70000 /dev/zero | tr '\0' x >big
	run -1 --separate-stderr ipc-sockcat -i 300ms "$srv_addr" <big
	[[ "$stderr" == *"70000 bytes is over the UDP size limit (65507"* ]]
}

@test "--len32 talks to Python's multiprocessing.connection both ways" {
	cat >mp.py <<-'EOF'
	import os
	from multiprocessing.connection import Listener
	l = Listener(("127.0.0.1", 0))
	os.write(3, b"127.0.0.1:%d\n" % l.address[1]); os.close(3)
	c = l.accept()
	got = []
	try:
	    while True: got.append(c.recv_bytes())
	except EOFError:
	    pass
	open("got", "w").write(repr(got))
	for m in [b"reply one", b"", bytes(range(256)).replace(b"\n", b""), b"x" * 100000]:
	    c.send_bytes(m)
	c.close()
	EOF
	serve_bg python3 mp.py
	ipc-sockcat --len32 "$srv_addr" < <(printf 'first\n\nthird line\n') >out
	wait_exit "$srv_pid" 30
	[ "$(cat got)" = "[b'first', b'', b'third line']" ]
	python3 -c '
d = open("out", "rb").read()
want = b"".join(m + b"\n" for m in [b"reply one", b"", bytes(range(256)).replace(b"\n", b""), b"x" * 100000])
assert d == want, d[:100]'
	# netstrings on our side: binary messages both ways
	serve_bg python3 mp.py
	printf '3:a\0b,0:,' >in
	ipc-sockcat --len32 --netstring "$srv_addr" <in >out
	wait_exit "$srv_pid" 30
	[ "$(cat got)" = "[b'a\\x00b', b'']" ]
	python3 -c '
d = open("out", "rb").read()
want = b"".join(b"%d:%s," % (len(m), m) for m in [b"reply one", b"", bytes(range(256)).replace(b"\n", b""), b"x" * 100000])
assert d == want, d[:100]'
}

@test "--len32: a Listener that wants an authkey is exit 1 with the reason, no challenge printed" {
	cat >mpauth.py <<-'EOF'
	import os
	from multiprocessing.connection import Listener
	l = Listener(("127.0.0.1", 0), authkey=b"secret")
	os.write(3, b"127.0.0.1:%d\n" % l.address[1]); os.close(3)
	try:
	    l.accept()
	    print("accepted")
	except Exception as e:
	    print("refused", type(e).__name__)
	EOF
	serve_bg python3 mpauth.py
	run -1 --separate-stderr timeout 60 ipc-sockcat --len32 "$srv_addr" <<<'hello'
	[ "$output" = "" ]
	[ "$stderr" = "ipc-sockcat: $srv_addr: the peer wants an authkey (it sent a multiprocessing.connection challenge)" ]
	wait_exit "$srv_pid" 30
	[[ "$(cat "$srv_out")" == "refused "* ]]
}

@test "--len32: a reply with a newline inside is dropped with a note, later ones printed, exit 1" {
	cat >mpforge.py <<-'EOF'
	import os
	from multiprocessing.connection import Listener
	l = Listener(("127.0.0.1", 0))
	os.write(3, b"127.0.0.1:%d\n" % l.address[1]); os.close(3)
	c = l.accept()
	for m in [b"ok\n10.9.8.7:4444\tFORGED", b"good", b"two\0parts", b"end\n"]:
	    c.send_bytes(m)
	c.close()
	EOF
	serve_bg python3 mpforge.py
	st=0; ipc-sockcat --len32 -d "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 1 ]
	cmp out <(printf 'good\ntwo\0parts\n')
	[ "$(cat err)" = "ipc-sockcat: $srv_addr: message dropped: 23 bytes with a newline inside (at byte 3) would print as 2 lines; --netstring carries any bytes
ipc-sockcat: $srv_addr: message dropped: 4 bytes with a newline inside (at byte 4) would print as 2 lines; --netstring carries any bytes" ]
	# in -0 output a newline is any byte, a NUL is not
	serve_bg python3 mpforge.py
	st=0; ipc-sockcat --len32 -0 -d "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 1 ]
	cmp out <(printf 'ok\n10.9.8.7:4444\tFORGED\0good\0end\n\0')
	[ "$(cat err)" = "ipc-sockcat: $srv_addr: message dropped: 9 bytes with a NUL inside (at byte 4) would print as 2 NUL-terminated records; --netstring carries any bytes" ]
	serve_bg python3 mpforge.py
	st=0; ipc-sockcat --len32 --netstring -d "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 0 ]
	cmp out <(printf '23:ok\n10.9.8.7:4444\tFORGED,4:good,9:two\0parts,4:end\n,')
	[ ! -s err ]
}

@test "UDP: a reply datagram with a newline (-0: a NUL) inside is dropped with a note" {
	cat >udpforge.py <<-'EOF'
	import os, socket
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
	os.write(3, b"udp:127.0.0.1:%d\n" % s.getsockname()[1]); os.close(3)
	while True:
	    d, a = s.recvfrom(70000)
	    for m in [b"in\nside", b"fine\n", b"a\0b"]: s.sendto(m, a)
	EOF
	serve_bg python3 udpforge.py
	st=0; ipc-sockcat -i 1s -m ping "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 1 ]
	cmp out <(printf 'fine\na\0b\n')
	[ "$(cat err)" = "ipc-sockcat: $srv_addr: message dropped: 7 bytes with a newline inside (at byte 3) would print as 2 lines; --netstring carries any bytes" ]
	st=0; ipc-sockcat -i 1s -0 -m ping "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 1 ]
	cmp out <(printf 'in\nside\0fine\n\0')
	[ "$(cat err)" = "ipc-sockcat: $srv_addr: message dropped: 3 bytes with a NUL inside (at byte 2) would print as 2 NUL-terminated records; --netstring carries any bytes" ]
	st=0; ipc-sockcat -i 1s --netstring -m ping "$srv_addr" >out 2>err || st=$?
	[ "$st" -eq 0 ]
	cmp out <(printf '7:in\nside,5:fine\n,3:a\0b,')
	[ ! -s err ]
}

@test "--len32 -m sends one frame holding TEXT" {
	cat >mpecho.py <<-'EOF'
	import os
	from multiprocessing.connection import Listener
	l = Listener(("127.0.0.1", 0))
	os.write(3, b"127.0.0.1:%d\n" % l.address[1]); os.close(3)
	c = l.accept()
	m = c.recv_bytes(); c.send_bytes(m[::-1]); c.close()
	EOF
	serve_bg python3 mpecho.py
	run -0 ipc-sockcat --len32 -m 'hello frame' "$srv_addr"
	[ "$output" = 'emarf olleh' ]
}

@test "SIGTERM while blocked in connect or relay: dies of the signal" {
	pyserve 'open("accepted", "w").close(); time.sleep(30)'
	ipc-sockcat -d "$srv_addr" &
	pid=$!
	bg_track $pid
	poll_until 30 test -e accepted
	kill -TERM $pid
	wait_exit $pid 30
	[ "$status" = 143 ]
}

# dns_jail: writes jail.sh, which runs `unshare -m -n sh jail.sh COMMAND`
# in new mount and network namespaces whose only nameserver, 127.0.0.1:53,
# takes queries and never answers (each query adds a line to ./queries).
dns_jail() {
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	command -v unshare >/dev/null && command -v ip >/dev/null ||
		skip "needs unshare and ip"
	grep -q '^hosts:.*dns' /etc/nsswitch.conf || skip "hosts not looked up in DNS"
	printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:3\n' >resolv.conf
	cat >blackhole.py <<-'EOF'
	import os, socket
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind(("127.0.0.1", 53))
	s.settimeout(30)
	os.write(3, b"up\n"); os.close(3)
	while True:
	    s.recvfrom(512)
	    with open("queries", "a") as f: f.write("query\n")
	EOF
	cat >jail.sh <<-'EOF'
	ip link set lo up && mount --bind resolv.conf /etc/resolv.conf || exit 99
	mkfifo up
	python3 blackhole.py 3>up >/dev/null 2>&1 &
	echo $! >>.pids
	read -r _ <up
	exec "$@"
	EOF
}

@test "-t bounds a resolver that never answers (124), as it bounds the connect" {
	dns_jail
	run -124 --separate-stderr timeout -s KILL 60 \
	    unshare -m -n sh jail.sh ipc-sockcat -t 300ms blackhole.example:80
	[ "$stderr" = "ipc-sockcat: cannot resolve 'blackhole.example': timed out" ]
	[ -s queries ]
}

@test "SIGTERM while the resolver is silent: dies of the signal at once" {
	dns_jail
	unshare -m -n sh jail.sh ipc-sockcat blackhole.example:80 </dev/null &
	local pid=$!
	echo "$pid" >>.pids
	poll_until 30 test -s queries
	kill -TERM "$pid"
	wait_exit "$pid" 30
	[ "$status" = 143 ]
}

@test "a name that does not resolve for the family: exit 1, no DNS needed" {
	run -1 --separate-stderr ipc-sockcat -d 'tcp4:[::1]:80'
	[[ "$stderr" == "ipc-sockcat: cannot resolve '::1': "* ]]
}

@test "stdout opened for append (no splice there) still gets every byte" {
	pyserve 'c.sendall(b"z" * 3000000); c.close()'
	echo pre >out
	ipc-sockcat -d "$srv_addr" >>out
	[ "$(wc -c <out)" = 3000004 ]
	[ "$(head -n 1 out)" = pre ]
}

@test "SIGINT while waiting for a connect that never completes: 130" {
	serve_full_backlog
	env --default-signal=INT ipc-sockcat -v -d "$srv_addr" 2>err &
	pid=$!
	bg_track $pid
	poll_until 30 grep -q connecting err
	kill -INT $pid
	wait_exit $pid 30
	[ "$status" = 130 ]
}

# ipc-sockserve, where it is built beside us: the two tools paired.
sockserve() {
	local d
	for d in "$IPC_BIN" "$BATS_TEST_DIRNAME/../build-sockserve/bin" \
	    "$BATS_TEST_DIRNAME/../build/bin"; do
		[ -x "$d/ipc-sockserve" ] && { echo "$d/ipc-sockserve"; return; }
	done
	return 1
}

@test "paired with ipc-sockserve -1: 5 MB arrive byte-exact" {
	srv=$(sockserve) || skip "ipc-sockserve is not built"
	head -c 5000000 /dev/urandom >in
	serve_bg "$srv" -1 -r 3 127.0.0.1:0
	ipc-sockcat "$srv_addr" <in
	wait_exit "$srv_pid" 30
	[ "$status" = 0 ]
	cmp in "$srv_out"
}

@test "stdin a file at an offset: sent from there, the offset left at its end" {
	srv=$(sockserve) || skip "ipc-sockserve is not built"
	head -c 3000000 /dev/urandom >in
	serve_bg "$srv" -1 -r 3 127.0.0.1:0
	# The file's offset is shared with the shell: we start where it is
	# and leave it where we stopped, as read(2) would.
	{
		python3 -c 'import os; os.lseek(0, 1000, os.SEEK_SET)'
		ipc-sockcat "$srv_addr"
		python3 -c 'import os; print(os.lseek(0, 0, os.SEEK_CUR))' >offset
	} <in
	wait_exit "$srv_pid" 30
	[ "$status" = 0 ]
	tail -c +1001 in | cmp - "$srv_out"
	[ "$(cat offset)" = 3000000 ]
}

@test "paired with ipc-sockserve exec mode: sort answers after our half-close" {
	srv=$(sockserve) || skip "ipc-sockserve is not built"
	serve_bg "$srv" -1 -r 3 "unix:$BATS_TEST_TMPDIR/sort.sock" -- sort
	run -0 ipc-sockcat "$srv_addr" < <(printf 'c\nb\na\n')
	[ "$output" = "$(printf 'a\nb\nc')" ]
}

@test "a peer that closes before all of stdin was sent: exit 1 with counts" {
	pyserve 'c.recv(10); c.sendall(b"enough\n"); c.close()'
	head -c 5000000 /dev/zero >in
	run -1 --separate-stderr ipc-sockcat "$srv_addr" <in
	[[ "$stderr" =~ ^ipc-sockcat:\ 127.0.0.1:[0-9]+:\ .*\(sent\ [0-9]+\ bytes,\ received\ [0-9]+\)$ ]]
	[[ "$stderr" != *"sent 5000000 bytes"* ]]
}

@test "a stalled stdout under many small segments: backpressure, no spin" {
	pyserve 'c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); c.setblocking(False)
end = time.time() + 1.5
while time.time() < end:
    try: c.send(b"x")
    except BlockingIOError: time.sleep(0.005)
open("done", "w").close(); time.sleep(30)'
	mkfifo stalled
	sleep 30 <stalled &
	bg_track $!
	ipc-sockcat -d "$srv_addr" >stalled &
	pid=$!
	bg_track $pid
	poll_until 30 test -e done
	read -r -a st </proc/$pid/stat
	ticks=$((st[13] + st[14]))
	echo "cpu ticks: $ticks" >&2
	[ "$ticks" -lt 40 ]
}

@test "UDP: nobody listening is a refused error with the counts" {
	port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run -1 --separate-stderr ipc-sockcat -i 2s "udp:127.0.0.1:$port" < <(echo ping)
	[ "$stderr" = "ipc-sockcat: udp:127.0.0.1:$port: Connection refused (sent 4 bytes, received 0)" ]
}

@test "a Unix socket we may not use: exit 1 naming the path (as nobody)" {
	skip_unless_root
	d=$(mktemp -d /tmp/sockcat.XXXXXX)
	chmod 755 "$d"
	echo "$d" >dir
	pyserve UNIX "$d/s" 'time.sleep(30)'
	chmod 600 "$d/s"
	run -1 --separate-stderr as_nobody "$(command -v ipc-sockcat)" -d "$d/s"
	[ "$stderr" = "ipc-sockcat: unix:$d/s: Permission denied" ]
}

@test "--len32: a truncated frame from the peer or bad stdin framing is an error" {
	pyserve 'readall(); c.sendall(struct.pack(">i", 10) + b"short"); c.close()'
	run -1 --separate-stderr ipc-sockcat --len32 -d "$srv_addr"
	[[ "$stderr" == *": truncated len32 frame (10 bytes announced, 5 read) (sent 0 bytes, received 9)" ]]
	pyserve 'readall(); c.close()'
	run -1 --separate-stderr ipc-sockcat --len32 --netstring "$srv_addr" < <(printf '5:abc,')
	[ "$stderr" = "ipc-sockcat: stdin: truncated netstring (5 bytes announced, 4 read)" ]
}

@test "--len32 replies: 64 MiB at most by default, exactly; --max-message moves the limit" {
	# Only the header of the oversized frame is sent: it alone is refused.
	pyserve 'readall(); c.sendall(struct.pack(">I", 64 << 20) + b"x" * (64 << 20) + struct.pack(">I", (64 << 20) + 1)); c.close()'
	run -1 --separate-stderr bash -o pipefail -c "ipc-sockcat --len32 -d '$srv_addr' | wc -c"
	[ "$output" = $(((64 << 20) + 1)) ]
	[[ "$stderr" == *": len32 frame of 67108865 bytes, over the limit of 67108864 (--max-message raises it) (sent 0 bytes, received 67108872)" ]]
	pyserve 'readall(); c.sendall(struct.pack(">I", 10) + b"0123456789" + struct.pack(">I", 11) + b"01234567890"); c.close()'
	run -1 --separate-stderr ipc-sockcat --len32 --max-message 10 -d "$srv_addr"
	[ "$output" = 0123456789 ]
	[[ "$stderr" == *": len32 frame of 11 bytes, over the limit of 10 (--max-message raises it) (sent 0 bytes, received 29)" ]]
	pyserve 'readall(); c.sendall(struct.pack(">I", (64 << 20) + 1) + b"y" * ((64 << 20) + 1)); c.close()'
	run -0 bash -o pipefail -c "ipc-sockcat --len32 --max-message 65M -d '$srv_addr' | wc -c"
	[ "$output" = $(((64 << 20) + 2)) ]
}

@test "--max-message: stdin messages are held to it too; without --len32 it is a usage error" {
	pyserve 'readall(); c.close()'
	run -1 --separate-stderr ipc-sockcat --len32 --netstring --max-message 3 "$srv_addr" < <(printf '3:abc,4:abcd,')
	[ "$stderr" = "ipc-sockcat: stdin: netstring of 4 bytes, over the limit of 3 (--max-message raises it)" ]
	run -2 --separate-stderr ipc-sockcat --max-message 1M 127.0.0.1:9
	[ "$stderr" = "ipc-sockcat: --max-message bounds --len32 messages: give --len32 too" ]
	run -2 --separate-stderr ipc-sockcat --len32 --max-message 0 127.0.0.1:9
	[[ "$stderr" == "ipc-sockcat: --max-message: '0' is out of range"* ]]
}

@test "stdout a blocking socket that is not read: stdin still flows (proxy use)" {
	pyserve 'threading.Thread(target=lambda: c.sendall(b"r" * 4000000), daemon=True).start()
time.sleep(0.5)
open("got.tmp", "w").write(str(len(readall()))); os.rename("got.tmp", "got"); time.sleep(30)'
	head -c 20000000 /dev/zero >in
	cat >proxy.py <<-'EOF'
	import os, socket, subprocess, sys, time
	a, b = socket.socketpair()  # blocking, as inetd or socat EXEC give it
	p = subprocess.Popen(["ipc-sockcat", sys.argv[1]], stdin=open("in", "rb"), stdout=a)
	end = time.time() + 60
	while not os.path.exists("got") and time.time() < end:
	    time.sleep(0.02)
	p.kill()
	EOF
	python3 proxy.py "$srv_addr"
	[ "$(cat got)" = 20000000 ]
}

@test "paired with ipc-sockserve --len32: frames become messages again" {
	srv=$(sockserve) || skip "ipc-sockserve is not built"
	serve_bg "$srv" -1 -r 3 --len32 --netstring 127.0.0.1:0
	printf 'one\n\nthr\0ee' | ipc-sockcat --len32 "$srv_addr"
	wait_exit "$srv_pid" 30
	cmp "$srv_out" <(printf '3:one,0:,6:thr\0ee,')
}

@test "| head -1 with a server gone quiet: ends at once, not at its next byte" {
	pyserve 'c.sendall(b"line one\nline two\n"); time.sleep(60)'
	SECONDS=0
	run -0 --separate-stderr bash -c \
	    'ipc-sockcat -d "$1" | head -n 1; echo "${PIPESTATUS[0]}" >&2' _ "$srv_addr"
	[ "$output" = "line one" ]
	[ "$stderr" = 1 ]
	[ "$SECONDS" -le 20 ]
}

@test "stdin that cannot be read (a directory): exit 1, the peer still gets EOF" {
	pyserve 'd = readall(); c.sendall(b"peer saw EOF"); c.close()'
	run -1 --separate-stderr ipc-sockcat "$srv_addr" </
	[ "$stderr" = "ipc-sockcat: stdin: Is a directory" ]
	[ "$output" = "peer saw EOF" ]
}

@test "0 is an amount: -i 0 gives up at the first moment nothing moves" {
	serve_bg ipc-sockserve -r 3 tcp4:127.0.0.1:0
	run -124 --separate-stderr timeout 60 ipc-sockcat -d -i 0 "$srv_addr"
	[[ "$stderr" == *"no data moved for the idle time"* ]]
}
