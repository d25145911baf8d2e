"""Jingle benchmark: the bridge's CPU per Jingle caller against a WebRTC participant, in the
same bridge, interleaved rounds.

Both are ICE + DTLS-SRTP + Opus legs on the same leg kind; what differs is the signalling
(XMPP through Prosody against a WebSocket) and the peers' own ICE and payload habits. Per
round: N callers (tests/integration/xmpp/jingle_caller.py, slixmpp + aiortc, one process
each) or N browsers (tests/integration/webrtc/peer.py, aiortc, one process), T of them
sending a tone, the rest digital silence; the bridge's CPU (user + system, /proc) over S
seconds once all are connected, minus the idle bridge's.

  python3 bench/xmpp/bench_jingle.py [--peers 10] [--talkers 2] [--seconds 20] [--rounds 3]

Needs prosody, python3-slixmpp and python3-aiortc (Debian's /usr/bin/python3). Prints
Markdown."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "xmpp"))
import xmppenv  # noqa: E402

ttlib = xmppenv.ttlib
PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
CALLER = os.path.join(SRC, "tests", "integration", "xmpp", "jingle_caller.py")
PEER = os.path.join(SRC, "tests", "integration", "webrtc", "peer.py")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pids, seconds):
    """% of one core used by pids (summed) over `seconds`."""
    c0, t0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (sum(cpu_seconds(p) for p in pids) - c0) / (time.monotonic() - t0)


def wait_connected(procs, n, timeout):
    """Read JSON lines until n '"connected"' events came (from all procs)."""
    import selectors
    sel = selectors.DefaultSelector()
    for p in procs:
        sel.register(p.stdout, selectors.EVENT_READ, p)
    got, t0 = 0, time.monotonic()
    while got < n and time.monotonic() - t0 < timeout:
        for key, _ in sel.select(timeout=1):
            line = key.fileobj.readline()
            if not line:
                sel.unregister(key.fileobj)
                continue
            if '"connected"' in line:
                got += 1
    return got, time.monotonic() - t0


def run_jingle(px, br, room, n, talkers, seconds):
    hold = 30 + n * 2 + seconds
    procs = []
    for k in range(n):
        procs.append(subprocess.Popen(
            [PY, CALLER, "--port", str(px.c2s_port), "--jid", "u%d@%s/bench" % (k, xmppenv.HOST),
             "--password", xmppenv.password("u%d" % k), "--room", "%s@%s" % (room, px.call_domain),
             "--jmi", "--tone", str(440 + 110 * k if k < talkers else 0), "--listen", "",
             "--seconds", str(hold)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True))
    return finish(br, procs, n, seconds, 30 + n * 2)


def run_webrtc(br, room, n, talkers, seconds):
    hold = 30 + n * 2 + seconds
    procs = [subprocess.Popen([PY, PEER, "--port", str(br.http_port), "--room", room,
                               "--count", str(n), "--talkers", str(talkers),
                               "--seconds", str(hold)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)]
    return finish(br, procs, n, seconds, 30 + n * 2)


def finish(br, procs, n, seconds, setup):
    got, setup_s = wait_connected(procs, n, setup)
    time.sleep(2)
    cpu = measure([br.proc.pid], seconds)
    peers = measure([p.pid for p in procs], 2)
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    # the bridge notices them gone (consent freshness) before the next round's idle
    t0 = time.monotonic()
    while time.monotonic() - t0 < 90:
        status, body = br.http("GET", "/api/rooms")
        rooms = body if isinstance(body, list) else (body or {}).get("rooms", [])
        if status == 200 and not any(r.get("participants") for r in rooms):
            break
        time.sleep(1)
    return {"connected": got, "setup_s": round(setup_s, 1), "cpu": cpu, "peers_cpu": peers}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=int, default=10)
    ap.add_argument("--talkers", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    xmppenv.require()
    users = ["u%d" % k for k in range(a.peers)]
    rows = {"jingle": [], "webrtc": []}
    with xmppenv.Prosody(users=users) as px, ttlib.Bridge(
            {"rooms": {"on_demand": "true", "max_participants": 10000},
             "webrtc": {"allow_loopback": True, "max_per_address": 1000},
             "xmpp": px.xmpp_section(calls=True)}, binary="tutti", log_level="warn") as br:
        xmppenv.wait_linked(br)
        for r in range(a.rounds):
            for kind in ("jingle", "webrtc") if r % 2 == 0 else ("webrtc", "jingle"):
                idle = measure([br.proc.pid], 3)
                room = "b%s%d" % (kind, r)
                res = (run_jingle(px, br, room, a.peers, a.talkers, a.seconds) if kind == "jingle"
                       else run_webrtc(br, room, a.peers, a.talkers, a.seconds))
                res["idle"] = idle
                res["per"] = (res["cpu"] - idle) / a.peers
                rows[kind].append(res)
                print("round %d %s: %s" % (r, kind, json.dumps(res)), file=sys.stderr, flush=True)
    # a round where not every peer connected measures something else: left out, and said
    full = {k: [x for x in v if x["connected"] == a.peers] for k, v in rows.items()}
    if not all(full.values()):
        sys.exit("no round where every peer connected: %s" % json.dumps(rows))
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("cpu", "idle", "per", "peers_cpu")}
           for k, v in full.items()}
    print("| participants (%d, %d talking) | bridge CPU %% of a core | idle | per participant "
          "| ratio | peers' own CPU |" % (a.peers, a.talkers))
    print("|---|---|---|---|---|---|")
    for k, name in (("webrtc", "WebRTC (aiortc over /ws)"), ("jingle", "Jingle (slixmpp + aiortc, JMI)")):
        m = med[k]
        print("| %s | %.1f | %.1f | %.3f | %.2f | %.0f |" % (
            name, m["cpu"], m["idle"], m["per"], m["per"] / med["webrtc"]["per"],
            m["peers_cpu"]))
    print("\nmedian of the rounds where all connected (%d interleaved rounds); connected: "
          "jingle %s, webrtc %s" % (a.rounds, [x["connected"] for x in rows["jingle"]], [x["connected"] for x in rows["webrtc"]]))


if __name__ == "__main__":
    main()
