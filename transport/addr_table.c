/* addr_table.c: linear probing at most half full; deletion shifts later entries of the
 * same run back, so there are no tombstones and a lookup stops at the first empty slot. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr_table.h"

struct tt__addr_slot {
	struct tt__addr_key key;
	void *val;              /* NULL: empty */
};

bool tt__addr_key_of(struct tt__addr_key *k, const struct sockaddr_storage *ss)
{
	memset(k, 0, sizeof *k);
	k->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		k->port = a->sin_port;
		memcpy(k->ip, &a->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		k->port = a->sin6_port;
		memcpy(k->ip, &a->sin6_addr, 16);
		return true;
	}
	return false;
}

static size_t hash(const struct tt__addr_key *k)
{
	uint64_t w[3];
	memcpy(w, k, sizeof w);
	/* multiply-xorshift over the three words: ports that differ in one bit spread out */
	uint64_t h = w[0] * 0x9e3779b97f4a7c15u ^ w[1] * 0xc2b2ae3d27d4eb4fu ^
		     w[2] * 0x165667b19e3779f9u;
	return (size_t)(h ^ h >> 29 ^ h >> 47);
}

_Static_assert(sizeof(struct tt__addr_key) == 24, "keys hash as three 64-bit words");

static bool same(const struct tt__addr_key *a, const struct tt__addr_key *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

static size_t find(const struct tt__addr_table *t, const struct tt__addr_key *k)
{
	size_t mask = t->cap - 1;
	for (size_t i = hash(k) & mask;; i = (i + 1) & mask)
		if (!t->slot[i].val || same(&t->slot[i].key, k))
			return i;
}

void *tt__addr_table_get(const struct tt__addr_table *t, const struct tt__addr_key *k)
{
	if (!t->n)
		return NULL;
	return t->slot[find(t, k)].val;
}

static int grow(struct tt__addr_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct tt__addr_slot *old = t->slot;
	size_t old_cap = t->cap;
	t->slot = calloc(cap, sizeof *t->slot);
	if (!t->slot) {
		t->slot = old;
		return -ENOMEM;
	}
	t->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].val)
			t->slot[find(t, &old[i].key)] = old[i];
	free(old);
	return 0;
}

int tt__addr_table_put(struct tt__addr_table *t, const struct tt__addr_key *k, void *val)
{
	if (!val)
		return -EINVAL;
	if ((t->n + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	size_t i = find(t, k);
	if (t->slot[i].val)
		return -EEXIST;
	t->slot[i].key = *k;
	t->slot[i].val = val;
	t->n++;
	return 0;
}

void *tt__addr_table_del(struct tt__addr_table *t, const struct tt__addr_key *k)
{
	if (!t->n)
		return NULL;
	size_t mask = t->cap - 1, i = find(t, k);
	void *val = t->slot[i].val;
	if (!val)
		return NULL;
	/* Backward shift: move each later entry of the run into the hole when the hole lies
	 * on its probe path (between its home slot and where it sits). */
	for (size_t j = (i + 1) & mask; t->slot[j].val; j = (j + 1) & mask) {
		size_t home = hash(&t->slot[j].key) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].val = NULL;
	t->n--;
	return val;
}

void tt__addr_table_fini(struct tt__addr_table *t)
{
	free(t->slot);
	memset(t, 0, sizeof *t);
}
