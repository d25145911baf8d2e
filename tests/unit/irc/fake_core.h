/* fake_core.h: an in-process stand-in for the core (struct tt_core_api) and the config
 * accessors, so the gateway runs in unit tests before and without the real bridge.
 * Thread: the test's main thread only. Strings returned are owned by the fake. */
#ifndef TT_IRC_FAKE_CORE_H
#define TT_IRC_FAKE_CORE_H

#include <glib.h>
#include <tutti/core.h>
#include <tutti/gateway.h>

/* A text medium (text_medium_open): a channel in a room. */
struct fake_medium {
	char *room;
	void *data;
	bool open;
};

struct fake_p {
	char *id, *name, *room, *network, *gateway;
	unsigned caps, state;
	void *gw_data;
	struct fake_medium *medium;   /* tt_join.medium */
	bool alive;
	int kicked;
	uint32_t hand_seq;
};

/* Text is delivered as the core's bus would: to every open medium of the room but the one
 * it came from (on_medium_text), synchronously within text_post. */
struct fake_core {
	GPtrArray *parts;      /* struct fake_p *, all ever created */
	GPtrArray *posted;     /* "name|flags|text" */
	GPtrArray *watched;    /* room names (room_watch, and each open medium, as in the core) */
	GPtrArray *media;      /* struct fake_medium *, all ever opened */
	const struct tt_gateway *gw_desc;
	void *gw_state;
	/* The meeting, as the core keeps it (one room's worth is enough for the tests). */
	bool locked;
	bool recording;               /* set by a test: room_info says so */
	int64_t recording_since_us;
	uint32_t hand_next;
	GPtrArray *meeting;           /* "action by target" of every on_meeting sent */
};

extern struct fake_core fake;
extern const struct tt_core_api fake_api;

/* Frees every participant, record and the configuration (between fuzz inputs). */
void fake_reset(void);
/* Loads an INI text as the configuration the tt_conf_* accessors read. */
void fake_conf_load(const char *ini);
const struct tt_conf *fake_conf(void);
struct tt_gw_handle *fake_gw(void);

/* A participant of another gateway (a phone user), announced to the IRC gateway. */
struct fake_p *fake_voice_join(const char *room, const char *name);
void fake_voice_leave(struct fake_p *p);
/* Sets or clears state bits (TALKING too, as the mixer would) and sends the roster event. */
void fake_set_state(struct fake_p *p, unsigned bits, bool on);
/* Room text from p (another gateway's) as the core would deliver it to the IRC gateway:
 * once to each of its open media in p's room. */
void fake_say(struct fake_p *p, const char *text, unsigned flags);
/* The live participant of gateway "irc" called name in room, or NULL. */
struct fake_p *fake_find_irc(const char *room, const char *name);
/* A meeting event from outside the gateway (an admin, another network), sent to the
 * gateway's on_meeting as the core would: by a participant, or (by NULL) by `admin`
 * ("admin": the admin API; NULL: the bridge itself). */
void fake_meeting(enum tt_mod_action a, const char *room, struct fake_p *by,
		  const char *admin, struct fake_p *target);
/* How many texts "name|flags|text" were posted. */
int fake_posted_count(const char *entry);

#endif
