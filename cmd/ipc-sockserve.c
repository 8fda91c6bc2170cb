/* ipc-sockserve: a socket server. Print mode writes what clients send to
 * stdout, line-atomically (one process, epoll); exec mode runs COMMAND per
 * connection with the UCSPI environment; broadcast mode also sends stdin
 * to every client; UDP prints each datagram as one message. This file
 * holds the options, the event loop and the end; cmd/ipc-sockserve/ the
 * connections (conn.c), accepting and UDP (accept.c) and exec mode
 * (exec.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "ipc-sockserve/sockserve.h"

enum {
	OPT_MODE = CLI_LONG, OPT_GRACE, OPT_ALLOW, OPT_MAX_PER_SOURCE,
	OPT_NETSTRING, OPT_LEN32, OPT_MAX_HELD, OPT_MAX_MESSAGE, OPT_PEER,
};

static const struct cli_opt options[] = {
	{ '1', "once", NULL, "serve one connection (UDP: one datagram), exit",
	    NULL },
	{ 'n', "count", "N", "exit after N connections (UDP: N datagrams)",
	    NULL },
	{ 'C', "max-conns", "N", "at most N connections at once", NULL },
	{ 'i', "idle", "DUR", "close a connection idle for DUR (exec mode: "
	    "TCP)", NULL },
	{ OPT_PEER, "peer", NULL, "prefix each printed line with the peer address",
	    NULL },
	{ 'b', "broadcast", NULL, "send each stdin line to every client", NULL },
	{ 'r', "ready-fd", "FD", "write the bound addresses to FD once "
	    "listening", NULL },
	{ OPT_MODE, "mode", "MODE", "Unix socket permissions (default 0600)",
	    NULL },
	{ OPT_GRACE, "grace", "DUR", "on SIGTERM/SIGINT let connections finish "
	    "(5s)", NULL },
	{ OPT_ALLOW, "allow-uid", "U", "also accept Unix peers of uid/user U, "
	    "or 'any'", NULL },
	{ OPT_MAX_PER_SOURCE, "max-per-source", "N", "at most N connections "
	    "from one address or uid", NULL },
	{ '0', "null", NULL, "printed messages end with NUL", NULL },
	{ OPT_NETSTRING, "netstring", NULL, "printed messages are netstrings",
	    NULL },
	{ OPT_LEN32, "len32", NULL, "the socket carries 4-byte length frames",
	    NULL },
	{ OPT_MAX_MESSAGE, "max-message", "SIZE", "largest -0, --netstring or "
	    "--len32 message (64M)", NULL },
	{ OPT_MAX_HELD, "max-held", "SIZE", "all bytes held for clients at most "
	    "(256M); a client that would pass it is dropped", NULL },
	CLI_OPT_VERBOSE("peers refused, connections closed, children that "
	    "failed"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb operands[] = {
	{ NULL, "ADDRESS [-- COMMAND [ARG...]]", NULL, 1, 1, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "Listen on ADDRESS. Without COMMAND print what clients send to "
	    "stdout, line-atomically; with COMMAND run it per connection, "
	    "stdin and stdout on the socket (UCSPI environment).",
	.verbs = operands,
	.opts = options,
	.command = true,
};

/* ---- options ---- */

static uid_t
parse_uid(const char *s)
{
	long long v;
	struct passwd *pw;

	if (num_parse_ok(s, 0, UINT_MAX - 1, &v) == 0)
		return (uid_t)v;
	if ((pw = getpwnam(s)) != NULL)
		return pw->pw_uid;
	cli_usage_err("--allow-uid: no such user '%s'", s);
}

