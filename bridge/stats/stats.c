/* stats.c: the field tables of the statistics the core reports (tutti/stats.h), and the
 * check a gateway's own table passes before the core accepts it. */
#include "stats.h"

#include <glib.h>
#include <string.h>
#include <tutti/errno.h>

#include "loop/worker.h"

#define LEG(member, ty, grp, name, fl, help) \
	TT_STAT_FIELD(struct tt_leg_stats, member, ty, grp, name, fl, help)
#define C TT_STAT_COUNTER
#define S TT_STAT_SUM

/* Names and JSON types are the API's since before this table (GET .../participants/ID
 * "media"); new rows may be added, existing ones keep name and meaning. */
const struct tt_stat_field tt_leg_stat_fields[] = {
	LEG(codec, STR, NULL, "codec", 0, "codec of the leg"),
	LEG(local, STR, NULL, "local", 0, "our address, empty for ICE"),
	LEG(remote, STR, NULL, "remote", 0, "the peer's address, \"ice\" for ICE legs"),
	LEG(srtp, BOOL, NULL, "srtp", 0, "media is SRTP (SDES or DTLS)"),
	LEG(transport.pkts_in, U64, NULL, "packets_in", C, "RTP and RTCP packets accepted"),
	LEG(transport.pkts_out, U64, NULL, "packets_out", C, "packets handed to the kernel"),
	LEG(transport.bytes_in, U64, NULL, "bytes_in", C, "bytes accepted"),
	LEG(transport.bytes_out, U64, NULL, "bytes_out", C, "bytes handed to the kernel"),
	LEG(transport.srtp_fail, U64, NULL, "srtp_failures", C,
	    "packets failing SRTP authentication or replay checks"),
	LEG(transport.bleed_dropped, U64, NULL, "foreign_dropped", C,
	    "packets from an address that is not the peer's"),
	LEG(transport.malformed, U64, NULL, "malformed", C, "packets neither RTP nor RTCP"),
	LEG(transport.rx_lost, I32, NULL, "lost", 0,
	    "packets lost on the way to us (RFC 3550 cumulative, may go down on duplicates)"),
	LEG(rx_jitter_ms, DOUBLE, NULL, "jitter_ms", 0, "interarrival jitter of what we receive"),
	LEG(transport.peer_fraction_lost, I32, NULL, "peer_fraction_lost", 0,
	    "loss the peer reports of our stream, /256, -1 before its first report"),
	LEG(transport.rtt_us, I64, NULL, "rtt_us", 0, "round trip from RTCP, -1 unknown"),
	LEG(mixer.late, U64, "jitter_buffer", "late", C, "packets that came after their turn"),
	LEG(mixer.lost, U64, "jitter_buffer", "lost", C, "packets that never came"),
	LEG(mixer.concealed, U64, "jitter_buffer", "concealed", C, "frames concealed"),
	LEG(mixer.duplicate, U64, "jitter_buffer", "duplicate", C, "packets received twice"),
	LEG(mixer.depth_ms, U32, "jitter_buffer", "depth_ms", 0, "audio buffered now"),
	LEG(mixer.level_dbov, I32, NULL, "level_dbov", 0, "smoothed voice level, -127..0"),
	LEG(mixer.talking, BOOL, NULL, "talking", S, "voice activity"),
	LEG(mixer.speaker, BOOL, NULL, "speaker", S, "in the mix now"),
	/* added with the table */
	LEG(transport.send_errors, U64, NULL, "send_errors", C,
	    "packets the kernel refused or the send queue dropped"),
	LEG(transport.rtcp_in, U64, NULL, "rtcp_in", C, "RTCP packets accepted"),
	LEG(transport.rtcp_out, U64, NULL, "rtcp_out", C, "RTCP packets sent"),
	LEG(transport.peer_lost, I32, NULL, "peer_lost", 0,
	    "cumulative loss the peer reports of our stream"),
	LEG(mixer.received, U64, "jitter_buffer", "received", C, "packets into the buffer"),
	LEG(mixer.dropped, U64, "jitter_buffer", "dropped", C, "packets dropped on overflow"),
	LEG(mixer.target_ms, U32, "jitter_buffer", "target_ms", 0, "adaptive target delay"),
	{ 0 },
};

#define ROOM(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct tt_mixer_room_stats, member, ty, NULL, name, fl, help)

