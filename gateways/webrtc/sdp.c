/* sdp.c: parse the browser's offer with sofia-sip's SDP parser, then apply our own checks
 * (sofia-sip accepts many things WebRTC does not); build the answer as text. */
#include "sdp.h"

#include <errno.h>
#include <stdlib.h>
#include <glib.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <tutti/sdp_guard.h>
#include <sofia-sip/su_alloc.h>

#include <tutti/ice.h>

#define MAX_SDP (64 * 1024)
#define LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/* An attribute at media level, else at session level (Firefox puts ICE and fingerprint
 * there). */
static const char *attr(const sdp_media_t *m, const sdp_session_t *s, const char *name)
{
	for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next)
		if (a->a_name && !g_ascii_strcasecmp(a->a_name, name))
			return a->a_value ? a->a_value : "";
	for (const sdp_attribute_t *a = s->sdp_attributes; a; a = a->a_next)
		if (a->a_name && !g_ascii_strcasecmp(a->a_name, name))
			return a->a_value ? a->a_value : "";
	return NULL;
}

static const char *attr_m(const sdp_media_t *m, const char *name)
{
	for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next)
		if (a->a_name && !g_ascii_strcasecmp(a->a_name, name))
			return a->a_value ? a->a_value : "";
	return NULL;
}

static bool copy_checked(char *dst, size_t cap, const char *src)
{
	if (!src || strlen(src) >= cap)
		return false;
	g_strlcpy(dst, src, cap);
	return true;
}

static bool token_ok(const char *s)
{
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && !strchr("-_.+/=", *s))
			return false;
	return true;
}

/* "111 opus/48000/2" among the attributes, offered in the m-line's format list. */
static int opus_from_attrs(struct wr_offer *o, const sdp_media_t *m)
{
	for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
		if (!a->a_name || !a->a_value || g_ascii_strcasecmp(a->a_name, "rtpmap"))
			continue;
		char *end = NULL;
		unsigned long pt = strtoul(a->a_value, &end, 10);
		if (end == a->a_value || *end != ' ' || pt > 127 ||
		    g_ascii_strncasecmp(end + 1, "opus/48000", 10))
			continue;
		bool offered = false;
		for (const sdp_list_t *f = m->m_format; f && !offered; f = f->l_next)
			offered = f->l_text && strtoul(f->l_text, NULL, 10) == pt &&
				  g_ascii_isdigit(f->l_text[0]);
		if (!offered)
			continue;
		o->opus_pt = (unsigned)pt;
		char prefix[8];
		g_snprintf(prefix, sizeof prefix, "%lu ", pt);
		for (const sdp_attribute_t *b = m->m_attributes; b; b = b->a_next)
			if (b->a_name && b->a_value && !g_ascii_strcasecmp(b->a_name, "fmtp") &&
			    g_str_has_prefix(b->a_value, prefix))
				o->opus_fec = strstr(b->a_value, "useinbandfec=1") != NULL;
		return 0;
	}
	return -ENOENT;
}

static int parse_audio(struct wr_offer *o, const sdp_media_t *m, const sdp_session_t *s,
		       const char **why)
{
	const sdp_rtpmap_t *opus = NULL;
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (rm->rm_encoding && !g_ascii_strcasecmp(rm->rm_encoding, "opus") &&
		    rm->rm_rate == 48000) {
			opus = rm;
			break;
		}
	}
	if (opus) {
		o->opus_pt = opus->rm_pt;
		o->opus_fec = opus->rm_fmtp && strstr(opus->rm_fmtp, "useinbandfec=1");
	} else if (opus_from_attrs(o, m)) {
		/* sofia-sip makes rtpmaps only for the protocols it knows as RTP, and not for
		 * UDP/TLS/RTP/SAVPF: then the a=rtpmap lines are plain attributes. */
		*why = "no opus/48000/2 in the audio m-line";
		return -EINVAL;
	}
	if (!copy_checked(o->ufrag, sizeof o->ufrag, attr(m, s, "ice-ufrag")) ||
	    !copy_checked(o->pwd, sizeof o->pwd, attr(m, s, "ice-pwd"))) {
		*why = "missing or oversized a=ice-ufrag / a=ice-pwd";
		return -EINVAL;
	}
	const char *fp = attr(m, s, "fingerprint");
	if (!copy_checked(o->fingerprint, sizeof o->fingerprint, fp) ||
	    tt_dtls_fingerprint_check(o->fingerprint)) {
		*why = "missing or unsupported a=fingerprint (sha-256 needed)";
		return -EINVAL;
	}
	const char *setup = attr(m, s, "setup");
	if (!setup || !strcmp(setup, "actpass"))
		o->setup = WR_SETUP_ACTPASS;
	else if (!strcmp(setup, "active"))
		o->setup = WR_SETUP_ACTIVE;
	else if (!strcmp(setup, "passive"))
		o->setup = WR_SETUP_PASSIVE;
	else {
		*why = "bad a=setup";
		return -EINVAL;
	}
	if (!attr(m, s, "rtcp-mux")) {
		*why = "a=rtcp-mux is required";
		return -EINVAL;
	}
	const char *mid = attr_m(m, "mid");
	for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
		if (!a->a_name || !a->a_value)
			continue;
		if (!g_ascii_strcasecmp(a->a_name, "extmap") && strstr(a->a_value, LEVEL_URI)) {
			unsigned id = (unsigned)strtoul(a->a_value, NULL, 10);
			if (id >= 1 && id <= 14)   /* one-byte header form only */
				o->level_ext_id = id;
		} else if (!g_ascii_strcasecmp(a->a_name, "candidate") &&
			   o->n_cands < WR_MAX_CANDS && strlen(a->a_value) < 240) {
			g_snprintf(o->cands[o->n_cands++], sizeof o->cands[0], "candidate:%s",
				   a->a_value);
		}
	}
	if (mid && (strlen(mid) >= sizeof o->mid || !token_ok(mid))) {
		*why = "bad a=mid";
		return -EINVAL;
	}
	g_strlcpy(o->mid, mid ? mid : "", sizeof o->mid);
	return 0;
}

