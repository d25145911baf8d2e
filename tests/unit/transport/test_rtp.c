/* test_rtp.c: RTP header, RFC 8285 extension, RFC 6464 level and RFC 4733 parsing. */
#include <errno.h>

#include "tt_test.h"
#include "tutti/rtp.h"

/* V=2, X=1, CC=1, M=1 PT=111, seq 0x1234, ts 0x01020304, ssrc 0xdeadbeef, csrc 7,
 * one-byte extension: id 1 (level, V set, 30 dB) + id 3 (2 bytes), payload "abc". */
static const uint8_t good[] = {
	0x91, 0xef, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef,
	0x00, 0x00, 0x00, 0x07,
	0xbe, 0xde, 0x00, 0x02, 0x10, 0x80 | 30, 0x31, 0xaa, 0xbb, 0x00, 0x00, 0x00,
	'a', 'b', 'c',
};

TT_TEST(rtp_parse_good)
{
	struct tt_rtp_hdr h;
	TT_ASSERT_INT_EQ(tt_rtp_parse(&h, good, sizeof good), 0);
	TT_ASSERT(h.marker);
	TT_ASSERT_INT_EQ(h.pt, 111);
	TT_ASSERT_INT_EQ(h.seq, 0x1234);
	TT_ASSERT_INT_EQ(h.ts, 0x01020304);
	TT_ASSERT_INT_EQ(h.ssrc, 0xdeadbeef);
	TT_ASSERT_INT_EQ(h.cc, 1);
	TT_ASSERT_INT_EQ(h.csrc[0], 7);
	TT_ASSERT_INT_EQ(h.ext_profile, 0xBEDE);
	TT_ASSERT_INT_EQ(h.ext_len, 8);
	TT_ASSERT_INT_EQ(h.payload_len, 3);
	TT_ASSERT(memcmp(h.payload, "abc", 3) == 0);

	bool vad;
	uint8_t level;
	TT_ASSERT_INT_EQ(tt_rtp_audio_level(&h, 1, &vad, &level), 0);
	TT_ASSERT(vad);
	TT_ASSERT_INT_EQ(level, 30);
	const uint8_t *d;
	size_t n;
	TT_ASSERT_INT_EQ(tt_rtp_ext_find(&h, 3, &d, &n), 0);
	TT_ASSERT_INT_EQ(n, 2);
	TT_ASSERT_INT_EQ(d[0], 0xaa);
	TT_ASSERT_INT_EQ(tt_rtp_ext_find(&h, 2, &d, &n), -ENOENT);
}

static void expect_bad(const uint8_t *p, size_t len)
{
	struct tt_rtp_hdr h;
	memset(&h, 0x5a, sizeof h);
	TT_ASSERT_INT_EQ(tt_rtp_parse(&h, p, len), -EINVAL);
	/* untouched on failure */
	TT_ASSERT_INT_EQ(h.seq, 0x5a5a);
	TT_ASSERT_INT_EQ(h.ssrc, 0x5a5a5a5a);
}

TT_TEST(rtp_parse_malformed)
{
	uint8_t p[64];

	/* Every truncation of a valid packet that cuts into the header is rejected. */
	for (size_t len = 0; len < 28; len++)
		expect_bad(good, len);
	/* bad version */
	memcpy(p, good, sizeof good);
	p[0] = (p[0] & 0x3f) | 0x40;
	expect_bad(p, sizeof good);
	/* CSRC count past the end */
	memcpy(p, good, 12);
	p[0] = 0x8f;
	expect_bad(p, 12 + 14 * 4);
	/* extension length past the end: claims 3 words, 2 present */
	memcpy(p, good, sizeof good);
	p[19] = 0x03;
	expect_bad(p, 28);
	/* padding larger than the packet (and zero padding) */
	memcpy(p, good, 12);
	p[0] = 0xa0;
	p[12] = 1;
	p[13] = 9;
	expect_bad(p, 14);
	p[13] = 0;
	expect_bad(p, 14);
	/* padding exactly the payload is fine */
	p[13] = 2;
	struct tt_rtp_hdr h;
	TT_ASSERT_INT_EQ(tt_rtp_parse(&h, p, 14), 0);
	TT_ASSERT_INT_EQ(h.payload_len, 0);
	TT_ASSERT_INT_EQ(h.pad_len, 2);
}

