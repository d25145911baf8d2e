"""ttlib: start the real tutti (tutti-test: tutti plus the test gateway) and talk to it.

Stdlib only. Integration tests import this module (sys.path gets tests/integration):

    with Bridge({"rooms": {"on_demand": "true"}}) as br:
        gw = br.testgw()
        a = gw.join("standup", "alice")
        status, body = br.http("GET", "/api/rooms")

The bridge listens on free ports on 127.0.0.1 and runs in a temporary directory; on exit it
gets SIGTERM and must exit 0 within the grace period (checked).
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

BUILD_DIR = os.environ.get("TT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE_DIR = os.environ.get("TT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
SHARED_DIR = os.environ.get("TT_SHARED_DIR", os.path.join(SOURCE_DIR, "../shared"))


def free_port(kind=socket.SOCK_STREAM):
    """A port that was free a moment ago on 127.0.0.1 (TCP by default)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def render_config(sections):
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        for k, v in keys.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


_SECTIONS = {}


def default_sections(binary):
    """Section names of a binary's default configuration (which gateways it was built with)."""
    if binary not in _SECTIONS:
        out = subprocess.run([binary, "--print-default-config"], capture_output=True, text=True)
        _SECTIONS[binary] = {l.strip()[1:-1] for l in out.stdout.splitlines()
                             if l.startswith("[") and l.strip().endswith("]")}
    return _SECTIONS[binary]


def free_port_udp_tcp():
    """A port free for both UDP and TCP on 127.0.0.1 a moment ago (SIP listens on both)."""
    for _ in range(50):
        port = free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise OSError("no free UDP+TCP port")


class BridgeError(Exception):
    pass


class Bridge:
    """A running tutti-test. `sections` are merged over the test defaults."""

    def __init__(self, sections=None, binary="tutti-test", args=(), log_level="info",
                 start_timeout=15):
        self.tmp = tempfile.TemporaryDirectory(prefix="tutti-test-")
        self.dir = self.tmp.name
        self.http_port = free_port()
        self.control = os.path.join(self.dir, "control.sock")
        conf = {
            "bridge": {"workers": 1, "log_level": log_level},
            "http": {"port": self.http_port},
        }
        if binary == "tutti-test":
            conf["testgw"] = {"control": self.control}
        for name, keys in (sections or {}).items():
            conf.setdefault(name, {}).update(keys)
        # gateways that listen on a well-known port get a free one, so tests never
        # collide on 5060 (several suites run at once on one machine)
        self.sip_port = None
        if "sip" in default_sections(os.path.join(BUILD_DIR, binary)):
            sip = conf.setdefault("sip", {})
            if sip.get("enabled", True) not in (False, "false"):
                sip.setdefault("port", free_port_udp_tcp())
                self.sip_port = int(sip["port"])
        self.conf = conf
        # HTTP on another loopback address (several nodes on 127.0.0.2, .3...): talk to it there
        listen = conf["http"].get("listen", "127.0.0.1")
        self.host = "127.0.0.1" if listen in ("0.0.0.0", "::") else listen
        self.config_path = os.path.join(self.dir, "tutti.conf")
        with open(self.config_path, "w") as f:
            f.write(render_config(conf))
        self.binary = os.path.join(BUILD_DIR, binary)
        self.args = list(args)
        self.start_timeout = start_timeout
        self.proc = None
        self.log_path = os.path.join(self.dir, "tutti.log")
        self._gws = []

    # -- lifecycle
    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "--config", self.config_path] + self.args,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BridgeError("tutti exited with %d:\n%s" % (self.proc.returncode,
                                                                 self.read_log()))
            try:
                status, body = self.http("GET", "/api/health")
                if status == 200 and body.get("status") == "ok":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise BridgeError("tutti did not answer /api/health:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=None):
        """SIGTERM; returns (exit code, seconds it took). Under the sanitizers the exit's
        leak check walks every heap block with the slow unwinder, seconds on a busy
        machine: the limit grows there, and tests that time the exit itself say their own."""
        if timeout is None:
            timeout = 10.0 if "ASAN_OPTIONS" in os.environ else 3.0
        for gw in self._gws:
            gw.close()
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None, 0.0)
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BridgeError("tutti did not exit within %.1f s of SIGTERM:\n%s"
                              % (timeout, self.read_log()))
        return rc, time.time() - t0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                rc, _ = self.stop()
                if rc != 0:
                    raise BridgeError("tutti exited with %s:\n%s" % (rc, self.read_log()))
            else:
                self.kill()
                sys.stderr.write("---- tutti log ----\n%s\n" % self.read_log())
        finally:
            if getattr(self, "log", None):
                self.log.close()
            self.tmp.cleanup()
        return False

    # -- HTTP
    def http(self, method, path, body=None, headers=None, timeout=5):
        cert = self.conf.get("http", {}).get("tls_cert")
        if cert:  # HTTPS when the bridge has a certificate: trust exactly that one
            import ssl
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False
            conn = http.client.HTTPSConnection(self.host, self.http_port, timeout=timeout,
                                               context=ctx)
        else:
            conn = http.client.HTTPConnection(self.host, self.http_port, timeout=timeout)
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type", "")
        if "json" in ctype:
            return resp.status, json.loads(raw.decode() or "null")
        return resp.status, raw

    # -- the test gateway
    def testgw(self):
        gw = TestGw(self.control)
        self._gws.append(gw)
        return gw


