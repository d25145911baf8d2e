"""The room directory in Redis ([cluster], docs/scale-out.md), against a real redis-server
started here on a free port and two tutti nodes, a and b, on 127.0.0.1:
- a join on a claims the room (the key in Redis names a, with an expiry; a is in the room's
  node set; a's node entry has its public_url); b answers the room's page and the admin GET
  with a 307 to a; the room's end releases the key;
- a killed with SIGKILL: after the ttl its keys are gone, and a join on b claims the room;
- redis-server restarted (its data gone): both nodes reconnect, register again and claim
  their live rooms again, and /metrics says so;
- a clean stop (SIGTERM) removes the node's entry and releases its rooms at once;
- a bad [cluster] redis address is refused by --check-config.
Figures (printed): Redis commands per second from idle nodes, and per join."""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webrtc"))
from ttlib import (Bridge, BUILD_DIR, SOURCE_DIR, check, default_sections,  # noqa: E402
                   free_port, run, wait_for)
from wsclient import WsClient  # noqa: E402
from rtppeer import FREQ_A, FREQ_R, RtpPeer  # noqa: E402

TTL = 3


class Redis:
    """A redis-server of this test only: loopback, no persistence, in a temporary dir."""

    def __init__(self, password=None):
        self.password = password
        self.port = free_port()
        self.tmp = tempfile.TemporaryDirectory(prefix="tutti-redis-")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.tmp.name, "redis.log"), "w")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.tmp.name] +
            (["--requirepass", self.password] if self.password else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._ping(), 15, "redis-server to answer PING")
        return self

    def _ping(self):
        try:
            return self.cmd("PING") == "PONG"
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.proc = None

    def close(self):
        self.stop()
        self.log.close()
        self.tmp.cleanup()

    def cmd(self, *args):
        """One command over a raw RESP socket; the decoded reply."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        try:
            f = s.makefile("rb")
            if self.password:
                s.sendall(self._resp(("AUTH", self.password)))
                check(self._read(f) == "OK", "AUTH to the test's redis")
            s.sendall(self._resp(args))
            return self._read(f)
        finally:
            s.close()

    @staticmethod
    def _resp(args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    def _read(self, f):
        line = f.readline()
        if not line:
            raise OSError("redis closed the connection")
        t, rest = line[:1], line[1:-2].decode()
        if t == b"+":
            return rest
        if t == b"-":
            raise AssertionError("redis error: " + rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise AssertionError("bad RESP: %r" % line)

    def commands(self):
        info = self.cmd("INFO", "stats")
        for l in info.splitlines():
            if l.startswith("total_commands_processed:"):
                return int(l.split(":")[1])
        raise AssertionError("no total_commands_processed")


def node(redis, name, redis_port=None, **cluster):
    port = free_port()
    cluster.update({"redis": "127.0.0.1:%d" % (redis_port or redis.port), "node": name,
                    "public_url": "http://127.0.0.1:%d" % port, "ttl_s": TTL})
    b = Bridge({"http": {"port": port}, "cluster": cluster})
    b.http_port = port
    b.url = "http://127.0.0.1:%d" % port
    return b


def get(br, path):
    """(status, Location, body) without following redirects."""
    c = http.client.HTTPConnection("127.0.0.1", br.http_port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Location"), body


def metric(br, name):
    status, _, body = get(br, "/metrics")
    check(status == 200, "/metrics: %d" % status)
    for l in body.decode().splitlines():
        if l.startswith(name + " "):
            return float(l.split()[1])
    return None


REDIS = None


def test_join_claims_redirects_releases():
    with node(REDIS, "a") as a, node(REDIS, "b") as b:
        wait_for(lambda: REDIS.cmd("HGET", "tutti:node:a", "public_url") == a.url, 20,
                 "node a's entry")
        # polled: a heartbeat late on a busy machine may let the key lapse for a moment
        wait_for(lambda: 0 < REDIS.cmd("TTL", "tutti:node:a") <= TTL, 20,
                 "node a's entry with an expiry")
        check(REDIS.cmd("ZSCORE", "tutti:nodes", "b") is not None, "b in tutti:nodes")
        # each node names the other (its public_url) for browsers to fail over to
        wait_for(lambda: a.http("GET", "/api/cluster")[1].get("peers") ==
                 [{"node": "b", "url": b.url}], 20, "a's /api/cluster to name b")
        st, cl = b.http("GET", "/api/cluster")
        check(st == 200 and cl["node"] == "b" and cl["redis_up"] is True,
              "b's /api/cluster: %s %s" % (st, cl))
        gw = a.testgw()
        pid = gw.join("alpha", "alice")
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:alpha") == "a", 20, "a's claim")
        wait_for(lambda: 0 < REDIS.cmd("TTL", "tutti:room:alpha") <= TTL, 20,
                 "the claim with an expiry")
        check(REDIS.cmd("SISMEMBER", "tutti:room:alpha:nodes", "a") == 1, "a in the node set")
        # the page and the admin GET on b: sent to a
        st, loc, _ = get(b, "/alpha")
        check(st == 307 and loc == a.url + "/alpha", "b's page: %s %s" % (st, loc))
        st, body = b.http("GET", "/api/rooms/alpha")
        check(st == 307 and body.get("home") == "a" and body.get("url") == a.url +
              "/api/rooms/alpha", "b's admin GET: %s %s" % (st, body))
        # every call on one existing room: the same path on a (307 keeps method and body)
        for method, path, body in (("PATCH", "/api/rooms/alpha", {"locked": True}),
                                   ("DELETE", "/api/rooms/alpha/participants/" + pid, None),
                                   ("GET", "/api/rooms/alpha/recording", None)):
            st, got = b.http(method, path, body)
            check(st == 307 and got.get("home") == "a" and got.get("url") == a.url + path,
                  "b's %s %s: %s %s" % (method, path, st, got))
        st, got = a.http("GET", "/api/rooms/alpha/participants/" + pid)
        check(st == 200, "the redirected DELETE did nothing on b nor a: %s" % st)
        # a call on a room nobody has runs on b as before: its own 404
        st, got = b.http("PATCH", "/api/rooms/nohome2", {"locked": True})
        check(st == 404, "PATCH of a room nobody has: %s %s" % (st, got))
        st, loc, _ = get(a, "/alpha")
        check(st == 200 and loc is None, "a serves its own room's page: %s" % st)
        redirects = 5
        if "webrtc" in default_sections(b.binary):
            # the browser's join on b (a page loaded before the room had a home): "moved"
            ws = WsClient(b.http_port)
            ws.send({"type": "join", "room": "alpha", "name": "carol"})
            m = ws.wait(lambda m: m.get("type") in ("moved", "joined", "error"), 15)
            check(m == {"type": "moved", "room": "alpha", "url": a.url + "/alpha"},
                  "b's answer to a join of a's room: %s" % m)
            # the session may still join a room that has no home: it is claimed on b
            ws.send({"type": "join", "room": "betaroom", "name": "carol"})
            m = ws.wait(lambda m: m.get("type") in ("moved", "joined", "error"), 15)
            check(m.get("type") == "joined", "join of a free room on b: %s" % m)
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:betaroom") == "b", 20, "b's claim")
            ws.close()
            redirects += 1
        else:
            print("  (no webrtc gateway in this build: the WebSocket join is not checked)")
        # a room nobody has: b serves it (the join that follows claims it there)
        st, loc, page = get(b, "/nohome")
        check(st == 200 and b"<html" in page.lower(), "b's page of a free room: %s" % st)
        st, body = b.http("GET", "/api/rooms/nohome")
        check(st == 404, "admin GET of a room nobody has: %s" % st)
        check(metric(b, "tutti_cluster_redirects_total") == redirects,
              "b counted %d redirects" % redirects)
        check(metric(a, "tutti_cluster_claims_total") >= 1, "a counted its claim")
        check(metric(a, "tutti_cluster_redis_up") == 1, "a is up")
        families = set(re.findall(r"^# TYPE (tutti_cluster_\w+) ", get(a, "/metrics")[2].decode(),
                                  re.M))
        with open(os.path.join(SOURCE_DIR, "docs", "operations.md")) as f:
            row = [l for l in f if l.startswith("| `tutti_cluster_*`")]
        check(len(families) == 10 and row and all("`%s`" % n in row[0] for n in families),
              "operations.md's tutti_cluster_* row names %s" % sorted(families))
        gw.leave(pid)
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:alpha") is None, 20,
                 "the room's end to release its home")
    # a clean stop (SIGTERM) removed both nodes' entries at once, not after the ttl
    for n in ("a", "b"):
        check(REDIS.cmd("EXISTS", "tutti:node:" + n) == 0, "node %s's entry left" % n)
        check(REDIS.cmd("ZSCORE", "tutti:nodes", n) is None, "node %s left tutti:nodes" % n)


def test_dead_node_rooms_expire_and_move():
    a = node(REDIS, "a").start()
    try:
        with node(REDIS, "b") as b:
            gw = a.testgw()
            gw.join("gamma", "alice")
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:gamma") == "a", 20, "a's claim")
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(10)
            t0 = time.time()
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:gamma") is None, TTL * 5,
                     "a's claim to expire")
            wait_for(lambda: REDIS.cmd("EXISTS", "tutti:node:a") == 0, TTL * 5,
                     "a's node entry to expire")
            print("  a's claim expired %.1f s after SIGKILL (ttl %d s)" % (time.time() - t0,
                                                                           TTL))
            st, loc, _ = get(b, "/gamma")
            check(st == 200, "b serves the orphaned room's page: %s %s" % (st, loc))
            b.testgw().join("gamma", "bob")
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:gamma") == "b", 20, "b's claim")
            # b's heartbeat removed the dead member from tutti:nodes, and names no peer
            wait_for(lambda: REDIS.cmd("ZSCORE", "tutti:nodes", "a") is None, 20,
                     "a's member of tutti:nodes to be removed")
            wait_for(lambda: b.http("GET", "/api/cluster")[1].get("peers") == [], 20,
                     "b's /api/cluster to stop naming a")
    finally:
        a.kill()
        a.tmp.cleanup()


def hear_each_other(p1, p2, since, what):
    """p1 (FREQ_R) and p2 (FREQ_A) each hear the other's tone and not their own."""
    wait_for(lambda: p1.heard(since)[1] > 8000 * 1.5 and p2.heard(since)[1] > 8000 * 1.5, 20,
             "audio " + what)
    h1, h2 = p1.heard(since)[0], p2.heard(since)[0]
    check(h1[FREQ_A] > -45 and h1[FREQ_A] > h1[FREQ_R] + 15 and
          h2[FREQ_R] > -45 and h2[FREQ_R] > h2[FREQ_A] + 15,
          "the two phones hear each other %s: %s %s" % (what, h1, h2))


