"""SIP signalling against the real bridge with a stdlib UA: dial-in and rejections, 488 with
Warning, an INVITE without SDP (our offer, the answer in ACK), CANCEL, BYE both ways,
re-INVITE hold, in-dialog OPTIONS, INFO DTMF keys, MESSAGE both ways with the test gateway,
aliases and the default room, and the per-source request limit."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from siplib import UA  # noqa: E402


def roster(gw, room):
    r = gw.cmd(cmd="roster", room=room)
    return r.get("roster", []) if r.get("ok") else []


def wait_for(pred, timeout=5, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_dial_in_rejections_and_bye():
    with Bridge({"rooms": {"on_demand": False},
                 "room.standup": {},
                 "room.board": {"pin": "4321"},
                 "sip": {"aliases": "100=standup", "default_room": "standup"}}) as br:
        ua = UA(br.sip_port, user="alice")
        gw = br.testgw()
        # unknown room and a PIN room look the same from outside (no enumeration)
        r = ua.invite("nosuchroom", ua.sdp_offer())
        check(r.response and r.response.status == 404, "unknown room: %s" % (r.response and r.response.start))
        r2 = ua.invite("board", ua.sdp_offer())
        check(r2.response and r2.response.status == 404 and
              r2.response.start == r.response.start, "PIN room answered differently: %s"
              % (r2.response and r2.response.start))
        # nothing we can decode: 488 with a Warning saying why
        r = ua.invite("standup", ua.sdp_offer(["GSM/8000"]))
        check(r.response and r.response.status == 488 and "305" in r.response.h("warning", ""),
              "488 with Warning: %s %s" % (r.response and r.response.start,
                                           r.response and r.response.h("warning")))
        # an alias reaches the room; the answer is PCMU with telephone-event
        c = ua.invite("100", ua.sdp_offer(["PCMU/8000"]))
        check(c.response and c.response.status == 200, "alias call: %s" % (c.response and c.response.start))
        check(c.response.h("content-type", "").startswith("application/sdp"), "no SDP answer")
        host, port, pt = c.remote_media()
        check(host == "127.0.0.1" and pt == 0, "answer media: %s" % ((host, port, pt),))
        check("telephone-event/8000" in c.response.body, "no DTMF in answer:\n" + c.response.body)
        c.ack()
        ents = wait_for(lambda: [e for e in roster(gw, "standup") if e["network"] == "phone"],
                        what="caller in roster")
        check(ents[0]["name"] == "alice" and ents[0]["gateway"] == "sip", "entry: %s" % ents)
        # in-dialog OPTIONS
        r = c.in_dialog("OPTIONS")
        check(r and r.status == 200 and "MESSAGE" in r.h("allow", ""), "in-dialog OPTIONS: %s" % (r and r.start))
        # hold by re-INVITE (sendonly) and resume
        r = c.reinvite(ua.sdp_offer(["PCMU/8000"], mode="sendonly"))
        check(r and r.status == 200 and "a=recvonly" in r.body, "hold re-INVITE: %s\n%s" % (r and r.start, r and r.body))
        wait_for(lambda: [e for e in roster(gw, "standup") if e["network"] == "phone" and e["hold"]],
                 what="hold flag")
        r = c.reinvite(ua.sdp_offer(["PCMU/8000"]))
        check(r and r.status == 200 and "a=sendrecv" in r.body, "resume: %s" % (r and r.start))
        wait_for(lambda: [e for e in roster(gw, "standup") if e["network"] == "phone" and not e["hold"]],
                 what="hold cleared")
        # a codec and address change mid-call (re-INVITE): the leg follows, same local port
        r = c.reinvite(ua.sdp_offer(["PCMA/8000"], port=40100))
        check(r and r.status == 200 and re.search(r"m=audio %d RTP/AVP 8 " % port, r.body),
              "codec change: %s\n%s" % (r and r.start, r and r.body))
        media = lambda: [p.get("media", {}) for p in br.http("GET", "/api/rooms/standup")[1]
                         ["participants"] if p["network"] == "phone"]
        wait_for(lambda: media() and media()[0].get("codec") == "pcma"
                 and media()[0].get("remote") == "127.0.0.1:40100", what="leg updated")
        # an UPDATE back to PCMU
        r = c.in_dialog("UPDATE", body=ua.sdp_offer(["PCMU/8000"], port=40200))
        check(r and r.status == 200 and " RTP/AVP 0 " in r.body, "UPDATE: %s" % (r and r.start))
        wait_for(lambda: media() and media()[0].get("codec") == "pcmu", what="UPDATE applied")
        # INFO DTMF "*6" mutes the caller
        for d in "*6":
            r = c.in_dialog("INFO", body="Signal=%s\r\nDuration=160\r\n" % d,
                            ctype="application/dtmf-relay")
            check(r and r.status == 200, "INFO: %s" % (r and r.start))
        wait_for(lambda: [e for e in roster(gw, "standup") if e["network"] == "phone" and e["muted"]],
                 what="muted by *6")
        # BYE from the caller ends the participant
        r = c.bye()
        check(r and r.status == 200, "BYE: %s" % (r and r.start))
        wait_for(lambda: not [e for e in roster(gw, "standup") if e["network"] == "phone"],
                 what="caller gone after BYE")
        # BYE from the bridge: a kick hangs up
        c = ua.invite("", ua.sdp_offer(["PCMU/8000"]))   # default room
        check(c.response and c.response.status == 200, "default room: %s" % (c.response and c.response.start))
        c.ack()
        wait_for(lambda: [e for e in roster(gw, "standup") if e["network"] == "phone"], what="rejoined")
        check(gw.cmd(cmd="kick", room="standup", who="alice")["ok"], "kick")
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 5)
        check(bye is not None, "no BYE from the bridge after a kick")
        ua.close()


def test_offerless_invite_cancel_and_message():
    with Bridge({"rooms": {"on_demand": True}}) as br:
        gw = br.testgw()
        tid = gw.join("chat", "tina")
        ua = UA(br.sip_port, user="bob")
        # INVITE without SDP: the 200 carries our offer, the ACK the answer
        c = ua.invite("chat", "")
        check(c.response and c.response.status == 200, "offerless: %s" % (c.response and c.response.start))
        body = c.response.body
        check(re.search(r"m=audio \d+ RTP/AVP 111 9 0 8 101 100", body), "our offer:\n" + body)
        c.ack(ua.sdp_offer(["PCMU/8000"], port=40300))
        wait_for(lambda: [e for e in roster(gw, "chat") if e["name"] == "bob"], what="bob joined")
        media = lambda: [p.get("media", {}) for p in br.http("GET", "/api/rooms/chat")[1]
                         ["participants"] if p["name"] == "bob"]
        wait_for(lambda: media() and media()[0].get("codec") == "pcmu"
                 and media()[0].get("remote") == "127.0.0.1:40300" and not media()[0]["srtp"],
                 what="answer in ACK applied (PCMU, plain RTP)")
        # MESSAGE in the dialog reaches the test gateway's participant
        gw.drain(0.2)
        r = c.in_dialog("MESSAGE", body="hello from the phone", ctype="text/plain")
        check(r and r.status == 200, "MESSAGE: %s" % (r and r.start))
        ev = gw.wait_event(lambda e: e["ev"] == "text", what="text from SIP")
        check(ev["text"] == "hello from the phone" and ev["from"]["name"] == "bob"
              and ev["from"]["network"] == "phone", "text event: %s" % ev)
        # room text reaches the caller (its Allow lists MESSAGE), not its own lines
        gw.say(tid, "hi bob")
        m = ua.wait(lambda m: m.method == "MESSAGE", 5)
        check(m is not None and m.body == "tina: hi bob", "MESSAGE to phone: %s" % (m and m.body))
        check(not ua.wait(lambda m: m.method == "MESSAGE" and "hello from the phone" in m.body, 0.5),
              "the caller got its own line back")
        # out-of-dialog MESSAGE to the room URI
        ua2 = UA(br.sip_port, user="walter", name="Walter")
        r = ua2.message("chat", "drive-by hello")
        check(r and r.status == 200, "room MESSAGE: %s" % (r and r.start))
        ev = gw.wait_event(lambda e: e["ev"] == "text" and e["text"] == "drive-by hello",
                           what="room MESSAGE text")
        check(ev["from"]["name"] == "Walter", "sender: %s" % ev["from"])
        r = ua2.message("chat", "bad \x01 control")
        check(r and r.status == 400, "control character: %s" % (r and r.start))
        c.bye()
        # CANCEL before the answer ends the call with 487, nobody stays in the room
        ua3 = UA(br.sip_port, user="carl")
        cc = __import__("siplib").Call(ua3, "chat")
        cc.send_invite(ua3.sdp_offer())
        ua3.wait(lambda m: m.status in (100, 180), 2)
        r = cc.cancel()
        check(r and r.status == 200, "CANCEL: %s" % (r and r.start))
        fin = ua3.final(cc.call_id, "INVITE", 3)
        # the 200 may have won the race; then a BYE ends it
        if fin and fin.status == 200:
            cc.to_tag = fin.to_tag()
            cc.ack()
            cc.bye()
        else:
            check(fin and fin.status == 487, "INVITE after CANCEL: %s" % (fin and fin.start))
        wait_for(lambda: not [e for e in roster(gw, "chat") if e["name"] == "carl"],
                 what="carl gone")
        for u in (ua, ua2, ua3):
            u.close()


def test_rate_limit_per_source():
    with Bridge({"sip": {"rate_limit": 5, "rate_burst": 5}}) as br:
        ua = UA(br.sip_port)
        codes = []
        for _ in range(12):
            r = ua.options(1.0)
            codes.append(r.status if r else None)
        check(codes[:5] == [200] * 5 and 503 in codes, "rate limit: %s" % codes)
        other = UA(br.sip_port)
        r = other.options(1.0)
        # same source address (127.0.0.1): still limited; the limit is per address
        check(r and r.status in (200, 503), "second socket: %s" % (r and r.status))
        time.sleep(1.2)
        r = ua.options(1.0)
        check(r and r.status == 200, "after a second: %s" % (r and r.status))
        ua.close()
        other.close()


if __name__ == "__main__":
    run([test_dial_in_rejections_and_bye, test_offerless_invite_cancel_and_message,
         test_rate_limit_per_source])
