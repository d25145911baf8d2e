/* rtcp_fuzzer.c: RTCP compound parsing, and build/parse agreement on what was parsed. */
#include <stdint.h>
#include <string.h>

#include "tutti/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tt_rtcp_info info;
	if (tt_rtcp_parse(&info, data, size) != 0)
		return 0;
	if (info.n_rb > TT_RTCP_MAX_RB || info.n_rb > info.n_rb_total ||
	    strlen(info.cname) > TT_RTCP_CNAME_MAX)
		__builtin_trap();
	struct tt_rtcp_report r = {
		.ssrc = info.ssrc, .sender = info.has_sr, .ntp = info.ntp,
		.rtp_ts = info.rtp_ts, .n_rb = info.n_rb,
		.cname = info.has_cname ? info.cname : NULL, .bye = info.bye,
	};
	memcpy(r.rb, info.rb, sizeof r.rb);
	uint8_t buf[1024];
	int n = tt_rtcp_build(buf, sizeof buf, &r);
	struct tt_rtcp_info again;
	if (n <= 0 || tt_rtcp_parse(&again, buf, (size_t)n) != 0 || again.ssrc != info.ssrc ||
	    again.n_rb != info.n_rb || again.bye != info.bye ||
	    (info.has_cname && strcmp(again.cname, info.cname) != 0))
		__builtin_trap();
	struct tt_rtp_rxstats s = {0};
	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint32_t ts, arr;
		memcpy(&ts, data + i, 4);
		memcpy(&arr, data + i + 4, 4);
		tt_rtp_rxstats_update(&s, 1, (uint16_t)ts, ts, arr);
	}
	struct tt_rtcp_rb rb;
	tt_rtp_rxstats_block(&s, &rb);
	if (info.n_rb)
		tt_rtcp_rtt_us(&info.rb[0], tt_ntp_now());
	return 0;
}