def test_redis_restart_reregisters_and_reclaims():
    """...and a call in progress goes on through the outage and after it."""
    with node(REDIS, "a") as a, node(REDIS, "b") as b:
        a.testgw().join("delta", "alice")
        b.testgw().join("eps", "bob")
        p1, p2 = RtpPeer(FREQ_R), RtpPeer(FREQ_A)
        p1.join(a, "delta", "Phone 1")
        p2.join(a, "delta", "Phone 2")
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:delta") == "a" and
                 REDIS.cmd("GET", "tutti:room:eps") == "b", 20, "both claims")
        hear_each_other(p1, p2, time.monotonic() + 1, "before the outage")
        REDIS.stop()
        wait_for(lambda: metric(a, "tutti_cluster_redis_up") == 0, 20, "a to see Redis gone")
        # rooms go on locally while Redis is away
        st, body = a.http("GET", "/api/rooms/delta")
        check(st == 200, "a answers for its room while Redis is down: %s" % st)
        st, loc, _ = get(b, "/delta")
        check(st == 200, "b serves the page while Redis is down: %s" % st)
        hear_each_other(p1, p2, time.monotonic(), "while Redis is down")
        REDIS.start()
        t0 = time.time()
        wait_for(lambda: REDIS.cmd("GET", "tutti:room:delta") == "a" and
                 REDIS.cmd("GET", "tutti:room:eps") == "b" and
                 REDIS.cmd("EXISTS", "tutti:node:a") == 1 and
                 REDIS.cmd("EXISTS", "tutti:node:b") == 1, 30,
                 "both nodes to register and claim again")
        print("  registered and claimed again %.1f s after redis-server came back"
              % (time.time() - t0))
        check(metric(a, "tutti_cluster_redis_up") == 1, "a is up again")
        check(metric(a, "tutti_cluster_reconnects_total") >= 1, "a counted its reconnect")
        st, loc, _ = get(b, "/delta")
        check(st == 307 and loc == a.url + "/delta", "b sends to a again: %s %s" % (st, loc))
        hear_each_other(p1, p2, time.monotonic(), "after Redis came back")
        p1.close()
        p2.close()
    # stopped with their rooms live: the homes were released at once
    check(REDIS.cmd("EXISTS", "tutti:room:delta", "tutti:room:eps") == 0,
          "the rooms' homes released by the clean stop")


