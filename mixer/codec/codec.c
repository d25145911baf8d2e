/* codec.c: one encoder/decoder interface; dispatches to the Opus, G.722 and G.711 files. */
#include <stdlib.h>
#include <strings.h>

#include "tutti/errno.h"
#include "codec_priv.h"

static const struct {
	const char *name;
	const struct tt__codec_ops *ops;
} codecs[TT_CODEC_COUNT] = {
	[TT_CODEC_OPUS] = {"opus", &tt__codec_opus},
	[TT_CODEC_G722] = {"g722", &tt__codec_g722},
	[TT_CODEC_PCMU] = {"pcmu", &tt__codec_g711},
	[TT_CODEC_PCMA] = {"pcma", &tt__codec_g711},
};

struct tt_codec_enc {
	const struct tt__codec_ops *ops;
	enum tt_codec_id id;
	struct tt_codec_params p;
	void *st;
};

struct tt_codec_dec {
	const struct tt__codec_ops *ops;
	enum tt_codec_id id;
	struct tt_codec_params p;
	void *st;
};

int tt_codec_find(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int i = 0; i < TT_CODEC_COUNT; i++)
		if (!strcasecmp(name, codecs[i].name))
			return i;
	return -ENOENT;
}

const char *tt_codec_name(enum tt_codec_id id)
{
	return (unsigned)id < TT_CODEC_COUNT ? codecs[id].name : "?";
}

unsigned tt_codec_pcm_rate(enum tt_codec_id id, unsigned room_rate)
{
	return (unsigned)id < TT_CODEC_COUNT ? codecs[id].ops->pcm_rate(room_rate) : 0;
}

unsigned tt_codec_rtp_rate(enum tt_codec_id id)
{
	return (unsigned)id < TT_CODEC_COUNT ? codecs[id].ops->rtp_rate : 0;
}

size_t tt_codec_max_payload(enum tt_codec_id id, const struct tt_codec_params *p)
{
	return (unsigned)id < TT_CODEC_COUNT ? codecs[id].ops->max_payload(p) : 0;
}

static int check(enum tt_codec_id id, const struct tt_codec_params *p)
{
	if ((unsigned)id >= TT_CODEC_COUNT || !p)
		return -EINVAL;
	if (p->room_rate != 8000 && p->room_rate != 16000 && p->room_rate != 24000 &&
	    p->room_rate != 48000)
		return -EINVAL;
	if (p->ptime != 10 && p->ptime != 20 && p->ptime != 40 && p->ptime != 60)
		return -EINVAL;
	return 0;
}

int tt_codec_enc_alloc(struct tt_codec_enc **ep, enum tt_codec_id id,
		       const struct tt_codec_params *p)
{
	struct tt_codec_enc *e = NULL;
	int err = check(id, p);
	if (err)
		goto out;
	e = calloc(1, sizeof(*e));
	if (!e) {
		err = -ENOMEM;
		goto out;
	}
	e->ops = codecs[id].ops;
	e->id = id;
	e->p = *p;
	err = e->ops->enc_new(&e->st, id, p);
	if (err)
		goto out;
	*ep = e;
	e = NULL;
out:
	free(e);
	return err;
}

struct tt_codec_enc *tt_codec_enc_free(struct tt_codec_enc *e)
{
	if (e) {
		e->ops->enc_del(e->st);
		free(e);
	}
	return NULL;
}

int tt_codec_enc_encode(struct tt_codec_enc *e, const int16_t *pcm, size_t n, uint8_t *out,
			size_t outmax)
{
	return e->ops->encode(e->st, pcm, n, out, outmax);
}

int tt_codec_enc_copy_state(struct tt_codec_enc *dst, const struct tt_codec_enc *src)
{
	if (dst->id != src->id || dst->p.room_rate != src->p.room_rate)
		return -EINVAL;
	dst->ops->enc_copy(dst->st, src->st);
	return 0;
}

void tt_codec_enc_reset(struct tt_codec_enc *e)
{
	e->ops->enc_reset(e->st, e->id, &e->p);
}

int tt_codec_dec_alloc(struct tt_codec_dec **dp, enum tt_codec_id id,
		       const struct tt_codec_params *p)
{
	struct tt_codec_dec *d = NULL;
	int err = check(id, p);
	if (err)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		err = -ENOMEM;
		goto out;
	}
	d->ops = codecs[id].ops;
	d->id = id;
	d->p = *p;
	err = d->ops->dec_new(&d->st, id, p);
	if (err)
		goto out;
	*dp = d;
	d = NULL;
out:
	free(d);
	return err;
}

struct tt_codec_dec *tt_codec_dec_free(struct tt_codec_dec *d)
{
	if (d) {
		d->ops->dec_del(d->st);
		free(d);
	}
	return NULL;
}

int tt_codec_payload_samples(enum tt_codec_id id, unsigned pcm_rate, const uint8_t *payload,
			     size_t len)
{
	if ((unsigned)id >= TT_CODEC_COUNT || !payload || !len)
		return -EINVAL;
	return codecs[id].ops->samples(pcm_rate, payload, len);
}

int tt_codec_dec_samples(const struct tt_codec_dec *d, const uint8_t *payload, size_t len)
{
	return tt_codec_payload_samples(d->id, d->ops->pcm_rate(d->p.room_rate), payload, len);
}

int tt_codec_dec_decode(struct tt_codec_dec *d, const uint8_t *payload, size_t len,
			int16_t *pcm, size_t max)
{
	if (!payload || !len)
		return -EINVAL;
	return d->ops->decode(d->st, payload, len, pcm, max);
}

int tt_codec_dec_conceal(struct tt_codec_dec *d, const uint8_t *next, size_t next_len,
			 int16_t *pcm, size_t n)
{
	return d->ops->conceal(d->st, next_len ? next : NULL, next ? next_len : 0, pcm, n);
}

void tt_codec_dec_reset(struct tt_codec_dec *d)
{
	d->ops->dec_reset(d->st, d->id, &d->p);
}
