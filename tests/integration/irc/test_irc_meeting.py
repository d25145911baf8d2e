"""Running a meeting from IRC (issue 16): the real tutti-test against a real ngircd. Channel
operators are moderators; their !commands act on participants of any network (the test
gateway's, read back through the admin API); others are refused in a NOTICE and nothing
changes; hands queue across networks; moderator actions from elsewhere (a test-gateway
moderator, the admin API) are said in the channel; the room's doors list the channel."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
from ircenv import NgIrcd, RawIrc, have_ngircd  # noqa: E402


def sections(port, recording_dir=None, **extra):
    keys = {"server": "127.0.0.1", "port": port, "channels": "#chan=room1",
            "reconnect_min": 1, "reconnect_max": 2, "flood_burst": 20, "flood_interval": 50,
            "events": "none"}
    keys.update(extra)
    out = {"irc.test": keys, "room.room1": {"moderator_pin": "99"}}
    if recording_dir:
        out["recording"] = {"enabled": "true", "dir": recording_dir}
    return out


def join_raw(port, nick):
    raw = RawIrc(port, nick)
    raw.send("JOIN #chan")
    raw.wait(":%s!" % nick, "JOIN", "#chan")
    return raw


def participant(br, name, network=None):
    """The admin API's view of the participant called name in room1, or None."""
    st, b = br.http("GET", "/api/rooms/room1")
    if st != 200:
        return None
    for p in b["participants"]:
        if p["name"] == name and (network is None or p["network"] == network):
            return p
    return None


def in_room(br, name, network=None):
    return wait_for(lambda: participant(br, name, network), timeout=15,
                    what="%s in room1" % name)


class Meeting:
    """ngircd; alice (first in #chan: operator) and carol in it; the bridge with the bot
    in the channel and both in the room; bob, a test-gateway voice participant."""

    def __init__(self, recording_dir=None):
        self.recording_dir = recording_dir

    def __enter__(self):
        self.srv = NgIrcd().__enter__()
        self.alice = join_raw(self.srv.port, "alice")
        self.carol = join_raw(self.srv.port, "carol")
        self.br = Bridge(sections(self.srv.port, self.recording_dir))
        self.br.__enter__()
        self.gw = self.br.testgw()
        self.alice.wait_fn(lambda l: (l.startswith(":tutti!") and " JOIN " in l),
                           what="the bridge in #chan")
        in_room(self.br, "alice", "irc")
        in_room(self.br, "carol", "irc")
        self.bob = self.gw.join("room1", "bob")
        return self

    def __exit__(self, *exc):
        try:
            self.br.__exit__(*exc)
        finally:
            self.alice.close()
            self.carol.close()
            self.srv.__exit__(*exc)
        return False


def test_operator_moderates_others_refused():
    with Meeting() as m:
        br, alice, carol, gw = m.br, m.alice, m.carol, m.gw
        check(wait_for(lambda: participant(br, "alice", "irc")["moderator"], timeout=10,
                       what="alice a moderator"), "the operator is a moderator")
        check(not participant(br, "carol", "irc")["moderator"], "carol is not")
        # a non-operator's !mute: a NOTICE to carol alone, nothing changes
        mark_a, mark_c = alice.mark(), carol.mark()
        carol.send("PRIVMSG #chan :!mute bob")
        carol.wait("NOTICE carol :sorry, only the room's moderators can mute", since=mark_c)
        time.sleep(0.5)
        check(not participant(br, "bob")["muted"], "carol's !mute changed nothing")
        check(alice.count("only the room's moderators", since=mark_a) == 0,
              "the refusal went to carol alone")
        # the operator's !mute: the meeting event (by alice), the channel told, bob muted
        gw.drain()
        alice.send("PRIVMSG #chan :!mute bob")
        carol.wait("NOTICE #chan :alice muted bob", since=mark_c)
        ev = gw.wait_event(lambda e: e.get("ev") == "meeting" and e["action"] == "mute",
                           timeout=10, what="the mute event")
        check(ev["by"] == "alice" and ev["target"]["name"] == "bob", "event: %s" % ev)
        b = wait_for(lambda: participant(br, "bob")["muted"] and participant(br, "bob"),
                     timeout=10, what="bob muted")
        check(b["muted_by_moderator"], "bob muted by a moderator: %s" % b)
        # alice's !unmute unmutes him
        alice.send("PRIVMSG #chan :!unmute bob")
        carol.wait("NOTICE #chan :alice unmuted bob", since=mark_c)
        wait_for(lambda: not participant(br, "bob")["muted"], timeout=10, what="bob unmuted")
        # +o makes carol a moderator, -o takes it away again
        alice.send("MODE #chan +o carol")
        wait_for(lambda: participant(br, "carol", "irc")["moderator"], timeout=10,
                 what="carol a moderator after +o")
        alice.send("MODE #chan -o carol")
        wait_for(lambda: not participant(br, "carol", "irc")["moderator"], timeout=10,
                 what="carol no moderator after -o")
        # commands never reach the room as text
        texts = [e for e in gw.drain(0.5) if e.get("ev") == "text" and "!" in e["text"]]
        check(not texts, "commands relayed: %s" % texts)
        # !kick: the channel told once, bob hung up by his gateway
        alice.send("PRIVMSG #chan :!kick bob")
        carol.wait("NOTICE #chan :alice removed bob from the room", since=mark_c)
        gw.wait_event(lambda e: e.get("ev") == "hangup" and e["id"] == m.bob, timeout=10,
                      what="bob hung up")


