/* relay.c: the per-network bot: channel membership as room participants, text both ways. */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "nick.h"
#include "text.h"

#define REJOIN_MS 5000
/* Room for a formatted relay line even with an absurd name: the server cuts the rest. */
#define MIN_TEXT_BUDGET 32

struct tt__irc_chan *tt__irc_chan_find(struct tt__irc_net *net, const char *name)
{
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (tt__irc_nick_eq(ch->name, name))  /* channels fold like nicks */
			return ch;
	}
	return NULL;
}

bool tt__irc_net_is_ours(struct tt__irc_net *net, const char *nick)
{
	if (net->bot && tt__irc_nick_eq(tt__irc_conn_nick(net->bot), nick))
		return true;
	return tt__irc_puppet_nick_is(net, nick);
}

/* ---- members: IRC channel members are text-only room participants ---- */

void tt__irc_member_free(gpointer data)
{
	struct tt__irc_member *m = data;
	if (m->p)
		m->p = m->chan->net->gw->api->participant_leave(m->p, 0);
	g_free(m->nick);
	g_free(m->prefixes);
	g_free(m);
}

static struct tt__irc_member *member_get(struct tt__irc_chan *ch, const char *nick)
{
	char *k = tt__irc_nick_fold(nick);
	struct tt__irc_member *m = g_hash_table_lookup(ch->members, k);
	g_free(k);
	return m;
}

static struct tt__irc_member *member_add(struct tt__irc_chan *ch, const char *nick,
					 const char *prefixes)
{
	struct tt__irc_member *m = member_get(ch, nick);
	if (m) {
		g_free(m->prefixes);
		m->prefixes = g_strdup(prefixes);
		tt__irc_member_sync_moderator(m);
		return m;
	}
	if (tt__irc_net_is_ours(ch->net, nick))
		return NULL;
	m = g_new0(struct tt__irc_member, 1);
	m->chan = ch;
	m->nick = g_strdup(nick);
	m->prefixes = g_strdup(prefixes);
	g_hash_table_replace(ch->members, tt__irc_nick_fold(nick), m);
	tt__irc_member_join(m);
	return m;
}

bool tt__irc_member_join(struct tt__irc_member *m)
{
	struct tt__irc_chan *ch = m->chan;
	struct tt__irc_gw *gw = ch->net->gw;
	struct tt_join req = {
		.room = ch->room, .name = m->nick, .network = NULL, .caps = TT_CAP_TEXT,
		.gw_data = m, .medium = ch->medium,
	};
	/* A room that refused the watch at start (no such room) refuses members too: one
	 * warning then, not one per nick now. */
	int err = ch->medium ? gw->api->participant_join(gw->gw, &req, &m->p) : -ENOENT;
	if (err && ch->medium)
		tt_warn("%s: %s in %s could not join room %s: %s", ch->net->name, m->nick,
			ch->name, ch->room, tt_strerror(err));
	if (err)
		m->p = NULL;
	tt__irc_member_sync_moderator(m);
	return m->p != NULL;
}

static void member_remove(struct tt__irc_chan *ch, const char *nick, int reason)
{
	char *k = tt__irc_nick_fold(nick);
	struct tt__irc_member *m = g_hash_table_lookup(ch->members, k);
	if (m && m->p)
		m->p = ch->net->gw->api->participant_leave(m->p, reason);
	g_hash_table_remove(ch->members, k);
	g_free(k);
}

void tt__irc_chan_clear(struct tt__irc_chan *ch, int reason)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, ch->members);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct tt__irc_member *m = v;
		if (m->p)
			m->p = ch->net->gw->api->participant_leave(m->p, reason);
	}
	g_hash_table_remove_all(ch->members);
	ch->joined = false;
}

/* PREFIX=(ov)@+: returns the status symbols, most powerful first, and sets their modes
 * (RFC 1459's "(ov)@+" when the server did not say). */
static const char *prefix_parse(struct tt__irc_net *net, const char **modes, size_t *nmodes)
{
	const char *p = tt__irc_conn_isupport(net->bot, "PREFIX");
	const char *close = p ? strchr(p, ')') : NULL;
	if (!p || p[0] != '(' || !close) {
		*modes = "ov";
		*nmodes = 2;
		return "@+";
	}
	*modes = p + 1;
	*nmodes = (size_t)(close - p - 1);
	return close + 1;
}

static const char *prefix_symbols(struct tt__irc_net *net)
{
	const char *modes;
	size_t n;
	return prefix_parse(net, &modes, &n);
}

