/* sink.h: a recording's recorder: a thread of its own that takes what the room's media
 * worker copied out of each tick (the mix's Opus packets, each participant's packets) from a
 * bounded queue and writes the Ogg Opus files, so that no disk write ever runs on a media
 * worker's tick.
 *
 * Threading: the worker calls tt__rec_sink_push (and _failed); the core calls new, finish,
 * files_json and unref; the recorder thread is the sink's own. A sink is refcounted
 * (atomic): the core's recording, the worker's tap and the thread each hold one.
 * When the sink fails (queue full, a write error) it tells the core once, through the
 * core's mailbox, with `on_failed` on the core thread. */
#ifndef TT_RECORD_SINK_H
#define TT_RECORD_SINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop/mq.h"

struct tt_rec_sink;

struct tt_rec_sink_cfg {
	const char *dir;          /* existing directory */
	const char *base;         /* file name without extension: "<base>.opus" is the mix,
				     "<base>-<participant>.opus" the tracks, "<base>.json" */
	const char *title;        /* TITLE tag */
	unsigned queue;           /* ticks that may wait for the disk */
	bool tracks;
	struct tt_mq *core_mq;
	/* Core thread, once, when the sink failed by itself: `why` is borrowed. */
	void (*on_failed)(void *core, struct tt_rec_sink *s, const char *why);
};

/* Creates the mix file now (so a bad directory is an error at start) and the thread.
 * 0 or -errno. */
int tt__rec_sink_new(struct tt_rec_sink **sp, const struct tt_rec_sink_cfg *cfg);
struct tt_rec_sink *tt__rec_sink_ref(struct tt_rec_sink *s);
void tt__rec_sink_unref(struct tt_rec_sink *s);

/* ---- one tick's copy, built by the worker ---- */
/* TT_REC_LOST: a track's packet was lost or late (len 0): concealed like the mixer did */
enum { TT_REC_MIX = 1, TT_REC_TRACK = 2, TT_REC_END = 3, TT_REC_LOST = 4 };
#define TT_REC_ID_MAX 24
struct tt_rec_rec {           /* followed by len bytes of payload */
	uint8_t kind;             /* TT_REC_MIX or TT_REC_TRACK */
	uint8_t codec;            /* enum tt_codec_id (tracks) */
	uint16_t len;             /* 0 for a track: nothing arrived for dur */
	uint32_t dur;             /* RTP clock units (tracks) */
	uint32_t rtp_rate;
	char id[TT_REC_ID_MAX];   /* the participant's id (tracks) */
};
struct tt_rec_tick {
	uint64_t tick;            /* ticks since the recording's first */
	uint32_t kind;            /* 0, or TT_REC_END: the last message */
	uint32_t len;             /* bytes of records after this header */
	uint32_t mix_preskip;     /* the mix encoder's look-ahead, 48 kHz samples */
};

/* Worker: the monotonic time of the recording's first tick (once; later calls change
 * nothing). */
void tt__rec_sink_started(struct tt_rec_sink *s, int64_t mono_us);
/* Any thread: that time, or 0 before the first tick. */
int64_t tt__rec_sink_first_us(const struct tt_rec_sink *s);
/* Worker: hand over one tick (g_malloc'd, header + records; the sink owns it from here).
 * 0, or -ENOBUFS: the queue was full, the recording failed (the core is told) and the
 * message was dropped. */
int tt__rec_sink_push(struct tt_rec_sink *s, struct tt_rec_tick *t);
/* Any thread: failed (stop copying ticks). */
bool tt__rec_sink_failed(const struct tt_rec_sink *s);
/* Worker: the last message (after it nothing is pushed). Never refused. */
void tt__rec_sink_end(struct tt_rec_sink *s);

/* Core: the manifest's body, written beside the files when the thread finishes (the sink
 * adds "files" and "stopped"); takes the reference. Call before the worker's end. */
void tt__rec_sink_finish(struct tt_rec_sink *s, json_t *manifest);
/* Core: [{"path", "bytes", "participant"?}] as they are now. New reference. */
json_t *tt__rec_sink_files_json(struct tt_rec_sink *s);
/* Core: bytes in every file of the recording so far (the same figures as files_json). */
uint64_t tt__rec_sink_bytes(struct tt_rec_sink *s);
/* Core: true once the thread has written everything and may be joined. */
bool tt__rec_sink_done(const struct tt_rec_sink *s);
/* Core: wait for the thread (after the end was pushed, or after `grace_ms` without any
 * message it gives up waiting and finishes). */
void tt__rec_sink_join(struct tt_rec_sink *s);

#endif
