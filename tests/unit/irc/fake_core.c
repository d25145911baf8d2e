/* fake_core.c: the core and config stand-in for gateway tests (see fake_core.h). */
#include "fake_core.h"

#include <string.h>
#include <tutti/conf.h>

#include "conf/loader.h"

struct tt_core { int unused; };
struct tt_gw_handle { int unused; };

struct fake_core fake;
static struct tt_core the_core;
static struct tt_gw_handle the_gw;
static int next_id;

struct tt_gw_handle *fake_gw(void)
{
	return &the_gw;
}

/* ---- config ---- */
/* The real loader and table (with the gateway's own rows), so the gateway reads exactly what
 * the bridge would give it, defaults and validation included. */
static struct tt_conf_schema *schema;
static struct tt_conf *conf;

void fake_conf_load(const char *ini)
{
	char *errors = NULL;
	conf = tt__conf_free(conf);
	schema = tt__conf_schema_free(schema);
	if (tt__conf_schema_alloc(&schema) || tt__conf_schema_add(schema, fake.gw_desc->conf_keys,
								  "irc"))
		g_error("the IRC gateway's config rows do not load");
	if (tt__conf_load_data(&conf, schema, "test.conf", ini, strlen(ini), &errors))
		g_error("test config does not load:\n%s", errors);
}

const struct tt_conf *fake_conf(void)
{
	return conf;
}

/* ---- core ---- */

static struct fake_p *p_new(const char *room, const char *name, const char *network,
			    const char *gateway, unsigned caps)
{
	struct fake_p *p = g_new0(struct fake_p, 1);
	p->id = g_strdup_printf("p%d", ++next_id);
	p->name = g_strdup(name);
	p->room = g_strdup(room);
	p->network = g_strdup(network);
	p->gateway = g_strdup(gateway);
	p->caps = caps;
	p->alive = true;
	g_ptr_array_add(fake.parts, p);
	return p;
}

static struct tt_roster_entry entry_of(const struct fake_p *p)
{
	struct tt_roster_entry e = {p->id, p->name, p->network, p->gateway, p->caps, p->state,
				    p->hand_seq};
	return e;
}

static void roster_event(enum tt_roster_type type, const struct fake_p *p, unsigned changed)
{
	struct tt_roster_event ev = {type, p->room, entry_of(p), changed, 0, 0};
	if (fake.gw_desc->on_roster && fake.gw_state)
		fake.gw_desc->on_roster(fake.gw_state, &ev);
}

static int room_check(struct tt_core *core, const char *room, const char *pin)
{
	return 0;
}

static int room_roster(struct tt_core *core, const char *room, tt_roster_entry_h fn,
		       void *arg)
{
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && strcmp(p->room, room) == 0) {
			struct tt_roster_entry e = entry_of(p);
			fn(&e, arg);
		}
	}
	return 0;
}

static int room_count(struct tt_core *core, const char *room)
{
	int n = 0;
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		n += p->alive && strcmp(p->room, room) == 0;
	}
	return n;
}

/* The bus: every open medium in room except `from`. */
static void deliver(const struct tt_text *msg, const struct fake_medium *from)
{
	if (!fake.media || !fake.gw_desc->on_medium_text)
		return;
	for (guint i = 0; i < fake.media->len; i++) {
		struct fake_medium *m = fake.media->pdata[i];
		if (m->open && m != from && strcmp(m->room, msg->room) == 0)
			fake.gw_desc->on_medium_text(fake.gw_state, m->data, msg);
	}
}

static int room_watch(struct tt_gw_handle *gw, const char *room, bool on)
{
	if (on)
		g_ptr_array_add(fake.watched, g_strdup(room));
	else
		for (guint i = 0; i < fake.watched->len; i++)
			if (strcmp(fake.watched->pdata[i], room) == 0) {
				g_ptr_array_remove_index(fake.watched, i);
				break;
			}
	return 0;
}

