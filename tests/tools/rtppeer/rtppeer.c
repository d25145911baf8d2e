/* rtppeer.c: tt_rtppeer, one plain RTP participant for end-to-end tests. It joins a room
 * through the admin API, sends a tone (any codec, optional SDES-SRTP, RFC 6464 levels) on
 * absolute 20 ms deadlines, decodes what the bridge sends back and prints, as one JSON
 * object, the level of every tone it was asked to listen for, so a test can assert which
 * talkers a participant hears and that it does not hear itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lg.h"
#include "tutti/rtp.h"
#include "tutti/sdes.h"
#include "tutti/srtp.h"
#include "tutti/transport.h"

#define MAX_LISTEN 8
#define WARMUP_FRAMES 50   /* 1 s: jitter buffers fill, speaker selection settles */

struct opts {
	const char *url, *room, *name, *token;
	enum lg_codec codec;
	double tone;
	double listen[MAX_LISTEN];
	int nlisten;
	int seconds;
	bool srtp;
	int delay_ms;     /* wait before sending (lets all peers join first) */
};

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until(int64_t t_us)
{
	struct timespec ts = { .tv_sec = t_us / 1000000, .tv_nsec = (t_us % 1000000) * 1000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "url", 1, 0, 'u' }, { "room", 1, 0, 'r' }, { "name", 1, 0, 'n' },
		{ "codec", 1, 0, 'c' }, { "tone", 1, 0, 't' }, { "listen", 1, 0, 'l' },
		{ "seconds", 1, 0, 's' }, { "srtp", 0, 0, 'S' }, { "token", 1, 0, 'T' },
		{ "delay-ms", 1, 0, 'd' }, { 0, 0, 0, 0 },
	};
	*o = (struct opts){ .url = "http://127.0.0.1:8080", .room = "e2e", .name = "peer",
			    .codec = LG_OPUS, .seconds = 4 };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'r': o->room = optarg; break;
		case 'n': o->name = optarg; break;
		case 'c':
			if (lg_codec_parse(&o->codec, optarg))
				return -EINVAL;
			break;
		case 't': o->tone = atof(optarg); break;
		case 'l': {
			char *s = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(s, ",", &save); t && o->nlisten < MAX_LISTEN;
			     t = strtok_r(NULL, ",", &save))
				o->listen[o->nlisten++] = atof(t);
			free(s);
			break;
		}
		case 's': o->seconds = atoi(optarg); break;
		case 'S': o->srtp = true; break;
		case 'T': o->token = optarg; break;
		case 'd': o->delay_ms = atoi(optarg); break;
		default: return -EINVAL;
		}
	}
	return o->seconds > 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(&o, argc, argv)) {
		fprintf(stderr, "usage: tt_rtppeer --url U --room R --name N --codec opus|pcmu|pcma"
				" --tone HZ --listen HZ,HZ --seconds S [--srtp] [--delay-ms MS]\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t ml = sizeof me;
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) || getsockname(fd, (struct sockaddr *)&me, &ml)) {
		perror("socket");
		return 1;
	}
	/* join */
	json_t *req = json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", o.name, "codec",
				lg_codec_name(o.codec), "remote", "", "pt", lg_codec_pt(o.codec),
				"audio_level_ext_id", 1);
	char remote[64];
	snprintf(remote, sizeof remote, "127.0.0.1:%u", ntohs(me.sin_port));
	json_object_set_new(req, "remote", json_string(remote));
	struct tt_sdes_crypto ours;
	if (o.srtp) {
		char b64[64];
		tt_sdes_generate(&ours, 1, TT_SRTP_AES_CM_128_HMAC_SHA1_80);
		tt_sdes_key_encode(b64, sizeof b64, ours.key, ours.key_len);
		json_object_set_new(req, "srtp", json_pack("{s:s, s:s}", "suite",
			"AES_CM_128_HMAC_SHA1_80", "key", b64));
	}
	char *body = json_dumps(req, JSON_COMPACT), path[256];
	json_decref(req);
	snprintf(path, sizeof path, "/api/rooms/%s/participants", o.room);
	struct lg_http_resp resp = { 0 };
	int rc = lg_http_request(o.url, o.token, "POST", path, body, &resp);
	free(body);
	if (rc || resp.status != 201) {
		fprintf(stderr, "join failed: %d %s\n", resp.status, resp.body ? resp.body : "");
		return 1;
	}
	json_t *rep = json_loads(resp.body, 0, NULL);
	free(resp.body);
	const char *id = json_string_value(json_object_get(rep, "id"));
	const char *local = json_string_value(json_object_get(rep, "local"));
	struct sockaddr_storage peer;
	socklen_t pl;
	if (!id || !local || tt_sockaddr_parse(&peer, &pl, local) ||
	    connect(fd, (struct sockaddr *)&peer, pl)) {
		fprintf(stderr, "bad answer\n");
		return 1;
	}
	char pid[64];
	snprintf(pid, sizeof pid, "%s", id);
	struct tt_srtp *srtp = NULL;
	if (o.srtp) {
		const char *theirs = json_string_value(json_object_get(json_object_get(rep, "srtp"), "key"));
		uint8_t tkey[TT_SRTP_MAX_KEY_LEN];
		if (!theirs || tt_sdes_key_decode(tkey, TT_SRTP_AES_CM_128_HMAC_SHA1_80, theirs,
						  strlen(theirs)) ||
		    tt_srtp_alloc(&srtp, TT_SRTP_AES_CM_128_HMAC_SHA1_80, ours.key, tkey)) {
			fprintf(stderr, "no SRTP key in the answer\n");
			return 1;
		}
	}
	json_decref(rep);

	struct lg_codec_ctx enc, dec;
	if (lg_codec_open(&enc, o.codec, true, false) || lg_codec_open(&dec, o.codec, false, true))
		return 1;
	int16_t pcm[960], out[960];
	double energy[MAX_LISTEN] = { 0 }, total = 0;
	uint64_t frames = 0, sent = 0, received = 0, srtp_fail = 0;
	uint16_t seq = 1;
	uint32_t ts = 1000, ssrc = 0x1234 + (uint32_t)getpid();
	int64_t t0 = mono_us() + o.delay_ms * 1000LL;
	int total_frames = o.seconds * 1000 / LG_FRAME_MS;
	uint8_t ext[4] = { 0x10, 0, 0, 0 };  /* one-byte element id 1, len 1: level */
	for (int f = 0; f < total_frames; f++) {
		sleep_until(t0 + (int64_t)f * LG_FRAME_MS * 1000);
		bool on = o.tone > 0;
		if (on)
			lg_tone_fill(pcm, (size_t)enc.samples, enc.rate, o.tone, 6000,
				     (uint64_t)f * (uint64_t)enc.samples);
		else
			memset(pcm, 0, sizeof pcm);
		uint8_t pkt[1500];
		ext[1] = (uint8_t)((on ? 0x80 : 0) | (on ? 15 : 127));
		struct tt_rtp_hdr h = { .pt = (uint8_t)lg_codec_pt(o.codec), .seq = seq++,
					.ts = ts, .ssrc = ssrc, .has_ext = true,
					.ext_profile = 0xBEDE, .ext = ext, .ext_len = 4 };
		ts += (uint32_t)(lg_codec_rtp_rate(o.codec) / 50);
		int hl = tt_rtp_write(pkt, sizeof pkt, &h);
		int pl2 = lg_encode(&enc, pcm, pkt + hl, sizeof pkt - (size_t)hl - TT_SRTP_MAX_TRAILER);
		if (hl > 0 && pl2 > 0) {
			size_t len = (size_t)(hl + pl2);
			if (!srtp || tt_srtp_protect(srtp, pkt, &len, sizeof pkt, false) == 0)
				sent += send(fd, pkt, len, 0) > 0;
		}
		for (;;) {
			ssize_t n = recv(fd, pkt, sizeof pkt, 0);
			if (n <= 0)
				break;
			size_t len = (size_t)n;
			if (tt_rtp_is_rtcp(pkt, len))
				continue;
			if (srtp && tt_srtp_unprotect(srtp, pkt, &len, false)) {
				srtp_fail++;
				continue;
			}
			struct tt_rtp_hdr rh;
			if (tt_rtp_parse(&rh, pkt, len) || rh.pt != lg_codec_pt(o.codec))
				continue;
			received++;
			if (lg_decode(&dec, rh.payload, rh.payload_len, out) < 0 || f < WARMUP_FRAMES)
				continue;
			frames++;
			total += lg_power(out, (size_t)dec.samples);
			for (int i = 0; i < o.nlisten; i++)
				energy[i] += lg_goertzel(out, (size_t)dec.samples, dec.rate, o.listen[i]);
		}
	}
	snprintf(path, sizeof path, "/api/rooms/%s/participants/%s", o.room, pid);
	struct lg_http_resp r2 = { 0 };
	lg_http_request(o.url, o.token, "DELETE", path, NULL, &r2);
	free(r2.body);

	json_t *res = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f}", "id", pid, "codec",
				lg_codec_name(o.codec), "sent", (json_int_t)sent, "received",
				(json_int_t)received, "frames", (json_int_t)frames, "srtp_failures",
				(json_int_t)srtp_fail, "total_db",
				frames ? 10 * log10(total / (double)frames + 1e-12) : -120.0);
	json_t *tones = json_object();
	for (int i = 0; i < o.nlisten; i++) {
		char k[32];
		snprintf(k, sizeof k, "%.0f", o.listen[i]);
		double p = frames ? energy[i] / (double)frames : 0;
		json_object_set_new(tones, k, json_real(10 * log10(p + 1e-12)));
	}
	json_object_set_new(res, "tones_db", tones);
	char *txt = json_dumps(res, JSON_COMPACT);
	printf("%s\n", txt);
	free(txt);
	json_decref(res);
	tt_srtp_free(srtp);
	lg_codec_close(&enc);
	lg_codec_close(&dec);
	close(fd);
	return 0;
}
