/* stun_lite.c: answer ICE connectivity checks on a shared port (stun_lite.h says what and
 * why), with libnice's STUN message code. */
#include <errno.h>
#include <string.h>

#include <stun/stunmessage.h>
#include <stun/usages/ice.h>

#include "stun_lite.h"

/* The attributes a connectivity check may carry that we must understand (RFC 5389 15:
 * comprehension-required ones outside this list make stun_agent_validate refuse). */
static const uint16_t known_attributes[] = {
	STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_ERROR_CODE,
	STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
	STUN_ATTRIBUTE_PRIORITY, STUN_ATTRIBUTE_USE_CANDIDATE, STUN_ATTRIBUTE_ICE_CONTROLLED,
	STUN_ATTRIBUTE_ICE_CONTROLLING, STUN_ATTRIBUTE_FINGERPRINT, 0,
};

/* A lite agent is always controlled (RFC 8445 6.1.1), and a peer that says it is
 * controlled too gets 487: with the smallest tie-breaker libnice 0.1.21 keeps our role,
 * builds the error and returns ROLE_CONFLICT (measured: with the largest it switches our
 * role to controlling and answers with success, which a lite agent cannot honour). */
#define TIE_BREAKER 0

void tt__stun_lite_init(struct tt__stun_lite *s)
{
	memset(s, 0, sizeof *s);
	stun_agent_init(&s->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
			STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
				STUN_AGENT_USAGE_USE_FINGERPRINT);
}

/* libnice asks whose password signs the request: USERNAME is "ours:theirs" (RFC 8445
 * 7.2.2); ours must be a member's, and theirs the peer's ufrag when signalling gave it. */
static bool validater(StunAgent *agent, StunMessage *msg, uint8_t *user, uint16_t user_len,
		      uint8_t **pwd, size_t *pwd_len, void *arg)
{
	struct tt__stun_lite *s = arg;
	const uint8_t *colon = memchr(user, ':', user_len);
	if (!colon || colon == user)
		return false;
	size_t ours = (size_t)(colon - user), theirs_len = user_len - ours - 1;
	const char *our_pwd = NULL, *peer = NULL;
	void *owner = NULL;
	if (!s->lookup(s->lookup_arg, (const char *)user, ours, &our_pwd, &peer, &owner) ||
	    !our_pwd)
		return false;
	if (peer && (strlen(peer) != theirs_len || memcmp(peer, colon + 1, theirs_len)))
		return false;
	s->owner = owner;
	*pwd = (uint8_t *)our_pwd;   /* libnice only reads it (the HMAC key) */
	*pwd_len = strlen(our_pwd);
	return true;
}

int tt__stun_lite_answer(struct tt__stun_lite *s, const uint8_t *req, size_t len,
			 const struct sockaddr_storage *from, socklen_t from_len,
			 tt__stun_lite_lookup_h lookup, void *arg, uint8_t *out, size_t cap,
			 struct tt__stun_check *chk)
{
	StunMessage in, resp;
	/* libnice reads lengths as int and the buffer through the message: refuse what no
	 * check is before it looks (a check is about 100 bytes) */
	if (!req || len < 20 || len > STUN_MAX_MESSAGE_SIZE_IPV6 || !lookup) {
		s->st.malformed++;
		return -EBADMSG;
	}
	s->lookup = lookup;
	s->lookup_arg = arg;
	s->owner = NULL;
	StunValidationStatus v = stun_agent_validate(&s->agent, &in, req, len, validater, s);
	s->lookup = NULL;
	switch (v) {
	case STUN_VALIDATION_SUCCESS:
		break;
	case STUN_VALIDATION_UNAUTHORIZED:
	case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST:
		s->st.bad_auth++;
		return -EACCES;
	default:
		s->st.malformed++;
		return -EBADMSG;
	}
	if (stun_message_get_class(&in) != STUN_REQUEST ||
	    stun_message_get_method(&in) != STUN_BINDING || !s->owner) {
		s->st.malformed++;
		return -ENOTSUP;
	}
	/* the response is built in a buffer of our own: out stays untouched on failure */
	uint8_t buf[STUN_MAX_MESSAGE_SIZE_IPV6];
	size_t n = sizeof buf;
	bool control = false;
	StunUsageIceReturn r = stun_usage_ice_conncheck_create_reply(
		&s->agent, &in, &resp, buf, &n, from, from_len, &control, TIE_BREAKER,
		STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
	bool error = n && stun_message_get_class(&resp) == STUN_ERROR;
	if (control || n == 0 || n > cap ||
	    !(r == STUN_USAGE_ICE_RETURN_SUCCESS ||
	      (r == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT && error))) {
		s->st.malformed++;
		return -EBADMSG;
	}
	memcpy(out, buf, n);
	chk->owner = s->owner;
	chk->use_candidate = !error && stun_usage_ice_conncheck_use_candidate(&in);
	chk->error_response = error;
	if (error)
		s->st.role_conflict++;
	else
		s->st.answered++;
	return (int)n;
}
