/* Message framing: newline, NUL, netstring and len32 (the wire format of
 * Python's multiprocessing.connection). One reader, one writer. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define FRAME_BUF_MIN (64 * 1024)
/* The framing around a message of the largest size: a netstring's length
 * (up to 20 digits), ':' and ','; a len32 long header (12 bytes). */
#define FRAME_SLACK 32
/* The smallest buffer frame_keep gives an unfinished message. */
#define FRAME_KEEP_MIN 4096

void
frame_reader_init(struct frame_reader *r, int fd, enum frame_kind kind,
    size_t max)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->kind = kind;
	r->max = max ? max : FRAME_MAX_DEFAULT;
}

/* Frees R's own buffer (the caller's scratch buffer is not ours) and
 * gives it back to the budget. */
static void
frame_drop_buf(struct frame_reader *r)
{
	if (!r->shared) {
		budget_give(r->budget, r->cap);
		free(r->buf);
	}
	r->buf = NULL;
	r->cap = 0;
	r->shared = false;
}

void
frame_reader_free(struct frame_reader *r)
{
	frame_drop_buf(r);
}

size_t
frame_pending(const struct frame_reader *r)
{
	return r->end - r->start;
}

static int
frame_take(struct frame_reader *r, size_t off, size_t len, size_t skip,
    char **msg, size_t *n)
{
	*msg = r->buf + r->start + off;
	*n = len;
	r->start += off + len + skip;
	r->scan = r->start;
	return 1;
}