static int participant_join(struct tt_gw_handle *gw, const struct tt_join *req,
			    struct tt_participant **pp)
{
	struct fake_p *p = p_new(req->room, req->name, req->network ? req->network : "irc",
				 "irc", req->caps);
	p->gw_data = req->gw_data;
	p->medium = (struct fake_medium *)req->medium;
	*pp = (struct tt_participant *)p;
	return 0;
}

static struct tt_participant *participant_leave(struct tt_participant *tp, int reason)
{
	struct fake_p *p = (struct fake_p *)tp;
	p->alive = false;
	return NULL;
}

static struct tt_participant *p_ref(struct tt_participant *p)
{
	return p;
}

static struct tt_participant *p_unref(struct tt_participant *p)
{
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

static int p_set_state(struct tt_participant *tp, unsigned bits, bool on)
{
	struct fake_p *p = (struct fake_p *)tp;
	unsigned old = p->state;
	if (!on && (bits & TT_PS_MUTED) && (p->state & TT_PS_MOD_MUTED))
		return -EPERM;   /* as a room with self_unmute = false */
	p->state = on ? p->state | bits : p->state & ~bits;
	if ((p->state & TT_PS_HAND) && !(old & TT_PS_HAND))
		p->hand_seq = ++fake.hand_next;
	if (!(p->state & TT_PS_HAND))
		p->hand_seq = 0;
	if (old != p->state)
		roster_event(TT_ROSTER_STATE, p, old ^ p->state);
	return 0;
}

static struct tt_participant *p_find(struct tt_core *core, const char *room, const char *s)
{
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && strcmp(p->room, room) == 0 &&
		    (strcmp(p->id, s) == 0 || g_ascii_strcasecmp(p->name, s) == 0))
			return (struct tt_participant *)p;
	}
	return NULL;
}

static int p_kick(struct tt_participant *tp, const char *why)
{
	struct fake_p *p = (struct fake_p *)tp;
	p->kicked++;
	if (strcmp(p->gateway, "irc") == 0)
		fake.gw_desc->hang_up(fake.gw_state, tp, why);
	else
		fake_voice_leave(p);
	return 0;
}

