/* test_jingle_calls.c: calls through jingle*.c on a fake core (jingle_fake.c): JMI then
 * session-initiate, our answer and trickled candidates, the caller's transport-info one
 * candidate at a time, a credential change refused, terminate both ways, a call without
 * JMI, a retracted one, a call from an MUC occupant, disco and caps, and what is refused. */
#include "tt_test.h"

#include <errno.h>
#include <string.h>

#include "jingle_fake.h"
#include "jingle_offers.h"

#define CALLER "juliet@example.com/conv-1"

static const char *propose_xml =
	"<message from='" CALLER "' to='r@call.test' type='chat' id='m1'>"
	"<propose xmlns='urn:xmpp:jingle-message:0' id='bS4mdfVYv7Jc5hl3qmK3Gg'>"
	"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>";

static const char *tinfo(const char *id, const char *ufrag, const char *cand_attrs)
{
	static char buf[2048];
	g_snprintf(buf, sizeof buf,
		   "<iq from='" CALLER "' to='r@call.test/tutti' type='set' id='%s'>"
		   "<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' "
		   "sid='bS4mdfVYv7Jc5hl3qmK3Gg'><content creator='initiator' name='0'>"
		   "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='%s' "
		   "pwd='q8Yh2mDl0Zs3Kp5Xw7Vr1N'><candidate %s/></transport></content></jingle>"
		   "</iq>", id, ufrag, cand_attrs);
	return buf;
}

#define CAND1 "component='1' foundation='1' generation='0' id='k1' ip='127.0.0.1' " \
	      "network='0' port='40001' priority='2122260223' protocol='udp' type='host'"
#define CAND2 "component='2' foundation='1' generation='0' id='k2' ip='127.0.0.1' " \
	      "network='0' port='40002' priority='2122260222' protocol='udp' type='host'"

TT_TEST(jingle_call_jmi_accept_trickle_terminate)
{
	fake_setup();
	fake_in(propose_xml);
	int ringing = fake_find_el(0, "ringing", "xmlns=" XG_NS_JMI ";id=bS4mdfVYv7Jc5hl3qmK3Gg");
	int proceed = fake_find_el(0, "proceed", "xmlns=" XG_NS_JMI ";id=bS4mdfVYv7Jc5hl3qmK3Gg");
	TT_ASSERT_MSG(ringing >= 0 && proceed > ringing, "%s", fake_sent(0));
	TT_ASSERT(strstr(fake_sent((unsigned)proceed), "from=\"r@call.test/tutti\""));
	TT_ASSERT(strstr(fake_sent((unsigned)proceed), "to=\"" CALLER "\""));

	unsigned n = F.sent->len;
	fake_in(CONVERSATIONS_INITIATE);
	TT_ASSERT_MSG(strstr(fake_sent(n), "type=\"result\"") && strstr(fake_sent(n), "id=\"si1\""),
		      "%s", fake_sent(n));
	TT_ASSERT_INT_EQ(F.n_parts, 1);
	struct tt_participant *p = F.parts[0];
	TT_ASSERT_STR_EQ(p->name, "juliet");
	TT_ASSERT_INT_EQ(p->caps, TT_CAP_AUDIO);
	TT_ASSERT(p->has_leg);
	TT_ASSERT_INT_EQ(p->leg.kind, TT_LEG_ICE);
	TT_ASSERT_STR_EQ(p->leg.codec, "opus");
	TT_ASSERT_INT_EQ(p->leg.pt, 111);
	TT_ASSERT_INT_EQ(p->leg.dtmf_pt, 110);
	TT_ASSERT_INT_EQ(p->leg.audio_level_ext_id, 1);
	TT_ASSERT(p->leg.ice.dtls_active);   /* actpass offered: we are active */
	TT_ASSERT(!p->leg.ice.controlling);
	TT_ASSERT_STR_EQ(p->leg.ice.ufrag, "Ukbh");
	TT_ASSERT_STR_EQ(p->leg.ice.fingerprint, "sha-256 " FP_THEIRS);

	/* the leg is made: session-accept; then our candidates, one transport-info each */
	n = F.sent->len;
	fake_attach_done(p, 0);
	const char *acc = fake_sent(n);
	TT_ASSERT_MSG(acc && strstr(acc, "action=\"session-accept\"") &&
		      strstr(acc, "setup=\"active\"") && strstr(acc, "ufrag=\"OurU\"") &&
		      strstr(acc, "type=\"set\""), "%s", acc);
	n = F.sent->len;
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p,
			  "candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ host");
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p, NULL);   /* the end: no stanza */
	TT_ASSERT_INT_EQ(F.sent->len, n + 1);
	const char *ti = fake_sent(n);
	TT_ASSERT_MSG(strstr(ti, "action=\"transport-info\"") && strstr(ti, "name=\"0\"") &&
		      strstr(ti, "creator=\"initiator\"") && strstr(ti, "ip=\"127.0.0.1\"") &&
		      strstr(ti, "port=\"40000\"") && strstr(ti, "ufrag=\"OurU\""), "%s", ti);

	/* the caller's candidates, one per IQ, each acked; component 2 ignored */
	n = F.sent->len;
	fake_in(tinfo("t1", "Ukbh", CAND1));
	fake_in(tinfo("t2", "Ukbh", CAND2));
	TT_ASSERT_MSG(strstr(fake_sent(n), "type=\"result\"") &&
		      strstr(fake_sent(n + 1), "type=\"result\""), "%s", fake_sent(n));
	TT_ASSERT_INT_EQ(p->cands->len, 1);
	TT_ASSERT(strstr(g_ptr_array_index(p->cands, 0), "127.0.0.1 40001 typ host"));

	/* new credentials: refused clearly, and nothing changes */
	n = F.sent->len;
	fake_in(tinfo("t3", "Zzzz", CAND1));
	TT_ASSERT_MSG(strstr(fake_sent(n), "type=\"error\"") &&
		      strstr(fake_sent(n), "not-acceptable") && strstr(fake_sent(n), "ICE restart"),
		      "%s", fake_sent(n));
	TT_ASSERT_INT_EQ(p->cands->len, 1);
	TT_ASSERT(!p->left);

	/* mute from the client */
	fake_in("<iq from='" CALLER "' to='r@call.test/tutti' type='set' id='mu'>"
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-info' "
		"sid='bS4mdfVYv7Jc5hl3qmK3Gg'><mute xmlns='urn:xmpp:jingle:apps:rtp:info:1' "
		"creator='initiator' name='0'/></jingle></iq>");
	TT_ASSERT(p->state & TT_PS_MUTED);

	/* the caller hangs up: acked, the participant leaves, JMI finish */
	n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='r@call.test/tutti' type='set' id='st'>"
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' "
		"sid='bS4mdfVYv7Jc5hl3qmK3Gg'><reason><success/></reason></jingle></iq>");
	TT_ASSERT(strstr(fake_sent(n), "type=\"result\""));
	TT_ASSERT(p->left);
	TT_ASSERT_INT_EQ(p->refs, 1);   /* the fake's own: the call let go */
	TT_ASSERT(fake_find_el(n, "finish", "xmlns=" XG_NS_JMI) > 0);
	TT_ASSERT_INT_EQ(fake_find(n, "session-terminate"), -1);   /* not back to the caller */
	/* the session is gone */
	n = F.sent->len;
	fake_in(tinfo("t4", "Ukbh", CAND1));
	TT_ASSERT(strstr(fake_sent(n), "unknown-session"));
	fake_teardown();
}

