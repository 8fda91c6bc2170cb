/* ipc-spawnpipe: run COMMAND as a child connected by pipes (or by a
 * socketpair on a descriptor of its choice with --fd), relay our stdin to
 * it and its output to our stdout, and exit with its status. With -j N, a
 * pool: each input message goes whole to the first worker ready to take
 * it, and the workers' output lines are merged line-atomically.
 * Children get SIGPIPE at SIG_DFL, an empty mask, none of our descriptors
 * and PR_SET_PDEATHSIG (lib/spawn.c); our signals are forwarded to them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <err.h>

#include "ipc-spawnpipe/spawnpipe.h"

#define CHILD_PIPE_SZ (1 << 20)    /* single child: fewer wake-ups */

enum { OPT_FD = CLI_LONG, OPT_TAG, OPT_NETSTRING, OPT_LEN32, OPT_MAX_MESSAGE };

static const struct cli_opt options[] = {
	{ OPT_FD, "fd", "FD", "the connection is descriptor FD in the child (a "
	    "socketpair; IPC_FD=FD), its stdin /dev/null", NULL },
	{ 'j', "jobs", "N", "a pool of N children (IPC_WORKER=0..N-1): each "
	    "input message goes whole to one ready child", NULL },
	{ OPT_TAG, "tag", NULL, "prefix each output line with the worker "
	    "number", NULL },
	{ '0', "null", NULL, "messages end with NUL, not newline", NULL },
	{ OPT_NETSTRING, "netstring", NULL, "messages are netstrings "
	    "(5:hello,)", NULL },
	{ OPT_LEN32, "len32", NULL, "messages have a 4-byte big-endian length",
	    NULL },
	{ OPT_MAX_MESSAGE, "max-message", "SIZE", "largest message in or out "
	    "of the pool (64M)", NULL },
	{ 't', "timeout", "DUR", "SIGTERM the child(ren) after DUR, SIGKILL 2s "
	    "later, exit 124", NULL },
	CLI_OPT_VERBOSE("say what starts, what ends and which signals came"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb operands[] = {
	{ NULL, "-- COMMAND [ARG...]", NULL, 0, 0, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "Run COMMAND (no shell) connected by pipes: stdin goes to it, "
	    "its output to stdout; the exit status is its own (127 not found, "
	    "126 cannot run). With -j, --tag or a framing option, a pool.",
	.verbs = operands,
	.opts = options,
	.command = true,
};

/* ---- one child ---- */

static void
single_spawn(struct spawnpipe *ctx, char **argv, int *to, int *from)
{
	struct spawn sp = { .fd_in = -1, .fd_out = -1, .fd_extra = -1 };
	static char envfd[32];
	char *env[2] = { NULL, NULL };
	int a[2], b[2];

	if (ctx->conn_num >= 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) == -1)
			err(EXIT_FAIL, "socketpair");
		snprintf(envfd, sizeof envfd, "IPC_FD=%d", ctx->conn_num);
		env[0] = envfd;
		sp.fd_extra = a[1];
		sp.extra_num = ctx->conn_num;
		sp_kid_start(ctx, 0, &sp, argv, env);
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
		sp_kid_start(ctx, 0, &sp, argv, env);
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
	struct spawnpipe *ctx;
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
	struct spawnpipe *ctx = s->ctx;

	sp_supervise(ctx, false);
	if (b->done && b->err != 0 && !b->read_err && b->in >= 0) {
		/* stdout is gone: the child's writes fail from now on
		 * (SIGPIPE), and it needs no more input. */
		relay_stop(a);
		if (ctx->conn_num >= 0)
			(void)shutdown(s->from, SHUT_RDWR);
		else
			close(s->from);
		b->in = -1;
	}
	if (b->reset)  /* --fd: the child closed it with our input unread */
		relay_stop(a);
	if (!ctx->kids[0].reaped)
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
	if (ctx->tstage == 2 || now - s->last >= DRAIN_NS) {
		relay_stop(b);
		return -1;
	}
	return s->last + DRAIN_NS;
}

static noreturn void
run_single(struct spawnpipe *ctx, char **argv)
{
	struct relay_end a, b;  /* a: stdin to the child, b: the child to stdout */
	struct single s = { .ctx = ctx, .from = -1 };
	struct relay_hook hook = { single_wake, &s };
	struct pollfd pf[1];
	int to;

	single_spawn(ctx, argv, &to, &s.from);
	relay_end_init(&a, STDIN_FILENO, to);
	a.out_is_sock = ctx->conn_num >= 0;
	a.close_out = ctx->conn_num < 0;
	relay_end_init(&b, s.from, STDOUT_FILENO);
	/* A child that closes its end of a socketpair with input unread
	 * makes our reads fail with ECONNRESET (after all it wrote): its
	 * choice, as closing a pipe early is in pipe mode, not an error. */
	b.reset_eof = ctx->conn_num >= 0;
	/* A signal that came after the hook's look ends relay_run: it is
	 * forwarded, and the relay goes on. */
	while (relay_run(&a, &b, -1, false, &hook) < 0)
		sp_supervise(ctx, false);
	while (!ctx->kids[0].reaped)  /* both directions ended before the child */
		sp_wait_events(ctx, pf, 1, -1);
	if (ctx->conn_num >= 0)
		close(to);
	if (b.err != 0 && b.err != EPIPE && ctx->first_fail == 0)
		warnc(b.err, b.read_err ? "output of %s" : "stdout", ctx->cmd);
	if (a.err != 0 && a.read_err && ctx->first_fail == 0)
		warnc(a.err, "stdin");
	sp_finish(ctx, (b.err != 0 || (a.err != 0 && a.read_err)) ? EXIT_FAIL : 0);
}

/* ---- main ---- */

/* The options into CTX; returns COMMAND [ARG...]. */
static char **
parse(struct spawnpipe *ctx, int argc, char **argv)
{
	struct cli c;
	int o;

	cli_start(&c, &tool, argc, argv);
	while ((o = cli_next(&c)) != 0) {
		switch (o) {
		case OPT_FD: ctx->conn_num = (int)cli_number(&c, 0, 1023); break;
		case 'j': ctx->jobs = (int)cli_number(&c, 1, 1024); break;
		case OPT_TAG: ctx->tag = true; break;
		case '0': ctx->kind = FRAME_NUL, ctx->framed = true; break;
		case OPT_NETSTRING:
			ctx->kind = FRAME_NETSTRING, ctx->framed = true;
			break;
		case OPT_LEN32: ctx->kind = FRAME_LEN32, ctx->framed = true; break;
		case OPT_MAX_MESSAGE:
			ctx->max_msg = cli_size(&c, 1, (uint64_t)1 << 40);
			break;
		case 't': ctx->timeout = cli_duration(&c); break;
		case 'v': ctx->verbose++; break;
		}
	}
	if (c.cmd == NULL)
		cli_fail(&c, "COMMAND missing after --");
	if (ctx->conn_num >= 0 && (ctx->jobs > 0 || ctx->tag || ctx->framed))
		cli_usage_err("--fd runs one child: not with -j, --tag or framing");
	if (ctx->max_msg && ctx->jobs == 0 && !ctx->tag && !ctx->framed)
		cli_usage_err("--max-message bounds the messages of a pool: "
		    "give -j, --tag or a framing option too");
	if (ctx->conn_num >= 0 && ctx->max_msg)
		cli_usage_err("--fd runs one child: not with --max-message");
	if ((ctx->tag || ctx->framed) && ctx->jobs == 0)
		ctx->jobs = 1;
	return c.cmd;
}

int
main(int argc, char **argv)
{
	/* Static: the cleanup at exit may run after main has returned. */
	static struct spawnpipe run = { .kind = FRAME_LINE, .timeout = -1,
	    .conn_num = -1, .share_div = 1 };
	struct spawnpipe *ctx = &run;

	cli_init(argc, argv);
	argv = parse(ctx, argc, argv);
	ctx->cmd = argv[0];
	if (ctx->timeout >= 0)
		sig_alarm(ctx->timeout > 0 ? ctx->timeout : 1);
	if (ctx->jobs > 0)
		pool_run(ctx, argv, ctx->jobs);
	sp_kids_init(ctx, 1);
	run_single(ctx, argv);
}
