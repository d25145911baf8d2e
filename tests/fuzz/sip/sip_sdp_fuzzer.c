/* Fuzz target: bytes as an SDP offer (and as an answer to ours), then the answer we
 * would write for whatever was accepted. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefs[] = { "opus", "g722", "pcmu", "pcma", NULL };
	if (size > 65536)
		return 0;
	for (int policy = 0; policy < 3; policy++) {
		struct tt_sip_sdp_policy pol = { prefs, (enum tt_sip_srtp_policy)policy, 20 };
		struct tt_sip_media m;
		const char *w = NULL;
		for (int offer = 0; offer < 2; offer++) {
			if (tt_sip_sdp_negotiate(&m, (const char *)data, size, &pol, offer, &w))
				continue;
			struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(4000) };
			local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			char buf[4096];
			(void)tt_sip_sdp_write(buf, sizeof buf, &m, &pol, (struct sockaddr *)&local,
					       m.srtp ? &m.crypto : NULL, 1, 1);
		}
	}
	return 0;
}
