/* Unit tests of SDP offer/answer: codec preference, DTMF, SRTP policy, hold, rejected
 * m-lines mirrored in the answer, our own offer, and the warnings of a 488. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"
#include "tt_test.h"

static const char *const prefs[] = { "opus", "g722", "pcmu", "pcma", NULL };
static const char *const g711_only[] = { "pcma", "pcmu", NULL };

#define OFFER_HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
#define KEY "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

static int nego(struct tt_sip_media *m, const char *sdp, enum tt_sip_srtp_policy srtp,
		const char *const *codecs, const char **w)
{
	struct tt_sip_sdp_policy pol = { codecs, srtp, 20 };
	return tt_sip_sdp_negotiate(m, sdp, strlen(sdp), &pol, true, w);
}

TT_TEST(sip_sdp_prefers_our_order_and_finds_dtmf)
{
	struct tt_sip_media m;
	const char *w = NULL;
	const char *sdp = OFFER_HEAD "m=audio 4000 RTP/AVP 0 8 111 101\r\n"
			  "a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
			  "a=ptime:40\r\n";
	TT_ASSERT_INT_EQ(nego(&m, sdp, TT_SIP_SRTP_OFFER, prefs, &w), 0);
	TT_ASSERT_STR_EQ(m.codec, "opus");
	TT_ASSERT_INT_EQ(m.pt, 111);
	TT_ASSERT_INT_EQ(m.ptime, 40);
	TT_ASSERT_INT_EQ(m.dtmf_pt, 101);
	TT_ASSERT(!m.hold && !m.srtp && m.remote_len > 0);
	TT_ASSERT_INT_EQ(ntohs(((struct sockaddr_in *)&m.remote)->sin_port), 4000);
	TT_ASSERT_INT_EQ(nego(&m, sdp, TT_SIP_SRTP_OFFER, g711_only, &w), 0);
	TT_ASSERT_STR_EQ(m.codec, "pcma");
}

TT_TEST(sip_sdp_rejections_have_warnings)
{
	struct tt_sip_media m;
	memset(&m, 0x5a, sizeof m);
	struct tt_sip_media before = m;
	const char *w = NULL;
	TT_ASSERT_INT_EQ(nego(&m, OFFER_HEAD "m=audio 4000 RTP/AVP 3\r\n", TT_SIP_SRTP_OFFER,
			      prefs, &w), -ENOTSUP);
	TT_ASSERT(w && strstr(w, "305"));
	TT_ASSERT(!memcmp(&m, &before, sizeof m));   /* untouched on error */
	TT_ASSERT_INT_EQ(nego(&m, OFFER_HEAD "m=audio 4000 RTP/AVP 0\r\n", TT_SIP_SRTP_REQUIRE,
			      prefs, &w), -ENOTSUP);
	TT_ASSERT(w && strstr(w, "SRTP"));
	TT_ASSERT_INT_EQ(nego(&m, OFFER_HEAD "m=audio 4000 RTP/SAVP 0\r\n"
			      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " KEY "\r\n",
			      TT_SIP_SRTP_OFF, prefs, &w), -ENOTSUP);
	TT_ASSERT_INT_EQ(nego(&m, OFFER_HEAD "m=video 4000 RTP/AVP 31\r\n", TT_SIP_SRTP_OFFER,
			      prefs, &w), -ENOTSUP);
	TT_ASSERT_INT_EQ(nego(&m, OFFER_HEAD "m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n",
			      TT_SIP_SRTP_OFFER, prefs, &w), -ENOTSUP);
	TT_ASSERT(w && strstr(w, "302"));
	TT_ASSERT_INT_EQ(nego(&m, "garbage", TT_SIP_SRTP_OFFER, prefs, &w), -EBADMSG);
}

TT_TEST(sip_sdp_srtp_hold_and_answer)
{
	struct tt_sip_media m;
	const char *w = NULL;
	const char *sdp = OFFER_HEAD "m=video 5000 RTP/AVP 31\r\n"
			  "m=audio 4000 RTP/SAVP 0\r\n"
			  "a=crypto:7 AES_CM_128_HMAC_SHA1_80 " KEY "\r\na=sendonly\r\n";
	TT_ASSERT_INT_EQ(nego(&m, sdp, TT_SIP_SRTP_OFFER, prefs, &w), 0);
	TT_ASSERT(m.srtp && m.savp && m.hold);
	TT_ASSERT_INT_EQ(m.crypto.tag, 7);
	TT_ASSERT_INT_EQ(m.chosen, 1);
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(20000) };
	inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
	struct tt_sdes_crypto ours = m.crypto;
	char buf[2048];
	struct tt_sip_sdp_policy pol = { prefs, TT_SIP_SRTP_OFFER, 20 };
	int n = tt_sip_sdp_write(buf, sizeof buf, &m, &pol, (struct sockaddr *)&local, &ours, 1, 2);
	TT_ASSERT(n > 0);
	TT_ASSERT(strstr(buf, "m=video 0 RTP/AVP 31\r\n"));
	TT_ASSERT(strstr(buf, "m=audio 20000 RTP/SAVP 0\r\n"));
	TT_ASSERT(strstr(buf, "a=recvonly\r\n"));
	TT_ASSERT(strstr(buf, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"));
	TT_ASSERT(strstr(buf, "c=IN IP4 127.0.0.1\r\n"));
	/* c=0.0.0.0 is hold too, with no address to send to */
	TT_ASSERT_INT_EQ(nego(&m, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\n"
			      "t=0 0\r\nm=audio 4000 RTP/AVP 8\r\n", TT_SIP_SRTP_OFFER, prefs, &w), 0);
	TT_ASSERT(m.hold && m.remote_len == 0);
	TT_ASSERT_INT_EQ(tt_sip_sdp_write(buf, 10, &m, &pol, (struct sockaddr *)&local, NULL, 1, 1),
			 -ENOSPC);
}

TT_TEST(sip_sdp_our_offer_and_its_answer)
{
	char buf[2048];
	struct tt_sip_sdp_policy pol = { prefs, TT_SIP_SRTP_OFF, 20 };
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(20002) };
	inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
	int n = tt_sip_sdp_write(buf, sizeof buf, NULL, &pol, (struct sockaddr *)&local, NULL, 1, 1);
	TT_ASSERT(n > 0);
	TT_ASSERT(strstr(buf, "m=audio 20002 RTP/AVP 111 9 0 8 101 100\r\n"));
	TT_ASSERT(strstr(buf, "a=rtpmap:111 opus/48000/2\r\n"));
	struct tt_sip_media m;
	const char *w = NULL;
	const char *ans = OFFER_HEAD "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
	TT_ASSERT_INT_EQ(tt_sip_sdp_negotiate(&m, ans, strlen(ans), &pol, false, &w), 0);
	TT_ASSERT_STR_EQ(m.codec, "pcmu");
	TT_ASSERT_INT_EQ(m.dtmf_pt, 101);
}
