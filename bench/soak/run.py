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
  - XMPP     a throw-away Prosody (tests/integration/xmpp/xmppenv.py) with tutti as its MUC
             service and call domain: --xmpp K occupants (slixmpp, one process,
             bench/soak/occupants.py) in soak@conference.localhost, each saying a line
             every --xmpp-every seconds, and one Jingle caller at a time
             (tests/integration/xmpp/jingle_caller.py, slixmpp + aiortc) calling the room
             over and over, --jingle-call-s seconds each (--no-jingle: none). Without
             prosody or python3-slixmpp the XMPP part is skipped, with a line saying so.

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
    every XMPP line reached IRC, every WebRTC peer and every other occupant, and every IRC
    and web line reached every occupant;
  - XMPP: every Jingle call connected, heard the room and hung up cleanly; neither
    component stream went down;
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
python3-aiortc for /usr/bin/python3 (TT_AIORTC_PYTHON to use another); the XMPP part also
prosody and python3-slixmpp (skipped without them; --xmpp 0 leaves it out).
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
for d in (HERE, os.path.join(SRC, "tests", "integration"),
          os.path.join(SRC, "tests", "integration", "irc"),
          os.path.join(SRC, "tests", "integration", "sip")):
    sys.path.insert(0, d)
from clients import (AIORTC_PY, CHANNEL, SIPP, Children, IrcPeople, LoadGen,  # noqa: E402
                     SipSlot, start_peers, stop_peers)
import xmppsoak  # noqa: E402
from probe import (ROOM, get_json, is_asan, log, room, sample, sip_media,  # noqa: E402
                   slope_per_min, tick_window)
from ttlib import free_port, free_port_udp_tcp, render_config  # noqa: E402
from ircenv import NgIrcd, have_ngircd  # noqa: E402
from sipplib import write_ulaw_wav  # noqa: E402

# Sanitizer reports in the bridge's log (stdout and stderr go there).
SAN_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
                    r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")


def bridge_conf(workdir, http_port, sip_port, irc_port, args, xmpp=None):
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
    if xmpp:
        conf["xmpp"] = xmpp
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
            + ["irc/soakchat", "irc/soaklisten"]
            + ["xmpp/%s" % n for n in xmppsoak.occupant_names(args.xmpp)])


def wait_until(pred, timeout, step=0.5):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Soak:
    """One soak's state, passed from phase to phase; `check` records a verdict."""

    def __init__(self, args, workdir, kids, res):
        self.args, self.workdir, self.kids, self.res = args, workdir, kids, res
        self.run_s = args.minutes * 60
        self.samples = []
        self.all_in_at = None
        self.stayers = expected_stayers(args)
        self.gone = {}     # stayer -> first sample time it was missing, once everyone was in
        res["samples"] = self.samples

    def check(self, name, ok, detail):
        self.res["checks"].append({"check": name, "ok": bool(ok), "detail": detail})
        log("%s %s: %s" % ("ok  " if ok else "FAIL", name, detail))


def prerequisites(s):
    build = os.path.abspath(s.args.build)
    s.binary = os.path.join(build, "tutti")
    s.loadgen = os.path.join(build, "bench", "loadgen", "tt_loadgen")
    for f in (s.binary, s.loadgen):
        if not os.access(f, os.X_OK):
            raise SystemExit("%s is missing: build it (see --help)" % f)
    s.asan = s.res["asan"] = is_asan(s.binary)
    if not s.asan and not s.args.no_asan:
        raise SystemExit("%s is not an ASan build (cmake -DTT_SANITIZE=address,undefined); "
                         "--no-asan runs it anyway without the leak check" % s.binary)
    missing = [w for w, ok in (("ngircd", have_ngircd()), ("sipp", SIPP),
                               (AIORTC_PY, os.access(AIORTC_PY, os.X_OK))) if not ok]
    if missing:
        raise SystemExit("missing: %s (scripts/debian-packages.txt)" % ", ".join(missing))
    s.res["xmpp_skipped"] = None
    if s.args.xmpp:
        lack = xmppsoak.missing(AIORTC_PY)
        if lack:
            s.res["xmpp_skipped"] = "missing %s" % ", ".join(lack)
            log("XMPP part SKIPPED: %s (apt-get install prosody python3-slixmpp); the rest "
                "runs without it" % ", ".join(lack))
            s.args.xmpp = 0
            s.args.jingle = False
            s.stayers = expected_stayers(s.args)
    elif s.args.jingle:
        s.args.jingle = False   # the caller needs the Prosody the occupants bring