bool tt__irc_member_is_op(struct tt__irc_net *net, const struct tt__irc_member *m)
{
	/* +o, or any status above it (~ founder, & admin) where the server has them. */
	const char *sym = prefix_symbols(net);
	const char *op = strchr(sym, '@');
	for (const char *p = m->prefixes; *p; p++) {
		const char *at = strchr(sym, *p);
		if (at && (!op || at <= op))
			return true;
	}
	return false;
}

static void on_names(struct tt__irc_net *net, const struct tt__irc_msg *m)
{
	/* 353 me = #chan :@op +v nick (several prefixes with multi-prefix) */
	if (m->nparams < 4)
		return;
	struct tt__irc_chan *ch = tt__irc_chan_find(net, m->params[2]);
	if (!ch)
		return;
	const char *sym = prefix_symbols(net);
	char **names = g_strsplit(m->params[3], " ", -1);
	for (char **n = names; *n; n++) {
		const char *nick = *n;
		while (*nick && strchr(sym, *nick))
			nick++;
		char *pre = g_strndup(*n, (gsize)(nick - *n));
		if (*nick && tt__irc_nick_valid(nick, 64))
			member_add(ch, nick, pre);
		g_free(pre);
	}
	g_strfreev(names);
}

/* MODE #chan +o-v alice bob: track status prefixes; other modes only consume params. */
static void on_mode(struct tt__irc_net *net, const struct tt__irc_msg *m)
{
	if (m->nparams < 2)
		return;
	struct tt__irc_chan *ch = tt__irc_chan_find(net, m->params[0]);
	if (!ch)
		return;
	size_t nmodes;
	const char *modes;
	const char *sym = prefix_parse(net, &modes, &nmodes);
	const char *cm = tt__irc_conn_isupport(net->bot, "CHANMODES");
	char **groups = g_strsplit(cm ? cm : "b,k,l,imnpst", ",", 4);
	size_t ng = g_strv_length(groups);
	size_t arg = 2;
	bool plus = true;
	for (const char *c = m->params[1]; *c; c++) {
		if (*c == '+' || *c == '-') {
			plus = *c == '+';
			continue;
		}
		const char *pm = memchr(modes, *c, nmodes);
		if (pm && (size_t)(pm - modes) >= strlen(sym))
			pm = NULL;  /* a malformed PREFIX with fewer symbols than modes */
		if (pm) {
			const char *target = tt__irc_msg_param(m, arg++);
			struct tt__irc_member *mem = target ? member_get(ch, target) : NULL;
			char s = sym[pm - modes];
			if (mem && plus && !strchr(mem->prefixes, s)) {
				char *np = g_strdup_printf("%s%c", mem->prefixes, s);
				g_free(mem->prefixes);
				mem->prefixes = np;
			} else if (mem && !plus) {
				char *at = strchr(mem->prefixes, s);
				if (at)
					memmove(at, at + 1, strlen(at));
			}
			if (mem)
				tt__irc_member_sync_moderator(mem);
		} else if ((ng > 0 && strchr(groups[0], *c)) || (ng > 1 && strchr(groups[1], *c)) ||
			   (plus && ng > 2 && strchr(groups[2], *c))) {
			arg++;
		}
	}
	g_strfreev(groups);
}

static void on_privmsg(struct tt__irc_net *net, const struct tt__irc_msg *m)
{
	const char *target = tt__irc_msg_param(m, 0);
	const char *text = tt__irc_msg_param(m, 1);
	if (!target || !text || !m->nick || tt__irc_net_is_ours(net, m->nick))
		return;  /* our own lines (echo-message, puppets) never go back */
	struct tt__irc_chan *ch = tt__irc_chan_find(net, target);
	char *verb = NULL, *args = NULL;
	bool ctcp = tt__irc_ctcp_parse(text, &verb, &args);
	if (!ch) {
		if (ctcp && strcmp(verb, "VERSION") == 0)
			tt__irc_conn_send(net->bot, "NOTICE %s :\001VERSION tutti bridge\001",
					  m->nick);
		goto out;
	}
	struct tt__irc_member *mem = member_get(ch, m->nick);
	if (!mem)
		goto out;  /* not in the channel (a -n channel): no participant to speak as */
	bool action = ctcp && strcmp(verb, "ACTION") == 0;
	if (ctcp && !action)
		goto out;
	const char *body = action ? args : text;
	char *clean = tt__irc_strip(body, strlen(body));
	if (*clean && (action || !tt__irc_command(ch, mem, clean))) {
		/* through the channel's medium: the room and every other channel, not this one */
		int err = mem->p ? net->gw->api->text_post(mem->p, clean, strlen(clean),
							  action ? TT_TEXT_ACTION : 0)
				 : -ENOENT;
		if (err)
			tt_debug("%s: line from %s not posted: %s", net->name, m->nick,
				 tt_strerror(err));
	}
	g_free(clean);
out:
	g_free(verb);
	g_free(args);
}

