/* ipc-mq: the recv verb: messages framed onto stdout (batched, or paced
 * on a follower's reader), or each handed to a run of COMMAND; messages
 * taken but not delivered are always reported. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "mq.h"

struct receiver {
	const char *name;
	mqd_t q;
	char *buf;
	size_t bufsz;
	enum frame_kind kind;
	bool prio;             /* -P */
	bool batch;            /* many messages per write(2) */
	bool watch_out;        /* stdout can go away (pipe, socket) */
	bool paced;            /* stdout is a one-page pipe: see rx_setup */
	int pipe_size;         /* its size before, restored at exit */
	int64_t timeout;       /* ns per wait, -1: none */
	struct outbuf ob;
	unsigned long seq;     /* messages taken */
	unsigned long first;   /* first message in ob */
	char **cmd;            /* -- COMMAND */
	int cmd_status;        /* first failed run's status */
	int put_err;           /* why a message cannot be put back, or 0 */
	long curmsgs;          /* messages there at the start (-a) */
	int verbose;           /* -v */
};

static struct receiver *rx_live;  /* for the cleanup at a signal */

/* Writes what is buffered; on failure reports the messages lost (they
 * were taken from the queue) and returns -1. */
static int
rx_try_flush(struct receiver *r)
{
	if (r->ob.len == 0 || ob_flush(&r->ob) == 0)
		return 0;
	int e = errno;
	r->ob.len = 0;
	if (r->first == r->seq)
		warnx("%s: message %lu was taken from the queue but could not be "
		    "written: stdout: %s", r->name, r->seq, strerror(e));
	else
		warnx("%s: messages %lu-%lu were taken from the queue but could "
		    "not be written: stdout: %s", r->name, r->first, r->seq,
		    strerror(e));
	return -1;
}

static void
rx_flush(struct receiver *r)
{
	if (rx_try_flush(r) == -1)
		exit(EXIT_FAIL);
}

/* At SIGINT/SIGTERM: what was taken is still written out. */
static void
rx_cleanup(void)
{
	if (rx_live == NULL)
		return;
	(void)rx_try_flush(rx_live);
	if (rx_live->paced)
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, rx_live->pipe_size);
}

/* Appends one message to OB, framed, with its priority first for -P
 * (inside the frame, so the framing stays parseable). */
static void
rx_put(struct receiver *r, size_t len, unsigned prio)
{
	struct outbuf *ob = &r->ob;
	char pfx[16], hdr[16];
	const char *tr;
	size_t pl = r->prio ? (size_t)snprintf(pfx, sizeof pfx, "%u\t", prio) : 0;
	size_t tl, hl = frame_header(r->kind, pl + len, hdr, &tr, &tl);

	/* OB is large enough for any one message: it never flushes by itself,
	 * so we always know which messages a failed write held. */
	if (ob->len + hl + pl + len + tl > ob->cap)
		rx_flush(r);
	if (ob->len == 0)
		r->first = r->seq;
	frame_put(ob, r->kind, pfx, pl, r->buf, len);
}

/* Message SEQ, of LEN bytes in R->buf, was taken but no run of COMMAND
 * started for it, or it cannot be printed (WHAT failed, errno says why;
 * errno 0: WHAT says it all): it goes back on the queue with its
 * priority (at the end of that priority), and we exit with STATUS. Said
 * as lost only if it cannot go back: no write access, or the queue filled
 * again meanwhile (the descriptor is non-blocking, so mq_send never waits
 * for room). */
static noreturn void
rx_undelivered(struct receiver *r, size_t len, unsigned prio, int status,
    const char *what)
{
	int e = errno;
	char why[320];

	if (e != 0) {
		snprintf(why, sizeof why, "%s: %s", what, strerror(e));
		what = why;
	}
	if (r->put_err == 0) {
		if (mq_send(r->q, r->buf, len, prio) == 0)
			errx(status, "%s: message %lu was not delivered and was "
			    "put back on the queue: %s", r->name, r->seq, what);
		r->put_err = errno;
	}
	errx(status, "%s: message %lu was taken from the queue but not "
	    "delivered: %s; putting it back failed: %s", r->name, r->seq,
	    what, strerror(r->put_err));
}

