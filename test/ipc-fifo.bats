#!/usr/bin/env bats
# ipc-fifo: make, read, write, rm, against coreutils mkfifo/cat and bash
# redirections as peers.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	f=$BATS_TEST_TMPDIR/$(uniq_name fifo)
}

teardown() {
	kill_servers
	rm -f "$f"
}

# in_syscall PID NR: PID is asleep inside system call NR (x86_64: openat
# 257, read 0, write 1, splice 275, tee 276).
in_syscall() {
	local nr rest state
	read -r nr rest <"/proc/$1/syscall" 2>/dev/null || return 1
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ "$nr" = "$2" ] && [ "$state" = S ]
}

# cpu_ticks PID: user + system clock ticks PID has used so far.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# bg COMMAND...: runs COMMAND in the background (away from bats' fd 3),
# sets $bg_pid, and has it killed in teardown.
bg() {
	# <&0: an async command's stdin would otherwise be /dev/null.
	"$@" 3>&- <&0 &
	bg_pid=$!
	bg_track "$bg_pid"
}

# interposer: builds test/preload/interpose.c (races made to happen at the
# one moment that matters) and sets $shim; skips without a C compiler.
interposer() {
	command -v cc >/dev/null || skip "needs cc for the LD_PRELOAD interposer"
	shim=$BATS_TEST_TMPDIR/interpose.so
	cc -shared -fPIC -o "$shim" "$BATS_TEST_DIRNAME/preload/interpose.c" || return 1
	# ASan wants its runtime first; the interposer comes before it.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}

# ---- make, rm ----

@test "make: mode 0600 by default, where mkfifo(1) gives 0644" {
	umask 022
	run -0 ipc-fifo make "$f" "$f.2"
	[ -p "$f" ]
	[ -p "$f.2" ]
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(stat -c %a "$f.2")" = 600 ]
	mkfifo "$f.3"
	[ "$(stat -c %a "$f.3")" = 644 ]
	rm -f "$f.2" "$f.3"
}

@test "make --mode is exact whatever the umask, as mkfifo -m is" {
	umask 077
	run -0 ipc-fifo make --mode 0664 "$f"
	mkfifo -m 0664 "$f.ref"
	[ "$(stat -c %a "$f")" = 664 ]
	[ "$(stat -c %a "$f.ref")" = 664 ]
	rm -f "$f.ref"
}

@test "make: an existing FIFO is fine unless -x (as create in ipc-mq, ipc-shmcount); any other file never" {
	mkfifo "$f"
	ino=$(stat -c %i "$f")
	run -0 ipc-fifo make "$f"
	[ "$(stat -c %i "$f")" = "$ino" ]
	run -1 --separate-stderr ipc-fifo make -x "$f"
	[ "$stderr" = "ipc-fifo: $f: a FIFO already exists (-x wants a new one)" ]
	run -2 ipc-fifo make -p "$f"
	echo data >"$f.reg"
	run -1 --separate-stderr ipc-fifo make "$f.reg"
	[[ "$stderr" == *"$f.reg: exists and is a regular file"* ]]
	[ "$(cat "$f.reg")" = data ]
	rm -f "$f.reg"
}

@test "make: bad modes are usage errors" {
	run -2 ipc-fifo make --mode 999 "$f"
	run -2 ipc-fifo make --mode 4755 "$f"
	run -2 ipc-fifo make --mode '' "$f"
	[ ! -e "$f" ]
}

@test "rm removes FIFOs and nothing else" {
	mkfifo "$f"
	echo keep >"$f.reg"
	mkdir "$f.dir"
	mkfifo "$f.target"
	ln -s "$f.target" "$f.lnk"
	run -0 ipc-fifo rm "$f"
	[ ! -e "$f" ]
	run -1 --separate-stderr ipc-fifo rm "$f.reg" "$f.dir" "$f.lnk"
	[[ "$stderr" == *"$f.reg: is a regular file, not a FIFO"* ]]
	[[ "$stderr" == *"$f.dir: is a directory"* ]]
	[[ "$stderr" == *"$f.lnk: is a symbolic link"* ]]
	[ "$(cat "$f.reg")" = keep ]
	[ -d "$f.dir" ]
	[ -L "$f.lnk" ]
	[ -p "$f.target" ]
	rm -rf "$f.reg" "$f.dir" "$f.lnk" "$f.target"
}

@test "rm: a file swapped in after the check is left alone, exit 1" {
	interposer
	mkfifo "$f" "$f.new"
	local ino
	ino=$(stat -c %i "$f.new")
	# the interposer renames $f.new over $f just before rm looks again
	IPC_TEST_SWAP=$f.new LD_PRELOAD=$shim run -1 --separate-stderr ipc-fifo rm "$f"
	[[ "$stderr" == *"$f: replaced while being removed, left alone"* ]]
	[ -p "$f" ]
	[ "$(stat -c %i "$f")" = "$ino" ]
}

# ---- every verb refuses what is not a FIFO of ours ----

@test "read and write refuse a regular file, a directory, a socket, a device" {
	printf 'precious\n' >"$f.reg"
	mkdir "$f.dir"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' s.sock
	for p in "$f.reg" "$f.dir" s.sock /dev/null; do
		run -1 --separate-stderr ipc-fifo write -t 1 -m evil "$p"
		[[ "$stderr" == *"not a FIFO"* ]]
		run -1 --separate-stderr ipc-fifo read -t 1 "$p"
		[[ "$stderr" == *"not a FIFO"* ]]
		[ -z "$output" ]
	done
	[ "$(cat "$f.reg")" = precious ]
	# -c does not turn an existing file into a FIFO either.
	run -1 ipc-fifo write -c -m evil "$f.reg"
	[ "$(cat "$f.reg")" = precious ]
	rm -rf "$f.reg" "$f.dir" s.sock
}

@test "a symlink planted to /etc/passwd or a regular file is refused and untouched" {
	before=$(sha256sum /etc/passwd)
	ln -s /etc/passwd "$f"
	run -1 --separate-stderr ipc-fifo write -t 1 -m 'evil::0:0::/:/bin/sh' "$f"
	[[ "$stderr" == *"symbolic link, not followed without --follow"* ]]
	run -1 ipc-fifo read -t 1 "$f"
	run -1 ipc-fifo write -c -t 1 -m evil "$f"
	# Even when asked to follow, the target is no FIFO.
	run -1 --separate-stderr ipc-fifo write --follow -t 1 -m evil "$f"
	[[ "$stderr" == *"is a regular file, not a FIFO"* ]]
	[ "$(sha256sum /etc/passwd)" = "$before" ]
	rm -f "$f"
	echo secret >"$f.target"
	ln -s "$f.target" "$f"
	run -1 ipc-fifo write -m evil "$f"
	[ "$(cat "$f.target")" = secret ]
	rm -f "$f.target"
}

@test "a symlink to a FIFO is followed only with --follow" {
	mkfifo "$f.target"
	ln -s "$f.target" "$f"
	run -1 ipc-fifo write -t 0 -m x "$f"
	bg cat "$f.target"
	run -0 ipc-fifo write --follow -t 30 -m through "$f"
	wait_exit "$bg_pid" 30
	rm -f "$f.target"
}

@test "a FIFO of another user is refused unless --shared" {
	skip_unless_root
	mkfifo "$f"
	chown nobody "$f"
	run -1 --separate-stderr ipc-fifo read -t 0 "$f"
	[[ "$stderr" == *"owned by nobody"*"--shared"* ]]
	run -1 ipc-fifo write -t 0 -m x "$f"
	# --shared gets past the check: no writer came, a timeout.
	run -124 ipc-fifo read --shared -t 0 "$f"
}

@test "a missing FIFO is an error without -c; a name too long is named" {
	run -1 --separate-stderr ipc-fifo read -t 1 "$f"
	[[ "$stderr" == *"$f: No such file or directory"* ]]
	run -1 ipc-fifo write -t 1 -m x "$f"
	[ ! -e "$f" ]
	long=$(printf '%0300d' 0)
	run -1 --separate-stderr ipc-fifo write -c -m x "$long"
	[[ "$stderr" == *"$long: File name too long"* ]]
	run -1 --separate-stderr ipc-fifo make "$long"
	[[ "$stderr" == *"File name too long"* ]]
}

# ---- read ----

@test "read copies what a bash redirection and cat write" {
	ipc-fifo make "$f"
	bg ipc-fifo read -t 60 "$f" >out
	echo 'hello from bash' >"$f"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat out)" = 'hello from bash' ]
	bg ipc-fifo read -t 60 "$f" >out
	printf 'a\nb\n' | cat >"$f"
	wait_exit "$bg_pid" 30
	[ "$(cat out)" = "$(printf 'a\nb')" ]
}

