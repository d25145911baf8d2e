/* test_loadgen.c: the load generator's tone detection, G.711, codecs, HTTP parsing (chunked
 * too), receive statistics and the Janus AudioBridge JSON it builds and reads. */
#include <errno.h>
#include <math.h>

#include <jansson.h>

#include "lg.h"
#include "tt_test.h"

static unsigned detect(enum lg_codec codec, unsigned tones, double amp, int frames)
{
	struct lg_codec_ctx enc, dec;
	struct lg_rx rx;
	TT_ASSERT_INT_EQ(lg_codec_open(&enc, codec, true, false), 0);
	TT_ASSERT_INT_EQ(lg_codec_open(&dec, codec, false, true), 0);
	lg_rx_init(&rx, 8000, true, 6);
	int16_t pcm[320], tmp[320], out[320];
	uint8_t pl[1500];
	for (int f = 0; f < frames; f++) {
		memset(pcm, 0, sizeof pcm);
		for (int k = 0; k < 6; k++) {
			if (!(tones & (1u << k)))
				continue;
			lg_tone_fill(tmp, (size_t)enc.samples, enc.rate, lg_tone_freq(k), amp,
				     (uint64_t)f * (uint64_t)enc.samples);
			for (int s = 0; s < enc.samples; s++)
				pcm[s] = (int16_t)(pcm[s] + tmp[s]);
		}
		int n = lg_encode(&enc, pcm, pl, sizeof pl);
		TT_ASSERT(n > 0);
		TT_ASSERT_INT_EQ(lg_decode(&dec, pl, (size_t)n, out), dec.samples);
		if (f >= 5)
			lg_rx_frame(&rx, out, (size_t)dec.samples, dec.rate, f * 20000);
	}
	lg_codec_close(&enc);
	lg_codec_close(&dec);
	return lg_rx_tones(&rx, 0.05);
}

TT_TEST(loadgen_tones_through_each_codec)
{
	enum lg_codec cs[] = {LG_OPUS, LG_PCMU, LG_PCMA};
	for (int c = 0; c < 3; c++) {
		TT_ASSERT_INT_EQ(detect(cs[c], 0x0b, 6000, 40), 0x0b);
		TT_ASSERT_INT_EQ(detect(cs[c], 0x24, 6000, 40), 0x24);
		TT_ASSERT_INT_EQ(detect(cs[c], 0x01, 6000, 40), 0x01);
	}
	/* Silence carries no tone at all. */
	TT_ASSERT_INT_EQ(detect(LG_PCMU, 0, 0, 20), 0);
}

TT_TEST(loadgen_g711_roundtrip)
{
	for (int v = -32768; v <= 32767; v += 7) {
		int16_t s = (int16_t)v;
		int du = abs(lg_ulaw_dec(lg_ulaw_enc(s)) - v);
		int da = abs(lg_alaw_dec(lg_alaw_enc(s)) - v);
		/* Quantisation step is at most 1/16 of the magnitude (plus the small segment). */
		int bound = abs(v) / 16 + 16;
		TT_ASSERT_MSG(du <= bound + 16, "ulaw %d -> err %d", v, du);
		TT_ASSERT_MSG(da <= bound, "alaw %d -> err %d", v, da);
	}
	/* Well-known code points. */
	TT_ASSERT_INT_EQ(lg_ulaw_enc(0), 0xff);
	TT_ASSERT_INT_EQ(lg_alaw_enc(0), 0xd5);
	TT_ASSERT_INT_EQ(lg_ulaw_dec(0xff), 0);
}

TT_TEST(loadgen_goertzel_selectivity)
{
	int16_t pcm[160];
	lg_tone_fill(pcm, 160, 8000, lg_tone_freq(2), 16000, 0);
	double on = 2 * lg_goertzel(pcm, 160, 8000, lg_tone_freq(2));
	double off = 2 * lg_goertzel(pcm, 160, 8000, lg_tone_freq(3));
	double p = lg_power(pcm, 160);
	TT_ASSERT_MSG(fabs(on - p) < 0.01 * p, "on %g power %g", on, p);
	TT_ASSERT_MSG(off < 1e-6, "leak %g", off);
}

