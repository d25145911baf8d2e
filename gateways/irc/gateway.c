/* gateway.c: the IRC gateway's descriptor, its [irc.NAME] config rows, and its lifecycle. */
#define TT_LOG_DOMAIN "irc"
#include "gw.h"

#include <string.h>
#include <tutti/conf.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "line.h"

#define S "irc.*"
static const struct tt_conf_key irc_conf_keys[] = {
	{S, "server", TT_CONF_STRING, NULL, 0, 255, NULL, 0,
	 "IRC server host name or address (required)."},
	{S, "port", TT_CONF_INT, "6667", 1, 65535, NULL, 0,
	 "Server port (6697 is usual with tls = true)."},
	{S, "tls", TT_CONF_BOOL, "false", 0, 0, NULL, 0, "Connect with TLS."},
	{S, "tls_verify", TT_CONF_BOOL, "true", 0, 0, NULL, 0,
	 "Verify the server certificate and host name."},
	{S, "tls_ca", TT_CONF_STRING, NULL, 0, 4096, NULL, 0,
	 "PEM file of trusted CAs (replaces the system store for this network)."},
	{S, "tls_cert", TT_CONF_STRING, NULL, 0, 4096, NULL, 0,
	 "Client certificate (PEM) for SASL EXTERNAL / CertFP."},
	{S, "tls_key", TT_CONF_STRING, NULL, 0, 4096, NULL, 0,
	 "Private key of tls_cert (PEM); unset: in tls_cert."},
	{S, "sasl", TT_CONF_ENUM, "none", 0, 0, "none|plain|external", 0,
	 "SASL mechanism for the bot's account."},
	{S, "sasl_user", TT_CONF_STRING, NULL, 0, 255, NULL, 0,
	 "SASL PLAIN account name; unset: the nick."},
	{S, "sasl_password", TT_CONF_STRING, NULL, 0, 255, NULL, TT_CONF_SECRET,
	 "SASL PLAIN password."},
	{S, "nick", TT_CONF_STRING, "tutti", 0, 64, NULL, 0,
	 "The bot's nick (digits are appended on collision)."},
	{S, "username", TT_CONF_STRING, "tutti", 0, 32, NULL, 0, "USER name (ident)."},
	{S, "realname", TT_CONF_STRING, "tutti bridge", 0, 200, NULL, 0, "Real name."},
	{S, "channels", TT_CONF_LIST, "", 0, 0, NULL, 0,
	 "Channels mapped to rooms: #chan=room or #chan=room:key, comma-separated."},
	{S, "mode", TT_CONF_ENUM, "relay", 0, 0, "relay|puppet", 0,
	 "Relay: one bot speaks for everyone; puppet: one IRC nick per participant."},
	{S, "puppet_limit", TT_CONF_INT, "10", 0, 1000, NULL, TT_CONF_RELOADABLE,
	 "Puppet connections per network; participants beyond it are relayed."},
	{S, "puppet_suffix", TT_CONF_STRING, "", 0, 16, NULL, 0,
	 "Appended to puppet nicks, e.g. [m] (nick characters only)."},
	{S, "relay_format", TT_CONF_STRING, "<{name}@{network}> {text}", 0, 200, NULL,
	 TT_CONF_RELOADABLE,
	 "Relayed line: {name} {network} {room} {text}."},
	{S, "action_format", TT_CONF_STRING, "{name}@{network} {text}", 0, 200, NULL,
	 TT_CONF_RELOADABLE,
	 "Relayed /me (sent as CTCP ACTION): {name} {network} {room} {text}."},
	{S, "events", TT_CONF_ENUM, "all", 0, 0, "all|joins|none", TT_CONF_RELOADABLE,
	 "Room joins and leaves shown in the channel."},
	{S, "talking", TT_CONF_BOOL, "false", 0, 0, NULL, TT_CONF_RELOADABLE,
	 "A notice when someone starts talking (rate-limited)."},
	{S, "talking_interval", TT_CONF_INT, "30", 1, 3600, NULL, TT_CONF_RELOADABLE,
	 "Seconds between two talking notices for the same person."},
	{S, "operators_moderate", TT_CONF_BOOL, "true", 0, 0, NULL, TT_CONF_RELOADABLE,
	 "Channel operators (+o and above) are moderators of the channel's room."},
	{S, "flood_burst", TT_CONF_INT, "4", 1, 100, NULL, 0,
	 "Lines sent at once before pacing starts."},
	{S, "flood_interval", TT_CONF_INT, "1000", 10, 60000, NULL, 0,
	 "Milliseconds per line after the burst (servers commonly allow one a second)."},
	{S, "reconnect_min", TT_CONF_INT, "2", 1, 3600, NULL, 0,
	 "First reconnect delay, seconds (doubles per failure, with jitter)."},
	{S, "reconnect_max", TT_CONF_INT, "300", 1, 86400, NULL, 0,
	 "Longest reconnect delay, seconds."},
	{S, "ping_interval", TT_CONF_INT, "60", 5, 3600, NULL, 0,
	 "Seconds of silence before the bridge PINGs the server (lag check)."},
	{S, "ping_timeout", TT_CONF_INT, "180", 10, 7200, NULL, 0,
	 "Seconds of silence after which the link is dropped and reconnected."},
	{S, "connect_timeout", TT_CONF_INT, "30", 1, 600, NULL, 0,
	 "Seconds for TCP connect, TLS and registration (up to 001) before retrying."},
	{NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};
#undef S

static void chan_free(gpointer data)
{
	struct tt__irc_chan *ch = data;
	struct tt__irc_gw *gw = ch->net->gw;
	tt__irc_chan_clear(ch, 0);
	tt__irc_roster_notices_free(ch);
	g_hash_table_destroy(ch->members);
	ch->medium = ch->medium ? gw->api->text_medium_close(ch->medium) : NULL;
	g_free(ch->name);
	g_free(ch->key);
	g_free(ch->room);
	g_free(ch);
}

static void net_free(gpointer data)
{
	struct tt__irc_net *net = data;
	if (net->rejoin_timer)
		g_source_remove(net->rejoin_timer);
	g_hash_table_destroy(net->puppets);
	g_ptr_array_free(net->leaving, TRUE);
	/* Channels before the bot: leaving members reads nothing from the bot. */
	g_ptr_array_free(net->chans, TRUE);
	tt__irc_conn_free(net->bot);
	g_hash_table_destroy(net->talk_last);
	g_free((char *)net->cfg.server);
	g_free((char *)net->cfg.tls_ca);
	g_free((char *)net->cfg.tls_cert);
	g_free((char *)net->cfg.tls_key);
	g_free((char *)net->cfg.sasl_user);
	g_free((char *)net->cfg.sasl_password);
	g_free((char *)net->cfg.nick);
	g_free((char *)net->cfg.username);
	g_free((char *)net->cfg.realname);
	g_free(net->puppet_suffix);
	g_free(net->relay_format);
	g_free(net->action_format);
	g_free(net->name);
	g_free(net);
}

static void conf_error(const struct tt_conf *conf, const char *section, const char *key,
		       const char *what, const char *value)
{
	tt_error("%s:%d: [%s] %s: %s: \"%s\"", tt_conf_path(conf) ? tt_conf_path(conf) : "-",
		 tt_conf_line(conf, section, key), section, key, what, value ? value : "");
}

int tt__irc_chan_spec_parse(const char *spec, char **chan, char **room, char **key)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return -EINVAL;
	char *c = g_strstrip(g_strndup(spec, (gsize)(eq - spec)));
	char *r = g_strstrip(g_strdup(eq + 1));
	char *colon = strchr(r, ':');
	char *k = NULL;
	if (colon) {
		*colon = '\0';
		k = g_strdup(colon + 1);
	}
	int err = 0;
	if (!strchr("#&+!", c[0]) || !tt__irc_middle_ok(c) || strchr(c, ',') || strlen(c) > 200 ||
	    !*r || (k && (!tt__irc_middle_ok(k) || strchr(k, ','))))
		err = -EINVAL;
	if (err) {
		g_free(c);
		g_free(r);
		g_free(k);
		return err;
	}
	*chan = c;
	*room = r;
	*key = k;
	return 0;
}

