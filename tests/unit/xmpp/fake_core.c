/* fake_core.c: the core stand-in for the XMPP gateway's tests (see fake_core.h). */
#include "fake_core.h"

#include <errno.h>
#include <string.h>
#include <tutti/conf.h>

#include "conf/loader.h"

struct tt_core { int unused; };
struct tt_gw_handle { int unused; };

struct fake_core fake;
static struct tt_core the_core;
static struct tt_gw_handle the_gw;
static struct tt_conf_schema *schema;
static int next_id;

struct tt_gw_handle *fake_gw(void)
{
	return &the_gw;
}

struct tt_core *fake_core_of(void)
{
	return &the_core;
}

/* The core's [room.NAME] rows that the gateway reads (room names for disco). */
static const struct tt_conf_key room_rows[] = {
	{"room.*", "pin", TT_CONF_STRING, NULL, 0, 64, NULL, 0, "PIN."},
	{NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

static void medium_free(gpointer data)
{
	struct fake_medium *m = data;
	g_free(m->room);
	g_free(m);
}

static void p_free(gpointer data)
{
	struct fake_p *p = data;
	g_free(p->id);
	g_free(p->name);
	g_free(p->room);
	g_free(p->network);
	g_free(p->gateway);
	g_free(p);
}

static void room_free(gpointer data)
{
	struct fake_room *r = data;
	g_free(r->name);
	g_free(r->pin);
	g_free(r->mod_pin);
	g_free(r);
}

void fake_reset(const struct tt_conf_key *gw_rows, const char *ini)
{
	g_clear_pointer(&fake.parts, g_ptr_array_unref);
	g_clear_pointer(&fake.posted, g_ptr_array_unref);
	g_clear_pointer(&fake.media, g_ptr_array_unref);
	g_clear_pointer(&fake.rooms, g_ptr_array_unref);
	g_clear_pointer(&fake.moderated, g_ptr_array_unref);
	fake.can_record = fake.recording = fake.recording_decline = false;
	fake.self_unmute = true;
	fake.hand_next = 0;
	fake.conf = tt__conf_free(fake.conf);
	schema = tt__conf_schema_free(schema);
	memset(&fake.gw, 0, sizeof fake.gw);
	if (!ini)
		return;
	fake.parts = g_ptr_array_new_with_free_func(p_free);
	fake.posted = g_ptr_array_new_with_free_func(g_free);
	fake.media = g_ptr_array_new_with_free_func(medium_free);
	fake.rooms = g_ptr_array_new_with_free_func(room_free);
	fake.moderated = g_ptr_array_new_with_free_func(g_free);
	fake.on_demand = true;
	char *errors = NULL;
	if (tt__conf_schema_alloc(&schema) || tt__conf_schema_add(schema, gw_rows, "xmpp") ||
	    tt__conf_schema_add(schema, room_rows, "core"))
		g_error("config rows do not load");
	if (tt__conf_load_data(&fake.conf, schema, "test.conf", ini, strlen(ini), &errors))
		g_error("test config does not load:\n%s", errors);
}

void fake_room_set(const char *name, const char *pin, bool locked, int max)
{
	struct fake_room *r = g_new0(struct fake_room, 1);
	r->name = g_strdup(name);
	r->pin = g_strdup(pin);
	r->locked = locked;
	r->max = max;
	g_ptr_array_add(fake.rooms, r);
}

static struct fake_room *room_find(const char *name);

void fake_room_mod_pin(const char *name, const char *pin)
{
	struct fake_room *r = room_find(name);
	g_free(r->mod_pin);
	r->mod_pin = g_strdup(pin);
}

static struct fake_room *room_find(const char *name)
{
	for (guint i = 0; i < fake.rooms->len; i++) {
		struct fake_room *r = fake.rooms->pdata[i];
		if (!strcmp(r->name, name))
			return r;
	}
	return NULL;
}

int fake_alive_count(const char *room)
{
	int n = 0;
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		n += p->alive && !strcmp(p->room, room);
	}
	return n;
}

static struct tt_roster_entry entry_of(const struct fake_p *p)
{
	struct tt_roster_entry e = {p->id, p->name, p->network, p->gateway, p->caps, p->state,
				    p->hand_seq};
	return e;
}

static void roster_event(enum tt_roster_type type, const struct fake_p *p, unsigned changed)
{
	struct tt_roster_event ev = {.type = type, .room = p->room, .who = entry_of(p),
				     .changed = changed, .reason = p->left_reason};
	if (fake.gw.on_roster)
		fake.gw.on_roster(fake.gw.state, &ev);
}

static int room_check(struct tt_core *core, const char *room, const char *pin)
{
	(void)core;
	if (!room || !*room || strspn(room, "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
	    strlen(room) || room[0] == '.')
		return -ENOENT;
	struct fake_room *r = room_find(room);
	if (!r && !fake.on_demand)
		return -ENOENT;
	bool mod = r && r->mod_pin && pin && !strcmp(pin, r->mod_pin);
	if (r && r->pin && !mod && (!pin || strcmp(pin, r->pin)))
		return -EACCES;
	if (r && r->locked && !mod)
		return -EBUSY;
	if (r && r->max && fake_alive_count(room) >= r->max)
		return -EUSERS;
	return 0;
}

static int room_roster(struct tt_core *core, const char *room, tt_roster_entry_h fn,
		       void *arg)
{
	(void)core;
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && !strcmp(p->room, room)) {
			struct tt_roster_entry e = entry_of(p);
			fn(&e, arg);
		}
	}
	return 0;
}