static void
parse_opt(struct server *srv, struct cli *c, int o)
{
	struct opts *opt = &srv->opt;

	switch (o) {
	case '1': opt->once = true; break;
	case 'n': opt->count = cli_number(c, 0, LLONG_MAX); break;
	case 'C': opt->max_conns = cli_number(c, 1, 1000000); break;
	case 'i': opt->idle_ns = cli_duration(c); break;
	case OPT_PEER: opt->peer = true; break;
	case 'b': opt->broadcast = true; break;
	case 'r': opt->ready_fd = (int)cli_number(c, 0, INT_MAX); break;
	case OPT_MODE:
		opt->mode = num_mode(c->arg);
		opt->mode_set = true;
		break;
	case OPT_GRACE: opt->grace_ns = cli_duration(c); break;
	case OPT_ALLOW:
		if (strcmp(c->arg, "any") == 0)
			opt->allow_any = true;
		else if (opt->nallow < 16)
			opt->allow[opt->nallow++] = parse_uid(c->arg);
		else
			cli_usage_err("--allow-uid: at most 16");
		break;
	case OPT_MAX_PER_SOURCE:
		opt->max_per_source = cli_number(c, 1, 1000000);
		break;
	case '0': opt->kind = FRAME_NUL; break;
	case OPT_NETSTRING: opt->kind = FRAME_NETSTRING; break;
	case OPT_LEN32: opt->len32 = true; break;
	case OPT_MAX_HELD:
		opt->max_held = cli_size(c, 1, (uint64_t)1 << 40);
		break;
	case OPT_MAX_MESSAGE:
		opt->max_msg = cli_size(c, 1, (uint64_t)1 << 40);
		break;
	case 'v': opt->verbose++; break;
	}
}

static void
parse_opts(struct server *srv, int argc, char **argv)
{
	struct cli c;
	int o;

	cli_start(&c, &tool, argc, argv);
	while ((o = cli_next(&c)) != 0)
		parse_opt(srv, &c, o);
	addr_parse(c.ops[0], &srv->addr, true);
	srv->opt.cmd = c.cmd;
}

static void
check_opts(struct server *srv)
{
	srv->udp = srv->addr.proto == ADDR_UDP;
	srv->unixsock = srv->addr.proto == ADDR_UNIX;
	/* Exec mode learns when data last moved from TCP_INFO: TCP only. */
	if (srv->opt.cmd != NULL && srv->opt.idle_ns >= 0 && srv->unixsock)
		cli_usage_err("-i/--idle in exec mode is for TCP: a Unix socket "
		    "does not tell when data last moved; use timeout(1) in "
		    "COMMAND");
	if (srv->opt.cmd != NULL && (srv->opt.peer || srv->opt.broadcast
	    || srv->opt.len32 ||
	    srv->opt.kind != FRAME_LINE))
		cli_usage_err("--peer, --broadcast and framing options are for "
		    "print mode, not with a COMMAND");
	if (srv->udp && (srv->opt.cmd != NULL || srv->opt.broadcast
	    || srv->opt.len32 || srv->opt.idle_ns >= 0))
		cli_usage_err("udp: is print mode only (no COMMAND, --broadcast, "
		    "--len32 or --idle)");
	if (srv->udp && srv->opt.max_per_source)
		cli_usage_err("--max-per-source counts connections: udp: has "
		    "none");
	if (srv->opt.mode_set && (!srv->unixsock || srv->addr.abstract))
		cli_usage_err("--mode applies to a Unix socket path%s",
		    srv->addr.abstract
		    ? " (an abstract socket has no permissions)" :
		    "");
	if (srv->opt.ready_fd >= 0) {
		int fl = fcntl(srv->opt.ready_fd, F_GETFL);
		if (fl == -1)
			cli_usage_err("--ready-fd %d: not an open descriptor",
			    srv->opt.ready_fd);
		if ((fl & O_ACCMODE) == O_RDONLY)
			cli_usage_err("--ready-fd %d: not open for writing",
			    srv->opt.ready_fd);
		/* Never handed to a child. */
		(void)fcntl(srv->opt.ready_fd, F_SETFD, FD_CLOEXEC);
	}
	if (srv->opt.cmd != NULL)
		exec_check(srv);
	srv->msgmode = srv->opt.len32 || srv->opt.kind != FRAME_LINE;
	srv->rawmode = srv->opt.once && !srv->opt.peer && !srv->opt.broadcast
	    && !srv->msgmode && !srv->udp &&
	    srv->opt.cmd == NULL;
}

/* Print mode holds one descriptor per client: raise the soft limit to the
 * hard one (no children inherit it: print mode runs none). */
static void
set_max_conns(struct server *srv)
{
	struct rlimit rl;

	if (srv->opt.cmd != NULL) {
		if (srv->opt.max_conns == 0)
			srv->opt.max_conns = 40;
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (srv->opt.max_conns == 0) {
		long long lim = rl.rlim_cur == RLIM_INFINITY ? 1000000 :
		    (long long)rl.rlim_cur;
		srv->opt.max_conns = lim > FD_RESERVE + 1 ? lim - FD_RESERVE
		    : 1;
	}
}

/* ---- event loop plumbing ---- */

void
ep_ctl(struct server *srv, int op, struct item *it, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = it };

	if (epoll_ctl(srv->ep, op, it->fd, &ev) == -1)
		err(EXIT_FAIL, "epoll_ctl");
}

