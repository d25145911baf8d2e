/* gateway.h: what a gateway is. A gateway is one const descriptor of function pointers,
 * first field the API version; the core checks version and mandatory operations when it
 * registers the gateway and refuses it otherwise (the daemon then does not start).
 *
 * Lifecycle, all on the core thread:
 *   start(gw, core, conf, &state)  -> 0, or negative errno (the daemon refuses to start)
 *   ... on_text_to / on_medium_text / on_roster / hang_up / reload as things happen ...
 *   stop(state)                   begin hanging up politely; may return before done
 *   stopped(state)                optional; the core keeps its loop running (<= 1.5 s)
 *                                 until every gateway says true
 *   free(state)                   release everything; no callbacks after this
 * A gateway whose section says enabled = false is not started at all.
 *
 * Ownership: every pointer the core passes into a callback is borrowed for that call only. */
#ifndef TUTTI_GATEWAY_H
#define TUTTI_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <tutti/conf.h>
#include <tutti/core.h>
#include <tutti/stats.h>

/* 2: text by origin (on_text_to, on_medium_text); 3: the optional statistics
 * (stat_fields, stats_size, stats); 4: the optional check_config; 5: the optional
 * on_meeting and doors (meetings, issue 16); 6: the optional labelled instances
 * (instance_label, instance_stat_fields, instance_stats_size, instances: one IRC network's
 * link, issue 17) */
#define TT_GATEWAY_API_VERSION 6

enum tt_gw_flags {
	/* 1 << 0 was TT_GW_SHARED_TEXT (API version 1): shared media say it now, per medium
	 * (text_medium_open in core.h). */
	/* Hidden from the default build's tables (test gateways). */
	TT_GW_TEST_ONLY   = 1 << 1,
};

/* One labelled instance (see tt_gateway.instances): `label_value` and `stats` are borrowed
 * for the call. */
typedef void (*tt_gw_instance_h)(void *arg, const char *label_value, const void *stats);

struct tt_gateway {
	unsigned api_version;             /* TT_GATEWAY_API_VERSION: mandatory */
	const char *name;                 /* "sip", "irc": mandatory, [a-z0-9_]+ */
	const char *network;              /* roster label: "phone", "web", "irc": mandatory */
	unsigned flags;                   /* enum tt_gw_flags */
	/* Config rows, terminated by a row with key == NULL. The sections must be the
	 * gateway's name, or "NAME.*" templates. May be NULL. */
	const struct tt_conf_key *conf_keys;

	/* mandatory */
	int (*start)(struct tt_gw_handle *gw, const struct tt_core_api *core,
		     const struct tt_conf *conf, void **statep);
	void (*stop)(void *state);
	void (*free)(void *state);
	/* The core asks the gateway to end p (kick, room ended, shutdown). The gateway says
	 * goodbye on its network and calls participant_leave(p) (now or soon). mandatory */
	void (*hang_up)(void *state, struct tt_participant *p, const char *why);

	/* optional */
	bool (*stopped)(void *state);
	/* Every line of every room the gateway is present in, once, its own participants'
	 * included: for gateways that watch rather than show text to people (the test
	 * gateway; a chat log). A gateway that shows text to people uses on_text_to or
	 * on_medium_text, so that the bus keeps lines from going back where they came from. */
	void (*on_text)(void *state, const struct tt_text *msg);
	void (*on_roster)(void *state, const struct tt_roster_event *ev);
	/* A DTMF digit ('0'-'9', '*', '#', 'A'-'D') arrived in p's audio (RFC 4733). */
	void (*on_dtmf)(void *state, struct tt_participant *p, char digit);
	/* New configuration (SIGHUP). Return 0 if applied, or -EPERM after logging which keys
	 * need a restart. `conf` is borrowed until the next reload or free. */
	int (*reload)(void *state, const struct tt_conf *conf);

	/* ---- text by origin (optional; bridge/textbus/textbus.h says why this shape) ---- */
	/* Room text for one of the gateway's own participants (`to`, borrowed for the call):
	 * point-to-point networks (a web page, a SIP dialog) show each person what the others
	 * wrote. Called once per participant with TT_CAP_TEXT in the room, never for the
	 * sender, one waiting in the PIN lobby, or one joined through a shared medium. */
	void (*on_text_to)(void *state, struct tt_participant *to, const struct tt_text *msg);
	/* Room text for one of the gateway's shared media (core.h text_medium_open), with the
	 * data given there; never for the medium the line came from. Needed to open media. */
	void (*on_medium_text)(void *state, void *medium_data, const struct tt_text *msg);

	/* Optional statistics: the gateway's own counters, shown by GET /api/gateways (and
	 * readable by a /metrics endpoint from the same table). `stats` fills `out`, a
	 * zeroed struct of stats_size bytes that stat_fields (tutti/stats.h, NULL-terminated)
	 * describes; it is called when the API is read, on the core thread, only while the
	 * gateway runs. All three or none; the table is checked at registration. */
	const struct tt_stat_field *stat_fields;
	size_t stats_size;
	void (*stats)(void *state, void *out);

	/* Optional (API 4): checks that need more than one row's type and bounds (a key that
	 * another makes required, two keys that must differ), on a config that loaded. Called
	 * by --check-config for an enabled gateway, and by the core before `start` (which
	 * then does not run: the core logs each line), on the main thread. Returns 0, or
	 * -EINVAL with *errors a
	 * new string (g_free) of lines "FILE:LINE: [section] key: problem\n". Needs
	 * conf_keys (checked at registration). */
	int (*check_config)(const struct tt_conf *conf, char **errors);

	/* ---- meetings (optional, API 5) ---- */
	/* A meeting event (core.h struct tt_meeting_event) in a room the gateway is present in
	 * (its participants' own gateway included): show it on the network (a notice, a
	 * prompt, a banner, a MUC role). Roster events for the states it changed follow. */
	void (*on_meeting)(void *state, const struct tt_meeting_event *ev);
	/* The ways into `room` this gateway offers (core.h struct tt_door): fn once per door,
	 * synchronously; none is fine (a gateway with no address of its own). */
	void (*doors)(void *state, const char *room, tt_door_h fn, void *arg);

	/* ---- labelled instances (optional, API 6) ---- */
	/* Statistics of the things a gateway has several of, told apart by one label (IRC:
	 * "network", one per [irc.NAME]): /metrics shows each numeric row of
	 * instance_stat_fields once per instance, as
	 * tutti_gateway_NAME_[GROUP_]FIELD{LABEL="value"}, and GET /api/gateways lists them.
	 * `instances` calls fn synchronously once per instance, with the label's value and a
	 * struct of instance_stats_size bytes described by the table (both borrowed for that
	 * call); on the core thread, when the API is read, only while the gateway runs. Keep
	 * the set stable (an instance per configured thing, down or up): a series that
	 * vanishes reads as "no data". All four or none; checked at registration, where a row
	 * named like one of stat_fields is refused (the two would make one metric name). */
	const char *instance_label;       /* [a-z_][a-z0-9_]*, not "gateway" */
	const struct tt_stat_field *instance_stat_fields;
	size_t instance_stats_size;
	void (*instances)(void *state, tt_gw_instance_h fn, void *arg);
};

#endif
