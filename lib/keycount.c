/* A count per short key (a client's address, a uid), for limits such as
 * "at most N connections from one source" over tens of thousands of
 * connections: an open-addressing hash table with linear probing, kept
 * at most half full, a key removed when its count drops to 0 (backward
 * shift, so no tombstones pile up). The hash is seeded at random, so a
 * peer cannot pick addresses that all land in one chain. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <err.h>

#include "ipc.h"

#define KC_MIN_SLOTS 64

void
kc_key(struct kc_key *k, const void *bytes, size_t len)
{
	memset(k, 0, sizeof *k);
	memcpy(k->w, bytes, len < KC_KEY_MAX ? len : KC_KEY_MAX);
}

static size_t
kc_hash(const struct keycount *t, const struct kc_key *k)
{
	uint64_t h = t->seed;

	for (size_t i = 0; i < sizeof k->w / sizeof k->w[0]; i++) {
		h = (h ^ k->w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (size_t)h & t->mask;
}

static bool
kc_same(const struct kc_key *a, const struct kc_key *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

/* The slot holding K, or the empty slot where it would go. */
static struct kc_slot *
kc_slot(const struct keycount *t, const struct kc_key *k)
{
	size_t i = kc_hash(t, k);

	while (t->slot[i].count != 0 && !kc_same(&t->slot[i].key, k))
		i = (i + 1) & t->mask;
	return &t->slot[i];
}

static void
kc_grow(struct keycount *t)
{
	struct kc_slot *old = t->slot;
	size_t n = old == NULL ? 0 : t->mask + 1;
	size_t cap = n == 0 ? KC_MIN_SLOTS : n * 2;

	if (old == NULL && getrandom(&t->seed, sizeof t->seed, 0) !=
	    (ssize_t)sizeof t->seed)
		t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	t->slot = calloc(cap, sizeof *t->slot);
	if (t->slot == NULL)
		err(EXIT_FAIL, "malloc");
	t->mask = cap - 1;
	for (size_t i = 0; i < n; i++)
		if (old[i].count != 0)
			*kc_slot(t, &old[i].key) = old[i];
	free(old);
}

bool
kc_take(struct keycount *t, const struct kc_key *k, uint32_t max)
{
	struct kc_slot *s;

	if (t->slot == NULL || (t->used + 1) * 2 > t->mask + 1)
		kc_grow(t);
	s = kc_slot(t, k);
	if (s->count >= max)
		return false;
	if (s->count == 0) {
		s->key = *k;
		t->used++;
	}
	s->count++;
	return true;
}

uint32_t
kc_count(const struct keycount *t, const struct kc_key *k)
{
	return t->slot == NULL ? 0 : kc_slot(t, k)->count;
}

void
kc_put(struct keycount *t, const struct kc_key *k)
{
	struct kc_slot *s;
	size_t i, j;

	if (t->slot == NULL || (s = kc_slot(t, k))->count == 0)
		return;
	if (--s->count > 0)
		return;
	t->used--;
	/* Backward shift: move later keys of the run into the hole when
	 * their home slot is not between the hole and them. */
	i = (size_t)(s - t->slot);
	for (j = (i + 1) & t->mask; t->slot[j].count != 0;
	    j = (j + 1) & t->mask) {
		size_t home = kc_hash(t, &t->slot[j].key);
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].count = 0;
}

void
kc_free(struct keycount *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}