def start_bridge(s):
    """ngircd, then tutti with the IRC gateway pointed at it, then the two IRC people."""
    s.http_port, s.sip_port = free_port(), free_port_udp_tcp()
    s.irc = s.kids.irc = NgIrcd().start()
    s.xs = s.kids.xmpp = xmppsoak.XmppSide(s.args, s.kids, AIORTC_PY) if s.args.xmpp else None
    conf = bridge_conf(s.workdir, s.http_port, s.sip_port, s.irc.port, s.args,
                       s.xs.section() if s.xs else None)
    s.tlog = open(os.path.join(s.workdir, "tutti.log"), "w")
    env = sanitizer_env(s.asan)
    if s.args.inject == "leak":
        env["LD_PRELOAD"] = leak_preload(s.binary, s.workdir)
    s.bridge = s.kids.popen([s.binary, "--config", conf], stdout=s.tlog,
                            stderr=subprocess.STDOUT, cwd=s.workdir, env=env)

    def up():
        try:
            return get_json(s.http_port, "/api/health", 1).get("status") == "ok"
        except Exception:  # noqa: BLE001 - not listening yet
            return s.bridge.poll() is not None
    if not wait_until(up, 60, 0.2) or s.bridge.poll() is not None:
        raise RuntimeError("tutti did not start (see %s/tutti.log)" % s.workdir)
    log("tutti %s up (pid %d, http %d, sip %d, ngircd %d), work dir %s"
        % ("(ASan)" if s.asan else "", s.bridge.pid, s.http_port, s.sip_port, s.irc.port,
           s.workdir))
    s.people = s.kids.people = IrcPeople(s.irc.port)
    if s.xs and not wait_until(lambda: xmpp_streams(s.http_port, up=True,
                                                    calls=s.args.jingle), 30):
        raise RuntimeError("tutti's XMPP component streams did not come up: %s"
                           % xmpp_streams(s.http_port))


def xmpp_streams(http_port, up=False, calls=False):
    """The XMPP gateway's stream stats {muc_stream: {...}, call_stream: {...}}; with up,
    None unless the MUC stream (and with calls, the call stream) is up."""
    try:
        gws = get_json(http_port, "/api/gateways", 5)
    except Exception:  # noqa: BLE001 - not answering: no stats
        return None
    items = gws if isinstance(gws, list) else gws.get("gateways", [])
    st = next((g.get("stats") for g in items if g.get("name") == "xmpp"), None)
    if not st:
        return None
    out = {k: st[k] for k in ("muc_stream", "call_stream") if k in st}
    if up and not all(v["up"] for k, v in out.items() if k == "muc_stream" or calls):
        return None
    return out


def idle_baseline(s):
    """The bridge idle but for the IRC people, same machine, same minutes: tick lateness
    here is the machine's (other processes, ASan), not the load's."""
    if s.args.idle <= 0:
        return
    a = sample(s.bridge.pid, s.http_port, time.time())
    time.sleep(s.args.idle)
    b = sample(s.bridge.pid, s.http_port, time.time())
    w = tick_window(a, b)
    if w:
        w.update({"seconds": s.args.idle, "rss_kib": b["rss_kib"], "load": b["load"],
                  "cpu_pct": 100.0 * (b["cpu_s"] - a["cpu_s"]) / s.args.idle})
        s.res["idle"] = w
        log("idle baseline: %(late)d late + %(skipped)d skipped of %(ticks)d ticks, "
            "RSS %(rss_kib)d KiB, CPU %(cpu_pct).1f %%" % w)


def start_load(s):
    s.t0 = time.time()
    s.res["t0"] = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(s.t0))
    s.end = s.t0 + s.run_s
    if s.xs:
        # the occupants first: every line of the run, from any network, is said after they
        # are all in (history is not counted)
        if not s.xs.start_occupants(s.end - 10):
            raise RuntimeError("not every XMPP occupant joined within 60 s")
        s.xmpp_before = xmpp_streams(s.http_port)
    s.lg = LoadGen(s.kids, s.loadgen, s.http_port, s.args.rtp, s.run_s + 20, s.bridge.pid)
    s.peers = start_peers(s.kids, s.args, s.http_port, s.run_s + 300)
    s.stop = s.kids.stop_event = threading.Event()
    write_ulaw_wav(os.path.join(s.workdir, "tone.wav"), 700, 2.0, amp=s.args.sip_amp)
    s.slots = [SipSlot(k, s.args, s.sip_port, s.workdir, s.end, s.kids, s.stop)
               for k in range(s.args.sip)]
    for slot in s.slots:
        slot.start()
    if s.xs:
        s.xs.start_calls(s.end, s.stop)
    s.people.chat_until(s.args.irc_every, s.end, s.stop)


