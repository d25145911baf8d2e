/* fuzz_jingle.c: bytes -> xmpp_stanza_new_from_string -> the Jingle translation jingle.c
 * runs on every call stanza (jingle_parse.c): the description, the codec choice, our
 * answer serialised, and each kept candidate converted to a Jingle <candidate/> and back,
 * which must give the same line. ASan and UBSan watch the rest. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jingle_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static xmpp_ctx_t *ctx;

static void translate(xmpp_stanza_t *j)
{
	struct xg_jmsg *m = malloc(sizeof *m);
	if (!m)
		return;
	const char *why = NULL;
	int rc = xg_jingle_parse(j, m, &why);
	if (rc && rc != -EINVAL)
		abort();
	if (rc) {
		if (!why || !*why)
			abort();   /* every refusal says why (the error reply's text) */
		free(m);
		return;
	}
	for (unsigned i = 0; i < m->audio.n_cands; i++) {
		xmpp_stanza_t *c = xg_jcand_from_sdp(ctx, m->audio.cands[i], "f");
		char line[XG_J_CAND_LEN];
		if (!c || xg_jcand_to_sdp(c, line, sizeof line) != 1 ||
		    strcmp(line, m->audio.cands[i]))
			abort();
		xmpp_stanza_release(c);
	}
	struct xg_jchoice ch;
	if (m->audio.present && xg_jingle_choose(&m->audio, &ch) == 0) {
		if (ch.pt < m->audio.pts || ch.pt >= m->audio.pts + m->audio.n_pts)
			abort();
		xmpp_stanza_t *a = xg_jingle_answer(ctx, m, &ch, "r@call.test/tutti", "OurU",
						    "OurPasswordOf22CharsXY", "sha-256 AA:BB",
						    xg_jingle_we_are_active(&m->audio));
		char *buf = NULL;
		size_t len = 0;
		if (xmpp_stanza_to_text(a, &buf, &len) || !buf || strstr(buf, "setup=\"actpass\""))
			abort();
		xmpp_free(ctx, buf);
		xmpp_stanza_release(a);
	}
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	if (!ctx) {
		xmpp_initialize();
		ctx = xmpp_ctx_new(NULL, NULL);
	}
	char *xml = malloc(size + 1);
	if (!xml)
		return 0;
	memcpy(xml, data, size);
	xml[size] = '\0';
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
	free(xml);
	if (!st)
		return 0;
	xmpp_stanza_t *j = xmpp_stanza_get_child_by_name_and_ns(st, "jingle", XG_NS_JINGLE);
	translate(j ? j : st);
	/* a candidate on its own, as a transport-info's */
	char line[XG_J_CAND_LEN];
	xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, "candidate");
	int rc = xg_jcand_to_sdp(c ? c : st, line, sizeof line);
	if (rc != 1 && rc != 0 && rc != -EINVAL)
		abort();
	xmpp_stanza_release(st);
	return 0;
}
