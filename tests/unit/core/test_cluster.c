/* test_cluster.c: the [cluster] redis address (bridge/cluster/address.c): the forms taken,
 * and bad ones refused with a reason, leaving the outputs untouched. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>

#include "cluster/cluster.h"

static int parse(const char *s, char **host, int *port, bool *ux, const char **why)
{
	*host = NULL;
	*port = -1;
	*ux = false;
	*why = NULL;
	return tt__cluster_parse_address(s, host, port, ux, why);
}

TT_TEST(cluster_address_forms)
{
	char *h;
	int port;
	bool ux;
	const char *why;
	TT_ASSERT_INT_EQ(parse("127.0.0.1:6380", &h, &port, &ux, &why), 0);
	TT_ASSERT(!strcmp(h, "127.0.0.1") && port == 6380 && !ux);
	g_free(h);
	TT_ASSERT_INT_EQ(parse("redis.example.org", &h, &port, &ux, &why), 0);
	TT_ASSERT(!strcmp(h, "redis.example.org") && port == 6379 && !ux);
	g_free(h);
	TT_ASSERT_INT_EQ(parse("[::1]:7000", &h, &port, &ux, &why), 0);
	TT_ASSERT(!strcmp(h, "::1") && port == 7000 && !ux);
	g_free(h);
	TT_ASSERT_INT_EQ(parse("[::1]", &h, &port, &ux, &why), 0);
	TT_ASSERT(!strcmp(h, "::1") && port == 6379);
	g_free(h);
	TT_ASSERT_INT_EQ(parse("/run/redis/redis-server.sock", &h, &port, &ux, &why), 0);
	TT_ASSERT(!strcmp(h, "/run/redis/redis-server.sock") && ux);
	g_free(h);
}

TT_TEST(cluster_address_refused)
{
	static const char *const bad[] = {
		"", "host:", "host:0", "host:65536", "host:12x", ":6379", "::1:6379", "[::1",
		"[]:1", "[::1]x", "[::1]:", "host:-1",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *h;
		int port;
		bool ux;
		const char *why;
		TT_ASSERT_INT_EQ(parse(bad[i], &h, &port, &ux, &why), -EINVAL);
		TT_ASSERT(h == NULL && port == -1 && why && *why);
	}
}
