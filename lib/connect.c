/* The client side of an ADDRESS: each resolved address tried in order,
 * a timeout that bounds the whole attempt, and a wait that retries a
 * server that is refused or not there yet. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

/* How long an address that is not the last is given before the next is
 * tried: a family that is routed but blackholed (SYNs dropped) must not
 * hold a name's other addresses up for the kernel's minutes. Two seconds
 * leave room for one lost SYN. */
#define CONN_STEP_NS 2000000000LL

/* The sooner of two deadlines, -1 being none. */
static int64_t
conn_sooner(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* A failure worth retrying under --wait: nobody listens there (yet). */
static bool
conn_retryable(int e)
{
	return e == ECONNREFUSED || e == ENOENT || e == ECONNRESET ||
	    e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL;
}

/* Milliseconds until DEADLINE (-1: none), at least 0. */
static int
conn_ms_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - num_now();
	return num_poll_ms(left > 0 ? left : 0);
}

/* Sleeps MS milliseconds, waking early for a terminating signal. */
static void
conn_nap(int ms)
{
	struct pollfd p = { .fd = sig_fd(), .events = POLLIN };

	if (poll(&p, 1, ms) == -1 && errno != EINTR)
		err(EXIT_FAIL, "poll");
	if (sig_drain() != 0)
		sig_check();
}

/* Waits for a non-blocking connect on FD. Returns 0 when connected, -1
 * with errno (ETIMEDOUT when DEADLINE passed). */
static int
conn_wait(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLOUT },
			{ .fd = sig_fd(), .events = POLLIN } };
		int n = poll(p, 2, conn_ms_left(deadline));
		if (n == -1 && errno != EINTR)
			err(EXIT_FAIL, "poll");
		if (sig_drain() != 0)
			sig_check();
		if (n > 0 && p[0].revents != 0) {
			int e = 0;
			socklen_t el = sizeof e;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
				return -1;
			errno = e;
			return e == 0 ? 0 : -1;
		}
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* One connect to SA. Returns the fd (non-blocking, close-on-exec) or -1
 * with errno. A Unix socket whose backlog is full answers EAGAIN, which
 * no poll can wait for: it is retried with a short nap. */
static int
conn_one(int family, int type, const struct sockaddr *sa, socklen_t len,
    int64_t deadline)
{
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int ms = 1, e;

	if (fd == -1)
		return -1;
	for (;;) {
		if (connect(fd, sa, len) == 0)
			return fd;
		if (errno == EINTR)
			sig_check();
		if (errno == EINPROGRESS || errno == EINTR) {
			if (conn_wait(fd, deadline) == 0)
				return fd;
			break;
		}
		if (errno != EAGAIN || family != AF_UNIX)
			break;
		if (conn_ms_left(deadline) == 0) {
			errno = ETIMEDOUT;
			break;
		}
		int left = conn_ms_left(deadline);
		conn_nap(left >= 0 && left < ms ? left : ms);
		ms = ms < 50 ? ms * 2 : 50;
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Tries every address of A once, none past DEADLINE (-t, or the end of
 * --wait), each but the last for at most CONN_STEP_NS. Returns the fd,
 * or -1 with errno and WHERE naming the address that failed last. */
static int
conn_try(const struct addr *a, int64_t deadline, int verbose, char *where,
    size_t wlen)
{
	int type = a->proto == ADDR_UDP ? SOCK_DGRAM : SOCK_STREAM;

	if (a->proto == ADDR_UNIX) {
		struct sockaddr_un sun;
		socklen_t len = addr_sun(a, &sun);
		snprintf(where, wlen, "unix:%s%s", a->abstract ? "@" : "",
		    a->path);
		if (verbose)
			warnx("connecting to %s", where);
		int fd = conn_one(AF_UNIX, SOCK_STREAM,
		    (struct sockaddr *)&sun, len, deadline);
		if (fd == -1 && verbose)
			warn("%s", where);
		return fd;
	}
	struct addrinfo *res = addr_resolve_by(a, false, deadline);
	int fd = -1, e = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai != NULL && fd == -1;
	    ai = ai->ai_next) {
		addr_format(ai->ai_addr, ai->ai_addrlen, a->proto, where, wlen);
		if (verbose)
			warnx("connecting to %s", where);
		fd = conn_one(ai->ai_family, type, ai->ai_addr, ai->ai_addrlen,
		    ai->ai_next == NULL ? deadline :
		    conn_sooner(deadline, num_now() + CONN_STEP_NS));
		e = errno;
		if (fd == -1 && verbose)
			warn("%s", where);
		if (e == ETIMEDOUT && conn_ms_left(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	errno = e;
	return fd;
}

int
conn_open(const struct addr *a, int64_t timeout_ns, int64_t wait_ns,
    int verbose)
{
	int64_t start = num_now();
	int64_t deadline = timeout_ns >= 0 ? start + timeout_ns : -1;
	int64_t wait_end = wait_ns > 0 ? start + wait_ns : -1;
	char where[300];
	int ms = 10;

	for (;;) {
		/* A connect that hangs ends with --wait too: exit 1 with
		 * ETIMEDOUT, the last error, as for a refused one. */
		int fd = conn_try(a, conn_sooner(deadline, wait_end), verbose,
		    where, sizeof where);
		if (fd != -1) {
			if (verbose)
				warnx("connected to %s", where);
			return fd;
		}
		int e = errno;
		if (e == ETIMEDOUT && deadline >= 0 && conn_ms_left(deadline) == 0)
			errx(EXIT_TIMEOUT, "%s: timed out connecting", where);
		if (wait_end < 0 || !conn_retryable(e) ||
		    conn_ms_left(wait_end) == 0)
			errc(EXIT_FAIL, e, "%s", where);
		/* A short backoff: a server that starts late is met within
		 * ~100 ms without flooding it. */
		int left = conn_ms_left(wait_end);
		if (deadline >= 0 && conn_ms_left(deadline) < left)
			left = conn_ms_left(deadline);
		conn_nap(ms < left ? ms : left);
		ms = ms < 100 ? ms * 2 : 100;
		if (deadline >= 0 && conn_ms_left(deadline) == 0)
			errx(EXIT_TIMEOUT, "%s: timed out connecting", where);
	}
}
