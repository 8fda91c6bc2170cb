/* The exec mode of a UCSPI server: the environment of the convention
 * (PROTO, TCPREMOTEIP, ..., UNIXREMOTEPID, ...) and a program started per
 * connection with the socket on its stdin and stdout. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

extern char **environ;

static const char *ucspi_vars[] = { "PROTO", "TCPREMOTEIP", "TCPREMOTEPORT",
	"TCPLOCALIP", "TCPLOCALPORT", "TCPREMOTEHOST", "TCPREMOTEINFO",
	"TCPLOCALHOST", "UNIXREMOTEPID", "UNIXREMOTEEUID", "UNIXREMOTEEGID",
	NULL };

/* Our environment less every UCSPI variable (inherited ones that do not
 * apply must not reach the child), with room for ours at the end. */
static char **
ucspi_base_env(size_t *nbase)
{
	static char **base;
	static size_t n;

	if (base != NULL) {
		*nbase = n;
		return base;
	}
	size_t total = 0;
	while (environ[total] != NULL)
		total++;
	base = calloc(total + 8, sizeof *base);
	if (base == NULL)
		err(EXIT_FAIL, "malloc");
	for (size_t i = 0; i < total; i++) {
		bool ucspi = false;
		for (int k = 0; ucspi_vars[k] && !ucspi; k++) {
			size_t l = strlen(ucspi_vars[k]);
			ucspi = strncmp(environ[i], ucspi_vars[k], l) == 0 &&
			    (environ[i][l] == '=' || environ[i][l] == '\0');
		}
		if (!ucspi)
			base[n++] = environ[i];
	}
	*nbase = n;
	return base;
}

/* The UCSPI variables of one connection, as K=V strings in VALS. */
static int
ucspi_vals(int fd, const struct sockaddr *peer, socklen_t peerlen,
    const struct ucred *cr, char vals[5][128])
{
	char h[INET6_ADDRSTRLEN + 8], p[16];
	struct sockaddr_storage ls;
	socklen_t ll = sizeof ls;

	if (cr != NULL) {
		snprintf(vals[0], 128, "PROTO=UNIX");
		snprintf(vals[1], 128, "UNIXREMOTEPID=%d", (int)cr->pid);
		snprintf(vals[2], 128, "UNIXREMOTEEUID=%u", (unsigned)cr->uid);
		snprintf(vals[3], 128, "UNIXREMOTEEGID=%u", (unsigned)cr->gid);
		return 4;
	}
	snprintf(vals[0], 128, "PROTO=TCP");
	addr_numeric(peer, peerlen, h, sizeof h, p, sizeof p);
	snprintf(vals[1], 128, "TCPREMOTEIP=%s", h);
	snprintf(vals[2], 128, "TCPREMOTEPORT=%s", p);
	if (getsockname(fd, (struct sockaddr *)&ls, &ll) == -1)
		err(EXIT_FAIL, "getsockname");
	addr_numeric((struct sockaddr *)&ls, ll, h, sizeof h, p, sizeof p);
	snprintf(vals[3], 128, "TCPLOCALIP=%s", h);
	snprintf(vals[4], 128, "TCPLOCALPORT=%s", p);
	return 5;
}

/* ARGV0 found on PATH once (cmd_find, execvp's rules), not by a search
 * per connection (each miss is an execve(2) in the child); NULL when it
 * cannot run, left to execvpe to say why. */
static const char *
ucspi_path(const char *argv0)
{
	static const char *cached_for;
	static char found[PATH_MAX];
	static bool ok;

	if (argv0 != cached_for) {
		cached_for = argv0;
		ok = cmd_find(argv0, found, sizeof found) == 0;
	}
	return ok ? found : NULL;
}

/* fork+exec per connection is the cost of exec mode. vfork(2) copies no
 * page tables, and the child does no more than it must: signals we catch
 * back to default (sig_child_reset), the socket on 0 and 1, an empty mask, exec. All
 * signals stay blocked across it, so no handler of ours runs in the child
 * (it shares our memory until exec); an exec failure comes back through
 * that shared memory. */
pid_t
ucspi_spawn(int fd, char *const argv[], const struct sockaddr *peer,
    socklen_t peerlen, const struct ucred *cr, int *status)
{
	char vals[5][128];
	size_t nbase;
	char **env = ucspi_base_env(&nbase);
	int nv = ucspi_vals(fd, peer, peerlen, cr, vals), e;
	const char *path = ucspi_path(argv[0]);
	volatile int child_err = 0;
	sigset_t all, old;
	pid_t pid;

	for (int i = 0; i < nv; i++)
		env[nbase + (size_t)i] = vals[i];
	env[nbase + (size_t)nv] = NULL;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0) {
		/* The socket is close-on-exec; its copies on 0 and 1 are not. */
		if (dup2(fd, STDIN_FILENO) != -1 &&
		    dup2(fd, STDOUT_FILENO) != -1) {
			sig_child_reset();
			if (path != NULL)
				execve(path, argv, env);
			else
				execvpe(argv[0], argv, env);
		}
		child_err = errno;
		_exit(127);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	env[nbase] = NULL;
	if (pid == -1) {
		errno = e;
		*status = EXIT_FAIL;
		return -1;
	}
	if (child_err == 0)
		return pid;
	/* The child has exited already (vfork returns after exec or exit). */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	errno = child_err;
	*status = spawn_exec_status(child_err);
	return -1;
}