/* libnice signals host candidates from inside nice_agent_gather_candidates, that is while
 * the leg is being made and before the attach result reaches the core: such candidates
 * must follow the session-accept, not be lost (Dino then had no candidate of ours, and
 * ICE failed). */
TT_TEST(jingle_candidates_before_the_attach_result_follow_the_accept)
{
	fake_setup();
	fake_in(DINO_INITIATE);
	struct tt_participant *p = F.parts[0];
	unsigned n = F.sent->len;
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p,
			  "candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ host");
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p,
			  "candidate:2 1 UDP 2013266175 192.0.2.7 40002 typ host");
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p, NULL);
	TT_ASSERT_INT_EQ(F.sent->len, n);   /* nothing before the answer */
	fake_attach_done(p, 0);
	TT_ASSERT_INT_EQ(F.sent->len, n + 3);
	TT_ASSERT_MSG(strstr(fake_sent(n), "action=\"session-accept\""), "%s", fake_sent(n));
	const char *t1 = fake_sent(n + 1), *t2 = fake_sent(n + 2);
	TT_ASSERT_MSG(strstr(t1, "action=\"transport-info\"") && strstr(t1, "port=\"40000\"") &&
		      strstr(t1, "ufrag=\"OurU\""), "%s", t1);
	TT_ASSERT_MSG(strstr(t2, "action=\"transport-info\"") && strstr(t2, "port=\"40002\""),
		      "%s", t2);
	fake_teardown();

	/* a leg that could not be made: the early candidates go nowhere */
	fake_setup();
	fake_in(DINO_INITIATE);
	p = F.parts[0];
	p->leg.ice.cand_h(p->leg.ice.cand_arg, p,
			  "candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ host");
	n = F.sent->len;
	fake_attach_done(p, -EIO);
	TT_ASSERT_INT_EQ(fake_find(n, "transport-info"), -1);
	TT_ASSERT(fake_find(n, "session-terminate") >= 0);
	fake_teardown();
}

