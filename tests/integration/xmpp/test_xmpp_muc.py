"""The MUC service against a real Prosody with real clients (slixmpp, go-sendxmpp): joins
see everyone of every network in XEP-0045 order, messages go both ways once each (reflected
to their sender with its id), presence shows network, muted and a raised hand, self-ping,
nick conflicts, the room PIN as MUC password (a wrong one and an unknown room answered
alike), kicks and leaving."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmppenv  # noqa: E402
from ttlib import check, run, wait_for  # noqa: E402

MUC_USER = "{http://jabber.org/protocol/muc#user}"
TUTTI = "{urn:tutti:occupant:0}occupant"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


def codes(st):
    return [s.get("code") for x in st.findall(MUC_USER + "x")
            for s in x.findall(MUC_USER + "status")]


def error_of(st):
    e = st.find("{jabber:client}error")
    if e is None:
        return None
    for c in e:
        tag = c.tag.split("}")[-1]
        if tag != "text":
            return tag
    return None


def error_text(st):
    t = st.find("{jabber:client}error/" + STANZAS + "text")
    return t.text if t is not None else None


def occupant(st, attr):
    """An attribute of tutti's presence element; a flag it leaves out is "false"."""
    el = st.find(TUTTI)
    if el is None:
        return None
    return el.get(attr, None if attr == "network" else "false")


def roster_names(br, room):
    status, body = br.http("GET", "/api/rooms/" + room)
    return [p.get("name") for p in body.get("participants", [])] if status == 200 else []


