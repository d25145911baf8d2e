"""Consent by phone (issue 16): everyone hears about a recording once.

Two silent baresip callers in a room without a PIN (no welcome prompt). alice joins while
nothing is recorded and hears nothing; an administrator starts recording and she hears the
spoken notice the core mixes into the room, once. bob calls in while the recording runs
and hears the notice as he comes in; alice hears nothing of it (the joiner's notice is his
alone)."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
from bslib import Baresip, read_wav  # noqa: E402

ROOM = "weekly"
LOUD = 3000      # peak of speech in a 0.5 s block (prompts peak near 20000); silence is < 500


def admitted(br, name):
    status, body = br.http("GET", "/api/rooms/" + ROOM)
    return status == 200 and any(p["name"] == name for p in body.get("participants", []))


def call(br, bs):
    bs.dial("sip:%s@127.0.0.1:%d" % (ROOM, br.sip_port))
    check(bs.established(20), "%s: call not established:\n%s" % (bs.name, bs.read_log()))
    wait_for(lambda: admitted(br, bs.name), timeout=20, what="%s in the room" % bs.name)


def blocks(bs):
    """Peak per 0.5 s block of what bs heard, from its call's start."""
    rate, s = read_wav(bs.recording())
    n = rate // 2
    return [max(abs(x) for x in s[i:i + n]) for i in range(0, len(s) - n + 1, n)]


def spans(bl):
    """(first, last) block of each run of loud blocks; a gap of one quiet block is a pause
    inside a prompt."""
    out, start, quiet = [], None, 0
    for i, p in enumerate(bl):
        if p > LOUD:
            if start is None:
                start = i
            last, quiet = i, 0
        elif start is not None:
            quiet += 1
            if quiet > 1:
                out.append((start, last))
                start, quiet = None, 0
    if start is not None:
        out.append((start, last))
    return out


def test_notice_once_for_those_present_and_to_each_joiner():
    tmp = tempfile.TemporaryDirectory(prefix="tutti-recnotice-")
    recdir = os.path.join(tmp.name, "rec")
    os.mkdir(recdir)
    phones = []
    conf = {"recording": {"enabled": True, "dir": recdir}}
    try:
        with Bridge(conf) as br:
            alice = Baresip(tmp.name, "alice", 0, seconds=120)
            phones.append(alice)
            call(br, alice)
            time.sleep(6.0)   # her welcome is over, even on a slow machine
            status, body = br.http("POST", "/api/rooms/%s/recording" % ROOM,
                                   {"action": "start"})
            check(status in (200, 201), "recording start: %s %s" % (status, body))
            time.sleep(7.0)   # the notice (about 2 s) plays and ends
            bob = Baresip(tmp.name, "bob", 0, seconds=120)
            phones.append(bob)
            call(br, bob)
            time.sleep(8.0)   # bob's greeting with its notice, which alice must not hear
            for bs in phones:
                bs.stop()

            a, b = blocks(alice), blocks(bob)
            sa, sb = spans(a), spans(b)
            print("  alice, peak/1000 per 0.5 s:", " ".join(str(p // 1000) for p in a),
                  "spans", sa, flush=True)
            print("  bob,   peak/1000 per 0.5 s:", " ".join(str(p // 1000) for p in b),
                  "spans", sb, flush=True)
            # alice joined a room not recording and heard nothing; then the room's notice
            # once, when the recording started; then nothing, bob's notice included
            check(len(sa) == 1, "alice should hear the notice once, heard %d spans: %s"
                  % (len(sa), sa))
            check(sa[0][0] >= 10, "alice heard something at her call's start (%s), before "
                  "the recording started 6 s in" % sa)
            check(sa[0][1] - sa[0][0] + 1 >= 3, "alice's notice is too short: %s" % sa)
            check(len(a) >= len(b) + 10, "alice's recording (%d blocks) does not cover bob's "
                  "call (%d)" % (len(a), len(b)))
            # bob: the notice as he comes in, alone, and nothing after
            check(len(sb) == 1 and sb[0][0] <= 10 and sb[0][1] - sb[0][0] + 1 >= 3,
                  "bob should hear the recording notice as he joins, heard %s" % sb)
            check(os.listdir(recdir), "no recording files in %s" % recdir)
    finally:
        for bs in phones:
            bs.stop()
        tmp.cleanup()


if __name__ == "__main__":
    run([test_notice_once_for_those_present_and_to_each_joiner])
