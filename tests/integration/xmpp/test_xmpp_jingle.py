"""Jingle calls into a room through a real Prosody: a caller made of slixmpp (XMPP, JMI and
Jingle XML by hand) and python3-aiortc (ICE + DTLS-SRTP), jingle_caller.py, rings
standup@call.localhost. It hears a plain-RTP participant's tone and a browser's (an aiortc
peer over /ws), and both of them hear the caller's, never anyone their own; also a call without JMI, one retracted before proceed, a
caller that hangs up, one the bridge hangs up, a wrong fingerprint refused, a call from an
MUC occupant that joins its audio, and the disco/caps a client needs for a call button.
Exits 77 (skipped) without prosody, slixmpp or aiortc."""
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import xmppenv  # noqa: E402
from ttlib import BUILD_DIR, check, free_port, run, wait_for  # noqa: E402

PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
CALLER = os.path.join(HERE, "jingle_caller.py")
RTPPEER = os.path.join(BUILD_DIR, "tt_rtppeer")
ROOM = "standup"
CALLER_TONE, PHONE_TONE, WEB_TONE = 750, 450, 600
PEER = os.path.join(HERE, "..", "webrtc", "peer.py")
MARGIN_DB = 20.0


def require_aiortc():
    if subprocess.run([PY, "-c", "import aiortc, slixmpp"], stderr=subprocess.DEVNULL).returncode:
        print("SKIP: python3-aiortc (with slixmpp) is not installed for %s" % PY)
        sys.exit(77)


def sections():
    lo = free_port(socket.SOCK_DGRAM)
    lo = max(1024, lo - (lo % 2))
    return {"media": {"port_min": lo, "port_max": min(65535, lo + 200)},
            "webrtc": {"allow_loopback": True}}


def start_caller(px, user="alice", *args, seconds=12):
    cmd = [PY, CALLER, "--port", str(px.c2s_port), "--jid", "%s@%s/call" % (user, xmppenv.HOST),
           "--password", xmppenv.password(user), "--room", "%s@%s" % (ROOM, px.call_domain),
           "--tone", str(CALLER_TONE),
           "--listen", "%d,%d,%d" % (PHONE_TONE, WEB_TONE, CALLER_TONE),
           "--seconds", str(seconds)] + list(args)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    evs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    done = [e for e in evs if e["ev"] == "done"]
    check(done, "jingle_caller.py gave no result:\n%s\n%s" % (out[-1500:], err[-3000:]))
    return evs, done[0]


def parts(br, network=None):
    st, body = br.http("GET", "/api/rooms/" + ROOM)
    if st != 200:
        return []
    return [p for p in body["participants"] if network is None or p["network"] == network]


