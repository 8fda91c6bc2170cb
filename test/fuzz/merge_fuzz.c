/* libFuzzer target for lib/merge.c, the line-atomic merge: chunks from up
 * to four sources, interleaved as the input says, under a max_piece of 1
 * to 8 bytes (or the 64 KiB default), then each source ended. Each source
 * has its own prefix ("<0>" to "<3>") and its bytes are letters and
 * newlines, so the output can be read back: every output line is one
 * prefix and bytes of that source only (a record is never cut by another
 * source's), and each source's lines, in order, joined again where the
 * source had a newline, are exactly the bytes it was fed: none lost, none
 * added but the newline that ends a piece another source's output
 * follows. Checked besides: a source never holds more than max_piece.
 *
 * The input: byte 0, max_piece (bits 0-3: 1 to 8, else the default);
 * then operations: a byte whose bits 0-1 name the source, bit 7 set: it
 * ends (later feeds of it are skipped), else bits 2-6 + 1 bytes fed,
 * each an input byte made a letter, or a newline when it is 0 mod 5. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc.h"
#include "fuzz.h"

#define NSRC 4

struct fed {
	char *p;
	size_t len, cap, used;  /* used: read back so far */
	bool ended;
};

static void
fed_add(struct fed *f, const char *d, size_t n)
{
	buf_append(&f->p, &f->len, &f->cap, d, n, 256);
}

static int out_fd = -1;
static const char *prefix[NSRC] = { "<0>", "<1>", "<2>", "<3>" };

/* One output line L (LEN bytes, without its newline; NL: whether one
 * ended it) checked against what its source was fed. */
static void
check_line(struct fed *fed, const char *l, size_t len, bool nl)
{
	FUZZ_ASSERT(len >= 3 && l[0] == '<' && l[2] == '>' &&
	    l[1] >= '0' && l[1] < '0' + NSRC);
	struct fed *f = &fed[l[1] - '0'];
	const char *body = l + 3;
	size_t blen = len - 3;

	FUZZ_ASSERT(memchr(body, '<', blen) == NULL);
	FUZZ_ASSERT(blen <= f->len - f->used);
	FUZZ_ASSERT(blen == 0 || memcmp(body, f->p + f->used, blen) == 0);
	f->used += blen;
	/* The source's own newline, or one added after a piece (the source
	 * goes on with a letter then, or had ended). */
	if (f->used < f->len && f->p[f->used] == '\n') {
		FUZZ_ASSERT(nl);
		f->used++;
	}
}

static void
read_back(struct fed *fed)
{
	off_t end = lseek(out_fd, 0, SEEK_END);
	FUZZ_ASSERT(end >= 0);
	char *out = malloc((size_t)end + 1);
	FUZZ_ASSERT(out != NULL);
	FUZZ_ASSERT(pread(out_fd, out, (size_t)end, 0) == (ssize_t)end);
	size_t off = 0, n = (size_t)end;
	while (off < n) {
		const char *nl = memchr(out + off, '\n', n - off);
		size_t l = nl ? (size_t)(nl - (out + off)) : n - off;
		check_line(fed, out + off, l, nl != NULL);
		off += l + (nl != NULL);
	}
	for (int i = 0; i < NSRC; i++)
		FUZZ_ASSERT(fed[i].used == fed[i].len);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_byte(&in);
	size_t piece = (b0 & 15) < 8 ? (size_t)(b0 & 15) + 1 : 0;
	struct merge m;
	struct merge_src s[NSRC];
	struct fed fed[NSRC];
	char chunk[32];

	if (out_fd < 0 && (out_fd = memfd_create("merge", 0)) == -1)
		abort();
	FUZZ_ASSERT(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0);
	merge_init(&m, out_fd, piece);
	memset(fed, 0, sizeof fed);
	for (int i = 0; i < NSRC; i++)
		merge_src_init(&s[i], prefix[i]);
	while (in.n > 0) {
		uint8_t c = fuzz_byte(&in);
		int k = c & 3;
		if (fed[k].ended)
			continue;
		if (c & 0x80) {
			FUZZ_ASSERT(merge_end(&m, &s[k]) == 0);
			FUZZ_ASSERT(merge_pending(&s[k]) == 0 && s[k].buf == NULL);
			fed[k].ended = true;
			continue;
		}
		size_t n = fuzz_bytes(&in, chunk, ((c >> 2) & 31) + 1);
		for (size_t i = 0; i < n; i++) {
			uint8_t b = (uint8_t)chunk[i];
			chunk[i] = b % 5 == 0 ? '\n' : (char)('a' + b % 26);
		}
		FUZZ_ASSERT(merge_feed(&m, &s[k], chunk, n) == 0);
		FUZZ_ASSERT(merge_pending(&s[k]) <= m.max_piece);
		fed_add(&fed[k], chunk, n);
	}
	for (int i = 0; i < NSRC; i++)
		if (!fed[i].ended)
			FUZZ_ASSERT(merge_end(&m, &s[i]) == 0);
	read_back(fed);
	for (int i = 0; i < NSRC; i++)
		free(fed[i].p);
	free(m.iov);
	return 0;
}