TT_TEST(loadgen_http_parse)
{
	struct lg_http_resp r = {0};
	const char *ok = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			 "Content-Length: 8\r\n\r\n{\"id\":1}trailing";
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, strlen(ok), false), 0);
	TT_ASSERT_INT_EQ(r.status, 201);
	TT_ASSERT_STR_EQ(r.body, "{\"id\":1}");
	free(r.body);
	/* incomplete body, and until-close bodies */
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, 60, false), -EAGAIN);
	const char *close_ = "HTTP/1.0 400 Bad\r\n\r\n{\"error\":\"pt\"}";
	TT_ASSERT_INT_EQ(lg_http_parse(&r, close_, strlen(close_), false), -EAGAIN);
	TT_ASSERT_INT_EQ(lg_http_parse(&r, close_, strlen(close_), true), 0);
	TT_ASSERT_INT_EQ(r.status, 400);
	TT_ASSERT_STR_EQ(r.body, "{\"error\":\"pt\"}");
	free(r.body);
	TT_ASSERT_INT_EQ(lg_http_parse(&r, "SIP/2.0 200 OK\r\n\r\n", 18, true), -EINVAL);
	/* nothing listening */
	TT_ASSERT(lg_http_request("http://127.0.0.1:1", NULL, "GET", "/", NULL, &r) < 0);
	TT_ASSERT_INT_EQ(lg_http_request("https://x", NULL, "GET", "/", NULL, &r), -EINVAL);
}

TT_TEST(loadgen_rx_late_and_loss)
{
	struct lg_rx rx;
	lg_rx_init(&rx, 8000, false, 0);
	/* 50 packets 20 ms apart; #20 arrives 100 ms late; #30 never arrives. */
	for (int i = 0; i < 50; i++) {
		if (i == 30)
			continue;
		int64_t t = 1000000 + i * 20000 + (i == 20 ? 100000 : 0);
		lg_rx_packet(&rx, 5, (uint16_t)(100 + i), (uint32_t)i * 160, t, 60000);
	}
	TT_ASSERT_INT_EQ(rx.packets, 49);
	TT_ASSERT_INT_EQ(rx.late, 1);
	TT_ASSERT_INT_EQ(tt_rtp_rxstats_lost(&rx.rs), 1);
}

TT_TEST(loadgen_http_parse_chunked)
{
	struct lg_http_resp r = {0};
	/* Janus's HTTP transport answers with chunked bodies. */
	const char *ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "5\r\n{\"a\":\r\n3;ext=1\r\n12}\r\n0\r\n\r\n";
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, strlen(ok), false), 0);
	TT_ASSERT_INT_EQ(r.status, 200);
	TT_ASSERT_STR_EQ(r.body, "{\"a\":12}");
	TT_ASSERT_INT_EQ(r.body_len, 8);
	free(r.body);
	/* the last chunk not there yet; cut inside a chunk; a bad size line */
	size_t cut = strlen(ok) - 5;
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, cut, false), -EAGAIN);
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, cut, true), -EINVAL);
	TT_ASSERT_INT_EQ(lg_http_parse(&r, ok, strlen(ok) - 20, false), -EAGAIN);
	const char *bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n";
	r.body = NULL;
	TT_ASSERT_INT_EQ(lg_http_parse(&r, bad, strlen(bad), true), -EINVAL);
	TT_ASSERT(r.body == NULL);
}

TT_TEST(loadgen_janus_requests)
{
	char *m = lg_janus_msg("create", "lg1", NULL);
	TT_ASSERT_STR_EQ(m, "{\"janus\":\"create\",\"transaction\":\"lg1\"}");
	free(m);
	TT_ASSERT(lg_janus_msg("message", "t", "{not json") == NULL);

	char *room = lg_janus_room_body(4242, 48000);
	char *join = lg_janus_join_body(4242, "lg7", "127.0.0.1", 40000, 111, 1);
	m = lg_janus_msg("message", "lg2", join);
	json_t *o = json_loads(m, 0, NULL), *r = json_loads(room, 0, NULL);
	const char *req = NULL, *ip = NULL, *disp = NULL;
	json_int_t rid = 0;
	int port = 0, pt = 0, ext = 0, fec = 1, rate = 0, rtp_ok = 0, ev = 1;
	TT_ASSERT_INT_EQ(json_unpack(o, "{s:{s:s,s:I,s:s,s:{s:s,s:i,s:i,s:i,s:b}}}", "body",
				     "request", &req, "room", &rid, "display", &disp, "rtp", "ip",
				     &ip, "port", &port, "payload_type", &pt, "audiolevel_ext",
				     &ext, "fec", &fec), 0);
	TT_ASSERT_STR_EQ(req, "join");
	TT_ASSERT_INT_EQ(rid, 4242);
	TT_ASSERT_STR_EQ(disp, "lg7");
	TT_ASSERT_STR_EQ(ip, "127.0.0.1");
	TT_ASSERT_INT_EQ(port, 40000);
	TT_ASSERT_INT_EQ(pt, 111);
	TT_ASSERT_INT_EQ(ext, 1);
	TT_ASSERT_INT_EQ(fec, 0);
	TT_ASSERT_INT_EQ(json_unpack(r, "{s:s,s:I,s:i,s:b,s:b}", "request", &req, "room", &rid,
				     "sampling_rate", &rate, "allow_rtp_participants", &rtp_ok,
				     "audiolevel_event", &ev), 0);
	TT_ASSERT_STR_EQ(req, "create");
	TT_ASSERT_INT_EQ(rate, 48000);
	TT_ASSERT_INT_EQ(rtp_ok, 1);
	TT_ASSERT_INT_EQ(ev, 0);
	json_decref(o);
	json_decref(r);
	free(m);
	free(join);
	free(room);
	/* no level extension: no audiolevel_ext key */
	join = lg_janus_join_body(1, "x", "127.0.0.1", 1, 0, 0);
	TT_ASSERT(strstr(join, "audiolevel_ext") == NULL);
	free(join);
}

