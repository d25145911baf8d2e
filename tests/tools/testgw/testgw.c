/* testgw.c: a gateway for tests only. It joins participants and posts text through the same
 * core API real gateways use, driven by JSON lines on a UNIX socket ([testgw] control), and
 * writes every text, roster and hang-up event it receives back as JSON lines.
 *
 * Commands (one JSON object per line), each answered with {"ok":true,...} or
 * {"ok":false,"error":"...","code":-N}:
 *   {"cmd":"join","room":R,"name":N,"caps":["audio","text"],"pin":P}  -> "id","name"
 *   {"cmd":"say","id":I,"text":T,"action":false}
 *   {"cmd":"leave","id":I}
 *   {"cmd":"state","id":I,"muted":B,"deaf":B,"hold":B,"hand":B}
 *   {"cmd":"watch","room":R,"on":true}
 *   {"cmd":"roster","room":R}                                        -> "roster":[...]
 *   {"cmd":"kick","room":R,"who":ID_OR_NAME}
 *   {"cmd":"moderate","id":I,"action":"mute"|"lock"|...,"target":ID_OR_NAME,"reason":S}
 *        core.h moderate with participant I as the moderator (action names as the admin
 *        event stream spells them: meeting/meeting.h tt__mod_action_parse's table)
 *   {"cmd":"info","room":R}                                          -> "info":{...}
 *   {"cmd":"stall","ms":N}   blocks the core thread N ms (at most 60 s): a stuck core loop
 * Events: {"ev":"text",...}, {"ev":"roster","type":"joined|left|state|room_ended",...},
 *         {"ev":"hangup","id":I,"why":W}. Core thread only, like every gateway. */
#define TT_LOG_DOMAIN "testgw"
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/gateway.h>
#include <tutti/log.h>

struct client {
	struct testgw *gw;
	GSocketConnection *conn;
	GDataInputStream *in;
	GOutputStream *out;
	GCancellable *cancel;
};

struct testgw {
	struct tt_gw_handle *h;
	const struct tt_core_api *core;
	GSocketService *svc;
	char *path;
	GHashTable *parts;     /* id -> struct tt_participant * (our reference) */
	GPtrArray *clients;
};

static const struct tt_conf_key keys[] = {
	{ "testgw", "control", TT_CONF_STRING, NULL, 0, 107, NULL, 0,
	  "UNIX socket path the test driver connects to." },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

static void send_line(struct client *c, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	GString *line = g_string_new(s);
	g_string_append_c(line, '\n');
	free(s);
	g_output_stream_write_all(c->out, line->str, line->len, NULL, NULL, NULL);
	g_string_free(line, TRUE);
}

static void broadcast(struct testgw *gw, json_t *obj)
{
	for (guint i = 0; i < gw->clients->len; i++)
		send_line(g_ptr_array_index(gw->clients, i), json_incref(obj));
	json_decref(obj);
}

static json_t *entry_json(const struct tt_roster_entry *e)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, "
			 "s:i}",
			 "id", e->id, "name", e->name, "network", e->network, "gateway",
			 e->gateway, "audio", !!(e->caps & TT_CAP_AUDIO), "text",
			 !!(e->caps & TT_CAP_TEXT), "muted", !!(e->state & TT_PS_MUTED), "deaf",
			 !!(e->state & TT_PS_DEAF), "hold", !!(e->state & TT_PS_HOLD), "talking",
			 !!(e->state & TT_PS_TALKING), "moderator", !!(e->state & TT_PS_MODERATOR),
			 "hand", !!(e->state & TT_PS_HAND), "muted_by_moderator",
			 !!(e->state & TT_PS_MOD_MUTED), "hand_seq", (int)e->hand_seq);
}

static json_t *err_json(int rc)
{
	return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", tt_strerror(rc), "code", rc);
}

static struct tt_participant *part(struct testgw *gw, json_t *req)
{
	const char *id = json_string_value(json_object_get(req, "id"));
	return id ? g_hash_table_lookup(gw->parts, id) : NULL;
}

