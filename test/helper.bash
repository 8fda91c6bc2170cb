# Shared by every test/ipc-*.bats: load with `load helper` in setup().
#
# - PATH starts with the binaries under test ($IPC_BIN, set by make).
# - Every test is bounded in time: make check exports BATS_TEST_TIMEOUT
#   (bats reads it before a test starts; set in setup() it is too late).
#   bats's own watchdog only kills the test's direct children, so a hung
#   `run` (a command substitution's child holding its pipe) outlives it;
#   watchdog_start adds one that kills the test's whole process tree.
# - serve_bg starts a server in the background and waits for its
#   --ready-fd line: no sleep, no fixed port.
# - uniq_name gives each test its own queue, counter or socket names.

bats_load_library bats-support
bats_load_library bats-assert

: "${IPC_BIN:=$BATS_TEST_DIRNAME/../build/bin}"
export PATH="$IPC_BIN:$PATH"
# A polling step for poll_until; polling with a deadline is how tests wait
# for something that has no readiness signal of its own.
IPC_POLL_STEP=0.02

# uniq_name [PREFIX]: a name no other test (or other run) uses.
uniq_name() {
	printf '%s%s-%s-%s\n' "${1:-ipct}" "$$" "${BATS_TEST_NUMBER:-0}" "$RANDOM"
}

# poll_until SECONDS COMMAND...: runs COMMAND until it succeeds; fails
# after SECONDS.
poll_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		if ((SECONDS >= deadline)); then
			echo "poll_until: gave up after deadline: $*" >&2
			return 1
		fi
		sleep "$IPC_POLL_STEP"
	done
}

# size_is FILE N: FILE holds N bytes now (for poll_until: an argument
# written as "$(stat ...)" would be taken once, not at each try).
size_is() {
	[ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]
}

# serve_bg COMMAND...: runs COMMAND in the background with its fd 3 on a
# FIFO, reads the addresses it writes there once listening (--ready-fd 3
# must be in COMMAND), and sets:
#   srv_pid    the server's pid (killed in teardown by kill_servers)
#   srv_addr   the first address it printed (srv_addrs: all of them)
#   srv_err    the file holding its stderr
# Stdout goes to $srv_out (a file) unless the caller redirects it.
serve_bg() {
	local fifo="$BATS_TEST_TMPDIR/ready.$RANDOM"
	srv_out="$BATS_TEST_TMPDIR/srv.out.$RANDOM"
	srv_err="$BATS_TEST_TMPDIR/srv.err.$RANDOM"
	mkfifo "$fifo"
	"$@" 3>"$fifo" >"$srv_out" 2>"$srv_err" &
	srv_pid=$!
	echo "$srv_pid" >>"$BATS_TEST_TMPDIR/.pids"
	mapfile -t srv_addrs < <(timeout 10 cat "$fifo")
	rm -f "$fifo"
	srv_addr=${srv_addrs[0]:-}
	if [ -z "$srv_addr" ]; then
		echo "serve_bg: server did not become ready: $*" >&2
		cat "$srv_err" >&2
		return 1
	fi
}

# bg_track PID: kill PID in teardown if it is still running.
bg_track() {
	echo "$1" >>"$BATS_TEST_TMPDIR/.pids"
}

# watchdog_start: BATS_TEST_TIMEOUT + 10 s after the test starts, SIGKILL
# every process the test started, so a hung `run` returns and bats reports
# the timeout it has already flagged. A process is known by IPC_TEST_TAG in
# its environment: bats's own watchdog kills the subshell of a `run`, and
# what that subshell started is then a child of init, out of any tree walk.
# kill_servers stops the watchdog.
watchdog_start() {
	export IPC_TEST_TAG="$$.$RANDOM.$BATS_TEST_NUMBER"
	local after=$((${BATS_TEST_TIMEOUT:-90} + 10))
	# Detached (a grandchild), since bats's watchdog kills our children.
	( (
		tag=$IPC_TEST_TAG
		unset IPC_TEST_TAG
		sleep "$after"
		grep -lzx "IPC_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null |
			cut -d/ -f3 | xargs -r kill -KILL 2>/dev/null
	) </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/.watchdog" )
}
watchdog_start

# kill_servers: ends every process serve_bg/bg_track started (call from
# teardown), and the watchdog.
kill_servers() {
	local p
	if [ -f "$BATS_TEST_TMPDIR/.watchdog" ]; then
		p=$(cat "$BATS_TEST_TMPDIR/.watchdog")
		pkill -KILL -P "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
		rm -f "$BATS_TEST_TMPDIR/.watchdog"
	fi
	[ -f "$BATS_TEST_TMPDIR/.pids" ] || return 0
	while read -r p; do
		kill -KILL "$p" 2>/dev/null || true
		# Reap it here, so bash reports no "Killed" job line later.
		{ wait "$p"; } 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/.pids"
	rm -f "$BATS_TEST_TMPDIR/.pids"
}

# wait_exit PID SECONDS: waits for a background child to end and sets
# $status to its exit status; fails if it did not end in time.
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "wait_exit: $pid still running" >&2
			return 1
		fi
		sleep "$IPC_POLL_STEP"
	done
	status=0
	wait "$pid" || status=$?
}

# port_of ADDRESS: the port of "127.0.0.1:4711" or "[::1]:4711".
port_of() {
	echo "${1##*:}"
}

# as_nobody COMMAND...: runs COMMAND as user nobody (tests that need
# another uid); skip_unless_root first.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

skip_unless_root() {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to user nobody"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
}

# Under the sanitizer build, ASan reserves memory and descriptors that a
# few resource-limit tests cannot afford.
skip_under_asan() {
	[ -z "${IPC_ASAN:-}" ] || skip "${1:-not meaningful under ASan}"
}
