#!/usr/bin/env bats
# Checks of the test helper itself and of the build's conventions.
bats_require_minimum_version 1.5.0

setup() { load helper; cd "$BATS_TEST_TMPDIR"; }
teardown() { kill_servers; }

@test "every tool answers --version with its name and version" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -0 "$t" --version
		[[ "$output" =~ ^$(basename "$t")\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	done
}

@test "every tool answers --help on stdout with status 0" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -0 --separate-stderr "$t" --help
		[[ "$output" == *"$(basename "$t")"* ]]
		[ -z "$stderr" ]
	done
}

@test "every tool takes the long options --verbose, --help and --version" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -0 "$t" --verbose --version
		[[ "$output" == "$(basename "$t") "* ]]
	done
}

@test "every tool rejects an unknown option with status 2" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		# Run by its path, it still names itself by its bare name.
		run -2 --separate-stderr "$t" --no-such-option
		[ "${stderr%%$'\n'*}" = "${t##*/}: unknown option '--no-such-option'" ]
		[[ "$stderr" == *"usage: ${t##*/}"* ]]
	done
}

@test "every tool's --help, each verb's too, fits in 80 columns" {
	for t in "$IPC_BIN"/ipc-*; do
		for v in "" $("$t" --help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p'); do
			run -0 "$t" $v --help
			[ -z "$(printf '%s\n' "$output" | awk 'length > 80')" ] || { echo "$t $v"; return 1; }
		done
	done
}

# The first line of a usage error, and that a usage follows it.
usage_err() {
	run -2 --separate-stderr "$@"
	[ "${stderr%%$'\n'*}" = "$want" ] || { echo "got: $stderr"; return 1; }
	[[ "$stderr" == *$'\n'"usage: $1 "* ]] || { echo "no usage: $stderr"; return 1; }
}

@test "command-line layer: options may follow the operand; one wording per mistake (ipc-sockcat)" {
	serve_bg ipc-sockserve -1 -r 3 127.0.0.1:0
	run -0 ipc-sockcat "$srv_addr" -m hello --timeout=10s
	wait_exit "$srv_pid" 30
	[ "$(cat "$srv_out")" = hello ]
	want="ipc-sockcat: unknown option '-x'" usage_err ipc-sockcat -dx 127.0.0.1:9
	want="ipc-sockcat: unknown option '--frob'" usage_err ipc-sockcat 127.0.0.1:9 --frob
	want="ipc-sockcat: option '-t' needs an argument (DUR)" usage_err ipc-sockcat 127.0.0.1:9 -t
	want="ipc-sockcat: option '--probe' takes no argument" usage_err ipc-sockcat --probe=yes 127.0.0.1:9
	want="ipc-sockcat: option '--no' is ambiguous" usage_err ipc-sockcat --no 127.0.0.1:9
	want="ipc-sockcat: extra operand 'b'" usage_err ipc-sockcat a b
	want="ipc-sockcat: ADDRESS missing" usage_err ipc-sockcat -d
	# A bad value names the option alike, however it was written.
	for t in "-t soon" "--timeout soon" "--timeout=soon" "-tsoon" "--time soon"; do
		run -2 --separate-stderr ipc-sockcat $t 127.0.0.1:9
		[ "$stderr" = "ipc-sockcat: --timeout: 'soon' is not a duration (like 250ms, 1.5s, 2m, 1h)" ]
	done
	# After --, an operand that looks like an option is an operand.
	run -2 --separate-stderr ipc-sockcat -d -- -x
	[[ "$stderr" == "ipc-sockcat: -x: "* ]]
}

@test "command-line layer: --help and usage fit in 80 columns (ipc-sockcat)" {
	run -0 ipc-sockcat --help
	[ "$(printf '%s\n' "$output" | awk 'length > 80' | wc -l)" = 0 ]
	[[ "$output" == *"  -t, --timeout DUR   give up connecting after DUR (exit 124)"* ]]
	run -2 --separate-stderr ipc-sockcat
	[ "$(printf '%s\n' "$stderr" | awk 'length > 80' | wc -l)" = 0 ]
}

@test "--mode takes permission bits only, alike in every tool that has it" {
	local n
	n=$(uniq_name)
	for cmd in "ipc-fifo make" "ipc-mq create" "ipc-shmcount create" \
	    "ipc-sockserve -1"; do
		for m in 4755 1777 12345 8 ''; do
			# shellcheck disable=SC2086
			run -2 --separate-stderr timeout 60 $cmd --mode "$m" "unix:$PWD/$n"
			[[ "$stderr" == *"--mode: '$m'"* ]]
		done
	done
	[ ! -e "$PWD/$n" ]
	[ ! -e "/dev/shm/unix:$PWD/$n" ]
}

@test "every tool has a man page that renders" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		n=$(basename "$t")
		[ -f "$BATS_TEST_DIRNAME/../build/man/$n.1" ]
		run -0 man -l "$BATS_TEST_DIRNAME/../build/man/$n.1"
		[[ "$output" == *"EXIT STATUS"* ]]
	done
}

