/* jingle_fake.h: the jingle files of the XMPP gateway alone, on a fake core: a struct
 * xg_gw whose send captures stanzas as text, and a core API that records joins, legs,
 * candidates and credentials instead of making media. Single-threaded test code. */
#ifndef XG_JINGLE_FAKE_H
#define XG_JINGLE_FAKE_H

#include "jingle_priv.h"

struct tt_participant {
	char id[16];
	char name[64];
	char room[64];
	unsigned caps;
	bool left;
	int refs;
	unsigned state;
	void *gw_data;
	bool has_leg;
	struct tt_audio_leg leg;      /* as attached */
	tt_audio_attached_h cb;       /* the attach result, run by fake_attach_done */
	void *cb_arg;
	GPtrArray *cands;             /* remote candidates given (strings) */
	char cred_ufrag[65];          /* from audio_ice_credentials */
	tt_audio_ended_h ended;       /* from audio_add */
	void *ended_arg;
	bool added;                   /* audio_add'ed */
};

struct fake {
	struct xg_gw gw;
	GPtrArray *sent;              /* stanzas sent, as text */
	struct tt_participant *parts[8];
	unsigned n_parts;
	struct tt_participant *occupant;   /* xg_muc_occupant_by_jid's answer */
	int room_rc;                  /* room_check's answer */
};

extern struct fake F;

void fake_setup(void);
void fake_teardown(void);
/* Feed a stanza (XML text) to the gateway's jingle side as if it came from the server. */
void fake_in(const char *xml);
/* The i-th stanza sent (from 0), or NULL; and whether any sent since `from` has `needle`. */
const char *fake_sent(unsigned i);
int fake_find(unsigned from, const char *needle);   /* index, or -1 */
/* Finish p's pending attach with our credentials. */
void fake_attach_done(struct tt_participant *p, int err);
struct tt_participant *fake_occupant(const char *name);
/* Whether xml has an element `name` with every "k=v" of attrs (";"-separated; "xmlns=..."
 * is the namespace) and, if text is not NULL, that text; whatever the attribute order. */
bool xml_has(const char *xml, const char *name, const char *attrs, const char *text);
/* The first stanza sent since `from` that has such an element, or -1. */
int fake_find_el(unsigned from, const char *name, const char *attrs);

#endif
