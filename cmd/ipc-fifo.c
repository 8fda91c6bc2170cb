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

/* The -c FIFO's owner, for unmake at exit or on a signal. */
static struct fifo *cleanup_ctx;

static void
unmake(void)
{
	struct fifo *ff = cleanup_ctx;

	if (ff == NULL || ff->made_path == NULL)
		return;
	if (obj_unlink_same(ff->made_path, ff->made_dev, ff->made_ino) == 0 &&
	    ff->verbose)
		warnx("%s: removed", ff->made_path);
	ff->made_path = NULL;
}

/* mkfifo(3) with our mode rules: 0600 through the umask by default, an
 * explicit --mode exact. Returns 0 or -1 with errno. */
static int
make_one(const struct fifo *ff, const char *p)
{
	mode_t old = obj_umask_for(ff->mode_set);
	int r = mkfifo(p, ff->mode);
	int saved = errno;

	umask(old);
	errno = saved;
	return r;
}

/* -c: make PATH if missing and remember which inode we made. A path that
 * exists is left to obj_open's checks and never removed by us. */
static void
create_if_missing(struct fifo *ff)
{
	struct stat st;
	int pfd;

	if (make_one(ff, ff->path) == -1) {
		if (errno == EEXIST)
			return;
		err(EXIT_FAIL, "%s", ff->path);
	}
	/* What we made, by identity; a path swapped in since mkfifo is not
	 * ours and is neither used nor removed. */
	pfd = open(ff->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1 || fstat(pfd, &st) == -1)
		err(EXIT_FAIL, "%s", ff->path);
	close(pfd);
	if (!S_ISFIFO(st.st_mode) || st.st_uid != geteuid())
		errx(EXIT_FAIL, "%s: replaced while being made", ff->path);
	ff->made_path = ff->path;
	ff->made_dev = st.st_dev;
	ff->made_ino = st.st_ino;
	cleanup_ctx = ff;
	sig_cleanup(unmake);
	if (ff->verbose)
		warnx("%s: made", ff->path);
}

/* Opens PATH for FLAGS after the checks (a FIFO, ours or root's unless
 * --shared, no symlink unless --follow). The open blocks until the other
 * end comes: -t bounds that (exit 124), a signal ends it (sig_check). */
int
ff_open_fifo(struct fifo *ff, int flags, const char *other)
{
	bool timed_out;
	int fd;

	if (ff->create)
		create_if_missing(ff);
	if (ff->verbose)
		warnx("%s: waiting for a %s", ff->path, other);
	if (ff->timeout >= 0)
		sig_alarm_blocking(ff->timeout);
	fd = obj_open(ff->path, S_IFIFO, flags, ff->follow, ff->shared, false,
	    NULL);
	timed_out = sig_alarmed();
	if (ff->timeout >= 0)
		sig_alarm(0);
	if (fd != -1)
		return fd;
	sig_check();
	if (timed_out)
		errx(EXIT_TIMEOUT, "%s: no %s came within the timeout", ff->path,
		    other);
	err(EXIT_FAIL, "%s", ff->path);
}

/* ---- make, rm ---- */

static int
cmd_make(const struct fifo *ff, char **paths)
{
	struct stat st;
	int rc = EXIT_OK;

	for (; *paths != NULL; paths++) {
		if (make_one(ff, *paths) == 0) {
			if (ff->verbose)
				warnx("%s: made", *paths);
			continue;
		}
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
		} else if (ff->exclusive) {
			warnx("%s: a FIFO already exists (-x wants a new one)",
			    *paths);
			rc = EXIT_FAIL;
		} else if (ff->verbose)
			warnx("%s: a FIFO already, left as it is", *paths);
	}
	return rc;
}

static int
cmd_rm(const struct fifo *ff, char **paths)
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
			else if (ff->verbose)
				warnx("%s: removed", *paths);
			if (r != 0)
				rc = EXIT_FAIL;
		}
		if (pfd != -1)
			close(pfd);
	}
	return rc;
}

