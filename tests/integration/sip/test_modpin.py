"""A room with a moderator PIN but no PIN, called from phones (issue 16): every caller waits
in the PIN lobby and hears "If you have a moderator PIN, enter it, followed by the hash key.
Otherwise, press the hash key."

- the moderator PIN then '#' makes a moderator (the first caller: the room is made from
  its config section; the others find it made);
- '#' alone admits as a participant, not a moderator;
- a wrong PIN is a wrong try (not admitted), '#' alone afterwards still admits;
- a caller who presses nothing is admitted as a participant after [sip] pin_timeout
  instead of being hung up, and heard the whole (long) prompt before;
- a PIN room keeps its behaviour: '#' alone there is a wrong PIN."""
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
from bslib import Baresip, read_wav  # noqa: E402

ROOM = "townhall"     # moderator_pin only
PIN_ROOM = "board"    # pin and moderator_pin
PIN_TIMEOUT = 12      # seconds; longer than the prompt (6.7 s) so that it is heard whole


def who(br, room, name):
    status, body = br.http("GET", "/api/rooms/" + room)
    people = body.get("participants", []) if status == 200 else []
    return ([p for p in people if p["name"] == name] or [None])[0]


def keys(bs, digits):
    """Types keys one by one, as a person would (baresip sends RFC 4733 events)."""
    for d in digits:
        bs.cmd("sndcode", d)
        time.sleep(0.35)


def call(br, bs, room):
    bs.dial("sip:%s@127.0.0.1:%d" % (room, br.sip_port))
    check(bs.established(20), "%s: call not established:\n%s" % (bs.name, bs.read_log()))
    bs.t_established = time.time()
    time.sleep(1.0)   # the prompt starts; keys may come at any time


def loudness(bs, t0, t1):
    """rms and peak of what bs heard from t0 to t1 seconds after its call was set up."""
    rate, s = read_wav(bs.recording())
    part = s[int(t0 * rate):int(t1 * rate)]
    check(len(part) > rate * 0.5 * (t1 - t0),
          "%s: recording too short for %.1f-%.1f s (%d samples)" % (bs.name, t0, t1, len(part)))
    return math.sqrt(sum(x * x for x in part) / len(part)), max(abs(x) for x in part)


def test_moderator_pin_only_room():
    tmp = tempfile.TemporaryDirectory(prefix="tutti-modpin-")
    phones = []
    conf = {"rooms": {"on_demand": False},
            "room." + ROOM: {"moderator_pin": "4321"},
            "room." + PIN_ROOM: {"pin": "1111", "moderator_pin": "9876"},
            "sip": {"pin_timeout": PIN_TIMEOUT, "pin_attempts": 3}}
    try:
        with Bridge(conf) as br:
            mod, nina, wrong, carol, pinned = (
                Baresip(tmp.name, n, 0, seconds=300)
                for n in ("mod", "nina", "wrong", "carol", "pinned"))
            phones += [mod, nina, wrong, carol, pinned]

            # carol first, pressing nothing: the room is not made yet (config path)
            call(br, carol, ROOM)
            check(who(br, ROOM, "carol") is None, "carol was let in without the lobby")

            call(br, mod, ROOM)
            keys(mod, "4321#")
            wait_for(lambda: who(br, ROOM, "mod"), timeout=20, what="mod admitted")
            check(who(br, ROOM, "mod")["moderator"], "mod is not a moderator: %s"
                  % who(br, ROOM, "mod"))

            call(br, nina, ROOM)
            keys(nina, "#")
            wait_for(lambda: who(br, ROOM, "nina"), timeout=20, what="nina admitted by '#'")
            check(not who(br, ROOM, "nina")["moderator"], "'#' alone made nina a moderator")

            call(br, wrong, ROOM)
            keys(wrong, "99#")
            time.sleep(3.0)
            check(who(br, ROOM, "wrong") is None, "a wrong moderator PIN let 'wrong' in")
            check(not wrong.closed(), "one wrong PIN hung 'wrong' up")
            keys(wrong, "#")
            wait_for(lambda: who(br, ROOM, "wrong"), timeout=20,
                     what="'wrong' admitted by '#' after a wrong PIN")
            check(not who(br, ROOM, "wrong")["moderator"], "'wrong' is a moderator")

            # carol: admitted by the timeout, not hung up
            wait_for(lambda: who(br, ROOM, "carol"), timeout=PIN_TIMEOUT + 30,
                     what="carol admitted after the PIN timeout")
            waited = time.time() - carol.t_established
            check(waited > PIN_TIMEOUT - 2,
                  "carol admitted after %.1f s, before the %d s timeout" % (waited, PIN_TIMEOUT))
            check(not who(br, ROOM, "carol")["moderator"], "carol is a moderator")
            check(not carol.closed(), "carol was hung up")

            # a PIN room: '#' alone is a wrong PIN there, as before
            call(br, pinned, PIN_ROOM)
            keys(pinned, "#")
            time.sleep(3.0)
            check(who(br, PIN_ROOM, "pinned") is None, "'#' alone opened the PIN room")
            keys(pinned, "1111#")
            wait_for(lambda: who(br, PIN_ROOM, "pinned"), timeout=20,
                     what="pinned admitted with the PIN")

            time.sleep(1.0)
            for bs in phones:
                bs.stop()

            # carol heard the prompt: speech early, and still speech after 4.5 s, past the
            # end of the 3.7 s PIN prompt of a PIN room (so it is the longer one)
            for t0, t1 in ((1.0, 3.0), (4.6, 6.0)):
                rms, peak = loudness(carol, t0, t1)
                print("  carol hears %.1f-%.1f s: rms %.0f peak %d" % (t0, t1, rms, peak),
                      flush=True)
                check(rms > 300 and peak > 3000,
                      "carol did not hear the moderator PIN prompt at %.1f-%.1f s: rms %.0f "
                      "peak %d" % (t0, t1, rms, peak))
    finally:
        for bs in phones:
            bs.stop()
        tmp.cleanup()


if __name__ == "__main__":
    run([test_moderator_pin_only_room])
