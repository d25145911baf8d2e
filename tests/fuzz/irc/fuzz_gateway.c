/* fuzz_gateway.c: a hostile IRC server's lines fed to the relay bot and a puppet-mode
 * gateway (membership, NAMES, MODE, NICK, KICK, CTCP, commands) over the fake core, with
 * the links dropping and coming back in between.
 *
 * Input: lines. A line is a server line for the bot, unless it starts with \x01, then the
 * next byte is an event:
 *   d / r   the bot's link drops (ECONNRESET) / the bot reconnects (CAP, NICK, USER again;
 *           the server's lines that follow register it anew)
 *   D / R   the same for bob's puppet;  >LINE: LINE from the server to bob's puppet
 *   l / j   bob (on the phone) leaves the room / joins it (again)
 *   t       the net's rejoin timer fires now
 * A reconnect is what conn.c does once its TCP (and TLS) connect succeeded: the fuzzer has
 * no socket, so it stands in for connect_now() + connected() (the socket code itself is
 * covered by the unit tests against ngircd). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include <tutti/log.h>

#include "conn_priv.h"
#include "fake_core.h"
#include "gw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct tt_gateway tt_gateway_irc;

static void fire(guint *id)
{
	GSource *src = *id ? g_main_context_find_source_by_id(NULL, *id) : NULL;
	if (!src)
		return;
	g_source_set_ready_time(src, 0);
	for (int i = 0; i < 10 && *id && g_main_context_iteration(NULL, FALSE); i++)
		;
}

/* Whether the conn has a link in the real world (connecting, registering, registered or
 * quitting; the fuzzer's reconnects make none). Lines only come in on a link: after a drop
 * conn.c reads nothing more from it (process_lines stops), so neither does the fuzzer. */
static bool linked(const struct tt__irc_conn *c)
{
	return c && c->state != TT_IRC_ST_IDLE && c->state != TT_IRC_ST_ENDED;
}

/* The link failed: what on_read/on_written/the ping timer do. */
static void drop(struct tt__irc_conn *c)
{
	if (linked(c))
		tt__irc_conn_drop(c, -ECONNRESET);
}

/* The reconnect timer ran and the connect succeeded. */
static void reconnect(struct tt__irc_conn *c)
{
	if (!c || c->state != TT_IRC_ST_IDLE || !c->reconnect_timer)
		return;
	g_source_remove(c->reconnect_timer);
	c->reconnect_timer = 0;
	c->state = TT_IRC_ST_REGISTERING;
	tt__irc_session_begin(c);
}

static struct tt__irc_conn *puppet_of(struct tt__irc_net *net, struct fake_p *p)
{
	struct tt__irc_puppet *pp = p ? g_hash_table_lookup(net->puppets, p->id) : NULL;
	return pp ? pp->conn : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		tt_log_set_levels("error", NULL);  /* the fuzzer's lines are meant to be bad */
		/* no proxy lookup for 127.0.0.1: libproxy's C++ exceptions in GIO's resolver
		 * thread trip clang's ASan (a CHECK on __cxa_throw) in a C-only binary */
		g_setenv("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
		quiet = true;
	}
	fake.parts = g_ptr_array_new();
	fake.posted = g_ptr_array_new_with_free_func(g_free);
	fake.watched = g_ptr_array_new_with_free_func(g_free);
	fake.gw_desc = &tt_gateway_irc;
	/* port 1 on loopback: the real connect fails later, the fed lines never wait for it */
	fake_conf_load("[irc.f]\nserver = 127.0.0.1\nport = 1\nmode = puppet\n"
		       "channels = #c=room1, #d=room1:key, #e=room2\n");
	if (tt_gateway_irc.start(fake_gw(), &fake_api, fake_conf(), &fake.gw_state) != 0)
		return 0;
	struct tt__irc_gw *g = fake.gw_state;
	struct tt__irc_net *net = g->nets->pdata[0];
	/* someone on the phone, so roster and puppet paths have a subject */
	struct fake_p *bob = fake_voice_join("room1", "bob");
	const char *s = (const char *)data;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		const char *line = s + start;
		size_t len = i - start;
		start = i + 1;
		if (len < 2 || line[0] != '\x01') {
			if (linked(net->bot))
				tt__irc_conn_feed(net->bot, line, len);
			continue;
		}
		switch (line[1]) {
		case 'd': drop(net->bot); break;
		case 'r': reconnect(net->bot); break;
		case 'D': drop(puppet_of(net, bob)); break;
		case 'R': reconnect(puppet_of(net, bob)); break;
		case '>': {
			struct tt__irc_conn *pc = puppet_of(net, bob);
			if (linked(pc))
				tt__irc_conn_feed(pc, line + 2, len - 2);
			break;
		}
		case 'l':
			if (bob && bob->alive) {
				fake_voice_leave(bob);
				bob = NULL;
			}
			break;
		case 'j':
			if (!bob || !bob->alive)
				bob = fake_voice_join("room1", "bob");
			break;
		case 't': fire(&net->rejoin_timer); break;
		default: break;
		}
	}
	if (bob && bob->alive) {
		fake_say(bob, "hello from the room", 0);
		fake_voice_leave(bob);
	}
	tt_gateway_irc.stop(fake.gw_state);
	tt_gateway_irc.free(fake.gw_state);
	fake.gw_state = NULL;
	/* let cancelled connects finish so nothing stays referenced between inputs */
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	fake_reset();
	return 0;
}
