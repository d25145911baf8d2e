/* test_sdp.c: the WebRTC gateway's offer parser and answer, and its /ws message parser, on
 * offers shaped like Chrome's, Firefox's (ICE and fingerprint at session level) and
 * aiortc's, and on what must be refused. */
#include <glib.h>
#include <string.h>

#include "proto.h"
#include "sdp.h"
#include "tt_test.h"

#define FP "sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:" \
	   "AB:AB:AB:AB:AB:AB:AB:AB"

static const char chrome[] =
	"v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	"a=extmap-allow-mixed\r\na=msid-semantic: WMS s\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n"
	"a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Zq8N\r\na=ice-pwd:Xv3SVyl3W0hZmbkJ9b9O3bbk\r\n"
	"a=ice-options:trickle\r\na=fingerprint:" FP "\r\na=setup:actpass\r\na=mid:0\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
	"a=sendrecv\r\na=msid:s t\r\na=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:111 opus/48000/2\r\n"
	"a=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
	"a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:110 telephone-event/48000\r\n";

static const char firefox[] =
	"v=0\r\no=mozilla...THIS_IS_SDPARTA 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	"a=fingerprint:" FP "\r\na=group:BUNDLE 0 1\r\na=ice-options:trickle\r\n"
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwxyz\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 109 0\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n"
	"a=extmap:3 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=mid:0\r\n"
	"a=rtcp-mux\r\na=rtpmap:109 opus/48000/2\r\na=setup:active\r\n"
	"a=candidate:0 1 UDP 2122252543 127.0.0.1 40000 typ host\r\n"
	"m=video 9 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
	"a=rtpmap:120 VP8/90000\r\n";

static void replace(char *dst, size_t cap, const char *src, const char *from, const char *to)
{
	const char *at = strstr(src, from);
	g_assert(at);
	g_snprintf(dst, cap, "%.*s%s%s", (int)(at - src), src, to, at + strlen(from));
}

