"""SIP signalling against the real bridge with a stdlib UA: dial-in and rejections, 488 with
Warning, an INVITE without SDP (our offer, the answer in ACK), CANCEL, BYE both ways,
re-INVITE hold, in-dialog OPTIONS, INFO DTMF keys, MESSAGE both ways with the test gateway,
aliases and the default room, and the per-source request limit."""
import hashlib
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
import socket  # noqa: E402
from siplib import UA, send_dtmf  # noqa: E402


def roster(gw, room):
    r = gw.cmd(cmd="roster", room=room)
    return r.get("roster", []) if r.get("ok") else []


def test_dial_in_rejections_and_bye():
    with Bridge({"rooms": {"on_demand": False},
                 "room.standup": {},
                 "room.board": {"pin": "4321"},
                 "sip": {"aliases": "100=standup", "default_room": "standup",
                         "unknown_room": "404"}}) as br:
        ua = UA(br.sip_port, user="alice")
        gw = br.testgw()
        r = ua.invite("nosuchroom", ua.sdp_offer())
        check(r.response and r.response.status == 404, "unknown room: %s" % (r.response and r.response.start))
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
        # the bridge answers within a millisecond, so the 200 may win the race: then the
        # CANCEL gets 481 (RFC 3261 9.2) and a BYE ends the call
        check(r and r.status in (200, 481), "CANCEL: %s" % (r and r.start))
        fin = ua3.final(cc.call_id, "INVITE", 3)
        check(fin and (fin.status == 487) == (r.status == 200),
              "CANCEL %s but INVITE %s" % (r.status, fin and fin.status))
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


NS = {"ci": "urn:ietf:params:xml:ns:conference-info",
      "tt": "urn:tutti:params:xml:ns:conference-info"}


def notify_users(ua, call_id, pred, timeout=5):
    """Users of the first NOTIFY in the subscription's dialog whose users satisfy pred."""
    seen = []

    def ok(m):
        if m.method != "NOTIFY" or m.h("call-id") != call_id:
            return False
        check(m.h("event", "").startswith("conference"), "Event: %s" % m.h("event"))
        check(m.h("content-type", "").startswith("application/conference-info+xml"),
              "Content-Type: %s" % m.h("content-type"))
        root = ET.fromstring(m.body)   # must be well-formed XML
        check(root.tag == "{%s}conference-info" % NS["ci"] and root.get("state") == "full",
              "root: %s %s" % (root.tag, root.attrib))
        users = []
        for u in root.findall("ci:users/ci:user", NS):
            ep = u.find("ci:endpoint", NS)
            users.append({"name": u.findtext("ci:display-text", None, NS),
                          "network": ep.findtext("tt:network", None, NS),
                          "status": ep.findtext("ci:status", None, NS),
                          "media": ep.findtext("ci:media/ci:status", None, NS),
                          "talking": ep.findtext("tt:talking", None, NS),
                          "version": int(root.get("version"))})
        seen.append(users)
        return pred(users)
    m = ua.wait(ok, timeout)
    check(m is not None, "no matching NOTIFY; saw %s" % seen)
    return seen[-1]


KEY = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"


def test_srtp_policies_and_offerless_srtp():
    with Bridge({"rooms": {"on_demand": True}, "sip": {"srtp": "require"}}) as br:
        ua = UA(br.sip_port, user="sec")
        r = ua.invite("vault", ua.sdp_offer(["PCMU/8000"]))
        check(r.response and r.response.status == 488 and "SRTP" in r.response.h("warning", ""),
              "plain RTP under srtp=require: %s %s" % (r.response and r.response.start,
                                                      r.response and r.response.h("warning")))
        c = ua.invite("vault", ua.sdp_offer(["PCMU/8000"], crypto="3 AES_CM_128_HMAC_SHA1_80 " + KEY))
        check(c.response and c.response.status == 200, "SAVP: %s" % (c.response and c.response.start))
        check(re.search(r"m=audio \d+ RTP/SAVP 0", c.response.body)
              and "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" in c.response.body,
              "SAVP answer:\n" + c.response.body)
        c.ack()
        c.bye()
        # offerless: our offer carries a=crypto (RTP/SAVP under require); the answer's key
        # is applied from the ACK
        c = ua.invite("vault", "")
        body = c.response.body if c.response else ""
        m = re.search(r"a=crypto:1 AES_CM_128_HMAC_SHA1_80 (inline:\S+)", body)
        check(c.response and c.response.status == 200 and m and "RTP/SAVP" in body,
              "offerless SRTP offer:\n" + body)
        c.ack(ua.sdp_offer(["PCMU/8000"], port=40400, crypto="1 AES_CM_128_HMAC_SHA1_80 " + KEY))
        media = lambda: [p.get("media", {}) for p in br.http("GET", "/api/rooms/vault")[1]
                         ["participants"]]
        wait_for(lambda: media() and media()[0].get("srtp") and media()[0].get("codec") == "pcmu"
                 and media()[0].get("remote") == "127.0.0.1:40400", what="SRTP answer applied")
        c.bye()
        ua.close()
    with Bridge({"rooms": {"on_demand": True}, "sip": {"srtp": "off"}}) as br:
        ua = UA(br.sip_port, user="plain")
        r = ua.invite("open", ua.sdp_offer(["PCMU/8000"], crypto="1 AES_CM_128_HMAC_SHA1_80 " + KEY))
        check(r.response and r.response.status == 488, "SAVP under srtp=off: %s"
              % (r.response and r.response.start))
        c = ua.invite("open", "")
        check(c.response and "a=crypto" not in c.response.body, "crypto offered with srtp=off")
        c.ack(ua.sdp_offer(["PCMU/8000"]))
        c.bye()
        ua.close()


