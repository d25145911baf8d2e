"""The operators' event stream (GET /api/events) and webhooks, against the real bridge: who
may connect, an ordered and complete sequence for a scripted meeting, resuming with since=N
(exactly the missed events), a gap when they are older than the history, the room filter,
and signed webhooks in order, sent again after the receiver first answers 500."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import Bridge, check, run  # noqa: E402
from evlib import Closed, Control, EventClient, Receiver  # noqa: E402

TOKEN = "s3cret-token"


def refused(port, query="", headers=None, first=None):
    """The close code and reason the bridge ends a refused client with."""
    c = EventClient(port, query, headers)
    try:
        if first is not None:
            c.send(first)
        while True:
            m = c.recv(15)
            check(m.get("type") in ("error",), "a refused client got %s" % m)
    except Closed:
        return c.close_code, c.close_reason
    finally:
        c.close()


def test_who_may_connect():
    with Bridge({"http": {"admin_token": TOKEN}}) as br:
        p = br.http_port
        for how in ({"headers": {"Authorization": "Bearer wrong"}},
                    {"headers": {"Authorization": "Basic " + TOKEN}},
                    {"query": "?token=wrong"},
                    {"first": {"token": "wrong"}},
                    {"first": {"since": 3}},
                    {"first": "not json"}):
            code, why = refused(p, **how)
            check(code == 1008, "%s: closed with %s %s" % (how, code, why))
        check(refused(p, "?since=x", {"Authorization": "Bearer " + TOKEN})[0] == 1008,
              "a bad since is refused")
        # the right token, each way: a hello
        for c in (EventClient(p, headers={"Authorization": "Bearer " + TOKEN}),
                  EventClient(p, "?token=" + TOKEN)):
            m = c.recv()
            check(m["type"] == "hello" and m["seq"] == 0, "hello: %s" % m)
            c.close()
        c = EventClient(p)
        c.send({"token": TOKEN})
        m = c.recv()
        check(m["type"] == "hello", "first-message token: %s" % m)
        c.send({"token": TOKEN})   # anything later is an error and changes nothing
        check(c.recv()["type"] == "error", "a second message is an error")
        c.close()
        # nothing was numbered for the refusals
        gw = br.testgw()
        gw.join("r", "x")
        c = EventClient(p, "?since=0&token=" + TOKEN)
        check(c.recv()["type"] == "hello", "hello")
        ev = c.events(1)[0]
        check(ev["seq"] == 1 and ev["type"] == "joined", "first event: %s" % ev)
        c.close()
        # a plain GET is told it is a WebSocket, once authorised
        st, body = br.http("GET", "/api/events")
        check(st == 401, "plain GET without the token: %s" % st)
        st, body = br.http("GET", "/api/events", headers={"Authorization": "Bearer " + TOKEN})
        check(st == 426 and "WebSocket" in body["error"], "plain GET: %s %s" % (st, body))
        # an admin HTTP call without the token still gets 401 (the shared check)
        st, _ = br.http("PATCH", "/api/rooms/r", {"locked": True})
        check(st == 401, "PATCH without the token: %s" % st)


def summary(ev):
    """What the scripted meeting checks of each event."""
    s = [ev["type"], ev["room"]]
    if "participant" in ev:
        s.append(ev["participant"]["name"])
    if ev["type"] in ("state", "talking", "hand"):
        s.append(",".join(ev["changed"]))
    if ev["type"] in ("moderation", "recording"):
        s += [ev["action"], (ev["by"] or {}).get("name"), (ev.get("target") or {}).get("name")]
    return tuple(s)


SCRIPT = [
    ("joined", "standup", "alice"),
    ("joined", "standup", "bob"),
    ("moderation", "standup", "grant", "admin", "alice"),
    ("state", "standup", "alice", "moderator"),
    ("hand", "standup", "bob", "hand"),
    ("moderation", "standup", "mute", "alice", "bob"),
    ("state", "standup", "bob", "muted,muted_by_moderator"),
    ("moderation", "standup", "lower_hand", "alice", "bob"),
    ("hand", "standup", "bob", "hand"),
    ("moderation", "standup", "lock", "admin", None),
    ("state", "standup", "alice", "deaf"),
    ("moderation", "standup", "kick", "alice", "bob"),
    ("left", "standup", "bob"),
    ("left", "standup", "alice"),
    ("room_ended", "standup"),
]


def meeting(br, gw):
    """The scripted meeting: joins, a grant by the admin, a hand, a moderator's mute and
    lowered hand, a lock by the admin, a state change, a kick, leaving."""
    a = gw.join("standup", "alice")
    b = gw.join("standup", "bob")
    st, body = br.http("PATCH", "/api/rooms/standup/participants/" + a, {"moderator": True})
    check(st == 200, "grant: %s %s" % (st, body))
    check(gw.cmd(cmd="state", id=b, hand=True)["ok"], "hand up")
    check(gw.cmd(cmd="moderate", id=a, action="mute", target=b)["ok"], "mute")
    check(gw.cmd(cmd="moderate", id=a, action="lower_hand", target=b)["ok"], "lower hand")
    st, body = br.http("PATCH", "/api/rooms/standup", {"locked": True})
    check(st == 200, "lock: %s %s" % (st, body))
    st, body = br.http("PATCH", "/api/rooms/standup/participants/" + a, {"deaf": True})
    check(st == 200, "deaf: %s %s" % (st, body))
    check(gw.cmd(cmd="moderate", id=a, action="kick", target=b, reason="enough")["ok"], "kick")
    gw.wait_event(lambda e: e.get("ev") == "hangup", what="the kick's hang-up")
    gw.leave(b)
    gw.leave(a)


def test_scripted_meeting_and_resume():
    with Bridge() as br:
        gw = br.testgw()
        full = EventClient(br.http_port)          # loopback, no token configured
        hello = full.recv()
        check(hello["type"] == "hello" and hello["seq"] == 0 and hello["history"] == 10000,
              "hello: %s" % hello)
        part = EventClient(br.http_port, "?since=0")
        check(part.recv()["type"] == "hello", "second client's hello")
        meeting(br, gw)
        evs = full.events(len(SCRIPT))
        got = [summary(e) for e in evs]
        check(got == SCRIPT, "sequence:\n  %s" % "\n  ".join(map(str, got)))
        check([e["seq"] for e in evs] == list(range(1, len(SCRIPT) + 1)), "seq 1..N by one")
        check(all(e["time"].endswith("Z") and e["time"][10] == "T" for e in evs), "ISO time")
        kick = evs[11]
        check(kick["reason"] == "enough" and kick["by"]["moderator"], "kick: %s" % kick)
        check(evs[2]["by"] == {"id": None, "name": "admin"}, "by admin: %s" % evs[2])
        check(evs[4]["raised"] and evs[4]["participant"]["hand_seq"] > 0, "hand: %s" % evs[4])
        check(not evs[8]["raised"], "hand lowered: %s" % evs[8])
        check(full.quiet(0.5) == [], "nothing more")
        # a client that saw 5 events drops; the meeting goes on; it comes back with since=5
        first5 = part.events(5)
        part.close()
        check(first5 == evs[:5], "the second client saw the same")
        c = gw.join("standup", "carol")
        gw.cmd(cmd="state", id=c, muted=True)
        gw.leave(c)
        more = full.events(4)
        check([summary(e)[0] for e in more] == ["joined", "state", "left", "room_ended"],
              "more: %s" % [summary(e) for e in more])
        back = EventClient(br.http_port, "?since=5")
        h = back.recv()
        check(h["type"] == "hello" and h["seq"] == len(SCRIPT) + 4, "hello: %s" % h)
        missed = back.events(len(SCRIPT) + 4 - 5)
        check(missed == evs[5:] + more, "exactly the missed events, in order")
        check(back.quiet(0.5) == [], "and nothing else")
        # live events reach it after the replay
        gw.leave(gw.join("standup", "dave"))
        live = back.events(3)
        check(live == full.events(3), "live after the replay")
        back.close()
        full.close()


def test_gap_and_room_filter():
    with Bridge({"events": {"history": 5}}) as br:
        gw = br.testgw()
        ids = [gw.join("a" if i % 2 else "b", "p%d" % i) for i in range(6)]
        for i in ids:
            gw.leave(i)
        # 6 joined + 6 left + 2 room_ended = 14 events; the history keeps 10..14
        c = EventClient(br.http_port, "?since=2")
        h = c.recv()
        check(h["seq"] == 14 and h["first"] == 10, "hello: %s" % h)
        gap = c.recv()
        check(gap["type"] == "gap" and gap["next"] == 10 and gap["missed"] == 7,
              "gap: %s" % gap)
        check([e["seq"] for e in c.events(5)] == [10, 11, 12, 13, 14], "the kept ones")
        c.close()
        c = EventClient(br.http_port, "?since=99")
        c.recv()
        gap = c.recv()
        check(gap["type"] == "gap" and gap["missed"] is None and "restarted" in gap["reason"],
              "since ahead: %s" % gap)
        c.close()
        # the room filter, replayed and live
        c = EventClient(br.http_port, "?since=9&room=a")
        check(c.recv()["room"] == "a", "hello names the room")
        kept = c.events(3)   # p3 and p5 left, then room a ended
        check(all(e["room"] == "a" for e in kept) and kept[-1]["type"] == "room_ended",
              "room a only: %s" % kept)
        x = gw.join("b", "other")
        y = gw.join("a", "mine")
        live = c.events(1)[0]
        check(live["participant"]["name"] == "mine", "live, room a only: %s" % live)
        check(c.quiet(0.3) == [], "nothing of room b")
        gw.leave(x)
        gw.leave(y)
        c.close()


def test_recording_events():
    import tempfile
    recdir = tempfile.TemporaryDirectory(prefix="tutti-ev-rec-")
    with Bridge({"recording": {"enabled": True, "dir": recdir.name}}) as br:
        gw = br.testgw()
        c = EventClient(br.http_port)
        c.recv()
        gw.join("rec", "alice")
        st, body = br.http("POST", "/api/rooms/rec/recording", {"action": "start"})
        check(st == 201, "start: %s %s" % (st, body))
        st, stopped = br.http("POST", "/api/rooms/rec/recording", {"action": "stop"})
        check(st == 200, "stop: %s %s" % (st, stopped))
        evs = []
        while len(evs) < 2:
            e = c.events(1)[0]
            if e["type"] == "recording":
                evs.append(e)
        check([e["action"] for e in evs] == ["start", "stop"], "recording events: %s" % evs)
        check(evs[0]["recording_id"] == body["id"] == evs[1]["recording_id"],
              "ids: %s %s" % (evs, body))
        check(evs[0]["by"] == {"id": None, "name": "admin"}, "by: %s" % evs[0])
        c.close()
    recdir.cleanup()


def test_webhook_signed_in_order_with_retry():
    rx = Receiver("hook-secret", statuses=[500])
    try:
        with Bridge({"events": {"webhook_url": rx.url("/hook?x=1"),
                                "webhook_secret": "hook-secret", "webhook_retry_ms": 100,
                                "webhook_batch": 4}}) as br:
            gw = br.testgw()
            meeting(br, gw)
            first = rx.next()
            check(first["answered"] == 500 and first["valid"], "first post: %s" % first)
            check(first["path"] == "/hook?x=1", "path: %s" % first["path"])
            seen, posts = [], []
            while len(seen) < len(SCRIPT):
                p = rx.next()
                check(p["valid"], "signature: %s" % p["sig"])
                posts.append(p)
                body = json.loads(p["body"])
                check(body["dropped"] == 0 and body["boot"], "body: %s" % body)
                seen += body["events"]
            again = json.loads(posts[0]["body"])["events"]
            check(again[:len(json.loads(first["body"])["events"])]
                  == json.loads(first["body"])["events"], "the retry starts with the same events")
            check(len(json.loads(first["body"])["events"]) <= 4, "batches of 4 at most")
            check([summary(e) for e in seen] == SCRIPT, "webhook sequence: %s" % seen)
            check([e["seq"] for e in seen] == list(range(1, len(SCRIPT) + 1)), "order")
            # a body changed in transit fails the check a receiver makes
            from evlib import signature
            check(signature("hook-secret", first["body"] + b" ") != first["sig"], "tamper")
            check(signature("other", first["body"]) != first["sig"], "another secret")
    finally:
        rx.close()


def test_webhook_queue_bounded_while_down():
    # nothing listens there: every attempt fails; the queue keeps the newest 3
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with Bridge({"events": {"webhook_url": "http://127.0.0.1:%d/" % port,
                            "webhook_queue": 3, "webhook_retry_ms": 50}}) as br:
        gw = br.testgw()
        for i in range(5):
            gw.leave(gw.join("q", "p%d" % i))
        deadline = time.time() + 10
        while time.time() < deadline and not ("oldest dropped" in br.read_log() and
                                              "not delivered" in br.read_log()):
            time.sleep(0.1)
        log = br.read_log()
        check("webhook: queue full (3 events)" in log, "loss logged:\n" + log[-2000:])
        check("not delivered" in log, "failures logged")
        st, _ = br.http("GET", "/api/health")
        check(st == 200, "the bridge goes on")


def test_webhook_receiver_that_never_answers():
    # the kernel accepts the connection; nobody reads or answers: the request times out,
    # is sent again, and the bridge's loop goes on meanwhile
    import socket
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(16)
    try:
        with Bridge({"events": {"webhook_url": "http://127.0.0.1:%d/h" % lsn.getsockname()[1],
                                "webhook_timeout_ms": 300, "webhook_retry_ms": 50}}) as br:
            gw = br.testgw()
            gw.leave(gw.join("t", "x"))
            deadline = time.time() + 15
            while time.time() < deadline and br.read_log().count("no answer in time") < 2:
                time.sleep(0.1)
            check(br.read_log().count("no answer in time") >= 2, "timeouts:\n" +
                  br.read_log()[-2000:])
            st, _ = br.http("GET", "/api/health")
            check(st == 200, "the bridge answers meanwhile")
    finally:
        lsn.close()


def test_slow_reader_dropped_fast_reader_served():
    # a client that never reads (a 4 KiB receive window) is sent at most a bounded amount
    # beyond what the kernels hold, and dropped ("not reading", 1008) once a message waited
    # 10 s; a client that reads gets every event meanwhile
    import threading
    with Bridge() as br:
        slow = EventClient(br.http_port, rcvbuf=4096)
        fast = EventClient(br.http_port)
        check(fast.recv()["type"] == "hello", "hello")
        seqs = []

        def read_fast():
            try:
                while True:
                    m = fast.recv(30)
                    if "seq" in m:
                        seqs.append(m["seq"])
            except (Closed, OSError, TimeoutError):
                pass
        t = threading.Thread(target=read_fast, daemon=True)
        t.start()
        ctl = Control(br.control)
        n, made, t0 = 1000, 0, time.time()   # 1,000: the default room limit
        while time.time() - t0 < 90 and "not reading" not in br.read_log():
            ids = [r["id"] for r in ctl.batch([{"cmd": "join", "room": "big",
                                                "name": "participant number %04d" % i,
                                                "caps": ["text"]} for i in range(n)])]
            ctl.batch([{"cmd": "leave", "id": i} for i in ids])
            made += 2 * n + 1
        gone = time.time() - t0
        check("not reading" in br.read_log(), "slow reader never dropped (%d events)" % made)
        check(gone >= 10, "dropped before the stall time: %.1f s" % gone)
        print("slow reader dropped after %.1f s, %d events made" % (gone, made))
        wait_until = time.time() + 30
        while len(seqs) < made and time.time() < wait_until:
            time.sleep(0.1)
        check(seqs == list(range(1, made + 1)), "the fast reader got %d of %d events, in order"
              % (len(seqs), made))
        got = 0
        try:
            while True:
                if "seq" in slow.recv(10):
                    got += 1
        except (Closed, OSError, TimeoutError):
            pass
        check(got < made, "the slow reader cannot have got everything: %d" % got)
        check(br.read_log().count("not reading") == 1, "one drop, logged once")
        fast.close()
        slow.close()


if __name__ == "__main__":
    run([test_who_may_connect, test_scripted_meeting_and_resume, test_gap_and_room_filter,
         test_recording_events,
         test_webhook_signed_in_order_with_retry, test_webhook_queue_bounded_while_down,
         test_webhook_receiver_that_never_answers, test_slow_reader_dropped_fast_reader_served])