/* Waits for the run of COMMAND. A terminating signal sent to us alone
 * (not to the process group, as a terminal's is) is passed on to it, so
 * we never leave it behind; once it has ended, its message goes back on
 * the queue unless the run succeeded, and we exit 128+N with a note. */
static int
rx_wait_child(struct receiver *r, pid_t pid, size_t len, unsigned prio)
{
	int ws, st, sig;
	char what[64];

	/* A pidfd and the signal self-pipe polled together: a signal that
	 * came before the run started (while its file was written) or just
	 * before a wait is still seen, where an EINTR would be missed. */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p[2] = {
		{ .fd = pfd, .events = POLLIN },
		{ .fd = sig_fd(), .events = POLLIN },
	};

	while (pfd >= 0 && sig_caught() == 0 && (poll(p, 2, -1) == -1 ||
	    !p[0].revents))
		if (p[1].revents)
			sig_drain();
	if (pfd >= 0)
		close(pfd);
	if ((sig = sig_caught()) != 0 && sig_caught_code() != SI_KERNEL)
		kill(pid, sig);
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR)
			err(EXIT_FAIL, "waitpid");
	if ((sig = sig_caught()) != 0) {
		st = spawn_status(ws);
		if (st != 0) {
			snprintf(what, sizeof what, "stopped by SIG%s, %s "
			    "exited with %d", sigabbrev_np(sig), r->cmd[0], st);
			errno = 0;
			rx_undelivered(r, len, prio, 128 + sig, what);
		}
		sig_check();
	}
	return spawn_status(ws);
}

/* Message SEQ as the run's stdin: a sealed memfd, written in full before
 * the run starts, so the run sees the whole message or (if we are killed
 * first) never runs; a pipe written while it runs would end early, and
 * look whole, if we died mid-way. */
static int
rx_msg_file(struct receiver *r, size_t len, unsigned prio)
{
	int fd = memfd_create("ipc-mq-message", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd == -1)
		return -1;
	r->ob.fd = fd;
	r->ob.len = 0;
	rx_put(r, len, prio);
	if (ob_flush(&r->ob) == -1 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE |
	    F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		int e = errno;
		r->ob.len = 0;
		close(fd);
		errno = e;
		return -1;
	}
	r->ob.len = 0;
	return fd;
}

/* Hands message SEQ to a fresh run of COMMAND on its stdin. */
static void
rx_run_cmd(struct receiver *r, size_t len, unsigned prio)
{
	char env[32];
	char *envv[] = { env, NULL };
	struct spawn sp = { .fd_out = -1, .fd_extra = -1, .pdeathsig = true };
	int st;

	snprintf(env, sizeof env, "IPC_MQ_PRIO=%u", prio);
	if ((sp.fd_in = rx_msg_file(r, len, prio)) == -1)
		rx_undelivered(r, len, prio, EXIT_FAIL, "message file");
	/* cmd_require passed, but exec can still fail: a #! interpreter
	 * that is missing, a file changed since. */
	if (spawn_start(&sp, r->cmd, envv, &st) == -1)
		rx_undelivered(r, len, prio, st, r->cmd[0]);
	close(sp.fd_in);
	st = rx_wait_child(r, sp.pid, len, prio);
	if (st != 0 && r->verbose)
		warnx("%s: message %lu: %s exited with %d", r->name, r->seq,
		    r->cmd[0], st);
	if (st != 0 && r->cmd_status == 0)
		r->cmd_status = st;
}

