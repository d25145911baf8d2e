"""WebRTC peers without a browser (python3-aiortc, run with Debian's /usr/bin/python3):
each joins a room over /ws, offers Opus with a sine tone, applies the bridge's trickled
candidates, and counts the audio frames it receives. Used by the ICE/DTLS integration
tests and by the WebRTC benchmark.

  peer.py --port P --room R [--count N] [--talkers K] [--tone HZ] [--seconds S]
          [--listen HZ,HZ] [--bad-fingerprint] [--tls]

Prints JSON lines on stdout: {"ev":"connected","i":k} when a peer's media is up, {"ev":"ws_closed","i":k} if its
WebSocket closed before the end (--tls: wss://, the certificate not verified),
{"ev":"bye","i":k,"reason":...} when the bridge hangs up, and at the end
{"ev":"done","peers":[{"connected":..,"frames_rx":..,"bye":..}, ...]}; with --listen, each
peer also has "tones_db": {HZ: level} of what it heard from 1 s after connecting (Goertzel,
dB relative to full scale, averaged over 20 ms frames)."""
import argparse
import asyncio
import fractions
import json
import math
import os
import ssl
import sys

import aioice.ice
import av
import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import AsyncWs, Closed  # noqa: E402

# Tests run on loopback only: gather there (aioice skips loopback by default).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def emit(obj):
    print(json.dumps(obj), flush=True)


class Tone(MediaStreamTrack):
    kind = "audio"

    def __init__(self, freq, silent_s=0.0, amp=0.3):
        super().__init__()
        self.freq = freq
        self.amp = amp   # of full scale
        self.silent_pts = int(silent_s * 48000)   # digital silence until then
        self.pts = 0
        self.start = None

    async def recv(self):
        loop = asyncio.get_event_loop()
        if self.start is None:
            self.start = loop.time()
        due = self.start + self.pts / 48000
        await asyncio.sleep(max(0, due - loop.time()))
        t = (numpy.arange(960) + self.pts) / 48000
        # freq 0: silence (a listener)
        amp = self.amp * 32767 if self.freq and self.pts >= self.silent_pts else 0
        pcm = (amp * numpy.sin(2 * math.pi * self.freq * t)).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, 48000)
        self.pts += 960
        return frame


def tone_power(x, rate, freq):
    """Goertzel: the squared amplitude of `freq` in x, relative to full scale."""
    n = len(x)
    w = numpy.exp(-2j * math.pi * freq * numpy.arange(n) / rate)
    amp = 2 * abs(numpy.dot(x, w)) / n
    return (amp / 32768.0) ** 2


def tones_db(power, frames):
    """{"HZ": dB} from summed tone_power values over `frames` frames."""
    n = max(frames, 1)
    return {"%.0f" % f: 10 * math.log10(p / n + 1e-12) for f, p in power.items()}


def watch(pc, i, st, listen=()):
    """Count the frames pc decodes (st["frames_rx"]), keep st["state"], emit "connected"
    once (st["connected"]), and sum the power of each `listen` frequency in what it hears
    from 1 s after connecting (st["power"], st["frames_heard"])."""
    st["power"] = {f: 0.0 for f in listen}
    st["frames_heard"] = 0
    t_connected = []

    @pc.on("track")
    def on_track(track):
        async def pull():
            while True:
                try:
                    fr = await track.recv()
                except Exception:  # noqa: BLE001 - the track ended
                    return
                st["frames_rx"] += 1
                if not listen or not t_connected or \
                        asyncio.get_event_loop().time() - t_connected[0] < 1.0:
                    continue   # the jitter buffers fill, the mix settles
                arr = fr.to_ndarray().reshape(-1)
                mono = arr[::len(fr.layout.channels)].astype(numpy.float64)
                for f in listen:
                    st["power"][f] += tone_power(mono[:960], fr.sample_rate, f)
                st["frames_heard"] += 1
        asyncio.ensure_future(pull())

    @pc.on("connectionstatechange")
    def on_state():
        st["state"] = pc.connectionState
        if pc.connectionState == "connected" and not st["connected"]:
            st["connected"] = True
            t_connected.append(asyncio.get_event_loop().time())
            emit({"ev": "connected", "i": i})


async def peer(i, args, stats):
    st = stats[i]
    ws = await AsyncWs().connect(args.port, tls=ssl._create_unverified_context()
                                 if args.tls else None)
    await ws.recv()   # hello
    ws.send({"type": "join", "room": args.room, "name": "peer%d" % i})
    joined = await ws.recv()
    if joined["type"] != "joined":
        st["error"] = joined
        return
    pc = RTCPeerConnection()
    talker = args.talkers < 0 or i < args.talkers
    pc.addTrack(Tone(args.tone + args.tone_step * i if talker else 0))

    watch(pc, i, st, args.listen)

    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    if args.bad_fingerprint:   # claim a certificate we do not have
        lines = [ln for ln in sdp.split("\r\n") if not ln.startswith("a=fingerprint:")]
        at = lines.index(next(ln for ln in lines if ln.startswith("a=setup:")))
        lines.insert(at, "a=fingerprint:sha-256 " + ":".join(["5A"] * 32))
        sdp = "\r\n".join(lines)
    ws.send({"type": "offer", "sdp": sdp})
    try:
        while True:
            m = await ws.recv()
            if m["type"] == "answer":
                await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], "answer"))
            elif m["type"] == "candidate":
                if m.get("candidate"):
                    c = candidate_from_sdp(m["candidate"].split(":", 1)[1])
                    c.sdpMid, c.sdpMLineIndex = m.get("sdpMid"), m.get("sdpMLineIndex")
                    await pc.addIceCandidate(c)
            elif m["type"] == "bye":
                st["bye"] = m.get("reason")
                emit({"ev": "bye", "i": i, "reason": st["bye"]})
                break
            elif m["type"] == "error":
                st["error"] = m
    except Closed:
        st["ws_closed"] = True
        emit({"ev": "ws_closed", "i": i})
    finally:
        st["pc"] = pc


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--room", default="bench")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--tone", type=float, default=600)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--tone-step", type=float, default=10, help="peer i sends tone + i*step")
    ap.add_argument("--talkers", type=int, default=-1, help="peers sending a tone (-1: all)")
    ap.add_argument("--listen", default="", help="HZ,HZ: report these tones' levels heard")
    ap.add_argument("--bad-fingerprint", action="store_true")
    ap.add_argument("--tls", action="store_true", help="wss:// (certificate not verified)")
    args = ap.parse_args()
    args.listen = [float(x) for x in args.listen.split(",") if x]
    stats = [{"connected": False, "frames_rx": 0, "bye": None} for _ in range(args.count)]
    tasks = []
    for i in range(args.count):
        tasks.append(asyncio.ensure_future(peer(i, args, stats)))
        await asyncio.sleep(0.05)   # do not open 50 DTLS handshakes in one instant
    await asyncio.wait(tasks, timeout=args.seconds)
    for s in stats:
        pc = s.pop("pc", None)
        if pc:
            await pc.close()
        power, heard = s.pop("power", {}), s.pop("frames_heard", 0)
        if args.listen:
            s["tones_db"] = tones_db(power, heard)
    emit({"ev": "done", "peers": [{k: v for k, v in s.items()} for s in stats]})
    os._exit(0)   # do not wait for aiortc's lingering tasks


if __name__ == "__main__":
    asyncio.run(main())
