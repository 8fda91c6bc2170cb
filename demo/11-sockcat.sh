#!/bin/sh
# The seed article's sockets example from the client's side: a server
# that prints what a client sends (Python: socket.create_connection(...)
# .sendall(b"hello")), done with ipc-sockcat; then the half-close that
# lets a server answer after the end of its input, and --wait.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sock=$dir/demo.sock

echo '# A server that prints what one client sends, and the client:'
echo '#   ipc-sockserve -1 unix:demo.sock &'
echo '#   ipc-sockcat -w 2s -m "hello from the client" unix:demo.sock'
ipc-sockserve -1 "unix:$sock" &
srv=$!
ipc-sockcat -w 2s -m 'hello from the client' "unix:$sock"
wait $srv

echo
echo '# A server that answers only after the end of its input (sort): the'
echo '# client half-closes at the end of stdin and reads the whole answer:'
printf '%s\n' '#   printf "pear\nfig\napple\n" | ipc-sockcat -w 2s unix:demo.sock'
echo '#   (served by: ipc-sockserve -1 unix:demo.sock -- sort)'
ipc-sockserve -1 "unix:$sock" -- sort &
srv=$!
printf 'pear\nfig\napple\n' | ipc-sockcat -w 2s "unix:$sock"
wait $srv

echo
echo '# Nobody listening: a clear error and status 1, at once:'
status=0
ipc-sockcat -m x "unix:$sock" 2>&1 || status=$?
echo "#   -> status $status"
[ "$status" = 1 ]
