/* udp_mux.c: one UDP port shared by a worker's plain RTP transports (transport.h says why):
 * demultiplexing by source address, and a tick's sends gathered into one sendmmsg. */
#define _GNU_SOURCE    /* recvmmsg, sendmmsg */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#define TT_LOG_DOMAIN "udp"
#include "tutti/errno.h"
#include "tutti/log.h"
#include "tutti/reactor.h"
#include "addr_table.h"
#include "udp_priv.h"
#if TT_HAVE_STUN_LITE
#include "stun_lite.h"
#endif

#define RX_BATCH 64
#define RX_ROUNDS 8            /* batches per dispatch, so one flood cannot starve a tick */
#define TICK_ROUNDS 128        /* batches read at a tick's start: 8,192 datagrams at most */
/* Reading only at tick starts needs a buffer for a whole tick of arrivals: about 2 KB of
 * kernel memory per member (a datagram's skb is about 1 KB, plus RTCP and slack). */
#define BUF_PER_MEMBER 2048
#define TX_MAX 1024            /* UIO_MAXIOV: the most one sendmmsg takes */
#define TX_ARENA (256 * 1024)  /* packet bytes gathered between flushes */
/* What we ask of the kernel: a tick of 2,000 participants is about 2,000 datagrams each
 * way, in bursts; skbs cost about 1 KB each whatever the payload. */
#define SOCK_BUF (4 * 1024 * 1024)

struct tt__mux_member {                  /* what a datagram needs first, in one cache line */
	struct udp *u;                       /* a plain member, or NULL */
	struct tt__lite *lite;               /* an ICE-lite one, or NULL */
	bool has_ssrc;
	uint32_t ssrc;                       /* of the stream last accepted: key of by_ssrc */
	socklen_t len;
	struct sockaddr_storage addr;        /* where it sends; its key in by_addr */
};

struct tx_slot {
	struct tt__mux_member *owner;        /* NULL once it left: still sent, not counted */
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;
};

struct tt_udp_mux {
	int fd;
	GSource *src;
	struct tt_reactor *reactor;
	struct tt_reactor_entry *watch;
	struct sockaddr_storage local;
	socklen_t local_len;
	struct tt__addr_table by_addr;       /* remote address -> member */
	GHashTable *by_ssrc;                 /* GUINT_TO_POINTER(ssrc) -> member */
	struct tt_udp_mux_stats st;
	bool holding;
	bool tick_reads;                     /* the owner holds at each tick: read there */

	unsigned tx_n;
	size_t tx_used;
	struct mmsghdr smsg[TX_MAX];
	struct iovec siov[TX_MAX];
	struct tx_slot slot[TX_MAX];
	uint8_t arena[TX_ARENA];

	GHashTable *by_ufrag;                /* our ICE ufrag -> ICE-lite member (borrowed key) */
#if TT_HAVE_STUN_LITE
	struct tt__stun_lite stun;           /* answers checks for ICE-lite members */
#endif

	struct tt__rx *rx;
	struct tt__mux_member *batch[RX_BATCH];   /* the members of the batch being read */
	bool batch_valid;                    /* no member joined, left or moved since */
};

static int send_gathered(struct tt_udp_mux *m);

