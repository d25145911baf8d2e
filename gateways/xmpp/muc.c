/* muc.c: the MUC service on cfg.domain: its rooms and their occupants, and where each
 * stanza to the service, a room or an occupant goes (muc_priv.h lists the other files).
 *
 * A room has a struct muc_room while it has XMPP occupants: that is when its MUC text
 * medium is open, the gateway is present in the room and roster events keep the other
 * networks' occupants up to date. When the last XMPP occupant leaves, the room is freed
 * with its history, as a non-persistent MUC is. */
#define TT_LOG_DOMAIN "xmpp"
#include <errno.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "muc_priv.h"

static void room_free(struct muc_room *r);

int xg_muc_new(struct xg_gw *gw)
{
	struct xg_muc *m = g_new0(struct xg_muc, 1);
	m->gw = gw;
	m->rooms = g_hash_table_new(g_str_hash, g_str_equal);
	for (size_t i = 0; i < sizeof m->occ_key; i++)
		m->occ_key[i] = (char)g_random_int_range(0, 256);
	gw->muc = m;
	return 0;
}

/* Every XMPP occupant leaves, each told with its own unavailable presence and `codes`, or
 * silently (codes NULL: the link is down). Nobody is told of the others leaving: they all
 * go, and 500 occupants would cost 250,000 presences. Each room goes with its last one. */
static void drop_all(struct xg_muc *m, const char *const *codes, int err)
{
	GList *rooms = g_hash_table_get_values(m->rooms);
	for (GList *l = rooms; l; l = l->next) {
		struct muc_room *r = l->data;
		for (guint n = r->ours.length; n > 0; n--) {   /* r is freed with the last */
			struct muc_occ *o = r->ours.head->data;
			if (codes)
				xg_muc_presence_self(o, true, codes, NULL);
			xg_muc_occ_end(o, err);
		}
	}
	g_list_free(rooms);
}

void xg_muc_free(struct xg_gw *gw)
{
	struct xg_muc *m = gw->muc;
	if (!m)
		return;
	drop_all(m, NULL, -ESHUTDOWN);
	GList *rooms = g_hash_table_get_values(m->rooms);   /* none by now; be sure */
	for (GList *l = rooms; l; l = l->next)
		room_free(l->data);
	g_list_free(rooms);
	g_hash_table_destroy(m->rooms);
	g_free(m);
	gw->muc = NULL;
}

void xg_muc_link(struct xg_gw *gw, bool up)
{
	if (!up && gw->muc) {
		/* Nothing can reach them now: they leave, and rejoin when their self-ping to
		 * the room fails (XEP-0410) once the stream is back. */
		drop_all(gw->muc, NULL, -ENOTCONN);
	}
}

void xg_muc_stop(struct xg_gw *gw)
{
	static const char *const shutdown[] = {"332", NULL};
	if (gw->muc)
		drop_all(gw->muc, shutdown, -ESHUTDOWN);
}

/* ---- rooms ---- */

struct muc_room *xg_muc_room_get(struct xg_muc *m, const char *name)
{
	return name ? g_hash_table_lookup(m->rooms, name) : NULL;
}

static void occ_free_cb(gpointer data)
{
	struct muc_occ *o = data;
	if (o->talk_timer)
		g_source_remove(o->talk_timer);
	if (o->p)   /* only when a room goes with occupants in it: never, but be safe */
		o->room->muc->gw->api->participant_leave(o->p, -ESHUTDOWN);
	g_free(o->nick);
	g_free(o->key);
	g_free(o->pid);
	g_free(o->network);
	g_free(o->occupant_id);
	g_free(o->real_jid);
	g_free(o->actor_nick);
	g_free(o->mod_reason);
	g_free(o);
}

static void learn(const struct tt_roster_entry *e, void *arg)
{
	struct muc_room *r = arg;
	if (e->id && e->name && !g_hash_table_contains(r->by_pid, e->id))
		xg_muc_occ_add(r, NULL, e->id, e->name, e->network, e->caps, e->state, NULL)
			->hand_seq = e->hand_seq;
}

