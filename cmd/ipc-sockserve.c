/* ipc-sockserve: a socket server. Print mode writes what clients send to
 * stdout, line-atomically (one process, epoll); exec mode runs COMMAND per
 * connection with the UCSPI environment; broadcast mode also sends stdin
 * to every client; UDP prints each datagram as one message. */
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

#define SYNOPSIS \
	"ipc-sockserve [-1bpv0] [-n N] [-c N] [-i DUR] [-r FD] [--mode MODE]\n" \
	"    [--grace DUR] [--allow-uid UID|USER|any] [--netstring|--len32]\n" \
	"    ADDRESS [-- COMMAND [ARG...]]"

#define HELP \
	"usage: " SYNOPSIS "\n\n" \
	"Listen on ADDRESS. Without COMMAND print what clients send to stdout,\n" \
	"line-atomically; with COMMAND run it per connection, stdin and stdout\n" \
	"on the socket (UCSPI environment).\n\n" \
	"  -1, --once           serve one connection (UDP: one datagram), exit\n" \
	"  -n, --count N        exit after N connections (UDP: N datagrams)\n" \
	"  -c, --max-conns N    at most N connections at once\n" \
	"  -i, --idle DUR       close a connection idle for DUR (print mode)\n" \
	"  -p, --peer           prefix each printed line with the peer address\n" \
	"  -b, --broadcast      send each stdin line to every client\n" \
	"  -r, --ready-fd FD    write the bound addresses to FD once listening\n" \
	"      --mode MODE      Unix socket permissions (default 0600)\n" \
	"      --grace DUR      on SIGTERM/SIGINT let connections finish (5s)\n" \
	"      --allow-uid U    also accept Unix peers of uid/user U, or 'any'\n" \
	"  -0, --null, --netstring  framing of printed messages\n" \
	"      --len32          the socket carries 4-byte length frames\n" \
	"  -v, --verbose        diagnostics on stderr\n" \
	"  -h, --help, -V, --version\n"

#define RBUF_SIZE (64 * 1024)
#define RAW_CHUNK (1 << 20)
#define BCAST_MAX (1 << 20)      /* a client this far behind is dropped */
#define BCAST_LOW (64 * 1024)    /* read stdin while a client is below this */
#define MSG_MAX ((size_t)64 << 20) /* largest --len32/-0 message */
#define FD_RESERVE 32
#define EMFILE_PAUSE_NS 100000000LL

enum { OPT_MODE = 0x2001, OPT_GRACE, OPT_ALLOW };

static struct {
	bool once, peer, broadcast, mode_set, allow_any, len32;
	int verbose, ready_fd;
	long long count, max_conns;
	int64_t idle_ns, grace_ns;
	mode_t mode;
	enum frame_kind kind;    /* framing of printed messages and stdin */
	uid_t allow[16];
	int nallow;
	char **cmd;
} o = { .ready_fd = -1, .grace_ns = 5000000000LL, .mode = 0600 };

enum item_kind { IT_LISTEN, IT_SIG, IT_STDIN, IT_STDOUT, IT_CONN };
struct item {
	enum item_kind kind;
	int fd;
};

struct conn {
	struct item it;
	struct conn *prev, *next;
	struct merge_src src;       /* line mode */
	struct frame_reader fr;     /* message mode */
	char *prefix;               /* --peer */
	int64_t last;               /* last time data moved */
	char *out;                  /* broadcast backlog */
	size_t out_off, out_len, out_cap;
	bool rd_eof, wr_shut, want_out, dead;
};

static struct addr addr;
static struct listener lis;
static struct item litem[LISTEN_MAX], sigitem, initem, outitem;
static int ep = -1;
static bool listening, udp, unixsock, msgmode, rawmode;
static int64_t resume_at, last_emfile_warn;
static long long accepted, active;
static int term_sig;
static int64_t grace_end;
static struct merge mg;
static struct conn *conns;          /* every open connection */
static struct conn *graveyard;      /* closed, freed after the batch */
static char rbuf[RBUF_SIZE];
static int rawpipe[2] = { -1, -1 };
static pid_t *kids;                 /* exec mode: running children */
static long long nkids;
static int last_status;             /* exec mode -1: the child's status */
static struct frame_reader inr;     /* broadcast: stdin */
static bool in_eof, in_on, in_always, in_want;

