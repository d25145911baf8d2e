/* fake_core.h: an in-process stand-in for the core (struct tt_core_api) for the XMPP
 * gateway's unit tests and fuzz target: rooms with PINs, locks and limits, names made unique
 * as the core makes them, roster events and a text bus with media, as the core delivers
 * them. Thread: the test's main thread only. Strings returned are owned by the fake. */
#ifndef TT_XMPP_FAKE_CORE_H
#define TT_XMPP_FAKE_CORE_H

#include <glib.h>
#include <tutti/core.h>
#include <tutti/gateway.h>

struct fake_medium {
	char *room;
	void *data;
	bool open;
};

struct fake_p {
	char *id, *name, *room, *network, *gateway;
	unsigned caps, state;
	uint32_t hand_seq;
	void *gw_data;
	struct fake_medium *medium;
	bool alive;
	int left_reason;
};

/* A room's settings (rooms not set are made on demand unless on_demand is false). */
struct fake_room {
	char *name, *pin;
	char *mod_pin;         /* joining with it makes a moderator (fake_room_mod_pin) */
	bool locked;
	int max;
};

/* What the fake calls back: the gateway under test. */
struct fake_gw_ops {
	void *state;
	void (*on_roster)(void *state, const struct tt_roster_event *ev);
	void (*on_medium_text)(void *state, void *data, const struct tt_text *msg);
	void (*hang_up)(void *state, struct tt_participant *p, const char *why);
	void (*on_meeting)(void *state, const struct tt_meeting_event *ev);
};

struct fake_core {
	GPtrArray *parts;      /* struct fake_p *, all ever created */
	GPtrArray *posted;     /* "name|flags|text" */
	GPtrArray *media;      /* struct fake_medium *, all ever opened */
	GPtrArray *rooms;      /* struct fake_room * */
	bool on_demand;
	struct fake_gw_ops gw;
	struct tt_conf *conf;
	/* meetings: moderate as the core does it (right checked, event, then states) */
	bool can_record;       /* false: RECORD_START is -ENOTSUP */
	bool recording;
	bool recording_decline;   /* room key: NO_RECORD may be set (else -EPERM) */
	bool self_unmute;         /* room key (true): false refuses clearing a moderator's mute */
	uint32_t hand_next;
	GPtrArray *moderated;  /* "actor|action|target|reason" of every moderate call */
};

extern struct fake_core fake;
extern const struct tt_core_api fake_api;

/* A fresh fake with `ini` as the configuration (the gateway's rows and [room.*] pin), or
 * frees everything (ini NULL). */
void fake_reset(const struct tt_conf_key *gw_rows, const char *ini);
struct tt_gw_handle *fake_gw(void);
struct tt_core *fake_core_of(void);
void fake_room_set(const char *name, const char *pin, bool locked, int max);
/* The moderator PIN of a room set with fake_room_set. */
void fake_room_mod_pin(const char *name, const char *pin);
/* A meeting event as the core would send it (by: NULL for the admin API). */
void fake_meeting(const char *room, enum tt_mod_action a, struct fake_p *by,
		  struct fake_p *target, const char *reason);

/* A participant of another gateway ("test", network `network`), announced by roster. */
struct fake_p *fake_other_join(const char *room, const char *name, const char *network);
void fake_other_leave(struct fake_p *p);
/* Sets or clears state bits (TALKING too, as the mixer would) and sends the roster event. */
void fake_set_state(struct fake_p *p, unsigned bits, bool on);
/* Sets p's caps as audio_add / audio_remove do, with their roster event (caps_changed). */
void fake_set_caps(struct fake_p *p, unsigned caps);
/* Room text from p (another gateway's) as the bus delivers it to every open medium. */
void fake_say(struct fake_p *p, const char *text, unsigned flags);
void fake_notice(const char *room, const char *text);
/* The live participant called name in room, or NULL. */
struct fake_p *fake_find(const char *room, const char *name);
int fake_posted_count(const char *entry);
/* Open media in room. */
int fake_media_open(const char *room);
int fake_alive_count(const char *room);

#endif
