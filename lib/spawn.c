/* Run a child: descriptors placed, signals reset, and an exec failure
 * reported to the parent through a close-on-exec pipe, so 127/126 from
 * exec are told apart from a child's own exit 127. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"

/* Moves FD out of the 0-2 range and above EXTRA_NUM, so the dup2 calls
 * below cannot clobber one another (nor the errno pipe), and a dup2 onto
 * EXTRA_NUM is never dup2(fd, fd), which would keep FD_CLOEXEC set. */
static int
spawn_lift(int fd, int extra_num)
{
	int base = extra_num >= 10 ? extra_num + 1 : 10;

	return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, base);
}

static noreturn void
spawn_child(struct spawn *sp, char *const argv[], char *const env[],
    int errfd, pid_t parent)
{
	int x = sp->fd_extra >= 0 ? sp->extra_num : -1;
	int in = spawn_lift(sp->fd_in, x), out = spawn_lift(sp->fd_out, x);
	int extra = spawn_lift(sp->fd_extra, x), ef = spawn_lift(errfd, x);
	int e;

	if (ef >= 0)
		errfd = ef;
	/* A descriptor that could not be moved (EMFILE, or EXTRA_NUM at the
	 * descriptor limit) must fail the start, not become /dev/null. */
	if ((sp->fd_in >= 0 && in < 0) || (sp->fd_out >= 0 && out < 0) ||
	    (sp->fd_extra >= 0 && extra < 0))
		goto fail;

	if (sp->pdeathsig) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The parent may have died before the line above. */
		if (getppid() != parent)
			_exit(EXIT_FAIL);
	}
	if (in < 0)
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || dup2(in, 0) == -1)
		goto fail;
	if (out >= 0 && dup2(out, 1) == -1)
		goto fail;
	if (extra >= 0 && dup2(extra, sp->extra_num) == -1)
		goto fail;
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		if (strchr(env[i], '=') != NULL)
			putenv(env[i]);
		else
			unsetenv(env[i]);
	}
	sig_child_reset();
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof e);
	_exit(127);
}

int
spawn_start(struct spawn *sp, char *const argv[], char *const env[],
    int *status)
{
	int ep[2], e;
	pid_t parent = getpid();
	ssize_t n;

	*status = EXIT_FAIL;  /* until exec's own failure says otherwise */
	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	sp->pid = fork();
	if (sp->pid == -1) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		errno = e;
		return -1;
	}
	if (sp->pid == 0)
		spawn_child(sp, argv, env, ep[1], parent);
	close(ep[1]);
	while ((n = read(ep[0], &e, sizeof e)) == -1 && errno == EINTR)
		;
	close(ep[0]);
	if (n != (ssize_t)sizeof e)
		return 0;
	/* exec failed: reap the child now and report its errno. */
	while (waitpid(sp->pid, NULL, 0) == -1 && errno == EINTR)
		;
	sp->pid = -1;
	*status = spawn_exec_status(e);
	errno = e;
	return -1;
}

int
spawn_exec_status(int e)
{
	return e == ENOENT ? 127 : 126;
}

int
spawn_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return EXIT_FAIL;
}
