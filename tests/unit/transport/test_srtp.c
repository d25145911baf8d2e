/* test_srtp.c: SRTP round trips per suite, replay and tamper rejection, a=crypto. */
#include <errno.h>

#include "tt_test.h"
#include "tutti/rtp.h"
#include "tutti/sdes.h"
#include "tutti/srtp.h"

static size_t make_rtp(uint8_t *buf, uint16_t seq)
{
	struct tt_rtp_hdr h = {.pt = 111, .seq = seq, .ts = seq * 960u, .ssrc = 0xabcdef};
	int n = tt_rtp_write(buf, 64, &h);
	for (int i = 0; i < 40; i++)
		buf[n + i] = (uint8_t)(i * 3 + seq);
	return (size_t)n + 40;
}

TT_TEST(srtp_roundtrip_replay_tamper_each_suite)
{
	for (int s = 0; s < TT_SRTP_SUITE_COUNT; s++) {
		struct tt_sdes_crypto a, b;
		TT_ASSERT_INT_EQ(tt_sdes_generate(&a, 1, (enum tt_srtp_suite)s), 0);
		TT_ASSERT_INT_EQ(tt_sdes_generate(&b, 1, (enum tt_srtp_suite)s), 0);
		struct tt_srtp *alice = NULL, *bob = NULL;
		TT_ASSERT_INT_EQ(tt_srtp_alloc(&alice, a.suite, a.key, b.key), 0);
		TT_ASSERT_INT_EQ(tt_srtp_alloc(&bob, a.suite, b.key, a.key), 0);

		uint8_t plain[256], buf[256], copy[256];
		for (uint16_t seq = 1; seq <= 3; seq++) {
			size_t len = make_rtp(plain, seq);
			memcpy(buf, plain, len);
			size_t n = len;
			TT_ASSERT_INT_EQ(tt_srtp_protect(alice, buf, &n, sizeof buf, false), 0);
			TT_ASSERT(n > len);
			TT_ASSERT(memcmp(buf + 12, plain + 12, 40) != 0);
			memcpy(copy, buf, n);
			size_t cn = n;
			TT_ASSERT_INT_EQ(tt_srtp_unprotect(bob, buf, &n, false), 0);
			TT_ASSERT_INT_EQ(n, len);
			TT_ASSERT(memcmp(buf, plain, len) == 0);
			/* the same packet again is a replay */
			TT_ASSERT_INT_EQ(tt_srtp_unprotect(bob, copy, &cn, false), -EALREADY);
		}
		/* tampered payload */
		size_t len = make_rtp(plain, 4), n = len;
		memcpy(buf, plain, len);
		TT_ASSERT_INT_EQ(tt_srtp_protect(alice, buf, &n, sizeof buf, false), 0);
		buf[20] ^= 1;
		TT_ASSERT_INT_EQ(tt_srtp_unprotect(bob, buf, &n, false), -EBADMSG);
		/* wrong key entirely */
		struct tt_srtp *eve = NULL;
		TT_ASSERT_INT_EQ(tt_srtp_alloc(&eve, a.suite, b.key, b.key), 0);
		len = make_rtp(plain, 5);
		n = len;
		memcpy(buf, plain, len);
		TT_ASSERT_INT_EQ(tt_srtp_protect(eve, buf, &n, sizeof buf, false), 0);
		TT_ASSERT_INT_EQ(tt_srtp_unprotect(bob, buf, &n, false), -EBADMSG);
		/* RTCP both ways */
		uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0xab, 0xcd, 0xef};
		memcpy(buf, rr, 8);
		n = 8;
		TT_ASSERT_INT_EQ(tt_srtp_protect(bob, buf, &n, sizeof buf, true), 0);
		TT_ASSERT_INT_EQ(tt_srtp_unprotect(alice, buf, &n, true), 0);
		TT_ASSERT_INT_EQ(n, 8);
		TT_ASSERT(memcmp(buf, rr, 8) == 0);
		/* no room for the trailer */
		n = 8;
		TT_ASSERT_INT_EQ(tt_srtp_protect(bob, buf, &n, 20, true), -ENOSPC);
		eve = tt_srtp_free(eve);
		alice = tt_srtp_free(alice);
		bob = tt_srtp_free(bob);
		TT_ASSERT(!alice && !bob && !eve);
	}
}

TT_TEST(sdes_parse_good)
{
	/* RFC 4568 section 4 example */
	const char *l = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n";
	struct tt_sdes_crypto c;
	TT_ASSERT_INT_EQ(tt_sdes_parse(&c, l, strlen(l)), 0);
	TT_ASSERT_INT_EQ(c.tag, 1);
	TT_ASSERT_INT_EQ(c.suite, TT_SRTP_AES_CM_128_HMAC_SHA1_80);
	TT_ASSERT_INT_EQ(c.key_len, 30);
	TT_ASSERT_INT_EQ(c.lifetime, 1 << 20);
	TT_ASSERT_INT_EQ(c.mki, 1);
	TT_ASSERT_INT_EQ(c.mki_len, 32);
	TT_ASSERT_INT_EQ(c.key[0], 0x3d);   /* 'P','S' -> 0x3d 0x2d... */

	/* format -> parse round trip for every suite */
	for (int s = 0; s < TT_SRTP_SUITE_COUNT; s++) {
		struct tt_sdes_crypto g, p;
		char line[128];
		TT_ASSERT_INT_EQ(tt_sdes_generate(&g, 7, (enum tt_srtp_suite)s), 0);
		int n = tt_sdes_format(&g, line, sizeof line);
		TT_ASSERT(n > 0);
		TT_ASSERT_INT_EQ(tt_sdes_parse(&p, line, (size_t)n), 0);
		TT_ASSERT_INT_EQ(p.tag, 7);
		TT_ASSERT_INT_EQ(p.suite, s);
		TT_ASSERT(memcmp(p.key, g.key, g.key_len) == 0);
		TT_ASSERT_INT_EQ(tt_sdes_format(&g, line, 20), -ENOSPC);
	}
}

TT_TEST(sdes_parse_bad)
{
	static const char *bad[] = {
		"",
		"a=crypto:",
		"1",
		"1 AES_CM_128_HMAC_SHA1_80",
		"1 AES_CM_128_HMAC_SHA1_80 inline:",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRR",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!",
		"1 AES_CM_128_HMAC_SHA1_80 keyfile:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^99",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|5",
		"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBRx",
	};
	struct tt_sdes_crypto c;
	memset(&c, 0x5a, sizeof c);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		TT_ASSERT_MSG(tt_sdes_parse(&c, bad[i], strlen(bad[i])) == -EINVAL, "%s", bad[i]);
	TT_ASSERT_INT_EQ(c.tag, 0x5a5a5a5a);
	const char *unk = "1 F8_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
	TT_ASSERT_INT_EQ(tt_sdes_parse(&c, unk, strlen(unk)), -ENOTSUP);
	/* The parser never reads past len, even in a longer buffer. */
	const char *l = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
	TT_ASSERT_INT_EQ(tt_sdes_parse(&c, l, strlen(l) - 1), -EINVAL);
	TT_ASSERT_INT_EQ(tt_sdes_parse(&c, l, strlen(l)), 0);
}
