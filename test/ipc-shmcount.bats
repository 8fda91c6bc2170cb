#!/usr/bin/env bats
# ipc-shmcount: atomic counters in /dev/shm, checked through the executable
# and through python3 reading the documented layout.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	C=$(uniq_name ipct-shmc-)
	D=$(uniq_name ipct-shmd-)
}

teardown() {
	kill_servers
	rm -f "/dev/shm/$C" "/dev/shm/$D"
}

# field OFFSET FORMAT: one field of /dev/shm/$C read through the layout.
field() {
	python3 -c 'import mmap, os, struct, sys
fd = os.open("/dev/shm/" + sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 64, prot=mmap.PROT_READ)
print(struct.unpack_from("=" + sys.argv[3], m, int(sys.argv[2]))[0])' "$C" "$1" "$2"
}

# in_futex PID: PID sleeps in futex(2) (x86_64: 202), as wait does.
in_futex() {
	local nr rest
	read -r nr rest <"/proc/$1/syscall" 2>/dev/null || return 1
	[ "$nr" = 202 ] && [ "$(awk '{print $3}' "/proc/$1/stat")" = S ]
}
value_above() { [ "$(field 16 q)" -gt "$1" ]; }

@test "create: 0600 by default, --mode exact under any umask, -i, -x" {
	run -0 ipc-shmcount create "$C"
	[ "$(stat -c %a "/dev/shm/$C")" = 600 ]
	[ "$(stat -c %s "/dev/shm/$C")" = 64 ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = 0 ]
	(umask 077 && ipc-shmcount create --mode 0644 --initial -42 "$D")
	[ "$(stat -c %a "/dev/shm/$D")" = 644 ]
	run -0 ipc-shmcount get "/$D"
	[ "$output" = -42 ]
	run -1 --separate-stderr ipc-shmcount create -x "$D"
	[[ "$stderr" == *"/$D: exists"* ]]
	# Without -x an existing counter is fine and keeps its value.
	run -0 ipc-shmcount create --initial 7 "$D"
	run -0 ipc-shmcount get "$D"
	[ "$output" = -42 ]
}

@test "get, set, incr, decr print values; -n prints the final value once" {
	ipc-shmcount create "$C"
	run -0 ipc-shmcount incr "$C"
	[ "$output" = 1 ]
	run -0 ipc-shmcount incr "$C" 10
	[ "$output" = 11 ]
	run -0 ipc-shmcount decr "$C" -4
	[ "$output" = 15 ]
	run -0 ipc-shmcount incr -n 5 "$C" 2
	[ "$output" = 25 ]
	run -0 ipc-shmcount decr -n 30 "/$C"
	[ "$output" = -5 ]
	run -0 --separate-stderr ipc-shmcount set "$C" 123
	[ -z "$output" ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = 123 ]
	run -0 ipc-shmcount set "$C" -9223372036854775808
	run -0 ipc-shmcount get "$C"
	[ "$output" = -9223372036854775808 ]
}

@test "incr -c creates a missing counter; without -c it is exit 1" {
	run -1 --separate-stderr ipc-shmcount incr "$C"
	[[ "$stderr" == *"/$C: no such counter"* ]]
	[ ! -e "/dev/shm/$C" ]
	run -0 ipc-shmcount incr -c "$C" 5
	[ "$output" = 5 ]
	[ "$(stat -c %a "/dev/shm/$C")" = 600 ]
	run -1 ipc-shmcount get "$D"
	run -1 ipc-shmcount wait -t 0 "$D" --ge 0
}

@test "N processes x M increments = N x M exactly (incr -n)" {
	ipc-shmcount create "$C"
	local pids=() i
	for i in 1 2 3 4; do
		ipc-shmcount incr -n 200000 "$C" >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run -0 ipc-shmcount get "$C"
	[ "$output" = 800000 ]
	# decr races with incr just as well
	ipc-shmcount decr -n 100000 "$C" 3 >/dev/null &
	i=$!
	ipc-shmcount incr -n 100000 "$C" 2 >/dev/null
	# Not a bare wait: bats's BATS_TEST_TIMEOUT watchdog is a job too.
	wait "$i"
	run -0 ipc-shmcount get "$C"
	[ "$output" = 700000 ]
}

