/* wav.h: the spoken prompts' files (the SIP gateway's, the recording notice): RIFF/WAVE,
 * PCM, mono, 16 bit, 8 to 48 kHz, which is what scripts/make-*-prompt*.sh write with
 * espeak-ng. Anything else is refused, never guessed at. Any thread; the samples belong to
 * the caller (g_free). */
#ifndef TUTTI_WAV_H
#define TUTTI_WAV_H

#include <stddef.h>
#include <stdint.h>

struct tt_wav {
	int16_t *pcm;     /* g_malloc'd samples, or NULL */
	size_t n;
	unsigned rate;    /* Hz */
};

/* Parse a whole file's bytes. 0 (w filled), or -EINVAL (w untouched). */
int tt_wav_parse(struct tt_wav *w, const uint8_t *b, size_t len);
/* Read and parse `path`. 0, -EINVAL (not such a WAV), -ENOENT (cannot be read). */
int tt_wav_load(struct tt_wav *w, const char *path);

#endif
