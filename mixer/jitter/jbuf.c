/* jbuf.c: adaptive jitter buffer: slots indexed by sequence number, played out by
 * timestamp, target delay from the RFC 3550 jitter estimate plus a margin that grows on
 * underruns and decays; sender clock drift is absorbed by dropping (fast sender) or
 * concealing (slow sender) one packet at a time.
 *
 * Why not SpeexDSP's JitterBuffer: it is driven by its own tick (jitter_buffer_tick) and
 * timestamps only, returns one packet per get at a fixed span, and hides loss/late/duplicate
 * accounting we report per participant; ptime 10/40/60 against a 20 ms tick and the Opus FEC
 * look-ahead (peek at seq+1 when seq is lost) would need a wrapper as large as this file. */
#include <stdlib.h>
#include <string.h>

#include "tutti/errno.h"
#include "jbuf.h"

#define SEQ_JUMP 3000        /* seq distance treated as a new stream, not loss */
#define GAP_MAX_MS 1000      /* ts gap above this is a jump (resync), below it silence/DTX */
#define WINDOW_TICKS 50      /* shrink decision every second */

static inline int16_t seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

static inline int32_t ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline uint32_t us_to_rtp(const struct tt__jbuf *jb, double us)
{
	return (uint32_t)(us * jb->cfg.rtp_rate / 1e6);
}

unsigned tt__jbuf_ms(const struct tt__jbuf *jb, uint32_t rtp_units)
{
	return (unsigned)((uint64_t)rtp_units * 1000 / jb->cfg.rtp_rate);
}

int tt__jbuf_init(struct tt__jbuf *jb, const struct tt__jbuf_cfg *cfg)
{
	int err = 0;
	memset(jb, 0, sizeof(*jb));
	if (!cfg->rtp_rate || !cfg->ptime || !cfg->max_payload || cfg->max_payload > 65535)
		return -EINVAL;
	jb->cfg = *cfg;
	if (!jb->cfg.max_ms)
		jb->cfg.max_ms = 500;
	unsigned want = jb->cfg.max_ms / cfg->ptime + 1;
	jb->cap = 8;
	while (jb->cap < want)
		jb->cap <<= 1;
	jb->slots = calloc(jb->cap, sizeof(*jb->slots));
	jb->mem = malloc(jb->cap * cfg->max_payload);
	if (!jb->slots || !jb->mem) {
		err = -ENOMEM;
		goto out;
	}
	/* Touch every page now: a first write in push would page-fault on the media thread. */
	memset(jb->mem, 0, jb->cap * cfg->max_payload);
	for (unsigned i = 0; i < jb->cap; i++)
		jb->slots[i].data = jb->mem + i * cfg->max_payload;
	jb->ptime_dur = cfg->rtp_rate / 1000 * cfg->ptime;
out:
	if (err)
		tt__jbuf_fini(jb);
	return err;
}

void tt__jbuf_fini(struct tt__jbuf *jb)
{
	free(jb->slots);
	free(jb->mem);
	jb->slots = NULL;
	jb->mem = NULL;
}

static void flush(struct tt__jbuf *jb)
{
	for (unsigned i = 0; i < jb->cap; i++)
		jb->slots[i].used = false;
}

void tt__jbuf_reset(struct tt__jbuf *jb)
{
	flush(jb);
	jb->synced = jb->playing = jb->played_any = false;
	jb->have_transit = false;
}

static void resync(struct tt__jbuf *jb, const struct tt_mixer_pkt *pkt)
{
	flush(jb);
	jb->synced = true;
	jb->playing = false;
	jb->played_any = false;
	jb->ssrc = pkt->ssrc;
	jb->next_seq = jb->high_seq = pkt->seq;
	jb->next_ts = pkt->ts;
	jb->have_transit = false;
	jb->idle = 0;
}

static void update_jitter(struct tt__jbuf *jb, const struct tt_mixer_pkt *pkt)
{
	int64_t transit = (int64_t)pkt->arrival_us -
			  (int64_t)((double)pkt->ts * 1e6 / jb->cfg.rtp_rate);
	if (jb->have_transit) {
		int64_t d = transit - jb->last_transit;
		/* A timestamp wrap or jump shows as a huge D: restart the estimate. */
		if (d > 1000000 || d < -1000000) {
			jb->last_transit = transit;
			return;
		}
		double ad = (double)(d < 0 ? -d : d);
		jb->jitter_us += (ad - jb->jitter_us) / 16.0;
	}
	jb->last_transit = transit;
	jb->have_transit = true;
}