static gboolean on_rejoin(gpointer data)
{
	struct tt__irc_net *net = data;
	net->rejoin_timer = 0;
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (!ch->joined && tt__irc_conn_registered(net->bot))
			tt__irc_conn_send(net->bot, "JOIN %s%s%s", ch->name, ch->key ? " " : "",
					  ch->key ? ch->key : "");
	}
	return G_SOURCE_REMOVE;
}

static void on_self_left(struct tt__irc_net *net, struct tt__irc_chan *ch, bool rejoin)
{
	tt__irc_chan_clear(ch, -ECONNRESET);
	if (rejoin && !net->rejoin_timer)
		net->rejoin_timer = g_timeout_add(REJOIN_MS, on_rejoin, net);
}

static void on_nick(struct tt__irc_net *net, const struct tt__irc_msg *m)
{
	const char *to = tt__irc_msg_param(m, 0);
	if (!to || !m->nick)
		return;
	/* There is no rename in the core: the old participant leaves, the new one joins. */
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		struct tt__irc_member *mem = member_get(ch, m->nick);
		if (!mem)
			continue;
		char *prefixes = g_strdup(mem->prefixes);
		member_remove(ch, m->nick, 0);
		member_add(ch, to, prefixes);
		g_free(prefixes);
	}
}

static void bot_message(struct tt__irc_conn *c, const struct tt__irc_msg *m, void *arg)
{
	struct tt__irc_net *net = arg;
	const char *cmd = m->command;
	const char *p0 = tt__irc_msg_param(m, 0);
	struct tt__irc_chan *ch = p0 ? tt__irc_chan_find(net, p0) : NULL;
	bool self = m->nick && tt__irc_nick_eq(m->nick, tt__irc_conn_nick(c));

	if (strcmp(cmd, "PRIVMSG") == 0) {
		on_privmsg(net, m);
	} else if (strcmp(cmd, "JOIN") == 0 && ch && m->nick) {
		if (self) {
			ch->joined = true;
			ch->told_away = false;
			tt_info("%s: joined %s (room %s)", net->name, ch->name, ch->room);
			tt__irc_recording_tell_channel(ch);
		} else {
			struct tt__irc_member *mem = member_add(ch, m->nick, "");
			if (mem && mem->p)
				tt__irc_recording_tell_joiner(ch, m->nick);
		}
	} else if (strcmp(cmd, "PART") == 0 && ch && m->nick) {
		if (self)
			on_self_left(net, ch, false);
		else
			member_remove(ch, m->nick, 0);
	} else if (strcmp(cmd, "KICK") == 0 && ch && m->nparams >= 2) {
		if (tt__irc_nick_eq(m->params[1], tt__irc_conn_nick(c))) {
			tt_warn("%s: kicked from %s; rejoining", net->name, ch->name);
			on_self_left(net, ch, true);
		} else {
			member_remove(ch, m->params[1], 0);
		}
	} else if (strcmp(cmd, "QUIT") == 0 && m->nick) {
		for (guint i = 0; i < net->chans->len; i++)
			member_remove(net->chans->pdata[i], m->nick, 0);
	} else if (strcmp(cmd, "NICK") == 0 && !self) {
		on_nick(net, m);
	} else if (strcmp(cmd, "353") == 0) {
		on_names(net, m);
	} else if (strcmp(cmd, "MODE") == 0) {
		on_mode(net, m);
	} else if ((strcmp(cmd, "471") == 0 || strcmp(cmd, "473") == 0 ||
		    strcmp(cmd, "474") == 0 || strcmp(cmd, "475") == 0) && m->nparams >= 2) {
		tt_error("%s: cannot join %s: %s", net->name, m->params[1],
			 m->params[m->nparams - 1]);
	}
}

static void bot_registered(struct tt__irc_conn *c, void *arg)
{
	struct tt__irc_net *net = arg;
	net->registrations++;
	net->up_since_us = g_get_monotonic_time();
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		tt__irc_conn_send(c, "JOIN %s%s%s", ch->name, ch->key ? " " : "",
				  ch->key ? ch->key : "");
	}
}

