/* ipc-spawnpipe's pool, input side: stdin read as messages, handed out
 * in batches of whole messages to the first workers ready to take them,
 * and handed back to the others by a worker that quits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "spawnpipe.h"

#define POOL_BATCH (128 * 1024)    /* most bytes of messages handed at once */
/* stdin is read ahead of the workers only this far: frame_fill moves what
 * is pending to the front of its buffer, so more would cost a memmove of
 * it per read. */
#define POOL_INPUT_HIGH POOL_BATCH

/* End offset of the framed message at OFF of BUF (our own framing, so
 * well formed). */
static size_t
msg_end(struct spawnpipe *ctx, const char *buf, size_t len, size_t off)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t n = 0, i = off;

	switch (ctx->kind) {
	case FRAME_LINE:
	case FRAME_NUL: {
		const char *p = memchr(buf + off, ctx->kind == FRAME_NUL ? '\0' : '\n',
		    len - off);
		return p ? (size_t)(p - buf) + 1 : len;
	}
	case FRAME_NETSTRING:
		while (i < len && buf[i] != ':')
			n = n * 10 + (size_t)(buf[i++] - '0');
		return i + 1 + n + 1;
	case FRAME_LEN32:
		for (int k = 0; k < 4; k++)
			n = (n << 8) | u[off + (size_t)k];
		if (n == 0xFFFFFFFFu) {
			n = 0;
			for (int k = 4; k < 12; k++)
				n = (n << 8) | u[off + (size_t)k];
			return off + 12 + n;
		}
		return off + 4 + n;
	}
	return len;
}

void
pool_worker_report(struct spawnpipe *ctx, int w, const char *why)
{
	struct worker *k = &ctx->wk[w];

	/* Once our own stdout is gone, what workers did is moot. */
	if (k->reported || k->taken == 0 || ctx->out_err != 0)
		return;
	k->reported = true;
	warnx("worker %d %s; %llu message%s it took may not have been handled",
	    w, why, (unsigned long long)k->taken, k->taken == 1 ? "" : "s");
}

/* Worker W takes no more input: messages of its batch not yet begun go
 * back for the others; the ones it took are counted as maybe lost. */
void
pool_worker_quit(struct spawnpipe *ctx, int w, const char *why)
{
	struct worker *k = &ctx->wk[w];
	size_t off = 0, back = 0;

	if (k->in_closed)
		return;
	k->in_closed = k->quit = true;
	close(k->tw);
	while (off < k->wlen && off < k->woff)
		off = msg_end(ctx, k->wb, k->wlen, off);
	for (size_t o = off; o < k->wlen; o = msg_end(ctx, k->wb, k->wlen, o))
		back++;
	if (back > 0) {
		buf_append(&ctx->rq, &ctx->rqlen, &ctx->rqcap, k->wb + off,
		    k->wlen - off, POOL_BATCH);
		ctx->rqmsgs += back;
		k->taken -= back;
	}
	k->woff = k->wlen = k->wmsgs = 0;
	if (k->taken > 0)
		ctx->lost = true;
	pool_worker_report(ctx, w, why);
}

static bool
input_more(struct spawnpipe *ctx)
{
	return ctx->rqlen > 0 || (!ctx->in_failed && frame_pending(&ctx->in) > 0 &&
	    !ctx->in_starved);
}

bool
pool_input_done(struct spawnpipe *ctx)
{
	return ctx->rqlen == 0 && (ctx->in_failed ||
	    (ctx->in.eof && frame_pending(&ctx->in) == 0));
}

/* Occurrences of D in P[0..LEN), eight bytes at a time: counting the
 * lines of every batch must cost little next to the workers' work. */
static size_t
count_byte(const char *p, size_t len, unsigned char d)
{
	const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7f7f7f7f7f7f7f7fULL;
	size_t n = 0, i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		x ^= ones * d;  /* bytes equal to D are now zero */
		uint64_t t = ((x & low7) + low7) | x;
		n += (size_t)__builtin_popcountll(~t & ~low7);
	}
	for (; i < len; i++)
		n += (unsigned char)p[i] == d;
	return n;
}

/* How many bytes of messages one worker gets at once: up to POOL_BATCH
 * (few writes when input abounds), but no more than its share of what
 * is buffered, so a short input is spread over the workers instead of
 * going all to the first. */

static size_t
batch_limit(struct spawnpipe *ctx)
{
	size_t share = frame_pending(&ctx->in) / ctx->share_div;

	return share < POOL_BATCH ? (share ? share : 1) : POOL_BATCH;
}