def sample_until_end(s):
    next_t = time.time()
    kicked = False
    while time.time() < s.end:
        if s.args.inject == "kick" and not kicked and time.time() >= s.t0 + s.run_s / 2:
            kicked = kick_one(s.http_port)
        if s.bridge.poll() is not None:
            raise RuntimeError("tutti exited with %s during the run" % s.bridge.returncode)
        x = sample(s.bridge.pid, s.http_port, s.t0)
        s.samples.append(x)
        present = set(x.get("parts", {}))
        if s.all_in_at is None and all(p in present for p in s.stayers):
            s.all_in_at = x["t"]
            log("everyone is in after %.1f s: %s" % (s.all_in_at, x.get("by_network")))
            if s.xs:
                s.xs.go()
        elif s.all_in_at is not None and "parts" in x:
            for p in s.stayers:
                if p not in present and p not in s.gone:
                    s.gone[p] = x["t"]
                    log("LOST: %s is no longer in the room (t=%.1f s)" % (p, x["t"]))
        if len(s.samples) % max(1, int(60 / s.args.sample)) == 0:
            log("t=%4.0f s  RSS %d KiB  %s  ticks %s late %s skipped %s  load %.1f" % (
                x["t"], x["rss_kib"] or -1, x.get("by_network"), x.get("ticks"),
                x.get("late"), x.get("skipped"), x["load"]))
        next_t += s.args.sample
        time.sleep(max(0.0, min(next_t, s.end) - time.time()))
    s.final = sample(s.bridge.pid, s.http_port, s.t0)
    s.samples.append(s.final)
    s.res["all_in_at_s"] = s.all_in_at


def check_presence(s):
    """At the end of the run: who is still here, and does media still flow."""
    args, final = s.args, s.final
    present = set(final.get("parts", {}))
    missing = [p for p in s.stayers if p not in present]
    s.check("everyone joined", s.all_in_at is not None,
            "all %d stayers in the room after %s s" % (len(s.stayers), s.all_in_at)
            if s.all_in_at is not None
            else "never all in; missing at the end: %s" % missing[:10])
    s.check("nobody lost", not missing and not s.gone,
            "%d RTP + %d WebRTC + 2 IRC still in the room" % (args.rtp, args.webrtc)
            if not missing and not s.gone else "missing %s; left during the run %s"
            % (missing[:10], dict(list(s.gone.items())[:10])))
    # media counters at the bridge over the last interval
    prev = s.samples[-2] if len(s.samples) >= 2 else {}
    stalled = []
    for p in s.stayers:
        if p.startswith(("irc/", "xmpp/")):   # text only
            continue
        a, b = prev.get("parts", {}).get(p), final.get("parts", {}).get(p)
        if not a or not b or a[0] is None or b[0] is None or b[0] <= a[0] or b[1] <= a[1]:
            stalled.append(p)
    s.check("media still flows", not stalled,
            "packets in and out grew for every RTP and WebRTC participant in the last %.0f s"
            % (final["t"] - prev.get("t", 0)) if not stalled
            else "%d stalled, e.g. %s" % (len(stalled), stalled[:5]))
    stats = s.peers.stats
    if len(stats) >= 2:
        (ta, pa), (tb, pb) = stats[-2], stats[-1]
        deaf = [b["i"] for a, b in zip(pa, pb) if b["frames_rx"] <= a["frames_rx"]]
        fps = min((b["frames_rx"] - a["frames_rx"]) / max(0.1, tb - ta) for a, b in zip(pa, pb))
        s.check("WebRTC peers hear audio", not deaf,
                "every peer decoded frames in its last %.0f s (slowest %.0f frames/s)"
                % (tb - ta, fps) if not deaf else "peers without new frames: %s" % deaf)
    else:
        s.check("WebRTC peers hear audio", args.webrtc == 0, "no stats lines from peers.py")


