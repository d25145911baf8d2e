"""Plain RTP participants through the real daemon: N-1 audio with Opus, G.711 and SRTP, the
admin API's validation and authorisation, participant statistics, RTP bleed, and the
worker's shared media port."""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import BUILD_DIR, Bridge, check, free_port, run  # noqa: E402

PEER = os.path.join(BUILD_DIR, "tt_rtppeer")
TONES = (450, 750, 1050)
MARGIN_DB = 20.0   # every other talker at least this much louder than one's own tone


def media_sections():
    lo = free_port(socket.SOCK_DGRAM)
    lo = max(1024, lo - (lo % 2))
    return {"media": {"port_min": lo, "port_max": min(65535, lo + 200), "inactivity_s": 5}}


def peers(br, specs, room="e2e", seconds=4):
    url = "http://127.0.0.1:%d" % br.http_port
    procs = []
    for name, codec, tone, extra in specs:
        cmd = [PEER, "--url", url, "--room", room, "--name", name, "--codec", codec,
               "--tone", str(tone), "--listen", ",".join(str(t) for t in TONES),
               "--seconds", str(seconds)] + extra
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    out = []
    for p in procs:
        so, se = p.communicate(timeout=seconds + 20)
        check(p.returncode == 0, "tt_rtppeer failed: %s" % se)
        out.append(json.loads(so))
    return out


def test_n_minus_one_opus_pcmu_srtp():
    n_minus_one(media_sections())


def test_n_minus_one_a_port_each():
    """The same through a UDP port per participant instead of the worker's shared one."""
    sec = media_sections()
    sec["media"]["shared_port"] = "false"
    n_minus_one(sec)


def n_minus_one(sections):
    with Bridge(sections) as br:
        gw = br.testgw()
        check(gw.cmd(cmd="watch", room="e2e")["ok"], "watch")
        res = peers(br, [("alice", "opus", 450, []), ("bob", "pcmu", 750, []),
                         ("carol", "opus", 1050, ["--srtp"])])
        # the mixer's voice activity reached the roster of another gateway
        talking = {e["who"]["name"] for e in gw.drain(0.2)
                   if e["ev"] == "roster" and e["type"] == "state" and e["who"]["talking"]}
        check(talking == {"alice", "bob", "carol"}, "talking events for %s" % talking)
        for r, own in zip(res, TONES):
            tones = {int(k): v for k, v in r["tones_db"].items()}
            others = [tones[t] for t in TONES if t != own]
            check(r["frames"] > 100, "%s decoded only %d frames" % (r["codec"], r["frames"]))
            check(r["srtp_failures"] == 0, "SRTP failures: %s" % r)
            check(min(others) - tones[own] >= MARGIN_DB,
                  "%s (%d Hz) hears itself or misses a talker: %s" % (r["id"], own, tones))
            check(min(others) > -40, "a talker is too quiet for %s: %s" % (r["id"], tones))


