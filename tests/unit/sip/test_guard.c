/* Unit tests of the SIP guard (gateways/sip/guard.h): which datagrams it answers instead of
 * sofia-sip, the exact response it builds, and the many it must leave alone. */
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "tt_test.h"

#define ALLOW "INVITE, ACK, BYE"

static int guard(const char *dgram, size_t len, char *out, size_t cap,
		 struct tt_sip_guard_answer *a)
{
	memset(out, 0, cap);
	int st = tt_sip_guard((const uint8_t *)dgram, len, "T1", ALLOW, (uint8_t *)out,
			      cap - 1, a);
	if (st)
		TT_ASSERT_INT_EQ(strlen(out), a->len);   /* (no NUL in these examples) */
	return st;
}

#define HDRS "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1\r\n" \
	     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n" \
	     "Call-ID: c1\r\nMax-Forwards: 70\r\n"

TT_TEST(sip_guard_other_version_gets_505)
{
	char out[2048];
	struct tt_sip_guard_answer a;
	const char *req = "OPTIONS sip:room@example.com SIP/7.0\r\n"
			  "Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
			  "Max-Forwards: 70\r\nFrom:    A <sip:a@example.com>;tag=q\r\n"
			  "To:      T <sip:t@example.org>\r\nCall-ID: badvers\r\n"
			  "CSeq:    1 OPTIONS\r\nl: 0\r\n\r\n";
	TT_ASSERT_INT_EQ(guard(req, strlen(req), out, sizeof out, &a), 505);
	TT_ASSERT_STR_EQ(out, "SIP/2.0 505 Version Not Supported\r\n"
			      "Via: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\n"
			      "From: A <sip:a@example.com>;tag=q\r\n"
			      "To: T <sip:t@example.org>;tag=T1\r\n"
			      "Call-ID: badvers\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
	TT_ASSERT_INT_EQ(a.via_port, 0);
	TT_ASSERT_INT_EQ(a.via_rport, 0);
}

TT_TEST(sip_guard_unknown_method_gets_501_with_allow)
{
	char out[2048];
	struct tt_sip_guard_answer a;
	/* folded and compact headers, two Vias, a To that already has a tag, rport */
	const char *req = "NEWMETHOD sip:room@example.com SIP/2.0\r\n"
			  "v: SIP/2.0/UDP [2001:db8::1]:5070;rport;branch=z9hG4bK1,\r\n"
			  " SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK2\r\n"
			  "f: <sip:a@example.com>;tag=1\r\nt: \"x>y\" <sip:room@example.com>;TAG=9\r\n"
			  "i: c1\r\nCSeq: 7 NEWMETHOD\r\nContent-Length: 0\r\n\r\n";
	TT_ASSERT_INT_EQ(guard(req, strlen(req), out, sizeof out, &a), 501);
	TT_ASSERT_STR_EQ(out, "SIP/2.0 501 Not Implemented\r\n"
			      "Via: SIP/2.0/UDP [2001:db8::1]:5070;rport;branch=z9hG4bK1, "
			      "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK2\r\n"
			      "From: <sip:a@example.com>;tag=1\r\n"
			      "To: \"x>y\" <sip:room@example.com>;TAG=9\r\n"
			      "Call-ID: c1\r\nCSeq: 7 NEWMETHOD\r\nAllow: " ALLOW "\r\n"
			      "Content-Length: 0\r\n\r\n");
	TT_ASSERT_INT_EQ(a.via_port, 5070);
	TT_ASSERT_INT_EQ(a.via_rport, 1);
}

/* RFC 4475 3.1.1.2 (intmeth): any token character in the method, raw control octets (NUL
 * included) in a quoted display name: copied as they are. */
TT_TEST(sip_guard_keeps_raw_octets)
{
	static const char req[] = "!odd-Method_*+`.%'~ sip:x@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66\r\n"
				  "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:x@example.com>\r\n"
				  "From: <sip:m@example.com>;tag=_t\r\nCall-ID: w@w\r\n"
				  "CSeq: 139122385 !odd-Method_*+`.%'~\r\n"
				  "ext-!.%*+_`'~: \xef\xbb\xbf\r\nContent-Length: 0\r\n\r\n";
	uint8_t out[2048];
	struct tt_sip_guard_answer a;
	TT_ASSERT_INT_EQ(tt_sip_guard((const uint8_t *)req, sizeof req - 1, "T1", ALLOW, out,
				      sizeof out, &a), 501);
	static const char to[] = "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:x@example.com>"
				 ";tag=T1\r\n";
	bool found = false;
	for (size_t i = 0; i + sizeof to - 1 <= a.len; i++)
		found |= memcmp(out + i, to, sizeof to - 1) == 0;
	TT_ASSERT(found);
	TT_ASSERT_INT_EQ(a.via_port, 0);
}

/* Everything else is sofia's (and the validation layer's). */
TT_TEST(sip_guard_leaves_the_rest_alone)
{
	char out[2048];
	struct tt_sip_guard_answer a;
	static const char *const theirs[] = {
		/* known methods in SIP/2.0, whatever else is wrong with them */
		"OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"REGISTER sip:example.com SIP/2.0\r\n" HDRS "CSeq: 1 REGISTER\r\n\r\n",
		"INVITE sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		/* responses, never answered */
		"SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"SIP/7.0 200 OK\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		/* request lines the validation layer refuses with 400 */
		"OPTIONS  sip:room@example.com SIP/7.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:room@example.com SIP/7.0 \r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS <sip:room@example.com> SIP/X.0\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:room@example.com SIP/7\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		"OPTIONS sip:room@example.com HTTP/1.1\r\n" HDRS "CSeq: 1 OPTIONS\r\n\r\n",
		" NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: 1 NEWMETHOD\r\n\r\n",
		/* an unknown method whose CSeq says another: 400 comes first */
		"NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n",
		"NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: INVITE\r\n\r\n",
		/* mandatory headers missing, duplicated, or no end of headers */
		"NEWMETHOD sip:room@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
		"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 NEWMETHOD\r\n\r\n",
		"NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "Call-ID: c2\r\n"
		"CSeq: 1 NEWMETHOD\r\n\r\n",
		"NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "CSeq: 1 NEWMETHOD\r\n",
		"NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS "CSeq 1 NEWMETHOD\r\n\r\n",
		" continuation first\r\nNEWMETHOD sip:r@e SIP/2.0\r\n\r\n",
		"NEWMETHOD sip:room@example.com SIP/2.0",
		"",
	};
	for (size_t i = 0; i < sizeof theirs / sizeof theirs[0]; i++) {
		int st = guard(theirs[i], strlen(theirs[i]), out, sizeof out, &a);
		if (st)
			fprintf(stderr, "example %zu answered %d\n", i, st);
		TT_ASSERT_INT_EQ(st, 0);
		TT_ASSERT_INT_EQ(a.len, 0);
	}
}

TT_TEST(sip_guard_response_too_large_is_not_ours)
{
	char out[64];
	struct tt_sip_guard_answer a;
	const char *req = "NEWMETHOD sip:room@example.com SIP/2.0\r\n" HDRS
			  "CSeq: 1 NEWMETHOD\r\n\r\n";
	TT_ASSERT_INT_EQ(guard(req, strlen(req), out, sizeof out, &a), 0);
	/* and a datagram cut anywhere never reads past its end (ASan watches) */
	for (size_t n = 0; n < strlen(req); n++) {
		char *copy = g_memdup2(req, n ? n : 1);
		char big[2048];
		(void)guard(copy, n, big, sizeof big, &a);
		g_free(copy);
	}
}

/* A request whose top Via names TCP or TLS in a UDP datagram: sofia-sip drops it, so the
 * guard answers what the gateway would (guard_parsed.c), on UDP (RFC 3261 18.2.1). */
#define TCPVIA "Via: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1\r\n" \
	       "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n" \
	       "Call-ID: c1\r\nMax-Forwards: 70\r\n"

static int via(const char *req, struct tt_sip_guard_parsed *v)
{
	return tt_sip_guard_parsed((const uint8_t *)req, strlen(req), ALLOW, v);
}

TT_TEST(sip_guard_via_transport_mismatch)
{
	struct tt_sip_guard_parsed v;
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 200);
	TT_ASSERT_STR_EQ(v.why, "a TCP Via");
	TT_ASSERT_STR_EQ(v.method, "OPTIONS");
	TT_ASSERT(strstr(v.extra, "Allow: " ALLOW "\r\n") != NULL);
	/* the validation layer's verdict, with its headers */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 OPTIONS\r\nRequire: nope\r\nContent-Length: 0\r\n\r\n", &v),
			 420);
	TT_ASSERT_STR_EQ(v.extra, "Unsupported: nope\r\n");
	TT_ASSERT_INT_EQ(via("OPTIONS mailto:room@example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 416);
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0 \r\n" TCPVIA
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_INT_EQ(via("REGISTER sip:example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", &v), 405);
	/* what needs a transaction sofia will not start */
	TT_ASSERT_INT_EQ(via("INVITE sip:room@example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_STR_EQ(v.phrase, "Via Transport Mismatch");
	TT_ASSERT_INT_EQ(via("ACK sip:room@example.com SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", &v), -1);
	/* TLS, folded and compact, LWS inside the protocol */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\n"
			     "v: SIP / 2.0 / TLS\r\n h.example.com;branch=z9hG4bK2\r\n"
			     "f: <sip:a@example.com>;tag=1\r\nt: <sip:room@example.com>\r\n"
			     "i: c1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", &v), 200);
	TT_ASSERT_STR_EQ(v.why, "a TLS Via");
	/* not ours: UDP (any case), responses, what sofia cannot parse as a request */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/udp 192.0.2.1;branch=z9hG4bK1\r\n"
			     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n"
			     "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(via("SIP/2.0 200 OK\r\n" TCPVIA "CSeq: 1 OPTIONS\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(via("", &v), 0);
	/* no end of headers: a verdict maybe, but no answer (the head is not copied) */
	const char *cut = "OPTIONS sip:room@example.com SIP/2.0\r\n" TCPVIA;
	char cut_out[1024];
	struct tt_sip_guard_answer cut_a;
	TT_ASSERT_INT_EQ(tt_sip_guard_reply((const uint8_t *)cut, strlen(cut), 400, "x", NULL,
					    "T1", (uint8_t *)cut_out, sizeof cut_out, &cut_a), 0);
	/* a folded top Via: the transport is on the next line */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\nVia: SIP/2.0\r\n"
			     "  /TCP h.example.com;branch=z9hG4bK3\r\n"
			     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n"
			     "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", &v), 200);
	TT_ASSERT_INT_EQ(via("OPTIONS sip:room@example.com SIP/2.0\r\nVia  : SIP  /   2.0\r\n"
			     "  /UDP h.example.com;branch=z9hG4bK3\r\n"
			     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\n"
			     "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n", &v), 0);

	/* the answer: the given status and extra headers, the head copied as for 505/501 */
	char out[2048] = "";
	struct tt_sip_guard_answer a;
	const char *req = "INVITE sip:room@example.com SIP/2.0\r\n" TCPVIA
			  "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	TT_ASSERT_INT_EQ(tt_sip_guard_reply((const uint8_t *)req, strlen(req), 400,
					    "Via Transport Mismatch", "X-A: b\r\n", "T1",
					    (uint8_t *)out, sizeof out - 1, &a), 400);
	TT_ASSERT_STR_EQ(out, "SIP/2.0 400 Via Transport Mismatch\r\n"
			      "Via: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK1\r\n"
			      "From: <sip:a@example.com>;tag=1\r\n"
			      "To: <sip:room@example.com>;tag=T1\r\n"
			      "Call-ID: c1\r\nCSeq: 1 INVITE\r\nX-A: b\r\n"
			      "Content-Length: 0\r\n\r\n");
	TT_ASSERT_INT_EQ(a.len, strlen(out));
	TT_ASSERT_INT_EQ(a.via_port, 5070);
	const char *resp = "SIP/2.0 200 OK\r\n" TCPVIA "CSeq: 1 OPTIONS\r\n\r\n";
	TT_ASSERT_INT_EQ(tt_sip_guard_reply((const uint8_t *)resp, strlen(resp), 400, "x", NULL,
					    "T1", (uint8_t *)out, sizeof out, &a), 0);
}

