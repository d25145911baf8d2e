"""siplib: a small stdlib-only SIP user agent over UDP for the SIP gateway's tests (the
sipp substitute: Debian 12 has no sipp). It builds requests, matches responses by Call-ID
and CSeq, answers in-dialog requests (MESSAGE, BYE, OPTIONS) with 200, and sends RTP.

    ua = UA(bridge_port)
    call = ua.invite("standup", sdp=ua.sdp_offer(["PCMU/8000"]))
    call.ack(); call.bye()
"""
import os
import random
import re
import socket
import struct
import time

CRLF = "\r\n"


def parse(data):
    """(start line, {lower-case name: [values]}, body) of one SIP message; None if not one."""
    try:
        text = data.decode("utf-8", "replace")
    except Exception:  # noqa: BLE001
        return None
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {}
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
               "l": "content-length", "c": "content-type", "k": "supported", "o": "event"}
    for line in lines[1:]:
        if ":" not in line:
            continue
        name, _, value = line.partition(":")
        name = name.strip().lower()
        name = compact.get(name, name)
        headers.setdefault(name, []).append(value.strip())
    return lines[0], headers, body


def status_of(start):
    m = re.match(r"SIP/2\.0 (\d{3})", start or "")
    return int(m.group(1)) if m else None


class Msg:
    def __init__(self, data, addr):
        self.raw = data
        self.addr = addr
        p = parse(data)
        self.start, self.headers, self.body = p if p else ("", {}, "")
        self.status = status_of(self.start)
        self.method = None if self.status else self.start.split(" ", 1)[0]

    def h(self, name, default=None):
        v = self.headers.get(name.lower())
        return v[0] if v else default

    def cseq(self):
        m = re.match(r"(\d+)\s+(\S+)", self.h("cseq", ""))
        return (int(m.group(1)), m.group(2)) if m else (None, None)

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.h("to", ""))
        return m.group(1) if m else None


