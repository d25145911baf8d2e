/* test_rtcp.c: RTCP compound parse/build, receiver statistics and RTT. */
#include <errno.h>

#include "tt_test.h"
#include "tutti/rtcp.h"

TT_TEST(rtcp_build_parse_sr_sdes_bye)
{
	struct tt_rtcp_report r = {
		.ssrc = 0x11223344, .sender = true, .ntp = 0xaabbccdd11223344ull,
		.rtp_ts = 4800, .pkt_count = 50, .octet_count = 5000, .n_rb = 1,
		.rb = {{.ssrc = 77, .fraction = 64, .lost = -3, .ext_seq = 70000,
			.jitter = 12, .lsr = 0x12345678, .dlsr = 65536}},
		.cname = "alice@tutti", .bye = true,
	};
	uint8_t buf[256];
	int n = tt_rtcp_build(buf, sizeof buf, &r);
	TT_ASSERT(n > 0 && n % 4 == 0);
	struct tt_rtcp_info info;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, buf, (size_t)n), 0);
	TT_ASSERT_INT_EQ(info.n_packets, 3);
	TT_ASSERT(info.has_sr);
	TT_ASSERT_INT_EQ(info.ssrc, 0x11223344);
	TT_ASSERT(info.ntp == r.ntp);
	TT_ASSERT_INT_EQ(info.pkt_count, 50);
	TT_ASSERT_INT_EQ(info.n_rb, 1);
	TT_ASSERT_INT_EQ(info.rb[0].fraction, 64);
	TT_ASSERT_INT_EQ(info.rb[0].lost, -3);
	TT_ASSERT_INT_EQ(info.rb[0].ext_seq, 70000);
	TT_ASSERT_INT_EQ(info.rb[0].lsr, 0x12345678);
	TT_ASSERT(info.has_cname);
	TT_ASSERT_STR_EQ(info.cname, "alice@tutti");
	TT_ASSERT(info.bye);
	TT_ASSERT_INT_EQ(tt_rtcp_build(buf, 20, &r), -ENOSPC);
}

TT_TEST(rtcp_parse_malformed)
{
	struct tt_rtcp_report r = {.ssrc = 1, .n_rb = 1, .rb = {{.ssrc = 2}}, .cname = "x"};
	uint8_t buf[128], p[128];
	int n = tt_rtcp_build(buf, sizeof buf, &r);
	TT_ASSERT(n > 0);
	struct tt_rtcp_info info;
	memset(&info, 0x5a, sizeof info);
	/* every shorter length fails (lengths no longer add up), except the RR alone at 32 */
	for (int len = 0; len < n; len++)
		if (len != 32)
			TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, buf, (size_t)len), -EINVAL);
	TT_ASSERT_INT_EQ(info.ssrc, 0x5a5a5a5a);
	/* bad version in the second packet */
	memcpy(p, buf, (size_t)n);
	p[32] = 0x41;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, p, (size_t)n), -EINVAL);
	/* length field past the end */
	memcpy(p, buf, (size_t)n);
	p[3] = 60;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, p, (size_t)n), -EINVAL);
	/* RR count larger than its length allows */
	memcpy(p, buf, (size_t)n);
	p[0] = 0x82;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, p, (size_t)n), -EINVAL);
	/* padding on a packet that is not the last */
	memcpy(p, buf, (size_t)n);
	p[0] |= 0x20;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, p, (size_t)n), -EINVAL);
	/* SDES item running past its packet */
	memcpy(p, buf, (size_t)n);
	p[32 + 9] = 200;
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, p, (size_t)n), -EINVAL);
	/* first packet not a report */
	uint8_t junk[8] = {0x80, 100, 0, 1, 0, 0, 0, 0};
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, junk, 8), -EINVAL);
	TT_ASSERT_INT_EQ(tt_rtcp_parse(&info, buf, (size_t)n), 0);
	TT_ASSERT_INT_EQ(info.ssrc, 1);
}

TT_TEST(rtcp_rxstats_loss_and_jitter)
{
	struct tt_rtp_rxstats s = {0};
	/* 100 packets, 20 ms apart at 8 kHz, perfectly paced, seq wrapping, 5 lost. */
	uint16_t seq = 65500;
	int got = 0;
	for (int i = 0; i < 100; i++, seq++) {
		if (i % 20 == 10)
			continue;
		tt_rtp_rxstats_update(&s, 9, seq, (uint32_t)i * 160, 1000 + (uint32_t)i * 160);
		got++;
	}
	TT_ASSERT_INT_EQ(got, 95);
	TT_ASSERT_INT_EQ(tt_rtp_rxstats_lost(&s), 5);
	TT_ASSERT_INT_EQ(tt_rtp_rxstats_jitter(&s), 0);
	struct tt_rtcp_rb rb;
	tt_rtp_rxstats_block(&s, &rb);
	TT_ASSERT_INT_EQ(rb.lost, 5);
	TT_ASSERT(rb.fraction > 0);
	TT_ASSERT_INT_EQ(rb.ext_seq, 65536 + (uint16_t)(seq - 1));
	/* Now alternate arrival offsets of 0 and 80 units: jitter converges near 80. */
	for (int i = 100; i < 600; i++, seq++)
		tt_rtp_rxstats_update(&s, 9, seq, (uint32_t)i * 160,
				      1000 + (uint32_t)i * 160 + (i % 2 ? 80 : 0));
	uint32_t j = tt_rtp_rxstats_jitter(&s);
	TT_ASSERT_MSG(j > 70 && j <= 80, "jitter %u", j);
	tt_rtp_rxstats_block(&s, &rb);
	TT_ASSERT_INT_EQ(rb.fraction, 0);
}

TT_TEST(rtcp_rtt)
{
	uint64_t now = tt_ntp_now();
	/* Our SR left 150 ms ago; the peer held it 100 ms: RTT 50 ms. */
	struct tt_rtcp_rb rb = {
		.lsr = tt_ntp_mid32(now - (uint64_t)(0.150 * 4294967296.0)),
		.dlsr = (uint32_t)(0.100 * 65536),
	};
	int64_t rtt = tt_rtcp_rtt_us(&rb, now);
	TT_ASSERT_MSG(rtt > 49000 && rtt < 51000, "rtt %lld", (long long)rtt);
	rb.lsr = 0;
	TT_ASSERT_INT_EQ(tt_rtcp_rtt_us(&rb, now), -1);
}
