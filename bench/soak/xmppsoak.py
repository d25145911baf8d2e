"""xmppsoak: the soak's XMPP part. A throw-away Prosody (tests/integration/xmpp/xmppenv.py)
that tutti attaches to as the MUC service and call domain, K occupants in one slixmpp
process (occupants.py) chatting in soak@conference.localhost, and one Jingle caller at a
time (tests/integration/xmpp/jingle_caller.py: slixmpp + aiortc) calling the room over and
over: call, talk a few seconds, hang up. Stdlib; the programs are Debian's prosody,
python3-slixmpp and python3-aiortc."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
XMPP_TESTS = os.path.join(SRC, "tests", "integration", "xmpp")
sys.path.insert(0, XMPP_TESTS)
import xmppenv  # noqa: E402
from probe import ROOM, log  # noqa: E402

CALLER = os.path.join(XMPP_TESTS, "jingle_caller.py")
CALL_USER = "soakcall"


def missing(aiortc_py):
    """What the XMPP part lacks on this machine (empty: it can run)."""
    out = []
    if not os.access(xmppenv.PROSODY, os.X_OK):
        out.append("prosody")
    if not os.access(aiortc_py, os.X_OK) or subprocess.run(
            [aiortc_py, "-c", "import slixmpp"], stderr=subprocess.DEVNULL).returncode:
        out.append("python3-slixmpp for %s" % aiortc_py)
    return out


def occupant_names(k):
    return ["soakx%d" % i for i in range(k)]


class OccupantsReader(threading.Thread):
    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.stats = []     # (monotonic, [occupant dicts])
        self.joined = set()
        self.done = None

    def run(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("ev") == "stats":
                self.stats.append((time.monotonic(), ev["occ"]))
            elif ev.get("ev") == "joined":
                self.joined.add(ev["i"])
            elif ev.get("ev") == "done":
                self.done = ev["occ"]

    def last(self):
        return self.stats[-1][1] if self.stats else []


class JingleSlot(threading.Thread):
    """One caller at a time, one call after another until `end`: each call rings
    soak@call_domain, talks --call-s seconds and hangs up."""

    def __init__(self, px, py, call_s, amp, end, kids, stop):
        super().__init__(daemon=True)
        self.px, self.py, self.call_s, self.end, self.amp = px, py, call_s, end, amp
        self.kids, self.stop = kids, stop
        self.calls = []

    def run(self):
        while not self.stop.is_set() and time.time() < self.end - self.call_s - 20:
            self.calls.append(self.one_call())
            self.stop.wait(2)

    def one_call(self):
        t0 = time.time()
        cmd = [self.py, CALLER, "--port", str(self.px.c2s_port), "--jid",
               "%s@%s/call" % (CALL_USER, xmppenv.HOST), "--password",
               xmppenv.password(CALL_USER), "--room", "%s@%s" % (ROOM, self.px.call_domain),
               # as quiet as the SIP callers: tt_loadgen's talkers keep the speaker slots
               # and its N-1 check hears no stranger
               "--jmi", "--tone", "500", "--amp", "%.5f" % (self.amp / 32767.0),
               "--listen", "500", "--hangup-after",
               str(self.call_s), "--seconds", str(self.call_s + 40)]
        p = self.kids.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=self.call_s + 90)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        evs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
        done = next((e for e in evs if e["ev"] == "done"), {})
        hung = any(e["ev"] == "hung_up" for e in evs)
        ok = bool(done.get("connected") and hung and done.get("frames", 0) > 0 and
                  not done.get("errors") and done.get("terminated") is None)
        if not ok:
            log("jingle call failed (exit %s): %s %s" % (p.returncode, evs[-3:], err[-300:]))
        return {"t": round(t0, 1), "ok": ok, "took_s": round(time.time() - t0, 1),
                "frames": done.get("frames"), "rc": p.returncode,
                "out": None if ok else (out[-800:] + err[-800:])}


class XmppSide:
    """Prosody, then (start_clients) the occupants and the caller; stop() ends all."""

    def __init__(self, args, kids, py):
        self.args, self.kids, self.py = args, kids, py
        self.names = occupant_names(args.xmpp)
        self.px = xmppenv.Prosody(users=self.names + [CALL_USER]).start()
        self.occ = None
        self.slot = None
        log("prosody up (c2s %d, components %d), %d occupants to come, calls %s"
            % (self.px.c2s_port, self.px.component_port, args.xmpp,
               "every %g s" % args.jingle_call_s if args.jingle else "off"))

    def section(self):
        # calls need the call domain; media ports come from the soak's [media] if any
        return self.px.xmpp_section(calls=self.args.jingle)

    def start_occupants(self, until):
        proc = self.kids.popen([self.py, os.path.join(HERE, "occupants.py"), "--port",
                                str(self.px.c2s_port), "--room",
                                "%s@%s" % (ROOM, self.px.muc_domain), "--users",
                                ",".join(self.names), "--until", str(until), "--every",
                                str(self.args.xmpp_every), "--interval",
                                str(self.args.sample)],
                               stdout=subprocess.PIPE, text=True)
        self.occ = OccupantsReader(proc)
        self.occ.start()
        end = time.time() + 60
        while len(self.occ.joined) < len(self.names) and time.time() < end and \
                proc.poll() is None:
            time.sleep(0.2)
        log("%d of %d XMPP occupants joined" % (len(self.occ.joined), len(self.names)))
        return len(self.occ.joined) == len(self.names)

    def start_calls(self, end, stop):
        if self.args.jingle:
            self.slot = JingleSlot(self.px, self.py, self.args.jingle_call_s,
                                   self.args.sip_amp, end, self.kids, stop)
            self.slot.start()

    def go(self):
        """Everyone is in the room: the occupants start chatting."""
        if self.occ and self.occ.proc.poll() is None:
            self.occ.proc.send_signal(signal.SIGUSR1)
            log("XMPP occupants chat from now on")

    def stop_occupants(self):
        """SIGTERM: they leave the room; their last counts are kept."""
        if self.occ and self.occ.proc.poll() is None:
            self.occ.proc.terminate()
            try:
                self.occ.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.occ.proc.kill()
            time.sleep(0.3)

    def stop(self):
        self.px.stop()
        if os.environ.get("TT_SOAK_KEEP_PROSODY"):
            log("prosody dir kept: %s" % self.px.dir)
        else:
            shutil.rmtree(self.px.dir, ignore_errors=True)
