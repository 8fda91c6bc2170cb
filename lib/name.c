/* Names of POSIX message queues and shared-memory objects: one rule for
 * both, checked before any mq_* or shm_* call (glibc's own errors for a
 * name like "/a/b" are misleading, and the two APIs disagree). */
#include <string.h>
#include <err.h>

#include "ipc.h"

enum name_err
name_check_ok(const char *name, char out[258])
{
	const char *n = name[0] == '/' ? name + 1 : name;
	size_t len = strlen(n);

	if (len == 0)
		return NAME_EMPTY;
	if (len > 255)
		return NAME_TOO_LONG;
	if (strchr(n, '/') != NULL)
		return NAME_SLASH;
	if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return NAME_DOT;
	out[0] = '/';
	memcpy(out + 1, n, len + 1);
	return NAME_OK;
}

void
name_check(const char *name, char out[258])
{
	switch (name_check_ok(name, out)) {
	case NAME_OK:
		return;
	case NAME_EMPTY:
		errx(EXIT_USAGE, "name: '%s' is empty", name);
	case NAME_TOO_LONG:
		errx(EXIT_USAGE, "name: '%.20s...' is longer than 255 bytes", name);
	case NAME_SLASH:
		errx(EXIT_USAGE, "name: '%s' has a '/' after the first byte", name);
	case NAME_DOT:
		errx(EXIT_USAGE, "name: '%s' is not a valid name", name);
	}
}
