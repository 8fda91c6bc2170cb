#!/usr/bin/env bats
# ipc-mq: POSIX message queues from the shell.
bats_require_minimum_version 1.5.0
# Every test here is bounded; set at file level, bats reads it before a test starts.
BATS_TEST_TIMEOUT=90

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_servers
	local q
	if [ -f "$BATS_TEST_TMPDIR/.queues" ]; then
		while read -r q; do
			ipc-mq rm "$q" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/.queues"
	fi
	if [ -f "$BATS_TEST_TMPDIR/.mnt" ]; then
		rmdir "$(cat "$BATS_TEST_TMPDIR/.mnt")"
	fi
}

# newq: a unique queue name, removed in teardown.
newq() {
	local q
	q=$(uniq_name mqt)
	echo "$q" >>"$BATS_TEST_TMPDIR/.queues"
	echo "$q"
}

# The peer we did not write: python3 over librt's mq_* through ctypes.
#   peer send NAME PRIO HEX    sends the bytes HEX at PRIO
#   peer recv NAME             prints "PRIO HEX" of one message
peer() {
	cat >"$BATS_TEST_TMPDIR/peer.py" <<'EOF'
import ctypes, ctypes.util, os, sys
rt = ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long),
                ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long),
                ("pad", ctypes.c_long * 4)]
rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
rt.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
rt.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint)]
rt.mq_receive.restype = ctypes.c_ssize_t
def check(r):
    if r == -1:
        e = ctypes.get_errno()
        sys.exit("peer: " + os.strerror(e))
    return r
verb, name = sys.argv[1], ("/" + sys.argv[2].lstrip("/")).encode()
if verb == "send":
    q = check(rt.mq_open(name, os.O_WRONLY, 0, None))
    data = bytes.fromhex(sys.argv[4])
    check(rt.mq_send(q, data, len(data), int(sys.argv[3])))
else:
    q = check(rt.mq_open(name, os.O_RDONLY, 0, None))
    a = Attr()
    check(rt.mq_getattr(q, ctypes.byref(a)))
    buf = ctypes.create_string_buffer(a.msgsize)
    prio = ctypes.c_uint()
    n = check(rt.mq_receive(q, buf, a.msgsize, ctypes.byref(prio)))
    print(prio.value, buf.raw[:n].hex())
EOF
	python3 "$BATS_TEST_TMPDIR/peer.py" "$@"
}

# curmsgs NAME: the number of messages in the queue.
curmsgs() {
	ipc-mq info "$1" | sed -n 's/^curmsgs=//p'
}

# in_syscall PID NAME: true while PID is blocked in system call NAME
# (ppoll or mq_timedsend), read from /proc/PID/syscall.
in_syscall() {
	local nr
	case "$(uname -m):$2" in
	x86_64:ppoll) nr=271 ;;
	x86_64:mq_timedsend) nr=242 ;;
	aarch64:ppoll) nr=73 ;;
	aarch64:mq_timedsend) nr=182 ;;
	*) echo "in_syscall: no number for $2 on $(uname -m)" >&2; return 2 ;;
	esac
	[ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$nr" ]
}

@test "names: bad names are usage errors before any mq call" {
	long=$(printf 'a%.0s' $(seq 256))
	for n in /a/b a/b '' / // . .. /.. "$long" "/$long"; do
		for verb in create info rm; do
			run -2 --separate-stderr ipc-mq $verb "$n"
			[[ "$stderr" == "ipc-mq: name: "* ]]
		done
		run -2 ipc-mq send "$n" x
		run -2 ipc-mq recv "$n"
	done
}

@test "names: q and /q are the same queue; 255 bytes is allowed" {
	q=$(newq)
	run -0 ipc-mq create "$q"
	run -0 ipc-mq send "/$q" hello
	run -0 ipc-mq recv "$q"
	[ "$output" = hello ]
	n255=$(printf 'b%.0s' $(seq 250))$RANDOM
	n255=${n255:0:255}
	echo "$n255" >>"$BATS_TEST_TMPDIR/.queues"
	run -0 ipc-mq create "$n255"
	run -0 ipc-mq rm "/$n255"
}

@test "create: system defaults, mode 0600 whatever the umask allows" {
	q=$(newq)
	run -0 bash -c "umask 0; ipc-mq create $q"
	run -0 ipc-mq info "$q"
	[ "${lines[0]}" = "maxmsg=$(cat /proc/sys/fs/mqueue/msg_default)" ]
	[ "${lines[1]}" = "msgsize=$(cat /proc/sys/fs/mqueue/msgsize_default)" ]
	[ "${lines[2]}" = "curmsgs=0" ]
	[ "${lines[3]}" = "mode=0600" ]
	[ "${#lines[@]}" = 4 ]
}

@test "create: -M, -S and an exact --mode despite the umask" {
	q=$(newq)
	run -0 bash -c "umask 077; ipc-mq create --mode 0644 -M 3 -S 100 $q"
	run -0 ipc-mq info --json "$q"
	[ "$output" = '{"maxmsg":3,"msgsize":100,"curmsgs":0,"mode":"0644"}' ]
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["maxmsg"]==3' "$output"
}

@test "create: an existing queue with other attributes is an error naming both" {
	q=$(newq)
	run -0 ipc-mq create -M 4 -S 64 "$q"
	run -0 ipc-mq create -M 4 -S 64 "$q"
	run -0 ipc-mq create "$q"
	run -1 --separate-stderr ipc-mq create -M 5 "$q"
	[[ "$stderr" == *"exists with maxmsg=4 msgsize=64 mode=0600, not the asked maxmsg=5"* ]]
	run -1 --separate-stderr ipc-mq create --mode 0640 "$q"
	[[ "$stderr" == *"mode=0600, not the asked mode=0640"* ]]
	run -1 --separate-stderr ipc-mq create -x "$q"
	[[ "$stderr" == *"exists already"* ]]
	# the long name of -x is the one ipc-shmcount uses
	run -1 --separate-stderr ipc-mq create --exclusive "$q"
	[[ "$stderr" == *"exists already"* ]]
}

