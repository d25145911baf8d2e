/* bus_msg.c: encode and decode a room channel's messages (the format: bus_msg.h). */
#include "bus_msg.h"

#include <glib.h>
#include <jansson.h>
#include <string.h>
#include <tutti/core.h>
#include <tutti/errno.h>

static const char *kind_name(unsigned flags)
{
	return (flags & TT_TEXT_NOTICE) ? "notice" : (flags & TT_TEXT_ACTION) ? "action"
									   : "message";
}

char *tt__bus_msg_encode(const char *node, const char *id, const char *name, const char *network,
			 unsigned flags, const char *text, size_t len)
{
	if (!node || !name || !network || !text)
		return NULL;
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s%}", "v", TT_BUS_MSG_VERSION,
			      "node", node, "type", "text", "name", name, "network", network,
			      "kind", kind_name(flags), "text", text, len);
	if (!o)
		return NULL;
	if (id && *id)
		json_object_set_new(o, "id", json_string(id));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *out = s ? g_strdup(s) : NULL;
	free(s);
	return out;
}

static const char *const OPS[] = { "joined", "state", "left", "hello" };

char *tt__bus_roster_encode(const char *node, enum tt_bus_op op,
			    const struct tt_roster_entry *e)
{
	if (!node || (op != TT_BUS_HELLO && (!e || !e->id || !e->name)))
		return NULL;
	json_t *o = op == TT_BUS_HELLO
		? json_pack("{s:i, s:s, s:s, s:s}", "v", TT_BUS_MSG_VERSION, "node", node, "type",
			    "roster", "op", OPS[op])
		: json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "v",
			    TT_BUS_MSG_VERSION, "node", node, "type", "roster", "op", OPS[op],
			    "id", e->id, "name", e->name, "network",
			    e->network && *e->network ? e->network : "?", "caps",
			    (json_int_t)e->caps, "state", (json_int_t)e->state, "hand_seq",
			    (json_int_t)e->hand_seq);
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *out = s ? g_strdup(s) : NULL;
	free(s);
	return out;
}

static bool uint_field(json_t *o, const char *key, unsigned *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return false;
	*out = (unsigned)json_integer_value(v);
	return true;
}

/* A name, network, node or id goes into IRC lines, XMPP stanzas and rosters as it is: valid
 * UTF-8 without control characters (the core cleans local names the same way). */
static bool printable(const char *s)
{
	if (!g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *q = s; *q; q = g_utf8_next_char(q))
		if (g_unichar_iscntrl(g_utf8_get_char(q)))
			return false;
	return true;
}

static const char *label_field(json_t *o, const char *key, size_t max)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    !printable(json_string_value(v)))
		return NULL;
	return json_string_value(v);
}

static const char *str_field(json_t *o, const char *key, size_t max, size_t *lenp)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return NULL;
	size_t len = json_string_length(v);
	if (len == 0 || len > max)
		return NULL;
	if (lenp)
		*lenp = len;
	return json_string_value(v);
}

static int decode_roster(json_t *o, const char *node, struct tt_bus_msg *out,
			 const char **why)
{
	const char *op = str_field(o, "op", 16, NULL);
	unsigned k = 0;
	while (op && k < G_N_ELEMENTS(OPS) && strcmp(op, OPS[k]))
		k++;
	if (!node || !op || k == G_N_ELEMENTS(OPS)) {
		*why = "a roster message without node or a known op";
		return -EINVAL;
	}
	struct tt_bus_msg m = { .type = TT_BUS_ROSTER, .op = (enum tt_bus_op)k };
	if (k != TT_BUS_HELLO) {
		const char *id = label_field(o, "id", 64);
		const char *name = label_field(o, "name", 256);
		const char *net = label_field(o, "network", 32);
		if (!id || !name || !net || !uint_field(o, "caps", &m.caps) ||
		    !uint_field(o, "state", &m.state) || !uint_field(o, "hand_seq", &m.hand_seq)) {
			*why = "a roster field missing, empty, too long or mistyped";
			return -EINVAL;
		}
		m.id = g_strdup(id);
		m.name = g_strdup(name);
		m.network = g_strdup(net);
	}
	m.node = g_strdup(node);
	*out = m;
	return 0;
}

int tt__bus_msg_decode(const char *payload, size_t len, struct tt_bus_msg *out,
		       const char **why)
{
	if (!payload || len == 0 || len > TT_BUS_MSG_MAX) {
		*why = "empty or too large";
		return -EINVAL;
	}
	json_error_t jerr;
	json_t *o = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc = -EINVAL;
	if (!json_is_object(o)) {
		*why = o ? "not a JSON object" : "not JSON";
		goto out;
	}
	json_t *v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != TT_BUS_MSG_VERSION) {
		*why = "no version 1";
		goto out;
	}
	json_t *type = json_object_get(o, "type");
	const char *node = label_field(o, "node", 64);
	if (json_is_string(type) && !strcmp(json_string_value(type), "roster")) {
		rc = decode_roster(o, node, out, why);
		goto out;
	}
	if (!json_is_string(type) || strcmp(json_string_value(type), "text")) {
		*why = "a type this node does not know";
		goto out;
	}
	size_t tlen = 0;
	const char *name = label_field(o, "name", 256);
	const char *net = label_field(o, "network", 32);
	const char *kind = str_field(o, "kind", 16, NULL);
	const char *text = str_field(o, "text", TT_BUS_MSG_MAX, &tlen);
	json_t *idv = json_object_get(o, "id");
	const char *id = label_field(o, "id", 64);
	if (!node || !name || !net || !kind || !text || (idv && !id)) {
		*why = "a field missing, empty, too long or not a string";
		goto out;
	}
	unsigned flags;
	if (!strcmp(kind, "message"))
		flags = 0;
	else if (!strcmp(kind, "action"))
		flags = TT_TEXT_ACTION;
	else if (!strcmp(kind, "notice"))
		flags = TT_TEXT_NOTICE;
	else {
		*why = "an unknown kind";
		goto out;
	}
	/* NUL inside a string: jansson refuses \u0000 unless asked (JSON_ALLOW_NUL) */
	memset(out, 0, sizeof *out);
	out->type = TT_BUS_TEXT;
	out->node = g_strdup(node);
	out->id = g_strdup(id);
	out->name = g_strdup(name);
	out->network = g_strdup(net);
	out->flags = flags;
	out->text = g_strndup(text, tlen);
	out->len = tlen;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void tt__bus_msg_clear(struct tt_bus_msg *m)
{
	if (!m)
		return;
	g_free(m->node);
	g_free(m->id);
	g_free(m->name);
	g_free(m->network);
	g_free(m->text);
	memset(m, 0, sizeof *m);
}
