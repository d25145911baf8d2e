/* test_line.c: the strict IRC line parser. */
#include "tt_test.h"
#include "line.h"

#include <errno.h>
#include <glib.h>

static struct tt__irc_msg *parse_ok(const char *s)
{
	struct tt__irc_msg *m = NULL;
	int err = tt__irc_msg_parse(&m, s, strlen(s));
	TT_ASSERT_MSG(err == 0, "parse \"%s\": %d", s, err);
	TT_ASSERT(m != NULL);
	return m;
}

static int parse_err(const char *s, size_t len)
{
	struct tt__irc_msg *m = (struct tt__irc_msg *)0x1;
	int err = tt__irc_msg_parse(&m, s, len);
	TT_ASSERT_MSG(m == (struct tt__irc_msg *)0x1, "output written on failure");
	return err;
}

TT_TEST(irc_line_full)
{
	struct tt__irc_msg *m = parse_ok(
		"@time=2024-01-01T00:00:00.000Z;+x/y=a\\sb\\:c\\\\;flag "
		":nick!user@host.example PRIVMSG #chan :hello  world :)\r\n");
	TT_ASSERT_INT_EQ(m->ntags, 3);
	TT_ASSERT_STR_EQ(tt__irc_msg_tag(m, "time"), "2024-01-01T00:00:00.000Z");
	TT_ASSERT_STR_EQ(tt__irc_msg_tag(m, "+x/y"), "a b;c\\");
	TT_ASSERT_STR_EQ(tt__irc_msg_tag(m, "flag"), "");
	TT_ASSERT(tt__irc_msg_tag(m, "nope") == NULL);
	TT_ASSERT_STR_EQ(m->prefix, "nick!user@host.example");
	TT_ASSERT_STR_EQ(m->nick, "nick");
	TT_ASSERT_STR_EQ(m->user, "user");
	TT_ASSERT_STR_EQ(m->host, "host.example");
	TT_ASSERT_STR_EQ(m->command, "PRIVMSG");
	TT_ASSERT_INT_EQ(m->nparams, 2);
	TT_ASSERT_STR_EQ(m->params[0], "#chan");
	TT_ASSERT_STR_EQ(m->params[1], "hello  world :)");
	tt__irc_msg_free(m);
}

TT_TEST(irc_line_forms)
{
	struct tt__irc_msg *m = parse_ok("ping :abc");
	TT_ASSERT_STR_EQ(m->command, "PING");
	TT_ASSERT(m->prefix == NULL);
	TT_ASSERT_STR_EQ(tt__irc_msg_param(m, 0), "abc");
	TT_ASSERT(tt__irc_msg_param(m, 1) == NULL);
	tt__irc_msg_free(m);

	m = parse_ok(":irc.example 001 me :Welcome");
	TT_ASSERT_STR_EQ(m->nick, "irc.example");
	TT_ASSERT(m->user == NULL && m->host == NULL);
	TT_ASSERT_STR_EQ(m->command, "001");
	tt__irc_msg_free(m);

	m = parse_ok(":srv CAP * LS :");  /* empty trailing is a param */
	TT_ASSERT_INT_EQ(m->nparams, 3);
	TT_ASSERT_STR_EQ(m->params[2], "");
	tt__irc_msg_free(m);

	m = parse_ok("QUIT");
	TT_ASSERT_INT_EQ(m->nparams, 0);
	tt__irc_msg_free(m);

	/* 14 middles, then the rest is trailing even without ':' */
	m = parse_ok("X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
	TT_ASSERT_INT_EQ(m->nparams, 15);
	TT_ASSERT_STR_EQ(m->params[14], "15 16");
	tt__irc_msg_free(m);
}

TT_TEST(irc_line_rejects)
{
	TT_ASSERT_INT_EQ(parse_err("", 0), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("\r\n", 2), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("PRIV\0MSG", 8), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("PRIVMSG #a :x\ry", 16), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err(": PING", 6), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err(":pfx", 4), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("@a=b", 4), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("@ PING", 6), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("@a=b ", 5), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("@k!=v PING", 10), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("@+=v PING", 9), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("12 x", 4), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err("PR1V x", 6), -EINVAL);
	TT_ASSERT_INT_EQ(parse_err(" PING", 5), -EINVAL);
}

TT_TEST(irc_line_length_limits)
{
	/* 510 bytes + CRLF = 512: the limit exactly; one more is too long. */
	char buf[9000];
	memset(buf, 'a', sizeof buf);
	memcpy(buf, "PRIVMSG #c :", 12);
	struct tt__irc_msg *m = NULL;
	TT_ASSERT_INT_EQ(tt__irc_msg_parse(&m, buf, 510), 0);
	TT_ASSERT_INT_EQ(strlen(m->params[1]), 510 - 12);
	tt__irc_msg_free(m);
	TT_ASSERT_INT_EQ(parse_err(buf, 511), -EMSGSIZE);

	/* tags do not count against the 512, but have their own 8191 */
	memset(buf, 'a', sizeof buf);
	buf[0] = '@';
	buf[4000] = ' ';
	memcpy(buf + 4001, "PING :x", 7);
	m = NULL;
	TT_ASSERT_INT_EQ(tt__irc_msg_parse(&m, buf, 4008), 0);
	TT_ASSERT_STR_EQ(m->command, "PING");
	tt__irc_msg_free(m);
	buf[4000] = 'a';
	buf[8300] = ' ';
	memcpy(buf + 8301, "PING :x", 7);
	TT_ASSERT_INT_EQ(parse_err(buf, 8308), -EMSGSIZE);
}

TT_TEST(irc_line_middle_ok)
{
	TT_ASSERT(tt__irc_middle_ok("#chan"));
	TT_ASSERT(!tt__irc_middle_ok(""));
	TT_ASSERT(!tt__irc_middle_ok(":x"));
	TT_ASSERT(!tt__irc_middle_ok("a b"));
	TT_ASSERT(!tt__irc_middle_ok("a\r\nQUIT"));
}
