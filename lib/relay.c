/* A two-way relay with half-close: at the end of one direction's input
 * its output is shut down (sockets) or closed (pipes), and the other
 * direction goes on until it ends too, so no byte is lost either way.
 * Bytes move by splice(2) through a pipe of our own where the kernel
 * allows it, by read/write with a buffer where not. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define RELAY_PIPE_SZ (1 << 20)
#define RELAY_BUFSZ (64 * 1024)
#define RELAY_SENDFILE_CHUNK (4 << 20)

void
relay_end_init(struct relay_end *e, int in, int out)
{
	memset(e, 0, sizeof *e);
	e->in = in;
	e->out = out;
	e->pipe[0] = e->pipe[1] = -1;
	e->splice_in = e->splice_out = true;
}

/* A regular file into a TCP socket of ours: sendfile(2) moves it with one
 * call per chunk and no pipe between, 15-30% less time than splice through
 * our 1 MiB pipe (tmpfs file, loopback). Into a Unix socket it is slower:
 * the kernel's own pipe for it is small. */
static bool
relay_can_sendfile(const struct relay_end *e)
{
	struct stat st;
	int dom;
	socklen_t len = sizeof dom;

	return !e->out_dontwait && e->in >= 0 && e->out >= 0 &&
	    fstat(e->in, &st) == 0 && S_ISREG(st.st_mode) &&
	    getsockopt(e->out, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
	    (dom == AF_INET || dom == AF_INET6);
}

static void
relay_setup(struct relay_end *e)
{
	struct stat st;
	int fl;

	if (e->buf != NULL)  /* kept by an earlier relay_run: resume */
		return;
	/* splice(2) into a blocking socket blocks whatever its flags say,
	 * stalling the other direction (a proxy under inetd or ipc-sockserve
	 * exec mode could deadlock). We do not make a descriptor we share
	 * non-blocking: send(MSG_DONTWAIT) affects only our call. */
	if (fstat(e->out, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (fl = fcntl(e->out, F_GETFL)) != -1 && !(fl & O_NONBLOCK)) {
		e->out_dontwait = true;
		e->splice_out = false;
	}
	e->out_fifo = e->out >= 0 && fstat(e->out, &st) == 0 &&
	    S_ISFIFO(st.st_mode);
	e->sendfile = relay_can_sendfile(e);
	if (pipe2(e->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		e->splice_in = e->splice_out = false;
		e->pipe[0] = e->pipe[1] = -1;
	} else if (fcntl(e->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_SZ) == -1) {
		/* A smaller pipe would fill while IN still polls readable
		 * (relay_events counts on RELAY_PIPE_SZ): a spin. Copy the
		 * plain way instead (e.g. pipe-user-pages-soft reached). */
		close(e->pipe[0]);
		close(e->pipe[1]);
		e->splice_in = e->splice_out = false;
		e->pipe[0] = e->pipe[1] = -1;
	}
	e->buf = malloc(RELAY_BUFSZ);
	if (e->buf == NULL)
		err(EXIT_FAIL, "malloc");
}


/* An end that still holds bytes (relay_run returned early, b_ends_all)
 * keeps its pipe and buffer: a second relay_run delivers them. */
static void
relay_release(struct relay_end *e)
{
	if (!e->done && relay_pending(e))
		return;
	if (e->pipe[0] != -1) {
		close(e->pipe[0]);
		close(e->pipe[1]);
		e->pipe[0] = e->pipe[1] = -1;
	}
	free(e->buf);
	e->buf = NULL;
}

bool
relay_pending(const struct relay_end *e)
{
	return e->inpipe > 0 || e->len > e->off;
}

static void
relay_fail(struct relay_end *e, bool on_read)
{
	e->err = errno;
	e->read_err = on_read;
	/* A read error (a reset, EISDIR) ends IN as EOF would: what was
	 * read before it still goes out, then OUT gets the EOF, so the far
	 * side is not left waiting for more (err says it went wrong). */
	if (on_read)
		e->eof = true;
	else
		e->done = true;
}

/* The input is at EOF and everything is out: pass the EOF on. */
static void
relay_finish(struct relay_end *e)
{
	e->done = true;
	if (e->out_is_sock)
		(void)shutdown(e->out, SHUT_WR);
	else if (e->close_out) {
		close(e->out);
		e->out = -1;
	}
}

/* Reads what IN has. Returns true if anything moved. */
static bool
relay_pull(struct relay_end *e)
{
	ssize_t n;

	if (e->splice_in) {
		n = splice(e->in, NULL, e->pipe[1], NULL, RELAY_PIPE_SZ,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && (errno == EINVAL || errno == ENOSYS) &&
		    e->bytes == 0 && e->inpipe == 0) {
			e->splice_in = false;  /* e.g. a tty: read(2) it */
			return relay_pull(e);
		}
		if (n > 0)
			e->inpipe += (size_t)n;
		/* Readable IN, but our pipe's slots are full (many small
		 * segments fill them long before RELAY_PIPE_SZ bytes): polling
		 * IN again before OUT drains some would spin. */
		if (n == -1 && errno == EAGAIN && e->inpipe > 0)
			e->in_full = true;
	} else {
		n = read(e->in, e->buf, RELAY_BUFSZ);
		if (n > 0) {
			e->off = 0;
			e->len = (size_t)n;
		}
	}
	if (n == 0)
		e->eof = true;
	else if (n == -1 && errno == ECONNRESET && e->reset_eof) {
		/* What the peer sent before it closed was read first: this
		 * is its end of output, and it left our last bytes unread. */
		e->eof = true;
		e->reset = true;
	} else if (n == -1 && errno != EAGAIN && errno != EINTR)
		relay_fail(e, true);
	return n > 0;
}

/* Sends the next chunk of the file IN to the socket OUT. Returns true
 * if anything moved. */
static bool
relay_sendfile(struct relay_end *e)
{
	ssize_t n = sendfile(e->out, e->in, NULL, RELAY_SENDFILE_CHUNK);

	if (n > 0) {
		e->bytes += (uint64_t)n;
		return true;
	}
	if (n == 0)
		e->eof = true;
	else if ((errno == EINVAL || errno == ENOSYS) && e->bytes == 0)
		e->sendfile = false;  /* a file system without it: splice */
	else if (errno != EAGAIN && errno != EINTR)
		/* Which end failed: the socket's errors are these. */
		relay_fail(e, !(errno == EPIPE || errno == ECONNRESET ||
		    errno == ENOTCONN || errno == ENOBUFS));
	return false;
}

/* Writes what we hold to OUT. Returns true if anything moved. */
static bool
relay_push(struct relay_end *e)
{
	ssize_t n;

	if (e->inpipe > 0 && e->splice_out) {
		n = splice(e->pipe[0], NULL, e->out, NULL, e->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && errno == EINVAL && e->bytes == 0) {
			e->splice_out = false;  /* e.g. O_APPEND: write(2) */
			return relay_push(e);
		}
		if (n > 0) {
			e->inpipe -= (size_t)n;
			e->bytes += (uint64_t)n;
			e->in_full = false;
		}
	} else {
		if (e->len == e->off && e->inpipe > 0) {
			n = read(e->pipe[0], e->buf, RELAY_BUFSZ);
			if (n <= 0)
				return false;
			e->off = 0;
			e->len = (size_t)n;
			e->inpipe -= (size_t)n;
			e->in_full = false;
		}
		n = e->out_dontwait ?
		    send(e->out, e->buf + e->off, e->len - e->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL) :
		    write(e->out, e->buf + e->off, e->len - e->off);
		if (n > 0) {
			e->off += (size_t)n;
			e->bytes += (uint64_t)n;
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		relay_fail(e, false);
	return n > 0;
}

/* Adds E's descriptors to the poll set; returns how many. */
static int
relay_events(struct relay_end *e, struct pollfd *p)
{
	int k = 0;

	if (e->done)
		return 0;
	if (e->sendfile && !e->eof) {
		p[k++] = (struct pollfd){ .fd = e->out, .events = POLLOUT };
		return k;
	}
	if (!e->eof && !relay_pending(e))
		p[k++] = (struct pollfd){ .fd = e->in, .events = POLLIN };
	else if (!e->eof && e->splice_in && !e->in_full &&
	    e->inpipe < RELAY_PIPE_SZ / 2)
		p[k++] = (struct pollfd){ .fd = e->in, .events = POLLIN };
	if (relay_pending(e))
		p[k++] = (struct pollfd){ .fd = e->out, .events = POLLOUT };
	else if (e->out_fifo)  /* POLLERR alone: the reader left (| head) */
		p[k++] = (struct pollfd){ .fd = e->out, .events = 0 };
	return k;
}

static bool
relay_step(struct relay_end *e, const struct pollfd *p, int k)
{
	bool moved = false;

	for (int i = 0; i < k && !e->done; i++) {
		if (p[i].revents == 0)
			continue;
		if (e->sendfile && !e->eof)
			moved |= relay_sendfile(e);
		else if (p[i].events & POLLIN)
			moved |= relay_pull(e);
		else if (p[i].events & POLLOUT)
			moved |= relay_push(e);
		else if (p[i].revents & POLLERR) {
			/* Nothing more can be delivered: end now, not at the
			 * next byte the peer may send hours from now. */
			errno = EPIPE;
			relay_fail(e, false);
		}
	}
	if (!e->done && e->eof && !relay_pending(e))
		relay_finish(e);
	return moved;
}

/* Ends E now, dropping what it holds: its OUT gets the EOF as at the end
 * of its input (closed or shut down). */
void
relay_stop(struct relay_end *e)
{
	if (e->done)
		return;
	e->inpipe = 0;
	e->off = e->len = 0;
	relay_finish(e);
}

/* The earlier of two deadlines, -1 meaning none. */
static int64_t
relay_sooner(int64_t x, int64_t y)
{
	return x < 0 || (y >= 0 && y < x) ? y : x;
}

int
relay_run(struct relay_end *a, struct relay_end *b, int64_t idle_ns,
    bool b_ends_all, const struct relay_hook *hook)
{
	int64_t last = num_now(), due = -1;
	int rc = 0, sig;

	relay_setup(a);
	relay_setup(b);
	if (hook != NULL)
		due = hook->wake(a, b, hook->arg);
	while (!(a->done && b->done) && !(b_ends_all && b->done)) {
		struct pollfd p[5];
		int ka = relay_events(a, p), kb = relay_events(b, p + ka);
		int n = ka + kb, tmo = -1;
		int64_t now = num_now(), until = due;

		p[n++] = (struct pollfd){ .fd = sig_fd(), .events = POLLIN };
		if (idle_ns >= 0) {
			if (last + idle_ns <= now) {
				rc = EXIT_TIMEOUT;
				break;
			}
			until = relay_sooner(until, last + idle_ns);
		}
		if (until >= 0)
			tmo = num_poll_ms(until > now ? until - now : 0);
		if (poll(p, (nfds_t)n, tmo) == -1 && errno != EINTR)
			err(EXIT_FAIL, "poll");
		/* The self-pipe is read only when it has something: one
		 * syscall less per round of a bulk transfer. */
		if (p[n - 1].revents)
			(void)sig_drain();
		bool moved = relay_step(a, p, ka);
		moved |= relay_step(b, p + ka, kb);
		if (moved)
			last = num_now();
		if (hook != NULL)
			due = hook->wake(a, b, hook->arg);
		/* A terminating signal ends the relay, unless the hook took
		 * care of it (sig_clear). */
		if ((sig = sig_caught()) != 0) {
			rc = -sig;
			break;
		}
	}
	relay_release(a);
	relay_release(b);
	return rc;
}
