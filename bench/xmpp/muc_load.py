"""A MUC join load: N occupants join one room at a fixed rate, as users of a load component.

The load connects to the XMPP server as an XEP-0114 component of its own domain (no c2s
logins: what is measured is the MUC and the server's routing, not SASL), so that one
Python process can be 500 occupants: user K is userK@LOAD/r, joining ROOM@MUC/userK.
It counts presences as they arrive (substring counts on the raw stream; no XML parser:
250,000 presences must not cost the load more than the servers it measures) and reports:

  join_ms_p50/p95/max   each join's time from its presence sent to its self-presence
                        (status 110) received
  fanout_s              first join sent to the last expected presence received (every
                        occupant sees every other: N * N presences)
  presences             presences received (expected N * N)

Stdlib only; used by bench_muc.py, and importable by tests."""
import asyncio
import hashlib
import re
import time

STREAM = ("<stream:stream xmlns='jabber:component:accept' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='%s'>")
_ID = re.compile(rb"<stream:stream[^>]*\sid=['\"]([^'\"]+)['\"]")
# A presence addressed to user K: to='userK@LOAD/r' (either quote).
_TO = re.compile(rb"<presence\b[^>]*?\sto=['\"]user(\d+)@")
_SELF = (b"code='110'", b'code="110"')


class MucLoad:
    def __init__(self, host, port, load_domain, secret, muc_domain, room, n, rate):
        self.host, self.port = host, port
        self.load, self.secret = load_domain, secret
        self.muc, self.room = muc_domain, room
        self.n, self.rate = n, rate
        self.sent_at = [None] * n
        self.joined_at = [None] * n
        self.presences = 0
        self.last_presence = None
        self.buf = b""

    async def _connect(self):
        r, w = await asyncio.open_connection(self.host, self.port, limit=1 << 22)
        w.write((STREAM % self.load).encode())
        await w.drain()
        head = b""
        while not _ID.search(head):
            chunk = await r.read(4096)
            if not chunk:
                raise ConnectionError("server closed the component stream: %r" % head)
            head += chunk
        sid = _ID.search(head).group(1).decode()
        digest = hashlib.sha1((sid + self.secret).encode()).hexdigest()
        w.write(("<handshake>%s</handshake>" % digest).encode())
        await w.drain()
        while b"<handshake" not in head:
            chunk = await r.read(4096)
            if not chunk:
                raise ConnectionError("handshake refused: %r" % head[-300:])
            head += chunk
        self.buf = head.split(b"<handshake", 1)[1]
        return r, w

    def _scan(self, data):
        """Count presences in data (the unscanned tail is kept for the next read)."""
        buf = self.buf + data
        now = time.monotonic()
        pos = 0
        while True:
            i = buf.find(b"<presence", pos)
            if i < 0:   # keep a tag cut by the read ("<prese")
                lt = buf.rfind(b"<", pos)
                self.buf = buf[lt:] if lt >= 0 and len(buf) - lt < 16 else b""
                return
            end = buf.find(b"</presence>", i)
            close = buf.find(b"/>", i)
            gt = buf.find(b">", i)
            if gt < 0:
                self.buf = buf[i:]
                return
            if close >= 0 and close + 1 == gt:      # <presence .../>
                stop = gt + 1
            elif end >= 0:
                stop = end + len(b"</presence>")
            else:
                self.buf = buf[i:]
                return
            st = buf[i:stop]
            self.presences += 1
            self.last_presence = now
            m = _TO.match(st)
            if m and (_SELF[0] in st or _SELF[1] in st):
                k = int(m.group(1))
                if 0 <= k < self.n and self.joined_at[k] is None:
                    self.joined_at[k] = now
            pos = stop

    async def _reader(self, r):
        while True:
            data = await r.read(1 << 20)
            if not data:
                return
            self._scan(data)

    async def run(self, timeout):
        r, w = await self._connect()
        reader = asyncio.ensure_future(self._reader(r))
        t0 = time.monotonic()
        for k in range(self.n):
            due = t0 + k / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            w.write(("<presence from='user%d@%s/r' to='%s@%s/user%d'>"
                     "<x xmlns='http://jabber.org/protocol/muc'/></presence>"
                     % (k, self.load, self.room, self.muc, k)).encode())
            self.sent_at[k] = time.monotonic()
        await w.drain()
        want = self.n * self.n
        deadline = time.monotonic() + timeout
        while self.presences < want and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        got, last = self.presences, self.last_presence
        # leave politely (the servers' own cost of it is not measured)
        for k in range(self.n):
            w.write(("<presence type='unavailable' from='user%d@%s/r' to='%s@%s/user%d'/>"
                     % (k, self.load, self.room, self.muc, k)).encode())
        await w.drain()
        await asyncio.sleep(0.5)
        reader.cancel()
        w.close()
        lat = sorted((j - s) * 1000 for s, j in zip(self.sent_at, self.joined_at)
                     if s is not None and j is not None)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None
        return {
            "joined": len(lat), "n": self.n, "presences": got, "expected": want,
            "join_ms_p50": pct(0.5), "join_ms_p95": pct(0.95),
            "join_ms_max": round(lat[-1], 1) if lat else None,
            "fanout_s": round(last - t0, 2) if last else None,
        }


def run(host, port, load_domain, secret, muc_domain, room, n, rate, timeout=120):
    return asyncio.run(MucLoad(host, port, load_domain, secret, muc_domain, room, n,
                               rate).run(timeout))
