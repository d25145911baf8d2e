"""frontdoor: the SIP front door's pieces for tests and benchmarks: a kamailio running the
shipped docs/kamailio/tutti.cfg (its deployment parameters set with -A, never a copy of its
logic), tutti nodes on their own loopback addresses with [cluster] sip_uri, and SIPp calls
through a record-routing proxy (sipp/uac_frontdoor.xml)."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
import sys  # noqa: E402
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
from ttlib import Bridge, SOURCE_DIR, free_port, free_port_udp_tcp, wait_for  # noqa: E402
from sipplib import SIPP, write_ulaw_wav  # noqa: E402

KAMAILIO = shutil.which("kamailio") or ("/usr/sbin/kamailio"
                                        if os.path.exists("/usr/sbin/kamailio") else None)
KAMCMD = shutil.which("kamcmd") or ("/usr/sbin/kamcmd"
                                    if os.path.exists("/usr/sbin/kamcmd") else None)
CFG = os.path.join(SOURCE_DIR, "docs", "kamailio", "tutti.cfg")
SCENARIO = os.path.join(HERE, "sipp", "uac_frontdoor.xml")
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def missing():
    """Why the front door cannot run here, or None."""
    if not KAMAILIO:
        return "kamailio is not installed (Debian package kamailio)"
    if not KAMCMD:
        return "kamcmd is not installed (Debian package kamailio)"
    mods = [MODULES, "/usr/lib/kamailio/modules"]
    if not any(os.path.exists(os.path.join(d, "ndb_redis.so")) for d in mods):
        return "kamailio's ndb_redis is not installed (Debian package kamailio-redis-modules)"
    if not SIPP:
        return "sipp is not installed (Debian package sip-tester)"
    if not shutil.which("redis-server"):
        return "redis-server is not installed (Debian package redis-server)"
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.2", 0))
        s.close()
    except OSError:
        return "127.0.0.2 is not a local address here"
    return None


class Node:
    """One tutti-test node: SIP, HTTP and media on `ip`, registered in Redis as `name`."""

    def __init__(self, redis_port, name, ip, ttl, binary="tutti-test", extra=None, ports=400):
        sip_port = free_port_udp_tcp()
        http_port = free_port()
        lo = free_port(socket.SOCK_DGRAM)
        lo = max(1024, min(lo - lo % 2, 65000 - ports))
        self.name, self.ip = name, ip
        self.sip_uri = "sip:%s:%d" % (ip, sip_port)
        sections = {
            "http": {"listen": ip, "port": http_port},
            # every call comes from the front door's one address: the per-source limit
            # is for phones, not for a proxy (docs/scale-out.md)
            "sip": {"listen": ip, "port": sip_port, "rate_limit": 100000,
                    "rate_burst": 100000},
            "media": {"address": ip, "port_min": lo, "port_max": lo + ports},
            "rooms": {"on_demand": True},
            "bridge": {"log_level": "warn"},
            "cluster": {"redis": "127.0.0.1:%d" % redis_port, "node": name,
                        "public_url": "http://%s:%d" % (ip, http_port),
                        "sip_uri": self.sip_uri, "ttl_s": ttl}}
        for k, v in (extra or {}).items():
            sections.setdefault(k, {}).update(v)
        self.br = Bridge(sections, binary=binary)
        self.br.http_port = http_port
        self.media = (lo, lo + ports)

    def start(self):
        self.br.start()
        return self

    def rooms(self):
        """{room: participant count} on this node."""
        st, body = self.br.http("GET", "/api/rooms", timeout=10)
        if st != 200:
            raise AssertionError("%s: GET /api/rooms: %s" % (self.name, st))
        return {r["name"]: len(r["participants"]) for r in body["rooms"]}

    def close(self):
        """Stops (or kills, when it was killed) and removes its directory."""
        try:
            if self.br.proc and self.br.proc.poll() is None:
                self.br.stop()
        finally:
            self.br.kill()
            if getattr(self.br, "log", None):
                self.br.log.close()
            self.br.tmp.cleanup()


class Kamailio:
    """kamailio -DD -E on 127.0.0.1:port with the shipped cfg, its own runtime dir."""

    def __init__(self, redis_port, node_uris, ping_s=1, threshold=2, fr_ms=2000, workers=1,
                 shm_mb=64):
        """workers=1 for tests: with several UDP workers Kamailio can forward a node's 183
        after its 200 (each reply goes out from whichever worker took it), which a phone
        ignores but which fails SIPp's call (docs/scale-out.md); the benchmark runs 4."""
        self.tmp = tempfile.TemporaryDirectory(prefix="tutti-kam-")
        self.dir = self.tmp.name
        self.port = free_port(socket.SOCK_DGRAM)
        self.ctl = "unix:" + os.path.join(self.dir, "ctl")
        self.list = os.path.join(self.dir, "tutti-nodes.list")
        with open(self.list, "w") as f:
            f.write("".join("1 %s\n" % u for u in node_uris))
        # -m: shared memory (MB) for transactions, which tm keeps a few seconds after
        # they end: Debian's default 64 runs out near 1,000 calls/s (docs/scale-out.md)
        self.args = [KAMAILIO, "-f", CFG, "-DD", "-E", "-Y", self.dir, "-w", self.dir,
                     "-m", str(shm_mb),
                     "-A", "LISTEN=udp:127.0.0.1:%d" % self.port,
                     "-A", 'REDIS="name=tutti;addr=127.0.0.1;port=%d"' % redis_port,
                     "-A", 'DS_LIST="%s"' % self.list, "-A", 'CTL="%s"' % self.ctl,
                     "-A", "DS_PING_S=%d" % ping_s,
                     "-A", "DS_PROBING_THRESHOLD=%d" % threshold,
                     "-A", "FR_MS=%d" % fr_ms, "-A", "WORKERS=%d" % workers]
        self.proc = None
        self.log_path = os.path.join(self.dir, "kamailio.log")

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("kamailio exited with %d:\n%s" % (self.proc.returncode,
                                                                       self.read_log()[-3000:]))
            try:
                return self.dispatcher() is not None
            except (OSError, subprocess.SubprocessError):
                return False
        wait_for(up, 30, "kamailio's control socket")
        return self

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def dispatcher(self):
        """{uri: flags} from `kamcmd dispatcher.list` (flags 'AP': active and probed,
        'IP': inactive, 'TP': trying), or None when kamcmd cannot reach it yet."""
        r = subprocess.run([KAMCMD, "-s", self.ctl, "dispatcher.list"], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0:
            return None
        return dict(re.findall(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)", r.stdout))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        if getattr(self, "log", None):
            self.log.close()
        self.tmp.cleanup()


def sipp_cmd(target, rooms, cwd, hold_ms, rate, extra=(), timeout=120, tone=None):
    """The argv of a SIPp run of sipp/uac_frontdoor.xml: one call per entry of `rooms`
    (sequential), each holding hold_ms while it streams tone.wav (written into cwd, `tone`
    Hz, or silence-free 440 Hz by default)."""
    wav = os.path.join(cwd, "tone.wav")
    if not os.path.exists(wav):
        write_ulaw_wav(wav, tone or 440, 2.0)
    inf = os.path.join(cwd, "rooms.csv")
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\n" + "".join("%s;\n" % r for r in rooms))
    return [SIPP, target, "-i", "127.0.0.1", "-p", "0", "-nostdin", "-timeout",
            "%ds" % int(timeout), "-timeout_error", "-trace_err",
            "-error_file", os.path.join(cwd, "sipp_errors.log"),
            "-sf", SCENARIO, "-inf", inf, "-m", str(len(rooms)), "-r", str(rate),
            "-d", str(int(hold_ms)), "-l", str(max(1, len(rooms))),
            "-mp", str(free_port(socket.SOCK_DGRAM))] + list(extra)


def sipp_start(*a, **kw):
    """sipp_cmd's SIPp started in the background: (Popen, cwd)."""
    cwd = a[2]
    p = subprocess.Popen(sipp_cmd(*a, **kw), cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    return p


def now():
    return time.time()