@test "read -k goes on across writers; SIGTERM ends it with 143" {
	mkfifo "$f"
	bg ipc-fifo read -k "$f" >out
	echo one >"$f"
	ipc-fifo write -m two "$f"
	printf 'three\n' | ipc-fifo write "$f"
	poll_until 30 grep -qx three out
	[ "$(cat out)" = "$(printf 'one\ntwo\nthree')" ]
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 143 ]
}

@test "read -k started with SIGINT ignored (trap '' INT) keeps it ignored" {
	mkfifo "$f"
	bg bash -c "trap '' INT; exec ipc-fifo read -k \"\$1\"" sh "$f" >out
	poll_until 30 in_syscall "$bg_pid" 257
	kill -INT "$bg_pid"
	echo one >"$f"
	poll_until 30 grep -qx one out
	kill -INT "$bg_pid"
	ipc-fifo write -m two "$f"
	poll_until 30 grep -qx two out
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 143 ]
}

@test "an idle read -k uses no CPU after the last writer left" {
	mkfifo "$f"
	bg ipc-fifo read -k "$f" >out
	ipc-fifo write -m gone "$f"
	poll_until 30 grep -qx gone out
	# No writer left: the reader must be asleep in splice, not spinning.
	poll_until 30 in_syscall "$bg_pid" 275
	t0=$(cpu_ticks "$bg_pid")
	# A bounded one-second operation of our own as the idle interval.
	run -124 ipc-fifo read -c -t 1s "$f.idle"
	[ ! -e "$f.idle" ]
	t1=$(cpu_ticks "$bg_pid")
	echo "ticks used while idle: $((t1 - t0))"
	[ $((t1 - t0)) -le 2 ]
	in_syscall "$bg_pid" 275
	# And it still works.
	ipc-fifo write -m again "$f"
	poll_until 30 grep -qx again out
}

