/* room_priv.h: the mixer room's internal layout, shared by room.c, tick.c and encgrp.c. */
#ifndef TT_MIXER_ROOM_PRIV_H
#define TT_MIXER_ROOM_PRIV_H

#include <speex/speex_resampler.h>

#include "tutti/codec.h"
#include "tutti/mixer.h"
#include "kernels.h"
#include "jitter/jbuf.h"
#include "level/level.h"
#include "select/select.h"

#define TT__UNITS_MAX 8
#define TT__VARIANTS_MAX 16
#define TT__WARMUP 10            /* packets decoded to re-train a skipped decoder, see tick.c */
#define TT__WARM_SLOT 512        /* larger packets (> 200 kbit/s) restart the warm-up ring */
#define TT__RESAMPLE_QUALITY 3   /* SpeexDSP: ~7 us per 20 ms frame, good for speech */

/* One encoder and what it produced this tick; shared by listeners or private to a speaker. */
struct tt__encgrp {
	struct tt__variant *var;
	struct tt_codec_enc *enc;
	SpeexResamplerState *rs;     /* room rate -> codec PCM rate, NULL when equal */
	int16_t *pcm;                /* codec-rate samples waiting for a full packet */
	unsigned fill, cap;
	uint8_t *out[2];
	size_t outlen[2];
	uint32_t ts[2];
	unsigned nout;
	uint8_t level;               /* RFC 6464 -dBov of the mix fed this tick (127: silence) */
	bool busy;                   /* pool entry lent to a speaker */
};

/* Participants with equal codec, rate, ptime and Opus settings share encoders. */
struct tt__variant {
	unsigned refs;
	enum tt_codec_id codec;
	struct tt_codec_params p;
	unsigned pcm_rate, rtp_rate, frame;   /* frame: codec samples per packet */
	size_t max_payload;
	unsigned listeners;                   /* members of `shared` this tick */
	struct tt__encgrp shared;
	struct tt__encgrp *pool;              /* private encoders lent to speakers */
	unsigned npool;
};

enum tt__fade { TT__FADE_NONE, TT__FADE_IN, TT__FADE_OUT };

struct tt_mixer_part {
	struct tt_mixer_room *room;
	unsigned pos;                 /* index in room->parts */
	void *user;
	uint8_t pt;
	enum tt_codec_id codec;
	struct tt__variant *var;
	bool mute, deaf, hold;
	int16_t gain;                 /* Q12 */

	struct tt__jbuf jb;
	struct tt_codec_dec *dec;
	SpeexResamplerState *rs;      /* codec PCM rate -> room rate, NULL when equal */
	unsigned pcm_rate, rtp_rate;
	uint32_t tick_rtp;            /* RTP units per 20 ms */
	uint32_t surplus;             /* RTP units pulled beyond the ticks consumed */
	struct tt__jbuf_unit units[TT__UNITS_MAX];
	unsigned nunits;
	int16_t *tmp;                 /* one decode at the codec rate (120 ms) */
	unsigned tmp_cap;
	int16_t *fifo;                /* decoded audio at the room rate */
	unsigned fifo_len, fifo_cap;
	int16_t *frame;               /* this tick's 20 ms at the room rate */
	int16_t *contrib;             /* frame x gain x fade: what the mix got from us */
	uint8_t *warm;                /* ring of the last TT__WARMUP packets not decoded */
	uint16_t warm_len[TT__WARMUP];
	unsigned warm_head, warm_n;
	size_t max_payload;
	bool stale;                   /* packets were skipped: warm up before decoding */
	bool decoded;                 /* frame holds this tick's audio */

	bool rtp_levels;              /* the sender gives RFC 6464 levels */
	unsigned rtp_level_age;       /* ticks since the last one */
	/* Opus VAD flags (tick.c opus_says_quiet): ticks to the next spot check of a
	 * "quiet" input, and ticks left during which its flags are not believed because a
	 * check found it loud (a steady tone or noise the encoder calls "no voice") */
	unsigned vad_check, vad_distrust;
	struct tt__level lvl;

