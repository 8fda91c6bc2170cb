#!/bin/sh
# The seed article's named pipe (Python: os.mkfifo(p); open(p).read() in
# one process, open(p, "w").write("hello") in another), done with
# ipc-fifo; then a reader that stays across writers, lines of concurrent
# writers that arrive whole, and the refusal of a planted file.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fifo=$dir/ipc.fifo

echo '# Make a named pipe (mode 0600) and look at it:'
echo '#   ipc-fifo make ipc.fifo'
ipc-fifo make "$fifo"
ls -l "$fifo" | sed "s|$dir/||; s/^/#   /"

echo
echo '# One process reads, another writes:'
echo '#   ipc-fifo read ipc.fifo &'
echo '#   ipc-fifo write -m hello ipc.fifo'
ipc-fifo read -t 5s "$fifo" &
reader=$!
ipc-fifo write -t 5s -m hello "$fifo"
wait $reader

echo
echo '# A mailbox: read -k stays across writers (idle, it uses no CPU);'
echo '# here it stops after 3 lines (-n 3):'
echo '#   ipc-fifo read -k -n 3 ipc.fifo &'
echo '#   ipc-fifo write -m "from ipc-fifo" ipc.fifo'
echo '#   echo "from a shell redirection" > ipc.fifo'
printf '%s\n' '#   printf "from printf\n" | ipc-fifo write ipc.fifo'
ipc-fifo read -k -n 3 -t 5s "$fifo" | sed 's/^/#   got: /' &
reader=$!
ipc-fifo write -t 5s -m 'from ipc-fifo' "$fifo"
echo 'from a shell redirection' >"$fifo"
printf 'from printf\n' | ipc-fifo write -t 5s "$fifo"
wait $reader

echo
echo '# A log collector: 4 writers x 500 lines at once; every line arrives whole:'
echo '#   ipc-fifo read -k -n 2000 ipc.fifo > all.log &'
echo '#   (4 times) awk ... | ipc-fifo write ipc.fifo &'
ipc-fifo read -k -n 2000 -t 5s "$fifo" >"$dir/all.log" &
reader=$!
for w in 1 2 3 4; do
	awk -v w=$w 'BEGIN { for (i = 1; i <= 500; i++)
		printf "worker %d line %d %0900d\n", w, i, 0 }' |
	    ipc-fifo write -t 5s "$fifo" &
done
wait $reader
whole=$(grep -c '^worker [1-4] line [0-9]* 0\{900\}$' "$dir/all.log")
echo "#   -> $(wc -l <"$dir/all.log") lines, $whole of them whole"
[ "$whole" = 2000 ]
wait

echo
echo '# A regular file planted where the FIFO should be is never written:'
echo '#   ipc-fifo write -m evil notafifo'
echo precious >"$dir/notafifo"
status=0
ipc-fifo write -m evil "$dir/notafifo" 2>&1 | sed "s|$dir/||; s/^/#   /" || true
ipc-fifo write -m evil "$dir/notafifo" 2>/dev/null || status=$?
echo "#   -> status $status, the file still says: $(cat "$dir/notafifo")"
[ "$status" = 1 ]

echo
echo '# Nobody reading: -t bounds the wait (status 124):'
echo '#   ipc-fifo write -t 200ms -m hello ipc.fifo'
status=0
ipc-fifo write -t 200ms -m hello "$fifo" 2>/dev/null || status=$?
echo "#   -> status $status"
[ "$status" = 124 ]

echo
echo '#   ipc-fifo rm ipc.fifo'
ipc-fifo rm "$fifo"
