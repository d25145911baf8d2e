/* test_jingle_parse.c: jingle_parse.c on offers shaped like real clients' (Conversations:
 * WebRTC's payload types, no candidates in the offer, BUNDLE; Dino: candidates in the
 * offer, a component-2 and an mDNS one; and the offer Dino 0.4.2 really sent), candidate
 * conversion both ways, the codec choice
 * keeping the caller's payload types, our answer, and the XEP-0115 caps hash. */
#include "tt_test.h"

#include <errno.h>
#include <string.h>

#include "jingle_priv.h"
#include "jingle_fake.h"
#include "jingle_offers.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *jingle_of(const char *xml, xmpp_stanza_t **iq)
{
	if (!ctx) {
		xmpp_initialize();
		ctx = xmpp_ctx_new(NULL, NULL);
	}
	*iq = xmpp_stanza_new_from_string(ctx, xml);
	TT_ASSERT(*iq);
	return xmpp_stanza_get_child_by_name_and_ns(*iq, "jingle", XG_NS_JINGLE);
}

static char *text_of(xmpp_stanza_t *st)
{
	char *buf = NULL;
	size_t len = 0;
	TT_ASSERT(xmpp_stanza_to_text(st, &buf, &len) == 0);
	char *s = g_strndup(buf, len);
	xmpp_free(ctx, buf);
	return s;
}

static void done(void)
{
	xmpp_ctx_free(ctx);
	ctx = NULL;
	xmpp_shutdown();
}

TT_TEST(jingle_parse_conversations_offer)
{
	xmpp_stanza_t *iq;
	struct xg_jmsg m;
	const char *why = NULL;
	TT_ASSERT_INT_EQ(xg_jingle_parse(jingle_of(CONVERSATIONS_INITIATE, &iq), &m, &why), 0);
	TT_ASSERT_INT_EQ(m.action, XG_J_INITIATE);
	TT_ASSERT_STR_EQ(m.sid, "bS4mdfVYv7Jc5hl3qmK3Gg");
	TT_ASSERT_INT_EQ(m.n_contents, 1);
	TT_ASSERT(m.bundle);
	const struct xg_jcontent *a = &m.audio;
	TT_ASSERT(a->present && a->has_transport && a->rtcp_mux);
	TT_ASSERT_STR_EQ(a->name, "0");
	TT_ASSERT_STR_EQ(a->creator, "initiator");
	TT_ASSERT_INT_EQ(a->n_pts, 8);
	TT_ASSERT_INT_EQ(a->pts[0].id, 111);
	TT_ASSERT_INT_EQ(a->level_ext_id, 1);
	TT_ASSERT_STR_EQ(a->ufrag, "Ukbh");
	TT_ASSERT_STR_EQ(a->setup, "actpass");
	TT_ASSERT(g_str_has_prefix(a->fingerprint, "sha-256 7C:3E:"));
	TT_ASSERT_INT_EQ(a->n_cands, 0);
	TT_ASSERT(xg_jingle_we_are_active(a));

	struct xg_jchoice ch;
	TT_ASSERT_INT_EQ(xg_jingle_choose(a, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "opus");
	TT_ASSERT_INT_EQ(ch.pt->id, 111);
	TT_ASSERT(ch.dtmf && ch.dtmf->id == 110);   /* the one at 48000, not 126 at 8000 */

	/* the answer: the offer's content, our credentials, setup active, BUNDLE */
	xmpp_stanza_t *ans = xg_jingle_answer(ctx, &m, &ch, "r@call.test/tutti", "OurU",
					      "OurPasswordOf22CharsXY", "sha-256 AA:BB", true);
	char *t = text_of(ans);
	TT_ASSERT_MSG(xml_has(t, "jingle", "action=session-accept;sid=bS4mdfVYv7Jc5hl3qmK3Gg;"
			      "responder=r@call.test/tutti", NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "content", "creator=initiator;name=0;senders=both", NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "payload-type", "id=111;name=opus;clockrate=48000;channels=2",
			      NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "payload-type", "id=110;name=telephone-event;clockrate=48000",
			      NULL), "%s", t);
	TT_ASSERT_MSG(!xml_has(t, "payload-type", "id=0", NULL), "only the chosen: %s", t);
	TT_ASSERT_MSG(xml_has(t, "rtp-hdrext", "xmlns=" XG_NS_HDREXT ";id=1;uri="
			      XG_URI_AUDIO_LEVEL, NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "rtcp-mux", NULL, NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "transport", "xmlns=" XG_NS_ICE ";ufrag=OurU;"
			      "pwd=OurPasswordOf22CharsXY", NULL), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "fingerprint", "xmlns=" XG_NS_DTLS ";hash=sha-256;setup=active",
			      "AA:BB"), "%s", t);
	TT_ASSERT_MSG(!strstr(t, "actpass"), "%s", t);
	TT_ASSERT_MSG(xml_has(t, "group", "xmlns=" XG_NS_GROUP ";semantics=BUNDLE", NULL) &&
		      strstr(t, "<content name=\"0\"/></group>"), "%s", t);
	g_free(t);
	xmpp_stanza_release(ans);
	xmpp_stanza_release(iq);
	done();
}

