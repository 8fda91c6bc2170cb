/* ipc-fifo: named pipes that are safe and scriptable. `make` and `rm`
 * create and remove FIFOs (and nothing else); `read` copies what writers
 * send to stdout, across writers with -k; `write` sends stdin whole lines
 * at a time, so lines of concurrent writers never interleave. Every verb
 * opens the path O_PATH|O_NOFOLLOW, checks it is a FIFO of ours, and only
 * then opens it for real (lib/obj.c).
 *
 * This file: the command line, the verb dispatch, make and rm, and the
 * checked open that read and write share; the verbs read and write are in
 * cmd/ipc-fifo/ (read.c, write.c). */
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
#include "ipc-fifo/fifo.h"

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

enum { OPT_MODE = 0x100, OPT_FOLLOW, OPT_SHARED };

const char *ff_path;         /* the FIFO of read and write */
static int verbose;          /* -v */
static bool exist_ok;        /* make -p */
bool ff_keep;                /* read -k */
static bool create;          /* -c */
bool ff_raw;                 /* write -r */
static bool follow;          /* --follow */
static bool shared;          /* --shared */
static bool mode_set;        /* --mode given: exact */
static mode_t mode = 0600;   /* --mode */
long long ff_count;          /* read -n, 0: until EOF */
const char *ff_message;      /* write -m */
static int64_t timeout_ns = -1; /* -t, -1: wait forever */

/* The FIFO this run made with -c: removed at exit only if the path still
 * names that inode (someone may have replaced it meanwhile). */
static const char *made_path;
static dev_t made_dev;
static ino_t made_ino;

static void
unmake(void)
{
	if (made_path == NULL)
		return;
	if (obj_unlink_same(made_path, made_dev, made_ino) == 0 && verbose)
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

	if (make_one(ff_path) == -1) {
		if (errno == EEXIST)
			return;
		err(EXIT_FAIL, "%s", ff_path);
	}
	/* What we made, by identity; a path swapped in since mkfifo is not
	 * ours and is neither used nor removed. */
	pfd = open(ff_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1 || fstat(pfd, &st) == -1)
		err(EXIT_FAIL, "%s", ff_path);
	close(pfd);
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid())
		errx(EXIT_FAIL, "%s: replaced while being made", ff_path);
	made_path = ff_path;
	made_dev = st.st_dev;
	made_ino = st.st_ino;
	sig_cleanup(unmake);
	if (verbose)
		warnx("%s: made", ff_path);
}

/* Opens PATH for FLAGS after the checks (a FIFO, ours or root's unless
 * --shared, no symlink unless --follow). The open blocks until the other
 * end comes: -t bounds that (exit 124), a signal ends it (sig_check). */
int
ff_open_fifo(int flags, const char *other)
{
	bool timed_out;
	int fd;

	if (create)
		create_if_missing();
	if (verbose)
		warnx("%s: waiting for a %s", ff_path, other);
	if (timeout_ns >= 0)
		sig_alarm_blocking(timeout_ns);
	fd = obj_open(ff_path, S_IFIFO, flags, follow, shared, false, NULL);
	timed_out = sig_alarmed();
	if (timeout_ns >= 0)
		sig_alarm(0);
	if (fd != -1)
		return fd;
	sig_check();
	if (timed_out)
		errx(EXIT_TIMEOUT, "%s: no %s came within the timeout", ff_path,
		    other);
	err(EXIT_FAIL, "%s", ff_path);
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
		} else {
			/* Only the FIFO checked: not a file put in its place
			 * since. */
			int r = obj_unlink_same(*paths, st.st_dev, st.st_ino);
			if (r == 1)
				warnx("%s: replaced while being removed, left "
				    "alone", *paths);
			else if (r == -1)
				warn("%s", *paths);
			if (r != 0)
				rc = EXIT_FAIL;
		}
		if (pfd != -1)
			close(pfd);
	}
	return rc;
}

/* ---- options ---- */

static const struct option longopts[] = {
	CLI_LONGOPTS,
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
		case 'k': ff_keep = true; break;
		case 'c': create = true; break;
		case 'r': ff_raw = true; break;
		case 'm': ff_message = optarg; break;
		case 'n': ff_count = num_parse(optarg, 1, LLONG_MAX, "-n"); break;
		case 't': timeout_ns = num_duration(optarg, "-t"); break;
		case OPT_MODE:
			if (!vb->mode)
				cli_usage(SYNOPSIS);
			mode = num_mode(optarg);
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
	if (strcmp(vb->name, "make") == 0)
		return cmd_make(argv);
	if (strcmp(vb->name, "rm") == 0)
		return cmd_rm(argv);
	if (argc != 1)
		cli_usage_err("%s takes one PATH", vb->name);
	ff_path = argv[0];
	if (strcmp(vb->name, "read") == 0)
		return ff_cmd_read();
	return ff_cmd_write();
}