static char *conf_dup(const struct tt_conf *conf, const char *sec, const char *key);

/* The TT_CONF_RELOADABLE keys: how the bridge presents things, never the connections. */
static void net_read_presentation(struct tt__irc_net *net, const struct tt_conf *conf,
				  const char *sec)
{
	net->puppet_limit = (int)tt_conf_int(conf, sec, "puppet_limit");
	g_free(net->relay_format);
	net->relay_format = g_strdup(tt_conf_str(conf, sec, "relay_format"));
	g_free(net->action_format);
	net->action_format = g_strdup(tt_conf_str(conf, sec, "action_format"));
	const char *ev = tt_conf_str(conf, sec, "events");
	net->events = g_strcmp0(ev, "none") == 0 ? TT_IRC_EVENTS_NONE
		    : g_strcmp0(ev, "joins") == 0 ? TT_IRC_EVENTS_JOINS : TT_IRC_EVENTS_ALL;
	net->talking = tt_conf_bool(conf, sec, "talking");
	net->talking_interval_ms = (int)tt_conf_int(conf, sec, "talking_interval") * 1000;
	net->operators_moderate = tt_conf_bool(conf, sec, "operators_moderate");
}

static char *conf_dup(const struct tt_conf *conf, const char *sec, const char *key)
{
	const char *v = tt_conf_str(conf, sec, key);
	return v && *v ? g_strdup(v) : NULL;
}

