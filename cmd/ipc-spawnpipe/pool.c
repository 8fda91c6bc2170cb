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

struct worker *pool_wk;
bool pool_lost;
int pool_out_err;
static struct merge mg;             /* line output */
static struct outbuf ob;            /* framed output */

/* Framed output of W: each whole message goes out with W's tag. */
static int
worker_frames(int w)
{
	struct worker *k = &pool_wk[w];
	char *m;
	size_t ml, pl = sp_tag ? strlen(k->prefix) : 0;
	int rc;

	while ((rc = frame_next(&k->fo, &m, &ml)) == 1)
		if (frame_put(&ob, sp_kind, k->prefix, pl, m, ml) == -1)
			return -1;
	if (rc == -1 && errno != EAGAIN) {
		int e = errno;
		warnx("output of worker %d: %s%s", w, frame_strerror(&k->fo, e),
		    e == EMSGSIZE ? " (--max-message raises it)" : "");
		k->fo.start = k->fo.end;  /* drop the malformed rest */
		if (sp_first_fail == 0)
			sp_first_fail = EXIT_FAIL;
	}
	return ob_flush(&ob);
}

/* W's output is readable: merge it onto stdout. */
static void
worker_pull(int w)
{
	struct worker *k = &pool_wk[w];
	static char buf[64 * 1024];
	ssize_t n;
	int rc = 0;

	if (sp_kind == FRAME_LINE) {
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
	if (rc == -1 && pool_out_err == 0) {
		pool_out_err = errno;
		/* Nobody reads our output: workers die of SIGPIPE on their
		 * next write, and get no more input. */
		pool_in_failed = true;
		for (int i = 0; i < sp_nkids; i++)
			if (!pool_wk[i].out_done) {
				pool_wk[i].out_done = true;
				close(pool_wk[i].fr);
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
	pool_wk = calloc((size_t)sp_nkids, sizeof *pool_wk);
	if (pool_wk == NULL)
		err(EXIT_FAIL, "malloc");
	for (int i = 0; i < sp_nkids; i++) {
		struct spawn sp = { .fd_extra = -1 };
		char env[32], *envv[2] = { env, NULL };
		int a[2], b[2];

		snprintf(env, sizeof env, "IPC_WORKER=%d", i);
		if (pipe2(a, O_CLOEXEC) == -1 || pipe2(b, O_CLOEXEC) == -1)
			err(EXIT_FAIL, "pipe");
		(void)fcntl(a[1], F_SETPIPE_SZ, POOL_PIPE_SZ);  /* best effort */
		sp.fd_in = a[0];
		sp.fd_out = b[1];
		sp_kid_start(i, &sp, argv, envv);
		close(a[0]);
		close(b[1]);
		pool_wk[i].tw = a[1];
		pool_wk[i].fr = b[0];
		if (io_nonblock(a[1], true) == -1 || io_nonblock(b[0], true) == -1)
			err(EXIT_FAIL, "fcntl");
		snprintf(pool_wk[i].prefix, sizeof pool_wk[i].prefix, "%d\t", i);
		merge_src_init(&pool_wk[i].src, sp_tag ? pool_wk[i].prefix : NULL);
		frame_reader_init(&pool_wk[i].fo, b[0], sp_kind, sp_max_msg);
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
	    sched_setscheduler(0, SCHED_BATCH, &sp) == -1 && sp_verbose)
		warn("SCHED_BATCH");
}

/* Workers that exited while still owed input quit; all gone with input
 * left means that input cannot be handled. */
static void
pool_check_kids(void)
{
	int alive = 0;

	for (int i = 0; i < sp_nkids; i++) {
		int st = spawn_status(sp_kids[i].wstatus);
		if (sp_kids[i].reaped && (!pool_wk[i].in_closed || st != 0) &&
		    !pool_wk[i].reported) {
			char why[64];
			snprintf(why, sizeof why, "exited with status %d", st);
			if (!pool_wk[i].in_closed)
				pool_worker_quit(i, why);
			else
				pool_worker_report(i, why);
		}
		if (!pool_wk[i].in_closed)
			alive++;
	}
	if (alive == 0 && !pool_input_done() && !pool_in_failed) {
		warnx("no worker left: the rest of the input was not handled");
		pool_in_failed = true;
		pool_lost = true;
	}
}

noreturn void
pool_run(char **argv, int workers)
{
	struct pollfd *pf;
	int64_t last = 0;

	sp_kids_init(workers);
	pf = calloc((size_t)workers * 2 + 2, sizeof *pf);
	if (pf == NULL)
		err(EXIT_FAIL, "malloc");
	frame_reader_init(&pool_in, STDIN_FILENO, sp_kind, sp_max_msg);
	merge_init(&mg, STDOUT_FILENO, 0);
	ob_init(&ob, STDOUT_FILENO, 0);
	pool_spawn(argv);
	dispatcher_batch();
	for (;;) {
		int n = 1, pin, tmo = -1, open = 0;

		pool_check_kids();
		for (int i = 0; i < sp_nkids; i++)
			open += !pool_wk[i].out_done;
		if (sp_nreaped == sp_nkids) {
			if (last == 0)
				last = num_now();
			int64_t left = last + DRAIN_NS - num_now();
			if (open == 0 || sp_tstage == 2 || left <= 0)
				break;
			tmo = (int)(left / 1000000 + 1);
		}
		n = pool_poll_in(pf, n, &pin);
		for (int i = 0; i < sp_nkids; i++) {
			pool_wk[i].pin = -1;
			if (!pool_wk[i].out_done) {
				pf[n] = (struct pollfd){ .fd = pool_wk[i].fr, .events = POLLIN };
				pool_wk[i].pin = n++;
			}
		}
		sp_wait_events(pf, n, tmo);
		for (int i = 0; i < sp_nkids; i++)
			if (pool_wk[i].pin >= 0 && !pool_wk[i].out_done &&
			    pf[pool_wk[i].pin].revents != 0) {
				worker_pull(i);
				last = num_now();
			}
		pool_dispatch(pf, pin);
	}
	if (pool_out_err != 0 && pool_out_err != EPIPE)
		warnc(pool_out_err, "stdout");
	sp_finish(pool_out_err != 0 || pool_lost || pool_in_failed ? EXIT_FAIL : 0);
}
