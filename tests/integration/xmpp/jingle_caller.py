"""An XMPP caller without a real client: slixmpp for the XMPP side (JMI and Jingle XML built
by hand: slixmpp has no Jingle plugin) and python3-aiortc for the media (ICE + DTLS-SRTP),
translating between aiortc's SDP and Jingle. Run with Debian's /usr/bin/python3.

  jingle_caller.py --port C2S --jid user@host/res --password PW --room ROOM@CALLDOMAIN
                   [--jmi] [--tone HZ] [--listen HZ,HZ] [--seconds S] [--hangup-after S]
                   [--bad-fingerprint] [--retract] [--join-muc ROOM@MUC/NICK]
                   [--silent-for S] [--listen-from S] [--linger S] [--amp A]

Prints JSON lines: {"ev":"accepted",...} when tutti's session-accept came, {"ev":
"connected"} when the media is up, {"ev":"terminated","reason":..} when tutti ended the
call, and at the end {"ev":"done","frames":..,"tones_db":{..},"terminated":..,...}."""
import argparse
import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import aioice.ice
import numpy
import slixmpp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

# The browser peers' tone source and tone meter (tests/integration/webrtc/peer.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "webrtc"))
from peer import Tone, tone_power, tones_db  # noqa: E402

# Loopback only (aioice skips it by default).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

NS_J = "urn:xmpp:jingle:1"
NS_RTP = "urn:xmpp:jingle:apps:rtp:1"
NS_HDR = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0"
NS_ICE = "urn:xmpp:jingle:transports:ice-udp:1"
NS_DTLS = "urn:xmpp:jingle:apps:dtls:0"
NS_GROUP = "urn:xmpp:jingle:apps:grouping:0"
NS_JMI = "urn:xmpp:jingle-message:0"
NS_MUC = "http://jabber.org/protocol/muc"


def emit(obj):
    print(json.dumps(obj), flush=True)


# ---- SDP <-> Jingle ----

def offer_to_jingle(sdp, sid, initiator, bad_fp):
    lines = sdp.replace("\r\n", "\n").split("\n")
    j = ET.Element("{%s}jingle" % NS_J, action="session-initiate", sid=sid,
                   initiator=initiator)
    mid = "0"
    pts, ext, cands = [], [], []
    ufrag = pwd = fp = setup = None
    bundle = None
    for ln in lines:
        if ln.startswith("a=mid:"):
            mid = ln[6:]
        elif ln.startswith("a=rtpmap:"):
            pt, rest = ln[9:].split(" ", 1)
            parts = rest.split("/")
            pts.append((pt, parts[0], parts[1], parts[2] if len(parts) > 2 else None))
        elif ln.startswith("a=extmap:"):
            i, uri = ln[9:].split(" ", 1)
            ext.append((i.split("/")[0], uri.split(" ")[0]))
        elif ln.startswith("a=ice-ufrag:"):
            ufrag = ln[12:]
        elif ln.startswith("a=ice-pwd:"):
            pwd = ln[10:]
        elif ln.startswith("a=fingerprint:"):
            fp = ln[14:].split(" ", 1)
        elif ln.startswith("a=setup:"):
            setup = ln[8:]
        elif ln.startswith("a=candidate:"):
            cands.append(ln[12:].split())
        elif ln.startswith("a=group:BUNDLE"):
            bundle = ln.split()[1:]
    c = ET.SubElement(j, "{%s}content" % NS_J, creator="initiator", name=mid, senders="both")
    d = ET.SubElement(c, "{%s}description" % NS_RTP, media="audio")
    for pt, name, clock, ch in pts:
        attrs = {"id": pt, "name": name, "clockrate": clock}
        if ch:
            attrs["channels"] = ch
        ET.SubElement(d, "{%s}payload-type" % NS_RTP, attrs)
    for i, uri in ext:
        ET.SubElement(d, "{%s}rtp-hdrext" % NS_HDR, id=i, uri=uri)
    ET.SubElement(d, "{%s}rtcp-mux" % NS_RTP)
    t = ET.SubElement(c, "{%s}transport" % NS_ICE, ufrag=ufrag, pwd=pwd)
    f = ET.SubElement(t, "{%s}fingerprint" % NS_DTLS, hash=fp[0], setup=setup or "actpass")
    f.text = ":".join(["5A"] * 32) if bad_fp else fp[1]
    for n, cd in enumerate(cands):
        attrs = {"foundation": cd[0], "component": cd[1], "protocol": cd[2].lower(),
                 "priority": cd[3], "ip": cd[4], "port": cd[5], "type": cd[7],
                 "generation": "0", "network": "0", "id": "c%d" % n}
        for k in range(8, len(cd) - 1, 2):
            if cd[k] == "raddr":
                attrs["rel-addr"] = cd[k + 1]
            elif cd[k] == "rport":
                attrs["rel-port"] = cd[k + 1]
        ET.SubElement(t, "{%s}candidate" % NS_ICE, attrs)
    if bundle:
        g = ET.SubElement(j, "{%s}group" % NS_GROUP, semantics="BUNDLE")
        for name in bundle:
            ET.SubElement(g, "{%s}content" % NS_GROUP, name=name)
    return j, mid


