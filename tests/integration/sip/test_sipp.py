"""SIPp (Debian's sip-tester) against the SIP gateway.

1. SIPp's built-in UAC scenario (INVITE with SDP, ACK, pause, BYE) at TT_SIPP_RATE calls/s
   (default 50) for TT_SIPP_SECONDS (default 30): every call must succeed, and every room
   must be gone afterwards. Under sanitizers (TT_SANITIZED, set by the build) the defaults
   are 10 calls/s for 10 s: that run looks for memory errors on the same paths, while the
   plain build's run is the one that proves the rate (a sanitized sofia-sip with the slow
   unwinder the SIP tests need for tests/lsan.supp spends milliseconds per message).
2. tests/integration/sip/sipp/uac_rtp_stream.xml: one SIPp call streams a 600 Hz PCMU file
   with rtp_stream into a room where a plain RTP participant (tt_rtppeer) sends 900 Hz. The
   RTP participant must hear SIPp's tone; and the bridge's packets to SIPp's media port,
   captured on lo and decoded, must carry 900 Hz and not SIPp's own 600 Hz. SIPp cannot
   record what it receives, hence the capture, which needs CAP_NET_RAW: without it (not
   root) this part skips, saying so."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, check, free_port, run  # noqa: E402
from bslib import goertzel_db  # noqa: E402
from sipplib import (SCENARIOS, SIPP, LoopSniffer, can_sniff, rtp_pcmu_samples,  # noqa: E402
                     run_sipp, write_ulaw_wav)

SANITIZED = bool(os.environ.get("TT_SANITIZED"))
RATE = int(os.environ.get("TT_SIPP_RATE", "10" if SANITIZED else "50"))
SECONDS = int(os.environ.get("TT_SIPP_SECONDS", "10" if SANITIZED else "30"))
PEER = os.path.join(BUILD_DIR, "tt_rtppeer")
SIPP_TONE, PEER_TONE = 600, 900


def media_sections():
    lo = free_port(socket.SOCK_DGRAM)
    lo = max(1024, lo - (lo % 2))
    return {"media": {"port_min": lo, "port_max": min(65535, lo + 1000)}}


def sections():
    s = {"rooms": {"on_demand": True}, "bridge": {"log_level": "warn"},
         # one source address sends every call: the per-source limit is for real peers
         "sip": {"rate_limit": 100000, "rate_burst": 100000}}
    s.update(media_sections())
    return s


def test_builtin_uac_call_rate():
    calls = RATE * SECONDS
    with Bridge(sections()) as br, tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        rc, stats, out = run_sipp("127.0.0.1:%d" % br.sip_port,
                                  ["-sn", "uac", "-s", "sippload", "-r", str(RATE),
                                   "-m", str(calls), "-d", "1000", "-l", str(RATE * 4),
                                   "-mp", str(free_port(socket.SOCK_DGRAM))],
                                  tmp, timeout=SECONDS + 60)
        took = time.time() - t0
        print("  sipp uac: %d calls at %d/s in %.1f s: %s" % (calls, RATE, took, stats),
              flush=True)
        check(rc == 0, "sipp exited %d (some call failed):\n%s\n%s"
              % (rc, out[-3000:], br.read_log()[-3000:]))
        check(stats.get("ok") == calls and stats.get("failed") == 0,
              "sipp: %s of %d calls succeeded:\n%s" % (stats, calls, out[-3000:]))
        deadline = time.time() + 5
        while time.time() < deadline:
            status, body = br.http("GET", "/api/rooms")
            if body["rooms"] == []:
                break
            time.sleep(0.1)
        check(body["rooms"] == [], "rooms left behind: %s" % body)


def test_rtp_stream_both_ways():
    if not can_sniff():
        print("  SKIP: capturing the bridge's RTP to SIPp needs CAP_NET_RAW (run as root)")
        return
    room, hold_s = "sipprtp", 6
    with Bridge(sections()) as br, tempfile.TemporaryDirectory() as tmp:
        write_ulaw_wav(os.path.join(tmp, "tone.wav"), SIPP_TONE, 2.0)
        url = "http://127.0.0.1:%d" % br.http_port
        peer = subprocess.Popen([PEER, "--url", url, "--room", room, "--name", "rtp",
                                 "--codec", "pcmu", "--tone", str(PEER_TONE), "--listen",
                                 "%d,%d" % (SIPP_TONE, PEER_TONE), "--seconds",
                                 str(hold_s + 2)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sniff = LoopSniffer()
        try:
            time.sleep(0.5)
            rc, stats, out = run_sipp("127.0.0.1:%d" % br.sip_port,
                                      ["-sf", os.path.join(SCENARIOS, "uac_rtp_stream.xml"),
                                       "-s", room, "-m", "1", "-d", str(hold_s * 1000),
                                       "-mp", str(free_port(socket.SOCK_DGRAM))],
                                      tmp, timeout=hold_s + 30)
        finally:
            sniff.stop()
        so, se = peer.communicate(timeout=30)
        check(rc == 0 and stats.get("ok") == 1, "sipp call failed (%d, %s):\n%s\n%s"
              % (rc, stats, out[-3000:], br.read_log()[-3000:]))
        check(peer.returncode == 0, "tt_rtppeer failed: %s" % se)
        heard = {int(k): v for k, v in json.loads(so)["tones_db"].items()}
        print("  RTP participant hears %s" % heard, flush=True)
        check(heard[SIPP_TONE] > -40, "the RTP participant does not hear SIPp's rtp_stream: %s"
              % heard)
        # SIPp's flow into the bridge is the one that carries its tone; the bridge answers
        # from the port SIPp sends to (symmetric RTP), so the reverse flow is what SIPp got.
        flows = {}
        for _, sport, dport, data in sniff.packets:
            if len(data) > 12 and data[0] >> 6 == 2 and data[1] & 0x7F == 0:
                flows.setdefault((sport, dport), []).append(data)
        lo, hi = br.conf["media"]["port_min"], br.conf["media"]["port_max"]

        def tone_db(pkts, f):
            return goertzel_db(rtp_pcmu_samples(pkts)[8000:], 8000, f)
        into = [k for k, v in flows.items() if lo <= k[1] <= hi and len(v) > 50 and
                tone_db(v, SIPP_TONE) > -30]
        check(len(into) == 1, "SIPp's rtp_stream flow not found among %s"
              % {k: len(v) for k, v in flows.items()})
        sipp_port, bridge_port = into[0]
        back = flows.get((bridge_port, sipp_port), [])
        check(len(back) >= 25 * hold_s,
              "the bridge sent %d packets back to SIPp's media port in %d s" % (len(back),
                                                                               hold_s))
        pcm = rtp_pcmu_samples(back)
        lv = {f: goertzel_db(pcm[8000:], 8000, f) for f in (SIPP_TONE, PEER_TONE)}
        print("  SIPp's port gets %d packets; levels %s" % (len(back), lv), flush=True)
        check(lv[PEER_TONE] > -40, "SIPp does not get the RTP participant's tone: %s" % lv)
        check(lv[PEER_TONE] - lv[SIPP_TONE] > 20, "SIPp hears itself: %s" % lv)


if __name__ == "__main__":
    if not SIPP:
        print("SKIP: sipp (Debian package sip-tester) is not installed")
        sys.exit(0)
    run([test_builtin_uac_call_rate, test_rtp_stream_both_ways])
