/* test_addr_table.c: the shared port's address table against a plain array: inserts,
 * duplicates, deletes that shift later entries back, growth, IPv4 and IPv6 keys. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr_table.h"
#include "tt_test.h"

static struct sockaddr_storage v4(uint32_t ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *a = (void *)&ss;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(ip);
	a->sin_port = htons(port);
	return ss;
}

static struct sockaddr_storage v6(uint32_t tail, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in6 *a = (void *)&ss;
	a->sin6_family = AF_INET6;
	a->sin6_addr.s6_addr[0] = 0xfd;
	uint32_t t = htonl(tail);
	memcpy(&a->sin6_addr.s6_addr[12], &t, 4);
	a->sin6_port = htons(port);
	a->sin6_scope_id = tail;       /* not part of the key */
	return ss;
}

static struct tt__addr_key key(const struct sockaddr_storage *ss)
{
	struct tt__addr_key k;
	TT_ASSERT(tt__addr_key_of(&k, ss));
	return k;
}

TT_TEST(addr_table_basic)
{
	struct tt__addr_table t = {0};
	struct sockaddr_storage a = v4(0x7f000001, 40000), b = v4(0x7f000001, 40002);
	struct sockaddr_storage c = v6(1, 40000), d = v6(1, 40000);
	struct tt__addr_key ka = key(&a), kb = key(&b), kc = key(&c);
	int x, y, z;

	TT_ASSERT(tt__addr_table_get(&t, &ka) == NULL);
	TT_ASSERT(tt__addr_table_del(&t, &ka) == NULL);
	TT_ASSERT_INT_EQ(tt__addr_table_put(&t, &ka, &x), 0);
	TT_ASSERT_INT_EQ(tt__addr_table_put(&t, &ka, &y), -EEXIST);
	TT_ASSERT_INT_EQ(tt__addr_table_put(&t, &kb, &y), 0);
	TT_ASSERT_INT_EQ(tt__addr_table_put(&t, &kc, &z), 0);
	TT_ASSERT_INT_EQ(tt__addr_table_put(&t, &kb, NULL), -EINVAL);
	TT_ASSERT(tt__addr_table_get(&t, &ka) == &x);
	TT_ASSERT(tt__addr_table_get(&t, &kb) == &y);
	/* the same IPv6 address and port with another scope id is the same key */
	((struct sockaddr_in6 *)&d)->sin6_scope_id = 7;
	struct tt__addr_key kd = key(&d);
	TT_ASSERT(tt__addr_table_get(&t, &kd) == &z);
	/* an IPv4 address never matches the IPv6 key with the same bytes */
	struct sockaddr_storage e = v4(0xfd000000, 40000);
	struct tt__addr_key ke = key(&e);
	TT_ASSERT(tt__addr_table_get(&t, &ke) == NULL);
	struct sockaddr_storage unix_ss = {.ss_family = AF_UNIX};
	struct tt__addr_key ku;
	TT_ASSERT(!tt__addr_key_of(&ku, &unix_ss));
	TT_ASSERT(tt__addr_table_del(&t, &kb) == &y);
	TT_ASSERT(tt__addr_table_get(&t, &kb) == NULL);
	TT_ASSERT_INT_EQ((int)t.n, 2);
	tt__addr_table_fini(&t);
	TT_ASSERT(tt__addr_table_get(&t, &ka) == NULL);
}

/* Random puts and deletes over a small key space (many collisions and long runs) against
 * an array that says what must be there: catches a delete that breaks a probe run. */
TT_TEST(addr_table_random_against_reference)
{
	enum { KEYS = 3000, OPS = 200000 };
	static void *ref[KEYS];
	static int vals[KEYS];
	struct tt__addr_table t = {0};
	unsigned seed = 12345;

	memset(ref, 0, sizeof ref);
	for (int op = 0; op < OPS; op++) {
		seed = seed * 1103515245u + 12345u;
		unsigned i = (seed >> 8) % KEYS;
		/* half IPv4 ports on one host (the benchmark's case), half IPv6 hosts */
		struct sockaddr_storage ss = i % 2 ? v4(0x7f000001, (uint16_t)(20000 + 2 * i))
						   : v6(i, 5004);
		struct tt__addr_key k = key(&ss);
		bool del = (seed >> 20) % 3 == 0;
		if (del) {
			TT_ASSERT(tt__addr_table_del(&t, &k) == ref[i]);
			ref[i] = NULL;
		} else {
			int rc = tt__addr_table_put(&t, &k, &vals[i]);
			TT_ASSERT_INT_EQ(rc, ref[i] ? -EEXIST : 0);
			ref[i] = &vals[i];
		}
		if (op % 997 == 0) {
			size_t n = 0;
			for (unsigned j = 0; j < KEYS; j++) {
				struct sockaddr_storage s2 = j % 2 ? v4(0x7f000001,
									(uint16_t)(20000 + 2 * j))
								   : v6(j, 5004);
				struct tt__addr_key k2 = key(&s2);
				TT_ASSERT(tt__addr_table_get(&t, &k2) == ref[j]);
				n += ref[j] != NULL;
			}
			TT_ASSERT_INT_EQ((int)t.n, (int)n);
			TT_ASSERT(t.n * 2 <= t.cap);
		}
	}
	tt__addr_table_fini(&t);
}