@test "many one-shot processes lose no update; racing -c creators agree" {
	local i
	for i in 1 2 3 4; do
		(for _ in $(seq 40); do ipc-shmcount incr -c "$C" >/dev/null || exit 1; done) &
	done
	for i in 1 2 3 4; do wait -n; done
	run -0 ipc-shmcount get "$C"
	[ "$output" = 160 ]
}

@test "racing create -x: exactly one wins, nobody sees a half-made counter" {
	local i pids=()
	for i in $(seq 8); do
		(ipc-shmcount create -x --initial 77 "$C" 2>/dev/null && echo won) >>wins &
		pids+=($!)
		(ipc-shmcount get "$C" 2>err.$i || grep -q "no such counter" err.$i ||
			echo "bad read: $(cat err.$i)") >>reads &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	[ "$(grep -c won wins)" = 1 ]
	[ -z "$(grep -v '^77$' reads)" ]
}

@test "overflow past the int64 range is exit 1 and leaves the value" {
	ipc-shmcount create --initial 9223372036854775806 "$C"
	run -1 --separate-stderr ipc-shmcount incr -n 3 "$C"
	[[ "$stderr" == *overflow* ]]
	run -0 ipc-shmcount get "$C"
	[ "$output" = 9223372036854775807 ]
	run -1 --separate-stderr ipc-shmcount incr "$C"
	[[ "$stderr" == *overflow* ]]
	[ "$(field 16 q)" = 9223372036854775807 ]
	ipc-shmcount set "$C" -9223372036854775807
	run -1 ipc-shmcount decr "$C" 2
	run -0 ipc-shmcount get "$C"
	[ "$output" = -9223372036854775807 ]
	# subtracting INT64_MIN: 2^63 more, fine from a negative value only
	run -0 ipc-shmcount decr "$C" -9223372036854775808
	[ "$output" = 1 ]
	run -1 ipc-shmcount decr "$C" -9223372036854775808
	run -0 ipc-shmcount get "$C"
	[ "$output" = 1 ]
}

@test "bad numbers are usage errors (exit 2) and change nothing" {
	ipc-shmcount create --initial 5 "$C"
	local v
	for v in 9223372036854775808 -9223372036854775809 1e3 " 5" 0x10 "" 5abc +5 05 -; do
		run -2 --separate-stderr ipc-shmcount set "$C" "$v"
		[[ "$stderr" == *"ipc-shmcount: value:"* ]]
		run -2 ipc-shmcount incr "$C" "$v"
		run -2 ipc-shmcount cas "$C" 5 "$v"
		run -2 ipc-shmcount cas "$C" "$v" 6
		run -2 ipc-shmcount wait -t 0 "$C" --ge "$v"
		run -2 ipc-shmcount create --initial "$v" "$D"
	done
	for v in -1 abc 1.5; do
		run -2 ipc-shmcount incr -n "$v" "$C"
	done
	run -2 ipc-shmcount wait -t 1x "$C" --ge 0
	run -2 ipc-shmcount create --mode 999 "$D"
	run -0 ipc-shmcount get "$C"
	[ "$output" = 5 ]
	[ ! -e "/dev/shm/$D" ]
}

@test "bad names, operands and options are usage errors (exit 2)" {
	local n long
	long=$(printf 'x%.0s' $(seq 256))
	for n in "" / a/b /a/b . .. /.. "$long"; do
		run -2 --separate-stderr ipc-shmcount create "$n"
		[[ "$stderr" == *"ipc-shmcount: name:"* ]]
		run -2 ipc-shmcount get "$n"
		run -2 ipc-shmcount rm "$n"
	done
	run -2 ipc-shmcount get
	run -2 ipc-shmcount get a b
	run -2 ipc-shmcount cas a 1
	run -2 --separate-stderr ipc-shmcount wait "$C" --gt 1
	[[ "$stderr" == *"--gt"* ]]
	run -2 ipc-shmcount wait "$C" --ge
	run -2 --separate-stderr ipc-shmcount frob "$C"
	[[ "$stderr" == *"usage:"* ]]
	run -2 ipc-shmcount get -x "$C"
	run -2 ipc-shmcount
	run -0 ipc-shmcount incr --help
	[[ "$output" == *"ipc-shmcount"* ]]
	# -v is accepted before the subcommand too
	ipc-shmcount create --initial 2 "$D"
	run -0 --separate-stderr ipc-shmcount -v wait "$D" --ge 1
	[[ "$stderr" == *"/$D: value 2, waiting for --ge 1"* ]]
	rm -f "/dev/shm/$D"
	[ ! -e "/dev/shm/$C" ]
}

