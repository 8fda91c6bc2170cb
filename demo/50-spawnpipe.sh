#!/bin/sh
# The seed article's third example, a parent and a child connected by a
# pipe (Python: a, b = Pipe(); Process(target=f, args=(b,)).start();
# a.send("hello"); a.recv()), done with ipc-spawnpipe; then a pool.
set -eu

echo '# A parent sends "hello" to a child over a pipe and reads its answer:'
echo '#   echo hello | ipc-spawnpipe -- sed "s/^/child got: /"'
echo hello | ipc-spawnpipe -- sed 's/^/child got: /'

echo
echo '# The same with a duplex connection on descriptor 3 of the child, as'
echo '# Pipe() gives it; the child reads the message and answers on fd 3,'
echo '# while its stdout stays ours:'
echo '#   echo hello | ipc-spawnpipe --fd 3 -- sh -c '\''read -r m <&3; echo "child: got $m on fd $IPC_FD"; echo "reply to $m" >&3'\'''
echo hello | ipc-spawnpipe --fd 3 -- sh -c \
    'read -r m <&3; echo "child: got $m on fd $IPC_FD"; echo "reply to $m" >&3'

echo
echo '# The exit status is the child'\''s; "not found" is told apart from a'
echo '# child'\''s own exit 127:'
status=0
ipc-spawnpipe -- sh -c 'exit 42' || status=$?
echo "#   ipc-spawnpipe -- sh -c 'exit 42'      -> status $status"
status=0
ipc-spawnpipe -- no-such-program-here 2>&1 || status=$?
echo "#   ipc-spawnpipe -- no-such-program-here -> status $status"

echo
echo '# A pool of 4 workers: each line goes whole to the first free worker;'
echo '# --tag shows which one. 1000 lines in, the sum checked:'
echo '#   seq 1000 | ipc-spawnpipe -j 4 --tag -- awk '\''{ print $1 * 2 }'\'''
out=$(seq 1000 | ipc-spawnpipe -j 4 --tag -- awk '{ print $1 * 2 }')
echo "$out" | head -n 3
echo '#   ...'
echo "$out" | awk -F '\t' '{ n++; s += $2; w[$1]++ }
    END { printf "# %d lines, sum %d (want 1001000), %d worker(s) used\n", n, s, length(w) }'
sum=$(echo "$out" | awk -F '\t' '{ s += $2 } END { print s }')
[ "$sum" = 1001000 ]

echo
echo '# A time limit: SIGTERM after 200ms, exit 124:'
status=0
ipc-spawnpipe -t 200ms -- sleep 10 || status=$?
echo "#   ipc-spawnpipe -t 200ms -- sleep 10 -> status $status"
[ "$status" = 124 ]