def test_lock_refuses_a_join():
    with Meeting() as m:
        mark = m.carol.mark()
        m.carol.send("PRIVMSG #chan :!lock")
        m.carol.wait("NOTICE carol :sorry, only the room's moderators can lock", since=mark)
        r = m.gw.cmd(cmd="join", room="room1", name="dave", caps=["audio", "text"])
        check(r["ok"], "not locked by carol: %s" % r)
        m.alice.send("PRIVMSG #chan :!lock")
        m.carol.wait("NOTICE #chan :alice locked the room", since=mark)
        st, b = m.br.http("GET", "/api/rooms/room1")
        check(b["locked"], "the API says locked: %s" % b["locked"])
        r = m.gw.cmd(cmd="join", room="room1", name="erin", caps=["audio", "text"])
        check(not r["ok"], "a locked room refused erin: %s" % r)
        m.alice.send("PRIVMSG #chan :!unlock")
        m.carol.wait("NOTICE #chan :alice unlocked the room", since=mark)
        r = m.gw.cmd(cmd="join", room="room1", name="erin", caps=["audio", "text"])
        check(r["ok"], "unlocked: erin joins: %s" % r)


def test_hands_and_who():
    with Meeting() as m:
        mark = m.alice.mark()
        m.carol.send("PRIVMSG #chan :!hand")
        m.alice.wait("NOTICE #chan :carol raised a hand", since=mark)
        check(m.gw.cmd(cmd="state", id=m.bob, hand=True)["ok"], "bob's hand")
        m.alice.wait("NOTICE #chan :bob raised a hand (2 hands up", since=mark)
        st, b = m.br.http("GET", "/api/rooms/room1")
        carol_id = participant(m.br, "carol", "irc")["id"]
        check(b["hands"] == [carol_id, m.bob], "the API's queue: %s" % b["hands"])
        m.carol.send("PRIVMSG #chan :!who")
        who = m.alice.wait("NOTICE #chan :", "in room room1", since=mark)
        check("hands up in order: 1. carol, 2. bob" in who, "!who: %s" % who)
        check("alice (irc, moderator)" in who and "bob (test, hand up)" in who, "!who: %s" % who)
        m.alice.send("PRIVMSG #chan :!lower carol")
        m.alice.wait("NOTICE #chan :alice lowered carol's hand", since=mark)
        wait_for(lambda: not participant(m.br, "carol", "irc")["hand"], timeout=10,
                 what="carol's hand down")
        # carol's reader may lag alice's: count from her copy of the lowering
        _, mark = m.carol.next("NOTICE #chan :alice lowered carol's hand")
        m.alice.send("PRIVMSG #chan :!who")
        who = m.carol.wait("NOTICE #chan :", "in room room1", since=mark)
        check("hands up in order: 1. bob" in who, "!who after !lower: %s" % who)


