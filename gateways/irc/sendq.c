/* sendq.c: one connection's paced send queue. Three limits keep a server from killing the
 * bridge for flooding, whatever its flood settings:
 *  - a token bucket (flood_burst lines at once, then one per flood_interval), so a server
 *    that counts commands per second (InspIRCd's fakelag, Solanum) is not pushed past it;
 *  - an acknowledgement window: at most ack_window bytes written that the server has not
 *    yet processed. Servers handle one client's lines in order, so the PONG to a
 *    "PING :tutti-ack-N" we queue behind our lines says the first N bytes are processed;
 *    a server that holds our lines back (fakelag) answers late and we wait, so its
 *    receive queue ("RecvQ exceeded") never holds more than the window, at any rate the
 *    server chooses and however long the lines are;
 *  - a bound on the queue itself (queue_max).
 * PRIVMSG and NOTICE lines are the room's words: when the link drops, the ones not yet
 * confirmed and the ones waiting are held and sent again after the next registration
 * (after the owner's JOINs), or reported to `undelivered` when that takes longer than
 * hold_ms. Everything else belongs to the link (NICK, JOIN, CAP...) and goes with it. */
#define TT_LOG_DOMAIN "irc"
#include <stdlib.h>
#include <string.h>
#include <tutti/errno.h>
#include <tutti/log.h>

#include "conn_priv.h"

#define ACK_PREFIX "tutti-ack-"

static struct tt__irc_qline *qline_new(char *line)
{
	struct tt__irc_qline *q = g_new0(struct tt__irc_qline, 1);
	q->line = line;
	q->text = g_str_has_prefix(line, "PRIVMSG ") || g_str_has_prefix(line, "NOTICE ");
	return q;
}

static void qline_free(gpointer data)
{
	struct tt__irc_qline *q = data;
	g_free(q->line);
	g_free(q);
}

/* "PRIVMSG #chan :text" -> "#chan" (new string). */
static char *qline_target(const struct tt__irc_qline *q)
{
	const char *t = strchr(q->line, ' ');
	if (!t)
		return g_strdup("");
	t++;
	const char *e = strchr(t, ' ');
	return e ? g_strndup(t, (gsize)(e - t)) : g_strdup(t);
}

/* One `undelivered` call per target, in first-seen order; the lines are freed. */
static void report(struct tt__irc_conn *c, GQueue *lines, int err)
{
	GPtrArray *targets = g_ptr_array_new_with_free_func(g_free);
	GArray *counts = g_array_new(FALSE, TRUE, sizeof(unsigned));
	struct tt__irc_qline *q;
	while ((q = g_queue_pop_head(lines))) {
		if (q->text) {
			char *t = qline_target(q);
			guint i = 0;
			while (i < targets->len && strcmp(targets->pdata[i], t) != 0)
				i++;
			if (i == targets->len) {
				g_ptr_array_add(targets, t);
				unsigned zero = 0;
				g_array_append_val(counts, zero);
			} else {
				g_free(t);
			}
			g_array_index(counts, unsigned, i)++;
		}
		qline_free(q);
	}
	for (guint i = 0; i < targets->len; i++) {
		unsigned n = g_array_index(counts, unsigned, i);
		tt_warn("%s: %u line%s to %s not delivered (%s)", c->cfg.server, n,
			n == 1 ? "" : "s", (char *)targets->pdata[i], tt_strerror(err));
		if (c->ops->undelivered)
			c->ops->undelivered(c, targets->pdata[i], n, err, c->arg);
	}
	g_ptr_array_free(targets, TRUE);
	g_array_free(counts, TRUE);
}

static int window(const struct tt__irc_conn *c)
{
	return c->cfg.ack_window > 0 ? c->cfg.ack_window : 4096;
}

/* Asks the server to confirm what we wrote so far: a PING through the bucket (it counts
 * as a command on servers that count them) at the head of the queue. */
static void ask_ack(struct tt__irc_conn *c)
{
	if (c->ack_pending)
		return;
	struct tt__irc_qline *q = qline_new(g_strdup("PING"));  /* token set when written */
	q->ack = true;
	g_queue_push_head(&c->queue, q);
	c->ack_pending = true;
	c->ack_sent_us = 0;
}

static gboolean on_flood_timer(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->flood_timer = 0;
	tt__irc_sendq_flush(c);
	return G_SOURCE_REMOVE;
}

void tt__irc_sendq_flush(struct tt__irc_conn *c)
{
	struct tt__irc_qline *q;
	while (c->link && !c->flood_timer && (q = g_queue_peek_head(&c->queue))) {
		int64_t len = (int64_t)strlen(q->line) + 2;
		int64_t out = c->tx_bytes - c->acked_bytes;
		if (!q->ack && out > 0 && out + len > window(c)) {
			ask_ack(c);
			if (g_queue_peek_head(&c->queue) == q)
				break;  /* the window is full: the ack's PONG flushes again */
			continue;
		}
		int64_t now = g_get_monotonic_time();
		int64_t wait = tt__irc_flood_take(&c->flood, now);
		if (wait > 0) {
			c->flood_timer = g_timeout_add((guint)(wait / 1000) + 1, on_flood_timer, c);
			break;
		}
		g_queue_pop_head(&c->queue);
		if (q->ack) {
			char *ping = g_strdup_printf("PING :" ACK_PREFIX "%lld",
						     (long long)c->tx_bytes);
			tt__irc_conn_write_now(c, ping);
			g_free(ping);
			c->ack_sent_us = now;
			qline_free(q);
			continue;
		}
		tt__irc_conn_write_now(c, q->line);
		c->tx_bytes += len;
		q->end = c->tx_bytes;
		if (q->text)
			g_queue_push_tail(&c->unacked, q);
		else
			qline_free(q);
		if (c->tx_bytes - c->acked_bytes >= window(c) / 2)
			ask_ack(c);
	}
}