@test "read -n consumes exactly COUNT lines; the rest stays for the next reader" {
	mkfifo "$f"
	exec {hold}<>"$f"   # bash keeps the FIFO open, as a writer would
	printf '1\n2\n3\n4\n5' >&"$hold"
	run -0 ipc-fifo read -n 2 "$f"
	[ "$output" = "$(printf '1\n2')" ]
	run -0 ipc-fifo read -n 1 "$f"
	[ "$output" = 3 ]
	printf '\n6\n' >&"$hold"
	# What the earlier readers left is still there, in order.
	run -0 ipc-fifo read -n 3 "$f"
	[ "$output" = "$(printf '4\n5\n6')" ]
	exec {hold}>&-
}

@test "read -n: another reader taking bytes between peek and read is exit 1" {
	interposer
	mkfifo "$f"
	exec {hold}<>"$f"
	# some bytes taken: what -n reads is not what it peeked
	printf 'ab\ncd\nef\n' >&"$hold"
	IPC_TEST_STEAL=2 LD_PRELOAD=$shim run -1 --separate-stderr ipc-fifo read -n 1 "$f"
	[[ "$stderr" == *"$f: another reader took bytes from the FIFO while -n was reading"* ]]
	[ -z "$output" ]
	# all taken: nothing is left to read, and -n does not wait for more
	printf 'gh\n' >&"$hold"
	IPC_TEST_STEAL=4096 LD_PRELOAD=$shim run -1 --separate-stderr timeout 30 ipc-fifo read -n 1 "$f"
	[[ "$stderr" == *"another reader took bytes"* ]]
	exec {hold}>&-
}