TT_TEST(loadgen_janus_replies)
{
	uint64_t id = 7;
	TT_ASSERT_INT_EQ(lg_janus_parse_success(
		"{\"janus\":\"success\",\"transaction\":\"lg1\",\"data\":{\"id\":5305132848074688}}",
		&id), 0);
	TT_ASSERT(id == 5305132848074688ull);
	id = 7;
	TT_ASSERT_INT_EQ(lg_janus_parse_success(
		"{\"janus\":\"error\",\"error\":{\"code\":458,\"reason\":\"No such session\"}}", &id),
		-EPROTO);
	TT_ASSERT_INT_EQ(lg_janus_parse_success("[1,2", &id), -EPROTO);
	TT_ASSERT(id == 7);

	/* A long poll: another handle's notification first, then our answer. */
	const char *evs =
		"[{\"janus\":\"event\",\"sender\":1,\"plugindata\":{\"plugin\":\"janus.plugin."
		"audiobridge\",\"data\":{\"audiobridge\":\"joined\",\"room\":4242,\"participants\":"
		"[{\"id\":9,\"display\":\"lg1\",\"setup\":false}]}}},"
		"{\"janus\":\"event\",\"transaction\":\"lg9\",\"sender\":2,\"plugindata\":{\"plugin\":"
		"\"janus.plugin.audiobridge\",\"data\":{\"audiobridge\":\"joined\",\"room\":4242,"
		"\"id\":3,\"participants\":[],\"rtp\":{\"ip\":\"127.0.0.1\",\"port\":10002,"
		"\"payload_type\":111}}}}]";
	char ip[64] = "";
	uint16_t port = 0;
	int pt = -1;
	TT_ASSERT_INT_EQ(lg_janus_find_joined(evs, "lg9", ip, sizeof ip, &port, &pt), 0);
	TT_ASSERT_STR_EQ(ip, "127.0.0.1");
	TT_ASSERT_INT_EQ(port, 10002);
	TT_ASSERT_INT_EQ(pt, 111);
	TT_ASSERT_INT_EQ(lg_janus_find_joined(evs, "lg8", ip, sizeof ip, &port, &pt), -EAGAIN);
	/* the session's keepalive answer to an idle long poll, and garbage */
	TT_ASSERT_INT_EQ(lg_janus_find_joined("{\"janus\":\"keepalive\"}", "lg9", ip, sizeof ip,
					      &port, &pt), -EAGAIN);
	TT_ASSERT_INT_EQ(lg_janus_find_joined("<html>", "lg9", ip, sizeof ip, &port, &pt), -EINVAL);
	/* our transaction answered with an error, or with a port out of range: nothing written */
	port = 1;
	TT_ASSERT_INT_EQ(lg_janus_find_joined(
		"{\"janus\":\"event\",\"transaction\":\"lg9\",\"plugindata\":{\"data\":{\"audiobridge\":"
		"\"event\",\"error_code\":485,\"error\":\"No such room\"}}}", "lg9", ip, sizeof ip,
		&port, &pt), -EPROTO);
	TT_ASSERT_INT_EQ(lg_janus_find_joined(
		"{\"janus\":\"event\",\"transaction\":\"lg9\",\"plugindata\":{\"data\":{\"audiobridge\":"
		"\"joined\",\"rtp\":{\"ip\":\"127.0.0.1\",\"port\":70000}}}}", "lg9", ip, sizeof ip,
		&port, &pt), -EPROTO);
	TT_ASSERT_INT_EQ(port, 1);
}