bool
limit_reached(struct server *srv)
{
	return (srv->opt.once && srv->accepted >= 1) || (srv->opt.count >= 0
	    && srv->accepted >= srv->opt.count);
}

/* ---- signals and the end ---- */

noreturn void
die(struct server *srv, int signo)
{
	for (long long i = 0; i < srv->nkids; i++)
		kill(srv->kids[i].pid, SIGTERM);
	/* Lines held back for a newline are still printed. */
	for (struct conn *c = srv->conns; c != NULL; c = c->next)
		if (!srv->msgmode && merge_end(&srv->mg, &c->src) == -1)
			break;
	if (srv->opt.cmd == NULL)
		out_last(srv);
	sig_die(signo);
}

static void
on_signal(struct server *srv, int64_t now)
{
	int signo = sig_drain();

	if (sig_child())
		reap(srv);
	if (signo == 0)
		return;
	sig_clear();
	if (srv->term_sig != 0 || signo == SIGHUP || signo == SIGQUIT)
		die(srv, srv->term_sig ? srv->term_sig
		    : signo);   /* a second signal */
	srv->term_sig = signo;
	srv->grace_end = now + srv->opt.grace_ns;
	listen_stop(srv);
	if (srv->opt.verbose && srv->active > 0)
		warnx("%s: %lld connection%s to finish", strsignal(signo),
		    srv->active, srv->active == 1 ? "" : "s");
}

static void
idle_sweep(struct server *srv, int64_t now)
{
	struct conn *c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->paused && now - c->last >= srv->opt.idle_ns) {
			srv->idle_closed++;
			conn_end(srv, c, EXIT_TIMEOUT, "idle, closed");
		}
	}
	kids_idle_sweep(srv, now);
}

/* Milliseconds until the next timer (idle sweep, EMFILE pause, grace). */
static int
next_timeout(struct server *srv, int64_t now, int64_t next_sweep)
{
	int64_t t = INT64_MAX;

	if (srv->opt.idle_ns >= 0 && (srv->conns != NULL || srv->nkids > 0))
		t = next_sweep - now;
	if (srv->resume_at > now && srv->resume_at - now < t)
		t = srv->resume_at - now;
	if (srv->term_sig && srv->grace_end - now < t)
		t = srv->grace_end - now;
	if (srv->in_always && srv->in_want && srv->conns != NULL)
		t = 0;
	if (t == INT64_MAX)
		return -1;
	return num_poll_ms(t > 0 ? t : 0);
}

static bool
finished(struct server *srv)
{
	if (srv->opt.cmd == NULL && out_blocked(srv))
		return false;   /* what stdout has not taken yet goes first */
	if (srv->udp)
		return limit_reached(srv) || srv->term_sig;
	return srv->active == 0 && (limit_reached(srv) || srv->term_sig);
}

