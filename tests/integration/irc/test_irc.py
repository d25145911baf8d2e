"""Integration tests of the IRC gateway: the real tutti-test against a real ngircd, with
raw IRC clients in the channel and the test gateway as the room's other participants."""
import contextlib
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, BridgeError, check, run  # noqa: E402
from ircenv import InspIrcd, NgIrcd, RawIrc, have_inspircd, have_ngircd  # noqa: E402

# TT_IRC_SERVER=inspircd runs the same tests against InspIRCd (IRCv3 caps offered).
SERVER = os.environ.get("TT_IRC_SERVER", "ngircd")
Server = InspIrcd if SERVER == "inspircd" else NgIrcd


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


@contextlib.contextmanager
def bridged(**extra):
    """A server, alice (operator of #chan) in it, and the bridge mapping #chan to room1 with
    the bot in the channel and alice in the room: yields (srv, alice, bridge, testgw)."""
    with Server() as srv:
        alice = join_raw(srv.port, "alice")
        try:
            with Bridge(irc_section(srv.port, **extra)) as br:
                g = br.testgw()
                bot_joined(alice)
                irc_member(g, "room1", "alice")
                yield srv, alice, br, g
        finally:
            alice.close()


def test_relay_both_ways_once():
    with bridged() as (srv, alice, br, g):
        bob = g.join("room1", "bob")
        alice.wait("NOTICE #chan :bob joined the room (test)")
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
        if SERVER == "inspircd":  # the echoes really came back, and were ignored
            caps = [l for l in br.read_log().splitlines() if "capabilities on" in l]
            check(caps and "echo-message" in caps[0] and "server-time" in caps[0],
                  "caps: %s" % caps)


def test_irc_line_reaches_room_once():
    with bridged() as (srv, alice, br, g):
        g.join("room1", "bob")
        g.drain()
        alice.send("PRIVMSG #chan :exactly once \x02please\x02")
        ev = g.wait_event(lambda e: e["ev"] == "text", what="the IRC line")
        check(ev["text"] == "exactly once please" and ev["from"]["name"] == "alice",
              "text: %s" % ev)
        more = texts(g.drain(1.0))
        check(not more, "delivered again: %s" % more)


def test_utf8_long_line_split():
    with bridged() as (srv, alice, br, g):
        bob = g.join("room1", "bob")
        text = ""
        while len(text.encode()) < 2000:
            text += "é€😀ü"
        mark = alice.mark()
        r = g.say(bob, text)
        check(r.get("ok"), "say: %s" % r)
        got, pieces, since = "", 0, mark
        while len(got) < len(text):
            line, since = alice.next("PRIVMSG #chan :<bob@test> ", since=since)
            check("\ufffd" not in line, "a piece has a broken character: %r" % line)
            check(len(line.encode()) + 2 <= 512, "line over 512 bytes")
            got += line.split("<bob@test> ", 1)[1]
            pieces += 1
        check(got == text, "text arrived changed (%d pieces)" % pieces)
        check(pieces >= 4, "only %d pieces" % pieces)


def test_newlines_become_lines():
    with bridged(relay_format="[{name}] {text}") as (srv, alice, br, g):
        bob = g.join("room1", "bob")
        mark = alice.mark()
        g.say(bob, "one\ntwo")
        alice.wait("PRIVMSG #chan :[bob] one", since=mark)
        alice.wait("PRIVMSG #chan :[bob] two", since=mark)


def test_paced_burst_arrives_complete_in_order():
    with bridged(flood_burst=3, flood_interval=100,
                 relay_format="{text}") as (srv, alice, br, g):
        bob = g.join("room1", "bob")
        mark = alice.mark()
        g.say(bob, "\n".join("line %02d" % i for i in range(30)))
        since = mark
        for i in range(30):
            line, since = alice.next("PRIVMSG #chan :line ", since=since)
            check(line.endswith(":line %02d" % i), "line %d out of order: %s" % (i, line))
        check(alice.count(":tutti!", "QUIT", since=mark) == 0, "the bot was disconnected")


