/* sdp_guard.h: checks an SDP body before it reaches sofia-sip's sdp_parse(), which asks for
 * 2 GiB on some malformed m-lines (a protocol with bytes >= 0x80, or '=' or ':' in it; found
 * by fuzzing, reproducers in tests/fuzz/webrtc/corpus_sdp/sofia_oom_*). Every gateway that
 * parses SDP from the network calls this first. Pure function, any thread. */
#ifndef TUTTI_SDP_GUARD_H
#define TUTTI_SDP_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* True when every line is printable ASCII of the form "x=value" (CRLF or LF) and every
 * m-line follows RFC 8866's grammar. */
bool tt_sdp_lines_ok(const char *sdp, size_t len);

#endif
