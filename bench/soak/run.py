#!/usr/bin/env python3
"""run.py: the soak: one room, every network at once, for minutes, under AddressSanitizer.

One room ("soak") on one tutti, everything on 127.0.0.1:
  - RTP      tt_loadgen: --rtp N plain RTP participants through the admin API (3 talkers,
             Opus), checking N-1 correctness, loss and latency over the whole run;
  - WebRTC   bench/soak/peers.py: --webrtc N aiortc peers over /ws (ICE, DTLS-SRTP, Opus),
             silent listeners; the first --web-chatters of them chat;
  - SIP      --sip slots, each running one SIPp call after another (the rtp_stream scenario
             of tests/integration/sip/sipp: a quiet PCMU tone both ways), every call
             --sip-min..--sip-max seconds long, so callers come and go all the time;
  - IRC      a throw-away ngircd, the IRC gateway mapping #soak to the room, a person on IRC
             chatting a line every --irc-every seconds and another one listening;
  - XMPP     not part of it: there is no XMPP gateway yet (no gateways/xmpp).

First --idle seconds of the bridge idle (only the IRC people in the room): a same-run
baseline for tick lateness, which on a shared machine is the machine's. Then every --sample
seconds it records the bridge's RSS (/proc/PID/status VmRSS), its CPU, the tick counters of
the room's worker (GET /api/health) and the room's participants (GET /api/rooms/soak). At
the end it checks:
  - nobody who did not leave on purpose left: every RTP, WebRTC and IRC participant is in
    the room at the end, and their media counters (packets in and out at the bridge, frames
    the aiortc peers decode) still grow in the last sampling interval;
  - tt_loadgen's N-1 check, every SIPp call succeeded, with packets both ways;
  - chat both ways: every IRC line reached every WebRTC peer, every web line reached IRC;
  - RSS flat after warm-up: the slope of a least-squares line over the second half of the
    run, KiB/min, at most --rss-slope-max;
  - tick lateness: late and skipped ticks of the room's worker out of all its ticks once
    everyone is in, at most --late-max-pct (the daemon's target, for a quiet machine);
  - after everyone has gone, only the IRC people are left in the room (no ghosts);
  - SIGTERM: tutti exits 0, and its log holds no AddressSanitizer, LeakSanitizer (leaks)
    or UndefinedBehaviorSanitizer report.
--inject kick|leak makes it fail on purpose (a participant hung up behind its back, a
preloaded library that leaks), to show that the checks can fail.
Prints a summary table (and --out FILE in Markdown, --json FILE with every sample) and
exits 1 when anything failed. Every child is stopped at the end, on failure too.

The build must be an ASan build (--no-asan runs another one and skips the leak check):

  cmake -S . -B build-asan -DTT_SANITIZE=address,undefined -DTT_BENCH=ON
  cmake --build build-asan -j2 --target tutti tt_loadgen
  python3 bench/soak/run.py [--build build-asan] [--minutes 10] [--rtp 100] [--webrtc 20]
                            [--sip 20] [--out build-asan/soak.md] [--json build-asan/soak.json]

or `cmake --build build-asan --target bench_soak`. A quick run: --minutes 1.5 --rtp 20
--webrtc 4 --sip 4 --sip-min 10 --sip-max 20 (its RSS check fails: in a run that short the
second half is still warm-up; RSS levels off about a minute after everyone is in). Needs ngircd, sipp (sip-tester) and
python3-aiortc for /usr/bin/python3 (TT_AIORTC_PYTHON to use another).
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "irc"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "sip"))
from ttlib import free_port, free_port_udp_tcp, render_config  # noqa: E402
from ircenv import NgIrcd, RawIrc, _die_with_parent, have_ngircd  # noqa: E402
from sipplib import SCENARIOS, SIPP, screen_stats, write_ulaw_wav  # noqa: E402

ROOM = "soak"
CHANNEL = "#soak"
AIORTC_PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
TICK = os.sysconf("SC_CLK_TCK")
# Sanitizer reports in the bridge's log (stdout and stderr go there).
SAN_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                    r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ---- the bridge's numbers ----

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get_json(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return json.loads(r.read().decode())


def ticks(health, worker=None):
    """(ticks, late, skipped, max late us) of one worker of GET /api/health (the room's:
    an idle worker's punctual ticks would dilute the figure), or summed over all."""
    t = l = s = m = 0
    for w in health.get("workers", []):
        if worker is not None and w.get("index") != worker:
            continue
        t += w.get("ticks", 0)
        l += w.get("late", 0)
        s += w.get("skipped", 0)
        m = max(m, w.get("max_late_us", 0))
    return t, l, s, m


def slope_per_min(points):
    """Least-squares slope of (seconds, KiB) points in KiB per minute, or None."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return 60.0 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def is_asan(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out


# ---- children ----

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

def bridge_conf(workdir, http_port, sip_port, irc_port, args):
    conf = {
        "bridge": {"log_level": args.log_level},
        "http": {"port": http_port},
        "rooms": {"max_participants": 10000},
        "sip": {"port": sip_port, "transports": "udp",
                # one source address sends every call: the per-source limit is for real peers
                "rate_limit": 100000, "rate_burst": 100000},
        "webrtc": {"allow_loopback": True, "max_per_address": 1000},
        "irc.soak": {"server": "127.0.0.1", "port": irc_port, "nick": "tuttisoak",
                     "channels": "%s=%s" % (CHANNEL, ROOM)},
    }
    path = os.path.join(workdir, "tutti.conf")
    with open(path, "w") as f:
        f.write(render_config(conf))
    return path


LEAK_C = """#include <stdlib.h>
/* --inject leak: a block nobody points to, allocated when the bridge starts */
__attribute__((constructor)) static void soak_leak(void)
{
	void *volatile p = malloc(4242);
	p = NULL;
	(void)p;
}
"""


def leak_preload(binary, workdir):
    """LD_PRELOAD that leaks one block: the ASan runtime first, as it must be."""
    libasan = next((ln.split("=>")[1].split()[0] for ln in subprocess.run(
        ["ldd", binary], capture_output=True, text=True).stdout.splitlines()
        if "libasan" in ln and "=>" in ln), None)
    src, so = os.path.join(workdir, "leak.c"), os.path.join(workdir, "leak.so")
    with open(src, "w") as f:
        f.write(LEAK_C)
    subprocess.run(["cc", "-shared", "-fPIC", "-O0", "-o", so, src], check=True)
    return "%s %s" % (libasan, so)


def sanitizer_env(asan):
    env = dict(os.environ)
    if asan:
        # The quarantine keeps freed blocks (256 MiB by default) and would make RSS grow for
        # minutes on its own; 16 MiB still catches a use-after-free of recent memory.
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16"
        env["LSAN_OPTIONS"] = ("suppressions=%s:print_suppressions=0"
                               % os.path.join(SRC, "tests", "lsan.supp"))
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


def room(http_port):
    try:
        return get_json(http_port, "/api/rooms/" + ROOM)
    except Exception:  # noqa: BLE001 - a missing room (404) or a slow answer: no sample
        return None


def sample(pid, http_port, t0):
    s = {"t": round(time.time() - t0, 1), "rss_kib": rss_kib(pid), "cpu_s": cpu_s(pid),
         "load": os.getloadavg()[0]}
    r = room(http_port)
    try:
        s["ticks"], s["late"], s["skipped"], s["max_late_us"] = ticks(
            get_json(http_port, "/api/health"), r.get("worker") if r else None)
    except Exception:  # noqa: BLE001
        s["health_error"] = True
    if r is not None:
        s["worker"] = r.get("worker")
        parts = r.get("participants", [])
        s["by_network"] = {}
        for p in parts:
            s["by_network"][p["network"]] = s["by_network"].get(p["network"], 0) + 1
        s["parts"] = {"%s/%s" % (p["network"], p["name"]): (
            (p.get("media") or {}).get("packets_in"), (p.get("media") or {}).get("packets_out"))
            for p in parts}
    return s


def kick_one(http_port):
    """--inject kick: hang up one RTP participant behind the soak's back."""
    r = room(http_port) or {}
    p = next((p for p in r.get("participants", []) if p["network"] == "rtp"), None)
    if p:
        req = urllib.request.Request("http://127.0.0.1:%d/api/rooms/%s/participants/%s"
                                     % (http_port, ROOM, p["id"]), method="DELETE")
        urllib.request.urlopen(req, timeout=5).close()
        log("--inject kick: hung up %s (%s)" % (p["name"], p["id"]))
    return True


def expected_stayers(args):
    return (["rtp/lg%d" % i for i in range(args.rtp)]
            + ["web/web%d" % i for i in range(args.webrtc)]
            + ["irc/soakchat", "irc/soaklisten"])


def sip_media(samples):
    """(SIP participants seen in two samples or more, those of them whose packets in and
    out both stayed 0): SIPp's rtp_stream sends, and the bridge sends the mix back."""
    seen, last = {}, {}
    for s in samples:
        for name, io in s.get("parts", {}).items():
            if name.startswith("phone/"):
                seen[name] = seen.get(name, 0) + 1
                last[name] = io
    long_ = [n for n, k in seen.items() if k >= 2]
    silent = [n for n in long_ if not (last[n][0] or 0) > 0 or not (last[n][1] or 0) > 0]
    return long_, silent


def wait_until(pred, timeout, step=0.5):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def run(args, workdir, kids, res):
    build = os.path.abspath(args.build)
    binary = os.path.join(build, "tutti")
    loadgen = os.path.join(build, "bench", "loadgen", "tt_loadgen")
    for f in (binary, loadgen):
        if not os.access(f, os.X_OK):
            raise SystemExit("%s is missing: build it (see --help)" % f)
    asan = is_asan(binary)
    res["asan"] = asan
    if not asan and not args.no_asan:
        raise SystemExit("%s is not an ASan build (cmake -DTT_SANITIZE=address,undefined); "
                         "--no-asan runs it anyway without the leak check" % binary)
    missing = [w for w, ok in (("ngircd", have_ngircd()), ("sipp", SIPP),
                               (AIORTC_PY, os.access(AIORTC_PY, os.X_OK))) if not ok]
    if missing:
        raise SystemExit("missing: %s (scripts/debian-packages.txt)" % ", ".join(missing))

    run_s = args.minutes * 60
    http_port, sip_port = free_port(), free_port_udp_tcp()
    irc = NgIrcd().start()
    kids.irc = irc
    conf = bridge_conf(workdir, http_port, sip_port, irc.port, args)
    tlog = open(os.path.join(workdir, "tutti.log"), "w")
    env = sanitizer_env(asan)
    if args.inject == "leak":
        env["LD_PRELOAD"] = leak_preload(binary, workdir)
    bridge = kids.popen([binary, "--config", conf], stdout=tlog, stderr=subprocess.STDOUT,
                        cwd=workdir, env=env)
    res["bridge_pid"] = bridge.pid

    def up():
        try:
            return get_json(http_port, "/api/health", 1).get("status") == "ok"
        except Exception:  # noqa: BLE001
            return bridge.poll() is not None
    if not wait_until(up, 60, 0.2) or bridge.poll() is not None:
        raise RuntimeError("tutti did not start (see %s/tutti.log)" % workdir)
    log("tutti %s up (pid %d, http %d, sip %d, ngircd %d), work dir %s"
        % ("(ASan)" if asan else "", bridge.pid, http_port, sip_port, irc.port, workdir))

    # IRC: a listener and a chatter in the channel; the bridge's bot joins it.
    ircs = []
    for nick in ("soaklisten", "soakchat"):
        c = RawIrc(irc.port, nick)
        # RawIrc's socket keeps create_connection's 10 s timeout, and its reader thread
        # ends at the first quiet 10 s: block instead, for the whole soak
        c.sock.settimeout(None)
        c.send("JOIN " + CHANNEL)
        c.wait(" JOIN ", CHANNEL)
        ircs.append(c)
    listen, chat = ircs
    kids.ircs = ircs
    listen.wait("tuttisoak", timeout=30)   # its JOIN, or NAMES

    # Baseline, same machine, same minutes: the bridge idle but for the IRC people. Tick
    # lateness here is the machine's (other processes, ASan), not the load's.
    if args.idle > 0:
        a = sample(bridge.pid, http_port, time.time())
        time.sleep(args.idle)
        b = sample(bridge.pid, http_port, time.time())
        if "ticks" in a and "ticks" in b and b["ticks"] > a["ticks"]:
            nt = b["ticks"] - a["ticks"]
            nl, ns = b["late"] - a["late"], b["skipped"] - a["skipped"]
            res["idle"] = {"seconds": args.idle, "ticks": nt, "late": nl, "skipped": ns,
                           "pct": 100.0 * (nl + ns) / nt, "rss_kib": b["rss_kib"],
                           "cpu_pct": 100.0 * (b["cpu_s"] - a["cpu_s"]) / args.idle,
                           "load": b["load"]}
            log("idle baseline: %(late)d late + %(skipped)d skipped of %(ticks)d ticks, "
                "RSS %(rss_kib)d KiB, CPU %(cpu_pct).1f %%" % res["idle"])

    t0 = time.time()
    res["t0"] = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t0))
    end = t0 + run_s
    lg = kids.popen([loadgen, "--url", "http://127.0.0.1:%d" % http_port, "--room", ROOM,
                     "-n", str(args.rtp), "--talkers", str(min(3, args.rtp)), "--codec", "opus",
                     "--seconds", str(int(run_s + 20)), "--pid", str(bridge.pid),
                     "--check", "--json", "--keep-room"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lg_out = {}

    def lg_reader():
        lg_out["stdout"], lg_out["stderr"] = lg.communicate()
    threading.Thread(target=lg_reader, daemon=True).start()

    peers = kids.popen([AIORTC_PY, os.path.join(HERE, "peers.py"), "--port", str(http_port),
                        "--room", ROOM, "--count", str(args.webrtc), "--seconds",
                        str(run_s + 300), "--interval", str(args.sample),
                        "--chatters", str(min(args.web_chatters, args.webrtc)),
                        "--chat-every", str(args.web_chat_every)],
                       stdout=subprocess.PIPE, text=True)
    pr = PeersReader(peers)
    pr.start()

    stop = threading.Event()
    kids.stop_event = stop
    write_ulaw_wav(os.path.join(workdir, "tone.wav"), 700, 2.0, amp=args.sip_amp)
    slots = [SipSlot(k, args, sip_port, workdir, end, kids, stop) for k in range(args.sip)]
    for s in slots:
        s.start()

    irc_sent = [0]

    def irc_chat():
        while not stop.wait(args.irc_every) and time.time() < end - 10:
            irc_sent[0] += 1
            chat.send("PRIVMSG %s :soak irc line %d" % (CHANNEL, irc_sent[0]))
    ichat = threading.Thread(target=irc_chat, daemon=True)
    ichat.start()

    # ---- sampling ----
    samples = []
    res["samples"] = samples
    all_in_at = None
    stayers = expected_stayers(args)
    gone = {}          # stayer -> first sample time it was missing, once everyone was in
    next_t = time.time()
    kicked = False
    while time.time() < end:
        if args.inject == "kick" and not kicked and time.time() >= t0 + run_s / 2:
            kicked = kick_one(http_port)
        if bridge.poll() is not None:
            raise RuntimeError("tutti exited with %s during the run" % bridge.returncode)
        s = sample(bridge.pid, http_port, t0)
        samples.append(s)
        present = set(s.get("parts", {}))
        if all_in_at is None and all(x in present for x in stayers):
            all_in_at = s["t"]
            log("everyone is in after %.1f s: %s" % (all_in_at, s.get("by_network")))
        elif all_in_at is not None and "parts" in s:
            for x in stayers:
                if x not in present and x not in gone:
                    gone[x] = s["t"]
                    log("LOST: %s is no longer in the room (t=%.1f s)" % (x, s["t"]))
        if len(samples) % max(1, int(60 / args.sample)) == 0:
            log("t=%4.0f s  RSS %d KiB  %s  ticks %s late %s skipped %s  load %.1f" % (
                s["t"], s["rss_kib"] or -1, s.get("by_network"), s.get("ticks"),
                s.get("late"), s.get("skipped"), s["load"]))
        next_t += args.sample
        time.sleep(max(0.0, min(next_t, end) - time.time()))
    final = sample(bridge.pid, http_port, t0)
    samples.append(final)
    res["all_in_at_s"] = all_in_at

    # ---- the end of the run: who is still here, and does media still flow ----
    checks = []
    res["checks"] = checks

    def check(name, ok, detail):
        checks.append({"check": name, "ok": bool(ok), "detail": detail})
        log("%s %s: %s" % ("ok  " if ok else "FAIL", name, detail))

    present = set(final.get("parts", {}))
    missing = [x for x in stayers if x not in present]
    check("everyone joined", all_in_at is not None,
          "all %d stayers in the room after %s s" % (len(stayers), all_in_at)
          if all_in_at is not None else "never all in; missing at the end: %s" % missing[:10])
    check("nobody lost", not missing and not gone,
          "%d RTP + %d WebRTC + 2 IRC still in the room" % (args.rtp, args.webrtc)
          if not missing and not gone else "missing %s; left during the run %s"
          % (missing[:10], dict(list(gone.items())[:10])))
    # media counters at the bridge over the last interval
    prev = samples[-2] if len(samples) >= 2 else {}
    stalled = []
    for x in stayers:
        if x.startswith("irc/"):
            continue
        a, b = prev.get("parts", {}).get(x), final.get("parts", {}).get(x)
        if not a or not b or a[0] is None or b[0] is None or b[0] <= a[0] or b[1] <= a[1]:
            stalled.append(x)
    check("media still flows", not stalled,
          "packets in and out grew for every RTP and WebRTC participant in the last %.0f s"
          % (final["t"] - prev.get("t", 0)) if not stalled
          else "%d stalled, e.g. %s" % (len(stalled), stalled[:5]))
    if len(pr.stats) >= 2:
        (ta, pa), (tb, pb) = pr.stats[-2], pr.stats[-1]
        deaf = [b["i"] for a, b in zip(pa, pb) if b["frames_rx"] <= a["frames_rx"]]
        fps = min((b["frames_rx"] - a["frames_rx"]) / max(0.1, tb - ta) for a, b in zip(pa, pb))
        check("WebRTC peers hear audio", not deaf,
              "every peer decoded frames in its last %.0f s (slowest %.0f frames/s)"
              % (tb - ta, fps) if not deaf else "peers without new frames: %s" % deaf)
    else:
        check("WebRTC peers hear audio", args.webrtc == 0, "no stats lines from peers.py")

    # ---- wind down: SIP slots end by themselves, IRC chat stops, chat is delivered ----
    stop.set()
    for s in slots:
        s.join(timeout=90)
    time.sleep(args.sample + 5)   # the last chat lines, and one more peers' stats line
    calls = [c for s in slots for c in s.calls]
    bad = [c for c in calls if not c["ok"]]
    check("SIP calls", not bad and (calls or args.sip == 0),
          "%d calls, %d failed" % (len(calls), len(bad)))
    res["sip_calls"] = calls
    long_, silent = sip_media(samples)
    check("SIP media both ways", not silent and (long_ or args.sip == 0),
          "%d SIP participants sampled twice or more, %d without packets in or out%s"
          % (len(long_), len(silent), ": %s" % silent[:5] if silent else ""))
    res["peer_events"] = [e for e in pr.events if e.get("ev") != "connected"][:50]
    res["peers_last"] = last_stats = pr.stats[-1][1] if pr.stats else []
    res["sipp_start_failures"] = [f for s in slots for f in s.start_failures]
    last = last_stats
    web_tx = sum(p["chat_tx"] for p in last)
    web_on_irc = listen.count("soak web ")
    with open(os.path.join(workdir, "irc_listen.log"), "w") as f:
        f.write("\n".join(listen.lines) + "\n")
    check("web chat reaches IRC", web_on_irc == web_tx,
          "%d of %d lines" % (web_on_irc, web_tx))
    irc_rx = [p["chat_rx_irc"] for p in last]
    check("IRC chat reaches every WebRTC peer",
          irc_rx and min(irc_rx) == irc_sent[0] or args.webrtc == 0,
          "%d lines sent, fewest received by a peer %s" % (irc_sent[0],
                                                          min(irc_rx) if irc_rx else "-"))
    res["chat"] = {"irc_sent": irc_sent[0], "web_sent": web_tx, "web_on_irc": web_on_irc,
                   "irc_rx_min": min(irc_rx) if irc_rx else None}

    # peers leave (SIGTERM closes their connections); tt_loadgen ends on its own and
    # deletes its participants through the API
    peers.send_signal(signal.SIGTERM)
    try:
        peers.wait(timeout=30)
    except subprocess.TimeoutExpired:
        peers.kill()
    lg_left = end + 20 + 60 - time.time()
    try:
        lg.wait(timeout=max(10, lg_left))
    except subprocess.TimeoutExpired:
        lg.kill()
    time.sleep(0.5)
    try:
        lgj = json.loads(lg_out.get("stdout", "")[lg_out.get("stdout", "").index("{"):])
    except (ValueError, KeyError):
        lgj = {"error": (lg_out.get("stderr") or "")[-300:]}
    res["loadgen"] = {k: v for k, v in lgj.items() if k != "listeners"}
    check("tt_loadgen N-1 and loss", lg.returncode == 0 and lgj.get("check_ok"),
          "exit %s, N-1 %s, loss %s %%, %s of %s streams, latency p50 %s ms"
          % (lg.returncode, "ok" if lgj.get("check_ok") else "FAILED", lgj.get("loss_pct"),
             lgj.get("streams"), lgj.get("participants"), lgj.get("latency_ms_median")))

    def only_irc():
        r = room(http_port)
        return r is not None and all(p["network"] == "irc" for p in r["participants"])
    clean = wait_until(only_irc, 30)
    r = room(http_port) or {}
    check("no ghosts", clean, "after everyone left the room holds %s" % sorted(
        "%s/%s" % (p["network"], p["name"]) for p in r.get("participants", []))[:10])

    # ---- figures ----
    half = [(s["t"], s["rss_kib"]) for s in samples if s["t"] >= run_s / 2 and s["rss_kib"]]
    slope = slope_per_min(half)
    res["rss_slope_kib_min"] = slope
    res["rss_kib"] = {"after_setup": next((s["rss_kib"] for s in samples
                                           if all_in_at is not None and s["t"] >= all_in_at),
                                          None),
                      "half": half[0][1] if half else None, "end": final["rss_kib"],
                      "max": max(s["rss_kib"] or 0 for s in samples)}
    check("RSS flat after warm-up", slope is not None and slope <= args.rss_slope_max,
          "%s KiB/min over the second half (limit %d)" % (
              "%.1f" % slope if slope is not None else "?", args.rss_slope_max))
    # ticks of the room's worker from the first sample after everyone was in (steady
    # state; the joins are set-up) and over the whole run
    ok_s = [s for s in samples if "ticks" in s and s.get("worker") == final.get("worker")]
    steady = [s for s in ok_s if all_in_at is not None and s["t"] >= all_in_at]
    res["ticks"] = {}
    for name, part in (("whole", ok_s), ("steady", steady)):
        if len(part) >= 2 and part[-1]["ticks"] > part[0]["ticks"]:
            a, b = part[0], part[-1]
            nt, nl, ns = b["ticks"] - a["ticks"], b["late"] - a["late"], b["skipped"] - a["skipped"]
            res["ticks"][name] = {"ticks": nt, "late": nl, "skipped": ns,
                                  "pct": 100.0 * (nl + ns) / nt, "from_s": a["t"],
                                  "max_late_us": b.get("max_late_us")}
    st = res["ticks"].get("steady")
    if st:
        check("tick lateness", st["pct"] <= args.late_max_pct,
              "room's worker after everyone was in: %d late + %d skipped of %d ticks = "
              "%.3f %% (limit %.3f %%), max late %.1f ms"
              % (st["late"], st["skipped"], st["ticks"], st["pct"], args.late_max_pct,
                 (st["max_late_us"] or 0) / 1000))
    else:
        check("tick lateness", False, "no tick counters in GET /api/health")
    res["cpu_pct"] = (100.0 * (final["cpu_s"] - samples[0]["cpu_s"])
                      / max(1.0, final["t"] - samples[0]["t"]))
    res["load_mean"] = sum(s["load"] for s in samples) / len(samples)

    # ---- SIGTERM, exit code, sanitizer reports ----
    for c in ircs:
        try:
            c.send("QUIT :soak over")
        except OSError:
            pass
    t1 = time.time()
    bridge.send_signal(signal.SIGTERM)
    try:
        rc = bridge.wait(timeout=120)   # LeakSanitizer's scan at exit takes a while
    except subprocess.TimeoutExpired:
        bridge.kill()
        rc = "killed after 120 s"
    res["exit"] = {"rc": rc, "seconds": round(time.time() - t1, 1)}
    tlog.close()
    with open(os.path.join(workdir, "tutti.log"), errors="replace") as f:
        text = f.read()
    reports = [ln for ln in text.splitlines() if SAN_RE.search(ln)]
    res["sanitizer"] = reports[:20]
    if reports:   # the report itself, for the reader of the soak's output
        lines = text.splitlines()
        at = next(i for i, ln in enumerate(lines) if SAN_RE.search(ln))
        log("sanitizer report (from tutti.log):\n" + "\n".join(lines[at:at + 60]))
    check("exit on SIGTERM", rc == 0, "exit %s after %.1f s" % (rc, res["exit"]["seconds"]))
    check("sanitizers" if asan else "sanitizers (not an ASan build: leaks not checked)",
          not reports, "no ASan, LSan or UBSan report" if not reports
          else "%d report lines, e.g. %s (log kept in %s)" % (len(reports), reports[0], workdir))


def summary(args, res):
    t = res.get("ticks") or {}
    lg = res.get("loadgen") or {}
    rss = res.get("rss_kib") or {}
    rows = [("participants", "%d RTP (tt_loadgen, 3 talkers), %d WebRTC (aiortc), %d SIP slots "
             "(SIPp, %g-%g s calls), 2 IRC; XMPP: no gateway yet"
             % (args.rtp, args.webrtc, args.sip, args.sip_min, args.sip_max)),
            ("build", "ASan + UBSan" if res.get("asan") else "not sanitized"),
            ("started / length", "%s / %g min" % (res.get("t0"), args.minutes)),
            ("everyone in after", "%s s" % res.get("all_in_at_s")),
            ("SIP calls", "%d (%d failed)" % (len(res.get("sip_calls", [])),
                                              sum(1 for c in res.get("sip_calls", [])
                                                  if not c["ok"]))),
            ("chat", "IRC→web %s sent, fewest received %s; web→IRC %s of %s" % (
                (res.get("chat") or {}).get("irc_sent"), (res.get("chat") or {}).get("irc_rx_min"),
                (res.get("chat") or {}).get("web_on_irc"), (res.get("chat") or {}).get("web_sent"))),
            ("RSS", "%s KiB after set-up, %s at half time, %s at the end, max %s" % (
                rss.get("after_setup"), rss.get("half"), rss.get("end"), rss.get("max"))),
            ("RSS slope, second half", "%.1f KiB/min" % res["rss_slope_kib_min"]
             if res.get("rss_slope_kib_min") is not None else "?"),
            ("ticks late + skipped (room's worker)", "; ".join(
                "%s: %d + %d of %d (%.3f %%)" % (k, v["late"], v["skipped"], v["ticks"], v["pct"])
                for k, v in t.items()) + ("; max late %.1f ms" % (
                    (t.get("whole", {}).get("max_late_us") or 0) / 1000)) if t else "?"),
            ("idle baseline (before the load, same run)", "%(seconds)g s: %(late)d late + "
             "%(skipped)d skipped of %(ticks)d ticks (%(pct).3f %%), RSS %(rss_kib)d KiB, "
             "CPU %(cpu_pct).1f %%" % res["idle"] if res.get("idle") else "not measured"),
            ("bridge CPU", "%.1f %% of one core (mean)" % res["cpu_pct"]
             if "cpu_pct" in res else "?"),
            ("tt_loadgen", "loss %s %%, late %s %%, latency p50 %s / p99 %s ms, N-1 %s" % (
                lg.get("loss_pct"), lg.get("late_pct"), lg.get("latency_ms_median"),
                lg.get("latency_ms_p99"), "ok" if lg.get("check_ok") else "FAILED")),
            ("load average (1 min), mean", "%.2f on %d CPUs" % (res.get("load_mean", -1),
                                                              os.cpu_count())),
            ("exit on SIGTERM", "%s" % res.get("exit"))]
    out = ["| | |", "|---|---|"] + ["| %s | %s |" % r for r in rows]
    out += ["", "| check | result | detail |", "|---|:-:|---|"]
    out += ["| %s | %s | %s |" % (c["check"], "ok" if c["ok"] else "**FAIL**", c["detail"])
            for c in res.get("checks", [])]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    ap.add_argument("--build", default=os.path.join(SRC, "build-asan"),
                    help="build directory with tutti and tt_loadgen (default build-asan)")
    ap.add_argument("--no-asan", action="store_true", help="allow a build without ASan")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rtp", type=int, default=100)
    ap.add_argument("--webrtc", type=int, default=20)
    ap.add_argument("--sip", type=int, default=20, help="concurrent SIP callers")
    ap.add_argument("--sip-min", type=float, default=30, help="shortest call, s")
    ap.add_argument("--sip-max", type=float, default=60, help="longest call, s")
    ap.add_argument("--sip-amp", type=int, default=400,
                    help="SIPp's tone amplitude (quiet: the RTP talkers keep the speaker slots)")
    ap.add_argument("--irc-every", type=float, default=5, help="s between IRC lines")
    ap.add_argument("--web-chatters", type=int, default=2)
    ap.add_argument("--web-chat-every", type=float, default=10)
    ap.add_argument("--idle", type=float, default=30,
                    help="s of idle baseline before the load (tick lateness of the machine)")
    ap.add_argument("--sample", type=float, default=5, help="s between samples")
    ap.add_argument("--rss-slope-max", type=float, default=256, help="KiB/min")
    ap.add_argument("--late-max-pct", type=float, default=0.1,
                    help="late + skipped ticks, %% of all (the daemon's target: < 0.1 %%)")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--out", help="write the summary (Markdown) here too")
    ap.add_argument("--json", help="write every sample and result here")
    ap.add_argument("--inject", choices=("kick", "leak"),
                    help="prove the checks can fail: hang up one RTP participant at half "
                         "time (kick), or preload a library that leaks a block (leak)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (tutti.log)")
    args = ap.parse_args()
    if args.minutes <= 0 or args.sip_min <= 0 or args.sip_max < args.sip_min:
        ap.error("bad --minutes or --sip-min/--sip-max")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    workdir = tempfile.mkdtemp(prefix="tt-soak-")
    os.chmod(workdir, 0o755)
    kids = Children()
    kids.irc, kids.ircs, kids.stop_event = None, [], None
    res = {"args": vars(args), "checks": []}
    # SIGTERM to the soak itself: clean up like an exception
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        run(args, workdir, kids, res)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - report, then clean up
        res["checks"].append({"check": "run", "ok": False, "detail": "%s: %s"
                              % (type(e).__name__, e)})
        log("run aborted: %s: %s" % (type(e).__name__, e))
    finally:
        if kids.stop_event:
            kids.stop_event.set()
        for c in kids.ircs:
            c.close()
        kids.stop_all()
        if kids.irc:
            kids.irc.cleanup()
    ok = bool(res["checks"]) and all(c["ok"] for c in res["checks"])
    md = summary(args, res)
    print(md)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log("work dir kept: %s (tutti.log)" % workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