@test "command line: options anywhere, the condition of wait an option, one message per mistake" {
	ipc-shmcount create "$C" --initial 7
	run -0 timeout 60 ipc-shmcount wait --ge=7 "$C"
	run -124 timeout 60 ipc-shmcount wait "$C" --le 6 -t 100ms
	run -0 ipc-shmcount incr "$C" -n 3 -- -2
	[ "$output" = 1 ]
	run -2 --separate-stderr ipc-shmcount wait "$C"
	[ "${stderr%%$'\n'*}" = "ipc-shmcount: wait needs a condition: --ge, --le, --eq or --ne VALUE" ]
	run -2 --separate-stderr ipc-shmcount wait "$C" --ge 1 --le 2
	[ "${stderr%%$'\n'*}" = "ipc-shmcount: --ge, --le, --eq and --ne exclude one another" ]
	# What was one message ("unknown here or lacks its argument") is two.
	run -2 --separate-stderr ipc-shmcount get -t 1s "$C"
	[ "${stderr%%$'\n'*}" = "ipc-shmcount: option '-t' is for wait, not get" ]
	run -2 --separate-stderr ipc-shmcount incr "$C" -n
	[ "${stderr%%$'\n'*}" = "ipc-shmcount: option '-n' needs an argument (TIMES)" ]
	run -2 --separate-stderr ipc-shmcount frob "$C"
	[ "${stderr%%$'\n'*}" = "ipc-shmcount: unknown verb 'frob' (verbs: create get incr decr set cas wait ls rm)" ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = 1 ]
}

@test "foreign objects (size 0, 3, 1 MiB, wrong magic or version) are refused and left untouched" {
	local size sum cmd
	for size in 0 3 1048576 64; do
		head -c "$size" /dev/urandom >"/dev/shm/$C"
		sum=$(sha256sum <"/dev/shm/$C")
		for cmd in "get" "incr" "decr" "set . 5" "cas . 0 1" "wait -t 0 . --ge 0" "create" "incr -c"; do
			# shellcheck disable=SC2086
			set -- ${cmd/./$C}
			[[ "$cmd" == *.* ]] || set -- "$@" "$C"
			run -1 --separate-stderr ipc-shmcount "$@"
			[[ "$stderr" == *"/$C: not an ipc-shmcount counter"* ]]
		done
		run -1 ipc-shmcount rm "$C"
		[ "$(sha256sum <"/dev/shm/$C")" = "$sum" ]
		[ "$(stat -c %s "/dev/shm/$C")" = "$size" ]
	done
	# right magic, wrong version
	python3 -c 'import sys; sys.stdout.buffer.write(b"IPCSHMC\0" + (2).to_bytes(4, sys.byteorder) + bytes(52))' >"/dev/shm/$C"
	run -1 --separate-stderr ipc-shmcount incr "$C"
	[[ "$stderr" == *"unknown version"* ]]
}

# fifo_writer_blocked PID: PID's child (timeout's sh, once it is started)
# waits in open(2) for a reader of its FIFO.
fifo_writer_blocked() {
	local kid
	kid=$(pgrep -P "$1") || return 1
	[ "$(cat "/proc/$kid/wchan" 2>/dev/null)" = wait_for_partner ]
}

