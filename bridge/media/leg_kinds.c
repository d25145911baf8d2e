/* leg_kinds.c: the one table from enum tt_leg_kind to the kind's operations.
 *
 * A new kind is a value in enum tt_leg_kind, a sub-struct in the unions of struct
 * tt_audio_leg and struct tt_audio_attached (tutti/core.h), a file here exporting its
 * const struct tt__leg_kind_ops, and a row below. leg.c does not change: it calls the
 * row's operations and sends each tick through leg->t, whatever made it.
 *
 * Two kinds are planned and not built; this is how they would fit.
 *
 * - A recording sink (TT_LEG_FILE: path, container). It has no network and no peer, but
 *   it is a participant that hears the room, so the tick's output for it is the encoded
 *   mix of everyone (the N-1 of a participant that never speaks), shared with every other
 *   leg of the same codec at no extra encode. Its open makes l->t a transport of its own
 *   (a struct tt_transport_ops, transport_impl.h) with no RTCP and no inactivity limit,
 *   whose send_batch hands the packets to a writer thread through a queue: the tick never
 *   waits on a disk (style rule 14), and leg.c's send needs nothing new. The writer
 *   thread makes Ogg/Opus pages from the RTP payloads (RFC 7845) and owns the file;
 *   close drains and joins it. Its mixer input never gets a packet, so it stays below
 *   the noise floor and is never selected as a speaker.
 *
 * - A trunk to another bridge (TT_LEG_TRUNK: remote, SDES keys or a DTLS fingerprint and
 *   role, streams). One stream each way is a UDP leg already, and that is what cascaded
 *   rooms use today (cluster/cascade.c): the far bridge is one participant whose voice is
 *   its room's mix (what it hears is ours without it, by the N-1). A trunk kind adds DTLS-SRTP without ICE (dtls.c over a UDP transport: a
 *   transport implementation beside udp.c and ice.c) and several streams: the far room's
 *   speakers as separate SSRCs, so that each bridge's top-K selection sees the other's
 *   voices one by one. Incoming, the kind gives tc its own recv_h, which routes each SSRC
 *   to a mixer input it adds per stream (the leg's own, media_part->mixer, is the first).
 *   Outgoing, what the far bridge needs is our speakers, not a mix of them; that is the
 *   one place where leg.c's send would change: one optional ops call per leg and tick
 *   (never per packet) for a kind with more than one outgoing stream. */
#include "leg_kind.h"

static const struct tt__leg_kind_ops *kinds[TT__LEG_KIND_SLOTS] = {
	[TT_LEG_UDP] = &tt__leg_udp_ops,
	[TT_LEG_ICE] = &tt__leg_ice_ops,
};

_Static_assert(TT_LEG_KINDS <= TT__LEG_KIND_SLOTS, "a row for every kind");

const struct tt__leg_kind_ops *tt__leg_kind(enum tt_leg_kind kind)
{
	return (unsigned)kind < TT__LEG_KIND_SLOTS ? kinds[kind] : NULL;
}

/* A table a test can change rather than a const one: a fake kind exercises leg.c exactly
 * as the real ones do, without a socket or libnice (unit_legs). */
const struct tt__leg_kind_ops *tt__leg_kind_register(int kind,
						     const struct tt__leg_kind_ops *ops)
{
	if (kind < 0 || kind >= TT__LEG_KIND_SLOTS)
		return NULL;
	const struct tt__leg_kind_ops *old = kinds[kind];
	kinds[kind] = ops;
	return old;
}