/* Fails with errno E, R's why saying what is wrong with the input. */
static int __attribute__((format(printf, 3, 4)))
frame_bad(struct frame_reader *r, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/* A byte of input as a message shows it: 'x', or 0x0a if unprintable. */
static const char *
frame_show(unsigned char c, char out[8])
{
	snprintf(out, 8, isprint(c) ? "'%c'" : "0x%02x", c);
	return out;
}

const char *
frame_strerror(const struct frame_reader *r, int e)
{
	if ((e == EBADMSG || e == EMSGSIZE) && r->why[0] != '\0')
		return r->why;
	return strerror(e);
}

static int
frame_next_delim(struct frame_reader *r, char **msg, size_t *len)
{
	char delim = r->kind == FRAME_NUL ? '\0' : '\n';
	size_t from = r->scan > r->start ? r->scan : r->start;
	char *p = memchr(r->buf + from, delim, r->end - from);

	if (p != NULL && (size_t)(p - (r->buf + r->start)) > r->max) {
		/* The end came in the same read as bytes over the limit. */
		r->over = (size_t)(p - (r->buf + r->start));
		return frame_bad(r, EMSGSIZE, "%s of %llu bytes, over the "
		    "limit of %zu", r->kind == FRAME_NUL ? "message" : "line",
		    (unsigned long long)r->over, r->max);
	}
	if (p != NULL)
		return frame_take(r, 0, (size_t)(p - (r->buf + r->start)), 1,
		    msg, len);
	r->scan = r->end;
	if (r->end - r->start > r->max)
		return frame_bad(r, EMSGSIZE, "%s over the limit of %zu bytes",
		    r->kind == FRAME_NUL ? "message with no NUL" :
		    "line with no newline", r->max);
	/* A last line without its terminator is still a message. */
	if (r->eof && r->end > r->start)
		return frame_take(r, 0, r->end - r->start, 0, msg, len);
	return 0;
}

static int
frame_next_netstring(struct frame_reader *r, char **msg, size_t *len)
{
	const char *p = r->buf + r->start;
	size_t have = r->end - r->start, i = 0, n = 0;
	char c[8];

	while (i < have && p[i] >= '0' && p[i] <= '9') {
		if (i > 0 && p[0] == '0')
			return frame_bad(r, EBADMSG, "malformed netstring "
			    "(length with a leading zero)");
		if (i >= 19)
			return frame_bad(r, EBADMSG, "malformed netstring "
			    "(length of more than 19 digits)");
		n = n * 10 + (size_t)(p[i] - '0');
		i++;
	}
	if (i == have)
		return r->eof && have > 0 ? frame_bad(r, EBADMSG,
		    "truncated netstring (no ':' after the length)") : 0;
	if (i == 0)
		return frame_bad(r, EBADMSG, "malformed netstring "
		    "(%s where its length should begin)", frame_show(p[i], c));
	if (p[i] != ':')
		return frame_bad(r, EBADMSG, "malformed netstring "
		    "(%s after the length, not ':')", frame_show(p[i], c));
	if (n > r->max) {
		r->over = n;
		return frame_bad(r, EMSGSIZE, "netstring of %zu bytes, over "
		    "the limit of %zu", n, r->max);
	}
	if (have < i + 1 + n)
		return r->eof ? frame_bad(r, EBADMSG, "truncated netstring "
		    "(%zu bytes announced, %zu read)", n, have - i - 1) : 0;
	if (have < i + 1 + n + 1)
		return r->eof ? frame_bad(r, EBADMSG, "truncated netstring "
		    "(no ',' after its %zu bytes)", n) : 0;
	if (p[i + 1 + n] != ',')
		return frame_bad(r, EBADMSG, "malformed netstring "
		    "(%s after its %zu bytes, not ',')",
		    frame_show(p[i + 1 + n], c), n);
	return frame_take(r, i + 1, n, 1, msg, len);
}

static uint64_t
frame_be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int
frame_next_len32(struct frame_reader *r, char **msg, size_t *len)
{
	const unsigned char *p = (unsigned char *)r->buf + r->start;
	size_t have = r->end - r->start, hdr = 4;
	uint64_t n;

	if (have < 4)
		return r->eof && have > 0 ? frame_bad(r, EBADMSG,
		    "truncated len32 frame (header of %zu bytes, not 4)",
		    have) : 0;
	n = frame_be(p, 4);
	if (n == 0xFFFFFFFFu) {
		/* Python's header for messages over 2 GiB: -1, then 8 bytes. */
		hdr = 12;
		if (have < 12)
			return r->eof ? frame_bad(r, EBADMSG, "truncated len32 "
			    "frame (long header of %zu bytes, not 12)", have) : 0;
		n = frame_be(p + 4, 8);
	} else if (n > 0x7FFFFFFFu)
		return frame_bad(r, EBADMSG, "malformed len32 frame (length "
		    "0x%08llx is negative)", (unsigned long long)n);
	if (n > r->max) {
		r->over = n;
		return frame_bad(r, EMSGSIZE, "len32 frame of %llu bytes, "
		    "over the limit of %zu", (unsigned long long)n, r->max);
	}
	if (have < hdr + n)
		return r->eof ? frame_bad(r, EBADMSG, "truncated len32 frame "
		    "(%llu bytes announced, %zu read)", (unsigned long long)n,
		    have - hdr) : 0;
	return frame_take(r, hdr, (size_t)n, 0, msg, len);
}

int
frame_next(struct frame_reader *r, char **msg, size_t *len)
{
	if (r->buf == NULL)
		return 0;
	switch (r->kind) {
	case FRAME_NETSTRING: return frame_next_netstring(r, msg, len);
	case FRAME_LEN32: return frame_next_len32(r, msg, len);
	default: return frame_next_delim(r, msg, len);
	}
}

/* The capacity R's full buffer grows to: doubled, but no more than a
 * message of the limit needs while that is more than it has (a reader
 * that reads ahead of the messages it takes grows on by doubling).
 * Charged to R's budget: false when that cannot hold it. */
static bool
frame_grow(struct frame_reader *r)
{
	size_t ncap = r->cap ? r->cap * 2 : FRAME_BUF_MIN;
	size_t top = r->max + FRAME_SLACK;

	if (ncap > top && top > r->cap)
		ncap = top;
	if (!budget_take(r->budget, ncap - r->cap))
		return false;
	char *nb = realloc(r->buf, ncap);
	if (nb == NULL)
		err(EXIT_FAIL, "malloc");
	r->buf = nb;
	r->cap = ncap;
	return true;
}

ssize_t
frame_fill(struct frame_reader *r)
{
	ssize_t n;

	if (r->shared && frame_keep(r) == -1)
		return -1;
	if (r->start > 0 && (r->start == r->end || r->end == r->cap)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->scan >= r->start ? r->start : r->scan;
		r->start = 0;
	}
	if (r->end == r->cap && !frame_grow(r)) {
		errno = ENOBUFS;
		return -1;
	}
	n = io_read(r->fd, r->buf + r->end, r->cap - r->end);
	if (n > 0)
		r->end += (size_t)n;
	else if (n == 0)
		r->eof = true;
	return n;
}

ssize_t
frame_fill_shared(struct frame_reader *r, char *scratch, size_t size)
{
	size_t rest = frame_pending(r);
	ssize_t n;

	if (r->shared && frame_keep(r) == -1)
		return -1;
	if (rest > size / 2)
		return frame_fill(r);  /* a long message: assembled in R's own */
	if (rest > 0)
		memcpy(scratch, r->buf + r->start, rest);
	n = io_read(r->fd, scratch + rest, size - rest);
	if (n == 0)
		r->eof = true;
	if (n <= 0)
		return n;  /* R's own buffer still holds the rest */
	r->scan = r->scan > r->start ? r->scan - r->start : 0;
	frame_drop_buf(r);
	r->buf = scratch;
	r->cap = size;
	r->start = 0;
	r->end = rest + (size_t)n;
	r->shared = true;
	return n;
}

/* R's own buffer is mostly unused (a long message taken, the start of
 * a short one left): the rest moves to one that fits it. */
static void
frame_shrink(struct frame_reader *r)
{
	size_t rest = frame_pending(r), ncap = FRAME_KEEP_MIN;

	while (ncap < rest)
		ncap *= 2;
	if (r->cap <= FRAME_BUF_MIN || ncap * 2 > r->cap)
		return;
	memmove(r->buf, r->buf + r->start, rest);
	r->scan -= r->scan >= r->start ? r->start : r->scan;
	r->start = 0;
	r->end = rest;
	char *nb = realloc(r->buf, ncap);
	if (nb == NULL)
		return;  /* the bigger one still holds it */
	budget_give(r->budget, r->cap - ncap);
	r->buf = nb;
	r->cap = ncap;
}

int
frame_keep(struct frame_reader *r)
{
	size_t rest = frame_pending(r), ncap = FRAME_KEEP_MIN;

	if (rest == 0) {
		frame_drop_buf(r);
		r->start = r->end = r->scan = 0;
		return 0;
	}
	if (!r->shared) {
		frame_shrink(r);
		return 0;
	}
	while (ncap < rest)
		ncap *= 2;
	if (ncap > r->max + FRAME_SLACK && rest <= r->max + FRAME_SLACK)
		ncap = r->max + FRAME_SLACK;
	char *nb = NULL;
	if (budget_take(r->budget, ncap) && (nb = malloc(ncap)) == NULL)
		err(EXIT_FAIL, "malloc");
	if (nb != NULL)
		memcpy(nb, r->buf + r->start, rest);
	r->scan = r->scan > r->start ? r->scan - r->start : 0;
	r->buf = nb;
	r->cap = nb ? ncap : 0;
	r->start = 0;
	r->end = nb ? rest : 0;
	r->shared = false;
	if (nb == NULL) {
		r->scan = 0;  /* the rest is dropped: the budget cannot hold it */
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

int
frame_read(struct frame_reader *r, char **msg, size_t *len)
{
	for (;;) {
		int rc = frame_next(r, msg, len);
		if (rc != 0 || r->eof)
			return rc;
		if (frame_fill(r) == -1)
			return -1;
	}
}

size_t
frame_header(enum frame_kind kind, size_t len, char hdr[16],
    const char **trailer, size_t *trailer_len)
{
	*trailer_len = 1;
	switch (kind) {
	case FRAME_LINE: *trailer = "\n"; return 0;
	case FRAME_NUL: *trailer = ""; return 0;  /* the string's own NUL */
	case FRAME_NETSTRING:
		*trailer = ",";
		return (size_t)snprintf(hdr, 16, "%zu:", len);
	case FRAME_LEN32:
		*trailer = "";
		*trailer_len = 0;
		if (len > 0x7FFFFFFFu) {
			for (int i = 0; i < 4; i++)
				hdr[i] = (char)0xFF;
			for (int i = 0; i < 8; i++)
				hdr[4 + i] = (char)((uint64_t)len >> (56 - 8 * i));
			return 12;
		}
		for (int i = 0; i < 4; i++)
			hdr[i] = (char)((uint32_t)len >> (24 - 8 * i));
		return 4;
	}
	return 0;
}

int
frame_put(struct outbuf *ob, enum frame_kind kind, const void *pre,
    size_t plen, const void *msg, size_t len)
{
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(kind, plen + len, hdr, &tr, &tl);

	if (ob_put(ob, hdr, hl) == -1 || ob_put(ob, pre, plen) == -1 ||
	    ob_put(ob, msg, len) == -1)
		return -1;
	return ob_put(ob, tr, tl);
}

int
frame_write(int fd, enum frame_kind kind, const void *msg, size_t len)
{
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(kind, len, hdr, &tr, &tl);
	struct iovec iov[3] = {
		{ hdr, hl }, { (void *)msg, len }, { (void *)tr, tl },
	};

	return io_writev_all(fd, iov, 3);
}

const char *
frame_unfit(enum frame_kind kind, const void *msg, size_t len, bool trail_ok)
{
	static char why[160];
	const char delim = kind == FRAME_NUL ? '\0' : '\n';
	const char *m = msg, *end = m + len, *first, *p;
	size_t n = 0;

	if (kind != FRAME_LINE && kind != FRAME_NUL)
		return NULL;
	if (trail_ok && len > 0 && end[-1] == delim)
		end--;
	if ((first = memchr(m, delim, (size_t)(end - m))) == NULL)
		return NULL;
	for (p = first; p != NULL; p = memchr(p + 1, delim, (size_t)(end - p - 1)))
		n++;
	if (n == 1)
		snprintf(why, sizeof why, "%zu bytes with a %s inside (at byte "
		    "%zu)", len, kind == FRAME_NUL ? "NUL" : "newline",
		    (size_t)(first - m) + 1);
	else
		snprintf(why, sizeof why, "%zu bytes with %zu %s inside (the "
		    "first at byte %zu)", len, n, kind == FRAME_NUL ? "NULs" :
		    "newlines", (size_t)(first - m) + 1);
	snprintf(why + strlen(why), sizeof why - strlen(why), " would print "
	    "as %zu %s; --netstring carries any bytes", n + 1,
	    kind == FRAME_NUL ? "NUL-terminated records" : "lines");
	return why;
}