@test "make install and uninstall honour DESTDIR, PREFIX and MANDIR" {
	root=$BATS_TEST_DIRNAME/..
	run -0 make -s -C "$root" install DESTDIR="$BATS_TEST_TMPDIR/d" PREFIX=/opt/ipc MANDIR=/opt/man
	[ -x "$BATS_TEST_TMPDIR/d/opt/ipc/bin/ipc-$(ls "$IPC_BIN" | sed -n 's/^ipc-//p' | head -1)" ]
	[ -f "$BATS_TEST_TMPDIR/d/opt/man/man7/ipc.7" ]
	[ -f "$BATS_TEST_TMPDIR/d/opt/ipc/share/bash-completion/completions/ipc-utils" ]
	[ "$(readlink "$BATS_TEST_TMPDIR/d/opt/ipc/share/bash-completion/completions/ipc-mq")" = ipc-utils ]
	run -0 make -s -C "$root" uninstall DESTDIR="$BATS_TEST_TMPDIR/d" PREFIX=/opt/ipc MANDIR=/opt/man
	run -0 find "$BATS_TEST_TMPDIR/d" -type f -o -type l
	[ -z "$output" ]
}


# comp WORD...: what bash completion offers for the last WORD.
comp() {
	source "$IPC_BIN/../completions/ipc-utils.bash"
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_ipc_utils
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash completion: subcommands, long options, counter names, COMMAND after --" {
	run -0 comp ipc-mq se
	[ "$output" = send ]
	run -0 comp ipc-fifo read --fo
	[ "$output" = --follow ]
	# Each verb offers its own options, and only those.
	run -0 comp ipc-mq recv --
	[[ "$output" == *$'\n--count\n--follow\n'*$'\n--timeout\n'* ]]
	[[ "$output" != *--maxmsg* ]]
	run -0 comp ipc-mq -v recv --a
	[ "$output" = --all ]
	run -0 comp ipc-shmcount wait "$c" --g
	[ "$output" = --ge ]
	run -0 comp ipc-fifo r
	[ "$output" = $'read\nrm' ]
	run -0 comp ipc-sockcat --ti
	[ "$output" = --timeout ]
	c=$(uniq_name compc)
	ipc-shmcount create "$c"
	run -0 comp ipc-shmcount get "${c:0:9}"
	ipc-shmcount rm "$c"
	[[ "$output" == *"$c"* ]]
	run -0 comp ipc-spawnpipe -j 2 -- mkfif
	[ "$output" = mkfifo ]
}

@test "every tool is built hardened: PIE, full RELRO, stack protector, fortified calls" {
	skip_under_asan "the sanitizer build goes without hardening flags"
	command -v readelf >/dev/null || skip "needs readelf (binutils)"
	for t in "$IPC_BIN"/ipc-*; do
		readelf -h "$t" | grep -q 'Type: *DYN'
		readelf -l "$t" | grep -q 'GNU_RELRO'
		readelf -d "$t" | grep -q 'BIND_NOW'
	done
	# at least one function with a buffer gets a canary, and libc calls
	# with known sizes go through their checking variants
	nm -D "$IPC_BIN/ipc-sockserve" | grep -q ' __stack_chk_fail@'
	nm -D "$IPC_BIN/ipc-sockserve" | grep -q ' __memcpy_chk@'
}