static noreturn void die(int signo);

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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		FRAME_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	enum frame_kind k;
	int c;

	while ((c = getopt_long(argc, argv, "+1n:c:i:pbr:v0hV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case '1': o.once = true; break;
		case 'n': o.count = num_parse(optarg, 1, LLONG_MAX, "count"); break;
		case 'c':
			o.max_conns = num_parse(optarg, 1, 1000000, "max-conns");
			break;
		case 'i': o.idle_ns = num_duration(optarg, "idle"); break;
		case 'p': o.peer = true; break;
		case 'b': o.broadcast = true; break;
		case 'r':
			o.ready_fd = (int)num_parse(optarg, 0, INT_MAX, "ready-fd");
			break;
		case OPT_MODE: o.mode = num_mode(optarg); o.mode_set = true; break;
		case OPT_GRACE: o.grace_ns = num_duration(optarg, "grace"); break;
		case OPT_ALLOW:
			if (strcmp(optarg, "any") == 0)
				o.allow_any = true;
			else if (o.nallow < 16)
				o.allow[o.nallow++] = parse_uid(optarg);
			else
				cli_usage_err("--allow-uid: at most 16");
			break;
		case 'v': o.verbose++; break;
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		default:
			if (frame_opt(c, &k)) {
				if (k == FRAME_LEN32)
					o.len32 = true;
				else
					o.kind = k;
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
		o.cmd = argv + optind;
}

static void
check_opts(void)
{
	udp = addr.proto == ADDR_UDP;
	unixsock = addr.proto == ADDR_UNIX;
	if (o.cmd != NULL && o.idle_ns > 0)
		cli_usage_err("-i/--idle is for print mode: in exec mode the "
		    "command owns the socket; use timeout(1) in COMMAND");
	if (o.cmd != NULL && (o.peer || o.broadcast || o.len32 ||
	    o.kind != FRAME_LINE))
		cli_usage_err("--peer, --broadcast and framing options are for "
		    "print mode, not with a COMMAND");
	if (udp && (o.cmd != NULL || o.broadcast || o.len32 || o.idle_ns))
		cli_usage_err("udp: is print mode only (no COMMAND, --broadcast, "
		    "--len32 or --idle)");
	if (o.mode_set && (!unixsock || addr.abstract))
		cli_usage_err("--mode applies to a Unix socket path%s",
		    addr.abstract ? " (an abstract socket has no permissions)" :
		    "");
	if (o.ready_fd >= 0) {
		if (fcntl(o.ready_fd, F_GETFD) == -1)
			cli_usage_err("--ready-fd %d: not an open descriptor",
			    o.ready_fd);
		/* Never handed to a child. */
		(void)fcntl(o.ready_fd, F_SETFD, FD_CLOEXEC);
	}
	msgmode = o.len32 || o.kind != FRAME_LINE;
	rawmode = o.once && !o.peer && !o.broadcast && !msgmode && !udp &&
	    o.cmd == NULL;
}

/* Print mode holds one descriptor per client: raise the soft limit to the
 * hard one (no children inherit it: print mode runs none). */
static void
set_max_conns(void)
{
	struct rlimit rl;

	if (o.cmd != NULL) {
		if (o.max_conns == 0)
			o.max_conns = 40;
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (o.max_conns == 0) {
		long long lim = rl.rlim_cur == RLIM_INFINITY ? 1000000 :
		    (long long)rl.rlim_cur;
		o.max_conns = lim > FD_RESERVE + 1 ? lim - FD_RESERVE : 1;
	}
}

/* ---- output ---- */

static noreturn void
out_failed(void)
{
	cli_write_failed("stdout");
}

/* One message framed for stdout, with PRE before it (--peer), in one
 * writev. A datagram printed as a line that ends in a newline already
 * gets no second one. */
static void
emit(const char *pre, size_t pl, const char *msg, size_t len, bool udpmsg)
{
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(o.kind, pl + len, hdr, &tr, &tl);

	if (udpmsg && o.kind == FRAME_LINE && len > 0 && msg[len - 1] == '\n')
		tl = 0;
	struct iovec iov[4] = {
		{ hdr, hl }, { (void *)pre, pl }, { (void *)msg, len },
		{ (void *)tr, tl },
	};
	if (io_writev_all(STDOUT_FILENO, iov, 4) == -1)
		out_failed();
}

/* ---- event loop plumbing ---- */

static void
ep_ctl(int op, struct item *it, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = it };

	if (epoll_ctl(ep, op, it->fd, &ev) == -1)
		err(EXIT_FAIL, "epoll_ctl");
}

static bool
limit_reached(void)
{
	return (o.once && accepted >= 1) || (o.count && accepted >= o.count);
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
	want = active < o.max_conns && now >= resume_at;
	if (want == listening)
		return;
	for (int i = 0; i < lis.n; i++)
		ep_ctl(want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &litem[i], EPOLLIN);
	listening = want;
}

/* ---- connections (print and broadcast modes) ---- */

static void
conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->it.fd);
	/* Later events of this epoll batch may still point at C. */
	c->dead = true;
	c->next = graveyard;
	graveyard = c;
	active--;
}

static void
conn_bury(void)
{
	while (graveyard != NULL) {
		struct conn *c = graveyard;
		graveyard = c->next;
		frame_reader_free(&c->fr);
		free(c->prefix);
		free(c->out);
		free(c);
	}
}

/* The client is done: its last unterminated line goes out. */
static void
conn_end(struct conn *c, const char *why)
{
	if (why != NULL && o.verbose)
		warnx("%s%s%s", c->prefix ? c->prefix : "", c->prefix ? " " : "",
		    why);
	if (!msgmode && merge_end(&mg, &c->src) == -1)
		out_failed();
	conn_free(c);
}

static void
conn_msgs(struct conn *c)
{
	char *msg;
	size_t len;
	int rc;

	while ((rc = frame_next(&c->fr, &msg, &len)) == 1)
		emit(c->prefix, c->prefix ? strlen(c->prefix) : 0, msg, len,
		    false);
	if (rc == -1) {
		warn("%s%sbad message from client", c->prefix ? c->prefix : "",
		    c->prefix ? " " : "");
		conn_end(c, NULL);
	} else if (c->fr.eof && frame_pending(&c->fr) == 0)
		conn_end(c, NULL);
}

/* Message mode (--len32, -0, --netstring): whole messages only. */
static void
conn_read_msgs(struct conn *c, int64_t now)
{
	ssize_t n = frame_fill(&c->fr);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		conn_end(c, strerror(errno));
		return;
	}
	if (n > 0)
		c->last = now;
	conn_msgs(c);
}

