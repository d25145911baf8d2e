"""loadgen: a SIP call-rate generator over UDP, stdlib only (the sipp UAC substitute;
Debian 12 has no sipp). Each call: INVITE with SDP -> 200 -> ACK -> hold -> BYE -> 200.
Retransmits INVITE and BYE like a UDP UAC (T1 = 500 ms); a call fails on any final
response >= 300 or no answer within `timeout`.

    python3 loadgen.py PORT [--rate 50] [--seconds 30] [--hold 1.0] [--rooms 1] [--rtp 5]

--rtp N: the first N calls also send PCMU RTP (sipp's rtp_stream) from their own socket
and count the bridge's RTP that comes back."""
import argparse
import os
import random
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from siplib import CRLF, Msg, rtp_packet  # noqa: E402


class LoadCall:
    __slots__ = ("cid", "tag", "room", "state", "t_start", "t_sent", "tries", "to_tag",
                 "t_up", "rtp", "rtp_dest", "rtp_in", "rtp_seq", "result", "setup_ms")

    def __init__(self, n, room):
        self.cid = "load-%d-%08x@loadgen" % (n, random.getrandbits(32))
        self.tag = "l%x" % random.getrandbits(32)
        self.room = room
        self.state = "new"
        self.tries = 0
        self.to_tag = None
        self.rtp = None
        self.rtp_dest = None
        self.rtp_in = 0
        self.rtp_seq = 0
        self.result = None
        self.setup_ms = None


