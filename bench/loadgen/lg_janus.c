/* lg_janus.c: the same load against Janus AudioBridge (--janus URL): one session over the
 * Janus HTTP transport, one janus.plugin.audiobridge handle per participant, each joined as a
 * plain RTP participant. The JSON builders and parsers are separate pure functions so the
 * unit test can check them without a Janus.
 *
 * What Janus 1.1.2 does with a plain RTP participant (found on loopback, see
 * docs/benchmarks.md): the join answer is an asynchronous "joined" event carrying
 * "rtp": {"ip","port","payload_type"}; its socket is connect()ed to the address we signal, so
 * packets from any other source are dropped (no latching); it sends nothing until our first
 * packet arrives; it then sends the mix every 20 ms with the payload type we gave in the join,
 * silence included; and every join is announced to every other handle of the session, so the
 * session's event queue grows O(N^2) during set-up: we drain it at every long poll. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lg.h"

#define POLL_MAXEV 100000     /* drain the whole queue at each long poll */
#define JOIN_TIMEOUT_S 20

struct lg_janus {
	char url[256];        /* "http://127.0.0.1:8088" */
	char base[64];        /* "/janus" */
	uint64_t session, control, room;
	unsigned long txn;
};

/* ---- pure pieces ---- */

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

char *lg_janus_msg(const char *verb, const char *transaction, const char *body_json)
{
	json_t *o = json_pack("{s:s,s:s}", "janus", verb, "transaction", transaction);
	if (o && body_json) {
		json_t *b = json_loads(body_json, 0, NULL);
		if (!b) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, "body", b);
	}
	return dump(o);
}

char *lg_janus_room_body(uint64_t room, int rate)
{
	/* audiolevel_event off: talking events would go to every handle of our one session,
	 * and nothing drains that queue during the measured window. */
	return dump(json_pack("{s:s,s:I,s:i,s:b,s:b,s:b,s:b}", "request", "create", "room",
			      (json_int_t)room, "sampling_rate", rate, "allow_rtp_participants", 1,
			      "audiolevel_ext", 1, "audiolevel_event", 0, "permanent", 0));
}

char *lg_janus_join_body(uint64_t room, const char *display, const char *ip, uint16_t port,
			 int pt, int ext_id)
{
	json_t *rtp = json_pack("{s:s,s:i,s:i,s:b}", "ip", ip, "port", (int)port, "payload_type",
				pt, "fec", 0);
	if (rtp && ext_id > 0)
		json_object_set_new(rtp, "audiolevel_ext", json_integer(ext_id));
	return dump(json_pack("{s:s,s:I,s:s,s:o}", "request", "join", "room", (json_int_t)room,
			      "display", display, "rtp", rtp));
}

int lg_janus_parse_success(const char *reply, uint64_t *id)
{
	json_t *o = json_loads(reply, 0, NULL);
	const char *j = NULL;
	json_int_t v = 0;
	int err = -EPROTO;
	if (o && json_unpack(o, "{s:s,s:{s:I}}", "janus", &j, "data", "id", &v) == 0 &&
	    !strcmp(j, "success") && v > 0) {
		*id = (uint64_t)v;
		err = 0;
	}
	json_decref(o);
	return err;
}

/* One event of a long poll: 0 and the rtp address when it is the "joined" answer to
 * transaction, -EPROTO when it is an error answer to it, -EAGAIN otherwise. */
static int joined_event(json_t *ev, const char *transaction, char *ip, size_t ipcap,
			uint16_t *port, int *pt)
{
	const char *t = NULL, *what = NULL, *rip = NULL;
	json_t *data = NULL;
	int rport = 0, rpt = -1;
	if (json_unpack(ev, "{s:s,s:{s:o}}", "transaction", &t, "plugindata", "data", &data) ||
	    strcmp(t, transaction) != 0)
		return -EAGAIN;
	if (json_unpack(data, "{s:s}", "audiobridge", &what) || strcmp(what, "joined") != 0 ||
	    json_unpack(data, "{s:{s:s,s:i,s?i}}", "rtp", "ip", &rip, "port", &rport,
			"payload_type", &rpt) || rport <= 0 || rport > 65535 ||
	    strlen(rip) >= ipcap)
		return -EPROTO;
	snprintf(ip, ipcap, "%s", rip);
	*port = (uint16_t)rport;
	*pt = rpt;
	return 0;
}

int lg_janus_find_joined(const char *events, const char *transaction, char *ip, size_t ipcap,
			 uint16_t *port, int *pt)
{
	json_t *o = json_loads(events, 0, NULL);
	int err = -EAGAIN;
	if (!o)
		return -EINVAL;
	if (json_is_array(o)) {
		size_t i;
		json_t *ev;
		json_array_foreach(o, i, ev) {
			err = joined_event(ev, transaction, ip, ipcap, port, pt);
			if (err != -EAGAIN)
				break;
		}
	} else {
		err = joined_event(o, transaction, ip, ipcap, port, pt);
	}
	json_decref(o);
	return err;
}

/* ---- talking to Janus ---- */

static int request(struct lg_janus *j, const char *method, const char *path, const char *body,
		   char **reply)
{
	struct lg_http_resp r = {0};
	int err = lg_http_request(j->url, NULL, method, path, body, &r);
	if (err) {
		fprintf(stderr, "janus %s %s: %s\n", method, path, strerror(-err));
		return err;
	}
	if (r.status != 200) {
		fprintf(stderr, "janus %s %s: HTTP %d %s\n", method, path, r.status, r.body);
		free(r.body);
		return -EPROTO;
	}
	*reply = r.body;
	return 0;
}