/* Copies what one client sent straight to stdout (-1: nothing to
 * interleave), through a pipe of ours with splice(2). */
static void
raw_out(size_t n)
{
	while (n > 0) {
		ssize_t m = splice(rawpipe[0], NULL, STDOUT_FILENO, NULL, n,
		    SPLICE_F_MOVE);
		if (m > 0) {
			n -= (size_t)m;
			continue;
		}
		if (m == -1 && errno == EINTR) {
			sig_check();
			continue;
		}
		if (m == -1 && errno == EINVAL) {
			/* stdout takes no splice: the plain way. */
			ssize_t r = io_read(rawpipe[0], rbuf,
			    n < sizeof rbuf ? n : sizeof rbuf);
			if (r <= 0)
				err(EXIT_FAIL, "pipe");
			if (io_write_all(STDOUT_FILENO, rbuf, (size_t)r) == -1)
				out_failed();
			n -= (size_t)r;
			continue;
		}
		if (m == -1 && errno == EAGAIN) {
			if (io_write_all(STDOUT_FILENO, "", 0) == -1)
				out_failed();
			continue;
		}
		out_failed();
	}
}

static bool
conn_read_raw(struct conn *c, int64_t now)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = splice(c->it.fd, NULL, rawpipe[1], NULL, RAW_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0) {
			conn_end(c, NULL);
			return true;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			if (errno == EINVAL)
				return false;   /* no splice: read(2) instead */
			conn_end(c, strerror(errno));
			return true;
		}
		c->last = now;
		raw_out((size_t)n);
	}
	return true;
}

static void
conn_read(struct conn *c, int64_t now)
{
	if (c->rd_eof)
		return;
	if (msgmode) {
		conn_read_msgs(c, now);
		return;
	}
	if (rawmode && rawpipe[0] != -1 && conn_read_raw(c, now))
		return;
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->it.fd, rbuf, sizeof rbuf);
		if (n > 0) {
			c->last = now;
			if (merge_feed(&mg, &c->src, rbuf, (size_t)n) == -1)
				out_failed();
			if ((size_t)n < sizeof rbuf / 2 && i > 0)
				return;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (o.broadcast && n == 0 && !c->wr_shut) {
			/* Still receiving the broadcast until it closes. */
			c->rd_eof = true;
			if (merge_end(&mg, &c->src) == -1)
				out_failed();
			ep_ctl(EPOLL_CTL_MOD, &c->it, c->want_out ? EPOLLOUT : 0);
			return;
		}
		conn_end(c, n == 0 ? NULL : strerror(errno));
		return;
	}
}

