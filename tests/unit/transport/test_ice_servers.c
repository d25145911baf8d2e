/* test_ice_servers.c: ICE server URLs as browsers take them, and TURN REST-API credentials
 * against vectors computed independently (Python's hmac and base64, see below). */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "tt_test.h"
#include "tutti/ice.h"

/* python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b"north",
 *   b"1700000000:alice", hashlib.sha1).digest()))' and the same for the other rows. */
TT_TEST(turn_rest_credential_vectors)
{
	static const struct { const char *secret, *user; long long exp; const char *u, *c; } v[] = {
		{ "north", "alice", 1700000000, "1700000000:alice", "Cd/49soE35ICqcJF/bCTn8Z4OyE=" },
		{ "north", "", 1700000000, "1700000000", "CWyHi3zCeWqXBir9thl4m+iZPRY=" },
		{ "north", NULL, 1700000000, "1700000000", "CWyHi3zCeWqXBir9thl4m+iZPRY=" },
		/* a secret longer than SHA-1's 64-byte block is hashed first (RFC 2104) */
		{ "s3cr3t-with-more-than-64-bytes-s3cr3t-with-more-than-64-bytes-s3cr3t-with-"
		  "more-than-64-bytes-", "tutti", 4102444800LL, "4102444800:tutti",
		  "srMQgsUV6epA0vmKFTsWv6F9O5k=" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
		char *u = NULL, *c = NULL;
		TT_ASSERT_INT_EQ(tt_turn_rest_credential(&u, &c, v[i].secret, v[i].user, v[i].exp), 0);
		TT_ASSERT_STR_EQ(u, v[i].u);
		TT_ASSERT_STR_EQ(c, v[i].c);
		g_free(u);
		g_free(c);
	}
	char *u = (char *)"untouched", *c = u;
	TT_ASSERT_INT_EQ(tt_turn_rest_credential(&u, &c, "", "a", 1), -EINVAL);
	TT_ASSERT_INT_EQ(tt_turn_rest_credential(&u, &c, NULL, "a", 1), -EINVAL);
	TT_ASSERT_INT_EQ(tt_turn_rest_credential(&u, &c, "s", "a", -1), -EINVAL);
	TT_ASSERT_STR_EQ(u, "untouched");
}

TT_TEST(ice_server_urls)
{
	static const char *const good[] = {
		"stun:stun.example.org", "stun:stun.example.org:3478", "stuns:a.b:5349",
		"turn:192.0.2.7", "turn:192.0.2.7:3478?transport=udp", "TURN:turn.example.org",
		"turns:turn.example.org:443?transport=tcp", "turn:[2001:db8::1]:3478",
		"stun:[::1]", "turn:localhost:1",
	};
	static const char *const bad[] = {
		"", "stun:", "http://x", "stun://host", "turn:host:", "turn:host:0",
		"turn:host:65536", "turn:host:12a", "turn:host:123456", "stun:host?transport=udp",
		"turn:host?transport=sctp", "turn:host?x=1", "turn:ho st", "turn:-host",
		"turn:host-.x", "turn:a..b", "turn:[2001:db8::1", "turn:[192.0.2.1]",
		"turn:2001:db8::1", "turn:user@host", "turn:host/path", "stun:host;x",
	};
	const char *why = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		int rc = tt_ice_server_url_check(good[i], &why);
		TT_ASSERT_MSG(rc == 0 && !why, "refused %s: %s", good[i], why);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		why = NULL;
		int rc = tt_ice_server_url_check(bad[i], &why);
		TT_ASSERT_MSG(rc == -EINVAL && why, "took %s", bad[i]);
	}
	TT_ASSERT_INT_EQ(tt_ice_server_url_check(NULL, NULL), -EINVAL);
	TT_ASSERT(tt_ice_server_url_is_turn("turns:x") && tt_ice_server_url_is_turn("TURN:x"));
	TT_ASSERT(!tt_ice_server_url_is_turn("stun:x") && !tt_ice_server_url_is_turn(NULL));
}
