/* ipc-spawnpipe's parts and what they share: ipc-spawnpipe.c (options,
 * main, one child), kids.c (children started, signalled, reaped; the exit
 * status), pool.c (the -j pool: workers started, their output merged) and
 * dispatch.c (the pool's input handed to the workers). */
#ifndef SPAWNPIPE_H
#define SPAWNPIPE_H

#include <poll.h>

#include "ipc.h"

#define DRAIN_NS (1000000000LL)    /* output idle after the child(ren) exit */

struct kid {
	pid_t pid;
	int wstatus;
	bool reaped;
};

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

/* One run: its options, its children and, with -j, the pool. Made in
 * main, passed down. */
struct spawnpipe {
	/* options (ipc-spawnpipe.c) */
	int verbose;           /* -v */
	bool tag;              /* --tag */
	bool framed;           /* a framing option was given */
	enum frame_kind kind;  /* -0, --netstring, --len32 */
	size_t max_msg;        /* --max-message; 0: the default */
	int64_t timeout;       /* -t, ns; -1: none */
	int conn_num;          /* --fd; -1: pipes */
	int jobs;              /* -j; 0: one child, bytes unchanged */
	const char *cmd;       /* COMMAND, for messages */

	/* children (kids.c) */
	struct kid *kids;
	int nkids, nreaped;
	int tstage;      /* timeout: 0 not yet, 1 SIGTERM sent, 2 SIGKILL */
	int first_fail;  /* status of the first child that failed */
	int got_sig;     /* a terminating signal we received */

	/* the pool (pool.c) */
	struct worker *wk;     /* nkids of them */
	bool lost;             /* a worker left messages unhandled */
	int out_err;           /* errno of a failed stdout */
	struct merge mg;       /* line output */
	struct outbuf ob;      /* framed output */

	/* its input (dispatch.c) */
	struct frame_reader in; /* stdin */
	bool in_failed;        /* malformed input: stop reading */
	bool in_starved;       /* no whole message buffered */
	bool in_over;          /* the next line is over the limit */
	char *rq;              /* messages back from a worker that quit */
	size_t rqlen, rqcap, rqmsgs;
	size_t rr;             /* where the next search for a ready worker
	                        * starts */
	size_t share_div;      /* ready workers not yet served this round */
};

/* ---- kids.c: children ---- */

/* Room for N children, which get our signal should we exit before them. */
void sp_kids_init(struct spawnpipe *ctx, int n);
/* Starts child I; exits 127/126 with a message when COMMAND cannot run. */
void sp_kid_start(struct spawnpipe *ctx, int i, struct spawn *sp, char **argv,
    char **env);
/* After each wake-up: forward signals, run the timeout, reap. DRAIN:
 * empty the self-pipe of signals first. */
void sp_supervise(struct spawnpipe *ctx, bool drain);
/* poll(2) with the self-pipe of signals in slot 0, then sp_supervise. */
void sp_wait_events(struct spawnpipe *ctx, struct pollfd *pf, int n, int tmo);
/* Exits with the status of the run: 124 after a timeout, the signal we
 * were sent if it killed a child, the first failure, else FALLBACK. */
noreturn void sp_finish(struct spawnpipe *ctx, int fallback);

/* ---- pool.c and dispatch.c: a pool of workers ---- */

/* pool.c: runs WORKERS children of ARGV until they are done; exits. */
noreturn void pool_run(struct spawnpipe *ctx, char **argv, int workers);

/* dispatch.c */
/* Says once how many messages worker W took that it may not have handled. */
void pool_worker_report(struct spawnpipe *ctx, int w, const char *why);
/* Worker W takes no more input; what it did not begin goes to the others. */
void pool_worker_quit(struct spawnpipe *ctx, int w, const char *why);
/* All input is read and handed out (or cannot be). */
bool pool_input_done(struct spawnpipe *ctx);
/* Adds stdin and the workers' inputs to the poll set at N; returns the
 * new count, *PIN the slot of stdin or -1. */
int pool_poll_in(struct spawnpipe *ctx, struct pollfd *pf, int n, int *pin);
/* After poll: reads stdin, feeds the ready workers, closes their inputs
 * at the end. */
void pool_dispatch(struct spawnpipe *ctx, struct pollfd *pf, int pin);

#endif
