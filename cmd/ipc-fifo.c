/* ipc-fifo: named pipes that are safe and scriptable. `make` and `rm`
 * create and remove FIFOs (and nothing else); `read` copies what writers
 * send to stdout, across writers with -k; `write` sends stdin whole lines
 * at a time, so lines of concurrent writers never interleave. Every verb
 * opens the path O_PATH|O_NOFOLLOW, checks it is a FIFO of ours, and only
 * then opens it for real (lib/obj.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define SYNOPSIS \
	"ipc-fifo make [--mode MODE] [-p] PATH...\n" \
	"ipc-fifo read [-k] [-c] [-n COUNT] [-t DUR] [--follow] [--shared] PATH\n" \
	"ipc-fifo write [-c] [-r] [-m TEXT] [-t DUR] [--follow] [--shared] PATH\n" \
	"ipc-fifo rm PATH..."

#define HELP \
	"usage: " "ipc-fifo make [--mode MODE] [-p] PATH...\n" \
	"       ipc-fifo read [-k] [-c] [-n COUNT] [-t DUR] [--follow] [--shared] PATH\n" \
	"       ipc-fifo write [-c] [-r] [-m TEXT] [-t DUR] [--follow] [--shared] PATH\n" \
	"       ipc-fifo rm PATH...\n" \
	"\n" \
	"Named pipes (FIFOs) that are safe to use from the shell.\n" \
	"\n" \
	"  make          create FIFOs, mode 0600 unless --mode\n" \
	"  read          copy what writers send to stdout\n" \
	"  write         send stdin (or -m TEXT), each line in one write\n" \
	"  rm            remove FIFOs, and nothing else\n" \
	"\n" \
	"  -p, --exist-ok      make: a FIFO already there is fine\n" \
	"      --mode MODE     permissions of a FIFO made (exact, octal)\n" \
	"  -k, --keep          read: go on across writers until signalled\n" \
	"  -n, --count COUNT   read: consume exactly COUNT lines, then exit\n" \
	"  -c, --create        make the FIFO if missing, remove it on exit\n" \
	"  -m, --message TEXT  write: send TEXT and a newline, not stdin\n" \
	"  -r, --raw           write: bytes as they come (one writer, fastest)\n" \
	"  -t, --timeout DUR   wait at most DUR for the other end (exit 124)\n" \
	"      --follow        follow a symbolic link at PATH\n" \
	"      --shared        accept a FIFO owned by another user\n" \
	"  -v, --verbose       say what happens on stderr\n" \
	"  -h, --help          this help\n" \
	"  -V, --version       print the version\n"

/* One buffer of stdin; a line still incomplete at its end is at most
 * PIPE_BUF bytes long, the rest has been written. 64 KiB, the size of a
 * pipe: a larger buffer falls out of the L2 cache and is slower than
 * cat(1) (measured: 256 KiB 2.1 s, 64 KiB 1.15 s for 2 GiB). */
#define WRITE_BUFSZ (64 * 1024)
/* The peek window of read -n (the capacity of our own pipe). */
#define PEEK_BUFSZ (64 * 1024)

enum { OPT_MODE = 0x100, OPT_FOLLOW, OPT_SHARED };

static const char *path;     /* the FIFO of read and write */
static int verbose;          /* -v */
static bool exist_ok;        /* make -p */
static bool keep;            /* read -k */
static bool create;          /* -c */
static bool raw;             /* write -r */
static bool follow;          /* --follow */
static bool shared;          /* --shared */
static bool mode_set;        /* --mode given: exact */
static mode_t mode = 0600;   /* --mode */
static long long count;      /* read -n, 0: until EOF */
static const char *message;  /* write -m */
static int64_t timeout_ns = -1; /* -t, -1: wait forever */

/* The FIFO this run made with -c: removed at exit only if the path still
 * names that inode (someone may have replaced it meanwhile). */
static const char *made_path;
static dev_t made_dev;
static ino_t made_ino;

static void
unmake(void)
{
	struct stat st;

	if (made_path == NULL)
		return;
	if (lstat(made_path, &st) == 0 && st.st_dev == made_dev &&
	    st.st_ino == made_ino && unlink(made_path) == 0 && verbose)
		warnx("%s: removed", made_path);
	made_path = NULL;
}

/* mkfifo(3) with our mode rules: 0600 through the umask by default, an
 * explicit --mode exact. Returns 0 or -1 with errno. */