def accept_to_sdp(j):
    """tutti's session-accept as an SDP answer; also what the test checks of it."""
    c = j.find("{%s}content" % NS_J)
    d = c.find("{%s}description" % NS_RTP)
    t = c.find("{%s}transport" % NS_ICE)
    f = t.find("{%s}fingerprint" % NS_DTLS)
    pts = d.findall("{%s}payload-type" % NS_RTP)
    info = {"content": c.get("name"), "creator": c.get("creator"), "setup": f.get("setup"),
            "codec": pts[0].get("name"), "pt": int(pts[0].get("id")),
            "rtcp_mux": d.find("{%s}rtcp-mux" % NS_RTP) is not None,
            "bundle": j.find("{%s}group" % NS_GROUP) is not None}
    out = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0"]
    if info["bundle"]:
        out.append("a=group:BUNDLE " + c.get("name"))
    out += ["m=audio 9 UDP/TLS/RTP/SAVPF " + " ".join(p.get("id") for p in pts),
            "c=IN IP4 0.0.0.0", "a=sendrecv", "a=mid:" + c.get("name"), "a=rtcp-mux",
            "a=ice-ufrag:" + t.get("ufrag"), "a=ice-pwd:" + t.get("pwd"),
            "a=fingerprint:%s %s" % (f.get("hash"), f.text.strip()),
            "a=setup:" + f.get("setup")]
    for p in pts:
        ch = "/" + p.get("channels") if p.get("channels") else ""
        out.append("a=rtpmap:%s %s/%s%s" % (p.get("id"), p.get("name"), p.get("clockrate"), ch))
    return "\r\n".join(out) + "\r\n", info


def jingle_cand_to_sdp(e):
    s = "candidate:%s %s %s %s %s %s typ %s" % (
        e.get("foundation"), e.get("component"), e.get("protocol"), e.get("priority"),
        e.get("ip"), e.get("port"), e.get("type"))
    if e.get("rel-addr"):
        s += " raddr %s rport %s" % (e.get("rel-addr"), e.get("rel-port"))
    return s


# ---- the call ----