class TestGw:
    """A connection to the test gateway's control socket. Events are queued as they come."""

    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.time() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.events = queue.Queue()
        self.replies = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.lock = threading.Lock()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line.decode())
                (self.replies if msg.get("reply") else self.events).put(msg)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def cmd(self, **kw):
        with self.lock:
            self.sock.sendall((json.dumps(kw) + "\n").encode())
            return self.replies.get(timeout=5)

    def join(self, room, name, caps=("audio", "text"), pin=None):
        req = {"cmd": "join", "room": room, "name": name, "caps": list(caps)}
        if pin is not None:
            req["pin"] = pin
        r = self.cmd(**req)
        if not r.get("ok"):
            raise BridgeError("join failed: %s" % r)
        return r["id"]

    def say(self, pid, text, action=False):
        return self.cmd(cmd="say", id=pid, text=text, action=action)

    def leave(self, pid):
        return self.cmd(cmd="leave", id=pid)

    def wait_event(self, pred, timeout=5.0, what="event"):
        """The first queued or arriving event for which pred(ev) is true; others are kept."""
        deadline = time.time() + timeout
        kept = []
        try:
            while True:
                left = deadline - time.time()
                if left <= 0:
                    raise BridgeError("no %s within %.1f s; saw %s" % (what, timeout, kept))
                try:
                    ev = self.events.get(timeout=left)
                except queue.Empty:
                    continue
                if pred(ev):
                    return ev
                kept.append(ev)
        finally:
            for ev in kept:
                self.events.put(ev)

    def drain(self, seconds=0.3):
        """All events arriving within `seconds`, removed from the queue."""
        out = []
        deadline = time.time() + seconds
        while True:
            left = deadline - time.time()
            if left <= 0:
                return out
            try:
                out.append(self.events.get(timeout=left))
            except queue.Empty:
                return out


def wait_for(pred, timeout=5, what="condition"):
    """pred()'s first true value within timeout seconds (polled every 50 ms), else an
    AssertionError naming what was awaited."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run(tests):
    """Run test functions; print one line each and the plain summary line; exit non-zero on
    failure."""
    passed = failed = 0
    for t in tests:
        t0 = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1f s)" % (t.__name__, time.time() - t0), flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            import traceback
            traceback.print_exc()
            print("FAIL %s: %s" % (t.__name__, e), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
