/* webrtc_priv.h: the WebRTC gateway's objects. Core thread only. */
#ifndef WR_PRIV_H
#define WR_PRIV_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <tutti/core.h>
#include <tutti/gateway.h>
#include <tutti/ice.h>

struct wr_gw {
	struct tt_gw_handle *h;
	const struct tt_core_api *core;
	struct tt_ice_policy *policy;
	struct tt_ws_ops ws_ops;
	char *ws_path;
	GList *sessions;            /* struct wr_session *, every open connection */
	GHashTable *by_room;        /* room name -> GPtrArray of joined sessions (borrowed) */
	GHashTable *per_peer;       /* peer address -> count of open connections */
	GHashTable *refused;        /* peer address at its limit -> refusals not logged */
	unsigned max_per_peer;
	bool stopping;
	GPtrArray *roster_dirty;    /* sessions with roster events to send (referenced) */
	guint roster_flush;         /* idle source that sends them */
	GHashTable *state_dirty;    /* room names whose room_state is to be sent (meeting.c) */
	guint state_flush;          /* idle source that sends them */
	char *public_url;           /* the web client's base URL, no trailing '/' (doors) */
	char **ice_urls;            /* [webrtc] ice_servers, checked (ice_servers.c) */
	char *turn_secret;          /* NULL: no TURN URLs */
	char *turn_user;            /* the user part of REST-API user names; may be "" */
	long long turn_ttl;         /* seconds the credentials handed out stay valid */
};

enum wr_state {
	WR_NEW,        /* connected, not joined */
	WR_HOMING,     /* join asked the cluster's directory where the room lives */
	WR_JOINED,     /* a participant, no media yet */
	WR_ATTACHING,  /* offer taken, waiting for the media worker */
	WR_MEDIA,      /* answer sent */
	WR_CLOSED,     /* the WebSocket is gone; waiting for in-flight callbacks */
};

struct wr_session {
	gint ref;
	struct wr_gw *gw;
	struct tt_ws *ws;           /* NULL once closed */
	struct tt_participant *p;   /* our reference while joined */
	enum wr_state st;
	char *room;
	char *peer;
	struct wr_offer *offer;     /* kept until the answer is built */
	unsigned n_cands;           /* remote candidates taken (capped) */
	struct wr_roster_pending *roster;   /* roster events not sent yet (roster.c); or NULL */
};

/* session.c */
int wr_session_open(void *arg, struct tt_ws *ws, void **connp);
void wr_session_message(void *conn, struct tt_ws *ws, const char *text, size_t len, int err);
void wr_session_close(void *conn, struct tt_ws *ws);
void wr_session_hang_up(struct wr_session *s, const char *why);
struct wr_session *wr_session_ref(struct wr_session *s);
void wr_session_unref(struct wr_session *s);
/* Steals msg. Sends s's pending roster events first, so that order is kept. */
void wr_session_send(struct wr_session *s, json_t *msg);
json_t *wr_entry_json(const struct tt_roster_entry *e);

/* roster.c: roster events, coalesced per session until the end of the loop pass */
void wr_roster_event(struct wr_gw *gw, const struct tt_roster_event *ev);
void wr_roster_flush(struct wr_session *s);   /* send s's pending events now */
void wr_roster_drop(struct wr_session *s);    /* forget them (s is closed) */
void wr_roster_free(struct wr_gw *gw);        /* drop everything pending (gateway freed) */

/* meeting.c: moderator events, the room's state and its doors */
void wr_on_meeting(void *state, const struct tt_meeting_event *ev);
void wr_doors(void *state, const char *room, tt_door_h fn, void *arg);
json_t *wr_room_state_json(struct wr_gw *gw, const char *room);   /* NULL: no such room */
json_t *wr_doors_json(struct wr_gw *gw, const char *room);
void wr_room_state_changed(struct wr_gw *gw, const char *room);   /* sent once, soon */
void wr_meeting_free(struct wr_gw *gw);
char *wr_public_url(const struct tt_conf *c);

/* ice_servers.c: STUN/TURN servers for browsers */
int wr_ice_servers_check(const struct tt_conf *c, char **errors);    /* check_config */
int wr_ice_servers_load(struct wr_gw *gw, const struct tt_conf *c);   /* logs FILE:LINE */
/* SIGHUP: new ice_servers, turn_secret, turn_ttl for joins after it; -EINVAL (logged,
 * the old ones kept) when they do not pass the check. */
int wr_ice_servers_reload(struct wr_gw *gw, const struct tt_conf *c);
void wr_ice_servers_free(struct wr_gw *gw);
json_t *wr_ice_servers_json(struct wr_gw *gw);   /* new reference; fresh credentials */

#endif
