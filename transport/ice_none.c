/* ice_none.c: the ICE transport in a build without libnice: every constructor says
 * -ENOTSUP, so the gateways that need ICE refuse to start with a clear error. */
#include <errno.h>
#include <stddef.h>

#include "tutti/ice.h"

int tt_ice_policy_alloc(struct tt_ice_policy **pp, const struct tt_ice_settings *s)
{
	return -ENOTSUP;
}

struct tt_ice_policy *tt_ice_policy_ref(struct tt_ice_policy *p)
{
	return p;
}

struct tt_ice_policy *tt_ice_policy_unref(struct tt_ice_policy *p)
{
	return NULL;
}

bool tt_ice_policy_lite(const struct tt_ice_policy *p)
{
	return false;
}

const struct tt_dtls_cert *tt_ice_policy_cert(const struct tt_ice_policy *p)
{
	return NULL;
}

int tt_transport_ice_alloc(struct tt_transport **tp, struct tt_ice **icep,
			   const struct tt_transport_cfg *cfg, const struct tt_ice_cfg *icfg)
{
	return -ENOTSUP;
}

const char *tt_ice_ufrag(const struct tt_ice *ice) { return ""; }
const char *tt_ice_pwd(const struct tt_ice *ice) { return ""; }

int tt_ice_set_remote(struct tt_ice *ice, const char *ufrag, const char *pwd, const char *fp,
		      enum tt_dtls_setup setup)
{
	return -ENOTSUP;
}

int tt_ice_credentials_check(const char *ufrag, const char *pwd, const char *fp)
{
	return -ENOTSUP;
}

int tt_ice_add_candidate(struct tt_ice *ice, const char *cand)
{
	return -ENOTSUP;
}

int tt_ice_candidate_check(const char *cand)
{
	return -ENOTSUP;
}

void tt_ice_info(const struct tt_ice *ice, struct tt_ice_info *info)
{
}
