/* events_priv.h: what the parts of bridge/events/ share: one numbered event (refcounted,
 * rendered to JSON once and shared by the history, every stream client and the webhook
 * queue), the history ring, and the stream and webhook halves. Core thread only. */
#ifndef TT_EVENTS_PRIV_H
#define TT_EVENTS_PRIV_H

#include <glib.h>
#include <jansson.h>
#include <stdint.h>
#include <tutti/core.h>

#include "core/core_types.h"

/* One event as it goes out: its number, its room (for the room filter) and its JSON text. */
struct tt_ev {
	gint ref;
	uint64_t seq;
	char *room;
	char *json;           /* one compact JSON object, NUL-terminated */
	size_t len;
};

struct tt_ev *tt__ev_ref(struct tt_ev *e);
void tt__ev_unref(struct tt_ev *e);

/* The last `cap` events, oldest first; seq numbers grow by one, so an event is found by its
 * number in O(1). */
struct tt_ev_ring {
	struct tt_ev **slot;
	size_t cap, n, head;  /* head: index of the oldest */
};

void tt__ev_ring_init(struct tt_ev_ring *r, size_t cap);
void tt__ev_ring_clear(struct tt_ev_ring *r);
/* Takes a reference; the oldest goes when full. Seqs must be consecutive. */
void tt__ev_ring_push(struct tt_ev_ring *r, struct tt_ev *e);
/* The event numbered seq, borrowed, or NULL when it is not (or no longer) kept. */
struct tt_ev *tt__ev_ring_get(const struct tt_ev_ring *r, uint64_t seq);
/* The oldest kept number, or 0 when empty. */
uint64_t tt__ev_ring_first(const struct tt_ev_ring *r);

/* event_json.c: the JSON of an event without its number and time ("room", "type" and the
 * rest; docs/meetings.md has the schema). Owned by the caller. */
json_t *tt__ev_roster_json(const struct tt_roster_event *ev);
json_t *tt__ev_meeting_json(const struct tt_meeting_event *ev);
/* "2026-12-07T17:45:42.123Z" from a g_get_real_time() value. */
void tt__ev_time_iso(int64_t real_us, char out[32]);
/* Numbers an event object: a new object with "seq", "time" first, then obj's members. */
struct tt_ev *tt__ev_make(uint64_t seq, int64_t real_us, json_t *obj);

struct tt_ev_stream;
struct tt_webhook;

struct tt_events {
	struct tt_core *core;
	uint64_t seq;               /* the last number given; the first event is 1 */
	char boot[24];              /* changes when the process restarts: seq starts again */
	struct tt_ev_ring hist;
	struct tt_ev_stream *stream;
	struct tt_webhook *hook;
};

/* stream.c: GET /api/events. */
int tt__ev_stream_alloc(struct tt_ev_stream **sp, struct tt_events *evs);
void tt__ev_stream_free(struct tt_ev_stream *s);
void tt__ev_stream_push(struct tt_ev_stream *s);   /* a new event is in the history */

/* webhook.c: POSTs to [events] webhook_url. */
struct tt_webhook *tt__webhook_new(struct tt_events *evs);
void tt__webhook_free(struct tt_webhook *w);
void tt__webhook_push(struct tt_webhook *w, struct tt_ev *e);
/* 0 when u is empty or an http://host[:port][/path] URL, else -EINVAL. */
int tt__webhook_check_url(const char *u);
/* "sha256=" + hex HMAC-SHA256(secret, body): the X-Tutti-Signature header's value. */
char *tt__webhook_signature(const char *secret, const char *body, size_t len);

#endif
