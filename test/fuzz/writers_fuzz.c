/* libFuzzer target for lib/frame.c's writers and lib/io.c's output
 * buffer: random messages written with frame_put (through an outbuf of a
 * random capacity, with a random part of each message as its PRE) or
 * frame_write, with ob_put(NULL, 0) and ob_flush between, must make
 * exactly the bytes the framing rules give (encoded here a second way),
 * and lib/frame.c's reader must give them back, byte for byte. For lines
 * and NUL records, frame_unfit must refuse exactly the messages holding
 * the delimiter (those are not written).
 *
 * The input: byte 0 chooses the framing (bits 0-1) and the outbuf's
 * capacity (bits 2-4, caps[] below); then operations, each a byte whose
 * low two bits say which:
 *   0, 1  a message: its length (the next byte, times 1 << (bits 2-4),
 *         plus bits 5-7), PRE's length (the next byte, at most the
 *         message's), its bytes from the input (a pattern past its end);
 *         0 through frame_put, 1 through ob_flush then frame_write
 *   2     ob_put(ob, NULL, 0) (bit 2: and ob_put of a real pointer, 0)
 *   3     ob_flush. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc.h"
#include "fuzz.h"

#define OUT_MAX ((size_t)4 << 20)

static const size_t caps[8] = { 1, 2, 3, 13, 64, 4096, 65536, 0 };

struct sink {
	uint8_t *p;
	size_t len, cap;
};

static void
sink_add(struct sink *s, const void *d, size_t n)
{
	if (s->len + n > s->cap) {
		while (s->len + n > s->cap)
			s->cap = s->cap ? 2 * s->cap : 4096;
		s->p = realloc(s->p, s->cap);
		FUZZ_ASSERT(s->p != NULL);
	}
	if (n > 0)
		memcpy(s->p + s->len, d, n);
	s->len += n;
}

/* The framing rules, a second way: what one message must look like. */
static void
ref_frame(struct sink *s, enum frame_kind kind, const uint8_t *m, size_t n)
{
	char hdr[32];
	uint8_t be[4];

	switch (kind) {
	case FRAME_LINE:
		sink_add(s, m, n);
		sink_add(s, "\n", 1);
		break;
	case FRAME_NUL:
		sink_add(s, m, n);
		sink_add(s, "", 1);
		break;
	case FRAME_NETSTRING:
		sink_add(s, hdr, (size_t)snprintf(hdr, sizeof hdr, "%llu:",
		    (unsigned long long)n));
		sink_add(s, m, n);
		sink_add(s, ",", 1);
		break;
	case FRAME_LEN32:
		for (int i = 0; i < 4; i++)
			be[i] = (uint8_t)(n >> (24 - 8 * i));
		sink_add(s, be, 4);
		sink_add(s, m, n);
		break;
	}
}

/* Whether a message holds its framing's delimiter (before TRAIL_OK's last
 * byte): the rule frame_unfit must keep. */
static bool
ref_unfit(enum frame_kind kind, const uint8_t *m, size_t n, bool trail_ok)
{
	uint8_t d = kind == FRAME_NUL ? 0 : '\n';

	if (kind != FRAME_LINE && kind != FRAME_NUL)
		return false;
	if (trail_ok && n > 0 && m[n - 1] == d)
		n--;
	for (size_t i = 0; i < n; i++)
		if (m[i] == d)
			return true;
	return false;
}

static int out_fd = -1;
static uint8_t msgbuf[(255u << 7) + 8];

/* The next message of the input into msgbuf: returns its length. */
static size_t
next_msg(struct fuzz_in *in, uint8_t c, size_t *plen)
{
	size_t n = ((size_t)fuzz_byte(in) << ((c >> 2) & 7)) + (c >> 5);

	*plen = fuzz_byte(in);
	if (*plen > n)
		*plen = n;
	size_t got = fuzz_bytes(in, msgbuf, n);
	for (size_t i = got; i < n; i++)
		msgbuf[i] = (uint8_t)('a' + i % 26);
	return n;
}