static int room_count(struct tt_core *core, const char *room)
{
	(void)core;
	return fake_alive_count(room);
}

static char *name_key(const char *name)
{
	char *norm = g_utf8_normalize(name, -1, G_NORMALIZE_ALL);
	char *key = g_utf8_casefold(norm ? norm : name, -1);
	g_free(norm);
	return key;
}

static bool name_taken(const char *room, const char *name)
{
	char *key = name_key(name);
	bool taken = false;
	for (guint i = 0; i < fake.parts->len && !taken; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && !strcmp(p->room, room)) {
			char *k = name_key(p->name);
			taken = !strcmp(k, key);
			g_free(k);
		}
	}
	g_free(key);
	return taken;
}

/* As the core does: controls removed, then "name (2)"... until unique. */
static char *unique_name(const char *room, const char *in)
{
	GString *s = g_string_new(NULL);
	for (const char *c = in; c && *c; c = g_utf8_next_char(c)) {
		gunichar u = g_utf8_get_char(c);
		if (!g_unichar_iscntrl(u))
			g_string_append_unichar(s, u);
	}
	if (!s->len)
		g_string_assign(s, "guest");
	char *base = g_string_free(s, FALSE);
	char *name = g_strdup(base);
	for (int n = 2; name_taken(room, name); n++) {
		g_free(name);
		name = g_strdup_printf("%s (%d)", base, n);
	}
	g_free(base);
	return name;
}

static struct fake_p *p_new(const char *room, const char *name, const char *network,
			    const char *gateway, unsigned caps)
{
	struct fake_p *p = g_new0(struct fake_p, 1);
	p->id = g_strdup_printf("p%d", ++next_id);
	p->name = unique_name(room, name);
	p->room = g_strdup(room);
	p->network = g_strdup(network);
	p->gateway = g_strdup(gateway);
	p->caps = caps;
	p->alive = true;
	g_ptr_array_add(fake.parts, p);
	return p;
}

static int participant_join(struct tt_gw_handle *gw, const struct tt_join *req,
			    struct tt_participant **pp)
{
	(void)gw;
	int rc = req->pin_checked ? 0 : room_check(&the_core, req->room, req->pin);
	if (rc)
		return rc;
	if (req->medium && (!((struct fake_medium *)req->medium)->open ||
			    strcmp(((struct fake_medium *)req->medium)->room, req->room)))
		return -EINVAL;
	struct fake_p *p = p_new(req->room, req->name, req->network ? req->network : "xmpp",
				 "xmpp", req->caps);
	p->gw_data = req->gw_data;
	p->medium = (struct fake_medium *)req->medium;
	struct fake_room *fr = room_find(req->room);
	if (fr && fr->mod_pin && req->pin && !strcmp(req->pin, fr->mod_pin))
		p->state |= TT_PS_MODERATOR;
	roster_event(TT_ROSTER_JOINED, p, 0);
	*pp = (struct tt_participant *)p;
	return 0;
}