TT_TEST(jingle_parse_dino_offer)
{
	xmpp_stanza_t *iq;
	struct xg_jmsg m;
	TT_ASSERT_INT_EQ(xg_jingle_parse(jingle_of(DINO_INITIATE, &iq), &m, NULL), 0);
	const struct xg_jcontent *a = &m.audio;
	TT_ASSERT_STR_EQ(a->name, "audio");
	TT_ASSERT(!m.bundle);
	TT_ASSERT_INT_EQ(m.n_contents, 2);   /* and the video one is left out */
	TT_ASSERT_STR_EQ(a->setup, "active");
	TT_ASSERT(!xg_jingle_we_are_active(a));   /* they are: we are passive */
	/* component 2, mDNS and TCP candidates are left out; the two host and srflx kept */
	TT_ASSERT_INT_EQ(a->n_cands, 2);
	TT_ASSERT_INT_EQ(a->n_ignored, 3);
	TT_ASSERT_STR_EQ(a->cands[0], "candidate:1 1 udp 2130706431 192.168.1.20 50000 typ host "
				      "generation 0");
	TT_ASSERT_STR_EQ(a->cands[1], "candidate:2 1 udp 1694498815 203.0.113.9 50000 typ srflx "
				      "raddr 192.168.1.20 rport 50000 generation 0");
	struct xg_jchoice ch;
	TT_ASSERT_INT_EQ(xg_jingle_choose(a, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "opus");
	TT_ASSERT_INT_EQ(ch.pt->id, 99);   /* the caller's number, not 111 */
	TT_ASSERT(!ch.dtmf);
	xmpp_stanza_t *ans = xg_jingle_answer(ctx, &m, &ch, NULL, "OurU", "OurPasswordOf22CharsXY",
					      "sha-256 AA:BB", false);
	char *t = text_of(ans);
	TT_ASSERT_MSG(xml_has(t, "fingerprint", "setup=passive", NULL) && !strstr(t, "BUNDLE") &&
		      !strstr(t, "rtp-hdrext") && !strstr(t, "name=\"video\""), "%s", t);
	g_free(t);
	xmpp_stanza_release(ans);
	xmpp_stanza_release(iq);
	done();
}

/* The offer Dino 0.4.2 really sent (jingle_offers.h): answered as the call that worked. */
TT_TEST(jingle_parse_dino_real_offer)
{
	xmpp_stanza_t *iq;
	struct xg_jmsg m;
	TT_ASSERT_INT_EQ(xg_jingle_parse(jingle_of(DINO_REAL_INITIATE, &iq), &m, NULL), 0);
	const struct xg_jcontent *a = &m.audio;
	TT_ASSERT_STR_EQ(a->name, "audio");
	TT_ASSERT_STR_EQ(a->setup, "actpass");
	TT_ASSERT(xg_jingle_we_are_active(a));    /* actpass: we take active */
	TT_ASSERT_INT_EQ(a->n_cands, 1);          /* the component-2 one is left out */
	TT_ASSERT_INT_EQ(a->n_ignored, 1);
	struct xg_jchoice ch;
	TT_ASSERT_INT_EQ(xg_jingle_choose(a, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "opus");
	TT_ASSERT_INT_EQ(ch.pt->id, 111);
	xmpp_stanza_t *ans = xg_jingle_answer(ctx, &m, &ch, NULL, "OurU", "OurPasswordOf22CharsXY",
					      "sha-256 AA:BB", true);
	char *t = text_of(ans);
	TT_ASSERT_MSG(xml_has(t, "fingerprint", "setup=active", NULL) && strstr(t, "rtcp-mux") &&
		      strstr(t, "id=\"111\"") && !strstr(t, "actpass") && !strstr(t, "crypto") &&
		      strstr(t, "name=\"audio\"") && strstr(t, "creator=\"initiator\""), "%s", t);
	g_free(t);
	xmpp_stanza_release(ans);
	xmpp_stanza_release(iq);
	done();
}

TT_TEST(jingle_codec_choice_keeps_caller_pts)
{
	struct xg_jcontent c = { 0 };
	struct xg_jchoice ch;
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), -ENOTSUP);
	/* in the caller's order when there is no Opus */
	c.pts[0] = (struct xg_jpt){ .id = 97, .name = "speex", .clock = 16000 };
	c.pts[1] = (struct xg_jpt){ .id = 8, .name = "PCMA", .clock = 8000 };
	c.pts[2] = (struct xg_jpt){ .id = 0, .name = "PCMU", .clock = 8000 };
	c.pts[3] = (struct xg_jpt){ .id = 101, .name = "telephone-event", .clock = 8000 };
	c.n_pts = 4;
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "pcma");
	TT_ASSERT_INT_EQ(ch.pt->id, 8);
	TT_ASSERT(ch.dtmf && ch.dtmf->id == 101);
	/* G.722 under a dynamic number, and a static one named by its number alone */
	c.pts[0] = (struct xg_jpt){ .id = 9, .name = "", .clock = 0 };
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "g722");
	c.pts[0] = (struct xg_jpt){ .id = 104, .name = "G722", .clock = 8000 };
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), 0);
	TT_ASSERT_INT_EQ(ch.pt->id, 104);
	/* Opus wins wherever it is, under the caller's number */
	c.pts[4] = (struct xg_jpt){ .id = 120, .name = "OPUS", .clock = 48000, .channels = 2 };
	c.n_pts = 5;
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "opus");
	TT_ASSERT_INT_EQ(ch.pt->id, 120);
	TT_ASSERT(!ch.dtmf);   /* telephone-event at 8000 does not go with Opus' 48000 */
	/* Opus at another clock is not Opus */
	c.pts[4].clock = 16000;
	TT_ASSERT_INT_EQ(xg_jingle_choose(&c, &ch), 0);
	TT_ASSERT_STR_EQ(ch.codec, "g722");
}

