/* ipc-sockserve's exec mode: COMMAND started per connection, reaped, and
 * with -i over TCP ended when its connection moved no data for the idle
 * time. The server relays nothing: it keeps the accepted socket and asks
 * the kernel (TCP_INFO) when data last went either way. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

/* A COMMAND that cannot run fails the start (127, 126), not each client. */
void
exec_check(struct server *srv)
{
	char found[PATH_MAX];

	cmd_require(srv->opt.cmd[0], found, sizeof found);
}

void
spawn_conn(struct server *srv, int fd, const struct sockaddr_storage *ss,
    socklen_t sl,
    const struct ucred *cr, const struct kc_key *source)
{
	int status = 126;
	pid_t pid = ucspi_spawn(fd, srv->opt.cmd, (const struct sockaddr *)ss,
	    sl,
	    srv->unixsock ? cr : NULL, &status);

	if (pid == -1) {
		warn("%s", srv->opt.cmd[0]);
		close(fd);
		source_put(srv, source);
		srv->active--;
		srv->last_status = status;
		return;
	}
	/* With -i the socket stays open here too, for TCP_INFO (it is
	 * close-on-exec: no other child gets it), until the child is reaped. */
	if (srv->opt.idle_ns < 0) {
		close(fd);
		fd = -1;
	}
	srv->kids[srv->nkids++] = (struct kid){ .pid = pid, .fd = fd,
	    .source = *source };
	if (srv->opt.verbose > 1)
		warnx("conn %lld: pid %d", srv->accepted, (int)pid);
}

/* Milliseconds since data last moved on the TCP socket FD, either way
 * (-1 if the kernel cannot tell). */
static int64_t
tcp_idle_ms(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof ti;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == -1)
		return -1;
	return ti.tcpi_last_data_recv < ti.tcpi_last_data_sent ?
	    ti.tcpi_last_data_recv : ti.tcpi_last_data_sent;
}

/* -i: a child whose connection has been idle for the idle time gets
 * SIGTERM, and SIGKILL if it is still there --grace later. */
static void
kid_idle_check(struct server *srv, struct kid *k, int64_t now)
{
	int64_t ms;

	if (k->idled) {
		if (!k->killed && now >= k->kill_at) {
			if (srv->opt.verbose)
				warnx("pid %d: still there after --grace, killed",
				    (int)k->pid);
			kill(k->pid, SIGKILL);
			k->killed = true;
		}
		return;
	}
	if (k->fd < 0 || (ms = tcp_idle_ms(k->fd)) < 0 ||
	    ms * 1000000 < srv->opt.idle_ns)
		return;
	if (srv->opt.verbose)
		warnx("pid %d: connection idle, ended", (int)k->pid);
	kill(k->pid, SIGTERM);
	k->idled = true;
	k->kill_at = now + srv->opt.grace_ns;
}

/* -i is checked every quarter of the idle time, at least every second
 * (so SIGKILL after --grace is at most a second late) and at most every
 * 10 ms. */
int64_t
idle_interval(struct server *srv)
{
	int64_t t = srv->opt.idle_ns / 4;

	return t > 1000000000LL ? 1000000000LL : t < 10000000 ? 10000000 : t;
}

void
kids_idle_sweep(struct server *srv, int64_t now)
{
	for (long long i = 0; i < srv->nkids; i++)
		kid_idle_check(srv, &srv->kids[i], now);
}

static void
kid_done(struct server *srv, struct kid *k, int ws)
{
	srv->last_status = spawn_status(ws);
	if (srv->opt.verbose && srv->last_status != 0 && !k->idled)
		warnx("pid %d: %s %d", (int)k->pid,
		    WIFSIGNALED(ws) ? "killed by signal" : "exit",
		    WIFSIGNALED(ws) ? WTERMSIG(ws) : srv->last_status);
	/* Ended by -i: a connection closed for being idle, as in print
	 * mode (124 at the end of -1/-n). */
	if (k->idled) {
		srv->idle_closed++;
		srv->last_status = EXIT_TIMEOUT;
		if (srv->print_status == EXIT_OK)
			srv->print_status = EXIT_TIMEOUT;
	}
	if (k->fd >= 0)
		close(k->fd);
	source_put(srv, &k->source);
	srv->active--;
}

void
reap(struct server *srv)
{
	int ws;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		for (long long i = 0; i < srv->nkids; i++) {
			if (srv->kids[i].pid != pid)
				continue;
			kid_done(srv, &srv->kids[i], ws);
			srv->kids[i] = srv->kids[--srv->nkids];
			break;
		}
	}
}
