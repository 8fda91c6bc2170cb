/* ipc-fifo: the write verb: stdin (or -m TEXT) packed into writes of whole
 * lines of up to PIPE_BUF bytes, atomic between writers; long lines from a
 * regular file spliced; --raw copies bytes as they come. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "fifo.h"

/* One buffer of stdin; a line still incomplete at its end is at most
 * PIPE_BUF bytes long, the rest has been written. 64 KiB, the size of a
 * pipe: a larger buffer falls out of the L2 cache and is slower than
 * cat(1) (measured: 256 KiB 2.1 s, 64 KiB 1.15 s for 2 GiB). */
#define WRITE_BUFSZ (64 * 1024)

/* One write verb's progress through the FIFO. */
struct writer {
	int fd;             /* the FIFO */
	const char *path;
	uint64_t sent;      /* bytes the FIFO took */
	bool in_long;       /* a piece of the current long line went out */
	bool cannot_splice; /* stdin's file system cannot splice */
};

static noreturn void
reader_gone(const struct writer *w)
{
	errx(EXIT_FAIL, "%s: the reader went away after %llu bytes", w->path,
	    (unsigned long long)w->sent);
}

/* One write(2) of a packet; a write of up to PIPE_BUF bytes is atomic. */
static void
put(struct writer *w, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n == -1) {
			if (errno == EINTR) {
				sig_check();
				continue;
			}
			if (errno == EPIPE)
				reader_gone(w);
			err(EXIT_FAIL, "%s: after %llu bytes", w->path,
			    (unsigned long long)w->sent);
		}
		w->sent += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
}

/* A piece of a long line that stdin, a regular file, holds at offset OFF:
 * splice(2) hands the FIFO references to the file's pages, where write(2)
 * would copy them a second time. Returns the bytes sent; fewer than LEN
 * (and splicing off for good) where the file system cannot splice. */
static size_t
put_spliced(struct writer *w, off_t off, size_t len)
{
	size_t done = 0;

	while (!w->cannot_splice && done < len) {
		ssize_t n = splice(STDIN_FILENO, &off, w->fd, NULL, len - done,
		    SPLICE_F_MORE);
		if (n > 0) {
			w->sent += (uint64_t)n;
			done += (size_t)n;
		} else if (n == -1 && errno == EINTR)
			sig_check();
		else if (n == -1 && errno == EPIPE)
			reader_gone(w);
		else if (n == 0 || errno == EINVAL || errno == ENOSYS)
			w->cannot_splice = true;  /* the rest is copied from the buffer */
		else
			err(EXIT_FAIL, "%s: after %llu bytes", w->path,
			    (unsigned long long)w->sent);
	}
	return done;
}

/* Writes the lines of BUF: as many whole lines as fit in PIPE_BUF bytes
 * per write (atomic between writers). A line longer than PIPE_BUF cannot
 * be atomic: it goes out in large pieces, on its own (spliced from stdin
 * when BASE, the file offset of BUF, is not -1). A short incomplete line
 * at the end waits for more input unless EOF. Returns bytes used. */
static size_t
pack_out(struct writer *w, const char *buf, size_t len, bool eof,
    off_t base)
{
	size_t pos = 0;

	while (pos < len) {
		size_t left = len - pos, n;
		size_t lim = left < PIPE_BUF ? left : PIPE_BUF;
		const char *nl = memrchr(buf + pos, '\n', lim);

		if (nl != NULL)
			n = (size_t)(nl - (buf + pos)) + 1;
		else if (left <= PIPE_BUF && !eof && !w->in_long)
			break;
		else {
			const char *e = memchr(buf + pos + lim, '\n',
			    left - lim);
			n = e ? (size_t)(e - (buf + pos)) + 1 : left;
		}
		size_t done = 0;
		if (base != -1 && n > PIPE_BUF)
			done = put_spliced(w, base + (off_t)pos, n);
		put(w, buf + pos + done, n - done);
		w->in_long = buf[pos + n - 1] != '\n';
		pos += n;
	}
	return pos;
}

static void
write_lines(struct writer *w)
{
	char *buf = malloc(WRITE_BUFSZ);
	size_t len = 0;
	struct stat st;
	off_t base = -1;  /* file offset of buf[0] when stdin is a file */

	if (buf == NULL)
		err(EXIT_FAIL, "malloc");
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		base = lseek(STDIN_FILENO, 0, SEEK_CUR);
	for (;;) {
		ssize_t n = io_read(STDIN_FILENO, buf + len, WRITE_BUFSZ - len);
		if (n == -1)
			err(EXIT_FAIL, "stdin");
		len += (size_t)n;
		size_t used = pack_out(w, buf, len, n == 0, base);
		if (base != -1)
			base += (off_t)used;
		memmove(buf, buf + used, len - used);
		len -= used;
		if (n == 0)
			break;
	}
	free(buf);
}

int
ff_cmd_write(struct fifo *ff)
{
	struct writer w = { .fd = ff_open_fifo(ff, O_WRONLY, "reader"),
	    .path = ff->path };
	uint64_t n;

	if (ff->message != NULL) {
		size_t len = strlen(ff->message);
		char *m = malloc(len + 1);
		if (m == NULL)
			err(EXIT_FAIL, "malloc");
		memcpy(m, ff->message, len);
		m[len] = '\n';
		pack_out(&w, m, len + 1, true, -1);
		free(m);
	} else if (ff->raw) {
		switch (io_copy(STDIN_FILENO, w.fd, &n)) {
		case IO_ERR_READ:
			err(EXIT_FAIL, "stdin");
		case IO_ERR_WRITE:
			if (errno == EPIPE)
				errx(EXIT_FAIL, "%s: the reader went away after "
				    "%llu bytes", ff->path, (unsigned long long)n);
			err(EXIT_FAIL, "%s: after %llu bytes", ff->path,
			    (unsigned long long)n);
		}
	} else
		write_lines(&w);
	if (close(w.fd) == -1)
		err(EXIT_FAIL, "%s", ff->path);
	return EXIT_OK;
}