TT_TEST(sdp_chrome_offer_and_answer)
{
	struct wr_offer o;
	const char *why = NULL;
	TT_ASSERT_INT_EQ(wr_sdp_parse_offer(&o, chrome, strlen(chrome), &why), 0);
	TT_ASSERT_INT_EQ(o.opus_pt, 111);
	TT_ASSERT(o.opus_fec);
	TT_ASSERT_INT_EQ(o.level_ext_id, 1);
	TT_ASSERT_STR_EQ(o.mid, "0");
	TT_ASSERT_STR_EQ(o.ufrag, "Zq8N");
	TT_ASSERT_STR_EQ(o.fingerprint, FP);
	TT_ASSERT_INT_EQ(o.setup, WR_SETUP_ACTPASS);
	TT_ASSERT(wr_sdp_we_are_active(&o));
	TT_ASSERT_INT_EQ(o.n_mlines, 1);
	struct tt_audio_attached r = { .kind = TT_LEG_ICE };
	g_strlcpy(r.ice.ufrag, "ours", sizeof r.ice.ufrag);
	g_strlcpy(r.ice.pwd, "ourpasswordourpassword", sizeof r.ice.pwd);
	g_strlcpy(r.ice.fingerprint, FP, sizeof r.ice.fingerprint);
	char *a = wr_sdp_answer(&o, &r);
	const char *want[] = {
		"a=group:BUNDLE 0\r\n", "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n",
		"a=ice-ufrag:ours\r\n", "a=ice-pwd:ourpasswordourpassword\r\n",
		"a=fingerprint:" FP "\r\n", "a=setup:active\r\n", "a=mid:0\r\n",
		"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n", "a=rtcp-mux\r\n",
		"a=rtpmap:111 opus/48000/2\r\n", "a=fmtp:111 minptime=10;useinbandfec=1\r\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		TT_ASSERT_MSG(strstr(a, want[i]), "answer lacks %s", want[i]);
	/* our answer is itself valid SDP for sofia-sip */
	struct wr_offer back;
	TT_ASSERT_INT_EQ(wr_sdp_parse_offer(&back, a, strlen(a), &why), 0);
	TT_ASSERT_INT_EQ(back.setup, WR_SETUP_ACTIVE);
	TT_ASSERT(!strstr(a, "a=ice-lite"));   /* full ICE */
	g_free(a);
	/* ICE-lite: said once, at session level (RFC 8839 5.3), before the first m= line */
	r.ice.lite = true;
	a = wr_sdp_answer(&o, &r);
	const char *lite = strstr(a, "a=ice-lite\r\n");
	TT_ASSERT(lite && lite < strstr(a, "m=audio"));
	TT_ASSERT(!strstr(lite + 1, "a=ice-lite"));
	TT_ASSERT_INT_EQ(wr_sdp_parse_offer(&back, a, strlen(a), &why), 0);
	g_free(a);
}

TT_TEST(sdp_firefox_session_level_and_rejected_video)
{
	struct wr_offer o;
	const char *why = NULL;
	TT_ASSERT_INT_EQ(wr_sdp_parse_offer(&o, firefox, strlen(firefox), &why), 0);
	TT_ASSERT_INT_EQ(o.opus_pt, 109);
	TT_ASSERT(!o.opus_fec);
	TT_ASSERT_INT_EQ(o.level_ext_id, 3);
	TT_ASSERT_STR_EQ(o.ufrag, "abcd");
	TT_ASSERT_INT_EQ(o.setup, WR_SETUP_ACTIVE);
	TT_ASSERT(!wr_sdp_we_are_active(&o));
	TT_ASSERT_INT_EQ(o.n_mlines, 2);
	TT_ASSERT_INT_EQ(o.audio_index, 0);
	TT_ASSERT_INT_EQ(o.n_cands, 1);
	TT_ASSERT(g_str_has_prefix(o.cands[0], "candidate:0 1 UDP"));
	struct tt_audio_attached r = { 0 };
	char *a = wr_sdp_answer(&o, &r);
	TT_ASSERT(strstr(a, "a=setup:passive\r\n"));
	TT_ASSERT(strstr(a, "m=video 0 UDP/TLS/RTP/SAVPF 120\r\n"));
	TT_ASSERT(strstr(a, "a=mid:1\r\n"));
	g_free(a);
}

TT_TEST(sdp_refusals_say_why)
{
	static const struct { const char *from, *to, *why; } cases[] = {
		{ "a=rtcp-mux\r\n", "", "rtcp-mux" },
		{ "sha-256 AB", "sha-1 AB", "fingerprint" },
		{ "a=ice-pwd:Xv3SVyl3W0hZmbkJ9b9O3bbk\r\n", "", "ice-pwd" },
		{ "opus/48000/2", "speex/16000", "opus" },
		{ "a=setup:actpass", "a=setup:holdconn", "setup" },
		{ "m=audio 9", "m=audio 0", "audio" },
		{ "a=mid:0", "a=mid:0\"<x>", "mid" },
		{ "UDP/TLS/RTP/SAVPF", "UDP/TLS/RT=a:b", "well-formed" },
		{ "s=-", "s=\x80", "well-formed" },
		{ "t=0 0", "t0 0", "well-formed" },
	};
	char buf[4096];
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		replace(buf, sizeof buf, chrome, cases[i].from, cases[i].to);
		struct wr_offer o;
		memset(&o, 0x5a, sizeof o);
		const char *why = NULL;
		TT_ASSERT_MSG(wr_sdp_parse_offer(&o, buf, strlen(buf), &why) != 0, "case %zu", i);
		TT_ASSERT_MSG(why && strstr(why, cases[i].why), "case %zu: %s", i, why);
		TT_ASSERT(((unsigned char *)&o)[0] == 0x5a);   /* untouched on failure */
	}
	const char *why = NULL;
	struct wr_offer o;
	TT_ASSERT(wr_sdp_parse_offer(&o, "", 0, &why) != 0);
	TT_ASSERT(wr_sdp_parse_offer(&o, "garbage", 7, &why) != 0);
}

