/* events.c: numbering and history. Every roster and meeting event of a visible room gets
 * the next number (process-wide, from 1), is rendered to JSON once, kept in a ring of the
 * last [events] history events for clients that reconnect with ?since=N, and handed to the
 * stream's clients and the webhook queue, which share the same rendered text. */
#define TT_LOG_DOMAIN "events"
#include "events/events.h"

#include <errno.h>
#include <tutti/conf.h>
#include <tutti/log.h>

#include "events/events_priv.h"

void tt__ev_ring_init(struct tt_ev_ring *r, size_t cap)
{
	r->cap = cap ? cap : 1;
	r->slot = g_new0(struct tt_ev *, r->cap);
	r->n = r->head = 0;
}

void tt__ev_ring_clear(struct tt_ev_ring *r)
{
	for (size_t i = 0; i < r->n; i++)
		tt__ev_unref(r->slot[(r->head + i) % r->cap]);
	g_free(r->slot);
	r->slot = NULL;
	r->n = r->head = 0;
}

void tt__ev_ring_push(struct tt_ev_ring *r, struct tt_ev *e)
{
	if (r->n == r->cap) {
		tt__ev_unref(r->slot[r->head]);
		r->slot[r->head] = tt__ev_ref(e);
		r->head = (r->head + 1) % r->cap;
	} else {
		r->slot[(r->head + r->n) % r->cap] = tt__ev_ref(e);
		r->n++;
	}
}

uint64_t tt__ev_ring_first(const struct tt_ev_ring *r)
{
	return r->n ? r->slot[r->head]->seq : 0;
}

struct tt_ev *tt__ev_ring_get(const struct tt_ev_ring *r, uint64_t seq)
{
	uint64_t first = tt__ev_ring_first(r);
	if (!r->n || seq < first || seq - first >= r->n)
		return NULL;
	return r->slot[(r->head + (seq - first)) % r->cap];
}

static void publish(struct tt_core *core, json_t *obj)
{
	struct tt_events *evs = core->events;
	if (!evs) {   /* a core without events (unit fixtures before alloc) */
		json_decref(obj);
		return;
	}
	struct tt_ev *e = tt__ev_make(++evs->seq, g_get_real_time(), obj);
	json_decref(obj);
	tt__ev_ring_push(&evs->hist, e);
	if (evs->stream)
		tt__ev_stream_push(evs->stream);
	if (evs->hook)
		tt__webhook_push(evs->hook, e);
	tt__ev_unref(e);
}

void tt__events_roster(struct tt_core *core, const struct tt_roster_event *ev)
{
	publish(core, tt__ev_roster_json(ev));
}

void tt__events_meeting(struct tt_core *core, const struct tt_meeting_event *ev)
{
	publish(core, tt__ev_meeting_json(ev));
}

int tt__events_alloc(struct tt_events **ep, struct tt_core *core)
{
	const char *url = tt_conf_str(core->conf, "events", "webhook_url");
	if (tt__webhook_check_url(url)) {
		tt_error("events.webhook_url %s: not an http://host[:port]/path URL", url);
		return -EINVAL;
	}
	struct tt_events *evs = g_new0(struct tt_events, 1);
	evs->core = core;
	/* the boot id tells a client that the numbers started again (a restart), so that
	 * its since=N means nothing here */
	g_snprintf(evs->boot, sizeof evs->boot, "%" G_GINT64_MODIFIER "x-%08x",
		   g_get_real_time(), g_random_int());
	tt__ev_ring_init(&evs->hist, (size_t)tt_conf_int(core->conf, "events", "history"));
	if (core->http) {
		int rc = tt__ev_stream_alloc(&evs->stream, evs);
		if (rc) {
			tt__events_free(evs);
			return rc;
		}
	}
	evs->hook = tt__webhook_new(evs);
	*ep = evs;
	return 0;
}

struct tt_events *tt__events_free(struct tt_events *evs)
{
	if (!evs)
		return NULL;
	tt__ev_stream_free(evs->stream);
	tt__webhook_free(evs->hook);
	tt__ev_ring_clear(&evs->hist);
	g_free(evs);
	return NULL;
}
