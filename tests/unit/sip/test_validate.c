/* Unit tests of the SIP validation layer: hand-made requests for each rule, and every
 * RFC 4475 message whose MANIFEST outcome is a specific status, parsed by sofia as the
 * gateway parses it (MSG_DO_EXTRACT_COPY). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#include "tt_test.h"
#include "validate.h"

static int check_text(const char *text, struct tt_sip_verdict *v)
{
	msg_t *m = msg_make(sip_default_mclass(), MSG_DO_EXTRACT_COPY, text, (ssize_t)strlen(text));
	int st = tt_sip_validate(m ? sip_object(m) : NULL, v);
	msg_destroy(m);
	return st;
}

#define HDRS "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n" \
	     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n" \
	     "Call-ID: c1\r\nMax-Forwards: 70\r\n"

TT_TEST(sip_validate_good_options_and_invite)
{
	struct tt_sip_verdict v;
	TT_ASSERT_INT_EQ(check_text("OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(check_text("INVITE sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 INVITE\r\nRequire: timer\r\n"
				    "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
				    &v), 0);
}

TT_TEST(sip_validate_rules)
{
	struct tt_sip_verdict v;
	TT_ASSERT_INT_EQ(check_text("OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_INT_EQ(check_text("OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 OPTIONS\r\nRequire: foo, timer, bar\r\n"
				    "Content-Length: 0\r\n\r\n", &v), 420);
	TT_ASSERT_STR_EQ(v.unsupported, "foo, bar");
	TT_ASSERT_INT_EQ(check_text("INVITE sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 INVITE\r\nContent-Type: text/html\r\n"
				    "Content-Length: 4\r\n\r\nv=0\n", &v), 415);
	TT_ASSERT_STR_EQ(v.accept, "application/sdp");
	TT_ASSERT_INT_EQ(check_text("OPTIONS mailto:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 416);
	TT_ASSERT_INT_EQ(check_text("OPTIONS  sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_INT_EQ(check_text("OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 OPTIONS\r\nMax-Forwards: 300\r\n"
				    "Content-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_INT_EQ(check_text("FOO sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n", &v), 501);
	TT_ASSERT_INT_EQ(check_text("INVITE sip:room@example.com SIP/2.0\r\n" HDRS
				    "CSeq: 1 INVITE\r\nAccept: text/plain\r\n"
				    "Content-Length: 0\r\n\r\n", &v), 406);
	/* missing Call-ID */
	TT_ASSERT_INT_EQ(check_text("OPTIONS sip:room@example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
				    "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 OPTIONS\r\n"
				    "Content-Length: 0\r\n\r\n", &v), 400);
	/* a response is never answered */
	TT_ASSERT_INT_EQ(check_text("SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n"
				    "Content-Length: 0\r\n\r\n", &v), -1);
	TT_ASSERT_INT_EQ(tt_sip_validate(NULL, &v), -1);
}

TT_TEST(sip_validate_rfc4475_specific_codes)
{
	const char *shared = tt_test_shared_dir();
	if (!shared)
		tt_test_skip("no ../shared corpora");
	char path[4096];
	snprintf(path, sizeof path, "%s/corpora/sip/rfc4475/MANIFEST.tsv", shared);
	FILE *f = fopen(path, "r");
	if (!f)
		tt_test_skip("no RFC 4475 corpus");
	char line[512];
	int checked = 0;
	while (fgets(line, sizeof line, f)) {
		char name[64], sect[32], exp[64];
		if (line[0] == '#' || sscanf(line, "%63s %31s %63s", name, sect, exp) != 3)
			continue;
		/* only plain "NNN" or "NNN/MMM" outcomes that the layer itself decides */
		if (strchr(exp, '|') || !strchr("0123456789", exp[0]))
			continue;
		if (!strcmp(name, "badvers.dat") || !strcmp(name, "intmeth.dat") ||
		    !strcmp(name, "esc02.dat") || !strcmp(name, "sdp01.dat"))
			continue;   /* transport drops them, or 501/488 come from elsewhere */
		snprintf(path, sizeof path, "%s/corpora/sip/rfc4475/%s", shared, name);
		FILE *d = fopen(path, "rb");
		TT_ASSERT_MSG(d, "open %s", path);
		static char buf[70000];
		size_t n = fread(buf, 1, sizeof buf - 1, d);
		fclose(d);
		buf[n] = 0;
		msg_t *m = msg_make(sip_default_mclass(), MSG_DO_EXTRACT_COPY, buf, (ssize_t)n);
		struct tt_sip_verdict v;
		int st = tt_sip_validate(m ? sip_object(m) : NULL, &v);
		msg_destroy(m);
		char code[8];
		snprintf(code, sizeof code, "%d", st);
		TT_ASSERT_MSG(strstr(exp, code), "%s: expected %s, validation says %d", name, exp,
			      st);
		checked++;
	}
	fclose(f);
	TT_ASSERT_MSG(checked >= 6, "only %d corpus files checked", checked);
}

/* RFC 5118 (IPv6 torture tests), the parts a UAS decides from the URIs. sofia's URL parser
 * takes any text between the brackets, so the validation layer checks the hosts. */
