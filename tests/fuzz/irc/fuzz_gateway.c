/* fuzz_gateway.c: a hostile IRC server's lines fed to the relay bot and a puppet-mode
 * gateway (membership, NAMES, MODE, NICK, KICK, CTCP, commands) over the fake core. */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include <tutti/log.h>

#include "fake_core.h"
#include "gw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct tt_gateway tt_gateway_irc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		tt_log_set_levels("error", NULL);  /* the fuzzer's lines are meant to be bad */
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
		tt__irc_conn_feed(net->bot, s + start, i - start);
		start = i + 1;
	}
	fake_say(bob, "hello from the room", 0);
	fake_voice_leave(bob);
	tt_gateway_irc.stop(fake.gw_state);
	tt_gateway_irc.free(fake.gw_state);
	fake.gw_state = NULL;
	/* let cancelled connects finish so nothing stays referenced between inputs */
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	fake_reset();
	return 0;
}
