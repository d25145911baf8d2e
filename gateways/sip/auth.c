/* auth.c: optional digest authentication (RFC 3261 22) of callers that must be known:
 * [sip] auth_users names a file of users for sofia-sip's auth module (Digest, realm
 * [sip] auth_realm). New INVITE, MESSAGE and SUBSCRIBE requests without valid credentials
 * get 401 with a challenge; everything in a dialog that passed is trusted. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <sofia-sip/auth_module.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include <tutti/errno.h>
#include <tutti/log.h>

int tt__sip_auth_open(struct sipgw *gw, const char *users, const char *realm)
{
	if (!users || !*users)
		return 0;
	gw->auth = auth_mod_create(gw->root, AUTHTAG_METHOD("Digest"), AUTHTAG_REALM(realm),
				   AUTHTAG_DB(users), AUTHTAG_QOP("auth"), TAG_END());
	if (!gw->auth) {
		tt_error("[sip] auth_users: cannot use %s for digest authentication", users);
		return -EINVAL;
	}
	tt_info("digest authentication required (realm %s)", realm);
	return 0;
}

void tt__sip_auth_close(struct sipgw *gw)
{
	if (gw->auth)
		auth_mod_destroy(gw->auth);
	gw->auth = NULL;
}

/* True when the request may go on; otherwise it has been answered (401/403). */
bool tt__sip_auth_check(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip)
{
	if (!gw->auth)
		return true;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	auth_status_t *as = auth_status_new(home);
	bool ok = false;
	if (!as)
		goto out;
	as->as_method = sip->sip_request->rq_method_name;
	as->as_source = msg_addrinfo(nua_current_request(gw->nua));
	as->as_body = sip->sip_payload ? sip->sip_payload->pl_data : NULL;
	as->as_bodylen = sip->sip_payload ? sip->sip_payload->pl_len : 0;
	auth_mod_check(gw->auth, as, sip, auth_server);
	if (as->as_status == 0) {
		ok = true;
	} else {
		sip_respond(gw, nh, as->as_status, as->as_phrase, NUTAG_WITH_THIS(gw->nua),
			    SIPTAG_HEADER((sip_header_t *)as->as_response), TAG_END());
		nua_handle_destroy(nh);
	}
	auth_status_unref(as);
out:
	su_home_deinit(home);
	return ok;
}