def test_join_messages_presence():
    with xmppenv.Prosody() as px, px.bridge() as br:
        xmppenv.wait_linked(br, call=False)
        room = "standup@" + px.muc_domain
        gw = br.testgw()
        bob = gw.join("standup", "bob")
        gw.cmd(cmd="state", id=bob, muted=True, hand=True)
        with px.client("alice") as alice:
            self_p = alice.join_muc(room, "alice")
            check(codes(self_p) == ["110"], "self-presence with 110 only: %s" % self_p)
            # the others came before the self-presence
            before = [s for s in alice.seen if s.name == "presence"]
            pb = [s for s in before if s.from_ == room + "/bob"]
            check(pb and before.index(pb[0]) < before.index(self_p),
                  "bob's presence before alice's own: %s" % before)
            pb = pb[0]
            check(occupant(pb, "network") == "test" and occupant(pb, "muted") == "true" and
                  occupant(pb, "hand") == "true", "bob's network and state: %s" % pb)
            status = pb.find("{jabber:client}status")
            check(status is not None and "hand raised" in status.text,
                  "the state as status text too: %s" % pb)
            check(pb.find("{urn:xmpp:occupant-id:0}occupant-id") is not None,
                  "an occupant id: %s" % pb)
            subj = alice.wait_for(lambda s: s.name == "message" and s.from_ == room and
                                  s.find("{jabber:client}subject") is not None,
                                  what="the subject")
            check(not subj.subject, "an empty subject: %s" % subj)
            check("alice" in roster_names(br, "standup"), "alice is a participant")
            ev = gw.wait_event(lambda e: e.get("ev") == "roster" and e.get("type") ==
                               "joined" and e["who"]["name"] == "alice", what="alice joined")
            check(ev["who"]["network"] == "xmpp", "alice's network: %s" % ev)

            # alice -> the room: reflected with its id, on the bus once
            mid = alice.send_groupchat(room, "hello from xmpp")
            refl = alice.wait_for(lambda s: s.name == "message" and s.body ==
                                  "hello from xmpp", what="the reflection")
            check(refl.id == mid and refl.from_ == room + "/alice",
                  "reflected with the same id from alice's occupant JID: %s" % refl)
            gw.wait_event(lambda e: e.get("ev") == "text" and e["text"] == "hello from xmpp"
                          and e["from"]["name"] == "alice", what="alice's line on the bus")
            # bob -> alice, once
            gw.say(bob, "hi from the phone")
            got = alice.wait_for(lambda s: s.name == "message" and s.body ==
                                 "hi from the phone", what="bob's line")
            check(got.from_ == room + "/bob" and got.type == "groupchat", "from bob: %s" % got)
            time.sleep(0.5)
            rest = alice.drain(0.5)
            check(not [s for s in rest if s.body in ("hi from the phone", "hello from xmpp")],
                  "each line once: %s" % rest)
            texts = [e for e in gw.drain(0.3) if e.get("ev") == "text" and
                     e["text"] == "hello from xmpp"]
            check(not texts, "alice's line once on the bus: %s" % texts)

            # presence follows state changes
            gw.cmd(cmd="state", id=bob, muted=False, hand=False)
            p = alice.wait_for(lambda s: s.name == "presence" and s.from_ == room + "/bob" and
                               occupant(s, "muted") == "false" and occupant(s, "hand") ==
                               "false", what="bob unmuted, hand lowered")
            check(p.find("{jabber:client}status").text == "test",
                  "the status says only the network now: %s" % p)

            # alice raises her hand with tutti's presence element: the room sees it
            import xml.etree.ElementTree as ET
            alice.send_presence(room + "/alice", extra_xml=ET.Element(TUTTI, hand="true"))
            wait_for(lambda: [p for p in br.http("GET", "/api/rooms/standup")[1]
                              ["participants"] if p["name"] == "alice" and p.get("hand")],
                     10, "the hand on alice's participant")
            own = alice.wait_for(lambda s: s.name == "presence" and s.from_ == room +
                                 "/alice" and occupant(s, "hand") == "true",
                                 what="alice's own presence with her hand up")
            check("110" in codes(own), "her own presence: %s" % own)

            # self-ping: joined
            r = alice.iq(room + "/alice", '<ping xmlns="urn:xmpp:ping"/>')
            check(r.type == "result", "self-ping of a joined occupant: %s" % r)

            with px.client("carol") as carol:
                # not joined: not-acceptable
                r = carol.iq(room + "/carol", '<ping xmlns="urn:xmpp:ping"/>')
                check(r.type == "error" and error_of(r) == "not-acceptable",
                      "self-ping of a stranger: %s" % r)
                # the nick conflict, case-insensitive as the core's names are
                carol.join_muc(room, "Bob", wait=False)
                e = carol.wait_for(lambda s: s.name == "presence" and s.type == "error",
                                   what="the conflict")
                check(error_of(e) == "conflict", "409 conflict: %s" % e)
                check(roster_names(br, "standup").count("Bob") == 0, "carol did not join")
                # a private message to an occupant on another network is refused clearly
                carol.join_muc(room, "carol")
                carol.send_message(room + "/bob", "psst")
                e = carol.wait_for(lambda s: s.name == "message" and s.type == "error",
                                   what="the refused private message")
                check(error_of(e) == "feature-not-implemented" and "bob is on test" in
                      (error_text(e) or ""), "refused with a reason: %s" % e)
                # between XMPP occupants it is relayed
                carol.send_message(room + "/alice", "psst alice")
                pm = alice.wait_for(lambda s: s.name == "message" and s.body == "psst alice",
                                    what="the private message")
                check(pm.from_ == room + "/carol" and pm.type == "chat", "relayed: %s" % pm)
                # carol leaves: alice sees it, the participant is gone
                carol.leave_muc(room, "carol")
                alice.wait_for(lambda s: s.name == "presence" and s.type == "unavailable" and
                               s.from_ == room + "/carol", what="carol leaving")
                wait_for(lambda: "carol" not in roster_names(br, "standup"), 10,
                         "carol's participant to end")

            # a kick from another network: 307 to alice
            gw.cmd(cmd="kick", room="standup", who="alice")
            k = alice.wait_for(lambda s: s.name == "presence" and s.type == "unavailable" and
                               s.from_ == room + "/alice", what="the kick")
            check("307" in codes(k) and "110" in codes(k), "kicked with 307: %s" % k)
            wait_for(lambda: "alice" not in roster_names(br, "standup"), 10, "alice gone")


