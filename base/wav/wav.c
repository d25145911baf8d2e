/* wav.c: the one reader of the prompts' WAV files (tutti/wav.h). */
#include <tutti/wav.h>

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int tt_wav_parse(struct tt_wav *w, const uint8_t *b, size_t len)
{
	if (!w || !b || len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4))
		return -EINVAL;
	unsigned rate = 0;
	bool fmt_ok = false;
	for (size_t off = 12; off + 8 <= len;) {
		uint32_t size = le32(b + off + 4);
		if (size > len - off - 8)
			return -EINVAL;
		const uint8_t *d = b + off + 8;
		if (!memcmp(b + off, "fmt ", 4) && size >= 16) {
			fmt_ok = le16(d) == 1 && le16(d + 2) == 1 && le16(d + 14) == 16;
			rate = le32(d + 4);
		} else if (!memcmp(b + off, "data", 4)) {
			if (!fmt_ok || rate < 8000 || rate > 48000 || size < 2)
				return -EINVAL;
			w->n = size / 2;
			w->pcm = g_new(int16_t, w->n);
			for (size_t i = 0; i < w->n; i++)
				w->pcm[i] = (int16_t)le16(d + 2 * i);
			w->rate = rate;
			return 0;
		}
		off += 8 + size + (size & 1);
	}
	return -EINVAL;
}

int tt_wav_load(struct tt_wav *w, const char *path)
{
	gchar *data = NULL;
	gsize len = 0;
	if (!path || !g_file_get_contents(path, &data, &len, NULL))
		return -ENOENT;
	int rc = tt_wav_parse(w, (const uint8_t *)data, len);
	g_free(data);
	return rc;
}
