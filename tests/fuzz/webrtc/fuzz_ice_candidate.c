/* fuzz_ice_candidate.c: a browser's trickled candidate line -> tt_ice_candidate_check (RFC
 * 8839's grammar, then libnice's parser), which the core runs on every "candidate" message
 * before anything reaches a worker. The verdict is one of three; ASan and UBSan watch the
 * rest. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tutti/ice.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *line = malloc(size + 1);   /* exact size: ASan sees a read past the end */
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	int rc = tt_ice_candidate_check(line);
	if (rc != -EINVAL && rc != 0 && rc != 1)
		abort();
	/* usable: libnice parsed it, and it starts as a candidate line (judged up to the first
	 * NUL, as a C string: the JSON layer refuses strings with NULs before this) */
	if (rc == 1 && strncmp(line + (strncmp(line, "a=", 2) ? 0 : 2), "candidate:", 10))
		abort();
	free(line);
	return 0;
}
