/* libFuzzer target for ipc-mq send (cmd/ipc-mq/send.c), against a fake
 * queue: mq_send, mq_timedsend, mq_getattr and the opening of the queue
 * are ours, and stdin is served from the input (a read(2) hook, as in
 * frame_fuzz.c). Whatever comes on stdin, in any framing, to a queue of
 * any msgsize: the messages sent are exactly those the framing rules,
 * written out here a second way, give, up to the first one over msgsize
 * (or a netstring or len32 header announcing one, its body never read) or
 * the first malformed frame; that one, and none after it, is never sent,
 * and send exits 1 with the message the tool documents: "/q: message N
 * is L bytes, over the queue's msgsize of M bytes (N-1 sent before it)".
 * Messages given as operands are checked the same way.
 *
 * The input: byte 0, the framing (bits 0-1), msgsize (bits 2-4,
 * sizes[]), -t or not (bit 5: mq_timedsend or mq_send), operands instead
 * of stdin (bit 6: the rest split at NUL bytes, at most 8); byte 1, the
 * size of stdin's reads (1 << bits 0-3, 0: as asked); then stdin. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc-mq/mq.h"
#include "fuzz.h"

static const long sizes[8] = { 1, 2, 3, 5, 10, 100, 1000, 8192 };

static struct {
	bool on;
	const uint8_t *p;
	size_t n, off, piece;
	long msgsize;
	/* What was sent, one after the other, and each one's length. */
	uint8_t sent[8192];
	size_t sent_len, nsent, lens[4096];
} q;

ssize_t
read(int fd, void *buf, size_t n)
{
	if (!q.on || fd != STDIN_FILENO)
		return syscall(SYS_read, fd, buf, n);
	FUZZ_ASSERT(n > 0);
	size_t k = q.n - q.off;
	if (k > n)
		k = n;
	if (q.piece && k > q.piece)
		k = q.piece;
	memcpy(buf, q.p + q.off, k);
	q.off += k;
	return (ssize_t)k;
}

/* The fake queue. */
mqd_t
mqt_open_existing(const char *name, int flags, bool shared)
{
	(void)name, (void)flags, (void)shared;
	return (mqd_t)42;
}

mqd_t
mqt_create(const char *name, const struct create_opts *o, int flags,
    bool *created)
{
	(void)name, (void)o, (void)flags;
	*created = true;
	return (mqd_t)42;
}

void
mqt_check_owner(const char *name, mqd_t mq)
{
	(void)name, (void)mq;
}

int
mq_getattr(mqd_t mq, struct mq_attr *a)
{
	FUZZ_ASSERT(mq == (mqd_t)42);
	memset(a, 0, sizeof *a);
	a->mq_maxmsg = 10;
	a->mq_msgsize = q.msgsize;
	return 0;
}

int
mq_send(mqd_t mq, const char *msg, size_t len, unsigned prio)
{
	FUZZ_ASSERT(mq == (mqd_t)42 && prio == 7);
	/* The kernel's own check: never reached by one too long. */
	FUZZ_ASSERT(len <= (size_t)q.msgsize);
	FUZZ_ASSERT(q.nsent < 4096 && q.sent_len + len <= sizeof q.sent);
	if (len > 0)
		memcpy(q.sent + q.sent_len, msg, len);
	q.sent_len += len;
	q.lens[q.nsent++] = len;
	return 0;
}

int
mq_timedsend(mqd_t mq, const char *msg, size_t len, unsigned prio,
    const struct timespec *ts)
{
	FUZZ_ASSERT(ts != NULL && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L);
	return mq_send(mq, msg, len, prio);
}

int
mq_close(mqd_t mq)
{
	FUZZ_ASSERT(mq == (mqd_t)42);
	return 0;
}

/* The framing rules (as frame_fuzz.c's ref_next), for stdin S of N bytes
 * from *POS under the reader's limit MAX: 1 and the message at OFF/LEN, 0
 * at the end, -1 with *E, and *OVER the size a header announced. */
static int
ref_next(enum frame_kind kind, size_t max, const uint8_t *s, size_t n,
    size_t *pos, size_t *off, size_t *len, int *e, uint64_t *over)
{
	size_t have = n - *pos, i = 0, hdr = 4;
	const uint8_t *p = s + *pos;
	uint64_t v = 0;

	*over = 0;
	*e = EBADMSG;
	if (have == 0)
		return 0;
	if (kind == FRAME_LINE || kind == FRAME_NUL) {
		const uint8_t *d = memchr(p, kind == FRAME_NUL ? 0 : '\n', have);
		*off = *pos;
		*len = d ? (size_t)(d - p) : have;
		if (d == NULL && have > max) {
			*e = EMSGSIZE;
			return -1;
		}
		*pos += *len + (d != NULL);
		return 1;
	}
	if (kind == FRAME_NETSTRING) {
		for (; i < have && p[i] >= '0' && p[i] <= '9'; i++) {
			if ((i > 0 && p[0] == '0') || i >= 19)
				return -1;
			v = v * 10 + (p[i] - '0');
		}
		if (i == 0 || i == have || p[i] != ':')
			return -1;
		hdr = i + 1;
	} else {
		if (have < 4)
			return -1;
		for (i = 0; i < 4; i++)
			v = v << 8 | p[i];
		if (v == 0xFFFFFFFFu) {
			if (have < 12)
				return -1;
			hdr = 12;
			for (v = 0, i = 4; i < 12; i++)
				v = v << 8 | p[i];
		} else if (v > 0x7FFFFFFFu)
			return -1;
	}
	if (v > max) {
		*e = EMSGSIZE;
		*over = v;
		return -1;
	}
	size_t tr = kind == FRAME_NETSTRING;
	if (have - hdr < v + tr || (tr && p[hdr + v] != ','))
		return -1;
	*off = *pos + hdr;
	*len = v;
	*pos += hdr + v + tr;
	return 1;
}