/* A datagram cut anywhere never makes the parsed path read past its end (ASan watches). */
TT_TEST(sip_guard_parsed_cut_datagrams)
{
	const char *reqs[] = {
		"INVITE sip:room@example.com SIP/2.0\r\n" TCPVIA "CSeq: 1 INVITE\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
		"OPTIONS sip:2001:db8::10 SIP/2.0\r\nv: SIP / 2.0\r\n /TLS h;branch=z9hG4bK1\r\n"
		"f: <sip:a@b>;tag=1\r\nt: <sip:c@d>\r\ni: x\r\nCSeq: 1 OPTIONS\r\n\r\n",
	};
	for (size_t r = 0; r < sizeof reqs / sizeof reqs[0]; r++) {
		for (size_t n = 0; n <= strlen(reqs[r]); n++) {
			uint8_t *copy = g_memdup2(reqs[r], n ? n : 1);
			struct tt_sip_guard_parsed v;
			struct tt_sip_guard_answer a;
			uint8_t out[2048];
			if (tt_sip_guard_parsed(copy, n, ALLOW, &v) > 0)
				(void)tt_sip_guard_reply(copy, n, v.status, v.phrase, v.extra, "T1",
							 out, sizeof out, &a);
			g_free(copy);
		}
	}
}

/* RFC 5118 4.2: a Request-URI sofia's URL parser refuses makes sofia drop the request
 * unanswered; the guard answers 400, over whatever Via. */
TT_TEST(sip_guard_unparsable_request_uri_gets_400)
{
	struct tt_sip_guard_parsed v;
	TT_ASSERT_INT_EQ(via("OPTIONS sip:2001:db8::10 SIP/2.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_STR_EQ(v.phrase, "Bad Request-URI");
	TT_ASSERT_STR_EQ(v.method, "OPTIONS");
	TT_ASSERT_INT_EQ(via("REGISTER sip:user@[2001:db8::10 SIP/2.0\r\n" TCPVIA
			     "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", &v), 400);
	TT_ASSERT_INT_EQ(via("ACK sip:2001:db8::10 SIP/2.0\r\n" HDRS
			     "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", &v), -1);
	/* what sofia parses is not ours (validation judges the host: 400 there) */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:[2001:db8::10] SIP/2.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(via("OPTIONS sip:user@[2001:db8:::1] SIP/2.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
	TT_ASSERT_INT_EQ(via("OPTIONS mailto:room@example.com SIP/2.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
	/* other versions are tt_sip_guard's (505) */
	TT_ASSERT_INT_EQ(via("OPTIONS sip:2001:db8::10 SIP/7.0\r\n" HDRS
			     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", &v), 0);
}