static int net_read(struct tt__irc_net *net, const struct tt_conf *conf, const char *sec)
{
	struct tt__irc_conn_cfg *c = &net->cfg;
	c->server = conf_dup(conf, sec, "server");
	if (!c->server) {
		conf_error(conf, sec, "server", "required", NULL);
		return -EINVAL;
	}
	c->port = (int)tt_conf_int(conf, sec, "port");
	c->tls = tt_conf_bool(conf, sec, "tls");
	c->tls_verify = tt_conf_bool(conf, sec, "tls_verify");
	c->tls_ca = conf_dup(conf, sec, "tls_ca");
	c->tls_cert = conf_dup(conf, sec, "tls_cert");
	c->tls_key = conf_dup(conf, sec, "tls_key");
	const char *sasl = tt_conf_str(conf, sec, "sasl");
	c->sasl = g_strcmp0(sasl, "plain") == 0 ? TT_IRC_SASL_PLAIN
		: g_strcmp0(sasl, "external") == 0 ? TT_IRC_SASL_EXTERNAL : TT_IRC_SASL_NONE;
	c->sasl_user = conf_dup(conf, sec, "sasl_user");
	c->sasl_password = conf_dup(conf, sec, "sasl_password");
	c->nick = conf_dup(conf, sec, "nick");
	c->username = conf_dup(conf, sec, "username");
	c->realname = conf_dup(conf, sec, "realname");
	if (!c->nick || !tt__irc_middle_ok(c->nick)) {
		conf_error(conf, sec, "nick", "not a nick", c->nick);
		return -EINVAL;
	}
	if (c->username && !tt__irc_middle_ok(c->username)) {
		conf_error(conf, sec, "username", "not a user name", c->username);
		return -EINVAL;
	}
	if (c->sasl == TT_IRC_SASL_EXTERNAL && (!c->tls || !c->tls_cert)) {
		conf_error(conf, sec, "sasl", "external needs tls = true and tls_cert", sasl);
		return -EINVAL;
	}
	c->flood_burst = (int)tt_conf_int(conf, sec, "flood_burst");
	c->flood_interval_ms = (int)tt_conf_int(conf, sec, "flood_interval");
	c->reconnect_min_ms = (int)tt_conf_int(conf, sec, "reconnect_min") * 1000;
	c->reconnect_max_ms = (int)tt_conf_int(conf, sec, "reconnect_max") * 1000;
	c->ping_interval_ms = (int)tt_conf_int(conf, sec, "ping_interval") * 1000;
	c->ping_timeout_ms = (int)tt_conf_int(conf, sec, "ping_timeout") * 1000;
	c->register_timeout_ms = (int)tt_conf_int(conf, sec, "connect_timeout") * 1000;
	net->mode = g_strcmp0(tt_conf_str(conf, sec, "mode"), "puppet") == 0 ? TT_IRC_PUPPET
									     : TT_IRC_RELAY;
	net->puppet_suffix = conf_dup(conf, sec, "puppet_suffix");
	net_read_presentation(net, conf, sec);

	for (const char *const *l = tt_conf_list(conf, sec, "channels"); l && *l; l++) {
		struct tt__irc_chan *ch = g_new0(struct tt__irc_chan, 1);
		if (tt__irc_chan_spec_parse(*l, &ch->name, &ch->room, &ch->key) != 0) {
			g_free(ch);
			conf_error(conf, sec, "channels", "expected #chan=room[:key]", *l);
			return -EINVAL;
		}
		ch->net = net;
		ch->members = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						    tt__irc_member_free);
		g_ptr_array_add(net->chans, ch);
	}
	if (net->chans->len == 0)
		tt_warn("[%s] has no channels: the bot connects but bridges nothing", sec);
	return 0;
}