@test "create: limits are named with their /proc file" {
	q=$(newq)
	# Root with CAP_SYS_RESOURCE may pass msg_max and msgsize_max, up to
	# the kernel's own bounds (65536 messages, 16 MiB): then go past those.
	max=$(cat /proc/sys/fs/mqueue/msg_max)
	run --separate-stderr ipc-mq create -M $((max + 1)) "$q"
	if [ "$status" = 0 ]; then
		ipc-mq rm "$q"
		run --separate-stderr ipc-mq create -M 65537 "$q"
	fi
	[ "$status" = 1 ]
	[[ "$stderr" == *"msg_max $max (/proc/sys/fs/mqueue/msg_max)"* ]]
	smax=$(cat /proc/sys/fs/mqueue/msgsize_max)
	run --separate-stderr ipc-mq create -S $((smax + 1)) "$q"
	if [ "$status" = 0 ]; then
		ipc-mq rm "$q"
		run --separate-stderr ipc-mq create -S 16777217 "$q"
	fi
	[ "$status" = 1 ]
	[[ "$stderr" == *"msgsize_max $smax (/proc/sys/fs/mqueue/msgsize_max)"* ]]
	run -2 ipc-mq create -M 0 "$q"
	run -2 ipc-mq create -S 12abc "$q"
	# Nothing was left behind.
	run -1 ipc-mq info "$q"
}

@test "create: RLIMIT_MSGQUEUE exhausted is named, not 'Too many open files'" {
	qs=()
	for i in $(seq 12); do qs+=("$(newq)"); done
	run -1 --separate-stderr bash -c 'ulimit -q 250000; for q; do ipc-mq create "$q" || exit; done; exit 9' _ "${qs[@]}"
	[[ "$stderr" == *"RLIMIT_MSGQUEUE"*"ulimit -q"*"ulimit -n"* ]]
	[[ "$stderr" != *"Too many open files"* ]]
}

@test "create: queues_max reached (ENOSPC) is named, not 'No space left on device'" {
	skip_unless_root
	unshare --ipc true 2>/dev/null || skip "needs unshare --ipc (a private IPC namespace)"
	# A fresh IPC namespace has its own queues and its own queues_max, so
	# this touches nothing outside; user nobody has no CAP_SYS_RESOURCE.
	run --separate-stderr unshare --ipc sh -c '
		echo 2 >/proc/sys/fs/mqueue/queues_max 2>/dev/null || exit 9
		for n in a b c; do
			setpriv --reuid=nobody --regid=nogroup --clear-groups -- ipc-mq create $n || exit
		done'
	[ "$status" != 9 ] || skip "cannot set queues_max in a new IPC namespace"
	[ "$status" = 1 ]
	[ "$stderr" = "ipc-mq: /c: cannot create: the system-wide number of queues is at its limit queues_max (2, /proc/sys/fs/mqueue/queues_max)" ]
}

@test "rm: removes each queue; a missing one is an error, the others still go" {
	a=$(newq) b=$(newq) c=$(newq)
	ipc-mq create "$a"
	ipc-mq create "$c"
	run -1 --separate-stderr ipc-mq rm "$a" "$b" "$c"
	[ "$stderr" = "ipc-mq: /$b: no such queue" ]
	run -1 ipc-mq info "$a"
	run -1 ipc-mq info "$c"
	run -2 ipc-mq rm
	run -2 ipc-mq rm "$a" /x/y
}

@test "info: a missing queue is an error" {
	q=$(newq)
	run -1 --separate-stderr ipc-mq info "$q"
	[ "$stderr" = "ipc-mq: /$q: no such queue" ]
}

@test "ls: lists queues from the mqueue filesystem, text and --json" {
	unshare -m true 2>/dev/null || skip "needs unshare -m (a private mount)"
	q=$(newq)
	ipc-mq create -M 2 -S 32 "$q"
	ipc-mq send "$q" x
	h=.$(newq)
	echo "$h" >>"$BATS_TEST_TMPDIR/.queues"
	ipc-mq create "$h"
	mkdir mnt
	run -0 unshare -m sh -c 'mount -t mqueue none mnt && ipc-mq ls'
	[[ "$output" == *"/$q	maxmsg=2	msgsize=32	curmsgs=1	mode=0600"* ]]
	[[ "$output" == *"/$h	maxmsg="* ]]
	run -0 unshare -m sh -c 'mount -t mqueue none mnt && ipc-mq ls --json'
	python3 -c '
import json, sys
d = [o for o in json.loads(sys.argv[1]) if o["name"] == "/" + sys.argv[2]]
assert d == [{"name": "/" + sys.argv[2], "maxmsg": 2, "msgsize": 32, "curmsgs": 1, "mode": "0600"}], d
' "$output" "$q"
}

@test "ls: tabs, newlines and backslashes in a name are escaped as ls -b does" {
	unshare -m true 2>/dev/null || skip "needs unshare -m (a private mount)"
	local base q
	base=$(newq)
	# a name that would print as a second, forged row if written raw
	q=$base$'\tmaxmsg=9\nforged\tx\\y\001'
	ipc-mq create "$q"
	mkdir mnt
	run -0 unshare -m sh -c 'mount -t mqueue none mnt && ipc-mq ls'
	ipc-mq rm "$q"
	[[ "$output" == *"/$base\\tmaxmsg=9\\nforged\\tx\\\\y\\001	maxmsg="* ]]
	[ -z "$(grep '^forged' <<<"$output")" ]
	[ "$(grep -c "$base" <<<"$output")" = 1 ]
	ipc-mq create "$q"
	run -0 unshare -m sh -c 'mount -t mqueue none mnt && ipc-mq ls --json'
	ipc-mq rm "$q"
	python3 -c '
import json, sys
names = [o["name"] for o in json.loads(sys.argv[1])]
assert "/" + sys.argv[2] in names, names
' "$output" "$q"
}

