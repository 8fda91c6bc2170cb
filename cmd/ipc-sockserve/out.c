/* ipc-sockserve's stdout in print mode, written without ever blocking
 * the loop (lib's outq). While stdout takes no more, what is left of
 * the last write waits in a backlog (with -1: in our splice pipe), every
 * client that has more to say is paused (not read, so nothing more is
 * taken), and the loop goes on: new clients are accepted and wait, the
 * idle sweep, signals and --grace run. Once stdout drains the paused
 * clients are read again. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"


void
out_init(struct server *srv)
{
	outq_init(&srv->oq, STDOUT_FILENO);
	srv->mg.out = &srv->oq;
	srv->outitem = (struct item){ IT_STDOUT, srv->oq.fd };
	/* A pipe on stdout whose reader left reports EPOLLERR. */
	if (srv->oq.fifo) {
		struct epoll_event ev = { .events = 0,
		    .data.ptr = &srv->outitem };
		srv->polled = epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->oq.fd,
		    &ev) == 0;
	}
}

bool
out_blocked(struct server *srv)
{
	return outq_pending(&srv->oq) > 0 || srv->rawheld > 0;
}

void
out_writev(struct server *srv, const struct iovec *iov, int iovcnt)
{
	if (outq_writev(&srv->oq, iov, iovcnt) == -1)
		out_failed();
}

/* -1's bytes from our pipe to stdout with splice(2); what stdout does not
 * take now stays in the pipe (rawheld). N more bytes just came in. */
void
raw_out(struct server *srv, size_t n)
{
	unsigned fl = SPLICE_F_MOVE |
	    (srv->oq.how == OUTQ_PLAIN ? 0 : SPLICE_F_NONBLOCK);

	srv->rawheld += n;
	while (srv->rawheld > 0 && outq_pending(&srv->oq) == 0) {
		ssize_t m = splice(srv->rawpipe[0], NULL, srv->oq.fd, NULL,
		    srv->rawheld, fl);
		if (m > 0) {
			srv->rawheld -= (size_t)m;
			continue;
		}
		if (m == -1 && errno == EINTR) {
			sig_check();
			continue;
		}
		if (m == -1 && errno == EAGAIN)
			return;
		if (m == -1 && errno == EINVAL) {
			/* stdout takes no splice: the plain way. */
			ssize_t r = io_read(srv->rawpipe[0], srv->rbuf,
			    srv->rawheld < sizeof srv->rbuf ? srv->rawheld
			    : sizeof srv->rbuf);
			if (r <= 0)
				err(EXIT_FAIL, "pipe");
			srv->rawheld -= (size_t)r;
			if (outq_write(&srv->oq, srv->rbuf, (size_t)r) == -1)
				out_failed();
			continue;
		}
		out_failed();
	}
}

/* What a connection is polled for: its input unless it is paused or
 * done sending, the broadcast backlog's room. */
uint32_t
conn_events(const struct conn *c)
{
	return (c->rd_eof || c->paused ? 0 : EPOLLIN) |
	    (c->want_out ? EPOLLOUT : 0);
}

void
conn_watch(struct server *srv, struct conn *c)
{
	if (!c->unwatched)
		ep_ctl(srv, EPOLL_CTL_MOD, &c->it, conn_events(c));
}

/* C has more to say while stdout is blocked: not read until it drains.
 * One that hung up or failed (HUP, ERR: epoll reports those whatever it
 * is asked) leaves the epoll set, or it would be reported again and
 * again; its last bytes wait in the kernel. */
void
conn_pause(struct server *srv, struct conn *c, bool hup)
{
	bool was = c->paused;

	if (c->unwatched)
		return;
	c->paused = true;
	if (hup) {
		ep_ctl(srv, EPOLL_CTL_DEL, &c->it, 0);
		c->unwatched = true;
	} else if (!was)
		ep_ctl(srv, EPOLL_CTL_MOD, &c->it, conn_events(c));
	if (!was)
		srv->npaused++;
}

static void
conns_resume(struct server *srv, int64_t now)
{
	if (srv->npaused == 0)
		return;
	for (struct conn *c = srv->conns; c != NULL; c = c->next) {
		if (!c->paused)
			continue;
		c->paused = false;
		c->last = now;   /* waiting for stdout is not being idle */
		ep_ctl(srv, c->unwatched ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
		    &c->it,
		    conn_events(c));
		c->unwatched = false;
	}
	srv->npaused = 0;
}

/* Polls stdout for room (or stops); false if it cannot be polled. */
static bool
out_watch(struct server *srv, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLOUT : 0,
		.data.ptr = &srv->outitem };
	int op = srv->polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* Only a pipe stays in the set, for its reader leaving. */
	if (!on && !srv->oq.fifo)
		op = EPOLL_CTL_DEL;
	if (epoll_ctl(srv->ep, op, srv->oq.fd, &ev) == -1) {
		if (errno == EPERM)
			return false;
		err(EXIT_FAIL, "epoll_ctl");
	}
	srv->polled = op != EPOLL_CTL_DEL;
	return true;
}

static void
out_push(struct server *srv)
{
	int rc = outq_flush(&srv->oq, false);

	if (rc == -1)
		out_failed();
	if (rc == 0 && srv->rawheld > 0)
		raw_out(srv, 0);
}

/* Once a loop turn: poll stdout while it is blocked, resume the paused
 * clients once it drained. */
void
out_update(struct server *srv, int64_t now)
{
	bool want = out_blocked(srv);

	if (want == srv->watching)
		return;
	if (want && !out_watch(srv, true)) {
		/* Nothing epoll can wait for (a file, EAGAIN inherited):
		 * the blocking way. */
		if (outq_flush(&srv->oq, true) == -1)
			out_failed();
		raw_out(srv, 0);
		return;
	}
	if (!want)
		(void)out_watch(srv, false);
	srv->watching = want;
	if (!want)
		conns_resume(srv, now);
}

/* An event on stdout: room (while blocked), or its reader left. */
void
out_ready(struct server *srv, uint32_t events)
{
	if (out_blocked(srv) && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		out_push(srv);    /* a reader that left shows as EPIPE here */
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The reader of stdout went away: nothing left to serve. */
		errno = EPIPE;
		out_failed();
	}
}

/* Dying: what stdout takes now, never waiting for it. */
void
out_last(struct server *srv)
{
	if (outq_flush(&srv->oq, false) != 0)
		return;
	while (srv->rawheld > 0) {
		ssize_t m = splice(srv->rawpipe[0], NULL, srv->oq.fd, NULL,
		    srv->rawheld,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (m <= 0)
			return;
		srv->rawheld -= (size_t)m;
	}
}
