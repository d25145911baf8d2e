/* fuzz_webrtc_sdp.c: the WebRTC gateway's offer parser (sofia-sip's SDP parser plus our
 * checks) and the answer built from what it accepted: the answer must have exactly one
 * m-line per offered m-line, whatever the offer held (no injected lines). */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);   /* ASan sees a read past the end */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct wr_offer *o = g_new0(struct wr_offer, 1);
	const char *why = NULL;
	if (wr_sdp_parse_offer(o, copy, size, &why) == 0) {
		struct tt_audio_attached r = { .kind = TT_LEG_ICE };
		g_strlcpy(r.ice.ufrag, "abcd", sizeof r.ice.ufrag);
		g_strlcpy(r.ice.pwd, "abcdefghijklmnopqrstuvwx", sizeof r.ice.pwd);
		g_strlcpy(r.ice.fingerprint, "sha-256 00", sizeof r.ice.fingerprint);
		char *ans = wr_sdp_answer(o, &r);
		unsigned m = 0;
		for (const char *p = ans; (p = strstr(p, "\r\nm=")); p += 4)
			m++;
		if (m != o->n_mlines || strchr(ans, '\0') != ans + strlen(ans))
			__builtin_trap();
		g_free(ans);
	} else if (!why) {
		__builtin_trap();   /* every refusal says why */
	}
	g_free(o);
	free(copy);
	return 0;
}
