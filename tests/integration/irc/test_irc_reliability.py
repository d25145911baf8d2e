"""The IRC link over time and under load: an idle channel keeps its link (PING/PONG, no
timeout left over from connecting), a hung server is noticed and left, and a burst of long
room lines reaches a flood-limited InspIRCd without the bridge being killed ("RecvQ
exceeded"). The real tutti-test against real servers, short timeouts so that idling past
all of them stays cheap."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from ircenv import (InspIrcd, NgIrcd, SilentIrcd, have_inspircd,  # noqa: E402
                    have_ngircd)
from test_irc import bot_joined, irc_member, irc_section, join_raw  # noqa: E402

# ping_interval and ping_timeout at their minimum (5 s, 10 s) and the connect timeout below
# both: idling 16 s passes every one of them, and three lag probes.
IDLE_KEYS = {"ping_interval": 5, "ping_timeout": 10, "connect_timeout": 2}
IDLE_S = 16


def idle_channel_keeps_its_link(Server):
    with Server() as srv:
        alice = join_raw(srv.port, "alice")
        try:
            with Bridge(irc_section(srv.port, **IDLE_KEYS), log_level="debug") as br:
                g = br.testgw()
                bot_joined(alice)
                irc_member(g, "room1", "alice")
                g.cmd(cmd="watch", room="room1", on=True)
                g.drain()
                time.sleep(IDLE_S)
                log = br.read_log()
                left = [e for e in g.drain(0.5) if e["ev"] == "roster"
                        and e.get("type") in ("left", "joined")]
                check(not left, "IRC members left or rejoined while idle: %s" % left)
                for bad in ("connection lost", "reconnecting", "no data for", "timed out"):
                    check(bad not in log, "%r in the log:\n%s" % (bad, log[-3000:]))
                pings = log.count("-> PING :tutti-lag")
                check(pings >= 2, "%d lag probes in %d s idle" % (pings, IDLE_S))
                check("<- :" in log and "PONG" in log.split("-> PING :tutti-lag", 1)[1],
                      "no PONG after our PING")
                # and the link still carries text both ways
                bob = g.join("room1", "bob")
                mark = alice.mark()
                g.say(bob, "still here")
                alice.wait("PRIVMSG #chan :<bob@test> still here", since=mark)
        finally:
            alice.close()


def test_idle_channel_ngircd():
    idle_channel_keeps_its_link(NgIrcd)


def test_idle_channel_inspircd():
    idle_channel_keeps_its_link(InspIrcd)


def test_hung_server_is_left_and_error_logged():
    """A server that welcomes us and then never answers: after ping_timeout of silence the
    bridge hangs up and comes back; the next connection gets ERROR, whose reason reaches the
    log at warning level."""
    srv = SilentIrcd(farewell="Closing link: (tutti@127.0.0.1) [RecvQ exceeded]")
    try:
        keys = dict(IDLE_KEYS, reconnect_min=1, reconnect_max=1, channels="#chan=room1")
        with Bridge(irc_section(srv.port, **keys)) as br:
            srv.wait_conns(1, 10)
            t0 = time.time()
            srv.wait_conns(2, 20)
            gone = time.time() - t0
            check(9 <= gone <= 18, "reconnected after %.1f s (ping_timeout 10)" % gone)
            check(any(l.startswith("PING ") for l in srv.conns[0]),
                  "no PING before giving up: %s" % srv.conns[0])
            deadline = time.time() + 10
            while time.time() < deadline and "RecvQ exceeded" not in br.read_log():
                time.sleep(0.1)
            log = br.read_log().splitlines()
            check([l for l in log if " warn " in l and "no data for" in l],
                  "no warning about the silence:\n%s" % "\n".join(log[-20:]))
            check([l for l in log if " warn " in l and "[RecvQ exceeded]" in l],
                  "the ERROR reason is not a warning:\n%s" % "\n".join(log[-20:]))
    finally:
        srv.close()


# InspIRCd's flood control as Debian ships it (fakelag on, one command a second, threshold
# 10, recvq 8192), scaled by half (threshold 5, recvq 4096) so that LINES lines, not 100,
# are past the point where the old pacing (5 at once, then 2 a second) got the bridge
# killed with "RecvQ exceeded" (about 24 lines), and one line a second still takes < 60 s.
FLOOD_CONNECT = {"fakelag": "yes", "commandrate": "1000", "threshold": "5",
                 "recvq": "4096", "softsendq": "8192"}
LINES = 30


def test_burst_of_long_lines_reaches_flood_limited_inspircd():
    with InspIrcd(connect=FLOOD_CONNECT) as srv:
        alice = join_raw(srv.port, "alice")
        try:
            # the defaults: no flood_burst / flood_interval here
            keys = {"server": "127.0.0.1", "port": srv.port, "channels": "#chan=room1",
                    "reconnect_min": 1, "reconnect_max": 2}
            with Bridge({"irc.test": keys}) as br:
                g = br.testgw()
                bot_joined(alice)
                irc_member(g, "room1", "alice")
                bob = g.join("room1", "bob")
                alice.wait("bob joined the room")
                mark = alice.mark()
                pad = "y" * 380
                t0 = time.time()
                for i in range(LINES):
                    r = g.say(bob, "%s %03d" % (pad, i))
                    check(r.get("ok"), "say: %s" % r)
                since = mark
                for i in range(LINES):
                    line, since = alice.next("PRIVMSG #chan :<bob@test> ", since=since,
                                             timeout=60)
                    check(line.endswith(" %03d" % i), "line %d: %s" % (i, line[-40:]))
                took = time.time() - t0
                check(alice.count(":tutti!", "QUIT", since=mark) == 0,
                      "the bot was disconnected")
                log = br.read_log()
                check("RecvQ" not in log and "connection lost" not in log,
                      "the link dropped:\n%s" % log[-2000:])
                print("    %d lines of ~400 bytes in %.1f s" % (LINES, took))
        finally:
            alice.close()


if __name__ == "__main__":
    if not have_ngircd() or not have_inspircd():
        print("SKIP: ngircd and inspircd needed (Debian packages ngircd, inspircd)")
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    only = sys.argv[1:]
    tests = [test_idle_channel_ngircd, test_idle_channel_inspircd,
             test_hung_server_is_left_and_error_logged,
             test_burst_of_long_lines_reaches_flood_limited_inspircd]
    run([t for t in tests if not only or t.__name__ in only])
