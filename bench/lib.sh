# Sourced by every bench/bench-*.sh: the small helpers they all use.

# have CMD: CMD is on PATH.
have() { command -v "$1" >/dev/null 2>&1; }
# now: the time in nanoseconds.
now() { date +%s%N; }
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
# PIN_PAIR: the placement for two processes that share the machine's CPUs
# (every contestant of a rate benchmark runs under the same one).
if have taskset; then
	[ "$ncpu" -ge 2 ] && PIN_PAIR="taskset -c 0,1" || PIN_PAIR="taskset -c 0"
else
	PIN_PAIR=
	echo "taskset missing: placement not enforced"
fi

# free_port: a free TCP port on loopback (bind port 0, read it back).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_listen tcp PORT | unix PATH: until a server listens there (bounded).
wait_listen() {
	i=0
	while [ $i -lt 400 ]; do
		if [ "$1" = unix ]; then
			ss -Hlx src "$2" 2>/dev/null | grep -q LISTEN && return 0
		else
			ss -Hltn "sport = :$2" 2>/dev/null | grep -q LISTEN && return 0
		fi
		sleep 0.005
		i=$((i + 1))
	done
	return 1
}

# pin same|split client|server: the taskset prefix for one end of a
# client/server pair: both on CPU 0, or client on 0 and server on 1.
pin() {
	have taskset || return 0
	case $1.$2 in
	same.*|split.client) echo "taskset -c 0" ;;
	split.server) [ "$ncpu" -ge 2 ] && echo "taskset -c 1" || echo "taskset -c 0" ;;
	esac
}
