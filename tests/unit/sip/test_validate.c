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