static void bot_closed(struct tt__irc_conn *c, int err, void *arg)
{
	struct tt__irc_net *net = arg;
	net->up_since_us = 0;
	if (err < 0) {
		net->drops++;
		net->last_error = err;
		net->error_at_us = g_get_monotonic_time();
	}
	/* Members are gone with the link: they come back from NAMES after the rejoin. */
	for (guint i = 0; i < net->chans->len; i++)
		tt__irc_chan_clear(net->chans->pdata[i], err < 0 ? err : 0);
}

void tt__irc_undelivered(struct tt__irc_net *net, const char *target, unsigned lines, int err)
{
	struct tt__irc_chan *ch = tt__irc_chan_find(net, target);
	if (!ch || !ch->medium)
		return;  /* a private reply (CTCP VERSION): nobody in a room to tell */
	char *t = g_strdup_printf("%u line%s for IRC %s (%s) could not be delivered: %s", lines,
				  lines == 1 ? "" : "s", ch->name, net->name,
				  err == -ETIMEDOUT ? "the link to the server is down"
				  : err == -ENOBUFS ? "too much text at once"
				  : err == -ESHUTDOWN ? "the connection was closed" : tt_strerror(err));
	int e = net->gw->api->text_medium_notice(ch->medium, t);
	if (e)
		tt_debug("%s: notice to room %s: %s", net->name, ch->room, tt_strerror(e));
	g_free(t);
}

static void bot_undelivered(struct tt__irc_conn *c, const char *target, unsigned lines,
			    int err, void *arg)
{
	tt__irc_undelivered(arg, target, lines, err);
}

static const struct tt__irc_conn_ops bot_ops = {
	.registered = bot_registered, .message = bot_message, .closed = bot_closed,
	.undelivered = bot_undelivered,
};

void tt__irc_relay_connect(struct tt__irc_net *net)
{
	if (!net->bot && tt__irc_conn_alloc(&net->bot, &net->cfg, &bot_ops, net) != 0)
		return;
	tt__irc_conn_start(net->bot);
}

/* ---- text out ---- */

struct send_ctx {
	struct tt__irc_conn *c;
	const char *target, *fmt, *name, *network, *room;
	bool action, notice;
};

static void send_piece(const char *piece, size_t len, void *arg)
{
	struct send_ctx *s = arg;
	char *t = g_strndup(piece, len);
	char *line = s->fmt ? tt__irc_format(s->fmt, s->name, s->network, s->room, t)
			    : g_strdup(t);
	if (s->action)
		tt__irc_conn_send(s->c, "PRIVMSG %s :\001ACTION %s\001", s->target, line);
	else
		tt__irc_conn_send(s->c, "%s %s :%s", s->notice ? "NOTICE" : "PRIVMSG",
				  s->target, line);
	g_free(line);
	g_free(t);
}

/* Names go inside one IRC line: no line breaks or control characters. */
static char *one_line(const char *s)
{
	char *r = tt__irc_sanitize_out(s ? s : "", s ? strlen(s) : 0);
	for (char *p = r; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return r;
}

void tt__irc_send_text(struct tt__irc_conn *c, const char *target, const char *fmt,
		       const char *name, const char *network, const char *room,
		       const char *text, size_t len, bool action, bool notice)
{
	char *n = one_line(name), *w = one_line(network);
	struct send_ctx s = {c, target, fmt, n, w, room, action, notice};
	int budget = tt__irc_conn_text_budget(c, target) - (action ? 9 : 0);
	if (fmt) {
		char *empty = tt__irc_format(fmt, n, w, room, "");
		budget -= (int)strlen(empty);
		g_free(empty);
	}
	char *clean = tt__irc_sanitize_out(text, len);
	tt__irc_split(clean, strlen(clean), (size_t)MAX(budget, MIN_TEXT_BUDGET), send_piece, &s);
	g_free(clean);
	g_free(n);
	g_free(w);
}

void tt__irc_notice(struct tt__irc_chan *ch, const char *text)
{
	struct tt__irc_net *net = ch->net;
	if (!ch->joined || !tt__irc_conn_registered(net->bot))
		return;
	tt__irc_send_text(net->bot, ch->name, NULL, NULL, NULL, ch->room, text, strlen(text),
			  false, true);
}

void tt__irc_notice_to(struct tt__irc_net *net, const char *nick, const char *text)
{
	if (!tt__irc_conn_registered(net->bot) || !tt__irc_nick_valid(nick, 64))
		return;
	tt__irc_send_text(net->bot, nick, NULL, NULL, NULL, NULL, text, strlen(text), false,
			  true);
}

void tt__irc_say(struct tt__irc_chan *ch, const struct tt_text *msg)
{
	struct tt__irc_net *net = ch->net;
	if (!ch->joined || !tt__irc_conn_registered(net->bot)) {
		/* Not queued: a rejoin much later should not replay old chat. But not silent
		 * either: the room hears it once per outage. */
		if (!(msg->flags & TT_TEXT_NOTICE) && !ch->told_away && ch->medium) {
			ch->told_away = true;
			char *t = g_strdup_printf("IRC %s (%s) is not connected right now: text "
						  "does not reach it until the bridge is back",
						  ch->name, net->name);
			net->gw->api->text_medium_notice(ch->medium, t);
			g_free(t);
		}
		return;
	}
	bool action = msg->flags & TT_TEXT_ACTION;
	if (msg->flags & TT_TEXT_NOTICE) {
		tt__irc_notice(ch, msg->text);
		return;
	}
	struct tt__irc_puppet *pp = msg->from.id
		? tt__irc_puppet_ready(net, msg->from.id, ch->name) : NULL;
	if (pp) {
		tt__irc_send_text(pp->conn, ch->name, NULL, NULL, NULL, ch->room, msg->text,
				  msg->len, action, false);
		return;
	}
	tt__irc_send_text(net->bot, ch->name, action ? net->action_format : net->relay_format,
			  msg->from.name, msg->from.network, ch->room, msg->text, msg->len,
			  action, false);
}

/* ---- room events on IRC ---- */

static void notice_room(struct tt__irc_net *net, const char *room, const char *text)
{
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (strcmp(ch->room, room) == 0)
			tt__irc_notice(ch, text);
	}
}

