/* notices.c: "joined the room" / "left the room" notices of a channel, gathered while the
 * bot's send queue is busy. The server lets the bot send about a line a second; a room where
 * phones come and go all the time makes one notice per event, and one at a time they would
 * crowd out what people say (the soak: 269 calls in ten minutes, web chat 32 lines behind
 * and then lost at the end). So a notice goes out at once while the queue is empty, as
 * before; otherwise the events wait, and are said together in one line per kind once the
 * queue has drained, or after NOTICE_MAX_WAIT_MS at the latest. Core thread only. */
#include <string.h>

#include "gw.h"

#define NOTICE_POLL_MS 500
#define NOTICE_MAX_WAIT_MS 10000
#define NOTICE_MAX_NAMES 10      /* named in one line; the rest are counted */

static void say_list(struct tt__irc_chan *ch, GPtrArray *who, const char *what)
{
	if (!who->len)
		return;
	GString *t = g_string_new(NULL);
	if (who->len == 1) {   /* as one event always read: "ann joined the room (phone)" */
		const char *name = who->pdata[0];
		g_string_printf(t, "%s %s (%s)", name, what, name + strlen(name) + 1);
	} else {               /* "joined the room: ann (phone), bob (web)" */
		g_string_printf(t, "%s: ", what);
		for (guint i = 0; i < who->len && i < NOTICE_MAX_NAMES; i++) {
			const char *name = who->pdata[i];
			g_string_append_printf(t, "%s%s (%s)", i ? ", " : "", name,
					       name + strlen(name) + 1);
		}
		if (who->len > NOTICE_MAX_NAMES)
			g_string_append_printf(t, " and %u more", who->len - NOTICE_MAX_NAMES);
	}
	tt__irc_notice(ch, t->str);
	g_string_free(t, TRUE);
	g_ptr_array_set_size(who, 0);
}

static void flush(struct tt__irc_chan *ch)
{
	say_list(ch, ch->notice_joined, "joined the room");
	say_list(ch, ch->notice_left, "left the room");
}

static bool queue_busy(const struct tt__irc_chan *ch)
{
	return ch->net->bot && tt__irc_conn_queued(ch->net->bot) > 0;
}

static gboolean on_poll(gpointer data)
{
	struct tt__irc_chan *ch = data;
	if (queue_busy(ch) &&
	    g_get_monotonic_time() - ch->notice_since < NOTICE_MAX_WAIT_MS * (int64_t)1000)
		return G_SOURCE_CONTINUE;
	ch->notice_timer = 0;
	flush(ch);
	return G_SOURCE_REMOVE;
}

void tt__irc_roster_notice(struct tt__irc_chan *ch, bool joined, const char *name,
			   const char *network)
{
	if (!ch->notice_joined) {
		ch->notice_joined = g_ptr_array_new_with_free_func(g_free);
		ch->notice_left = g_ptr_array_new_with_free_func(g_free);
	}
	/* "name\0network" in one block */
	size_t n = strlen(name) + 1, m = strlen(network) + 1;
	char *who = g_malloc(n + m);
	memcpy(who, name, n);
	memcpy(who + n, network, m);
	g_ptr_array_add(joined ? ch->notice_joined : ch->notice_left, who);
	if (ch->notice_timer)
		return;
	if (!queue_busy(ch)) {
		flush(ch);
		return;
	}
	ch->notice_since = g_get_monotonic_time();
	ch->notice_timer = g_timeout_add(NOTICE_POLL_MS, on_poll, ch);
}

void tt__irc_roster_notices_free(struct tt__irc_chan *ch)
{
	if (ch->notice_timer)
		g_source_remove(ch->notice_timer);
	ch->notice_timer = 0;
	if (ch->notice_joined) {
		g_ptr_array_free(ch->notice_joined, TRUE);
		g_ptr_array_free(ch->notice_left, TRUE);
	}
	ch->notice_joined = ch->notice_left = NULL;
}
