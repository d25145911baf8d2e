"""Cascaded rooms (docs/scale-out.md): one room spread over three tutti nodes on 127.0.0.2,
.3 and .4 that share a real redis-server. The first node a room is joined on is its home
(the hub); the two others open one trunk each to it (leaves never link to each other):
- three plain RTP participants (tt_rtppeer, through each node's admin API), one per node,
  each sending its own tone: everyone hears both others at the level a single-node room
  gives (measured in the same run: not doubled, not lost) and never itself;
- the added latency of the cascade: a PCMU click's onset heard on the same node, through
  one hop (leaf -> hub) and through two (leaf -> hub -> leaf), printed;
- the leaf's last participant leaves: its trunk is gone on both ends;
- the hub killed: the leaves' trunks end by the inactivity timeout, the room is re-homed on
  one of them and the two survivors hear each other again;
- bad trunk requests (bad JSON, bad key, unknown room) get a 4xx and change nothing.
Skipped without redis-server."""
import base64
import json
import math
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, check, free_port, run, wait_for  # noqa: E402
from test_cluster import Redis  # noqa: E402

PEER = os.path.join(BUILD_DIR, "tt_rtppeer")
TONES = (450, 750, 1050)
LISTEN = TONES + (1350, 1650)
MARGIN_DB = 20.0      # every other talker at least this much louder than one's own tone
SAME_DB = 4.0         # a talker through the cascade within this of the single-node level
TTL = 3
INACTIVITY = 4     # only where a dead node's trunks must end (test_hub_dies_room_rehomed)
SLOW = 3 if "ASAN_OPTIONS" in os.environ else 1
REDIS = None


class Node(Bridge):
    """A tutti on its own loopback address (HTTP and media) in the shared directory."""

    def __init__(self, host, name, media_base, inactivity=30):
        self.host = host
        port = free_port()
        super().__init__({
            "http": {"listen": host, "port": port},
            "media": {"address": host, "port_min": media_base, "port_max": media_base + 200,
                      "inactivity_s": inactivity},
            "cluster": {"redis": "127.0.0.1:%d" % REDIS.port, "node": name,
                        "public_url": "http://%s:%d" % (host, port),
                        "api_url": "http://%s:%d" % (host, port), "ttl_s": TTL}})
        self.http_port = port
        self.url = "http://%s:%d" % (host, port)
        self.name = name

    def http(self, method, path, body=None, headers=None, timeout=10):
        return super().http(method, path, body, headers, timeout)

    def trunks(self, room):
        st, body = self.http("GET", "/api/rooms/%s/trunks" % room)
        check(st == 200, "GET trunks: %s %s" % (st, body))
        return body["trunks"]


def close(n):
    """Stop a node if it runs (a clean exit is checked), keep its log on failure."""
    try:
        if n.proc and n.proc.poll() is None:
            rc, _ = n.stop()
            if rc != 0:
                sys.stderr.write("---- %s log ----\n%s\n" % (n.name, n.read_log()))
            check(rc == 0, "%s exited with %s" % (n.name, rc))
    finally:
        if getattr(n, "log", None):
            n.log.close()
        n.tmp.cleanup()


def media_base(i):
    lo = free_port(socket.SOCK_DGRAM)
    lo = max(1024, min(lo, 60000) - (lo % 2))
    return lo + 0 * i


def nodes(inactivity=30):
    return [Node("127.0.0.%d" % (i + 2), "n%d" % i, media_base(i), inactivity)
            for i in range(3)]


def start_peer(node, room, name, tone, seconds, delay_ms=0):
    cmd = [PEER, "--url", node.url, "--room", room, "--name", name, "--codec", "opus",
           "--tone", str(tone), "--listen", ",".join(str(t) for t in LISTEN),
           "--seconds", str(seconds), "--delay-ms", str(delay_ms)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs, seconds):
    out = []
    for p in procs:
        so, se = p.communicate(timeout=seconds + 60 * SLOW)
        check(p.returncode == 0, "tt_rtppeer failed: %s" % se)
        r = json.loads(so)
        out.append({int(k): v for k, v in r["tones_db"].items()})
    return out


def wait_up(node, room, n, timeout=20, far=None):
    wait_for(lambda: sum(t["state"] == "up" and far in (None, t["node"])
                         for t in node.trunks(room)) == n,
             timeout * SLOW, "%d trunk(s) up on %s" % (n, node.name))