@test "read -n with a line far larger than a pipe" {
	mkfifo "$f"
	head -c 200000 /dev/zero | tr '\0' x >big
	{ cat big; printf '\nafter\nrest\n'; } >src
	exec {hold}<>"$f"
	bg ipc-fifo write "$f" <src
	ipc-fifo read -n 2 "$f" >out
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	{ cat big; printf '\nafter\n'; } | cmp - out
	run -0 ipc-fifo read -n 1 "$f"
	[ "$output" = rest ]
	exec {hold}>&-
}

@test "read -k -n COUNT waits across writers for COUNT lines" {
	mkfifo "$f"
	bg ipc-fifo read -k -n 3 "$f" >out
	for w in a b c; do echo "$w" >"$f"; done
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat out)" = "$(printf 'a\nb\nc')" ]
}

@test "-t bounds the wait for the other end: 124 for read and for write" {
	mkfifo "$f"
	start=$SECONDS
	run -124 --separate-stderr ipc-fifo read -t 300ms "$f"
	[[ "$stderr" == *"no writer came"* ]]
	run -124 --separate-stderr ipc-fifo write -t 300ms -m x "$f"
	[[ "$stderr" == *"no reader came"* ]]
	run -124 ipc-fifo write -t 0 -m x "$f"
	run -124 ipc-fifo read -t 0 "$f"
	[ $((SECONDS - start)) -le 15 ]
	# In time: the other end is there.
	bg cat "$f"
	run -0 ipc-fifo write -t 30 -m x "$f"
}

# ---- write ----

@test "write -m and stdin reach cat; write waits in open(2), not polling" {
	mkfifo "$f"
	bg ipc-fifo write -m 'hello world' "$f"
	# Asleep in openat until a reader comes: no retry loop on ENXIO.
	poll_until 30 in_syscall "$bg_pid" 257
	run -0 cat "$f"
	[ "$output" = 'hello world' ]
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	bg cat "$f" >out
	printf 'x\ny\n' | ipc-fifo write "$f"
	wait_exit "$bg_pid" 30
	[ "$(cat out)" = "$(printf 'x\ny')" ]
}

@test "write sends each complete line at once, not when its buffer fills" {
	mkfifo "$f" go
	bg ipc-fifo read -k -n 2 "$f" >out
	reader=$bg_pid
	{ echo first; read -r _ <go; echo second; } 3>&- | ipc-fifo write "$f" 3>&- &
	writer=$!
	poll_until 30 grep -qx first out
	echo go >go
	wait_exit "$reader" 30
	[ "$status" -eq 0 ]
	[ "$(cat out)" = "$(printf 'first\nsecond')" ]
	# Not a bare wait: bats's BATS_TEST_TIMEOUT watchdog is a job too.
	wait "$writer"
	rm -f go
}

@test "read: a stdout whose reader left ends it quietly with status 1" {
	mkfifo "$f"
	bg ipc-fifo write --raw "$f" </dev/zero
	run --separate-stderr bash -c 'ipc-fifo read "$1" | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"' _ "$f"
	[ "$output" = 1 ]
	[ -z "$stderr" ]
	# ... and the writer learns it: exit 1, with the bytes it delivered.
	wait_exit "$bg_pid" 30
	[ "$status" -eq 1 ]
}

@test "read: a stdout not open for writing is named as stdout, not the FIFO" {
	mkfifo "$f"
	bg ipc-fifo write -m data "$f"
	run -1 --separate-stderr bash -c 'timeout 60 ipc-fifo read "$1" 1</dev/null' _ "$f"
	[ "$stderr" = "ipc-fifo: stdout: Bad file descriptor" ]
	wait_exit "$bg_pid" 30
}

