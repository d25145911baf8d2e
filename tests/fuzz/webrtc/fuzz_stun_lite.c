/* fuzz_stun_lite.c: one datagram on an ICE-lite shared port: RFC 7983's first-byte demux,
 * then for STUN the connectivity-check answer (stun_lite.c over libnice's STUN code), with
 * one member whose ufrag is "lite". An answer must be a Binding response to the same
 * transaction, no longer than the buffer, for that member; everything else is dropped and
 * counted once. ASan and UBSan watch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "stun_lite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int member;

static bool lookup(void *arg, const char *ufrag, size_t len, const char **pwd,
		   const char **peer, void **owner)
{
	if (len != 4 || memcmp(ufrag, "lite", 4))
		return false;
	*pwd = "ourpasswordourpassword";
	*peer = "peer";
	*owner = &member;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2048)
		return 0;
	uint8_t *pkt = malloc(size ? size : 1);   /* exact size: ASan sees a read past the end */
	if (!pkt)
		return 0;
	memcpy(pkt, data, size);
	enum tt__demux_kind k = tt__demux_classify(pkt, size);
	if (k != TT_DEMUX_STUN) {
		free(pkt);
		return 0;
	}
	static struct tt__stun_lite s;
	static bool init;
	if (!init) {
		tt__stun_lite_init(&s);
		init = true;
	}
	struct sockaddr_storage from;
	memset(&from, 0, sizeof from);
	struct sockaddr_in *a = (void *)&from;
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(0x7f000001);
	a->sin_port = htons(40000);
	uint8_t out[600];
	struct tt__stun_check chk = {0};
	struct tt__stun_lite_stats before = s.st;
	int r = tt__stun_lite_answer(&s, pkt, size, &from, sizeof *a, lookup, NULL, out,
				     sizeof out, &chk);
	uint64_t moved = (s.st.answered - before.answered) + (s.st.bad_auth - before.bad_auth) +
			 (s.st.malformed - before.malformed) +
			 (s.st.role_conflict - before.role_conflict);
	if (moved != 1)
		abort();
	if (r > 0) {
		if ((size_t)r > sizeof out || r < 20 || chk.owner != &member ||
		    out[0] != 0x01 || (out[1] != 0x01 && out[1] != 0x11) ||
		    memcmp(out + 4, pkt + 4, 16))   /* magic cookie and transaction id */
			abort();
	} else if (chk.owner || chk.use_candidate) {
		abort();
	}
	free(pkt);
	return 0;
}