def reference_levels(br):
    """The three tones in one room of one node: the level each is heard at."""
    secs = 5
    procs = [start_peer(br, "ref", "r%d" % t, t, secs) for t in TONES]
    res = finish(procs, secs)
    ref = {}
    for r, own in zip(res, TONES):
        for t in TONES:
            if t != own:
                ref.setdefault(t, []).append(r[t])
    return {t: sum(v) / len(v) for t, v in ref.items()}


def hears_exactly_once(res, owns, ref, what):
    for r, own in zip(res, owns):
        others = [t for t in owns if t != own]
        for t in others:
            check(abs(r[t] - ref[t]) <= SAME_DB,
                  "%s: the %d Hz talker heard at %.1f dB, a single node gives %.1f "
                  "(lost or doubled): %s" % (what, t, r[t], ref[t], r))
            check(r[t] - r[own] >= MARGIN_DB,
                  "%s: the %d Hz participant hears itself: %s" % (what, own, r))


def test_three_nodes_every_voice_once():
    ns = nodes()
    hub, b, c = ns
    for n in ns:
        n.start()
    try:
        ref = reference_levels(hub)
        print("single node, each talker heard at: %s dB" %
              {t: round(v, 1) for t, v in ref.items()}, flush=True)
        # the hub first: its join claims the room; the leaves' peers start sending later
        secs = 8
        procs = [start_peer(hub, "big", "p450", 450, secs, 3000)]
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:big") == "n0", 10 * SLOW, "hub claim")
        procs.append(start_peer(b, "big", "p750", 750, secs, 2500))
        procs.append(start_peer(c, "big", "p1050", 1050, secs, 2500))
        wait_up(b, "big", 1)
        wait_up(c, "big", 1)
        hub_trunks = hub.trunks("big")
        check(sorted(t["node"] for t in hub_trunks) == ["n1", "n2"] and
              all(t["role"] == "hub" for t in hub_trunks), "hub's trunks: %s" % hub_trunks)
        # leaves never link to each other
        check([t["node"] for t in b.trunks("big")] == ["n0"], "b: %s" % b.trunks("big"))
        # hidden: the room lists only the real participants
        st, room = b.http("GET", "/api/rooms/big")
        check(st in (200, 307), "room GET %s" % st)
        st, room = hub.http("GET", "/api/rooms/big")
        names = sorted(p["name"] for p in room["participants"])
        check(names == ["p450"], "the hub's roster shows trunks: %s" % names)
        res = finish(procs, secs)
        print("cascade, per participant (own tone first): %s" %
              [{t: round(r[t], 1) for t in TONES} for r in res], flush=True)
        hears_exactly_once(res, TONES, ref, "three nodes")
        latency(ns)
        # the leaf's last participant left: its trunk goes on both ends
        wait_for(lambda: not b.trunks("big") and not c.trunks("big"), 20 * SLOW,
                 "the leaves' trunks to end")
        wait_for(lambda: not hub.trunks("big"), 20 * SLOW, "the hub's trunk ends to go")
        check(b.http("GET", "/api/gateways")[0] == 200, "gateways")
    finally:
        for n in ns:
            close(n)


# ---- latency: PCMU clicks from Python ----

def ulaw(sample):
    s = max(-32635, min(32635, sample))
    sign = 0x80 if s < 0 else 0
    s = abs(s) + 0x84
    exp = 7
    for e in range(7, -1, -1):
        if s & (0x4000 >> (7 - e)):
            exp = e
            break
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def unulaw(b):
    b = ~b & 0xFF
    sign, exp, mant = b & 0x80, (b >> 4) & 7, b & 0x0F
    s = ((mant << 3) + 0x84) << exp
    s -= 0x84
    return -s if sign else s


class Pcmu:
    """A plain RTP PCMU participant made through a node's admin API."""

    def __init__(self, node, room, name):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        st, body = node.http("POST", "/api/rooms/%s/participants" % room,
                             {"name": name, "codec": "pcmu",
                              "remote": "127.0.0.1:%d" % self.sock.getsockname()[1]})
        check(st == 201, "join %s: %s %s" % (name, st, body))
        h, p = body["local"].rsplit(":", 1)
        self.far = (h, int(p))
        self.seq = 0
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self.onset = None

    def send(self, payload):
        hdr = struct.pack("!BBHII", 0x80, 0, self.seq & 0xFFFF, self.seq * 160, self.ssrc)
        self.seq += 1
        self.sock.sendto(hdr + payload, self.far)

    def read(self, now):
        while True:
            try:
                d = self.sock.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if len(d) < 12 + 160 or self.onset is not None:
                continue
            pcm = [unulaw(x) for x in d[-160:]]
            if max(abs(x) for x in pcm) > 3000:
                self.onset = now


