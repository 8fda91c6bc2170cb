/* Signals as events. Handlers are installed without SA_RESTART and never
 * blocked, so a blocking open(2) of a FIFO, a futex wait or an mq call
 * returns EINTR at once; they only set flags and write the signal number
 * to a self-pipe that event loops poll. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

static volatile sig_atomic_t caught;     /* first terminating signal */
static volatile sig_atomic_t caught_code; /* its si_code */
static volatile sig_atomic_t child, alarmed;
static int selfpipe[2] = { -1, -1 };

#define NCLEANUP 8
static void (*cleanups[NCLEANUP])(void);
static int ncleanups;

/* Makes the self-pipe readable. Async-signal-safe; errno is kept. A full
 * pipe is readable already, so a failed write loses nothing. */
static void
pipe_poke(unsigned char b)
{
	int saved = errno;

	if (selfpipe[1] != -1 && write(selfpipe[1], &b, 1) == -1)
		errno = saved;
}

static void
sig_handler(int signo, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (signo == SIGCHLD)
		child = 1;
	else if (signo == SIGALRM)
		alarmed = 1;
	else if (caught == 0) {
		caught = signo;
		caught_code = si ? si->si_code : 0;
	}
	pipe_poke((unsigned char)signo);
}

static void
sig_run_cleanups(void)
{
	/* Each runs once, newest first, whether we exit or die of a signal. */
	while (ncleanups > 0)
		cleanups[--ncleanups]();
}

/* Signals that were ignored when we started (nohup, a script's background
 * job): they stay ignored here and in every child, as across a shell.
 * SIGCHLD and SIGALRM are ours to use whatever we were given. */
static sigset_t ignored_at_start;

static void
sig_record_start(void)
{
	struct sigaction o;

	sigemptyset(&ignored_at_start);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGCHLD && s != SIGALRM && s != SIGKILL &&
		    s != SIGSTOP && sigaction(s, NULL, &o) == 0 &&
		    !(o.sa_flags & SA_SIGINFO) && o.sa_handler == SIG_IGN)
			sigaddset(&ignored_at_start, s);
}

bool
sig_ignored_at_start(int signo)
{
	return sigismember(&ignored_at_start, signo) == 1;
}

void
sig_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
		SIGALRM, SIGCHLD };
	struct sigaction sa;
	sigset_t none;

	sig_record_start();
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sig_handler;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!sig_ignored_at_start(sigs[i]))
			sigaction(sigs[i], &sa, NULL);
	/* EPIPE is "peer gone", handled where it happens; children get
	 * SIGPIPE at its default, even if we were given it ignored, so that
	 * `COMMAND | head` in them ends as a pipeline should. */
	signal(SIGPIPE, SIG_IGN);
	/* A blocked signal could not wake anything: start from an empty mask. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	atexit(sig_run_cleanups);
}

/* The self-pipe is made on first use: a one-shot tool that never polls
 * does not pay for it (a pipe costs more than all the sigactions). */
int
sig_fd(void)
{
	int p[2];

	if (selfpipe[0] != -1)
		return selfpipe[0];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	selfpipe[0] = p[0];
	selfpipe[1] = p[1];
	/* The handler must see the pipe before we look at the flags. */
	atomic_signal_fence(memory_order_seq_cst);
	/* A signal caught before the pipe existed still makes it readable. */
	if (caught || child || alarmed)
		pipe_poke(0);
	return selfpipe[0];
}

int
sig_drain(void)
{
	unsigned char b[64];

	while (selfpipe[0] != -1 && read(selfpipe[0], b, sizeof b) > 0)
		;
	return caught;
}

int
sig_caught(void)
{
	return caught;
}

int
sig_caught_code(void)
{
	return caught_code;
}

void
sig_clear(void)
{
	caught = 0;
	caught_code = 0;
}

bool
sig_child(void)
{
	if (!child)
		return false;
	child = 0;
	return true;
}

void
sig_check(void)
{
	if (caught != 0)
		sig_die(caught);
}

void
sig_die(int signo)
{
	struct sigaction sa;
	sigset_t set;

	sig_run_cleanups();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(signo, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	_exit(128 + signo);
}

void
sig_cleanup(void (*fn)(void))
{
	if (ncleanups < NCLEANUP)
		cleanups[ncleanups++] = fn;
}

static void
sig_timer(int64_t ns, bool repeat)
{
	struct itimerval it = { 0 };

	alarmed = 0;
	/* 0 disarms sig_alarm; for a blocking call it means "now" (-t 0). */
	if (repeat && ns <= 0)
		ns = 1000;
	if (ns > 0) {
		it.it_value.tv_sec = ns / 1000000000LL;
		it.it_value.tv_usec = (ns % 1000000000LL) / 1000;
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
		if (repeat)
			it.it_interval.tv_usec = 1000;
	}
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		err(EXIT_FAIL, "setitimer");
}

void
sig_alarm(int64_t ns)
{
	sig_timer(ns, false);
}

void
sig_alarm_blocking(int64_t ns)
{
	/* One SIGALRM that lands just before a blocking open(2) starts to
	 * sleep would be lost; the next tick still interrupts it. */
	sig_timer(ns, true);
}

bool
sig_alarmed(void)
{
	return alarmed != 0;
}

void
sig_child_reset(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
		SIGALRM, SIGCHLD, SIGPIPE };
	struct sigaction sa;
	sigset_t none;

	/* sigaction, not signal(3): async-signal-safe, for a vfork child. */
	memset(&sa, 0, sizeof sa);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sa.sa_handler = sigs[i] != SIGPIPE &&
		    sig_ignored_at_start(sigs[i]) ? SIG_IGN : SIG_DFL;
		sigaction(sigs[i], &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