def phone(br, seconds):
    return subprocess.Popen([RTPPEER, "--url", "http://127.0.0.1:%d" % br.http_port, "--room",
                             ROOM, "--name", "phone", "--codec", "pcmu", "--tone",
                             str(PHONE_TONE), "--listen",
                             "%d,%d,%d" % (PHONE_TONE, WEB_TONE, CALLER_TONE),
                             "--seconds", str(seconds)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def browser(br, seconds):
    return subprocess.Popen([PY, PEER, "--port", str(br.http_port), "--room", ROOM,
                             "--tone", str(WEB_TONE), "--seconds", str(seconds), "--listen",
                             "%d,%d,%d" % (PHONE_TONE, WEB_TONE, CALLER_TONE)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_jmi_call_audio_both_ways_then_caller_hangs_up():
    with xmppenv.Prosody() as px, px.bridge(sections()) as br:
        xmppenv.wait_linked(br)
        ph = phone(br, 18)
        web = browser(br, 18)
        wait_for(lambda: parts(br, "rtp") and parts(br, "web"), 20,
                 "the phone and the browser in the room")
        c = start_caller(px, "alice", "--jmi", "--hangup-after", "7", seconds=40)
        evs, res = finish(c)
        so, se = ph.communicate(timeout=40)
        check(ph.returncode == 0, "tt_rtppeer: %s" % se)
        pr = json.loads(so)
        wo, we = web.communicate(timeout=60)
        wdone = [json.loads(ln) for ln in wo.splitlines() if '"done"' in ln]
        check(wdone and wdone[0]["peers"][0]["connected"],
              "the browser peer never connected:\n%s\n%s" % (wo[-1500:], we[-2000:]))
        tw = {int(float(k)): v for k, v in wdone[0]["peers"][0]["tones_db"].items()}
        check(any(e["ev"] == "proceed" for e in evs), "no JMI proceed: %s" % evs)
        acc = res["accepted"]
        check(acc and acc["setup"] in ("active", "passive") and acc["rtcp_mux"] and
              acc["codec"].lower() == "opus" and acc["content"] == "0" and
              acc["creator"] == "initiator" and acc["bundle"], "session-accept: %s" % acc)
        check(res["connected"], "the call's media never came up: %s" % res)
        check(res["frames"] > 150, "the caller decoded only %d frames" % res["frames"])
        t = {int(k): v for k, v in res["tones_db"].items()}
        check(min(t[PHONE_TONE], t[WEB_TONE]) - t[CALLER_TONE] >= MARGIN_DB and
              min(t[PHONE_TONE], t[WEB_TONE]) > -40,
              "the caller should hear the phone and the browser, not itself: %s" % t)
        tp = {int(k): v for k, v in pr["tones_db"].items()}
        check(tp[CALLER_TONE] - tp[PHONE_TONE] >= MARGIN_DB and tp[CALLER_TONE] > -40,
              "the phone should hear the caller, not itself: %s" % tp)
        check(tw[CALLER_TONE] - tw[WEB_TONE] >= MARGIN_DB and tw[CALLER_TONE] > -40,
              "the browser should hear the caller, not itself: %s" % tw)
        check(any(e["ev"] == "hung_up" for e in evs), "the caller did not hang up: %s" % evs)
        wait_for(lambda: not parts(br, "xmpp"), 10, "the caller gone from the room")
        print("caller hears %s, phone hears %s, browser hears %s" % (t, tp, tw))


def test_call_without_jmi_hung_up_by_the_bridge():
    with xmppenv.Prosody() as px, px.bridge(sections()) as br:
        xmppenv.wait_linked(br)
        c = start_caller(px, "bob", seconds=60)
        wait_for(lambda: parts(br, "xmpp"), 30, "the caller in the room")
        p = parts(br, "xmpp")[0]
        check(p["name"] == "bob" and p["caps"] == ["audio"], "the caller: %s" % p)
        time.sleep(2)
        st, _ = br.http("DELETE", "/api/rooms/%s/participants/%s" % (ROOM, p["id"]))
        check(st in (200, 204), "kick: %s" % st)
        evs, res = finish(c)
        check(res["terminated"] == "success", "the bridge's terminate: %s" % evs)
        check(not parts(br, "xmpp"), "still in the room")


def test_retracted_before_proceed():
    with xmppenv.Prosody() as px, px.bridge(sections()) as br:
        xmppenv.wait_linked(br)
        _, res = finish(start_caller(px, "carol", "--retract"))
        check(res.get("after_retract") == "item-not-found",
              "the retracted proposal still exists: %s" % res)
        check(not parts(br), "somebody joined: %s" % parts(br))
        check("retract" in br.read_log(), "the log does not say it was retracted")


def test_wrong_fingerprint_refused():
    with xmppenv.Prosody() as px, px.bridge(sections()) as br:
        xmppenv.wait_linked(br)
        _, res = finish(start_caller(px, "dave", "--bad-fingerprint", seconds=60))
        check(res["terminated"] in ("connectivity-error", "security-error",
                                    "failed-transport"), "not ended by tutti: %s" % res)
        check(res["frames"] == 0, "media flowed with a wrong fingerprint: %s" % res)
        wait_for(lambda: not parts(br, "xmpp"), 10, "the caller gone from the room")
        check("DTLS" in br.read_log(), "the log does not say why")


def test_call_from_occupant_joins_its_audio():
    with xmppenv.Prosody() as px, px.bridge(sections()) as br:
        xmppenv.wait_linked(br)
        with px.client("bob") as bob:
            if bob.disco_info(px.muc_domain).type != "result":
                print("SKIP part: no MUC service to join yet (muc.c is a placeholder)")
                return
        muc = "%s@%s/alice" % (ROOM, px.muc_domain)
        c = start_caller(px, "alice", "--join-muc", muc, "--hangup-after", "3",
                         "--linger", "60", seconds=40)
        wait_for(lambda: [p for p in parts(br) if "audio" in p["caps"]], 40,
                 "the occupant's audio")
        occ = parts(br)
        check(len(occ) == 1 and set(occ[0]["caps"]) == {"audio", "text"},
              "one participant with text and audio: %s" % occ)
        # the caller hangs up and stays in the MUC: the occupant stays, without audio
        for line in c.stdout:
            if '"hung_up"' in line:
                break
        wait_for(lambda: parts(br) and parts(br)[0]["caps"] == ["text"], 20,
                 "the occupant without audio after the call")
        check(len(parts(br)) == 1 and parts(br)[0]["id"] == occ[0]["id"],
              "the same one participant: %s" % parts(br))
        c.kill()
        c.communicate(timeout=30)


def test_disco_and_caps():
    with xmppenv.Prosody() as px, px.bridge() as br:
        xmppenv.wait_linked(br)
        with px.client("alice") as alice:
            r = alice.disco_info("%s@%s/tutti" % (ROOM, px.call_domain))
            feats = {f.get("var") for f in r.findall(
                "{http://jabber.org/protocol/disco#info}query/"
                "{http://jabber.org/protocol/disco#info}feature")}
            for need in ("urn:xmpp:jingle:1", "urn:xmpp:jingle:apps:rtp:1",
                         "urn:xmpp:jingle:apps:rtp:audio",
                         "urn:xmpp:jingle:transports:ice-udp:1", "urn:xmpp:jingle:apps:dtls:0",
                         "urn:xmpp:jingle-message:0"):
                check(need in feats, "%s missing from %s" % (need, feats))
            alice.send_presence("%s@%s" % (ROOM, px.call_domain), ptype="subscribe")
            st = alice.wait_for(lambda s: s.name == "presence" and s.type is None and
                                (s.from_ or "").endswith("/tutti"), what="caps presence")
            c = st.find("{http://jabber.org/protocol/caps}c")
            check(c is not None and c.get("hash") == "sha-1" and len(c.get("ver")) == 28,
                  "caps: %s" % st)


if __name__ == "__main__":
    xmppenv.require()
    require_aiortc()
    run([test_disco_and_caps, test_jmi_call_audio_both_ways_then_caller_hangs_up,
         test_call_without_jmi_hung_up_by_the_bridge, test_retracted_before_proceed,
         test_wrong_fingerprint_refused, test_call_from_occupant_joins_its_audio])