static int
make_one(const char *p)
{
	mode_t old = obj_umask_for(mode_set);
	int r = mkfifo(p, mode);
	int saved = errno;

	umask(old);
	errno = saved;
	return r;
}

/* -c: make PATH if missing and remember which inode we made. A path that
 * exists is left to obj_open's checks and never removed by us. */
static void
create_if_missing(void)
{
	struct stat st;
	int pfd;

	if (make_one(path) == -1) {
		if (errno == EEXIST)
			return;
		err(EXIT_FAIL, "%s", path);
	}
	/* What we made, by identity; a path swapped in since mkfifo is not
	 * ours and is neither used nor removed. */
	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1 || fstat(pfd, &st) == -1)
		err(EXIT_FAIL, "%s", path);
	close(pfd);
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid())
		errx(EXIT_FAIL, "%s: replaced while being made", path);
	made_path = path;
	made_dev = st.st_dev;
	made_ino = st.st_ino;
	sig_cleanup(unmake);
	if (verbose)
		warnx("%s: made", path);
}

/* Opens PATH for FLAGS after the checks (a FIFO, ours or root's unless
 * --shared, no symlink unless --follow). The open blocks until the other
 * end comes: -t bounds that (exit 124), a signal ends it (sig_check). */
static int
open_fifo(int flags, const char *other)
{
	bool timed_out;
	int fd;

	if (create)
		create_if_missing();
	if (verbose)
		warnx("%s: waiting for a %s", path, other);
	if (timeout_ns >= 0)
		sig_alarm_blocking(timeout_ns);
	fd = obj_open(path, S_IFIFO, flags, follow, shared, false, NULL);
	timed_out = sig_alarmed();
	if (timeout_ns >= 0)
		sig_alarm(0);
	if (fd != -1)
		return fd;
	sig_check();
	if (timed_out)
		errx(EXIT_TIMEOUT, "%s: no %s came within the timeout", path,
		    other);
	err(EXIT_FAIL, "%s", path);
}

/* ---- make, rm ---- */