	bool speaker;                 /* in the selected set */
	enum tt__fade fade;
	bool contributing;            /* in this tick's mix */
	struct tt__encgrp *priv;      /* own encoder while contributing */
	const struct tt__encgrp *outgrp;   /* where this tick's output is, or NULL */
	int16_t *prompt;              /* tt_mixer_part_play(): room-rate PCM, owned */
	size_t prompt_len, prompt_pos;
	struct tt__encgrp *prompt_grp;     /* encoder lent while the prompt plays */

	uint64_t decoded_frames;
};

struct tt_mixer_room {
	unsigned rate, frame, k;      /* frame: samples per 20 ms at the room rate */
	unsigned max_parts, nparts;
	enum tt_mixer_cpu cpu;
	const struct tt_mix_kernels *kern;
	float floor_db;
	struct tt__level_cfg lcfg;
	struct tt__sel_cfg scfg;
	uint64_t ticks;

	struct tt_mixer_part **parts;
	struct tt__variant *vars[TT__VARIANTS_MAX];

	struct tt__sel_spk spk[TT_MIXER_SPEAKERS_MAX];
	unsigned nspk;
	struct tt_mixer_part **contrib;  /* this tick's mixed set: speakers + fading out */
	unsigned ncontrib;
	struct tt_mixer_part **fadeout;  /* left the set this tick: fade out in it */
	unsigned nfadeout;
	struct tt_mixer_part **deferred; /* decode only if selected */
	unsigned ndeferred;

	int32_t *acc;
	int16_t *full;                   /* the saturated full mix */
	int16_t *nm1;                    /* one N-1 mix at a time */

	struct tt_mixer_event *ev;
	unsigned ev_cap, ev_head, ev_len;
	uint64_t ev_dropped;
	unsigned decodes, encodes;       /* this tick */
	/* totals for tt_mixer_room_stats: counted where the work is done, and the jitter
	 * buffers of removed participants, so that the totals never go back */
	uint64_t decodes_total, enc_shared, enc_private, enc_prompt, vad_quiet, vad_distrusted;
	bool opus_vad;                   /* trust the SILK VAD flags (cfg.decode_all_levels off) */
	uint64_t gone_late, gone_lost, gone_concealed;

	/* rectap.c: a recording of the room (tt_mixer_room_record) and room-wide prompts */
	struct tt__variant *rec_var;     /* an Opus 20 ms variant fed every tick, or NULL */
	int16_t *rprompt;                /* tt_mixer_room_play(): room-rate PCM, owned */
	size_t rprompt_len, rprompt_pos;
};

/* encgrp.c */
int tt__variant_get(struct tt__variant **vp, struct tt_mixer_room *m, enum tt_codec_id codec,
		    const struct tt_codec_params *p);
void tt__variant_put(struct tt_mixer_room *m, struct tt__variant *v);
/* Lend a private encoder continuing the shared one (warm handover); NULL if none left. */
struct tt__encgrp *tt__encgrp_lend(struct tt__variant *v);
void tt__encgrp_return(struct tt__encgrp *g);
/* Feed 20 ms of room-rate audio; encodes the packets that complete. Returns encoder calls. */
unsigned tt__encgrp_feed(struct tt__encgrp *g, const int16_t *pcm, unsigned n, uint64_t tick,
			 unsigned room_rate);

/* rectap.c: the room prompt's next 20 ms added to acc (in the tick). */
void tt__room_prompt_mix(struct tt_mixer_room *m);
void tt__room_rec_free(struct tt_mixer_room *m);

/* tick.c */
void tt__room_push_event(struct tt_mixer_room *m, enum tt_mixer_event_type t,
			 struct tt_mixer_part *p);

/* A prompt's samples copied for the mixer to own (play calls, control thread, never on the
 * tick): 0 with *out a malloc'd copy (NULL for n == 0), or -EINVAL / -ENOMEM. */
int tt__pcm_dup(const int16_t *pcm, size_t n, int16_t **out);

#endif