@test "a FIFO, a directory or a symbolic link in /dev/shm is refused without blocking" {
	mkfifo "/dev/shm/$C"
	run -1 --separate-stderr timeout 60 ipc-shmcount get "$C"
	[[ "$stderr" == *"not a regular file"* ]]
	run -0 timeout 60 ipc-shmcount ls
	[[ "$output" != *"$C"* ]]
	# A writer waiting for a reader on the FIFO is not released by us.
	timeout 60 sh -c 'echo kept >"$1"' sh "/dev/shm/$C" &
	local w=$!
	poll_until 30 fifo_writer_blocked $w
	run -1 timeout 60 ipc-shmcount get "$C"
	run -1 timeout 60 ipc-shmcount rm "$C"
	run -1 timeout 60 ipc-shmcount wait "$C" --ge 1
	fifo_writer_blocked $w
	run -0 timeout 60 cat "/dev/shm/$C"
	[ "$output" = kept ]
	wait $w
	rm "/dev/shm/$C"
	mkdir "/dev/shm/$C"
	run -1 ipc-shmcount get "$C"
	run -1 ipc-shmcount rm "$C"
	rmdir "/dev/shm/$C"
	ipc-shmcount create --initial 3 "$D"
	ln -s "$D" "/dev/shm/$C"
	run -1 --separate-stderr ipc-shmcount incr "$C"
	[[ "$stderr" == *"symbolic link"* ]]
	run -1 ipc-shmcount rm "$C"
	[ -L "/dev/shm/$C" ]
	run -0 ipc-shmcount get "$D"
	[ "$output" = 3 ]
}

@test "cas swaps only on the expected value, else prints the current one" {
	ipc-shmcount create --initial 10 "$C"
	run -0 --separate-stderr ipc-shmcount cas "$C" 10 -20
	[ -z "$output" ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = -20 ]
	run -1 --separate-stderr ipc-shmcount cas "$C" 10 30
	[ "$output" = -20 ]
	[ -z "$stderr" ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = -20 ]
}

@test "wait: condition already true, each operator, -t expiry is 124" {
	ipc-shmcount create --initial 5 "$C"
	run -0 ipc-shmcount wait "$C" --ge 5
	run -0 ipc-shmcount wait "$C" --le 5
	run -0 ipc-shmcount wait "$C" --eq 5
	run -0 ipc-shmcount wait "$C" --ne 4
	run -0 ipc-shmcount wait "$C" --ge -5
	run -124 ipc-shmcount wait -t 0 "$C" --ne 5
	local t0=$SECONDS
	run -124 ipc-shmcount wait -t 300ms "$C" --ge 6
	((SECONDS - t0 < 15))
	[ "$(field 24 I)" = 0 ]
}

@test "wait as a barrier: N processes incr then wait --ge N all finish" {
	ipc-shmcount create "$C"
	local i pids=()
	for i in 1 2 3 4 5; do
		(ipc-shmcount incr "$C" >/dev/null && ipc-shmcount wait -t 60 "$C" --ge 5 && echo "passed $i") >>out &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	[ "$(grep -c passed out)" = 5 ]
	[ "$(field 24 I)" = 0 ]
}

@test "wait wakes on a change at once (futex, not the 1 s safety poll)" {
	ipc-shmcount create "$C"
	ipc-shmcount wait -t 60 "$C" --eq 42 &
	local pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	local t0
	t0=$(date +%s%N)
	ipc-shmcount set "$C" 42
	wait_exit "$pid" 30
	[ "$status" = 0 ]
	# woken by FUTEX_WAKE: well under the one-second safety timeout
	(( ($(date +%s%N) - t0) < 500000000 ))
	# seq was bumped by the set
	[ "$(field 12 I)" -ge 1 ]
}

@test "a waiter is woken during a long incr -n batch, not only at its end" {
	ipc-shmcount create "$C"
	ipc-shmcount wait -t 60 "$C" --ge 100000 &
	local w=$!
	bg_track "$w"
	poll_until 30 in_futex "$w"
	local t0
	t0=$(date +%s%N)
	env --default-signal=INT ipc-shmcount incr -n 1000000000000 "$C" >/dev/null &
	local b=$!
	bg_track "$b"
	wait_exit "$w" 30
	[ "$status" = 0 ]
	# the batch runs on: the wake came from inside it, well under the
	# one-second safety timeout
	(( ($(date +%s%N) - t0) < 500000000 ))
	kill -0 "$b"
	kill -INT "$b"
	wait_exit "$b" 30
	[ "$status" = 130 ]
	[ "$(field 24 I)" = 0 ]
}

