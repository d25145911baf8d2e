/* proto.c: parse and check one client message; nothing else happens here, so a fuzzer can
 * drive it alone. */
#include "proto.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static const char *str_of(json_t *root, const char *key, size_t max, bool *bad)
{
	json_t *v = json_object_get(root, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {   /* no NUL inside */
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

static const char *const mod_names[TT_MOD_ACTIONS] = {
	[TT_MOD_MUTE] = "mute", [TT_MOD_UNMUTE] = "unmute", [TT_MOD_MUTE_ALL] = "mute_all",
	[TT_MOD_KICK] = "kick", [TT_MOD_LOCK] = "lock", [TT_MOD_UNLOCK] = "unlock",
	[TT_MOD_LOWER_HAND] = "lower_hand", [TT_MOD_RECORD_START] = "record_start",
	[TT_MOD_RECORD_STOP] = "record_stop", [TT_MOD_END] = "end", [TT_MOD_GRANT] = "grant",
	[TT_MOD_REVOKE] = "revoke", [TT_MOD_ASK_UNMUTE] = "ask_unmute",
};

const char *wr_mod_name(enum tt_mod_action a)
{
	return (unsigned)a < TT_MOD_ACTIONS && mod_names[a] ? mod_names[a] : "none";
}

enum tt_mod_action wr_mod_parse(const char *name)
{
	for (unsigned a = 1; name && a < TT_MOD_ASK_UNMUTE; a++)
		if (mod_names[a] && !strcmp(mod_names[a], name))
			return (enum tt_mod_action)a;
	return TT_MOD_NONE;
}

bool wr_mod_needs_target(enum tt_mod_action a)
{
	return a == TT_MOD_MUTE || a == TT_MOD_UNMUTE || a == TT_MOD_KICK ||
	       a == TT_MOD_LOWER_HAND || a == TT_MOD_GRANT || a == TT_MOD_REVOKE;
}

static int bool_of(json_t *root, const char *key, bool *out)
{
	json_t *v = json_object_get(root, key);
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 0;
}

int wr_msg_parse(struct wr_msg *m, const char *text, size_t len, const char **code,
		 const char **detail)
{
	static const struct { const char *name; enum wr_msg_type t; } types[] = {
		{ "join", WR_MSG_JOIN }, { "offer", WR_MSG_OFFER },
		{ "candidate", WR_MSG_CANDIDATE }, { "mute", WR_MSG_MUTE },
		{ "chat", WR_MSG_CHAT }, { "leave", WR_MSG_LEAVE }, { "ping", WR_MSG_PING },
		{ "moderate", WR_MSG_MODERATE }, { "hand", WR_MSG_HAND },
		{ "decline", WR_MSG_DECLINE },
	};
	json_error_t jerr;
	bool bad = false;
	const char *about = NULL;
	memset(m, 0, sizeof *m);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		*code = "bad_json";
		*detail = "not a JSON object";
		return -EINVAL;
	}
	/* no length cap on "type": any string that names none of ours is an unknown type,
	 * however long (the message's size is capped before it gets here) */
	const char *type = str_of(root, "type", SIZE_MAX, &bad);
	*code = "bad_request";
	if (!type) {
		*detail = bad ? "\"type\" must be a string" : "no \"type\"";
		goto fail;
	}
	size_t i;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(types[i].name, type))
			break;
	if (i == sizeof types / sizeof types[0]) {
		*code = "unknown_type";
		*detail = "unknown \"type\"";
		goto fail;
	}
	m->type = types[i].t;
	about = types[i].name;
	switch (m->type) {
	case WR_MSG_JOIN:
		m->room = str_of(root, "room", 64, &bad);
		m->name = str_of(root, "name", 256, &bad);
		m->pin = str_of(root, "pin", 32, &bad);
		if (bad || !m->room || !*m->room) {
			*detail = "join needs \"room\" (and string \"name\", \"pin\")";
			goto fail;
		}
		break;
	case WR_MSG_OFFER:
		m->sdp = str_of(root, "sdp", 64 * 1024, &bad);
		if (bad || !m->sdp) {
			*detail = "offer needs \"sdp\"";
			goto fail;
		}
		m->sdp_len = strlen(m->sdp);
		break;
	case WR_MSG_CANDIDATE:
		/* its length and syntax are the core's to check (bad_candidate, not
		 * bad_request: a string is the right type) */
		m->candidate = str_of(root, "candidate", SIZE_MAX, &bad);
		if (bad) {
			*detail = "\"candidate\" must be a string or null";
			goto fail;
		}
		break;
	case WR_MSG_MUTE:
		if (bool_of(root, "muted", &m->muted)) {
			*detail = "mute needs boolean \"muted\"";
			goto fail;
		}
		break;
	case WR_MSG_HAND:
		if (bool_of(root, "up", &m->up)) {
			*detail = "hand needs boolean \"up\"";
			goto fail;
		}
		break;
	case WR_MSG_DECLINE:
		if (bool_of(root, "declined", &m->up)) {
			*detail = "decline needs boolean \"declined\"";
			goto fail;
		}
		break;
	case WR_MSG_MODERATE: {
		const char *act = str_of(root, "action", 32, &bad);
		m->target = str_of(root, "target", 64, &bad);
		m->reason = str_of(root, "reason", 256, &bad);
		m->mod = act ? wr_mod_parse(act) : TT_MOD_NONE;
		if (bad || m->mod == TT_MOD_NONE) {
			*detail = "moderate needs a known \"action\" (and string \"target\", "
				  "\"reason\")";
			goto fail;
		}
		if (wr_mod_needs_target(m->mod) != (m->target && *m->target)) {
			*detail = wr_mod_needs_target(m->mod)
					  ? "this action needs \"target\": a participant id"
					  : "this action takes no \"target\"";
			goto fail;
		}
		break;
	}
	case WR_MSG_CHAT: {
		m->text = str_of(root, "text", 64 * 1024, &bad);
		json_t *a = json_object_get(root, "action");
		if (bad || !m->text || (a && !json_is_boolean(a))) {
			*detail = "chat needs \"text\"";
			goto fail;
		}
		m->text_len = strlen(m->text);
		m->action = json_is_true(a);
		break;
	}
	case WR_MSG_LEAVE:
	case WR_MSG_PING:
		break;
	}
	m->root = root;
	return 0;
fail:
	json_decref(root);
	memset(m, 0, sizeof *m);
	m->about = about;
	return -EINVAL;
}

void wr_msg_clear(struct wr_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof *m);
}
