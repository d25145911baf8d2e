/* prompts.c: the spoken prompts (PIN entry, the key table, meeting events) and the word
 * clips that dynamic prompts are made of (speech.h), WAV files (mono 16-bit PCM) loaded at
 * start from [sip] prompts_dir and its words/ folder (default: the ones shipped in
 * gateways/sip/prompts, made by scripts/make-sip-prompts.sh with espeak-ng). They reach
 * the caller through the core's audio_play, i.e. the mixer and the caller's own encoder,
 * like any audio. A missing or bad file only loses that prompt (logged), the keys still
 * work. Clips said together must share one sample rate (espeak-ng's 22,050 Hz): a clip
 * at another rate is left out of a sentence. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/wav.h>

static const char *const names[SIP_PROMPT_COUNT] = {
	[SIP_PROMPT_ENTER_PIN] = "enter_pin",
	[SIP_PROMPT_ENTER_MOD_PIN] = "enter_mod_pin", [SIP_PROMPT_WRONG_PIN] = "wrong_pin",
	[SIP_PROMPT_GOODBYE] = "goodbye", [SIP_PROMPT_WELCOME] = "welcome",
	[SIP_PROMPT_HELP] = "help", [SIP_PROMPT_HELP_DECLINE] = "help_decline",
	[SIP_PROMPT_HELP_MODERATOR] = "help_moderator", [SIP_PROMPT_DOORS] = "doors",
	[SIP_PROMPT_NOT_MODERATOR] = "not_moderator", [SIP_PROMPT_MOD_MUTED] = "mod_muted",
	[SIP_PROMPT_MOD_UNMUTED] = "mod_unmuted", [SIP_PROMPT_ASK_UNMUTE] = "ask_unmute",
	[SIP_PROMPT_CANNOT_UNMUTE] = "cannot_unmute", [SIP_PROMPT_MUTED] = "muted",
	[SIP_PROMPT_UNMUTED] = "unmuted", [SIP_PROMPT_HAND_UP] = "hand_up",
	[SIP_PROMPT_HAND_DOWN] = "hand_down", [SIP_PROMPT_HAND_LOWERED] = "hand_lowered",
	[SIP_PROMPT_RECORDING] = "recording",
	[SIP_PROMPT_RECORDING_DECLINE] = "recording_decline",
	[SIP_PROMPT_DECLINED] = "declined", [SIP_PROMPT_ACCEPTED] = "accepted",
	[SIP_PROMPT_NOT_AVAILABLE] = "not_available", [SIP_PROMPT_NO_SUCH] = "no_such",
	[SIP_PROMPT_NO_HANDS] = "no_hands", [SIP_PROMPT_LOCKED] = "locked",
	[SIP_PROMPT_UNLOCKED] = "unlocked", [SIP_PROMPT_ALL_MUTED] = "all_muted",
	[SIP_PROMPT_RECORDING_STOPPED] = "recording_stopped",
	[SIP_PROMPT_END_CONFIRM] = "end_confirm",
	[SIP_PROMPT_MODERATOR_NOW] = "moderator_now",
	[SIP_PROMPT_MODERATOR_NO_MORE] = "moderator_no_more", [SIP_PROMPT_DONE] = "done",
};

#define PAUSE_MS 250   /* "," in a clip list: between the parts of a sentence */
#define GAP_MS 60      /* between spelled characters, so that "a", "a" are two */

static int wav_load(struct sip_prompt *pr, const char *path)
{
	struct tt_wav w;
	int rc = tt_wav_load(&w, path);
	if (rc == 0)
		*pr = (struct sip_prompt){ .pcm = w.pcm, .n = w.n, .rate = w.rate };
	return rc;
}

static void prompt_free(gpointer data)
{
	struct sip_prompt *pr = data;
	g_free(pr->pcm);
	g_free(pr);
}

