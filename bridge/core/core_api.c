/* core_api.c: the const table of core services handed to every gateway (core.h). Each entry
 * checks its thread and arguments, then calls the internal function that does the work. */
#define TT_LOG_DOMAIN "core"
#include "core_priv.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cluster.h"
#include "http/http.h"
#include "http/ws.h"
#include "media/media.h"
#include "meeting/meeting.h"
#include "participant/participant.h"
#include "room/room.h"
#include "textbus/textbus.h"

#define CORE_THREAD_ONLY(ret)                                                     \
	do {                                                                      \
		if (!tt__on_core_thread()) {                                      \
			tt_error("%s called off the core thread", __func__);      \
			return ret;                                               \
		}                                                                 \
	} while (0)

static int api_room_check(struct tt_core *core, const char *room, const char *pin)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__room_check(core, room, pin, NULL);
}

static int api_room_roster(struct tt_core *core, const char *name, tt_roster_entry_h fn,
			   void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	struct tt_room *r = tt__room_find(core, name);
	if (!r)
		return -ENOENT;
	for (guint i = 0; i < r->parts->len; i++) {
		struct tt_roster_entry e;
		const struct tt_participant *p = g_ptr_array_index(r->parts, i);
		if (p->lobby)
			continue;
		tt__participant_entry(p, &e);
		fn(&e, arg);
	}
	tt__cluster_roster_each(core->cluster, r->name, fn, arg);   /* other nodes' members */
	return 0;
}

static int api_room_count(struct tt_core *core, const char *name)
{
	CORE_THREAD_ONLY(-EPERM);
	struct tt_room *r = tt__room_find(core, name);
	if (!r)
		return -ENOENT;
	int n = 0;
	for (guint i = 0; i < r->parts->len; i++)
		n += !((const struct tt_participant *)g_ptr_array_index(r->parts, i))->lobby;
	return n;
}

static int api_room_watch(struct tt_gw_handle *gw, const char *room, bool on)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__room_watch(gw, room, on);
}

static int api_join(struct tt_gw_handle *gw, const struct tt_join *req,
		    struct tt_participant **pp)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!gw || !pp)
		return -EINVAL;
	return tt__room_join(gw, req, pp);
}

static struct tt_participant *api_leave(struct tt_participant *p, int reason)
{
	CORE_THREAD_ONLY(NULL);
	return tt__room_leave(p, reason);
}

static struct tt_participant *api_ref(struct tt_participant *p)
{
	return tt__participant_ref(p);
}

static struct tt_participant *api_unref(struct tt_participant *p)
{
	return tt__participant_unref(p);
}

static const char *api_id(const struct tt_participant *p) { return p->id; }
static const char *api_name(const struct tt_participant *p) { return p->name; }
static const char *api_room(const struct tt_participant *p) { return p->room_name; }
static void *api_gw_data(const struct tt_participant *p) { return p->gw_data; }

static unsigned api_state(const struct tt_participant *p)
{
	return (unsigned)g_atomic_int_get((gint *)&p->state);
}

static bool api_alive(const struct tt_participant *p)
{
	return !g_atomic_int_get((gint *)&p->destroyed);
}

static int api_set_state(struct tt_participant *p, unsigned bits, bool on)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__meeting_self_state(p, bits, on);
}

static struct tt_participant *api_find(struct tt_core *core, const char *room,
				       const char *id_or_name)
{
	CORE_THREAD_ONLY(NULL);
	struct tt_room *r = tt__room_find(core, room);
	if (!r || !id_or_name)
		return NULL;
	for (guint i = 0; i < r->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(r->parts, i);
		if (!p->lobby && !strcmp(p->id, id_or_name))
			return tt__participant_ref(p);
	}
	for (guint i = 0; i < r->parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(r->parts, i);
		char *a = g_utf8_casefold(p->name, -1), *b = g_utf8_casefold(id_or_name, -1);
		bool eq = !p->lobby && !strcmp(a, b);
		g_free(a);
		g_free(b);
		if (eq)
			return tt__participant_ref(p);
	}
	return NULL;
}

static int api_kick(struct tt_participant *p, const char *why)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!p || g_atomic_int_get(&p->destroyed))
		return -ENOENT;
	p->gw->gw->hang_up(p->gw->state, p, why ? why : "removed by a moderator");
	return 0;
}

