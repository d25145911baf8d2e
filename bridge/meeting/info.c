/* info.c: the room as gateways show it, and the ways into it that the gateways offer. */
#include "meeting/meeting.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>

#include "core/core_priv.h"
#include "participant/participant.h"
#include "record/record.h"
#include "room/room.h"

int tt__meeting_room_info(struct tt_core *core, const char *name, struct tt_room_info *out)
{
	struct tt_room *r = name ? tt__room_find(core, name) : NULL;
	if (!r || r->hidden || !out)
		return -ENOENT;
	memset(out, 0, sizeof *out);
	out->locked = r->locked;
	out->has_pin = r->pin != NULL;
	out->has_moderator_pin = r->moderator_pin != NULL;
	out->self_unmute = r->self_unmute;
	out->unmute_asks = r->unmute_asks;
	out->recording_decline = r->recording_decline;
	out->recording = r->rec != NULL;
	if (r->rec) {
		out->recording_id = tt__record_id(r->rec);
		out->recording_since_us = tt__record_since(r->rec);
	}
	for (guint i = 0; i < r->parts->len; i++) {
		const struct tt_participant *p = g_ptr_array_index(r->parts, i);
		out->hands += !p->lobby && ((unsigned)g_atomic_int_get((gint *)&p->state) &
					    TT_PS_HAND);
	}
	return 0;
}

int tt__meeting_doors(struct tt_core *core, const char *room, tt_door_h fn, void *arg)
{
	if (!room || !tt__room_name_valid(room) || !fn)
		return -EINVAL;
	for (unsigned g = 0; g < core->n_gws; g++) {
		struct tt_gw_handle *h = &core->gws[g];
		if (h->started && h->gw->doors)
			h->gw->doors(h->state, room, fn, arg);
	}
	return 0;
}
