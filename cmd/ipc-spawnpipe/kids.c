/* ipc-spawnpipe's children: started, sent our signals and the timeout's,
 * reaped; and the exit status their ends make ours. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <err.h>

#include "spawnpipe.h"

#define KILL_GRACE_NS (2000000000LL)

/* The run whose children kids_cleanup signals: sig_cleanup's handlers
 * take no argument. */
static struct spawnpipe *cleanup_ctx;

static void
kids_kill(struct spawnpipe *ctx, int signo)
{
	for (int i = 0; i < ctx->nkids; i++)
		if (ctx->kids[i].pid > 0 && !ctx->kids[i].reaped &&
		    kill(ctx->kids[i].pid, signo) == -1 &&
		    errno != ESRCH)
			warn("kill %d", (int)ctx->kids[i].pid);
}

/* At any exit of ours, children still running get the signal we die of
 * (blocked in a write to stdout, io.c dies of it at once), or SIGTERM
 * after an error; PR_SET_PDEATHSIG would only SIGKILL them. */
static void
kids_cleanup(void)
{
	struct spawnpipe *ctx = cleanup_ctx;
	int s = sig_caught();

	if (s != 0 && sig_caught_code() == SI_KERNEL)
		return;  /* the terminal sent it to them too */
	kids_kill(ctx, s != 0 ? s : SIGTERM);
}

void
sp_kids_init(struct spawnpipe *ctx, int n)
{
	ctx->kids = calloc((size_t)n, sizeof *ctx->kids);
	if (ctx->kids == NULL)
		err(EXIT_FAIL, "malloc");
	ctx->nkids = n;
	cleanup_ctx = ctx;
	sig_cleanup(kids_cleanup);
}

/* Starts child I; exits 127/126 with a message when COMMAND cannot run,
 * which a child's own `exit 127` never prints. */
void
sp_kid_start(struct spawnpipe *ctx, int i, struct spawn *sp, char **argv,
    char **env)
{
	int status;

	sp->pdeathsig = true;
	if (spawn_start(sp, argv, env, &status) == -1) {
		if (status == EXIT_FAIL)
			err(EXIT_FAIL, "fork");
		err(status, "cannot run '%s'", argv[0]);
	}
	ctx->kids[i].pid = sp->pid;
	if (ctx->verbose)
		warnx("started %s as pid %d", argv[0], (int)sp->pid);
}

static void
kids_reap(struct spawnpipe *ctx)
{
	for (int i = 0; i < ctx->nkids; i++) {
		struct kid *k = &ctx->kids[i];
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
		ctx->nreaped++;
		int st = spawn_status(k->wstatus);
		if (st != 0 && ctx->first_fail == 0)
			ctx->first_fail = st;
		if (ctx->verbose)
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
void
sp_supervise(struct spawnpipe *ctx, bool drain)
{
	int code, s;

	if (drain)
		sig_drain();
	if ((s = take_signal(&code)) != 0) {
		ctx->got_sig = s;
		/* A terminal's signal went to the whole process group, the
		 * child(ren) included: sending it again would deliver it twice. */
		if (code != SI_KERNEL)
			kids_kill(ctx, s);
		if (ctx->verbose)
			warnx("got signal %d%s", s, code == SI_KERNEL ?
			    " (the terminal sent it to the children too)" :
			    ", forwarded");
	}
	if (ctx->tstage < 2 && sig_alarmed()) {
		ctx->tstage++;
		if (ctx->verbose)
			warnx("timeout: sending %s", ctx->tstage == 1 ? "SIGTERM" :
			    "SIGKILL");
		kids_kill(ctx, ctx->tstage == 1 ? SIGTERM : SIGKILL);
		if (ctx->tstage == 1)
			sig_alarm(KILL_GRACE_NS);
	}
	if (sig_child())
		kids_reap(ctx);
}

/* Poll with the self-pipe of signals in slot 0. */
void
sp_wait_events(struct spawnpipe *ctx, struct pollfd *pf, int n, int tmo)
{
	pf[0] = (struct pollfd){ .fd = sig_fd(), .events = POLLIN };
	if (poll(pf, (nfds_t)n, tmo) == -1 && errno != EINTR)
		err(EXIT_FAIL, "poll");
	/* The flags are set by the handlers; the self-pipe only wakes us. */
	sp_supervise(ctx, pf[0].revents != 0);
}

/* The final status: a timeout gives 124; a child killed by the signal we
 * were sent makes us die of it too (so a calling shell script stops);
 * otherwise the first failure's status, or FALLBACK if all succeeded. */
noreturn void
sp_finish(struct spawnpipe *ctx, int fallback)
{
	int st = ctx->first_fail ? ctx->first_fail : fallback;

	if (ctx->tstage > 0)
		errx(EXIT_TIMEOUT, "%s: still running after %s: ended (SIGTERM%s)",
		    ctx->cmd, num_duration_str(ctx->timeout), ctx->tstage > 1 ?
		    ", then SIGKILL" : "");
	for (int i = 0; i < ctx->nkids; i++) {
		int w = ctx->kids[i].wstatus;
		if (!WIFSIGNALED(w))
			continue;
		int s = WTERMSIG(w);
		if (ctx->got_sig != 0 && s == ctx->got_sig &&
		    (s == SIGINT || s == SIGTERM || s == SIGHUP)) {
			fflush(stderr);
			sig_die(s);
		}
		if (s != SIGPIPE && s != SIGINT && s != ctx->got_sig &&
		    spawn_status(w) == st)
			warnx("%s: killed by signal %d (%s)", ctx->cmd, s,
			    strsignal(s));
		break;
	}
	exit(st);
}
