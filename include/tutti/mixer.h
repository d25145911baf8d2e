/* mixer.h: a room's audio mixer: jitter buffers, top-K speaker selection, SIMD N-1 mix and
 * shared encoders.
 *
 * Threading: a room's mixer lives on exactly one media worker thread, which makes every call
 * below on it (alloc, add/remove, push, tick, output, events, stats, free). Nothing here locks.
 * Only tt_mixer_cpu_detect()/tt_mixer_cpu_name()/tt_mixer_cpu_parse() are any-thread.
 *
 * Timing: the worker calls tt_mixer_room_tick() every 20 ms. Participants are added, removed
 * and reconfigured between ticks; tt_mixer_part_push() is called as packets arrive, also
 * between ticks. Tick and push never allocate, lock, log or make syscalls: every buffer is
 * sized by tt_mixer_room_alloc() and tt_mixer_part_add().
 *
 * Ownership: the room owns its participants; tt_mixer_part pointers stay valid until
 * tt_mixer_part_remove() or tt_mixer_room_free(). Output payload pointers borrow room memory
 * and are valid until the next tick, remove or free. */
#ifndef TUTTI_MIXER_H
#define TUTTI_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tutti/codec.h"

/* SIMD level; on x86 each level implies those below it. On AArch64 the levels are scalar
 * and NEON; asking for a level not built for this architecture gets the best one below. */
enum tt_mixer_cpu {
	TT_MIXER_CPU_SCALAR = 0,
	TT_MIXER_CPU_SSE2 = 1,
	TT_MIXER_CPU_AVX2 = 2,
	TT_MIXER_CPU_AVX512 = 3,
	TT_MIXER_CPU_NEON = 4,
	TT_MIXER_CPU_COUNT,
	TT_MIXER_CPU_AUTO = -1,
};

/* Best level this CPU and OS support (CPUID + XGETBV), lowered by $TT_MIXER_CPU
 * (scalar|sse2|avx2|avx512|neon) if set. Computed once per process. Any thread. */
enum tt_mixer_cpu tt_mixer_cpu_detect(void);
/* Level the hardware supports, ignoring the environment (tests use it to try every level). */
enum tt_mixer_cpu tt_mixer_cpu_hw(void);
const char *tt_mixer_cpu_name(enum tt_mixer_cpu c);
/* "scalar"/"sse2"/"avx2"/"avx512"/"neon" to a level, or -EINVAL. */
int tt_mixer_cpu_parse(const char *s);

#define TT_MIXER_SPEAKERS_DEFAULT 3
#define TT_MIXER_SPEAKERS_MAX 16

struct tt_mixer_room_cfg {
	unsigned rate;           /* 8000, 16000, 24000 or 48000 */
	unsigned speakers;       /* K, 1..TT_MIXER_SPEAKERS_MAX; 0 = 3 */
	unsigned max_parts;      /* sizing: participants at most */
	int cpu;                 /* enum tt_mixer_cpu; TT_MIXER_CPU_AUTO = detected. A level
				    above the detected one is lowered to it. */
	int noise_floor_dbov;    /* below this a voice is never selected; 0 = -50 */
	/* An Opus input without RFC 6464 levels whose SILK/hybrid frames all have their VAD
	 * flags clear is taken as quiet without a decode (mixer/level/opus_vad.h says why and
	 * when that is wrong); true decodes every such input to measure its level instead. */
	bool decode_all_levels;
};

struct tt_mixer_room;
struct tt_mixer_part;

int tt_mixer_room_alloc(struct tt_mixer_room **mp, const struct tt_mixer_room_cfg *cfg);
/* Frees the room and all its participants. Always returns NULL. */
struct tt_mixer_room *tt_mixer_room_free(struct tt_mixer_room *m);
enum tt_mixer_cpu tt_mixer_room_cpu(const struct tt_mixer_room *m);

struct tt_mixer_part_cfg {
	const char *codec;       /* "opus", "g722", "pcmu", "pcma" */
	uint8_t pt;              /* RTP payload type, echoed in tt_mixer_out */
	unsigned ptime;          /* 10, 20, 40, 60; 0 = 20 */
	unsigned bitrate;        /* Opus bit/s; 0 = 32000 */
	unsigned complexity;     /* Opus 0..10 */
	enum tt_opus_mode opus_mode;
	bool fec;
	bool dtx;
	float gain_db;           /* applied to this participant's voice, -60..+12 */
	void *user;              /* the worker's cookie, returned in events */
};

