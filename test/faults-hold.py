# hold.py PORT N: opens N idle TCP connections to 127.0.0.1:PORT with
# non-blocking connects in batches, prints "ready" once all are
# established, then holds them until stdin ends.
import errno, resource, select, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = []
batch = 500
while len(held) < n:
    socks = []
    for _ in range(min(batch, n - len(held))):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(('127.0.0.1', port))
        socks.append(s)
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLOUT)
    left = len(socks)
    while left:
        ev = ep.poll(60)
        assert ev, "connect timed out"
        for fd, _ in ev:
            ep.unregister(fd)
            left -= 1
    ep.close()
    for s in socks:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        assert e == 0, errno.errorcode.get(e, e)
    held.extend(socks)
print("ready", flush=True)
sys.stdin.read()