def test_channel_key():
    with Server() as srv:
        alice = join_raw(srv.port, "alice")
        try:
            alice.send("MODE #chan +k sekrit")
            alice.wait("MODE #chan +k")
            with Bridge(irc_section(srv.port, channels="#chan=room1:sekrit")) as br:
                g = br.testgw()
                bot_joined(alice)
                irc_member(g, "room1", "alice")
        finally:
            alice.close()


def test_sighup_changes_the_relay_format():
    with bridged(relay_format="<{name}> {text}") as (srv, alice, br, g):
        bob = g.join("room1", "bob")
        mark = alice.mark()
        g.say(bob, "before")
        alice.wait("PRIVMSG #chan :<bob> before", since=mark)
        conf = open(br.config_path).read().replace("relay_format = <{name}> {text}",
                                                   "relay_format = [{name}] {text}")
        open(br.config_path, "w").write(conf)
        br.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "configuration reloaded" not in br.read_log() and time.time() < deadline:
            time.sleep(0.05)
        g.say(bob, "after")
        alice.wait("PRIVMSG #chan :[bob] after", since=mark)


def test_two_networks_through_the_bus():
    """Two [irc.*] networks with a channel each in one room: each channel is a text medium
    of the room, so a line in one reaches the other and the room once, through the core's
    text bus, and never comes back to its own channel."""
    with Server() as srv:
        alice = join_raw(srv.port, "alice")
        bob = join_raw(srv.port, "bob", chan="#other")
        try:
            sections = irc_section(srv.port)
            sections["irc.two"] = dict(sections["irc.test"], channels="#other=room1",
                                       nick="tutti2")
            with Bridge(sections) as br:
                g = br.testgw()
                alice.wait_fn(lambda l: l.startswith(":tutti!") and " JOIN " in l,
                              what="bot one in #chan")
                bob.wait_fn(lambda l: l.startswith(":tutti2!") and " JOIN " in l,
                            what="bot two in #other")
                irc_member(g, "room1", "alice")
                irc_member(g, "room1", "bob")
                carol = g.join("room1", "carol")
                bob.wait("NOTICE #other :carol joined the room (test)")
                g.drain()
                ma, mb = alice.mark(), bob.mark()
                alice.send("PRIVMSG #chan :hello other network")
                bob.wait("PRIVMSG #other :<alice@irc> hello other network", since=mb)
                bob.send("PRIVMSG #other :\x01ACTION nods\x01")
                alice.wait("PRIVMSG #chan :\x01ACTION bob@irc nods\x01", since=ma)
                g.say(carol, "from the room")
                alice.wait("PRIVMSG #chan :<carol@test> from the room", since=ma)
                bob.wait("PRIVMSG #other :<carol@test> from the room", since=mb)
                time.sleep(1.0)
                check(bob.count("hello other network", since=mb) == 1,
                      "#other got the line %d times" % bob.count("hello other network",
                                                                since=mb))
                check(alice.count("hello other network", since=ma) == 0,
                      "the line came back to #chan")
                check(alice.count("nods", since=ma) == 1 and
                      bob.count("nods", since=mb) == 0, "the action went astray")
                for raw, m in ((alice, ma), (bob, mb)):
                    check(raw.count("from the room", since=m) == 1, "room line count")
                got = [e["text"] for e in texts(g.drain(0.5))]
                check(sorted(got) == ["from the room", "hello other network", "nods"],
                      "the room's texts: %s" % got)
        finally:
            alice.close()
            bob.close()


def test_configured_rooms_only():
    """rooms.on_demand = false: a channel mapped to a configured room works; one mapped to a
    room that does not exist is reported once and bridges nothing."""
    with Server() as srv:
        alice = join_raw(srv.port, "alice")
        bob = join_raw(srv.port, "bob", chan="#other")
        try:
            sections = irc_section(srv.port, channels="#chan=room1, #other=nosuch")
            sections.update({"rooms": {"on_demand": False}, "room.room1": {"speakers": 3}})
            with Bridge(sections) as br:
                g = br.testgw()
                bot_joined(alice)
                bot_joined(bob)
                irc_member(g, "room1", "alice")
                r = g.cmd(cmd="roster", room="nosuch")
                check(not r.get("roster"), "a room appeared: %s" % r)
                warns = [l for l in br.read_log().splitlines()
                         if " warn " in l and "nosuch" in l]
                check(len(warns) == 1, "warnings: %s" % warns)
        finally:
            alice.close()
            bob.close()


