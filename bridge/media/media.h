/* media.h: a room's media side, owned by one media worker: the room's mixer, and per
 * participant an audio leg (transport + mixer input/output + RTP sender state).
 *
 * Calls go one way. The core calls the functions below on the core thread; each posts a
 * message to the room's worker, which owns every media object. What the worker has to tell
 * (talking, statistics, DTMF, a transport that ended) goes back through the table of
 * callbacks the core gave when it made the room's media (struct tt__media_events), called
 * on the core thread after the mailbox hop (media_events.c). Nothing here knows rooms or
 * gateways: a participant is an opaque, refcounted handle (participant_ref.h), and the
 * callers check what the participant may do before calling. */
#ifndef TT_MEDIA_H
#define TT_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <tutti/codec.h>
#include <tutti/conf.h>
#include <tutti/core.h>
#include <tutti/stats.h>

#include "loop/mq.h"
#include "loop/worker.h"
#include "participant/participant_ref.h"

struct tt_room_media;

/* Media settings read from [media] when a room's media is made (copied: a reload applies
 * to rooms made afterwards). */
struct tt_media_cfg {
	char address[64];
	unsigned port_min, port_max;
	bool shared_port;            /* fixed-remote plain RTP on the worker's shared port */
	unsigned inactivity_ms;
	unsigned hold_inactivity_ms; /* instead of inactivity_ms while on hold */
	unsigned rtcp_interval_ms;
	unsigned opus_bitrate;
	unsigned opus_complexity;
	enum tt_opus_mode opus_mode;
	int cpu;                     /* enum tt_mixer_cpu, or TT_MIXER_CPU_AUTO */
	bool opus_vad;               /* [media] opus_vad: tt_mixer_room_cfg.decode_all_levels off */
};

void tt__media_cfg_read(struct tt_media_cfg *mc, const struct tt_conf *conf);

/* One leg's statistics, and whose. */
struct tt__leg_report {
	struct tt_participant *p;
	struct tt_leg_stats st;
};

/* What a room's media reports, on the core thread, `arg` being the core mailbox's target.
 * Participants are borrowed for the call; each may have left since the worker spoke, so
 * the callee checks before it acts. The table must outlive every message in flight: make
 * it static const. */
struct tt__media_events {
	/* The mixer's voice activity for p started (on) or stopped. */
	void (*talking)(void *arg, struct tt_participant *p, bool on);
	/* About once a second while the room has legs, and once after its last leg went:
	 * the mixer's counters (NULL when the room has no mixer) and each leg's. `room` is
	 * the name given at tt__room_media_new; `m` is that media, to compare only (it is
	 * the worker's): its address is not reused before the last message naming it has
	 * been handled. */
	void (*stats)(void *arg, const struct tt_room_media *m, const char *room,
		      const struct tt_mixer_room_stats *mix, unsigned n,
		      const struct tt__leg_report *legs);
	/* An RFC 4733 digit completed in p's audio. */
	void (*dtmf)(void *arg, struct tt_participant *p, char digit);
	/* p's transport ended by itself: -ETIMEDOUT (no packets within the inactivity
	 * limit), or what ended it (an RTCP BYE, a DTLS failure, lost ICE consent). */
	void (*ended)(void *arg, struct tt_participant *p, int reason);
};

struct tt__media_room_cfg {
	const char *name;              /* copied */
	unsigned rate, speakers, max_parts;
	struct tt_worker *worker;      /* where it lives (counted with tt_worker_placed) */
	struct tt_mq *core_mq;         /* where its reports go */
	const struct tt__media_events *events;
	const struct tt_conf *conf;    /* [media] is read from it now */
};

/* All core thread. */
int tt__room_media_new(struct tt_room_media **mp, const struct tt__media_room_cfg *cfg);
/* Rate, speakers or the participant limit changed: the worker makes a new mixer. */
void tt__room_media_reconfigure(struct tt_room_media *m, unsigned rate, unsigned speakers,
				unsigned max_parts);
/* p joins the media with its state bits (TT_PS_MUTED/DEAF/HOLD), changes them, leaves.
 * Each takes its own reference to p for the worker. */
void tt__room_media_add(struct tt_room_media *m, struct tt_participant *p, unsigned state);
void tt__room_media_remove(struct tt_room_media *m, struct tt_participant *p);
void tt__room_media_set_state(struct tt_room_media *m, struct tt_participant *p,
			      unsigned state);
/* The room ends: its worker closes every leg and frees the mixer; m is unusable after.
 * NULL is allowed. Returns NULL. */
struct tt_room_media *tt__room_media_end(struct tt_room_media *m);

struct tt_rec_sink;
/* Start recording into `sink` (the worker takes its own reference; tracks: a track per
 * heard participant too), playing the notice pcm (mono at `rate`, resampled here to
 * `room_rate`) into the mix for everyone; or stop (sink NULL): the sink gets its last
 * message from the worker. */
void tt__room_media_record(struct tt_room_media *m, struct tt_rec_sink *sink, bool tracks,
			   const int16_t *pcm, size_t n, unsigned rate, unsigned room_rate);

/* core.h audio_attach, for a participant the caller checked (in the room, audio): -EINVAL
 * (bad leg), -ENODEV (m NULL: the room has no media), or 0 and cb runs later. With
 * send_levels (a trunk to another node), what the leg sends carries the RFC 6464 level of
 * its mix under the leg's audio_level_ext_id. */
int tt__room_media_attach(struct tt_room_media *m, struct tt_participant *p,
			  const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg,
			  bool send_levels);
/* core.h audio_update: same message path as attach. -EINVAL. */
int tt__room_media_update(struct tt_room_media *m, struct tt_participant *p,
			  const struct tt_audio_leg *leg, tt_audio_attached_h cb, void *arg);
/* core.h audio_play: resampled here from `rate` to the room's `room_rate`, played by the
 * worker's mixer. -EINVAL. */
int tt__room_media_play(struct tt_room_media *m, struct tt_participant *p, const int16_t *pcm,
			size_t n, unsigned rate, unsigned room_rate);
/* core.h audio_ice_candidate and audio_ice_credentials (leg_ice.c), for a participant the
 * caller checked: -EINVAL (not a candidate line; bad credentials), -ENODEV (m NULL). */
int tt__room_media_ice_candidate(struct tt_room_media *m, struct tt_participant *p,
				 const char *cand);
int tt__room_media_ice_credentials(struct tt_room_media *m, struct tt_participant *p,
				   const char *ufrag, const char *pwd, const char *fp,
				   bool dtls_active);

#endif
