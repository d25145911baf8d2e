/* muc_env.h: the XMPP gateway's MUC service over the fake core, with a capture in place of
 * the component stream: what the gateway sends is serialised (as conn.c would) and parsed
 * back for the test to read. Thread: the test's main thread only. */
#ifndef TT_XMPP_MUC_ENV_H
#define TT_XMPP_MUC_ENV_H

#include "fake_core.h"
#include "xmpp_priv.h"

#define ENV_DOMAIN "conference.test"

struct muc_env {
	struct xg_gw gw;
	GPtrArray *sent;        /* xmpp_stanza_t *, parsed back from what was sent */
	GPtrArray *sent_text;   /* char *, the same serialised */
};

extern struct muc_env env;

/* Starts the gateway's MUC on the fake core with [xmpp] rows + `ini` (NULL: defaults). */
void env_up(const char *ini);
void env_down(void);
/* One stanza (printf format) into xg_stanza_in, as a stream would hand it over. Returns
 * false when libstrophe cannot parse it (nothing is handed over then). */
bool env_in(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void env_clear(void);
/* The i-th stanza sent since the last clear, or NULL. */
xmpp_stanza_t *env_sent(guint i);
guint env_count(void);
/* The first stanza sent to `to` with name `name` (and type `type`, "" for none, NULL any)
 * at or after index *from (updated to its index + 1), or NULL. */
xmpp_stanza_t *env_find(guint *from, const char *name, const char *type, const char *to,
			const char *from_jid);
/* Status codes of a MUC presence, "110,210" in order. New string. */
char *env_codes(xmpp_stanza_t *st);
/* The error condition's element name of an error stanza, or NULL. */
const char *env_error(xmpp_stanza_t *st);
/* Text of the child `name` (body, subject, status), or NULL. New string. */
char *env_child_text(xmpp_stanza_t *st, const char *name);
/* Joins nick from jid to room (password NULL: none); returns env_count() before it. */
guint env_join(const char *room, const char *nick, const char *jid, const char *password);

#endif
