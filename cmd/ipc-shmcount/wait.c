/* ipc-shmcount: changes and waits: each step a CAS with an overflow
 * check, the wake sequence bumped after it, and waiters asleep on that
 * sequence with FUTEX_WAIT. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "shmcount.h"

static long
futex(_Atomic uint32_t *uaddr, int op, uint32_t val,
    const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

/* Bumps the sequence and wakes any waiter: every change made by a
 * one-shot command ends here. The wake is made whether anyone waits or
 * not: a count of waiters in the object would stay raised for good by a
 * waiter killed with SIGKILL, and one FUTEX_WAKE that finds nobody is a
 * hash lookup in the kernel, small beside a process's start. */
void
shc_wake(struct shmc *c)
{
	/* Seq_cst, after the change: a waiter that read the old sequence
	 * either sleeps already (and is woken) or finds the sequence
	 * changed when it goes to sleep (FUTEX_WAIT returns EAGAIN). */
	atomic_fetch_add(&c->seq, 1);
	futex(&c->seq, FUTEX_WAKE, INT_MAX, NULL);
}

/* Inside a batch (-n), every NOTICE_EVERY steps: a second locked
 * operation (and a futex call) per step would halve the rate, so the
 * sequence is bumped and waiters woken only here and at the end of the
 * batch (shc_wake). A waiter asleep through a step is woken at most
 * NOTICE_EVERY steps (microseconds) after it. */
#define NOTICE_EVERY 1024

/* Adds (or subtracts) DELTA TIMES times, each step its own atomic change.
 * Returns the value after the last step; *DONE gets the steps done, which
 * is fewer than TIMES only on overflow. */
int64_t
shc_add(struct shmc *c, int64_t delta, bool sub, long long times,
    long long *done)
{
	int64_t old = atomic_load_explicit(&c->value, memory_order_relaxed);
	int64_t new;
	long long i;

	for (i = 0; i < times; i++) {
		/* OLD is the value we last wrote: right unless another
		 * process got in between, and then the failed CAS loads
		 * the current value for the retry. */
		do {
			if (sub ? __builtin_sub_overflow(old, delta, &new) :
			    __builtin_add_overflow(old, delta, &new)) {
				*done = i;
				if (i > 0)
					shc_wake(c);
				return old;
			}
		} while (!atomic_compare_exchange_weak(&c->value, &old, new));
		old = new;
		if ((i & (NOTICE_EVERY - 1)) == NOTICE_EVERY - 1) {
			/* Notice first: if a signal ends us now, no
			 * waiter has a step it was not told of. */
			shc_wake(c);
			sig_check();
		}
	}
	*done = i;
	if (i > 0)
		shc_wake(c);
	return old;
}

static bool
cond_holds(enum cond op, int64_t v, int64_t want)
{
	switch (op) {
	case C_GE: return v >= want;
	case C_LE: return v <= want;
	case C_EQ: return v == want;
	case C_NE: return v != want;
	}
	return false;
}

/* Sleeps on the sequence until the condition holds: 0, or EXIT_TIMEOUT
 * after TIMEOUT_NS (-1: none). */
int
shc_wait(struct shmc *c, enum cond op, int64_t want, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns >= 0 ? num_now() + timeout_ns : 0;
	int rc = EXIT_TIMEOUT;

	for (;;) {
		/* Every wake: a counter truncated and regrown under us reads
		 * as zero, which must not pass for its value. */
		shc_recheck(c);
		/* The sequence before the value: a change after this load
		 * bumps it, so FUTEX_WAIT below does not sleep through it. */
		uint32_t seq = atomic_load(&c->seq);
		int64_t left = 1000000000LL;

		if (cond_holds(op, atomic_load(&c->value), want)) {
			rc = EXIT_OK;
			break;
		}
		if (timeout_ns >= 0) {
			int64_t t = deadline - num_now();
			if (t <= 0)
				break;
			if (t < left)
				left = t;
		}
		/* A foreign writer may change the value without the wake:
		 * the one-second cap bounds how late we notice. */
		struct timespec ts = num_ts(left);
		if (futex(&c->seq, FUTEX_WAIT, seq, &ts) == -1 &&
		    errno != EAGAIN && errno != ETIMEDOUT && errno != EINTR)
			err(EXIT_FAIL, "futex");
		sig_check();
	}
	return rc;
}
