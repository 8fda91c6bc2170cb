/* ipc-spawnpipe: run COMMAND as a child connected by pipes (or by a
 * socketpair on a descriptor of its choice with --fd), relay our stdin to
 * it and its output to our stdout, and exit with its status. With -j N, a
 * pool: each input message goes whole to the first worker ready to take
 * it, and the workers' output lines are merged line-atomically.
 * Children get SIGPIPE at SIG_DFL, an empty mask, none of our descriptors
 * and PR_SET_PDEATHSIG (lib/spawn.c); our signals are forwarded to them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define SYNOPSIS \
	"ipc-spawnpipe [-v] [-t DUR] [--fd FD] -- COMMAND [ARG...]\n" \
	"ipc-spawnpipe [-v] [-t DUR] -j N [--tag] [-0 | --netstring | --len32] -- COMMAND [ARG...]"

#define HELP \
	"usage: ipc-spawnpipe [-v] [-t DUR] [--fd FD] -- COMMAND [ARG...]\n" \
	"       ipc-spawnpipe [-v] [-t DUR] -j N [--tag] [-0 | --netstring | --len32] -- COMMAND [ARG...]\n" \
	"\n" \
	"Run COMMAND (no shell) connected by pipes: stdin goes to it, its output\n" \
	"to stdout; the exit status is its own (127 not found, 126 cannot run).\n" \
	"\n" \
	"      --fd FD         the connection is descriptor FD in the child (a\n" \
	"                      socketpair; IPC_FD=FD), its stdin /dev/null\n" \
	"  -j, --jobs N        a pool of N children (IPC_WORKER=0..N-1): each\n" \
	"                      input message goes whole to one ready child\n" \
	"      --tag           prefix each output line with the worker number\n" \
	"  -0, --null          messages end with NUL, not newline\n" \
	"      --netstring     messages are netstrings (5:hello,)\n" \
	"      --len32         messages have a 4-byte big-endian length\n" \
	"  -t, --timeout DUR   SIGTERM the child(ren) after DUR, SIGKILL 2s\n" \
	"                      later, exit 124\n" \
	"  -v, --verbose       say what happens on stderr\n" \
	"  -h, --help          this help\n" \
	"  -V, --version       print the version\n"

#define CHILD_PIPE_SZ (1 << 20)    /* single child: fewer wake-ups */
#define POOL_BATCH (16 * 1024)     /* most bytes of messages handed at once */
/* Workers' input pipes: what a slow worker holds beyond what it reads is
 * this and one batch; a worker gets its next batch when its pipe has a
 * free page, so it costs no more wake-ups than a bigger pipe. */
#define POOL_PIPE_SZ (16 * 1024)
/* stdin is read ahead of the workers only this far: frame_fill moves what
 * is pending to the front of its buffer, so more would cost a memmove of
 * it per read. */
#define POOL_INPUT_HIGH POOL_BATCH
#define DRAIN_NS (1000000000LL)    /* output idle after the child(ren) exit */
#define KILL_GRACE_NS (2000000000LL)

enum { OPT_FD = 0x100, OPT_TAG };

static int verbose;              /* -v */
static int64_t timeout_ns = -1;  /* -t, -1: none */
static int conn_num = -1;        /* --fd */
static long jobs;                /* -j, 0: one child, bytes unchanged */
static bool tag;                 /* --tag */
static bool framed;              /* a framing option was given */
static enum frame_kind kind = FRAME_LINE;
static const char *cmd;          /* COMMAND, for messages */

/* ---- children: start, signals, timeout, reaping ---- */

struct kid {
	pid_t pid;
	int wstatus;
	bool reaped;
};
static struct kid *kids;
static int nkids, nreaped;
static int tstage;      /* timeout: 0 not yet, 1 SIGTERM sent, 2 SIGKILL */
static int got_sig;     /* a terminating signal we received */
static int first_fail;  /* status of the first child that failed */

static void
kids_kill(int signo)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && !kids[i].reaped &&
		    kill(kids[i].pid, signo) == -1 &&
		    errno != ESRCH)
			warn("kill %d", (int)kids[i].pid);
}

/* At any exit of ours, children still running get the signal we die of
 * (blocked in a write to stdout, io.c dies of it at once), or SIGTERM
 * after an error; PR_SET_PDEATHSIG would only SIGKILL them. */
