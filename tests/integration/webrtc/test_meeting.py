"""Meetings over the web signalling protocol (docs/webrtc-protocol.md, docs/meetings.md), no
browser: the moderator (moderator PIN) mutes, locks, lowers hands, kicks and ends; the others
get `not_allowed`, see the events, the roster's moderator fields and the room state; a
moderator's mute holds (self_unmute = false); raised hands queue in order; a locked room
refuses a newcomer; `joined` lists the doors, the page's own among them."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, check, default_sections, free_port, run  # noqa: E402
from wsclient import WsClient  # noqa: E402

CONF = {"webrtc": {"allow_loopback": True},
        "room.m": {"moderator_pin": "9999", "self_unmute": False}}


def join(br, name, room="m", pin=None):
    c = WsClient(br.http_port)
    check(c.recv()["type"] == "hello", "hello")
    msg = {"type": "join", "room": room, "name": name}
    if pin:
        msg["pin"] = pin
    c.send(msg)
    j = c.recv()
    check(j["type"] == "joined", "%s did not join: %s" % (name, j))
    return c, j


def error(c, code, about, what):
    m = c.wait(lambda m: m["type"] == "error", what="error for " + what)
    check(m["code"] == code and m.get("about") == about,
          "%s: expected %s about %s, got %s" % (what, code, about, m))
    return m


def state_of(c, pid, pred, what):
    """The roster state event for pid that satisfies pred."""
    return c.wait(lambda m: m["type"] == "roster" and m["event"] == "state" and
                  m["who"]["id"] == pid and pred(m["who"]), what=what)


def meeting(c, action, what):
    return c.wait(lambda m: m["type"] == "meeting" and m["action"] == action, what=what)


def room_state(c, pred, what):
    return c.wait(lambda m: m["type"] == "room_state" and pred(m["state"]), what=what)


def test_moderator_powers_and_refusals():
    with Bridge(CONF) as br:
        mod, jm = join(br, "Mia", pin="9999")
        me = [e for e in jm["roster"] if e["id"] == jm["id"]][0]
        check(me["moderator"] and not me["hand"] and me["hand_seq"] == 0 and
              not me["muted_by_moderator"] and not me["declined"], "own entry: %s" % me)
        st = jm["room_state"]
        check(st["locked"] is False and st["recording"] is False and
              st["self_unmute"] is False and st["hands"] == 0, "room state: %s" % st)
        web = [d for d in jm["doors"] if d["network"] == "web"]
        check(len(web) == 1 and web[0]["uri"] == "http://127.0.0.1:%d/m" % br.http_port,
              "web door: %s" % jm["doors"])

        bob, jb = join(br, "Bob")
        check(not [e for e in jb["roster"] if e["id"] == jb["id"]][0]["moderator"],
              "Bob is no moderator: %s" % jb["roster"])
        # a non-moderator is refused every moderator action, and nothing changes
        for action, target in (("mute", jm["id"]), ("lock", None), ("mute_all", None),
                               ("kick", jm["id"]), ("end", None), ("record_start", None),
                               ("grant", jb["id"])):
            msg = {"type": "moderate", "action": action}
            if target:
                msg["target"] = target
            bob.send(msg)
            error(bob, "not_allowed", "moderate", "Bob's " + action)
        # malformed moderator requests: named errors, nothing done
        for msg, code in (({"type": "moderate", "action": "explode"}, "bad_request"),
                          ({"type": "moderate", "action": "mute"}, "bad_request"),
                          ({"type": "moderate", "action": "lock", "target": jb["id"]},
                           "bad_request"),
                          ({"type": "moderate", "action": "mute", "target": "nobody"},
                           "no_such_participant"),
                          ({"type": "hand", "up": "yes"}, "bad_request")):
            mod.send(msg)
            error(mod, code, msg["type"], str(msg))
        mod.send({"type": "ping"})
        check(mod.wait(lambda m: m["type"] in ("pong", "meeting"), what="pong")["type"] ==
              "pong", "a refused request made an event")

        # mute: everyone sees who did it; the roster says muted by a moderator
        mod.send({"type": "moderate", "action": "mute", "target": jb["id"]})
        for c in (mod, bob):
            ev = meeting(c, "mute", "mute event")
            check( ev["by"]["id"] == jm["id"] and
                  ev["target"]["id"] == jb["id"], "mute event: %s" % ev)
            state_of(c, jb["id"], lambda w: w["muted"] and w["muted_by_moderator"],
                     "Bob muted by a moderator")
        # self_unmute = false: Bob cannot unmute himself
        bob.send({"type": "mute", "muted": False})
        m = error(bob, "not_allowed", "mute", "Bob's self-unmute")
        check("moderator" in m["message"], "the refusal says why: %s" % m)
        # the moderator's unmute does
        mod.send({"type": "moderate", "action": "unmute", "target": jb["id"]})
        state_of(bob, jb["id"], lambda w: not w["muted"] and not w["muted_by_moderator"],
                 "Bob unmuted by the moderator")

        # hands: Bob first, then Cat; the queue is hand_seq order; the room counts them
        cat, jc = join(br, "Cat")
        bob.send({"type": "hand", "up": True})
        sb = state_of(mod, jb["id"], lambda w: w["hand"], "Bob's hand")
        cat.send({"type": "hand", "up": True})
        sc = state_of(mod, jc["id"], lambda w: w["hand"], "Cat's hand")
        check(0 < sb["who"]["hand_seq"] < sc["who"]["hand_seq"],
              "hand order: Bob %s, Cat %s" % (sb["who"], sc["who"]))
        room_state(mod, lambda s: s["hands"] == 2, "two hands")
        # anyone may lower their own hand through moderate; the moderator lowers Bob's
        mod.send({"type": "moderate", "action": "lower_hand", "target": jb["id"]})
        ev = meeting(bob, "lower_hand", "lower_hand event")
        check(ev["by"]["id"] == jm["id"] and ev["target"]["id"] == jb["id"], "%s" % ev)
        state_of(bob, jb["id"], lambda w: not w["hand"] and w["hand_seq"] == 0,
                 "Bob's hand down")
        room_state(bob, lambda s: s["hands"] == 1, "one hand left")
        cat.send({"type": "moderate", "action": "lower_hand", "target": jc["id"]})
        room_state(cat, lambda s: s["hands"] == 0, "Cat lowered her own hand")
        cat.send({"type": "moderate", "action": "lower_hand", "target": jb["id"]})
        error(cat, "not_allowed", "moderate", "Cat lowering Bob's hand")

        # lock: the room state says so, a newcomer is refused, the moderator PIN still works
        mod.send({"type": "moderate", "action": "lock"})
        room_state(cat, lambda s: s["locked"], "locked")
        late = WsClient(br.http_port)
        late.recv()
        late.send({"type": "join", "room": "m", "name": "Late"})
        m = late.recv()
        check(m["type"] == "error" and m["code"] == "locked" and m["about"] == "join",
              "join of a locked room: %s" % m)
        late.close()
        mod2, _ = join(br, "Max", pin="9999")
        mod2.close()
        mod.send({"type": "moderate", "action": "unlock"})
        room_state(cat, lambda s: not s["locked"], "unlocked")

        # recording: either not enabled in this build/config (a named error) or an event
        mod.send({"type": "moderate", "action": "record_start"})
        m = mod.wait(lambda m: m["type"] == "error" or (m["type"] == "meeting" and
                                                         m["action"] == "record_start"),
                     what="record answer")
        check((m["type"] == "error" and m["code"] in ("not_supported", "recording_failed"))
              or (m["type"] == "meeting" and m["action"] == "record_start"),
              "record_start: %s" % m)

        # mute all: everyone but moderators; the count says how many
        mod.send({"type": "moderate", "action": "mute_all"})
        ev = meeting(cat, "mute_all", "mute_all event")
        check(ev["count"] == 2, "mute_all: %s" % ev)
        state_of(cat, jc["id"], lambda w: w["muted_by_moderator"], "Cat muted by mute_all")

        # kick: Bob is told why and leaves; the others see him go
        mod.send({"type": "moderate", "action": "kick", "target": jb["id"],
                  "reason": "testing"})
        bye = bob.wait(lambda m: m["type"] == "bye", what="Bob's bye")
        check("testing" in bye["reason"], "kick reason: %s" % bye)
        cat.wait(lambda m: m["type"] == "roster" and m["event"] == "left" and
                 m["who"]["id"] == jb["id"], what="Bob left")
        bob.close()

        # end: everyone is hung up with who ended it
        mod.send({"type": "moderate", "action": "end"})
        for c in (cat, mod):
            meeting(c, "end", "end event")
            bye = c.wait(lambda m: m["type"] == "bye", what="bye after end")
            check("Mia" in bye["reason"], "end reason: %s" % bye)
            c.close()


def test_unmute_asks():
    """unmute = ask: the moderator's unmute asks (event ask_unmute), lifts the hold, and the
    participant unmutes when they choose."""
    conf = dict(CONF, **{"room.ask": {"moderator_pin": "1111", "unmute": "ask",
                                      "self_unmute": False},
                        "room.dec": {"recording_decline": True}})
    with Bridge(conf) as br:
        mod, jm = join(br, "Mia", room="ask", pin="1111")
        check(jm["room_state"]["unmute_asks"], "room state: %s" % jm["room_state"])
        bob, jb = join(br, "Bob", room="ask")
        mod.send({"type": "moderate", "action": "mute", "target": jb["id"]})
        state_of(bob, jb["id"], lambda w: w["muted_by_moderator"], "Bob held")
        mod.send({"type": "moderate", "action": "unmute", "target": jb["id"]})
        ev = meeting(bob, "ask_unmute", "the ask")
        check(ev["target"]["id"] == jb["id"] and ev["by"]["id"] == jm["id"], "%s" % ev)
        w = state_of(bob, jb["id"], lambda w: not w["muted_by_moderator"], "hold lifted")
        check(w["who"]["muted"], "the ask unmuted Bob by itself: %s" % w)
        bob.send({"type": "mute", "muted": False})
        state_of(mod, jb["id"], lambda w: not w["muted"], "Bob unmuted himself")
        # declining a recording is refused where the room does not allow it
        bob.send({"type": "decline", "declined": True})
        error(bob, "not_allowed", "decline", "decline without recording_decline")
        # where it is allowed, the roster says so
        dee, jd = join(br, "Dee", room="dec")
        check(jd["room_state"]["recording_decline"], "%s" % jd["room_state"])
        dee.send({"type": "decline", "declined": True})
        state_of(dee, jd["id"], lambda w: w["declined"], "Dee declined")


def door_sections():
    """The other gateways configured so that they offer doors into room "team"; their
    servers need not exist (IRC and XMPP retry in the background)."""
    have = default_sections(os.path.join(BUILD_DIR, "tutti-test"))
    sec, want = {}, {"web"}
    if "sip" in have:
        sec["sip"] = {"public_host": "sip.example.org", "aliases": "4711=team"}
        want.add("phone")
    if "irc" in have or any(s.startswith("irc.") for s in have):
        sec["irc.libera"] = {"server": "127.0.0.1", "port": free_port(),
                             "channels": "#team=team", "reconnect_min": 5,
                             "reconnect_max": 10}
        want.add("irc")
    if "xmpp" in have:
        sec["xmpp"] = {"enabled": True, "server": "127.0.0.1:%d" % free_port(),
                       "domain": "conference.example.org", "secret": "s3cret",
                       "reconnect_min": 5, "reconnect_max": 10}
        want.add("xmpp")
    return sec, want


def test_doors_of_every_network():
    sec, want = door_sections()
    with Bridge(dict(CONF, **sec)) as br:
        c, j = join(br, "Ann", room="team")
        doors = {}
        for d in j["doors"]:
            doors.setdefault(d["network"], []).append(d)
        print("doors:", j["doors"])
        check(set(doors) == want, "doors of %s, want %s" % (sorted(doors), sorted(want)))
        check(all(d["uri"] and d["label"] and d["text"] for d in j["doors"]),
              "a door without uri, label or text: %s" % j["doors"])
        if "phone" in want:
            uris = {d["uri"] for d in doors["phone"]}
            check({"sip:team@sip.example.org", "sip:4711@sip.example.org"} <= uris,
                  "SIP doors: %s" % uris)
        if "irc" in want:
            check([d["uri"] for d in doors["irc"]] ==
                  ["irc://127.0.0.1:%d/%%23team" % br.conf["irc.libera"]["port"]],
                  "IRC door: %s" % doors["irc"])
        if "xmpp" in want:
            check(doors["xmpp"][0]["uri"] == "xmpp:team@conference.example.org?join",
                  "XMPP door: %s" % doors["xmpp"])
        c.close()


if __name__ == "__main__":
    run([test_moderator_powers_and_refusals, test_unmute_asks, test_doors_of_every_network])