/* ---- the command line ---- */

enum { OPT_MODE = CLI_LONG, OPT_FOLLOW, OPT_SHARED, OPT_RAW };

static const struct cli_opt options[] = {
	{ 'x', "exclusive", NULL, "each FIFO must be new (else one already "
	    "there is fine)", "make" },
	{ OPT_MODE, "mode", "MODE", "permissions of a FIFO made (exact, octal; "
	    "0600 through the umask without it)", "make read write" },
	{ 'k', "keep", NULL, "go on across writers until signalled", "read" },
	{ 'n', "count", "COUNT", "consume exactly COUNT lines, then exit (the "
	    "only reader)", "read" },
	{ 'c', "create", NULL, "make the FIFO if missing, remove it on exit",
	    "read write" },
	{ 'm', "message", "TEXT", "send TEXT and a newline, not stdin",
	    "write" },
	{ OPT_RAW, "raw", NULL, "bytes as they come (one writer, fastest)",
	    "write" },
	{ 't', "timeout", "DUR", "wait at most DUR for the other end (exit "
	    "124)", "read write" },
	{ OPT_FOLLOW, "follow", NULL, "follow a symbolic link at PATH",
	    "read write" },
	{ OPT_SHARED, "shared", NULL, "accept a FIFO owned by another user",
	    "read write" },
	CLI_OPT_VERBOSE("say what is made, awaited and removed"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb verbs[] = {
	{ "make", "PATH...", "create FIFOs, mode 0600 unless --mode", 1, -1,
	    false },
	{ "read", "PATH", "copy what writers send to stdout", 1, 1, false },
	{ "write", "PATH", "send stdin (or -m TEXT), each line in one write",
	    1, 1, false },
	{ "rm", "PATH...", "remove FIFOs, and nothing else", 1, -1, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "Named pipes (FIFOs) that are safe to use from the shell: "
	    "every verb checks that PATH is a FIFO of ours before it opens it.",
	.verbs = verbs,
	.opts = options,
	.more = "Exit status: 0 done, 1 failed, 2 usage, 124 timeout.\n",
};

/* The options into FF; returns the verb, with FF's operands in *OPS. */
static const char *
parse(struct fifo *ff, int argc, char **argv, char ***ops)
{
	struct cli c;
	int o;

	cli_start(&c, &tool, argc, argv);
	while ((o = cli_next(&c)) != 0) {
		switch (o) {
		case 'v': ff->verbose++; break;
		case 'x': ff->exclusive = true; break;
		case 'k': ff->keep = true; break;
		case 'c': ff->create = true; break;
		case OPT_RAW: ff->raw = true; break;
		case 'm': ff->message = c.arg; break;
		case 'n': ff->count = cli_number(&c, 0, LLONG_MAX); break;
		case 't': ff->timeout = cli_duration(&c); break;
		case OPT_FOLLOW: ff->follow = true; break;
		case OPT_SHARED: ff->shared = true; break;
		case OPT_MODE:
			ff->mode = num_mode(c.arg);
			ff->mode_set = true;
			break;
		}
	}
	*ops = c.ops;
	return c.verb->name;
}

int
main(int argc, char **argv)
{
	/* Static: the -c cleanup runs at exit, after main has returned. */
	static struct fifo run = { .mode = 0600, .timeout = -1, .count = -1 };
	struct fifo *ff = &run;
	const char *verb;
	char **ops;

	cli_init(argc, argv);
	verb = parse(ff, argc, argv, &ops);
	if (strcmp(verb, "make") == 0)
		return cmd_make(ff, ops);
	if (strcmp(verb, "rm") == 0)
		return cmd_rm(ff, ops);
	ff->path = ops[0];
	if (strcmp(verb, "read") == 0)
		return ff_cmd_read(ff);
	return ff_cmd_write(ff);
}
