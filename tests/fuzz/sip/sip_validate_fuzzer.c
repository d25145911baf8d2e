/* Fuzz target: bytes -> sofia's SIP parser (as the gateway configures it) -> validation. */
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	msg_t *m = msg_make(sip_default_mclass(), MSG_DO_EXTRACT_COPY, data, (ssize_t)size);
	struct tt_sip_verdict v;
	(void)tt_sip_validate(m ? sip_object(m) : NULL, &v);
	msg_destroy(m);
	return 0;
}