def test_recording_not_configured_and_others_actions_told():
    with Meeting() as m:
        mark_a, mark_c = m.alice.mark(), m.carol.mark()
        m.alice.send("PRIVMSG #chan :!record start")
        m.alice.wait("NOTICE alice :recording is not configured", since=mark_a)
        st, b = m.br.http("GET", "/api/rooms/room1/recording")
        check(st == 200 and b["state"] == "idle", "no recording: %s %s" % (st, b))
        # a moderator on another network mutes an IRC member: the channel hears who did it
        mod = m.gw.join("room1", "mod", pin="99")
        r = m.gw.cmd(cmd="moderate", id=mod, action="mute", target="carol")
        check(r["ok"], "mod mutes carol: %s" % r)
        m.carol.wait("NOTICE #chan :mod muted carol", since=mark_c)
        # the admin API's mute all
        st, b = m.br.http("PATCH", "/api/rooms/room1", {"mute_all": True})
        check(st == 200, "mute all: %s %s" % (st, b))
        m.carol.wait("NOTICE #chan :an administrator muted everyone but the moderators",
                     since=mark_c)
        wait_for(lambda: participant(m.br, "bob")["muted"], timeout=10, what="bob muted")
        # the admin ends the meeting: one notice, not one per IRC member
        st, b = m.br.http("DELETE", "/api/rooms/room1")
        check(st == 200, "end: %s %s" % (st, b))
        m.carol.wait("NOTICE #chan :an administrator ended the meeting", since=mark_c)
        time.sleep(1.0)
        check(m.carol.count("no longer reaches the room", since=mark_c) == 0,
              "hang-ups said again after the end")
        # the channel is still bridged and alice and carol still in it: in the room again
        in_room(m.br, "alice", "irc")
        in_room(m.br, "carol", "irc")
        check(participant(m.br, "bob") is None, "bob was hung up")
        check(m.gw.cmd(cmd="watch", room="room1")["ok"], "watch room1")  # its own are gone
        m.gw.drain()
        m.carol.send("PRIVMSG #chan :after the end")
        m.gw.wait_event(lambda e: e.get("ev") == "text" and e["text"] == "after the end",
                        timeout=10, what="carol's line after the end")


def test_recording_consent_on_irc():
    """With recording enabled: an operator's !record start is told to the channel, a
    person joining while it runs is told alone, the bot tells nobody twice, !record stop
    is said too."""
    with tempfile.TemporaryDirectory(prefix="tt-irc-rec-") as d, Meeting(d) as m:
        mark_a, mark_c = m.alice.mark(), m.carol.mark()
        m.carol.send("PRIVMSG #chan :!record start")
        m.carol.wait("NOTICE carol :sorry, only the room's moderators can start a recording",
                     since=mark_c)
        m.alice.send("PRIVMSG #chan :!record start")
        m.carol.wait("NOTICE #chan :alice started recording: this meeting is being recorded "
                     "from now on", since=mark_c)
        st, b = m.br.http("GET", "/api/rooms/room1/recording")
        check(st == 200 and b["state"] != "idle", "recording: %s %s" % (st, b))
        m.alice.send("PRIVMSG #chan :!record start")
        m.alice.wait("NOTICE alice :the meeting is already being recorded", since=mark_a)
        dave = join_raw(m.srv.port, "dave")
        try:
            dave.wait("NOTICE dave :this meeting (room room1) is being recorded since ",
                      "UTC")
            in_room(m.br, "dave", "irc")
            time.sleep(0.5)
            check(m.carol.count("NOTICE carol :this meeting", since=mark_c) == 0,
                  "only the joiner is told")
            m.alice.send("PRIVMSG #chan :!record stop")
            dave.wait("NOTICE #chan :the recording has stopped: stopped by alice")
            st, b = m.br.http("GET", "/api/rooms/room1/recording")
            check(st == 200 and b["state"] == "idle", "stopped: %s %s" % (st, b))
            check(os.listdir(d), "the recording wrote files in %s" % d)
        finally:
            dave.close()


def test_doors_list_the_channel():
    with Meeting() as m:
        st, b = m.br.http("GET", "/api/rooms/room1")
        doors = [d for d in b["doors"] if d["network"] == "irc"]
        want = "irc://127.0.0.1:%d/%%23chan" % m.srv.port
        check(len(doors) == 1 and doors[0]["uri"] == want and doors[0]["label"] == "IRC (test)",
              "doors: %s" % b["doors"])
        check("#chan" in doors[0].get("text", ""), "door text: %s" % doors[0])


if __name__ == "__main__":
    if not have_ngircd():
        print("SKIP: ngircd not installed (Debian package ngircd)")
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    run([test_operator_moderates_others_refused, test_lock_refuses_a_join,
         test_hands_and_who, test_recording_not_configured_and_others_actions_told,
         test_recording_consent_on_irc, test_doors_list_the_channel])
