/* trunk_req.c: the body of a trunk request (cascade.h), checked whole before anything is
 * made: a leaf that sends nonsense gets a 400 naming the field and the hub is unchanged. */
#include "cascade.h"

#include <jansson.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/sdes.h>
#include <tutti/srtp.h>
#include <tutti/transport.h>

static bool node_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TT_TRUNK_NODE_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

int tt__trunk_req_parse(const char *body, size_t len, struct tt_trunk_req *out,
			const char **field, const char **why)
{
	struct tt_trunk_req r = { .suite = -1 };
	int rc = -EINVAL;
	*field = NULL;
	json_t *o = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!o || !json_is_object(o)) {
		*why = "the body must be a JSON object {\"node\", \"remote\", \"srtp\"}";
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "node") && strcmp(k, "remote") && strcmp(k, "srtp")) {
			*field = "body";
			*why = "unknown field (only node, remote and srtp)";
			goto out;
		}
	}
	const char *node = json_string_value(json_object_get(o, "node"));
	if (!node || !node_ok(node)) {
		*field = "node";
		*why = "node must be the asking node's id: 1-64 of A-Z a-z 0-9 . _ -";
		goto out;
	}
	strncpy(r.node, node, TT_TRUNK_NODE_MAX);
	const char *remote = json_string_value(json_object_get(o, "remote"));
	if (!remote || tt_sockaddr_parse(&r.remote, &r.remote_len, remote) != 0) {
		*field = "remote";
		*why = "remote must be \"HOST:PORT\" (IPv6: \"[ADDR]:PORT\")";
		goto out;
	}
	json_t *srtp = json_object_get(o, "srtp");
	const char *suite = json_string_value(json_object_get(srtp, "suite"));
	const char *key = json_string_value(json_object_get(srtp, "key"));
	enum tt_srtp_suite s;
	if (!json_is_object(srtp) || !suite || tt_srtp_suite_from_name(&s, suite, strlen(suite))) {
		*field = "srtp.suite";
		*why = "srtp.suite must be AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 or "
		       "AEAD_AES_128_GCM (a trunk is always SRTP)";
		goto out;
	}
	if (!key || tt_sdes_key_decode(r.key, s, key, strlen(key)) != 0) {
		*field = "srtp.key";
		*why = "srtp.key must be base64 of the suite's key and salt";
		goto out;
	}
	r.suite = (int)s;
	*out = r;
	rc = 0;
out:
	json_decref(o);
	return rc;
}
