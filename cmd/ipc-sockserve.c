/* ipc-sockserve: a socket server. Print mode writes what clients send to
 * stdout, line-atomically (one process, epoll); exec mode runs COMMAND per
 * connection with the UCSPI environment; broadcast mode also sends stdin
 * to every client; UDP prints each datagram as one message. This file
 * holds the options, the event loop and the end; cmd/ipc-sockserve/ the
 * connections (conn.c), accepting and UDP (accept.c) and exec mode
 * (exec.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#define SYNOPSIS \
	"ipc-sockserve [-1bpv0] [-n N] [-c N] [-i DUR] [-r FD] [--mode MODE]\n" \
	"    [--grace DUR] [--allow-uid UID|USER|any] [--max-per-source N]\n" \
	"    [--netstring|--len32] [--max-held SIZE] [--max-message SIZE]\n" \
	"    ADDRESS [-- COMMAND [ARG...]]"

#define HELP \
	"usage: " SYNOPSIS "\n\n" \
	"Listen on ADDRESS. Without COMMAND print what clients send to stdout,\n" \
	"line-atomically; with COMMAND run it per connection, stdin and stdout\n" \
	"on the socket (UCSPI environment).\n\n" \
	"  -1, --once           serve one connection (UDP: one datagram), exit\n" \
	"  -n, --count N        exit after N connections (UDP: N datagrams)\n" \
	"  -c, --max-conns N    at most N connections at once\n" \
	"  -i, --idle DUR       close a connection idle for DUR (exec mode: TCP)\n" \
	"  -p, --peer           prefix each printed line with the peer address\n" \
	"  -b, --broadcast      send each stdin line to every client\n" \
	"  -r, --ready-fd FD    write the bound addresses to FD once listening\n" \
	"      --mode MODE      Unix socket permissions (default 0600)\n" \
	"      --grace DUR      on SIGTERM/SIGINT let connections finish (5s)\n" \
	"      --allow-uid U    also accept Unix peers of uid/user U, or 'any'\n" \
	"      --max-per-source N  at most N connections from one address/uid\n" \
	"  -0, --null, --netstring  framing of printed messages\n" \
	"      --len32          the socket carries 4-byte length frames\n" \
	"      --max-message SIZE  largest -0/--netstring/--len32 message (64M)\n" \
	"      --max-held SIZE  all bytes held for clients at most (256M); a\n" \
	"                       client that would pass it is dropped\n" \
	"  -v, --verbose        diagnostics on stderr\n" \
	"  -h, --help, -V, --version\n"

/* 0x2101 on are held.c's (sockserve.h). */
enum { OPT_MODE = 0x2001, OPT_GRACE, OPT_ALLOW, OPT_MAX_PER_SOURCE };