static void
dispatch(struct server *srv, struct epoll_event *ev, int64_t now)
{
	struct item *it = ev->data.ptr;

	switch (it->kind) {
	case IT_LISTEN:
		if (srv->udp)
			on_datagram(srv, it);
		else
			on_accept(srv, it, now);
		break;
	case IT_SIG:
		on_signal(srv, now);
		break;
	case IT_STDIN:
		bcast_read(srv, now);
		break;
	case IT_STDOUT:
		out_ready(srv, ev->events);
		break;
	case IT_CONN: {
		struct conn *c = (struct conn *)it;
		if (c->dead)
			break;
		if ((ev->events & EPOLLOUT) && !bcast_flush(srv, c, now))
			break;
		/* A broadcast client that stopped sending and is now gone
		 * (reset, or both sides shut): level-triggered HUP would spin. */
		if (c->rd_eof && (ev->events & (EPOLLHUP | EPOLLERR))) {
			conn_free(srv, c);
			break;
		}
		if ((ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
		    out_blocked(srv))
			conn_pause(srv, c, ev->events & (EPOLLHUP | EPOLLERR));
		else if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(srv, c, now);
		break;
	}
	}
}

static void
loop(struct server *srv)
{
	struct epoll_event evs[256];
	int64_t now = num_now(), next_sweep = now + idle_interval(srv);

	for (;;) {
		if (srv->opt.cmd == NULL)
			out_update(srv, now);
		listen_update(srv, now);
		if (srv->opt.broadcast)
			bcast_update(srv);
		if (finished(srv))
			break;
		if (srv->term_sig && now >= srv->grace_end)
			die(srv, srv->term_sig);
		int n = epoll_wait(srv->ep, evs, 256, next_timeout(srv, now,
		    next_sweep));
		if (n == -1 && errno != EINTR)
			err(EXIT_FAIL, "epoll_wait");
		now = num_now();
		/* The handler ran just now: deal with it (and empty the
		 * self-pipe) without another trip through epoll_wait. */
		if (n == -1)
			on_signal(srv, now);
		for (int i = 0; i < n; i++)
			dispatch(srv, &evs[i], now);
		if (srv->in_always && srv->in_want && srv->conns != NULL)
			bcast_read(srv, now);
		if (srv->opt.idle_ns >= 0 && now >= next_sweep) {
			idle_sweep(srv, now);
			next_sweep = now + idle_interval(srv);
		}
		conn_bury(srv);
	}
}

static void
setup_loop(struct server *srv)
{
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv->ep == -1)
		err(EXIT_FAIL, "epoll_create1");
	srv->sigitem = (struct item){ IT_SIG, sig_fd() };
	ep_ctl(srv, EPOLL_CTL_ADD, &srv->sigitem, EPOLLIN);
	for (int i = 0; i < srv->lis.n; i++)
		srv->litem[i] = (struct item){ IT_LISTEN, srv->lis.fd[i] };
	if (srv->opt.cmd != NULL) {
		srv->kids = calloc((size_t)srv->opt.max_conns + 1,
		    sizeof *srv->kids);
		if (srv->kids == NULL)
			err(EXIT_FAIL, "malloc");
		return;
	}
	merge_init(&srv->mg, STDOUT_FILENO, 0);
	out_init(srv);
	/* splice(2) into a socket blocks whatever its flags: -1 reads and
	 * sends (MSG_DONTWAIT) there, as many calls per chunk. */
	if (srv->rawmode && srv->oq.how != OUTQ_SEND && pipe2(srv->rawpipe,
	    O_CLOEXEC) == 0)
		(void)fcntl(srv->rawpipe[1], F_SETPIPE_SZ, RAW_CHUNK);
	if (srv->opt.broadcast) {
		srv->initem = (struct item){ IT_STDIN, STDIN_FILENO };
		frame_reader_init(&srv->inr, STDIN_FILENO, srv->opt.kind,
		    srv->opt.max_msg);
		struct epoll_event ev = { .events = EPOLLIN,
		    .data.ptr = &srv->initem };
		if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, STDIN_FILENO,
		    &ev) == -1) {
			if (errno != EPERM)
				err(EXIT_FAIL, "stdin");
			srv->in_always = true;   /* a file: always readable */
		} else
			srv->in_on = true;
	}
}

int
main(int argc, char **argv)
{
	/* Static for its 64 KiB read buffer; reached only through SRV. */
	static struct server server = {
		.opt = { .ready_fd = -1, .grace_ns = 5000000000LL, .idle_ns = -1,
		    .count = -1,
		    .mode = 0600 },
		.ep = -1,
		.rawpipe = { -1, -1 },
	};
	struct server *srv = &server;

	cli_init(argc, argv);
	parse_opts(srv, argc, argv);
	check_opts(srv);
	held_init(srv);
	set_max_conns(srv);
	listen_open(&srv->lis, &srv->addr, srv->opt.mode, srv->opt.mode_set,
	    srv->opt.max_conns < SOMAXCONN ? SOMAXCONN
	    : (int)srv->opt.max_conns, srv->opt.verbose);
	setup_loop(srv);
	/* A reader that takes the first address and leaves is fine. */
	if (srv->opt.ready_fd >= 0 && listen_ready(&srv->lis,
	    srv->opt.ready_fd) == -1 &&
	    srv->opt.verbose)
		warn("--ready-fd %d", srv->opt.ready_fd);
	loop(srv);
	if (srv->term_sig)
		die(srv, srv->term_sig);
	listen_stop(srv);
	bool exec_once = srv->opt.cmd != NULL && srv->opt.once;
	int rc = exec_once ? srv->last_status : srv->print_status;
	if (!exec_once)
		cli_stdout_done();
	/* A 124 says why, as in every tool. */
	if (rc == EXIT_TIMEOUT)
		warnx("%lld connection(s) closed after %s idle (-i)",
		    srv->idle_closed, num_duration_str(srv->opt.idle_ns));
	return rc;
}
