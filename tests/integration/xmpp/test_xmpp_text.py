"""Text across networks through the MUC: a line from an XMPP occupant reaches IRC (ngircd),
a browser's WebSocket and a SIP caller (MESSAGE) exactly once each, and their lines reach
the MUC exactly once each; nothing is echoed into the MUC twice."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("..", "../irc", "../sip", "../webrtc", "."):
    sys.path.insert(0, os.path.join(HERE, d))
import xmppenv  # noqa: E402
from ircenv import NgIrcd, RawIrc, have_ngircd  # noqa: E402
from siplib import UA  # noqa: E402
from ttlib import check, run, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402

ROOM = "room1"


def roster(br):
    status, body = br.http("GET", "/api/rooms/" + ROOM)
    return {p["name"]: p.get("network") for p in body.get("participants", [])} \
        if status == 200 else {}


def ws_texts(ws, seconds):
    """Chat lines the browser got within `seconds`."""
    out, deadline = [], time.time() + seconds
    while time.time() < deadline:
        try:
            m = ws.recv(max(0.01, deadline - time.time()))
        except TimeoutError:
            break
        if m.get("type") == "chat":
            out.append(m)
    return out


def sip_messages(ua, seconds):
    """MESSAGE bodies the caller got within `seconds`; retransmissions (same Call-ID and
    CSeq: UDP, answered late because the test was busy elsewhere) count once."""
    out, seen, deadline = [], set(), time.time() + seconds
    while time.time() < deadline:
        m = ua.wait(lambda m: m.method == "MESSAGE", max(0.01, deadline - time.time()))
        if m is None:
            break
        key = (m.h("call-id"), m.h("cseq"))
        if key not in seen:
            seen.add(key)
            out.append(m.body)
    return out


def muc_bodies(alice, seconds):
    return [s for s in alice.drain(seconds) if s.name == "message" and s.body]


def test_text_across_networks_once():
    if not have_ngircd():
        print("skip test_text_across_networks_once: ngircd is not installed")
        return
    with NgIrcd() as srv, xmppenv.Prosody() as px:
        irc = {"irc.test": {"server": "127.0.0.1", "port": srv.port,
                            "channels": "#chan=" + ROOM, "reconnect_min": 1,
                            "reconnect_max": 2, "flood_burst": 20, "flood_interval": 50}}
        ian = RawIrc(srv.port, "ian")
        ian.send("JOIN #chan")
        ian.wait(":ian!", "JOIN", "#chan")
        with px.bridge(irc, calls=False) as br:
            xmppenv.wait_linked(br, call=False)
            wait_for(lambda: roster(br).get("ian") == "irc", 20, "ian in the room")
            ws = WsClient(br.http_port)
            check(ws.recv()["type"] == "hello", "the browser's hello")
            ws.send({"type": "join", "room": ROOM, "name": "wendy"})
            ws.wait(lambda m: m["type"] == "joined", what="wendy joined")
            ua = UA(br.sip_port, user="sam")
            call = ua.invite(ROOM, ua.sdp_offer(["PCMU/8000"], port=40410))
            check(call.response and call.response.status == 200, "sam's INVITE: %s" %
                  (call.response and call.response.start))
            call.ack()
            wait_for(lambda: roster(br).get("sam") == "phone", 10, "sam in the room")
            with px.client("alice") as alice:
                muc = "%s@%s" % (ROOM, px.muc_domain)
                alice.join_muc(muc, "alice")
                alice.drain(1.0)
                ws_texts(ws, 0.2)
                sip_messages(ua, 0.2)

                # XMPP -> everyone, once each
                mark = ian.mark()
                alice.send_groupchat(muc, "hello from xmpp")
                ian.wait("hello from xmpp", since=mark)
                got_ws = ws_texts(ws, 2.0)
                got_sip = sip_messages(ua, 0.5)
                got_muc = muc_bodies(alice, 0.5)
                check(ian.count("hello from xmpp", since=mark) == 1,
                      "IRC got it %d times" % ian.count("hello from xmpp", since=mark))
                w = [m for m in got_ws if m["text"] == "hello from xmpp"]
                check(len(w) == 1 and w[0]["from"]["name"] == "alice",
                      "the browser once: %s" % got_ws)
                s = [b for b in got_sip if "hello from xmpp" in b]
                check(len(s) == 1 and s[0].startswith("alice"), "SIP once: %s" % got_sip)
                m = [x for x in got_muc if x.body == "hello from xmpp"]
                check(len(m) == 1 and m[0].from_ == muc + "/alice",
                      "the MUC once (the reflection): %s" % got_muc)

                # each network -> the MUC, once each, from its occupant JID
                ian.send("PRIVMSG #chan :hello from irc")
                ws.send({"type": "chat", "text": "hello from the web"})
                r = call.in_dialog("MESSAGE", body="hello from sip", ctype="text/plain")
                check(r and r.status == 200, "sam's MESSAGE: %s" % (r and r.start))
                want = {"hello from irc": "ian", "hello from the web": "wendy",
                        "hello from sip": "sam"}
                for text, nick in want.items():
                    alice.wait_for(lambda st, t=text: st.name == "message" and st.body == t,
                                   what=text)
                time.sleep(1.0)
                got = [x for x in alice.seen + muc_bodies(alice, 0.5)
                       if x.name == "message" and x.body in want]
                for text, nick in want.items():
                    mine = [x for x in got if x.body == text]
                    check(not mine, "%r delivered into the MUC again: %s" % (text, mine))
                check(roster(br).get("alice") == "xmpp", "alice is an xmpp participant")
            call.bye()
            ws.close()
            ua.close()
        ian.close()


if __name__ == "__main__":
    xmppenv.require()
    run([test_text_across_networks_once])
