/* Growable byte buffers: the backlogs, pending lines and returned
 * messages that several tools keep, and the budget a server charges the
 * ones it keeps for its peers to. */
#include <stdlib.h>
#include <string.h>
#include <err.h>

#include "ipc.h"

/* The capacity buf_reserve grows CAP to for NEED bytes. */
static size_t
buf_grown(size_t cap, size_t need, size_t min)
{
	size_t ncap = cap ? cap : min;

	while (ncap < need)
		ncap *= 2;
	return ncap;
}

void
buf_reserve(char **buf, size_t *cap, size_t need, size_t min)
{
	if (need <= *cap)
		return;
	size_t ncap = buf_grown(*cap, need, min);
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

bool
budget_take(struct budget *b, size_t n)
{
	if (b == NULL || n == 0)
		return true;
	if (n > b->max || b->used > b->max - n)
		return false;
	b->used += n;
	return true;
}

void
budget_give(struct budget *b, size_t n)
{
	if (b != NULL)
		b->used -= n < b->used ? n : b->used;
}

bool
buf_reserve_in(struct budget *b, char **buf, size_t *cap, size_t need,
    size_t min)
{
	if (need <= *cap)
		return true;
	size_t ncap = buf_grown(*cap, need, min);
	if (!budget_take(b, ncap - *cap))
		return false;
	buf_reserve(buf, cap, need, min);
	return true;
}

void
buf_release(struct budget *b, char **buf, size_t *cap)
{
	budget_give(b, *cap);
	free(*buf);
	*buf = NULL;
	*cap = 0;
}
