/* lg.h: the load generator's internal pieces (audio, HTTP client, receive analysis, the
 * loopback self-test bridge). Single-threaded except the self-test bridge, which runs on
 * its own thread and shares nothing with the generator but sockets. */
#ifndef TT_LOADGEN_H
#define TT_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <opus/opus.h>

#include "tutti/rtcp.h"

#define LG_MAX_TONES 16
#define LG_FRAME_MS 20
#define LG_MAX_PAYLOAD 1400

enum lg_codec { LG_OPUS, LG_PCMU, LG_PCMA };

/* ---- audio (lg_audio.c) ---- */

/* Name <-> codec; 0 or -EINVAL. */
int lg_codec_parse(enum lg_codec *c, const char *name);
const char *lg_codec_name(enum lg_codec c);
int lg_codec_pt(enum lg_codec c);               /* 111, 0, 8 */
int lg_codec_rtp_rate(enum lg_codec c);         /* RTP clock: 48000 or 8000 */
int lg_codec_pcm_rate(enum lg_codec c);         /* rate we synthesise and analyse at */

/* Frequency of talker k's tone (distinct, analysable at 8 kHz). */
double lg_tone_freq(int k);
/* Fill n samples of a sine at freq, continuing from sample index `pos`. amp in int16 units. */
void lg_tone_fill(int16_t *pcm, size_t n, int rate, double freq, double amp, uint64_t pos);
/* Goertzel power of freq in pcm (normalised by n^2, so a full-scale sine gives ~0.25). */
double lg_goertzel(const int16_t *pcm, size_t n, int rate, double freq);
/* Mean square of pcm, normalised to full scale 1.0. */
double lg_power(const int16_t *pcm, size_t n);

/* G.711 (ITU-T G.711, the classic segment algorithm). */
uint8_t lg_ulaw_enc(int16_t s);
int16_t lg_ulaw_dec(uint8_t u);
uint8_t lg_alaw_enc(int16_t s);
int16_t lg_alaw_dec(uint8_t a);

/* A codec instance for one 20 ms frame size: encode and/or decode. */
struct lg_codec_ctx {
	enum lg_codec codec;
	int rate;                  /* PCM rate of frames */
	int samples;               /* per frame */
	OpusEncoder *enc;
	OpusDecoder *dec;
};
int lg_codec_open(struct lg_codec_ctx *c, enum lg_codec codec, bool enc, bool dec);
void lg_codec_close(struct lg_codec_ctx *c);
/* Returns payload bytes or negative. */
int lg_encode(struct lg_codec_ctx *c, const int16_t *pcm, uint8_t *out, size_t cap);
/* Decodes into c->samples samples; payload NULL means a lost frame (PLC / silence). */
int lg_decode(struct lg_codec_ctx *c, const uint8_t *in, size_t len, int16_t *pcm);

/* ---- HTTP API client (lg_http.c) ---- */

struct lg_http_resp {
	int status;
	char *body;        /* malloc'd, NUL-terminated; caller frees */
	size_t body_len;
};
/* Split an HTTP/1.1 response held in buf (headers + body); 0 or -EINVAL / -EAGAIN
 * (incomplete). Body honours Content-Length or runs to the end (Connection: close). */
int lg_http_parse(struct lg_http_resp *r, const char *buf, size_t len, bool complete);
/* url: "http://127.0.0.1:8080" (no TLS). token may be NULL. body may be NULL. */
int lg_http_request(const char *url, const char *token, const char *method, const char *path,
		    const char *body, struct lg_http_resp *r);

/* ---- Janus AudioBridge client (lg_janus.c) ---- */

/* Pure pieces, unit-tested: each returns malloc'd compact JSON text (NULL on bad input or
 * ENOMEM); the caller frees. */
/* {"janus":verb,"transaction":t[,"body":body_json]} */
char *lg_janus_msg(const char *verb, const char *transaction, const char *body_json);
/* AudioBridge "create": sampling_rate, plain RTP participants allowed, levels on, events off */
char *lg_janus_room_body(uint64_t room, int rate);
/* AudioBridge "join" as a plain RTP participant that receives at ip:port with payload type pt
 * (and the RFC 6464 extension id when ext_id > 0). */
char *lg_janus_join_body(uint64_t room, const char *display, const char *ip, uint16_t port,
			 int pt, int ext_id);
/* {"janus":"success","data":{"id":N}} -> *id; -EPROTO otherwise (and *id untouched). */
int lg_janus_parse_success(const char *reply, uint64_t *id);
/* Scans one long-poll answer (an event object or an array of them) for the "joined" event of
 * transaction: 0 and the RTP address Janus gave; -EAGAIN when absent; -EPROTO when that
 * transaction's answer is something else (an error); -EINVAL on text that is not JSON. */
int lg_janus_find_joined(const char *events, const char *transaction, char *ip, size_t ipcap,
			 uint16_t *port, int *pt);

/* A Janus session with one control handle and the room made. url: "http://127.0.0.1:8088"
 * or with the base path, "http://127.0.0.1:8088/janus". Blocking; one thread. */
struct lg_janus;
int lg_janus_open(struct lg_janus **jp, const char *url, uint64_t room, int rate);
/* A new handle joined to the room; we receive at ip:port. remote gets "ip:port" of Janus's
 * socket for us, *rpt the payload type it says it sends. */
int lg_janus_join(struct lg_janus *j, const char *display, const char *ip, uint16_t port,
		  int pt, int ext_id, char *remote, size_t cap, int *rpt);
/* Resets the session timeout (Janus's default is 60 s). */
int lg_janus_keepalive(struct lg_janus *j);
/* Destroys the room and the session (which detaches every handle), then frees j. NULL ok. */
void lg_janus_close(struct lg_janus *j);

/* ---- receive analysis (lg_stream.c) ---- */

struct lg_rx {
	struct tt_rtp_rxstats rs;
	uint64_t packets, late;
	bool have_base;
	uint32_t ts0;
	int64_t min_transit_us;      /* arrival_us - ts in us: the fastest packet seen */
	uint32_t ts_rate;
	/* tone analysis (only for sampled listeners) */
	bool analyse;
	int ntones;
	double tone_energy[LG_MAX_TONES];
	double total_energy;
	uint64_t frames;
	/* onset detection of tone 0 for latency */
	bool tone0_on;
	int64_t onset_rx_us[64];
	int n_onsets;
};

void lg_rx_init(struct lg_rx *rx, uint32_t ts_rate, bool analyse, int ntones);
/* A packet arrived at arrival_us (monotonic); late when more than late_us behind the
 * fastest packet's schedule. */
void lg_rx_packet(struct lg_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
		  int64_t arrival_us, int64_t late_us);
/* A decoded frame of a sampled listener, with its packet's arrival time. */
void lg_rx_frame(struct lg_rx *rx, const int16_t *pcm, size_t n, int rate, int64_t arrival_us);
/* Bitmask of tones that carry at least `share` of the frame energy on average. */
unsigned lg_rx_tones(const struct lg_rx *rx, double share);

/* ---- loopback self-test bridge (lg_selftest.c) ---- */

struct lg_fake_bridge;
/* n participants: opens n sockets on 127.0.0.1 (ports written to ports[]), and a thread
 * that every 20 ms mixes what each sent and returns N-1 to each (symmetric RTP).
 * full_mix: a deliberately wrong bridge that returns everyone's own voice too, so tests can
 * show that --check notices. */
int lg_fake_bridge_start(struct lg_fake_bridge **bp, int n, enum lg_codec codec,
			 uint16_t *ports, bool full_mix);
void lg_fake_bridge_stop(struct lg_fake_bridge *b);

#endif
