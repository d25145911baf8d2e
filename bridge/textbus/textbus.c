/* textbus.c: validation and fan-out of room text, with loop prevention. */
#define TT_LOG_DOMAIN "text"
#include "textbus.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "participant/participant.h"
#include "room/room.h"

int tt__text_validate(const struct tt_core *core, const char *text, size_t len)
{
	if (!text || len == 0)
		return -EINVAL;
	if ((long long)len > tt_conf_int(core->conf, "bridge", "max_text_bytes"))
		return -EMSGSIZE;
	if (!g_utf8_validate_len(text, len, NULL))
		return -EILSEQ;
	/* C0 controls other than tab and newline are formatting or terminal escapes from one
	 * network; gateways map them before posting (IRC colours, for one). NUL never passes. */
	bool visible = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			return -EILSEQ;
		if (c > 0x20)
			visible = true;
	}
	return visible ? 0 : -EINVAL;
}

/* Deliver once to each present gateway; skip the origin when its network already showed
 * the line to all its users (TT_GW_SHARED_TEXT). */
static void deliver(struct tt_room *room, const struct tt_text *msg)
{
	GPtrArray *gws = tt__room_present_gateways(room);
	for (guint i = 0; i < gws->len; i++) {
		struct tt_gw_handle *h = g_ptr_array_index(gws, i);
		if (h == msg->origin && (h->gw->flags & TT_GW_SHARED_TEXT))
			continue;
		if (h->gw->on_text)
			h->gw->on_text(h->state, msg);
	}
	g_ptr_array_free(gws, TRUE);
}

int tt__text_post(struct tt_participant *p, const char *text, size_t len, unsigned flags)
{
	if (!p || !p->room || g_atomic_int_get(&p->destroyed))
		return -ENOENT;
	if (!(p->caps & TT_CAP_TEXT))
		return -EPERM;
	int rc = tt__text_validate(p->gw->core, text, len);
	if (rc)
		return rc;
	char *copy = g_strndup(text, len);  /* NUL-terminated for receivers */
	struct tt_text msg = {
		.room = p->room->name,
		.text = copy,
		.len = len,
		.flags = flags & (TT_TEXT_ACTION | TT_TEXT_NOTICE),
		.origin = p->gw,
	};
	tt__participant_entry(p, &msg.from);
	deliver(p->room, &msg);
	g_free(copy);
	return 0;
}

int tt__text_notice(struct tt_gw_handle *gw, const char *room_name, const char *text)
{
	struct tt_room *room = tt__room_find(gw->core, room_name);
	if (!room)
		return -ENOENT;
	size_t len = text ? strlen(text) : 0;
	int rc = tt__text_validate(gw->core, text, len);
	if (rc)
		return rc;
	struct tt_text msg = {
		.room = room->name,
		.from = { .id = "", .name = "tutti", .network = gw->gw->network,
			  .gateway = gw->gw->name },
		.text = text,
		.len = len,
		.flags = TT_TEXT_NOTICE,
		.origin = gw,
	};
	deliver(room, &msg);
	return 0;
}
