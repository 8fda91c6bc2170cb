#!/usr/bin/env bats
# ipc-spawnpipe: one child relayed byte for byte, --fd, -t, and pools,
# with coreutils, sh, bash and python3 as the children users would run.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	kill_servers
}

# alive PID: PID runs (a zombie waiting for a reaper is dead).
alive() {
	[ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

dead() { ! alive "$1"; }

# lines_at_least FILE N: FILE has N lines or more.
lines_at_least() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}

# bg COMMAND...: in the background, away from bats' fd 3; sets bg_pid.
bg() {
	"$@" 3>&- &
	bg_pid=$!
	bg_track "$bg_pid"
}

# ---- one child ----

@test "stdin goes to the child and its output to stdout" {
	run -0 bash -c 'echo hello | ipc-spawnpipe -- sed "s/^/child got: /"'
	[ "$output" = "child got: hello" ]
}

@test "arguments reach the child verbatim, options after COMMAND are its own" {
	run -0 ipc-spawnpipe -- printf '[%s]' 'a b' '*' '' '-v' '--tag' '$HOME'
	[ "$output" = '[a b][*][][-v][--tag][$HOME]' ]
}

@test "yes | ipc-spawnpipe -- head -n1 terminates" {
	run -0 bash -c 'yes | ipc-spawnpipe -- head -n1'
	[ "$output" = y ]
}

@test "binary data passes unchanged, 10 MB each way at once" {
	head -c 10000000 /dev/urandom >in
	head -c 10000000 /dev/urandom >out.want
	# The child writes all of out.want before it reads anything: a relay
	# that blocks on one direction deadlocks here.
	ipc-spawnpipe -- python3 -c '
import sys
sys.stdout.buffer.write(open("out.want", "rb").read())
sys.stdout.flush()
open("in.got", "wb").write(sys.stdin.buffer.read())
' <in >out.got
	[ "$(sha256sum <in.got)" = "$(sha256sum <in)" ]
	[ "$(sha256sum <out.got)" = "$(sha256sum <out.want)" ]
}

@test "stdin from a file and output to a file or an O_APPEND file" {
	seq 100000 >in
	ipc-spawnpipe -- cat <in >out
	cmp in out
	echo first >app
	ipc-spawnpipe -- cat <in >>app
	[ "$(head -n1 app)" = first ]
	[ "$(tail -n +2 app | cmp - in && echo same)" = same ]
}

@test "a child that closes its stdin early: its output and status still come" {
	run -3 --separate-stderr bash -c 'head -c 10000000 /dev/zero |
	    ipc-spawnpipe -- sh -c "head -c 5 >/dev/null; exec <&-; seq 3; exit 3"'
	[ "$output" = "$(seq 3)" ]
	[ -z "$stderr" ]
}

@test "a grandchild holding the output open does not keep us waiting" {
	start=$SECONDS
	run -0 ipc-spawnpipe -- sh -c 'echo a; sleep 20 2>/dev/null & echo b' </dev/null
	[ "$output" = "$(printf 'a\nb')" ]
	(( SECONDS - start < 15 ))
}

@test "exit status is the child's: 0, 42, killed by SIGKILL 137" {
	run -0 ipc-spawnpipe -- true
	run -42 ipc-spawnpipe -- sh -c 'exit 42'
	run -137 --separate-stderr ipc-spawnpipe -- sh -c 'kill -KILL $$'
	[[ "$stderr" == *"killed by signal 9"* ]]
}

@test "not found is 127 and cannot run is 126, told apart from a child's exit 127" {
	run -127 --separate-stderr ipc-spawnpipe -- no-such-command-here
	[[ "$stderr" == "ipc-spawnpipe: cannot run 'no-such-command-here': No such file or directory" ]]
	printf 'echo hi\n' >noexec
	chmod 644 noexec
	run -126 --separate-stderr ipc-spawnpipe -- ./noexec
	[[ "$stderr" == *"cannot run './noexec': Permission denied"* ]]
	run -127 --separate-stderr ipc-spawnpipe -- sh -c 'exit 127'
	[ -z "$stderr" ]
}

# fds_of PID: PID's open descriptors, sorted, on one line.
fds_of() {
	ls "/proc/$1/fd" | sort -n | tr '\n' ' '
}

# closed_run COMMAND...: COMMAND with every descriptor above 2 closed
# (bats keeps some open) but $KEEP_FD, in the background; sets bg_pid.
closed_run() {
	python3 -c '
import os, sys
keep = int(os.environ.get("KEEP_FD", "0"))
for fd in range(3, 1024):
    if fd != keep:
        try: os.close(fd)
        except OSError: pass
if keep: os.set_inheritable(keep, True)
os.execvp(sys.argv[1], sys.argv[1:])' "$@" &
	bg_pid=$!
	bg_track "$bg_pid"
}

@test "the child has only 0, 1, 2 and what we inherited, none of ours" {
	# Its fds are looked at from outside while it sleeps.
	closed_run ipc-spawnpipe -- sh -c 'echo $$; exec sleep 60' </dev/null >out
	poll_until 30 test -s out
	[ "$(fds_of "$(cat out)")" = "0 1 2 " ]
	kill "$bg_pid"
	# An inherited descriptor passes through, at its number.
	KEEP_FD=7 closed_run ipc-spawnpipe -- sh -c 'echo $$; exec sleep 60' </dev/null >out2 7</dev/null
	poll_until 30 test -s out2
	[ "$(fds_of "$(cat out2)")" = "0 1 2 7 " ]
	kill "$bg_pid"
	# Each worker of a pool, too: no other worker's pipe ends.
	closed_run ipc-spawnpipe -j 3 -- sh -c 'echo $$; exec sleep 60' </dev/null >out3
	poll_until 30 lines_at_least out3 3
	for pid in $(cat out3); do
		[ "$(fds_of "$pid")" = "0 1 2 " ]
	done
	kill "$bg_pid"
	# --fd: the connection, and nothing else.
	closed_run ipc-spawnpipe --fd 5 -- sh -c 'echo $$; exec sleep 60' </dev/null >out4
	poll_until 30 test -s out4
	[ "$(fds_of "$(cat out4)")" = "0 1 2 5 " ]
	kill "$bg_pid"
	run -0 ipc-spawnpipe -- bash -c 'readlink /proc/self/fd/0 /proc/self/fd/1' </dev/null
	[[ "${lines[0]}" == pipe:* ]]
	[[ "${lines[1]}" == pipe:* ]]
}

@test "the child starts with SIGPIPE default and an empty signal mask" {
	# Even when ipc-spawnpipe itself was started with SIGPIPE ignored.
	run -0 bash -c "trap '' PIPE; ipc-spawnpipe -- grep -E '^Sig(Ign|Blk)' /proc/self/status </dev/null"
	ign=$(awk '/^SigIgn/ {print $2}' <<<"$output")
	blk=$(awk '/^SigBlk/ {print $2}' <<<"$output")
	(( (16#$ign & (1 << 12)) == 0 ))  # bit 13-1: SIGPIPE
	(( 16#$blk == 0 ))
	run -0 bash -c "trap '' PIPE; ipc-spawnpipe -- sh -c 'yes | head -n2' </dev/null"
	[ "$output" = "$(printf 'y\ny')" ]
}

@test "signals ignored when we start (nohup, a script's background job) stay ignored" {
	run -0 bash -c "trap '' INT HUP; ipc-spawnpipe -- grep SigIgn /proc/self/status </dev/null"
	ign=$(awk '{print $2}' <<<"$output")
	(( (16#$ign & 3) == 3 ))          # SIGHUP and SIGINT: still ignored
	(( (16#$ign & (1 << 12)) == 0 ))  # SIGPIPE: default all the same
	# ipc-spawnpipe itself ignores it too, and the child goes on.
	bash -c "trap '' HUP; exec ipc-spawnpipe -- sh -c 'echo ready; while [ ! -e go ]; do sleep 0.02; done; echo done'" \
	    </dev/null >out 3>&- &
	bg_pid=$!
	bg_track "$bg_pid"
	poll_until 30 grep -q ready out
	kill -HUP "$bg_pid"
	touch go
	wait_exit "$bg_pid" 30
	[ "$status" = 0 ]
	[ "$(cat out)" = "$(printf 'ready\ndone')" ]
}

@test "SIGTERM is forwarded; the exit status is the child's" {
	bg ipc-spawnpipe -- sh -c 'trap "echo got TERM; exit 3" TERM; echo ready
	    while :; do sleep 0.05; done' </dev/null >out
	poll_until 30 grep -q ready out
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" = 3 ]
	[ "$(cat out)" = "$(printf 'ready\ngot TERM')" ]
}

@test "a child killed by the forwarded SIGTERM: we die of SIGTERM too (143)" {
	bg ipc-spawnpipe -- sh -c 'echo ready; exec sleep 30' </dev/null >out
	poll_until 30 grep -q ready out
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" = 143 ]
}

@test "a terminal's Ctrl-C reaches the child once, not twice" {
	# A pty: the terminal sends SIGINT to the whole foreground group.
	run -0 python3 - <<'EOF'
import os, pty, signal, time
pid, fd = pty.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # whatever bats left
    os.execvp("ipc-spawnpipe", ["ipc-spawnpipe", "--", "sh", "-c",
        'n=0; trap "n=\\$((n+1))" INT; echo ready; '
        'while [ ! -e stop ]; do sleep 0.02; done; echo "INT=$n"'])
out = bytearray()
while b"ready" not in out:
    out.extend(os.read(fd, 100))
os.write(fd, b"\x03")
time.sleep(0.5)  # let a doubled signal arrive, if any
open("stop", "w").close()
while True:
    try:
        b = os.read(fd, 100)
    except OSError:
        break
    if not b:
        break
    out.extend(b)
_, st = os.waitpid(pid, 0)
import re
print(re.findall(rb"INT=[0-9]+", out)[-1].decode(), os.waitstatus_to_exitcode(st))
EOF
	[ "$output" = "INT=1 0" ]
}

@test "the child dies when ipc-spawnpipe is killed (PR_SET_PDEATHSIG)" {
	bg ipc-spawnpipe -- sh -c 'echo $$; exec sleep 30' </dev/null >out
	poll_until 30 test -s out
	child=$(cat out)
	alive "$child"
	kill -KILL "$bg_pid"
	poll_until 30 dead "$child"
}

@test "-t: SIGTERM, exit 124; SIGKILL 2 s later for a child that ignores it" {
	run -124 ipc-spawnpipe -t 200ms -- sleep 10
	start=$SECONDS
	run -124 --separate-stderr ipc-spawnpipe -t 100ms -- sh -c 'trap "" TERM; exec sleep 60'
	(( SECONDS - start < 20 ))
	[ "$stderr" = "ipc-spawnpipe: sh: still running after 100ms: ended (SIGTERM, then SIGKILL)" ]
	run -0 ipc-spawnpipe -t 10s -- true
}

@test "--fd: a duplex connection on descriptor FD, IPC_FD set, stdout untouched" {
	run -0 --separate-stderr bash -c 'printf "hello\nworld\n" | ipc-spawnpipe --fd 5 -- python3 -c "
import os, sys
fd = int(os.environ[\"IPC_FD\"])
assert sys.stdin.read() == \"\"   # stdin is /dev/null
f = os.fdopen(fd, \"r+b\", buffering=0)
data = bytearray()
while True:
    b = f.read(100)
    if not b: break
    data.extend(b)
print(\"on stdout\", fd, flush=True)
f.write(data.upper())
"'
	[ "${lines[0]}" = "on stdout 5" ]
	[ "${lines[1]}" = HELLO ]
	[ "${lines[2]}" = WORLD ]
	# A bash child, on descriptor 10: the first number the child's own
	# copies are moved to, so a careless dup2 would be dup2(10, 10).
	run -0 bash -c 'exec 10>&-; echo abc | ipc-spawnpipe --fd 10 -- bash -c "tr a-z A-Z <&\$IPC_FD >&10"'
	[ "$output" = ABC ]
	# A number at the descriptor limit cannot be had: 126, not a child
	# without its connection.
	run -126 --separate-stderr bash -c 'ulimit -n 64; ipc-spawnpipe --fd 63 -- true </dev/null'
	[[ "$stderr" == *"cannot run 'true'"* ]]
}

@test "--fd: a child that exits without reading all its input: its status, no error" {
	# Closing the socket with our input unread makes the kernel report
	# ECONNRESET to our reads: the child's choice, as in pipe mode.
	run -0 --separate-stderr timeout 60 bash -c 'seq 100000 | ipc-spawnpipe --fd 5 -- sh -c "head -n1 <&5"'
	[ "$output" = 1 ]
	[ -z "$stderr" ]
	run -0 --separate-stderr timeout 60 bash -c 'echo hi | ipc-spawnpipe --fd 5 -- sh -c "echo reply >&5"'
	[ "$output" = reply ]
	[ -z "$stderr" ]
	# All it wrote before it closed comes first; its status is passed on.
	run -3 --separate-stderr timeout 60 bash -c 'seq 100000 | ipc-spawnpipe --fd 5 -- sh -c "head -c 5 <&5 >/dev/null; seq 200000 >&5; exit 3" >out'
	[ -z "$stderr" ]
	seq 200000 | cmp - out
}

@test "usage errors: no COMMAND, bad -j, --fd with -j" {
	run -2 --separate-stderr ipc-spawnpipe
	[ "${stderr%%$'\n'*}" = "ipc-spawnpipe: COMMAND missing after --" ]
	run -2 --separate-stderr ipc-spawnpipe cat
	[ "${stderr%%$'\n'*}" = "ipc-spawnpipe: extra operand 'cat' (a COMMAND goes after --)" ]
	run -2 --separate-stderr ipc-spawnpipe -j 0 -- cat
	[ "$stderr" = "ipc-spawnpipe: --jobs: '0' is out of range (1 to 1024)" ]
	run -2 --separate-stderr ipc-spawnpipe -j x -- cat
	[ "$stderr" = "ipc-spawnpipe: --jobs: 'x' is not a number" ]
	run -2 --separate-stderr ipc-spawnpipe --fd 5 -j 2 -- cat
	[ "$stderr" = "ipc-spawnpipe: --fd runs one child: not with -j, --tag or framing" ]
	run -2 --separate-stderr ipc-spawnpipe -t 1x -- cat
	[ "$stderr" = "ipc-spawnpipe: --timeout: '1x' is not a duration (like 250ms, 1.5s, 2m, 1h)" ]
	run -2 --separate-stderr ipc-spawnpipe --jobs=2 --ta -k -- cat
	[ "${stderr%%$'\n'*}" = "ipc-spawnpipe: unknown option '-k'" ]
}

@test "after --, every word is COMMAND's, options included" {
	run -0 --separate-stderr ipc-spawnpipe --jobs=1 --ta -- echo -j 2 -- -v </dev/null
	[ "$output" = "$(printf '0\t-j 2 -- -v')" ]
}

# ---- pools ----

@test "-j 4 over 10,000 lines: none lost, none torn, each worker used" {
	seq 10000 | sed 's/$/ some padding to make lines longer/' >in
	ipc-spawnpipe -j 4 --tag -- sh -c 'exec sed "s/^/w$IPC_WORKER /"' <in >out
	# Lines keep their worker tag, as the worker wrote them.
	run -0 awk -F'\t' '{ split($2, a, " "); if ("w" $1 != a[1]) bad++ } END { print bad + 0 }' out
	[ "$output" = 0 ]
	cut -f2 out | cut -d' ' -f2- | sort -n >got
	cmp got in
	[ "$(cut -f1 out | sort -u | wc -l)" -ge 2 ]
}

@test "a pool's workers keep our scheduling policy; the dispatcher batches" {
	command -v chrt >/dev/null || skip "chrt (util-linux) not installed"
	run -0 ipc-spawnpipe -j 2 -- sh -c 'cat >/dev/null; chrt -p $$; chrt -p $PPID' </dev/null
	[ "$(grep -c "policy: SCHED_OTHER" <<<"$output")" = 2 ]
	[ "$(grep -c "policy: SCHED_BATCH" <<<"$output")" = 2 ]
}

@test "long lines (20 KB, over PIPE_BUF) from 4 workers are never torn" {
	seq 400 >in
	# Each worker writes every line in small pieces, so lines could only
	# stay whole if the merge keeps them so.
	ipc-spawnpipe -j 4 -- python3 -c '
import sys, os
for line in sys.stdin:
    n = int(line)
    s = (chr(97 + n % 26) * 20000 + " %d\n" % n).encode()
    for i in range(0, len(s), 1000):
        os.write(1, s[i:i + 1000])
' <in >out
	[ "$(wc -l <out)" = 400 ]
	run -0 python3 -c '
bad = 0
for line in open("out"):
    body, n = line.split()
    c = chr(97 + int(n) % 26)
    bad += body != c * 20000
print(bad)
'
	[ "$output" = 0 ]
	cut -d' ' -f2 out | sort -n | cmp - in
}

@test "a line over 64 KiB while another worker writes: cut at each 64 KiB, a newline added" {
	# Worker 0 writes one 200,000-byte line in four writes; worker 1
	# writes a line after each of the first three. The reader of our
	# output paces them through FIFOs (no sleep): worker 1 goes once the
	# reader has seen another 64 KiB piece, worker 0 once it has seen
	# worker 1's line. Every piece is 65536 bytes, the last the rest.
	mkfifo go0 go1
	cat >worker.py <<'EOF'
import os
w = os.environ["IPC_WORKER"]
go = open("go" + w)
if w == "0":
    for n in (65537, 65536, 65536, 3391):
        if n != 65537:
            go.readline()
        os.write(1, b"x" * n + (b"\n" if n == 3391 else b""))
else:
    for k in (1, 2, 3):
        go.readline()
        os.write(1, b"other %d\n" % k)
EOF
	cat >reader.py <<'EOF'
import os, sys
go0, go1 = open("go0", "w"), open("go1", "w")
got = bytearray()
def until(cond):
    global got
    while not cond():
        b = os.read(0, 1 << 16)
        if not b:
            sys.exit("early end of input")
        got.extend(b)
for k in (1, 2, 3):
    until(lambda: got.count(b"x") >= 65536 * k)
    go1.write("\n"); go1.flush()
    until(lambda: b"other %d\n" % k in got)
    go0.write("\n"); go0.flush()
sys.stdout.buffer.write(got + sys.stdin.buffer.read())
EOF
	run -0 --separate-stderr timeout 30 bash -c \
	    'ipc-spawnpipe -j 2 -- python3 worker.py </dev/null | python3 reader.py >out'
	[ -z "$stderr" ]
	# Every line is at most 64 KiB; the pieces joined are the line.
	[ "$(awk 'length($0) > 65536 { bad++ } END { print bad + 0 }' out)" = 0 ]
	[ "$(grep -v other out | tr -d '\n' | wc -c)" = 200000 ]
	# Cut exactly at each 64 KiB, a newline added there, nothing else.
	python3 -c 'import sys; x = b"x" * 65536; sys.stdout.buffer.write(
	    b"".join(x + b"\nother %d\n" % k for k in (1, 2, 3)) + x[:3392] + b"\n")' >want
	cmp out want
	# --tag: each part of the cut line gets the tag again.
	run -0 --separate-stderr timeout 30 bash -c \
	    'ipc-spawnpipe -j 2 --tag -- python3 worker.py </dev/null | python3 reader.py >out'
	[ -z "$stderr" ]
	python3 -c 'import sys; x = b"0\t" + b"x" * 65536; sys.stdout.buffer.write(
	    b"".join(x + b"\n1\tother %d\n" % k for k in (1, 2, 3)) + x[:3394] + b"\n")' >want
	cmp out want
}

@test "a short input is spread over the ready workers, not all given to one" {
	seq 40 >in
	run -0 bash -c 'ipc-spawnpipe -j 4 --tag -- cat <in | cut -f1 | sort -u | wc -l'
	[ "$output" = 4 ]
}

@test "a slow worker does not stall the others" {
	seq 1000000 >in
	# Worker 0 takes what fits in its pipe and one batch (128 KiB each, of
	# 6.9 MB), then waits for the file "go".
	# (An explicit redirection: a background job's stdin is /dev/null.)
	ipc-spawnpipe -j 4 -- sh -c '
	    if [ "$IPC_WORKER" = 0 ]; then
	        while [ ! -e go ]; do sleep 0.02; done
	    fi
	    exec cat' <in >out 3>&- &
	bg_pid=$!
	bg_track "$bg_pid"
	# The others finish nearly everything while worker 0 waits.
	poll_until 30 lines_at_least out 900000
	touch go
	wait_exit "$bg_pid" 30
	[ "$status" = 0 ]
	sort -n out | cmp - in
}

@test "a worker that dies: the others finish the rest, the count is reported" {
	seq 50000 >in
	run -7 --separate-stderr ipc-spawnpipe -j 3 -- sh -c '
	    if [ "$IPC_WORKER" = 1 ]; then head -n 3 >/dev/null; exit 7; fi
	    exec cat' <in
	[[ "$stderr" =~ worker\ 1\ .*\ ([0-9]+)\ messages?\ it\ took\ may\ not\ have\ been\ handled ]]
	took=${BASH_REMATCH[1]}
	# Everything not taken by worker 1 was handled by the others.
	[ "${#lines[@]}" -ge $((50000 - took)) ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -n | uniq -d | wc -l)" = 0 ]
}

@test "exit 0 only if every worker exits 0, else the first failure" {
	run -0 bash -c 'seq 10 | ipc-spawnpipe -j 3 -- cat >/dev/null'
	run -5 bash -c 'seq 10 | ipc-spawnpipe -j 3 -- sh -c "cat >/dev/null; [ \$IPC_WORKER = 2 ] && exit 5; exit 0"'
}

@test "--tag prefixes worker number and a tab; IPC_WORKER is 0..N-1" {
	run -0 bash -c 'seq 300 | ipc-spawnpipe -j 3 --tag -- sh -c "cat >/dev/null; echo I am \$IPC_WORKER" | sort'
	[ "$output" = "$(printf '0\tI am 0\n1\tI am 1\n2\tI am 2')" ]
}

@test "-0 and --netstring: messages go whole to one worker and come back framed" {
	run -0 bash -c 'printf "a b\0c\nd\0e" | ipc-spawnpipe -0 -j 2 -- cat |
	    python3 -c "import sys; print(sorted(sys.stdin.buffer.read().split(b\"\\0\")))"'
	[ "$output" = "[b'', b'a b', b'c\\nd', b'e']" ]
	run -0 bash -c 'printf "3:abc,5:de\nfg,0:," | ipc-spawnpipe --netstring -j 1 --tag -- cat'
	[ "$output" = "$(printf '5:0\tabc,7:0\tde\nfg,2:0\t,')" ]
	run -1 --separate-stderr bash -c 'printf "3:ab" | ipc-spawnpipe --netstring -- cat'
	[ "$stderr" = "ipc-spawnpipe: stdin: truncated netstring (3 bytes announced, 2 read)" ]
}

@test "malformed or truncated frames: the message says what is wrong" {
	# stdin: the messages before the bad frame are handled, then exit 1.
	run -1 --separate-stderr timeout 60 bash -c "printf '\0\0\0\5ab' | ipc-spawnpipe --len32 -- cat"
	[ -z "$output" ]
	[ "$stderr" = "ipc-spawnpipe: stdin: truncated len32 frame (5 bytes announced, 2 read)" ]
	run -1 --separate-stderr timeout 60 bash -c "printf '1:a,x:' | ipc-spawnpipe --netstring -- cat"
	[ "$output" = "1:a," ]
	[ "$stderr" = "ipc-spawnpipe: stdin: malformed netstring ('x' where its length should begin)" ]
	run -1 --separate-stderr timeout 60 bash -c "printf '2:ab;' | ipc-spawnpipe --netstring -- cat"
	[ -z "$output" ]
	[ "$stderr" = "ipc-spawnpipe: stdin: malformed netstring (';' after its 2 bytes, not ',')" ]
	# A worker's output: what came before is printed, the rest dropped.
	run -1 --separate-stderr timeout 60 bash -c "ipc-spawnpipe --netstring -- printf '2:ok,3:ab' </dev/null"
	[ "$output" = "2:ok," ]
	[ "$stderr" = "ipc-spawnpipe: output of worker 0: truncated netstring (3 bytes announced, 2 read)" ]
	run -1 --separate-stderr timeout 60 bash -c "ipc-spawnpipe --len32 -j 2 -- sh -c '[ \$IPC_WORKER = 1 ] && printf \"\\0\\0\\0\\7abc\"; true' </dev/null"
	[ -z "$output" ]
	[ "$stderr" = "ipc-spawnpipe: output of worker 1: truncated len32 frame (7 bytes announced, 3 read)" ]
}

@test "--max-message: pool messages in and out are held to it exactly, lines too" {
	run -1 --separate-stderr timeout 60 bash -c "printf '0123456789\nab\n01234567890\ncd\n' | ipc-spawnpipe -j 1 --max-message 10 -- cat"
	[ "$output" = "$(printf '0123456789\nab')" ]
	[ "$stderr" = "ipc-spawnpipe: stdin: line of more than 10 bytes, over the limit (--max-message raises it)" ]
	# A line with no newline is refused once it is over, not held on.
	run -1 --separate-stderr timeout 60 bash -c "yes | tr -d '\n' | ipc-spawnpipe -j 1 --max-message 1M -- wc -c"
	[ "$output" = 0 ]
	[ "$stderr" = "ipc-spawnpipe: stdin: line of more than 1048576 bytes, over the limit (--max-message raises it)" ]
	run -0 timeout 60 bash -c "printf 'ab\0cd' | ipc-spawnpipe -0 --max-message 2 -- cat | od -An -c"
	[ "$(echo $output)" = 'a b \0 c d \0' ]
	run -1 --separate-stderr timeout 60 bash -c "printf '3:abc,' | ipc-spawnpipe --netstring --max-message 5 -- sh -c 'cat >/dev/null; printf 5:abcde,6:abcdef,'"
	[ "$output" = "5:abcde," ]
	[ "$stderr" = "ipc-spawnpipe: output of worker 0: netstring of 6 bytes, over the limit of 5 (--max-message raises it)" ]
}

@test "the default limit is 64 MiB: one byte more is refused, --max-message raises it" {
	head -c $((64 << 20)) /dev/zero | tr '\0' a >big
	run -0 timeout 120 bash -c "(cat big; echo) | ipc-spawnpipe -j 1 -- wc -c"
	[ "$output" = $(((64 << 20) + 1)) ]
	printf a >>big
	run -1 --separate-stderr timeout 120 bash -c "(cat big; echo) | ipc-spawnpipe -j 1 -- wc -c"
	[ "$stderr" = "ipc-spawnpipe: stdin: line of more than 67108864 bytes, over the limit (--max-message raises it)" ]
	run -0 timeout 120 bash -c "(cat big; echo) | ipc-spawnpipe -j 1 --max-message 65M -- wc -c"
	[ "$output" = $(((64 << 20) + 2)) ]
	run -2 --separate-stderr ipc-spawnpipe --max-message 1M -- true
	[ "$stderr" = "ipc-spawnpipe: --max-message bounds the messages of a pool: give -j, --tag or a framing option too" ]
}

@test "--len32 pool speaks Python's multiprocessing.connection framing" {
	cat >worker.py <<'EOF'
from multiprocessing.connection import Connection
i, o = Connection(0, writable=False), Connection(1, readable=False)
while True:
    try:
        m = i.recv_bytes()
    except EOFError:
        break
    o.send_bytes(m.upper())
EOF
	cat >send.py <<'EOF'
from multiprocessing.connection import Connection
o = Connection(1, readable=False)
for n in range(500):
    o.send_bytes(b"msg %d\x00\nbin" % n)
EOF
	cat >recv.py <<'EOF'
from multiprocessing.connection import Connection
i = Connection(0, writable=False)
got = []
while True:
    try:
        got.append(i.recv_bytes())
    except EOFError:
        break
want = sorted(b"MSG %d\x00\nBIN" % n for n in range(500))
print(len(got), sorted(got) == want)
EOF
	run -0 bash -c 'python3 send.py | ipc-spawnpipe --len32 -j 3 -- python3 worker.py | python3 recv.py'
	[ "$output" = "500 True" ]
}

@test "a worker that fails after reading everything: all it took is counted" {
	run -4 --separate-stderr bash -c 'seq 12345 | ipc-spawnpipe -j 1 -- sh -c "cat >/dev/null; exit 4"'
	[[ "$stderr" == *"worker 0 exited with status 4; 12345 messages it took may not have been handled"* ]]
}

@test "our stdout closed: the child gets SIGPIPE, no message, no hang" {
	run -0 --separate-stderr bash -c 'ipc-spawnpipe -- yes | head -n1; echo "${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'y\n141')" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c 'seq 1000000 | ipc-spawnpipe -j 2 -- cat | head -n1; echo "${PIPESTATUS[1]}"'
	# Either worker may answer first: any one whole input line.
	[[ "${lines[0]}" =~ ^[1-9][0-9]*$ ]]
	[ "${lines[1]}" != 0 ]
	[ -z "$stderr" ]
}

@test "a pool: SIGTERM reaches every worker" {
	ipc-spawnpipe -j 3 -- sh -c 'trap "echo TERM \$IPC_WORKER; exit 0" TERM
	    echo ready; while :; do sleep 0.05; done' </dev/null >out 3>&- &
	bg_pid=$!
	bg_track "$bg_pid"
	poll_until 30 lines_at_least out 3
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" = 0 ]
	[ "$(grep TERM out | sort)" = "$(printf 'TERM 0\nTERM 1\nTERM 2')" ]
}

@test "-t on a pool: every worker is stopped, exit 124" {
	run -124 --separate-stderr ipc-spawnpipe -j 3 -t 200ms -- sleep 10 </dev/null
	[ "$stderr" = "ipc-spawnpipe: sleep: still running after 200ms: ended (SIGTERM)" ]
}

@test "timeout: exit 124 says why on stderr, in one line" {
	run -124 --separate-stderr timeout 60 ipc-spawnpipe -t 10ms -- sleep 30
	[ "$stderr" = "ipc-spawnpipe: sleep: still running after 10ms: ended (SIGTERM)" ]
}
