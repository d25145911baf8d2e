/* stats.h: statistics are plain structs, each described once by a table of fields (name,
 * type, offset). The JSON API renders any of them from its table, and a /metrics endpoint
 * can read the same tables: adding a counter is one struct member and one table row, never
 * a copy per output.
 *
 * Threading: the tables are const data, readable from any thread. Each struct says who
 * fills it; the copies the API reads are the core thread's.
 *
 * The structs the core reports:
 *   struct tt_leg_stats           one audio leg (below): filled on its media worker once a
 *                                 second, posted to the core, kept on the participant
 *   struct tt_mixer_room_stats    a room's mixer (tutti/mixer.h): travels with its legs'
 *   a gateway's own struct        described by its tt_gateway.stat_fields (tutti/gateway.h),
 *                                 filled on the core thread when read */
#ifndef TUTTI_STATS_H
#define TUTTI_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tutti/mixer.h>
#include <tutti/transport.h>

enum tt_stat_type {
	TT_STAT_U64,     /* uint64_t */
	TT_STAT_I64,     /* int64_t */
	TT_STAT_U32,     /* uint32_t, unsigned */
	TT_STAT_I32,     /* int32_t, int */
	TT_STAT_DOUBLE,
	TT_STAT_BOOL,
	TT_STAT_STR,     /* a char array in the struct, NUL-terminated */
};

enum tt_stat_flags {
	/* Only grows while its object lives (a new leg or mixer starts again at zero): a
	 * Prometheus counter. Without it, a gauge (a level, a depth, a count of things now). */
	TT_STAT_COUNTER = 1 << 0,
	/* A gauge whose sum over objects means something (a count of things now: inputs,
	 * talking legs). /metrics adds these and the counters up over legs or rooms; other
	 * gauges (a level, a depth) are per object and stay in the JSON API. A gateway's table
	 * describes one object: /metrics shows every numeric row of it, flag or not. */
	TT_STAT_SUM = 1 << 1,
};

struct tt_stat_field {
	const char *name;      /* [a-z0-9_]+, unique within its group; NULL ends a table */
	const char *group;     /* NULL, or the sub-object the field is shown in */
	enum tt_stat_type type;
	size_t offset;
	unsigned flags;        /* enum tt_stat_flags */
	const char *help;      /* one line */
};

/* A table row, checked at compile time: the member's size must fit the type (an error
 * "size of unnamed array is negative" points at a wrong row). Signedness is not checked. */
#define TT__STAT_FITS_U64(x) (sizeof(x) == 8)
#define TT__STAT_FITS_I64(x) (sizeof(x) == 8)
#define TT__STAT_FITS_U32(x) (sizeof(x) == 4)
#define TT__STAT_FITS_I32(x) (sizeof(x) == 4)
#define TT__STAT_FITS_DOUBLE(x) (sizeof(x) == sizeof(double))
#define TT__STAT_FITS_BOOL(x) (sizeof(x) == sizeof(bool))
#define TT__STAT_FITS_STR(x) (sizeof((x)[0]) == 1 && sizeof(x) > 1)
#define TT_STAT_FIELD(T, member, ty, grp, nm, fl, hlp)                                 \
	{ .name = (nm), .group = (grp), .type = TT_STAT_##ty,                              \
	  .offset = offsetof(T, member) +                                                \
		    0 * sizeof(char[TT__STAT_FITS_##ty(((T *)0)->member) ? 1 : -1]),     \
	  .flags = (fl), .help = (hlp) }

/* One audio leg, as its media worker last saw it (about once a second). The transport's
 * and the mixer input's own stats structs are embedded whole, so nothing is copied field
 * by field on the way; `mixer` is zero while the leg has no mixer input. */
struct tt_leg_stats {
	char codec[8];                     /* "opus", "g722", "pcmu", "pcma" */
	char local[64];                    /* our address ("127.0.0.1:20002"), "" for ICE */
	char remote[64];                   /* the peer's, "ice" for ICE legs */
	bool srtp;                         /* SDES-SRTP or DTLS-SRTP */
	double rx_jitter_ms;               /* transport.rx_jitter at the codec's clock */
	struct tt_transport_stats transport;
	struct tt_mixer_part_stats mixer;
};

/* The rows the API shows, NULL-terminated. */
extern const struct tt_stat_field tt_leg_stat_fields[];
extern const struct tt_stat_field tt_mixer_room_stat_fields[];

#endif
