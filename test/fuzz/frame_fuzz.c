/* libFuzzer target for lib/frame.c's reader: whatever bytes arrive, in
 * whatever pieces, under whatever limit, the reader returns exactly the
 * messages (and the same error at the same place) that the framing rules
 * give for the whole stream at once, written out here a second way.
 *
 * The input is a program for a fake descriptor (a read(2) hook): byte 0
 * chooses the framing (bits 0-1), the limit (bits 2-5, limits[] below:
 * the 1 GiB default, 1 to 64 KiB, 1 MiB, 64 MiB) and the caller (bit 6: blocking
 * frame_read, or frame_next/frame_fill as the event loops call them);
 * then operations, each a byte whose low two bits say which:
 *   0  literal: the next byte + 1 bytes of input, read in pieces of
 *      1 << (bits 2-4, less one) bytes (bits 2-4 zero: as asked)
 *   1  filler: (next byte + 1) << (bits 2-6 % 19) copies of the byte after
 *      (bit 7: read in pieces of 4 KiB),
 *      so that a few input bytes reach the 1 MiB and 64 MiB limits
 *   2  EAGAIN (the blocking caller gets EINTR instead), 3  EINTR.
 * Then EOF (the stream stops where more could not reach the limit).
 * Checked besides: the reader never asks read(2) for 0 bytes,
 * and its buffer stays within twice the limit (or 64 KiB).
 * Build with -DFRAME_EXACT_LIMIT once a line or NUL message over the
 * limit is always refused (issue 12, item 3); until then such a message
 * may be returned whole when its terminator is already buffered. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipc.h"
#include "fuzz.h"

#define STREAM_MAX ((size_t)65 << 20)
#define BUF_MIN ((size_t)64 << 10)

enum ev_type { EV_DATA, EV_AGAIN, EV_INTR };
struct ev {
	enum ev_type type;
	size_t off, len, piece;
};

static struct {
	int fd;            /* the fake descriptor (/dev/null, never read) */
	uint8_t *stream;
	size_t len;
	struct ev *ev;
	size_t nev, evcap, cur, done;
} src = { .fd = -1 };

/* read(2) for everyone: the fake descriptor is served from the program. */
ssize_t
read(int fd, void *buf, size_t n)
{
	if (src.fd < 0 || fd != src.fd)
		return syscall(SYS_read, fd, buf, n);
	FUZZ_ASSERT(n > 0);
	while (src.cur < src.nev) {
		struct ev *e = &src.ev[src.cur];
		if (e->type != EV_DATA) {
			src.cur++;
			errno = e->type == EV_AGAIN ? EAGAIN : EINTR;
			return -1;
		}
		size_t k = e->len - src.done;
		if (k > n)
			k = n;
		if (k > e->piece)
			k = e->piece;
		memcpy(buf, src.stream + e->off + src.done, k);
		src.done += k;
		if (src.done == e->len) {
			src.cur++;
			src.done = 0;
		}
		return (ssize_t)k;
	}
	return 0;
}

static void
add_ev(enum ev_type type, size_t off, size_t len, size_t piece)
{
	if (type == EV_DATA && len == 0)
		return;
	if (src.nev == src.evcap) {
		src.evcap = src.evcap ? src.evcap * 2 : 64;
		src.ev = realloc(src.ev, src.evcap * sizeof *src.ev);
		FUZZ_ASSERT(src.ev != NULL);
	}
	src.ev[src.nev++] = (struct ev){ type, off, len, piece };
}

/* The stream lives outside the heap (mapped once, never freed), so that
 * the leak checker does not scan 65 MiB for pointers on every input. */
