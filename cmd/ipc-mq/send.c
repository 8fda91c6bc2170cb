/* ipc-mq: the send verb: messages from the command line or framed on
 * stdin, each sent whole, waiting (-t bounded) while the queue is full. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "mq.h"

#define SEND_FRAME_MIN (1 << 20)  /* longest message framed on stdin */

struct sender {
	const char *name;
	mqd_t q;
	long msgsize;
	unsigned prio;
	int64_t timeout;  /* ns, -1: none */
	const char *tstr;
	unsigned long n;  /* messages sent */
};

static struct timespec
deadline(int64_t ns)
{
	struct timespec ts;

	/* mq_timed* take an absolute CLOCK_REALTIME time. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec += (long)(ns % 1000000000LL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Sends one message, waiting while the queue is full. Exits on anything
 * else: a message is sent whole or not at all, and none after a failure. */
static void
send_one(struct sender *s, const char *msg, size_t len)
{
	unsigned long no = s->n + 1;
	/* The bound is set once, on the monotonic clock: an EINTR neither
	 * restarts it nor does a change of the wall clock stretch it. */
	int64_t end = s->timeout < 0 ? 0 : num_now() + s->timeout;
	int rc;

	if (len > (size_t)s->msgsize)
		errx(EXIT_FAIL, "%s: message %lu is %zu bytes, over the queue's "
		    "msgsize of %ld bytes (%lu sent before it)", s->name, no, len,
		    s->msgsize, s->n);
	for (;;) {
		sig_check();
		if (s->timeout < 0)
			rc = mq_send(s->q, msg, len, s->prio);
		else {
			/* mq_timedsend wants a CLOCK_REALTIME time: what is
			 * left of the bound, converted at each call. */
			int64_t left = end - num_now();
			struct timespec ts = deadline(left > 0 ? left : 0);
			rc = mq_timedsend(s->q, msg, len, s->prio, &ts);
		}
		if (rc == 0)
			break;
		if (errno == EINTR)
			continue;  /* sig_check above ends us if it was ours */
		if (errno == ETIMEDOUT) {
			warnx("%s: queue still full after %s: message %lu not sent "
			    "(%lu sent before it)", s->name, s->tstr, no, s->n);
			exit(EXIT_TIMEOUT);
		}
		err(EXIT_FAIL, "%s: message %lu", s->name, no);
	}
	s->n = no;
}

size_t
mqt_send_limit(enum frame_kind kind, long msgsize)
{
	if (kind == FRAME_NETSTRING || kind == FRAME_LEN32)
		return (size_t)msgsize;
	return msgsize > SEND_FRAME_MIN ? (size_t)msgsize : SEND_FRAME_MIN;
}

int
mqt_send_next(struct frame_reader *r, long msgsize, char **msg, size_t *len,
    uint64_t *size)
{
	int rc = frame_read(r, msg, len);

	if (rc == 1 && *len > (size_t)msgsize) {
		*size = *len;
		errno = EMSGSIZE;
		return -1;
	}
	if (rc == -1 && errno == EMSGSIZE)
		*size = r->over;
	return rc;
}

/* A framed message on stdin is over the queue's msgsize: named by SIZE
 * (its header's, or its length), else (0) as over MAX, the reader's limit. */
static noreturn void
send_too_long(const struct sender *s, uint64_t size, size_t max)
{
	char text[32];

	if (size > 0)
		snprintf(text, sizeof text, "%" PRIu64, size);
	else
		snprintf(text, sizeof text, "over %zu", max);
	errx(EXIT_FAIL, "%s: message %lu is %s bytes, over the queue's msgsize "
	    "of %ld bytes (%lu sent before it)", s->name, s->n + 1, text,
	    s->msgsize, s->n);
}

static void
send_stdin(struct sender *s, enum frame_kind kind)
{
	struct frame_reader r;
	size_t max = mqt_send_limit(kind, s->msgsize);
	uint64_t size = 0;
	char *msg, why[sizeof r.why];
	size_t len;
	int rc, e;

	frame_reader_init(&r, STDIN_FILENO, kind, max);
	while ((rc = mqt_send_next(&r, s->msgsize, &msg, &len, &size)) == 1)
		send_one(s, msg, len);
	/* Freed before any exit too: the fuzz target (test/fuzz/mqsend_fuzz.c)
	 * catches the exit and runs on, and would leak it every time. */
	e = errno;
	if (rc == -1 && e == EBADMSG)
		strlcpy(why, frame_strerror(&r, EBADMSG), sizeof why);
	frame_reader_free(&r);
	if (rc == -1 && e == EMSGSIZE)
		send_too_long(s, size, max);
	if (rc == -1 && e == EBADMSG)
		errx(EXIT_FAIL, "stdin: message %lu: %s; %lu sent before it",
		    s->n + 1, why, s->n);
	errno = e;
	if (rc == -1)
		err(EXIT_FAIL, "stdin");
}

int
mqt_cmd_send(struct mq_run *m)
{
	struct sender s = { .timeout = m->timeout, .tstr = m->tstr,
	    .prio = m->prio };
	struct mq_attr a;
	char name[258];
	bool created;

	name_check(m->ops[0], name);
	s.name = name;
	if (m->create) {
		s.q = mqt_create(name, &m->co, O_WRONLY, &created);
		if (!created && !m->co.shared)
			mqt_check_owner(name, s.q);
	} else
		s.q = mqt_open_existing(name, O_WRONLY, m->co.shared);
	if (mq_getattr(s.q, &a) == -1)
		err(EXIT_FAIL, "%s", name);
	s.msgsize = a.mq_msgsize;
	if (m->nops > 1)
		for (int i = 1; i < m->nops; i++)
			send_one(&s, m->ops[i], strlen(m->ops[i]));
	else
		send_stdin(&s, m->kind);
	if (m->verbose)
		warnx("%s: %lu messages sent", name, s.n);
	mq_close(s.q);
	return EXIT_OK;
}
