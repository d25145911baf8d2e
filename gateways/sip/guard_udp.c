/* guard_udp.c: the guard (guard.h) on sofia-sip's own UDP sockets.
 *
 * sofia has no hook between a datagram's arrival and its silent drop, so the gateway
 * watches the same sockets from the same (core) loop at a higher priority and looks at each
 * datagram first with MSG_PEEK. A datagram the guard answers is consumed here; any other is
 * left where it is for sofia: the watch then steps aside until sofia's source has read once
 * (a re-arm idle at sofia's priority, attached after sofia's source, so GLib dispatches it
 * right after sofia's in the same iteration; sofia reads one datagram per wake-up).
 * Core thread only. */
#define TT_LOG_DOMAIN "sip"
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tutti/log.h>

#include "guard.h"
#include "sip.h"

#define PEEK_MAX 65536
#define SAME_HEAD_RETRY_MS 20
#define ANSWERS_PER_TURN 16   /* then the rest of the loop gets a turn: a flood of these
			       * must not starve sofia, HTTP or the mailboxes */

struct sip_guard {
	struct sipgw *gw;
	int fd;                     /* sofia's socket: never closed here */
	GSource *watch;
	gpointer tag;
	GSource *rearm;
	/* the datagram last left to sofia, by kernel arrival time and length: seen again at
	 * the head means sofia has not read it yet, and we wait a little instead of spinning */
	struct timespec last_ts;
	size_t last_len;
	char to_tag[20];            /* for the next answer; renewed after each one */
};

/* The watch: a source whose dispatch knows its guard. */
struct guard_source {
	GSource src;
	struct sip_guard *g;
};

static uint8_t peek_buf[PEEK_MAX];   /* core thread only */
static uint8_t reply_buf[8192];

static gboolean on_rearm(gpointer data)
{
	struct sip_guard *g = data;
	g_source_unref(g->rearm);   /* the context keeps it until we return REMOVE */
	g->rearm = NULL;
	g->tag = g_source_add_unix_fd(g->watch, g->fd, G_IO_IN);
	return G_SOURCE_REMOVE;
}

/* Step aside until sofia has read (idle), or for a moment when it has not (timeout). */
static void step_aside(struct sip_guard *g, bool same_as_last)
{
	/* off the fd altogether: GLib reports errors on a watched fd whatever events we ask
	 * for, and an error is sofia's to read (from the error queue) */
	if (g->tag) {
		g_source_remove_unix_fd(g->watch, g->tag);
		g->tag = NULL;
	}
	if (g->rearm)
		return;
	g->rearm = same_as_last ? g_timeout_source_new(SAME_HEAD_RETRY_MS) : g_idle_source_new();
	g_source_set_priority(g->rearm, G_PRIORITY_DEFAULT);
	g_source_set_callback(g->rearm, on_rearm, g, NULL);
	g_source_attach(g->rearm, g_source_get_context(g->watch));
}

static void reply_to(const struct sip_guard *g, const struct tt_sip_guard_answer *a,
		     struct sockaddr_storage *from, socklen_t from_len)
{
	/* RFC 3261 18.2.2: the source address, and the source port with rport (RFC 3581) or
	 * symmetric responses (NAT), else the Via's sent-by port (5060 when none) */
	if (!a->via_rport && !g->gw->symmetric_response) {
		uint16_t port = htons(a->via_port ? a->via_port : 5060);
		if (from->ss_family == AF_INET)
			((struct sockaddr_in *)from)->sin_port = port;
		else if (from->ss_family == AF_INET6)
			((struct sockaddr_in6 *)from)->sin6_port = port;
	}
	if (sendto(g->fd, reply_buf, a->len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)from,
		   from_len) < 0)
		tt_debug("guard: reply not sent: %s", g_strerror(errno));
}

static void new_to_tag(struct sip_guard *g)
{
	g_snprintf(g->to_tag, sizeof g->to_tag, "%08x%08x", g_random_int(), g_random_int());
}

/* The datagram at the head of the socket, left there: its length (or -1 with errno), source
 * and kernel arrival time. */
