/* fuzz_xmpp_stanza.c: hostile stanzas to the MUC service (and the gateway's dispatch) over
 * the fake core, a few per input so that joins, messages and leaves build state the next
 * stanza meets; what the service sends must serialise and parse back (muc_env.c checks).
 *
 * Input: lines. A line is one stanza for xg_stanza_in, unless it starts with \x01, then the
 * next byte is an event:
 *   j / l   bob (on the phone) joins room r1 / leaves it
 *   s / t   bob says a line / bob's talking state flips
 *   k       the first live XMPP participant is kicked (hang_up)
 *   d       the component stream went down
 *   S       the gateway stops (332 to everyone)
 *   m       the admin API starts or stops r1's recording (a meeting event)
 * Room r1's moderator PIN is 99 (the MUC password makes a moderator: role changes and
 * !commands then act through the fake core's moderate). */
#include <stdint.h>
#include <string.h>
#include <glib.h>
#include <tutti/log.h>

#include "muc_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void event(char e, struct fake_p **bob)
{
	switch (e) {
	case 'j':
		if (!*bob || !(*bob)->alive)
			*bob = fake_other_join("r1", "bob", "phone");
		break;
	case 'l':
		if (*bob && (*bob)->alive)
			fake_other_leave(*bob);
		break;
	case 's':
		if (*bob && (*bob)->alive)
			fake_say(*bob, "a line from the phone", 0);
		break;
	case 't':
		if (*bob && (*bob)->alive)
			fake_set_state(*bob, TT_PS_TALKING, !((*bob)->state & TT_PS_TALKING));
		break;
	case 'k':
		for (guint i = 0; i < fake.parts->len; i++) {
			struct fake_p *p = fake.parts->pdata[i];
			if (p->alive && !strcmp(p->gateway, "xmpp")) {
				fake_api.participant_kick((struct tt_participant *)p, "fuzz");
				break;
			}
		}
		break;
	case 'm':
		fake.recording = !fake.recording;
		fake_meeting("r1", fake.recording ? TT_MOD_RECORD_START : TT_MOD_RECORD_STOP,
			     NULL, NULL, NULL);
		break;
	case 'd':
		xg_muc_link(&env.gw, false);
		break;
	case 'S':
		xg_muc_stop(&env.gw);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		tt_log_set_levels("error", NULL);
		quiet = true;
	}
	if (size > 64 * 1024)
		return 0;
	env_up("[room.sec]\npin = 1234\n");
	fake_room_set("sec", "1234", false, 0);
	fake_room_set("locked", NULL, true, 0);
	fake_room_set("small", NULL, false, 2);
	fake_room_set("r1", NULL, false, 0);
	fake_room_mod_pin("r1", "99");
	fake.can_record = true;
	struct fake_p *bob = NULL;
	char *text = g_strndup((const char *)data, size);   /* stops at a NUL, as a stream */
	char **lines = g_strsplit(text, "\n", 64);
	for (char **l = lines; *l; l++) {
		if ((*l)[0] == '\x01') {
			event((*l)[1], &bob);
			continue;
		}
		if ((*l)[0])
			env_in("%s", *l);
		/* a stanza's reply is checked when sent; keep memory flat for long inputs */
		env_clear();
	}
	g_strfreev(lines);
	g_free(text);
	env_down();
	return 0;
}
