/* ipc-fifo: the read verb: copy what writers send to stdout; -k keeps a
 * write end of our own so the copy goes on across writers; -n consumes
 * exactly COUNT lines, peeking with tee(2) so the rest stays queued. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "fifo.h"

/* The peek window of read -n (the capacity of our own pipe). */
#define PEEK_BUFSZ (64 * 1024)

/* Another reader took bytes between our peek and our read: what the FIFO
 * held is split between it and us, and no count of lines can be kept. */
static noreturn void
other_reader(const char *path)
{
	errx(EXIT_FAIL, "%s: another reader took bytes from the FIFO while "
	    "-n was reading (-n needs to be the only reader)", path);
}

/* Takes from the FIFO the LEN bytes just peeked (PEEK): read without
 * waiting, since they are there unless another reader took them, and
 * compared with the peek, which tells the same if that reader took some
 * and the next ones came in their place. Equal bytes taken in between
 * are the one case no reader can tell. */
static void
take_peeked(const char *path, int fd, const char *peek, char *buf,
    size_t len)
{
	size_t got = 0;

	if (io_nonblock(fd, true) == -1)
		err(EXIT_FAIL, "%s", path);
	while (got < len) {
		ssize_t n = io_read(fd, buf + got, len - got);
		if (n == 0 || (n == -1 && errno == EAGAIN))
			other_reader(path);
		if (n == -1)
			err(EXIT_FAIL, "%s", path);
		got += (size_t)n;
	}
	if (io_nonblock(fd, false) == -1)
		err(EXIT_FAIL, "%s", path);
	if (memcmp(peek, buf, len) != 0)
		other_reader(path);
}

/* Reads exactly LEN bytes (they are known to be there). */
static void
read_exact(int fd, char *buf, size_t len, const char *what)
{
	while (len > 0) {
		ssize_t n = io_read(fd, buf, len);
		if (n <= 0) {
			if (n == 0)
				errx(EXIT_FAIL, "%s: data vanished (another "
				    "reader?)", what);
			err(EXIT_FAIL, "%s", what);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* -n: consume exactly COUNT lines. tee(2) copies what the FIFO holds into
 * a pipe of ours without consuming it; we look for the COUNT-th newline
 * in that copy, then read from the FIFO exactly up to it, so the lines
 * after it stay for the next reader. Between the peek and the read a
 * second reader could take bytes: take_peeked notices and fails. */
static void
read_lines(struct fifo *ff, int fd)
{
	char *buf = malloc(PEEK_BUFSZ), *got = malloc(PEEK_BUFSZ);
	int p[2];

	if (buf == NULL || got == NULL)
		err(EXIT_FAIL, "malloc");
	if (pipe2(p, O_CLOEXEC) == -1)
		err(EXIT_FAIL, "pipe");
	while (ff->count > 0) {
		ssize_t n = tee(fd, p[1], PEEK_BUFSZ, 0);
		if (n == -1) {
			if (errno == EINTR) {
				sig_check();
				continue;
			}
			err(EXIT_FAIL, "%s", ff->path);
		}
		if (n == 0)
			break;  /* EOF: fewer lines than asked, as head(1) */
		read_exact(p[0], buf, (size_t)n, "peek pipe");
		size_t take = (size_t)n;
		for (char *q = buf; ff->count > 0 &&
		    (q = memchr(q, '\n', (size_t)(buf + n - q))) != NULL; q++)
			if (--ff->count == 0)
				take = (size_t)(q - buf) + 1;
		take_peeked(ff->path, fd, buf, got, take);
		if (io_write_all(STDOUT_FILENO, buf, take) == -1)
			cli_write_failed("stdout");
	}
	close(p[0]);
	close(p[1]);
	free(got);
	free(buf);
}

int
ff_cmd_read(struct fifo *ff)
{
	/* -n 0: no line to take, so no writer to wait for. */
	if (ff->count == 0)
		return EXIT_OK;
	int fd = ff_open_fifo(ff, O_RDONLY, "writer");
	int hold = -1;
	uint64_t n;

	if (ff->keep) {
		/* Our own write end: when the last writer leaves, read(2)
		 * blocks instead of returning EOF (and poll would report
		 * POLLHUP forever, a spin). A reader exists (us), so this
		 * open does not block. */
		hold = obj_reopen(fd, O_WRONLY);
		if (hold == -1)
			err(EXIT_FAIL, "%s: keeping a write end", ff->path);
	}
	if (ff->count > 0)
		read_lines(ff, fd);
	else {
		switch (io_copy(fd, STDOUT_FILENO, &n)) {
		case IO_ERR_READ:
			err(EXIT_FAIL, "%s", ff->path);
		case IO_ERR_WRITE:
			cli_write_failed("stdout");
		}
	}
	if (hold != -1)
		close(hold);
	close(fd);
	return EXIT_OK;
}
