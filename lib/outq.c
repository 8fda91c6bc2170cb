/* Non-blocking writes to a descriptor we inherited (stdout), without
 * touching its flags: O_NONBLOCK on an open file description we share
 * would change it for every process that holds it (the shell, the
 * terminal) and stay set after we exit or are killed. Instead a pipe,
 * FIFO or terminal is reopened through /proc/self/fd, which gives a new
 * open file description of the same pipe or terminal, ours alone, and
 * that one is non-blocking; a socket is written with send(MSG_DONTWAIT),
 * which affects only our call; anything else (a regular file never
 * blocks) keeps plain writes. What the descriptor does not take at once
 * waits, in order, in a backlog. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"

/* A backlog buffer larger than this is given back once it drains. */
#define OUTQ_KEEP (256 * 1024)

/* A terminal we may reopen: not a pty master, whose reopening through
 * /proc (it is /dev/ptmx) would make a new pty. */
static bool
outq_tty(int fd, const struct stat *st)
{
	int n;

	return S_ISCHR(st->st_mode) && isatty(fd) &&
	    ioctl(fd, TIOCGPTN, &n) == -1;
}

void
outq_init(struct outq *q, int fd)
{
	struct stat st, nst;
	int nfd;

	memset(q, 0, sizeof *q);
	q->fd = fd;
	q->how = OUTQ_PLAIN;
	if (fstat(fd, &st) == -1)
		return;
	q->fifo = S_ISFIFO(st.st_mode);
	if (S_ISSOCK(st.st_mode)) {
		q->how = OUTQ_SEND;
		return;
	}
	if (!q->fifo && !outq_tty(fd, &st))
		return;
	/* A FIFO without a reader now (ENXIO) or one we may not open by
	 * its mode (another user's pipe): plain writes, as before. */
	nfd = obj_reopen(fd, O_WRONLY | O_NONBLOCK | O_NOCTTY);
	if (nfd == -1)
		return;
	if (fstat(nfd, &nst) == -1 || nst.st_dev != st.st_dev ||
	    nst.st_ino != st.st_ino || nst.st_rdev != st.st_rdev) {
		close(nfd);
		return;
	}
	q->fd = nfd;
	q->how = OUTQ_REOPEN;
}

void
outq_free(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->off = q->len = q->cap = 0;
	if (q->how == OUTQ_REOPEN)
		close(q->fd);
}

size_t
outq_pending(const struct outq *q)
{
	return q->len - q->off;
}

/* One writev as Q writes. EINTR only interrupts a plain write that
 * blocks: a signal we die of ends the tool, others are retried. */
static ssize_t
outq_put(struct outq *q, const struct iovec *iov, int n)
{
	ssize_t r;

	for (;;) {
		if (q->how == OUTQ_SEND) {
			struct msghdr mh = { .msg_iov = (struct iovec *)iov,
				.msg_iovlen = (size_t)n };
			r = sendmsg(q->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else
			r = writev(q->fd, iov, n);
		if (r >= 0 || errno != EINTR)
			return r;
		sig_check();
	}
}

static void
outq_keep(struct outq *q, const char *p, size_t len)
{
	if (len == 0)
		return;
	/* What was written goes before the backlog grows. */
	if (q->len + len > q->cap)
		buf_drop(q->buf, &q->off, &q->len);
	buf_append(&q->buf, &q->len, &q->cap, p, len, 4096);
}

int
outq_writev(struct outq *q, const struct iovec *iov, int iovcnt)
{
	size_t done = 0;
	bool all = false;

	if (outq_pending(q) == 0) {
		int k = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
		size_t want = 0;
		ssize_t r;

		for (int i = 0; i < k; i++)
			want += iov[i].iov_len;
		r = outq_put(q, iov, k);
		if (r == -1 && errno != EAGAIN)
			return -1;
		done = r > 0 ? (size_t)r : 0;
		all = done == want;
		if (all && k == iovcnt)
			return 0;     /* the common case: all of it, at once */
	}
	/* The rest goes behind what waits, in order. */
	for (int i = 0; i < iovcnt; i++) {
		size_t l = iov[i].iov_len;
		if (done >= l) {
			done -= l;
			continue;
		}
		outq_keep(q, (const char *)iov[i].iov_base + done, l - done);
		done = 0;
	}
	/* More than IOV_MAX pieces, the first all taken: try the rest. */
	return all && outq_flush(q, false) == -1 ? -1 : 0;
}

int
outq_write(struct outq *q, const void *p, size_t len)
{
	struct iovec v = { (void *)p, len };

	return outq_writev(q, &v, 1);
}

static int
outq_wait(const struct outq *q)
{
	struct pollfd p = { .fd = q->fd, .events = POLLOUT };

	while (poll(&p, 1, -1) == -1) {
		if (errno != EINTR)
			return -1;
		sig_check();
	}
	return 0;
}

int
outq_flush(struct outq *q, bool wait)
{
	while (q->off < q->len) {
		struct iovec v = { q->buf + q->off, q->len - q->off };
		ssize_t r = outq_put(q, &v, 1);

		if (r > 0) {
			q->off += (size_t)r;
			continue;
		}
		if (r == -1 && errno != EAGAIN)
			return -1;
		if (!wait)
			return 1;
		if (outq_wait(q) == -1)
			return -1;
	}
	q->off = q->len = 0;
	if (q->cap > OUTQ_KEEP) {
		free(q->buf);
		q->buf = NULL;
		q->cap = 0;
	}
	return 0;
}
