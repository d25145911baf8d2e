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
	unsigned max_per_peer;
	bool stopping;
};

enum wr_state {
	WR_NEW,        /* connected, not joined */
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
};

/* session.c */
int wr_session_open(void *arg, struct tt_ws *ws, void **connp);
void wr_session_message(void *conn, struct tt_ws *ws, const char *text, size_t len, int err);
void wr_session_close(void *conn, struct tt_ws *ws);
void wr_session_hang_up(struct wr_session *s, const char *why);
void wr_session_unref(struct wr_session *s);
void wr_session_send(struct wr_session *s, json_t *msg);   /* steals msg */
json_t *wr_entry_json(const struct tt_roster_entry *e);

#endif
