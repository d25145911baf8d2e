/* test_cluster.c: the [cluster] redis address (bridge/cluster/address.c): the forms taken,
 * and bad ones refused with a reason, leaving the outputs untouched. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>

#include "cluster/cascade.h"
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

/* A trunk request's body (bridge/cluster/trunk_req.c): every field checked, the bad one
 * named, the output untouched on a refusal. */
#define GOOD_KEY "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

TT_TEST(cluster_trunk_request_parsed)
{
	const char *body = "{\"node\":\"n-1.a_b\",\"remote\":\"127.0.0.3:20002\",\"srtp\":"
			   "{\"suite\":\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"" GOOD_KEY "\"}}";
	struct tt_trunk_req r;
	const char *field = "x", *why = NULL;
	TT_ASSERT_INT_EQ(tt__trunk_req_parse(body, strlen(body), &r, &field, &why), 0);
	TT_ASSERT(!strcmp(r.node, "n-1.a_b") && r.remote_len > 0 && r.suite == 0);
	TT_ASSERT(field == NULL);
}

TT_TEST(cluster_trunk_request_refused)
{
	static const struct { const char *body, *field; } bad[] = {
		{ "", NULL },
		{ "{not json", NULL },
		{ "[1,2]", NULL },
		{ "{\"remote\":\"127.0.0.1:1\",\"srtp\":{\"suite\":\"AES_CM_128_HMAC_SHA1_80\","
		  "\"key\":\"" GOOD_KEY "\"}}", "node" },
		{ "{\"node\":\"a b\",\"remote\":\"127.0.0.1:1\",\"srtp\":{\"suite\":"
		  "\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"" GOOD_KEY "\"}}", "node" },
		{ "{\"node\":\"a\",\"remote\":\"example.org:1\",\"srtp\":{\"suite\":"
		  "\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"" GOOD_KEY "\"}}", "remote" },
		{ "{\"node\":\"a\",\"remote\":\"127.0.0.1:0\",\"srtp\":{\"suite\":"
		  "\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"" GOOD_KEY "\"}}", "remote" },
		{ "{\"node\":\"a\",\"remote\":\"127.0.0.1:1\"}", "srtp.suite" },
		{ "{\"node\":\"a\",\"remote\":\"127.0.0.1:1\",\"srtp\":{\"suite\":\"NULL\","
		  "\"key\":\"" GOOD_KEY "\"}}", "srtp.suite" },
		{ "{\"node\":\"a\",\"remote\":\"127.0.0.1:1\",\"srtp\":{\"suite\":"
		  "\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"c2hvcnQ=\"}}", "srtp.key" },
		{ "{\"node\":\"a\",\"remote\":\"127.0.0.1:1\",\"srtp\":{\"suite\":"
		  "\"AES_CM_128_HMAC_SHA1_80\",\"key\":\"" GOOD_KEY "\"},\"x\":1}", "body" },
		{ "{\"node\":\"a\",\"node\":\"b\"}", NULL },   /* a duplicate key */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct tt_trunk_req r, before;
		memset(&r, 0x5a, sizeof r);
		before = r;
		const char *field = "unset", *why = NULL;
		TT_ASSERT_INT_EQ(tt__trunk_req_parse(bad[i].body, strlen(bad[i].body), &r, &field,
						     &why), -EINVAL);
		TT_ASSERT(why && *why);
		TT_ASSERT(bad[i].field ? field && !strcmp(field, bad[i].field) : field == NULL);
		TT_ASSERT(!memcmp(&r, &before, sizeof r));
	}
}