@test "ls: a queue it cannot open shows - and null" {
	unshare -m true 2>/dev/null || skip "needs unshare -m (a private mount)"
	skip_unless_root
	q=$(newq)
	ipc-mq create "$q"
	# A mount point user nobody can reach (the test folder is private).
	mnt=$(mktemp -d /tmp/ipc-mq-ls.XXXXXX)
	echo "$mnt" >.mnt
	chmod 755 "$mnt"
	run -0 unshare -m sh -c 'mount -t mqueue none "$1" &&
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- ipc-mq ls &&
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- ipc-mq ls --json' _ "$mnt"
	[[ "$output" == *"/$q	maxmsg=-	msgsize=-	curmsgs=-	mode=0600"* ]]
	[[ "$output" == *'{"name":"/'$q'","maxmsg":null,"msgsize":null,"curmsgs":null,"mode":"0600"}'* ]]
}

@test "ls: without the mqueue filesystem it says how to mount it" {
	unshare -m true 2>/dev/null || skip "needs unshare -m (a private mount)"
	run -1 --separate-stderr unshare -m sh -c 'umount -a -t mqueue 2>/dev/null; ipc-mq ls'
	[[ "$stderr" == *"not mounted"*"mount -t mqueue none /dev/mqueue"* ]]
	[ -z "$output" ]
}

@test "send/recv: arguments in order, -n COUNT, -a takes what is there" {
	q=$(newq)
	ipc-mq create "$q"
	run -0 ipc-mq send "$q" one two three four
	run -0 ipc-mq recv "$q"
	[ "$output" = one ]
	run -0 ipc-mq recv -n 2 "$q"
	[ "$output" = $'two\nthree' ]
	run -0 ipc-mq recv -a "$q"
	[ "$output" = four ]
	run -0 ipc-mq recv -a "$q"
	[ -z "$output" ]
	run -0 ipc-mq recv -n 0 "$q"
	run -2 ipc-mq recv -a -n 2 "$q"
	run -2 ipc-mq recv -n -1 "$q"
	run -2 ipc-mq recv "$q" cat
}

@test "send/recv: priorities order the queue; recv -p prints them" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send -p 1 "$q" low
	ipc-mq send -p 9 "$q" high
	ipc-mq send "$q" zero
	run -0 ipc-mq recv -a -p "$q"
	[ "$output" = $'9\thigh\n1\tlow\n0\tzero' ]
	max=$(($(getconf MQ_PRIO_MAX 2>/dev/null || echo 32768) - 1))
	run -0 ipc-mq send -p "$max" "$q" top
	run -2 ipc-mq send -p $((max + 1)) "$q" x
	run -2 ipc-mq send -p -1 "$q" x
	# No sign where none is allowed, not even on a zero (num_fuzz.c).
	run -2 --separate-stderr ipc-mq send -p -0 "$q" x
	[[ "$stderr" == "ipc-mq: --priority: '-0' is out of range (0 to "* ]]
	run -2 ipc-mq send -p abc "$q" x
	[ "$(curmsgs "$q")" = 1 ]
}

@test "send: lines from stdin, the last one without its newline too" {
	q=$(newq)
	ipc-mq create "$q"
	printf 'a\n\nc d\nlast' | ipc-mq send "$q"
	run -0 ipc-mq recv -a --netstring "$q"
	[ "$output" = '1:a,0:,3:c d,4:last,' ]
}

@test "send/recv: empty messages and binary data survive --netstring, --len32 and -0" {
	q=$(newq)
	ipc-mq create -S 300 "$q"
	python3 -c '
import sys
msgs = [b"", bytes(range(256)), b"\n\n", b"", b"x,y:1"]
out = sys.stdout.buffer
if sys.argv[1] == "netstring":
    out.write(b"".join(b"%d:%s," % (len(m), m) for m in msgs))
else:
    out.write(b"".join(len(m).to_bytes(4, "big") + m for m in msgs))
' netstring >in.ns
	python3 -c '
import sys
msgs = [b"", bytes(range(256)), b"\n\n", b"", b"x,y:1"]
sys.stdout.buffer.write(b"".join(len(m).to_bytes(4, "big") + m for m in msgs))
' >in.l32
	ipc-mq send --netstring "$q" <in.ns
	[ "$(curmsgs "$q")" = 5 ]
	ipc-mq recv -a --netstring "$q" >out.ns
	cmp in.ns out.ns
	ipc-mq send --len32 "$q" <in.l32
	ipc-mq recv -n 5 --len32 "$q" >out.l32
	cmp in.l32 out.l32
	printf 'a\0\0b\0' | ipc-mq send -0 "$q"
	ipc-mq recv -a -0 "$q" | od -An -c >out.nul
	[ "$(tr -d ' \n' <out.nul)" = 'a\0\0b\0' ]
	# A truncated frame is an error, never a message.
	run -1 --separate-stderr bash -c "printf '5:abc' | ipc-mq send --netstring $q"
	[ "$stderr" = "ipc-mq: stdin: message 1: truncated netstring (5 bytes announced, 3 read); 0 sent before it" ]
	[ "$(curmsgs "$q")" = 0 ]
}

