/* fuzz_webrtc_session.c: the WebRTC gateway's signalling sessions (session.c, webrtc.c) driven
 * by what browsers can do on /ws and what the core does meanwhile: connections opening and
 * dropping, messages in any order and state, attach results arriving late or failing,
 * hang-ups, roster and text events, shutdown. fuzz_webrtc_msg covers the message parser alone;
 * this target covers the state machine behind it, over a fake core.
 *
 * Input: lines, each a command:
 *   o[PEER]        open a connection (default peer 127.0.0.1)
 *   mK TEXT        message TEXT on connection K (a digit; the Kth opened, counting from 0)
 *   eK E           a message lws refused: E = s (too big), r (rate), b (binary)
 *   cK             the browser went away
 *   a / f          the oldest pending audio attach completes / fails
 *   hK             the core hangs up connection K's participant (kick, room end)
 *   jROOM NAME     someone of another network joins ROOM (roster to the browsers)
 *   tROOM TEXT     they talk (text to the browsers); sROOM: they start talking (state)
 *   lROOM          they leave
 *   x              shutdown: the gateway stops and frees, then starts again
 * Checks: everything sent to a browser is a JSON object with a string "type"; nothing is sent
 * on a connection after it went away; every attach callback
 * runs once; a participant left is never used again; nothing leaks. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "conf/loader.h"
#include "webrtc_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct tt_gateway tt_gateway_webrtc;

struct tt_core { int unused; };
struct tt_gw_handle { int unused; };

struct tt_participant {
	char id[16];
	char *name, *room;
	unsigned state;
	void *gw_data;
	bool alive, ours;
};

struct tt_ws {
	char peer[48];
	void *conn;
	bool open;       /* the gateway accepted it and has not been told it closed */
	bool closing;    /* ws_close called: lws will call close() next */
};

struct attach {
	struct tt_participant *p;
	tt_audio_attached_h cb;
	void *arg;
};

#define MAX_WS 10

static struct {
	struct tt_core core;
	struct tt_gw_handle h;
	struct tt_conf_schema *schema;
	struct tt_conf *conf;
	void *state;
	const struct tt_ws_ops *ops;
	void *ops_arg;
	GPtrArray *parts;    /* every participant of this input (owned) */
	GQueue attaches;     /* struct attach * */
	struct tt_ws ws[MAX_WS];
	unsigned n_ws;
	int next_id;
} F;

/* ---- the fake core ---- */

static void emit(enum tt_roster_type type, struct tt_participant *p, unsigned changed)
{
	struct tt_roster_event ev = {
		.type = type, .room = p->room, .changed = changed,
		.who = { .id = p->id, .name = p->name, .network = p->ours ? "web" : "phone",
			 .gateway = p->ours ? "webrtc" : "sip", .caps = TT_CAP_AUDIO | TT_CAP_TEXT,
			 .state = p->state },
	};
	if (F.state)
		tt_gateway_webrtc.on_roster(F.state, &ev);
}

static struct tt_participant *p_new(const char *room, const char *name, bool ours)
{
	struct tt_participant *p = g_new0(struct tt_participant, 1);
	g_snprintf(p->id, sizeof p->id, "p%d", ++F.next_id);
	p->name = g_strdup(name);
	p->room = g_strdup(room);
	p->alive = true;
	p->ours = ours;
	g_ptr_array_add(F.parts, p);
	emit(TT_ROSTER_JOINED, p, 0);
	return p;
}

static void alive_or_trap(const struct tt_participant *p)
{
	if (!p || !p->alive)
		__builtin_trap();   /* the gateway used a participant it had left */
}

static int room_roster(struct tt_core *c, const char *room, tt_roster_entry_h fn, void *arg)
{
	for (guint i = 0; i < F.parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(F.parts, i);
		if (!p->alive || strcmp(p->room, room))
			continue;
		struct tt_roster_entry e = { .id = p->id, .name = p->name, .network = "x",
					     .gateway = "x", .caps = TT_CAP_AUDIO, .state = p->state };
		fn(&e, arg);
	}
	return 0;
}

