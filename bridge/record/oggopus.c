/* oggopus.c: Ogg Opus files with libogg (RFC 7845): the headers, granule positions counted
 * from each packet's own duration (so 10, 20, 40 and 60 ms packets and mixed modes all
 * count right), a page flushed every 50 packets (about a second, so a crash loses little
 * and a seek needs no long scan), and plain write(2) so that ENOSPC shows at once. */
#include "record/oggopus.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <ogg/ogg.h>
#include <stdbool.h>
#include <opus.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_EVERY 50

/* CELT-only, fullband, 20 ms, one frame whose range coder says "silence": decoders
 * (libopus, browsers, ffmpeg) give exact zeros for it. */
static const uint8_t SILENCE[3] = { 0xf8, 0xff, 0xfe };

struct tt_oggw {
	int fd;
	int err;
	ogg_stream_state os;
	int64_t packetno;
	uint64_t granule;
	unsigned since_flush;
	gsize bytes;           /* atomic */
	unsigned input_rate, preskip;
	char *title;
};

static int put(struct tt_oggw *w, const unsigned char *p, long n)
{
	while (n > 0 && !w->err) {
		ssize_t r = write(w->fd, p, (size_t)n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			w->err = -errno;
			break;
		}
		p += r;
		n -= r;
		g_atomic_pointer_add(&w->bytes, r);
	}
	return w->err;
}

static int pages(struct tt_oggw *w, bool flush)
{
	ogg_page pg;
	while (!w->err && (flush ? ogg_stream_flush(&w->os, &pg) : ogg_stream_pageout(&w->os, &pg))) {
		put(w, pg.header, pg.header_len);
		put(w, pg.body, pg.body_len);
	}
	return w->err;
}

static int submit(struct tt_oggw *w, const uint8_t *data, size_t len, bool eos)
{
	ogg_packet op = {
		.packet = (unsigned char *)data, .bytes = (long)len,
		.b_o_s = w->packetno == 0, .e_o_s = eos,
		.granulepos = (ogg_int64_t)w->granule, .packetno = w->packetno++,
	};
	if (ogg_stream_packetin(&w->os, &op))
		return w->err = -ENOMEM;
	return 0;
}

/* OpusHead and OpusTags, before the first audio packet (so the pre-skip can still be set
 * after the file was made). */
static int headers(struct tt_oggw *w)
{
	if (w->packetno || w->err)
		return w->err;
	uint8_t head[19] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 1 };
	head[10] = (uint8_t)w->preskip;
	head[11] = (uint8_t)(w->preskip >> 8);
	for (int i = 0; i < 4; i++)
		head[12 + i] = (uint8_t)(w->input_rate >> (8 * i));
	/* output gain 0, channel mapping family 0: already zero */
	submit(w, head, sizeof head, false);
	pages(w, true);   /* OpusHead alone on the first page (RFC 7845 section 3) */

	const char *vendor = "tutti";
	GByteArray *tags = g_byte_array_new();
	g_byte_array_append(tags, (const guint8 *)"OpusTags", 8);
	uint32_t vl = (uint32_t)strlen(vendor);
	uint8_t le[4] = { (uint8_t)vl, (uint8_t)(vl >> 8), (uint8_t)(vl >> 16), (uint8_t)(vl >> 24) };
	g_byte_array_append(tags, le, 4);
	g_byte_array_append(tags, (const guint8 *)vendor, vl);
	char *t = w->title ? g_strdup_printf("TITLE=%s", w->title) : NULL;
	uint32_t nc = t ? 1 : 0;
	uint8_t cnt[4] = { (uint8_t)nc, 0, 0, 0 };
	g_byte_array_append(tags, cnt, 4);
	if (t) {
		uint32_t tl = (uint32_t)strlen(t);
		uint8_t l2[4] = { (uint8_t)tl, (uint8_t)(tl >> 8), (uint8_t)(tl >> 16),
				  (uint8_t)(tl >> 24) };
		g_byte_array_append(tags, l2, 4);
		g_byte_array_append(tags, (const guint8 *)t, tl);
	}
	submit(w, tags->data, tags->len, false);
	pages(w, true);   /* the audio starts on a fresh page */
	g_byte_array_free(tags, TRUE);
	g_free(t);
	return w->err;
}

int tt_oggw_open(struct tt_oggw **wp, const char *path, unsigned input_rate, unsigned preskip,
		 const char *title)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	struct tt_oggw *w = g_new0(struct tt_oggw, 1);
	w->fd = fd;
	w->input_rate = input_rate;
	w->preskip = preskip;
	w->title = g_strdup(title);
	ogg_stream_init(&w->os, (int)g_random_int_range(1, G_MAXINT32));
	*wp = w;
	return 0;
}

void tt_oggw_set_preskip(struct tt_oggw *w, unsigned preskip)
{
	if (!w->packetno)
		w->preskip = preskip;
}

int tt_oggw_packet(struct tt_oggw *w, const uint8_t *data, size_t len)
{
	if (w->err)
		return w->err;
	int n = len ? opus_packet_get_nb_samples(data, (opus_int32)len, 48000) : -1;
	if (n <= 0)
		return -EINVAL;
	if (headers(w))
		return w->err;
	w->granule += (uint64_t)n;
	submit(w, data, len, false);
	if (++w->since_flush >= FLUSH_EVERY) {
		w->since_flush = 0;
		return pages(w, true);
	}
	return pages(w, false);
}

int tt_oggw_silence(struct tt_oggw *w, uint64_t frames)
{
	for (uint64_t i = 0; i < frames && !w->err; i++)
		tt_oggw_packet(w, SILENCE, sizeof SILENCE);
	return w->err;
}

int tt_oggw_gap(struct tt_oggw *w, uint64_t frames)
{
	static const uint8_t LOST[1] = { 0xf8 };   /* CELT FB 20 ms, code 0, no frame data */
	for (uint64_t i = 0; i < frames && !w->err; i++)
		tt_oggw_packet(w, LOST, sizeof LOST);
	return w->err;
}

uint64_t tt_oggw_samples(const struct tt_oggw *w)
{
	return w->granule;
}

uint64_t tt_oggw_bytes(const struct tt_oggw *w)
{
	return (uint64_t)g_atomic_pointer_get(&w->bytes);
}

int tt_oggw_close(struct tt_oggw *w)
{
	if (!w)
		return 0;
	headers(w);
	if (!w->err && w->packetno > 2) {
		/* an empty last packet would not decode: end the stream on one more silence
		 * frame instead, 20 ms that every file of a recording shares */
		w->granule += 960;
		submit(w, SILENCE, sizeof SILENCE, true);
		pages(w, true);
	}
	int err = w->err;
	if (close(w->fd) && !err)
		err = -errno;
	ogg_stream_clear(&w->os);
	g_free(w->title);
	g_free(w);
	return err;
}