@test "SIGINT wakes a blocked wait promptly: exit 130, offset 24 stays 0" {
	ipc-shmcount create "$C"
	env --default-signal=INT ipc-shmcount wait "$C" --ge 1 &
	local pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	kill -INT "$pid"
	wait_exit "$pid" 30
	[ "$status" = 130 ]
	[ "$(field 24 I)" = 0 ]
	env --default-signal=INT ipc-shmcount wait "$C" --ge 1 &
	pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	kill -TERM "$pid"
	wait_exit "$pid" 30
	[ "$status" = 143 ]
}

@test "wait started with SIGINT ignored (trap '' INT) keeps it ignored" {
	ipc-shmcount create "$C"
	bash -c "trap '' INT; exec ipc-shmcount wait \"\$1\" --ge 1" sh "$C" &
	local pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	kill -INT "$pid"
	ipc-shmcount incr "$C" >/dev/null
	wait_exit "$pid" 30
	[ "$status" = 0 ]
}

@test "wait: a counter truncated (and regrown) under it is exit 1 naming the change" {
	ipc-shmcount create --initial 5 "$C"
	# --eq 0: the zeros of a regrown object must not pass for a value
	ipc-shmcount wait -t 60 "$C" --eq 0 2>err &
	local pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	truncate -s 0 "/dev/shm/$C"
	truncate -s 64 "/dev/shm/$C"
	wait_exit "$pid" 30
	[ "$status" = 1 ]
	grep -q "/$C: the counter changed under us: its magic is gone" err
	ipc-shmcount rm "$C" 2>/dev/null || rm -f "/dev/shm/$C"
	ipc-shmcount create --initial 5 "$C"
	ipc-shmcount wait -t 60 "$C" --eq 0 2>err &
	pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	truncate -s 0 "/dev/shm/$C"
	wait_exit "$pid" 30
	[ "$status" = 1 ]
	grep -q "/$C: the counter changed under us: its size is now 0 bytes, not 64" err
}

@test "a waiter killed by SIGKILL leaves nothing behind: the next one is woken at once" {
	ipc-shmcount create "$C"
	env --default-signal=INT ipc-shmcount wait "$C" --ge 1 &
	local pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	kill -KILL "$pid"
	wait_exit "$pid" 30
	[ "$status" = 137 ]
	[ "$(field 24 I)" = 0 ]
	ipc-shmcount wait -t 60 "$C" --ge 2 &
	pid=$!
	bg_track "$pid"
	poll_until 30 in_futex "$pid"
	local t0
	t0=$(date +%s%N)
	ipc-shmcount set "$C" 2
	wait_exit "$pid" 30
	[ "$status" = 0 ]
	(( ($(date +%s%N) - t0) < 500000000 ))
}

@test "ls lists our counters only, sorted, and --json" {
	ipc-shmcount create --initial -3 "$C"
	ipc-shmcount create --initial 9 "$D"
	head -c 64 /dev/zero >"/dev/shm/$C.x"
	mkfifo "/dev/shm/$D.fifo"
	run -0 timeout 60 ipc-shmcount ls
	rm -f "/dev/shm/$C.x" "/dev/shm/$D.fifo"
	[[ "$output" == *"/$C"$'\t'"-3"* ]]
	[[ "$output" == *"/$D"$'\t'"9"* ]]
	[[ "$output" != *"$C.x"* ]]
	[[ "$output" != *"$D.fifo"* ]]
	run -0 ipc-shmcount ls --json
	python3 -c 'import json, sys
v = {d["name"]: d["value"] for d in json.loads(sys.stdin.read())}
assert v["/" + sys.argv[1]] == -3 and v["/" + sys.argv[2]] == 9, v' "$C" "$D" <<<"$output"
	run -2 ipc-shmcount ls extra
}