@test "recv: a message with a newline inside is put back with its priority, exit 1; --netstring gets it" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" "$(printf 'a\nb')"
	run -1 --separate-stderr ipc-mq recv "$q"
	[ -z "$output" ]
	[ "$stderr" = "ipc-mq: /$q: message 1 was not delivered and was put back on the queue: 3 bytes with a newline inside (at byte 2) would print as 2 lines; --netstring carries any bytes" ]
	[ "$(curmsgs "$q")" = 1 ]
	run -0 ipc-mq recv --netstring "$q"
	[ "$output" = "$(printf '3:a\nb,')" ]
	# those before it are printed, it goes back at its priority, -a stops
	ipc-mq send -p 3 "$q" before $'two\nlines\n'
	ipc-mq send "$q" after
	run -1 --separate-stderr ipc-mq recv -a "$q"
	[ "$output" = before ]
	[ "$stderr" = "ipc-mq: /$q: message 2 was not delivered and was put back on the queue: 10 bytes with 2 newlines inside (the first at byte 4) would print as 3 lines; --netstring carries any bytes" ]
	run -0 ipc-mq recv -a -p --netstring "$q"
	[ "$output" = "$(printf '12:3\ttwo\nlines\n,7:0\tafter,')" ]
	# -f stops there too
	ipc-mq send "$q" one "$(printf 'x\ny')" three
	run -1 --separate-stderr timeout 10 ipc-mq recv -f "$q"
	[ "$output" = one ]
	[[ "$stderr" == "ipc-mq: /$q: message 2 was not delivered and was put back on the queue: 3 bytes"* ]]
	run -0 ipc-mq recv -a --netstring "$q"
	[ "$output" = "$(printf '5:three,3:x\ny,')" ]
}

@test "recv -0: a message with a NUL inside is put back; a line may hold one" {
	q=$(newq)
	ipc-mq create "$q"
	printf '3:x\0y,' | ipc-mq send --netstring "$q"
	run -1 --separate-stderr ipc-mq recv -0 "$q"
	[ "$stderr" = "ipc-mq: /$q: message 1 was not delivered and was put back on the queue: 3 bytes with a NUL inside (at byte 2) would print as 2 NUL-terminated records; --netstring carries any bytes" ]
	ipc-mq recv "$q" >out
	cmp out <(printf 'x\0y\n')
}

@test "recv: a message it cannot print nor put back is reported lost" {
	skip_unless_root
	q=$(newq)
	ipc-mq create --mode 0644 "$q"   # nobody may take messages, not send
	ipc-mq send "$q" "$(printf 'a\nb')" c
	run -1 --separate-stderr as_nobody timeout 10 ipc-mq recv "$q"
	[ "$stderr" = "ipc-mq: /$q: message 1 was taken from the queue but not delivered: 3 bytes with a newline inside (at byte 2) would print as 2 lines; --netstring carries any bytes; putting it back failed: Permission denied" ]
	run -0 ipc-mq recv -a "$q"
	[ "$output" = c ]
}

@test "send: an oversized message mid-stream: earlier ones stay, none after" {
	q=$(newq)
	ipc-mq create -S 16 "$q"
	run -1 --separate-stderr bash -c "printf 'a\nb\n%020d\nc\n' 0 | ipc-mq send $q"
	[ "$stderr" = "ipc-mq: /$q: message 3 is 20 bytes, over the queue's msgsize of 16 bytes (2 sent before it)" ]
	run -0 ipc-mq recv -a "$q"
	[ "$output" = $'a\nb' ]
	run -1 ipc-mq send "$q" ok "$(printf '%017d' 0)" never
	run -0 ipc-mq recv -a "$q"
	[ "$output" = ok ]
	# Exactly msgsize bytes is fine.
	run -0 ipc-mq send "$q" "$(printf '%016d' 7)"
	run -0 ipc-mq recv "$q"
	[ "$output" = 0000000000000007 ]
}

@test "send: a netstring or len32 frame over the limit is named by the size its header gives" {
	q=$(newq)
	ipc-mq create -S 16 "$q"
	# Python's header for messages over 2 GiB: 0xFFFFFFFF, then 8 bytes.
	run -1 --separate-stderr timeout 60 bash -c "printf '\0\0\0\2ok\377\377\377\377\0\0\0\1\0\0\0\0' | ipc-mq send --len32 $q"
	[ "$stderr" = "ipc-mq: /$q: message 2 is 4294967296 bytes, over the queue's msgsize of 16 bytes (1 sent before it)" ]
	run -1 --separate-stderr timeout 60 bash -c "printf '\0\040\0\0' | ipc-mq send --len32 $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 2097152 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	run -1 --separate-stderr timeout 60 bash -c "printf '5000000:x' | ipc-mq send --netstring $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 5000000 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	# Under 1 MiB too, and before the body is read: a short one is
	# still named by its header, never as truncated (test/fuzz/mqsend_fuzz.c).
	run -1 --separate-stderr timeout 10 bash -c "printf '20:abc' | ipc-mq send --netstring $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 20 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	run -1 --separate-stderr timeout 10 bash -c "printf '\0\0\0\021abc' | ipc-mq send --len32 $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 17 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	# A line has no header: its size is known only to be over the limit.
	run -1 --separate-stderr timeout 60 bash -c "head -c 2000000 /dev/zero | ipc-mq send $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is over 1048576 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	run -0 timeout 60 ipc-mq recv -a "$q"
	[ "$output" = ok ]
}

@test "send: a netstring or len32 over msgsize is refused from its header, before its body" {
	q=$(newq)
	ipc-mq create -S 16 "$q"
	# a producer that sends only a header, then holds its end open until
	# the reader leaves (at most 30 s): the body never comes
	cat >hold.py <<-'EOF'
	import os, select, sys
	os.write(1, bytes.fromhex(sys.argv[1]))
	p = select.poll(); p.register(1, select.POLLERR); p.poll(30000)
	EOF
	local t0=$SECONDS
	run -1 --separate-stderr bash -c "python3 hold.py 353030303a | ipc-mq send --netstring $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 5000 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	run -1 --separate-stderr bash -c "python3 hold.py 00001388 | ipc-mq send --len32 $q"
	[ "$stderr" = "ipc-mq: /$q: message 1 is 5000 bytes, over the queue's msgsize of 16 bytes (0 sent before it)" ]
	# well before the producer's 30 s: nothing waited for the body
	((SECONDS - t0 < 25))
	[ "$(curmsgs "$q")" = 0 ]
}

