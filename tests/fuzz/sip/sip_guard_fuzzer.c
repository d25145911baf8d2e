/* Fuzz target: raw datagram bytes -> the guard that answers what sofia-sip would drop. The
 * response must fit where the guard said it wrote, and any answer is 505 or 501. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[8192];
	if (size > 65536)
		return 0;
	struct tt_sip_guard_answer a;
	int st = tt_sip_guard(data, size, "tag", "INVITE, ACK", out, sizeof out, &a);
	if ((st != 0 && st != 505 && st != 501) || a.len > sizeof out || (st == 0 && a.len))
		abort();
	return 0;
}