const struct tt_stat_field tt_mixer_room_stat_fields[] = {
	ROOM(ticks, U64, "ticks", C, "20 ms ticks mixed"),
	ROOM(parts, U32, "inputs", S, "participants with a mixer input"),
	ROOM(speakers, U32, "speakers", S, "voices in the mix at the last tick"),
	ROOM(variants, U32, "variants", S, "codec variants in use (shared encoders)"),
	ROOM(decodes_last_tick, U32, "decodes_last_tick", S, "decoder calls in the last tick"),
	ROOM(encodes_last_tick, U32, "encodes_last_tick", S, "encoder calls in the last tick"),
	ROOM(decodes, U64, "decodes", C, "decoder calls"),
	ROOM(encodes_shared, U64, "encodes_shared", C, "encoder calls for listeners' shared mixes"),
	ROOM(encodes_private, U64, "encodes_private", C, "encoder calls for speakers' N-1 mixes"),
	ROOM(encodes_prompt, U64, "encodes_prompt", C, "encoder calls for prompts"),
	ROOM(late, U64, "late", C, "packets later than their turn, every input"),
	ROOM(lost, U64, "lost", C, "packets that never came, every input"),
	ROOM(concealed, U64, "concealed", C, "frames concealed, every input"),
	ROOM(events_dropped, U64, "events_dropped", C, "talking events lost to a full ring"),
	ROOM(vad_quiet, U64, "vad_quiet", C,
	     "input ticks taken as quiet from Opus VAD flags, without a decode"),
	ROOM(vad_distrusted, U64, "vad_distrusted", C,
	     "spot checks that found an input its Opus VAD flags call quiet loud"),
	{ 0 },
};

#define WK(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct tt_worker_stats, member, ty, NULL, name, fl, help)

const struct tt_stat_field tt__worker_stat_fields[] = {
	WK(index, U32, "index", 0, "the worker's number"),
	WK(ticks, U64, "ticks", C, "ticks run"),
	WK(late, U64, "late", C, "ticks that started more than 5 ms after their deadline"),
	WK(skipped, U64, "skipped", C, "deadlines dropped after a stall"),
	WK(max_late_us, I64, "max_late_us", 0, "the latest a tick has started"),
	WK(clients, U32, "rooms", S, "rooms ticking on it"),
	{ 0 },
};

const struct tt_stat_field tt__worker_port_stat_fields[] = {
	WK(shared_port, STR, "local", 0, "the worker's shared RTP port"),
	WK(shared_members, U32, "members", S, "legs on it"),
	WK(shared_foreign_dropped, U64, "foreign_dropped", C,
	   "datagrams from an address that is no member's"),
	WK(shared_send_errors, U64, "send_errors", C, "datagrams the kernel refused"),
	WK(shared_lite_members, U32, "lite_members", S, "of its legs, ICE-lite ones (browsers)"),
	WK(shared_stun_answered, U64, "stun_answered", C, "ICE connectivity checks answered"),
	WK(shared_stun_dropped, U64, "stun_dropped", C,
	   "STUN refused: wrong credentials, malformed, or another member's address"),
	{ 0 },
};

static size_t type_size(enum tt_stat_type t)
{
	switch (t) {
	case TT_STAT_U64: case TT_STAT_I64: return 8;
	case TT_STAT_U32: case TT_STAT_I32: return 4;
	case TT_STAT_DOUBLE: return sizeof(double);
	case TT_STAT_BOOL: return sizeof(bool);
	case TT_STAT_STR: return 2;   /* at least one character and the NUL */
	}
	return 0;
}

static bool name_ok(const char *s)
{
	return s && *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

int tt__stats_check(const struct tt_stat_field *fields, size_t size, char **why)
{
	if (!fields || !size) {
		*why = g_strdup("no fields or no size");
		return -EINVAL;
	}
	for (const struct tt_stat_field *f = fields; f->name; f++) {
		size_t need = type_size(f->type);
		if (!name_ok(f->name) || (f->group && !name_ok(f->group))) {
			*why = g_strdup_printf("field '%s': names are [a-z0-9_]+", f->name);
			return -EINVAL;
		}
		if (!need || f->offset + need > size) {
			*why = g_strdup_printf("field '%s': bad type or past the struct", f->name);
			return -EINVAL;
		}
		for (const struct tt_stat_field *g = fields; g != f; g++)
			if (!strcmp(g->name, f->name) &&
			    !g_strcmp0(g->group, f->group)) {
				*why = g_strdup_printf("field '%s' twice", f->name);
				return -EINVAL;
			}
	}
	return 0;
}

/* Sums in doubles: exact to 2^53, which no counter of ours reaches. */
bool tt__stats_value(const struct tt_stat_field *f, const void *s, double *v)
{
	const char *at = (const char *)s + f->offset;
	switch (f->type) {
	case TT_STAT_U64: { uint64_t x; memcpy(&x, at, 8); *v = (double)x; return true; }
	case TT_STAT_I64: { int64_t x; memcpy(&x, at, 8); *v = (double)x; return true; }
	case TT_STAT_U32: { uint32_t x; memcpy(&x, at, 4); *v = x; return true; }
	case TT_STAT_I32: { int32_t x; memcpy(&x, at, 4); *v = x; return true; }
	case TT_STAT_DOUBLE: memcpy(v, at, sizeof *v); return true;
	case TT_STAT_BOOL: { bool x; memcpy(&x, at, sizeof x); *v = x; return true; }
	case TT_STAT_STR: return false;
	}
	return false;
}
