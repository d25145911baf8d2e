"""Integration tests of the IRC gateway: the real tutti-test against a real ngircd, with
raw IRC clients in the channel and the test gateway as the room's other participants."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, BridgeError, check, run  # noqa: E402
from ircenv import NgIrcd, RawIrc, have_ngircd  # noqa: E402


def irc_section(port, **extra):
    keys = {"server": "127.0.0.1", "port": port, "channels": "#chan=room1",
            "reconnect_min": 1, "reconnect_max": 2, "flood_burst": 20, "flood_interval": 50}
    keys.update(extra)
    return {"irc.test": keys}


def texts(events, **match):
    return [e for e in events if e["ev"] == "text" and
            all(e.get(k) == v for k, v in match.items())]


def bot_joined(raw, since=0):
    """The bot's JOIN, or the bot in NAMES when it was there first."""
    raw.wait_fn(lambda l: (l.startswith(":tutti!") and " JOIN " in l) or
                (" 353 " in l and "tutti" in l.split(":")[-1]), since=since,
                what="the bridge in the channel")


def join_raw(port, nick, chan="#chan"):
    """A raw client in the channel (the first one in becomes its operator)."""
    raw = RawIrc(port, nick)
    raw.send("JOIN %s" % chan)
    raw.wait(":%s!" % nick, "JOIN", chan)
    return raw


def no_irc_member(gw, room, nick, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = gw.cmd(cmd="roster", room=room)
        if not [p for p in r.get("roster") or [] if p["name"] == nick]:
            return
        time.sleep(0.1)
    raise AssertionError("%s still in room %s" % (nick, room))


def irc_member(gw, room, nick, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = gw.cmd(cmd="roster", room=room)
        for p in r.get("roster") or []:
            if p["name"] == nick and p["network"] == "irc":
                return p
        time.sleep(0.1)
    raise AssertionError("%s never appeared in room %s" % (nick, room))


def test_relay_both_ways_once():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port)) as br:
            g = br.testgw()
            bot_joined(alice)
            bob = g.join("room1", "bob")
            alice.wait("NOTICE #chan :bob joined the room (test)")
            irc_member(g, "room1", "alice")
            g.drain()
            alice.send("PRIVMSG #chan :\x01ACTION waves\x01")
            ev = g.wait_event(lambda e: e["ev"] == "text" and e["text"] == "waves",
                              what="the action")
            check(ev["action"] and ev["from"]["network"] == "irc", "action: %s" % ev)
            mark = alice.mark()
            g.say(bob, "hi there")
            alice.wait("PRIVMSG #chan :<bob@test> hi there", since=mark)
            g.say(bob, "dances", action=True)
            alice.wait("PRIVMSG #chan :\x01ACTION bob@test dances\x01", since=mark)
            time.sleep(1.0)
            check(alice.count("<bob@test> hi there", since=mark) == 1,
                  "room text shown %d times" % alice.count("<bob@test> hi there", since=mark))
            # nothing the bridge said on IRC came back into the room as IRC text
            back = [e for e in g.drain(0.5) if e["ev"] == "text"
                    and e["from"]["network"] == "irc"]
            check(not back, "bridge lines came back: %s" % back)
            g.leave(bob)
            alice.wait("NOTICE #chan :bob left the room (test)", since=mark)
        alice.close()


def test_irc_line_reaches_room_once():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port)) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            g.join("room1", "bob")
            g.drain()
            alice.send("PRIVMSG #chan :exactly once \x02please\x02")
            ev = g.wait_event(lambda e: e["ev"] == "text", what="the IRC line")
            check(ev["text"] == "exactly once please" and ev["from"]["name"] == "alice",
                  "text: %s" % ev)
            more = texts(g.drain(1.0))
            check(not more, "delivered again: %s" % more)
        alice.close()


def test_utf8_long_line_split():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port)) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            bob = g.join("room1", "bob")
            text = ""
            while len(text.encode()) < 2000:
                text += "é€😀ü"
            mark = alice.mark()
            r = g.say(bob, text)
            check(r.get("ok"), "say: %s" % r)
            got, pieces, since = "", 0, mark
            while len(got) < len(text):
                alice.wait("PRIVMSG #chan :<bob@test> ", since=since)
                with alice.cv:
                    for i in range(since, len(alice.lines)):
                        if "PRIVMSG #chan :<bob@test> " in alice.lines[i]:
                            line = alice.lines[i]
                            since = i + 1
                            break
                check("\ufffd" not in line, "a piece has a broken character: %r" % line)
                check(len(line.encode()) + 2 <= 512, "line over 512 bytes")
                got += line.split("<bob@test> ", 1)[1]
                pieces += 1
            check(got == text, "text arrived changed (%d pieces)" % pieces)
            check(pieces >= 4, "only %d pieces" % pieces)
        alice.close()


def test_newlines_become_lines():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port, relay_format="[{name}] {text}")) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            bob = g.join("room1", "bob")
            mark = alice.mark()
            g.say(bob, "one\ntwo")
            alice.wait("PRIVMSG #chan :[bob] one", since=mark)
            alice.wait("PRIVMSG #chan :[bob] two", since=mark)
        alice.close()