def wind_down(s):
    """SIP slots end by themselves, IRC chat stops, the last chat lines are delivered; then
    the peers leave and tt_loadgen ends (deleting its participants); nobody may remain."""
    args, res = s.args, s.res
    s.stop.set()
    for slot in s.slots:
        slot.join(timeout=90)
    time.sleep(args.sample + 5)   # the last chat lines, and one more peers' stats line
    calls = res["sip_calls"] = [c for slot in s.slots for c in slot.calls]
    res["sipp_start_failures"] = [f for slot in s.slots for f in slot.start_failures]
    bad = [c for c in calls if not c["ok"]]
    s.check("SIP calls", not bad and (calls or args.sip == 0),
            "%d calls, %d failed" % (len(calls), len(bad)))
    long_, silent = sip_media(s.samples)
    s.check("SIP media both ways", not silent and (long_ or args.sip == 0),
            "%d SIP participants sampled twice or more, %d without packets in or out%s"
            % (len(long_), len(silent), ": %s" % silent[:5] if silent else ""))

    res["peer_events"] = [e for e in s.peers.events if e.get("ev") != "connected"][:50]
    last = res["peers_last"] = s.peers.stats[-1][1] if s.peers.stats else []
    web_tx = sum(p["chat_tx"] for p in last)
    web_on_irc = s.people.web_lines()
    s.people.save(os.path.join(s.workdir, "irc_listen.log"))
    s.check("web chat reaches IRC", web_on_irc == web_tx, "%d of %d lines" % (web_on_irc, web_tx))
    irc_rx = [p["chat_rx_irc"] for p in last]
    sent = s.people.sent
    s.check("IRC chat reaches every WebRTC peer",
            irc_rx and min(irc_rx) == sent or args.webrtc == 0,
            "%d lines sent, fewest received by a peer %s" % (sent, min(irc_rx) if irc_rx else "-"))
    res["chat"] = {"irc_sent": sent, "web_sent": web_tx, "web_on_irc": web_on_irc,
                   "irc_rx_min": min(irc_rx) if irc_rx else None}
    if s.xs:
        xmpp_checks(s, last, sent, web_tx)

    stop_peers(s.peers)
    lgj = s.lg.result(s.end + 20 + 60 - time.time())
    res["loadgen"] = {k: v for k, v in lgj.items() if k != "listeners"}
    rc = s.lg.proc.returncode
    s.check("tt_loadgen N-1 and loss", rc == 0 and lgj.get("check_ok"),
            "exit %s, N-1 %s, loss %s %%, %s of %s streams, latency p50 %s ms"
            % (rc, "ok" if lgj.get("check_ok") else "FAILED", lgj.get("loss_pct"),
               lgj.get("streams"), lgj.get("participants"), lgj.get("latency_ms_median")))

    if s.xs:
        s.xs.stop_occupants()   # they leave the room: the ghost check covers them too

    def only_irc():
        r = room(s.http_port)
        return r is not None and all(p["network"] == "irc" for p in r["participants"])
    clean = wait_until(only_irc, 30)
    r = room(s.http_port) or {}
    s.check("no ghosts", clean, "after everyone left the room holds %s" % sorted(
        "%s/%s" % (p["network"], p["name"]) for p in r.get("participants", []))[:10])