/* Add a participant (between ticks). -ENOSPC when max_parts are in, -EINVAL on bad cfg,
 * -ENOMEM. *pp is written only on success. */
int tt_mixer_part_add(struct tt_mixer_part **pp, struct tt_mixer_room *m,
		      const struct tt_mixer_part_cfg *cfg);
/* Remove and free (between ticks). Queued events naming it keep only its `user` cookie. */
void tt_mixer_part_remove(struct tt_mixer_part *p);

void tt_mixer_part_set_mute(struct tt_mixer_part *p, bool on);  /* not heard */
void tt_mixer_part_set_deaf(struct tt_mixer_part *p, bool on);  /* hears nothing, no output */
void tt_mixer_part_set_hold(struct tt_mixer_part *p, bool on);  /* neither */
void tt_mixer_part_set_gain(struct tt_mixer_part *p, float gain_db);
/* Play pcm (mono, room rate) to p alone, instead of what it would hear: a prompt. While it
 * plays p gets output even when deaf or on hold, through an encoder of its own (borrowed
 * from the variant's pool only when one is spare beyond 2K speakers; otherwise the prompt
 * waits). Copies pcm, so it allocates: call between ticks, never in one. n == 0 stops.
 * 0, -EINVAL, -ENOMEM (nothing changed). */
int tt_mixer_part_play(struct tt_mixer_part *p, const int16_t *pcm, size_t n);
/* True while a prompt is playing (or waiting for an encoder). */
bool tt_mixer_part_playing(const struct tt_mixer_part *p);
void *tt_mixer_part_user(const struct tt_mixer_part *p);
/* True while the participant is in the mixed set (selected or fading out). */
bool tt_mixer_part_is_speaker(const struct tt_mixer_part *p);

#define TT_MIXER_LEVEL_ABSENT (-1)

struct tt_mixer_pkt {
	const uint8_t *payload;  /* borrowed; copied by push */
	size_t len;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	bool marker;
	int level;               /* RFC 6464: 0..127 (-dBov), or TT_MIXER_LEVEL_ABSENT */
	bool vad;                /* RFC 6464 V flag (meaningful only with a level) */
	uint64_t arrival_us;     /* monotonic */
};

/* Queue a received packet into the participant's jitter buffer (copied; never allocates).
 * 0, or -EMSGSIZE (payload larger than sized for), -EINVAL (empty); failures are counted. */
int tt_mixer_part_push(struct tt_mixer_part *p, const struct tt_mixer_pkt *pkt);

/* One 20 ms tick: jitter buffers, levels, selection, decode, mix, encode. now_us is the
 * monotonic time of the tick (used by the jitter buffers). Returns 0. */
int tt_mixer_room_tick(struct tt_mixer_room *m, uint64_t now_us);

struct tt_mixer_payload {
	const uint8_t *data;     /* borrowed until the next tick */
	size_t len;
	uint32_t ts;             /* media time of its first sample, RTP clock units, from the
				    room's origin: add a per-stream random offset */
};

struct tt_mixer_out {
	unsigned n;              /* payloads this tick: 0 (DTX, deaf, hold, ptime 40/60 between
				    packets), 1, or 2 (ptime 10) */
	struct tt_mixer_payload payload[2];
	uint32_t ts_inc;         /* RTP clock units one payload covers */
	uint8_t pt;
	uint8_t level;           /* RFC 6464 level (-dBov, 127 silence) of the mix the payloads
				    carry; meaningful when n > 0 */
	bool shared;             /* the same bytes go to other participants too */
};

/* What to send to this participant after the last tick. */
void tt_mixer_part_output(const struct tt_mixer_part *p, struct tt_mixer_out *out);

enum tt_mixer_event_type {
	TT_MIXER_EV_TALK_START = 1,
	TT_MIXER_EV_TALK_STOP = 2,
};

struct tt_mixer_event {
	enum tt_mixer_event_type type;
	void *user;              /* the participant's cookie */
	int level_dbov;          /* smoothed level when it happened */
};

/* Take the oldest queued event; false when none. The ring holds 2 x max_parts + 16 events;
 * overflow drops the newest and counts it in room stats. */
bool tt_mixer_room_event_next(struct tt_mixer_room *m, struct tt_mixer_event *ev);