def latency(ns):
    a, b, c = ns
    room = "lat"
    one = Pcmu(b, room, "one-hop")        # b is the home of "lat": its first join
    wait_for(lambda: REDIS.cmd("GET", "tutti:room:lat") == "n1", 10 * SLOW, "claim of lat")
    src = Pcmu(a, room, "src")            # a is a leaf of it: the click goes a -> b
    local = Pcmu(a, room, "local")        # heard on a without a trunk
    other = Pcmu(c, room, "two-hops")     # c, the other leaf: a -> b -> c
    wait_up(a, room, 1)
    wait_up(c, room, 1)
    silence = bytes([0xFF]) * 160
    tone = bytes(ulaw(int(12000 * math.sin(2 * math.pi * 1000 * i / 8000)))
                 for i in range(160))
    peers = [one, src, local, other]
    rounds = []
    for _ in range(3):
        t0 = time.monotonic()
        for p in peers:
            p.onset = None
        start = None
        n = 0
        while time.monotonic() - t0 < 4.0:
            deadline = t0 + n * 0.02
            now = time.monotonic()
            if now < deadline:
                select.select([p.sock for p in peers], [], [], deadline - now)
            now = time.monotonic()
            for p in peers:
                p.read(now)
            while t0 + n * 0.02 <= now:
                burst = 75 <= n < 100     # 1.5 s silence, 0.5 s tone
                if burst and start is None:
                    start = time.monotonic()
                for p in peers:
                    p.send(tone if (burst and p is src) else silence)
                n += 1
        if all(p.onset for p in (local, one)):
            rounds.append(((local.onset - start) * 1000, (one.onset - start) * 1000,
                           ((other.onset - start) * 1000) if other.onset else None))
    check(rounds, "no round heard the click on the local and the one-hop participant")
    for loc, hop, two in rounds:
        print("click onset: same node %.0f ms, through one trunk %.0f ms (+%.0f), "
              "leaf to leaf through the hub (two trunks) %s" %
              (loc, hop, hop - loc, "%.0f ms (+%.0f)" % (two, two - loc) if two else "missed"),
              flush=True)
    for p in peers:
        p.sock.close()


def test_bad_trunk_requests_change_nothing():
    ns = nodes()
    hub = ns[0]
    hub.start()
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        st, joined = hub.http("POST", "/api/rooms/r/participants",
                              {"name": "x", "codec": "pcmu",
                               "remote": "127.0.0.1:%d" % s.getsockname()[1]})
        check(st == 201, "join: %s" % joined)
        good = {"node": "leafy", "remote": "127.0.0.1:5000",
                "srtp": {"suite": "AES_CM_128_HMAC_SHA1_80",
                         "key": "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"}}
        cases = [
            (b"{not json", 400, None),
            (dict(good, srtp={"suite": "AES_CM_128_HMAC_SHA1_80", "key": "short"}), 400,
             "srtp.key"),
            (dict(good, node="bad node!"), 400, "node"),
            (dict(good, remote="example.org:5"), 400, "remote"),
            (dict(good, extra=1), 400, "body"),
        ]
        for body, status, field in cases:
            st, ans = hub.http("POST", "/api/rooms/r/trunks", body)
            check(st == status and (field is None or ans.get("field") == field),
                  "%r -> %s %s" % (body, st, ans))
        st, ans = hub.http("POST", "/api/rooms/nosuch/trunks", good)
        check(st == 404 and "no such room" in ans["error"], "unknown room: %s %s" % (st, ans))
        check(hub.http("GET", "/api/rooms/nosuch")[0] == 404, "the room was made")
        st, ans = hub.http("DELETE", "/api/rooms/r/trunks/leafy")
        check(st == 404, "DELETE of no trunk: %s" % st)
        check(hub.trunks("r") == [], "a trunk was made: %s" % hub.trunks("r"))
        st, room = hub.http("GET", "/api/rooms/r")
        check(len(room["participants"]) == 1, "participants changed: %s" % room)
        fake_leaf_hears_levels(hub, s, joined["local"])
        s.close()
    finally:
        close(hub)


