/* irc_env.h: real ngircd servers and raw IRC clients for gateway tests, all driven from
 * the test's main loop. Thread: the test's main thread only. */
#ifndef TT_IRC_ENV_H
#define TT_IRC_ENV_H

#include <gio/gio.h>
#include <stdbool.h>

struct ngircd {
	GPid pid;
	int port;           /* plain IRC */
	int tls_port;       /* TLS, when started with tls */
	char *dir;
	bool tls;
};

/* Starts ngircd on 127.0.0.1 (a free port unless port > 0) in a new temp dir; with tls,
 * also a TLS port with a self-signed certificate for 127.0.0.1 (dir/ca.pem). A second
 * start with the same struct restarts it on the same ports. Skips the test when
 * ngircd or openssl is missing. */
void ngircd_start(struct ngircd *s, int port, bool tls);
void ngircd_stop(struct ngircd *s);
/* Stops it and removes its temp dir. */
void ngircd_free(struct ngircd *s);

struct rawc {
	GIOStream *conn;    /* holds the socket open */
	GSocket *sock;
	GString *buf;
	GPtrArray *lines;   /* every line received, in order */
	char *nick;
};

/* Connects and registers (waits for 001). */
void rawc_connect(struct rawc *c, int port, const char *nick);
void rawc_send(struct rawc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs the main loop until a line received after index *from contains every given
 * substring (NULL-terminated); returns it, and sets *from past it. Fails after timeout_s. */
const char *rawc_wait(struct rawc *c, guint *from, int timeout_s, ...)
	__attribute__((sentinel));
/* Count of received lines containing `sub`. */
int rawc_count(struct rawc *c, const char *sub);
void rawc_close(struct rawc *c);
/* Closes and releases everything (the struct itself is the caller's). */
void rawc_free(struct rawc *c);

/* Runs the main loop (and reads raw clients) for up to timeout_s until cond(arg). */
bool pump_until(bool (*cond)(void *), void *arg, int timeout_s);
void pump_for_ms(int ms);
void pump_register(struct rawc *c);   /* raw clients read while pumping */

#endif
