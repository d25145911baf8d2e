/* codec.h: one interface over Opus, G.722, PCMU and PCMA (encode, decode, conceal).
 *
 * A gateway names a codec ("opus", "g722", "pcmu", "pcma") and gets an encoder or decoder that
 * works on mono int16 PCM at tt_codec_pcm_rate(). Opus runs at any room rate (8/16/24/48 kHz)
 * so it never needs resampling; G.722 is 16 kHz and G.711 8 kHz PCM.
 *
 * Ownership: tt_codec_*_alloc() returns a new object owned by the caller, released with the
 * matching *_free() (which returns NULL). Threading: an encoder/decoder is used by one thread
 * at a time (the media worker owning it); tt_codec_find() is any thread. Encode, decode and
 * conceal never allocate, so they may run in the media tick. */
#ifndef TUTTI_CODEC_H
#define TUTTI_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tt_codec_id {
	TT_CODEC_OPUS = 0,
	TT_CODEC_G722,
	TT_CODEC_PCMU,
	TT_CODEC_PCMA,
	TT_CODEC_COUNT
};

/* What the Opus encoder may code with. SILK (alone or as hybrid's low band) models one
 * voice well and is the only mode with in-band FEC; CELT-only gives good fullband speech at
 * 40 kbit/s and above and costs about a quarter of hybrid's CPU (34 against 144 us per
 * 20 ms frame at complexity 4, docs/benchmarks.md). CELT-only is coded with the restricted
 * low-delay application: 2.5 ms of look-ahead instead of 6.5. */
enum tt_opus_mode {
	TT_OPUS_AUTO = 0,     /* CELT from 40 kbit/s without FEC, else as VOICE */
	TT_OPUS_VOICE,        /* VOIP application, voice signal: SILK or hybrid below 64k */
	TT_OPUS_CELT,         /* CELT-only at every rate (poorer than SILK below ~24k) */
};
/* "auto", "voice", "celt" -> mode, or -EINVAL. */
int tt_opus_mode_parse(const char *s);

struct tt_codec_params {
	unsigned room_rate;   /* 8000/16000/24000/48000: Opus PCM runs at this rate */
	unsigned ptime;       /* 10, 20, 40 or 60 ms per packet */
	unsigned bitrate;     /* Opus only, bit/s; 0 = 32000 */
	unsigned complexity;  /* Opus only, 0..10 */
	bool fec;             /* Opus in-band FEC */
	bool dtx;             /* Opus DTX */
	enum tt_opus_mode opus_mode;
};

struct tt_codec_enc;
struct tt_codec_dec;

/* Codec id by name (case-insensitive), or -ENOENT. Any thread. */
int tt_codec_find(const char *name);
const char *tt_codec_name(enum tt_codec_id id);
/* PCM rate the codec's encoder/decoder work at, for a given room rate. */
unsigned tt_codec_pcm_rate(enum tt_codec_id id, unsigned room_rate);
/* RTP clock rate (48000 for Opus, 8000 for G.722 by RFC 3551's historical quirk). */
unsigned tt_codec_rtp_rate(enum tt_codec_id id);
/* Largest payload one packet of `ptime` ms can need (buffers are sized with it). */
size_t tt_codec_max_payload(enum tt_codec_id id, const struct tt_codec_params *p);

int tt_codec_enc_alloc(struct tt_codec_enc **ep, enum tt_codec_id id,
		       const struct tt_codec_params *p);
struct tt_codec_enc *tt_codec_enc_free(struct tt_codec_enc *e);
/* Encode one packet: `n` samples (= ptime at the PCM rate). Returns payload bytes, 0 when
 * there is nothing to send (Opus DTX), or a negative errno. */
int tt_codec_enc_encode(struct tt_codec_enc *e, const int16_t *pcm, size_t n,
			uint8_t *out, size_t outmax);
/* Make `dst` continue exactly where `src` is (same codec and parameters): the warm handover
 * when a listener becomes a speaker. Returns -EINVAL if they differ. */
int tt_codec_enc_copy_state(struct tt_codec_enc *dst, const struct tt_codec_enc *src);
void tt_codec_enc_reset(struct tt_codec_enc *e);

int tt_codec_dec_alloc(struct tt_codec_dec **dp, enum tt_codec_id id,
		       const struct tt_codec_params *p);
struct tt_codec_dec *tt_codec_dec_free(struct tt_codec_dec *d);
/* Samples (at the PCM rate) a payload decodes to, or a negative errno (bad payload). */
int tt_codec_dec_samples(const struct tt_codec_dec *d, const uint8_t *payload, size_t len);
/* The same from the codec and its PCM rate (tt_codec_pcm_rate), without a decoder. Any
 * thread. */
int tt_codec_payload_samples(enum tt_codec_id id, unsigned pcm_rate, const uint8_t *payload,
			     size_t len);
/* Decode a payload into pcm (room for `max` samples). Returns samples or a negative errno;
 * on error pcm is untouched. */
int tt_codec_dec_decode(struct tt_codec_dec *d, const uint8_t *payload, size_t len,
			int16_t *pcm, size_t max);
/* Fill `n` samples for a lost packet: Opus FEC from `next` (the following packet) when given
 * and it carries FEC, else Opus PLC; SpanDSP PLC for G.711/G.722. Returns n or -errno. */
int tt_codec_dec_conceal(struct tt_codec_dec *d, const uint8_t *next, size_t next_len,
			 int16_t *pcm, size_t n);
void tt_codec_dec_reset(struct tt_codec_dec *d);

#endif