void tt__sip_prompts_load(struct sipgw *gw, const char *dir)
{
	tt__sip_prompts_free(gw);
	if (!dir || !*dir)
		dir = TT_SIP_PROMPTS_DIR;
	for (int i = 0; i < SIP_PROMPT_COUNT; i++) {
		char *path = g_strdup_printf("%s/%s.wav", dir, names[i]);
		if (wav_load(&gw->prompts[i], path))
			tt_warn("prompt %s: missing or not mono 16-bit PCM WAV; callers will not hear it",
				path);
		g_free(path);
	}
	gw->words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, prompt_free);
	char *wdir = g_strdup_printf("%s/words", dir);
	GDir *d = g_dir_open(wdir, 0, NULL);
	for (const char *f; d && (f = g_dir_read_name(d));) {
		if (!g_str_has_suffix(f, ".wav"))
			continue;
		char *path = g_build_filename(wdir, f, NULL);
		struct sip_prompt *pr = g_new0(struct sip_prompt, 1);
		if (wav_load(pr, path) == 0) {
			g_hash_table_replace(gw->words, g_strndup(f, strlen(f) - 4), pr);
		} else {
			tt_warn("word %s: not mono 16-bit PCM WAV; left out", path);
			prompt_free(pr);
		}
		g_free(path);
	}
	if (d)
		g_dir_close(d);
	else
		tt_warn("%s: no word clips; *0 and *1 say only their fixed sentences", wdir);
	g_free(wdir);
}

void tt__sip_prompts_free(struct sipgw *gw)
{
	for (int i = 0; i < SIP_PROMPT_COUNT; i++) {
		g_free(gw->prompts[i].pcm);
		memset(&gw->prompts[i], 0, sizeof gw->prompts[i]);
	}
	g_clear_pointer(&gw->words, g_hash_table_destroy);
}

const char *tt__sip_prompt_name(enum sip_prompt_id id)
{
	return (unsigned)id < SIP_PROMPT_COUNT ? names[id] : "";
}

static const struct sip_prompt *clip(struct sipgw *gw, const char *name)
{
	for (int i = 0; i < SIP_PROMPT_COUNT; i++)
		if (!strcmp(names[i], name))
			return gw->prompts[i].pcm ? &gw->prompts[i] : NULL;
	return gw->words ? g_hash_table_lookup(gw->words, name) : NULL;
}

unsigned tt__sip_say(struct sipgw *gw, struct sip_call *c, GPtrArray *clips)
{
	if (!c->p || !c->local_len || !clips->len)
		return 0;
	unsigned rate = 0;
	for (guint i = 0; i < clips->len && !rate; i++) {
		const struct sip_prompt *pr = clip(gw, g_ptr_array_index(clips, i));
		rate = pr ? pr->rate : 0;
	}
	if (!rate)
		return 0;
	GArray *pcm = g_array_new(FALSE, TRUE, sizeof(int16_t));
	bool spelled = false;   /* the last clip was a word: a gap before the next */
	for (guint i = 0; i < clips->len; i++) {
		const char *name = g_ptr_array_index(clips, i);
		if (!strcmp(name, ",")) {
			g_array_set_size(pcm, pcm->len + rate * PAUSE_MS / 1000);
			spelled = false;
			continue;
		}
		const struct sip_prompt *pr = clip(gw, name);
		if (!pr || pr->rate != rate)
			continue;
		if (spelled)
			g_array_set_size(pcm, pcm->len + rate * GAP_MS / 1000);
		g_array_append_vals(pcm, pr->pcm, (guint)pr->n);
		spelled = gw->words && g_hash_table_contains(gw->words, name);
	}
	unsigned ms = 0;
	if (pcm->len && gw->core->audio_play(c->p, (const int16_t *)(void *)pcm->data, pcm->len,
					     rate) == 0)
		ms = (unsigned)((uint64_t)pcm->len * 1000 / rate);
	g_array_free(pcm, TRUE);
	return ms;
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
