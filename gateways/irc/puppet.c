/* puppet.c: one IRC connection and nick per room participant (puppet mode). */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/log.h>

#include "nick.h"

/* A channel counts as joined as soon as JOIN is queued: the server handles one
 * connection's lines in order, so a PRIVMSG sent after it lands in the channel, and the
 * person's first words do not detour through the bot while the JOIN echo is on its way.
 * A refusal (47x) or a KICK/PART takes it back out. */
static void join_chans(struct tt__irc_puppet *pp)
{
	struct tt__irc_net *net = pp->net;
	for (guint i = 0; i < net->chans->len; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		if (strcmp(ch->room, pp->room) != 0)
			continue;
		if (tt__irc_conn_send(pp->conn, "JOIN %s%s%s", ch->name, ch->key ? " " : "",
				      ch->key ? ch->key : "") == 0)
			g_hash_table_add(pp->joined, tt__irc_nick_fold(ch->name));
	}
}

static void forget_chan(struct tt__irc_puppet *pp, const char *chan)
{
	char *k = tt__irc_nick_fold(chan);
	g_hash_table_remove(pp->joined, k);
	g_free(k);
}

static void puppet_registered(struct tt__irc_conn *c, void *arg)
{
	join_chans(arg);
}

static void puppet_message(struct tt__irc_conn *c, const struct tt__irc_msg *m, void *arg)
{
	struct tt__irc_puppet *pp = arg;
	const char *cmd = m->command;
	const char *chan = tt__irc_msg_param(m, 0);
	if (!chan || !m->nick)
		return;
	/* Channel traffic is the bot's job; a puppet only tracks where it may speak. */
	bool self = tt__irc_nick_eq(m->nick, tt__irc_conn_nick(c));
	if (strcmp(cmd, "JOIN") == 0 && self) {
		g_hash_table_add(pp->joined, tt__irc_nick_fold(chan));
	} else if (strcmp(cmd, "PART") == 0 && self) {
		forget_chan(pp, chan);
	} else if (strcmp(cmd, "KICK") == 0 && m->nparams >= 2 &&
		   tt__irc_nick_eq(m->params[1], tt__irc_conn_nick(c))) {
		forget_chan(pp, chan);  /* kicked on IRC: the person is relayed by the bot */
	} else if ((strcmp(cmd, "403") == 0 || strcmp(cmd, "405") == 0 ||
		    strcmp(cmd, "471") == 0 || strcmp(cmd, "473") == 0 ||
		    strcmp(cmd, "474") == 0 || strcmp(cmd, "475") == 0 ||
		    strcmp(cmd, "477") == 0) && m->nparams >= 2) {
		tt_warn("%s: puppet %s cannot join %s: %s", pp->net->name,
			tt__irc_conn_nick(c), m->params[1], m->params[m->nparams - 1]);
		forget_chan(pp, m->params[1]);
	}
}

static gboolean free_later(gpointer data)
{
	struct tt__irc_puppet *pp = data;
	pp->free_idle = 0;
	g_ptr_array_remove(pp->net->leaving, pp);  /* frees it */
	return G_SOURCE_REMOVE;
}

static void puppet_closed(struct tt__irc_conn *c, int err, void *arg)
{
	struct tt__irc_puppet *pp = arg;
	g_hash_table_remove_all(pp->joined);
	if (err == 0 && !pp->free_idle)
		pp->free_idle = g_idle_add(free_later, pp);  /* not from inside the conn */
}

static void puppet_undelivered(struct tt__irc_conn *c, const char *target, unsigned lines,
			       int err, void *arg)
{
	struct tt__irc_puppet *pp = arg;
	tt__irc_undelivered(pp->net, target, lines, err);
}

static const struct tt__irc_conn_ops puppet_ops = {
	.registered = puppet_registered, .message = puppet_message, .closed = puppet_closed,
	.undelivered = puppet_undelivered,
};