static gboolean on_dropped_idle(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->dropped_idle = 0;
	report(c, &c->dropped, -ENOBUFS);
	return G_SOURCE_REMOVE;
}

void tt__irc_sendq_push(struct tt__irc_conn *c, char *line)
{
	if ((int)g_queue_get_length(&c->queue) >= c->cfg.queue_max) {
		/* Dropping beats being killed for flooding or buffering without bound; the
		 * owner tells the senders, once for the whole paste that overflowed. */
		for (GList *l = c->queue.head; l; l = l->next) {
			if (!((struct tt__irc_qline *)l->data)->ack) {
				g_queue_push_tail(&c->dropped, l->data);
				g_queue_delete_link(&c->queue, l);
				break;
			}
		}
		if (!c->dropped_idle)
			c->dropped_idle = g_idle_add(on_dropped_idle, c);
	}
	g_queue_push_tail(&c->queue, qline_new(line));
	tt__irc_sendq_flush(c);
}

bool tt__irc_sendq_pong(struct tt__irc_conn *c, const char *token)
{
	if (!token || !g_str_has_prefix(token, ACK_PREFIX))
		return false;
	char *end = NULL;
	long long n = strtoll(token + strlen(ACK_PREFIX), &end, 10);
	if (!end || *end || n < c->acked_bytes || n > c->tx_bytes)
		return true;  /* an answer from an earlier link, or garbage: ours anyway */
	c->acked_bytes = n;
	c->ack_pending = false;
	c->ack_sent_us = 0;
	struct tt__irc_qline *q;
	while ((q = g_queue_peek_head(&c->unacked)) && q->end <= n)
		qline_free(g_queue_pop_head(&c->unacked));
	tt__irc_sendq_flush(c);
	return true;
}

void tt__irc_sendq_link_up(struct tt__irc_conn *c)
{
	c->tx_bytes = c->acked_bytes = 0;
	c->ack_pending = false;
	c->ack_sent_us = 0;
	tt__irc_flood_init(&c->flood, c->cfg.flood_burst, c->cfg.flood_interval_ms,
			   g_get_monotonic_time());
}

static gboolean on_held_timeout(gpointer data)
{
	struct tt__irc_conn *c = data;
	c->held_timer = 0;
	report(c, &c->held, -ETIMEDOUT);
	return G_SOURCE_REMOVE;
}

void tt__irc_sendq_link_lost(struct tt__irc_conn *c)
{
	g_clear_handle_id(&c->flood_timer, g_source_remove);
	/* Unconfirmed lines first: they were said before the waiting ones. The server may
	 * have shown some of them already: a repeated line beats a lost one. */
	GQueue *from[] = {&c->unacked, &c->queue};
	for (size_t i = 0; i < G_N_ELEMENTS(from); i++) {
		struct tt__irc_qline *q;
		while ((q = g_queue_pop_head(from[i]))) {
			if (q->text)
				g_queue_push_tail(&c->held, q);
			else
				qline_free(q);
		}
	}
	c->ack_pending = false;
	if (!g_queue_is_empty(&c->held) && !c->held_timer)
		c->held_timer = g_timeout_add((guint)(c->cfg.hold_ms > 0 ? c->cfg.hold_ms : 60000),
					      on_held_timeout, c);
}

void tt__irc_sendq_resume(struct tt__irc_conn *c)
{
	g_clear_handle_id(&c->held_timer, g_source_remove);
	unsigned n = g_queue_get_length(&c->held);
	if (!n)
		return;
	tt_info("%s: sending %u line%s held over the reconnect", c->cfg.server, n,
		n == 1 ? "" : "s");
	struct tt__irc_qline *q;
	while ((q = g_queue_pop_head(&c->held)))
		g_queue_push_tail(&c->queue, q);
	tt__irc_sendq_flush(c);
}

void tt__irc_sendq_abandon(struct tt__irc_conn *c, int err)
{
	g_clear_handle_id(&c->held_timer, g_source_remove);
	g_clear_handle_id(&c->flood_timer, g_source_remove);
	/* Lines already written go before our QUIT: the server handles them first. */
	g_queue_clear_full(&c->unacked, qline_free);
	GQueue all = G_QUEUE_INIT;
	GQueue *from[] = {&c->held, &c->queue};
	for (size_t i = 0; i < G_N_ELEMENTS(from); i++) {
		struct tt__irc_qline *q;
		while ((q = g_queue_pop_head(from[i])))
			g_queue_push_tail(&all, q);
	}
	c->ack_pending = false;
	report(c, &all, err);
	g_clear_handle_id(&c->dropped_idle, g_source_remove);
	report(c, &c->dropped, -ENOBUFS);
}

void tt__irc_sendq_clear(struct tt__irc_conn *c)
{
	g_clear_handle_id(&c->held_timer, g_source_remove);
	g_clear_handle_id(&c->dropped_idle, g_source_remove);
	g_queue_clear_full(&c->dropped, qline_free);
	g_clear_handle_id(&c->flood_timer, g_source_remove);
	g_queue_clear_full(&c->held, qline_free);
	g_queue_clear_full(&c->unacked, qline_free);
	g_queue_clear_full(&c->queue, qline_free);
	c->ack_pending = false;
}

int64_t tt__irc_sendq_ack_age_ms(const struct tt__irc_conn *c, int64_t now_us)
{
	return c->ack_pending && c->ack_sent_us ? (now_us - c->ack_sent_us) / 1000 : -1;
}