static int p_join(struct tt_gw_handle *gw, const struct tt_join *req, struct tt_participant **pp)
{
	if (!req->room || !*req->room || !req->name || strlen(req->room) > 64)
		return -EINVAL;
	if (!strcmp(req->room, "locked"))
		return -EBUSY;
	if (!strcmp(req->room, "full"))
		return -EUSERS;
	if (!strcmp(req->room, "pinned") && (!req->pin || strcmp(req->pin, "1234")))
		return -EACCES;
	if (!strcmp(req->room, "broken"))
		return -EIO;
	struct tt_participant *p = p_new(req->room, req->name, true);
	p->gw_data = req->gw_data;
	*pp = p;
	return 0;
}

static struct tt_participant *p_leave(struct tt_participant *p, int reason)
{
	alive_or_trap(p);
	emit(TT_ROSTER_LEFT, p, 0);
	p->alive = false;
	return NULL;
}

static struct tt_participant *p_ref(struct tt_participant *p) { return p; }
static struct tt_participant *p_unref(struct tt_participant *p) { return NULL; }
static const char *p_id(const struct tt_participant *p) { return p->id; }
static const char *p_name(const struct tt_participant *p) { alive_or_trap(p); return p->name; }
static const char *p_room(const struct tt_participant *p) { alive_or_trap(p); return p->room; }
static void *p_gw_data(const struct tt_participant *p) { return p->gw_data; }
static unsigned p_state(const struct tt_participant *p) { return p->state; }
static bool p_alive(const struct tt_participant *p) { return p->alive; }

static int p_set_state(struct tt_participant *p, unsigned bits, bool on)
{
	alive_or_trap(p);
	unsigned old = p->state;
	p->state = on ? p->state | bits : p->state & ~bits;
	if (old != p->state)
		emit(TT_ROSTER_STATE, p, old ^ p->state);
	return 0;
}

/* The bus: to each browser's participant in the room but the sender (on_text_to). */
static void deliver(const struct tt_text *m)
{
	for (guint i = 0; i < F.parts->len; i++) {
		struct tt_participant *q = g_ptr_array_index(F.parts, i);
		if (q->alive && q->ours && q != m->sender && !strcmp(q->room, m->room))
			tt_gateway_webrtc.on_text_to(F.state, q, m);
	}
}

static int text_post(struct tt_participant *p, const char *text, size_t len, unsigned flags)
{
	alive_or_trap(p);
	if (len > 4096)
		return -EMSGSIZE;
	if (!g_utf8_validate(text, (gssize)len, NULL) || strlen(text) != len)
		return -EILSEQ;
	struct tt_text m = { .room = p->room, .text = text, .len = len, .flags = flags,
			     .from = { .id = p->id, .name = p->name, .network = "web" },
			     .sender = p };
	deliver(&m);
	return 0;
}

static int audio_attach(struct tt_participant *p, const struct tt_audio_leg *leg,
			tt_audio_attached_h cb, void *arg)
{
	alive_or_trap(p);
	if (leg->kind != TT_LEG_ICE || !leg->ice.policy || leg->pt > 127 || !*leg->ice.ufrag ||
	    !*leg->ice.pwd)
		__builtin_trap();   /* the offer's checks let a leg through the core refuses */
	struct attach *a = g_new0(struct attach, 1);
	a->p = p;
	a->cb = cb;
	a->arg = arg;
	g_queue_push_tail(&F.attaches, a);
	return 0;
}

static void attach_done(bool ok)
{
	struct attach *a = g_queue_pop_head(&F.attaches);
	if (!a)
		return;
	struct tt_audio_attached r = { .err = ok && a->p->alive ? 0 : -EIO, .kind = TT_LEG_ICE };
	g_strlcpy(r.ice.ufrag, "abcd", sizeof r.ice.ufrag);
	g_strlcpy(r.ice.pwd, "0123456789abcdefghijkl", sizeof r.ice.pwd);
	g_strlcpy(r.ice.fingerprint, "sha-256 AB:CD", sizeof r.ice.fingerprint);
	a->cb(a->arg, a->p, &r);
	g_free(a);
}

