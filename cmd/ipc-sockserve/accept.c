/* ipc-sockserve's accepting: the peer check of Unix sockets, a new
 * connection added to the loop or handed to COMMAND (exec mode, reaped
 * here), and UDP datagrams. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

/* ---- accepting ---- */

static bool
peer_allowed(int fd, struct ucred *cr)
{
	socklen_t l = sizeof *cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &l) == -1)
		return false;
	if (opt.allow_any || cr->uid == geteuid() || cr->uid == 0)
		return true;
	for (int i = 0; i < opt.nallow; i++)
		if (cr->uid == opt.allow[i])
			return true;
	if (opt.verbose)
		warnx("refused a peer of uid %u (pid %d): --allow-uid admits it",
		    (unsigned)cr->uid, (int)cr->pid);
	return false;
}

static void
conn_add(int fd, const struct sockaddr_storage *ss, socklen_t sl,
    const struct ucred *cr, int64_t now)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		err(EXIT_FAIL, "malloc");
	c->it.kind = IT_CONN;
	c->it.fd = fd;
	c->last = now;
	memcpy(&c->peer, ss, sl);
	c->peerlen = sl;
	c->pid = unixsock ? cr->pid : 0;
	if (opt.peer) {
		char name[160];
		if (asprintf(&c->prefix, "%s\t",
		    conn_name(c, name, sizeof name)) == -1)
			err(EXIT_FAIL, "malloc");
	}
	merge_src_init(&c->src, c->prefix);
	if (msgmode)
		frame_reader_init(&c->fr, fd, opt.len32 ? FRAME_LEN32 : opt.kind,
		    opt.max_msg);
	held_attach(c);
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	if (opt.broadcast && in_eof)
		bcast_shut(c);
	/* A short-lived client has often sent everything already: read it
	 * now and skip the trips through epoll for it. */
	if (!c->dead && !opt.broadcast)
		conn_read(c, now);
	if (!c->dead)
		ep_ctl(EPOLL_CTL_ADD, &c->it, EPOLLIN);
}

static void spawn_conn(int fd, const struct sockaddr_storage *ss,
    socklen_t sl, const struct ucred *cr);

static void
accept_failed(int64_t now)
{
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* The connection stays in the backlog and the listener stays
		 * readable: stop polling it for a while instead of spinning. */
		if (now - last_emfile_warn > 10000000000LL) {
			warn("accept (pausing)");
			last_emfile_warn = now;
		}
		resume_at = now + EMFILE_PAUSE_NS;
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    errno != EPROTO && errno != EPERM && opt.verbose)
		warn("accept");
}

void
on_accept(struct item *it, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct ucred cr = { 0 };
		int fd;

		if (limit_reached() || active >= opt.max_conns || now < resume_at)
			return;
		fd = accept4(it->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC |
		    (opt.cmd ? 0 : SOCK_NONBLOCK));
		if (fd == -1) {
			accept_failed(now);
			return;
		}
		if (unixsock && !peer_allowed(fd, &cr)) {
			close(fd);
			continue;
		}
		accepted++;
		active++;
		if (opt.cmd != NULL)
			spawn_conn(fd, &ss, sl, &cr);
		else
			conn_add(fd, &ss, sl, &cr, now);
	}
}

/* ---- UDP ---- */

void
on_datagram(struct item *it)
{
	static char dbuf[65536];

	for (int i = 0; i < 64 && !limit_reached(); i++) {
		struct sockaddr_storage ss;
		struct iovec iov = { dbuf, sizeof dbuf };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof ss,
			.msg_iov = &iov, .msg_iovlen = 1 };
		char pre[160];
		size_t pl = 0;
		ssize_t n = recvmsg(it->fd, &mh, MSG_DONTWAIT);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR && opt.verbose)
				warn("recvmsg");
			return;
		}
		if (mh.msg_flags & MSG_TRUNC)
			warnx("datagram truncated to %zd bytes", n);
		if (opt.peer) {
			addr_format((struct sockaddr *)&ss, mh.msg_namelen,
			    ADDR_TCP, pre, sizeof pre - 1);
			pl = strlen(pre);
			pre[pl++] = '\t';
		}
		emit(pre, pl, dbuf, (size_t)n, true);
		accepted++;
	}
}

/* ---- exec mode ---- */

static void
spawn_conn(int fd, const struct sockaddr_storage *ss, socklen_t sl,
    const struct ucred *cr)
{
	int status = 126;
	pid_t pid = ucspi_spawn(fd, opt.cmd, (const struct sockaddr *)ss, sl,
	    unixsock ? cr : NULL, &status);

	close(fd);
	if (pid == -1) {
		warn("%s", opt.cmd[0]);
		active--;
		last_status = status;
		return;
	}
	kids[nkids++] = pid;
	if (opt.verbose > 1)
		warnx("conn %lld: pid %d", accepted, (int)pid);
}

void
reap(void)
{
	int ws;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		for (long long i = 0; i < nkids; i++) {
			if (kids[i] != pid)
				continue;
			kids[i] = kids[--nkids];
			active--;
			last_status = spawn_status(ws);
			if (opt.verbose && last_status != 0)
				warnx("pid %d: %s %d", (int)pid,
				    WIFSIGNALED(ws) ? "killed by signal" : "exit",
				    WIFSIGNALED(ws) ? WTERMSIG(ws) : last_status);
			break;
		}
	}
}