static void note_other(struct wr_mline *ml, const sdp_media_t *m)
{
	const char *mid = attr_m(m, "mid");
	g_strlcpy(ml->type, m->m_type_name && token_ok(m->m_type_name) ? m->m_type_name
									: "application",
		  sizeof ml->type);
	g_strlcpy(ml->proto, m->m_proto_name && token_ok(m->m_proto_name) ? m->m_proto_name
									  : "RTP/AVP",
		  sizeof ml->proto);
	const char *fmt = m->m_format && m->m_format->l_text ? m->m_format->l_text : "0";
	g_strlcpy(ml->fmt, token_ok(fmt) ? fmt : "0", sizeof ml->fmt);
	g_strlcpy(ml->mid, mid && token_ok(mid) && strlen(mid) < sizeof ml->mid ? mid : "",
		  sizeof ml->mid);
}

int wr_sdp_parse_offer(struct wr_offer *out, const char *sdp, size_t len, const char **why)
{
	static const char *unused;
	if (!why)
		why = &unused;
	if (!out || !sdp || len == 0 || len > MAX_SDP) {
		*why = "empty or too long SDP";
		return -EINVAL;
	}
	if (!tt_sdp_lines_ok(sdp, len)) {
		*why = "SDP lines are not well-formed (ASCII, \"x=value\", RFC 8866 m-lines)";
		return -EINVAL;
	}
	struct wr_offer *o = g_new0(struct wr_offer, 1);
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_parser_t *parser = sdp_parse(home, sdp, (issize_t)len, sdp_f_mode_manual);
	sdp_session_t *s = parser ? sdp_session(parser) : NULL;
	int err = -EINVAL;
	o->audio_index = -1;
	if (!s) {
		*why = "SDP does not parse";
		goto out;
	}
	unsigned i = 0;
	for (const sdp_media_t *m = s->sdp_media; m; m = m->m_next, i++) {
		if (i >= WR_MAX_MLINES) {
			*why = "too many m-lines";
			goto out;
		}
		if (o->audio_index < 0 && m->m_type == sdp_media_audio && m->m_port != 0 &&
		    !m->m_rejected) {
			o->audio_index = (int)i;
			if (parse_audio(o, m, s, why))
				goto out;
		} else {
			note_other(&o->others[i], m);
		}
	}
	o->n_mlines = i;
	if (o->audio_index < 0) {
		*why = "no audio m-line";
		goto out;
	}
	*out = *o;
	err = 0;
out:
	if (parser)
		sdp_parser_free(parser);
	su_home_deinit(home);
	g_free(o);
	return err;
}

bool wr_sdp_we_are_active(const struct wr_offer *o)
{
	return o->setup != WR_SETUP_ACTIVE;
}

char *wr_sdp_answer(const struct wr_offer *o, const struct tt_audio_attached *r)
{
	GString *a = g_string_new(NULL);
	g_string_append_printf(a, "v=0\r\no=tutti %u 1 IN IP4 0.0.0.0\r\ns=tutti\r\nt=0 0\r\n",
			       g_random_int() & 0x7fffffff);
	if (r->ice.lite)   /* RFC 8839 5.3: session level; the browser then controls */
		g_string_append(a, "a=ice-lite\r\n");
	if (o->mid[0])
		g_string_append_printf(a, "a=group:BUNDLE %s\r\n", o->mid);
	g_string_append(a, "a=msid-semantic: WMS tutti\r\n");
	for (unsigned i = 0; i < o->n_mlines; i++) {
		if ((int)i != o->audio_index) {
			const struct wr_mline *ml = &o->others[i];
			g_string_append_printf(a, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", ml->type,
					       ml->proto, ml->fmt);
			if (ml->mid[0])
				g_string_append_printf(a, "a=mid:%s\r\n", ml->mid);
			g_string_append(a, "a=inactive\r\n");
			continue;
		}
		g_string_append_printf(a, "m=audio 9 UDP/TLS/RTP/SAVPF %u\r\n", o->opus_pt);
		g_string_append(a, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n");
		g_string_append_printf(a, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", r->ice.ufrag,
				       r->ice.pwd);
		g_string_append(a, "a=ice-options:trickle\r\n");
		g_string_append_printf(a, "a=fingerprint:%s\r\n", r->ice.fingerprint);
		g_string_append_printf(a, "a=setup:%s\r\n",
				       wr_sdp_we_are_active(o) ? "active" : "passive");
		if (o->mid[0])
			g_string_append_printf(a, "a=mid:%s\r\n", o->mid);
		if (o->level_ext_id)
			g_string_append_printf(a, "a=extmap:%u %s\r\n", o->level_ext_id, LEVEL_URI);
		g_string_append(a, "a=sendrecv\r\na=msid:tutti mix\r\na=rtcp-mux\r\n");
		g_string_append_printf(a, "a=rtpmap:%u opus/48000/2\r\n", o->opus_pt);
		g_string_append_printf(a, "a=fmtp:%u minptime=10;useinbandfec=1\r\n", o->opus_pt);
	}
	return g_string_free(a, FALSE);
}
