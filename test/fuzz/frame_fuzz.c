/* libFuzzer harness for lib/frame.c: whatever bytes arrive, the reader
 * must never crash or read out of bounds, and the messages it returns,
 * framed by the writer and read again, must come back unchanged.
 *   make fuzz   (clang with -fsanitize=fuzzer,address,undefined) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc.h"

/* Reads every message of DATA with KIND and frames it again into *OUT.
 * Returns the reader's last status (0 clean end, -1 malformed). */
static int
frame_roundtrip(enum frame_kind kind, const uint8_t *data, size_t size,
    char **out, size_t *olen)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd == -1 || write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);

	struct frame_reader r;
	frame_reader_init(&r, fd, kind, 1 << 16);
	size_t cap = size * 2 + 64, len, tl, hl;
	char hdr[16], *msg;
	const char *tr;
	int rc;

	*out = malloc(cap);
	*olen = 0;
	while ((rc = frame_read(&r, &msg, &len)) == 1) {
		hl = frame_header(kind, len, hdr, &tr, &tl);
		if (*olen + hl + len + tl > cap)
			abort();
		memcpy(*out + *olen, hdr, hl);
		memcpy(*out + *olen + hl, msg, len);
		memcpy(*out + *olen + hl + len, tr, tl);
		*olen += hl + len + tl;
	}
	frame_reader_free(&r);
	close(fd);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out, *out2;
	size_t olen, olen2;

	if (size < 1)
		return 0;
	enum frame_kind kind = (enum frame_kind)(data[0] % 4);
	frame_roundtrip(kind, data + 1, size - 1, &out, &olen);
	/* What the writer produces, the reader takes back exactly: framing
	 * the messages again gives the same bytes. */
	if (frame_roundtrip(kind, (uint8_t *)out, olen, &out2, &olen2) != 0 ||
	    olen2 != olen || memcmp(out, out2, olen) != 0)
		abort();
	free(out);
	free(out2);
	return 0;
}