static void
kids_cleanup(void)
{
	int s = sig_caught();

	if (s != 0 && sig_caught_code() == SI_KERNEL)
		return;  /* the terminal sent it to them too */
	kids_kill(s != 0 ? s : SIGTERM);
}

/* Starts child I; exits 127/126 with a message when COMMAND cannot run,
 * which a child's own `exit 127` never prints. */
static void
kid_start(int i, struct spawn *sp, char **argv, char **env)
{
	int status;

	sp->pdeathsig = true;
	if (spawn_start(sp, argv, env, &status) == -1) {
		if (status == EXIT_FAIL)
			err(EXIT_FAIL, "fork");
		err(status, "cannot run '%s'", argv[0]);
	}
	kids[i].pid = sp->pid;
	if (verbose)
		warnx("started %s as pid %d", argv[0], (int)sp->pid);
}

static void
kids_reap(void)
{
	for (int i = 0; i < nkids; i++) {
		struct kid *k = &kids[i];
		pid_t p;

		if (k->reaped)
			continue;
		while ((p = waitpid(k->pid, &k->wstatus, WNOHANG)) == -1 &&
		    errno == EINTR)
			;
		if (p == 0)
			continue;
		if (p == -1)
			k->wstatus = EXIT_FAIL << 8;
		k->reaped = true;
		nreaped++;
		int st = spawn_status(k->wstatus);
		if (st != 0 && first_fail == 0)
			first_fail = st;
		if (verbose)
			warnx("pid %d exited with status %d", (int)k->pid, st);
	}
}

/* The terminating signal caught since the last call (and its si_code),
 * read with the signals blocked so that none arriving meanwhile is lost. */
static int
take_signal(int *code)
{
	sigset_t set, old;
	int s;

	if (sig_caught() == 0)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &old);
	s = sig_caught();
	*code = sig_caught_code();
	sig_clear();
	sigprocmask(SIG_SETMASK, &old, NULL);
	return s;
}

/* After each wake-up: forward signals, run the timeout, reap. */
static void
supervise(bool drain)
{
	int code, s;

	if (drain)
		sig_drain();
	if ((s = take_signal(&code)) != 0) {
		got_sig = s;
		/* A terminal's signal went to the whole process group, the
		 * child(ren) included: sending it again would deliver it twice. */
		if (code != SI_KERNEL)
			kids_kill(s);
		if (verbose)
			warnx("got signal %d%s", s, code == SI_KERNEL ?
			    " (the terminal sent it to the children too)" :
			    ", forwarded");
	}
	if (tstage < 2 && sig_alarmed()) {
		tstage++;
		if (verbose)
			warnx("timeout: sending %s", tstage == 1 ? "SIGTERM" :
			    "SIGKILL");
		kids_kill(tstage == 1 ? SIGTERM : SIGKILL);
		if (tstage == 1)
			sig_alarm(KILL_GRACE_NS);
	}
	if (sig_child())
		kids_reap();
}

/* Poll with the self-pipe of signals in slot 0. */
static void
wait_events(struct pollfd *pf, int n, int tmo)
{
	pf[0] = (struct pollfd){ .fd = sig_fd(), .events = POLLIN };
	if (poll(pf, (nfds_t)n, tmo) == -1 && errno != EINTR)
		err(EXIT_FAIL, "poll");
	/* The flags are set by the handlers; the self-pipe only wakes us. */
	supervise(pf[0].revents != 0);
}

/* The final status: a timeout gives 124; a child killed by the signal we
 * were sent makes us die of it too (so a calling shell script stops);
 * otherwise the first failure's status, or FALLBACK if all succeeded. */
static noreturn void
finish(int fallback)
{
	int st = first_fail ? first_fail : fallback;

	if (tstage > 0)
		exit(EXIT_TIMEOUT);
	for (int i = 0; i < nkids; i++) {
		int w = kids[i].wstatus;
		if (!WIFSIGNALED(w))
			continue;
		int s = WTERMSIG(w);
		if (got_sig != 0 && s == got_sig &&
		    (s == SIGINT || s == SIGTERM || s == SIGHUP)) {
			fflush(stderr);
			sig_die(s);
		}
		if (s != SIGPIPE && s != SIGINT && s != got_sig &&
		    spawn_status(w) == st)
			warnx("%s: killed by signal %d (%s)", cmd, s,
			    strsignal(s));
		break;
	}
	exit(st);
}

