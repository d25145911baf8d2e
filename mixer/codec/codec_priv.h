/* codec_priv.h: what each codec file provides to codec.c's dispatch. */
#ifndef TT_CODEC_PRIV_H
#define TT_CODEC_PRIV_H

#include "tutti/codec.h"

struct tt__codec_ops {
	const char *name;
	unsigned rtp_rate;
	unsigned (*pcm_rate)(unsigned room_rate);
	size_t (*max_payload)(const struct tt_codec_params *p);
	/* State objects are opaque to codec.c; all return 0 or -errno. */
	int (*enc_new)(void **stp, enum tt_codec_id id, const struct tt_codec_params *p);
	void (*enc_del)(void *st);
	int (*encode)(void *st, const int16_t *pcm, size_t n, uint8_t *out, size_t outmax);
	void (*enc_copy)(void *dst, const void *src);
	void (*enc_reset)(void *st, enum tt_codec_id id, const struct tt_codec_params *p);
	int (*dec_new)(void **stp, enum tt_codec_id id, const struct tt_codec_params *p);
	void (*dec_del)(void *st);
	/* from the payload alone (no decoder state): called for every packet received */
	int (*samples)(unsigned pcm_rate, const uint8_t *data, size_t len);
	int (*decode)(void *st, const uint8_t *data, size_t len, int16_t *pcm, size_t max);
	int (*conceal)(void *st, const uint8_t *next, size_t next_len, int16_t *pcm, size_t n);
	void (*dec_reset)(void *st, enum tt_codec_id id, const struct tt_codec_params *p);
};

extern const struct tt__codec_ops tt__codec_opus;
extern const struct tt__codec_ops tt__codec_g722;
extern const struct tt__codec_ops tt__codec_g711;

#endif