TT_TEST(jingle_candidates_both_ways)
{
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	char line[XG_J_CAND_LEN];
	xmpp_stanza_t *c = xmpp_stanza_new_from_string(ctx,
		"<candidate component='1' foundation='4' generation='1' id='x' ip='10.0.0.1' "
		"network='1' port='40000' priority='100' protocol='UDP' type='relay' "
		"rel-addr='1.2.3.4' rel-port='5000'/>");
	TT_ASSERT_INT_EQ(xg_jcand_to_sdp(c, line, sizeof line), 1);
	TT_ASSERT_STR_EQ(line, "candidate:4 1 udp 100 10.0.0.1 40000 typ relay raddr 1.2.3.4 "
			       "rport 5000 generation 1");
	xmpp_stanza_release(c);
	/* and back: every attribute a client reads */
	xmpp_stanza_t *j = xg_jcand_from_sdp(ctx, "a=candidate:842163049 1 UDP 1677729535 "
					     "198.51.100.7 61665 typ srflx raddr 10.0.0.2 rport "
					     "61665 generation 0 ufrag x network-cost 999", "c1");
	TT_ASSERT(j);
	char *t = text_of(j);
	TT_ASSERT_MSG(xml_has(t, "candidate", "foundation=842163049;component=1;protocol=udp;"
			      "priority=1677729535;ip=198.51.100.7;port=61665;type=srflx;"
			      "rel-addr=10.0.0.2;rel-port=61665;generation=0;network=0;id=c1", NULL),
		      "%s", t);
	g_free(t);
	/* a round trip gives the same line */
	TT_ASSERT_INT_EQ(xg_jcand_to_sdp(j, line, sizeof line), 1);
	TT_ASSERT_STR_EQ(line, "candidate:842163049 1 udp 1677729535 198.51.100.7 61665 typ srflx "
			       "raddr 10.0.0.2 rport 61665 generation 0");
	xmpp_stanza_release(j);
	/* ignored, not errors: component 2, mDNS, TCP */
	const char *ignored[] = {
		"<candidate component='2' foundation='1' ip='10.0.0.1' port='1' priority='1' "
		"protocol='udp' type='host'/>",
		"<candidate component='1' foundation='1' ip='3f1c-aa.local' port='1' priority='1' "
		"protocol='udp' type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1' port='9' priority='1' "
		"protocol='tcp' type='host'/>",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ignored); i++) {
		c = xmpp_stanza_new_from_string(ctx, ignored[i]);
		TT_ASSERT_MSG(xg_jcand_to_sdp(c, line, sizeof line) == 0, "%s", ignored[i]);
		xmpp_stanza_release(c);
	}
	/* malformed: each one thing wrong */
	const char *bad[] = {
		"<candidate component='1' ip='10.0.0.1' port='1' priority='1' protocol='udp' "
		"type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1' port='70000' priority='1' "
		"protocol='udp' type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1 typ' port='1' priority='1' "
		"protocol='udp' type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1' port='1' priority='-1' "
		"protocol='udp' type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1' port='1' priority='1' "
		"protocol='sctp' type='host'/>",
		"<candidate component='1' foundation='1' ip='10.0.0.1' port='1' priority='1' "
		"protocol='udp' type='magic'/>",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		c = xmpp_stanza_new_from_string(ctx, bad[i]);
		TT_ASSERT_MSG(xg_jcand_to_sdp(c, line, sizeof line) == -EINVAL, "%s", bad[i]);
		xmpp_stanza_release(c);
	}
	TT_ASSERT(!xg_jcand_from_sdp(ctx, "candidate:1 1 udp x 1.2.3.4 5 typ host", "c"));
	TT_ASSERT(!xg_jcand_from_sdp(ctx, "nonsense", "c"));
	done();
}

