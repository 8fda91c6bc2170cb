/* A line-atomic merge of many sources (clients, workers) onto one output.
 * One process does all the writing, so "atomic" means: never start another
 * source's output while one source's line is half written. The only byte
 * ever added is a newline, where another source's output must follow an
 * unterminated piece (a line longer than max_piece, or a source's last
 * line without a newline). A line is held until its newline comes, up to
 * max_piece bytes: a longer one goes out in pieces of max_piece bytes, so
 * memory per source stays bounded by max_piece. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <err.h>

#include "ipc.h"

#define MERGE_PIECE_DEFAULT (64 * 1024)

void
merge_init(struct merge *m, int fd, size_t max_piece)
{
	memset(m, 0, sizeof *m);
	m->fd = fd;
	m->max_piece = max_piece ? max_piece : MERGE_PIECE_DEFAULT;
}

void
merge_src_init(struct merge_src *s, const char *prefix)
{
	static uint64_t next_id;

	memset(s, 0, sizeof *s);
	s->prefix = prefix;
	s->prefix_len = prefix ? strlen(prefix) : 0;
	s->id = ++next_id;
}

size_t
merge_pending(const struct merge_src *s)
{
	return s->len;
}

static void
merge_iov_add(struct merge *m, size_t *n, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (*n == m->iov_cap) {
		size_t ncap = m->iov_cap ? m->iov_cap * 2 : 64;
		struct iovec *ni = reallocarray(m->iov, ncap, sizeof *ni);
		if (ni == NULL)
			err(EXIT_FAIL, "malloc");
		m->iov = ni;
		m->iov_cap = ncap;
	}
	m->iov[(*n)++] = (struct iovec){ (void *)p, len };
}

/* Starts S's output: ends another source's unterminated piece, and puts
 * S's prefix unless S continues its own piece. */
static void
merge_begin(struct merge *m, struct merge_src *s, size_t *n)
{
	bool continues = s->midline && m->open_id == s->id;

	if (m->open_id != 0 && m->open_id != s->id)
		merge_iov_add(m, n, "\n", 1);
	if (!continues)
		merge_iov_add(m, n, s->prefix, s->prefix_len);
}

/* Through M->out when set: a blocked output then keeps the rest, in
 * order, and the caller's loop goes on. */
static int
merge_write(struct merge *m, size_t n)
{
	if (n == 0)
		return 0;
	if (m->out != NULL)
		return outq_writev(m->out, m->iov, (int)n);
	return io_writev_all(m->fd, m->iov, (int)n);
}

static void
merge_keep(struct merge_src *s, const char *p, size_t len)
{
	buf_append(&s->buf, &s->len, &s->cap, p, len, 4096);
}

/* Writes S's held bytes as an unterminated piece. */
static int
merge_piece(struct merge *m, struct merge_src *s)
{
	size_t n = 0;

	merge_begin(m, s, &n);
	merge_iov_add(m, &n, s->buf, s->len);
	if (merge_write(m, n) == -1)
		return -1;
	s->len = 0;
	s->midline = true;
	m->open_id = s->id;
	return 0;
}

/* Writes S's held bytes and the whole lines D[0..LEN) (LEN ends with a
 * newline), each line with S's prefix. */
static int
merge_lines(struct merge *m, struct merge_src *s, const char *d, size_t len)
{
	size_t n = 0, off = 0;

	merge_begin(m, s, &n);
	merge_iov_add(m, &n, s->buf, s->len);
	while (off < len) {
		const char *nl = memchr(d + off, '\n', len - off);
		size_t l = (size_t)(nl - (d + off)) + 1;
		if (off > 0)
			merge_iov_add(m, &n, s->prefix, s->prefix_len);
		merge_iov_add(m, &n, d + off, l);
		off += l;
		if (s->prefix_len == 0) {
			/* No prefixes: the rest goes as one piece. */
			merge_iov_add(m, &n, d + off, len - off);
			break;
		}
	}
	if (merge_write(m, n) == -1)
		return -1;
	s->len = 0;
	s->midline = false;
	m->open_id = 0;
	return 0;
}

/* S's line, whose unwritten part is S's held bytes and the next BODY bytes
 * of *D (none of them a newline): while that is longer than max_piece, its
 * next max_piece bytes go out as a piece. Every piece is max_piece bytes
 * exactly, so where another source's output cuts the line (a newline
 * added), no part of it is longer than max_piece. Advances *D and *LEN
 * past what went out. Returns 0 or -1. */
static int
merge_cut(struct merge *m, struct merge_src *s, const char **d, size_t *len,
    size_t body)
{
	while (s->len + body > m->max_piece) {
		size_t take = m->max_piece - s->len;

		merge_keep(s, *d, take);
		if (merge_piece(m, s) == -1)
			return -1;
		*d += take;
		*len -= take;
		body -= take;
	}
	return 0;
}

static int
merge_feed_held(struct merge *m, struct merge_src *s, const void *data,
    size_t len)
{
	const char *d = data;
	const char *nl = len ? memchr(d, '\n', len) : NULL;
	size_t whole;

	if (merge_cut(m, s, &d, &len, nl ? (size_t)(nl - d) : len) == -1)
		return -1;
	nl = len ? memrchr(d, '\n', len) : NULL;
	whole = nl ? (size_t)(nl - d) + 1 : 0;
	if (whole > 0 && merge_lines(m, s, d, whole) == -1)
		return -1;
	d += whole;
	len -= whole;
	/* The unterminated rest: held, or out in pieces if too long. */
	if (merge_cut(m, s, &d, &len, len) == -1)
		return -1;
	merge_keep(s, d, len);
	return 0;
}

/* The most S's buffer grows to while LEN more bytes are fed: what it
 * holds is never more than max_piece, and merge_keep grows it as
 * buf_reserve does (doubling from 4096 or its capacity). */
static size_t
merge_cap_bound(const struct merge *m, const struct merge_src *s, size_t len)
{
	size_t need = len < m->max_piece - s->len ? s->len + len : m->max_piece;
	size_t cap = s->cap ? s->cap : 4096;

	if (need <= s->cap)
		return s->cap;
	while (cap < need)
		cap *= 2;
	return cap;
}

/* S's buffer is charged to its budget for the most it may grow to before
 * the feed, and for what it has after; emptied, it is freed, so a source
 * between lines holds nothing. */
int
merge_feed(struct merge *m, struct merge_src *s, const void *data, size_t len)
{
	size_t bound = merge_cap_bound(m, s, len), charged = s->cap;
	int rc;

	if (bound > charged) {
		if (!budget_take(s->budget, bound - charged)) {
			errno = ENOBUFS;
			return -1;
		}
		charged = bound;
	}
	rc = merge_feed_held(m, s, data, len);
	budget_give(s->budget, charged - s->cap);
	if (s->len == 0 && s->buf != NULL)
		buf_release(s->budget, &s->buf, &s->cap);
	return rc;
}

int
merge_end(struct merge *m, struct merge_src *s)
{
	int rc = 0;

	if (s->len > 0)
		rc = merge_piece(m, s);
	buf_release(s->budget, &s->buf, &s->cap);
	s->len = 0;
	return rc;
}
