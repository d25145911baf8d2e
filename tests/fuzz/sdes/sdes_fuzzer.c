/* sdes_fuzzer.c: the RFC 4568 a=crypto parser; whatever parses must format and reparse to
 * the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tutti/sdes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy so reading one byte past `size` is caught by ASan. */
	char *line = malloc(size ? size : 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	struct tt_sdes_crypto c, d;
	if (tt_sdes_parse(&c, line, size) == 0) {
		char out[256];
		int n = tt_sdes_format(&c, out, sizeof out);
		if (n <= 0 || tt_sdes_parse(&d, out, (size_t)n) != 0 || d.suite != c.suite ||
		    d.tag != c.tag || memcmp(d.key, c.key, c.key_len) != 0)
			__builtin_trap();
	}
	uint8_t key[TT_SRTP_MAX_KEY_LEN];
	tt_sdes_key_decode(key, TT_SRTP_AEAD_AES_128_GCM, line, size);
	free(line);
	return 0;
}