class LoadGen:
    def __init__(self, port, host="127.0.0.1", hold=1.0, rooms=1, rtp_calls=0, timeout=10.0):
        self.bridge = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()
        # calls without their own RTP socket point their media here: never read, so the
        # kernel drops what the bridge sends, without the ICMP errors a closed port gives
        self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sink.bind(("127.0.0.1", 0))
        self.hold = hold
        self.rooms = rooms
        self.rtp_calls = rtp_calls
        self.timeout = timeout
        self.calls = {}
        self.done = []
        self.n = 0

    def _send(self, c, method, cseq, body="", branch=None):
        uri = "sip:%s@%s:%d" % (c.room, self.bridge[0], self.bridge[1])
        lines = ["%s %s SIP/2.0" % (method, uri),
                 "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (
                     self.local[0], self.local[1],
                     branch or "z9hG4bK-%s-%d-%s" % (c.tag, cseq, method)),
                 "Max-Forwards: 70",
                 "From: <sip:load@%s:%d>;tag=%s" % (self.local[0], self.local[1], c.tag),
                 "To: <%s>%s" % (uri, ";tag=" + c.to_tag if c.to_tag else ""),
                 "Call-ID: " + c.cid, "CSeq: %d %s" % (cseq, method),
                 "Contact: <sip:load@%s:%d>" % self.local]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(body))
        self.sock.sendto((CRLF.join(lines) + CRLF + CRLF + body).encode(), self.bridge)

    def _sdp(self, c):
        port = (c.rtp or self.sink).getsockname()[1]
        return CRLF.join(["v=0", "o=load 1 1 IN IP4 127.0.0.1", "s=-",
                          "c=IN IP4 127.0.0.1", "t=0 0",
                          "m=audio %d RTP/AVP 0 101" % port, "a=rtpmap:0 PCMU/8000",
                          "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]) + CRLF

    def start_call(self, now):
        self.n += 1
        c = LoadCall(self.n, "load%d" % (self.n % self.rooms))
        if self.n <= self.rtp_calls:
            c.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.rtp.bind(("127.0.0.1", 0))
            c.rtp.setblocking(False)
        c.t_start = c.t_sent = now
        c.state = "inviting"
        self.calls[c.cid] = c
        self._send(c, "INVITE", 1, self._sdp(c))

    def _finish(self, c, result):
        c.result = result
        c.state = "done"
        if c.rtp:
            c.rtp.close()
            c.rtp = None
        self.calls.pop(c.cid, None)
        self.done.append(c)

    def on_msg(self, m, now):
        c = self.calls.get(m.h("call-id"))
        if m.method:   # a request from the bridge (BYE after a timer...): answer 200
            if m.method != "ACK":
                resp = ["SIP/2.0 200 OK"] + ["%s: %s" % (k.title() if k != "call-id" else "Call-ID", v)
                                              for k in ("via", "from", "to", "call-id", "cseq")
                                              for v in m.headers.get(k, [])]
                self.sock.sendto((CRLF.join(resp + ["Content-Length: 0"]) + CRLF + CRLF).encode(),
                                 self.bridge)
            if c and m.method == "BYE":
                self._finish(c, "bye from bridge")
            return
        if not c or not m.status or m.status < 200:
            return
        num, method = m.cseq()
        if method == "INVITE" and c.state == "inviting":
            if m.status >= 300:
                self._send_ack_error(c, m)
                self._finish(c, "INVITE %d" % m.status)
                return
            c.to_tag = m.to_tag()
            c.setup_ms = (now - c.t_start) * 1000
            self._send(c, "ACK", 1)
            c.state = "up"
            c.t_up = now
            if c.rtp:
                mm = __import__("re").search(r"m=audio (\d+)", m.body)
                cc = __import__("re").search(r"c=IN IP4 (\S+)", m.body)
                if mm and cc:
                    c.rtp_dest = (cc.group(1), int(mm.group(1)))
        elif method == "INVITE" and c.state in ("up", "byeing"):
            self._send(c, "ACK", 1)   # a retransmitted 200: our ACK was lost
        elif method == "BYE" and c.state == "byeing":
            self._finish(c, "ok" if m.status < 300 else "BYE %d" % m.status)

    def _send_ack_error(self, c, m):
        c.to_tag = m.to_tag()
        self._send(c, "ACK", 1, branch="z9hG4bK-%s-1-INVITE" % c.tag)

    def tick(self, now):
        for c in list(self.calls.values()):
            if now - c.t_start > self.timeout + self.hold:
                self._finish(c, "timeout in " + c.state)
            elif c.state == "inviting" and now - c.t_sent > 0.5 * 2 ** c.tries:
                c.tries += 1
                c.t_sent = now
                self._send(c, "INVITE", 1, self._sdp(c))
            elif c.state == "up":
                if c.rtp and c.rtp_dest:
                    c.rtp.sendto(rtp_packet(0, c.rtp_seq, c.rtp_seq * 160, 0xABC,
                                            b"\xff" * 160), c.rtp_dest)
                    c.rtp_seq += 1
                    try:
                        while True:
                            c.rtp.recv(2048)
                            c.rtp_in += 1
                    except (BlockingIOError, OSError):
                        pass
                if now - c.t_up >= self.hold:
                    c.state = "byeing"
                    c.tries = 0
                    c.t_sent = now
                    self._send(c, "BYE", 2)
            elif c.state == "byeing" and now - c.t_sent > 0.5 * 2 ** c.tries:
                c.tries += 1
                c.t_sent = now
                self._send(c, "BYE", 2)

    def run(self, rate, seconds):
        t0 = time.time()
        total = int(rate * seconds)
        last_tick = 0
        while self.n < total or self.calls:
            now = time.time()
            due = min(total, int((now - t0) * rate) + 1)
            while self.n < due:
                self.start_call(now)
            r, _, _ = select.select([self.sock], [], [], 0.005)
            if r:
                for _ in range(256):
                    try:
                        data, _ = self.sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    self.on_msg(Msg(data, None), time.time())
                    self.sock.setblocking(False)
                self.sock.setblocking(True)
            if now - last_tick >= 0.02:
                last_tick = now
                self.tick(now)
            if now - t0 > seconds + self.timeout + self.hold + 10:
                for c in list(self.calls.values()):
                    self._finish(c, "abandoned in " + c.state)
        elapsed = time.time() - t0
        ok = [c for c in self.done if c.result == "ok"]
        setup = sorted(c.setup_ms for c in self.done if c.setup_ms is not None)
        return {
            "calls": len(self.done), "ok": len(ok), "failed": len(self.done) - len(ok),
            "failures": sorted({c.result for c in self.done if c.result != "ok"}),
            "elapsed_s": elapsed, "rate": rate,
            "setup_ms_p50": setup[len(setup) // 2] if setup else None,
            "setup_ms_p99": setup[int(len(setup) * 0.99)] if setup else None,
            "rtp_calls": [c.rtp_in for c in self.done[: self.rtp_calls]],
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--hold", type=float, default=1.0)
    ap.add_argument("--rooms", type=int, default=1)
    ap.add_argument("--rtp", type=int, default=0)
    a = ap.parse_args()
    print(LoadGen(a.port, hold=a.hold, rooms=a.rooms, rtp_calls=a.rtp).run(a.rate, a.seconds))


if __name__ == "__main__":
    main()