static struct mq_run run;

static void
call_send(void *arg)
{
	(void)arg;
	FUZZ_ASSERT(mqt_cmd_send(&run) == EXIT_OK);
}

/* Sent so far: exactly the message S[OFF..OFF+LEN) as number I. */
static void
check_sent(size_t i, size_t *at, const uint8_t *m, size_t len)
{
	FUZZ_ASSERT(i < q.nsent && q.lens[i] == len);
	FUZZ_ASSERT(len == 0 || memcmp(q.sent + *at, m, len) == 0);
	*at += len;
}

/* What send must have done with the messages of stdin. */
static void
check_stdin(int st, enum frame_kind kind)
{
	size_t max = mqt_send_limit(kind, q.msgsize), pos = 0, off, len, at = 0;
	size_t i = 0;
	uint64_t over;
	char want[256];
	int e, rc;

	while ((rc = ref_next(kind, max, q.p, q.n, &pos, &off, &len, &e,
	    &over)) == 1 && len <= (size_t)q.msgsize)
		check_sent(i++, &at, q.p + off, len);
	FUZZ_ASSERT(q.nsent == i);
	if (rc == 0) {
		FUZZ_ASSERT(st == FUZZ_RETURNED);
		return;
	}
	FUZZ_ASSERT(st == EXIT_FAIL);
	if (rc == -1 && e == EBADMSG) {
		snprintf(want, sizeof want, "stdin: message %zu: ", i + 1);
		FUZZ_ASSERT(strncmp(fuzz_exit_msg, want, strlen(want)) == 0);
		snprintf(want, sizeof want, "; %zu sent before it", i);
		size_t ml = strlen(fuzz_exit_msg), wl = strlen(want);
		FUZZ_ASSERT(ml > wl && strcmp(fuzz_exit_msg + ml - wl, want) == 0);
		return;
	}
	char text[32];
	if (rc == 1)
		snprintf(text, sizeof text, "%zu", len);
	else if (over > 0)
		snprintf(text, sizeof text, "%" PRIu64, over);
	else
		snprintf(text, sizeof text, "over %zu", max);
	snprintf(want, sizeof want, "/q: message %zu is %s bytes, over the "
	    "queue's msgsize of %ld bytes (%zu sent before it)", i + 1, text,
	    q.msgsize, i);
	FUZZ_ASSERT(strcmp(fuzz_exit_msg, want) == 0);
}

static void
check_ops(int st, char **ops, int nops)
{
	size_t at = 0;
	char want[256];
	int i;

	for (i = 1; i < nops && strlen(ops[i]) <= (size_t)q.msgsize; i++)
		check_sent((size_t)i - 1, &at, (uint8_t *)ops[i], strlen(ops[i]));
	FUZZ_ASSERT(q.nsent == (size_t)i - 1);
	if (i == nops) {
		FUZZ_ASSERT(st == FUZZ_RETURNED);
		return;
	}
	FUZZ_ASSERT(st == EXIT_FAIL);
	snprintf(want, sizeof want, "/q: message %d is %zu bytes, over the "
	    "queue's msgsize of %ld bytes (%d sent before it)", i,
	    strlen(ops[i]), q.msgsize, i - 1);
	FUZZ_ASSERT(strcmp(fuzz_exit_msg, want) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_byte(&in), b1 = fuzz_byte(&in);
	char *ops[10] = { "q" }, *rest = NULL;
	int nops = 1;

	memset(&run, 0, sizeof run);
	run.kind = (enum frame_kind)(b0 & 3);
	run.prio = 7;
	run.timeout = (b0 & 0x20) ? 1000000000 : -1;
	run.tstr = "1s";
	run.create = b0 & 0x80;
	q.msgsize = sizes[(b0 >> 2) & 7];
	q.piece = (b1 & 15) ? (size_t)1 << ((b1 & 15) - 1) : 0;
	q.p = in.p;
	q.n = in.n;
	q.off = q.sent_len = q.nsent = 0;
	if (b0 & 0x40) {
		/* Operands: NUL-separated pieces of the rest, a copy. */
		rest = malloc(in.n + 1);
		FUZZ_ASSERT(rest != NULL);
		memcpy(rest, in.p, in.n);
		rest[in.n] = '\0';
		for (char *p = rest; nops < 9 && p <= rest + in.n;
		    p += strlen(p) + 1)
			ops[nops++] = p;
	}
	run.ops = ops;
	run.nops = nops;
	q.on = true;
	int st = fuzz_call(call_send, NULL);
	q.on = false;
	if (nops > 1)
		check_ops(st, ops, nops);
	else
		check_stdin(st, run.kind);
	free(rest);
	return 0;
}