static void roster_cb(const struct tt_roster_entry *e, void *arg)
{
	json_array_append_new(arg, entry_json(e));
}

static json_t *handle(struct testgw *gw, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const struct tt_core_api *core = gw->core;
	struct tt_core *tc = core->core_of(gw->h);
	if (!cmd)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "no cmd");
	if (!strcmp(cmd, "join")) {
		struct tt_join j = {
			.room = json_string_value(json_object_get(req, "room")),
			.name = json_string_value(json_object_get(req, "name")),
			.pin = json_string_value(json_object_get(req, "pin")),
		};
		json_t *caps = json_object_get(req, "caps");
		size_t i;
		json_t *v;
		if (!caps)
			j.caps = TT_CAP_AUDIO | TT_CAP_TEXT;
		json_array_foreach(caps, i, v) {
			if (!g_strcmp0(json_string_value(v), "audio"))
				j.caps |= TT_CAP_AUDIO;
			if (!g_strcmp0(json_string_value(v), "text"))
				j.caps |= TT_CAP_TEXT;
		}
		struct tt_participant *p = NULL;
		int rc = j.room ? core->participant_join(gw->h, &j, &p) : -EINVAL;
		if (rc)
			return err_json(rc);
		g_hash_table_insert(gw->parts, g_strdup(core->participant_id(p)), p);
		return json_pack("{s:b, s:s, s:s}", "ok", 1, "id", core->participant_id(p), "name",
				 core->participant_name(p));
	}
	if (!strcmp(cmd, "say")) {
		struct tt_participant *p = part(gw, req);
		const char *text = json_string_value(json_object_get(req, "text"));
		size_t len = json_string_length(json_object_get(req, "text"));
		unsigned flags = json_is_true(json_object_get(req, "action")) ? TT_TEXT_ACTION : 0;
		int rc = p ? core->text_post(p, text, len, flags) : -ENOENT;
		return rc ? err_json(rc) : json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "leave")) {
		const char *id = json_string_value(json_object_get(req, "id"));
		struct tt_participant *p = NULL;
		gpointer key = NULL;
		if (!id || !g_hash_table_steal_extended(gw->parts, id, &key, (gpointer *)&p))
			return err_json(-ENOENT);
		g_free(key);
		core->participant_leave(p, 0);
		return json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "state")) {
		struct tt_participant *p = part(gw, req);
		static const struct { const char *k; unsigned bit; } f[] = {
			{ "muted", TT_PS_MUTED }, { "deaf", TT_PS_DEAF }, { "hold", TT_PS_HOLD },
			{ "hand", TT_PS_HAND },
		};
		if (!p)
			return err_json(-ENOENT);
		for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
			json_t *v = json_object_get(req, f[i].k);
			if (v) {
				int rc = core->participant_set_state(p, f[i].bit, json_is_true(v));
				if (rc)
					return err_json(rc);
			}
		}
		return json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "watch")) {
		json_t *on = json_object_get(req, "on");
		int rc = core->room_watch(gw->h, json_string_value(json_object_get(req, "room")),
					  !on || json_is_true(on));
		return rc ? err_json(rc) : json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "roster")) {
		json_t *arr = json_array();
		int rc = core->room_roster(tc, json_string_value(json_object_get(req, "room")),
					   roster_cb, arr);
		if (rc) {
			json_decref(arr);
			return err_json(rc);
		}
		return json_pack("{s:b, s:o}", "ok", 1, "roster", arr);
	}
	if (!strcmp(cmd, "kick")) {
		struct tt_participant *p = core->participant_find(
			tc, json_string_value(json_object_get(req, "room")),
			json_string_value(json_object_get(req, "who")));
		int rc = p ? core->participant_kick(p, "kicked by test") : -ENOENT;
		core->participant_unref(p);
		return rc ? err_json(rc) : json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "moderate")) {
		static const char *const names[] = { "", "mute", "unmute", "mute_all", "kick",
			"lock", "unlock", "lower_hand", "record_start", "record_stop", "end",
			"grant", "revoke" };
		struct tt_participant *p = part(gw, req);
		const char *a = json_string_value(json_object_get(req, "action"));
		const char *who = json_string_value(json_object_get(req, "target"));
		unsigned action = 0;
		for (unsigned i = 1; a && i < G_N_ELEMENTS(names); i++)
			if (!strcmp(names[i], a))
				action = i;
		if (!p || !action)
			return err_json(p ? -EINVAL : -ENOENT);
		struct tt_participant *t = who ? core->participant_find(
			tc, core->participant_room(p), who) : NULL;
		if (who && !t)
			return err_json(-ENOENT);
		int rc = core->moderate(p, (enum tt_mod_action)action, t,
					json_string_value(json_object_get(req, "reason")));
		core->participant_unref(t);
		return rc ? err_json(rc) : json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "info")) {
		struct tt_room_info ri;
		int rc = core->room_info(tc, json_string_value(json_object_get(req, "room")), &ri);
		if (rc)
			return err_json(rc);
		return json_pack("{s:b, s:{s:b, s:b, s:b, s:b, s:s?, s:i}}", "ok", 1, "info",
				 "locked", ri.locked, "recording", ri.recording, "self_unmute",
				 ri.self_unmute, "unmute_asks", ri.unmute_asks, "recording_id",
				 ri.recording_id, "hands", (int)ri.hands);
	}
	if (!strcmp(cmd, "stall")) {
		/* the shutdown watchdog's test: the loop answers nothing, signals included */
		json_int_t ms = json_integer_value(json_object_get(req, "ms"));
		if (ms < 0 || ms > 60000)
			return err_json(-EINVAL);
		g_usleep((gulong)ms * 1000);
		return json_pack("{s:b}", "ok", 1);
	}
	return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown cmd");
}