/* ---- broadcast ---- */

static void
bcast_shut(struct conn *c)
{
	if (!c->wr_shut && shutdown(c->it.fd, SHUT_WR) == -1 && o.verbose)
		warn("shutdown");
	c->wr_shut = true;
	if (c->rd_eof)
		conn_free(c);
}

/* Sends C's backlog; returns false when C was closed. */
static bool
bcast_flush(struct conn *c, int64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->it.fd, c->out + c->out_off,
		    c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->last = now;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (c->rd_eof) {
			conn_free(c);
		} else {
			/* It will not read: print what it still sends. */
			c->out_len = c->out_off = 0;
			c->wr_shut = true;
		}
		return false;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	bool want = c->out_len > 0;
	if (want != c->want_out) {
		c->want_out = want;
		ep_ctl(EPOLL_CTL_MOD, &c->it, (c->rd_eof ? 0 : EPOLLIN) |
		    (want ? EPOLLOUT : 0));
	}
	if (!want && in_eof && !c->wr_shut) {
		bcast_shut(c);
		return false;
	}
	return true;
}

static void
bcast_queue(struct conn *c, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (c->out_len + len > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off,
			    c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		size_t ncap = c->out_cap ? c->out_cap : 4096;
		while (ncap < c->out_len + len)
			ncap *= 2;
		char *nb = realloc(c->out, ncap);
		if (nb == NULL)
			err(EXIT_FAIL, "malloc");
		c->out = nb;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
}

/* One message from stdin to every client; a client whose backlog is over
 * BCAST_MAX is dropped so that one slow reader never stalls the rest. */
static void
bcast_msg(const char *msg, size_t len, int64_t now)
{
	enum frame_kind k = o.len32 ? FRAME_LEN32 : o.kind;
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(k, len, hdr, &tr, &tl);
	struct conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (c->wr_shut)
			continue;
		bcast_queue(c, hdr, hl);
		bcast_queue(c, msg, len);
		bcast_queue(c, tr, tl);
		if (c->out_len - c->out_off > BCAST_MAX) {
			if (o.verbose)
				warnx("%s%sdropped: more than 1 MiB behind",
				    c->prefix ? c->prefix : "",
				    c->prefix ? " " : "");
			conn_end(c, NULL);
			continue;
		}
		(void)bcast_flush(c, now);
	}
}

/* Read stdin only while the fastest client is nearly caught up. */
static void
bcast_update(void)
{
	bool want = !in_eof;

	if (want && conns != NULL) {
		want = false;
		for (struct conn *c = conns; c != NULL && !want; c = c->next)
			want = !c->wr_shut && c->out_len - c->out_off < BCAST_LOW;
	}
	in_want = want;
	if (in_always || want == in_on)
		return;
	ep_ctl(want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &initem, EPOLLIN);
	in_on = want;
}

static void
bcast_read(int64_t now)
{
	char *msg;
	size_t len;
	int rc;
	ssize_t n = frame_fill(&inr);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1)
		err(EXIT_FAIL, "stdin");
	while ((rc = frame_next(&inr, &msg, &len)) == 1)
		if (conns != NULL)
			bcast_msg(msg, len, now);
	if (rc == -1)
		err(EXIT_FAIL, "stdin");
	if (inr.eof) {
		struct conn *c, *next;
		in_eof = true;
		if (in_on && !in_always)
			ep_ctl(EPOLL_CTL_DEL, &initem, 0);
		in_on = in_always = false;
		for (c = conns; c != NULL; c = next) {
			next = c->next;
			if (c->out_len == c->out_off)
				bcast_shut(c);
		}
	}
}

/* ---- accepting ---- */

static bool
peer_allowed(int fd, struct ucred *cr)
{
	socklen_t l = sizeof *cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &l) == -1)
		return false;
	if (o.allow_any || cr->uid == geteuid() || cr->uid == 0)
		return true;
	for (int i = 0; i < o.nallow; i++)
		if (cr->uid == o.allow[i])
			return true;
	if (o.verbose)
		warnx("refused a peer of uid %u (pid %d): --allow-uid admits it",
		    (unsigned)cr->uid, (int)cr->pid);
	return false;
}