/* Reads OUT_FD back from the start with the frame reader: exactly the
 * messages of MSGS (their lengths in LENS), then a clean EOF. */
static void
read_back(enum frame_kind kind, const struct sink *msgs, const size_t *lens,
    size_t nmsg)
{
	struct frame_reader r;
	size_t off = 0, len;
	char *m;

	FUZZ_ASSERT(lseek(out_fd, 0, SEEK_SET) == 0);
	frame_reader_init(&r, out_fd, kind, 0);
	for (size_t i = 0; i < nmsg; i++) {
		FUZZ_ASSERT(frame_read(&r, &m, &len) == 1);
		FUZZ_ASSERT(len == lens[i]);
		FUZZ_ASSERT(len == 0 || memcmp(m, msgs->p + off, len) == 0);
		off += len;
	}
	FUZZ_ASSERT(frame_read(&r, &m, &len) == 0);
	frame_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_byte(&in);
	enum frame_kind kind = (enum frame_kind)(b0 & 3);
	struct sink want = { 0 }, msgs = { 0 }, got = { 0 };
	size_t *lens = NULL, nmsg = 0, plen;
	struct outbuf ob;
	uint8_t dummy = 0;

	if (out_fd < 0 && (out_fd = memfd_create("writers", 0)) == -1)
		abort();
	FUZZ_ASSERT(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0);
	ob_init(&ob, out_fd, caps[(b0 >> 2) & 7]);
	while (in.n > 0 && want.len < OUT_MAX) {
		uint8_t c = fuzz_byte(&in);
		switch (c & 3) {
		case 0:
		case 1: {
			size_t n = next_msg(&in, c, &plen);
			bool trail = c & 0x80;
			const char *why = frame_unfit(kind, msgbuf, n, trail);
			FUZZ_ASSERT((why != NULL) == ref_unfit(kind, msgbuf, n, trail));
			FUZZ_ASSERT(why == NULL || strstr(why, "--netstring") != NULL);
			if (ref_unfit(kind, msgbuf, n, false))
				break;
			if ((c & 3) == 0)
				FUZZ_ASSERT(frame_put(&ob, kind, plen ? msgbuf : NULL,
				    plen, msgbuf + plen, n - plen) == 0);
			else
				FUZZ_ASSERT(ob_flush(&ob) == 0 &&
				    frame_write(out_fd, kind, msgbuf, n) == 0);
			ref_frame(&want, kind, msgbuf, n);
			sink_add(&msgs, msgbuf, n);
			lens = realloc(lens, (nmsg + 1) * sizeof *lens);
			FUZZ_ASSERT(lens != NULL);
			lens[nmsg++] = n;
			break;
		}
		case 2:
			FUZZ_ASSERT(ob_put(&ob, NULL, 0) == 0);
			if (c & 4)
				FUZZ_ASSERT(ob_put(&ob, &dummy, 0) == 0);
			break;
		case 3:
			FUZZ_ASSERT(ob_flush(&ob) == 0);
			FUZZ_ASSERT(ob.len == 0);
			break;
		}
		/* What the outbuf holds is never more than its capacity. */
		FUZZ_ASSERT(ob.len <= ob.cap);
	}
	FUZZ_ASSERT(ob_flush(&ob) == 0);
	ob_free(&ob);

	/* The bytes written are exactly the rules' bytes. */
	off_t end = lseek(out_fd, 0, SEEK_END);
	FUZZ_ASSERT(end >= 0 && (size_t)end == want.len);
	sink_add(&got, NULL, 0);
	got.p = realloc(got.p, want.len + 1);
	FUZZ_ASSERT(got.p != NULL);
	FUZZ_ASSERT(pread(out_fd, got.p, want.len, 0) == (ssize_t)want.len);
	FUZZ_ASSERT(want.len == 0 || memcmp(got.p, want.p, want.len) == 0);
	read_back(kind, &msgs, lens, nmsg);
	free(want.p);
	free(msgs.p);
	free(got.p);
	free(lens);
	return 0;
}
