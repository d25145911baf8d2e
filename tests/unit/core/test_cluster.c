/* test_cluster.c: the [cluster] redis address (bridge/cluster/address.c): the forms taken,
 * and bad ones refused with a reason, leaving the outputs untouched; the text bus's
 * messages (bridge/cluster/bus_msg.c): a round trip, and malformed payloads refused with a
 * reason, the output untouched. */
#include "tt_test.h"

#include <glib.h>
#include <string.h>

#include "cluster/cascade.h"
#include <tutti/core.h>
#include <tutti/errno.h>

#include "cluster/bus_msg.h"
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

/* ---- the text bus's messages (bridge/cluster/bus_msg.c) ---- */

TT_TEST(cluster_bus_msg_round_trip)
{
	char *s = tt__bus_msg_encode("a", "p9", "Zoë \"z\"", "irc", TT_TEXT_ACTION, "waves\nback", 10);
	TT_ASSERT(s != NULL);
	struct tt_bus_msg m = { 0 };
	const char *why = NULL;
	TT_ASSERT_INT_EQ(tt__bus_msg_decode(s, strlen(s), &m, &why), 0);
	TT_ASSERT(!strcmp(m.node, "a") && !strcmp(m.name, "Zoë \"z\"") &&
		  !strcmp(m.network, "irc"));
	TT_ASSERT(m.type == TT_BUS_TEXT && m.id && !strcmp(m.id, "p9"));
	TT_ASSERT(m.flags == TT_TEXT_ACTION && m.len == 10 && !strcmp(m.text, "waves\nback"));
	tt__bus_msg_clear(&m);
	g_free(s);
	s = tt__bus_msg_encode("b", NULL, "n", "web", TT_TEXT_NOTICE, "x", 1);
	TT_ASSERT_INT_EQ(tt__bus_msg_decode(s, strlen(s), &m, &why), 0);
	TT_ASSERT(m.flags == TT_TEXT_NOTICE && m.id == NULL);
	tt__bus_msg_clear(&m);
	g_free(s);
	TT_ASSERT(tt__bus_msg_encode(NULL, NULL, "n", "web", 0, "x", 1) == NULL);
}

TT_TEST(cluster_bus_msg_malformed)
{
	static const char *bad[] = {
		"",
		"not json",
		"[1,2]",
		"{\"v\":2,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"video\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"shout\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":7,"
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"type\":\"text\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"h\\u0000i\"}",
		"{\"v\":1,\"node\":\"a\",\"node\":\"b\",\"type\":\"text\",\"name\":\"n\","
		"\"network\":\"irc\",\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":"
		"\"a-network-name-far-longer-than-32\",\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":\"irc\","
		"\"kind\":\"message\",\"text\":\"hi\"",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct tt_bus_msg m = { .node = (char *)"untouched" };
		const char *why = NULL;
		TT_ASSERT_INT_EQ(tt__bus_msg_decode(bad[i], strlen(bad[i]), &m, &why), -EINVAL);
		TT_ASSERT(why && *why && !strcmp(m.node, "untouched") && m.text == NULL);
	}
	/* too large: refused before parsing */
	size_t n = TT_BUS_MSG_MAX + 1;
	char *big = g_malloc(n);
	memset(big, ' ', n);
	struct tt_bus_msg m = { 0 };
	const char *why = NULL;
	TT_ASSERT_INT_EQ(tt__bus_msg_decode(big, n, &m, &why), -EINVAL);
	TT_ASSERT(m.node == NULL);
	g_free(big);
}

TT_TEST(cluster_bus_roster_msgs)
{
	struct tt_roster_entry e = { .id = "p7", .name = "alice", .network = "irc",
				     .gateway = "irc", .caps = TT_CAP_TEXT,
				     .state = TT_PS_HAND, .hand_seq = 3 };
	char *s = tt__bus_roster_encode("a", TT_BUS_STATE, &e);
	struct tt_bus_msg m = { 0 };
	const char *why = NULL;
	TT_ASSERT_INT_EQ(tt__bus_msg_decode(s, strlen(s), &m, &why), 0);
	TT_ASSERT(m.type == TT_BUS_ROSTER && m.op == TT_BUS_STATE && !strcmp(m.node, "a") &&
		  !strcmp(m.id, "p7") && !strcmp(m.name, "alice") && !strcmp(m.network, "irc"));
	TT_ASSERT(m.caps == TT_CAP_TEXT && m.state == TT_PS_HAND && m.hand_seq == 3);
	tt__bus_msg_clear(&m);
	g_free(s);
	s = tt__bus_roster_encode("b", TT_BUS_HELLO, NULL);
	TT_ASSERT_INT_EQ(tt__bus_msg_decode(s, strlen(s), &m, &why), 0);
	TT_ASSERT(m.type == TT_BUS_ROSTER && m.op == TT_BUS_HELLO && m.id == NULL);
	tt__bus_msg_clear(&m);
	g_free(s);
	TT_ASSERT(tt__bus_roster_encode("a", TT_BUS_JOINED, NULL) == NULL);
	static const char *bad[] = {
		"{\"v\":1,\"type\":\"roster\",\"op\":\"hello\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"dance\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"joined\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"joined\",\"id\":\"p\","
		"\"name\":\"n\",\"network\":\"irc\",\"caps\":-1,\"state\":0,\"hand_seq\":0}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"left\",\"id\":\"p\","
		"\"name\":\"n\",\"network\":\"irc\",\"caps\":0,\"state\":\"x\",\"hand_seq\":0}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"joined\",\"id\":\"p\","
		"\"name\":\"n\\r\\nQUIT\",\"network\":\"irc\",\"caps\":0,\"state\":0,\"hand_seq\":0}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"text\",\"name\":\"n\",\"network\":\"ir\\u0007c\","
		"\"kind\":\"message\",\"text\":\"hi\"}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"state\",\"id\":\"\","
		"\"name\":\"n\",\"network\":\"irc\",\"caps\":0,\"state\":0,\"hand_seq\":0}",
		"{\"v\":1,\"node\":\"a\",\"type\":\"roster\",\"op\":\"state\",\"id\":\"p\","
		"\"name\":\"n\",\"network\":\"irc\",\"caps\":0,\"state\":0,"
		"\"hand_seq\":99999999999}",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct tt_bus_msg u = { .node = (char *)"untouched" };
		why = NULL;
		TT_ASSERT_INT_EQ(tt__bus_msg_decode(bad[i], strlen(bad[i]), &u, &why), -EINVAL);
		TT_ASSERT(why && *why && !strcmp(u.node, "untouched") && u.id == NULL);
	}
}