static int
cmd_make(char **paths)
{
	struct stat st;
	int rc = EXIT_OK;

	for (; *paths != NULL; paths++) {
		if (make_one(*paths) == 0)
			continue;
		if (errno != EEXIST) {
			warn("%s", *paths);
			rc = EXIT_FAIL;
		} else if (lstat(*paths, &st) == -1) {
			warn("%s", *paths);
			rc = EXIT_FAIL;
		} else if (!S_ISFIFO(st.st_mode)) {
			warnx("%s: exists and is %s", *paths,
			    obj_type_name(st.st_mode));
			rc = EXIT_FAIL;
		} else if (!exist_ok) {
			warnx("%s: a FIFO already exists (-p accepts it)",
			    *paths);
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

static int
cmd_rm(char **paths)
{
	struct stat st;
	int rc = EXIT_OK;

	for (; *paths != NULL; paths++) {
		/* O_PATH|O_NOFOLLOW: a symlink is examined, not its target. */
		int pfd = open(*paths, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (pfd == -1 || fstat(pfd, &st) == -1) {
			warn("%s", *paths);
			rc = EXIT_FAIL;
		} else if (!S_ISFIFO(st.st_mode)) {
			warnx("%s: is %s, not a FIFO: not removed", *paths,
			    obj_type_name(st.st_mode));
			rc = EXIT_FAIL;
		} else if (unlink(*paths) == -1) {
			warn("%s", *paths);
			rc = EXIT_FAIL;
		}
		if (pfd != -1)
			close(pfd);
	}
	return rc;
}

/* ---- read ---- */

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
 * after it stay for the next reader. */
static void
read_lines(int fd)
{
	char *buf = malloc(PEEK_BUFSZ);
	int p[2];

	if (buf == NULL)
		err(EXIT_FAIL, "malloc");
	if (pipe2(p, O_CLOEXEC) == -1)
		err(EXIT_FAIL, "pipe");
	while (count > 0) {
		ssize_t n = tee(fd, p[1], PEEK_BUFSZ, 0);
		if (n == -1) {
			if (errno == EINTR) {
				sig_check();
				continue;
			}
			err(EXIT_FAIL, "%s", path);
		}
		if (n == 0)
			break;  /* EOF: fewer lines than asked, as head(1) */
		read_exact(p[0], buf, (size_t)n, "peek pipe");
		size_t take = (size_t)n;
		for (char *q = buf; count > 0 &&
		    (q = memchr(q, '\n', (size_t)(buf + n - q))) != NULL; q++)
			if (--count == 0)
				take = (size_t)(q - buf) + 1;
		read_exact(fd, buf, take, path);
		if (io_write_all(STDOUT_FILENO, buf, take) == -1)
			cli_write_failed("stdout");
	}
	close(p[0]);
	close(p[1]);
	free(buf);
}

static int
cmd_read(void)
{
	int fd = open_fifo(O_RDONLY, "writer");
	int hold = -1;
	uint64_t n;

	if (keep) {
		/* Our own write end: when the last writer leaves, read(2)
		 * blocks instead of returning EOF (and poll would report
		 * POLLHUP forever, a spin). A reader exists (us), so this
		 * open does not block. */
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		hold = open(proc, O_WRONLY | O_CLOEXEC);
		if (hold == -1)
			err(EXIT_FAIL, "%s: keeping a write end", path);
	}
	if (count > 0)
		read_lines(fd);
	else {
		switch (io_copy(fd, STDOUT_FILENO, &n)) {
		case IO_ERR_READ:
			err(EXIT_FAIL, "%s", path);
		case IO_ERR_WRITE:
			cli_write_failed("stdout");
		}
	}
	if (hold != -1)
		close(hold);
	close(fd);
	return EXIT_OK;
}

/* ---- write ---- */

static uint64_t sent;  /* bytes the FIFO took */

static noreturn void
reader_gone(void)
{
	errx(EXIT_FAIL, "%s: the reader went away after %llu bytes", path,
	    (unsigned long long)sent);
}

/* One write(2) of a packet; a write of up to PIPE_BUF bytes is atomic. */
static void
put(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR) {
				sig_check();
				continue;
			}
			if (errno == EPIPE)
				reader_gone();
			err(EXIT_FAIL, "%s: after %llu bytes", path,
			    (unsigned long long)sent);
		}
		sent += (uint64_t)n;
		p += n;
		len -= (size_t)n;
	}
}

/* A piece of a long line that stdin, a regular file, holds at offset OFF:
 * splice(2) hands the FIFO references to the file's pages, where write(2)
 * would copy them a second time. Returns the bytes sent; fewer than LEN
 * (and splicing off for good) where the file system cannot splice. */
static size_t
put_spliced(int fd, off_t off, size_t len)
{
	static bool cannot;
	size_t done = 0;

	while (!cannot && done < len) {
		ssize_t n = splice(STDIN_FILENO, &off, fd, NULL, len - done,
		    SPLICE_F_MORE);
		if (n > 0) {
			sent += (uint64_t)n;
			done += (size_t)n;
		} else if (n == -1 && errno == EINTR)
			sig_check();
		else if (n == -1 && errno == EPIPE)
			reader_gone();
		else if (n == 0 || errno == EINVAL || errno == ENOSYS)
			cannot = true;  /* the rest is copied from the buffer */
		else
			err(EXIT_FAIL, "%s: after %llu bytes", path,
			    (unsigned long long)sent);
	}
	return done;
}

/* Writes the lines of BUF: as many whole lines as fit in PIPE_BUF bytes
 * per write (atomic between writers). A line longer than PIPE_BUF cannot
 * be atomic: it goes out in large pieces, on its own (spliced from stdin
 * when BASE, the file offset of BUF, is not -1). A short incomplete line
 * at the end waits for more input unless EOF. Returns bytes used. */
static size_t
pack_out(int fd, const char *buf, size_t len, bool eof, off_t base)
{
	static bool in_long;  /* a piece of the current line went out */
	size_t pos = 0;

	while (pos < len) {
		size_t left = len - pos, n;
		size_t lim = left < PIPE_BUF ? left : PIPE_BUF;
		const char *nl = memrchr(buf + pos, '\n', lim);

		if (nl != NULL)
			n = (size_t)(nl - (buf + pos)) + 1;
		else if (left <= PIPE_BUF && !eof && !in_long)
			break;
		else {
			const char *e = memchr(buf + pos + lim, '\n',
			    left - lim);
			n = e ? (size_t)(e - (buf + pos)) + 1 : left;
		}
		size_t done = 0;
		if (base != -1 && n > PIPE_BUF)
			done = put_spliced(fd, base + (off_t)pos, n);
		put(fd, buf + pos + done, n - done);
		in_long = buf[pos + n - 1] != '\n';
		pos += n;
	}
	return pos;
}

static void
write_lines(int fd)
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
		size_t used = pack_out(fd, buf, len, n == 0, base);
		if (base != -1)
			base += (off_t)used;
		memmove(buf, buf + used, len - used);
		len -= used;
		if (n == 0)
			break;
	}
	free(buf);
}

