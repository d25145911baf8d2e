"""A meeting run from phone keypads (issue 16): baresip callers in a PIN room, one of them a
moderator by the moderator PIN, typed as DTMF like every other key.

- a non-moderator's moderator keys (*4 mute all, *5 lock, *7 N # mute one) are refused
  with the spoken "only a moderator" prompt, which that caller hears, and change nothing;
- the moderator's *7 N # mutes caller N of the roster: the API shows the moderator's mute
  and a listener stops hearing that caller's tone; *7 N # again and the tone is back;
- *2 raises hands, in order (hand and hand_seq in the API); the moderator's *3 lowers the
  hand that went up first;
- the room's doors in the API include its SIP address."""
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
from bslib import Baresip, read_wav, window_levels  # noqa: E402

HEARD_DB = -45.0     # a tone we must hear is louder than this (source is about -12 dBFS)
MARGIN_DB = 20.0     # a muted tone is this much below what it was
ROOM = "standup"


def people(br):
    status, body = br.http("GET", "/api/rooms/" + ROOM)
    return body.get("participants", []) if status == 200 else []


def room(br):
    return br.http("GET", "/api/rooms/" + ROOM)[1]


def who(br, name):
    return ([p for p in people(br) if p["name"] == name] or [None])[0]


def keys(bs, digits):
    """Types keys one by one, as a person would (baresip sends RFC 4733 events)."""
    for d in digits:
        bs.cmd("sndcode", d)
        time.sleep(0.35)


def join(br, bs, pin):
    bs.dial("sip:%s@127.0.0.1:%d" % (ROOM, br.sip_port))
    check(bs.established(20), "%s: call not established:\n%s" % (bs.name, bs.read_log()))
    bs.t_established = time.time()
    time.sleep(1.0)   # the PIN prompt starts; keys may come at any time
    keys(bs, pin + "#")
    wait_for(lambda: who(br, bs.name), timeout=20, what="%s admitted with its PIN" % bs.name)


def offset(bs, t):
    """Where wall-clock time t is in bs's recording. Counted back from the recording's end,
    which is when the phone was stopped (bs.t_stop): the time the test saw the call set up
    comes late on a busy machine (baresip's event, then our poll), and once put the quiet
    window 5 s early, on the welcome prompt."""
    if getattr(bs, "t_stop", None) is None:
        return t - bs.t_established
    if getattr(bs, "rec_len", None) is None:
        rate, s = read_wav(bs.recording())
        bs.rec_len = len(s) / rate
    return bs.rec_len - (bs.t_stop - t)


def rms_window(bs, t0, t1):
    rate, s = read_wav(bs.recording())
    part = s[int(offset(bs, t0) * rate):int(offset(bs, t1) * rate)]
    check(len(part) > rate * 0.5 * (t1 - t0),
          "%s: recording too short for the window (%d samples)" % (bs.name, len(part)))
    return math.sqrt(sum(x * x for x in part) / len(part)), max(abs(x) for x in part)


