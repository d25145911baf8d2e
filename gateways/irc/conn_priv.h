/* conn_priv.h: the inside of one IRC connection, shared by conn.c (sockets, TLS, timers,
 * reconnects), sendq.c (the paced send queue) and session.c (the protocol: CAP, SASL,
 * registration, nicks, PING/PONG, ISUPPORT). Not for use outside those files.
 *
 * Thread: core thread only. Ownership: a conn owns its current link; see struct link. */
#ifndef TT_IRC_CONN_PRIV_H
#define TT_IRC_CONN_PRIV_H

#include <gio/gio.h>

#include "conn.h"
#include "flood.h"

/* Tags allowed, 512 body: a read buffer of this size always holds one whole line. */
#define RBUF_SIZE (TT_IRC_TAGS_MAX + TT_IRC_LINE_MAX + 1)
#define QUIT_GRACE_MS 2000

enum tt__irc_conn_state {
	TT_IRC_ST_IDLE,         /* not started, or waiting for the reconnect timer */
	TT_IRC_ST_CONNECTING,   /* TCP connect and TLS handshake */
	TT_IRC_ST_REGISTERING,  /* CAP / SASL / NICK / USER until 001 */
	TT_IRC_ST_REGISTERED,
	TT_IRC_ST_QUITTING,     /* QUIT sent, waiting for the server to close */
	TT_IRC_ST_ENDED,
};

/* One attempt's I/O. Async callbacks hold a reference to their link, not to the conn:
 * when the conn drops the link (link->conn = NULL) late callbacks find it orphaned and
 * only release it, so a conn may be freed with operations still in flight. */
struct link {
	gint ref;
	struct tt__irc_conn *conn;
	GCancellable *cancel;
	GSocketConnection *sock;
	GIOStream *io;            /* sock, or the GTlsClientConnection wrapping it */
	char rbuf[RBUF_SIZE];
	size_t rlen;
	GString *wpending;        /* lines waiting for the in-flight write to finish */
	GString *winflight;       /* buffer of the write in flight, NULL when none */
};

struct tt__irc_conn {
	struct tt__irc_conn_cfg cfg;   /* strings owned (copied) */
	const struct tt__irc_conn_ops *ops;
	void *arg;
	enum tt__irc_conn_state state;
	struct link *link;
	unsigned attempt;              /* failures since the last registration */
	unsigned nick_attempt;         /* 433s during this registration */
	char *nick;                    /* current (after 001) or being tried */
	char *userhost;                /* "user@host" as the server shows us, or NULL */
	GHashTable *caps_offered;      /* name -> value ("" when none) */
	GHashTable *caps_on;           /* name -> name */
	GHashTable *isupport;          /* token -> value */
	bool sasl_done;
	/* sendq.c: lines waiting, written and unconfirmed, or kept over a reconnect */
	GQueue queue;                  /* struct tt__irc_qline * behind the bucket and window */
	GQueue unacked;                /* text lines written on this link, not yet confirmed */
	GQueue held;                   /* text lines of a dropped link, for the next one */
	guint held_timer;              /* hold_ms after the drop: held lines are given up */
	GQueue dropped;                /* lines the full queue pushed out, reported together */
	guint dropped_idle;            /* reports them from the loop, not from inside a send */
	int64_t tx_bytes;              /* paced bytes written on this link */
	int64_t acked_bytes;           /* of which the server has processed (PONG seen) */
	bool ack_pending;              /* an ack PING is queued or unanswered */
	int64_t ack_sent_us;           /* when it was written, 0 while queued */
	struct tt__irc_flood flood;
	guint flood_timer;
	guint reconnect_timer;
	guint ping_timer;
	guint deadline_timer;          /* registration or quit deadline */
	int64_t last_rx_us;
	int64_t ping_sent_us;          /* 0: no lag probe outstanding */
	int64_t lag_ms;
	int64_t regain_us;             /* last attempt to get cfg.nick back */
	bool warned_noverify;
};

/* One line of the send queue. `end` is tx_bytes after it was written. */
struct tt__irc_qline {
	char *line;
	int64_t end;
	bool text;                     /* PRIVMSG or NOTICE: kept over a reconnect */
	bool ack;                      /* our acknowledgement PING */
};

/* conn.c */
/* Straight to the socket, bypassing the flood bucket (PONG, QUIT, flushed queue lines). */
void tt__irc_conn_write_now(struct tt__irc_conn *c, const char *line);
/* The link failed or ended: close it, then reconnect after the backoff (or end, after QUIT). */
void tt__irc_conn_drop(struct tt__irc_conn *c, int err);
/* 0, -EINVAL (CR or LF inside) or -EMSGSIZE (over 510 bytes). */
int tt__irc_conn_check_line(const char *line);

/* sendq.c */
/* Queues a complete, checked line (taken over) and sends what the bucket allows. */
void tt__irc_sendq_push(struct tt__irc_conn *c, char *line);
/* Sends what the bucket and the acknowledgement window allow now. */
void tt__irc_sendq_flush(struct tt__irc_conn *c);
/* A PONG's token: true when it was our acknowledgement (lines before it are processed). */
bool tt__irc_sendq_pong(struct tt__irc_conn *c, const char *token);
/* A new link is up: empty window, full bucket. */
void tt__irc_sendq_link_up(struct tt__irc_conn *c);
/* The link dropped: unconfirmed and waiting text lines are held for hold_ms, the rest
 * (registration, JOIN, ...) is discarded. */
void tt__irc_sendq_link_lost(struct tt__irc_conn *c);
/* Registered again (after the owner's `registered` queued its JOINs): held lines follow. */
void tt__irc_sendq_resume(struct tt__irc_conn *c);
/* Quitting: reports every waiting and held text line to `undelivered`, then clears (the
 * lines already written go before the QUIT and count as delivered). */
void tt__irc_sendq_abandon(struct tt__irc_conn *c, int err);
/* Frees everything without a report (the conn is being freed). */
void tt__irc_sendq_clear(struct tt__irc_conn *c);
/* Milliseconds the oldest ack PING has been unanswered, -1 when none is out. */
int64_t tt__irc_sendq_ack_age_ms(const struct tt__irc_conn *c, int64_t now_us);

/* session.c */
/* Resets the per-link protocol state and sends CAP LS, NICK and USER. */
void tt__irc_session_begin(struct tt__irc_conn *c);
/* True when the message was consumed by the session (not for the owner). */
bool tt__irc_session_handle(struct tt__irc_conn *c, const struct tt__irc_msg *m);

#endif