struct opts opt = { .ready_fd = -1, .grace_ns = 5000000000LL, .mode = 0600 };
struct addr addr;
struct listener lis;
struct item litem[LISTEN_MAX], sigitem, initem, outitem;
int ep = -1;
bool listening, udp, unixsock, msgmode, rawmode;
int64_t resume_at, last_emfile_warn;
long long accepted, active;
int term_sig;
int64_t grace_end;
struct merge mg;
struct conn *conns;          /* every open connection */
struct conn *graveyard;      /* closed, freed after the batch */
char rbuf[RBUF_SIZE];
int rawpipe[2] = { -1, -1 };
struct kid *kids;            /* exec mode: running children */
long long nkids;
int last_status;             /* exec mode -1: the child's status */
int print_status;            /* print mode: 1 if a connection failed, 124 idle */
struct frame_reader inr;     /* broadcast: stdin */
bool in_eof, in_on, in_always, in_want;

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
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "count", required_argument, NULL, 'n' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "idle", required_argument, NULL, 'i' },
		{ "peer", no_argument, NULL, 'p' },
		{ "broadcast", no_argument, NULL, 'b' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW },
		{ "max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
		CLI_LONGOPTS,
		FRAME_LONGOPTS,
		HELD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	enum frame_kind k;
	int c;

	while ((c = getopt_long(argc, argv, "+1n:c:i:pbr:v0hV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case '1': opt.once = true; break;
		case 'n': opt.count = num_parse(optarg, 1, LLONG_MAX, "count"); break;
		case 'c':
			opt.max_conns = num_parse(optarg, 1, 1000000, "max-conns");
			break;
		case 'i': opt.idle_ns = num_duration(optarg, "idle"); break;
		case 'p': opt.peer = true; break;
		case 'b': opt.broadcast = true; break;
		case 'r':
			opt.ready_fd = (int)num_parse(optarg, 0, INT_MAX, "ready-fd");
			break;
		case OPT_MODE: opt.mode = num_mode(optarg); opt.mode_set = true; break;
		case OPT_GRACE: opt.grace_ns = num_duration(optarg, "grace"); break;
		case OPT_ALLOW:
			if (strcmp(optarg, "any") == 0)
				opt.allow_any = true;
			else if (opt.nallow < 16)
				opt.allow[opt.nallow++] = parse_uid(optarg);
			else
				cli_usage_err("--allow-uid: at most 16");
			break;
		case OPT_MAX_PER_SOURCE:
			opt.max_per_source = num_parse(optarg, 1, 1000000,
			    "max-per-source");
			break;
		case 'v': opt.verbose++; break;
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		default:
			if (held_opt(c, optarg))
				break;
			if (frame_opt(c, &k)) {
				if (k == FRAME_LEN32)
					opt.len32 = true;
				else
					opt.kind = k;
				break;
			}
			cli_usage(SYNOPSIS);
		}
	}
	if (optind >= argc)
		cli_usage(SYNOPSIS);
	addr_parse(argv[optind], &addr, true);
	optind++;
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind < argc)
		opt.cmd = argv + optind;
}

static void
check_opts(void)
{
	udp = addr.proto == ADDR_UDP;
	unixsock = addr.proto == ADDR_UNIX;
	/* Exec mode learns when data last moved from TCP_INFO: TCP only. */
	if (opt.cmd != NULL && opt.idle_ns > 0 && unixsock)
		cli_usage_err("-i/--idle in exec mode is for TCP: a Unix socket "
		    "does not tell when data last moved; use timeout(1) in "
		    "COMMAND");
	if (opt.cmd != NULL && (opt.peer || opt.broadcast || opt.len32 ||
	    opt.kind != FRAME_LINE))
		cli_usage_err("--peer, --broadcast and framing options are for "
		    "print mode, not with a COMMAND");
	if (udp && (opt.cmd != NULL || opt.broadcast || opt.len32 || opt.idle_ns))
		cli_usage_err("udp: is print mode only (no COMMAND, --broadcast, "
		    "--len32 or --idle)");
	if (udp && opt.max_per_source)
		cli_usage_err("--max-per-source counts connections: udp: has "
		    "none");
	if (opt.mode_set && (!unixsock || addr.abstract))
		cli_usage_err("--mode applies to a Unix socket path%s",
		    addr.abstract ? " (an abstract socket has no permissions)" :
		    "");
	if (opt.ready_fd >= 0) {
		int fl = fcntl(opt.ready_fd, F_GETFL);
		if (fl == -1)
			cli_usage_err("--ready-fd %d: not an open descriptor",
			    opt.ready_fd);
		if ((fl & O_ACCMODE) == O_RDONLY)
			cli_usage_err("--ready-fd %d: not open for writing",
			    opt.ready_fd);
		/* Never handed to a child. */
		(void)fcntl(opt.ready_fd, F_SETFD, FD_CLOEXEC);
	}
	if (opt.cmd != NULL)
		exec_check();
	msgmode = opt.len32 || opt.kind != FRAME_LINE;
	rawmode = opt.once && !opt.peer && !opt.broadcast && !msgmode && !udp &&
	    opt.cmd == NULL;
}

/* Print mode holds one descriptor per client: raise the soft limit to the
 * hard one (no children inherit it: print mode runs none). */
