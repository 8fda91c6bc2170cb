/* sockserve-floor: the least a TCP server can do per connection, the
 * ceiling the connection-rate benchmark measures servers against.
 *   sockserve-floor PORT exec PROGRAM  accept, vfork, PROGRAM on the socket
 *                                      (absolute path, no environment of
 *                                      its own, no signals, reaped lazily)
 *   sockserve-floor PORT inline        accept, read to EOF, close: no
 *                                      process per connection, no output
 * Blocking calls, one connection at a time, 127.0.0.1 only; runs until
 * killed. No error handling beyond what keeps it from spinning. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int
listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		.sin_port = htons((unsigned short)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(fd, 1024) == -1) {
		perror("sockserve-floor: listen");
		exit(1);
	}
	return fd;
}

static void
serve_exec(int fd, char *prog)
{
	char *argv[] = { prog, NULL };
	pid_t pid = vfork();

	if (pid == 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		execve(prog, argv, environ);
		_exit(127);
	}
	close(fd);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void
serve_inline(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

int
main(int argc, char **argv)
{
	int l, fd;

	if (argc < 3 || (strcmp(argv[2], "exec") == 0 && argc != 4)) {
		fprintf(stderr, "usage: sockserve-floor PORT exec PROGRAM | PORT inline\n");
		return 2;
	}
	l = listen_on(atoi(argv[1]));
	for (;;) {
		if ((fd = accept4(l, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			perror("sockserve-floor: accept");
			sleep(1);
			continue;
		}
		if (argc == 4)
			serve_exec(fd, argv[3]);
		else
			serve_inline(fd);
	}
}