/* Of the LEN bytes at P, which end with a terminator D and are longer
 * than the limit: the length of the whole messages before the first one
 * over it (sets in_over), or LEN if none is. */
static size_t
delim_within(struct spawnpipe *ctx, const char *p, size_t len, char d,
    size_t *msgs)
{
	size_t off = 0;

	*msgs = 0;
	while (off < len) {
		const char *e = memchr(p + off, d, len - off);
		size_t end = (size_t)(e - p);  /* there is one: P ends with D */
		if (end - off > ctx->in.max) {
			ctx->in_over = true;
			break;
		}
		off = end + 1;
		(*msgs)++;
	}
	return off;
}

/* Whole lines (or NUL messages) at the head of the input, up to about
 * batch_limit(ctx) bytes but never fewer than one. Returns their length; 0
 * with in_over set when the first is over the limit (--max-message),
 * which holds lines exactly as it holds framed messages. */
static size_t
batch_delim(struct spawnpipe *ctx, size_t *msgs, bool *add_delim)
{
	char d = ctx->kind == FRAME_NUL ? '\0' : '\n';
	char *p = ctx->in.buf + ctx->in.start;
	size_t have = frame_pending(&ctx->in);
	size_t want = batch_limit(ctx);
	size_t lim = have < want ? have : want;
	char *e = memrchr(p, d, lim);

	*add_delim = false;
	if (e == NULL && have > lim)
		e = memchr(p + lim, d, have - lim);
	if (e == NULL) {
		if (have > ctx->in.max)
			ctx->in_over = true;
		if (ctx->in_over || !ctx->in.eof)
			return 0;
		*add_delim = true;  /* a last message without its terminator */
		*msgs = 1;
		return have;
	}
	size_t len = (size_t)(e - p) + 1;

	if (len - 1 > ctx->in.max)
		return delim_within(ctx, p, len, d, msgs);
	*msgs = count_byte(p, len, (unsigned char)d);
	return len;
}

/* Hands worker W a batch of whole messages and writes what the pipe
 * takes now; the rest stays with W (never split between workers). */
static void
worker_feed(struct spawnpipe *ctx, int w)
{
	struct worker *k = &ctx->wk[w];
	const char *data;
	size_t len, msgs = 0;
	bool add = false;

	if (ctx->rqlen > 0) {
		/* Swap the returned messages in as W's batch. */
		char *t = k->wb;
		size_t tc = k->wcap;
		k->wb = ctx->rq, k->wcap = ctx->rqcap, k->wlen = ctx->rqlen;
		k->wmsgs = ctx->rqmsgs, k->woff = 0;
		ctx->rq = t, ctx->rqcap = tc, ctx->rqlen = ctx->rqmsgs = 0;
		k->taken += k->wmsgs;
		return;
	}
	if (ctx->kind == FRAME_LINE || ctx->kind == FRAME_NUL) {
		len = batch_delim(ctx, &msgs, &add);
		if (len == 0 && ctx->in_over) {
			warnx("stdin: %s of more than %zu bytes, over the limit "
			    "(--max-message raises it)", ctx->kind == FRAME_NUL ?
			    "message" : "line", ctx->in.max);
			ctx->in_failed = true;
			return;
		}
		if (len == 0) {
			ctx->in_starved = true;
			return;
		}
		data = ctx->in.buf + ctx->in.start;
		ctx->in.start += len;
		ctx->in.scan = ctx->in.start;
	} else {
		char *m, hdr[16];
		const char *tr;
		size_t ml, tl;
		int rc = 0;

		k->wlen = 0;
		size_t want = batch_limit(ctx);
		while (k->wlen < want && (rc = frame_next(&ctx->in, &m, &ml)) == 1) {
			size_t hl = frame_header(ctx->kind, ml, hdr, &tr, &tl);
			buf_append(&k->wb, &k->wlen, &k->wcap, hdr, hl, POOL_BATCH);
			buf_append(&k->wb, &k->wlen, &k->wcap, m, ml, POOL_BATCH);
			buf_append(&k->wb, &k->wlen, &k->wcap, tr, tl, POOL_BATCH);
			msgs++;
		}
		if (msgs == 0 && rc == -1) {
			int e = errno;
			warnx("stdin: %s%s", frame_strerror(&ctx->in, e),
			    e == EMSGSIZE ? " (--max-message raises it)" : "");
			ctx->in_failed = true;
		}
		if (msgs == 0) {
			ctx->in_starved = !ctx->in_failed;
			return;
		}
		k->woff = 0, k->wmsgs = msgs, k->taken += msgs;
		return;
	}
	k->taken += msgs;
	/* Straight from the input buffer: most batches are never copied. */
	ssize_t n = write(k->tw, data, len);
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		k->woff = 0, k->wlen = 0, k->wmsgs = msgs;
		buf_append(&k->wb, &k->wlen, &k->wcap, data, len, POOL_BATCH);
		if (add)
			buf_append(&k->wb, &k->wlen, &k->wcap,
			    ctx->kind == FRAME_NUL ? "" : "\n", 1, POOL_BATCH);
		pool_worker_quit(ctx, w, "closed its input");
		return;
	}
	size_t done = n > 0 ? (size_t)n : 0;
	k->woff = 0, k->wlen = 0, k->wmsgs = msgs;
	if (done == len && !add)
		return;
	/* The whole batch, with WOFF where writing stopped: should W quit,
	 * pool_worker_quit must know where the messages begin. */
	buf_append(&k->wb, &k->wlen, &k->wcap, data, len, POOL_BATCH);
	if (add)
		buf_append(&k->wb, &k->wlen, &k->wcap,
		    ctx->kind == FRAME_NUL ? "" : "\n", 1, POOL_BATCH);
	k->woff = done;
}

