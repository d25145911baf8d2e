"""Helpers for the event stream tests and the benchmark: a blocking client of GET /api/events
(headers of our own on the upgrade; frames from webrtc/wsclient.py) and a webhook receiver
(http.server in a thread) that checks signatures. Stdlib only."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import queue
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webrtc"))
from wsclient import Closed, decode_frame, encode_frame  # noqa: E402


class EventClient:
    """GET /api/events. `headers`: extra request headers (Authorization). recv() returns the
    next message as a dict; a Close from the bridge raises Closed with close_code set."""

    def __init__(self, port, query="", headers=None, timeout=10, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET /api/events%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (query, port, key, extra)).encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Closed("closed during the handshake: %r" % resp)
            resp += chunk
        head, self.buf = resp.split(b"\r\n\r\n", 1)
        self.pos = 0
        self.status = head.split(b"\r\n")[0]
        if b" 101 " not in self.status:
            raise Closed("handshake refused: %r" % self.status)
        self.close_code = None
        self.close_reason = None

    def send(self, obj):
        self.sock.sendall(encode_frame(json.dumps(obj)))

    def recv(self, timeout=10.0):
        deadline = time.time() + timeout
        parts = b""
        while True:
            # frames are decoded from an offset: slicing the buffer per frame would copy
            # it once per event (the benchmark reads thousands per recv)
            f = decode_frame(memoryview(self.buf)[self.pos:])
            if not f:
                self.buf = self.buf[self.pos:]
                self.pos = 0
                self.sock.settimeout(max(0.01, deadline - time.time()))
                try:
                    chunk = self.sock.recv(262144)
                except socket.timeout:
                    raise TimeoutError("no event in time")
                if not chunk:
                    raise Closed("connection closed")
                self.buf += chunk
                continue
            self.pos += f[3]
            fin, op, data, _ = f
            if op == 8:
                if len(data) >= 2:
                    self.close_code = struct.unpack("!H", data[:2])[0]
                    self.close_reason = data[2:].decode(errors="replace")
                raise Closed("close frame %s %s" % (self.close_code, self.close_reason))
            if op == 9:
                self.sock.sendall(encode_frame(data, opcode=10))
                continue
            if op == 10:
                continue
            parts += data
            if fin:
                return json.loads(parts.decode())

    def events(self, n, timeout=20.0):
        """The next n messages that carry a seq (events), failing on anything else."""
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            m = self.recv(max(0.01, deadline - time.time()))
            if "seq" not in m:
                raise AssertionError("expected an event, got %s" % m)
            out.append(m)
        return out

    def quiet(self, seconds=0.5):
        """Messages arriving within `seconds` (expected: none)."""
        out = []
        deadline = time.time() + seconds
        while True:
            left = deadline - time.time()
            if left <= 0:
                return out
            try:
                out.append(self.recv(left))
            except TimeoutError:
                return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Control:
    """The test gateway's control socket, pipelined: write many commands, then read until
    that many replies came (roster events in between are counted and dropped)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def batch(self, cmds):
        self.sock.sendall(b"".join((json.dumps(c) + "\n").encode() for c in cmds))
        replies = []
        while len(replies) < len(cmds):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("control socket closed")
            self.buf += chunk
            *lines, self.buf = self.buf.split(b"\n")
            for line in lines:
                m = json.loads(line)
                if m.get("reply"):
                    replies.append(m)
        return replies


def signature(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Receiver:
    """A webhook receiver on 127.0.0.1: every POST is recorded (headers, body, whether the
    signature matched); `statuses` is the list of answers to give in order (then 200)."""

    def __init__(self, secret, statuses=()):
        self.secret = secret
        self.statuses = list(statuses)
        self.posts = queue.Queue()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sig = self.headers.get("X-Tutti-Signature")
                status = outer.statuses.pop(0) if outer.statuses else 200
                outer.posts.put({"path": self.path, "sig": sig, "body": body,
                                 "valid": sig == signature(outer.secret, body),
                                 "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def next(self, timeout=20.0):
        return self.posts.get(timeout=timeout)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
