#!/bin/sh
# The seed article's sockets example from the server's side: a server that
# prints what a client sends (Python: socket.create_server(...), then
# conn.recv() in a loop and print), done with ipc-sockserve; then several
# clients at once (lines never mix), --peer, and a command per connection.
set -eu
dir=$(mktemp -d)
srv=
trap '[ -z "$srv" ] || kill "$srv" 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/ready"

# send ADDRESS TEXT: one client sends TEXT (ipc-sockcat if built, else python3).
send() {
	if command -v ipc-sockcat >/dev/null 2>&1; then
		printf '%s\n' "$2" | ipc-sockcat "$1"
	else
		printf '%s\n' "$2" | python3 -c '
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)))
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
sys.stdout.buffer.write(s.makefile("rb").read())' "$1"
	fi
}

# start ARGS...: runs ipc-sockserve in the background, sets $addr to the
# first address it listens on (read from --ready-fd, no sleep).
start() {
	ipc-sockserve -r 3 "$@" 3>"$dir/ready" &
	srv=$!
	{ read -r addr; cat >/dev/null; } <"$dir/ready"
}

echo '# A server that prints what each client sends (port 0: the kernel picks):'
echo '#   ipc-sockserve -1 -r 3 tcp4:127.0.0.1:0 3>ready &'
start -1 tcp4:127.0.0.1:0
echo "#   listening on $addr; a client sends a line:"
send "$addr" 'hello from the client'
wait "$srv"; srv=

echo
echo '# Three clients at once, each line tagged with its sender (--peer);'
echo '# lines from different clients are never interleaved:'
echo '#   ipc-sockserve -p -n 3 tcp4:127.0.0.1:0'
start -p -n 3 tcp4:127.0.0.1:0
for i in 1 2 3; do send "$addr" "client $i says hi" & done
wait "$srv"; srv=
wait

echo
echo '# A command per connection (exec mode, UCSPI environment):'
echo '#   ipc-sockserve -1 tcp4:127.0.0.1:0 -- sh -c '"'"'echo "$TCPREMOTEIP asked:"; tr a-z A-Z'"'"
start -1 tcp4:127.0.0.1:0 -- sh -c 'echo "$TCPREMOTEIP asked:"; tr a-z A-Z'
send "$addr" 'shout this'
wait "$srv"; srv=

echo
echo '# A port already in use: a clear error and status 1:'
start tcp4:127.0.0.1:0
status=0
ipc-sockserve "$addr" 2>&1 || status=$?
echo "#   -> status $status"
[ "$status" = 1 ]