def test_pin_as_password():
    with xmppenv.Prosody() as px, px.bridge({"rooms": {"on_demand": "false"},
                                             "room.sec": {"pin": "1234"},
                                             "room.open": {}}) as br:
        xmppenv.wait_linked(br, call=False)
        with px.client("alice") as alice:
            sec = "sec@" + px.muc_domain
            alice.join_muc(sec, "alice", password="9999", wait=False)
            wrong = alice.wait_for(lambda s: s.name == "presence" and s.type == "error",
                                   what="the wrong password refused")
            alice.join_muc("nosuch@" + px.muc_domain, "alice", password="9999", wait=False)
            unknown = alice.wait_for(lambda s: s.name == "presence" and s.type == "error",
                                     what="the unknown room refused")
            check(error_of(wrong) == error_of(unknown) == "not-authorized",
                  "both not-authorized: %s / %s" % (wrong, unknown))
            check(error_text(wrong) == error_text(unknown), "word for word alike")
            info = alice.disco_info("nosuch@" + px.muc_domain)
            check('muc_passwordprotected' in info.xml, "disco alike too: %s" % info)
            items = alice.iq(px.muc_domain,
                             '<query xmlns="http://jabber.org/protocol/disco#items"/>')
            check("open@" + px.muc_domain in items.xml and sec not in items.xml,
                  "the PIN room is not listed: %s" % items)
            self_p = alice.join_muc(sec, "alice", password="1234")
            check("110" in codes(self_p), "joined with the PIN: %s" % self_p)
            check("alice" in roster_names(br, "sec"), "a participant of the PIN room")


def test_sendxmpp_posts_into_the_room():
    if not os.access(xmppenv.SENDXMPP, os.X_OK):
        print("skip test_sendxmpp_posts_into_the_room: go-sendxmpp is not installed")
        return
    with xmppenv.Prosody() as px, px.bridge({"room.sec": {"pin": "4321"}}) as br:
        sendxmpp_checks(px, br)


def sendxmpp_checks(px, br):
    if True:
        xmppenv.wait_linked(br, call=False)
        room = "standup@" + px.muc_domain
        gw = br.testgw()
        gw.join("standup", "bob")
        with px.client("alice") as alice:
            alice.join_muc(room, "alice")
            r = px.sendxmpp("dave", room, "posted by go-sendxmpp", chatroom=True,
                            alias="dave")
            check(r.returncode == 0, "go-sendxmpp: %s %s" % (r.stdout, r.stderr))
            m = alice.wait_for(lambda s: s.name == "message" and s.body ==
                               "posted by go-sendxmpp", what="dave's line")
            check(m.from_ == room + "/dave", "from dave's occupant JID: %s" % m)
            gw.wait_event(lambda e: e.get("ev") == "text" and e["text"] ==
                          "posted by go-sendxmpp", what="dave's line on the bus")
            # dave left again: alice saw him come and go
            alice.wait_for(lambda s: s.name == "presence" and s.type == "unavailable" and
                           s.from_ == room + "/dave", what="dave leaving")
        # into a PIN room with the PIN as MUC password; a wrong one posts nothing
        sec = "sec@" + px.muc_domain
        gw.cmd(cmd="watch", room="sec", on=True)
        r = px.sendxmpp("dave", sec, "wrong pin line", chatroom=True, alias="dave",
                        muc_password="0000", timeout=10)
        r = px.sendxmpp("dave", sec, "pin room line", chatroom=True, alias="dave",
                        muc_password="4321")
        check(r.returncode == 0, "go-sendxmpp with the PIN: %s %s" % (r.stdout, r.stderr))
        gw.wait_event(lambda e: e.get("ev") == "text" and e["text"] == "pin room line" and
                      e["room"] == "sec", what="the line in the PIN room", timeout=10)
        check(not [e for e in gw.drain(0.5) if e.get("ev") == "text" and
                   e["text"] == "wrong pin line"], "a wrong PIN posted nothing")


if __name__ == "__main__":
    xmppenv.require()
    run([test_join_messages_presence, test_pin_as_password, test_sendxmpp_posts_into_the_room])