def xmpp_checks(s, peers_last, irc_sent, web_tx):
    """Chat between XMPP and the others, the Jingle calls, the component streams."""
    args, res = s.args, s.res
    if s.xs.slot:
        s.xs.slot.join(timeout=args.jingle_call_s + 120)
    occ = s.xs.occ.last()
    x_tx = sum(o["tx"] for o in occ)
    x_on_irc = s.people.xmpp_lines()
    s.check("XMPP chat reaches IRC", x_tx and x_on_irc == x_tx,
            "%d of %d lines" % (x_on_irc, x_tx))
    x_rx = [p.get("chat_rx_xmpp", 0) for p in peers_last]
    s.check("XMPP chat reaches every WebRTC peer",
            args.webrtc == 0 or (x_rx and min(x_rx) == x_tx),
            "%d lines, fewest received by a peer %s" % (x_tx, min(x_rx) if x_rx else "-"))
    bad = [o["i"] for o in occ if o["rx_xmpp"] != x_tx - o["tx"] or o["rx_self"] != o["tx"]]
    s.check("XMPP chat reaches the other occupants", len(occ) == args.xmpp and not bad,
            "each of %d occupants got every other's lines and its own reflected"
            % len(occ) if not bad else "occupants with lines missing: %s" % [
                (o["i"], o["tx"], o["rx_xmpp"], o["rx_self"]) for o in occ if o["i"] in bad])
    rx_irc = [o["rx_irc"] for o in occ]
    rx_web = [o["rx_web"] for o in occ]
    s.check("IRC and web chat reach every XMPP occupant",
            occ and min(rx_irc) == irc_sent and min(rx_web) == web_tx,
            "IRC %d lines, fewest received %s; web %d lines, fewest received %s" % (
                irc_sent, min(rx_irc) if rx_irc else "-", web_tx,
                min(rx_web) if rx_web else "-"))
    errs = [(o["i"], o["errors"]) for o in occ if o["errors"] or o["left"]]
    s.check("XMPP occupants stayed", not errs, "no errors, nobody left" if not errs
            else "errors or left: %s" % errs[:5])
    calls = res["jingle_calls"] = s.xs.slot.calls if s.xs.slot else []
    if args.jingle:
        bad = [c for c in calls if not c["ok"]]
        s.check("Jingle calls", calls and not bad, "%d calls, %d failed" % (len(calls),
                                                                          len(bad)))
    after = xmpp_streams(s.http_port) or {}
    before = getattr(s, "xmpp_before", None) or {}
    downs = {k: after[k]["disconnects"] - before.get(k, {}).get("disconnects", 0)
             for k in after if k == "muc_stream" or args.jingle}
    res["xmpp_streams"] = after
    s.check("XMPP streams stayed up", after and not any(downs.values()) and
            after["muc_stream"]["up"], "disconnects during the run %s; stanzas in/out %s" % (
                downs, {k: (v["stanzas_in"], v["stanzas_out"]) for k, v in after.items()}))
    res["xmpp_chat"] = {"xmpp_sent": x_tx, "on_irc": x_on_irc,
                        "peer_rx_min": min(x_rx) if x_rx else None,
                        "occ_rx_irc_min": min(rx_irc) if rx_irc else None,
                        "occ_rx_web_min": min(rx_web) if rx_web else None}


def figures(s):
    """RSS slope over the second half, tick lateness of the room's worker, CPU, load."""
    args, res, samples, final = s.args, s.res, s.samples, s.final
    half = [(x["t"], x["rss_kib"]) for x in samples if x["t"] >= s.run_s / 2 and x["rss_kib"]]
    slope = res["rss_slope_kib_min"] = slope_per_min(half)
    res["rss_kib"] = {"after_setup": next((x["rss_kib"] for x in samples if s.all_in_at
                                           is not None and x["t"] >= s.all_in_at), None),
                      "half": half[0][1] if half else None, "end": final["rss_kib"],
                      "max": max(x["rss_kib"] or 0 for x in samples)}
    s.check("RSS flat after warm-up", slope is not None and slope <= args.rss_slope_max,
            "%s KiB/min over the second half (limit %d)" % (
                "%.1f" % slope if slope is not None else "?", args.rss_slope_max))
    # the room's worker from the first sample after everyone was in (steady state; the
    # joins are set-up), and over the whole run
    worker = [x for x in samples if "ticks" in x and x.get("worker") == final.get("worker")]
    steady = [x for x in worker if s.all_in_at is not None and x["t"] >= s.all_in_at]
    res["ticks"] = {}
    for name, part in (("whole", worker), ("steady", steady)):
        w = tick_window(part[0], part[-1]) if len(part) >= 2 else None
        if w:
            res["ticks"][name] = w
    st = res["ticks"].get("steady")
    if st:
        s.check("tick lateness", st["pct"] <= args.late_max_pct,
                "room's worker after everyone was in: %d late + %d skipped of %d ticks = "
                "%.3f %% (limit %.3f %%), max late %.1f ms"
                % (st["late"], st["skipped"], st["ticks"], st["pct"], args.late_max_pct,
                   (st["max_late_us"] or 0) / 1000))
    else:
        s.check("tick lateness", False, "no tick counters in GET /api/health")
    res["cpu_pct"] = (100.0 * (final["cpu_s"] - samples[0]["cpu_s"])
                      / max(1.0, final["t"] - samples[0]["t"]))
    res["load_mean"] = sum(x["load"] for x in samples) / len(samples)


