/* conn.h: one IRC client connection: TCP or TLS, CAP negotiation, SASL, registration,
 * nick collisions, PING/PONG and lag, flood-paced sending, reconnect with backoff.
 * The relay bot and every puppet are one tt__irc_conn each.
 *
 * Thread: core thread only (the default GLib main context); callbacks run there too.
 * Ownership: the conn copies its configuration; messages passed to callbacks are borrowed
 * for the call. Callbacks must not free the conn (free it from an idle source instead). */
#ifndef TT_IRC_CONN_H
#define TT_IRC_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "line.h"

enum tt__irc_sasl {
	TT_IRC_SASL_NONE,
	TT_IRC_SASL_PLAIN,
	TT_IRC_SASL_EXTERNAL,
};

struct tt__irc_conn_cfg {
	const char *server;
	int port;
	bool tls;
	bool tls_verify;          /* false: any certificate is accepted (logged once) */
	const char *tls_ca;       /* PEM file: the only trust anchors; NULL: system store */
	const char *tls_cert;     /* client certificate (PEM), for SASL EXTERNAL */
	const char *tls_key;      /* its key; NULL: in tls_cert */
	enum tt__irc_sasl sasl;
	const char *sasl_user;    /* PLAIN: authentication id; NULL: the nick */
	const char *sasl_password;
	const char *nick;         /* wanted nick; collisions append digits */
	const char *username;
	const char *realname;
	int flood_burst;          /* lines */
	int flood_interval_ms;    /* one line per interval after the burst */
	int reconnect_min_ms;
	int reconnect_max_ms;
	int ping_interval_ms;     /* idle time before we PING the server */
	int ping_timeout_ms;      /* silence after which the link is dropped */
	int register_timeout_ms;  /* connect + TLS + CAP + SASL + 001 */
	int regain_ms;            /* registered under another nick: retry the wanted one this
				   * often (its holder may be our own ghost about to time out) */
	int queue_max;            /* queued lines beyond this are dropped (oldest first) and
				   * reported as undelivered */
	int ack_window;           /* bytes written but not yet confirmed by a PONG; 0: 4096 */
	int hold_ms;              /* text lines kept over a reconnect this long; 0: 60 s */
};

struct tt__irc_conn;

struct tt__irc_conn_ops {
	/* 001 arrived: the nick is final, channels may be joined. */
	void (*registered)(struct tt__irc_conn *c, void *arg);
	/* Every line except the ones the conn consumes itself (PING, PONG, CAP, AUTHENTICATE,
	 * SASL numerics). */
	void (*message)(struct tt__irc_conn *c, const struct tt__irc_msg *m, void *arg);
	/* The link dropped (err < 0) or ended after tt__irc_conn_quit() (err 0). After a drop
	 * the conn reconnects by itself after the backoff. */
	void (*closed)(struct tt__irc_conn *c, int err, void *arg);
	/* `lines` PRIVMSG/NOTICE lines to `target` will never be sent (the link stayed down
	 * past hold_ms, the queue overflowed, or the conn quit with lines waiting). May be
	 * NULL. The conn must not be freed from here either. */
	void (*undelivered)(struct tt__irc_conn *c, const char *target, unsigned lines,
			    int err, void *arg);
};

/* Copies cfg (strings included). Does not connect yet: see tt__irc_conn_start(). */
int tt__irc_conn_alloc(struct tt__irc_conn **cp, const struct tt__irc_conn_cfg *cfg,
		       const struct tt__irc_conn_ops *ops, void *arg);
/* Closes at once (no QUIT, no callbacks) and frees. NULL is fine. */
void tt__irc_conn_free(struct tt__irc_conn *c);

void tt__irc_conn_start(struct tt__irc_conn *c);
/* Sends QUIT (bypassing the flood queue), stops reconnecting, and closes when the server
 * does or after a short grace; then `closed` is called with 0. Text lines still waiting
 * are reported to `undelivered` first. */
void tt__irc_conn_quit(struct tt__irc_conn *c, const char *msg);

/* Queues one line (no CR LF) behind the flood bucket and the acknowledgement window
 * (see sendq.c). PRIVMSG and NOTICE lines survive a reconnect within hold_ms; other lines
 * belong to the link and go with it. -ENOTCONN when not connected,
 * -EINVAL when it holds NUL, CR or LF, -EMSGSIZE over 510 bytes. */
int tt__irc_conn_send(struct tt__irc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One received line (CR LF optional), handled as if read from the socket. The reader uses
 * it; tests and the fuzz target feed a conn directly with it. */
void tt__irc_conn_feed(struct tt__irc_conn *c, const char *line, size_t len);

bool tt__irc_conn_registered(const struct tt__irc_conn *c);
unsigned tt__irc_conn_queued(const struct tt__irc_conn *c);  /* lines waiting to be written */
bool tt__irc_conn_ended(const struct tt__irc_conn *c);  /* quit and closed */
const char *tt__irc_conn_nick(const struct tt__irc_conn *c);  /* current or wanted */
bool tt__irc_conn_has_cap(const struct tt__irc_conn *c, const char *cap);
/* An ISUPPORT (005) token's value ("" for a flag), or NULL when not announced. */
const char *tt__irc_conn_isupport(const struct tt__irc_conn *c, const char *key);
/* Last measured PING round trip, -1 before the first. */
int64_t tt__irc_conn_lag_ms(const struct tt__irc_conn *c);
/* Bytes left for `text` in "PRIVMSG target :text" as the server relays it with our
 * nick!user@host prefix (estimated generously until the server told us our host). */
int tt__irc_conn_text_budget(const struct tt__irc_conn *c, const char *target);

#endif
