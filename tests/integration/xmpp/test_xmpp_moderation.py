"""Running a meeting from XMPP against a real Prosody with slixmpp clients: the moderator PIN
as the MUC password gives role moderator; its muc#admin role change to visitor mutes a
participant of another network by a moderator (seen in the admin API), participant gives
the voice back, none kicks (307); a non-moderator's role change is forbidden and changes
nothing; the groupchat commands (!lock, refused for others); the hand queue's order in
presence; meeting events of other networks as room status lines; the room's doors; and
recording: status 170 to occupants when an XMPP moderator starts it and to one who joins
while it runs, 171 when it stops, and a clear refusal where recording is off."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmppenv  # noqa: E402
from ttlib import check, run, wait_for  # noqa: E402

MUC_USER = "{http://jabber.org/protocol/muc#user}"
ADMIN = "http://jabber.org/protocol/muc#admin"
TUTTI = "{urn:tutti:occupant:0}occupant"
ROOMS = {"room.m": {"moderator_pin": "99"}}


def codes(st):
    return [s.get("code") for x in st.findall(MUC_USER + "x")
            for s in x.findall(MUC_USER + "status")]


def role(st):
    it = st.find(MUC_USER + "x/" + MUC_USER + "item")
    return it.get("role") if it is not None else None


def error_of(st):
    e = st.find("{jabber:client}error")
    return next((c.tag.split("}")[-1] for c in e if not c.tag.endswith("}text")), None) \
        if e is not None else None


def participant(br, name):
    st, body = br.http("GET", "/api/rooms/m")
    check(st == 200, "GET /api/rooms/m: %s %s" % (st, body))
    return next((p for p in body["participants"] if p["name"] == name), None)


def set_role(client, room, nick, new_role, reason=None):
    item = '<item nick="%s" role="%s">%s</item>' % (
        nick, new_role, "<reason>%s</reason>" % reason if reason else "")
    return client.iq(room, '<query xmlns="%s">%s</query>' % (ADMIN, item), itype="set")


def presence_of(client, room, nick, pred, what):
    return client.wait_for(lambda s: s.name == "presence" and s.from_ == room + "/" + nick
                           and pred(s), what=what)


def room_line(client, room, text, what):
    return client.wait_for(lambda s: s.name == "message" and s.from_ == room and
                           s.body and text in s.body, what=what)


def test_roles_commands_doors():
    with xmppenv.Prosody() as px, px.bridge(ROOMS) as br:
        xmppenv.wait_linked(br, call=True)
        room = "m@" + px.muc_domain
        gw = br.testgw()
        bob = gw.join("m", "bob")
        with px.client("alice") as alice, px.client("carol") as carol:
            own = alice.join_muc(room, "alice", password="99")
            check(role(own) == "moderator", "the moderator PIN gives role moderator: %s" % own)
            check(participant(br, "alice")["moderator"], "alice is a moderator in the API")
            own = carol.join_muc(room, "carol")
            check(role(own) == "participant", "carol is a participant: %s" % own)
            pa = presence_of(carol, room, "alice", lambda s: True, "alice's presence")
            check(role(pa) == "moderator", "carol sees alice as moderator: %s" % pa)

            # a non-moderator's role change: forbidden, nothing changes
            r = set_role(carol, room, "bob", "visitor")
            check(r.type == "error" and error_of(r) == "forbidden", "carol forbidden: %s" % r)
            b = participant(br, "bob")
            check(not b["muted"] and not b["muted_by_moderator"], "bob untouched: %s" % b)

            # the moderator: bob (another network) to visitor = muted by a moderator
            t0 = time.monotonic()
            r = set_role(alice, room, "bob", "visitor")
            print("role change to visitor, IQ round trip through Prosody: %.1f ms" %
                  ((time.monotonic() - t0) * 1000))
            check(r.type == "result", "alice's role change: %s" % r)
            b = participant(br, "bob")
            check(b["muted"] and b["muted_by_moderator"], "bob muted by a moderator: %s" % b)
            ev = gw.wait_event(lambda e: e.get("ev") == "meeting" and e["action"] == "mute",
                               what="the mute as a meeting event")
            check(ev["by"] == "alice", "alice did it, as the XMPP occupant: %s" % ev)
            pb = presence_of(carol, room, "bob", lambda s: role(s) == "visitor",
                             "bob as visitor")
            actor = pb.find(MUC_USER + "x/" + MUC_USER + "item/" + MUC_USER + "actor")
            check(actor is not None and actor.get("nick") == "alice", "the actor: %s" % pb)
            room_line(carol, room, "alice muted bob", "the room says who muted whom")
            # unknown nick
            r = set_role(alice, room, "nobody", "visitor")
            check(r.type == "error" and error_of(r) == "item-not-found", "unknown: %s" % r)
            # voice back
            r = set_role(alice, room, "bob", "participant")
            check(r.type == "result", "voice back: %s" % r)
            check(not participant(br, "bob")["muted"], "bob unmuted")
            presence_of(carol, room, "bob", lambda s: role(s) == "participant",
                        "bob a participant again")

            # commands: refused politely for carol, done for alice
            carol.send_groupchat(room, "!lock")
            room_line(carol, room, "Only moderators may use !lock", "carol's refusal")
            check(not br.http("GET", "/api/rooms/m")[1]["locked"], "still unlocked")
            alice.send_groupchat(room, "!lock")
            room_line(carol, room, "alice locked the room", "the lock told to carol")
            check(br.http("GET", "/api/rooms/m")[1]["locked"], "locked in the API")
            with px.client("dave") as dave:
                dave.join_muc(room, "dave", wait=False)
                e = dave.wait_for(lambda s: s.name == "presence" and s.type == "error",
                                  what="dave refused")
                check(error_of(e) == "not-allowed", "the lock refuses dave: %s" % e)
            alice.send_groupchat(room, "!unlock")
            room_line(carol, room, "alice unlocked the room", "the unlock")

            # the hand queue: bob first, then carol
            gw.cmd(cmd="state", id=bob, hand=True)
            presence_of(carol, room, "bob", lambda s: s.find(TUTTI) is not None and
                        s.find(TUTTI).get("hand") == "true", "bob's hand")
            carol.send_groupchat(room, "!hand")
            pc = presence_of(alice, room, "carol", lambda s: s.find(TUTTI) is not None and
                             s.find(TUTTI).get("hand") == "true", "carol's hand")
            pb = presence_of(alice, room, "bob", lambda s: s.find(TUTTI) is not None and
                             s.find(TUTTI).get("hand") == "true", "bob's hand (alice)")
            sb, sc = int(pb.find(TUTTI).get("hand-seq")), int(pc.find(TUTTI).get("hand-seq"))
            check(0 < sb < sc, "the queue's order: bob %d, carol %d" % (sb, sc))
            hands = br.http("GET", "/api/rooms/m")[1]["hands"]
            check(len(hands) == 2 and hands[0] == bob, "the API's queue agrees: %s" % hands)

            # a meeting event from another network (the admin API) shown in the room
            st, _ = br.http("PATCH", "/api/rooms/m/participants/%s" % bob, {"moderator": True})
            check(st == 200, "admin grant: %s" % st)
            room_line(carol, room, "The administrator made bob a moderator", "the grant")
            presence_of(carol, room, "bob", lambda s: role(s) == "moderator",
                        "bob a moderator")

            # doors: the group chat and the call
            doors = br.http("GET", "/api/rooms/m")[1]["doors"]
            uris = [d["uri"] for d in doors if d["network"] == "xmpp"]
            check("xmpp:m@%s?join" % px.muc_domain in uris and
                  "xmpp:m@%s" % px.call_domain in uris, "the XMPP doors: %s" % doors)

            # recording off ([recording] enabled = false): refused clearly, to alice alone
            alice.send_groupchat(room, "!record start")
            room_line(alice, room, "Recording is not configured on this bridge",
                      "!record start refused")

            # none: a kick, 307 to the kicked
            r = set_role(alice, room, "carol", "none", reason="enough")
            check(r.type == "result", "the kick: %s" % r)
            gone = presence_of(carol, room, "carol", lambda s: s.type == "unavailable",
                               "carol's own unavailable presence")
            check("307" in codes(gone) and "110" in codes(gone), "307 and 110: %s" % gone)
            wait_for(lambda: participant(br, "carol") is None, 10, "carol's participant gone")


def test_recording_status_170():
    """With recording on: 170 to every occupant when an XMPP moderator starts it (a line
    that says so), 170 in the self-presence of one who joins while it runs, 171 when it
    stops; the recording is the admin API's too."""
    with tempfile.TemporaryDirectory() as recdir, xmppenv.Prosody() as px, \
            px.bridge(dict(ROOMS, recording={"enabled": True, "dir": recdir}),
                      calls=False) as br:
        xmppenv.wait_linked(br, call=False)
        room = "m@" + px.muc_domain
        gw = br.testgw()
        gw.join("m", "bob")
        with px.client("alice") as alice, px.client("carol") as carol:
            alice.join_muc(room, "alice", password="99")
            carol.join_muc(room, "carol")
            carol.send_groupchat(room, "!record start")
            room_line(carol, room, "Only moderators may use !record", "carol refused")
            check(br.http("GET", "/api/rooms/m")[1]["recording"] is None, "not recording")
            alice.send_groupchat(room, "!record start")
            for who in (alice, carol):
                m = room_line(who, room, "this meeting is being recorded", "the 170 line")
                check("170" in codes(m), "status 170: %s" % m)
            rec = br.http("GET", "/api/rooms/m")[1]["recording"]
            check(rec and rec.get("id"), "recording in the API: %s" % rec)
            with px.client("dave") as dave:
                own = dave.join_muc(room, "dave")
                check("170" in codes(own) and "110" in codes(own),
                      "170 in the joiner's self-presence: %s" % own)
                room_line(dave, room, "This meeting is being recorded", "the joiner's line")
            alice.send_groupchat(room, "!record stop")
            m = room_line(carol, room, "The recording stopped", "the 171 line")
            check("171" in codes(m), "status 171: %s" % m)
            wait_for(lambda: br.http("GET", "/api/rooms/m")[1]["recording"] is None, 10,
                     "the recording to stop")


if __name__ == "__main__":
    xmppenv.require()
    run([test_roles_commands_doors, test_recording_status_170])