struct tt_mixer_part_stats {
	uint64_t received, late, lost, duplicate, dropped, concealed, decoded, oversize, resets;
	unsigned depth_ms;       /* audio buffered now */
	unsigned target_ms;      /* adaptive target delay */
	unsigned jitter_ms;      /* RFC 3550-style interarrival jitter estimate */
	int level_dbov;          /* smoothed level, -127..0 */
	bool talking;
	bool speaker;
};
void tt_mixer_part_stats(const struct tt_mixer_part *p, struct tt_mixer_part_stats *st);

/* A room's counters. Totals count from tt_mixer_room_alloc (a new mixer starts at zero);
 * the jitter-buffer totals include participants removed since. */
struct tt_mixer_room_stats {
	uint64_t ticks;
	unsigned parts;
	unsigned speakers;           /* in the mixed set at the last tick */
	unsigned decodes_last_tick;  /* decoder calls (decode + conceal) */
	unsigned encodes_last_tick;  /* encoder calls */
	unsigned variants;           /* distinct codec variants in use */
	uint64_t events_dropped;
	uint64_t decodes;            /* decoder calls (decode, conceal, warm-up) */
	uint64_t encodes_shared;     /* encoder calls for the listeners' shared mixes */
	uint64_t encodes_private;    /* ... for speakers' own N-1 mixes */
	uint64_t encodes_prompt;     /* ... for prompts (tt_mixer_part_play) */
	uint64_t late, lost, concealed;  /* jitter buffers: packets too late, never arrived,
					    frames concealed */
	uint64_t vad_quiet;          /* input ticks taken as quiet from the Opus VAD flags,
					without the decode that would have measured them */
	uint64_t vad_distrusted;     /* spot checks that found a "quiet" input loud (its
					flags are then ignored for 10 s) */
};
/* Between ticks; walks the participants (no allocation, no lock). */
void tt_mixer_room_stats(const struct tt_mixer_room *m, struct tt_mixer_room_stats *st);

/* ---- Recording tap (rectap.c): what a recorder needs from the tick, without a second
 * encode of the mix where one runs already. ---- */

/* Record the room's full mix as Opus, 20 ms packets, with `opus`'s parameters (ptime is
 * forced to 20): the variant of those parameters is the one listeners with the same
 * settings share, so when such listeners exist the recording costs no encode; otherwise
 * the room gets that variant (an encoder) for the recording alone. The variant's shared
 * encoder is fed every tick while recording, listeners or not. Calling it again while
 * recording keeps the variant (a switch would cut the stream). NULL stops. Between ticks
 * (allocates). 0, -ENOMEM, -ENOSPC (no variant slot), -EINVAL. */
int tt_mixer_room_record(struct tt_mixer_room *m, const struct tt_codec_params *opus);
/* The recorded mix's encoder look-ahead in 48 kHz samples (Ogg Opus pre-skip); 0 when
 * not recording. */
unsigned tt_mixer_room_record_preskip(const struct tt_mixer_room *m);
/* The mix's packets of the last tick (n = 0 when DTX sent none, or not recording). */
void tt_mixer_room_record_out(const struct tt_mixer_room *m, struct tt_mixer_out *out);
/* Play pcm (mono, room rate) into the mix, like a voice everyone hears (speakers, listeners,
 * the recording): a notice to the whole room. Copies pcm (allocates): between ticks. n == 0
 * stops. 0, -EINVAL, -ENOMEM. */
int tt_mixer_room_play(struct tt_mixer_room *m, const int16_t *pcm, size_t n);

/* One jitter-buffer unit the last tick pulled for a participant. */
struct tt_mixer_unit {
	const uint8_t *data;     /* the packet as received; NULL: lost, late or not yet
				    begun (the mixer concealed it or played silence) */
	size_t len;
	uint32_t dur;            /* RTP clock units */
	bool lost;               /* data NULL because a packet was lost or late (the mixer
				    concealed it), not because none has come yet */
};
/* The units the last tick pulled for p (0 when a longer packet still covers this tick).
 * Valid until the next push, remove or free: copy them right after the tick. */
unsigned tt_mixer_part_pulled(const struct tt_mixer_part *p, struct tt_mixer_unit *u,
			      unsigned max);
#define TT_MIXER_UNITS_MAX 8
enum tt_codec_id tt_mixer_part_codec(const struct tt_mixer_part *p);

#endif