static void
set_max_conns(void)
{
	struct rlimit rl;

	if (opt.cmd != NULL) {
		if (opt.max_conns == 0)
			opt.max_conns = 40;
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (opt.max_conns == 0) {
		long long lim = rl.rlim_cur == RLIM_INFINITY ? 1000000 :
		    (long long)rl.rlim_cur;
		opt.max_conns = lim > FD_RESERVE + 1 ? lim - FD_RESERVE : 1;
	}
}

/* ---- event loop plumbing ---- */

void
ep_ctl(int op, struct item *it, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = it };

	if (epoll_ctl(ep, op, it->fd, &ev) == -1)
		err(EXIT_FAIL, "epoll_ctl");
}

bool
limit_reached(void)
{
	return (opt.once && accepted >= 1) || (opt.count && accepted >= opt.count);
}

/* Stop listening for good: the Unix socket is removed at once. */
static void
listen_stop(void)
{
	if (lis.n == 0)
		return;
	listen_close(&lis);   /* closing removes them from epoll */
	listening = false;
}

/* Poll the listeners only while a connection can be taken: under the
 * cap, not backing off after EMFILE, not finished, not terminating. */
static void
listen_update(int64_t now)
{
	bool want;

	if (lis.n == 0)
		return;
	if (limit_reached() || term_sig) {
		listen_stop();
		return;
	}
	want = active < opt.max_conns && now >= resume_at;
	if (udp && out_blocked())
		want = false;   /* datagrams wait in the kernel meanwhile */
	if (want == listening)
		return;
	for (int i = 0; i < lis.n; i++)
		ep_ctl(want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &litem[i], EPOLLIN);
	listening = want;
}

/* ---- signals and the end ---- */

noreturn void
die(int signo)
{
	for (long long i = 0; i < nkids; i++)
		kill(kids[i].pid, SIGTERM);
	/* Lines held back for a newline are still printed. */
	for (struct conn *c = conns; c != NULL; c = c->next)
		if (!msgmode && merge_end(&mg, &c->src) == -1)
			break;
	if (opt.cmd == NULL)
		out_last();
	sig_die(signo);
}

static void
on_signal(int64_t now)
{
	int signo = sig_drain();

	if (sig_child())
		reap();
	if (signo == 0)
		return;
	sig_clear();
	if (term_sig != 0 || signo == SIGHUP || signo == SIGQUIT)
		die(term_sig ? term_sig : signo);   /* a second signal */
	term_sig = signo;
	grace_end = now + opt.grace_ns;
	listen_stop();
	if (opt.verbose && active > 0)
		warnx("%s: %lld connection%s to finish", strsignal(signo),
		    active, active == 1 ? "" : "s");
}

static void
idle_sweep(int64_t now)
{
	struct conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (!c->paused && now - c->last >= opt.idle_ns)
			conn_end(c, EXIT_TIMEOUT, "idle, closed");
	}
	kids_idle_sweep(now);
}

/* Milliseconds until the next timer (idle sweep, EMFILE pause, grace). */
static int
next_timeout(int64_t now, int64_t next_sweep)
{
	int64_t t = INT64_MAX;

	if (opt.idle_ns && (conns != NULL || nkids > 0))
		t = next_sweep - now;
	if (resume_at > now && resume_at - now < t)
		t = resume_at - now;
	if (term_sig && grace_end - now < t)
		t = grace_end - now;
	if (in_always && in_want && conns != NULL)
		t = 0;
	if (t == INT64_MAX)
		return -1;
	return num_poll_ms(t > 0 ? t : 0);
}

static bool
finished(void)
{
	if (opt.cmd == NULL && out_blocked())
		return false;   /* what stdout has not taken yet goes first */
	if (udp)
		return limit_reached() || term_sig;
	return active == 0 && (limit_reached() || term_sig);
}