@test "ls: tabs, newlines and backslashes in a name are escaped as ls -b does" {
	local n=$C$'\t7\nforged\tx\\y\001'
	ipc-shmcount create --initial 3 "$n"
	run -0 ipc-shmcount ls
	ipc-shmcount rm "$n"
	[[ "$output" == *"/$C\\t7\\nforged\\tx\\\\y\\001	3"* ]]
	[ -z "$(grep '^forged' <<<"$output")" ]
	[ "$(grep -c "$C" <<<"$output")" = 1 ]
	ipc-shmcount create --initial 3 "$n"
	run -0 ipc-shmcount ls --json
	ipc-shmcount rm "$n"
	python3 -c 'import json, sys
v = {d["name"]: d["value"] for d in json.loads(sys.argv[1])}
assert v["/" + sys.argv[2]] == 3, v' "$output" "$n"
}

@test "python3 reads and changes the counter through the documented layout" {
	ipc-shmcount create --initial 1234 "$C"
	run -0 python3 -c 'import mmap, os, struct, sys
m = mmap.mmap(os.open("/dev/shm/" + sys.argv[1], os.O_RDWR), 64)
magic, ver, seq, val, waiters = struct.unpack_from("=8sIIqI", m, 0)
assert magic == b"IPCSHMC\0" and ver == 1 and waiters == 0, (magic, ver, waiters)
assert m[28:64] == bytes(36)
print(val)
struct.pack_into("=q", m, 16, -77)' "$C"
	[ "$output" = 1234 ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = -77 ]
	ipc-shmcount incr "$C" 7
	[ "$(field 16 q)" = -70 ]
}

@test "a counter owned by another user is refused without --shared" {
	skip_unless_root
	ipc-shmcount create --initial 4 "$C"
	chown nobody "/dev/shm/$C"
	run -1 --separate-stderr ipc-shmcount incr "$C"
	[[ "$stderr" == *"owned by nobody"* ]]
	[[ "$stderr" == *"--shared"* ]]
	run -1 ipc-shmcount get "$C"
	run -0 ipc-shmcount get --shared "$C"
	[ "$output" = 4 ]
	run -0 ipc-shmcount incr --shared "$C"
	[ "$output" = 5 ]
	# nobody may use root's counter (root is trusted), if the mode lets it
	ipc-shmcount create --mode 0666 --initial 8 "$D"
	run -0 as_nobody "$IPC_BIN/ipc-shmcount" incr "$D"
	[ "$output" = 9 ]
	# readable but not writable: get works, a change is refused
	chmod 0644 "/dev/shm/$D"
	run -0 as_nobody "$IPC_BIN/ipc-shmcount" get "$D"
	[ "$output" = 9 ]
	run -1 --separate-stderr as_nobody "$IPC_BIN/ipc-shmcount" incr "$D"
	[[ "$stderr" == *"Permission denied"* ]]
	# nobody's own default counter is 0600: root's tool refuses it
	run -0 as_nobody "$IPC_BIN/ipc-shmcount" create "$C.n"
	run -1 ipc-shmcount get "$C.n"
	rm -f "/dev/shm/$C.n"
}

@test "a counter truncated under a running incr -n: exit 1 with a message" {
	ipc-shmcount create "$C"
	ipc-shmcount incr -n 1000000000000 "$C" >out 2>err &
	local pid=$!
	bg_track "$pid"
	poll_until 30 value_above 0
	truncate -s 0 "/dev/shm/$C"
	wait_exit "$pid" 30
	[ "$status" = 1 ]
	grep -q "ipc-shmcount: /$C: the counter was truncated under us (SIGBUS)" err
	[ ! -s out ]
}

@test "SIGINT ends a long incr -n promptly; every step it made is counted" {
	ipc-shmcount create "$C"
	env --default-signal=INT ipc-shmcount incr -n 1000000000000 "$C" >out &
	local pid=$!
	bg_track "$pid"
	poll_until 30 value_above 1000
	kill -INT "$pid"
	wait_exit "$pid" 30
	[ "$status" = 130 ]
	[ ! -s out ]
	local v
	v=$(ipc-shmcount get "$C")
	run -0 ipc-shmcount incr "$C"
	[ "$output" = $((v + 1)) ]
}