static int net_alloc(struct tt__irc_net **netp, struct tt__irc_gw *gw,
		     const struct tt_conf *conf, const char *name)
{
	struct tt__irc_net *net = g_new0(struct tt__irc_net, 1);
	char *sec = g_strdup_printf("irc.%s", name);
	net->gw = gw;
	net->name = g_strdup(name);
	net->chans = g_ptr_array_new_with_free_func(chan_free);
	net->puppets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     tt__irc_puppet_free);
	net->leaving = g_ptr_array_new_with_free_func(tt__irc_puppet_free);
	net->talk_last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int err = net_read(net, conf, sec);
	if (err)
		goto out;
	*netp = net;
	net = NULL;
out:
	if (net)
		net_free(net);
	g_free(sec);
	return err;
}

static void irc_free(void *state)
{
	struct tt__irc_gw *g = state;
	if (!g)
		return;
	g_ptr_array_free(g->nets, TRUE);
	if (g->quiet_hangup_idle)
		g_source_remove(g->quiet_hangup_idle);
	g_free(g->quiet_hangup_room);
	g_free(g->quiet_hangup_id);
	g_free(g);
}

static int irc_start(struct tt_gw_handle *gw, const struct tt_core_api *api,
		     const struct tt_conf *conf, void **statep)
{
	struct tt__irc_gw *g = g_new0(struct tt__irc_gw, 1);
	int err = 0;
	g->gw = gw;
	g->api = api;
	g->core = api->core_of(gw);
	g->nets = g_ptr_array_new_with_free_func(net_free);
	const char *const *names = tt_conf_instances(conf, "irc");
	for (; names && *names; names++) {
		struct tt__irc_net *net = NULL;
		err = net_alloc(&net, g, conf, *names);
		if (err)
			goto out;
		g_ptr_array_add(g->nets, net);
	}
	for (guint i = 0; i < g->nets->len; i++) {
		struct tt__irc_net *net = g->nets->pdata[i];
		for (guint j = 0; j < net->chans->len; j++) {
			struct tt__irc_chan *ch = net->chans->pdata[j];
			int e = api->text_medium_open(gw, ch->room, ch, &ch->medium);
			if (e)
				tt_warn("%s: %s: room %s: %s", net->name, ch->name, ch->room,
					tt_strerror(e));
		}
		tt__irc_relay_connect(net);
	}
	*statep = g;
	g = NULL;
out:
	irc_free(g);
	return err;
}