/* POST a message (body_json may be NULL) to path; the reply text in *reply. */
static int post(struct lg_janus *j, const char *path, const char *verb, const char *body_json,
		char *txn, size_t txncap, char **reply)
{
	snprintf(txn, txncap, "lg%lu", ++j->txn);
	char *msg = lg_janus_msg(verb, txn, body_json);
	if (!msg)
		return -ENOMEM;
	int err = request(j, "POST", path, msg, reply);
	free(msg);
	return err;
}

static int attach(struct lg_janus *j, uint64_t *handle)
{
	char path[128], txn[32], *rep = NULL;
	snprintf(path, sizeof path, "%s/%" PRIu64, j->base, j->session);
	/* attach carries "plugin" at the top level, not in a body */
	snprintf(txn, sizeof txn, "lg%lu", ++j->txn);
	char *msg = dump(json_pack("{s:s,s:s,s:s}", "janus", "attach", "plugin",
				   "janus.plugin.audiobridge", "transaction", txn));
	if (!msg)
		return -ENOMEM;
	int err = request(j, "POST", path, msg, &rep);
	free(msg);
	if (!err && lg_janus_parse_success(rep, handle)) {
		fprintf(stderr, "janus attach: %s\n", rep);
		err = -EPROTO;
	}
	free(rep);
	return err;
}

int lg_janus_open(struct lg_janus **jp, const char *url, uint64_t room, int rate)
{
	struct lg_janus *j = calloc(1, sizeof *j);
	char txn[32], path[128], *rep = NULL, *body = NULL;
	int err = -ENOMEM;
	if (!j)
		return err;
	/* "http://host:port/janus" -> url + base path */
	const char *p = strncmp(url, "http://", 7) ? NULL : strchr(url + 7, '/');
	snprintf(j->url, sizeof j->url, "%.*s", p ? (int)(p - url) : (int)strlen(url), url);
	snprintf(j->base, sizeof j->base, "%s", p && p[1] ? p : "/janus");
	j->room = room;
	err = post(j, j->base, "create", NULL, txn, sizeof txn, &rep);
	if (!err && lg_janus_parse_success(rep, &j->session))
		err = -EPROTO;
	free(rep);
	rep = NULL;
	if (!err)
		err = attach(j, &j->control);
	if (err)
		goto out;
	body = lg_janus_room_body(room, rate);
	snprintf(path, sizeof path, "%s/%" PRIu64 "/%" PRIu64, j->base, j->session, j->control);
	err = body ? post(j, path, "message", body, txn, sizeof txn, &rep) : -ENOMEM;
	if (!err && !strstr(rep, "\"created\"")) {
		fprintf(stderr, "janus create room: %s\n", rep);
		err = -EPROTO;
	}
out:
	free(body);
	free(rep);
	if (err)
		lg_janus_close(j);
	else
		*jp = j;
	return err;
}

int lg_janus_join(struct lg_janus *j, const char *display, const char *ip, uint16_t port,
		  int pt, int ext_id, char *remote, size_t cap, int *rpt)
{
	uint64_t handle = 0;
	char path[128], txn[32], *rep = NULL, rip[64];
	uint16_t rport = 0;
	int err = attach(j, &handle);
	if (err)
		return err;
	char *body = lg_janus_join_body(j->room, display, ip, port, pt, ext_id);
	snprintf(path, sizeof path, "%s/%" PRIu64 "/%" PRIu64, j->base, j->session, handle);
	err = body ? post(j, path, "message", body, txn, sizeof txn, &rep) : -ENOMEM;
	free(body);
	free(rep);
	if (err)
		return err;
	/* The answer is an event: long-poll the session until it shows up, draining the
	 * other handles' notifications on the way. */
	snprintf(path, sizeof path, "%s/%" PRIu64 "?maxev=%d", j->base, j->session, POLL_MAXEV);
	time_t deadline = time(NULL) + JOIN_TIMEOUT_S;
	err = -EAGAIN;
	while (err == -EAGAIN && time(NULL) < deadline) {
		rep = NULL;
		if ((err = request(j, "GET", path, NULL, &rep)) == 0)
			err = lg_janus_find_joined(rep, txn, rip, sizeof rip, &rport, rpt);
		if (rep && (err == -EPROTO || err == -EINVAL))
			fprintf(stderr, "janus join %s: %.300s\n", display, rep);
		free(rep);
	}
	if (err)
		return err == -EAGAIN ? -ETIMEDOUT : err;
	snprintf(remote, cap, "%s:%u", rip, rport);
	return 0;
}

int lg_janus_keepalive(struct lg_janus *j)
{
	char path[128], txn[32], *rep = NULL;
	snprintf(path, sizeof path, "%s/%" PRIu64, j->base, j->session);
	int err = post(j, path, "keepalive", NULL, txn, sizeof txn, &rep);
	if (!err && !strstr(rep, "\"ack\""))
		err = -EPROTO;
	free(rep);
	return err;
}

void lg_janus_close(struct lg_janus *j)
{
	char path[128], txn[32], *rep = NULL;
	if (!j)
		return;
	if (j->session && j->control) {
		char *body = dump(json_pack("{s:s,s:I}", "request", "destroy", "room",
					    (json_int_t)j->room));
		snprintf(path, sizeof path, "%s/%" PRIu64 "/%" PRIu64, j->base, j->session,
			 j->control);
		if (body && post(j, path, "message", body, txn, sizeof txn, &rep) == 0)
			free(rep);
		free(body);
	}
	if (j->session) {
		/* Destroying the session detaches every handle: the participants leave. */
		snprintf(path, sizeof path, "%s/%" PRIu64, j->base, j->session);
		rep = NULL;
		if (post(j, path, "destroy", NULL, txn, sizeof txn, &rep) == 0)
			free(rep);
	}
	free(j);
}