static noreturn void
rx_out_gone(struct receiver *r)
{
	int unread = 0;

	rx_flush(r);
	/* Bytes still in the pipe were never read: the last message, since
	 * a paced follower waits for the pipe to drain before the next. */
	if (r->paced && r->seq > 0 &&
	    ioctl(STDOUT_FILENO, FIONREAD, &unread) == 0 && unread > 0)
		warnx("%s: message %lu was taken from the queue but stdout's "
		    "reader left before reading it", r->name, r->seq);
	exit(EXIT_FAIL);  /* otherwise quietly, as for EPIPE */
}

/* ppoll(2) of P, whose P[1] is the signal self-pipe: a signal is handled
 * (sig_check ends us if it is a terminating one) and returns -1, so the
 * caller polls again. Otherwise returns ppoll's count. */
static int
rx_poll(struct pollfd *p, nfds_t n, const struct timespec *ts)
{
	int rc = ppoll(p, n, ts, NULL);

	if (rc == -1 && errno != EINTR)
		err(EXIT_FAIL, "poll");
	if (rc == -1 || p[1].revents) {
		sig_drain();
		sig_check();
		return -1;
	}
	return rc;
}

/* Paced follower: waits until stdout's reader has read all we wrote
 * (a one-page pipe is writable again only when empty), so no message
 * is taken while an earlier one may still be unread. */
static void
rx_wait_drained(struct receiver *r)
{
	struct pollfd p[2] = {
		{ .fd = STDOUT_FILENO, .events = POLLOUT },
		{ .fd = sig_fd(), .events = POLLIN },
	};

	for (;;) {
		if (rx_poll(p, 2, NULL) == -1)
			continue;
		if (p[0].revents & (POLLERR | POLLHUP))
			rx_out_gone(r);
		if (p[0].revents & POLLOUT)
			return;
	}
}