static struct tt_participant *participant_leave(struct tt_participant *tp, int reason)
{
	struct fake_p *p = (struct fake_p *)tp;
	if (p->alive) {
		p->alive = false;
		p->left_reason = reason;
		roster_event(TT_ROSTER_LEFT, p, 0);
	}
	return NULL;
}

static struct tt_participant *p_ref(struct tt_participant *p)
{
	return p;
}

static struct tt_participant *p_unref(struct tt_participant *p)
{
	(void)p;
	return NULL;
}

static const char *p_id(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->id;
}

static const char *p_name(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->name;
}

static const char *p_room(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->room;
}

static void *p_gw_data(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->gw_data;
}

static unsigned p_state(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->state;
}

static bool p_alive(const struct tt_participant *p)
{
	return ((const struct fake_p *)p)->alive;
}

static int apply_state(struct tt_participant *tp, unsigned bits, bool on)
{
	struct fake_p *p = (struct fake_p *)tp;
	unsigned old = p->state;
	p->state = on ? p->state | bits : p->state & ~bits;
	if ((p->state ^ old) & TT_PS_HAND)
		p->hand_seq = on ? ++fake.hand_next : 0;
	if (old != p->state)
		roster_event(TT_ROSTER_STATE, p, old ^ p->state);
	return 0;
}

/* The participant acting on itself, refused as the core refuses it. */
static int p_set_state(struct tt_participant *tp, unsigned bits, bool on)
{
	struct fake_p *p = (struct fake_p *)tp;
	if (on && (bits & TT_PS_NO_RECORD) && !fake.recording_decline)
		return -EPERM;
	if (!on && (bits & TT_PS_MUTED) && (p->state & TT_PS_MOD_MUTED) && !fake.self_unmute)
		return -EPERM;
	return apply_state(tp, bits, on);
}

static struct tt_participant *p_find(struct tt_core *core, const char *room, const char *s)
{
	(void)core;
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && !strcmp(p->room, room) &&
		    (!strcmp(p->id, s) || !g_ascii_strcasecmp(p->name, s)))
			return (struct tt_participant *)p;
	}
	return NULL;
}

static int p_kick(struct tt_participant *tp, const char *why)
{
	struct fake_p *p = (struct fake_p *)tp;
	if (!strcmp(p->gateway, "xmpp") && fake.gw.hang_up)
		fake.gw.hang_up(fake.gw.state, tp, why);
	else
		fake_other_leave(p);
	return 0;
}

static void deliver(const struct tt_text *msg, const struct fake_medium *from)
{
	for (guint i = 0; i < fake.media->len; i++) {
		struct fake_medium *m = fake.media->pdata[i];
		if (m->open && m != from && !strcmp(m->room, msg->room) && fake.gw.on_medium_text)
			fake.gw.on_medium_text(fake.gw.state, m->data, msg);
	}
}

static int text_post(struct tt_participant *tp, const char *text, size_t len, unsigned flags)
{
	struct fake_p *p = (struct fake_p *)tp;
	if (!p->alive)
		return -ENOENT;
	if (!(p->caps & TT_CAP_TEXT))
		return -EPERM;
	if (!len)
		return -EINVAL;
	if (len > 1000)
		return -EMSGSIZE;
	if (!g_utf8_validate(text, (gssize)len, NULL))
		return -EILSEQ;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\t' && text[i] != '\n')
			return -EILSEQ;
	g_ptr_array_add(fake.posted, g_strdup_printf("%s|%u|%.*s", p->name, flags, (int)len,
						     text));
	char *copy = g_strndup(text, len);
	struct tt_text msg = {.room = p->room, .from = entry_of(p), .text = copy, .len = len,
			      .flags = flags, .sender = tp,
			      .origin_medium = (struct tt_text_medium *)p->medium};
	deliver(&msg, p->medium);
	g_free(copy);
	return 0;
}

void fake_notice(const char *room, const char *text)
{
	g_ptr_array_add(fake.posted, g_strdup_printf("-|notice|%s", text));
	struct tt_text msg = {.room = room, .from = {"", "tutti", "test", "test", 0, 0},
			      .text = text, .len = strlen(text), .flags = TT_TEXT_NOTICE};
	deliver(&msg, NULL);
}

