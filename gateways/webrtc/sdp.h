/* sdp.h (webrtc gateway): the browser's SDP offer, parsed with sofia-sip's SDP parser and
 * checked against what we need (one audio m-line with Opus/48000/2, ICE credentials, a
 * SHA-256 fingerprint, a=setup, rtcp-mux), and our answer. Pure functions: any thread. */
#ifndef WR_SDP_H
#define WR_SDP_H

#include <stdbool.h>
#include <stddef.h>

#include <tutti/core.h>

#define WR_MAX_MLINES 8
#define WR_MAX_CANDS 16

enum wr_setup { WR_SETUP_ACTPASS, WR_SETUP_ACTIVE, WR_SETUP_PASSIVE };

struct wr_mline {              /* an m-line we answer with port 0 (video, data) */
	char type[16];
	char proto[32];
	char fmt[16];
	char mid[33];
};

struct wr_offer {
	int audio_index;           /* which m-line is our audio */
	char mid[33];              /* its a=mid ("" when none) */
	unsigned opus_pt;
	bool opus_fec;             /* the peer asked for in-band FEC (useinbandfec=1) */
	unsigned level_ext_id;     /* RFC 6464 extmap id, 0: none */
	char ufrag[65], pwd[257];
	char fingerprint[104];     /* "sha-256 AB:.." */
	enum wr_setup setup;
	struct wr_mline others[WR_MAX_MLINES];
	unsigned n_mlines;         /* all m-lines, audio included */
	char cands[WR_MAX_CANDS][256];   /* candidates given inside the offer (no trickle) */
	unsigned n_cands;
};

/* 0, or -EINVAL with *why a static reason ("no audio m-line", ...). o is written only on
 * success. Never reads beyond len; sdp need not be NUL-terminated. */
int wr_sdp_parse_offer(struct wr_offer *o, const char *sdp, size_t len, const char **why);

/* Our answer (g_malloc'd, caller frees): we are DTLS client unless the offer says active. */
char *wr_sdp_answer(const struct wr_offer *o, const struct tt_audio_attached *r);
/* Our DTLS role for an offer: true = active (client). */
bool wr_sdp_we_are_active(const struct wr_offer *o);

#endif
