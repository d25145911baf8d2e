/* leg_kind.h: an audio leg on its worker (struct leg) and the operations of its kind.
 *
 * leg.c keeps what every leg has: the mixer input/output, the RTP sender state of what we
 * send, the tick's send and flush, statistics, and the messages from the core. What depends
 * on how the media travels (enum tt_leg_kind in tutti/core.h) is a kind's: it makes the
 * leg's transport, applies what signalling changes, and takes the kind's extras (an ICE
 * candidate). Each kind is one file exporting one const struct tt__leg_kind_ops
 * (leg_udp.c, leg_ice.c); leg_kinds.c is the one table from kind to ops, and says how the
 * kinds still to come (a recording sink, a trunk to another bridge) would fit.
 *
 * Threading: each operation says where it runs. The worker ones run on the room's worker
 * between ticks, never in one: the tick's send reaches the transport through leg->t alone,
 * so a kind adds no indirection per packet.
 * Ownership: the worker owns struct leg (leg.c allocates and frees it) and its transport
 * leg->t (freed by leg.c after ops->close); leg->ks is the kind's, made by open and freed
 * by close. */
#ifndef TT_LEG_KIND_H
#define TT_LEG_KIND_H

#include <tutti/core.h>
#include <tutti/mixer.h>
#include <tutti/transport.h>

#include "media_priv.h"

struct leg {
	/* what the tick's send touches, in the first cache line */
	struct tt_transport *t;
	struct media_part *mp;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts_offset;           /* random per stream (RFC 3550 5.1) */
	bool sent_any;
	bool closed;
	bool srtp;                    /* the media is SRTP-protected (set by the kind; stats) */
	bool quiet_hold;              /* the transport has the on-hold inactivity limit */
	uint8_t send_level_id;        /* RFC 6464 extension id on what we send (trunks), or 0 */
	/* read between ticks */
	const struct tt__leg_kind_ops *ops;
	void *ks;                     /* the kind's own state */
	struct tt_mixer_part_cfg mcfg;
	char codec[8];
	char local[64], remote[64];   /* for statistics, written by the kind ("" unknown) */
};

struct tt__leg_kind_ops {
	const char *name;             /* "udp", "ice": logs */

	/* ---- core thread, before a description is posted to the worker ---- */
	/* The kind's fields of al are usable for an attach, or (update true) for an update of
	 * a leg of this kind: 0 or -EINVAL. Mandatory. */
	int (*check)(const struct tt_audio_leg *al, bool update);
	/* The posted copy of al takes its own references to what al borrows (hold), and drops
	 * them when the result is back on the core thread (release). Optional. */
	void (*hold)(struct tt_audio_leg *al);
	void (*release)(struct tt_audio_leg *al);

	/* ---- worker thread, between ticks ---- */
	/* Make l->t (and l->ks) with the common transport settings tc, as al says, and fill
	 * the kind's member of res. l->mp, codec, mcfg and the sender state are set. On error
	 * everything it made is freed and l->t and l->ks are NULL. Mandatory. */
	int (*open)(struct leg *l, const struct tt_transport_cfg *tc,
		    const struct tt_audio_leg *al, struct tt_audio_attached *res);
	/* Apply what signalling changed on the kind's side (leg.c has applied the codec and the
	 * payload to the mixer and the transport) and fill the kind's member of res as open
	 * does. Mandatory. */
	int (*update)(struct leg *l, const struct tt_audio_leg *al, struct tt_audio_attached *res);
	/* Free l->ks. l->t still exists; leg.c frees it right after. Mandatory. */
	void (*close)(struct leg *l);

	/* ---- worker thread, optional extras; a leg whose kind lacks one ignores them ---- */
	/* One remote ICE candidate line, or "" for the end of candidates (audio_ice_candidate:
	 * checked on the core thread already). */
	int (*add_candidate)(struct leg *l, const char *cand);
	/* The peer's ICE credentials (audio_ice_credentials: checked on the core thread). */
	int (*set_credentials)(struct leg *l, const char *ufrag, const char *pwd, const char *fp,
			       bool dtls_active);
};

/* leg_kinds.c: the kind's operations, or NULL for a kind without a row. Any thread (the
 * table changes only through tt__leg_kind_register, before any core runs). */
const struct tt__leg_kind_ops *tt__leg_kind(enum tt_leg_kind kind);
/* Tests only: put ops (NULL: none) in the row of kind, which may be a kind without a name
 * below TT__LEG_KIND_SLOTS (a fake kind); returns the row's previous ops. Call it while no
 * core runs: the table is read from workers without a lock. */
#define TT__LEG_KIND_SLOTS 8
const struct tt__leg_kind_ops *tt__leg_kind_register(int kind,
						     const struct tt__leg_kind_ops *ops);

/* The rows (leg_udp.c, leg_ice.c). */
extern const struct tt__leg_kind_ops tt__leg_udp_ops;
extern const struct tt__leg_kind_ops tt__leg_ice_ops;

/* leg.c, core thread: run fn(l, arg) on p's open leg on m's worker between ticks, then
 * free_fn(arg) there (fn does not run when p has no open leg by then). arg is taken in
 * every case: on an error free_fn(arg) runs before the return. 0, or -ENODEV (m NULL: the
 * room has no media side). Whether p may have a leg at all is the caller's to check (the
 * core's, media.h). */
typedef void (*tt__leg_fn)(struct leg *l, void *arg);
int tt__leg_post(struct tt_room_media *m, struct tt_participant *p, tt__leg_fn fn, void *arg,
		 void (*free_fn)(void *));

#endif