def test_redis_commands_per_node():
    """Figures, not limits: commands one idle node sends per second, and per join."""
    with node(REDIS, "a") as a:
        wait_for(lambda: REDIS.cmd("EXISTS", "tutti:node:a") == 1, 20, "a's entry")
        time.sleep(1)
        n0 = REDIS.commands()
        t0 = time.time()
        time.sleep(6)
        idle = (REDIS.commands() - n0 - 1) / (time.time() - t0)   # minus our INFO
        gw = a.testgw()
        for i in range(10):
            gw.join("room%d" % i, "alice")
        wait_for(lambda: REDIS.cmd("EXISTS", "tutti:room:room9") == 1, 20, "ten claims")
        n1 = REDIS.commands()
        t1 = time.time()
        time.sleep(6)
        busy = (REDIS.commands() - n1 - 1) / (time.time() - t1)
        per_hb = TTL / 3.0
        print("  idle node: %.2f commands/s at ttl_s=%d (heartbeat %.0f s): %.1f per heartbeat"
              % (idle, TTL, per_hb, idle * per_hb))
        print("  node with 10 rooms: %.2f commands/s: %.1f per room per heartbeat"
              % (busy, (busy - idle) * per_hb / 10))
        n2 = REDIS.commands()
        st, loc, _ = get(a, "/freshroom")   # the page of a room not here: one lookup
        gw.join("freshroom", "bob")         # one claim
        wait_for(lambda: REDIS.cmd("EXISTS", "tutti:room:freshroom") == 1, 20, "the claim")
        print("  a new room's page and first join: %d commands (including the test's 2 and "
              "heartbeats meanwhile)" % (REDIS.commands() - n2))
        check(idle > 0, "the idle node sends its heartbeat")


