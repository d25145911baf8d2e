/* roster.c: SUBSCRIBE to a room URI for the conference event package (RFC 4575): the
 * subscriber gets NOTIFYs with every participant of every network, their media state, and
 * who is talking (an extension element in our own namespace, which RFC 4575 4.8 allows).
 *
 * Each NOTIFY carries the full state (state="full", version+1): simpler for subscribers
 * than partial updates, and rooms are small enough. Roster events are coalesced: at most
 * one NOTIFY per subscription every NOTIFY_MIN_MS, so "talking" flapping cannot flood. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include <tutti/errno.h>
#include <tutti/log.h>

#define NOTIFY_MIN_MS 200
#define SUB_MAX_EXPIRES 3600

struct sip_sub {
	struct sipgw *gw;
	nua_handle_t *nh;
	char *room;
	char *entity;
	unsigned version;
	guint timer;
	bool watching;
};

/* Text for the document: valid UTF-8 (the entity's host is whatever sofia-sip let through
 * in the Request-URI, bytes like \xff and \x01 included, and g_markup_escape_text wants
 * UTF-8), without what XML 1.0 forbids (controls, U+FFFE, U+FFFF), escaped. */
static char *xml_escape(const char *s)
{
	char *valid = g_utf8_make_valid(s ? s : "", -1);
	GString *clean = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar ch = g_utf8_get_char(p);
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0xFFFE ||
		    ch == 0xFFFF)
			continue;
		g_string_append_unichar(clean, ch);
	}
	char *esc = g_markup_escape_text(clean->str, (gssize)clean->len);
	g_string_free(clean, TRUE);
	g_free(valid);
	return esc;
}

static void entry_xml(const struct tt_roster_entry *e, void *arg)
{
	GString *x = arg;
	char *id = xml_escape(e->id);
	char *name = xml_escape(e->name);
	char *net = xml_escape(e->network);
	bool hold = e->state & TT_PS_HOLD, muted = e->state & TT_PS_MUTED;
	bool deaf = e->state & TT_PS_DEAF;
	const char *media = hold ? "inactive" : muted && deaf ? "inactive"
				   : muted ? "recvonly" : deaf ? "sendonly" : "sendrecv";
	g_string_append_printf(x,
		"  <user entity=\"tutti:%s\" state=\"full\">\n"
		"   <display-text>%s</display-text>\n"
		"   <endpoint entity=\"tutti:%s;network=%s\">\n"
		"    <status>%s</status>\n", id, name, id, net, hold ? "on-hold" : "connected");
	if (e->caps & TT_CAP_AUDIO)
		g_string_append_printf(x,
			"    <media id=\"audio\"><type>audio</type><status>%s</status></media>\n",
			media);
	g_string_append_printf(x,
		"    <tt:network>%s</tt:network>\n"
		"    <tt:talking>%s</tt:talking>\n"
		"    <tt:hand>%s</tt:hand>\n"
		"   </endpoint>\n"
		"  </user>\n", net, e->state & TT_PS_TALKING ? "true" : "false",
		e->state & TT_PS_HAND ? "true" : "false");
	g_free(id);
	g_free(name);
	g_free(net);
}

char *tt__sip_conference_xml(struct sipgw *gw, const char *room, const char *entity,
			     unsigned version)
{
	GString *x = g_string_new(NULL);
	char *ent = xml_escape(entity);
	char *name = xml_escape(room);
	g_string_append_printf(x,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\"\n"
		" xmlns:tt=\"urn:tutti:params:xml:ns:conference-info\"\n"
		" entity=\"%s\" state=\"full\" version=\"%u\">\n"
		" <conference-description><display-text>%s</display-text></conference-description>\n"
		" <users>\n", ent, version, name);
	const struct tt_core_api *core = gw->core;
	core->room_roster(core->core_of(gw->h), room, entry_xml, x);
	g_string_append(x, " </users>\n</conference-info>\n");
	g_free(ent);
	g_free(name);
	return g_string_free(x, FALSE);
}

static void sub_notify(struct sip_sub *s, bool terminated)
{
	char *xml = tt__sip_conference_xml(s->gw, s->room, s->entity, ++s->version);
	nua_notify(s->nh, NUTAG_SUBSTATE(terminated ? nua_substate_terminated
						    : nua_substate_active),
		   SIPTAG_EVENT_STR("conference"),
		   SIPTAG_CONTENT_TYPE_STR("application/conference-info+xml"),
		   SIPTAG_PAYLOAD_STR(xml), TAG_END());
	g_free(xml);
}