/* ---- one child ---- */

static void
single_spawn(char **argv, int *to, int *from)
{
	struct spawn sp = { .fd_in = -1, .fd_out = -1, .fd_extra = -1 };
	static char envfd[32];
	char *env[2] = { NULL, NULL };
	int a[2], b[2];

	if (conn_num >= 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == -1)
			err(EXIT_FAIL, "socketpair");
		snprintf(envfd, sizeof envfd, "IPC_FD=%d", conn_num);
		env[0] = envfd;
		sp.fd_extra = a[1];
		sp.extra_num = conn_num;
		kid_start(0, &sp, argv, env);
		close(a[1]);
		*to = *from = a[0];
	} else {
		if (pipe2(a, O_CLOEXEC) == -1 || pipe2(b, O_CLOEXEC) == -1)
			err(EXIT_FAIL, "pipe");
		/* Bigger pipes: fewer wake-ups per byte (best effort). */
		(void)fcntl(a[1], F_SETPIPE_SZ, CHILD_PIPE_SZ);
		(void)fcntl(b[1], F_SETPIPE_SZ, CHILD_PIPE_SZ);
		sp.fd_in = a[0];
		sp.fd_out = b[1];
		kid_start(0, &sp, argv, env);
		close(a[0]);
		close(b[1]);
		*to = a[1];
		*from = b[0];
	}
	if (io_nonblock(*to, true) == -1 || io_nonblock(*from, true) == -1)
		err(EXIT_FAIL, "fcntl");
}

/* What run_single's relay hook keeps between calls. */
struct single {
	int from;        /* the child's output (--fd: the connection) */
	bool draining;   /* the child exited: its output gets DRAIN_NS */
	uint64_t seen;   /* bytes of output at the last look */
	int64_t last;    /* when output last moved after the child exited */
};

/* relay_run's hook: forwards signals, runs the timeout, reaps; ends the
 * relay's directions when stdout is gone or the child has exited. */
static int64_t
single_wake(struct relay_end *a, struct relay_end *b, void *arg)
{
	struct single *s = arg;

	supervise(false);
	if (b->done && b->err != 0 && !b->read_err && b->in >= 0) {
		/* stdout is gone: the child's writes fail from now on
		 * (SIGPIPE), and it needs no more input. */
		relay_stop(a);
		if (conn_num >= 0)
			(void)shutdown(s->from, SHUT_RDWR);
		else
			close(s->from);
		b->in = -1;
	}
	if (!kids[0].reaped)
		return -1;
	/* Nobody reads stdin any more; its output may still be on its way,
	 * but a grandchild holding the pipe open does not keep us waiting
	 * for ever. */
	relay_stop(a);
	int64_t now = num_now();
	if (!s->draining || b->bytes != s->seen) {
		s->draining = true;
		s->seen = b->bytes;
		s->last = now;
	}
	if (tstage == 2 || now - s->last >= DRAIN_NS) {
		relay_stop(b);
		return -1;
	}
	return s->last + DRAIN_NS;
}

static noreturn void
run_single(char **argv)
{
	struct relay_end a, b;  /* a: stdin to the child, b: the child to stdout */
	struct single s = { .from = -1 };
	struct relay_hook hook = { single_wake, &s };
	struct pollfd pf[1];
	int to;

	single_spawn(argv, &to, &s.from);
	relay_end_init(&a, STDIN_FILENO, to);
	a.out_is_sock = conn_num >= 0;
	a.close_out = conn_num < 0;
	relay_end_init(&b, s.from, STDOUT_FILENO);
	/* A signal that came after the hook's look ends relay_run: it is
	 * forwarded, and the relay goes on. */
	while (relay_run(&a, &b, 0, false, &hook) < 0)
		supervise(false);
	while (!kids[0].reaped)  /* both directions ended before the child */
		wait_events(pf, 1, -1);
	if (conn_num >= 0)
		close(to);
	if (b.err != 0 && b.err != EPIPE && first_fail == 0)
		warnc(b.err, b.read_err ? "output of %s" : "stdout", cmd);
	if (a.err != 0 && a.read_err && first_fail == 0)
		warnc(a.err, "stdin");
	finish((b.err != 0 || (a.err != 0 && a.read_err)) ? EXIT_FAIL : 0);
}

