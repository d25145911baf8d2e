/* muc_admin.c: MUC roles (XEP-0045 5.1) mapped both ways onto tutti's meeting state.
 *
 *   moderator    TT_PS_MODERATOR: joined with the moderator PIN (the MUC password), an IRC
 *                operator, made one by the admin API or another moderator
 *   visitor      muted by a moderator (TT_PS_MOD_MUTED): "voice revoked". Only that: a
 *                participant who muted itself keeps its voice, and so its role, since
 *                nobody took it away; in tutti voice is audio, so a visitor may still write
 *                (the room says muc_unmoderated)
 *   participant  everyone else
 *
 * A moderator's role change (muc#admin <item nick=.. role=../>) becomes core API moderate
 * with the occupant as the actor: none = kick, visitor = mute (a moderator also loses the
 * right), participant = unmute and/or revoke, moderator = grant. The core checks the right
 * again; a non-moderator gets <forbidden/> before anything is looked up. Role lists
 * (9.5, 8.5: get with <item role=../>) answer moderators. Affiliations are not kept.
 *
 * A visitor's voice request (7.13) raises its hand: the queue of hands is how tutti asks
 * to speak on every network, and moderators of every network see it there; a moderator
 * gives the voice back with role participant (or !unmute, a key, the API). No approval
 * form goes to MUC moderators (8.6): the hand is the request. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "muc_priv.h"

#define NS_MUC_ADMIN NS_MUC "#admin"
#define NS_DATA "jabber:x:data"
#define NS_MUC_REQUEST NS_MUC "#request"

const char *xg_muc_role(unsigned state)
{
	if (state & TT_PS_MODERATOR)
		return "moderator";
	if (state & TT_PS_MOD_MUTED)
		return "visitor";
	return "participant";
}

static bool role_valid(const char *role)
{
	return role && (!strcmp(role, "none") || !strcmp(role, "visitor") ||
			!strcmp(role, "participant") || !strcmp(role, "moderator"));
}

static void moderate_error(struct xg_gw *gw, xmpp_stanza_t *st, int rc)
{
	switch (rc) {
	case -EPERM:
		xg_reply_error(gw, st, "auth", "forbidden", "Only moderators may change roles.");
		break;
	case -ENOENT:
		xg_reply_error(gw, st, "cancel", "item-not-found", "That occupant has left.");
		break;
	case -EINVAL:
		xg_reply_error(gw, st, "modify", "not-acceptable",
			       "That occupant cannot be moderated from here.");
		break;
	default:
		xg_reply_error(gw, st, "wait", "internal-server-error", tt_strerror(rc));
		break;
	}
}

/* The moderate calls that take a participant in state `st` to `role`, in order: at most
 * two. */
static int plan(const char *role, unsigned st, enum tt_mod_action out[2])
{
	int n = 0;
	if (!strcmp(role, "none")) {
		out[n++] = TT_MOD_KICK;
	} else if (!strcmp(role, "visitor")) {
		if (st & TT_PS_MODERATOR)
			out[n++] = TT_MOD_REVOKE;
		out[n++] = TT_MOD_MUTE;
	} else if (!strcmp(role, "participant")) {
		if (st & TT_PS_MODERATOR)
			out[n++] = TT_MOD_REVOKE;
		else if (st & TT_PS_MOD_MUTED)
			out[n++] = TT_MOD_UNMUTE;
	} else if (!strcmp(role, "moderator")) {
		out[n++] = TT_MOD_GRANT;
	}
	return n;
}

struct change {
	char *pid;
	const char *role;    /* borrowed from the stanza */
	char *reason;
};

static void change_clear(struct change *c, struct xg_gw *gw)
{
	g_free(c->pid);
	if (c->reason)
		xmpp_free(gw->ctx, c->reason);
}

/* Every item is checked before any is applied: a bad one changes nothing. */
static void role_set(struct muc_room *r, struct muc_occ *from, xmpp_stanza_t *st,
		     xmpp_stanza_t *q)
{
	struct xg_gw *gw = r->muc->gw;
	const struct tt_core_api *api = gw->api;
	GArray *ch = g_array_new(FALSE, TRUE, sizeof(struct change));
	const char *err_type = NULL, *err_cond = NULL, *err_text = NULL;
	for (xmpp_stanza_t *it = xmpp_stanza_get_children(q); it && !err_cond;
	     it = xmpp_stanza_get_next(it)) {
		const char *name = xmpp_stanza_get_name(it);
		if (!xmpp_stanza_is_tag(it) || !name || strcmp(name, "item"))
			continue;
		const char *nick = xmpp_stanza_get_attribute(it, "nick");
		const char *role = xmpp_stanza_get_attribute(it, "role");
		struct muc_occ *t = nick ? xg_muc_occ_by_nick(r, nick) : NULL;
		if (xmpp_stanza_get_attribute(it, "affiliation")) {
			err_type = "cancel", err_cond = "not-allowed";
			err_text = "Affiliations are not kept here: change roles.";
		} else if (!nick || !role_valid(role)) {
			err_type = "modify", err_cond = "bad-request";
			err_text = "An item needs a nick and a role (none, visitor, participant "
				   "or moderator).";
		} else if (!t) {
			err_type = "cancel", err_cond = "item-not-found";
			err_text = "Nobody has that nickname here.";
		} else {
			xmpp_stanza_t *re = xg_st_find(it, "reason", NULL);
			struct change c = {g_strdup(t->pid), role, re ? xmpp_stanza_get_text(re)
								      : NULL};
			g_array_append_val(ch, c);
		}
	}
	if (!err_cond && !ch->len) {
		err_type = "modify", err_cond = "bad-request";
		err_text = "A role change needs an item.";
	}
	int rc = 0;
	/* our own reference: the actor may kick itself, and its occupant (and r) go then */
	struct tt_participant *actor = api->participant_ref(from->p);
	for (guint i = 0; !err_cond && !rc && i < ch->len; i++) {
		struct change *c = &g_array_index(ch, struct change, i);
		struct tt_participant *t = api->participant_find(gw->core, r->name, c->pid);
		if (!t) {
			rc = -ENOENT;
			break;
		}
		enum tt_mod_action acts[2];
		int n = plan(c->role, api->participant_state(t), acts);
		const char *reason = c->reason && *c->reason ? c->reason : NULL;
		for (int k = 0; k < n && !rc; k++)
			rc = api->moderate(actor, acts[k], t, reason);
		api->participant_unref(t);
		if (!api->participant_alive(actor))
			break;   /* it kicked itself: r may be gone, the rest would be -ENOENT */
	}
	api->participant_unref(actor);
	if (err_cond) {
		xg_reply_error(gw, st, err_type, err_cond, err_text);
	} else if (rc) {
		moderate_error(gw, st, rc);
	} else {
		xmpp_stanza_t *res = xg_st_new(gw, "iq", "result", xmpp_stanza_get_to(st),
					       xmpp_stanza_get_from(st), xmpp_stanza_get_id(st));
		xg_send(gw, res);
		xmpp_stanza_release(res);
	}
	for (guint i = 0; i < ch->len; i++)
		change_clear(&g_array_index(ch, struct change, i), gw);
	g_array_free(ch, TRUE);
}