TT_TEST(proto_messages)
{
	struct wr_msg m;
	const char *code = NULL, *detail = NULL;
	const char *join = "{\"type\":\"join\",\"room\":\"r\",\"name\":\"n\",\"extra\":1}";
	TT_ASSERT_INT_EQ(wr_msg_parse(&m, join, strlen(join), &code, &detail), 0);
	TT_ASSERT_INT_EQ(m.type, WR_MSG_JOIN);
	TT_ASSERT_STR_EQ(m.room, "r");
	TT_ASSERT(m.pin == NULL);
	wr_msg_clear(&m);
	const char *cand = "{\"type\":\"candidate\",\"candidate\":null}";
	TT_ASSERT_INT_EQ(wr_msg_parse(&m, cand, strlen(cand), &code, &detail), 0);
	TT_ASSERT(m.candidate == NULL);
	wr_msg_clear(&m);
	/* a candidate's length is checked with its syntax (bad_candidate), not here */
	GString *lc = g_string_new("{\"type\":\"candidate\",\"candidate\":\"candidate:");
	for (int i = 0; i < 600; i++)
		g_string_append_c(lc, 'x');
	g_string_append(lc, "\"}");
	TT_ASSERT_INT_EQ(wr_msg_parse(&m, lc->str, lc->len, &code, &detail), 0);
	TT_ASSERT_INT_EQ(strlen(m.candidate), 610);
	wr_msg_clear(&m);
	g_string_free(lc, TRUE);
	static const struct { const char *text, *code; } bad[] = {
		{ "{", "bad_json" }, { "[]", "bad_json" }, { "{}", "bad_request" },
		{ "{\"type\":\"dance\"}", "unknown_type" },
		/* longer than any of ours is still a type we do not know */
		{ "{\"type\":\"a-type-name-longer-than-thirty-two-characters\"}", "unknown_type" },
		{ "{\"type\":1}", "bad_request" },
		{ "{\"type\":null}", "bad_request" },
		{ "{\"type\":\"candidate\",\"candidate\":5}", "bad_request" },
		{ "{\"type\":\"join\"}", "bad_request" },
		{ "{\"type\":\"join\",\"room\":\"\"}", "bad_request" },
		{ "{\"type\":\"mute\"}", "bad_request" },
		{ "{\"type\":\"chat\",\"text\":5}", "bad_request" },
		{ "{\"type\":\"chat\",\"text\":\"a\\u0000b\"}", "bad_json" },
		{ "{\"type\":\"offer\"}", "bad_request" },
		{ "{\"type\":\"moderate\"}", "bad_request" },
		{ "{\"type\":\"moderate\",\"action\":\"ask_unmute\",\"target\":\"p1\"}",
		  "bad_request" },
		{ "{\"type\":\"moderate\",\"action\":\"kick\"}", "bad_request" },
		{ "{\"type\":\"moderate\",\"action\":\"end\",\"target\":\"p1\"}",
		  "bad_request" },
		{ "{\"type\":\"moderate\",\"action\":\"mute\",\"target\":5}", "bad_request" },
		{ "{\"type\":\"hand\"}", "bad_request" },
		{ "{\"type\":\"decline\",\"declined\":1}", "bad_request" },
		{ "{\"type\":\"join\",\"type\":\"join\",\"room\":\"r\"}", "bad_json" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		code = NULL;
		TT_ASSERT_MSG(wr_msg_parse(&m, bad[i].text, strlen(bad[i].text), &code, &detail) < 0,
			      "accepted %s", bad[i].text);
		TT_ASSERT_MSG(code && !strcmp(code, bad[i].code), "%s: %s", bad[i].text, code);
		TT_ASSERT(m.root == NULL);
	}
	const char *kick = "{\"type\":\"moderate\",\"action\":\"kick\",\"target\":\"p2\","
			   "\"reason\":\"bye\"}";
	TT_ASSERT_INT_EQ(wr_msg_parse(&m, kick, strlen(kick), &code, &detail), 0);
	TT_ASSERT(m.type == WR_MSG_MODERATE && m.mod == TT_MOD_KICK);
	TT_ASSERT_STR_EQ(m.target, "p2");
	TT_ASSERT_STR_EQ(m.reason, "bye");
	wr_msg_clear(&m);
	/* a refused message of a known type says which (the error's "about") */
	const char *nomute = "{\"type\":\"mute\",\"muted\":\"yes\"}";
	TT_ASSERT(wr_msg_parse(&m, nomute, strlen(nomute), &code, &detail) < 0);
	TT_ASSERT_STR_EQ(m.about, "mute");
	TT_ASSERT(wr_msg_parse(&m, "{\"type\":\"x\"}", 12, &code, &detail) < 0);
	TT_ASSERT(m.about == NULL);
}
