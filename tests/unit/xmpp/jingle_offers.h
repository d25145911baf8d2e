/* jingle_offers.h: session-initiates shaped like real clients' (written from the XEP
 * examples and what the clients send; ids, addresses and keys are made up), and one real
 * one, Dino 0.4.2's (DINO_REAL_INITIATE, at the end).
 * - Conversations (libwebrtc underneath): WebRTC's payload types, ssrc-audio-level as
 *   extension 1, setup actpass, no candidates (they follow in transport-info), BUNDLE.
 * - Dino (GStreamer): its own dynamic numbers (Opus 99), candidates in the offer, among
 *   them a component-2, an mDNS and a TCP one, and a video content beside the audio;
 *   setup active here to cover that branch. */
#ifndef JINGLE_OFFERS_H
#define JINGLE_OFFERS_H

#define FP_THEIRS "7C:3E:0B:94:5D:80:1E:2F:6A:9B:31:C4:D2:EE:07:58:" \
		  "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90"

#define CONVERSATIONS_JINGLE(sid) \
	"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' " \
	"initiator='juliet@example.com/conv-1' sid='" sid "'>" \
	"<content creator='initiator' name='0' senders='both'>" \
	"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>" \
	"<payload-type id='111' name='opus' clockrate='48000' channels='2'>" \
	"<parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>" \
	"<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>" \
	"</payload-type>" \
	"<payload-type id='63' name='red' clockrate='48000' channels='2'/>" \
	"<payload-type id='9' name='G722' clockrate='8000'/>" \
	"<payload-type id='0' name='PCMU' clockrate='8000'/>" \
	"<payload-type id='8' name='PCMA' clockrate='8000'/>" \
	"<payload-type id='13' name='CN' clockrate='8000'/>" \
	"<payload-type id='110' name='telephone-event' clockrate='48000'/>" \
	"<payload-type id='126' name='telephone-event' clockrate='8000'/>" \
	"<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' " \
	"uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>" \
	"<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='2' " \
	"uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'/>" \
	"<rtcp-mux/>" \
	"<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3418472983'>" \
	"<parameter name='cname' value='x7B2o9'/></source>" \
	"</description>" \
	"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Ukbh' " \
	"pwd='q8Yh2mDl0Zs3Kp5Xw7Vr1N'>" \
	"<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>" \
	FP_THEIRS "</fingerprint></transport></content>" \
	"<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>" \
	"<content name='0'/></group></jingle>"

#define CONVERSATIONS_INITIATE \
	"<iq from='juliet@example.com/conv-1' to='r@call.test/tutti' type='set' id='si1'>" \
	CONVERSATIONS_JINGLE("bS4mdfVYv7Jc5hl3qmK3Gg") "</iq>"

#define DINO_JINGLE(sid) \
	"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' " \
	"initiator='romeo@example.net/dino.4f2a' sid='" sid "'>" \
	"<content creator='initiator' name='audio'>" \
	"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>" \
	"<payload-type id='99' name='opus' clockrate='48000' channels='2'>" \
	"<parameter name='useinbandfec' value='1'/></payload-type>" \
	"<payload-type id='98' name='speex' clockrate='32000'/>" \
	"<payload-type id='0' name='PCMU' clockrate='8000'/>" \
	"<payload-type id='101' name='telephone-event' clockrate='8000'/>" \
	"<rtcp-mux/></description>" \
	"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='hE2u' " \
	"pwd='Jq0F7tYb2LzWc9Nv4Rx8Am'>" \
	"<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>" \
	FP_THEIRS "</fingerprint>" \
	"<candidate component='1' foundation='1' generation='0' id='a1' ip='192.168.1.20' " \
	"network='0' port='50000' priority='2130706431' protocol='udp' type='host'/>" \
	"<candidate component='2' foundation='1' generation='0' id='a2' ip='192.168.1.20' " \
	"network='0' port='50001' priority='2130706430' protocol='udp' type='host'/>" \
	"<candidate component='1' foundation='2' generation='0' id='a3' ip='203.0.113.9' " \
	"network='0' port='50000' priority='1694498815' protocol='udp' type='srflx' " \
	"rel-addr='192.168.1.20' rel-port='50000'/>" \
	"<candidate component='1' foundation='3' generation='0' id='a4' " \
	"ip='5b1f2c3d-1111-2222-3333-444455556666.local' network='0' port='50002' " \
	"priority='2130706431' protocol='udp' type='host'/>" \
	"<candidate component='1' foundation='4' generation='0' id='a5' ip='192.168.1.20' " \
	"network='0' port='9' priority='1518280447' protocol='tcp' type='host'/>" \
	"</transport></content>" \
	"<content creator='initiator' name='video'>" \
	"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>" \
	"<payload-type id='96' name='VP8' clockrate='90000'/></description>" \
	"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='hE2u' " \
	"pwd='Jq0F7tYb2LzWc9Nv4Rx8Am'/></content></jingle>"

#define DINO_INITIATE \
	"<iq from='romeo@example.net/dino.4f2a' to='r@call.test' type='set' id='d1'>" \
	DINO_JINGLE("dino-sid-1") "</iq>"

/* Dino 0.4.2's real session-initiate (Debian 12), captured with dino --print-xmpp in the
 * hand test of docs/xmpp.md ("What clients were seen to do") and turned back into XML; only
 * the 'from' the server adds is written in. Opus 111 stereo with in-band FEC, speex, PCMU,
 * PCMA, an SDES <crypto/> beside the DTLS fingerprint, setup actpass, rtcp-mux, a
 * component-1 and a component-2 host candidate. */
#define DINO_REAL_INITIATE \
	"<iq from='bob@localhost/dino' id='fe6d1e25-0830-4975-8709-6cd046182e1d' type='set' to='standup@call.localhost/tutti'>" \
	"<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='bob@localhost/dino' sid='00f78ada-592b-4ab5-8272-933ef3c6812b'>" \
	"<content creator='initiator' name='audio' senders='both'>" \
	"<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>" \
	"<payload-type id='111' channels='2' clockrate='48000' name='opus'>" \
	"<parameter name='useinbandfec' value='1' /></payload-type>" \
	"<payload-type id='112' clockrate='32000' name='speex' />" \
	"<payload-type id='113' clockrate='16000' name='speex' />" \
	"<payload-type id='114' clockrate='8000' name='speex' />" \
	"<payload-type id='0' clockrate='8000' name='PCMU' />" \
	"<payload-type id='8' clockrate='8000' name='PCMA' /><encryption>" \
	"<crypto crypto-suite='AES_CM_128_HMAC_SHA1_80' key-params='inline:atoiriCS1K/Ti2t092j2ZTs4cdQyBbAQ4muoQA2i' tag='1' />" \
	"</encryption><rtcp-mux /></description>" \
	"<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='VDTg' pwd='sJo80pJEUiyWqF1b9IWYOC'>" \
	"<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>35:F7:77:61:15:23:07:26:2A:47:BB:E5:60:06:8B:D7:79:B8:85:05:F0:64:29:83:4C:80:E5:2A:BF:ED:01:03" \
	"</fingerprint>" \
	"<candidate component='1' foundation='1' generation='0' id='e0771b16' ip='10.99.0.1' network='0' port='59005' priority='2015363327' protocol='udp' type='host' />" \
	"<candidate component='2' foundation='1' generation='0' id='525d7e74' ip='10.99.0.1' network='0' port='33898' priority='2015363326' protocol='udp' type='host' />" \
	"</transport></content></jingle></iq>"

#endif