static bool looks_rtp(const uint8_t *p, size_t len)
{
	/* RFC 5761: 192-223 in the second byte is RTCP */
	return len >= 12 && (p[0] >> 6) == 2 && !(p[1] >= 192 && p[1] <= 223);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void note_ssrc(struct tt_udp_mux *m, struct tt__mux_member *mm, uint32_t ssrc)
{
	if (mm->has_ssrc && mm->ssrc == ssrc)
		return;
	if (mm->has_ssrc && g_hash_table_lookup(m->by_ssrc, GUINT_TO_POINTER(mm->ssrc)) == mm)
		g_hash_table_remove(m->by_ssrc, GUINT_TO_POINTER(mm->ssrc));
	mm->ssrc = ssrc;
	mm->has_ssrc = true;
	g_hash_table_insert(m->by_ssrc, GUINT_TO_POINTER(ssrc), mm);
}

static struct tt_transport *member_transport(const struct tt__mux_member *mm)
{
#if TT_HAVE_STUN_LITE
	if (mm->lite)
		return tt__lite_transport(mm->lite);
#endif
	return tt__udp_transport(mm->u);
}

static struct tt__mux_member *member_of(const struct tt_udp_mux *m,
					const struct sockaddr_storage *from)
{
	struct tt__addr_key k;
	return tt__addr_key_of(&k, from) ? tt__addr_table_get(&m->by_addr, &k) : NULL;
}

/* A batch's members are looked up before any of its datagrams is delivered, and what each
 * delivery touches first is fetched for all of them at once, a level per pass (member,
 * UDP leg, transport, the transport's user): a worker's members are cold at every tick,
 * and missing the cache one line at a time per datagram was most of the receive path. */
static void pre_batch(void *arg, const struct tt__rx *rx, unsigned n)
{
	struct tt_udp_mux *m = arg;
	struct tt_transport *t[RX_BATCH];
	m->batch_valid = true;
	for (unsigned i = 0; i < n; i++) {
		m->batch[i] = member_of(m, &rx->slot[i].from);
		if (m->batch[i])
			__builtin_prefetch(m->batch[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (m->batch[i] && m->batch[i]->u)
			tt__udp_prefetch(m->batch[i]->u);
	for (unsigned i = 0; i < n; i++) {
		t[i] = m->batch[i] && m->batch[i]->u ? tt__udp_transport(m->batch[i]->u) : NULL;
		if (t[i])
			tt__transport_prefetch(t[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (t[i])
			tt__transport_prefetch_user(t[i]);
}

#if TT_HAVE_STUN_LITE
/* One datagram of no member's (a STUN response) into the send arena, to `to`. */
static int queue_to(struct tt_udp_mux *m, const uint8_t *data, size_t len,
		    const struct sockaddr_storage *to, socklen_t to_len)
{
	if (to_len > sizeof m->slot[0].to || len > TX_ARENA)
		return -EINVAL;
	if (m->tx_n + 1 > TX_MAX || m->tx_used + len > TX_ARENA)
		send_gathered(m);
	unsigned k = m->tx_n++;
	uint8_t *dst = m->arena + m->tx_used;
	memcpy(dst, data, len);
	m->tx_used += len;
	m->slot[k].owner = NULL;       /* counted on the port only */
	memcpy(&m->slot[k].to, to, to_len);
	m->siov[k].iov_base = dst;
	m->siov[k].iov_len = len;
	memset(&m->smsg[k].msg_hdr, 0, sizeof m->smsg[k].msg_hdr);
	m->smsg[k].msg_hdr.msg_iov = &m->siov[k];
	m->smsg[k].msg_hdr.msg_iovlen = 1;
	m->smsg[k].msg_hdr.msg_name = &m->slot[k].to;
	m->smsg[k].msg_hdr.msg_namelen = to_len;
	if (!m->holding)
		send_gathered(m);
	return 0;
}

static bool lite_lookup(void *arg, const char *ufrag, size_t len, const char **pwd,
			const char **peer, void **owner)
{
	struct tt_udp_mux *m = arg;
	char key[65];
	if (len >= sizeof key)
		return false;
	memcpy(key, ufrag, len);     /* NUL-terminated for the table: no allocation */
	key[len] = '\0';
	struct tt__mux_member *mm = g_hash_table_lookup(m->by_ufrag, key);
	if (!mm)
		return false;
	tt__lite_credentials(mm->lite, pwd, peer);
	*owner = mm;
	return *peer != NULL;        /* not before signalling gave us the peer's ufrag */
}

/* A STUN datagram while ICE-lite members exist: a connectivity check for one of them
 * (RFC 8445 7.3), answered at once from the port it came to. A check is the only way an
 * address becomes a member's, and it must carry that member's credentials. */
static void lite_check(struct tt_udp_mux *m, struct tt__mux_member *by_addr, uint8_t *buf,
		       size_t len, const struct sockaddr_storage *from, socklen_t from_len)
{
	uint8_t out[STUN_MAX_MESSAGE_SIZE_IPV6];
	struct tt__stun_check chk = { 0 };
	int n = tt__stun_lite_answer(&m->stun, buf, len, from, from_len, lite_lookup, m, out,
				     sizeof out, &chk);
	if (n <= 0) {
		m->st.stun_dropped++;
		return;
	}
	struct tt__mux_member *mm = chk.owner;
	if (by_addr && by_addr != mm) {
		m->st.stun_dropped++;   /* another member's address: it cannot be both */
		return;
	}
	/* With the tick's packets when the worker holds the port (checks are read at tick
	 * starts), else at once; a response the kernel does not take is a check the peer
	 * repeats. */
	if (queue_to(m, out, (size_t)n, from, from_len) == 0)
		m->st.stun_answered++;
	if (!chk.error_response)
		tt__lite_checked(mm->lite, from, from_len, chk.use_candidate);
}
#endif

static void on_datagram(struct tt_udp_mux *m, struct tt__mux_member *mm, uint8_t *buf,
			size_t len, const struct sockaddr_storage *from, socklen_t from_len,
			int64_t at)
{
#if TT_HAVE_STUN_LITE
	if ((!mm || mm->lite) && m->st.lite_members) {
		if (tt__demux_classify(buf, len) == TT_DEMUX_STUN) {
			lite_check(m, mm, buf, len, from, from_len);
			return;
		}
		if (mm) {
			tt__lite_input(mm->lite, buf, len, at);
			return;
		}
	}
#else
	(void)from;
	(void)from_len;
#endif
	if (!mm) {
		m->st.foreign_dropped++;
		if (looks_rtp(buf, len)) {
			struct tt__mux_member *victim =
				g_hash_table_lookup(m->by_ssrc, GUINT_TO_POINTER(rd32(buf + 8)));
			if (victim)
				tt__transport_count_bleed(member_transport(victim));
		}
		return;
	}
	bool rtp = looks_rtp(buf, len);
	uint32_t ssrc = rtp ? rd32(buf + 8) : 0;   /* before SRTP may touch the packet */
	if (tt__udp_deliver_member(mm->u, buf, len, at) == 0 && rtp)
		note_ssrc(m, mm, ssrc);
}

static void on_rx(void *arg, unsigned i, uint8_t *buf, size_t len,
		  const struct sockaddr_storage *from, socklen_t from_len, int64_t at)
{
	struct tt_udp_mux *m = arg;
	m->st.pkts_in++;
	/* pre_batch's lookup holds while no member joined, left or moved: a delivery's
	 * callback may change membership, and a member that left would dangle */
	struct tt__mux_member *mm = m->batch_valid ? m->batch[i] : member_of(m, from);
	on_datagram(m, mm, buf, len, from, from_len, at);
}

static void read_rounds(struct tt_udp_mux *m, int rounds)
{
	tt__rx_drain(m->rx, m->fd, rounds, pre_batch, on_rx, m);
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	read_rounds(data, RX_ROUNDS);
	return G_SOURCE_CONTINUE;
}

static void on_ready(void *data)
{
	read_rounds(data, RX_ROUNDS);
}

/* Read at tick starts only while the socket can hold a whole tick of arrivals for every
 * member; otherwise (a small net.core.rmem_max) also whenever datagrams arrive. */
static void choose_reading(struct tt_udp_mux *m)
{
	if (!m->reactor)
		return;
	int have = 0;   /* asked again: members come and go rarely, and it is what the kernel has */
	socklen_t l = sizeof have;
	if (getsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &have, &l) == 0)
		m->st.rcvbuf = have;
	bool fits = m->tick_reads &&
		    (uint64_t)(m->st.members + 1) * BUF_PER_MEMBER <= (uint64_t)m->st.rcvbuf;
	if (fits && m->watch) {
		tt_reactor_remove(m->reactor, m->watch);
		m->watch = NULL;
	} else if (!fits && !m->watch) {
		m->watch = tt_reactor_watch(m->reactor, m->fd, on_ready, m);
		if (!m->watch)
			tt_warn("shared media port: cannot watch its socket: %s",
				tt_strerror(-errno));
	}
	m->st.reads_at_tick = fits;
}

/* Socket buffers for a whole worker: SO_*BUFFORCE where we may (CAP_NET_ADMIN), else as
 * much as net.core.[rw]mem_max allow, and a warning that says what to raise. */
static int sock_buf(int fd, int opt, int force)
{
	int want = SOCK_BUF, got = 0;
	socklen_t l = sizeof got;
	if (setsockopt(fd, SOL_SOCKET, force, &want, sizeof want) != 0)
		setsockopt(fd, SOL_SOCKET, opt, &want, sizeof want);
	getsockopt(fd, SOL_SOCKET, opt, &got, &l);
	return got;
}

int tt_udp_mux_alloc(struct tt_udp_mux **mp, GMainContext *ctx, struct tt_reactor *reactor,
		     bool tick_reads, const char *bind_addr, uint16_t port_min,
		     uint16_t port_max)
{
	if (!mp || (!ctx && !reactor) || (tick_reads && !reactor) || !port_min ||
	    port_max < port_min)
		return -EINVAL;
	struct tt_udp_mux *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	int err = tt__udp_bind_in_range(&m->fd, &m->local, &m->local_len,
					bind_addr ? bind_addr : "0.0.0.0", port_min, port_max);
	if (err) {
		free(m);
		return err;
	}
	m->by_ssrc = g_hash_table_new(g_direct_hash, g_direct_equal);
	m->by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
#if TT_HAVE_STUN_LITE
	tt__stun_lite_init(&m->stun);
#endif
	m->rx = tt__rx_new(RX_BATCH);
	if (!m->rx) {
		tt_udp_mux_free(m);
		return -ENOMEM;
	}
	m->st.rcvbuf = sock_buf(m->fd, SO_RCVBUF, SO_RCVBUFFORCE);
	m->st.sndbuf = sock_buf(m->fd, SO_SNDBUF, SO_SNDBUFFORCE);
	if (m->st.rcvbuf < SOCK_BUF || m->st.sndbuf < SOCK_BUF)
		tt_warn("shared media port: socket buffers %d/%d bytes (receive/send), below the "
			"%d that a worker with 1,000 participants needs; raise sysctl "
			"net.core.rmem_max and net.core.wmem_max, or run with CAP_NET_ADMIN",
			m->st.rcvbuf, m->st.sndbuf, SOCK_BUF);
	int on = 1;
	setsockopt(m->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
	if (reactor) {
		m->reactor = reactor;
		m->tick_reads = tick_reads;
		m->watch = tt_reactor_watch(reactor, m->fd, on_ready, m);
		if (!m->watch) {
			err = -errno;
			tt_udp_mux_free(m);
			return err;
		}
		choose_reading(m);
	} else {
		m->src = g_unix_fd_source_new(m->fd, G_IO_IN);
		g_source_set_can_recurse(m->src, TRUE);  /* the handler never iterates */
		g_source_set_callback(m->src, G_SOURCE_FUNC(on_readable), m, NULL);
		g_source_attach(m->src, ctx);
	}
	*mp = m;
	return 0;
}

struct tt_udp_mux *tt_udp_mux_free(struct tt_udp_mux *m)
{
	if (!m)
		return NULL;
	tt_udp_mux_flush(m);
	if (m->by_addr.n)
		tt_warn("shared media port freed with %zu members", m->by_addr.n);
	/* members left behind keep a dangling mux: they must not outlive it (transport.h) */
	tt__addr_table_fini(&m->by_addr);
	g_hash_table_destroy(m->by_ssrc);
	g_hash_table_destroy(m->by_ufrag);
	if (m->src) {
		g_source_destroy(m->src);
		g_source_unref(m->src);
	}
	tt_reactor_remove(m->reactor, m->watch);
	close(m->fd);
	tt__rx_free(m->rx);
	free(m);
	return NULL;
}

int tt__udp_mux_join(struct tt_udp_mux *m, struct udp *u, const struct sockaddr_storage *remote,
		     socklen_t len, struct tt__mux_member **mmp)
{
	struct tt__addr_key k;
	if (remote->ss_family != m->local.ss_family || !tt__addr_key_of(&k, remote))
		return -EAFNOSUPPORT;
	if (len > sizeof(struct sockaddr_in6))
		return -EINVAL;
	if (tt__addr_table_get(&m->by_addr, &k))
		return -EADDRINUSE;
	struct tt__mux_member *mm = g_new0(struct tt__mux_member, 1);
	mm->u = u;
	memcpy(&mm->addr, remote, len);
	mm->len = len;
	if (tt__addr_table_put(&m->by_addr, &k, mm)) {
		g_free(mm);
		return -ENOMEM;
	}
	m->st.members++;
	m->batch_valid = false;
	choose_reading(m);
	*mmp = mm;
	return 0;
}

int tt__udp_mux_join_lite(struct tt_udp_mux *m, struct tt__lite *l, const char *ufrag,
			  struct tt__mux_member **mmp)
{
	if (g_hash_table_contains(m->by_ufrag, ufrag))
		return -EEXIST;
	struct tt__mux_member *mm = g_new0(struct tt__mux_member, 1);
	mm->lite = l;
	g_hash_table_insert(m->by_ufrag, (gpointer)ufrag, mm);
	m->st.members++;
	m->st.lite_members++;
	m->batch_valid = false;
	choose_reading(m);
	*mmp = mm;
	return 0;
}

void tt__udp_mux_local(const struct tt_udp_mux *m, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memcpy(ss, &m->local, m->local_len);
	*len = m->local_len;
}

void tt__udp_mux_leave(struct tt_udp_mux *m, struct tt__mux_member *mm)
{
	if (mm->lite) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, m->by_ufrag);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (v == mm) {
				g_hash_table_iter_remove(&it);
				break;
			}
		m->st.lite_members--;
	}
	for (unsigned i = 0; i < m->tx_n; i++)
		if (m->slot[i].owner == mm)
			m->slot[i].owner = NULL;
	struct tt__addr_key k;
	if (tt__addr_key_of(&k, &mm->addr))
		tt__addr_table_del(&m->by_addr, &k);
	if (mm->has_ssrc && g_hash_table_lookup(m->by_ssrc, GUINT_TO_POINTER(mm->ssrc)) == mm)
		g_hash_table_remove(m->by_ssrc, GUINT_TO_POINTER(mm->ssrc));
	m->st.members--;
	m->batch_valid = false;
	choose_reading(m);
	g_free(mm);
}

int tt__udp_mux_rekey(struct tt_udp_mux *m, struct tt__mux_member *mm,
		      const struct sockaddr_storage *remote, socklen_t len)
{
	if (tt__sockaddr_same(remote, &mm->addr))
		return 0;
	struct tt__addr_key k, old;
	if (remote->ss_family != m->local.ss_family || len > sizeof(struct sockaddr_in6) ||
	    !tt__addr_key_of(&k, remote))
		return -EAFNOSUPPORT;
	if (tt__addr_table_get(&m->by_addr, &k))
		return -EADDRINUSE;
	/* Insert first: a failure leaves the member where it was. */
	if (tt__addr_table_put(&m->by_addr, &k, mm))
		return -ENOMEM;
	if (tt__addr_key_of(&old, &mm->addr))
		tt__addr_table_del(&m->by_addr, &old);
	memset(&mm->addr, 0, sizeof mm->addr);
	memcpy(&mm->addr, remote, len);
	mm->len = len;
	m->batch_valid = false;
	return 0;
}

int tt__udp_mux_send(struct tt_udp_mux *m, struct tt__mux_member *mm,
		     const struct tt_transport_out *out, unsigned n)
{
	/* Make room for the whole call first: then a failure the kernel reports at a flush is
	 * always of packets whose transports already counted them as sent. */
	size_t bytes = 0;
	for (unsigned i = 0; i < n; i++)
		bytes += out[i].len;
	if (n > TX_MAX || bytes > TX_ARENA)
		return -EMSGSIZE;
	if (m->tx_n + n > TX_MAX || m->tx_used + bytes > TX_ARENA)
		send_gathered(m);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = m->tx_n++;
		uint8_t *dst = m->arena + m->tx_used;
		memcpy(dst, out[i].data, out[i].len);
		m->tx_used += out[i].len;
		m->slot[k].owner = mm;
		memcpy(&m->slot[k].to, &mm->addr, mm->len);
		m->siov[k].iov_base = dst;
		m->siov[k].iov_len = out[i].len;
		memset(&m->smsg[k].msg_hdr, 0, sizeof m->smsg[k].msg_hdr);
		m->smsg[k].msg_hdr.msg_iov = &m->siov[k];
		m->smsg[k].msg_hdr.msg_iovlen = 1;
		m->smsg[k].msg_hdr.msg_name = &m->slot[k].to;
		m->smsg[k].msg_hdr.msg_namelen = mm->len;
	}
	if (m->holding)
		return (int)n;      /* failures are counted on the owner when they happen */
	/* Outside a tick (RTCP, BYE) the arena holds this call's packets only: the transport
	 * counts what we return, so the owner must not be charged again. */
	for (unsigned k = 0; k < m->tx_n; k++)
		m->slot[k].owner = NULL;
	return send_gathered(m);
}

void tt__udp_mux_prefetch_member(const struct tt__mux_member *mm)
{
	__builtin_prefetch(mm);      /* its address is in the first line */
}

void tt_udp_mux_hold(struct tt_udp_mux *m)
{
	if (!m)
		return;
	if (m->tick_reads)
		read_rounds(m, TICK_ROUNDS);   /* everything that arrived since the last tick */
	m->holding = true;
}

/* Everything gathered, in as few sendmmsg calls as the kernel allows. */
static int send_gathered(struct tt_udp_mux *m)
{
	unsigned done = 0, failed = 0;
	while (done < m->tx_n) {
		int r = sendmmsg(m->fd, m->smsg + done, m->tx_n - done, MSG_DONTWAIT);
		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		/* The message at `done` failed: count it on its owner and go on with the next,
		 * so one bad destination does not cost the others; a full buffer costs the rest
		 * of the batch (trying each would be a system call per packet). */
		bool full = r < 0 && (errno == EAGAIN || errno == ENOBUFS);
		unsigned end = full ? m->tx_n : done + 1;
		for (; done < end; done++, failed++) {
			struct tx_slot *s = &m->slot[done];
			if (s->owner)
				tt__transport_count_unsent(member_transport(s->owner),
							   m->siov[done].iov_len);
		}
	}
	m->st.pkts_out += m->tx_n - failed;
	m->st.send_errors += failed;
	int sent = (int)(m->tx_n - failed);
	m->tx_n = 0;
	m->tx_used = 0;
	return sent;
}

int tt_udp_mux_flush(struct tt_udp_mux *m)
{
	if (!m)
		return 0;
	m->holding = false;
	return send_gathered(m);
}

int tt_udp_mux_local(const struct tt_udp_mux *m, struct sockaddr_storage *ss, socklen_t *len)
{
	if (!m || !ss || !len)
		return -EINVAL;
	memcpy(ss, &m->local, m->local_len);
	*len = m->local_len;
	return 0;
}

void tt_udp_mux_stats(const struct tt_udp_mux *m, struct tt_udp_mux_stats *st)
{
	*st = m->st;
}