static int text_post(struct tt_participant *tp, const char *text, size_t len, unsigned flags)
{
	struct fake_p *p = (struct fake_p *)tp;
	if (!p->alive)
		return -ENOENT;
	if (!g_utf8_validate(text, (gssize)len, NULL))
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

static void notice(const char *room, const char *text, struct fake_medium *from)
{
	g_ptr_array_add(fake.posted, g_strdup_printf("-|notice|%s", text));
	struct tt_text msg = {.room = room, .from = {"", "tutti", "irc", "irc", 0, 0},
			      .text = text, .len = strlen(text), .flags = TT_TEXT_NOTICE,
			      .origin_medium = (struct tt_text_medium *)from};
	deliver(&msg, from);
}

static int text_notice(struct tt_gw_handle *gw, const char *room, const char *text)
{
	notice(room, text, NULL);
	return 0;
}

static int medium_open(struct tt_gw_handle *gw, const char *room, void *data,
		       struct tt_text_medium **mp)
{
	struct fake_medium *m = g_new0(struct fake_medium, 1);
	m->room = g_strdup(room);
	m->data = data;
	m->open = true;
	if (!fake.media)
		fake.media = g_ptr_array_new();
	g_ptr_array_add(fake.media, m);
	room_watch(gw, room, true);
	*mp = (struct tt_text_medium *)m;
	return 0;
}

static struct tt_text_medium *medium_close(struct tt_text_medium *tm)
{
	struct fake_medium *m = (struct fake_medium *)tm;
	if (m->open)
		room_watch(NULL, m->room, false);
	m->open = false;
	return NULL;
}

static int medium_notice(struct tt_text_medium *tm, const char *text)
{
	struct fake_medium *m = (struct fake_medium *)tm;
	if (!m->open)
		return -ENOENT;
	notice(m->room, text, m);
	return 0;
}

/* ---- meetings: the core's checks, in short (bridge/meeting/moderate.c) ---- */

static const char *const action_names[TT_MOD_ACTIONS] = {
	[TT_MOD_MUTE] = "mute", [TT_MOD_UNMUTE] = "unmute", [TT_MOD_MUTE_ALL] = "mute_all",
	[TT_MOD_KICK] = "kick", [TT_MOD_LOCK] = "lock", [TT_MOD_UNLOCK] = "unlock",
	[TT_MOD_LOWER_HAND] = "lower_hand", [TT_MOD_RECORD_START] = "record_start",
	[TT_MOD_RECORD_STOP] = "record_stop", [TT_MOD_END] = "end", [TT_MOD_GRANT] = "grant",
	[TT_MOD_REVOKE] = "revoke", [TT_MOD_ASK_UNMUTE] = "ask_unmute",
};

static void emit(const struct tt_meeting_event *ev)
{
	if (!fake.meeting)
		fake.meeting = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(fake.meeting, g_strdup_printf("%s %s %s", action_names[ev->action],
						      ev->by.name ? ev->by.name : "-",
						      ev->target.name ? ev->target.name : "-"));
	if (fake.gw_desc->on_meeting && fake.gw_state)
		fake.gw_desc->on_meeting(fake.gw_state, ev);
}

void fake_meeting(enum tt_mod_action a, const char *room, struct fake_p *by,
		  const char *admin, struct fake_p *target)
{
	struct tt_meeting_event ev = {.room = room, .action = a, .by = {.name = admin}};
	if (by)
		ev.by = entry_of(by);
	if (target)
		ev.target = entry_of(target);
	if (a == TT_MOD_RECORD_START || a == TT_MOD_RECORD_STOP) {
		fake.recording = a == TT_MOD_RECORD_START;
		fake.recording_since_us = fake.recording ? g_get_real_time() : 0;
		ev.recording_id = "rec1";
	}
	emit(&ev);
}

static int moderate(struct tt_participant *ta, enum tt_mod_action a,
		    struct tt_participant *tt, const char *reason)
{
	struct fake_p *actor = (struct fake_p *)ta, *t = (struct fake_p *)tt;
	bool needs = a == TT_MOD_MUTE || a == TT_MOD_UNMUTE || a == TT_MOD_KICK ||
		     a == TT_MOD_LOWER_HAND || a == TT_MOD_GRANT || a == TT_MOD_REVOKE;
	if (!actor->alive || (t && !t->alive))
		return -ENOENT;
	if (!(actor->state & TT_PS_MODERATOR) && !(a == TT_MOD_LOWER_HAND && t == actor))
		return -EPERM;
	if (needs != (t != NULL))
		return -EINVAL;
	if (a == TT_MOD_RECORD_START || a == TT_MOD_RECORD_STOP)
		return -ENOTSUP;
	struct tt_meeting_event ev = {.room = actor->room, .action = a, .by = entry_of(actor),
				      .reason = reason};
	if (t)
		ev.target = entry_of(t);
	if ((a == TT_MOD_MUTE && (t->state & TT_PS_MOD_MUTED)) ||
	    (a == TT_MOD_UNMUTE && !(t->state & TT_PS_MUTED)) ||
	    (a == TT_MOD_LOWER_HAND && !(t->state & TT_PS_HAND)) ||
	    (a == TT_MOD_LOCK && fake.locked) || (a == TT_MOD_UNLOCK && !fake.locked))
		return 0;
	if (a == TT_MOD_LOCK || a == TT_MOD_UNLOCK)
		fake.locked = a == TT_MOD_LOCK;
	emit(&ev);
	if (a == TT_MOD_MUTE)
		p_set_state(tt, TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	else if (a == TT_MOD_UNMUTE) {
		t->state &= ~(unsigned)TT_PS_MOD_MUTED;
		p_set_state(tt, TT_PS_MUTED, false);
	} else if (a == TT_MOD_LOWER_HAND)
		p_set_state(tt, TT_PS_HAND, false);
	else if (a == TT_MOD_KICK)
		p_kick(tt, reason ? reason : "removed");
	else if (a == TT_MOD_END) {
		char *room = g_strdup(actor->room);
		for (guint i = 0; i < fake.parts->len; i++) {
			struct fake_p *p = fake.parts->pdata[i];
			if (p->alive && strcmp(p->room, room) == 0)
				p_kick((struct tt_participant *)p, "the meeting was ended");
		}
		g_free(room);
	}
	return 0;
}

static int room_info(struct tt_core *core, const char *room, struct tt_room_info *out)
{
	memset(out, 0, sizeof *out);
	out->locked = fake.locked;
	out->recording = fake.recording;
	out->recording_since_us = fake.recording_since_us;
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		out->hands += p->alive && strcmp(p->room, room) == 0 && (p->state & TT_PS_HAND);
	}
	return 0;
}

static struct tt_core *core_of(struct tt_gw_handle *gw)
{
	return &the_core;
}

static const struct tt_conf *conf_of(struct tt_core *core)
{
	return conf;
}

const struct tt_core_api fake_api = {
	.api_version = TT_CORE_API_VERSION,
	.room_check = room_check,
	.room_roster = room_roster,
	.room_count = room_count,
	.room_watch = room_watch,
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
	.text_medium_notice = medium_notice,
	.moderate = moderate,
	.room_info = room_info,
	.core_of = core_of,
	.conf = conf_of,
};

struct fake_p *fake_voice_join(const char *room, const char *name)
{
	struct fake_p *p = p_new(room, name, "phone", "test", TT_CAP_AUDIO | TT_CAP_TEXT);
	roster_event(TT_ROSTER_JOINED, p, 0);
	return p;
}

void fake_voice_leave(struct fake_p *p)
{
	p->alive = false;
	roster_event(TT_ROSTER_LEFT, p, 0);
}

void fake_say(struct fake_p *p, const char *text, unsigned flags)
{
	struct tt_text msg = {.room = p->room, .from = entry_of(p), .text = text,
			      .len = strlen(text), .flags = flags,
			      .sender = (struct tt_participant *)p};
	deliver(&msg, NULL);
}

struct fake_p *fake_find_irc(const char *room, const char *name)
{
	for (guint i = 0; i < fake.parts->len; i++) {
		struct fake_p *p = fake.parts->pdata[i];
		if (p->alive && strcmp(p->gateway, "irc") == 0 && strcmp(p->room, room) == 0 &&
		    strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

int fake_posted_count(const char *entry)
{
	int n = 0;
	for (guint i = 0; i < fake.posted->len; i++)
		n += strcmp(fake.posted->pdata[i], entry) == 0;
	return n;
}

void fake_set_state(struct fake_p *p, unsigned bits, bool on)
{
	p_set_state((struct tt_participant *)p, bits, on);
}

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

void fake_reset(void)
{
	if (fake.parts)
		g_ptr_array_set_free_func(fake.parts, p_free);
	g_clear_pointer(&fake.parts, g_ptr_array_unref);
	g_clear_pointer(&fake.posted, g_ptr_array_unref);
	g_clear_pointer(&fake.watched, g_ptr_array_unref);
	g_clear_pointer(&fake.meeting, g_ptr_array_unref);
	fake.locked = fake.recording = false;
	fake.recording_since_us = 0;
	fake.hand_next = 0;
	if (fake.media)
		g_ptr_array_set_free_func(fake.media, medium_free);
	g_clear_pointer(&fake.media, g_ptr_array_unref);
	conf = tt__conf_free(conf);
	schema = tt__conf_schema_free(schema);
}
