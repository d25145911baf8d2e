"""The WebRTC gateway's signalling protocol (docs/webrtc-protocol.md) without a browser:
every kind of bad input gets an error with a code and changes nothing, and the bridge keeps
serving; PIN rooms; limits on size, rate and connections per address; roster and chat
between two WebSocket clients and the test gateway."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import BUILD_DIR, Bridge, BridgeError, check, run  # noqa: E402
from wsclient import Closed, WsClient  # noqa: E402

SDP_GOOD = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0", "c=IN IP4 0.0.0.0",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:actpass", "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=sendrecv", "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:0 PCMU/8000", ""])

CONF = {"webrtc": {"allow_loopback": True, "max_messages_per_s": 20,
                   "max_message_bytes": 4096, "max_per_address": 6},
        "room.secret": {"pin": "4242"}}


def client(br):
    c = WsClient(br.http_port)
    hello = c.recv()
    check(hello == {"type": "hello", "version": 1}, "hello: %s" % hello)
    return c


def expect_error(c, code, about=None):
    m = c.recv()
    check(m["type"] == "error" and m["code"] == code, "expected error %s, got %s" % (code, m))
    if about:
        check(m.get("about") == about, "error about %s: %s" % (about, m))
    return m


def alive(c):
    c.send({"type": "ping"})
    m = c.recv()
    check(m == {"type": "pong"}, "no pong: %s" % m)


def test_malformed_and_wrong_state():
    with Bridge(CONF) as br:
        c = client(br)
        for bad in ("{", "[]", "null", "\"str\"", "{\"type\":1}", "{}", "{\"type\":\"x\"}",
                    "{\"type\":\"join\",\"type\":\"join\"}"):
            c.send_raw(bad)
            m = c.recv()
            check(m["type"] == "error" and m["code"] in ("bad_json", "bad_request",
                                                         "unknown_type"), "%r -> %s" % (bad, m))
        for t in ("x", "subscribe", "a-type-name-longer-than-thirty-two-characters"):
            c.send({"type": t})
            expect_error(c, "unknown_type")
        c.send_raw(b"\x00\x01binary", opcode=2)
        expect_error(c, "bad_json")
        c.send({"type": "join"})
        expect_error(c, "bad_request", "join")
        c.send({"type": "join", "room": ""})
        expect_error(c, "bad_request", "join")
        c.send({"type": "join", "room": 5})
        expect_error(c, "bad_request", "join")
        c.send({"type": "offer", "sdp": SDP_GOOD})
        expect_error(c, "wrong_state", "offer")
        c.send({"type": "candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
        expect_error(c, "wrong_state", "candidate")
        c.send({"type": "chat", "text": "hi"})
        expect_error(c, "wrong_state", "chat")
        c.send({"type": "mute", "muted": "yes"})
        expect_error(c, "bad_request", "mute")
        alive(c)
        c.send({"type": "join", "room": "lobby", "name": "Zed"})
        j = c.recv()
        check(j["type"] == "joined" and j["name"] == "Zed" and j["room"] == "lobby", "%s" % j)
        check([e["name"] for e in j["roster"]] == ["Zed"], "roster: %s" % j["roster"])
        check(j["roster"][0]["network"] == "web", "network: %s" % j["roster"])
        c.send({"type": "join", "room": "lobby", "name": "Zed"})
        expect_error(c, "wrong_state", "join")
        for sdp, why in (("garbage", "parse"), ("v=0\r\n", "no audio"),
                         (SDP_GOOD.replace("a=rtcp-mux\r\n", ""), "rtcp-mux"),
                         (SDP_GOOD.replace("sha-256", "sha-1"), "fingerprint"),
                         (SDP_GOOD.replace("opus/48000/2", "speex/8000"), "opus"),
                         (SDP_GOOD.replace("a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", ""),
                          "ice-pwd"),
                         ("\x01" * 50, "binary")):
            c.send({"type": "offer", "sdp": sdp})
            m = expect_error(c, "bad_sdp", "offer")
            check(why.split()[0] in m["message"] or why == "binary" or why == "parse",
                  "%s: %s" % (why, m))
        c.send({"type": "chat", "text": "\x07bell"})
        expect_error(c, "bad_text", "chat")
        alive(c)
        # a well-formed offer is answered, then a second one is the wrong state
        c.send({"type": "offer", "sdp": SDP_GOOD})
        a = c.wait(lambda m: m["type"] in ("answer", "error"), what="answer")
        check(a["type"] == "answer", "answer: %s" % a)
        sdp = a["sdp"]
        for line in ("a=setup:active", "a=rtcp-mux", "a=mid:0", "a=rtpmap:111 opus/48000/2",
                     "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                     "a=fingerprint:sha-256 ", "m=audio 9 UDP/TLS/RTP/SAVPF 111"):
            check(line in sdp, "answer lacks %r:\n%s" % (line, sdp))
        c.send({"type": "offer", "sdp": SDP_GOOD})
        expect_error(c, "wrong_state", "offer")
        # not candidate lines (RFC 8839), each refused and changing nothing: none of them
        # counts against the cap below
        for bad in ("not a candidate", "candidate:garbage", "candidate:",
                    "candidate:1 1 udp 1 127.0.0.1 99999 typ host",
                    "candidate:1 x udp 1 127.0.0.1 9 typ host",
                    "candidate:" + "x" * 600):
            c.send({"type": "candidate", "candidate": bad})
            expect_error(c, "bad_candidate", "candidate")
        c.send({"type": "candidate", "candidate": None})   # end of candidates: fine
        alive(c)
        time.sleep(2)         # a full token bucket (20/s, bursts of 40)
        for i in range(70):   # a client cannot grow the check list without bound
            c.send({"type": "candidate",
                    "candidate": "candidate:%d 1 udp 1 127.0.0.1 %d typ host" % (i, 9000 + i)})
            if i >= 30 and i % 10 == 9:
                time.sleep(0.6)    # stay under the message rate
        c.send({"type": "ping"})
        errs = []
        while True:
            m = c.recv()
            if m["type"] == "pong":
                break
            errs.append(m)
        # 64 are taken (the refused lines above do not count): the other 6 are refused
        check(len(errs) == 6 and all(e["message"] == "too many candidates" for e in errs),
              "candidate cap: %s" % errs)
        c.send({"type": "leave"})
        c.wait(lambda m: m["type"] == "left", what="left")
        st, body = br.http("GET", "/api/rooms")
        check(st == 200 and body["rooms"] == [], "rooms after leave: %s" % body)


def test_offer_candidates_count_only_when_taken():
    """Candidates inside the offer count against the 64-candidate cap only when they are
    candidate lines: 10 garbage a=candidate lines and one good one leave 63 to trickle
    (before, the garbage counted too and 53 were left)."""
    sdp = SDP_GOOD.replace("a=rtcp-mux\r\n", "a=rtcp-mux\r\n" + "".join(
        "a=candidate:garbage%d\r\n" % i for i in range(10)) +
        "a=candidate:1 1 udp 2122260223 127.0.0.1 9100 typ host\r\n")
    with Bridge(CONF) as br:
        c = client(br)
        c.send({"type": "join", "room": "lobby", "name": "Cap"})
        c.wait(lambda m: m["type"] == "joined", what="joined")
        c.send({"type": "offer", "sdp": sdp})
        a = c.wait(lambda m: m["type"] in ("answer", "error"), what="answer")
        check(a["type"] == "answer", "answer: %s" % a)
        time.sleep(2)         # a full token bucket (20/s, bursts of 40)
        for i in range(64):
            c.send({"type": "candidate",
                    "candidate": "candidate:%d 1 udp 1 127.0.0.1 %d typ host" % (i, 9200 + i)})
            if i >= 30 and i % 10 == 9:
                time.sleep(0.6)    # stay under the message rate
        c.send({"type": "ping"})
        errs = []
        while True:
            m = c.recv()
            if m["type"] == "pong":
                break
            if m["type"] == "error":
                errs.append(m)
        check(len(errs) == 1 and errs[0]["message"] == "too many candidates",
              "63 trickled candidates taken after the offer's one: %s" % errs)


def test_pin_room_and_denied_alike():
    with Bridge(dict(CONF, rooms={"on_demand": False})) as br:
        c = client(br)
        c.send({"type": "join", "room": "secret", "name": "x"})
        no_pin = expect_error(c, "denied", "join")
        c.send({"type": "join", "room": "secret", "name": "x", "pin": "1"})
        bad_pin = expect_error(c, "denied", "join")
        c.send({"type": "join", "room": "nosuchroom", "name": "x"})
        no_room = expect_error(c, "denied", "join")
        check(no_pin["message"] == bad_pin["message"] == no_room["message"],
              "denials differ: %s %s %s" % (no_pin, bad_pin, no_room))
        c.send({"type": "join", "room": "secret", "name": "x", "pin": "4242"})
        check(c.recv()["type"] == "joined", "PIN refused")


def test_limits():
    with Bridge(CONF) as br:
        c = client(br)
        c.send({"type": "chat", "text": "x" * 5000})      # over max_message_bytes (4096)
        expect_error(c, "too_big")
        alive(c)
        for _ in range(80):                               # 20/s, bursts of 40
            c.send({"type": "ping"})
        got = [c.recv() for _ in range(80)]
        codes = [m.get("code") for m in got if m["type"] == "error"]
        check(codes and set(codes) == {"rate_limited"}, "flood answered %s" % got[-3:])
        check(sum(m["type"] == "pong" for m in got) >= 30, "too few served")
        # connections per address (6): the 7th is refused
        extra = [client(br) for _ in range(5)]
        try:
            WsClient(br.http_port).recv(2)
            check(False, "7th connection was served")
        except (Closed, TimeoutError, ConnectionError):
            pass
        for e in extra:
            e.close()
        time.sleep(1.0)   # the bucket refills: the flooder is served again
        alive(c)


def test_roster_and_chat_between_clients():
    with Bridge(CONF) as br:
        gw = br.testgw()
        bot = gw.join("r1", "bot", caps=["text"])
        a, b = client(br), client(br)
        a.send({"type": "join", "room": "r1", "name": "Ann"})
        ja = a.recv()
        b.send({"type": "join", "room": "r1", "name": "Ann"})
        jb = b.recv()
        check(jb["name"] == "Ann (2)", "unique names: %s" % jb["name"])
        ev = a.wait(lambda m: m["type"] == "roster" and m["event"] == "joined",
                    what="roster joined")
        check(ev["who"]["id"] == jb["id"] and ev["who"]["network"] == "web", "%s" % ev)
        b.send({"type": "mute", "muted": True})
        ev = a.wait(lambda m: m["type"] == "roster" and m["event"] == "state",
                    what="mute event")
        check(ev["who"]["muted"] and ev["who"]["id"] == jb["id"], "%s" % ev)
        a.send({"type": "chat", "text": "héllo"})
        m = b.wait(lambda m: m["type"] == "chat", what="chat")
        check(m["text"] == "héllo" and m["from"]["name"] == "Ann", "%s" % m)
        t = gw.wait_event(lambda e: e["ev"] == "text", what="text at the test gateway")
        check(t["text"] == "héllo" and t["from"]["network"] == "web", "%s" % t)
        gw.say(bot, "from the bot", action=True)
        for c in (a, b):
            m = c.wait(lambda m: m["type"] == "chat" and m["from"]["name"] == "bot",
                       what="bot line")
            check(m["text"] == "from the bot" and m["action"], "%s" % m)
        # kicked from elsewhere: the browser is told, and its participant is gone
        gw.cmd(cmd="kick", room="r1", who=jb["id"])
        m = b.wait(lambda m: m["type"] == "bye", what="bye")
        ev = a.wait(lambda m: m["type"] == "roster" and m["event"] == "left", what="left")
        check(ev["who"]["id"] == jb["id"], "%s" % ev)
        b.close()   # closing without leave ends the participant too
        a.close()
        gw.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "left" and
                      e["who"]["id"] == ja["id"], what="Ann left after close")


class TlsBridge(Bridge):
    """The bridge with [http] tls_cert: health checks over HTTPS."""

    def http(self, method, path, body=None, headers=None, timeout=5):
        conn = http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=timeout,
                                           context=ssl._create_unverified_context())
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        if "json" in resp.getheader("Content-Type", ""):
            return resp.status, json.loads(raw.decode() or "null")
        return resp.status, raw


def test_wss_when_a_certificate_is_configured():
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        conf = dict(CONF, http={"tls_cert": cert, "tls_key": key})
        with TlsBridge(conf) as br:
            st, page = br.http("GET", "/someroom")
            check(st == 200 and b"app.js" in page, "client page over HTTPS: %s" % st)
            c = WsClient(br.http_port, tls=ssl._create_unverified_context())
            check(c.recv()["type"] == "hello", "no hello over wss")
            c.send({"type": "join", "room": "tls", "name": "t"})
            check(c.recv()["type"] == "joined", "join over wss")
            c.close()
            try:   # plain ws:// to the TLS port gets nothing
                WsClient(br.http_port).recv(2)
                check(False, "plain WebSocket served on the TLS port")
            except (Closed, TimeoutError, ConnectionError, OSError):
                pass


def test_ice_servers_in_joined():
    """[webrtc] ice_servers reach the page in `joined`: STUN without credentials, TURN with
    REST-API ones (coturn's use-auth-secret: "<expiry>:<user>", base64 HMAC-SHA1 of the
    secret), made at the join; the secret itself is never logged."""
    secret = "hush-%d" % os.getpid()
    conf = dict(CONF, webrtc=dict(CONF["webrtc"], ice_servers=(
        "stun:stun.example.org:3478, turn:192.0.2.7:3478?transport=udp, "
        "turns:turn.example.org:443?transport=tcp"), turn_secret=secret, turn_user="web",
        turn_ttl=600))
    with Bridge(conf, log_level="debug") as br:
        c = client(br)
        c.send({"type": "join", "room": "r1", "name": "ann"})
        j = c.recv()
        check(j["type"] == "joined", "joined: %s" % j)
        servers = j["ice_servers"]
        check(len(servers) == 2 and servers[0] == {"urls": ["stun:stun.example.org:3478"]},
              "ice_servers: %s" % servers)
        t = servers[1]
        check(t["urls"] == ["turn:192.0.2.7:3478?transport=udp",
                            "turns:turn.example.org:443?transport=tcp"], "turn: %s" % t)
        expiry, _, user = t["username"].partition(":")
        check(user == "web" and abs(int(expiry) - (time.time() + 600)) < 60,
              "username %r is not <now + 600>:web" % t["username"])
        want = base64.b64encode(hmac.new(secret.encode(), t["username"].encode(),
                                         hashlib.sha1).digest()).decode()
        check(t["credential"] == want, "credential %r, want %r" % (t["credential"], want))
        c.close()
        log = br.read_log()
    check(secret not in log, "turn_secret in the log")
    with Bridge(CONF) as br:   # none configured: an empty list
        c = client(br)
        c.send({"type": "join", "room": "r1", "name": "ann"})
        j = c.recv()
        check(j["type"] == "joined" and j["ice_servers"] == [], "joined: %s" % j)
        c.close()


def turn_of(br):
    """A new join's TURN entry in `joined` (its STUN entry, if any, is left out), in a room
    of its own: the live call's page hears nothing of it."""
    c = client(br)
    c.send({"type": "join", "room": "r2", "name": "late"})
    j = c.recv()
    check(j["type"] == "joined", "joined: %s" % j)
    c.close()
    turn = [s for s in j["ice_servers"] if "username" in s]
    return turn[0] if turn else None


