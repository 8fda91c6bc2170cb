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

struct outq oq;
size_t rawheld;             /* -1: bytes in rawpipe not yet on stdout */
static bool watching;       /* stdout polled for EPOLLOUT */
static bool polled;         /* stdout is in the epoll set */
static long long npaused;   /* an upper bound: conns paused, some gone */

void
out_init(void)
{
	outq_init(&oq, STDOUT_FILENO);
	mg.out = &oq;
	outitem = (struct item){ IT_STDOUT, oq.fd };
	/* A pipe on stdout whose reader left reports EPOLLERR. */
	if (oq.fifo) {
		struct epoll_event ev = { .events = 0, .data.ptr = &outitem };
		polled = epoll_ctl(ep, EPOLL_CTL_ADD, oq.fd, &ev) == 0;
	}
}

bool
out_blocked(void)
{
	return outq_pending(&oq) > 0 || rawheld > 0;
}

void
out_writev(const struct iovec *iov, int iovcnt)
{
	if (outq_writev(&oq, iov, iovcnt) == -1)
		out_failed();
}

/* -1's bytes from our pipe to stdout with splice(2); what stdout does not
 * take now stays in the pipe (rawheld). N more bytes just came in. */
void
raw_out(size_t n)
{
	unsigned fl = SPLICE_F_MOVE |
	    (oq.how == OUTQ_PLAIN ? 0 : SPLICE_F_NONBLOCK);

	rawheld += n;
	while (rawheld > 0 && outq_pending(&oq) == 0) {
		ssize_t m = splice(rawpipe[0], NULL, oq.fd, NULL, rawheld, fl);
		if (m > 0) {
			rawheld -= (size_t)m;
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
			ssize_t r = io_read(rawpipe[0], rbuf,
			    rawheld < sizeof rbuf ? rawheld : sizeof rbuf);
			if (r <= 0)
				err(EXIT_FAIL, "pipe");
			rawheld -= (size_t)r;
			if (outq_write(&oq, rbuf, (size_t)r) == -1)
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
conn_watch(struct conn *c)
{
	if (!c->unwatched)
		ep_ctl(EPOLL_CTL_MOD, &c->it, conn_events(c));
}

/* C has more to say while stdout is blocked: not read until it drains.
 * One that hung up or failed (HUP, ERR: epoll reports those whatever it
 * is asked) leaves the epoll set, or it would be reported again and
 * again; its last bytes wait in the kernel. */
void
conn_pause(struct conn *c, bool hup)
{
	bool was = c->paused;

	if (c->unwatched)
		return;
	c->paused = true;
	if (hup) {
		ep_ctl(EPOLL_CTL_DEL, &c->it, 0);
		c->unwatched = true;
	} else if (!was)
		ep_ctl(EPOLL_CTL_MOD, &c->it, conn_events(c));
	if (!was)
		npaused++;
}

static void
conns_resume(int64_t now)
{
	if (npaused == 0)
		return;
	for (struct conn *c = conns; c != NULL; c = c->next) {
		if (!c->paused)
			continue;
		c->paused = false;
		c->last = now;   /* waiting for stdout is not being idle */
		ep_ctl(c->unwatched ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, &c->it,
		    conn_events(c));
		c->unwatched = false;
	}
	npaused = 0;
}

/* Polls stdout for room (or stops); false if it cannot be polled. */
static bool
out_watch(bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLOUT : 0,
		.data.ptr = &outitem };
	int op = polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* Only a pipe stays in the set, for its reader leaving. */
	if (!on && !oq.fifo)
		op = EPOLL_CTL_DEL;
	if (epoll_ctl(ep, op, oq.fd, &ev) == -1) {
		if (errno == EPERM)
			return false;
		err(EXIT_FAIL, "epoll_ctl");
	}
	polled = op != EPOLL_CTL_DEL;
	return true;
}

static void
out_push(void)
{
	int rc = outq_flush(&oq, false);

	if (rc == -1)
		out_failed();
	if (rc == 0 && rawheld > 0)
		raw_out(0);
}

/* Once a loop turn: poll stdout while it is blocked, resume the paused
 * clients once it drained. */
void
out_update(int64_t now)
{
	bool want = out_blocked();

	if (want == watching)
		return;
	if (want && !out_watch(true)) {
		/* Nothing epoll can wait for (a file, EAGAIN inherited):
		 * the blocking way. */
		if (outq_flush(&oq, true) == -1)
			out_failed();
		raw_out(0);
		return;
	}
	if (!want)
		(void)out_watch(false);
	watching = want;
	if (!want)
		conns_resume(now);
}

/* An event on stdout: room (while blocked), or its reader left. */
void
out_ready(uint32_t events)
{
	if (out_blocked() && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		out_push();    /* a reader that left shows as EPIPE here */
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
out_last(void)
{
	if (outq_flush(&oq, false) != 0)
		return;
	while (rawheld > 0) {
		ssize_t m = splice(rawpipe[0], NULL, oq.fd, NULL, rawheld,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (m <= 0)
			return;
		rawheld -= (size_t)m;
	}
}
