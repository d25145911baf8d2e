/* participant.c: participant memory: refcount, magic check, once-only destroy flag. */
#define TT_LOG_DOMAIN "room"
#include "participant.h"

#include <string.h>
#include <tutti/log.h>

#include "textbus/textbus.h"

struct tt_participant *tt__participant_new(struct tt_core *core, struct tt_gw_handle *gw,
					   const struct tt_join *req, const char *name,
					   struct tt_room *room)
{
	struct tt_participant *p = g_new0(struct tt_participant, 1);
	p->magic = TT_PARTICIPANT_MAGIC;
	p->refs = 1;
	g_snprintf(p->id, sizeof p->id, "p%" G_GUINT64_FORMAT, ++core->next_id);
	p->name = g_strdup(name);
	p->network = g_strdup(req->network ? req->network : gw->gw->network);
	p->room_name = g_strdup(req->room);
	p->gw = gw;
	p->caps = req->caps;
	p->gw_data = req->gw_data;
	p->medium = req->medium ? tt__text_medium_ref(req->medium) : NULL;
	p->room = room;
	return p;
}

struct tt_participant *tt__participant_ref(struct tt_participant *p)
{
	g_return_val_if_fail(p && p->magic == TT_PARTICIPANT_MAGIC, NULL);
	g_atomic_int_inc(&p->refs);
	return p;
}

struct tt_participant *tt__participant_unref(struct tt_participant *p)
{
	if (!p)
		return NULL;
	if (p->magic != TT_PARTICIPANT_MAGIC) {
		/* a double free or a wild pointer: crash here, at the bug, not later */
		g_error("participant %p: bad magic on unref", (void *)p);
	}
	if (g_atomic_int_dec_and_test(&p->refs)) {
		p->magic = 0;
		g_free(p->name);
		g_free(p->network);
		g_free(p->room_name);
		g_free(p->media);
		tt__text_medium_unref(p->medium);
		g_free(p);
	}
	return NULL;
}

bool tt__participant_left(const struct tt_participant *p)
{
	return g_atomic_int_get((gint *)&p->destroyed) != 0;
}

const char *tt__participant_id(const struct tt_participant *p)
{
	return p->id;
}

bool tt__participant_mark_destroyed(struct tt_participant *p)
{
	return g_atomic_int_compare_and_exchange(&p->destroyed, 0, 1);
}

void tt__participant_entry(const struct tt_participant *p, struct tt_roster_entry *e)
{
	e->id = p->id;
	e->name = p->name;
	e->network = p->network;
	e->gateway = p->gw->gw->name;
	e->caps = p->caps;
	e->state = (unsigned)g_atomic_int_get((gint *)&p->state);
	e->hand_seq = (e->state & TT_PS_HAND) ? p->hand_seq : 0;
}