void tt__irc_puppet_free(gpointer data)
{
	struct tt__irc_puppet *pp = data;
	if (pp->free_idle)
		g_source_remove(pp->free_idle);
	tt__irc_conn_free(pp->conn);
	g_hash_table_destroy(pp->joined);
	g_free(pp->pid);
	g_free(pp->room);
	g_free(pp);
}

static bool nick_taken(const char *nick, void *arg)
{
	struct tt__irc_net *net = arg;
	if (tt__irc_net_is_ours(net, nick))
		return true;
	char *k = tt__irc_nick_fold(nick);
	bool taken = false;
	for (guint i = 0; i < net->chans->len && !taken; i++) {
		struct tt__irc_chan *ch = net->chans->pdata[i];
		taken = g_hash_table_contains(ch->members, k);
	}
	g_free(k);
	return taken;
}

bool tt__irc_puppet_add(struct tt__irc_net *net, const struct tt_roster_entry *who,
			const char *room)
{
	if (g_hash_table_contains(net->puppets, who->id))
		return true;
	if ((int)g_hash_table_size(net->puppets) >= net->puppet_limit) {
		tt_info("%s: puppet limit %d reached; %s is relayed by the bot", net->name,
			net->puppet_limit, who->name);
		return false;
	}
	const char *nl = net->bot ? tt__irc_conn_isupport(net->bot, "NICKLEN") : NULL;
	long maxlen = nl ? strtol(nl, NULL, 10) : 9;  /* RFC 2812's 9 when not announced */
	if (maxlen < 2 || maxlen > 64)
		maxlen = 9;
	char *base = tt__irc_nick_from_name(who->name, net->puppet_suffix, (size_t)maxlen);
	char *nick = tt__irc_nick_unique(base, (size_t)maxlen, 0, nick_taken, net);
	g_free(base);
	if (!nick)
		return false;
	struct tt__irc_conn_cfg cfg = net->cfg;
	cfg.nick = nick;
	cfg.sasl = TT_IRC_SASL_NONE;      /* the account is the bot's */
	cfg.tls_cert = cfg.tls_key = NULL;
	cfg.realname = who->name;
	struct tt__irc_puppet *pp = g_new0(struct tt__irc_puppet, 1);
	pp->net = net;
	pp->pid = g_strdup(who->id);
	pp->room = g_strdup(room);
	pp->joined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (tt__irc_conn_alloc(&pp->conn, &cfg, &puppet_ops, pp) != 0) {
		g_free(nick);
		tt__irc_puppet_free(pp);
		return false;
	}
	tt_info("%s: puppet %s for %s", net->name, nick, who->name);
	g_free(nick);
	g_hash_table_insert(net->puppets, g_strdup(who->id), pp);
	tt__irc_conn_start(pp->conn);
	return true;
}

void tt__irc_puppet_remove(struct tt__irc_net *net, const char *pid)
{
	gpointer key = NULL, value = NULL;
	if (!g_hash_table_steal_extended(net->puppets, pid, &key, &value))
		return;
	g_free(key);
	struct tt__irc_puppet *pp = value;
	g_ptr_array_add(net->leaving, pp);
	tt__irc_conn_quit(pp->conn, "left the room");
}

struct tt__irc_puppet *tt__irc_puppet_ready(struct tt__irc_net *net, const char *pid,
					    const char *chan)
{
	struct tt__irc_puppet *pp = g_hash_table_lookup(net->puppets, pid);
	if (!pp || !tt__irc_conn_registered(pp->conn))
		return NULL;
	char *k = tt__irc_nick_fold(chan);
	bool in = g_hash_table_contains(pp->joined, k);
	g_free(k);
	return in ? pp : NULL;
}

bool tt__irc_puppet_nick_is(struct tt__irc_net *net, const char *nick)
{
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, net->puppets);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (tt__irc_nick_eq(tt__irc_conn_nick(((struct tt__irc_puppet *)v)->conn), nick))
			return true;
	for (guint i = 0; i < net->leaving->len; i++) {
		struct tt__irc_puppet *pp = net->leaving->pdata[i];
		if (tt__irc_nick_eq(tt__irc_conn_nick(pp->conn), nick))
			return true;
	}
	return false;
}
