/* oggopus.h: one Ogg Opus file (RFC 7845), mono, written packet by packet: OpusHead and
 * OpusTags on pages of their own, audio pages flushed about once a second, granule
 * positions from each packet's real duration.
 *
 * Threading and ownership: an oggw belongs to the one thread that writes it (the recorder);
 * only its byte count is read by others (atomically). Errors are sticky: after a failed
 * write every call returns the same error and writes nothing. */
#ifndef TT_RECORD_OGGOPUS_H
#define TT_RECORD_OGGOPUS_H

#include <stddef.h>
#include <stdint.h>

struct tt_oggw;

/* Create `path` (fails if it exists). `input_rate` goes into OpusHead (informative),
 * `preskip` is in 48 kHz samples; `title` becomes a TITLE tag (may be NULL).
 * 0 or -errno. */
int tt_oggw_open(struct tt_oggw **wp, const char *path, unsigned input_rate, unsigned preskip,
		 const char *title);
/* Before the first packet: the pre-skip (the headers are written with the first packet). */
void tt_oggw_set_preskip(struct tt_oggw *w, unsigned preskip);
/* One Opus packet. 0, -EINVAL (not an Opus packet), or the sticky -errno of the disk. */
int tt_oggw_packet(struct tt_oggw *w, const uint8_t *data, size_t len);
/* n x 20 ms of silence (a 3-byte CELT frame each), so time passes where nothing was said. */
int tt_oggw_silence(struct tt_oggw *w, uint64_t frames);
/* n x 20 ms where nothing was received, as Opus says it (a 1-byte packet: a frame of
 * length 0): a decoder conceals from what it decoded before, or gives zeros when it has
 * decoded nothing yet, and keeps its mode (no CELT frame between two SILK ones). */
int tt_oggw_gap(struct tt_oggw *w, uint64_t frames);
/* 48 kHz samples written so far (granule position of the last packet). */
uint64_t tt_oggw_samples(const struct tt_oggw *w);
/* Bytes on disk so far. Any thread. */
uint64_t tt_oggw_bytes(const struct tt_oggw *w);
/* Last page (end of stream), close. Returns 0 or the first error; frees w. */
int tt_oggw_close(struct tt_oggw *w);

#endif
