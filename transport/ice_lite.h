/* ice_lite.h (internal to transport/): the ICE-lite kind of ICE transport (ice_lite.c),
 * which ice.c's tt_transport_ice_alloc makes instead of a libnice agent when the policy
 * says lite, the leg gives a worker's shared port and the bridge is controlled (the
 * browser offered). Worker thread only, like every transport. */
#ifndef TT_ICE_LITE_H
#define TT_ICE_LITE_H

#include "tutti/ice.h"
#include "udp_priv.h"

/* A lite ICE + DTLS transport on mux: *tp is the generic transport (owner: the caller),
 * *lp its lite side, freed with *tp; wrap is ice.c's object, freed with it too
 * (tt__ice_wrap_free). -EEXIST (no free ufrag), -ENOMEM. */
int tt__lite_alloc(struct tt__lite **lp, struct tt_transport **tp,
		   const struct tt_transport_cfg *cfg, struct tt_udp_mux *mux,
		   const struct tt_dtls_cert *cert, bool consent, struct tt_ice *wrap);
const char *tt__lite_ufrag(const struct tt__lite *l);
const char *tt__lite_pwd(const struct tt__lite *l);
/* The peer's ufrag (checks are answered from then on) and DTLS fingerprint and role. */
int tt__lite_set_remote(struct tt__lite *l, const char *ufrag, const char *fp,
			enum tt_dtls_setup setup);
void tt__lite_info(const struct tt__lite *l, struct tt_ice_info *info);
/* ice.c: free what it allocated for a lite transport (called by its destroy). */
void tt__ice_wrap_free(struct tt_ice *wrap);

#endif
