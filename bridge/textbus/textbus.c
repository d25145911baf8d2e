/* textbus.c: validation and fan-out of room text by origin (the rules: textbus.h). */
#define TT_LOG_DOMAIN "text"
#include "textbus.h"

#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "cluster/cluster.h"
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

/* One place a line goes: a medium (a reference), a participant (a reference), or, with
 * neither, the gateway's on_text. */
struct target {
	struct tt_gw_handle *gw;
	struct tt_text_medium *medium;
	struct tt_participant *to;
};

static bool reaches_participant(const struct tt_participant *p, const struct tt_gw_handle *h,
				const struct tt_participant *sender)
{
	return p->gw == h && p != sender && (p->caps & TT_CAP_TEXT) && !p->lobby &&
	       !p->medium && !g_atomic_int_get((gint *)&p->destroyed);
}

/* Every place in the room except where the line came from, gateway by gateway in
 * registration order, as they are now. */
static GArray *targets(struct tt_room *room, const struct tt_text_medium *from_medium,
		       const struct tt_participant *sender)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct target));
	GPtrArray *gws = tt__room_present_gateways(room);
	for (guint g = 0; g < gws->len; g++) {
		struct tt_gw_handle *h = g_ptr_array_index(gws, g);
		if (h->gw->on_text)
			g_array_append_val(out, ((struct target){ .gw = h }));
		for (guint i = 0; h->gw->on_medium_text && i < room->text_media->len; i++) {
			struct tt_text_medium *m = g_ptr_array_index(room->text_media, i);
			if (m->gw == h && m != from_medium)
				g_array_append_val(out, ((struct target){
					.gw = h, .medium = tt__text_medium_ref(m) }));
		}
		for (guint i = 0; h->gw->on_text_to && i < room->parts->len; i++) {
			struct tt_participant *p = g_ptr_array_index(room->parts, i);
			if (reaches_participant(p, h, sender))
				g_array_append_val(out, ((struct target){
					.gw = h, .to = tt__participant_ref(p) }));
		}
	}
	g_ptr_array_free(gws, TRUE);
	return out;
}

static void deliver(struct tt_room *room, const struct tt_text *msg)
{
	GArray *ts = targets(room, msg->origin_medium, msg->sender);
	/* room may be freed by a callback (the last member leaves, the last medium closes):
	 * from here on, only the targets' references are used */
	for (guint i = 0; i < ts->len; i++) {
		struct target *t = &g_array_index(ts, struct target, i);
		if (t->medium) {
			if (t->medium->room && t->gw->started)
				t->gw->gw->on_medium_text(t->gw->state, t->medium->data, msg);
			tt__text_medium_unref(t->medium);
		} else if (t->to) {
			if (!g_atomic_int_get(&t->to->destroyed) && !t->to->lobby && t->gw->started)
				t->gw->gw->on_text_to(t->gw->state, t->to, msg);
			tt__participant_unref(t->to);
		} else if (t->gw->started) {
			t->gw->gw->on_text(t->gw->state, msg);
		}
	}
	g_array_free(ts, TRUE);
}

int tt__text_post(struct tt_participant *p, const char *text, size_t len, unsigned flags)
{
	if (!p || !p->room || g_atomic_int_get(&p->destroyed))
		return -ENOENT;
	if (!(p->caps & TT_CAP_TEXT) || p->lobby)
		return -EPERM;  /* the lobby is hidden: it neither hears nor speaks */
	int rc = tt__text_validate(p->gw->core, text, len);
	if (rc)
		return rc;
	/* The sender (and so the strings of msg.from) and its medium live until delivered,
	 * even if a callback makes it leave; the room's name is copied for the same reason. */
	tt__participant_ref(p);
	struct tt_text_medium *m = p->medium ? tt__text_medium_ref(p->medium) : NULL;
	char *room = g_strdup(p->room->name);
	char *copy = g_strndup(text, len);  /* NUL-terminated for receivers */
	struct tt_text msg = {
		.room = room,
		.text = copy,
		.len = len,
		.flags = flags & (TT_TEXT_ACTION | TT_TEXT_NOTICE),
		.origin = p->gw,
		.origin_medium = m,
		.sender = p,
	};
	tt__participant_entry(p, &msg.from);
	struct tt_core *core = p->gw->core;
	bool hidden = p->room->hidden;
	deliver(p->room, &msg);
	/* once, whoever posted it: lines from the other nodes come in by tt__text_from_link */
	if (!hidden)
		tt__cluster_text_out(core->cluster, room, &msg.from, msg.flags, copy, len);
	g_free(copy);
	g_free(room);
	tt__text_medium_unref(m);
	tt__participant_unref(p);
	return 0;
}

const struct tt_text_medium tt__text_link = { .magic = TT_TEXT_MEDIUM_MAGIC, .refs = 1 };

int tt__text_from_link(struct tt_core *core, const char *room_name, const char *node,
		       const char *id_there, const char *name, const char *network,
		       unsigned flags, const char *text, size_t len)
{
	struct tt_room *room = tt__room_find(core, room_name);
	if (!room || room->hidden)
		return -ENOENT;
	int rc = tt__text_validate(core, text, len);
	if (rc)
		return rc;
	char *rname = g_strdup(room->name);
	char *id = g_strdup_printf("%s:%s", node, id_there ? id_there : "link");
	struct tt_text msg = {
		.room = rname,
		.from = { .id = id, .name = name, .network = network, .gateway = "cluster",
			  .caps = TT_CAP_TEXT },
		.text = text,
		.len = len,
		.flags = flags & (TT_TEXT_ACTION | TT_TEXT_NOTICE),
		.origin_medium = &tt__text_link,
	};
	deliver(room, &msg);
	g_free(id);
	g_free(rname);
	return 0;
}

/* A notice from gw, about medium m or about nothing in particular (m NULL). */
int tt__text_notice_from(struct tt_gw_handle *gw, struct tt_room *room,
			 struct tt_text_medium *m, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	int rc = tt__text_validate(gw->core, text, len);
	if (rc)
		return rc;
	char *name = g_strdup(room->name);
	struct tt_text msg = {
		.room = name,
		.from = { .id = "", .name = "tutti", .network = gw->gw->network,
			  .gateway = gw->gw->name },
		.text = text,
		.len = len,
		.flags = TT_TEXT_NOTICE,
		.origin = gw,
		.origin_medium = m,
	};
	deliver(room, &msg);
	g_free(name);
	return 0;
}

int tt__text_notice(struct tt_gw_handle *gw, const char *room_name, const char *text)
{
	struct tt_room *room = tt__room_find(gw->core, room_name);
	if (!room)
		return -ENOENT;
	return tt__text_notice_from(gw, room, NULL, text);
}