static bool room_mapped(struct tt__irc_net *net, const char *room)
{
	for (guint i = 0; i < net->chans->len; i++)
		if (strcmp(((struct tt__irc_chan *)net->chans->pdata[i])->room, room) == 0)
			return true;
	return false;
}

static void notice_event(struct tt__irc_net *net, const struct tt_roster_event *ev, bool joined)
{
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (strcmp(ch->room, ev->room) == 0)
			tt__irc_roster_notice(ch, joined, ev->who.name ? ev->who.name : "?",
					      ev->who.network ? ev->who.network : "?");
	}
}

static void talking_notice(struct tt__irc_net *net, const struct tt_roster_event *ev)
{
	int64_t now = g_get_monotonic_time();
	int64_t *last = g_hash_table_lookup(net->talk_last, ev->who.id);
	if (last && now - *last < (int64_t)net->talking_interval_ms * 1000)
		return;  /* rate limit: a talkative person must not flood the channel */
	if (!last) {
		last = g_new(int64_t, 1);
		g_hash_table_insert(net->talk_last, g_strdup(ev->who.id), last);
	}
	*last = now;
	char *t = g_strdup_printf("%s is talking", ev->who.name);
	notice_room(net, ev->room, t);
	g_free(t);
}

void tt__irc_on_roster(struct tt__irc_net *net, const struct tt_roster_event *ev)
{
	if (!ev->room || !room_mapped(net, ev->room))
		return;
	if (ev->type == TT_ROSTER_STATE && (ev->changed & TT_PS_HAND) &&
	    (ev->who.state & TT_PS_HAND) && ev->who.id)
		tt__irc_hand_notice(net, ev);   /* anyone's, an IRC member's !hand too */
	if (ev->type == TT_ROSTER_ROOM_ENDED || !ev->who.id ||
	    g_strcmp0(ev->who.gateway, TT_IRC_GW_NAME) == 0)
		return;  /* our own IRC members: the channel already saw them */
	switch (ev->type) {
	case TT_ROSTER_JOINED:
		if (net->mode == TT_IRC_PUPPET && tt__irc_puppet_add(net, &ev->who, ev->room))
			break;  /* the puppet's own JOIN says it */
		if (net->events != TT_IRC_EVENTS_NONE)
			notice_event(net, ev, true);
		break;
	case TT_ROSTER_LEFT:
		g_hash_table_remove(net->talk_last, ev->who.id);
		if (g_hash_table_contains(net->puppets, ev->who.id)) {
			tt__irc_puppet_remove(net, ev->who.id);
			break;
		}
		if (net->events == TT_IRC_EVENTS_ALL)
			notice_event(net, ev, false);
		break;
	case TT_ROSTER_STATE:
		if (net->talking && (ev->changed & TT_PS_TALKING) &&
		    (ev->who.state & TT_PS_TALKING))
			talking_notice(net, ev);
		break;
	default:
		break;
	}
}
