/* An LD_PRELOAD interposer for the tests: it makes a race happen at the
 * one moment that matters, so a test of it is deterministic.
 *   IPC_TEST_STEAL=N    after the first tee(2) that copied bytes, read N
 *                       bytes from its input, as a second reader would.
 *   IPC_TEST_SWAP=PATH  at the first fstatat(2), rename PATH over the
 *                       name it looks at, as another process might. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t
tee(int in, int out, size_t len, unsigned int flags)
{
	static ssize_t (*real)(int, int, size_t, unsigned int);
	static int stolen;
	const char *steal = getenv("IPC_TEST_STEAL");
	ssize_t n;

	if (real == NULL)
		real = (ssize_t (*)(int, int, size_t, unsigned int))
		    dlsym(RTLD_NEXT, "tee");
	n = real(in, out, len, flags);
	if (n > 0 && steal != NULL && !stolen) {
		char buf[4096];
		size_t k = strtoul(steal, NULL, 10);
		stolen = 1;
		if (k > sizeof buf)
			k = sizeof buf;
		if (read(in, buf, k) < 0)
			_exit(99);
	}
	return n;
}

int
fstatat(int dfd, const char *name, struct stat *st, int flags)
{
	static int (*real)(int, const char *, struct stat *, int);
	static int swapped;
	const char *from = getenv("IPC_TEST_SWAP");

	if (real == NULL)
		real = (int (*)(int, const char *, struct stat *, int))
		    dlsym(RTLD_NEXT, "fstatat");
	if (from != NULL && !swapped) {
		swapped = 1;
		if (renameat(AT_FDCWD, from, dfd, name) == -1)
			_exit(98);
	}
	return real(dfd, name, st, flags);
}