/* ---- a pool of workers ---- */

struct worker {
	int tw, fr;            /* our ends of its stdin and stdout */
	char *wb;              /* a batch not yet all written */
	size_t woff, wlen, wcap, wmsgs;
	uint64_t taken;        /* messages handed to it */
	bool in_closed, out_done, quit, reported;
	int pin, pout;
	char prefix[24];
	struct merge_src src;  /* line output */
	struct frame_reader fo; /* framed output */
};

static struct worker *wk;
static struct frame_reader rin;     /* stdin */
static bool in_starved;             /* no whole message buffered */
static bool in_failed;              /* malformed input: stop reading */
static struct merge mg;
static struct outbuf ob;            /* framed output */
static int out_err;                 /* errno of a failed stdout */
static bool lost;                   /* a worker left messages unhandled */
static char *rq;                    /* messages back from a worker that quit */
static size_t rqlen, rqcap, rqmsgs;
static size_t rr;                   /* where the search for a ready worker starts */

static void
buf_put(char **b, size_t *len, size_t *cap, const void *d, size_t n)
{
	if (*len + n > *cap) {
		size_t nc = *cap ? *cap : POOL_BATCH;
		while (nc < *len + n)
			nc *= 2;
		char *nb = realloc(*b, nc);
		if (nb == NULL)
			err(EXIT_FAIL, "malloc");
		*b = nb;
		*cap = nc;
	}
	memcpy(*b + *len, d, n);
	*len += n;
}

/* End offset of the framed message at OFF of BUF (our own framing, so
 * well formed). */
static size_t
msg_end(const char *buf, size_t len, size_t off)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t n = 0, i = off;

	switch (kind) {
	case FRAME_LINE:
	case FRAME_NUL: {
		const char *p = memchr(buf + off, kind == FRAME_NUL ? '\0' : '\n',
		    len - off);
		return p ? (size_t)(p - buf) + 1 : len;
	}
	case FRAME_NETSTRING:
		while (i < len && buf[i] != ':')
			n = n * 10 + (size_t)(buf[i++] - '0');
		return i + 1 + n + 1;
	case FRAME_LEN32:
		for (int k = 0; k < 4; k++)
			n = (n << 8) | u[off + (size_t)k];
		if (n == 0xFFFFFFFFu) {
			n = 0;
			for (int k = 4; k < 12; k++)
				n = (n << 8) | u[off + (size_t)k];
			return off + 12 + n;
		}
		return off + 4 + n;
	}
	return len;
}

/* Says once how many messages W took that it may not have handled. */
static void
worker_report(int w, const char *why)
{
	struct worker *k = &wk[w];

	/* Once our own stdout is gone, what workers did is moot. */
	if (k->reported || k->taken == 0 || out_err != 0)
		return;
	k->reported = true;
	warnx("worker %d %s; %llu message%s it took may not have been handled",
	    w, why, (unsigned long long)k->taken, k->taken == 1 ? "" : "s");
}

/* Worker W takes no more input: messages of its batch not yet begun go
 * back for the others; the ones it took are counted as maybe lost. */
static void
worker_quit(int w, const char *why)
{
	struct worker *k = &wk[w];
	size_t off = 0, back = 0;

	if (k->in_closed)
		return;
	k->in_closed = k->quit = true;
	close(k->tw);
	while (off < k->wlen && off < k->woff)
		off = msg_end(k->wb, k->wlen, off);
	for (size_t o = off; o < k->wlen; o = msg_end(k->wb, k->wlen, o))
		back++;
	if (back > 0) {
		buf_put(&rq, &rqlen, &rqcap, k->wb + off, k->wlen - off);
		rqmsgs += back;
		k->taken -= back;
	}
	k->woff = k->wlen = k->wmsgs = 0;
	if (k->taken > 0)
		lost = true;
	worker_report(w, why);
}

static bool
input_more(void)
{
	return rqlen > 0 || (!in_failed && frame_pending(&rin) > 0 &&
	    !in_starved);
}

