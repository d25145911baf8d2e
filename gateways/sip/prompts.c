/* prompts.c: the spoken prompts of PIN entry, WAV files (mono 16-bit PCM) loaded at start
 * from [sip] prompts_dir (default: the ones shipped in gateways/sip/prompts, made by
 * scripts/make-sip-prompts.sh with espeak-ng). They reach the caller through the core's
 * audio_play, i.e. the mixer and the caller's own encoder, like any audio. A missing or
 * bad file only loses that prompt (logged), the PIN still works. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>

static const char *const names[SIP_PROMPT_COUNT] = {
	[SIP_PROMPT_ENTER_PIN] = "enter_pin", [SIP_PROMPT_WRONG_PIN] = "wrong_pin",
	[SIP_PROMPT_GOODBYE] = "goodbye", [SIP_PROMPT_WELCOME] = "welcome",
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* RIFF/WAVE, PCM format 1, mono, 16 bit: the only layout we write. 0 or -EINVAL. */
static int wav_parse(struct sip_prompt *pr, const uint8_t *b, size_t len)
{
	if (len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4))
		return -EINVAL;
	unsigned rate = 0;
	bool fmt_ok = false;
	for (size_t off = 12; off + 8 <= len;) {
		uint32_t size = le32(b + off + 4);
		if (size > len - off - 8)
			return -EINVAL;
		const uint8_t *d = b + off + 8;
		if (!memcmp(b + off, "fmt ", 4) && size >= 16) {
			fmt_ok = le16(d) == 1 && le16(d + 2) == 1 && le16(d + 14) == 16;
			rate = le32(d + 4);
		} else if (!memcmp(b + off, "data", 4)) {
			if (!fmt_ok || rate < 8000 || rate > 48000 || size < 2)
				return -EINVAL;
			pr->n = size / 2;
			pr->pcm = g_new(int16_t, pr->n);
			for (size_t i = 0; i < pr->n; i++)
				pr->pcm[i] = (int16_t)le16(d + 2 * i);
			pr->rate = rate;
			return 0;
		}
		off += 8 + size + (size & 1);
	}
	return -EINVAL;
}

void tt__sip_prompts_load(struct sipgw *gw, const char *dir)
{
	tt__sip_prompts_free(gw);
	if (!dir || !*dir)
		dir = TT_SIP_PROMPTS_DIR;
	for (int i = 0; i < SIP_PROMPT_COUNT; i++) {
		char *path = g_strdup_printf("%s/%s.wav", dir, names[i]);
		gchar *data = NULL;
		gsize len = 0;
		if (!g_file_get_contents(path, &data, &len, NULL) ||
		    wav_parse(&gw->prompts[i], (const uint8_t *)data, len))
			tt_warn("prompt %s: missing or not mono 16-bit PCM WAV; callers will not hear it",
				path);
		g_free(data);
		g_free(path);
	}
}

void tt__sip_prompts_free(struct sipgw *gw)
{
	for (int i = 0; i < SIP_PROMPT_COUNT; i++) {
		g_free(gw->prompts[i].pcm);
		memset(&gw->prompts[i], 0, sizeof gw->prompts[i]);
	}
}

unsigned tt__sip_prompt_play(struct sipgw *gw, struct sip_call *c, enum sip_prompt_id id)
{
	const struct sip_prompt *pr = &gw->prompts[id];
	if (!c->p || !pr->pcm || !c->local_len)
		return 0;
	if (gw->core->audio_play(c->p, pr->pcm, pr->n, pr->rate))
		return 0;
	return (unsigned)(pr->n * 1000 / pr->rate);
}