class UA:
    transport = "UDP"
    scheme = "sip"
    contact_host = None  # a host name here: the bridge must reach us without resolving it
    via_host = None

    def __init__(self, port, host="127.0.0.1", user="tester", name=None, allow_message=True):
        self.bridge = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()
        self.user = user
        self.name = name or user
        self.allow_message = allow_message
        self.inbox = []      # requests the bridge sent us (MESSAGE, BYE, ...)
        self.pending = []    # responses not consumed yet

    def close(self):
        self.sock.close()

    def branch(self):
        return "z9hG4bK-%08x" % random.getrandbits(32)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendto(data, self.bridge)

    def recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, addr = self.sock.recvfrom(65535)
        except (socket.timeout, BlockingIOError):
            return None
        except ConnectionRefusedError:
            return None
        return Msg(data, addr)

    def _answer_request(self, m):
        """200 to the bridge's requests (MESSAGE, BYE, OPTIONS, NOTIFY, INFO)."""
        if m.method == "ACK":
            return
        resp = ["SIP/2.0 200 OK"]
        for name in ("via", "from", "to", "call-id", "cseq"):
            for v in m.headers.get(name, []):
                resp.append("%s: %s" % (name.title() if name != "call-id" else "Call-ID", v))
        resp.append("Content-Length: 0")
        self.send(CRLF.join(resp) + CRLF + CRLF)

    def wait(self, pred, timeout=5.0):
        """First message (response or request) for which pred is true; requests from the
        bridge are answered with 200 and kept in inbox."""
        for i, m in enumerate(self.pending):
            if pred(m):
                return self.pending.pop(i)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.recv(deadline - time.time())
            if m is None:
                continue
            if m.method:
                self.inbox.append(m)
                self._answer_request(m)
                if pred(m):
                    return m
                continue
            if pred(m):
                return m
            self.pending.append(m)
        return None

    def final(self, call_id, method, timeout=5.0):
        """The final response to (call_id, method), skipping 1xx."""
        return self.wait(lambda m: m.status and m.status >= 200 and m.h("call-id") == call_id
                         and m.cseq()[1] == method, timeout)

    def request(self, method, uri, call_id, cseq, from_tag, to_tag=None, body="",
                ctype=None, extra=(), branch=None):
        lines = ["%s %s SIP/2.0" % (method, uri),
                 "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (self.transport,
                                                            self.via_host or self.local[0],
                                                            self.local[1],
                                                            branch or self.branch()),
                 "Max-Forwards: 70",
                 "From: \"%s\" <sip:%s@%s:%d>;tag=%s" % (self.name, self.user, self.local[0],
                                                         self.local[1], from_tag),
                 "To: <%s>%s" % (uri, ";tag=" + to_tag if to_tag else ""),
                 "Call-ID: %s" % call_id,
                 "CSeq: %d %s" % (cseq, method),
                 "Contact: <%s:%s@%s:%d%s>" % (self.scheme, self.user,
                                               self.contact_host or self.local[0],
                                               self.local[1],
                                               ";transport=tcp" if self.transport == "TCP"
                                               else "")]
        allow = "INVITE, ACK, BYE, CANCEL, OPTIONS" + (", MESSAGE" if self.allow_message else "")
        lines.append("Allow: " + allow)
        lines.extend(extra)
        if body:
            lines.append("Content-Type: %s" % (ctype or "application/sdp"))
        lines.append("Content-Length: %d" % len(body.encode()))
        self.send(CRLF.join(lines) + CRLF + CRLF + body)

    def options(self, timeout=2.0):
        cid = "opt-%08x@test" % random.getrandbits(32)
        self.request("OPTIONS", "sip:%s:%d" % self.bridge, cid, 1, "o%x" % random.getrandbits(24))
        return self.final(cid, "OPTIONS", timeout)

    def room_uri(self, room):
        return "%s:%s@%s:%d" % (self.scheme, room, self.bridge[0], self.bridge[1])

    def message(self, room, text, timeout=3.0):
        cid = "msg-%08x@test" % random.getrandbits(32)
        self.request("MESSAGE", self.room_uri(room), cid, 1, "m%x" % random.getrandbits(24),
                     body=text, ctype="text/plain;charset=UTF-8")
        return self.final(cid, "MESSAGE", timeout)

    def sdp_offer(self, codecs=("PCMU/8000",), port=None, mode="sendrecv", crypto=None,
                  addr="127.0.0.1", dtmf=True):
        pts = {"PCMU/8000": 0, "PCMA/8000": 8, "G722/8000": 9, "opus/48000/2": 111}
        plist = [pts.get(c, 96) for c in codecs] + ([101] if dtmf else [])
        lines = ["v=0", "o=test 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 %s" % addr, "t=0 0",
                 "m=audio %d RTP/%s %s" % (port or 40000, "SAVP" if crypto else "AVP",
                                           " ".join(str(p) for p in plist))]
        for c in codecs:
            lines.append("a=rtpmap:%d %s" % (pts.get(c, 96), c))
        if dtmf:
            lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"]
        lines.append("a=" + mode)
        if crypto:
            lines.append("a=crypto:" + crypto)
        return CRLF.join(lines) + CRLF

    def invite(self, room, sdp="", timeout=5.0, extra=()):
        call = Call(self, room)
        call.send_invite(sdp, extra)
        call.response = self.final(call.call_id, "INVITE", timeout)
        if call.response and call.response.status < 300:
            call.to_tag = call.response.to_tag()
        return call