/* Writes the rest of W's batch. */
static void
worker_push(struct spawnpipe *ctx, int w)
{
	struct worker *k = &ctx->wk[w];
	ssize_t n = write(k->tw, k->wb + k->woff, k->wlen - k->woff);

	if (n > 0) {
		k->woff += (size_t)n;
		if (k->woff == k->wlen)
			k->woff = k->wlen = k->wmsgs = 0;
	} else if (n == -1 && errno != EAGAIN && errno != EINTR)
		pool_worker_quit(ctx, w, "closed its input");
}

/* Input side of the poll set; returns the new count. */
int
pool_poll_in(struct spawnpipe *ctx, struct pollfd *pf, int n, int *pin)
{
	bool more = input_more(ctx);
	int ready = 0;

	*pin = -1;
	for (int i = 0; i < ctx->nkids; i++) {
		struct worker *k = &ctx->wk[i];
		k->pout = -1;
		if (k->in_closed)
			continue;
		ready++;
		bool want = k->wlen > 0 || more;
		pf[n] = (struct pollfd){ .fd = k->tw, .events = want ? POLLOUT : 0 };
		k->pout = n++;
	}
	if (ready > 0 && !ctx->in_failed && !ctx->in.eof &&
	    (ctx->in_starved || frame_pending(&ctx->in) < POOL_INPUT_HIGH)) {
		pf[n] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		*pin = n++;
	}
	return n;
}

/* After poll: read stdin, feed the ready workers, close inputs at EOF. */
void
pool_dispatch(struct spawnpipe *ctx, struct pollfd *pf, int pin)
{
	if (pin >= 0 && pf[pin].revents != 0) {
		ssize_t r = frame_fill(&ctx->in);
		if (r > 0 || r == 0)
			ctx->in_starved = false;
		else if (errno != EAGAIN && errno != EINTR) {
			warn("stdin");
			ctx->in_failed = true;
		}
	}
	size_t ready = 0;
	for (int i = 0; i < ctx->nkids; i++)
		ready += ctx->wk[i].pout >= 0 && !ctx->wk[i].in_closed &&
		    ctx->wk[i].wlen == 0 &&
		    (pf[ctx->wk[i].pout].revents & POLLOUT);
	size_t start = ctx->rr;
	for (int j = 0; j < ctx->nkids; j++) {
		int i = (int)((start + (size_t)j) % (size_t)ctx->nkids);
		struct worker *k = &ctx->wk[i];
		if (k->pout < 0 || k->in_closed || pf[k->pout].revents == 0)
			continue;
		if (pf[k->pout].revents & POLLERR) {
			pool_worker_quit(ctx, i, "closed its input");
			continue;
		}
		if (k->wlen == 0 && input_more(ctx)) {
			/* The ready workers share what is buffered evenly. */
			ctx->share_div = ready > 1 ? ready-- : 1;
			worker_feed(ctx, i);
		}
		if (!k->in_closed && k->wlen > 0)
			worker_push(ctx, i);
		ctx->rr = (size_t)i + 1;
	}
	if (!pool_input_done(ctx))
		return;
	/* Only when every batch is out: a worker that quits with part of
	 * its batch unwritten hands it back, and someone must take it. */
	for (int i = 0; i < ctx->nkids; i++)
		if (!ctx->wk[i].in_closed && ctx->wk[i].wlen > 0)
			return;
	for (int i = 0; i < ctx->nkids; i++)
		if (!ctx->wk[i].in_closed) {
			ctx->wk[i].in_closed = true;
			close(ctx->wk[i].tw);
		}
}
