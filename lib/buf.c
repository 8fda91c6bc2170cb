/* Growable byte buffers: the backlogs, pending lines and returned
 * messages that several tools keep. */
#include <stdlib.h>
#include <string.h>
#include <err.h>

#include "ipc.h"

void
buf_reserve(char **buf, size_t *cap, size_t need, size_t min)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap : min;
	while (ncap < need)
		ncap *= 2;
	char *nb = realloc(*buf, ncap);
	if (nb == NULL)
		err(EXIT_FAIL, "malloc");
	*buf = nb;
	*cap = ncap;
}

void
buf_drop(char *buf, size_t *off, size_t *len)
{
	if (*off == 0)
		return;
	memmove(buf, buf + *off, *len - *off);
	*len -= *off;
	*off = 0;
}

void
buf_append(char **buf, size_t *len, size_t *cap, const void *d, size_t n,
    size_t min)
{
	if (n == 0)
		return;  /* *buf may still be NULL: memcpy(NULL, .., 0) is UB */
	buf_reserve(buf, cap, *len + n, min);
	memcpy(*buf + *len, d, n);
	*len += n;
}