static gboolean notify_due(gpointer data)
{
	struct sip_sub *s = data;
	s->timer = 0;
	sub_notify(s, false);
	return G_SOURCE_REMOVE;
}

static void sub_free(struct sip_sub *s)
{
	if (s->timer)
		g_source_remove(s->timer);
	if (s->watching)
		s->gw->core->room_watch(s->gw->h, s->room, false);
	g_hash_table_remove(s->gw->subs, s->nh);
	nua_handle_destroy(s->nh);
	g_free(s->room);
	g_free(s->entity);
	g_free(s);
}

void tt__sip_subscribe(struct sipgw *gw, nua_handle_t *nh, const sip_t *sip)
{
	struct sip_sub *s = g_hash_table_lookup(gw->subs, nh);
	const char *ev = sip->sip_event ? sip->sip_event->o_type : NULL;
	if (!ev || strcmp(ev, "conference")) {
		sip_respond(gw, nh, SIP_489_BAD_EVENT, NUTAG_WITH_THIS(gw->nua),
			    SIPTAG_ALLOW_EVENTS_STR("conference"), TAG_END());
		if (!s)
			nua_handle_destroy(nh);
		return;
	}
	unsigned long expires = sip->sip_expires ? sip->sip_expires->ex_delta : 600;
	if (expires > SUB_MAX_EXPIRES)
		expires = SUB_MAX_EXPIRES;
	if (s) {
		/* a refresh, or Expires: 0 to end it */
		char ex[16];
		g_snprintf(ex, sizeof ex, "%lu", expires);
		sip_respond(gw, nh, SIP_200_OK, NUTAG_WITH_THIS(gw->nua), SIPTAG_EXPIRES_STR(ex),
			    TAG_END());
		sub_notify(s, expires == 0);
		if (expires == 0) {
			if (s->watching)
				gw->core->room_watch(gw->h, s->room, false);
			s->watching = false;
		}
		return;
	}
	const char *room = tt__sip_room_of(gw, sip->sip_request->rq_url);
	/* the same answer for "no such room" and "PIN room": no enumeration */
	int rc = room ? gw->core->room_check(gw->core->core_of(gw->h), room, NULL) : -ENOENT;
	if (rc == 0)
		rc = gw->core->room_watch(gw->h, room, true);
	if (rc) {
		sip_respond(gw, nh, SIP_404_NOT_FOUND, NUTAG_WITH_THIS(gw->nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	s = g_new0(struct sip_sub, 1);
	s->gw = gw;
	s->nh = nh;
	s->room = g_strdup(room);
	s->watching = true;
	const url_t *u = sip->sip_request->rq_url;
	s->entity = g_strdup_printf("sip:%s@%s", room, u->url_host ? u->url_host : "tutti");
	g_hash_table_insert(gw->subs, nh, s);
	char ex[16];
	g_snprintf(ex, sizeof ex, "%lu", expires);
	sip_respond(gw, nh, SIP_200_OK, NUTAG_WITH_THIS(gw->nua), SIPTAG_EXPIRES_STR(ex), TAG_END());
	sub_notify(s, false);
	tt_info("roster subscription to %s", room);
}

bool tt__sip_sub_event(struct sipgw *gw, nua_event_t ev, int status, nua_handle_t *nh,
		       const sip_t *sip, tagi_t tags[])
{
	struct sip_sub *s = g_hash_table_lookup(gw->subs, nh);
	if (!s)
		return false;
	switch (ev) {
	case nua_i_subscribe:
		tt__sip_subscribe(gw, nh, sip);
		break;
	case nua_r_notify:
		/* a final error (481: the subscriber forgot us) ends it */
		if (status >= 300 && status != 408)
			sub_free(s);
		break;
	case nua_i_terminated:
		sub_free(s);
		break;
	case nua_i_state:
	default:
		break;
	}
	return true;
}

void tt__sip_on_roster(void *state, const struct tt_roster_event *ev)
{
	struct sipgw *gw = state;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, gw->subs);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct sip_sub *s = v;
		if (!s->watching || strcmp(s->room, ev->room) || s->timer)
			continue;
		s->timer = g_timeout_add(NOTIFY_MIN_MS, notify_due, s);
	}
}

void tt__sip_subs_free(struct sipgw *gw)
{
	GList *all = g_hash_table_get_values(gw->subs);
	for (GList *l = all; l; l = l->next)
		sub_free(l->data);
	g_list_free(all);
}
