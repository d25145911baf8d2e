/* test_stun_lite.c: the ICE-lite answer to a connectivity check. The checks are built by
 * libnice's full-agent code (what a browser's agent sends), then answered by ours; a
 * valid one gets a success response whose XOR-MAPPED-ADDRESS is the source and whose
 * integrity is our pwd; broken ones are dropped, counted, and leave the output alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <stun/stunagent.h>
#include <stun/stunmessage.h>
#include <stun/usages/ice.h>

#include "stun_lite.h"
#include "tt_test.h"

#define OUR_UFRAG "lite"
#define OUR_PWD "ourpasswordourpassword"
#define PEER_UFRAG "peer"
#define PEER_PWD "peerpasswordpeerpassword"

static int owner_tag;
static const char *peer_expected = PEER_UFRAG;

static bool lookup(void *arg, const char *ufrag, size_t len, const char **pwd,
		   const char **peer, void **owner)
{
	if (len != strlen(OUR_UFRAG) || memcmp(ufrag, OUR_UFRAG, len))
		return false;
	*pwd = OUR_PWD;
	*peer = peer_expected;
	*owner = &owner_tag;
	return true;
}

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *a = (void *)&ss;
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	a->sin_port = htons(port);
	return ss;
}

/* The peer's agent and the check it sends. */
static StunAgent peer;
static const uint16_t peer_known[] = { STUN_ATTRIBUTE_USERNAME,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
	STUN_ATTRIBUTE_ERROR_CODE, STUN_ATTRIBUTE_FINGERPRINT, 0 };

static size_t make_check(uint8_t *buf, size_t cap, const char *user, const char *pwd,
			 bool use_candidate, bool controlling)
{
	StunMessage msg;
	stun_agent_init(&peer, peer_known, STUN_COMPATIBILITY_RFC5389,
			STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
				STUN_AGENT_USAGE_USE_FINGERPRINT);
	return stun_usage_ice_conncheck_create(&peer, &msg, buf, cap, (const uint8_t *)user,
					       strlen(user), (const uint8_t *)pwd, strlen(pwd),
					       use_candidate, controlling, 0x6e0001ff,
					       0x1234, NULL,
					       STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

TT_TEST(stun_lite_valid_check)
{
	struct tt__stun_lite s;
	tt__stun_lite_init(&s);
	uint8_t req[512], out[1280];
	size_t n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, true, true);
	TT_ASSERT(n > 20);
	struct sockaddr_storage from = v4("192.0.2.7", 54321);
	struct tt__stun_check chk = {0};
	int r = tt__stun_lite_answer(&s, req, n, &from, sizeof(struct sockaddr_in), lookup, NULL,
				     out, sizeof out, &chk);
	TT_ASSERT(r > 20);
	TT_ASSERT(chk.owner == &owner_tag);
	TT_ASSERT(chk.use_candidate);
	TT_ASSERT(!chk.error_response);
	TT_ASSERT_INT_EQ((int)s.st.answered, 1);

	/* the peer's agent accepts it as the answer to its transaction: integrity with our
	 * pwd (it signed the request with it), fingerprint, and the mapped address */
	StunMessage resp;
	StunDefaultValidaterData vd[] = {
		{ (uint8_t *)OUR_UFRAG ":" PEER_UFRAG, strlen(OUR_UFRAG ":" PEER_UFRAG),
		  (uint8_t *)OUR_PWD, strlen(OUR_PWD) },
		{ NULL, 0, NULL, 0 } };
	TT_ASSERT_INT_EQ(stun_agent_validate(&peer, &resp, out, (size_t)r,
					     stun_agent_default_validater, vd),
			 STUN_VALIDATION_SUCCESS);
	TT_ASSERT_INT_EQ(stun_message_get_class(&resp), STUN_RESPONSE);
	struct sockaddr_storage mapped;
	socklen_t mlen = sizeof mapped;
	TT_ASSERT_INT_EQ(stun_message_find_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
						    &mapped, &mlen),
			 STUN_MESSAGE_RETURN_SUCCESS);
	struct sockaddr_in *m = (void *)&mapped, *f = (void *)&from;
	TT_ASSERT_INT_EQ(m->sin_family, AF_INET);
	TT_ASSERT(m->sin_addr.s_addr == f->sin_addr.s_addr);
	TT_ASSERT_INT_EQ(ntohs(m->sin_port), 54321);
	/* the transaction id is the request's */
	TT_ASSERT(memcmp(out + 8, req + 8, 12) == 0);

	/* a check without USE-CANDIDATE (consent freshness, before nomination) */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, false, true);
	r = tt__stun_lite_answer(&s, req, n, &from, sizeof(struct sockaddr_in), lookup, NULL,
				 out, sizeof out, &chk);
	TT_ASSERT(r > 20);
	TT_ASSERT(!chk.use_candidate);
	TT_ASSERT_INT_EQ((int)s.st.answered, 2);
}