async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--room", required=True, help="ROOM@call_domain")
    ap.add_argument("--jmi", action="store_true")
    ap.add_argument("--tone", type=float, default=750)
    ap.add_argument("--listen", default="450,750")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--hangup-after", type=float, default=0)
    ap.add_argument("--bad-fingerprint", action="store_true")
    ap.add_argument("--retract", action="store_true")
    ap.add_argument("--join-muc", default=None)
    ap.add_argument("--amp", type=float, default=0.3, help="the tone's amplitude (of full scale)")
    ap.add_argument("--silent-for", type=float, default=0,
                    help="send digital silence for the first S seconds, then the tone")
    ap.add_argument("--listen-from", type=float, default=1.0,
                    help="measure what is heard from S seconds after the media is up")
    ap.add_argument("--linger", type=float, default=0,
                    help="seconds to stay online after the call (an occupant stays)")
    a = ap.parse_args()
    listen = [float(x) for x in a.listen.split(",") if x]
    res = {"ev": "done", "frames": 0, "tones_db": {}, "terminated": None, "accepted": None,
           "connected": False, "errors": []}
    power = {f: 0.0 for f in listen}

    x = slixmpp.ClientXMPP(a.jid, a.password)
    x["feature_mechanisms"].unencrypted_plain = True
    x.enable_starttls = False
    x.enable_direct_tls = False
    ready = asyncio.Event()
    inbox = asyncio.Queue()   # ("iq", stanza) and ("msg", stanza) from tutti

    async def on_start(_):
        x.send_presence()
        ready.set()
    x.add_event_handler("session_start", on_start)
    x.register_handler(Callback("jingle", MatchXPath("{jabber:client}iq/{%s}jingle" % NS_J),
                                lambda st: inbox.put_nowait(("iq", st))))
    x.register_handler(Callback("msg", MatchXPath("{jabber:client}message"),
                                lambda st: inbox.put_nowait(("msg", st))))
    x.connect(("127.0.0.1", a.port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(ready.wait(), 30)

    if a.join_muc:
        p = x.make_presence(pto=a.join_muc)
        p.append(ET.Element("{%s}x" % NS_MUC))
        p.send()
        await asyncio.sleep(1.0)

    sid = "call-%d" % os.getpid()
    target = a.room + "/tutti"

    async def next_of(kind, pred, timeout):
        deadline = asyncio.get_event_loop().time() + timeout
        kept = []
        try:
            while True:
                left = deadline - asyncio.get_event_loop().time()
                if left <= 0:
                    return None
                try:
                    k, st = await asyncio.wait_for(inbox.get(), left)
                except asyncio.TimeoutError:
                    return None
                if k == kind and pred(st):
                    return st
                kept.append((k, st))
        finally:
            for item in kept:
                inbox.put_nowait(item)

    if a.jmi or a.retract:
        m = x.make_message(mto=a.room, mtype="chat")
        pr = ET.Element("{%s}propose" % NS_JMI, id=sid)
        ET.SubElement(pr, "{%s}description" % NS_RTP, media="audio")
        m.append(pr)
        m.send()
        if a.retract:
            m = x.make_message(mto=a.room, mtype="chat")
            m.append(ET.Element("{%s}retract" % NS_JMI, id=sid))
            m.send()
            await asyncio.sleep(1.5)
            # the proposal is gone: a transport-info for it is an unknown session
            iq = x.make_iq_set(ito=target)
            j = ET.Element("{%s}jingle" % NS_J, action="transport-info", sid=sid)
            iq.append(j)
            try:
                await iq.send(timeout=10)
                res["after_retract"] = "result"
            except slixmpp.exceptions.IqError as e:
                res["after_retract"] = e.iq["error"]["condition"]
            emit(res)
            x.disconnect()
            os._exit(0)
        st = await next_of("msg", lambda s: s.xml.find("{%s}proceed" % NS_JMI) is not None, 20)
        if st is None:
            res["errors"].append("no proceed")
            emit(res)
            os._exit(0)
        target = str(st["from"])
        emit({"ev": "proceed", "from": target})

    pc = RTCPeerConnection()
    pc.addTrack(Tone(a.tone, a.silent_for, a.amp))
    t_connected = None

    @pc.on("track")
    def on_track(track):
        async def pull():
            while True:
                try:
                    fr = await track.recv()
                except Exception:  # noqa: BLE001 - the track ended
                    return
                if t_connected is None or \
                        asyncio.get_event_loop().time() - t_connected < a.listen_from:
                    continue   # the jitter buffers fill, the mix settles (or: idle time)
                arr = fr.to_ndarray().reshape(-1)
                ch = len(fr.layout.channels)
                mono = arr[::ch].astype(numpy.float64)
                for f in listen:
                    power[f] += tone_power(mono[:960], fr.sample_rate, f)
                res["frames"] += 1
        asyncio.ensure_future(pull())

    @pc.on("connectionstatechange")
    def on_state():
        nonlocal t_connected
        if pc.connectionState == "connected" and t_connected is None:
            t_connected = asyncio.get_event_loop().time()
            res["connected"] = True
            emit({"ev": "connected"})

    await pc.setLocalDescription(await pc.createOffer())
    j, mid = offer_to_jingle(pc.localDescription.sdp, sid, a.jid, a.bad_fingerprint)
    iq = x.make_iq_set(ito=target)
    iq.append(j)
    try:
        await iq.send(timeout=20)
    except slixmpp.exceptions.IqError as e:
        res["errors"].append("session-initiate refused: " + e.iq["error"]["condition"])
        emit(res)
        os._exit(0)

    start = asyncio.get_event_loop().time()
    hung_up = False
    while asyncio.get_event_loop().time() - start < a.seconds:
        if a.hangup_after and not hung_up and t_connected is not None and \
                asyncio.get_event_loop().time() - t_connected >= a.hangup_after:
            hung_up = True
            iq = x.make_iq_set(ito=target)
            tj = ET.Element("{%s}jingle" % NS_J, action="session-terminate", sid=sid)
            ET.SubElement(ET.SubElement(tj, "{%s}reason" % NS_J), "{%s}success" % NS_J)
            iq.append(tj)
            await iq.send(timeout=10)
            emit({"ev": "hung_up"})
            break
        try:
            kind, st = await asyncio.wait_for(inbox.get(), 0.2)
        except asyncio.TimeoutError:
            continue
        if kind != "iq":
            continue
        jel = st.xml.find("{%s}jingle" % NS_J)
        action = jel.get("action")
        st.reply().send()   # ack every one, as a client does
        if action == "session-accept":
            sdp, info = accept_to_sdp(jel)
            res["accepted"] = info
            emit(dict(info, ev="accepted"))
            await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        elif action == "transport-info":
            for ce in jel.iter("{%s}candidate" % NS_ICE):
                c = candidate_from_sdp(jingle_cand_to_sdp(ce).split(":", 1)[1])
                c.sdpMid, c.sdpMLineIndex = mid, 0
                await pc.addIceCandidate(c)
        elif action == "session-terminate":
            r = jel.find("{%s}reason" % NS_J)
            res["terminated"] = [e.tag.split("}")[-1] for e in r][0] if r is not None else ""
            emit({"ev": "terminated", "reason": res["terminated"]})
            break
    res["tones_db"] = tones_db(power, res["frames"])
    await pc.close()
    await asyncio.sleep(a.linger)
    emit(res)
    x.disconnect()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