static int
cmd_write(void)
{
	int fd = open_fifo(O_WRONLY, "reader");
	uint64_t n;

	if (message != NULL) {
		size_t len = strlen(message);
		char *m = malloc(len + 1);
		if (m == NULL)
			err(EXIT_FAIL, "malloc");
		memcpy(m, message, len);
		m[len] = '\n';
		pack_out(fd, m, len + 1, true, -1);
		free(m);
	} else if (raw) {
		switch (io_copy(STDIN_FILENO, fd, &n)) {
		case IO_ERR_READ:
			err(EXIT_FAIL, "stdin");
		case IO_ERR_WRITE:
			if (errno == EPIPE)
				errx(EXIT_FAIL, "%s: the reader went away after "
				    "%llu bytes", path, (unsigned long long)n);
			err(EXIT_FAIL, "%s: after %llu bytes", path,
			    (unsigned long long)n);
		}
	} else
		write_lines(fd);
	if (close(fd) == -1)
		err(EXIT_FAIL, "%s", path);
	return EXIT_OK;
}

/* ---- options ---- */

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "exist-ok", no_argument, NULL, 'p' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "keep", no_argument, NULL, 'k' },
	{ "count", required_argument, NULL, 'n' },
	{ "create", no_argument, NULL, 'c' },
	{ "message", required_argument, NULL, 'm' },
	{ "raw", no_argument, NULL, 'r' },
	{ "timeout", required_argument, NULL, 't' },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ NULL, 0, NULL, 0 },
};

/* The options each verb takes (short letters; long-only ones by code). */
struct verb {
	const char *name, *opts;
	bool mode, follow;
};
static const struct verb verbs[] = {
	{ "make", "+hVvp", true, false },
	{ "read", "+hVvkcn:t:", true, true },
	{ "write", "+hVvcm:rt:", true, true },
	{ "rm", "+hVv", false, false },
};

static void
parse(const struct verb *vb, int argc, char **argv)
{
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, vb->opts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		case 'v': verbose++; break;
		case 'p': exist_ok = true; break;
		case 'k': keep = true; break;
		case 'c': create = true; break;
		case 'r': raw = true; break;
		case 'm': message = optarg; break;
		case 'n': count = num_parse(optarg, 1, LLONG_MAX, "-n"); break;
		case 't': timeout_ns = num_duration(optarg, "-t"); break;
		case OPT_MODE:
			if (!vb->mode)
				cli_usage(SYNOPSIS);
			mode = num_mode(optarg);
			if (mode & ~(mode_t)0777)
				cli_usage_err("--mode: %s: only permission bits "
				    "(0 to 0777) make sense on a FIFO", optarg);
			mode_set = true;
			break;
		case OPT_FOLLOW:
		case OPT_SHARED:
			if (!vb->follow)
				cli_usage(SYNOPSIS);
			if (opt == OPT_FOLLOW)
				follow = true;
			else
				shared = true;
			break;
		default:
			/* getopt_long accepts every long option for every
			 * verb; a letter not in this verb's list lands here. */
			cli_usage(SYNOPSIS);
		}
	}
}

int
main(int argc, char **argv)
{
	const struct verb *vb = NULL;
	int opt;

	cli_init(argc, argv);
	argv[0] = (char *)getprogname();
	while ((opt = getopt_long(argc, argv, "+hVv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		case 'v': verbose++; break;
		default: cli_usage(SYNOPSIS);
		}
	}
	if (optind >= argc)
		cli_usage(SYNOPSIS);
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			vb = &verbs[i];
	if (vb == NULL) {
		warnx("'%s' is no verb: make, read, write or rm", argv[optind]);
		cli_usage(SYNOPSIS);
	}
	argc -= optind;
	argv += optind;
	/* getopt names the program by argv[0]: "ipc-fifo read: ..." */
	char name[64];
	snprintf(name, sizeof name, "%s %s", getprogname(), vb->name);
	argv[0] = name;
	parse(vb, argc, argv);
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage(SYNOPSIS);
	if (vb->name[0] == 'm')
		return cmd_make(argv);
	if (strcmp(vb->name, "rm") == 0)
		return cmd_rm(argv);
	if (argc != 1)
		cli_usage_err("%s takes one PATH", vb->name);
	path = argv[0];
	if (vb->name[0] == 'r')
		return cmd_read();
	return cmd_write();
}