/* 8.5 / 9.5: the occupants of one role ("participant": those with voice, as the XEP's
 * voice list). */
static void role_list(struct muc_room *r, xmpp_stanza_t *st, xmpp_stanza_t *q)
{
	struct xg_gw *gw = r->muc->gw;
	xmpp_stanza_t *want = xg_st_find(q, "item", NULL);
	const char *role = want ? xmpp_stanza_get_attribute(want, "role") : NULL;
	if (!role || !role_valid(role) || !strcmp(role, "none")) {
		xg_reply_error(gw, st, "cancel", "feature-not-implemented",
			       "Lists by role only (moderator, participant, visitor): affiliations "
			       "are not kept here.");
		return;
	}
	xmpp_stanza_t *res = xg_st_new(gw, "iq", "result", xmpp_stanza_get_to(st),
				       xmpp_stanza_get_from(st), xmpp_stanza_get_id(st));
	xmpp_stanza_t *out = xg_st_child(gw, res, "query", NS_MUC_ADMIN);
	GHashTableIter iter;
	gpointer v;
	g_hash_table_iter_init(&iter, r->by_pid);
	while (g_hash_table_iter_next(&iter, NULL, &v)) {
		struct muc_occ *o = v;
		if (strcmp(xg_muc_role(o->state), role))
			continue;
		xmpp_stanza_t *item = xg_st_child(gw, out, "item", NULL);
		xmpp_stanza_set_attribute(item, "nick", o->nick);
		xmpp_stanza_set_attribute(item, "role", role);
		xmpp_stanza_set_attribute(item, "affiliation", "none");
	}
	xg_send(gw, res);
	xmpp_stanza_release(res);
}

void xg_muc_admin_iq(struct muc_room *r, struct muc_occ *from, xmpp_stanza_t *st,
		     xmpp_stanza_t *query, bool get)
{
	struct xg_gw *gw = r->muc->gw;
	if (!from) {
		xg_reply_error(gw, st, "auth", "forbidden", "You are not in this room.");
		return;
	}
	if (!(gw->api->participant_state(from->p) & TT_PS_MODERATOR)) {
		xg_reply_error(gw, st, "auth", "forbidden", "Only moderators may do this.");
		return;
	}
	if (get)
		role_list(r, st, query);
	else
		role_set(r, from, st, query);
}

/* The value of a data form's field `var`: new text (xmpp_free), or NULL. */
static char *form_value(xmpp_stanza_t *form, const char *var)
{
	for (xmpp_stanza_t *f = xmpp_stanza_get_children(form); f; f = xmpp_stanza_get_next(f)) {
		const char *n = xmpp_stanza_get_name(f), *v = xmpp_stanza_get_attribute(f, "var");
		if (!xmpp_stanza_is_tag(f) || !n || strcmp(n, "field") || !v || strcmp(v, var))
			continue;
		xmpp_stanza_t *val = xg_st_find(f, "value", NULL);
		return val ? xmpp_stanza_get_text(val) : NULL;
	}
	return NULL;
}

bool xg_muc_voice_request(struct muc_occ *o, xmpp_stanza_t *st)
{
	struct xg_gw *gw = o->room->muc->gw;
	xmpp_stanza_t *form = xg_st_find(st, "x", NS_DATA);
	char *type = form ? form_value(form, "FORM_TYPE") : NULL;
	bool is = type && !strcmp(type, NS_MUC_REQUEST);
	if (type)
		xmpp_free(gw->ctx, type);
	if (!is)
		return false;
	char *role = form_value(form, "muc#role");
	bool voice = !role || !strcmp(role, "participant");
	if (role)
		xmpp_free(gw->ctx, role);
	if (!voice) {
		xg_reply_error(gw, st, "modify", "not-acceptable",
			       "Only voice (role participant) can be requested here.");
		return true;
	}
	unsigned state = gw->api->participant_state(o->p);
	if (!(state & TT_PS_MOD_MUTED)) {
		xg_muc_tell(o, "You have voice already.", NULL);
		return true;
	}
	if (!(state & TT_PS_HAND))
		gw->api->participant_set_state(o->p, TT_PS_HAND, true);   /* its presence says it */
	xg_muc_tell(o, "You asked to speak: your hand is raised, a moderator can give you "
		    "voice.", NULL);
	return true;
}