static int ice_candidate(struct tt_participant *p, const char *cand)
{
	alive_or_trap(p);
	return cand && *cand && strncmp(cand, "candidate:", 10) ? -EINVAL : 0;
}

static int ws_register(struct tt_gw_handle *gw, const char *path, const struct tt_ws_ops *ops,
		       void *arg)
{
	F.ops = ops;
	F.ops_arg = arg;
	if (!ops)   /* unregistering drops what is open without calling back */
		for (unsigned i = 0; i < F.n_ws; i++)
			F.ws[i].open = false;
	return 0;
}

static int ws_send(struct tt_ws *ws, const char *text, size_t len)
{
	if (!ws->open)
		__builtin_trap();   /* a closed connection's pointer is gone in the real server */
	if (ws->closing)
		return -ESHUTDOWN;  /* what ws.c answers */
	json_error_t err;
	json_t *o = json_loadb(text, len, 0, &err);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "type")))
		__builtin_trap();
	json_decref(o);
	return 0;
}

static void ws_close(struct tt_ws *ws, unsigned code, const char *reason)
{
	if (!ws->open)
		__builtin_trap();
	ws->closing = true;   /* twice is fine: ws.c ignores the second */
}

static const char *ws_peer(const struct tt_ws *ws) { return ws->peer; }
static struct tt_core *core_of(struct tt_gw_handle *gw) { return &F.core; }
static const struct tt_conf *conf_of(struct tt_core *c) { return F.conf; }

/* Meetings (API 5): anyone named "mod..." is a moderator; actions emit on_meeting and set
 * the target's state as the core does, after the event. */
static struct tt_participant *p_find(struct tt_core *c, const char *room, const char *id)
{
	for (guint i = 0; i < F.parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(F.parts, i);
		if (p->alive && !strcmp(p->room, room) && !strcmp(p->id, id))
			return p;
	}
	return NULL;
}

static int moderate(struct tt_participant *actor, enum tt_mod_action a,
		    struct tt_participant *t, const char *reason)
{
	alive_or_trap(actor);
	if (t)
		alive_or_trap(t);
	if (strncmp(actor->name, "mod", 3) && !(a == TT_MOD_LOWER_HAND && t == actor))
		return -EPERM;
	if (a == TT_MOD_RECORD_START)
		return -ENOTSUP;
	struct tt_meeting_event ev = { .room = actor->room, .action = a, .reason = reason,
				       .by = { .id = actor->id, .name = actor->name } };
	if (t) {
		ev.target.id = t->id;
		ev.target.name = t->name;
	}
	if (F.state)
		tt_gateway_webrtc.on_meeting(F.state, &ev);
	if (a == TT_MOD_MUTE)
		p_set_state(t, TT_PS_MUTED | TT_PS_MOD_MUTED, true);
	else if (a == TT_MOD_LOWER_HAND)
		p_set_state(t, TT_PS_HAND, false);
	else if (a == TT_MOD_KICK && t->ours && F.state)
		tt_gateway_webrtc.hang_up(F.state, t, reason);
	return 0;
}

static int room_info(struct tt_core *c, const char *room, struct tt_room_info *out)
{
	memset(out, 0, sizeof *out);
	out->self_unmute = true;
	return 0;
}

static int room_doors(struct tt_core *c, const char *room, tt_door_h fn, void *arg)
{
	if (F.state)
		tt_gateway_webrtc.doors(F.state, room, fn, arg);
	return 0;
}