int tt__jbuf_push(struct tt__jbuf *jb, const struct tt_mixer_pkt *pkt, uint32_t dur)
{
	if (!pkt->payload || !pkt->len)
		return -EINVAL;
	if (pkt->len > jb->cfg.max_payload) {
		jb->st.oversize++;
		return -EMSGSIZE;
	}
	if (!dur || dur > 6 * jb->ptime_dur)
		dur = jb->ptime_dur;
	jb->st.received++;
	if (!jb->synced || pkt->ssrc != jb->ssrc) {
		if (jb->synced)
			jb->st.resets++;
		resync(jb, pkt);
	}
	int d = seq_diff(pkt->seq, jb->next_seq);
	if (d < -SEQ_JUMP || d > SEQ_JUMP) {
		jb->st.resets++;
		resync(jb, pkt);
		d = 0;
	} else if (d < 0) {
		/* Reordered before play-out began: move the start back instead of losing it. */
		if (!jb->played_any && seq_diff(jb->high_seq, pkt->seq) < (int)jb->cap) {
			jb->next_seq = pkt->seq;
			jb->next_ts = pkt->ts;
			d = 0;
		} else {
			jb->st.late++;
			return 0;
		}
	}
	if (d >= (int)jb->cap) {
		/* Beyond the memory bound: the sender jumped ahead; start over from here. */
		jb->st.resets++;
		resync(jb, pkt);
	}
	struct tt__jbuf_slot *s = &jb->slots[pkt->seq & (jb->cap - 1)];
	if (s->used && s->seq == pkt->seq) {
		jb->st.duplicate++;
		return 0;
	}
	memcpy(s->data, pkt->payload, pkt->len);
	s->len = (uint16_t)pkt->len;
	s->seq = pkt->seq;
	s->ts = pkt->ts;
	s->dur = dur;
	s->level = (int16_t)pkt->level;
	s->vad = pkt->vad;
	s->used = true;
	if (seq_diff(pkt->seq, jb->high_seq) >= 0) {
		jb->high_seq = pkt->seq;
	}
	update_jitter(jb, pkt);
	return 0;
}

static struct tt__jbuf_slot *find(struct tt__jbuf *jb, uint16_t seq)
{
	struct tt__jbuf_slot *s = &jb->slots[seq & (jb->cap - 1)];
	return s->used && s->seq == seq ? s : NULL;
}

static bool have_later(const struct tt__jbuf *jb)
{
	return seq_diff(jb->high_seq, jb->next_seq) > 0;
}

uint32_t tt__jbuf_depth(const struct tt__jbuf *jb)
{
	if (!jb->synced)
		return 0;
	/* Audio queued from next_seq to the newest packet; holes count as one nominal packet.
	 * Counted per packet, not by timestamps, so a timestamp jump or a DTX gap is not
	 * mistaken for seconds of buffered audio. */
	int n = seq_diff(jb->high_seq, jb->next_seq);
	uint32_t d = 0;
	for (int i = 0; i <= n && i < (int)jb->cap; i++) {
		const struct tt__jbuf_slot *s = &jb->slots[(uint16_t)(jb->next_seq + i) &
							   (jb->cap - 1)];
		d += s->used && s->seq == (uint16_t)(jb->next_seq + i) ? s->dur : jb->ptime_dur;
	}
	return d;
}

uint32_t tt__jbuf_target(const struct tt__jbuf *jb)
{
	/* One packet for this tick, plus a jitter margin. Packets arrive on average half a
	 * packet ahead of the tick that takes them, so that much of the margin is already
	 * there: without this credit a jitter of 1 ms (loopback, one LAN hop) rounded the
	 * target up to two whole packets, 20 ms of delay that protected against nothing. */
	double margin = 3.0 * jb->jitter_us - 500.0 * jb->cfg.ptime;
	uint32_t t = jb->ptime_dur + us_to_rtp(jb, (margin > 0 ? margin : 0) + jb->extra_us);
	uint32_t min = jb->cfg.rtp_rate / 50;                 /* one tick */
	uint32_t max = us_to_rtp(jb, jb->cfg.max_ms * 1000.0) / 2;
	if (t < min)
		t = min;
	return t > max ? max : t;
}

