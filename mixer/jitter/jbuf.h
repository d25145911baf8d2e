/* jbuf.h: the per-participant adaptive jitter buffer (internal to the mixer).
 *
 * Owned by one participant on the room's media worker thread; init/fini allocate and free,
 * push and pull never allocate. Units of time are the RTP clock of the stream. */
#ifndef TT_MIXER_JBUF_H
#define TT_MIXER_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tutti/mixer.h"

struct tt__jbuf_cfg {
	unsigned rtp_rate;     /* Hz */
	unsigned ptime;        /* nominal ms per packet, for losses and targets */
	size_t max_payload;    /* larger packets are refused */
	unsigned max_ms;       /* memory bound: slots cover this much audio; 0 = 500 */
};

enum tt__jbuf_kind {
	TT__JB_PACKET,         /* decode data/len */
	TT__JB_CONCEAL,        /* lost or late: conceal dur (FEC from next/next_len if set) */
	TT__JB_SILENCE,        /* nothing received yet: silence, no PLC */
};

struct tt__jbuf_unit {
	enum tt__jbuf_kind kind;
	const uint8_t *data;   /* valid until the next push */
	size_t len;
	const uint8_t *next;
	size_t next_len;
	uint32_t dur;          /* RTP clock units */
	int level;             /* RFC 6464 of this packet, or TT_MIXER_LEVEL_ABSENT */
	bool vad;
};

struct tt__jbuf_slot {
	uint8_t *data;
	uint32_t ts;
	uint32_t dur;
	uint16_t seq;
	uint16_t len;
	int16_t level;
	bool vad;
	bool used;
};

struct tt__jbuf_stats {
	uint64_t received, late, lost, duplicate, dropped, concealed, oversize, resets;
};

struct tt__jbuf {
	struct tt__jbuf_cfg cfg;
	unsigned cap;               /* slots, a power of two */
	struct tt__jbuf_slot *slots;
	uint8_t *mem;
	uint32_t ssrc;
	bool synced, playing, played_any;
	uint16_t next_seq, high_seq;
	uint32_t next_ts;            /* RTP time of next_seq's audio */
	uint32_t ptime_dur;
	uint32_t idle;              /* concealed while waiting (underrun) */
	/* RFC 3550 interarrival jitter, microseconds, and the growth after underruns */
	bool have_transit;
	int64_t last_transit;
	double jitter_us;
	double extra_us;
	uint32_t win_min_depth;
	unsigned win_ticks;
	struct tt__jbuf_stats st;
};

int tt__jbuf_init(struct tt__jbuf *jb, const struct tt__jbuf_cfg *cfg);
void tt__jbuf_fini(struct tt__jbuf *jb);
/* Queue a packet whose audio lasts dur RTP units (0: the nominal ptime). 0 or -errno. */
int tt__jbuf_push(struct tt__jbuf *jb, const struct tt_mixer_pkt *pkt, uint32_t dur);
/* Units covering at least `need` RTP units of audio (at most `max` units). Returns count. */
unsigned tt__jbuf_pull(struct tt__jbuf *jb, uint32_t need, struct tt__jbuf_unit *u,
		       unsigned max);
uint32_t tt__jbuf_depth(const struct tt__jbuf *jb);
uint32_t tt__jbuf_target(const struct tt__jbuf *jb);
unsigned tt__jbuf_ms(const struct tt__jbuf *jb, uint32_t rtp_units);
void tt__jbuf_reset(struct tt__jbuf *jb);

#endif
