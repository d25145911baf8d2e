"""clients: the soak's load, each kind started and read here: tt_loadgen (plain RTP),
peers.py (aiortc), SIPp callers one call after another, and two people on IRC. Every
process goes through Children, so that all of them are stopped at the end. Stdlib."""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "irc"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "sip"))
from ttlib import free_port  # noqa: E402
from ircenv import RawIrc, _die_with_parent  # noqa: E402
from sipplib import SCENARIOS, SIPP, screen_stats  # noqa: E402
from probe import ROOM, log  # noqa: E402

CHANNEL = "#soak"
AIORTC_PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")


class Children:
    """Every process the soak starts, so that all of them are stopped at the end."""

    def __init__(self):
        self.procs = []
        self.lock = threading.Lock()

    def popen(self, cmd, **kw):
        # SIGTERM when the soak dies, even by SIGKILL: no bridge or SIPp outlives it
        p = subprocess.Popen(cmd, preexec_fn=_die_with_parent, **kw)
        with self.lock:
            self.procs.append(p)
        return p

    def stop_all(self):
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class SipSlot(threading.Thread):
    """One SIP caller after another until `end`: each call is one SIPp process running the
    rtp_stream scenario for a random duration."""

    def __init__(self, k, args, sip_port, workdir, end, kids, stop):
        super().__init__(daemon=True)
        self.k, self.args, self.sip_port, self.workdir = k, args, sip_port, workdir
        self.end, self.kids, self.stop = end, kids, stop
        self.calls = []
        self.start_failures = []   # SIPp exited before it made a call: retried

    def run(self):
        rnd = random.Random(self.k)
        # stagger the slots: calls start and end all the time, never all at once
        if self.stop.wait(self.k * self.args.sip_min / max(1, self.args.sip)):
            return
        while not self.stop.is_set():
            left = self.end - time.time() - 5
            if left < 5:
                return
            dur = min(rnd.uniform(self.args.sip_min, self.args.sip_max), left)
            self.calls.append(self.one_call(dur))

    def one_call(self, dur):
        """One call; a SIPp that could not start (it picks its media ports itself and two
        soaks' or tests' ports can collide) is retried, and counted apart."""
        for _ in range(3):
            t0 = time.time()
            cmd = [SIPP, "127.0.0.1:%d" % self.sip_port, "-i", "127.0.0.1", "-p", "0",
                   "-nostdin", "-sf", os.path.join(SCENARIOS, "uac_rtp_stream.xml"),
                   "-s", ROOM, "-m", "1", "-d", str(int(dur * 1000)),
                   "-mp", str(free_port(socket.SOCK_DGRAM)),
                   "-timeout", "%ds" % int(dur + 30), "-timeout_error"]
            p = self.kids.popen(cmd, cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
            try:
                out = p.communicate(timeout=dur + 60)[0]
            except subprocess.TimeoutExpired:
                p.kill()
                out = p.communicate()[0]
            st = screen_stats(out)
            if st.get("created") or p.returncode == 0:
                break
            why = [ln for ln in out.splitlines()
                   if re.search(r"error|unable|cannot|fail", ln, re.I)][:5]
            self.start_failures.append(why or out.strip()[:400])
            log("sip slot %d: SIPp did not start a call (exit %s): %s"
                % (self.k, p.returncode, why or out.strip()[:200]))
        ok = p.returncode == 0 and st.get("ok") == 1
        if not ok:
            log("sip slot %d: call failed (exit %s, %s): %s" % (self.k, p.returncode, st,
                                                                 out.strip()[-300:]))
        return {"t": round(t0, 1), "planned_s": round(dur, 1), "rc": p.returncode,
                "ok": ok, "took_s": round(time.time() - t0, 1),
                "out": None if ok else out.strip()[-1500:]}


class PeersReader(threading.Thread):
    """Reads peers.py's JSON lines; keeps every stats line."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.stats = []      # (monotonic time, peers list)
        self.done = None
        self.events = []

    def run(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("ev") == "stats":
                self.stats.append((time.monotonic(), ev["peers"]))
            elif ev.get("ev") == "done":
                self.done = ev["peers"]
            else:
                self.events.append(ev)

    def connected(self):
        return sum(1 for e in self.events if e.get("ev") == "connected")


# ---- the run ----


class LoadGen:
    """tt_loadgen: N plain RTP participants for the whole run (it creates them, checks N-1
    over the run, then deletes them). --keep-room: the room is everyone's."""

    def __init__(self, kids, loadgen, http_port, n, seconds, bridge_pid):
        self.proc = kids.popen([loadgen, "--url", "http://127.0.0.1:%d" % http_port,
                                "--room", ROOM, "-n", str(n), "--talkers", str(min(3, n)),
                                "--codec", "opus", "--seconds", str(int(seconds)),
                                "--pid", str(bridge_pid), "--check", "--json", "--keep-room"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        self.out["stdout"], self.out["stderr"] = self.proc.communicate()

    def result(self, timeout):
        """Its JSON report once it has ended (killed after timeout s)."""
        try:
            self.proc.wait(timeout=max(10, timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
        time.sleep(0.5)   # the reader thread's last bytes
        out = self.out.get("stdout") or ""
        try:
            return json.loads(out[out.index("{"):])
        except ValueError:
            return {"error": (self.out.get("stderr") or "")[-300:]}


def start_peers(kids, args, http_port, seconds):
    proc = kids.popen([AIORTC_PY, os.path.join(HERE, "peers.py"), "--port", str(http_port),
                       "--room", ROOM, "--count", str(args.webrtc), "--seconds", str(seconds),
                       "--interval", str(args.sample),
                       "--chatters", str(min(args.web_chatters, args.webrtc)),
                       "--chat-every", str(args.web_chat_every)],
                      stdout=subprocess.PIPE, text=True)
    reader = PeersReader(proc)
    reader.start()
    return reader


def stop_peers(reader):
    """SIGTERM: every peer closes its connection (and leaves the room)."""
    reader.proc.send_signal(signal.SIGTERM)
    try:
        reader.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        reader.proc.kill()


class IrcPeople:
    """soaklisten and soakchat in #soak; soakchat says a line every `every` s until `end`
    (or stop), soaklisten counts what the bridge relays."""

    def __init__(self, port):
        self.sent = 0
        self.people = []
        for nick in ("soaklisten", "soakchat"):
            c = RawIrc(port, nick)
            self.people.append(c)
            # RawIrc's socket keeps create_connection's 10 s timeout, and its reader thread
            # ends at the first quiet 10 s: block instead, for the whole soak
            c.sock.settimeout(None)
            c.send("JOIN " + CHANNEL)
            c.wait(" JOIN ", CHANNEL)
        self.listen, self.chat = self.people
        self.listen.wait("tuttisoak", timeout=30)   # the bridge's bot: its JOIN, or NAMES

    def chat_until(self, every, end, stop):
        def go():
            while not stop.wait(every) and time.time() < end - 10:
                self.sent += 1
                self.chat.send("PRIVMSG %s :soak irc line %d" % (CHANNEL, self.sent))
        threading.Thread(target=go, daemon=True).start()

    def web_lines(self):
        return self.listen.count("soak web ")

    def xmpp_lines(self):
        return self.listen.count("soak xmpp ")

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.listen.lines) + "\n")

    def quit(self):
        for c in self.people:
            try:
                c.send("QUIT :soak over")
            except OSError:
                pass

    def close(self):
        for c in self.people:
            c.close()