struct muc_room *xg_muc_room_open(struct xg_muc *m, const char *name, int *err)
{
	struct muc_room *r = xg_muc_room_get(m, name);
	if (r)
		return r;
	const struct tt_core_api *api = m->gw->api;
	r = g_new0(struct muc_room, 1);
	r->muc = m;
	r->name = g_strdup(name);
	r->jid = g_strdup_printf("%s@%s", name, m->gw->cfg.domain);
	r->by_key = g_hash_table_new(g_str_hash, g_str_equal);
	r->by_pid = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, occ_free_cb);
	r->by_real = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&r->ours);
	g_queue_init(&r->history);
	int rc = api->text_medium_open(m->gw->h, name, r, &r->medium);
	if (rc) {
		r->medium = NULL;
		room_free(r);
		*err = rc;
		return NULL;
	}
	g_hash_table_insert(m->rooms, r->name, r);
	/* present from now on: roster events keep what this snapshot starts */
	api->room_roster(m->gw->core, name, learn, r);
	return r;
}

static void room_free(struct muc_room *r)
{
	/* out of the table first: events that closing causes find no room */
	if (g_hash_table_lookup(r->muc->rooms, r->name) == r)
		g_hash_table_remove(r->muc->rooms, r->name);
	if (r->medium)
		r->medium = r->muc->gw->api->text_medium_close(r->medium);
	g_hash_table_destroy(r->by_key);
	g_hash_table_destroy(r->by_real);
	g_hash_table_destroy(r->by_pid);   /* frees the occupants */
	g_queue_clear_full(&r->history, (GDestroyNotify)xg_muc_history_free);
	g_free(r->name);
	g_free(r->jid);
	g_free(r);
}

void xg_muc_room_maybe_free(struct muc_room *r)
{
	if (!r->ours.length)
		room_free(r);
}

/* ---- occupants ---- */

/* The same key the core makes names unique by (NFKC, case-folded), so that our 409 and
 * its "alice (2)" agree on what a conflict is. */
char *xg_muc_nick_key(const char *nick)
{
	char *norm = g_utf8_normalize(nick, -1, G_NORMALIZE_ALL);
	char *key = g_utf8_casefold(norm ? norm : nick, -1);
	g_free(norm);
	return key;
}

/* XEP-0421: opaque, stable for one user in one room, unlinkable across rooms. */
static char *occupant_id(struct xg_muc *m, const char *room, const char *who)
{
	char *msg = g_strconcat(room, "\n", who, NULL);
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)m->occ_key, sizeof m->occ_key);
	g_hmac_update(h, (const guchar *)msg, -1);
	guint8 digest[32];
	gsize len = sizeof digest;
	g_hmac_get_digest(h, digest, &len);
	g_hmac_unref(h);
	g_free(msg);
	return g_base64_encode(digest, 18);
}

struct muc_occ *xg_muc_occ_add(struct muc_room *r, struct muc_occ *o, const char *pid,
			       const char *nick, const char *network, unsigned caps,
			       unsigned state, const char *real_jid)
{
	if (!o)
		o = g_new0(struct muc_occ, 1);
	o->peer.kind = XG_PEER_OCCUPANT;
	o->room = r;
	o->nick = g_strdup(nick);
	o->key = xg_muc_nick_key(nick);
	o->pid = g_strdup(pid);
	o->network = g_strdup(network ? network : "");
	o->caps = caps;
	o->state = o->shown = state;
	o->link.data = o;
	if (real_jid) {
		o->xmpp = true;
		o->real_jid = g_strdup(real_jid);
		const char *slash = strchr(real_jid, '/');
		char *bare = slash ? g_strndup(real_jid, (gsize)(slash - real_jid))
				   : g_strdup(real_jid);
		o->occupant_id = occupant_id(r->muc, r->name, bare);
		g_free(bare);
		g_hash_table_insert(r->by_real, o->real_jid, o);
		g_queue_push_tail_link(&r->ours, &o->link);
	} else {
		char *who = g_strconcat("tutti:", pid, NULL);
		o->occupant_id = occupant_id(r->muc, r->name, who);
		g_free(who);
	}
	struct muc_occ *old = g_hash_table_lookup(r->by_pid, o->pid);
	if (old)
		xg_muc_occ_free(old);   /* a repeated "joined": the newer snapshot wins */
	g_hash_table_insert(r->by_key, o->key, o);
	g_hash_table_insert(r->by_pid, o->pid, o);
	return o;
}