static const struct tt_core_api api = {
	.participant_find = p_find,
	.moderate = moderate,
	.room_info = room_info,
	.room_doors = room_doors,
	.api_version = TT_CORE_API_VERSION,
	.room_roster = room_roster,
	.participant_join = p_join,
	.participant_leave = p_leave,
	.participant_ref = p_ref,
	.participant_unref = p_unref,
	.participant_id = p_id,
	.participant_name = p_name,
	.participant_room = p_room,
	.participant_gw_data = p_gw_data,
	.participant_state = p_state,
	.participant_alive = p_alive,
	.participant_set_state = p_set_state,
	.text_post = text_post,
	.audio_attach = audio_attach,
	.core_of = core_of,
	.conf = conf_of,
	.audio_ice_candidate = ice_candidate,
	.ws_register = ws_register,
	.ws_send = ws_send,
	.ws_close = ws_close,
	.ws_peer = ws_peer,
};

/* ---- the driver ---- */

static void gw_start(void)
{
	if (tt_gateway_webrtc.start(&F.h, &api, F.conf, &F.state))
		abort();
}

static void gw_free(void)
{
	tt_gateway_webrtc.stop(F.state);
	/* lws closes what the gateway closed */
	for (unsigned i = 0; i < F.n_ws; i++)
		if (F.ws[i].open && F.ws[i].closing) {
			F.ws[i].open = false;
			F.ops->close(F.ws[i].conn, &F.ws[i]);
		}
	while (F.attaches.length)   /* the workers answer before the core frees gateways */
		attach_done(false);
	tt_gateway_webrtc.free(F.state);
	F.state = NULL;
}

/* What lws does after a callback returns: connections the gateway closed go away. */
static void settle(void)
{
	for (unsigned i = 0; i < F.n_ws; i++) {
		struct tt_ws *ws = &F.ws[i];
		if (ws->open && ws->closing) {
			ws->open = false;
			F.ops->close(ws->conn, ws);
		}
	}
}

static struct tt_ws *ws_of(char k)
{
	unsigned i = (unsigned)(k - '0');
	return k >= '0' && k <= '9' && i < F.n_ws && F.ws[i].open && !F.ws[i].closing ? &F.ws[i]
										       : NULL;
}

/* lws hands over valid UTF-8 (LWS_SERVER_OPTION_VALIDATE_UTF8), NULs included. */
static bool utf8_with_nuls(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		const char *end;
		size_t seg = strnlen(s + i, n - i);
		if (!g_utf8_validate(s + i, (gssize)seg, &end))
			return false;
		i += seg + 1;
	}
	return true;
}

static struct tt_participant *other_in(const char *room)
{
	for (guint i = F.parts->len; i-- > 0;) {
		struct tt_participant *p = g_ptr_array_index(F.parts, i);
		if (p->alive && !p->ours && !strcmp(p->room, room))
			return p;
	}
	return NULL;
}

