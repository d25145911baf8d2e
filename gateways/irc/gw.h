/* gw.h: the IRC gateway's internal objects, shared by gateway.c (descriptor, config,
 * lifecycle), relay.c (the bot: channels, members, text), puppet.c and commands.c.
 *
 * Thread: core thread only, like everything in a gateway.
 * Ownership: a gw owns its nets; a net owns its bot conn, chans, puppets; a chan owns its
 * members; a member owns one participant reference (p) until it leaves. */
#ifndef TT_IRC_GW_H
#define TT_IRC_GW_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <tutti/core.h>
#include <tutti/gateway.h>

#include "conn.h"

/* The descriptor's name: roster entries with this gateway are our own IRC members. */
#define TT_IRC_GW_NAME "irc"

enum tt__irc_mode { TT_IRC_RELAY, TT_IRC_PUPPET };
enum tt__irc_events { TT_IRC_EVENTS_ALL, TT_IRC_EVENTS_JOINS, TT_IRC_EVENTS_NONE };

struct tt__irc_gw {
	struct tt_gw_handle *gw;
	const struct tt_core_api *api;
	struct tt_core *core;
	GPtrArray *nets;          /* struct tt__irc_net * */
	bool stopping;
	/* on_meeting calls so far: commands.c tells "nothing to do" (the core changed
	 * nothing, so sent no event) from "done" (the event's notice is the answer). */
	unsigned meeting_events;
	/* meeting.c: the hang-ups a KICK or END event just announced (id NULL: the whole
	 * room), forgotten at the next idle: hang_up says nothing more for them. */
	char *quiet_hangup_room, *quiet_hangup_id;
	guint quiet_hangup_idle;
};

struct tt__irc_net {
	struct tt__irc_gw *gw;
	char *name;               /* "libera" of [irc.libera] */
	struct tt__irc_conn_cfg cfg;   /* strings owned by the net (the conns copy them) */
	enum tt__irc_mode mode;
	int puppet_limit;
	char *puppet_suffix;
	char *relay_format;
	char *action_format;
	enum tt__irc_events events;
	bool talking;
	int talking_interval_ms;
	bool operators_moderate;  /* channel operators are the room's moderators */
	struct tt__irc_conn *bot;
	GPtrArray *chans;         /* struct tt__irc_chan * */
	GHashTable *puppets;      /* participant id -> struct tt__irc_puppet * */
	GPtrArray *leaving;       /* puppets that sent QUIT, freed once closed */
	GHashTable *talk_last;    /* participant id -> int64_t * monotonic us of last notice */
	guint rejoin_timer;
	/* the bot's link, one labelled instance each (GET /api/gateways, /metrics) */
	uint64_t registrations;   /* 001 received: the link came up */
	uint64_t drops;           /* the link failed, up or coming up (a reconnect follows) */
	int64_t up_since_us;      /* monotonic, at the last 001; 0 while down */
	int64_t error_at_us;      /* monotonic, at the last drop; 0: none yet */
	int last_error;           /* negative errno of the last drop */
};

struct tt__irc_chan {
	struct tt__irc_net *net;
	char *name;               /* "#chan" */
	char *key;                /* NULL: none */
	char *room;
	bool joined;              /* the bot is in it */
	/* The channel's text medium in the room (core.h text_medium_open): its members speak
	 * through it, and room text reaches it, other IRC channels' included. NULL: the room
	 * refused it at start (no such room). */
	struct tt_text_medium *medium;
	bool told_away;           /* the room heard that text does not reach the channel now */
	GHashTable *members;      /* folded nick -> struct tt__irc_member * */
	GPtrArray *notice_joined, *notice_left;  /* notices.c: "name\0network" waiting */
	int64_t notice_since;     /* monotonic us when they started waiting */
	guint notice_timer;
};

struct tt__irc_member {
	struct tt__irc_chan *chan;
	char *nick;
	char *prefixes;           /* channel status prefixes, "@+" */
	struct tt_participant *p; /* NULL once hung up or if the room refused the join */
	/* The bridge made p a moderator because the member is a channel operator: losing +o
	 * takes it back; a moderator right granted elsewhere is left alone. */
	bool op_moderator;
	/* Hung up by the end of the meeting (not a kick): joins the room again once the end
	 * is over, since the channel stays bridged and its members are still in it. */
	bool ended;
};

struct tt__irc_puppet {
	struct tt__irc_net *net;
	char *pid;                /* the room participant it speaks for */
	char *room;
	struct tt__irc_conn *conn;
	GHashTable *joined;       /* folded channel names the puppet is in */
	guint free_idle;          /* pending free after QUIT completed */
};

/* gateway.c: parses a channels entry, "#chan=room" or "#chan=room:key" (new strings;
 * *key NULL when none). -EINVAL and nothing written when malformed. */
int tt__irc_chan_spec_parse(const char *spec, char **chan, char **room, char **key);