static void client_free(struct client *c)
{
	g_cancellable_cancel(c->cancel);
	g_object_unref(c->cancel);
	g_object_unref(c->in);
	g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
	g_object_unref(c->conn);
	g_free(c);
}

static void on_line(GObject *src, GAsyncResult *res, gpointer data)
{
	struct client *c = data;
	gsize len = 0;
	GError *err = NULL;
	char *line = g_data_input_stream_read_line_finish_utf8(c->in, res, &len, &err);
	if (!line) {
		bool cancelled = err && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
		g_clear_error(&err);
		if (!cancelled) {
			g_ptr_array_remove(c->gw->clients, c);
			client_free(c);
		}
		return;
	}
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr);
	json_t *resp = req ? handle(c->gw, req)
			   : json_pack("{s:b, s:s}", "ok", 0, "error", jerr.text);
	json_decref(req);
	json_object_set_new(resp, "reply", json_true());
	send_line(c, resp);
	g_free(line);
	g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, c->cancel, on_line, c);
}

static gboolean on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src,
			    gpointer data)
{
	struct testgw *gw = data;
	struct client *c = g_new0(struct client, 1);
	c->gw = gw;
	c->conn = g_object_ref(conn);
	c->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	c->out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	c->cancel = g_cancellable_new();
	g_ptr_array_add(gw->clients, c);
	g_data_input_stream_read_line_async(c->in, G_PRIORITY_DEFAULT, c->cancel, on_line, c);
	return TRUE;
}

static int tg_start(struct tt_gw_handle *h, const struct tt_core_api *core,
		    const struct tt_conf *conf, void **statep)
{
	struct testgw *gw = g_new0(struct testgw, 1);
	gw->h = h;
	gw->core = core;
	gw->parts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gw->clients = g_ptr_array_new();
	const char *path = tt_conf_str(conf, "testgw", "control");
	if (path && *path) {
		GError *err = NULL;
		gw->path = g_strdup(path);
		g_unlink(path);
		GSocketAddress *addr = g_unix_socket_address_new(path);
		gw->svc = g_socket_service_new();
		if (!g_socket_listener_add_address(G_SOCKET_LISTENER(gw->svc), addr,
						   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
						   NULL, NULL, &err)) {
			tt_error("control socket %s: %s", path, err->message);
			g_error_free(err);
			g_object_unref(addr);
			return -EADDRINUSE;
		}
		g_object_unref(addr);
		g_signal_connect(gw->svc, "incoming", G_CALLBACK(on_incoming), gw);
		g_socket_service_start(gw->svc);
		tt_info("control socket %s", path);
	}
	*statep = gw;
	return 0;
}

