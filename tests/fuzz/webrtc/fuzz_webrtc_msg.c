/* fuzz_webrtc_msg.c: the JSON messages browsers send on /ws. Whatever parses has the
 * fields its type promises; whatever does not gives a code and leaves nothing behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct wr_msg m;
	const char *code = NULL, *detail = NULL;
	if (wr_msg_parse(&m, copy, size, &code, &detail) == 0) {
		if ((m.type == WR_MSG_JOIN && (!m.room || !*m.room)) ||
		    (m.type == WR_MSG_OFFER && (!m.sdp || strlen(m.sdp) != m.sdp_len)) ||
		    (m.type == WR_MSG_CHAT && !m.text))
			__builtin_trap();
		wr_msg_clear(&m);
	} else if (!code || !detail || m.root) {
		__builtin_trap();
	}
	free(copy);
	return 0;
}