def test_redis_auth():
    """requirepass: the right password registers; a wrong one is an error that says which
    keys to check, and the node serves locally meanwhile (no NOAUTH error per command)."""
    locked = Redis(password="s3cret-pass").start()
    try:
        with node(locked, "a", redis_password="s3cret-pass") as a, \
                node(locked, "b", redis_password="hunter2-bad") as b:
            a.testgw().join("zeta", "alice")
            wait_for(lambda: locked.cmd("GET", "tutti:room:zeta") == "a" and
                     locked.cmd("EXISTS", "tutti:node:a") == 1, 20, "a to log in and claim")
            wait_for(lambda: "AUTH refused" in b.read_log(), 20, "b to say AUTH was refused")
            log = b.read_log()
            check("redis_password" in log and "hunter2" not in log,
                  "the error names the keys and never the password")
            check(log.count("AUTH refused") == 1, "the refusal said once, not per retry")
            check("NOAUTH" not in log, "no command was sent before the login")
            check(metric(b, "tutti_cluster_redis_up") == 0, "b is not up")
            check(locked.cmd("EXISTS", "tutti:node:b") == 0, "b registered nothing")
            b.testgw().join("eta", "bob")
            st, _ = b.http("GET", "/api/rooms/eta")
            check(st == 200, "b serves its rooms locally: %s" % st)
            check("s3cret" not in a.read_log(), "the password is never logged")
    finally:
        locked.close()


def test_connect_timeout():
    """An address that takes the SYN and never completes the connect (a listener whose
    accept queue is full) is given up after the connect timeout, and retried."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)
    port = lsn.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):   # fill the accept queue: later SYNs are dropped
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.3)
        with node(REDIS, "t", redis_port=port) as t:
            wait_for(lambda: "no connection after" in t.read_log(), 30,
                     "the connect to be given up")
            check(metric(t, "tutti_cluster_redis_up") == 0, "not up")
            st, _ = t.http("GET", "/api/health")
            check(st == 200, "the node works meanwhile: %s" % st)
    finally:
        for c in fillers:
            c.close()
        lsn.close()


def test_check_config_refuses_bad_address():
    d = tempfile.mkdtemp(prefix="tutti-cl-")
    try:
        p = os.path.join(d, "t.conf")
        with open(p, "w") as f:
            f.write("[cluster]\nredis = 127.0.0.1:notaport\nnode = a b\n")
        r = subprocess.run([os.path.join(BUILD_DIR, "tutti"), "--check-config", p],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode != 0, "--check-config accepted a bad address")
        check("[cluster] redis: the port must be 1..65535" in r.stdout and
              "[cluster] node:" in r.stdout, "the error names the keys: %r" % r.stdout)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    if not shutil.which("redis-server"):
        print("SKIP: redis-server not installed (Debian package redis-server)")
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    REDIS = Redis().start()
    try:
        run([test_join_claims_redirects_releases, test_dead_node_rooms_expire_and_move,
             test_redis_restart_reregisters_and_reclaims, test_redis_commands_per_node,
             test_redis_auth, test_connect_timeout, test_check_config_refuses_bad_address])
    finally:
        REDIS.close()