def test_subscribe_conference_roster():
    with Bridge({"rooms": {"on_demand": True}}) as br:
        gw = br.testgw()
        gw.join("weekly", "tina")
        ua = UA(br.sip_port, user="watcher")
        cid = "sub-1@test"
        ua.request("SUBSCRIBE", ua.room_uri("weekly"), cid, 1, "s1",
                   extra=["Event: conference", "Accept: application/conference-info+xml",
                          "Expires: 600"])
        r = ua.final(cid, "SUBSCRIBE")
        check(r and r.status in (200, 202), "SUBSCRIBE: %s" % (r and r.start))
        users = notify_users(ua, cid, lambda us: len(us) == 1)
        check(users[0]["name"] == "tina" and users[0]["network"] == "test"
              and users[0]["media"] == "sendrecv", "first NOTIFY: %s" % users)
        # a phone caller joins and mutes: every network, media state
        caller = UA(br.sip_port, user="pat")
        c = caller.invite("weekly", caller.sdp_offer())
        check(c.response and c.response.status == 200, "call: %s" % (c.response and c.response.start))
        c.ack()
        users = notify_users(ua, cid, lambda us: any(u["network"] == "phone" for u in us))
        check(sorted(u["name"] for u in users) == ["pat", "tina"], "users: %s" % users)
        for d in "*6":
            c.in_dialog("INFO", body="Signal=%s\r\n" % d, ctype="application/dtmf-relay")
        users = notify_users(ua, cid, lambda us: any(u["name"] == "pat" and u["media"] == "recvonly"
                                                    for u in us))
        c.bye()
        notify_users(ua, cid, lambda us: [u["name"] for u in us] == ["tina"])
        # other event packages are refused
        ua.request("SUBSCRIBE", ua.room_uri("weekly"), "sub-2@test", 1, "s2",
                   extra=["Event: presence", "Expires: 600"])
        r = ua.final("sub-2@test", "SUBSCRIBE")
        check(r and r.status == 489, "presence SUBSCRIBE: %s" % (r and r.start))
        # unsubscribe
        ua.request("SUBSCRIBE", ua.room_uri("weekly"), cid, 2, "s1",
                   extra=["Event: conference", "Expires: 0"])
        r = ua.final(cid, "SUBSCRIBE")
        check(r and r.status < 300, "unsubscribe: %s" % (r and r.start))
        ua.close()
        caller.close()


def ulaw_to_lin(b):
    b = ~b & 0xFF
    t = ((b & 0x0F) << 3) + 0x84
    t <<= (b & 0x70) >> 4
    return (0x84 - t) if b & 0x80 else (t - 0x84)


def prompt_audio(sock, seconds):
    """Linear samples of the PCMU RTP arriving on sock within `seconds`."""
    out = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        sock.settimeout(max(0.001, deadline - time.time()))
        try:
            pkt = sock.recv(2048)
        except (socket.timeout, BlockingIOError):
            continue
        if len(pkt) > 12 and pkt[1] & 0x7F == 0:
            out.extend(ulaw_to_lin(x) for x in pkt[12:])
    return out


def pin_call(br, ua, rtp, room="board"):
    c = ua.invite(room, ua.sdp_offer(["PCMU/8000"], port=rtp.getsockname()[1]))
    check(c.response and c.response.status == 200, "PIN room call: %s"
          % (c.response and c.response.start))
    c.ack()
    host, port, _ = c.remote_media()
    return c, (host, port)