static void
conn_add(int fd, const struct sockaddr_storage *ss, socklen_t sl,
    const struct ucred *cr, int64_t now)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		err(EXIT_FAIL, "malloc");
	c->it.kind = IT_CONN;
	c->it.fd = fd;
	c->last = now;
	if (o.peer || o.verbose) {
		char name[160];
		if (unixsock)
			snprintf(name, sizeof name, "pid=%d", (int)cr->pid);
		else
			addr_format((const struct sockaddr *)ss, sl, ADDR_TCP,
			    name, sizeof name);
		if (asprintf(&c->prefix, "%s\t", name) == -1)
			err(EXIT_FAIL, "malloc");
	}
	merge_src_init(&c->src, o.peer ? c->prefix : NULL);
	if (msgmode)
		frame_reader_init(&c->fr, fd, o.len32 ? FRAME_LEN32 : o.kind,
		    MSG_MAX);
	if (!o.peer && c->prefix) {
		/* -v notes name the peer; without -p lines get no prefix. */
		c->prefix[strlen(c->prefix) - 1] = '\0';
		if (msgmode) {
			free(c->prefix);
			c->prefix = NULL;
		}
	}
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	if (o.broadcast && in_eof)
		bcast_shut(c);
	/* A short-lived client has often sent everything already: read it
	 * now and skip the trips through epoll for it. */
	if (!c->dead && !o.broadcast)
		conn_read(c, now);
	if (!c->dead)
		ep_ctl(EPOLL_CTL_ADD, &c->it, EPOLLIN);
}

static void spawn_conn(int fd, const struct sockaddr_storage *ss,
    socklen_t sl, const struct ucred *cr);

static void
accept_failed(int64_t now)
{
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* The connection stays in the backlog and the listener stays
		 * readable: stop polling it for a while instead of spinning. */
		if (now - last_emfile_warn > 10000000000LL) {
			warn("accept (pausing)");
			last_emfile_warn = now;
		}
		resume_at = now + EMFILE_PAUSE_NS;
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    errno != EPROTO && errno != EPERM && o.verbose)
		warn("accept");
}

static void
on_accept(struct item *it, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct ucred cr = { 0 };
		int fd;

		if (limit_reached() || active >= o.max_conns || now < resume_at)
			return;
		fd = accept4(it->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC |
		    (o.cmd ? 0 : SOCK_NONBLOCK));
		if (fd == -1) {
			accept_failed(now);
			return;
		}
		if (unixsock && !peer_allowed(fd, &cr)) {
			close(fd);
			continue;
		}
		accepted++;
		active++;
		if (o.cmd != NULL)
			spawn_conn(fd, &ss, sl, &cr);
		else
			conn_add(fd, &ss, sl, &cr, now);
	}
}

/* ---- UDP ---- */

static void
on_datagram(struct item *it)
{
	static char dbuf[65536];

	for (int i = 0; i < 64 && !limit_reached(); i++) {
		struct sockaddr_storage ss;
		struct iovec iov = { dbuf, sizeof dbuf };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof ss,
			.msg_iov = &iov, .msg_iovlen = 1 };
		char pre[160];
		size_t pl = 0;
		ssize_t n = recvmsg(it->fd, &mh, MSG_DONTWAIT);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR && o.verbose)
				warn("recvmsg");
			return;
		}
		if (mh.msg_flags & MSG_TRUNC)
			warnx("datagram truncated to %zd bytes", n);
		if (o.peer) {
			addr_format((struct sockaddr *)&ss, mh.msg_namelen,
			    ADDR_TCP, pre, sizeof pre - 1);
			pl = strlen(pre);
			pre[pl++] = '\t';
		}
		emit(pre, pl, dbuf, (size_t)n, true);
		accepted++;
	}
}

/* ---- exec mode ---- */

static void
spawn_conn(int fd, const struct sockaddr_storage *ss, socklen_t sl,
    const struct ucred *cr)
{
	int status = 126;
	pid_t pid = ucspi_spawn(fd, o.cmd, (const struct sockaddr *)ss, sl,
	    unixsock ? cr : NULL, &status);

	close(fd);
	if (pid == -1) {
		warn("%s", o.cmd[0]);
		active--;
		last_status = status;
		return;
	}
	kids[nkids++] = pid;
	if (o.verbose > 1)
		warnx("conn %lld: pid %d", accepted, (int)pid);
}

