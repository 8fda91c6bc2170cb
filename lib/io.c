/* Reads, writes and copies that finish: EINTR and short writes are
 * handled here once, not in each tool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define IO_BUFSZ (256 * 1024)
#define IO_SPLICE_CHUNK (1 << 20)

/* EINTR from a signal we die of ends the tool; any other is retried. */
static bool
io_retry(void)
{
	if (errno != EINTR)
		return false;
	sig_check();
	return true;
}

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) == -1 && io_retry())
		;
	return n;
}

static int
io_wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (poll(&p, 1, -1) == -1)
		if (!io_retry())
			return -1;
	return 0;
}

ssize_t
io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (io_retry())
			continue;
		if (errno != EAGAIN || io_wait_out(fd) == -1)
			return -1;
	}
	return (ssize_t)len;
}

int
io_writev_all(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt > IOV_MAX ? IOV_MAX : iovcnt);
		if (n == -1) {
			if (io_retry())
				continue;
			if (errno != EAGAIN || io_wait_out(fd) == -1)
				return -1;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
io_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* Errors of a splice that cannot say which end failed: these are the
 * writer's, the rest the reader's; EBADF is the end not open for its
 * direction (stdout opened read-only, say). */
static int
io_splice_err(int out)
{
	int e = errno, fl;

	if (e == EBADF) {
		fl = fcntl(out, F_GETFL);
		errno = e;
		return (fl == -1 || (fl & O_ACCMODE) == O_RDONLY) ?
		    IO_ERR_WRITE : IO_ERR_READ;
	}
	return (e == EPIPE || e == ENOSPC || e == EFBIG || e == ECONNRESET ||
	    e == EDQUOT) ? IO_ERR_WRITE : IO_ERR_READ;
}

/* splice straight from IN to OUT (one of them is a pipe). Returns 0 at
 * EOF, 1 when splice does not apply (nothing copied yet), or an error. */
static int
io_splice_direct(int in, int out, uint64_t *count)
{
	for (;;) {
		ssize_t n = splice(in, NULL, out, NULL, IO_SPLICE_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_MORE);
		if (n > 0) {
			*count += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return 0;
		if (io_retry())
			continue;
		if (*count == 0 && (errno == EINVAL || errno == ENOSYS))
			return 1;
		return io_splice_err(out);
	}
}

/* splice through a pipe of our own when neither end is a pipe. */
static int
io_splice_via_pipe(int in, int out, uint64_t *count)
{
	int p[2], rc = 1;
	size_t held = 0;

	if (pipe2(p, O_CLOEXEC) == -1)
		return 1;
	(void)fcntl(p[1], F_SETPIPE_SZ, IO_SPLICE_CHUNK);
	for (;;) {
		ssize_t n = splice(in, NULL, p[1], NULL, IO_SPLICE_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_MORE);
		if (n == -1) {
			if (io_retry())
				continue;
			rc = (*count == 0 && held == 0 &&
			    (errno == EINVAL || errno == ENOSYS)) ? 1 : IO_ERR_READ;
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		held += (size_t)n;
		while (held > 0) {
			ssize_t m = splice(p[0], NULL, out, NULL, held,
			    SPLICE_F_MOVE | SPLICE_F_MORE);
			if (m == -1 && io_retry())
				continue;
			if (m <= 0) {
				/* Nothing reached OUT yet: let read/write try. */
				if (*count == 0 && m == -1 && errno == EINVAL) {
					/* The bytes already in our pipe would be
					 * lost: only the very first chunk can
					 * fall back, by reading them back. */
					rc = 2;
				} else
					rc = IO_ERR_WRITE;
				goto out;
			}
			held -= (size_t)m;
			*count += (uint64_t)m;
		}
	}
out:
	if (rc == 2) {
		/* Hand the bytes in our pipe to OUT the plain way. */
		char buf[IO_BUFSZ / 4];
		ssize_t m;
		rc = 1;
		while (held > 0 && (m = read(p[0], buf, sizeof buf)) > 0) {
			if (io_write_all(out, buf, (size_t)m) == -1) {
				rc = IO_ERR_WRITE;
				break;
			}
			held -= (size_t)m;
			*count += (uint64_t)m;
		}
	}
	int saved = errno;
	close(p[0]);
	close(p[1]);
	errno = saved;
	return rc;
}

static int
io_copy_rw(int in, int out, uint64_t *count)
{
	char *buf = malloc(IO_BUFSZ);
	int rc = 0;

	if (buf == NULL)
		err(EXIT_FAIL, "malloc");
	for (;;) {
		ssize_t n = io_read(in, buf, IO_BUFSZ);
		if (n == 0)
			break;
		if (n == -1) {
			rc = IO_ERR_READ;
			break;
		}
		if (io_write_all(out, buf, (size_t)n) == -1) {
			rc = IO_ERR_WRITE;
			break;
		}
		*count += (uint64_t)n;
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

int
io_copy(int in, int out, uint64_t *count)
{
	struct stat si, so;
	int rc;

	*count = 0;
	if (fstat(in, &si) == 0 && fstat(out, &so) == 0) {
		if (S_ISFIFO(si.st_mode) || S_ISFIFO(so.st_mode))
			rc = io_splice_direct(in, out, count);
		else
			rc = io_splice_via_pipe(in, out, count);
		if (rc != 1)
			return rc;
	}
	return io_copy_rw(in, out, count);
}

void
ob_init(struct outbuf *ob, int fd, size_t cap)
{
	ob->fd = fd;
	ob->len = 0;
	ob->cap = cap ? cap : 64 * 1024;
	ob->buf = malloc(ob->cap);
	if (ob->buf == NULL)
		err(EXIT_FAIL, "malloc");
}

int
ob_flush(struct outbuf *ob)
{
	if (ob->len == 0)
		return 0;
	if (io_write_all(ob->fd, ob->buf, ob->len) == -1)
		return -1;
	ob->len = 0;
	return 0;
}

int
ob_put(struct outbuf *ob, const void *data, size_t len)
{
	/* frame_put passes a NULL PRE of 0 bytes: memcpy(.., NULL, 0) is UB. */
	if (len == 0)
		return 0;
	if (ob->len + len > ob->cap && ob_flush(ob) == -1)
		return -1;
	if (len >= ob->cap)
		return io_write_all(ob->fd, data, len) == -1 ? -1 : 0;
	memcpy(ob->buf + ob->len, data, len);
	ob->len += len;
	return 0;
}

void
ob_free(struct outbuf *ob)
{
	free(ob->buf);
	ob->buf = NULL;
}
