/* medium.c: shared text media (an IRC channel in a room): open, close, references. */
#define TT_LOG_DOMAIN "text"
#include "textbus.h"

#include <tutti/errno.h>
#include <tutti/log.h>

#include "room/room.h"

struct tt_text_medium *tt__text_medium_ref(struct tt_text_medium *m)
{
	g_return_val_if_fail(m && m->magic == TT_TEXT_MEDIUM_MAGIC, NULL);
	g_atomic_int_inc(&m->refs);
	return m;
}

struct tt_text_medium *tt__text_medium_unref(struct tt_text_medium *m)
{
	if (!m)
		return NULL;
	if (m->magic != TT_TEXT_MEDIUM_MAGIC)
		g_error("text medium %p: bad magic on unref", (void *)m);
	if (g_atomic_int_dec_and_test(&m->refs)) {
		m->magic = 0;
		g_free(m);
	}
	return NULL;
}

int tt__text_medium_open(struct tt_gw_handle *gw, const char *room, void *data,
			 struct tt_text_medium **mp)
{
	if (!gw || !room || !mp)
		return -EINVAL;
	if (!gw->gw->on_medium_text)
		return -EOPNOTSUPP;
	/* The medium's presence is a watch: the room lives while the medium is open. */
	int rc = tt__room_watch(gw, room, true);
	if (rc)
		return rc;
	struct tt_text_medium *m = g_new0(struct tt_text_medium, 1);
	m->magic = TT_TEXT_MEDIUM_MAGIC;
	m->refs = 2;  /* the gateway's and the room's */
	m->gw = gw;
	m->room = tt__room_find(gw->core, room);
	m->data = data;
	g_ptr_array_add(m->room->text_media, m);
	*mp = m;
	return 0;
}

/* Out of the room's list, no more deliveries; the room's reference goes. */
static void detach(struct tt_text_medium *m)
{
	m->room = NULL;
	tt__text_medium_unref(m);
}

struct tt_text_medium *tt__text_medium_close(struct tt_text_medium *m)
{
	if (!m || m->magic != TT_TEXT_MEDIUM_MAGIC) {
		g_return_val_if_reached(NULL);
	}
	struct tt_room *room = m->room;
	if (room) {
		char *name = g_strdup(room->name);
		g_ptr_array_remove(room->text_media, m);
		detach(m);
		tt__room_watch(m->gw, name, false);  /* may end the room */
		g_free(name);
	}
	return tt__text_medium_unref(m);  /* the gateway's */
}

int tt__text_medium_notice(struct tt_text_medium *m, const char *text)
{
	if (!m || m->magic != TT_TEXT_MEDIUM_MAGIC)
		return -EINVAL;
	if (!m->room)
		return -ENOENT;
	tt__text_medium_ref(m);  /* a callback may close it */
	int rc = tt__text_notice_from(m->gw, m->room, m, text);
	tt__text_medium_unref(m);
	return rc;
}

bool tt__text_medium_fits(const struct tt_text_medium *m, const struct tt_gw_handle *gw,
			  const struct tt_room *room)
{
	return m && m->magic == TT_TEXT_MEDIUM_MAGIC && m->gw == gw && m->room == room;
}

void tt__text_media_room_gone(struct tt_room *room)
{
	for (guint i = 0; i < room->text_media->len; i++) {
		struct tt_text_medium *m = g_ptr_array_index(room->text_media, i);
		tt_warn("room %s freed with a text medium of %s still open", room->name,
			m->gw->gw->name);
		detach(m);
	}
	g_ptr_array_set_size(room->text_media, 0);
}