TT_TEST(jingle_call_without_jmi_hung_up_by_bridge)
{
	fake_setup();
	fake_in(DINO_INITIATE);
	TT_ASSERT(strstr(fake_sent(0), "type=\"result\""));
	struct tt_participant *p = F.parts[0];
	TT_ASSERT_STR_EQ(p->name, "romeo");
	TT_ASSERT_INT_EQ(p->leg.pt, 99);
	TT_ASSERT(!p->leg.ice.dtls_active);   /* they said active */
	TT_ASSERT_INT_EQ(p->cands->len, 2);   /* no component 2, mDNS or TCP */
	fake_attach_done(p, 0);
	const char *acc = fake_sent(1);
	TT_ASSERT_MSG(strstr(acc, "from=\"r@call.test\"") && strstr(acc, "setup=\"passive\"") &&
		      strstr(acc, "name=\"audio\"") && !strstr(acc, "name=\"video\""), "%s", acc);
	/* the bridge kicks it: terminate with success, no JMI finish (none was proposed) */
	unsigned n = F.sent->len;
	xg_jingle_hang_up(&F.gw, p, "kicked");
	TT_ASSERT_MSG(fake_find(n, "<reason><success/><text>kicked</text></reason>") >= 0, "%s",
		      fake_sent(n));
	TT_ASSERT_INT_EQ(fake_find(n, "finish"), -1);
	TT_ASSERT(p->left);
	fake_teardown();
}

TT_TEST(jingle_call_retracted_and_refused)
{
	fake_setup();
	fake_in(propose_xml);
	fake_in("<message from='" CALLER "' to='r@call.test' type='chat'>"
		"<retract xmlns='urn:xmpp:jingle-message:0' id='bS4mdfVYv7Jc5hl3qmK3Gg'/></message>");
	TT_ASSERT_INT_EQ(g_hash_table_size(F.gw.jingle->calls), 0);
	TT_ASSERT_INT_EQ(F.n_parts, 0);   /* nobody joined */

	/* an unknown room: IQ error, nothing joined; a JMI propose to it: reject */
	unsigned n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='nope@call.test/tutti' type='set' id='x1'>"
		CONVERSATIONS_JINGLE("s2") "</iq>");
	TT_ASSERT(strstr(fake_sent(n), "item-not-found"));
	fake_in("<message from='" CALLER "' to='nope@call.test' type='chat'>"
		"<propose xmlns='urn:xmpp:jingle-message:0' id='s3'>"
		"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose></message>");
	TT_ASSERT(fake_find_el(n, "reject", "xmlns=" XG_NS_JMI ";id=s3") > 0);
	/* a malformed jingle: bad-request, nothing else */
	n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='r@call.test' type='set' id='x2'>"
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'/></iq>");
	TT_ASSERT(strstr(fake_sent(n), "bad-request"));
	TT_ASSERT_INT_EQ(F.sent->len, n + 1);
	/* no fingerprint: acked, then terminated with security-error */
	n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='r@call.test' type='set' id='x3'>"
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s4'>"
		"<content creator='initiator' name='a'><description xmlns='" XG_NS_RTP "' "
		"media='audio'><payload-type id='0' name='PCMU' clockrate='8000'/></description>"
		"<transport xmlns='" XG_NS_ICE "' ufrag='abcd' pwd='0123456789012345678901'/>"
		"</content></jingle></iq>");
	TT_ASSERT(strstr(fake_sent(n), "type=\"result\""));
	TT_ASSERT_MSG(strstr(fake_sent(n + 1), "<security-error/>"), "%s", fake_sent(n + 1));
	/* no codec in common */
	n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='r@call.test' type='set' id='x4'>"
		"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s5'>"
		"<content creator='initiator' name='a'><description xmlns='" XG_NS_RTP "' "
		"media='audio'><payload-type id='98' name='speex' clockrate='16000'/></description>"
		"<transport xmlns='" XG_NS_ICE "' ufrag='abcd' pwd='0123456789012345678901'>"
		"<fingerprint xmlns='" XG_NS_DTLS "' hash='sha-256' setup='actpass'>" FP_THEIRS
		"</fingerprint></transport></content></jingle></iq>");
	TT_ASSERT_MSG(strstr(fake_sent(n + 1), "<incompatible-parameters/>"), "%s",
		      fake_sent(n + 1));
	TT_ASSERT_INT_EQ(F.n_parts, 0);
	TT_ASSERT_INT_EQ(g_hash_table_size(F.gw.jingle->calls), 0);
	/* a flood of proposals stops at the cap, each one beyond it rejected */
	for (unsigned i = 0; i < XG_CALL_MAX + 2; i++) {
		char *m = g_strdup_printf("<message from='" CALLER "' to='r@call.test' type='chat'>"
					  "<propose xmlns='urn:xmpp:jingle-message:0' id='f%u'>"
					  "<description xmlns='urn:xmpp:jingle:apps:rtp:1' "
					  "media='audio'/></propose></message>", i);
		fake_in(m);
		g_free(m);
	}
	TT_ASSERT_INT_EQ(g_hash_table_size(F.gw.jingle->calls), XG_CALL_MAX);
	char id[32];
	g_snprintf(id, sizeof id, "xmlns=" XG_NS_JMI ";id=f%u", XG_CALL_MAX + 1);
	TT_ASSERT(fake_find_el(0, "reject", id) >= 0);
	fake_teardown();
}