static bool
input_done(void)
{
	return rqlen == 0 && (in_failed || (rin.eof && frame_pending(&rin) == 0));
}

/* Occurrences of D in P[0..LEN), eight bytes at a time: counting the
 * lines of every batch must cost little next to the workers' work. */
static size_t
count_byte(const char *p, size_t len, unsigned char d)
{
	const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7f7f7f7f7f7f7f7fULL;
	size_t n = 0, i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		x ^= ones * d;  /* bytes equal to D are now zero */
		uint64_t t = ((x & low7) + low7) | x;
		n += (size_t)__builtin_popcountll(~t & ~low7);
	}
	for (; i < len; i++)
		n += (unsigned char)p[i] == d;
	return n;
}

/* How many bytes of messages one worker gets at once: up to POOL_BATCH
 * (few writes when input abounds), but no more than its share of what
 * is buffered, so a short input is spread over the workers instead of
 * going all to the first. */
static size_t share_div = 1;  /* ready workers not yet served this round */

static size_t
batch_limit(void)
{
	size_t share = frame_pending(&rin) / share_div;

	return share < POOL_BATCH ? (share ? share : 1) : POOL_BATCH;
}

/* Whole lines (or NUL messages) at the head of the input, up to about
 * batch_limit() bytes but never fewer than one. Returns their length. */
static size_t
batch_delim(size_t *msgs, bool *add_delim)
{
	char d = kind == FRAME_NUL ? '\0' : '\n';
	char *p = rin.buf + rin.start;
	size_t have = frame_pending(&rin);
	size_t want = batch_limit();
	size_t lim = have < want ? have : want;
	char *e = memrchr(p, d, lim);

	*add_delim = false;
	if (e == NULL && have > lim)
		e = memchr(p + lim, d, have - lim);
	if (e == NULL) {
		if (!rin.eof)
			return 0;
		*add_delim = true;  /* a last message without its terminator */
		*msgs = 1;
		return have;
	}
	size_t len = (size_t)(e - p) + 1;

	*msgs = count_byte(p, len, (unsigned char)d);
	return len;
}

/* Hands worker W a batch of whole messages and writes what the pipe
 * takes now; the rest stays with W (never split between workers). */
static void
worker_feed(int w)
{
	struct worker *k = &wk[w];
	const char *data;
	size_t len, msgs = 0;
	bool add = false;

	if (rqlen > 0) {
		/* Swap the returned messages in as W's batch. */
		char *t = k->wb;
		size_t tc = k->wcap;
		k->wb = rq, k->wcap = rqcap, k->wlen = rqlen;
		k->wmsgs = rqmsgs, k->woff = 0;
		rq = t, rqcap = tc, rqlen = rqmsgs = 0;
		k->taken += k->wmsgs;
		return;
	}
	if (kind == FRAME_LINE || kind == FRAME_NUL) {
		len = batch_delim(&msgs, &add);
		if (len == 0) {
			in_starved = true;
			return;
		}
		data = rin.buf + rin.start;
		rin.start += len;
		rin.scan = rin.start;
	} else {
		char *m, hdr[16];
		const char *tr;
		size_t ml, tl;
		int rc = 0;

		k->wlen = 0;
		size_t want = batch_limit();
		while (k->wlen < want && (rc = frame_next(&rin, &m, &ml)) == 1) {
			size_t hl = frame_header(kind, ml, hdr, &tr, &tl);
			buf_put(&k->wb, &k->wlen, &k->wcap, hdr, hl);
			buf_put(&k->wb, &k->wlen, &k->wcap, m, ml);
			buf_put(&k->wb, &k->wlen, &k->wcap, tr, tl);
			msgs++;
		}
		if (msgs == 0 && rc == -1) {
			warn("stdin");
			in_failed = true;
		}
		if (msgs == 0) {
			in_starved = !in_failed;
			return;
		}
		k->woff = 0, k->wmsgs = msgs, k->taken += msgs;
		return;
	}
	k->taken += msgs;
	/* Straight from the input buffer: most batches are never copied. */
	ssize_t n = write(k->tw, data, len);
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		k->woff = 0, k->wlen = 0, k->wmsgs = msgs;
		buf_put(&k->wb, &k->wlen, &k->wcap, data, len);
		if (add)
			buf_put(&k->wb, &k->wlen, &k->wcap,
			    kind == FRAME_NUL ? "" : "\n", 1);
		worker_quit(w, "closed its input");
		return;
	}
	size_t done = n > 0 ? (size_t)n : 0;
	k->woff = 0, k->wlen = 0, k->wmsgs = msgs;
	if (done == len && !add)
		return;
	/* The whole batch, with WOFF where writing stopped: should W quit,
	 * worker_quit must know where the messages begin. */
	buf_put(&k->wb, &k->wlen, &k->wcap, data, len);
	if (add)
		buf_put(&k->wb, &k->wlen, &k->wcap, kind == FRAME_NUL ? "" : "\n", 1);
	k->woff = done;
}

