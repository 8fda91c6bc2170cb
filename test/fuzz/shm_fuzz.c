/* libFuzzer target for ipc-shmcount's check of a counter object
 * (cmd/ipc-shmcount/counter.c): shmc_invalid, on a file's type and size
 * and the bytes mapped, and shc_peek, on a real file in a directory of
 * ours. A counter is accepted exactly when the layout of shmcount.h,
 * written out here a second way, holds: a regular file of 64 bytes,
 * "IPCSHMC\0", version 1 in the host's order. Nothing past the bytes the
 * file has is read: the header is a heap block of exactly the file's size
 * (ASan sees a read past it), and shc_peek's value is the file's bytes 16
 * to 23.
 *
 * The input: byte 0 says what (bit 0: shc_peek on a file, else
 * shmc_invalid; bits 1-3: the file's type, types[] below; bit 4: the
 * header passed is NULL, type and size only), byte 1 the size (bit 7 set:
 * 64, the counter's, else bits 0-6 + byte 2), then the file's bytes: the
 * input's, after a header made valid unless byte 0's bits 5-6 are set
 * (then the input's bytes as they are). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc-shmcount/shmcount.h"
#include "fuzz.h"

static const mode_t types[8] = {
	S_IFREG, S_IFREG, S_IFREG, S_IFDIR, S_IFIFO, S_IFLNK, S_IFCHR, S_IFSOCK,
};

/* The rule: why the file is not a counter, as a bool. */
static bool
ref_ok(mode_t type, size_t size, const uint8_t *hdr)
{
	uint32_t v = 0;

	if (type != S_IFREG || size != 64)
		return false;
	if (hdr == NULL)
		return true;
	for (int i = 0; i < 4; i++)  /* host order, a byte at a time */
		((uint8_t *)&v)[i] = hdr[8 + i];
	return memcmp(hdr, "IPCSHMC", 8) == 0 && v == 1;
}

static uint8_t *
make_bytes(struct fuzz_in *in, size_t size, bool raw)
{
	uint8_t *b = malloc(size ? size : 1);
	uint32_t one = 1;

	FUZZ_ASSERT(b != NULL);
	memset(b, 0, size);
	size_t at = 0;
	if (!raw) {
		uint8_t h[12];
		memcpy(h, "IPCSHMC", 8);
		memcpy(h + 8, &one, 4);
		at = size < 12 ? size : 12;
		memcpy(b, h, at);
	}
	fuzz_bytes(in, b + at, size - at);
	return b;
}

static void
check_invalid(mode_t type, size_t size, const uint8_t *b, bool null_hdr)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = type | 0600;
	st.st_size = (off_t)size;
	const char *why = shmc_invalid(&st, null_hdr ? NULL : b);
	bool ok = ref_ok(type, size, null_hdr ? NULL : b);
	FUZZ_ASSERT((why == NULL) == ok);
	FUZZ_ASSERT(why == NULL || why[0] != '\0');
	/* Its reason is the first rule broken. */
	if (type != S_IFREG)
		FUZZ_ASSERT(why != NULL && strcmp(why, "not a regular file") == 0);
	else if (size != 64)
		FUZZ_ASSERT(why != NULL && strcmp(why, "wrong size") == 0);
}

static int dir_fd = -1;

/* The file "c" in our directory: of TYPE, with SIZE bytes B if regular
 * (a symbolic link points at a valid counter, "good"). */
static void
make_file(mode_t type, const uint8_t *b, size_t size)
{
	static const struct shmc good = { .magic = "IPCSHMC", .version = 1 };
	int fd;

	if (unlinkat(dir_fd, "c", 0) == -1 && errno != ENOENT)
		FUZZ_ASSERT(unlinkat(dir_fd, "c", AT_REMOVEDIR) == 0);
	switch (type) {
	case S_IFDIR:
		FUZZ_ASSERT(mkdirat(dir_fd, "c", 0700) == 0);
		return;
	case S_IFIFO:
		FUZZ_ASSERT(mkfifoat(dir_fd, "c", 0600) == 0);
		return;
	case S_IFLNK:
		if (faccessat(dir_fd, "good", F_OK, 0) == -1) {
			fd = openat(dir_fd, "good", O_WRONLY | O_CREAT, 0600);
			FUZZ_ASSERT(fd >= 0 && write(fd, &good, 64) == 64);
			close(fd);
		}
		FUZZ_ASSERT(symlinkat("good", dir_fd, "c") == 0);
		return;
	default:  /* a device or socket needs more than a fuzzer: a file */
		fd = openat(dir_fd, "c", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		FUZZ_ASSERT(fd >= 0);
		FUZZ_ASSERT(size == 0 || write(fd, b, size) == (ssize_t)size);
		close(fd);
	}
}

static void
check_peek(mode_t type, size_t size, const uint8_t *b)
{
	int64_t value = 0x5a5a5a5a, want;
	struct stat st;

	if (type == S_IFCHR || type == S_IFSOCK)
		type = S_IFREG;
	make_file(type, b, size);
	bool ok = shc_peek(dir_fd, "c", &value, &st);
	/* A link is never followed, to a counter or not. */
	FUZZ_ASSERT(ok == ref_ok(type, size, b));
	if (ok) {
		memcpy(&want, b + 16, sizeof want);
		FUZZ_ASSERT(value == want && S_ISREG(st.st_mode) &&
		    st.st_size == 64);
	} else
		FUZZ_ASSERT(value == 0x5a5a5a5a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t b0 = fuzz_byte(&in), b1 = fuzz_byte(&in);
	mode_t type = types[(b0 >> 1) & 7];
	size_t fsize = (b1 & 0x80) ? 64 : ((size_t)(b1 & 0x7f) << 8 | fuzz_byte(&in));

	if (dir_fd < 0) {
		char tmpl[] = "/tmp/shm_fuzz.XXXXXX";
		FUZZ_ASSERT(mkdtemp(tmpl) != NULL);
		dir_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		FUZZ_ASSERT(dir_fd >= 0);
	}
	uint8_t *b = make_bytes(&in, fsize, (b0 & 0x60) != 0);
	if (b0 & 1)
		check_peek(type, fsize, b);
	else
		check_invalid(type, fsize, b, b0 & 0x10);
	free(b);
	return 0;
}