static int text_notice(struct tt_gw_handle *gw, const char *room, const char *text)
{
	(void)gw;
	fake_notice(room, text);
	return 0;
}

static int medium_open(struct tt_gw_handle *gw, const char *room, void *data,
		       struct tt_text_medium **mp)
{
	(void)gw;
	int rc = room_check(&the_core, room, NULL);
	if (rc == -ENOENT)
		return rc;
	struct fake_medium *m = g_new0(struct fake_medium, 1);
	m->room = g_strdup(room);
	m->data = data;
	m->open = true;
	g_ptr_array_add(fake.media, m);
	*mp = (struct tt_text_medium *)m;
	return 0;
}

static struct tt_text_medium *medium_close(struct tt_text_medium *tm)
{
	((struct fake_medium *)tm)->open = false;
	return NULL;
}

int fake_media_open(const char *room)
{
	int n = 0;
	for (guint i = 0; i < fake.media->len; i++) {
		struct fake_medium *m = fake.media->pdata[i];
		n += m->open && !strcmp(m->room, room);
	}
	return n;
}

/* ---- meetings: the core's moderate, reduced to what the gateway can see ---- */

static void emit(const char *room, enum tt_mod_action a, const struct fake_p *by,
		 const struct fake_p *t, const char *reason, unsigned count)
{
	struct tt_meeting_event ev = {.room = room, .action = a, .reason = reason,
				      .count = count};
	if (by)
		ev.by = entry_of(by);
	else
		ev.by.name = "admin";
	if (t)
		ev.target = entry_of(t);
	if (fake.gw.on_meeting)
		fake.gw.on_meeting(fake.gw.state, &ev);
}

void fake_meeting(const char *room, enum tt_mod_action a, struct fake_p *by,
		  struct fake_p *target, const char *reason)
{
	emit(room, a, by, target, reason, 0);
}