static void irc_stop(void *state)
{
	struct tt__irc_gw *g = state;
	g->stopping = true;
	for (guint i = 0; i < g->nets->len; i++) {
		struct tt__irc_net *net = g->nets->pdata[i];
		GList *ids = g_hash_table_get_keys(net->puppets);
		for (GList *l = ids; l; l = l->next) {
			char *id = g_strdup(l->data);  /* the key dies with the removal */
			tt__irc_puppet_remove(net, id);
			g_free(id);
		}
		g_list_free(ids);
		if (net->bot)
			tt__irc_conn_quit(net->bot, "bridge shutting down");
	}
}

static bool irc_stopped(void *state)
{
	struct tt__irc_gw *g = state;
	for (guint i = 0; i < g->nets->len; i++) {
		struct tt__irc_net *net = g->nets->pdata[i];
		if (net->bot && !tt__irc_conn_ended(net->bot))
			return false;
		for (guint j = 0; j < net->leaving->len; j++) {
			struct tt__irc_puppet *pp = net->leaving->pdata[j];
			if (!tt__irc_conn_ended(pp->conn))
				return false;
		}
	}
	return true;
}

static void irc_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct tt__irc_gw *g = state;
	struct tt__irc_member *m = g->api->participant_gw_data(p);
	if (!m || m->p != p) {
		g->api->participant_leave(p, 0);
		return;
	}
	/* An IRC user cannot be removed from the channel by us (we may not be op): their
	 * lines stop reaching the room until they rejoin the channel. A moderator's kick or
	 * end was just said in the channel (meeting.c): no second notice for it. */
	int said = tt__irc_hangup_announced(g, g->api->participant_room(p),
					    g->api->participant_id(p));
	char *t = g_strdup_printf("%s no longer reaches the room (%s)", m->nick,
				  why ? why : "removed");
	m->p = g->api->participant_leave(m->p, 0);
	m->op_moderator = false;
	m->ended = said == 2;
	if (!said)
		tt__irc_notice(m->chan, t);
	g_free(t);
}

/* The bus never hands a channel its own lines back (textbus.h): a line from another
 * network's channel in the same room arrives here like any other room text. */
static void irc_on_medium_text(void *state, void *medium_data, const struct tt_text *msg)
{
	tt__irc_say(medium_data, msg);
}

static void irc_on_meeting(void *state, const struct tt_meeting_event *ev)
{
	tt__irc_on_meeting(state, ev);
}

static void irc_doors(void *state, const char *room, tt_door_h fn, void *arg)
{
	tt__irc_doors(state, room, fn, arg);
}

static void irc_on_roster(void *state, const struct tt_roster_event *ev)
{
	struct tt__irc_gw *g = state;
	if (g->stopping)
		return;
	for (guint i = 0; i < g->nets->len; i++)
		tt__irc_on_roster(g->nets->pdata[i], ev);
}

/* SIGHUP: the presentation keys apply at once to every network still configured. Adding or
 * removing a network, or any connection key, needs a restart (the core reports those). */
static int irc_reload(void *state, const struct tt_conf *conf)
{
	struct tt__irc_gw *g = state;
	int ret = 0;
	for (guint i = 0; i < g->nets->len; i++) {
		struct tt__irc_net *net = g->nets->pdata[i];
		bool present = false;
		for (const char *const *n = tt_conf_instances(conf, "irc"); n && *n; n++)
			present = present || strcmp(*n, net->name) == 0;
		if (!present) {
			tt_warn("[irc.%s] was removed: it stays connected until a restart", net->name);
			ret = -EPERM;
			continue;
		}
		char *sec = g_strdup_printf("irc.%s", net->name);
		net_read_presentation(net, conf, sec);
		g_free(sec);
		tt__irc_net_sync_moderators(net);
	}
	return ret;
}

struct irc_stats {
	uint32_t networks;
	uint32_t links_up;
};