def test_puppets_in_names():
    with bridged(mode="puppet", puppet_limit=2) as (srv, alice, br, g):
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


def irc_stats(br):
    """The irc gateway's counters (GET /api/gateways; /metrics reads the same tables): the
    totals, with the one network's link ("test", a labelled instance) merged in."""
    _, body = br.http("GET", "/api/gateways")
    gw = [g for g in body["gateways"] if g["name"] == "irc"][0]
    check(gw["instance_label"] == "network", "instance label: %s" % gw)
    nets = {i["network"]: i for i in gw["instances"]}
    check(set(nets) == {"test"}, "one network instance: %s" % gw["instances"])
    return dict(gw["stats"], **nets["test"])


def test_reconnect_and_rejoin():
    srv = Server().start()
    try:
        alice = join_raw(srv.port, "alice")
        with Bridge(irc_section(srv.port)) as br:
            g = br.testgw()
            bot_joined(alice)
            irc_member(g, "room1", "alice")
            st = irc_stats(br)
            check(st["networks"] == 1 and st["links_up"] == 1 and st["registrations"] == 1
                  and st["drops"] == 0 and st["link_up"] and st["last_error"] == "",
                  "irc stats, up: %s" % st)
            g.cmd(cmd="watch", room="room1", on=True)   # text events without a participant
            srv.stop()
            alice.close()
            no_irc_member(g, "room1", "alice")   # IRC members leave with the link
            st = irc_stats(br)
            check(st["links_up"] == 0 and st["drops"] >= 1 and not st["link_up"] and
                  st["up_seconds"] == 0 and st["last_error"], "irc stats, down: %s" % st)
            srv.start()
            alice = RawIrc(srv.port, "alice")
            mark = alice.mark()
            alice.send("JOIN #chan")  # before or after the bridge is back: both work
            # backoff 1..2 s with jitter (reconnect_min/max), generous bound
            bot_joined(alice, since=mark)
            irc_member(g, "room1", "alice")
            st = irc_stats(br)
            check(st["links_up"] == 1 and st["registrations"] >= 2, "irc stats, back: %s" % st)
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
    with Server() as srv:
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
            check("bob (test)" in who and "alice (irc, moderator)" in who
                  and "carol (irc)" in who,
                  "!who: %s" % who)
            carol.send("PRIVMSG #chan :!mute bob")
            carol.wait("NOTICE carol :sorry, only the room's moderators can mute")
            r = g.cmd(cmd="roster", room="room1")
            check(not [p for p in r["roster"] if p["name"] == "bob" and p.get("muted")],
                  "a non-op muted bob: %s" % r)
            g.drain()
            alice.send("PRIVMSG #chan :!mute bob")
            alice.wait("NOTICE #chan :alice muted bob", since=mark)
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
    if not (have_inspircd() if SERVER == "inspircd" else have_ngircd()):
        print("SKIP: %s not installed (Debian package %s)" % (SERVER, SERVER))
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    tests = [test_relay_both_ways_once, test_irc_line_reaches_room_once,
             test_utf8_long_line_split, test_newlines_become_lines,
             test_paced_burst_arrives_complete_in_order, test_channel_key,
             test_configured_rooms_only, test_two_networks_through_the_bus,
             test_puppets_in_names,
             test_reconnect_and_rejoin, test_who_mute_by_op_refused_for_others]
    if SERVER == "ngircd":
        tests += [test_tls_with_ca, test_bad_channel_config_refused_at_start,
                  test_sighup_changes_the_relay_format]
    run(tests)