static uint8_t *
grow(size_t n)
{
	if (src.stream == NULL) {
		src.stream = mmap(NULL, STREAM_MAX, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		FUZZ_ASSERT(src.stream != MAP_FAILED);
	}
	FUZZ_ASSERT(src.len + n <= STREAM_MAX);
	src.len += n;
	return src.stream + src.len - n;
}

/* Input past what can reach LIM (twice it, and the first buffer) adds
 * nothing but time: the stream stops there. */
static size_t
stream_max(size_t lim)
{
	if (lim > ((size_t)64 << 20))
		return (size_t)4 << 20;  /* the 1 GiB default: growth, not the limit */
	if (lim >= STREAM_MAX / 2)
		return STREAM_MAX;
	return 2 * lim + 2 * BUF_MIN;
}

static void
build(struct fuzz_in *in, enum frame_kind kind, bool blocking, size_t lim)
{
	char delim = kind == FRAME_NUL ? '\0' : '\n';
	size_t smax = stream_max(lim);

	src.len = src.nev = src.cur = src.done = 0;
	while (in->n > 0) {
		uint8_t c = fuzz_byte(in);
		size_t off = src.len, n;
		switch (c & 3) {
		case 0: {
			n = (size_t)fuzz_byte(in) + 1;
			if (n > smax - src.len)
				n = smax - src.len;
			uint8_t *p = grow(n);
			n = fuzz_bytes(in, p, n);
			src.len = off + n;
			unsigned k = (c >> 2) & 7;
			add_ev(EV_DATA, off, n, k ? (size_t)1 << (k - 1) : SIZE_MAX);
			break;
		}
		case 1: {
			n = ((size_t)fuzz_byte(in) + 1) << (((c >> 2) & 31) % 19);
			uint8_t b = fuzz_byte(in);
			/* A million empty messages teach nothing but cost. */
			if (kind <= FRAME_NUL && b == (uint8_t)delim && n > 4096)
				n = 4096;
			if (n > smax - src.len)
				n = smax - src.len;
			memset(grow(n), b, n);
			add_ev(EV_DATA, off, n, (c & 0x80) ? 4096 : SIZE_MAX);
			break;
		}
		case 2:
			add_ev(blocking ? EV_INTR : EV_AGAIN, 0, 0, 0);
			break;
		case 3:
			add_ev(EV_INTR, 0, 0, 0);
			break;
		}
	}
}

/* The rules, for the whole stream S (N bytes, then EOF), from *POS:
 * 1 and a message at OFF/LEN, 0 at a clean end, -1 with *E (and *OVER). */
static int
ref_next(enum frame_kind kind, size_t max, const uint8_t *s, size_t n,
    size_t *pos, size_t *off, size_t *len, int *e, uint64_t *over)
{
	size_t have = n - *pos;

	*over = 0;
	if (have == 0)
		return 0;
	const uint8_t *p = s + *pos;
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
		size_t i = 0;
		uint64_t v = 0;
		*e = EBADMSG;
		for (; i < have && p[i] >= '0' && p[i] <= '9'; i++) {
			if ((i > 0 && p[0] == '0') || i >= 19)
				return -1;
			v = v * 10 + (p[i] - '0');
		}
		if (i == 0 || i == have || p[i] != ':')
			return -1;
		if (v > max) {
			*e = EMSGSIZE;
			*over = v;
			return -1;
		}
		if (have - i - 1 < v + 1 || p[i + 1 + v] != ',')
			return -1;
		*off = *pos + i + 1;
		*len = v;
		*pos += i + 1 + v + 1;
		return 1;
	}
	uint64_t v = 0;
	size_t hdr = 4;
	*e = EBADMSG;
	if (have < 4)
		return -1;
	for (int i = 0; i < 4; i++)
		v = v << 8 | p[i];
	if (v == 0xFFFFFFFFu) {
		if (have < 12)
			return -1;
		hdr = 12;
		v = 0;
		for (int i = 4; i < 12; i++)
			v = v << 8 | p[i];
	} else if (v > 0x7FFFFFFFu)
		return -1;
	if (v > max) {
		*e = EMSGSIZE;
		*over = v;
		return -1;
	}
	if (have - hdr < v)
		return -1;
	*off = *pos + hdr;
	*len = v;
	*pos += hdr + v;
	return 1;
}

/* The big limits are drawn rarely: their inputs take a thousand times
 * longer. */
static const size_t limits[16] = {
	0, 1, 3, 16, 4095, (size_t)64 << 10, (size_t)1 << 20, (size_t)64 << 20,
	0, 1, 2, 5, 100, 4096, 65535, 0,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_byte(&in);
	enum frame_kind kind = (enum frame_kind)(b0 & 3);
	size_t max = limits[(b0 >> 2) & 15], lim;
	bool blocking = (b0 >> 6) & 1;
	struct frame_reader r;
	size_t pos = 0, off = 0, rlen = 0, len;
	uint64_t over = 0;
	int rc, ref, e = 0;
	char *msg;

	if (src.fd < 0 && (src.fd = open("/dev/null", O_RDONLY)) == -1)
		abort();
	frame_reader_init(&r, src.fd, kind, max);
	lim = r.max;
	build(&in, kind, blocking, lim);
	for (;;) {
		if (blocking)
			rc = frame_read(&r, &msg, &len);
		else if ((rc = frame_next(&r, &msg, &len)) == 0 && !r.eof) {
			if (frame_fill(&r) == -1)
				FUZZ_ASSERT(errno == EAGAIN);
			continue;
		}
		int re = errno;
		/* What it holds is bounded by the limit, not by the input. */
		FUZZ_ASSERT(r.cap <= BUF_MIN || r.cap <= 2 * (lim + 32));
		ref = ref_next(kind, lim, src.stream, src.len, &pos, &off, &rlen,
		    &e, &over);
		if (rc == 1) {
#ifdef FRAME_EXACT_LIMIT
			FUZZ_ASSERT(len <= lim);
#endif
			FUZZ_ASSERT(ref == 1 && len == rlen);
			FUZZ_ASSERT(len == 0 || memcmp(msg, src.stream + off, len) == 0);
			continue;
		}
		if (rc == 0) {
			FUZZ_ASSERT(ref == 0 && r.eof && frame_pending(&r) == 0);
			FUZZ_ASSERT(src.cur == src.nev);
			break;
		}
		FUZZ_ASSERT(re == EBADMSG || re == EMSGSIZE);
		FUZZ_ASSERT(frame_strerror(&r, re) == r.why && r.why[0] != '\0');
		if (ref == 1) {
			/* Refused where the whole stream shows a line or NUL
			 * message with its terminator: only if over the limit;
			 * its size is named when the end came in the same read
			 * as the bytes past the limit. */
			FUZZ_ASSERT(kind <= FRAME_NUL && re == EMSGSIZE &&
			    rlen > lim && (r.over == 0 || r.over == rlen));
			break;
		}
		FUZZ_ASSERT(ref == -1 && re == e && r.over == over);
		break;
	}
	frame_reader_free(&r);
	return 0;
}
