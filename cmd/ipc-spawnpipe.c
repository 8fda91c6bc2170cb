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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <err.h>

#include "ipc-spawnpipe/spawnpipe.h"

#define SYNOPSIS \
	"ipc-spawnpipe [-v] [-t DUR] [--fd FD] -- COMMAND [ARG...]\n" \
	"ipc-spawnpipe [-v] [-t DUR] -j N [--tag] [-0 | --netstring | --len32]\n" \
	"    [--max-message SIZE] -- COMMAND [ARG...]"

#define HELP \
	"usage: ipc-spawnpipe [-v] [-t DUR] [--fd FD] -- COMMAND [ARG...]\n" \
	"       ipc-spawnpipe [-v] [-t DUR] -j N [--tag] [-0 | --netstring | --len32]\n" \
	"           [--max-message SIZE] -- COMMAND [ARG...]\n" \
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
	"      --max-message SIZE  largest message in or out of the pool (64M)\n" \
	"  -t, --timeout DUR   SIGTERM the child(ren) after DUR, SIGKILL 2s\n" \
	"                      later, exit 124\n" \
	"  -v, --verbose       say what happens on stderr\n" \
	"  -h, --help          this help\n" \
	"  -V, --version       print the version\n"

#define CHILD_PIPE_SZ (1 << 20)    /* single child: fewer wake-ups */

enum { OPT_FD = 0x100, OPT_TAG, OPT_MAX_MESSAGE };

int sp_verbose;                   /* -v */
bool sp_tag;                      /* --tag */
enum frame_kind sp_kind = FRAME_LINE;
const char *sp_cmd;               /* COMMAND, for messages */
size_t sp_max_msg;                /* --max-message; 0: FRAME_MAX_DEFAULT */
static int64_t timeout_ns = -1;  /* -t, -1: none */
static int conn_num = -1;        /* --fd */
static long jobs;                /* -j, 0: one child, bytes unchanged */
static bool framed;              /* a framing option was given */

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
		sp_kid_start(0, &sp, argv, env);
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
		sp_kid_start(0, &sp, argv, env);
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

	sp_supervise(false);
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
	if (b->reset)  /* --fd: the child closed it with our input unread */
		relay_stop(a);
	if (!sp_kids[0].reaped)
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
	if (sp_tstage == 2 || now - s->last >= DRAIN_NS) {
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
	/* A child that closes its end of a socketpair with input unread
	 * makes our reads fail with ECONNRESET (after all it wrote): its
	 * choice, as closing a pipe early is in pipe mode, not an error. */
	b.reset_eof = conn_num >= 0;
	/* A signal that came after the hook's look ends relay_run: it is
	 * forwarded, and the relay goes on. */
	while (relay_run(&a, &b, 0, false, &hook) < 0)
		sp_supervise(false);
	while (!sp_kids[0].reaped)  /* both directions ended before the child */
		sp_wait_events(pf, 1, -1);
	if (conn_num >= 0)
		close(to);
	if (b.err != 0 && b.err != EPIPE && sp_first_fail == 0)
		warnc(b.err, b.read_err ? "output of %s" : "stdout", sp_cmd);
	if (a.err != 0 && a.read_err && sp_first_fail == 0)
		warnc(a.err, "stdin");
	sp_finish((b.err != 0 || (a.err != 0 && a.read_err)) ? EXIT_FAIL : 0);
}

/* ---- main ---- */

static void
parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fd", required_argument, NULL, OPT_FD },
		{ "jobs", required_argument, NULL, 'j' },
		{ "tag", no_argument, NULL, OPT_TAG },
		{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
		{ "timeout", required_argument, NULL, 't' },
		CLI_LONGOPTS,
		FRAME_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+0j:t:vhV", longopts, NULL)) != -1) {
		if (frame_opt(c, &sp_kind)) {
			framed = true;
			continue;
		}
		switch (c) {
		case OPT_FD: conn_num = (int)num_parse(optarg, 0, 1023, "--fd"); break;
		case 'j': jobs = (long)num_parse(optarg, 1, 1024, "-j"); break;
		case OPT_TAG: sp_tag = true; break;
		case OPT_MAX_MESSAGE:
			sp_max_msg = num_size(optarg, 1, (uint64_t)1 << 40,
			    "--max-message");
			break;
		case 't': timeout_ns = num_duration(optarg, "-t"); break;
		case 'v': sp_verbose++; break;
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		default: cli_usage(SYNOPSIS);
		}
	}
	if (optind >= argc)
		cli_usage_err("COMMAND missing (see --help)");
	if (conn_num >= 0 && (jobs > 0 || sp_tag || framed))
		cli_usage_err("--fd runs one child: not with -j, --tag or framing");
	if (sp_max_msg && jobs == 0 && !sp_tag && !framed)
		cli_usage_err("--max-message bounds the messages of a pool: "
		    "give -j, --tag or a framing option too");
	if (conn_num >= 0 && sp_max_msg)
		cli_usage_err("--fd runs one child: not with --max-message");
	if ((sp_tag || framed) && jobs == 0)
		jobs = 1;
}

int
main(int argc, char **argv)
{
	cli_init(argc, argv);
	parse(argc, argv);
	argv += optind;
	sp_cmd = argv[0];
	if (timeout_ns >= 0)
		sig_alarm(timeout_ns > 0 ? timeout_ns : 1);
	if (jobs > 0)
		pool_run(argv, (int)jobs);
	sp_kids_init(1);
	run_single(argv);
}
