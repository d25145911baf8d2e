"""Browser end-to-end test: real Chromium (Debian's) driven by playwright-core from Node
(run.mjs) against tutti-test. Two browsers with different tones and one plain RTP
participant (PCMU, so the bridge transcodes) share a room with a test-gateway text
participant. Asserts who hears which tone (and not their own), talking indicators that
follow a gated tone, chat across browsers and the test gateway, mute from the keyboard,
and writes screenshots. Exits 77 (ctest: skipped) without chromium or node_modules."""
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from ttlib import BUILD_DIR, Bridge, check, run  # noqa: E402
from rtppeer import FREQ_A, FREQ_B, FREQ_R, RtpPeer  # noqa: E402  (the other e2e tests import them from here)

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("TT_CHROMIUM", "/usr/bin/chromium")
OUT_DIR = os.path.join(BUILD_DIR, "test-output", "e2e")


def write_tone(path, freq, seconds, gate=None, amp=0.3, rate=48000):
    """A mono 16-bit WAV; with gate=(on_s, off_s) the tone is switched on and off."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        on = gate is None or (t % (gate[0] + gate[1])) < gate[0]
        v = int(amp * 32767 * math.sin(2 * math.pi * freq * t)) if on else 0
        frames += struct.pack("<h", v)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def prerequisites():
    if not os.access(CHROMIUM, os.X_OK):
        return "chromium not found at %s (apt-get install chromium)" % CHROMIUM
    if not shutil.which("node"):
        return "node not found"
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return "tests/e2e/node_modules missing (cd tests/e2e && npm ci)"
    return None


def test_two_browsers_rtp_chat_roster():
    os.makedirs(OUT_DIR, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tutti-e2e-")
    wav_a, wav_b = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
    write_tone(wav_a, FREQ_A, 4)
    write_tone(wav_b, FREQ_B, 3, gate=(1.5, 1.5))
    room = "e2e"
    # TT_ICE_LITE=off runs the same with full ICE (libnice); auto is lite on loopback
    sections = {"webrtc": {"allow_loopback": True,
                           "ice_lite": os.environ.get("TT_ICE_LITE", "auto")},
                "room.locked": {"pin": "2468"}}
    with Bridge(sections) as br:
        peer = RtpPeer()
        peer.join(br, room)
        cfg = {"base": "http://127.0.0.1:%d" % br.http_port, "room": room,
               "control": br.control, "wavA": wav_a, "wavB": wav_b, "freqA": FREQ_A,
               "freqB": FREQ_B, "freqR": FREQ_R, "out": OUT_DIR, "chromium": CHROMIUM,
               "pinRoom": "locked", "pin": "2468"}
        t_start = time.monotonic()
        proc = subprocess.run(["node", os.path.join(HERE, "run.mjs")], cwd=HERE,
                              env=dict(os.environ, TT_E2E=json.dumps(cfg)),
                              capture_output=True, text=True, timeout=120)
        sys.stderr.write(proc.stderr)
        heard_r, n = peer.heard(t_start + 4)
        peer.close()
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        check(lines, "run.mjs printed no result (exit %d)" % proc.returncode)
        out = json.loads(lines[-1])
        print("result:", json.dumps(out))
        print("RTP participant hears (dB):", {k: round(v, 1) for k, v in heard_r.items()}, n)
        check(out.get("ok"), "browser run failed: %s" % out.get("error"))
        a, b = ({int(k): v for k, v in h.items()} for h in (out["heardA"], out["heardB"]))
        # Each browser hears the other browser and the phone, clearly above its own tone
        # (N-1 mixing: its own tone is not in its mix; only codec noise is there).
        for who, h, own, others in (("A", a, FREQ_A, (FREQ_B, FREQ_R)),
                                    ("B", b, FREQ_B, (FREQ_A, FREQ_R))):
            for f in others:
                check(h[f] > -60, "%s does not hear %d Hz: %s" % (who, f, h))
                # heard tones peak near -24 dB; one's own is codec noise (-47..-60 dB
                # measured); a leak of one's own voice would be within a few dB of the others
                check(h[f] > h[own] + 15, "%s: %d Hz not 15 dB over its own %d Hz: %s"
                      % (who, f, own, h))
        check(n > 8000 * 3, "RTP participant received only %d samples" % n)
        for f in (FREQ_A, FREQ_B):
            check(heard_r[f] > -45 and heard_r[f] > heard_r[FREQ_R] + 15,
                  "RTP participant does not hear the browser at %d Hz: %s" % (f, heard_r))
        check(out["talking_changes"] >= 2,
              "B's talking indicator changed %d times in 6 s of a gated tone"
              % out["talking_changes"])
        check(out["talking_dom_agrees"], "roster DOM and model disagree")
        nets = sorted(e["network"] for e in out["roster_a"])
        check(nets == ["rtp", "test", "web", "web"], "roster networks: %s" % nets)
        check(out["chat_gw"]["name"] == "Alice" and out["chat_gw"]["network"] == "web",
              "chat at the gateway from %s" % out["chat_gw"])
        check(out["a_self_lines"] == 1, "Alice's own line shown %d times" % out["a_self_lines"])
        check(out["bot_line_seen"] and out["mute_seen"], "chat/mute: %s" % out)
        check(out["unlabelled"] == [], "inputs without a label: %s" % out["unlabelled"])
        check(out["pin_prompt_state"] == "failed" and out["pin_joined"],
              "PIN prompt: %s" % out)
        for png in ("webrtc-room.png", "webrtc-room-phone.png"):
            p = os.path.join(OUT_DIR, png)
            check(os.path.getsize(p) > 10000, "screenshot %s too small" % p)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    why = prerequisites()
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    run([test_two_browsers_rtp_chat_roster])
