/* Names of POSIX message queues and shared-memory objects: one rule for
 * both, checked before any mq_* or shm_* call (glibc's own errors for a
 * name like "/a/b" are misleading, and the two APIs disagree). */
#include <string.h>
#include <err.h>

#include "ipc.h"

void
name_check(const char *name, char out[258])
{
	const char *n = name[0] == '/' ? name + 1 : name;
	size_t len = strlen(n);

	if (len == 0)
		errx(EXIT_USAGE, "name: '%s' is empty", name);
	if (len > 255)
		errx(EXIT_USAGE, "name: '%.20s...' is longer than 255 bytes", name);
	if (strchr(n, '/') != NULL)
		errx(EXIT_USAGE, "name: '%s' has a '/' after the first byte", name);
	if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		errx(EXIT_USAGE, "name: '%s' is not a valid name", name);
	out[0] = '/';
	memcpy(out + 1, n, len + 1);
}