static int api_text_post(struct tt_participant *p, const char *text, size_t len,
			 unsigned flags)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__text_post(p, text, len, flags);
}

static int api_text_notice(struct tt_gw_handle *gw, const char *room, const char *text)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__text_notice(gw, room, text);
}

static int api_text_medium_open(struct tt_gw_handle *gw, const char *room, void *data,
				struct tt_text_medium **mp)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__text_medium_open(gw, room, data, mp);
}

static struct tt_text_medium *api_text_medium_close(struct tt_text_medium *m)
{
	CORE_THREAD_ONLY(NULL);
	return tt__text_medium_close(m);
}

static int api_text_medium_notice(struct tt_text_medium *m, const char *text)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__text_medium_notice(m, text);
}

/* The audio calls check the participant here, on the core side; the media side (media.h)
 * checks the leg and knows nothing of rooms. The order of the checks is the order of the
 * errors core.h promises. */
static bool in_room(const struct tt_participant *p)
{
	return p->room && !g_atomic_int_get((gint *)&p->destroyed);
}

/* What every audio call checks first, in the order core.h promises: -EINVAL (no p), -ENOENT
 * (left, or not in a room), -EPERM (joined without TT_CAP_AUDIO). */
static int audio_target(const struct tt_participant *p)
{
	if (!p)
		return -EINVAL;
	if (!in_room(p))
		return -ENOENT;
	if (!(p->caps & TT_CAP_AUDIO))
		return -EPERM;
	return 0;
}

static int api_audio_attach(struct tt_participant *p, const struct tt_audio_leg *leg,
			    tt_audio_attached_h cb, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	int rc = audio_target(p);
	if (rc)
		return rc;
	/* a trunk to another node sends the level of its mix (RFC 6464, cluster/cascade.c) */
	return tt__room_media_attach(p->room->media, p, leg, cb, arg, p->trunk);
}

static int api_audio_update(struct tt_participant *p, const struct tt_audio_leg *leg,
			    tt_audio_attached_h cb, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!p)
		return -EINVAL;
	if (!in_room(p) || !p->room->media)
		return -ENOENT;
	return tt__room_media_update(p->room->media, p, leg, cb, arg);
}

/* ---- ICE legs and WebSocket endpoints ---- */

static int api_audio_ice_candidate(struct tt_participant *p, const char *cand)
{
	CORE_THREAD_ONLY(-EPERM);
	int rc = audio_target(p);
	if (rc)
		return rc;
	return tt__room_media_ice_candidate(p->room->media, p, cand);
}

static int api_audio_ice_credentials(struct tt_participant *p, const char *ufrag,
				     const char *pwd, const char *fingerprint, bool dtls_active)
{
	CORE_THREAD_ONLY(-EPERM);
	int rc = audio_target(p);
	if (rc)
		return rc;
	return tt__room_media_ice_credentials(p->room->media, p, ufrag, pwd, fingerprint,
					      dtls_active);
}

static int api_ws_register(struct tt_gw_handle *gw, const char *path,
			   const struct tt_ws_ops *ops, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!gw)
		return -EINVAL;
	return tt__ws_register(tt__http_ws_hub(gw->core->http), gw, path, ops, arg);
}

static int api_ws_send(struct tt_ws *ws, const char *text, size_t len)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__ws_send(ws, text, len);
}

static void api_ws_close(struct tt_ws *ws, unsigned code, const char *reason)
{
	CORE_THREAD_ONLY();
	tt__ws_close(ws, code, reason);
}

static const char *api_ws_peer(const struct tt_ws *ws)
{
	return tt__ws_peer(ws);
}

static int api_lobby_join(struct tt_gw_handle *gw, const struct tt_join *req,
			  struct tt_participant **pp)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!gw || !pp || !req)
		return -EINVAL;
	return tt__room_lobby_join(gw, req, pp);
}

static int api_lobby_admit(struct tt_participant *p, const char *pin)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__room_lobby_admit(p, pin);
}

static int api_audio_play(struct tt_participant *p, const int16_t *pcm, size_t n,
			  unsigned rate)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!p)
		return -EINVAL;
	if (!in_room(p) || !p->room->media)
		return -ENOENT;
	return tt__room_media_play(p->room->media, p, pcm, n, rate, p->room->rate);
}

