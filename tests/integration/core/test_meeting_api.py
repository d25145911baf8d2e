"""Running a meeting through the real daemon: the admin API's meeting routes and a test
gateway moderator (core.h moderate), each action seen by every gateway as a meeting event
before the roster changes it made; bad requests change nothing."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import Bridge, check, run  # noqa: E402

ROOMS = {"room.m": {"moderator_pin": "99"}}


def part(br, room, pid):
    st, body = br.http("GET", "/api/rooms/%s/participants/%s" % (room, pid))
    check(st == 200, "GET participant %s: %s %s" % (pid, st, body))
    return body


def meeting(gw, action, what=None):
    return gw.wait_event(lambda e: e.get("ev") == "meeting" and e["action"] == action,
                         timeout=10, what=what or ("meeting event " + action))


def test_moderator_rights_and_admin_actions():
    with Bridge(ROOMS) as br:
        gw = br.testgw()
        mod = gw.join("m", "mod", pin="99")
        bob = gw.join("m", "bob")
        carol = gw.join("m", "carol")
        check(part(br, "m", mod)["moderator"], "the moderator PIN makes a moderator")
        # a participant who is not a moderator can do nothing, and nothing changes
        r = gw.cmd(cmd="moderate", id=bob, action="mute", target="carol")
        check(not r["ok"] and "ermi" in r["error"], "bob may not mute: %s" % r)
        check(not part(br, "m", carol)["muted"], "carol was not muted")
        # the moderator mutes carol: a meeting event, then her state
        gw.drain()
        r = gw.cmd(cmd="moderate", id=mod, action="mute", target="carol")
        check(r["ok"], "moderator mute: %s" % r)
        ev = meeting(gw, "mute")
        check(ev["by"] == "mod" and ev["target"]["name"] == "carol", "who and whom: %s" % ev)
        c = part(br, "m", carol)
        check(c["muted"] and c["muted_by_moderator"], "carol muted by a moderator: %s" % c)
        # the admin: PATCH a participant is a moderator's action by "admin"
        st, b = br.http("PATCH", "/api/rooms/m/participants/%s" % bob, {"muted": True})
        check(st == 200 and b["muted_by_moderator"], "admin mute: %s %s" % (st, b))
        check(meeting(gw, "mute")["by"] == "admin", "the admin did it")
        st, b = br.http("PATCH", "/api/rooms/m/participants/%s" % bob, {"moderator": True})
        check(st == 200 and b["moderator"], "admin grant: %s" % b)
        meeting(gw, "grant")
        r = gw.cmd(cmd="moderate", id=bob, action="unmute", target="carol")
        check(r["ok"], "bob moderates now: %s" % r)
        check(not part(br, "m", carol)["muted"], "carol unmuted by bob")
        # lock: joins are refused, a moderator PIN still gets in
        st, b = br.http("PATCH", "/api/rooms/m", {"locked": True})
        check(st == 200 and b["locked"], "lock: %s %s" % (st, b))
        meeting(gw, "lock")
        r = gw.cmd(cmd="join", room="m", name="dave", caps=["audio", "text"])
        check(not r["ok"], "a locked room refuses dave: %s" % r)
        mod2 = gw.join("m", "mod2", pin="99")
        st, b = br.http("PATCH", "/api/rooms/m", {"locked": False})
        check(st == 200 and not b["locked"], "unlock")
        # bad requests change nothing
        for body, field in (({"locked": "yes"}, "locked"), ({"mute_all": False}, "mute_all"),
                            ({"unmute": "maybe"}, "unmute"), ({"lockd": True}, "lockd")):
            st, b = br.http("PATCH", "/api/rooms/m", body)
            check(st == 400 and b.get("field") == field, "%s: %s %s" % (body, st, b))
        st, b = br.http("PATCH", "/api/rooms/m/participants/%s" % carol, {"hand": "up"})
        check(st == 400 and b.get("field") == "hand", "hand must be a boolean: %s" % b)
        st, b = br.http("PATCH", "/api/rooms/nosuch", {"locked": True})
        check(st == 404, "no such room: %s" % st)
        st, b = br.http("GET", "/api/rooms/m")
        check(not b["locked"] and not part(br, "m", carol)["muted"], "nothing changed")
        # mute all spares moderators
        st, b = br.http("PATCH", "/api/rooms/m", {"mute_all": True})
        check(st == 200, "mute all: %s" % b)
        check(meeting(gw, "mute_all")["count"] == 1, "only carol was muted")
        check(part(br, "m", carol)["muted_by_moderator"], "carol muted")
        check(not part(br, "m", mod)["muted"], "moderators are spared")
        # hands: the queue is the order they went up
        check(gw.cmd(cmd="state", id=carol, hand=True)["ok"], "carol's hand")
        check(gw.cmd(cmd="state", id=mod2, hand=True)["ok"], "mod2's hand")
        st, b = br.http("GET", "/api/rooms/m")
        check(b["hands"] == [carol, mod2], "hands in order: %s" % b["hands"])
        check(part(br, "m", carol)["hand_seq"] < part(br, "m", mod2)["hand_seq"], "hand_seq")
        st, b = br.http("PATCH", "/api/rooms/m/participants/%s" % carol, {"hand": False})
        check(st == 200 and not b["hand"], "admin lowers carol's hand")
        meeting(gw, "lower_hand")
        st, b = br.http("GET", "/api/rooms/m")
        check(b["hands"] == [mod2], "one hand left: %s" % b["hands"])
        # recording is off by default: a clear answer, nothing told
        st, b = br.http("POST", "/api/rooms/m/recording", {"action": "start"})
        check(st == 501 and "enabled" in b["error"], "recording not enabled: %s %s" % (st, b))
        st, b = br.http("POST", "/api/rooms/m/recording", {"action": "pause"})
        check(st == 400 and b.get("field") == "action", "bad action: %s" % b)
        st, b = br.http("POST", "/api/rooms/m/recording", {"action": "stop"})
        check(st == 409, "nothing to stop: %s" % st)
        st, b = br.http("GET", "/api/rooms/m/recording")
        check(st == 200 and b["state"] == "idle", "idle: %s" % b)
        # kick by the admin: every gateway told, then the hang-up
        st, b = br.http("DELETE", "/api/rooms/m/participants/%s" % carol)
        check(st == 200, "kick: %s" % b)
        check(meeting(gw, "kick")["target"]["name"] == "carol", "kick event")
        gw.wait_event(lambda e: e.get("ev") == "hangup" and e["id"] == carol, timeout=10,
                      what="carol hung up")
        # ending the meeting: an end event, then everyone hung up
        st, b = br.http("DELETE", "/api/rooms/m")
        check(st == 200, "end: %s" % b)
        check(meeting(gw, "end")["by"] == "admin", "ended by the admin")
        for pid in (mod, bob, mod2):
            gw.wait_event(lambda e, pid=pid: e.get("ev") == "hangup" and e["id"] == pid,
                          timeout=10, what="hang-up of %s" % pid)


def test_admin_token_guards_meeting_routes():
    sections = dict(ROOMS)
    sections["http"] = {"admin_token": "s3cret"}
    with Bridge(sections) as br:
        gw = br.testgw()
        gw.join("m", "bob")
        for method, path, body in (("PATCH", "/api/rooms/m", {"locked": True}),
                                   ("POST", "/api/rooms/m/recording", {"action": "start"}),
                                   ("GET", "/api/rooms/m/recording", None)):
            st, _ = br.http(method, path, body)
            check(st == 401, "%s %s without the token: %s" % (method, path, st))
            st, _ = br.http(method, path, body, headers={"Authorization": "Bearer nope"})
            check(st in (401, 403), "%s %s with a wrong token: %s" % (method, path, st))
        st, b = br.http("GET", "/api/rooms/m")
        check(not b["locked"], "nothing changed")
        st, b = br.http("PATCH", "/api/rooms/m", {"locked": True},
                        headers={"Authorization": "Bearer s3cret"})
        check(st == 200 and b["locked"], "with the token: %s" % b)


def test_no_token_no_admin_through_a_proxy():
    """Without a token, loopback has admin rights; a reverse proxy on the same host makes
    every request loopback, so a request with a proxy's header never has them."""
    with Bridge(dict(ROOMS)) as br:
        br.testgw().join("m", "bob")
        for hdr in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"},
                    {"X-Real-IP": "203.0.113.9"}, {"X-Forwarded-For": "127.0.0.1"}):
            st, b = br.http("PATCH", "/api/rooms/m", {"locked": True}, headers=hdr)
            check(st == 403 and "proxy" in b["error"], "PATCH through a proxy (%s): %s %s"
                  % (hdr, st, b))
        st, b = br.http("GET", "/api/rooms/m")
        check(st == 200 and not b["locked"], "a proxied request changed the room: %s" % b)
        st, b = br.http("PATCH", "/api/rooms/m", {"locked": True})
        check(st == 200 and b["locked"], "loopback without a proxy: %s %s" % (st, b))


if __name__ == "__main__":
    run([test_moderator_rights_and_admin_actions, test_admin_token_guards_meeting_routes,
         test_no_token_no_admin_through_a_proxy])