static void
dispatch(struct epoll_event *ev, int64_t now)
{
	struct item *it = ev->data.ptr;

	switch (it->kind) {
	case IT_LISTEN:
		if (udp)
			on_datagram(it);
		else
			on_accept(it, now);
		break;
	case IT_SIG:
		on_signal(now);
		break;
	case IT_STDIN:
		bcast_read(now);
		break;
	case IT_STDOUT:
		out_ready(ev->events);
		break;
	case IT_CONN: {
		struct conn *c = (struct conn *)it;
		if (c->dead)
			break;
		if ((ev->events & EPOLLOUT) && !bcast_flush(c, now))
			break;
		/* A broadcast client that stopped sending and is now gone
		 * (reset, or both sides shut): level-triggered HUP would spin. */
		if (c->rd_eof && (ev->events & (EPOLLHUP | EPOLLERR))) {
			conn_free(c);
			break;
		}
		if ((ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
		    out_blocked())
			conn_pause(c, ev->events & (EPOLLHUP | EPOLLERR));
		else if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c, now);
		break;
	}
	}
}

static void
loop(void)
{
	struct epoll_event evs[256];
	int64_t now = num_now(), next_sweep = now + opt.idle_ns / 4;

	for (;;) {
		if (opt.cmd == NULL)
			out_update(now);
		listen_update(now);
		if (opt.broadcast)
			bcast_update();
		if (finished())
			break;
		if (term_sig && now >= grace_end)
			die(term_sig);
		int n = epoll_wait(ep, evs, 256, next_timeout(now, next_sweep));
		if (n == -1 && errno != EINTR)
			err(EXIT_FAIL, "epoll_wait");
		now = num_now();
		/* The handler ran just now: deal with it (and empty the
		 * self-pipe) without another trip through epoll_wait. */
		if (n == -1)
			on_signal(now);
		for (int i = 0; i < n; i++)
			dispatch(&evs[i], now);
		if (in_always && in_want && conns != NULL)
			bcast_read(now);
		if (opt.idle_ns && now >= next_sweep) {
			idle_sweep(now);
			next_sweep = now + idle_interval();
		}
		conn_bury();
	}
}

static void
setup_loop(void)
{
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1)
		err(EXIT_FAIL, "epoll_create1");
	sigitem = (struct item){ IT_SIG, sig_fd() };
	ep_ctl(EPOLL_CTL_ADD, &sigitem, EPOLLIN);
	for (int i = 0; i < lis.n; i++)
		litem[i] = (struct item){ IT_LISTEN, lis.fd[i] };
	if (opt.cmd != NULL) {
		kids = calloc((size_t)opt.max_conns + 1, sizeof *kids);
		if (kids == NULL)
			err(EXIT_FAIL, "malloc");
		return;
	}
	merge_init(&mg, STDOUT_FILENO, 0);
	out_init();
	/* splice(2) into a socket blocks whatever its flags: -1 reads and
	 * sends (MSG_DONTWAIT) there, as many calls per chunk. */
	if (rawmode && oq.how != OUTQ_SEND && pipe2(rawpipe, O_CLOEXEC) == 0)
		(void)fcntl(rawpipe[1], F_SETPIPE_SZ, RAW_CHUNK);
	if (opt.broadcast) {
		initem = (struct item){ IT_STDIN, STDIN_FILENO };
		frame_reader_init(&inr, STDIN_FILENO, opt.kind, opt.max_msg);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &initem };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == -1) {
			if (errno != EPERM)
				err(EXIT_FAIL, "stdin");
			in_always = true;   /* a file: always readable */
		} else
			in_on = true;
	}
}

int
main(int argc, char **argv)
{
	cli_init(argc, argv);
	parse_opts(argc, argv);
	check_opts();
	held_init();
	set_max_conns();
	listen_open(&lis, &addr, opt.mode, opt.mode_set,
	    opt.max_conns < SOMAXCONN ? SOMAXCONN : (int)opt.max_conns, opt.verbose);
	setup_loop();
	/* A reader that takes the first address and leaves is fine. */
	if (opt.ready_fd >= 0 && listen_ready(&lis, opt.ready_fd) == -1 &&
	    opt.verbose)
		warn("--ready-fd %d", opt.ready_fd);
	loop();
	if (term_sig)
		die(term_sig);
	listen_stop();
	if (opt.cmd != NULL && opt.once)
		return last_status;
	cli_stdout_done();
	return print_status;
}