static int moderate(struct tt_participant *ta, enum tt_mod_action a, struct tt_participant *tt,
		    const char *reason)
{
	struct fake_p *p = (struct fake_p *)ta, *t = (struct fake_p *)tt;
	g_ptr_array_add(fake.moderated, g_strdup_printf("%s|%d|%s|%s", p ? p->name : "-", a,
							t ? t->name : "-",
							reason ? reason : "-"));
	if (!p || !p->alive || (t && !t->alive))
		return -ENOENT;
	bool needs = a == TT_MOD_MUTE || a == TT_MOD_UNMUTE || a == TT_MOD_KICK ||
		     a == TT_MOD_LOWER_HAND || a == TT_MOD_GRANT || a == TT_MOD_REVOKE;
	if (!(p->state & TT_PS_MODERATOR) && !(a == TT_MOD_LOWER_HAND && t == p))
		return -EPERM;
	if (a <= TT_MOD_NONE || a >= TT_MOD_ASK_UNMUTE || needs != (t != NULL) ||
	    (t && strcmp(t->room, p->room)))
		return -EINVAL;
	unsigned bits = 0;
	bool on = true;
	switch (a) {
	case TT_MOD_MUTE: bits = TT_PS_MUTED | TT_PS_MOD_MUTED; break;
	case TT_MOD_UNMUTE: bits = TT_PS_MUTED | TT_PS_MOD_MUTED; on = false; break;
	case TT_MOD_LOWER_HAND: bits = TT_PS_HAND; on = false; break;
	case TT_MOD_GRANT: bits = TT_PS_MODERATOR; break;
	case TT_MOD_REVOKE: bits = TT_PS_MODERATOR; on = false; break;
	case TT_MOD_RECORD_START:
		if (!fake.can_record)
			return -ENOTSUP;
		if (fake.recording)
			return 0;
		fake.recording = true;
		break;
	case TT_MOD_RECORD_STOP:
		if (!fake.recording)
			return 0;
		fake.recording = false;
		break;
	default: break;
	}
	if (bits && ((t->state & bits) == (on ? bits : 0)))
		return 0;   /* the same twice: nothing */
	unsigned count = 0;
	GPtrArray *all = NULL;
	if (a == TT_MOD_MUTE_ALL) {
		all = g_ptr_array_new();
		for (guint i = 0; i < fake.parts->len; i++) {
			struct fake_p *q = fake.parts->pdata[i];
			if (q->alive && !strcmp(q->room, p->room) && (q->caps & TT_CAP_AUDIO) &&
			    !(q->state & (TT_PS_MODERATOR | TT_PS_MOD_MUTED)))
				g_ptr_array_add(all, q);
		}
		count = all->len;
	}
	emit(p->room, a, p, t, reason, count);
	if (bits)
		apply_state(tt, bits, on);
	for (guint i = 0; all && i < all->len; i++)
		apply_state(all->pdata[i], TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	if (all)
		g_ptr_array_free(all, TRUE);
	if (a == TT_MOD_KICK)
		p_kick(tt, reason ? reason : "removed by a moderator");
	return 0;
}

static int room_info(struct tt_core *core, const char *room, struct tt_room_info *out)
{
	(void)core;
	memset(out, 0, sizeof *out);
	struct fake_room *r = room_find(room);
	out->locked = r && r->locked;
	out->has_pin = r && r->pin;
	out->has_moderator_pin = r && r->mod_pin;
	out->recording = fake.recording;
	out->recording_id = fake.recording ? "rec1" : NULL;
	out->recording_decline = fake.recording_decline;
	out->self_unmute = fake.self_unmute;
	return 0;
}

static struct tt_core *core_of(struct tt_gw_handle *gw)
{
	(void)gw;
	return &the_core;
}

static const struct tt_conf *conf_of(struct tt_core *core)
{
	(void)core;
	return fake.conf;
}

const struct tt_core_api fake_api = {
	.api_version = TT_CORE_API_VERSION,
	.core_of = core_of,
	.conf = conf_of,
	.room_check = room_check,
	.room_roster = room_roster,
	.room_count = room_count,
	.participant_join = participant_join,
	.participant_leave = participant_leave,
	.participant_ref = p_ref,
	.participant_unref = p_unref,
	.participant_id = p_id,
	.participant_name = p_name,
	.participant_room = p_room,
	.participant_gw_data = p_gw_data,
	.participant_state = p_state,
	.participant_alive = p_alive,
	.participant_set_state = p_set_state,
	.participant_find = p_find,
	.participant_kick = p_kick,
	.text_post = text_post,
	.text_notice = text_notice,
	.text_medium_open = medium_open,
	.text_medium_close = medium_close,
	.moderate = moderate,
	.room_info = room_info,
};

struct fake_p *fake_other_join(const char *room, const char *name, const char *network)
{
	struct fake_p *p = p_new(room, name, network, "test", TT_CAP_AUDIO | TT_CAP_TEXT);
	roster_event(TT_ROSTER_JOINED, p, 0);
	return p;
}

void fake_other_leave(struct fake_p *p)
{
	participant_leave((struct tt_participant *)p, 0);
}

void fake_set_caps(struct fake_p *p, unsigned caps)
{
	struct tt_roster_event ev = {.type = TT_ROSTER_STATE, .room = p->room,
				     .caps_changed = p->caps ^ caps};
	p->caps = caps;
	ev.who = entry_of(p);
	if (fake.gw.on_roster)
		fake.gw.on_roster(fake.gw.state, &ev);
}

void fake_set_state(struct fake_p *p, unsigned bits, bool on)
{
	apply_state((struct tt_participant *)p, bits, on);
}

void fake_say(struct fake_p *p, const char *text, unsigned flags)
{
	struct tt_text msg = {.room = p->room, .from = entry_of(p), .text = text,
			      .len = strlen(text), .flags = flags,
			      .sender = (struct tt_participant *)p};
	deliver(&msg, NULL);
}

struct fake_p *fake_find(const char *room, const char *name)
{
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && !strcmp(p->room, room) && !strcmp(p->name, name))
			return p;
	}
	return NULL;
}

int fake_posted_count(const char *entry)
{
	int n = 0;
	for (guint i = 0; i < fake.posted->len; i++)
		n += !strcmp(fake.posted->pdata[i], entry);
	return n;
}