@test "binary data passes intact: cmp of 100 MB, lines and --raw" {
	head -c 100000000 /dev/urandom >src
	ipc-fifo make "$f"
	bg ipc-fifo read "$f" >out
	ipc-fifo write "$f" <src
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	cmp src out
	# From a pipe: the long lines are copied, not spliced from the file.
	bg ipc-fifo read "$f" >out
	cat src | ipc-fifo write "$f"
	wait_exit "$bg_pid" 30
	cmp src out
	bg cat "$f" >out
	ipc-fifo write --raw "$f" <src
	wait_exit "$bg_pid" 30
	cmp src out
	# A long line spliced from a file: stdin's offset is respected.
	head -c 300000 /dev/zero | tr '\0' a >as
	bg ipc-fifo read "$f" >out
	{ dd bs=5 count=1 of=/dev/null status=none; ipc-fifo write "$f"; } <as
	wait_exit "$bg_pid" 30
	tail -c +6 as | cmp - out
	rm -f src out as
}

@test "concurrent writers never interleave lines (4 x 2000 lines up to PIPE_BUF)" {
	mkfifo "$f"
	for w in 0 1 2 3; do
		awk -v w=$w 'BEGIN { pad = w; while (length(pad) < 3000) pad = pad pad
			for (n = 0; n < 2000; n++)
				printf "w%d-%d:%s:end\n", w, n,
				    substr(pad, 1, (n * 37 + w * 11) % 3000) }' >"in.$w"
	done
	bg ipc-fifo read -k -n 8000 "$f" >out
	reader=$bg_pid
	pids=()
	for w in 0 1 2 3; do
		ipc-fifo write "$f" <"in.$w" 3>&- &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	wait_exit "$reader" 30
	[ "$status" -eq 0 ]
	[ "$(wc -l <out)" -eq 8000 ]
	# Every line whole: its padding is its writer's digit, of the
	# length its number gives, and it ends in "end".
	run -0 awk -F: '{ if (NF != 3 || $1 !~ /^w[0-3]-[0-9]+$/ || $3 != "end") { bad++; next }
		w = substr($1, 2, 1); n = substr($1, 4)
		if (length($2) != (n * 37 + w * 11) % 3000 || $2 ~ "[^" w "]") bad++ }
		END { print bad + 0 }' out
	[ "$output" = 0 ]
	for w in 0 1 2 3; do
		[ "$(grep -c "^w$w-" out)" -eq 2000 ]
		# Each writer's lines arrive in its order.
		diff <(grep "^w$w-" out) "in.$w"
	done
}

@test "a reader leaving mid-stream: exit 1 with the bytes delivered" {
	head -c 1000000 /dev/zero | tr '\0' 'z' | fold -w 99 >src
	mkfifo "$f"
	for mode in "" --raw; do
		bg head -c 1000 "$f"
		run -1 --separate-stderr ipc-fifo write $mode "$f" <src
		[[ "$stderr" =~ "reader went away after "[0-9]+" bytes" ]]
		wait_exit "$bg_pid" 30
	done
}

@test "SIGTERM and SIGINT while blocked in open: 143/130, the -c FIFO removed" {
	bg ipc-fifo read -c "$f"
	poll_until 30 in_syscall "$bg_pid" 257
	[ -p "$f" ]
	[ "$(stat -c %a "$f")" = 600 ]
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 143 ]
	[ ! -e "$f" ]
	bg env --default-signal=INT ipc-fifo write -c --mode 0620 -m x "$f"
	poll_until 30 in_syscall "$bg_pid" 257
	[ "$(stat -c %a "$f")" = 620 ]
	kill -INT "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 130 ]
	[ ! -e "$f" ]
}