def test_pin_entry_by_rfc4733():
    with Bridge({"rooms": {"on_demand": False}, "room.board": {"pin": "4321"},
                 "sip": {"pin_attempts": 3}}) as br:
        gw = br.testgw()
        gw.join("board", "chair", pin="4321")
        ua = UA(br.sip_port, user="dana")
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        # three wrong PINs: hung up, never seen in the room
        c, media = pin_call(br, ua, rtp)
        # the spoken "enter the PIN" prompt comes through our leg (PCMU), not silence
        got = prompt_audio(rtp, 1.0)
        check(len(got) >= 40 and max(abs(x) for x in got) > 1000,
              "no prompt audio in the lobby: %d packets" % (len(got) // 160))
        check([e["name"] for e in roster(gw, "board")] == ["chair"],
              "caller visible before the PIN: %s" % roster(gw, "board"))
        status, body = br.http("GET", "/api/rooms/board")
        check(len(body["participants"]) == 1, "API shows the lobby: %s" % body)
        seq, ts = send_dtmf(rtp, media, 101, "1111#")
        seq, ts = send_dtmf(rtp, media, 101, "12*4320#", seq=seq, ts=ts)
        check(not ua.wait(lambda m: m.method == "BYE", 0.5), "hung up before the third try")
        seq, ts = send_dtmf(rtp, media, 101, "9999#", seq=seq, ts=ts)
        # the goodbye prompt plays before the BYE
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 10)
        check(bye is not None, "no BYE after three wrong PINs")
        check(not [e for e in gw.drain(0.3) if e["ev"] == "roster" and e.get("who", {}).get("name") == "dana"],
              "roster events about a caller who never got in")
        # the right PIN joins
        c, media = pin_call(br, ua, rtp)
        send_dtmf(rtp, media, 101, "4321#", seq=seq + 10, ts=ts + 8000)
        ev = gw.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "joined"
                           and e["who"]["name"] == "dana", what="dana admitted")
        check(ev["who"]["network"] == "phone" and not ev["who"]["hold"], "admitted: %s" % ev)
        c.bye()
        rtp.close()
        ua.close()


def test_unknown_room_answers_like_a_pin_room():
    """[sip] unknown_room = auto with a PIN room configured: a call to a room that does not
    exist is answered, prompted and refused exactly like a wrong PIN in a real room (even
    the real room's PIN fails), and the hidden lobby shows nowhere; with 404, it is 404."""
    conf = {"rooms": {"on_demand": False}, "room.board": {"pin": "4321"},
            "sip": {"pin_attempts": 2}}
    with Bridge(conf) as br:
        ua = UA(br.sip_port, user="prober")
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        seq, ts, seen = 1, 0, {}
        for room in ("board", "nosuch"):
            c, media = pin_call(br, ua, rtp, room)
            got = prompt_audio(rtp, 1.0)
            check(len(got) >= 40 and max(abs(x) for x in got) > 1000,
                  "%s: no prompt audio: %d packets" % (room, len(got) // 160))
            status, body = br.http("GET", "/api/rooms")
            check([r["name"] for r in body["rooms"]] == ["board"],
                  "rooms listed while %s's caller waits: %s" % (room, body))
            status, health = br.http("GET", "/api/health")
            check(health["rooms"] == 1, "health counts the hidden lobby: %s" % health)
            seq, ts = send_dtmf(rtp, media, 101, "1111#", seq=seq, ts=ts)
            check(not ua.wait(lambda m: m.method == "BYE", 0.5), "%s: BYE after one try" % room)
            wrong = "9999#" if room == "board" else "4321#"
            seq, ts = send_dtmf(rtp, media, 101, wrong, seq=seq, ts=ts)
            t0 = time.time()
            bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 10)
            check(bye is not None, "%s: no BYE after two wrong PINs" % room)
            seen[room] = time.time() - t0
            seq, ts = seq + 10, ts + 8000
        print("  last wrong PIN to BYE: %s" % {k: round(v, 2) for k, v in seen.items()},
              flush=True)
        check(abs(seen["board"] - seen["nosuch"]) < 1.0, "the goodbye takes a different time: %s"
              % seen)
        status, body = br.http("GET", "/api/rooms/.lobby")
        check(status == 404 or status == 400, "the hidden lobby answers the API: %d" % status)
        rtp.close()
        ua.close()
    conf["sip"]["unknown_room"] = "404"
    with Bridge(conf) as br:
        ua = UA(br.sip_port, user="prober")
        c = ua.invite("nosuch", ua.sdp_offer())
        check(c.response and c.response.status == 404, "unknown_room = 404: %s"
              % (c.response and c.response.start))
        ua.close()


def test_session_timer_and_rtp_inactivity():
    with Bridge({"media": {"inactivity_s": 2}, "sip": {"session_timer": 90}}) as br:
        ua = UA(br.sip_port, user="quiet")
        c = ua.invite("timers", ua.sdp_offer(), extra=["Supported: timer",
                                                       "Session-Expires: 120;refresher=uac"])
        check(c.response and c.response.status == 200, "call: %s" % (c.response and c.response.start))
        se = c.response.h("session-expires", "") or c.response.h("x", "")
        # RFC 4028: the UAS may shorten the interval down to its Min-SE, never lengthen it
        check(se and 90 <= int(se.split(";")[0]) <= 120, "Session-Expires in the 200: %r" % se)
        check("timer" in c.response.h("require", ""), "Require: timer missing: %r"
              % c.response.h("require"))
        c.ack()
        # we send no RTP at all: the media layer ends the call and the bridge says BYE
        t0 = time.time()
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 8)
        check(bye is not None, "no BYE after RTP inactivity")
        check(time.time() - t0 < 6, "BYE took %.1f s" % (time.time() - t0))
        ua.close()


