"""rtppeer.py: a plain RTP participant speaking PCMU for tests that check what is heard:
it sends a tone from its own socket and measures, per frequency, what comes back."""
import math
import socket
import struct
import threading
import time

from ttlib import check

FREQ_A, FREQ_B, FREQ_R = 500, 800, 1200


def ulaw_encode(s):
    s = max(-32635, min(32635, s))
    sign = 0x80 if s < 0 else 0
    s = abs(s) + 0x84
    exp = 7
    mask = 0x4000
    while exp > 0 and not (s & mask):
        exp -= 1
        mask >>= 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def ulaw_decode(u):
    u = ~u & 0xFF
    sign = u & 0x80
    exp = (u >> 4) & 7
    mant = u & 0x0F
    s = ((mant << 3) + 0x84) << exp
    s -= 0x84
    return -s if sign else s


def goertzel_db(samples, freq, rate=8000):
    """Power at freq relative to a full-scale sine, in dB."""
    if not samples:
        return -200.0
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    p = s1 * s1 + s2 * s2 - k * s1 * s2
    n = len(samples)
    return 10 * math.log10(max(p, 1e-9) / ((n * 32767 / 2) ** 2))


class RtpPeer:
    """A phone: PCMU at 8 kHz, sending a steady tone (1200 Hz unless told) every 20 ms from
    its own socket, and keeping what it receives for goertzel_db."""

    def __init__(self, freq=FREQ_R):
        self.freq = freq
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.dest = None
        self.rx = []            # (monotonic time, [samples])
        self.stop = threading.Event()
        self.threads = []

    def start(self, dest):
        self.dest = dest
        for fn in (self._send, self._recv):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _send(self):
        seq, ts, n = 0, 0, 0
        t_next = time.monotonic()
        while not self.stop.is_set():
            payload = bytes(ulaw_encode(int(0.3 * 32767 * math.sin(2 * math.pi * self.freq *
                                                                    (n + i) / 8000)))
                            for i in range(160))
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x5EED)
            self.sock.sendto(hdr + payload, self.dest)
            seq, ts, n = seq + 1, ts + 160, n + 160
            t_next += 0.02
            time.sleep(max(0, t_next - time.monotonic()))

    def _recv(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(2048)
            except OSError:
                continue
            if len(data) > 12 and data[1] & 0x7F == 0:
                self.rx.append((time.monotonic(), [ulaw_decode(b) for b in data[12:]]))

    def heard(self, since):
        """Per frequency, the loudest 1 s window after `since` (B's tone is gated, and B
        mutes for a moment), and the number of samples received."""
        samples = [s for t, chunk in self.rx if t >= since for s in chunk]
        best = {f: -200.0 for f in (FREQ_A, FREQ_B, FREQ_R)}
        for i in range(0, max(0, len(samples) - 8000) + 1, 4000):
            for f in best:
                best[f] = max(best[f], goertzel_db(samples[i:i + 8000], f))
        return best, len(samples)

    def join(self, br, room, name="Phone"):
        """Make this peer a PCMU participant of `room` through br's admin API and start
        sending and receiving; the API's answer."""
        st, body = br.http("POST", "/api/rooms/%s/participants" % room,
                           {"name": name, "codec": "pcmu",
                            "remote": "127.0.0.1:%d" % self.port})
        check(st == 201, "rtp participant: %s %s" % (st, body))
        host, port = body["local"].rsplit(":", 1)
        self.start((host, int(port)))
        return body

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(1)
        self.sock.close()