void xg_muc_occ_free(struct muc_occ *o)
{
	struct muc_room *r = o->room;
	if (g_hash_table_lookup(r->by_key, o->key) == o)
		g_hash_table_remove(r->by_key, o->key);
	if (o->xmpp) {
		if (g_hash_table_lookup(r->by_real, o->real_jid) == o)
			g_hash_table_remove(r->by_real, o->real_jid);
		g_queue_unlink(&r->ours, &o->link);
	}
	g_hash_table_remove(r->by_pid, o->pid);   /* frees o */
}

struct muc_occ *xg_muc_occ_by_nick(struct muc_room *r, const char *nick)
{
	char *key = xg_muc_nick_key(nick);
	struct muc_occ *o = g_hash_table_lookup(r->by_key, key);
	g_free(key);
	return o;
}

struct muc_occ *xg_muc_occ_by_real(struct muc_room *r, const char *real_jid)
{
	return real_jid ? g_hash_table_lookup(r->by_real, real_jid) : NULL;
}

void xg_muc_occ_end(struct muc_occ *o, int reason)
{
	struct muc_room *r = o->room;
	const struct tt_core_api *api = r->muc->gw->api;
	struct tt_participant *p = o->p;
	o->p = NULL;
	xg_muc_occ_free(o);
	if (p)
		api->participant_leave(p, reason);   /* its "left" finds no occupant: ignored */
	xg_muc_room_maybe_free(r);
}

static struct muc_occ *occ_of(struct xg_gw *gw, struct tt_participant *p)
{
	const struct xg_peer *peer = gw->api->participant_gw_data(p);
	return peer && peer->kind == XG_PEER_OCCUPANT ? (struct muc_occ *)peer : NULL;
}

void xg_muc_hang_up(struct xg_gw *gw, struct tt_participant *p, const char *why)
{
	static const char *const kicked[] = {"307", NULL};
	struct muc_occ *o = occ_of(gw, p);
	if (o && o->p == p)
		xg_muc_occ_leave(o, kicked, why, 0);
	else
		gw->api->participant_leave(p, 0);
}

void xg_muc_tell_participant(struct xg_gw *gw, struct tt_participant *p, const char *text)
{
	struct muc_occ *o = gw->muc ? occ_of(gw, p) : NULL;
	if (o && o->p == p)
		xg_muc_tell(o, text, NULL);
}

struct tt_participant *xg_muc_occupant_by_jid(struct xg_gw *gw, const char *room,
					      const char *real_jid)
{
	struct muc_room *r = gw->muc ? xg_muc_room_get(gw->muc, room) : NULL;
	if (!r || !real_jid)
		return NULL;
	struct muc_occ *o = xg_muc_occ_by_real(r, real_jid);
	if (o)
		return o->p;
	if (strchr(real_jid, '/'))
		return NULL;
	size_t n = strlen(real_jid);
	for (GList *l = r->ours.head; l; l = l->next) {
		o = l->data;
		if (!strncmp(o->real_jid, real_jid, n) && o->real_jid[n] == '/')
			return o->p;
	}
	return NULL;
}

void xg_muc_roster(struct xg_gw *gw, const struct tt_roster_event *ev)
{
	if (gw->muc && !gw->stopping)
		xg_muc_presence_roster(gw->muc, ev);
}

/* ---- dispatch ---- */

bool xg_muc_stanza(struct xg_gw *gw, xmpp_stanza_t *st)
{
	struct xg_muc *m = gw->muc;
	const char *name = xmpp_stanza_get_name(st);
	char *local = NULL, *domain = NULL, *res = NULL;
	if (!m || !name)
		return false;
	if (!xmpp_stanza_get_from(st)) {
		return true;   /* the server always stamps 'from': nothing to answer to */
	}
	if (!xg_jid_split(xmpp_stanza_get_to(st), &local, &domain, &res)) {
		xg_reply_error(gw, st, "modify", "jid-malformed", NULL);
		return true;
	}
	if (!strcmp(name, "presence"))
		xg_muc_presence_in(m, st, local, res);
	else if (!strcmp(name, "message"))
		xg_muc_message_in(m, st, local, res);
	else if (!strcmp(name, "iq"))
		xg_muc_iq_in(m, st, local, res);
	else
		xg_reply_error(gw, st, "cancel", "service-unavailable", NULL);
	g_free(local);
	g_free(domain);
	g_free(res);
	return true;
}