def test_admin_api_validation_and_stats():
    with Bridge(media_sections()) as br:
        s, body = br.http("PUT", "/api/rooms/conf", {"rate": 16000, "speakers": 2})
        check(s == 201 and body["rate"] == 16000 and body["speakers"] == 2, "PUT: %s %s" % (s, body))
        s, body = br.http("PUT", "/api/rooms/conf", {"rate": 44100})
        check(s == 400 and body["field"] == "rate", "bad rate: %s" % body)
        s, body = br.http("PUT", "/api/rooms/conf", {"colour": "red"})
        check(s == 400 and body["field"] == "colour", "unknown key: %s" % body)
        s, body = br.http("PUT", "/api/rooms/conf", "{not json")
        check(s == 400, "bad JSON: %s" % s)
        s, body = br.http("PUT", "/api/rooms/conf", {"speakers": 4})
        check(s == 200 and body["rate"] == 16000 and body["speakers"] == 4, "update: %s" % body)
        # a listener socket stands in for the far end
        far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        far.bind(("127.0.0.1", 0))
        far.settimeout(3)
        remote = "127.0.0.1:%d" % far.getsockname()[1]
        good = {"name": "pbx", "transport": "rtp", "remote": remote, "codec": "pcma"}
        bad = [
            ({"remote": remote}, "codec"),
            (dict(good, codec="gsm"), "codec"),
            (dict(good, remote="nowhere"), "remote"),
            (dict(good, pt=200), "pt"),
            (dict(good, ptime=30), "ptime"),
            (dict(good, audio_level_ext_id=15), "audio_level_ext_id"),
            (dict(good, transport="carrier-pigeon"), "transport"),
            (dict(good, srtp={"suite": "ROT13", "key": "x"}), "srtp.suite"),
            (dict(good, srtp={"suite": "AES_CM_128_HMAC_SHA1_80", "key": "c2hvcnQ="}), "srtp.key"),
            (dict(good, extra=1), "extra"),
        ]
        for req, field in bad:
            s, body = br.http("POST", "/api/rooms/conf/participants", req)
            check(s == 400 and body.get("field") == field,
                  "%s: want 400 naming %s, got %s %s" % (req, field, s, body))
        s, body = br.http("GET", "/api/rooms/conf")
        check(body["participants"] == [], "bad requests changed the room: %s" % body)
        s, body = br.http("POST", "/api/rooms/conf/participants", good)
        check(s == 201 and body["local"].startswith("127.0.0.1:"), "POST: %s %s" % (s, body))
        pid = body["id"]
        # it hears the room (comfort: silence still arrives as PCMA packets)
        data, _ = far.recvfrom(2048)
        check(len(data) >= 12 and data[1] & 0x7f == 8, "no PCMA from the bridge")
        lhost, lport = body["local"].rsplit(":", 1)
        rtp = struct.pack("!BBHII", 0x80, 8, 1, 160, 0x55) + b"\xd5" * 160
        for i in range(60):
            far.sendto(rtp[:2] + struct.pack("!H", i + 1) + struct.pack("!I", 160 * (i + 1)) +
                       rtp[8:], (lhost, int(lport)))
            time.sleep(0.005)
        # a stranger sends to the same port: dropped and counted (RTP bleed)
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(5):
            stranger.sendto(rtp, (lhost, int(lport)))
        time.sleep(1.6)  # statistics travel from the worker about once a second
        s, p = br.http("GET", "/api/rooms/conf/participants/" + pid)
        check(s == 200 and p["network"] == "rtp", "GET participant: %s %s" % (s, p))
        m = p.get("media")
        check(m and m["codec"] == "pcma" and m["packets_in"] >= 50, "media stats: %s" % p)
        check(m["foreign_dropped"] >= 5, "bleed not counted: %s" % m)
        check(m["packets_out"] > 20, "nothing sent: %s" % m)
        # the room's mixer statistics travel with the legs'; the rtp gateway counts its own
        s, room = br.http("GET", "/api/rooms/conf")
        mix = room.get("mixer", {})
        check(mix.get("inputs") == 1 and mix.get("decodes", 0) > 0 and
              mix.get("encodes_shared", 0) > 0, "mixer stats: %s" % room)
        s, gws = br.http("GET", "/api/gateways")
        rtp_gw = [g for g in gws.get("gateways", []) if g["name"] == "rtp"]
        check(s == 200 and rtp_gw and rtp_gw[0]["stats"]["participants"] == 1 and
              rtp_gw[0]["stats"]["joined"] == 1, "gateway stats: %s %s" % (s, gws))
        s, p = br.http("PATCH", "/api/rooms/conf/participants/" + pid, {"muted": True})
        check(s == 200 and p["muted"], "PATCH: %s" % p)
        s, _ = br.http("GET", "/api/rooms/conf/participants/nope")
        check(s == 404, "missing participant: %s" % s)
        s, body = br.http("DELETE", "/api/rooms/conf/participants/" + pid)
        check(s == 200, "DELETE participant: %s" % s)
        s, body = br.http("GET", "/api/rooms/conf")
        check(body["participants"] == [], "still there: %s" % body)
        s, body = br.http("DELETE", "/api/rooms/conf")
        check(s == 200, "DELETE room: %s" % s)
        s, _ = br.http("GET", "/api/rooms/conf")
        check(s == 404, "room still there after DELETE")
        far.close()
        stranger.close()


