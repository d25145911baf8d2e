/* muc_env.c: the MUC service over the fake core (see muc_env.h). */
#include "muc_env.h"

#include <stdarg.h>
#include <string.h>
#include <tutti/conf.h>

extern const struct tt_gateway tt_gateway_xmpp;

struct muc_env env;

static void capture(struct xg_gw *gw, xmpp_stanza_t *st)
{
	char *buf = NULL;
	size_t len = 0;
	if (xmpp_stanza_to_text(st, &buf, &len) != XMPP_EOK)
		g_error("a stanza does not serialise");
	xmpp_stanza_t *back = xmpp_stanza_new_from_string(gw->ctx, buf);
	if (!back)
		g_error("what we sent does not parse: %s", buf);
	g_ptr_array_add(env.sent, back);
	g_ptr_array_add(env.sent_text, g_strdup(buf));
	xmpp_free(gw->ctx, buf);
}

static void on_roster(void *state, const struct tt_roster_event *ev)
{
	xg_muc_roster(state, ev);
}

static void on_medium_text(void *state, void *data, const struct tt_text *msg)
{
	xg_muc_medium_text(state, data, msg);
}

static void on_meeting(void *state, const struct tt_meeting_event *ev)
{
	tt_gateway_xmpp.on_meeting(state, ev);
}

static void hang_up(void *state, struct tt_participant *p, const char *why)
{
	tt_gateway_xmpp.hang_up(state, p, why);
}

void env_up(const char *ini)
{
	char *text = g_strdup_printf("[xmpp]\nenabled = true\ndomain = %s\nsecret = s\n"
				     "history = 5\ntalking_interval = 1\n%s", ENV_DOMAIN,
				     ini ? ini : "");
	fake_reset(tt_gateway_xmpp.conf_keys, text);
	g_free(text);
	memset(&env, 0, sizeof env);
	struct xg_gw *gw = &env.gw;
	gw->api = &fake_api;
	gw->h = fake_gw();
	gw->core = fake_core_of();
	gw->send = capture;
	gw->cfg.domain = g_strdup(ENV_DOMAIN);
	gw->cfg.history = (unsigned)tt_conf_int(fake.conf, "xmpp", "history");
	gw->cfg.talking_interval_s = (unsigned)tt_conf_int(fake.conf, "xmpp",
							   "talking_interval");
	gw->ctx = xmpp_ctx_new(NULL, NULL);
	env.sent = g_ptr_array_new_with_free_func((GDestroyNotify)(void (*)(void))
						  xmpp_stanza_release);
	env.sent_text = g_ptr_array_new_with_free_func(g_free);
	if (xg_muc_new(gw))
		g_error("xg_muc_new");
	fake.gw.state = gw;
	fake.gw.on_roster = on_roster;
	fake.gw.on_medium_text = on_medium_text;
	fake.gw.hang_up = hang_up;
	fake.gw.on_meeting = on_meeting;
}

void env_down(void)
{
	xg_muc_free(&env.gw);
	g_ptr_array_unref(env.sent);
	g_ptr_array_unref(env.sent_text);
	xmpp_ctx_free(env.gw.ctx);
	g_free(env.gw.cfg.domain);
	fake_reset(NULL, NULL);
	memset(&env, 0, sizeof env);
}

bool env_in(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(env.gw.ctx, s);
	g_free(s);
	if (!st)
		return false;
	xg_stanza_in(&env.gw, st);
	xmpp_stanza_release(st);
	return true;
}

void env_clear(void)
{
	g_ptr_array_set_size(env.sent, 0);
	g_ptr_array_set_size(env.sent_text, 0);
}

xmpp_stanza_t *env_sent(guint i)
{
	return i < env.sent->len ? env.sent->pdata[i] : NULL;
}

guint env_count(void)
{
	return env.sent->len;
}

static bool eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

xmpp_stanza_t *env_find(guint *from, const char *name, const char *type, const char *to,
			const char *from_jid)
{
	for (guint i = *from; i < env.sent->len; i++) {
		xmpp_stanza_t *st = env.sent->pdata[i];
		const char *t = xmpp_stanza_get_type(st);
		if (!eq(xmpp_stanza_get_name(st), name))
			continue;
		if (type && !(*type ? eq(t, type) : !t))
			continue;
		if ((to && !eq(xmpp_stanza_get_to(st), to)) ||
		    (from_jid && !eq(xmpp_stanza_get_from(st), from_jid)))
			continue;
		*from = i + 1;
		return st;
	}
	return NULL;
}

char *env_codes(xmpp_stanza_t *st)
{
	GString *s = g_string_new(NULL);
	xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(
		st, "x", "http://jabber.org/protocol/muc#user");
	for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children(x) : NULL; c;
	     c = xmpp_stanza_get_next(c)) {
		if (eq(xmpp_stanza_get_name(c), "status"))
			g_string_append_printf(s, "%s%s", s->len ? "," : "",
					       xmpp_stanza_get_attribute(c, "code"));
	}
	return g_string_free(s, FALSE);
}

const char *env_error(xmpp_stanza_t *st)
{
	xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(st, "error");
	for (xmpp_stanza_t *c = e ? xmpp_stanza_get_children(e) : NULL; c;
	     c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_is_tag(c) && !eq(xmpp_stanza_get_name(c), "text"))
			return xmpp_stanza_get_name(c);
	return NULL;
}

char *env_child_text(xmpp_stanza_t *st, const char *name)
{
	xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);
	char *t = c ? xmpp_stanza_get_text(c) : NULL;
	char *out = t ? g_strdup(t) : (c ? g_strdup("") : NULL);
	if (t)
		xmpp_free(env.gw.ctx, t);
	return out;
}

guint env_join(const char *room, const char *nick, const char *jid, const char *password)
{
	guint before = env_count();
	char *pw = password ? g_strdup_printf("<password>%s</password>", password) : g_strdup("");
	env_in("<presence from='%s' to='%s@" ENV_DOMAIN "/%s'>"
	       "<x xmlns='http://jabber.org/protocol/muc'>%s</x></presence>", jid, room, nick, pw);
	g_free(pw);
	return before;
}