TT_TEST(stun_lite_ipv6_mapped)
{
	struct tt__stun_lite s;
	tt__stun_lite_init(&s);
	uint8_t req[512], out[1280];
	size_t n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, false, true);
	struct sockaddr_storage from;
	memset(&from, 0, sizeof from);
	struct sockaddr_in6 *a = (void *)&from;
	a->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::42", &a->sin6_addr);
	a->sin6_port = htons(40002);
	struct tt__stun_check chk = {0};
	int r = tt__stun_lite_answer(&s, req, n, &from, sizeof *a, lookup, NULL, out, sizeof out,
				     &chk);
	TT_ASSERT(r > 20);
	StunMessage resp;
	StunDefaultValidaterData vd[] = {
		{ (uint8_t *)OUR_UFRAG ":" PEER_UFRAG, strlen(OUR_UFRAG ":" PEER_UFRAG),
		  (uint8_t *)OUR_PWD, strlen(OUR_PWD) },
		{ NULL, 0, NULL, 0 } };
	TT_ASSERT_INT_EQ(stun_agent_validate(&peer, &resp, out, (size_t)r,
					     stun_agent_default_validater, vd),
			 STUN_VALIDATION_SUCCESS);
	struct sockaddr_storage mapped;
	socklen_t mlen = sizeof mapped;
	TT_ASSERT_INT_EQ(stun_message_find_xor_addr(&resp, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
						    &mapped, &mlen),
			 STUN_MESSAGE_RETURN_SUCCESS);
	struct sockaddr_in6 *m = (void *)&mapped;
	TT_ASSERT_INT_EQ(m->sin6_family, AF_INET6);
	TT_ASSERT(memcmp(&m->sin6_addr, &a->sin6_addr, 16) == 0);
	TT_ASSERT_INT_EQ(ntohs(m->sin6_port), 40002);
}

/* Each broken check: dropped with the error, counted once in its counter, out and chk
 * untouched, no other counter moved. */
static void expect_drop(struct tt__stun_lite *s, const uint8_t *req, size_t n, int err,
			const uint64_t *counter)
{
	uint8_t out[1280];
	memset(out, 0xa5, sizeof out);
	struct tt__stun_check chk = { .owner = (void *)1 };
	struct tt__stun_lite_stats before = s->st;
	struct sockaddr_storage from = v4("192.0.2.7", 54321);
	int r = tt__stun_lite_answer(s, req, n, &from, sizeof(struct sockaddr_in), lookup, NULL,
				     out, sizeof out, &chk);
	TT_ASSERT_INT_EQ(r, err);
	TT_ASSERT(chk.owner == (void *)1);
	for (size_t i = 0; i < sizeof out; i++)
		TT_ASSERT(out[i] == 0xa5);
	uint64_t sum_before = before.answered + before.bad_auth + before.malformed +
			      before.role_conflict;
	uint64_t sum_after = s->st.answered + s->st.bad_auth + s->st.malformed +
			     s->st.role_conflict;
	TT_ASSERT(sum_after == sum_before + 1);
	TT_ASSERT(s->st.answered == before.answered);
	TT_ASSERT(*counter >= 1);
}