TT_TEST(jingle_call_from_occupant_joins_its_audio)
{
	fake_setup();
	struct tt_participant *occ = fake_occupant("juliet");
	fake_in(CONVERSATIONS_INITIATE);
	TT_ASSERT_INT_EQ(F.n_parts, 1);   /* no second participant */
	TT_ASSERT(occ->added && (occ->caps & TT_CAP_AUDIO) && occ->has_leg);
	fake_attach_done(occ, 0);
	/* a second call from it while it has audio: busy */
	unsigned n = F.sent->len;
	fake_in("<iq from='" CALLER "' to='r@call.test/tutti' type='set' id='b2'>"
		CONVERSATIONS_JINGLE("second") "</iq>");
	TT_ASSERT_MSG(fake_find(n, "<busy/>") > 0, "%s", fake_sent(n));
	TT_ASSERT(occ->added);
	/* its leg ends by itself: the call ends, the occupant stays */
	n = F.sent->len;
	occ->caps &= ~(unsigned)TT_CAP_AUDIO;   /* the core removed it before calling */
	occ->ended(occ->ended_arg, occ, -ETIMEDOUT);
	TT_ASSERT(fake_find(n, "<connectivity-error/>") >= 0);
	TT_ASSERT(!occ->left);
	TT_ASSERT_INT_EQ(occ->refs, 1);
	TT_ASSERT_INT_EQ(g_hash_table_size(F.gw.jingle->calls), 0);
	/* called again, and this time the caller's presence goes away */
	fake_in(CONVERSATIONS_INITIATE);
	TT_ASSERT(occ->added);
	fake_in("<presence from='" CALLER "' to='r@call.test' type='unavailable'/>");
	TT_ASSERT(!occ->added && !(occ->caps & TT_CAP_AUDIO) && !occ->left);
	TT_ASSERT_INT_EQ(occ->refs, 1);
	fake_teardown();
}

TT_TEST(jingle_disco_and_caps)
{
	fake_setup();
	fake_in("<iq from='" CALLER "' to='r@call.test/tutti' type='get' id='d1' xml:lang='en'>"
		"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	const char *r = fake_sent(0);
	/* the reply is addressed back and copies no other attribute of the request */
	TT_ASSERT_MSG(!strstr(r, "lang=") && strstr(r, "id=\"d1\"") &&
		      strstr(r, "to=\"" CALLER "\""), "%s", r);
	const char *need[] = { "urn:xmpp:jingle:1", "urn:xmpp:jingle:apps:rtp:1",
			       "urn:xmpp:jingle:apps:rtp:audio", "urn:xmpp:jingle:transports:ice-udp:1",
			       "urn:xmpp:jingle:apps:dtls:0", "urn:xmpp:jingle-message:0",
			       "category=\"client\"" };
	for (size_t i = 0; i < G_N_ELEMENTS(need); i++)
		TT_ASSERT_MSG(strstr(r, need[i]), "%s not in %s", need[i], r);
	/* presence to a probe and a subscription carries caps with our ver */
	fake_in("<presence from='juliet@example.com' to='r@call.test' type='probe'/>");
	fake_in("<presence from='juliet@example.com' to='r@call.test' type='subscribe'/>");
	char *c = g_strdup_printf("ver=\"%s\"", xg_jingle_caps_ver());
	TT_ASSERT(strstr(fake_sent(1), "from=\"r@call.test/tutti\"") && strstr(fake_sent(1), c));
	TT_ASSERT(strstr(fake_sent(2), "type=\"subscribed\""));
	TT_ASSERT(strstr(fake_sent(3), c));
	g_free(c);
	/* a room nobody may call: not found, like an unknown one */
	F.room_rc = -EACCES;
	fake_in("<iq from='" CALLER "' to='r@call.test' type='get' id='d2'>"
		"<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	TT_ASSERT(strstr(fake_sent(4), "item-not-found"));
	fake_teardown();
}
