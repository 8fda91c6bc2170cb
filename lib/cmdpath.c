/* A command found on PATH by the rules of execvp(3), once, so that a tool
 * can refuse a COMMAND that cannot run before it takes any work for it
 * (ipc-mq recv, ipc-sockserve), and run the file found without a search
 * per child. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

/* 0 if PATH is a regular file we may execute, else the errno execve(2)
 * would fail with (EISDIR for a directory: clearer than its EACCES). */
static int
cmd_runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	/* AT_EACCESS: execve goes by the effective ids, so does this. */
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == -1)
		return errno;
	return 0;
}

/* What execvp does with a candidate that failed with E: passes over one
 * that is not there, remembers one that cannot run and goes on. */
static bool
cmd_absent(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ESTALE || e == ENODEV ||
	    e == ETIMEDOUT;
}

int
cmd_find(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX], dflt[64];
	int e, bad_e = 0;

	snprintf(out, size, "%s", name);
	if (strchr(name, '/') != NULL)
		return cmd_runnable(name);
	/* Without PATH, glibc's execvp searches confstr's _CS_PATH. */
	if (path == NULL) {
		size_t n = confstr(_CS_PATH, dflt, sizeof dflt);
		path = n > 0 && n <= sizeof dflt ? dflt : "/bin:/usr/bin";
	}
	for (const char *p = path; *name != '\0'; ) {
		/* An empty entry (leading, trailing or doubled ':') is the
		 * current directory. */
		size_t n = strcspn(p, ":");
		int len = snprintf(buf, sizeof buf, "%.*s/%s", n ? (int)n : 1,
		    n ? p : ".", name);
		/* Too long for a path: execvp skips the entry. */
		e = len >= 0 && (size_t)len < sizeof buf ? cmd_runnable(buf) :
		    ENOENT;
		if (e == 0) {
			snprintf(out, size, "%s", buf);
			return 0;
		}
		if (!cmd_absent(e) && bad_e == 0) {
			bad_e = e;
			snprintf(out, size, "%s", buf);
		}
		/* Anything but "not there" or "cannot run" (EACCES, of which
		 * EISDIR is our clearer kind) ends execvp's search. */
		if (!cmd_absent(e) && e != EACCES && e != EISDIR)
			break;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return bad_e != 0 ? bad_e : ENOENT;
}

void
cmd_require(const char *name, char *out, size_t size)
{
	int e = cmd_find(name, out, size);

	if (e == 0)
		return;
	if (e == ENOENT && strchr(name, '/') == NULL)
		errx(127, "%s: command not found", name);
	errc(spawn_exec_status(e), e, "%s", out);
}