@test "send -t: the bound is kept across signals that interrupt the wait" {
	q=$(newq)
	ipc-mq create -M 1 "$q"
	ipc-mq send "$q" full
	ipc-mq send -t 1s "$q" more 2>err &
	local pid=$! t0=$SECONDS
	bg_track "$pid"
	# SIGCHLD interrupts mq_timedsend (EINTR) and is not ours to end on:
	# a bound restarted at each EINTR would never run out while it comes
	while kill -CHLD "$pid" 2>/dev/null && ((SECONDS - t0 < 40)); do
		sleep 0.05
	done
	wait_exit "$pid" 30
	[ "$status" = 124 ]
	((SECONDS - t0 < 20))
	grep -q "queue still full after 1s: message 1 not sent" err
}

@test "send: -c creates a missing queue, without it the error says so" {
	q=$(newq)
	run -1 --separate-stderr ipc-mq send "$q" x
	[[ "$stderr" == *"/$q: no such queue"* ]]
	run -0 ipc-mq send -c "$q" x
	run -0 ipc-mq info "$q"
	[ "${lines[3]}" = mode=0600 ]
	run -0 ipc-mq send -c "$q" y
	[ "$(curmsgs "$q")" = 2 ]
}

@test "timeouts: -t on a full queue and on an empty one exits 124" {
	q=$(newq)
	ipc-mq create -M 1 "$q"
	run -0 ipc-mq send "$q" first
	start=$SECONDS
	run -124 --separate-stderr ipc-mq send -t 300ms "$q" second
	[[ "$stderr" == *"queue still full after 300ms: message 1 not sent"* ]]
	run -124 ipc-mq send -t 0 "$q" second
	run -0 ipc-mq recv -t 0 "$q"
	[ "$output" = first ]
	run -124 --separate-stderr ipc-mq recv -t 300ms "$q"
	[ -z "$output" ]
	[ "$stderr" = "ipc-mq: /${q#/}: no message came within 300ms (0 received)" ]
	run -124 ipc-mq recv -t 0 "$q"
	(( SECONDS - start < 20 ))
	run -2 ipc-mq recv -t 1x "$q"
}

@test "recv -f -t: prints what arrives, ends 124 when idle" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" a b
	run -124 --separate-stderr ipc-mq recv -f -t 200ms "$q"
	[ "$output" = $'a\nb' ]
	[ "$stderr" = "ipc-mq: /${q#/}: no message came within 200ms (2 received)" ]
}

@test "recv -f started with SIGINT ignored (trap '' INT) keeps it ignored; SIGTERM ends it" {
	q=$(newq)
	ipc-mq create "$q"
	bash -c "trap '' INT; exec ipc-mq recv -f \"\$1\"" sh "$q" >out &
	local pid=$!
	bg_track "$pid"
	ipc-mq send "$q" one
	poll_until 30 grep -qx one out
	kill -INT "$pid"
	ipc-mq send "$q" two
	poll_until 30 grep -qx two out
	kill -TERM "$pid"
	wait_exit "$pid" 30
	[ "$status" -eq 143 ]
	[ "$(cat out)" = "$(printf 'one\ntwo')" ]
}

