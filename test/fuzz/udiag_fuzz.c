/* libFuzzer target for lib/udiag.c's reader of sock_diag(7) replies,
 * udiag_reply: whatever bytes come back from the kernel, it reads none
 * past them (the reply is a heap block of exactly its size), and it finds
 * a listener, ends or fails exactly as the netlink rules, walked here a
 * second way from the raw bytes, say: messages of at least 16 bytes that
 * fit, each at a 4-byte boundary; NLMSG_DONE ends (1), NLMSG_ERROR fails
 * (-1); a SOCK_DIAG_BY_FAMILY message of at least 32 bytes matches when
 * one of its attributes (each at least 4 bytes, within the message) is
 * UNIX_DIAG_VFS with 8 bytes or more naming the file's inode and device.
 *
 * The input: 4 bytes of inode, 4 of device (major: 12 bits, minor: 20),
 * then the reply as it is. */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ipc.h"
#include "fuzz.h"

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The attributes of one message (P, LEN bytes, header included). */
static bool
ref_match(const uint8_t *p, size_t len, uint32_t ino, uint32_t dev)
{
	size_t off = 32;

	while (off + 4 <= len) {
		size_t al = rd16(p + off);
		if (al < 4 || al > len - off)
			break;
		if (rd16(p + off + 2) == 1 && al - 4 >= 8 &&
		    rd32(p + off + 4) == ino && rd32(p + off + 8) == dev)
			return true;
		off += (al + 3) & ~(size_t)3;
	}
	return false;
}

static int
ref_reply(const uint8_t *p, size_t n, uint32_t ino, uint32_t dev, int *found)
{
	size_t off = 0;

	while (n - off >= 16) {
		size_t ml = rd32(p + off);
		uint16_t type = rd16(p + off + 4);
		if (ml < 16 || ml > n - off)
			break;
		if (type == 3)
			return 1;
		if (type == 2)
			return -1;
		if (type == 20 && ml >= 32 && ref_match(p + off, ml, ino, dev))
			*found = 1;
		off += (ml + 3) & ~(size_t)3;
		if (off > n)
			break;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint32_t ino = fuzz_u32(&in), d = fuzz_u32(&in);
	unsigned maj = d >> 20, min = d & 0xFFFFF;
	struct stat st;
	int found = 0, want_found = 0;

	memset(&st, 0, sizeof st);
	st.st_ino = ino;
	st.st_dev = makedev(maj, min);
	/* recv(2) gives the reply into an 8-byte aligned buffer; malloc's is
	 * 16-byte aligned, and ends where the reply does. */
	uint8_t *buf = malloc(in.n ? in.n : 1);
	FUZZ_ASSERT(buf != NULL);
	size_t n = fuzz_bytes(&in, buf, in.n);
	int rc = udiag_reply(buf, n, &st, &found);
	int want = ref_reply(buf, n, ino, (uint32_t)maj << 20 | min, &want_found);
	FUZZ_ASSERT(rc == want);
	FUZZ_ASSERT(found == want_found);
	free(buf);
	return 0;
}