def test_admin_token_and_inactivity():
    sec = media_sections()
    sec["media"]["inactivity_s"] = 1
    sec["http"] = {"admin_token": "s3cret"}
    with Bridge(sec) as br:
        far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        far.bind(("127.0.0.1", 0))
        req = {"remote": "127.0.0.1:%d" % far.getsockname()[1], "codec": "pcmu"}
        s, body = br.http("POST", "/api/rooms/r/participants", req)
        check(s == 401, "no token: %s %s" % (s, body))
        s, body = br.http("POST", "/api/rooms/r/participants", req,
                          headers={"Authorization": "Bearer wrong"})
        check(s == 401, "wrong token: %s" % s)
        s, body = br.http("POST", "/api/rooms/r/participants", req,
                          headers={"Authorization": "Bearer s3cret"})
        check(s == 201, "right token: %s %s" % (s, body))
        s, _ = br.http("GET", "/api/rooms/r")
        check(s == 200, "reading needs no token")
        # it never sends anything: after the inactivity timeout it is gone
        deadline = time.time() + 6
        while time.time() < deadline:
            s, room = br.http("GET", "/api/rooms/r")
            if s == 404 or room["participants"] == []:
                break
            time.sleep(0.2)
        check(s == 404 or room["participants"] == [], "silent participant not ended")
        check("media timeout" in br.read_log(), "no reason logged")
        far.close()



def test_shared_port():
    """Fixed-remote participants share their worker's port; a latching one or a second one
    with the same remote gets its own; a stranger on the shared port is counted, and blamed
    on the stream whose SSRC it carries."""
    with Bridge(media_sections()) as br:
        fars = []
        for _ in range(3):
            f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            f.bind(("127.0.0.1", 0))
            f.settimeout(3)
            fars.append(f)
        remote = ["127.0.0.1:%d" % f.getsockname()[1] for f in fars]
        ids, locals_ = [], []
        for i, extra in enumerate([{}, {}, {"latch": True}]):
            s, body = br.http("POST", "/api/rooms/conf/participants",
                              dict({"name": "p%d" % i, "transport": "rtp", "remote": remote[i],
                                    "codec": "pcmu"}, **extra))
            check(s == 201, "POST %d: %s %s" % (i, s, body))
            ids.append(body["id"])
            locals_.append(body["local"])
        s, body = br.http("POST", "/api/rooms/conf/participants",
                          {"name": "twin", "transport": "rtp", "remote": remote[0],
                           "codec": "pcmu"})
        check(s == 201, "POST twin: %s %s" % (s, body))
        check(locals_[0] == locals_[1], "fixed remotes do not share: %s" % locals_)
        check(locals_[2] != locals_[0], "a latching participant shares: %s" % locals_)
        check(body["local"] != locals_[0], "two with one remote share: %s" % body["local"])
        # each far end hears the room from the port it was told
        for f, loc in zip(fars[1:], locals_[1:]):
            data, frm = f.recvfrom(2048)
            check("127.0.0.1:%d" % frm[1] == loc, "sent from %s, told %s" % (frm, loc))
        # the first far end hosts two participants: it hears both, each from its own port
        srcs = {"127.0.0.1:%d" % fars[0].recvfrom(2048)[1][1] for _ in range(12)}
        check(srcs == {locals_[0], body["local"]}, "p0 and twin from %s" % srcs)
        lhost, lport = locals_[0].rsplit(":", 1)
        rtp = struct.pack("!BBHII", 0x80, 0, 1, 160, 0x77) + b"\xff" * 160
        for i in range(20):
            fars[1].sendto(rtp[:2] + struct.pack("!H", i + 1) + rtp[4:], (lhost, int(lport)))
            time.sleep(0.005)
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(7):
            stranger.sendto(rtp, (lhost, int(lport)))          # p1's SSRC
        stranger.sendto(rtp[:8] + b"\x00\x00\x00\x09" + rtp[12:], (lhost, int(lport)))
        time.sleep(1.6)
        s, p1 = br.http("GET", "/api/rooms/conf/participants/" + ids[1])
        check(p1["media"]["packets_in"] >= 18, "p1 not heard: %s" % p1["media"])
        check(p1["media"]["foreign_dropped"] == 7, "injection not blamed: %s" % p1["media"])
        s, p0 = br.http("GET", "/api/rooms/conf/participants/" + ids[0])
        check(p0["media"]["packets_in"] == 0 and p0["media"]["foreign_dropped"] == 0,
              "p0 got p1's packets: %s" % p0["media"])
        s, h = br.http("GET", "/api/health")
        sp = h["workers"][0].get("shared_port") if len(h["workers"]) == 1 else \
            next(w["shared_port"] for w in h["workers"] if "shared_port" in w)
        check(sp and sp["local"] == locals_[0] and sp["members"] == 2 and
              sp["foreign_dropped"] == 8, "health: %s" % h["workers"])
        for f in fars:
            f.close()
        stranger.close()


if __name__ == "__main__":
    run([test_n_minus_one_opus_pcmu_srtp, test_n_minus_one_a_port_each,
         test_admin_api_validation_and_stats, test_admin_token_and_inactivity,
         test_shared_port])