@test "-c removes what it made on normal exit, on error, on timeout" {
	bg ipc-fifo read -c "$f" >out
	poll_until 30 test -p "$f"
	ipc-fifo write -m msg "$f"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 0 ]
	[ "$(cat out)" = msg ]
	[ ! -e "$f" ]
	run -124 ipc-fifo write -c -t 200ms -m x "$f"
	[ ! -e "$f" ]
	head -c 1000000 /dev/zero >src
	bg ipc-fifo write -c --raw "$f" <src
	poll_until 30 test -p "$f"
	head -c 10 "$f" >/dev/null
	wait_exit "$bg_pid" 30
	[ "$status" -eq 1 ]
	[ ! -e "$f" ]
}

@test "-c keeps a FIFO it did not make, and one replaced since" {
	mkfifo "$f"
	run -124 ipc-fifo read -c -t 100ms "$f"
	[ -p "$f" ]
	rm -f "$f"
	bg ipc-fifo read -c "$f"
	poll_until 30 in_syscall "$bg_pid" 257
	# Someone replaces the path meanwhile: that one is not ours.
	mv "$f" "$f.old"
	mkfifo "$f"
	ino=$(stat -c %i "$f")
	kill -TERM "$bg_pid"
	wait_exit "$bg_pid" 30
	[ "$status" -eq 143 ]
	[ -p "$f" ]
	[ "$(stat -c %i "$f")" = "$ino" ]
	[ -p "$f.old" ]
	rm -f "$f.old"
}

@test "usage errors exit 2" {
	run -2 ipc-fifo
	run -2 ipc-fifo frobnicate "$f"
	run -2 ipc-fifo read "$f" "$f.2"
	run -2 ipc-fifo read -n -1 "$f"
	run -2 ipc-fifo read -n 12abc "$f"
	run -2 ipc-fifo read -t soon "$f"
	run -2 ipc-fifo write -k "$f"
	run -2 ipc-fifo make --follow "$f"
	run -2 --separate-stderr ipc-fifo rm --shared "$f"
	[[ "$stderr" == *usage:* ]]
	run -0 ipc-fifo --help
	[[ "$output" == *"write "* ]]
	run -0 ipc-fifo read --help
	[[ "$output" == *"ipc-fifo read "* && "$output" != *"ipc-fifo write"* ]]
}

@test "command line: options may follow PATH; one wording per mistake" {
	run -124 timeout 60 ipc-fifo read "$f" -c -t 100ms
	[ ! -e "$f" ]
	run -2 --separate-stderr ipc-fifo read -n "$f"
	[ "${stderr%%$'\n'*}" = "ipc-fifo: --count: '$f' is not a number" ]
	run -2 --separate-stderr ipc-fifo read -z "$f"
	[ "${stderr%%$'\n'*}" = "ipc-fifo: unknown option '-z'" ]
	run -2 --separate-stderr ipc-fifo frob "$f"
	[ "${stderr%%$'\n'*}" = "ipc-fifo: unknown verb 'frob' (verbs: make read write rm)" ]
	run -2 --separate-stderr ipc-fifo read -t
	[ "${stderr%%$'\n'*}" = "ipc-fifo: option '-t' needs an argument (DUR)" ]
	run -2 --separate-stderr ipc-fifo rm --mode 600 "$f"
	[ "${stderr%%$'\n'*}" = "ipc-fifo: option '--mode' is for make read write, not rm" ]
}

@test "-v says what make and rm did" {
	run -0 --separate-stderr ipc-fifo make -v "$f"
	[ "$stderr" = "ipc-fifo: $f: made" ]
	run -0 --separate-stderr ipc-fifo -v make "$f"
	[ "$stderr" = "ipc-fifo: $f: a FIFO already, left as it is" ]
	run -0 --separate-stderr ipc-fifo rm -v "$f"
	[ "$stderr" = "ipc-fifo: $f: removed" ]
	[ ! -e "$f" ]
}

@test "0 is an amount: read -n 0 takes nothing and waits for no writer" {
	mkfifo "$f"
	run -0 --separate-stderr timeout 60 ipc-fifo read -n 0 "$f"
	[ -z "$output" ]
	[ -z "$stderr" ]
}