static ssize_t peek(const struct sip_guard *g, struct sockaddr_storage *from,
		    socklen_t *from_len, struct timespec *ts)
{
	struct iovec iov = {.iov_base = peek_buf, .iov_len = sizeof peek_buf};
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {.msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
	ssize_t n = recvmsg(g->fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	*from_len = mh.msg_namelen;
	*ts = (struct timespec){0, 0};
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
			memcpy(ts, CMSG_DATA(c), sizeof *ts);
	return n;
}

/* A request sofia parses and drops (guard_parsed.c: a TCP/TLS/... Via in a UDP datagram, a
 * Request-URI its URL parser refuses): true with the answer in
 * reply_buf when we answer it; false leaves it to sofia, which drops it (said at debug
 * level, once per datagram: `same` is a datagram already seen at the head). */
static bool parsed_drop(struct sip_guard *g, size_t n, bool same,
			 struct tt_sip_guard_answer *a, char *why, size_t why_cap)
{
	struct tt_sip_guard_parsed v;
	if (!tt_sip_guard_parsed(peek_buf, n, TT_SIP_ALLOW, &v))
		return false;
	if (v.status > 0 && tt_sip_guard_reply(peek_buf, n, v.status, v.phrase, v.extra,
					       g->to_tag, reply_buf, sizeof reply_buf, a)) {
		tt_debug("guard: %s over UDP with %s (sofia-sip drops it): answered %d %s",
			 v.method, v.why, v.status, v.phrase);
		g_strlcpy(why, v.why, why_cap);
		return true;
	}
	if (!same)
		tt_debug("guard: %s over UDP with %s dropped (sofia-sip drops these; %s)",
			 v.method, v.why,
			 v.status < 0 ? "an ACK is never answered" : "its head cannot be copied");
	return false;
}

static void on_readable(struct sip_guard *g, GIOCondition cond)
{
	/* An error on the socket (ICMP port unreachable for a response sofia retransmitted to
	 * a closed port: sofia reads it from the error queue) is sofia's. Whatever we do not
	 * take, we must step aside for: our watch outranks sofia's, and GLib dispatches only
	 * the most urgent ready sources, so staying armed on a ready fd would starve the loop. */
	if (cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) {
		step_aside(g, false);
		return;
	}
	for (int turn = 0;; turn++) {
		if (turn == ANSWERS_PER_TURN) {
			step_aside(g, false);
			return;
		}
		struct sockaddr_storage from;
		socklen_t from_len;
		struct timespec ts;
		ssize_t n = peek(g, &from, &from_len, &ts);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				step_aside(g, false);   /* sofia's error to see */
			return;
		}
		struct tt_sip_guard_answer a;
		bool same = g->last_len == (size_t)n && ts.tv_sec == g->last_ts.tv_sec &&
			    ts.tv_nsec == g->last_ts.tv_nsec && (ts.tv_sec || ts.tv_nsec);
		char why[48] = "";
		if (!tt_sip_guard(peek_buf, (size_t)n, g->to_tag, TT_SIP_ALLOW, reply_buf,
				  sizeof reply_buf, &a) &&
		    !parsed_drop(g, (size_t)n, same, &a, why, sizeof why)) {
			g->last_len = (size_t)n;
			g->last_ts = ts;
			step_aside(g, same);
			return;
		}
		/* ours: take it off the socket, then answer within the source's request budget
		 * (a flood of these must cost what any other flood costs: no reflection) */
		if (recv(g->fd, peek_buf, 1, MSG_DONTWAIT) < 0)
			return;
		g->last_len = 0;
		new_to_tag(g);
		if (!tt__sip_rate_ok(g->gw, (struct sockaddr *)&from))
			continue;
		if (!why[0])
			g_strlcpy(why, a.status == 505 ? "SIP version" : "unknown method",
				  sizeof why);
		if (g->gw->guard_answered++ < 10 || g->gw->guard_answered % 1000 == 0)
			tt_info("answered %d to a request sofia-sip would drop (%s; %" G_GUINT64_FORMAT
				" so far)", a.status, why, g->gw->guard_answered);
		reply_to(g, &a, &from, from_len);
	}
}

/* Is fd a UDP socket bound to this port? */
static bool is_our_udp(int fd, unsigned port)
{
	int type = 0;
	socklen_t tl = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM)
		return false;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port) == port;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port;
	return false;
}

static gboolean guard_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	(void)cb;
	(void)data;
	struct sip_guard *g = ((struct guard_source *)src)->g;
	if (g->tag)
		on_readable(g, g_source_query_unix_fd(src, g->tag));
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs guard_funcs = {.dispatch = guard_dispatch};

int tt__sip_guard_start(struct sipgw *gw, unsigned port)
{
	gw->guards = g_ptr_array_new();
	GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
	if (!dir) {
		tt_warn("guard: /proc/self/fd unreadable: requests sofia-sip drops get no answer");
		return 0;
	}
	const char *e;
	while ((e = g_dir_read_name(dir))) {
		gint64 fd = g_ascii_strtoll(e, NULL, 10);
		if (fd < 0 || fd > G_MAXINT || !is_our_udp((int)fd, port))
			continue;
		struct sip_guard *g = g_new0(struct sip_guard, 1);
		g->gw = gw;
		g->fd = (int)fd;
		/* arrival times tell one datagram from the next (sofia ignores the control data:
		 * its recvmsg has no room for it, the kernel just drops it there) */
		int on = 1;
		if (setsockopt(g->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0)
			tt_debug("guard: SO_TIMESTAMPNS: %s", g_strerror(errno));
		new_to_tag(g);
		g->watch = g_source_new(&guard_funcs, sizeof(struct guard_source));
		((struct guard_source *)g->watch)->g = g;
		g_source_set_priority(g->watch, G_PRIORITY_DEFAULT - 1);  /* before sofia's */
		g->tag = g_source_add_unix_fd(g->watch, g->fd, G_IO_IN);
		g_source_attach(g->watch, NULL);
		g_ptr_array_add(gw->guards, g);
	}
	g_dir_close(dir);
	return (int)gw->guards->len;
}

void tt__sip_guard_stop(struct sipgw *gw)
{
	if (!gw->guards)
		return;
	for (guint i = 0; i < gw->guards->len; i++) {
		struct sip_guard *g = g_ptr_array_index(gw->guards, i);
		if (g->rearm) {
			g_source_destroy(g->rearm);
			g_source_unref(g->rearm);
		}
		g_source_destroy(g->watch);
		g_source_unref(g->watch);
		g_free(g);
	}
	g_ptr_array_free(gw->guards, TRUE);
	gw->guards = NULL;
}