/* relay.c. Every channel is a shared text medium of its room: a line in it is posted once
 * and the core's text bus hands it to every other place in the room, other channels mapped
 * to the same room (on this network or another) included; nothing comes back to it. */
void tt__irc_relay_connect(struct tt__irc_net *net);
struct tt__irc_chan *tt__irc_chan_find(struct tt__irc_net *net, const char *name);
void tt__irc_chan_clear(struct tt__irc_chan *ch, int reason);
void tt__irc_member_free(gpointer data);
/* m (with no participant) joins ch's room again; false if the room refused. */
bool tt__irc_member_join(struct tt__irc_member *m);
/* Channel operator (+o) or above, from NAMES and MODE as the bot saw them. */
bool tt__irc_member_is_op(struct tt__irc_net *net, const struct tt__irc_member *m);
/* Is nick one of ours on this net (the bot or a puppet)? */
bool tt__irc_net_is_ours(struct tt__irc_net *net, const char *nick);
/* Room text out to one channel (on_medium_text), via the sender's puppet or the bot's relay
 * format. */
void tt__irc_say(struct tt__irc_chan *ch, const struct tt_text *msg);
/* The bot sends text (may hold newlines) to a channel as NOTICEs. */
void tt__irc_notice(struct tt__irc_chan *ch, const char *text);
void tt__irc_on_roster(struct tt__irc_net *net, const struct tt_roster_event *ev);
/* notices.c: a join or leave notice for ch; said at once while the bot's send queue is
 * empty, else gathered with the others and said together once it drains. */
void tt__irc_roster_notice(struct tt__irc_chan *ch, bool joined, const char *name,
			   const char *network);
void tt__irc_roster_notices_free(struct tt__irc_chan *ch);
/* A conn gave up on `lines` lines to `target` (err says why): the room of that channel
 * hears it as a notice, so the senders know their words did not reach IRC. */
void tt__irc_undelivered(struct tt__irc_net *net, const char *target, unsigned lines, int err);
/* Sends `text` to `target` over c as PRIVMSG (or ACTION, or NOTICE), each piece prefixed
 * by expanding `fmt` (NULL: no format), split to fit the line limit. */
void tt__irc_send_text(struct tt__irc_conn *c, const char *target, const char *fmt,
		       const char *name, const char *network, const char *room,
		       const char *text, size_t len, bool action, bool notice);

/* puppet.c */
bool tt__irc_puppet_add(struct tt__irc_net *net, const struct tt_roster_entry *who,
			const char *room);
void tt__irc_puppet_remove(struct tt__irc_net *net, const char *pid);
/* The puppet speaking for pid, when it is in channel `chan` and can speak now. */
struct tt__irc_puppet *tt__irc_puppet_ready(struct tt__irc_net *net, const char *pid,
					    const char *chan);
bool tt__irc_puppet_nick_is(struct tt__irc_net *net, const char *nick);
void tt__irc_puppet_free(gpointer data);

/* commands.c: true when text was a command for the bridge (then not relayed). */
bool tt__irc_command(struct tt__irc_chan *ch, struct tt__irc_member *from, const char *text);
/* The bot sends text to one nick as NOTICEs (replies meant for one person). */
void tt__irc_notice_to(struct tt__irc_net *net, const char *nick, const char *text);

/* meeting.c: the meeting on IRC. Channel operators as moderators (called whenever a
 * member's status prefixes or participant may have changed), the core's meeting events
 * as channel notices, raised hands, and the recording told to whoever joins while it runs. */
void tt__irc_member_sync_moderator(struct tt__irc_member *m);
void tt__irc_net_sync_moderators(struct tt__irc_net *net);
void tt__irc_on_meeting(struct tt__irc_gw *gw, const struct tt_meeting_event *ev);
/* ev is a TT_ROSTER_STATE event with TT_PS_HAND raised: the channels of its room hear it. */
void tt__irc_hand_notice(struct tt__irc_net *net, const struct tt_roster_event *ev);
/* Did a meeting event just say why pid in room is hung up? 0: no; 1: a kick; 2: the end
 * of the meeting (the member joins again at the next idle: tt__irc_member_join). */
int tt__irc_hangup_announced(struct tt__irc_gw *gw, const char *room, const char *pid);
/* nick just joined ch (a JOIN, not NAMES): told alone if a recording runs. */
void tt__irc_recording_tell_joiner(struct tt__irc_chan *ch, const char *nick);
/* The bot is in ch again: the channel hears that a recording runs, if one does. */
void tt__irc_recording_tell_channel(struct tt__irc_chan *ch);
/* "recording since 14:05 UTC" style text of a running recording, or NULL (g_free). */
char *tt__irc_recording_text(struct tt__irc_gw *gw, const char *room);

/* doors.c: every bridged channel of `room` as an irc:// or ircs:// door (gateway.h doors). */
void tt__irc_doors(struct tt__irc_gw *gw, const char *room, tt_door_h fn, void *arg);

#endif