static void irc_stats(void *state, void *out)
{
	struct tt__irc_gw *g = state;
	struct irc_stats *st = out;
	st->networks = g->nets->len;
	for (guint i = 0; i < g->nets->len; i++) {
		struct tt__irc_net *net = g->nets->pdata[i];
		if (net->bot && tt__irc_conn_registered(net->bot))
			st->links_up++;
	}
}

#define ROW(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct irc_stats, member, ty, NULL, name, fl, help)
static const struct tt_stat_field irc_stat_fields[] = {
	ROW(networks, U32, "networks", 0, "IRC networks configured ([irc.NAME])"),
	ROW(links_up, U32, "links_up", 0, "of those, whose relay bot is registered now"),
	{ 0 },
};
#undef ROW

/* One [irc.NAME] network's bot link: an instance labelled network="NAME". The set is the
 * configured networks, fixed until a restart (reload keeps removed ones connected), so a
 * series never vanishes while its link is down. */
struct irc_net_stats {
	bool link_up;
	uint64_t registrations;
	uint64_t drops;
	uint32_t lines_queued;
	double up_seconds;
	double error_age_seconds;
	char last_error[64];
};

static void irc_instances(void *state, tt_gw_instance_h fn, void *arg)
{
	struct tt__irc_gw *g = state;
	int64_t now = g_get_monotonic_time();
	for (guint i = 0; i < g->nets->len; i++) {
		const struct tt__irc_net *net = g->nets->pdata[i];
		struct irc_net_stats st = { 0 };
		st.link_up = net->bot && tt__irc_conn_registered(net->bot);
		st.registrations = net->registrations;
		st.drops = net->drops;
		st.lines_queued = net->bot ? tt__irc_conn_queued(net->bot) : 0;
		if (st.link_up && net->up_since_us)
			st.up_seconds = (double)(now - net->up_since_us) * 1e-6;
		if (net->error_at_us) {
			st.error_age_seconds = (double)(now - net->error_at_us) * 1e-6;
			g_strlcpy(st.last_error, tt_strerror(net->last_error), sizeof st.last_error);
		}
		fn(arg, net->name, &st);
	}
}

#define ROW(member, ty, name, fl, help) \
	TT_STAT_FIELD(struct irc_net_stats, member, ty, NULL, name, fl, help)
static const struct tt_stat_field irc_net_stat_fields[] = {
	ROW(link_up, BOOL, "link_up", 0, "1 while the network's relay bot is registered"),
	ROW(registrations, U64, "registrations", TT_STAT_COUNTER,
	    "times the relay bot's link came up (001)"),
	ROW(drops, U64, "drops", TT_STAT_COUNTER,
	    "times the relay bot's link failed or dropped (a reconnect follows)"),
	ROW(lines_queued, U32, "lines_queued", 0,
	    "lines waiting in the bot's send queue (flood pacing, a link down)"),
	ROW(up_seconds, DOUBLE, "up_seconds", 0,
	    "seconds since the link came up, 0 while it is down"),
	ROW(error_age_seconds, DOUBLE, "last_error_age_seconds", 0,
	    "seconds since the link last failed, 0 if it never did"),
	ROW(last_error, STR, "last_error", 0, "why the link last failed, empty if never"),
	{ 0 },
};
#undef ROW

const struct tt_gateway tt_gateway_irc = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = TT_IRC_GW_NAME,
	.network = "irc",
	.conf_keys = irc_conf_keys,
	.start = irc_start,
	.stop = irc_stop,
	.free = irc_free,
	.hang_up = irc_hang_up,
	.stopped = irc_stopped,
	.on_roster = irc_on_roster,
	.reload = irc_reload,
	.on_medium_text = irc_on_medium_text,
	.on_meeting = irc_on_meeting,
	.doors = irc_doors,
	.stat_fields = irc_stat_fields,
	.stats_size = sizeof(struct irc_stats),
	.stats = irc_stats,
	.instance_label = "network",
	.instance_stat_fields = irc_net_stat_fields,
	.instance_stats_size = sizeof(struct irc_net_stats),
	.instances = irc_instances,
};
