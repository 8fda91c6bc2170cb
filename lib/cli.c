/* Start-up hygiene, --help/--version and usage errors shared by every tool. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

/* A tool started with fd 0, 1 or 2 closed would hand that number to its
 * first socket or file, and then write data or diagnostics into it. */
static void
cli_fds_sanitize(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nfd == -1)
			_exit(EXIT_FAIL);
		if (nfd != fd)
			_exit(EXIT_FAIL);
	}
}

void
cli_init(int argc, char **argv)
{
	(void)argc;
	cli_fds_sanitize();
	if (argv[0] != NULL)
		setprogname(argv[0]);
	sig_init();
}

void
cli_usage(const char *synopsis)
{
	const char *p = synopsis;
	bool first = true;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(stderr, "%s %.*s\n", first ? "usage:" : "      ", (int)n, p);
		first = false;
		p += n + (nl != NULL);
	}
	exit(EXIT_USAGE);
}

void
cli_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrx(EXIT_USAGE, fmt, ap);
}

void
cli_help(const char *text)
{
	fputs(text, stdout);
	cli_stdout_done();
	exit(EXIT_OK);
}

void
cli_version(void)
{
	printf("%s %s\n", getprogname(), IPC_VERSION);
	cli_stdout_done();
	exit(EXIT_OK);
}

void
cli_write_failed(const char *what)
{
	if (errno == EPIPE)
		exit(EXIT_FAIL);
	err(EXIT_FAIL, "%s", what);
}

void
cli_stdout_done(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_write_failed("stdout");
}