def test_puppets_in_names():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port, mode="puppet", puppet_limit=2)) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            mark = alice.mark()
            ann = g.join("room1", "Ann Lee")
            bo = g.join("room1", "Bo")
            alice.wait(":Ann_Lee!", "JOIN", since=mark)
            alice.wait(":Bo!", "JOIN", since=mark)
            m2 = alice.mark()
            alice.send("NAMES #chan")
            names = alice.wait(" 353 ", since=m2)
            check("Ann_Lee" in names and "Bo" in names.split(":")[-1].split(),
                  "NAMES: %s" % names)
            g.say(ann, "hello as myself")
            alice.wait(":Ann_Lee!", "PRIVMSG #chan :hello as myself", since=m2)
            g.leave(bo)
            alice.wait(":Bo!", "QUIT", since=m2)
            m3 = alice.mark()
            alice.send("NAMES #chan")
            names = alice.wait(" 353 ", since=m3)
            check("Bo" not in names.split(":")[-1].split(), "Bo still in NAMES: %s" % names)
            # puppets are not IRC members of the room
            r = g.cmd(cmd="roster", room="room1")
            irc = sorted(p["name"] for p in r["roster"] if p["network"] == "irc")
            check(irc == ["alice"], "IRC members: %s" % irc)
        alice.close()


def test_reconnect_and_rejoin():
    srv = NgIrcd().start()
    try:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port)) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            g.cmd(cmd="watch", room="room1", on=True)   # text events without a participant
            srv.stop()
            alice.close()
            no_irc_member(g, "room1", "alice")   # IRC members leave with the link
            srv.start()
            alice = RawIrc(srv.port, "alice")
            mark = alice.mark()
            alice.send("JOIN #chan")  # before or after the bridge is back: both work
            # backoff 1..2 s with jitter (reconnect_min/max), generous bound
            bot_joined(alice, since=mark)
            irc_member(g, "room1", "alice")
            g.drain()
            alice.send("PRIVMSG #chan :back again")
            g.wait_event(lambda e: e["ev"] == "text" and e["text"] == "back again",
                         what="text after the reconnect")
        alice.close()
    finally:
        srv.cleanup()


def test_tls_with_ca():
    with NgIrcd(tls=True) as srv:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.tls_port, tls=True, tls_verify=True, tls_ca=srv.ca)) as br:
            g = br.testgw()
            g.cmd(cmd="watch", room="room1", on=True)
            bot_joined(alice)
            mark = alice.mark()
            alice.send("WHOIS tutti")
            alice.wait("tutti", "secure", since=mark)  # ngircd: 275 "... (secure link)"
            irc_member(g, "room1", "alice")
            g.drain()
            alice.send("PRIVMSG #chan :over tls")
            g.wait_event(lambda e: e["ev"] == "text" and e["text"] == "over tls",
                         what="text over TLS")
        alice.close()


def test_who_mute_by_op_refused_for_others():
    with NgIrcd() as srv:
        alice = join_raw(srv.port, "alice")   # first in the channel: operator
        carol = join_raw(srv.port, "carol")
        with Bridge(irc_section(srv.port, events="none")) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "carol")
            bob = g.join("room1", "bob")
            mark = alice.mark()
            carol.send("PRIVMSG #chan :!who")
            who = alice.wait("NOTICE #chan :3 in room room1", since=mark)
            check("bob (test)" in who and "alice (irc)" in who and "carol (irc)" in who,
                  "!who: %s" % who)
            carol.send("PRIVMSG #chan :!mute bob")
            alice.wait("carol: only channel operators (+o) can mute", since=mark)
            r = g.cmd(cmd="roster", room="room1")
            check(not [p for p in r["roster"] if p["name"] == "bob" and p.get("muted")],
                  "a non-op muted bob: %s" % r)
            g.drain()
            alice.send("PRIVMSG #chan :!mute bob")
            alice.wait("bob was muted by alice", since=mark)
            ev = g.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "state"
                              and e["who"]["id"] == bob, what="bob muted")
            check(ev["who"]["muted"], "state: %s" % ev)
            alice.send("PRIVMSG #chan :!kick bob")
            g.wait_event(lambda e: e["ev"] == "hangup" and e["id"] == bob, what="bob kicked")
        alice.close()
        carol.close()


def test_bad_channel_config_refused_at_start():
    b = Bridge(irc_section(6667, channels="chan-without-room"))
    try:
        b.start()
        b.stop()
        raise AssertionError("tutti started with a bad channels entry")
    except BridgeError as e:
        check("channels" in str(e) and "tutti.conf" in str(e), "error: %s" % e)
    finally:
        b.kill()
        b.tmp.cleanup()


if __name__ == "__main__":
    if not have_ngircd():
        print("SKIP: ngircd not installed (Debian package ngircd)")
        sys.exit(0)
    run([test_relay_both_ways_once, test_irc_line_reaches_room_once, test_utf8_long_line_split,
         test_newlines_become_lines, test_puppets_in_names, test_reconnect_and_rejoin,
         test_tls_with_ca, test_who_mute_by_op_refused_for_others,
         test_bad_channel_config_refused_at_start])
