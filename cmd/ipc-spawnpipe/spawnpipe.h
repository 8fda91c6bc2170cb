/* ipc-spawnpipe's parts and what they share: ipc-spawnpipe.c (options,
 * main, one child), kids.c (children started, signalled, reaped; the exit
 * status), pool.c (the -j pool: workers started, their output merged) and
 * dispatch.c (the pool's input handed to the workers). */
#ifndef SPAWNPIPE_H
#define SPAWNPIPE_H

#include <poll.h>

#include "ipc.h"

#define DRAIN_NS (1000000000LL)    /* output idle after the child(ren) exit */

/* ---- ipc-spawnpipe.c: options ---- */

extern int sp_verbose;              /* -v */
extern bool sp_tag;                 /* --tag */
extern enum frame_kind sp_kind;     /* -0, --netstring, --len32 */
extern const char *sp_cmd;          /* COMMAND, for messages */
extern size_t sp_max_msg;           /* --max-message; 0: the default */

/* ---- kids.c: children ---- */

struct kid {
	pid_t pid;
	int wstatus;
	bool reaped;
};
extern struct kid *sp_kids;
extern int sp_nkids, sp_nreaped;
extern int sp_tstage;      /* timeout: 0 not yet, 1 SIGTERM sent, 2 SIGKILL */
extern int sp_first_fail;  /* status of the first child that failed */

/* Room for N children, which get our signal should we exit before them. */
void sp_kids_init(int n);
/* Starts child I; exits 127/126 with a message when COMMAND cannot run. */
void sp_kid_start(int i, struct spawn *sp, char **argv, char **env);
/* After each wake-up: forward signals, run the timeout, reap. DRAIN:
 * empty the self-pipe of signals first. */
void sp_supervise(bool drain);
/* poll(2) with the self-pipe of signals in slot 0, then sp_supervise. */
void sp_wait_events(struct pollfd *pf, int n, int tmo);
/* Exits with the status of the run: 124 after a timeout, the signal we
 * were sent if it killed a child, the first failure, else FALLBACK. */
noreturn void sp_finish(int fallback);

/* ---- pool.c and dispatch.c: a pool of workers ---- */

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
extern struct worker *pool_wk;      /* sp_nkids of them */
extern struct frame_reader pool_in; /* stdin */
extern bool pool_in_failed;         /* malformed input: stop reading */
extern bool pool_lost;              /* a worker left messages unhandled */
extern int pool_out_err;            /* errno of a failed stdout */

/* pool.c: runs WORKERS children of ARGV until they are done; exits. */
noreturn void pool_run(char **argv, int workers);

/* dispatch.c */
/* Says once how many messages worker W took that it may not have handled. */
void pool_worker_report(int w, const char *why);
/* Worker W takes no more input; what it did not begin goes to the others. */
void pool_worker_quit(int w, const char *why);
/* All input is read and handed out (or cannot be). */
bool pool_input_done(void);
/* Adds stdin and the workers' inputs to the poll set at N; returns the
 * new count, *PIN the slot of stdin or -1. */
int pool_poll_in(struct pollfd *pf, int n, int *pin);
/* After poll: reads stdin, feeds the ready workers, closes their inputs
 * at the end. */
void pool_dispatch(struct pollfd *pf, int pin);

#endif