static void
reap(void)
{
	int ws;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		for (long long i = 0; i < nkids; i++) {
			if (kids[i] != pid)
				continue;
			kids[i] = kids[--nkids];
			active--;
			last_status = spawn_status(ws);
			if (o.verbose && last_status != 0)
				warnx("pid %d: %s %d", (int)pid,
				    WIFSIGNALED(ws) ? "killed by signal" : "exit",
				    WIFSIGNALED(ws) ? WTERMSIG(ws) : last_status);
			break;
		}
	}
}

/* ---- signals and the end ---- */

static noreturn void
die(int signo)
{
	for (long long i = 0; i < nkids; i++)
		kill(kids[i], SIGTERM);
	/* Lines held back for a newline are still printed. */
	for (struct conn *c = conns; c != NULL; c = c->next)
		if (!msgmode && merge_end(&mg, &c->src) == -1)
			break;
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
	grace_end = now + o.grace_ns;
	listen_stop();
	if (o.verbose && active > 0)
		warnx("%s: %lld connection%s to finish", strsignal(signo),
		    active, active == 1 ? "" : "s");
}

static void
idle_sweep(int64_t now)
{
	struct conn *c, *next;

	for (c = conns; c != NULL; c = next) {
		next = c->next;
		if (now - c->last >= o.idle_ns)
			conn_end(c, "idle, closed");
	}
}

/* Milliseconds until the next timer (idle sweep, EMFILE pause, grace). */
static int
next_timeout(int64_t now, int64_t next_sweep)
{
	int64_t t = -1;

	if (o.idle_ns && conns != NULL)
		t = next_sweep - now;
	if (resume_at > now && (t < 0 || resume_at - now < t))
		t = resume_at - now;
	if (term_sig && (t < 0 || grace_end - now < t))
		t = grace_end - now;
	if (in_always && in_want && conns != NULL)
		t = 0;
	if (t < 0)
		return t == -1 ? -1 : 0;
	return (int)((t + 999999) / 1000000);
}

static bool
finished(void)
{
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
		/* The reader of stdout went away: nothing left to serve. */
		errno = EPIPE;
		out_failed();
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
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c, now);
		break;
	}
	}
}

static void
loop(void)
{
	struct epoll_event evs[256];
	int64_t now = num_now(), next_sweep = now + o.idle_ns / 4;

	for (;;) {
		listen_update(now);
		if (o.broadcast)
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
		if (o.idle_ns && now >= next_sweep) {
			idle_sweep(now);
			next_sweep = now + (o.idle_ns / 4 > 10000000 ?
			    o.idle_ns / 4 : 10000000);
		}
		conn_bury();
	}
}

static void
setup_loop(void)
{
	struct stat st;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1)
		err(EXIT_FAIL, "epoll_create1");
	sigitem = (struct item){ IT_SIG, sig_fd() };
	ep_ctl(EPOLL_CTL_ADD, &sigitem, EPOLLIN);
	for (int i = 0; i < lis.n; i++)
		litem[i] = (struct item){ IT_LISTEN, lis.fd[i] };
	if (o.cmd != NULL) {
		kids = calloc((size_t)o.max_conns + 1, sizeof *kids);
		if (kids == NULL)
			err(EXIT_FAIL, "malloc");
		return;
	}
	merge_init(&mg, STDOUT_FILENO, 0);
	/* A pipe on stdout whose reader left reports EPOLLERR. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode)) {
		outitem = (struct item){ IT_STDOUT, STDOUT_FILENO };
		struct epoll_event ev = { .events = 0, .data.ptr = &outitem };
		(void)epoll_ctl(ep, EPOLL_CTL_ADD, STDOUT_FILENO, &ev);
	}
	if (rawmode && pipe2(rawpipe, O_CLOEXEC) == 0)
		(void)fcntl(rawpipe[1], F_SETPIPE_SZ, RAW_CHUNK);
	if (o.broadcast) {
		initem = (struct item){ IT_STDIN, STDIN_FILENO };
		frame_reader_init(&inr, STDIN_FILENO, o.kind, MSG_MAX);
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
	set_max_conns();
	listen_open(&lis, &addr, o.mode, o.mode_set,
	    o.max_conns < SOMAXCONN ? SOMAXCONN : (int)o.max_conns, o.verbose);
	setup_loop();
	if (o.ready_fd >= 0 && listen_ready(&lis, o.ready_fd) == -1 &&
	    o.verbose)
		warn("--ready-fd");
	loop();
	if (term_sig)
		die(term_sig);
	listen_stop();
	if (o.cmd != NULL && o.once)
		return last_status;
	cli_stdout_done();
	return EXIT_OK;
}