TT_TEST(jingle_parse_refuses_malformed)
{
	const char *bad[] = {
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' sid='s'/></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
		"<content creator='nobody' name='a'/></jingle></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
		"<content creator='initiator'/></jingle></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
		"<content creator='initiator' name='a'><description xmlns='" XG_NS_RTP "' "
		"media='audio'><payload-type id='300' name='opus'/></description></content>"
		"</jingle></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
		"<content creator='initiator' name='a'><description xmlns='" XG_NS_RTP "' "
		"media='audio'/><transport xmlns='" XG_NS_ICE "' ufrag='a b'/></content>"
		"</jingle></iq>",
		"<iq><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
		"<content creator='initiator' name='a'><description xmlns='" XG_NS_RTP "' "
		"media='audio'/><transport xmlns='" XG_NS_ICE "'><fingerprint xmlns='"
		XG_NS_DTLS "' hash='sha-256' setup='holdconn'>AA</fingerprint></transport>"
		"</content></jingle></iq>",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		xmpp_stanza_t *iq;
		struct xg_jmsg m;
		memset(&m, 0x5a, sizeof m);
		const char *why = NULL;
		TT_ASSERT_MSG(xg_jingle_parse(jingle_of(bad[i], &iq), &m, &why) == -EINVAL, "%s",
			      bad[i]);
		TT_ASSERT(why && *why);
		TT_ASSERT_INT_EQ(((unsigned char *)&m)[0], 0x5a);   /* untouched */
		xmpp_stanza_release(iq);
	}
	done();
}

/* XEP-0115 section 5.2's example, then ours: the same function. */
TT_TEST(jingle_caps_hash)
{
	const char *ids[] = { "client/pc//Exodus 0.9.1" };
	const char *feats[] = { "http://jabber.org/protocol/disco#info",
				"http://jabber.org/protocol/disco#items",
				"http://jabber.org/protocol/muc",
				"http://jabber.org/protocol/caps" };
	char *ver = xg_caps_ver(ids, 1, feats, 4);
	TT_ASSERT_STR_EQ(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	g_free(ver);
	TT_ASSERT(strlen(xg_jingle_caps_ver()) == 28);
}
