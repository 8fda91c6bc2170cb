/* ipc-spawnpipe's pool (-j N): the workers started, the loop that waits
 * on them, and their output merged onto stdout line-atomically (or as
 * whole framed messages). dispatch.c hands them their input. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "spawnpipe.h"

/* Workers' input pipes: what a slow worker holds beyond what it reads is
 * this and one batch. 128 KiB, with batches of as much, lets a worker read
 * on for a few ms while the dispatcher (SCHED_BATCH) waits its turn: seq
 * 2000000 through -j 2 of awk took 20% less time than with 16 KiB. */
#define POOL_PIPE_SZ (128 * 1024)

/* Framed output of W: each whole message goes out with W's tag. */
static int
worker_frames(struct spawnpipe *ctx, int w)
{
	struct worker *k = &ctx->wk[w];
	char *m;
	size_t ml, pl = ctx->tag ? strlen(k->prefix) : 0;
	int rc;

	while ((rc = frame_next(&k->fo, &m, &ml)) == 1)
		if (frame_put(&ctx->ob, ctx->kind, k->prefix, pl, m, ml) == -1)
			return -1;
	if (rc == -1 && errno != EAGAIN) {
		int e = errno;
		warnx("output of worker %d: %s%s", w, frame_strerror(&k->fo, e),
		    e == EMSGSIZE ? " (--max-message raises it)" : "");
		k->fo.start = k->fo.end;  /* drop the malformed rest */
		if (ctx->first_fail == 0)
			ctx->first_fail = EXIT_FAIL;
	}
	return ob_flush(&ctx->ob);
}

/* W's output is readable: merge it onto stdout. */
static void
worker_pull(struct spawnpipe *ctx, int w)
{
	struct worker *k = &ctx->wk[w];
	static char buf[64 * 1024];
	ssize_t n;
	int rc = 0;

	if (ctx->kind == FRAME_LINE) {
		n = read(k->fr, buf, sizeof buf);
		if (n > 0)
			rc = merge_feed(&ctx->mg, &k->src, buf, (size_t)n);
		else if (n == 0)
			rc = merge_end(&ctx->mg, &k->src);
	} else {
		n = frame_fill(&k->fo);
		if (n >= 0)
			rc = worker_frames(ctx, w);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (rc == -1 && ctx->out_err == 0) {
		ctx->out_err = errno;
		/* Nobody reads our output: workers die of SIGPIPE on their
		 * next write, and get no more input. */
		ctx->in_failed = true;
		for (int i = 0; i < ctx->nkids; i++)
			if (!ctx->wk[i].out_done) {
				ctx->wk[i].out_done = true;
				close(ctx->wk[i].fr);
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
pool_spawn(struct spawnpipe *ctx, char **argv)
{
	ctx->wk = calloc((size_t)ctx->nkids, sizeof *ctx->wk);
	if (ctx->wk == NULL)
		err(EXIT_FAIL, "malloc");
	for (int i = 0; i < ctx->nkids; i++) {
		struct spawn sp = { .fd_extra = -1 };
		char env[32], *envv[2] = { env, NULL };
		int a[2], b[2];

		snprintf(env, sizeof env, "IPC_WORKER=%d", i);
		if (pipe2(a, O_CLOEXEC) == -1 || pipe2(b, O_CLOEXEC) == -1)
			err(EXIT_FAIL, "pipe");
		(void)fcntl(a[1], F_SETPIPE_SZ, POOL_PIPE_SZ);  /* best effort */
		sp.fd_in = a[0];
		sp.fd_out = b[1];
		sp_kid_start(ctx, i, &sp, argv, envv);
		close(a[0]);
		close(b[1]);
		ctx->wk[i].tw = a[1];
		ctx->wk[i].fr = b[0];
		if (io_nonblock(a[1], true) == -1 || io_nonblock(b[0], true) == -1)
			err(EXIT_FAIL, "fcntl");
		snprintf(ctx->wk[i].prefix, sizeof ctx->wk[i].prefix, "%d\t", i);
		merge_src_init(&ctx->wk[i].src, ctx->tag ? ctx->wk[i].prefix : NULL);
		frame_reader_init(&ctx->wk[i].fo, b[0], ctx->kind, ctx->max_msg);
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
dispatcher_batch(struct spawnpipe *ctx)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (sched_getscheduler(0) == SCHED_OTHER &&
	    sched_setscheduler(0, SCHED_BATCH, &sp) == -1 && ctx->verbose)
		warn("SCHED_BATCH");
}

/* Workers that exited while still owed input quit; all gone with input
 * left means that input cannot be handled. */
static void
pool_check_kids(struct spawnpipe *ctx)
{
	int alive = 0;

	for (int i = 0; i < ctx->nkids; i++) {
		int st = spawn_status(ctx->kids[i].wstatus);
		if (ctx->kids[i].reaped && (!ctx->wk[i].in_closed || st != 0) &&
		    !ctx->wk[i].reported) {
			char why[64];
			snprintf(why, sizeof why, "exited with status %d", st);
			if (!ctx->wk[i].in_closed)
				pool_worker_quit(ctx, i, why);
			else
				pool_worker_report(ctx, i, why);
		}
		if (!ctx->wk[i].in_closed)
			alive++;
	}
	if (alive == 0 && !pool_input_done(ctx) && !ctx->in_failed) {
		warnx("no worker left: the rest of the input was not handled");
		ctx->in_failed = true;
		ctx->lost = true;
	}
}

noreturn void
pool_run(struct spawnpipe *ctx, char **argv, int workers)
{
	struct pollfd *pf;
	int64_t last = 0;

	sp_kids_init(ctx, workers);
	pf = calloc((size_t)workers * 2 + 2, sizeof *pf);
	if (pf == NULL)
		err(EXIT_FAIL, "malloc");
	frame_reader_init(&ctx->in, STDIN_FILENO, ctx->kind, ctx->max_msg);
	merge_init(&ctx->mg, STDOUT_FILENO, 0);
	ob_init(&ctx->ob, STDOUT_FILENO, 0);
	pool_spawn(ctx, argv);
	dispatcher_batch(ctx);
	for (;;) {
		int n = 1, pin, tmo = -1, open = 0;

		pool_check_kids(ctx);
		for (int i = 0; i < ctx->nkids; i++)
			open += !ctx->wk[i].out_done;
		if (ctx->nreaped == ctx->nkids) {
			if (last == 0)
				last = num_now();
			int64_t left = last + DRAIN_NS - num_now();
			if (open == 0 || ctx->tstage == 2 || left <= 0)
				break;
			tmo = (int)(left / 1000000 + 1);
		}
		n = pool_poll_in(ctx, pf, n, &pin);
		for (int i = 0; i < ctx->nkids; i++) {
			ctx->wk[i].pin = -1;
			if (!ctx->wk[i].out_done) {
				pf[n] = (struct pollfd){ .fd = ctx->wk[i].fr, .events = POLLIN };
				ctx->wk[i].pin = n++;
			}
		}
		sp_wait_events(ctx, pf, n, tmo);
		for (int i = 0; i < ctx->nkids; i++)
			if (ctx->wk[i].pin >= 0 && !ctx->wk[i].out_done &&
			    pf[ctx->wk[i].pin].revents != 0) {
				worker_pull(ctx, i);
				last = num_now();
			}
		pool_dispatch(ctx, pf, pin);
	}
	if (ctx->out_err != 0 && ctx->out_err != EPIPE)
		warnc(ctx->out_err, "stdout");
	sp_finish(ctx, ctx->out_err != 0 || ctx->lost || ctx->in_failed ?
	    EXIT_FAIL : 0);
}
