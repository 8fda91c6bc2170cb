#!/bin/sh
# The seed article's message queue (Python: q = multiprocessing.Queue();
# q.put("hello"); q.get()), done with ipc-mq: a producer and a consumer
# that share nothing but the queue's name, then priorities, a worker
# command per message, and a timeout.
set -eu
Q=demo-mq-$$
trap 'ipc-mq rm "$Q" 2>/dev/null || true' EXIT

echo "# Make a queue for 10 messages of up to 256 bytes (mode 0600):"
echo "#   ipc-mq create -M 10 -S 256 $Q"
ipc-mq create -M 10 -S 256 "$Q"
ipc-mq info "$Q" | sed 's/^/#   /'

echo
echo "# A consumer waiting for three messages, and a producer sending them"
echo "# (it blocks while the queue is full, so any amount can flow):"
echo "#   ipc-mq recv -n 3 $Q &"
echo "#   printf 'hello\\\\nfrom the\\\\nproducer\\\\n' | ipc-mq send $Q"
ipc-mq recv -n 3 "$Q" | sed 's/^/consumer got: /' &
consumer=$!
printf 'hello\nfrom the\nproducer\n' | ipc-mq send "$Q"
wait $consumer

echo
echo "# Priorities: an urgent message overtakes the queue (-P shows them):"
echo "#   ipc-mq send $Q routine; ipc-mq send -p 9 $Q urgent; ipc-mq recv -a -P $Q"
ipc-mq send "$Q" routine
ipc-mq send -p 9 "$Q" urgent
ipc-mq recv -a -P "$Q"

echo
echo "# A worker: one run of a command per message, the message on its stdin:"
echo "#   ipc-mq send $Q apple fig; ipc-mq recv -n 2 $Q -- sh -c 'echo \"job: \$(cat)\"'"
ipc-mq send "$Q" apple fig
ipc-mq recv -n 2 "$Q" -- sh -c 'echo "job: $(cat) (priority $IPC_MQ_PRIO)"'

echo
echo "# Nothing there: -t bounds the wait, status 124 as timeout(1):"
status=0
ipc-mq recv -t 200ms "$Q" || status=$?
echo "#   ipc-mq recv -t 200ms $Q  -> status $status"
[ "$status" = 124 ]

echo
echo "# Remove it:  ipc-mq rm $Q"
ipc-mq rm "$Q"
trap - EXIT