static int with_uris(const char *ruri, const char *from, const char *to, const char *contact)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1\r\n"
		 "From: <%s>;tag=1\r\nTo: <%s>\r\nCall-ID: c1\r\nMax-Forwards: 70\r\n"
		 "CSeq: 1 OPTIONS\r\n%s%s%s"
		 "Content-Length: 0\r\n\r\n",
		 ruri, from, to, contact ? "Contact: <" : "", contact ? contact : "",
		 contact ? ">\r\n" : "");
	struct tt_sip_verdict v;
	return check_text(text, &v);
}

TT_TEST(sip_validate_rfc5118_ipv6_references)
{
	const char *ok = "sip:a@[2001:db8::10]";
	/* 4.1, 4.3 (port-ambiguous: the last group is part of the address), 4.4, 4.9, 4.10 */
	TT_ASSERT_INT_EQ(with_uris("sip:[2001:db8::10]", ok, ok, ok), 0);
	TT_ASSERT_INT_EQ(with_uris("sip:[2001:db8::10:5070]", ok, ok, NULL), 0);
	TT_ASSERT_INT_EQ(with_uris("sip:[2001:db8::10]:5070", ok, ok, NULL), 0);
	TT_ASSERT_INT_EQ(with_uris("sip:[::ffff:192.0.2.10]", ok, ok, NULL), 0);
	TT_ASSERT_INT_EQ(with_uris("sip:user@[2001:db8::192.0.2.1]", ok, ok, NULL), 0);
	TT_ASSERT_INT_EQ(with_uris("sip:user@example.com:5060", "sip:a@192.0.2.1",
				   "sip:user@example.com", "sip:a@host9.example.com:5062"), 0);
	/* other schemes are not checked here (RFC 4475 unksm2: process) */
	TT_ASSERT_INT_EQ(with_uris("sip:[2001:db8::10]", "x-unk:abc", "tel:+1555", NULL), 0);
	/* 4.10: three colons; 4.2: an address without brackets */
	TT_ASSERT_INT_EQ(with_uris("sip:user@[2001:db8:::192.0.2.1]", ok, ok, NULL), 400);
	/* (sofia's parser refuses this request line itself: not a request to us) */
	TT_ASSERT(with_uris("sip:2001:db8::10", ok, ok, NULL) != 0);
	TT_ASSERT_INT_EQ(with_uris(ok, "sip:a@2001:db8::10", ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris("sip:[1::2::3]", ok, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris("sip:[2001:db8::g]", ok, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris("sips:[1:2:3:4:5:6:7:8:9]", ok, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris("sip:user@192.0.2.256", ok, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris("sip:user@example.com:65536", ok, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris(ok, ok, ok, "sip:a@example.com:5x"), 400);
	/* the same in From, To and Contact */
	const char *bad = "sip:a@[2001:db8:::192.0.2.1]";
	TT_ASSERT_INT_EQ(with_uris(ok, bad, ok, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris(ok, ok, bad, NULL), 400);
	TT_ASSERT_INT_EQ(with_uris(ok, ok, ok, bad), 400);
	TT_ASSERT_INT_EQ(with_uris(ok, ok, ok, "sip:a@[2001:db8::1]:99999"), 400);
}

/* Hosts elsewhere: Via sent-by (RFC 5118 4.5: received= may hold an unbracketed IPv6
 * address, that is a parameter and not ours) and Record-Route. */
TT_TEST(sip_validate_via_and_record_route_hosts)
{
	struct tt_sip_verdict v;
	char text[1024];
	static const struct { const char *via, *rr; int st; } cases[] = {
		{ "[2001:db8::9:1]:6050;branch=z9hG4bKa;received=[2001:db8::9:255]", NULL, 0 },
		{ "[2001:db8::9:1]:6050;branch=z9hG4bKb;received=2001:db8::9:255", NULL, 0 },
		{ "host9.example.com;branch=z9hG4bKc", "<sip:p.example.com;lr>", 0 },
		{ "[2001:db8:::9:1];branch=z9hG4bKd", NULL, 400 },
		{ "192.0.2.300;branch=z9hG4bKe", NULL, 400 },
		{ "192.0.2.3:70000;branch=z9hG4bKf", NULL, 400 },
		{ "192.0.2.3;branch=z9hG4bKg", "<sip:[2001:db8:::1];lr>", 400 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text,
			 "OPTIONS sip:room@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %s\r\n"
			 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n"
			 "Call-ID: c1\r\nMax-Forwards: 70\r\nCSeq: 1 OPTIONS\r\n%s%s%s"
			 "Content-Length: 0\r\n\r\n", cases[i].via, cases[i].rr ? "Record-Route: " : "",
			 cases[i].rr ? cases[i].rr : "", cases[i].rr ? "\r\n" : "");
		int st = check_text(text, &v);
		TT_ASSERT_MSG(st == cases[i].st, "Via %s, Record-Route %s: %d", cases[i].via,
			      cases[i].rr ? cases[i].rr : "-", st);
	}
}