/* True when stdout is a pipe or socket whose reader has gone. */
static bool
rx_out_dead(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* -t ran out: the one line every tool gives for its 124. */
static noreturn void
rx_timed_out(const struct receiver *r)
{
	errx(EXIT_TIMEOUT, "%s: no message came within %s (%lu received)",
	    r->name, num_duration_str(r->timeout), r->seq);
}

/* Waits until the queue has a message: the queue descriptor is
 * non-blocking, so the one blocking call is this ppoll, which a signal,
 * the -t bound and stdout's reader leaving all end. */
static void
rx_wait(struct receiver *r)
{
	struct pollfd p[3] = {
		{ .fd = r->q, .events = POLLIN },
		{ .fd = sig_fd(), .events = POLLIN },
		{ .fd = STDOUT_FILENO, .events = 0 },
	};
	int64_t end = r->timeout >= 0 ? num_now() + r->timeout : 0;

	for (;;) {
		struct timespec ts, *tsp = NULL;
		if (r->timeout >= 0) {
			int64_t left = end - num_now();
			if (left <= 0)
				rx_timed_out(r);
			ts = num_ts(left);
			tsp = &ts;
		}
		int n = rx_poll(p, r->watch_out ? 3 : 2, tsp);
		if (n == -1)
			continue;
		if (n == 0)
			rx_timed_out(r);
		if (r->watch_out && p[2].revents)
			rx_out_gone(r);
		if (p[0].revents)
			return;
	}
}

/* Receives COUNT messages (-1: forever; ALL: until the queue is empty). */
static void
rx_loop(struct receiver *r, long long count, bool all)
{
	while (count < 0 || r->seq < (unsigned long long)count) {
		unsigned prio;
		sig_check();
		/* Stdout's reader gone? Checked before each receive that starts
		 * a batch, and every 32 messages within one: a poll per message
		 * would cost a third of the receiver's time, and a message
		 * already buffered is reported if its write fails anyway. */
		if (r->paced)
			rx_wait_drained(r);
		else if (r->watch_out && (r->ob.len == 0 || r->seq % 32 == 0) &&
		    rx_out_dead())
			rx_out_gone(r);
		ssize_t n = mq_receive(r->q, r->buf, r->bufsz, &prio);
		if (n >= 0) {
			r->seq++;
			const char *why;
			if (r->cmd != NULL)
				rx_run_cmd(r, (size_t)n, prio);
			else if ((why = frame_unfit(r->kind, r->buf, (size_t)n,
			    false)) != NULL) {
				/* It would print as two records: those before
				 * it go out, it goes back, we stop. */
				(void)rx_try_flush(r);
				errno = 0;
				rx_undelivered(r, (size_t)n, prio, EXIT_FAIL, why);
			} else {
				rx_put(r, (size_t)n, prio);
				if (!r->batch)
					rx_flush(r);
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			err(EXIT_FAIL, "%s: receive", r->name);
		/* The queue is momentarily empty: deliver what we hold, so a
		 * follower stays prompt, then wait. */
		rx_flush(r);
		if (all)
			break;
		rx_wait(r);
	}
	rx_flush(r);
}

/* Opens the queue, non-blocking, for writing too if we may, so that a
 * message whose run of COMMAND cannot start, or that cannot be printed, is
 * put back (see rx_undelivered); R->put_err keeps why not when we may
 * not. */
static void
rx_open(struct receiver *r, bool shared)
{
	r->q = mq_open(r->name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (r->q != (mqd_t)-1) {
		if (!shared)
			mqt_check_owner(r->name, r->q);
		return;
	}
	r->put_err = errno;
	r->q = mqt_open_existing(r->name, O_RDONLY | O_NONBLOCK, shared);
}

static void
rx_setup(struct receiver *r, const char *name, bool shared, bool follow)
{
	struct mq_attr a;
	struct stat st;

	r->name = name;
	rx_open(r, shared);
	/* A buffer smaller than msgsize makes mq_receive fail (EMSGSIZE). */
	if (mq_getattr(r->q, &a) == -1)
		err(EXIT_FAIL, "%s", name);
	r->bufsz = (size_t)a.mq_msgsize;
	r->curmsgs = a.mq_curmsgs;
	if ((r->buf = malloc(r->bufsz)) == NULL)
		err(EXIT_FAIL, "malloc");
	ob_init(&r->ob, STDOUT_FILENO, 64 * 1024 + r->bufsz + 64);
	r->watch_out = r->cmd == NULL && fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	/* A follower whose reader may leave at any line (head -1) gets one
	 * write per message, so it never holds messages nobody will read. */
	r->batch = !(follow && r->watch_out);
	/* ... and, on a pipe, paces itself on its reader: with the pipe
	 * shrunk to one page, POLLOUT means "all read" (see rx_wait_drained),
	 * so `recv -f q | head -1` leaves the later messages in the queue. */
	if (follow && r->watch_out && S_ISFIFO(st.st_mode)) {
		r->pipe_size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
		r->paced = r->pipe_size > 0 && fcntl(STDOUT_FILENO, F_SETPIPE_SZ,
		    (int)sysconf(_SC_PAGESIZE)) != -1;
	}
	rx_live = r;
	sig_cleanup(rx_cleanup);
}

int
mqt_cmd_recv(struct mq_run *m)
{
	struct receiver r = { .timeout = m->timeout, .kind = m->kind,
	    .prio = m->prio_print, .verbose = m->verbose };
	char name[258], path[PATH_MAX];

	name_check(m->ops[0], name);
	if (m->cmd != NULL) {
		r.cmd = m->cmd;
		/* COMMAND must resolve before any message is taken for it. */
		cmd_require(r.cmd[0], path, sizeof path);
	}
	rx_setup(&r, name, m->co.shared, m->follow);
	/* -a: the messages there now, not those a fast producer adds. */
	rx_loop(&r, m->all ? r.curmsgs : m->count, m->all);
	if (m->verbose)
		warnx("%s: %lu messages received", name, r.seq);
	rx_live = NULL;
	ob_free(&r.ob);
	free(r.buf);
	mq_close(r.q);
	return r.cmd_status;
}