static void tg_stop(void *state)
{
	struct testgw *gw = state;
	GHashTableIter it;
	gpointer v;
	gpointer key;
	g_hash_table_iter_init(&it, gw->parts);
	while (g_hash_table_iter_next(&it, &key, &v)) {
		g_hash_table_iter_steal(&it);
		g_free(key);
		gw->core->participant_leave(v, -ESHUTDOWN);
	}
}

static void tg_free(void *state)
{
	struct testgw *gw = state;
	tg_stop(gw);
	if (gw->svc) {
		g_socket_service_stop(gw->svc);
		g_socket_listener_close(G_SOCKET_LISTENER(gw->svc));
		g_object_unref(gw->svc);
		g_unlink(gw->path);
	}
	for (guint i = 0; i < gw->clients->len; i++)
		client_free(g_ptr_array_index(gw->clients, i));
	g_ptr_array_free(gw->clients, TRUE);
	g_hash_table_destroy(gw->parts);
	g_free(gw->path);
	g_free(gw);
}

static void tg_hang_up(void *state, struct tt_participant *p, const char *why)
{
	struct testgw *gw = state;
	const char *id = gw->core->participant_id(p);
	broadcast(gw, json_pack("{s:s, s:s, s:s}", "ev", "hangup", "id", id, "why", why));
	struct tt_participant *ours = NULL;
	gpointer key = NULL;
	if (g_hash_table_steal_extended(gw->parts, id, &key, (gpointer *)&ours)) {
		g_free(key);
		gw->core->participant_leave(ours, 0);
	}
}

/* An observer (gateway.h on_text): every line of the rooms it is present in, once, its own
 * participants' included, so the driver sees the room's text as it is. It never relays. */
static void tg_on_text(void *state, const struct tt_text *msg)
{
	broadcast(state, json_pack("{s:s, s:s, s:o, s:s, s:b, s:b}", "ev", "text", "room",
				   msg->room, "from", entry_json(&msg->from), "text", msg->text,
				   "action", !!(msg->flags & TT_TEXT_ACTION), "notice",
				   !!(msg->flags & TT_TEXT_NOTICE)));
}

static void tg_on_roster(void *state, const struct tt_roster_event *ev)
{
	static const char *const types[] = { "joined", "left", "state", "room_ended" };
	json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "ev", "roster", "type", types[ev->type],
			      "room", ev->room, "reason", ev->reason);
	if (ev->who.id)
		json_object_set_new(o, "who", entry_json(&ev->who));
	broadcast(state, o);
}

/* Meeting events (gateway.h on_meeting), as JSON: the action's name, who, to whom. */
static void tg_on_meeting(void *state, const struct tt_meeting_event *ev)
{
	static const char *const names[] = { "none", "mute", "unmute", "mute_all", "kick",
		"lock", "unlock", "lower_hand", "record_start", "record_stop", "end", "grant",
		"revoke", "ask_unmute" };
	const char *a = (unsigned)ev->action < G_N_ELEMENTS(names) ? names[ev->action] : "?";
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:i}", "ev", "meeting", "room",
			      ev->room, "action", a, "by", ev->by.name, "recording_id",
			      ev->recording_id, "reason", ev->reason, "count", (int)ev->count);
	if (ev->target.id)
		json_object_set_new(o, "target", entry_json(&ev->target));
	broadcast(state, o);
}

const struct tt_gateway tt_gateway_test = {
	.api_version = TT_GATEWAY_API_VERSION,
	.name = "testgw",
	.network = "test",
	.flags = TT_GW_TEST_ONLY,
	.conf_keys = keys,
	.start = tg_start,
	.stop = tg_stop,
	.free = tg_free,
	.hang_up = tg_hang_up,
	.on_text = tg_on_text,
	.on_roster = tg_on_roster,
	.on_meeting = tg_on_meeting,
};