static void window(struct tt__jbuf *jb)
{
	uint32_t depth = tt__jbuf_depth(jb);
	if (!jb->win_ticks || depth < jb->win_min_depth)
		jb->win_min_depth = depth;
	if (++jb->win_ticks < WINDOW_TICKS)
		return;
	/* Depth never fell below target + one packet for a whole second: drop one packet
	 * (a fast sender's clock, or a spike that has passed). */
	if (jb->win_min_depth > tt__jbuf_target(jb) + jb->ptime_dur) {
		struct tt__jbuf_slot *s = find(jb, jb->next_seq);
		jb->next_ts += s ? s->dur : jb->ptime_dur;
		if (s)
			s->used = false;
		jb->next_seq++;
		jb->st.dropped++;
	}
	jb->extra_us *= 0.9;    /* the underrun margin decays by 10 % a second */
	jb->win_ticks = 0;
}

unsigned tt__jbuf_pull(struct tt__jbuf *jb, uint32_t need, struct tt__jbuf_unit *u,
		       unsigned max)
{
	unsigned n = 0;
	uint32_t got = 0;

	if (!max)
		return 0;
	if (!jb->synced || (!jb->playing && tt__jbuf_depth(jb) < tt__jbuf_target(jb))) {
		u[0] = (struct tt__jbuf_unit){
			.kind = jb->played_any ? TT__JB_CONCEAL : TT__JB_SILENCE,
			.dur = need, .level = TT_MIXER_LEVEL_ABSENT};
		if (jb->played_any) {
			jb->st.concealed++;
			jb->idle += need;
		}
		return 1;
	}
	jb->playing = true;
	while (got < need && n < max) {
		struct tt__jbuf_slot *s = find(jb, jb->next_seq);
		struct tt__jbuf_unit *x = &u[n];
		*x = (struct tt__jbuf_unit){.level = TT_MIXER_LEVEL_ABSENT};
		if (s) {
			int32_t gap = ts_diff(s->ts, jb->next_ts);
			if (gap > 0 && jb->idle) {
				/* Time already filled while waiting counts against a DTX gap. */
				uint32_t adv = (uint32_t)gap < jb->idle ? (uint32_t)gap : jb->idle;
				jb->next_ts += adv;
				jb->idle -= adv;
				gap -= (int32_t)adv;
			}
			if (gap > 0 && gap <= (int32_t)(jb->cfg.rtp_rate / 1000 * GAP_MAX_MS)) {
				/* DTX or a paused sender: fill up to its timestamp. */
				uint32_t f = (uint32_t)gap < need - got ? (uint32_t)gap : need - got;
				x->kind = TT__JB_CONCEAL;
				x->dur = f;
				jb->next_ts += f;
				got += f;
				jb->st.concealed++;
				n++;
				continue;
			}
			x->kind = TT__JB_PACKET;
			x->data = s->data;
			x->len = s->len;
			x->dur = s->dur;
			x->level = s->level;
			x->vad = s->vad;
			s->used = false;      /* data stays valid until the next push */
			jb->next_ts = s->ts + s->dur;
			jb->next_seq++;
			jb->played_any = true;
			jb->idle = 0;
		} else if (have_later(jb)) {
			struct tt__jbuf_slot *nx = find(jb, (uint16_t)(jb->next_seq + 1));
			x->kind = TT__JB_CONCEAL;
			x->dur = jb->ptime_dur;
			if (nx) {
				x->next = nx->data;
				x->next_len = nx->len;
			}
			jb->next_ts += jb->ptime_dur;
			jb->next_seq++;
			jb->st.lost++;
			jb->st.concealed++;
		} else {
			/* Underrun: conceal, re-buffer to a larger target. */
			x->kind = TT__JB_CONCEAL;
			x->dur = need - got;
			jb->idle += need - got;
			jb->playing = false;
			jb->extra_us += 1e6 * jb->ptime_dur / jb->cfg.rtp_rate;
			if (jb->extra_us > jb->cfg.max_ms * 500.0)
				jb->extra_us = jb->cfg.max_ms * 500.0;
			jb->st.concealed++;
		}
		got += x->dur;
		n++;
	}
	window(jb);
	return n;
}