def fake_leaf_hears_levels(hub, phone, phone_far):
    """The test as a leaf: a good trunk request is answered with the hub's address and key,
    and what the hub sends carries the RFC 6464 level of its mix in the clear (SRTP leaves
    header extensions unencrypted): silence while the hub's phone is quiet, loud once it
    sends a tone. DELETE then ends the hub's end."""
    leaf = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    leaf.bind(("127.0.0.1", 0))
    key = base64.b64encode(os.urandom(30)).decode()
    st, ans = hub.http("POST", "/api/rooms/r/trunks",
                       {"node": "fake", "remote": "127.0.0.1:%d" % leaf.getsockname()[1],
                        "srtp": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": key}})
    check(st == 201 and ans["local"] and ans["srtp"]["key"], "trunk: %s %s" % (st, ans))
    check([t["node"] for t in hub.trunks("r")] == ["fake"], "hub's trunk: %s" % hub.trunks("r"))
    h, p = ans["local"].rsplit(":", 1)
    tone = bytes(ulaw(int(12000 * math.sin(2 * math.pi * 1000 * i / 8000))) for i in range(160))
    far = phone_far.rsplit(":", 1)
    levels = []
    leaf.settimeout(0.1)
    deadline = time.time() + 10 * SLOW
    seq = 0
    while time.time() < deadline and (not levels or min(levels) > 40):
        hdr = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x1234)
        seq += 1
        phone.sendto(hdr + (tone if seq > 25 else bytes([0xFF]) * 160),
                     (far[0], int(far[1])))
        try:
            d = leaf.recv(2048)
        except socket.timeout:
            continue
        if d[0] & 0x10 and len(d) >= 20 and d[12:14] == b"\xbe\xde" and d[16] >> 4 == 1:
            levels.append(d[17] & 0x7F)
        time.sleep(0.02)
    check(levels and levels[0] >= 100, "the quiet mix's first levels: %s" % levels[:5])
    check(min(levels) <= 40, "a loud mix's level never came: %s" % levels[-5:])
    print("trunk levels from the hub: quiet %d, loud %d (-dBov)" % (levels[0], min(levels)),
          flush=True)
    st, _ = hub.http("DELETE", "/api/rooms/r/trunks/fake")
    check(st == 200 and hub.trunks("r") == [], "DELETE: %s %s" % (st, hub.trunks("r")))
    leaf.close()


def test_hub_dies_room_rehomed():
    ns = nodes(INACTIVITY)
    hub, b, c = ns
    for n in ns:
        n.start()
    try:
        first = start_peer(hub, "fail", "h", 450, 60 * SLOW)   # makes n0 the home
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:fail") == "n0", 10 * SLOW, "hub claim")
        pb = start_peer(b, "fail", "b", 1350, 60 * SLOW)
        pc = start_peer(c, "fail", "c", 1650, 60 * SLOW)
        wait_up(b, "fail", 1)
        wait_up(c, "fail", 1)
        hub.kill()
        first.kill()
        t0 = time.time()
        # the leaves' trunks end (inactivity), the home key expires, one leaf claims it
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:fail") in ("n1", "n2"),
                 (TTL + INACTIVITY + 20) * SLOW, "the room to be re-homed")
        home = REDIS.cmd("GET", "tutti:room:fail")
        leaf = c if home == "n1" else b
        wait_up(leaf, "fail", 1, timeout=TTL + INACTIVITY + 20, far=home)
        # the old trunk to the dead hub is gone: by the move, or by the inactivity timeout
        wait_for(lambda: [t["node"] for t in leaf.trunks("fail")] == [home],
                 (INACTIVITY + 20) * SLOW, "the leaf's one trunk to be the new home's")
        print("room re-homed on %s and the other leaf's trunk up %.1f s after the kill "
              "(ttl %d s, inactivity %d s)" % (home, time.time() - t0, TTL, INACTIVITY),
              flush=True)
        # the survivors hear each other again: two fresh peers, one on each (the first two
        # stop talking; they stay in the room until the inactivity timeout)
        for p in (pb, pc):
            p.kill()
            p.wait()
        secs = 5
        procs = [start_peer(b, "fail", "b2", 450, secs, 1500),
                 start_peer(c, "fail", "c2", 1050, secs, 1500)]
        res = finish(procs, secs)
        print("after re-homing: %s" % res, flush=True)
        for r, own, other in zip(res, (450, 1050), (1050, 450)):
            check(r[other] > -40 and r[other] - r[own] >= MARGIN_DB,
                  "survivors do not hear each other: %s" % res)
    finally:
        for n in ns:
            close(n)


if __name__ == "__main__":
    if not shutil.which("redis-server"):
        print("SKIP: redis-server not installed (Debian package redis-server)")
        sys.exit(77)
    REDIS = Redis().start()
    try:
        run([test_bad_trunk_requests_change_nothing, test_three_nodes_every_voice_once,
             test_hub_dies_room_rehomed])
    finally:
        REDIS.close()
