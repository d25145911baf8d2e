"""The WebRTC gateway against real ICE + DTLS-SRTP peers without a browser (python3-aiortc,
Debian's /usr/bin/python3): audio flows both ways; a peer whose DTLS certificate does not
match its signalled fingerprint is refused and hung up; a peer that vanishes (frozen with
SIGSTOP, its WebSocket still open) is removed by consent freshness alone. Exits 77
(skipped) when aiortc is missing."""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from ttlib import Bridge, check, run  # noqa: E402

PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
PEER = os.path.join(HERE, "peer.py")
CONF = {"webrtc": {"allow_loopback": True}}


def peers(br, *args, timeout=60):
    p = subprocess.run([PY, PEER, "--port", str(br.http_port)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    evs = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
    done = [e for e in evs if e["ev"] == "done"]
    check(done, "peer.py gave no result: %s\n%s" % (p.stdout[-500:], p.stderr[-2000:]))
    return evs, done[0]["peers"]


def web_parts(br, room):
    st, body = br.http("GET", "/api/rooms/%s" % room)
    if st != 200:
        return []
    return [p for p in body["participants"] if p["network"] == "web"]


def conf(lite):
    c = json.loads(json.dumps(CONF))
    c["webrtc"]["ice_lite"] = lite
    return c


def shared_port(br, timeout=10):
    """The worker's shared port's stats once a report has them (every second)."""
    t0 = time.time()
    while True:
        st, h = br.http("GET", "/api/health")
        sp = [w["shared_port"] for w in h.get("workers", []) if "shared_port" in w] \
            if st == 200 else []
        if (sp and sp[0].get("stun_answered")) or time.time() - t0 > timeout:
            return sp[0] if sp else {}
        time.sleep(0.5)


def audio_both_ways(lite):
    with Bridge(conf(lite)) as br:
        _, ps = peers(br, "--room", "a", "--count", "2", "--seconds", "5")
        for i, p in enumerate(ps):
            check(p["connected"], "peer %d did not connect: %s" % (i, p))
            # 5 s at 50 frames/s minus set-up: well over 100 frames of the mix
            check(p["frames_rx"] > 100, "peer %d received %d frames" % (i, p["frames_rx"]))
            check(p["bye"] is None, "peer %d hung up: %s" % (i, p))
        log = br.read_log()
        sp = shared_port(br)
        if lite == "on":
            check("ICE: lite" in log, "the log does not say ICE-lite")
            # the browsers' checks were answered on the shared port, by the bridge
            check(sp.get("stun_answered", 0) > 0, "no check answered: %s" % sp)
        else:
            check("ICE: full" in log, "the log does not say full ICE")
            check(not sp.get("stun_answered"), "lite answered checks with lite off: %s" % sp)


def test_audio_both_ways_lite():
    audio_both_ways("on")


def test_audio_both_ways_full():
    audio_both_ways("off")


def test_auto_chooses():
    """ice_lite = auto: lite by default, full ICE when the bridge has its own STUN server."""
    with Bridge(conf("auto")) as br:
        check("ICE: lite" in br.read_log(), "auto without STUN/TURN is not lite")
    c = conf("auto")
    c["webrtc"]["stun_server"] = "127.0.0.1"
    with Bridge(c) as br:
        check("ICE: full" in br.read_log(), "auto with stun_server is not full ICE")


def test_lite_n_minus_1():
    """Three aiortc peers through ICE-lite, each sending its own tone: each hears the other
    two and not itself (the mix is N-1)."""
    with Bridge(conf("on")) as br:
        tones = [500.0, 900.0, 1300.0]
        _, ps = peers(br, "--room", "n", "--count", "3", "--seconds", "6", "--tone", "500",
                      "--tone-step", "400", "--listen", ",".join("%g" % t for t in tones),
                      timeout=90)
        for i, p in enumerate(ps):
            check(p["connected"], "peer %d did not connect: %s" % (i, p))
            db = {float(k): v for k, v in p["tones_db"].items()}
            own = db[tones[i]]
            others = [db[t] for j, t in enumerate(tones) if j != i]
            print("peer %d hears %s" % (i, p["tones_db"]))
            # the others' tones stand well above our own (absent but for leakage and codec
            # noise: about 20 dB below them on loopback)
            check(min(others) > own + 10,
                  "peer %d: own tone %.1f dB, others %s" % (i, own, others))


def test_fingerprint_mismatch_refused():
    with Bridge(CONF) as br:
        t0 = time.time()
        evs, ps = peers(br, "--room", "f", "--bad-fingerprint", "--seconds", "8")
        bye = [e for e in evs if e["ev"] == "bye"]
        check(bye, "no bye after a fingerprint mismatch: %s" % evs)
        check(ps[0]["frames_rx"] == 0, "media flowed despite the mismatch: %s" % ps)
        check(web_parts(br, "f") == [], "participant still there")
        check("DTLS refused" in br.read_log(), "log does not say why")
        print("hung up %.1f s after start" % (time.time() - t0))


def test_vanished_peer_removed_by_consent():
    conf = dict(CONF, media={"inactivity_s": 0})   # only consent can end it
    with Bridge(conf) as br:
        proc = subprocess.Popen([PY, PEER, "--port", str(br.http_port), "--room", "v",
                                 "--seconds", "120"], stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            check('"connected"' in line, "peer did not connect: %r" % line)
            check(len(web_parts(br, "v")) == 1, "participant missing")
            time.sleep(1)
            proc.send_signal(signal.SIGSTOP)   # gone without a word; TCP stays open
            t0 = time.time()
            while web_parts(br, "v") and time.time() - t0 < 50:
                time.sleep(0.5)
            took = time.time() - t0
            check(not web_parts(br, "v"), "vanished peer still in the room after %.0f s" % took)
            # RFC 7675: consent expires 30 s after the last response; libnice checks every
            # few seconds, so allow some slack but not the 50 s we waited at most
            check(took < 45, "removed only after %.1f s" % took)
            print("vanished peer removed after %.1f s" % took)
        finally:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()


def have_aiortc():
    try:
        return subprocess.run([PY, "-c", "import aiortc, av, numpy"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


if __name__ == "__main__":
    if not have_aiortc():
        print("SKIP: python3-aiortc not importable by %s (apt-get install python3-aiortc)" % PY)
        sys.exit(77)
    run([test_auto_chooses, test_audio_both_ways_lite, test_audio_both_ways_full,
         test_lite_n_minus_1,
         test_fingerprint_mismatch_refused, test_vanished_peer_removed_by_consent])