def credential_of(secret, username):
    """coturn's use-auth-secret check: base64(HMAC-SHA1(secret, username))."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()


def test_turn_secret_reloads():
    """SIGHUP applies new [webrtc] turn_secret, turn_ttl and ice_servers to joins after it,
    while a call that joined before keeps what it got; a reload whose values are refused
    (a TURN URL with no secret) says so in the log and keeps the values before it."""
    old, new = "old-%d" % os.getpid(), "new-%d" % os.getpid()
    conf = dict(CONF, webrtc=dict(CONF["webrtc"], ice_servers="turn:192.0.2.7:3478",
                                  turn_secret=old, turn_user="web", turn_ttl=600))
    with Bridge(conf) as br:
        live = client(br)
        live.send({"type": "join", "room": "r1", "name": "early"})
        j = live.recv()
        check(j["type"] == "joined", "joined: %s" % j)
        t0 = j["ice_servers"][0]
        check(t0["credential"] == credential_of(old, t0["username"]), "the old secret")

        def reload(text, what):
            before = br.read_log().count("configuration reloaded")
            with open(br.config_path) as f:
                body = f.read()
            for k, v in text.items():
                body = "\n".join(("%s = %s" % (k, v)) if l.split("=")[0].strip() == k else l
                                  for l in body.split("\n"))
            with open(br.config_path, "w") as f:
                f.write(body)
            br.signal(signal.SIGHUP)
            deadline = time.time() + 20
            while br.read_log().count("configuration reloaded") == before:
                check(time.time() < deadline, "no reload after SIGHUP (%s)" % what)
                time.sleep(0.05)

        reload({"turn_secret": new, "turn_ttl": 1200,
                "ice_servers": "stun:192.0.2.8:3478, turn:192.0.2.9:3478"}, "new secret")
        t1 = turn_of(br)
        check(t1 and t1["urls"] == ["turn:192.0.2.9:3478"], "new TURN URLs: %s" % t1)
        check(t1["credential"] == credential_of(new, t1["username"]),
              "a join after the reload: its credential is not the new secret's")
        check(t1["credential"] != credential_of(old, t1["username"]), "still the old secret")
        expiry, _, user = t1["username"].partition(":")
        check(user == "web" and abs(int(expiry) - (time.time() + 1200)) < 60,
              "username %r is not <now + 1200>:web (the new turn_ttl)" % t1["username"])
        alive(live)   # the call that joined before goes on

        # refused: turn: URLs without a secret; the values before it stay
        reload({"turn_secret": "", "ice_servers": "turn:192.0.2.10:3478"}, "bad values")
        log = br.read_log()
        check("ice_servers, turn_secret and turn_ttl keep their old values" in log and
              "turn: and turns: URLs need" in log, "the refusal is not logged")
        t2 = turn_of(br)
        check(t2 and t2["urls"] == ["turn:192.0.2.9:3478"] and
              t2["credential"] == credential_of(new, t2["username"]),
              "after a refused reload: %s" % t2)
        alive(live)
        live.close()
        log = br.read_log()
    check(old not in log and new not in log, "a turn_secret in the log")


def test_ice_servers_refused_at_load():
    """A malformed URL, or TURN without a secret: FILE:LINE errors from --check-config and
    at start (the bridge does not run), naming every problem."""
    tutti = os.path.join(BUILD_DIR, "tutti")
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("[webrtc]\n# a comment line\n"
                    "ice_servers = stun:ok.example.org, turn://x.example.org, turn:h:99999\n")
        out = subprocess.run([tutti, "--check-config", bad], capture_output=True, text=True)
        text = out.stdout + out.stderr
        check(out.returncode == 1, "check-config exit %d: %s" % (out.returncode, text))
        for want in (bad + ':3: [webrtc] ice_servers: no "//"', '"turn://x.example.org"',
                     bad + ":3: [webrtc] ice_servers: the port", '"turn:h:99999"',
                     bad + ":3: [webrtc] ice_servers: turn: and turns: URLs need"):
            check(want in text, "%r not in:\n%s" % (want, text))
    br = Bridge({"webrtc": {"ice_servers": "stun:a.example.org:0"}})
    try:
        br.start()
        check(False, "the bridge started with a bad ice_servers")
    except BridgeError as e:
        check("[webrtc] ice_servers: the port is not a number" in str(e), "log: %s" % e)
    finally:
        br.stop()


if __name__ == "__main__":
    run([test_ice_servers_in_joined, test_turn_secret_reloads, test_ice_servers_refused_at_load, test_malformed_and_wrong_state, test_offer_candidates_count_only_when_taken,
         test_pin_room_and_denied_alike, test_limits, test_roster_and_chat_between_clients,
         test_wss_when_a_certificate_is_configured])