static void command(const char *c, size_t n)
{
	char *arg = g_strndup(c + (n > 0), n > 0 ? n - 1 : 0);
	struct tt_ws *ws;
	switch (n ? c[0] : 0) {
	case 'o':
		if (F.n_ws < MAX_WS && F.ops) {
			ws = &F.ws[F.n_ws++];
			g_strlcpy(ws->peer, *arg ? arg : "127.0.0.1", sizeof ws->peer);
			ws->open = true;   /* the hello goes out from inside open() */
			if (F.ops->open(F.ops_arg, ws, &ws->conn) != 0)
				ws->open = false;
			settle();
		}
		break;
	case 'm':
		if (n >= 2 && (ws = ws_of(c[1]))) {
			const char *text = n > 2 ? c + 3 : "";
			size_t len = n > 2 ? n - 3 : 0;
			char *copy = g_strndup(text, len);   /* NUL-terminated; NULs inside kept */
			memcpy(copy, text, len);
			if (utf8_with_nuls(copy, len))
				F.ops->message(ws->conn, ws, copy, len, 0);
			g_free(copy);
			settle();
		}
		break;
	case 'e':
		if (n >= 4 && (ws = ws_of(c[1]))) {
			int err = c[3] == 's' ? -EMSGSIZE : c[3] == 'r' ? -EBUSY : -EBADMSG;
			F.ops->message(ws->conn, ws, NULL, 0, err);
			settle();
		}
		break;
	case 'c':
		if (n >= 2 && (ws = ws_of(c[1]))) {
			ws->open = false;
			F.ops->close(ws->conn, ws);
		}
		break;
	case 'a':
	case 'f':
		attach_done(c[0] == 'a');
		settle();
		break;
	case 'h':
		if (n >= 2 && (ws = ws_of(c[1]))) {
			struct wr_session *s = ws->conn;
			if (s->p) {
				tt_gateway_webrtc.hang_up(F.state, s->p, "kicked");
				settle();
			}
		}
		break;
	case 'j': {
		char *sp = strchr(arg, ' ');
		if (sp && sp != arg && F.parts->len < 64) {
			*sp = '\0';
			p_new(arg, sp + 1, false);
		}
		break;
	}
	case 't': {
		char *sp = strchr(arg, ' ');
		struct tt_participant *p;
		if (sp && (*sp = '\0', p = other_in(arg)) && g_utf8_validate(sp + 1, -1, NULL)) {
			struct tt_text m = { .room = p->room, .text = sp + 1, .len = strlen(sp + 1),
					     .from = { .id = p->id, .name = p->name, .network = "phone" },
					     .sender = p };
			deliver(&m);
		}
		break;
	}
	case 's': {
		struct tt_participant *p = other_in(arg);
		if (p)
			p_set_state(p, TT_PS_TALKING, !(p->state & TT_PS_TALKING));
		break;
	}
	case 'l': {
		struct tt_participant *p = other_in(arg);
		if (p)
			p_leave(p, 0);
		break;
	}
	case 'x':
		gw_free();
		gw_start();
		break;
	default:
		break;
	}
	g_free(arg);
}

/* The core's [http] keys the gateway reads for the page's address (its doors). */
static const struct tt_conf_key http_keys[] = {
	{ "http", "listen", TT_CONF_STRING, "127.0.0.1", 0, 255, NULL, 0, "" },
	{ "http", "port", TT_CONF_INT, "8080", 1, 65535, NULL, 0, "" },
	{ "http", "tls_cert", TT_CONF_STRING, NULL, 0, 4096, NULL, 0, "" },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!F.conf) {
		tt_log_set_levels("error", NULL);
		char *errors = NULL;
		static const char ini[] = "[webrtc]\nmax_per_address = 3\nallow_loopback = true\n";
		if (tt__conf_schema_alloc(&F.schema) ||
		    tt__conf_schema_add(F.schema, tt_gateway_webrtc.conf_keys, "webrtc") ||
		    tt__conf_schema_add(F.schema, http_keys, "core") ||
		    tt__conf_load_data(&F.conf, F.schema, "fuzz.conf", ini, strlen(ini), &errors))
			abort();
		F.parts = g_ptr_array_new();
		g_queue_init(&F.attaches);
		gw_start();
	}
	if (size > 256 * 1024)
		return 0;
	const char *s = (const char *)data;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '\n')
			continue;
		command(s + start, i - start);
		start = i + 1;
	}
	/* the end of the input: every browser goes away, the workers answer what is pending */
	for (unsigned i = 0; i < F.n_ws; i++)
		if (F.ws[i].open) {
			F.ws[i].open = false;
			F.ops->close(F.ws[i].conn, &F.ws[i]);
		}
	while (F.attaches.length)
		attach_done(false);
	if (g_hash_table_size(((struct wr_gw *)F.state)->by_room) ||
	    g_hash_table_size(((struct wr_gw *)F.state)->per_peer) ||
	    ((struct wr_gw *)F.state)->sessions)
		__builtin_trap();   /* a closed session left something behind */
	for (guint i = 0; i < F.parts->len; i++) {
		struct tt_participant *p = g_ptr_array_index(F.parts, i);
		if (p->alive && p->ours)
			__builtin_trap();   /* every browser closed: none of ours may stay */
		g_free(p->name);
		g_free(p->room);
		g_free(p);
	}
	g_ptr_array_set_size(F.parts, 0);
	memset(F.ws, 0, sizeof F.ws);
	F.n_ws = 0;
	return 0;
}
