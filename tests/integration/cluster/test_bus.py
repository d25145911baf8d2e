"""Text between nodes on each room's Redis pub/sub channel (docs/scale-out.md, "Text
between nodes"), against a real redis-server and a real ngircd started here, and two tutti
nodes, a and b (a bridges #chan to room1; b has no IRC):
- a line from IRC reaches a participant on b exactly once, named with its IRC sender and
  network; a line from b reaches IRC once, and never comes back into b;
- both nodes subscribe to the room's channel while they have it, and b unsubscribes when
  the room ends there;
- malformed payloads published on the channel are ignored and counted; text flows after;
- redis-server restarted: both nodes subscribe again and text flows again.
Figures (printed): Redis commands and bytes per text line."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "irc"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webrtc"))
from ttlib import Bridge, check, default_sections, free_port, run, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402
from ircenv import NgIrcd, RawIrc, have_ngircd  # noqa: E402
from test_cluster import Redis, metric  # noqa: E402

TTL = 3
CH = "tutti:room:room1:bus"
REDIS = None


def node(name, irc_port=None):
    port = free_port()
    sections = {"http": {"port": port},
                "cluster": {"redis": "127.0.0.1:%d" % REDIS.port, "node": name,
                            "public_url": "http://127.0.0.1:%d" % port, "ttl_s": TTL}}
    if irc_port:
        sections["irc.test"] = {"server": "127.0.0.1", "port": irc_port,
                                "channels": "#chan=room1", "reconnect_min": 1,
                                "reconnect_max": 2, "flood_burst": 20, "flood_interval": 50}
    b = Bridge(sections)
    b.http_port = port
    return b


def subscribers():
    r = REDIS.cmd("PUBSUB", "NUMSUB", CH)
    return int(r[1])


def texts(g, seconds):
    return [e for e in g.drain(seconds) if e["ev"] == "text"]


def redis_io():
    info = REDIS.cmd("INFO", "stats")
    v = {}
    for l in info.splitlines():
        if ":" in l:
            k, x = l.split(":", 1)
            v[k] = x
    return (int(v["total_commands_processed"]), int(v["total_net_input_bytes"]),
            int(v["total_net_output_bytes"]))


def both_ways(alice, g, bob, tag):
    """IRC -> b once; b -> IRC once, and not back into b. Returns Redis's (commands, in
    bytes, out bytes) for the IRC line."""
    g.drain(0.5)
    # what one INFO costs (nothing else runs between two back to back, bar a heartbeat)
    b0 = redis_io()
    b1 = redis_io()
    info = (b1[0] - b0[0], b1[1] - b0[1], b1[2] - b0[2])
    io0 = redis_io()
    alice.send("PRIVMSG #chan :hello b %s" % tag)
    ev = g.wait_event(lambda e: e["ev"] == "text", 20, "the IRC line on b")
    io1 = redis_io()
    check(ev["text"] == "hello b %s" % tag and ev["from"]["name"] == "alice" and
          ev["from"]["network"] == "irc" and not ev.get("notice"),
          "b got the IRC line with its sender: %s" % ev)
    more = texts(g, 1.5)
    check(not more, "the IRC line came to b again: %s" % more)
    mark = alice.mark()
    g.say(bob, "hello irc %s" % tag)
    alice.wait("PRIVMSG #chan", "hello irc %s" % tag, since=mark, timeout=20)
    time.sleep(1.5)
    n = alice.count("PRIVMSG #chan", "hello irc %s" % tag, since=mark)
    check(n == 1, "b's line reached IRC %d times" % n)
    line = [l for l in alice.lines[mark:] if "hello irc %s" % tag in l][0]
    check("bob" in line, "IRC shows b's sender: %r" % line)
    # the observer on b sees its own participant's line once, and never again from a
    back = texts(g, 1.0)
    check(len(back) <= 1 and all(e["from"]["name"] == "bob" for e in back),
          "b's line came back into b: %s" % back)
    # minus one INFO of ours (the first's request is in io0, the second's in io1)
    return tuple(io1[i] - io0[i] - info[i] for i in range(3))


def test_text_between_nodes():
    with NgIrcd() as srv:
        alice = RawIrc(srv.port, "alice")
        alice.send("JOIN #chan")
        alice.wait(":alice!", "JOIN", "#chan")
        with node("a", srv.port) as a, node("b") as b:
            alice.wait_fn(lambda l: l.startswith(":tutti!") and " JOIN " in l, timeout=30,
                          what="the bot in #chan")
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:room1") == "a", 20,
                     "a to claim room1 (its IRC channel)")
            g = b.testgw()
            bob = g.join("room1", "bob")
            wait_for(lambda: subscribers() == 2, 20, "a and b on room1's channel")
            cmds, bin_, bout = both_ways(alice, g, bob, "one")
            print("  one text line: %d Redis command(s) (PUBLISH), %d bytes in, %d bytes out "
                  "(the reply and one message to each of 2 subscribers)"
                  % (cmds, bin_, bout))
            check(metric(a, "tutti_cluster_text_out_total") >= 1, "a counted its publish")
            check(metric(b, "tutti_cluster_text_in_total") >= 1, "b counted its delivery")

            # malformed payloads: ignored, counted, nothing else changes
            before = metric(b, "tutti_cluster_text_in_total")
            for p in ("not json", "{}", '{"v":1,"node":"x","type":"text","name":"",'
                      '"network":"irc","kind":"message","text":"no name"}',
                      '{"v":1,"node":"x","type":"text","name":"m","network":"irc",'
                      '"kind":"message","text":"\\u001b[31mescape"}'):
                REDIS.cmd("PUBLISH", CH, p)
            wait_for(lambda: metric(b, "tutti_cluster_bus_malformed_total") == 4, 20,
                     "b to count 4 malformed messages")
            check(metric(b, "tutti_cluster_text_in_total") == before, "none delivered")
            check(not texts(g, 0.5), "a malformed message reached b's room")
            log = b.read_log()
            check(log.count("ignored a malformed message") == 1,
                  "one log line for the burst (rate-limited)")

            # Redis restarted: subscriptions come back, text flows again
            REDIS.stop()
            wait_for(lambda: metric(b, "tutti_cluster_redis_up") == 0, 20, "b sees Redis gone")
            REDIS.start()
            wait_for(lambda: subscribers() == 2, 30, "both nodes to subscribe again")
            wait_for(lambda: metric(a, "tutti_cluster_redis_up") == 1 and
                     metric(b, "tutti_cluster_redis_up") == 1, 30, "both nodes up")
            both_ways(alice, g, bob, "two")

            # the roster came back after the restart too
            wait_for(lambda: roster_names(g) == {("alice", "irc"), ("bob", "test")}, 30,
                     "b's roster again after the restart")

            # the room ends on b: b leaves the channel, a stays; bob leaves a's roster
            g.leave(bob)
            wait_for(lambda: subscribers() == 1, 20, "b to unsubscribe when room1 ends there")
            wait_for(lambda: ("bob", "test") not in api_remote(a), 20, "bob gone from a")


def roster_names(g, room="room1"):
    r = g.cmd(cmd="roster", room=room)
    return {(p["name"], p["network"]) for p in r.get("roster") or []}


def api_remote(br, room="room1"):
    st, body = br.http("GET", "/api/rooms/" + room)
    if st != 200:
        return set()
    return {(p["name"], p["network"]) for p in body.get("remote", [])}


def api_local(br, room="room1"):
    st, body = br.http("GET", "/api/rooms/" + room)
    check(st == 200, "GET room: %s" % st)
    return {(p["name"], p["network"]) for p in body["participants"]}


def test_roster_between_nodes():
    """alice on IRC at a, bob at b, carol at c who joins late; c killed: carol leaves a's
    and b's rosters within the expiry."""
    with NgIrcd() as srv:
        alice = RawIrc(srv.port, "alice")
        alice.send("JOIN #chan")
        alice.wait(":alice!", "JOIN", "#chan")
        with node("a", srv.port) as a, node("b") as b:
            alice.wait_fn(lambda l: l.startswith(":tutti!") and " JOIN " in l, timeout=30,
                          what="the bot in #chan")
            wait_for(lambda: REDIS.cmd("GET", "tutti:room:room1") == "a", 20, "a's claim")
            wait_for(lambda: ("alice", "irc") in api_local(a), 20, "alice in room1 on a")
            g = b.testgw()
            g.join("room1", "bob")
            everyone = {("alice", "irc"), ("bob", "test")}
            wait_for(lambda: roster_names(g) == everyone, 20, "b's roster: alice and bob")
            wait_for(lambda: api_remote(a) == {("bob", "test")}, 20, "a's API: bob remote")
            check(api_remote(b) == {("alice", "irc")}, "b's API: alice remote")
            if "webrtc" in default_sections(b.binary):
                # a browser on b (the WebSocket protocol): its joined roster has everyone
                ws = WsClient(b.http_port)
                ws.send({"type": "join", "room": "room1", "name": "dave"})
                m = ws.wait(lambda m: m.get("type") in ("moved", "joined", "error"), 15)
                check(m.get("type") == "joined", "dave's join on b: %s" % m)
                got = {(p["name"], p["network"]) for p in m["roster"]}
                check(got == everyone | {("dave", "web")}, "the browser's roster: %s" % got)
                wait_for(lambda: ("dave", "web") in api_remote(a), 20, "a's API: dave")
                ws.close()
                wait_for(lambda: ("dave", "web") not in api_remote(a), 20, "dave gone on a")
            else:
                print("  (no webrtc gateway in this build: the WebSocket roster is not checked)")
            # a late node learns the roster by its hello
            c = node("c").start()
            try:
                gc = c.testgw()
                n0 = redis_io()[0]
                gc.join("room1", "carol")
                everyone.add(("carol", "test"))
                wait_for(lambda: roster_names(gc) == everyone, 20, "c's roster: all three")
                wait_for(lambda: roster_names(g) == everyone, 20, "b's roster: carol too")
                wait_for(lambda: ("carol", "test") in api_remote(a), 20, "a's API: carol")
                print("  a late join with 2 members on 2 other nodes: %d Redis commands "
                      "(claim, subscribe, hello, answers, join event, and heartbeats meanwhile)"
                      % (redis_io()[0] - n0 - 1))
                # a state change crosses too
                st = gc.cmd(cmd="state", id=[p for p in gc.cmd(cmd="roster", room="room1")
                                             ["roster"] if p["name"] == "carol"][0]["id"],
                            hand=True)
                check(st.get("ok"), "carol's hand: %s" % st)
                wait_for(lambda: [p for p in g.cmd(cmd="roster", room="room1")["roster"]
                                  if p["name"] == "carol" and p["hand"]], 20,
                         "carol's hand on b")
                g.drain(0.3)
                c.proc.kill()
                c.proc.wait(10)
                t0 = time.time()
                everyone.discard(("carol", "test"))
                wait_for(lambda: roster_names(g) == everyone, TTL * 6,
                         "carol to leave b's roster after c died")
                wait_for(lambda: ("carol", "test") not in api_remote(a), TTL * 6,
                         "carol to leave a's API room")
                print("  a killed node's member left the others' rosters %.1f s after "
                      "SIGKILL (ttl %d s)" % (time.time() - t0, TTL))
                left = [e for e in g.drain(0.5) if e["ev"] == "roster" and
                        e.get("type") == "left"]
                check(not [e for e in left if e.get("who", {}).get("name") != "carol"],
                      "only carol left: %s" % left)
            finally:
                c.stop()


if __name__ == "__main__":
    if not shutil.which("redis-server"):
        print("SKIP: redis-server not installed (Debian package redis-server)")
        sys.exit(77)
    if not have_ngircd():
        print("SKIP: ngircd not installed (Debian package ngircd)")
        sys.exit(77)
    REDIS = Redis().start()
    try:
        run([test_text_between_nodes, test_roster_between_nodes])
    finally:
        REDIS.close()