@test "rm removes counters and leaves anything else alone" {
	ipc-shmcount create "$C"
	echo data >"/dev/shm/$D"
	run -1 --separate-stderr ipc-shmcount rm "$C" "$D" "$C.none"
	[[ "$stderr" == *"/$D: not an ipc-shmcount counter"* ]]
	[[ "$stderr" == *"/$C.none: no such counter"* ]]
	[ ! -e "/dev/shm/$C" ]
	[ "$(cat "/dev/shm/$D")" = data ]
	run -0 ipc-shmcount create "$C"
	run -0 ipc-shmcount rm "/$C"
	[ ! -e "/dev/shm/$C" ]
}

@test "rm: a file swapped in after the check is left alone, exit 1" {
	command -v cc >/dev/null || skip "needs cc for the LD_PRELOAD interposer"
	cc -shared -fPIC -o shim.so "$BATS_TEST_DIRNAME/preload/interpose.c"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	ipc-shmcount create --initial 1 "$C"
	ipc-shmcount create --initial 2 "$D"
	local ino
	ino=$(stat -c %i "/dev/shm/$D")
	# the interposer renames $D over $C just before rm looks again
	IPC_TEST_SWAP=/dev/shm/$D LD_PRELOAD=$PWD/shim.so run -1 --separate-stderr ipc-shmcount rm "$C"
	[[ "$stderr" == *"/$C: replaced while being removed, left alone"* ]]
	[ "$(stat -c %i "/dev/shm/$C")" = "$ino" ]
	[ "$(ipc-shmcount get "$C")" = 2 ]
}

@test "a full /dev/shm is exit 1 (ENOSPC from posix_fallocate), never SIGBUS" {
	skip_unless_root
	unshare -m true 2>/dev/null || skip "needs unshare -m"
	run -1 --separate-stderr unshare -m sh -c '
		mount -t tmpfs -o size=4k tmpfs /dev/shm || exit 9
		head -c 4096 /dev/zero >/dev/shm/fill 2>/dev/null
		exec ipc-shmcount create x'
	[[ "$stderr" == *"No space left on device"* ]]
}

@test "-v says what each verb did, on stderr, and changes nothing on stdout" {
	run -0 --separate-stderr ipc-shmcount -v create --initial 3 "$C"
	[ "$stderr" = "ipc-shmcount: /$C: created, value 3" ]
	[ -z "$output" ]
	run -0 --separate-stderr ipc-shmcount incr -v -n 2 "$C" 5
	[ "$stderr" = "ipc-shmcount: /$C: plus 5, 2 time(s): now 13" ]
	[ "$output" = 13 ]
	run -0 --separate-stderr ipc-shmcount set -v "$C" 1
	[ "$stderr" = "ipc-shmcount: /$C: 1, was 13" ]
	run -1 --separate-stderr ipc-shmcount cas -v "$C" 2 3
	[ "$stderr" = "ipc-shmcount: /$C: not swapped: the value is 1, not 2" ]
	[ "$output" = 1 ]
	run -0 --separate-stderr ipc-shmcount cas -v "$C" 1 3
	[ "$stderr" = "ipc-shmcount: /$C: swapped 1 for 3" ]
	run -0 --separate-stderr ipc-shmcount get -v "$C"
	[ "$stderr" = "ipc-shmcount: /dev/shm/$C: value 3" ]
	[ "$output" = 3 ]
	run -0 --separate-stderr ipc-shmcount ls -v
	[[ "$stderr" == "ipc-shmcount: "*" counter(s) in /dev/shm" ]]
	run -0 --separate-stderr ipc-shmcount rm -v "$C"
	[ "$stderr" = "ipc-shmcount: /$C: removed, its value was 3" ]
}

@test "0 is an amount: incr -n 0 changes nothing and prints the value" {
	ipc-shmcount create --initial 4 "$C"
	run -0 ipc-shmcount incr -n 0 "$C" 7
	[ "$output" = 4 ]
	run -0 ipc-shmcount get "$C"
	[ "$output" = 4 ]
}

@test "timeout: exit 124 says why on stderr, in one line" {
	ipc-shmcount create "$C"
	run -124 --separate-stderr timeout 60 ipc-shmcount wait -t 1.5s "$C" --ge 1
	[ "$stderr" = "ipc-shmcount: /$C: value 0, still not --ge 1 after 1.5s" ]
}