class StreamUA(UA):
    """The same UA over one TCP (or, with tls=True, TLS: sips: URIs) connection; messages
    are framed by Content-Length."""

    def __init__(self, port, tls=False, **kw):
        super().__init__(port, **kw)
        self.sock.close()
        self.transport, self.scheme = ("TLS", "sips") if tls else ("TCP", "sip")
        s = socket.create_connection(self.bridge, timeout=5)
        if tls:
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE   # the test's throw-away certificate
            s = ctx.wrap_socket(s)
        self.sock = s
        self.local = s.getsockname()
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def recv(self, timeout):
        deadline = time.time() + max(timeout, 0.001)
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"^(?:content-length|l)\s*:\s*(\d+)", head,
                              re.IGNORECASE | re.MULTILINE)
                n = int(m.group(1)) if m else 0
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return Msg(head + sep + rest[:n], self.bridge)
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65535)
            except (socket.timeout, BlockingIOError, OSError):
                return None
            if not chunk:
                return None
            self.buf += chunk


class Call:
    def __init__(self, ua, room):
        self.ua = ua
        self.uri = ua.room_uri(room)
        self.call_id = "call-%08x@test" % random.getrandbits(32)
        self.from_tag = "t%x" % random.getrandbits(32)
        self.to_tag = None
        self.cseq = 1
        self.response = None
        self.invite_branch = None

    def send_invite(self, sdp, extra=()):
        self.invite_branch = self.ua.branch()
        self.ua.request("INVITE", self.uri, self.call_id, self.cseq, self.from_tag,
                        self.to_tag, body=sdp, extra=extra, branch=self.invite_branch)

    def ack(self, sdp=""):
        self.ua.request("ACK", self.uri, self.call_id, self.cseq, self.from_tag, self.to_tag,
                        body=sdp)

    def reinvite(self, sdp, timeout=5.0):
        self.cseq += 1
        self.send_invite(sdp)
        r = self.ua.final(self.call_id, "INVITE", timeout)
        if r and r.status >= 200:
            self.ack()
        return r

    def in_dialog(self, method, body="", ctype=None, timeout=5.0):
        self.cseq += 1
        self.ua.request(method, self.uri, self.call_id, self.cseq, self.from_tag, self.to_tag,
                        body=body, ctype=ctype)
        return self.ua.final(self.call_id, method, timeout)

    def bye(self, timeout=5.0):
        return self.in_dialog("BYE", timeout=timeout)

    def cancel(self, timeout=5.0):
        lines = ["CANCEL %s SIP/2.0" % self.uri,
                 "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (self.ua.local[0], self.ua.local[1],
                                                             self.invite_branch),
                 "Max-Forwards: 70",
                 "From: <sip:%s@%s:%d>;tag=%s" % (self.ua.user, self.ua.local[0],
                                                  self.ua.local[1], self.from_tag),
                 "To: <%s>" % self.uri, "Call-ID: %s" % self.call_id,
                 "CSeq: %d CANCEL" % self.cseq, "Content-Length: 0"]
        self.ua.send(CRLF.join(lines) + CRLF + CRLF)
        return self.ua.final(self.call_id, "CANCEL", timeout)

    def remote_media(self):
        """(host, port, payload type) of the bridge's SDP in the 200."""
        body = self.response.body if self.response else ""
        c = re.search(r"c=IN IP4 (\S+)", body)
        m = re.search(r"m=audio (\d+) \S+ (\d+)", body)
        return (c.group(1), int(m.group(1)), int(m.group(2))) if c and m else None


def rtp_packet(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def send_dtmf(sock, dest, pt, digits, ssrc=0x5EED, seq=1000, ts=0):
    """RFC 4733 telephone-events for each digit (100 ms, three end packets), 8 kHz clock.
    Returns the next (seq, ts)."""
    codes = {d: i for i, d in enumerate("0123456789*#")}
    for d in digits:
        ev = codes[d]
        for k in range(1, 6):
            sock.sendto(rtp_packet(pt, seq, ts, ssrc, struct.pack("!BBH", ev, 10, 160 * k),
                                   marker=(k == 1)), dest)
            seq += 1
            time.sleep(0.02)
        for _ in range(3):
            sock.sendto(rtp_packet(pt, seq, ts, ssrc, struct.pack("!BBH", ev, 0x80 | 10, 800)),
                        dest)
            seq += 1
        ts += 1600
        time.sleep(0.04)
    return seq, ts
