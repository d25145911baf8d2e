/* test_oggopus.c: the Ogg Opus writer read back with libogg: OpusHead first and alone
 * (version, mono, the pre-skip set after opening), OpusTags, granule positions that count
 * each packet's own duration (20 and 60 ms packets, silence frames), the end of stream on
 * the last page, a non-Opus packet refused, and an existing file never overwritten. */
#define _GNU_SOURCE
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <ogg/ogg.h>
#include <opus.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "record/oggopus.h"
#include "tt_test.h"

TT_TEST(record_oggopus_headers_granules_eos)
{
	char *dir = g_dir_make_tmp("tt-ogg-XXXXXX", NULL);
	char *path = g_build_filename(dir, "a.opus", NULL);
	struct tt_oggw *w = NULL;
	TT_ASSERT_INT_EQ(tt_oggw_open(&w, path, 8000, 100, "room"), 0);
	tt_oggw_set_preskip(w, 312);
	int e;
	OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &e);
	opus_int16 pcm[2880] = { 0 };
	uint8_t pkt[1500];
	int n20 = opus_encode(enc, pcm, 960, pkt, sizeof pkt);
	TT_ASSERT(n20 > 0);
	for (int i = 0; i < 120; i++)   /* past a page flush */
		TT_ASSERT_INT_EQ(tt_oggw_packet(w, pkt, (size_t)n20), 0);
	int n60 = opus_encode(enc, pcm, 2880, pkt, sizeof pkt);
	TT_ASSERT_INT_EQ(tt_oggw_packet(w, pkt, (size_t)n60), 0);
	TT_ASSERT_INT_EQ(tt_oggw_silence(w, 5), 0);
	TT_ASSERT_INT_EQ(tt_oggw_packet(w, pkt, 0), -EINVAL);
	uint64_t want = 120 * 960 + 2880 + 5 * 960;
	TT_ASSERT(tt_oggw_samples(w) == want);
	TT_ASSERT_INT_EQ(tt_oggw_close(w), 0);
	opus_encoder_destroy(enc);

	struct tt_oggw *w2 = NULL;
	TT_ASSERT_INT_EQ(tt_oggw_open(&w2, path, 48000, 312, NULL), -EEXIST);

	gchar *data = NULL;
	gsize len = 0;
	TT_ASSERT(g_file_get_contents(path, &data, &len, NULL));
	ogg_sync_state oy;
	ogg_stream_state os;
	ogg_sync_init(&oy);
	memcpy(ogg_sync_buffer(&oy, (long)len), data, len);
	ogg_sync_wrote(&oy, (long)len);
	ogg_page pg;
	ogg_packet op;
	int pages = 0, packets = 0;
	int64_t last_granule = -1;
	bool eos = false;
	while (ogg_sync_pageout(&oy, &pg) == 1) {
		if (pages == 0)
			ogg_stream_init(&os, ogg_page_serialno(&pg));
		ogg_stream_pagein(&os, &pg);
		while (ogg_stream_packetout(&os, &op) == 1) {
			if (packets == 0) {
				TT_ASSERT(op.bytes == 19 && !memcmp(op.packet, "OpusHead", 8));
				TT_ASSERT(op.packet[8] == 1 && op.packet[9] == 1);
				TT_ASSERT_INT_EQ(op.packet[10] | op.packet[11] << 8, 312);
				TT_ASSERT_INT_EQ(op.packet[12] | op.packet[13] << 8, 8000);
				TT_ASSERT(ogg_page_packets(&pg) == 1 && ogg_page_bos(&pg));
			} else if (packets == 1) {
				TT_ASSERT(!memcmp(op.packet, "OpusTags", 8));
				TT_ASSERT(memmem(op.packet, (size_t)op.bytes, "TITLE=room", 10));
			}
			packets++;
		}
		if (ogg_page_granulepos(&pg) >= 0)
			last_granule = ogg_page_granulepos(&pg);
		eos = ogg_page_eos(&pg);
		pages++;
	}
	/* headers + 120 + 1 + 5 silence + the closing silence frame */
	TT_ASSERT_INT_EQ(packets, 2 + 120 + 1 + 5 + 1);
	TT_ASSERT_MSG(last_granule == (int64_t)(want + 960), "granule %lld",
		      (long long)last_granule);
	TT_ASSERT(eos);
	TT_ASSERT(pages >= 5);   /* two header pages, audio flushed every 50 packets */
	ogg_stream_clear(&os);
	ogg_sync_clear(&oy);
	g_free(data);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}