@test "recv -- COMMAND: a signal ignored at start (nohup) stays ignored in the command" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" a b
	run -0 bash -c "trap '' HUP; ipc-mq recv \"\$1\" -- grep SigIgn /proc/self/status" sh "$q"
	ign=$(awk '{print $2}' <<<"$output")
	(( 16#$ign & 1 ))                  # SIGHUP (bit 1-1): still ignored
	(( (16#$ign & (1 << 14)) == 0 ))   # SIGTERM: default
	(( (16#$ign & (1 << 12)) == 0 ))   # SIGPIPE: default
	run -0 ipc-mq recv "$q" -- grep SigIgn /proc/self/status
	ign=$(awk '{print $2}' <<<"$output")
	(( (16#$ign & 1) == 0 ))           # not ignored by the caller: default
}

@test "SIGINT while blocked on an empty queue: 130 at once, nothing lost" {
	q=$(newq)
	ipc-mq create "$q"
	env --default-signal=INT ipc-mq recv "$q" >out &
	pid=$!
	bg_track $pid
	poll_until 30 in_syscall $pid ppoll
	kill -INT $pid
	wait_exit $pid 30
	[ "$status" = 130 ]
	ipc-mq send "$q" kept
	[ "$(curmsgs "$q")" = 1 ]
	[ ! -s out ]
}

@test "SIGINT while blocked on a full queue: 130, the message not half-sent" {
	q=$(newq)
	ipc-mq create -M 1 "$q"
	ipc-mq send "$q" one
	env --default-signal=INT ipc-mq send "$q" two &
	pid=$!
	bg_track $pid
	poll_until 30 in_syscall $pid mq_timedsend
	kill -INT $pid
	wait_exit $pid 30
	[ "$status" = 130 ]
	run -0 ipc-mq recv -a "$q"
	[ "$output" = one ]
}

@test "recv -f | head -1: stops when its reader leaves, takes nothing more" {
	q=$(newq)
	ipc-mq create "$q"
	(ipc-mq recv -f "$q" | head -1 >out) &
	pid=$!
	bg_track $pid
	ipc-mq send "$q" a
	wait_exit $pid 30
	[ "$(cat out)" = a ]
	ipc-mq send "$q" b
	[ "$(curmsgs "$q")" = 1 ]
}

@test "recv -f | head -1 with messages queued: the others stay in the queue" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" m1 m2 m3 m4 m5
	run -0 --separate-stderr bash -c "ipc-mq recv -f $q | head -1"
	[ "$output" = m1 ]
	run -0 ipc-mq recv -a "$q"
	# A reader that leaves between two messages may cost the one in
	# flight, but then it is reported by number; the rest stay.
	if [ "$output" = $'m3\nm4\nm5' ]; then
		[[ "$stderr" == *"message 2 was taken from the queue but"* ]]
	else
		[ "$output" = $'m2\nm3\nm4\nm5' ]
	fi
}

@test "recv -- COMMAND: a run per message, IPC_MQ_PRIO set, first failure's status" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send -p 3 "$q" one
	ipc-mq send "$q" two three
	run -0 ipc-mq recv -n 2 "$q" -- sh -c 'printf "%s:%s|" "$IPC_MQ_PRIO" "$(cat)"'
	[ "$output" = '3:one|0:two|' ]
	ipc-mq send "$q" four five
	run -5 ipc-mq recv -a "$q" -- sh -c 'read -r m; [ "$m" != three ] || exit 5; [ "$m" != four ] || exit 6; echo "$m"'
	[ "$output" = five ]
	ipc-mq send "$q" x
	run -0 --separate-stderr ipc-mq recv --netstring "$q" -- od -An -c
	[ "$(echo $output)" = '1 : x ,' ]
}

@test "recv -- COMMAND: a command that is not there takes no message" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" keep
	run -127 --separate-stderr ipc-mq recv "$q" -- no-such-command-here
	[[ "$stderr" == *"no-such-command-here: command not found"* ]]
	[ "$(curmsgs "$q")" = 1 ]
}

@test "recv -- COMMAND: a file without execute permission is 126, no message taken" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" keep
	printf '#!/bin/sh\ncat\n' >noexec.sh
	chmod 644 noexec.sh
	run -126 --separate-stderr timeout 60 ipc-mq recv "$q" -- ./noexec.sh
	[ "$stderr" = "ipc-mq: ./noexec.sh: Permission denied" ]
	[ -z "$output" ]
	[ "$(curmsgs "$q")" = 1 ]
	run -0 timeout 60 ipc-mq recv "$q"
	[ "$output" = keep ]
}

@test "recv -- COMMAND: a directory is 126, on PATH passed over as execvp does, no message taken" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" a b c
	mkdir -p dir a/tool b
	run -126 --separate-stderr timeout 60 ipc-mq recv "$q" -- ./dir
	[ "$stderr" = "ipc-mq: ./dir: Is a directory" ]
	run -126 --separate-stderr env PATH="$PWD/a:$PATH" timeout 60 ipc-mq recv "$q" -- tool
	[ "$stderr" = "ipc-mq: $PWD/a/tool: Is a directory" ]
	# Found only without execute permission: 126 too, as from execvp.
	printf '#!/bin/sh\ncat\n' >b/tool
	run -126 --separate-stderr env PATH="$PWD/b:$PATH" timeout 60 ipc-mq recv "$q" -- tool
	[ "$stderr" = "ipc-mq: $PWD/b/tool: Permission denied" ]
	[ -z "$output" ]
	[ "$(curmsgs "$q")" = 3 ]
	# A runnable one later on PATH is the one run.
	chmod 755 b/tool
	run -0 --separate-stderr env PATH="$PWD/a:$PWD/b:$PATH" timeout 60 ipc-mq recv "$q" -- tool
	[ "$output" = a ]
	[ -z "$stderr" ]
	[ "$(curmsgs "$q")" = 2 ]
}

@test "recv -- COMMAND: a run that cannot start puts its message back, at the end of its priority" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send -p 1 "$q" first
	ipc-mq send "$q" b c
	printf '#!/nonexistent/interp\n' >bad.sh
	chmod 755 bad.sh
	run -127 --separate-stderr timeout 60 ipc-mq recv "$q" -- ./bad.sh
	[ "$stderr" = "ipc-mq: /$q: message 1 was not delivered and was put back on the queue: ./bad.sh: No such file or directory" ]
	[ -z "$output" ]
	[ "$(curmsgs "$q")" = 3 ]
	# Runs that started keep their messages: flip.sh takes message 1 and
	# puts bad.sh in its own place, so message 2 is put back, behind c.
	printf '#!/bin/sh\ncat >>got\nmv bad.sh flip.sh\n' >flip.sh
	chmod 755 flip.sh
	run -127 --separate-stderr timeout 60 ipc-mq recv -n 3 "$q" -- ./flip.sh
	[ "$stderr" = "ipc-mq: /$q: message 2 was not delivered and was put back on the queue: ./flip.sh: No such file or directory" ]
	[ "$(cat got)" = first ]
	run -0 timeout 60 ipc-mq recv -a -p "$q"
	[ "$output" = $'0\tc\n0\tb' ]
}

@test "recv -- COMMAND: a message that cannot be put back is reported lost" {
	skip_unless_root
	q=$(newq)
	ipc-mq create --mode 0644 "$q"   # nobody may take messages, not send
	ipc-mq send "$q" a b
	# nobody's working directory: it cannot reach BATS_TEST_TMPDIR itself.
	mkdir pub
	chmod 711 pub
	printf '#!/nonexistent/interp\n' >pub/bad.sh
	chmod 755 pub/bad.sh
	recv_in_pub() { cd pub && as_nobody timeout 60 ipc-mq recv "$q" -- ./bad.sh; }
	run -127 --separate-stderr recv_in_pub
	[ "$stderr" = "ipc-mq: /$q: message 1 was taken from the queue but not delivered: ./bad.sh: No such file or directory; putting it back failed: Permission denied" ]
	[ "$(curmsgs "$q")" = 1 ]
	run -0 timeout 60 ipc-mq recv "$q"
	[ "$output" = b ]
}

@test "python peer: ctypes mq_send to ipc-mq recv, ipc-mq send to ctypes mq_receive" {
	q=$(newq)
	ipc-mq create -S 64 "$q"
	peer send "$q" 3 68656c6c6f
	run -0 ipc-mq recv -p "$q"
	[ "$output" = $'3\thello' ]
	printf '\0\0\0\4\0\1\377\n' | ipc-mq send -p 4 --len32 "$q"
	run -0 peer recv "$q"
	[ "$output" = "4 0001ff0a" ]
	ipc-mq send "$q" ''
	run -0 peer recv "$q"
	[ "$output" = "0 " ]
}

@test "owner: another user's queue is refused unless --shared" {
	skip_unless_root
	q=$(newq)
	run -0 as_nobody ipc-mq create --mode 0666 "$q"
	run -1 --separate-stderr ipc-mq send "$q" x
	[[ "$stderr" == *"owned by nobody"*"--shared"* ]]
	run -0 ipc-mq send --shared "$q" x
	run -1 ipc-mq recv "$q"
	run -0 ipc-mq recv --shared "$q"
	[ "$output" = x ]
	run -0 ipc-mq info "$q"
}

@test "usage: verbs, options and --help" {
	run -2 --separate-stderr ipc-mq
	[ "${stderr%%$'\n'*}" = "ipc-mq: a verb is needed (verbs: create send recv info ls rm)" ]
	[[ "$stderr" == *$'\nusage: ipc-mq create'* ]]
	run -2 --separate-stderr ipc-mq frob
	[ "${stderr%%$'\n'*}" = "ipc-mq: unknown verb 'frob' (verbs: create send recv info ls rm)" ]
	run -2 --separate-stderr ipc-mq create
	[ "${stderr%%$'\n'*}" = "ipc-mq: NAME missing" ]
	run -2 --separate-stderr ipc-mq send --no-such x
	[ "${stderr%%$'\n'*}" = "ipc-mq: unknown option '--no-such'" ]
	run -2 --separate-stderr ipc-mq recv x y
	[ "${stderr%%$'\n'*}" = "ipc-mq: extra operand 'y' (a COMMAND goes after --)" ]
	run -2 --separate-stderr ipc-mq recv -n 1 -f x
	[ "${stderr%%$'\n'*}" = "ipc-mq: -n, -a and -f exclude one another" ]
	run -2 --separate-stderr ipc-mq send -a x
	[ "${stderr%%$'\n'*}" = "ipc-mq: option '-a' is for recv, not send" ]
	run -0 --separate-stderr ipc-mq recv --help
	[[ "$output" == *"ipc-mq recv "* && "$output" != *"ipc-mq send "* ]]
	run -0 --separate-stderr ipc-mq --help
	[[ "$output" == *"send "*"recv "* ]]
	run -0 ipc-mq --version
	[[ "$output" =~ ^ipc-mq\ [0-9] ]]
}

@test "command line: options may follow NAME; after -- every word is COMMAND's" {
	q=$(newq)
	ipc-mq create "$q"
	run -124 timeout 60 ipc-mq recv "$q" -t 100ms
	ipc-mq send "$q" -p 3 -- -x
	run -0 timeout 60 ipc-mq recv "$q" -p
	[ "$output" = $'3\t-x' ]
	ipc-mq send "$q" one
	run -0 timeout 60 ipc-mq recv "$q" -t 5s -- sed -n -e 's/^/got /p'
	[ "$output" = "got one" ]
	run -0 ipc-mq info "$q" --json
	[[ "$output" == *'"curmsgs": 0'* || "$output" == *'"curmsgs":0'* ]]
}

@test "two producers, one consumer: every message once, each producer's in order" {
	q=$(newq)
	ipc-mq create "$q"
	seq 1 2000 | ipc-mq send "$q" &
	p1=$!
	seq 2001 4000 | ipc-mq send "$q" &
	p2=$!
	bg_track $p1
	bg_track $p2
	run -0 ipc-mq recv -n 4000 "$q"
	wait $p1
	wait $p2
	[ "$(printf '%s\n' "$output" | sort -n | uniq | wc -l)" = 4000 ]
	[ "$(printf '%s\n' "$output" | awk '$1 <= 2000' | sort -nc && echo ok)" = ok ]
	[ "$(printf '%s\n' "$output" | awk '$1 > 2000' | sort -nc && echo ok)" = ok ]
	[ "$(curmsgs "$q")" = 0 ]
}

@test "recv -- COMMAND: the queue's descriptor does not reach the command" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" x
	want=$(sh -c 'ls /proc/self/fd' </dev/null | wc -l)
	run -0 ipc-mq recv "$q" -- sh -c 'ls /proc/self/fd'
	[ "$(printf '%s\n' "$output" | wc -l)" = "$want" ]
}

@test "SIGTERM while following: 143, what was printed stays printed" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" a b
	ipc-mq recv -f "$q" >out &
	pid=$!
	bg_track $pid
	poll_until 30 in_syscall $pid ppoll   # the queue is empty again
	kill -TERM $pid
	wait_exit $pid 30
	[ "$status" = 143 ]
	[ "$(cat out)" = $'a\nb' ]
}

@test "recv -- COMMAND: SIGINT to ipc-mq alone is passed on to the running command" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" x
	env --default-signal=INT ipc-mq recv "$q" -- sh -c 'cat >/dev/null; echo $$ >child.pid; exec sleep 30' &
	pid=$!
	bg_track $pid
	poll_until 30 test -s child.pid
	child=$(cat child.pid)
	bg_track "$child"
	kill -INT $pid
	wait_exit $pid 30
	[ "$status" = 130 ]
	! kill -0 "$child" 2>/dev/null
}

@test "recv -a: only the messages there at the start" {
	q=$(newq)
	ipc-mq create -M 2 "$q"
	ipc-mq send "$q" a b
	# A producer that refills the queue at once cannot keep -a going.
	ipc-mq send "$q" < <(seq 200) &
	pid=$!
	bg_track $pid
	run -0 ipc-mq recv -a "$q"
	[ "${#lines[@]}" -le 2 ]
	[ "${lines[0]}" = a ]
	# Let the producer finish: take the rest of its 200 and the two before.
	run -0 timeout 60 ipc-mq recv -n $((202 - ${#lines[@]})) "$q"
	[ "${lines[-1]}" = 200 ]
	wait_exit $pid 30
	[ "$status" = 0 ]
}

@test "recv -f -- COMMAND: SIGTERM while the command runs puts its message back, 143, a note" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" x
	ipc-mq recv -f "$q" -- sh -c 'cat >/dev/null; echo $$ >child.pid; exec sleep 30' 2>err &
	pid=$!
	bg_track $pid
	poll_until 30 test -s child.pid
	bg_track "$(cat child.pid)"
	kill -TERM $pid
	wait_exit $pid 30
	[ "$status" = 143 ]
	grep -q ": message 1 was not delivered and was put back on the queue: stopped by SIGTERM, sh exited with 143$" err
	! kill -0 "$(cat child.pid)" 2>/dev/null
	run -0 ipc-mq recv -a "$q"
	[ "$output" = x ]
}

@test "recv -- COMMAND: SIGINT while the command runs puts its message back, 130" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" x
	env --default-signal=INT ipc-mq recv "$q" -- sh -c 'echo $$ >child.pid; exec sleep 30' 2>err &
	pid=$!
	bg_track $pid
	poll_until 30 test -s child.pid
	bg_track "$(cat child.pid)"
	kill -INT $pid
	wait_exit $pid 30
	[ "$status" = 130 ]
	grep -q "message 1 was not delivered and was put back on the queue: stopped by SIGINT" err
	run -0 ipc-mq recv -a "$q"
	[ "$output" = x ]
}

@test "recv -- COMMAND: a command that finishes its message despite SIGTERM keeps it delivered" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" x y
	mkfifo fifo
	ipc-mq recv -f "$q" -- sh -c 'trap "" TERM; echo $$ >child.pid; read -r _ <fifo; cat >>got' 2>err &
	pid=$!
	bg_track $pid
	poll_until 30 test -s child.pid
	kill -TERM $pid
	exec 5<>fifo
	echo go >&5
	exec 5>&-
	wait_exit $pid 30
	[ "$status" = 143 ]
	[ "$(cat got)" = x ]
	[ ! -s err ]
	run -0 ipc-mq recv -a "$q"
	[ "$output" = y ]
}

@test "recv -- COMMAND: stdin is a sealed regular file holding the whole message" {
	q=$(newq)
	ipc-mq create "$q"
	ipc-mq send "$q" hello
	# F_GET_SEALS is 1034; 15 = F_SEAL_SEAL|SHRINK|GROW|WRITE.
	run -0 ipc-mq recv "$q" -- sh -c 'stat -L -c %F /dev/stdin
		python3 -c "import fcntl; print(fcntl.fcntl(0, 1034))"; cat'
	[ "${lines[0]}" = "regular file" ]
	[ "${lines[1]}" = 15 ]
	[ "${lines[2]}" = hello ]
}

@test "recv -- COMMAND: SIGKILL mid-delivery of 400 kB never shows the command a partial message" {
	max=/proc/sys/fs/mqueue/msgsize_max
	old=$(cat $max)
	if [ "$old" -lt 409600 ]; then
		echo 409600 2>/dev/null >$max || skip "cannot raise $max"
	fi
	q=$(newq)
	run ipc-mq create -S 409600 -M 1 "$q"
	[ "$old" -ge 409600 ] || echo "$old" >$max
	[ "$status" = 0 ]
	head -c 400000 /dev/zero | tr '\0' a | ipc-mq send "$q"
	mkfifo go
	ipc-mq recv "$q" -- sh -c 'echo $$ >child.pid; read -r _ <go; wc -c >out' &
	pid=$!
	bg_track $pid
	poll_until 30 test -s child.pid
	child=$(cat child.pid)
	bg_track "$child"
	kill -KILL $pid
	wait_exit $pid 30
	[ "$status" = 137 ]
	# The command dies with us (PR_SET_PDEATHSIG), before it reads.
	poll_until 30 sh -c "! kill -0 $child 2>/dev/null"
	[ ! -e out ]
}

@test "-v says what create, info, ls and rm did" {
	q=$(newq)
	run -0 --separate-stderr ipc-mq create -v "$q"
	[ "$stderr" = "ipc-mq: /${q#/}: created" ]
	run -0 --separate-stderr ipc-mq create -v "$q"
	[ "$stderr" = "ipc-mq: /${q#/}: exists already" ]
	if mountpoint -q /dev/mqueue; then
		run -0 --separate-stderr ipc-mq info -v "$q"
		[ "$stderr" = "ipc-mq: /${q#/}: the file /dev/mqueue/${q#/} (ls -l shows its owner)" ]
		run -0 --separate-stderr ipc-mq ls -v
		[[ "$stderr" == "ipc-mq: "*" queue(s) in /dev/mqueue" ]]
	fi
	run -0 --separate-stderr ipc-mq rm -v "$q"
	[ "$stderr" = "ipc-mq: /${q#/}: removed" ]
}

@test "timeout: exit 124 says why on stderr, in one line" {
	q=$(newq)
	ipc-mq create "$q"
	run -124 --separate-stderr timeout 60 ipc-mq recv -t 10ms "$q"
	[ "$stderr" = "ipc-mq: /${q#/}: no message came within 10ms (0 received)" ]
}
