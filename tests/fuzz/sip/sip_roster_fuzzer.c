/* sip_roster_fuzzer.c: the RFC 4575 conference-info document a SUBSCRIBE to a room gets
 * (gateways/sip/roster.c), for participants whose display names anyone on any network chose.
 * Runs over the real core, so names pass the core's own cleaning (room.c) as they would in
 * the bridge; the entity's host comes from the request URI, parsed by sofia-sip.
 *
 * Input: line 1 is the SUBSCRIBE's request URI ("sip:ROOM@HOST": the host matters, the room
 * is always the configured "standup"); every further line is one participant of another
 * gateway joining it: a state byte ('@' + enum tt_pstate bits) then the display name as
 * sent (any bytes).
 * Checks: libxml2 (strict XML 1.0, no recovery) parses the document; it has one <user> per
 * participant and each <display-text> is that participant's name as the core keeps it. A
 * subscriber's parser that rejects the document shows nobody. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sofia-sip/url.h>
#include <tutti/log.h>

#include "core/core_priv.h"
#include "sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 16

static struct tt_core *core;
static struct {
	struct tt_gw_handle *h;
	const struct tt_core_api *api;
	GPtrArray *held;
} fake;

static int f_start(struct tt_gw_handle *h, const struct tt_core_api *api,
		   const struct tt_conf *conf, void **statep)
{
	fake.h = h;
	fake.api = api;
	fake.held = g_ptr_array_new();
	*statep = &fake;
	return 0;
}
static void f_stop(void *s) { (void)s; }
static void f_free(void *s) { g_ptr_array_free(fake.held, TRUE); }
static void f_hang_up(void *s, struct tt_participant *p, const char *why)
{
	if (g_ptr_array_remove(fake.held, p))
		fake.api->participant_leave(p, 0);
}
static const struct tt_gateway fake_gw = {
	.api_version = TT_GATEWAY_API_VERSION, .name = "fake", .network = "phone",
	.start = f_start, .stop = f_stop, .free = f_free, .hang_up = f_hang_up,
};

/* The core's media worker is a thread: it must be joined before the libraries' own
 * destructors run at exit. libxml2 2.9's destructor (xmlCleanupParser) ran while the worker
 * was still ticking, and about one replay in three aborted in GLib with "pthread_setspecific:
 * Invalid argument". atexit handlers run before the shared libraries' destructors. */
static void teardown(void)
{
	core = tt__core_free(core);
}

static void setup(void)
{
	static const char ini[] = "[bridge]\nworkers = 1\nlog_level = error\n"
				  "[http]\nenabled = false\n[rtp]\nenabled = false\n"
				  "[room.standup]\n";
	static const struct tt_gateway *const table[] = { &fake_gw, NULL };
	char *path = g_strdup("/tmp/tt-fuzz-roster-XXXXXX");
	int fd = g_mkstemp(path);
	if (fd < 0 || write(fd, ini, strlen(ini)) != (ssize_t)strlen(ini))
		abort();
	close(fd);
	if (tt__core_alloc(&core, table, path, NULL) || tt__core_start(core))
		abort();
	atexit(teardown);
	g_unlink(path);
	g_free(path);
}

static void xml_quiet(void *ctx, const char *msg, ...) { }

/* The document as a subscriber reads it: every <user>'s <display-text>, in order. */
static void check_doc(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "notify.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOWARNING);
	if (!doc)
		__builtin_trap();   /* a strict parser refuses the NOTIFY body */
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr users = NULL;
	for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST "users"))
			users = n;
	if (!users)
		__builtin_trap();
	guint k = 0;
	for (xmlNodePtr u = users->children; u; u = u->next) {
		if (u->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(u->name, BAD_CAST "user") || k >= fake.held->len)
			__builtin_trap();
		xmlNodePtr dt = u->children;
		while (dt && dt->type != XML_ELEMENT_NODE)
			dt = dt->next;
		xmlChar *text = dt ? xmlNodeGetContent(dt) : NULL;
		const char *want = fake.api->participant_name(g_ptr_array_index(fake.held, k));
		if (!text || strcmp((const char *)text, want))
			__builtin_trap();   /* the name a subscriber sees is not the participant's */
		xmlFree(text);
		k++;
	}
	if (k != fake.held->len)
		__builtin_trap();
	xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!core) {
		setup();
		xmlSetGenericErrorFunc(NULL, xml_quiet);
	}
	if (size > 16384)
		return 0;
	const char *s = (const char *)data, *end = s + size;
	const char *nl = memchr(s, '\n', size);
	char *uri_text = g_strndup(s, nl ? (size_t)(nl - s) : size);
	su_home_t *home = su_home_new(sizeof *home);
	url_t *url = url_make(home, uri_text);
	/* Always the configured room: one that outlives its participants, so the core does not
	 * build and end a room's media on every input (20 times the executions per second).
	 * Room names are [A-Za-z0-9._-] (the gateway answers 404 to others): nothing to escape
	 * is lost; the URI still gives the entity's host. */
	const char *room = "standup";
	char *entity = g_strdup_printf("sip:%s@%s", room, url && url->url_host ? url->url_host
										    : "tutti");
	for (s = nl ? nl + 1 : end; s < end;) {
		nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (len >= 1 && fake.held->len < MAX_PARTS) {
			char *name = g_strndup(s + 1, len - 1);
			struct tt_join j = { .room = room, .name = name, .caps = TT_CAP_AUDIO };
			struct tt_participant *p = NULL;
			if (fake.api->participant_join(fake.h, &j, &p) == 0) {
				g_ptr_array_add(fake.held, p);
				unsigned bits = (unsigned)(s[0] - '@') &
						(TT_PS_MUTED | TT_PS_DEAF | TT_PS_HOLD | TT_PS_HAND);
				if (bits)
					fake.api->participant_set_state(p, bits, true);
			}
			g_free(name);
		}
		s += len + 1;
	}
	struct sipgw gw = { .h = fake.h, .core = fake.api };
	/* the room may be one the core refused: the document is then empty, still well-formed */
	char *xml = tt__sip_conference_xml(&gw, room, entity, 1);
	check_doc(xml);
	g_free(xml);
	while (fake.held->len)
		f_hang_up(&fake, g_ptr_array_index(fake.held, fake.held->len - 1), "done");
	for (int i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
		;
	g_free(entity);
	su_home_unref(home);
	g_free(uri_text);
	return 0;
}