TT_TEST(stun_lite_drops)
{
	struct tt__stun_lite s;
	tt__stun_lite_init(&s);
	uint8_t req[512];
	size_t n;

	/* wrong pwd: the integrity does not verify */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, "wrongpasswordwrongpass", true,
		       true);
	expect_drop(&s, req, n, -EACCES, &s.st.bad_auth);
	TT_ASSERT_INT_EQ((int)s.st.bad_auth, 1);
	/* unknown ufrag of ours */
	n = make_check(req, sizeof req, "nobody:" PEER_UFRAG, OUR_PWD, true, true);
	expect_drop(&s, req, n, -EACCES, &s.st.bad_auth);
	/* the right ufrag of ours, but not the signalled peer's */
	n = make_check(req, sizeof req, OUR_UFRAG ":intruder", OUR_PWD, true, true);
	expect_drop(&s, req, n, -EACCES, &s.st.bad_auth);
	/* no colon */
	n = make_check(req, sizeof req, OUR_UFRAG, OUR_PWD, true, true);
	expect_drop(&s, req, n, -EACCES, &s.st.bad_auth);
	TT_ASSERT_INT_EQ((int)s.st.bad_auth, 4);

	/* truncated: every shorter prefix of a valid check */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, true, true);
	for (size_t cut = 0; cut < n; cut++) {
		struct tt__stun_lite_stats b = s.st;
		uint8_t out[64];
		struct tt__stun_check chk = {0};
		struct sockaddr_storage from = v4("192.0.2.7", 1);
		TT_ASSERT(tt__stun_lite_answer(&s, req, cut, &from, sizeof(struct sockaddr_in),
					       lookup, NULL, out, sizeof out, &chk) < 0);
		TT_ASSERT(s.st.answered == b.answered);
		TT_ASSERT(s.st.malformed + s.st.bad_auth == b.malformed + b.bad_auth + 1);
	}
	/* bad fingerprint: the last byte of the CRC flipped */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, true, true);
	req[n - 1] ^= 0x01;
	uint64_t mal = s.st.malformed;
	expect_drop(&s, req, n, -EBADMSG, &s.st.malformed);
	TT_ASSERT(s.st.malformed == mal + 1);
	/* a byte of the body changed: integrity (and fingerprint) fail */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, true, true);
	req[n - 40] ^= 0x10;
	struct tt__stun_lite_stats b = s.st;
	uint8_t out[1280];
	struct tt__stun_check chk = {0};
	struct sockaddr_storage from = v4("192.0.2.7", 1);
	TT_ASSERT(tt__stun_lite_answer(&s, req, n, &from, sizeof(struct sockaddr_in), lookup,
				       NULL, out, sizeof out, &chk) < 0);
	TT_ASSERT(s.st.answered == b.answered);
	/* not STUN at all: an RTP header */
	static const uint8_t rtp[24] = { 0x80, 0x6f, 0, 1 };
	expect_drop(&s, rtp, sizeof rtp, -EBADMSG, &s.st.malformed);

	/* after all that, a valid check still gets its answer */
	n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, true, true);
	TT_ASSERT(tt__stun_lite_answer(&s, req, n, &from, sizeof(struct sockaddr_in), lookup,
				       NULL, out, sizeof out, &chk) > 0);
	TT_ASSERT_INT_EQ((int)s.st.answered, 1);
}

TT_TEST(stun_lite_role_conflict)
{
	/* a peer that is controlled too (a second lite agent, or a confused one) gets 487 */
	struct tt__stun_lite s;
	tt__stun_lite_init(&s);
	uint8_t req[512], out[1280];
	size_t n = make_check(req, sizeof req, OUR_UFRAG ":" PEER_UFRAG, OUR_PWD, false, false);
	struct sockaddr_storage from = v4("192.0.2.7", 54321);
	struct tt__stun_check chk = {0};
	int r = tt__stun_lite_answer(&s, req, n, &from, sizeof(struct sockaddr_in), lookup, NULL,
				     out, sizeof out, &chk);
	TT_ASSERT(r > 20);
	TT_ASSERT(chk.error_response);
	TT_ASSERT(!chk.use_candidate);
	TT_ASSERT_INT_EQ((int)s.st.role_conflict, 1);
	TT_ASSERT_INT_EQ((int)s.st.answered, 0);
}

TT_TEST(stun_lite_demux)
{
	static const uint8_t stun[20] = { 0x00, 0x01 }, dtls[13] = { 22, 0xfe, 0xfd };
	static const uint8_t rtp[12] = { 0x80, 0x6f }, rtcp[8] = { 0x81, 0xc9 };
	static const uint8_t zrtp[12] = { 0x10 }, quic[12] = { 0xc0 };
	TT_ASSERT_INT_EQ(tt__demux_classify(stun, sizeof stun), TT_DEMUX_STUN);
	TT_ASSERT_INT_EQ(tt__demux_classify(stun, 19), TT_DEMUX_OTHER);
	TT_ASSERT_INT_EQ(tt__demux_classify(dtls, sizeof dtls), TT_DEMUX_DTLS);
	TT_ASSERT_INT_EQ(tt__demux_classify(dtls, 12), TT_DEMUX_OTHER);
	TT_ASSERT_INT_EQ(tt__demux_classify(rtp, sizeof rtp), TT_DEMUX_MEDIA);
	TT_ASSERT_INT_EQ(tt__demux_classify(rtcp, sizeof rtcp), TT_DEMUX_MEDIA);
	TT_ASSERT_INT_EQ(tt__demux_classify(rtcp, 7), TT_DEMUX_OTHER);
	TT_ASSERT_INT_EQ(tt__demux_classify(zrtp, sizeof zrtp), TT_DEMUX_OTHER);
	TT_ASSERT_INT_EQ(tt__demux_classify(quic, sizeof quic), TT_DEMUX_OTHER);
	TT_ASSERT_INT_EQ(tt__demux_classify(rtp, 0), TT_DEMUX_OTHER);
}