/* Writes the rest of W's batch. */
static void
worker_push(int w)
{
	struct worker *k = &wk[w];
	ssize_t n = write(k->tw, k->wb + k->woff, k->wlen - k->woff);

	if (n > 0) {
		k->woff += (size_t)n;
		if (k->woff == k->wlen)
			k->woff = k->wlen = k->wmsgs = 0;
	} else if (n == -1 && errno != EAGAIN && errno != EINTR)
		worker_quit(w, "closed its input");
}

/* Framed output of W: each whole message goes out with W's tag. */
static int
worker_frames(int w)
{
	struct worker *k = &wk[w];
	char *m;
	size_t ml, pl = tag ? strlen(k->prefix) : 0;
	int rc;

	while ((rc = frame_next(&k->fo, &m, &ml)) == 1)
		if (frame_put(&ob, kind, k->prefix, pl, m, ml) == -1)
			return -1;
	if (rc == -1 && errno != EAGAIN) {
		warn("output of worker %d", w);
		k->fo.start = k->fo.end;  /* drop the malformed rest */
		if (first_fail == 0)
			first_fail = EXIT_FAIL;
	}
	return ob_flush(&ob);
}

/* W's output is readable: merge it onto stdout. */
static void
worker_pull(int w)
{
	struct worker *k = &wk[w];
	static char buf[64 * 1024];
	ssize_t n;
	int rc = 0;

	if (kind == FRAME_LINE) {
		n = read(k->fr, buf, sizeof buf);
		if (n > 0)
			rc = merge_feed(&mg, &k->src, buf, (size_t)n);
		else if (n == 0)
			rc = merge_end(&mg, &k->src);
	} else {
		n = frame_fill(&k->fo);
		if (n >= 0)
			rc = worker_frames(w);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (rc == -1 && out_err == 0) {
		out_err = errno;
		/* Nobody reads our output: workers die of SIGPIPE on their
		 * next write, and get no more input. */
		in_failed = true;
		for (int i = 0; i < nkids; i++)
			if (!wk[i].out_done) {
				wk[i].out_done = true;
				close(wk[i].fr);
			}
		return;
	}
	if (n <= 0) {
		if (n == -1)
			warn("output of worker %d", w);
		k->out_done = true;
		close(k->fr);
	}
}

static void
pool_spawn(char **argv)
{
	wk = calloc((size_t)nkids, sizeof *wk);
	if (wk == NULL)
		err(EXIT_FAIL, "malloc");
	for (int i = 0; i < nkids; i++) {
		struct spawn sp = { .fd_extra = -1 };
		char env[32], *envv[2] = { env, NULL };
		int a[2], b[2];

		snprintf(env, sizeof env, "IPC_WORKER=%d", i);
		if (pipe2(a, O_CLOEXEC) == -1 || pipe2(b, O_CLOEXEC) == -1)
			err(EXIT_FAIL, "pipe");
		(void)fcntl(a[1], F_SETPIPE_SZ, POOL_PIPE_SZ);  /* best effort */
		sp.fd_in = a[0];
		sp.fd_out = b[1];
		kid_start(i, &sp, argv, envv);
		close(a[0]);
		close(b[1]);
		wk[i].tw = a[1];
		wk[i].fr = b[0];
		if (io_nonblock(a[1], true) == -1 || io_nonblock(b[0], true) == -1)
			err(EXIT_FAIL, "fcntl");
		snprintf(wk[i].prefix, sizeof wk[i].prefix, "%d\t", i);
		merge_src_init(&wk[i].src, tag ? wk[i].prefix : NULL);
		frame_reader_init(&wk[i].fo, b[0], kind, 0);
	}
}

/* The workers do the work; we only hand bytes between pipes. Were every
 * worker's write to its output pipe to wake us at once, we would preempt a
 * worker for each few KiB and pay two context switches each time (9,000
 * for 2,000,000 short lines). As SCHED_BATCH we wait for the worker's
 * time slice to end or for it to block, and find its pipe fuller: a
 * seventh of the switches. On an idle CPU we run at once as before. The
 * workers were started before this, with the policy we were given. */
static void
dispatcher_batch(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (sched_getscheduler(0) == SCHED_OTHER &&
	    sched_setscheduler(0, SCHED_BATCH, &sp) == -1 && verbose)
		warn("SCHED_BATCH");
}

/* Input side of the poll set; returns the new count. */
static int
pool_poll_in(struct pollfd *pf, int n, int *pin)
{
	bool more = input_more();
	int ready = 0;

	*pin = -1;
	for (int i = 0; i < nkids; i++) {
		struct worker *k = &wk[i];
		k->pout = -1;
		if (k->in_closed)
			continue;
		ready++;
		bool want = k->wlen > 0 || more;
		pf[n] = (struct pollfd){ .fd = k->tw, .events = want ? POLLOUT : 0 };
		k->pout = n++;
	}
	if (ready > 0 && !in_failed && !rin.eof &&
	    (in_starved || frame_pending(&rin) < POOL_INPUT_HIGH)) {
		pf[n] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		*pin = n++;
	}
	return n;
}

/* After poll: read stdin, feed the ready workers, close inputs at EOF. */
static void
pool_dispatch(struct pollfd *pf, int pin)
{
	if (pin >= 0 && pf[pin].revents != 0) {
		ssize_t r = frame_fill(&rin);
		if (r > 0 || r == 0)
			in_starved = false;
		else if (errno != EAGAIN && errno != EINTR) {
			warn("stdin");
			in_failed = true;
		}
	}
	size_t ready = 0;
	for (int i = 0; i < nkids; i++)
		ready += wk[i].pout >= 0 && !wk[i].in_closed && wk[i].wlen == 0 &&
		    (pf[wk[i].pout].revents & POLLOUT);
	size_t start = rr;
	for (int j = 0; j < nkids; j++) {
		int i = (int)((start + (size_t)j) % (size_t)nkids);
		struct worker *k = &wk[i];
		if (k->pout < 0 || k->in_closed || pf[k->pout].revents == 0)
			continue;
		if (pf[k->pout].revents & POLLERR) {
			worker_quit(i, "closed its input");
			continue;
		}
		if (k->wlen == 0 && input_more()) {
			/* The ready workers share what is buffered evenly. */
			share_div = ready > 1 ? ready-- : 1;
			worker_feed(i);
		}
		if (!k->in_closed && k->wlen > 0)
			worker_push(i);
		rr = (size_t)i + 1;
	}
	if (!input_done())
		return;
	/* Only when every batch is out: a worker that quits with part of
	 * its batch unwritten hands it back, and someone must take it. */
	for (int i = 0; i < nkids; i++)
		if (!wk[i].in_closed && wk[i].wlen > 0)
			return;
	for (int i = 0; i < nkids; i++)
		if (!wk[i].in_closed) {
			wk[i].in_closed = true;
			close(wk[i].tw);
		}
}

/* Workers that exited while still owed input quit; all gone with input
 * left means that input cannot be handled. */
static void
pool_check_kids(void)
{
	int alive = 0;

	for (int i = 0; i < nkids; i++) {
		int st = spawn_status(kids[i].wstatus);
		if (kids[i].reaped && (!wk[i].in_closed || st != 0) &&
		    !wk[i].reported) {
			char why[64];
			snprintf(why, sizeof why, "exited with status %d", st);
			if (!wk[i].in_closed)
				worker_quit(i, why);
			else
				worker_report(i, why);
		}
		if (!wk[i].in_closed)
			alive++;
	}
	if (alive == 0 && !input_done() && !in_failed) {
		warnx("no worker left: the rest of the input was not handled");
		in_failed = true;
		lost = true;
	}
}

static noreturn void
run_pool(char **argv)
{
	struct pollfd *pf;
	int64_t last = 0;

	kids = calloc((size_t)nkids, sizeof *kids);
	pf = calloc((size_t)nkids * 2 + 2, sizeof *pf);
	if (kids == NULL || pf == NULL)
		err(EXIT_FAIL, "malloc");
	frame_reader_init(&rin, STDIN_FILENO, kind, 0);
	merge_init(&mg, STDOUT_FILENO, 0);
	ob_init(&ob, STDOUT_FILENO, 0);
	pool_spawn(argv);
	dispatcher_batch();
	for (;;) {
		int n = 1, pin, tmo = -1, open = 0;

		pool_check_kids();
		for (int i = 0; i < nkids; i++)
			open += !wk[i].out_done;
		if (nreaped == nkids) {
			if (last == 0)
				last = num_now();
			int64_t left = last + DRAIN_NS - num_now();
			if (open == 0 || tstage == 2 || left <= 0)
				break;
			tmo = (int)(left / 1000000 + 1);
		}
		n = pool_poll_in(pf, n, &pin);
		for (int i = 0; i < nkids; i++) {
			wk[i].pin = -1;
			if (!wk[i].out_done) {
				pf[n] = (struct pollfd){ .fd = wk[i].fr, .events = POLLIN };
				wk[i].pin = n++;
			}
		}
		wait_events(pf, n, tmo);
		for (int i = 0; i < nkids; i++)
			if (wk[i].pin >= 0 && !wk[i].out_done &&
			    pf[wk[i].pin].revents != 0) {
				worker_pull(i);
				last = num_now();
			}
		pool_dispatch(pf, pin);
	}
	if (out_err != 0 && out_err != EPIPE)
		warnc(out_err, "stdout");
	finish(out_err != 0 || lost || in_failed ? EXIT_FAIL : 0);
}

/* ---- main ---- */

static void
parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fd", required_argument, NULL, OPT_FD },
		{ "jobs", required_argument, NULL, 'j' },
		{ "tag", no_argument, NULL, OPT_TAG },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		FRAME_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+0j:t:vhV", longopts, NULL)) != -1) {
		if (frame_opt(c, &kind)) {
			framed = true;
			continue;
		}
		switch (c) {
		case OPT_FD: conn_num = (int)num_parse(optarg, 0, 1023, "--fd"); break;
		case 'j': jobs = (long)num_parse(optarg, 1, 1024, "-j"); break;
		case OPT_TAG: tag = true; break;
		case 't': timeout_ns = num_duration(optarg, "-t"); break;
		case 'v': verbose++; break;
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		default: cli_usage(SYNOPSIS);
		}
	}
	if (optind >= argc)
		cli_usage_err("COMMAND missing (see --help)");
	if (conn_num >= 0 && (jobs > 0 || tag || framed))
		cli_usage_err("--fd runs one child: not with -j, --tag or framing");
	if ((tag || framed) && jobs == 0)
		jobs = 1;
}

/* Terminating signals we were started with ignored (nohup, a background
 * job of a script): looked at before cli_init installs its handlers. */
static sigset_t
ignored_at_start(void)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM };
	struct sigaction o;
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], NULL, &o) == 0 &&
		    !(o.sa_flags & SA_SIGINFO) && o.sa_handler == SIG_IGN)
			sigaddset(&set, sigs[i]);
	return set;
}

int
main(int argc, char **argv)
{
	sigset_t ign = ignored_at_start();

	cli_init(argc, argv);
	/* They stay ignored, here and (lib/spawn.c) in the children: a
	 * Ctrl-C meant for the script's foreground must not end them. */
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&ign, s) == 1)
			signal(s, SIG_IGN);
	parse(argc, argv);
	argv += optind;
	cmd = argv[0];
	sig_cleanup(kids_cleanup);
	if (timeout_ns >= 0)
		sig_alarm(timeout_ns > 0 ? timeout_ns : 1);
	if (jobs > 0) {
		nkids = (int)jobs;
		run_pool(argv);
	}
	nkids = 1;
	kids = calloc(1, sizeof *kids);
	if (kids == NULL)
		err(EXIT_FAIL, "malloc");
	run_single(argv);
}
