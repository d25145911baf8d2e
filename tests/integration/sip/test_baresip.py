"""Real softphones against the SIP gateway: baresip callers with distinct tones in one
room. Each must hear the others' tones and not its own (N-1 mixing), across codecs (PCMU
and Opus: transcoding), with SDES-SRTP, and a caller who puts the bridge on hold must
fall silent for the others until it resumes."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from bslib import Baresip, window_levels  # noqa: E402

HEARD_DB = -45.0     # a tone we must hear is louder than this (source is about -12 dBFS)
MARGIN_DB = 20.0     # ... and this much louder than a tone we must not hear


def participants(br, room):
    status, body = br.http("GET", "/api/rooms/" + room)
    return body.get("participants", []) if status == 200 else []


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def levels(bs, t0, t1, freqs):
    """Tone levels in what `bs` decoded between wall-clock times t0 and t1."""
    path = bs.recording()
    check(path, "%s wrote no recording" % bs.name)
    start = bs.t_established
    lv, got = window_levels(path, t0 - start, t1 - start, freqs)
    # The dump holds only what was decoded (no gaps while on hold, and a loaded machine makes
    # baresip's playout fall behind wall-clock time), so what matters is enough audio for the
    # tone levels: at least 1 s, or half the window when that is shorter.
    need = min(1.0, 0.5 * (t1 - t0))
    check(got >= need, "%s recording too short for the window (%.1f s of %.1f s needed)"
          % (bs.name, got, need))
    return lv


def assert_hears(bs, lv, hear, not_hear, what):
    print("  %-12s %-6s hears %s" % (what, bs.name, fmt(lv)), flush=True)
    for f in hear:
        check(lv[f] > HEARD_DB, "%s: %s should hear %d Hz, level %.1f dB (all: %s)"
              % (what, bs.name, f, lv[f], fmt(lv)))
        for g in not_hear:
            check(lv[f] - lv[g] > MARGIN_DB, "%s: %s hears %d Hz only %.1f dB above %d Hz (%s)"
                  % (what, bs.name, f, lv[f] - lv[g], g, fmt(lv)))
    if not hear:
        for g in not_hear:
            check(lv[g] < HEARD_DB, "%s: %s should not hear %d Hz, level %.1f dB (%s)"
                  % (what, bs.name, g, lv[g], fmt(lv)))


def fmt(lv):
    return ", ".join("%d Hz %.1f dB" % (f, v) for f, v in sorted(lv.items()))


def test_two_callers_opus_pcmu_hold_and_srtp():
    tmp = tempfile.TemporaryDirectory(prefix="tutti-baresip-")
    phones = []
    try:
        with Bridge({"rooms": {"on_demand": True}}) as br:
            uri = "sip:standup@127.0.0.1:%d" % br.sip_port
            alice = Baresip(tmp.name, "alice", 600, codec="PCMU/8000/1")
            bob = Baresip(tmp.name, "bob", 1000, codec="opus/48000/2")
            phones += [alice, bob]
            for bs in (alice, bob):
                bs.dial(uri)
                check(bs.established(), "%s: call not established:\n%s" % (bs.name, bs.read_log()))
                bs.t_established = time.time()
            wait_for(lambda: len([p for p in participants(br, "standup") if "media" in p]) == 2,
                     what="two participants with media")
            codecs = sorted(p["media"]["codec"] for p in participants(br, "standup"))
            check(codecs == ["opus", "pcmu"], "codecs in the room: %s" % codecs)
            freqs = (600, 1000, 1500)
            t = time.time()
            time.sleep(3.0)
            both = (t + 1.0, time.time() - 0.2)
            # hold: bob puts the bridge on hold; alice must stop hearing him
            bob.cmd("hold")
            wait_for(lambda: any(p["name"] == "bob" and p["hold"]
                                 for p in participants(br, "standup")), what="bob on hold")
            t = time.time()
            time.sleep(2.5)
            held = (t + 0.8, time.time() - 0.2)
            bob.cmd("resume")
            wait_for(lambda: any(p["name"] == "bob" and not p["hold"]
                                 for p in participants(br, "standup")), what="bob resumed")
            t = time.time()
            time.sleep(2.5)
            resumed = (t + 0.8, time.time() - 0.2)
            # a third caller with SDES-SRTP (RTP/SAVP, a=crypto)
            carol = Baresip(tmp.name, "carol", 1500, codec="PCMU/8000/1", srtp=True)
            phones.append(carol)
            carol.dial(uri)
            check(carol.established(), "carol (SRTP): not established:\n" + carol.read_log())
            carol.t_established = time.time()
            wait_for(lambda: len([p for p in participants(br, "standup") if "media" in p]) == 3,
                     what="three participants with media")
            c = [p for p in participants(br, "standup") if p["name"] == "carol"][0]
            check(c["media"]["srtp"], "carol's leg is not SRTP: %s" % c["media"])
            t = time.time()
            time.sleep(3.0)
            three = (t + 1.0, time.time() - 0.2)
            c = [p for p in participants(br, "standup") if p["name"] == "carol"][0]
            check(c["media"]["srtp_failures"] == 0 and c["media"]["packets_in"] > 50,
                  "carol's SRTP media: %s" % c["media"])
            for bs in phones:
                bs.stop()
            wait_for(lambda: not participants(br, "standup"), what="everyone gone after BYE")

            assert_hears(alice, levels(alice, *both, freqs), [1000], [600], "both talking")
            assert_hears(bob, levels(bob, *both, freqs), [600], [1000], "both talking")
            assert_hears(alice, levels(alice, *held, freqs), [], [1000], "bob on hold")
            assert_hears(alice, levels(alice, *resumed, freqs), [1000], [600], "bob resumed")
            assert_hears(carol, levels(carol, *three, freqs), [600, 1000], [1500], "three")
            assert_hears(alice, levels(alice, *three, freqs), [1000, 1500], [600], "three")
    finally:
        for bs in phones:
            bs.stop()
        tmp.cleanup()


if __name__ == "__main__":
    run([test_two_callers_opus_pcmu_hold_and_srtp])