def envelope(bs, step=0.5):
    rate, s = read_wav(bs.recording())
    n = int(rate * step)
    return " ".join("%d" % (max(abs(x) for x in s[i:i + n]) // 1000)
                    for i in range(0, len(s) - n, n))


def position(br, name):
    return [p["name"] for p in people(br)].index(name) + 1


def test_moderator_keys():
    tmp = tempfile.TemporaryDirectory(prefix="tutti-meeting-")
    phones = []
    conf = {"rooms": {"on_demand": False},
            "room." + ROOM: {"pin": "1111", "moderator_pin": "4321"},
            "sip": {"public_host": "bridge.example.org"}}
    try:
        with Bridge(conf) as br:
            # the two silent callers first, so that nina hears nothing but her prompts
            mod = Baresip(tmp.name, "mod", 0, seconds=300)
            nina = Baresip(tmp.name, "nina", 0, seconds=300)
            phones += [mod, nina]
            join(br, mod, "4321")
            join(br, nina, "1111")
            check(who(br, "mod")["moderator"], "mod is not a moderator: %s" % who(br, "mod"))
            check(not who(br, "nina")["moderator"], "nina is a moderator")
            doors = room(br)["doors"]
            check({"network": "phone", "label": "SIP",
                   "uri": "sip:standup@bridge.example.org"} in doors,
                  "no SIP door in %s" % doors)

            # nina (no moderator) tries *4, *5 and *7 1 #: a prompt, and nothing changes
            time.sleep(6.0)   # the welcome prompt is over, even on a slow machine
            quiet = (time.time() - 2.0, time.time() - 0.2)
            t_refused = time.time()
            keys(nina, "*4")
            time.sleep(3.0)
            refused = (t_refused + 0.2, time.time())
            keys(nina, "*5")
            keys(nina, "*7%d#" % position(br, "mod"))
            time.sleep(1.0)
            check(not room(br)["locked"], "nina locked the room")
            check(not any(p["muted"] for p in people(br)),
                  "nina's keys muted someone: %s" % people(br))

            # two tone callers: bob (1000 Hz) is the one to mute, alice (600 Hz) listens
            bob = Baresip(tmp.name, "bob", 1000, seconds=300)
            alice = Baresip(tmp.name, "alice", 600, seconds=300)
            phones += [bob, alice]
            join(br, bob, "1111")
            join(br, alice, "1111")
            time.sleep(3.0)
            both = (time.time() - 2.0, time.time() - 0.2)

            keys(mod, "*7%d#" % position(br, "bob"))
            wait_for(lambda: who(br, "bob")["muted_by_moderator"], timeout=10,
                     what="bob muted by the moderator")
            check(who(br, "bob")["muted"], "bob muted by a moderator but not muted")
            check(not who(br, "alice")["muted"], "alice muted too")
            time.sleep(3.0)
            muted = (time.time() - 2.0, time.time() - 0.2)

            keys(mod, "*7%d#" % position(br, "bob"))
            wait_for(lambda: not who(br, "bob")["muted"], timeout=10, what="bob unmuted")
            check(not who(br, "bob")["muted_by_moderator"], "bob still muted by a moderator")
            time.sleep(3.0)
            unmuted = (time.time() - 2.0, time.time() - 0.2)

            # hands: bob, then alice; the moderator's *3 lowers bob's, the first up
            keys(bob, "*2")
            wait_for(lambda: who(br, "bob")["hand"], timeout=10, what="bob's hand up")
            keys(alice, "*2")
            wait_for(lambda: who(br, "alice")["hand"], timeout=10, what="alice's hand up")
            b, a = who(br, "bob"), who(br, "alice")
            check(b["hand_seq"] < a["hand_seq"], "hand order: bob %s, alice %s"
                  % (b.get("hand_seq"), a.get("hand_seq")))
            check(room(br)["hands"] == [b["id"], a["id"]], "queue: %s" % room(br)["hands"])
            keys(nina, "*3")   # not a moderator: nobody's hand goes down
            time.sleep(1.0)
            check(who(br, "bob")["hand"], "nina lowered bob's hand")
            keys(mod, "*3")
            wait_for(lambda: not who(br, "bob")["hand"], timeout=10, what="bob's hand down")
            check(who(br, "alice")["hand"], "alice's hand went down too")
            check("hand_seq" not in who(br, "bob"), "a lowered hand keeps its number")

            for bs in phones:
                bs.t_stop = time.time()
                bs.stop()

            # what nina heard: silence, then the refusal prompt (speech, loud)
            print("  nina's audio, peak per 0.5 s from the call's start:", envelope(nina),
                  "(quiet %.1f-%.1f, refused %.1f-%.1f)"
                  % (offset(nina, quiet[0]), offset(nina, quiet[1]),
                     offset(nina, refused[0]), offset(nina, refused[1])), flush=True)
            q_rms, q_peak = rms_window(nina, *quiet)
            r_rms, r_peak = rms_window(nina, *refused)
            print("  nina: quiet rms %.0f peak %d; after *4 rms %.0f peak %d"
                  % (q_rms, q_peak, r_rms, r_peak), flush=True)
            check(q_peak < 500, "nina heard something before her key: peak %d" % q_peak)
            check(r_rms > 300 and r_peak > 3000,
                  "nina did not hear the refusal prompt: rms %.0f peak %d" % (r_rms, r_peak))

            freqs = (600, 1000)
            lv = {}
            for name, w in (("both", both), ("muted", muted), ("unmuted", unmuted)):
                lv[name], got = window_levels(alice.recording(), offset(alice, w[0]),
                                              offset(alice, w[1]), freqs)
                check(got > 1.0, "alice's recording too short for %s: %.1f s" % (name, got))
                print("  alice hears, bob %-8s: 1000 Hz %.1f dB, 600 Hz %.1f dB"
                      % (name, lv[name][1000], lv[name][600]), flush=True)
            check(lv["both"][1000] > HEARD_DB, "alice did not hear bob: %s" % lv["both"])
            check(lv["both"][1000] - lv["muted"][1000] > MARGIN_DB,
                  "alice still heard bob muted: %s, before %s" % (lv["muted"], lv["both"]))
            check(lv["unmuted"][1000] > HEARD_DB,
                  "alice did not hear bob unmuted: %s" % lv["unmuted"])
    finally:
        for bs in phones:
            bs.stop()
        tmp.cleanup()


if __name__ == "__main__":
    run([test_moderator_keys])