def test_hold_outlives_rtp_inactivity():
    """A caller on hold may send no RTP (a=inactive): [media] inactivity_s must not end it;
    once resumed, the normal limit applies again, counted from the resume."""
    with Bridge({"media": {"inactivity_s": 2, "hold_inactivity_s": 0}}) as br:
        gw = br.testgw()
        gw.join("holdroom", "watcher")
        ua = UA(br.sip_port, user="holder")
        c = ua.invite("holdroom", ua.sdp_offer())
        check(c.response and c.response.status == 200, "call: %s" % (c.response and c.response.start))
        c.ack()
        r = c.reinvite(ua.sdp_offer(mode="inactive"))
        check(r and r.status == 200 and "a=inactive" in r.body, "hold re-INVITE: %s" % (r and r.start))
        wait_for(lambda: [e for e in roster(gw, "holdroom") if e["network"] == "phone" and e["hold"]],
                 what="hold flag")
        # three times the limit on hold, without a single packet: no BYE, still in the room
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 6.5)
        check(bye is None, "the bridge hung up a caller on hold after %s s of silence"
              % br.conf["media"]["inactivity_s"])
        check([e for e in roster(gw, "holdroom") if e["network"] == "phone"],
              "the caller on hold left the room")
        r = c.reinvite(ua.sdp_offer())
        check(r and r.status == 200 and "a=sendrecv" in r.body, "resume: %s" % (r and r.start))
        t0 = time.time()
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 8)
        took = time.time() - t0
        check(bye is not None, "no BYE after resuming without RTP")
        check(1.5 < took < 6, "BYE %.1f s after the resume (limit 2 s, from the resume)" % took)
        print("  on hold 6.5 s without RTP: kept; resumed without RTP: BYE after %.1f s" % took,
              flush=True)
        ua.close()


def digest(challenge, user, password, method, uri):
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    resp = hashlib.md5(("%s:%s:00000001:c0ffee:auth:%s" % (ha1, nonce, ha2)).encode()).hexdigest()
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'qop=auth, nc=00000001, cnonce="c0ffee", algorithm=MD5'
            % (user, realm, nonce, uri, resp))


def test_digest_authentication():
    users = tempfile.NamedTemporaryFile("w", suffix=".db", delete=False)
    users.write("alice:secret:tutti\n")   # sofia-sip's auth module: user:password:realm
    users.close()
    try:
        with Bridge({"rooms": {"on_demand": True}, "sip": {"auth_users": users.name}}) as br:
            gw = br.testgw()
            for password, want in (("wrong", (401, 403)), ("secret", (200,))):
                ua = UA(br.sip_port, user="alice")
                c = ua.invite("secure", ua.sdp_offer())
                ch = c.response.h("www-authenticate", "") if c.response else ""
                check(c.response and c.response.status == 401 and ch.startswith("Digest"),
                      "no challenge: %s" % (c.response and c.response.start))
                c.ack()
                c.cseq += 1
                c.send_invite(ua.sdp_offer(), extra=["Authorization: " + digest(
                    ch, "alice", password, "INVITE", c.uri)])
                r = ua.final(c.call_id, "INVITE")
                check(r and r.status in want, "password %r: %s" % (password, r and r.start))
                if r.status == 200:
                    c.to_tag = r.to_tag()
                    c.ack()
                    wait_for(lambda: [e for e in roster(gw, "secure") if e["name"] == "alice"],
                             what="authenticated caller in the room")
                    c.bye()
                else:
                    check(not roster(gw, "secure"), "unauthenticated caller joined")
                ua.close()
            # OPTIONS is never challenged (monitoring keeps working)
            ua = UA(br.sip_port)
            r = ua.options()
            check(r and r.status == 200, "OPTIONS with auth on: %s" % (r and r.start))
            ua.close()
    finally:
        os.unlink(users.name)


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
         test_srtp_policies_and_offerless_srtp,
         test_subscribe_conference_roster, test_pin_entry_by_rfc4733,
         test_unknown_room_answers_like_a_pin_room,
         test_session_timer_and_rtp_inactivity, test_hold_outlives_rtp_inactivity,
         test_digest_authentication,
         test_rate_limit_per_source])
