"""The soak's WebRTC peers (python3-aiortc, run with Debian's /usr/bin/python3): COUNT peers
join ROOM over /ws like tests/integration/webrtc/peer.py (whose Tone track and WebSocket
client they reuse), stay until SECONDS are up or SIGTERM, and every INTERVAL seconds print
one JSON line with each peer's state, so the soak can tell a peer that stopped hearing
audio in minute 7 from one that never did:

  {"ev":"stats","t":S,"peers":[{"i":k,"connected":b,"frames_rx":n,"bye":r,"closed":b,
                                "chat_tx":n,"chat_rx_irc":n,"chat_rx_web":n,
                                "chat_rx_xmpp":n},...]}

The first CHATTERS peers also chat: "soak web K line N" every CHAT_EVERY seconds. Every
peer pings (the JSON ping the browser client sends every 20 s) and reads everything the
bridge sends (roster events, chat), as a browser does. Peers are silent listeners unless
--talkers says otherwise (the soak's plain RTP talkers must keep their speaker slots).

  peers.py --port P --room R --count N --seconds S [--interval 5] [--chatters 2]
           [--chat-every 10] [--talkers 0]"""
import argparse
import asyncio
import json
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "webrtc"))
from peer import Tone, emit, watch  # noqa: E402  (also limits aioice to 127.0.0.1)
from wsclient import AsyncWs, Closed  # noqa: E402  (it answers the bridge's PINGs)
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402


async def pinger(ws, stop):
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 20)
        except asyncio.TimeoutError:
            ws.send({"type": "ping"})


async def chatter(i, ws, st, every, stop):
    n = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            n += 1
            ws.send({"type": "chat", "text": "soak web %d line %d" % (i, n)})
            st["chat_tx"] = n


async def peer(i, args, st, stop):
    try:
        ws = await AsyncWs().connect(args.port)
        st["ws"] = ws
        await ws.recv()   # hello
        ws.send({"type": "join", "room": args.room, "name": "web%d" % i})
        joined = await ws.recv()
    except (Closed, OSError) as e:
        st["error"] = str(e)
        return
    if joined.get("type") != "joined":
        st["error"] = joined
        return
    st["id"] = joined.get("id")
    pc = RTCPeerConnection()
    st["pc"] = pc
    pc.addTrack(Tone(args.tone + 10 * i if i < args.talkers else 0))

    watch(pc, i, st)

    await pc.setLocalDescription(await pc.createOffer())
    ws.send({"type": "offer", "sdp": pc.localDescription.sdp})
    tasks = [asyncio.ensure_future(pinger(ws, stop))]
    if i < args.chatters:
        tasks.append(asyncio.ensure_future(chatter(i, ws, st, args.chat_every, stop)))
    reader = asyncio.ensure_future(read_ws(i, ws, pc, st))
    await asyncio.wait([reader, asyncio.ensure_future(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    for t in tasks + [reader]:
        t.cancel()


async def read_ws(i, ws, pc, st):
    try:
        while True:
            m = await ws.recv()
            t = m.get("type")
            if t == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "answer"))
            elif t == "candidate":
                if m.get("candidate"):
                    c = candidate_from_sdp(m["candidate"].split(":", 1)[1])
                    c.sdpMid, c.sdpMLineIndex = m.get("sdpMid"), m.get("sdpMLineIndex")
                    await pc.addIceCandidate(c)
            elif t == "chat":
                text = m.get("text", "")
                if text.startswith("soak irc "):
                    st["chat_rx_irc"] += 1
                elif text.startswith("soak web "):
                    st["chat_rx_web"] += 1
                elif text.startswith("soak xmpp "):
                    st["chat_rx_xmpp"] += 1
            elif t == "bye":
                st["bye"] = m.get("reason")
                emit({"ev": "bye", "i": i, "reason": st["bye"]})
                return
            elif t == "error":
                st["errors"] += 1
                st["last_error"] = m
    except Closed:
        st["closed"] = True
        emit({"ev": "closed", "i": i})


def snapshot(stats):
    out = []
    for s in stats:
        d = {k: v for k, v in s.items() if k not in ("pc", "ws")}
        d["ws_pings"] = getattr(s.get("ws"), "pings", 0)
        out.append(d)
    return out


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--room", default="soak")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--chatters", type=int, default=2)
    ap.add_argument("--chat-every", type=float, default=10)
    ap.add_argument("--talkers", type=int, default=0)
    ap.add_argument("--tone", type=float, default=600)
    args = ap.parse_args()
    stop = asyncio.Event()
    loop = asyncio.get_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    stats = [{"i": i, "connected": False, "frames_rx": 0, "bye": None, "closed": False,
              "chat_tx": 0, "chat_rx_irc": 0, "chat_rx_web": 0, "chat_rx_xmpp": 0,
              "errors": 0}
             for i in range(args.count)]
    t0 = time.monotonic()
    tasks = []
    for i in range(args.count):
        tasks.append(asyncio.ensure_future(peer(i, args, stats[i], stop)))
        await asyncio.sleep(0.1)   # do not open 20 DTLS handshakes in one instant
    end = t0 + args.seconds
    while not stop.is_set() and time.monotonic() < end:
        try:
            await asyncio.wait_for(stop.wait(), min(args.interval, max(0.01, end - time.monotonic())))
        except asyncio.TimeoutError:
            pass
        emit({"ev": "stats", "t": round(time.monotonic() - t0, 1), "peers": snapshot(stats)})
    stop.set()
    await asyncio.wait(tasks, timeout=5)
    for s in stats:
        pc = s.get("pc")
        if pc:
            try:
                await asyncio.wait_for(pc.close(), 2)
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
    emit({"ev": "done", "peers": snapshot(stats)})
    sys.stdout.flush()
    os._exit(0)   # do not wait for aiortc's lingering tasks


if __name__ == "__main__":
    asyncio.run(main())
