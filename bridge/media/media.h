/* media.h: a room's media side, owned by one media worker: the room's mixer, and per
 * participant an audio leg (transport + mixer input/output + RTP sender state).
 *
 * The core calls the functions below on the core thread; each posts a message to the room's
 * worker, which owns every media object. Results and events come back as messages to the core
 * (media_events.c), never through shared structs. */
#ifndef TT_MEDIA_H
#define TT_MEDIA_H

#include <tutti/codec.h>

#include "core/core_types.h"

struct tt_room;
struct tt_room_media;

/* Media settings read from [media] when a room is placed (copied: a reload applies to rooms
 * made afterwards). */
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
};

/* A participant's media statistics, as last reported by the worker (about once a second);
 * kept on the participant, core thread only. */
struct tt_media_snapshot {
	bool valid;
	char codec[8];
	char local[64];
	char remote[64];
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
	uint64_t srtp_fail, bleed_dropped, malformed;
	int64_t rx_lost;
	double rx_jitter_ms;
	int peer_fraction_lost;      /* /256, -1: no report yet */
	int64_t rtt_us;              /* -1: unknown */
	uint64_t jb_late, jb_lost, jb_concealed, jb_duplicate;
	unsigned jb_depth_ms;
	int level_dbov;
	bool talking, speaker, srtp;
};

void tt__media_cfg_read(struct tt_media_cfg *mc, const struct tt_conf *conf);

void tt__room_media_place(struct tt_room *room);
void tt__room_media_reconfigure(struct tt_room *room);   /* rate or speakers changed */
void tt__room_media_add(struct tt_room *room, struct tt_participant *p);
void tt__room_media_remove(struct tt_room *room, struct tt_participant *p);
void tt__room_media_set_state(struct tt_room *room, struct tt_participant *p, unsigned state);
void tt__room_media_end(struct tt_room *room);
/* See core.h audio_attach. */
int tt__room_media_attach(struct tt_participant *p, const struct tt_audio_leg *leg,
			  tt_audio_attached_h cb, void *arg);
/* Change p's leg (core.h audio_update): same message path as attach. Core thread. */
int tt__room_media_update(struct tt_participant *p, const struct tt_audio_leg *leg,
			  tt_audio_attached_h cb, void *arg);
/* core.h audio_play: resampled here, played by the worker's mixer. Core thread. */
int tt__room_media_play(struct tt_participant *p, const int16_t *pcm, size_t n, unsigned rate);
/* See core.h audio_ice_candidate and audio_ice_credentials (leg_ice.c). Core thread. */
int tt__room_media_ice_candidate(struct tt_participant *p, const char *cand);
int tt__room_media_ice_credentials(struct tt_participant *p, const char *ufrag,
				   const char *pwd, const char *fp, bool dtls_active);

#endif