def stop_bridge(s):
    """SIGTERM, the exit code, and the sanitizers' reports in the log."""
    s.people.quit()
    t1 = time.time()
    s.bridge.send_signal(signal.SIGTERM)
    try:
        rc = s.bridge.wait(timeout=120)   # LeakSanitizer's scan at exit takes a while
    except subprocess.TimeoutExpired:
        s.bridge.kill()
        rc = "killed after 120 s"
    s.res["exit"] = {"rc": rc, "seconds": round(time.time() - t1, 1)}
    s.tlog.close()
    with open(os.path.join(s.workdir, "tutti.log"), errors="replace") as f:
        lines = f.read().splitlines()
    reports = [ln for ln in lines if SAN_RE.search(ln)]
    s.res["sanitizer"] = reports[:20]
    if reports:   # the report itself, for the reader of the soak's output
        at = next(i for i, ln in enumerate(lines) if SAN_RE.search(ln))
        log("sanitizer report (from tutti.log):\n" + "\n".join(lines[at:at + 60]))
    s.check("exit on SIGTERM", rc == 0, "exit %s after %.1f s" % (rc, s.res["exit"]["seconds"]))
    s.check("sanitizers" if s.asan else "sanitizers (not an ASan build: leaks not checked)",
            not reports, "no ASan, LSan or UBSan report" if not reports
            else "%d report lines, e.g. %s (log kept in %s)" % (len(reports), reports[0],
                                                                s.workdir))


def run(args, workdir, kids, res):
    s = Soak(args, workdir, kids, res)
    prerequisites(s)
    start_bridge(s)
    idle_baseline(s)
    start_load(s)
    sample_until_end(s)
    check_presence(s)
    wind_down(s)
    figures(s)
    stop_bridge(s)


def summary(args, res):
    t = res.get("ticks") or {}
    lg = res.get("loadgen") or {}
    rss = res.get("rss_kib") or {}
    xc = res.get("xmpp_chat") or {}
    jc = res.get("jingle_calls") or []
    rows = [("participants", "%d RTP (tt_loadgen, 3 talkers), %d WebRTC (aiortc), %d SIP slots "
             "(SIPp, %g-%g s calls), 2 IRC; %s"
             % (args.rtp, args.webrtc, args.sip, args.sip_min, args.sip_max,
                "XMPP skipped: %s" % res["xmpp_skipped"] if res.get("xmpp_skipped") else
                "%d XMPP occupants, %s" % (args.xmpp, "one Jingle caller at a time (%g s "
                                           "calls)" % args.jingle_call_s if args.jingle
                                           else "no Jingle calls")
                if args.xmpp else "no XMPP")),
            ("build", "ASan + UBSan" if res.get("asan") else "not sanitized"),
            ("started / length", "%s / %g min" % (res.get("t0"), args.minutes)),
            ("everyone in after", "%s s" % res.get("all_in_at_s")),
            ("SIP calls", "%d (%d failed)" % (len(res.get("sip_calls", [])),
                                              sum(1 for c in res.get("sip_calls", [])
                                                  if not c["ok"]))),
            ("chat", "IRC→web %s sent, fewest received %s; web→IRC %s of %s" % (
                (res.get("chat") or {}).get("irc_sent"), (res.get("chat") or {}).get("irc_rx_min"),
                (res.get("chat") or {}).get("web_on_irc"), (res.get("chat") or {}).get("web_sent"))
             + ("; XMPP→IRC %s of %s, →web fewest %s; occupants got IRC fewest %s, web "
                "fewest %s" % (xc.get("on_irc"), xc.get("xmpp_sent"), xc.get("peer_rx_min"),
                               xc.get("occ_rx_irc_min"), xc.get("occ_rx_web_min"))
                if xc else "")),
            ("Jingle calls", "%d (%d failed)" % (len(jc), sum(1 for c in jc if not c["ok"]))
             if args.jingle else "none"),
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
    ap.add_argument("--xmpp", type=int, default=3,
                    help="XMPP occupants (0: no XMPP part; skipped without prosody)")
    ap.add_argument("--xmpp-every", type=float, default=5, help="s between an occupant's lines")
    ap.add_argument("--no-jingle", dest="jingle", action="store_false",
                    help="no Jingle caller")
    ap.add_argument("--jingle-call-s", type=float, default=8, help="s each Jingle call talks")
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
    kids.irc, kids.people, kids.stop_event, kids.xmpp = None, None, None, None
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
        if kids.people:
            kids.people.close()
        kids.stop_all()
        if kids.irc:
            kids.irc.cleanup()
        if kids.xmpp:
            kids.xmpp.stop()
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
