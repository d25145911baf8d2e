/* errno.h: tutti's one error currency: int, 0 on success, negative errno on failure.
 *
 * Foreign error types (Opus, libsrtp2, GError, lws, sofia) are converted at the
 * boundary, one helper per library, and the detail is logged where the error happens. */
#ifndef TUTTI_ERRNO_H
#define TUTTI_ERRNO_H

#include <errno.h>

/* A static, human-readable string for a (negative or positive) errno value. Any thread. */
const char *tt_strerror(int err);

#endif