static int api_audio_add(struct tt_participant *p, tt_audio_ended_h ended, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__room_audio(p, true, ended, arg);
}

static int api_audio_remove(struct tt_participant *p)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__room_audio(p, false, NULL, NULL);
}

static int api_moderate(struct tt_participant *actor, enum tt_mod_action a,
			struct tt_participant *target, const char *reason)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!actor)
		return -EINVAL;
	return tt__meeting_moderate(NULL, NULL, actor, a, target, reason);
}

static int api_room_info(struct tt_core *core, const char *room, struct tt_room_info *out)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__meeting_room_info(core, room, out);
}

static int api_room_doors(struct tt_core *core, const char *room, tt_door_h fn, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	return tt__meeting_doors(core, room, fn, arg);
}

/* room_home: the directory's answer turned into the page URL a browser is sent to. */
struct home_wait {
	struct tt_core *core;
	char *room;
	tt_room_home_h fn;
	void *arg;
};

static void on_home(void *arg, const char *node, const char *url, bool self)
{
	struct home_wait *w = arg;
	char *to = NULL;
	/* the room may have been made here meanwhile: then it is joined here */
	if (node && !self && url && *url && !tt__room_find(w->core, w->room)) {
		size_t n = strlen(url);
		while (n && url[n - 1] == '/')
			n--;
		to = g_strdup_printf("%.*s/%s", (int)n, url, w->room);
		tt__cluster_redirected(w->core->cluster);
	}
	w->fn(w->arg, to);
	g_free(to);
	g_free(w->room);
	g_free(w);
}

static int api_room_home(struct tt_core *core, const char *room, tt_room_home_h fn, void *arg)
{
	CORE_THREAD_ONLY(-EPERM);
	if (!room || !fn || !core->cluster || tt__room_find(core, room) ||
	    !tt__room_name_valid(room))
		return 0;
	struct home_wait *w = g_new0(struct home_wait, 1);
	w->core = core;
	w->room = g_strdup(room);
	w->fn = fn;
	w->arg = arg;
	if (tt__cluster_lookup(core->cluster, room, on_home, w))
		return 1;
	g_free(w->room);
	g_free(w);
	return 0;
}

static struct tt_core *api_core_of(struct tt_gw_handle *gw) { return gw->core; }
static const struct tt_conf *api_conf(struct tt_core *core) { return core->conf; }

const struct tt_core_api tt__core_api = {
	.api_version = TT_CORE_API_VERSION,
	.room_check = api_room_check,
	.room_roster = api_room_roster,
	.room_count = api_room_count,
	.room_watch = api_room_watch,
	.participant_join = api_join,
	.participant_leave = api_leave,
	.participant_ref = api_ref,
	.participant_unref = api_unref,
	.participant_id = api_id,
	.participant_name = api_name,
	.participant_room = api_room,
	.participant_gw_data = api_gw_data,
	.participant_state = api_state,
	.participant_alive = api_alive,
	.participant_set_state = api_set_state,
	.participant_find = api_find,
	.participant_kick = api_kick,
	.text_post = api_text_post,
	.text_notice = api_text_notice,
	.audio_attach = api_audio_attach,
	.core_of = api_core_of,
	.conf = api_conf,
	/* SIP gateway additions */
	.audio_update = api_audio_update,
	.audio_ice_candidate = api_audio_ice_candidate,
	.audio_ice_credentials = api_audio_ice_credentials,
	.ws_register = api_ws_register,
	.ws_send = api_ws_send,
	.ws_close = api_ws_close,
	.ws_peer = api_ws_peer,
	/* SIP gateway additions, continued */
	.lobby_join = api_lobby_join,
	.lobby_admit = api_lobby_admit,
	.audio_play = api_audio_play,
	/* text media: text by origin */
	.text_medium_open = api_text_medium_open,
	.text_medium_close = api_text_medium_close,
	.text_medium_notice = api_text_medium_notice,
	/* 4: audio for a text participant (an XMPP occupant who calls) */
	.audio_add = api_audio_add,
	.audio_remove = api_audio_remove,
	/* 5: meetings */
	.moderate = api_moderate,
	.room_info = api_room_info,
	.room_doors = api_room_doors,
	.room_home = api_room_home,
};