TT_TEST(rtp_ext_malformed_elements)
{
	/* Element claims 16 bytes inside a 4-byte block. */
	uint8_t p[] = {0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1,
		       0x1f, 1, 2, 3};
	struct tt_rtp_hdr h;
	TT_ASSERT_INT_EQ(tt_rtp_parse(&h, p, sizeof p), 0);
	bool vad = false;
	uint8_t level = 99;
	TT_ASSERT_INT_EQ(tt_rtp_audio_level(&h, 1, &vad, &level), -EINVAL);
	TT_ASSERT_INT_EQ(level, 99);
	/* Two-byte form: length past the end. */
	uint8_t q[] = {0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0, 1,
		       5, 9, 0, 0};
	TT_ASSERT_INT_EQ(tt_rtp_parse(&h, q, sizeof q), 0);
	const uint8_t *d;
	size_t n;
	TT_ASSERT_INT_EQ(tt_rtp_ext_find(&h, 5, &d, &n), -EINVAL);
}

TT_TEST(rtp_build_roundtrip_both_ext_forms)
{
	uint8_t lvl = 0x80 | 42, big[20], ext[64], pkt[128];
	memset(big, 7, sizeof big);
	for (int form = 0; form < 2; form++) {
		struct tt_rtp_ext_elem e[2] = {{1, 1, &lvl}, {form ? 200 : 2, form ? 20 : 3, big}};
		struct tt_rtp_hdr h = {.pt = 0, .seq = 65535, .ts = 160, .ssrc = 42,
				       .has_ext = true, .cc = 2, .csrc = {9, 10}};
		int n = tt_rtp_ext_build(ext, sizeof ext, &h.ext_profile, e, 2);
		TT_ASSERT(n > 0 && n % 4 == 0);
		TT_ASSERT_INT_EQ(h.ext_profile, form ? 0x1000 : 0xBEDE);
		h.ext = ext;
		h.ext_len = (size_t)n;
		int hl = tt_rtp_write(pkt, sizeof pkt, &h);
		TT_ASSERT(hl > 0);
		memcpy(pkt + hl, "xy", 2);
		struct tt_rtp_hdr r;
		TT_ASSERT_INT_EQ(tt_rtp_parse(&r, pkt, (size_t)hl + 2), 0);
		TT_ASSERT_INT_EQ(r.seq, 65535);
		TT_ASSERT_INT_EQ(r.csrc[1], 10);
		TT_ASSERT_INT_EQ(r.payload_len, 2);
		bool vad;
		uint8_t level;
		TT_ASSERT_INT_EQ(tt_rtp_audio_level(&r, 1, &vad, &level), 0);
		TT_ASSERT(vad);
		TT_ASSERT_INT_EQ(level, 42);
		const uint8_t *d;
		size_t dl;
		TT_ASSERT_INT_EQ(tt_rtp_ext_find(&r, e[1].id, &d, &dl), 0);
		TT_ASSERT_INT_EQ(dl, e[1].len);
		TT_ASSERT(memcmp(d, big, dl) == 0);
	}
	struct tt_rtp_hdr h = {.pt = 0};
	TT_ASSERT_INT_EQ(tt_rtp_write(pkt, 11, &h), -ENOSPC);
}

TT_TEST(rtp_rtcp_demux)
{
	uint8_t rr[2] = {0x80, 201}, rtp[2] = {0x80, 111}, rtpm[2] = {0x80, 0x80 | 111};
	TT_ASSERT(tt_rtp_is_rtcp(rr, 2));
	TT_ASSERT(!tt_rtp_is_rtcp(rtp, 2));
	TT_ASSERT(!tt_rtp_is_rtcp(rtpm, 2));
	TT_ASSERT(!tt_rtp_is_rtcp(rr, 1));
}

TT_TEST(rtp_dtmf_digits_once)
{
	/* Digit '5': three progress packets then the end three times; then '#'. */
	struct tt_dtmf_rx rx = {0};
	struct tt_rtp_hdr h = {.pt = 101, .ts = 1000};
	uint8_t pl[4] = {5, 10, 0, 160};
	h.payload = pl;
	h.payload_len = 4;
	char d = 0;
	int digits = 0;
	for (int i = 0; i < 3; i++)
		TT_ASSERT_INT_EQ(tt_dtmf_rx_input(&rx, &h, &d), 0);
	pl[1] |= 0x80;
	for (int i = 0; i < 3; i++)
		digits += tt_dtmf_rx_input(&rx, &h, &d);
	TT_ASSERT_INT_EQ(digits, 1);
	TT_ASSERT_INT_EQ(d, '5');
	h.ts = 3000;
	pl[0] = 11;
	TT_ASSERT_INT_EQ(tt_dtmf_rx_input(&rx, &h, &d), 1);
	TT_ASSERT_INT_EQ(d, '#');
	h.payload_len = 3;
	TT_ASSERT_INT_EQ(tt_dtmf_rx_input(&rx, &h, &d), -EINVAL);
	TT_ASSERT_INT_EQ(tt_dtmf_digit(16), 0);
	TT_ASSERT_INT_EQ(tt_dtmf_digit(15), 'D');
}
