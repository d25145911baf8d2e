"""A minimal WebSocket client (RFC 6455), stdlib only: text frames, masking, fragments of
incoming messages, close. Blocking (WsClient) and asyncio (AsyncWs) flavours share the
frame codec. Enough for tests; not a general library."""
import asyncio
import base64
import json
import os
import socket
import struct
import time


def handshake_request(host, port, path):
    key = base64.b64encode(os.urandom(16)).decode()
    return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (path, host, port, key)).encode()


def encode_frame(payload, opcode=1, fin=True):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def decode_frame(buf):
    """(fin, opcode, payload, bytes used) or None when buf holds no whole frame."""
    if len(buf) < 2:
        return None
    fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
    n, i = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, i = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, i = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < i + n:
        return None
    return bool(fin), opcode, bytes(buf[i:i + n]), i + n


class Closed(Exception):
    pass


class WsClient:
    """Blocking client; recv() returns the next text message parsed as JSON."""

    def __init__(self, port, path="/ws", host="127.0.0.1", timeout=5, tls=None, rcvbuf=None):
        if rcvbuf is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:   # a small receive window, set before connecting so that it is advertised
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        if tls is not None:   # an ssl.SSLContext: wss://
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.sock.sendall(handshake_request(host, port, path))
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Closed("closed during the handshake: %r" % resp)
            resp += chunk
        head, self.buf = resp.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise Closed("handshake refused: %r" % head.split(b"\r\n")[0])
        self.close_code = None

    def send(self, obj):
        self.send_raw(json.dumps(obj) if not isinstance(obj, (str, bytes)) else obj)

    def send_raw(self, data, opcode=1):
        self.sock.sendall(encode_frame(data, opcode))

    def _frame(self, deadline):
        while True:
            f = decode_frame(self.buf)
            if f:
                self.buf = self.buf[f[3]:]
                return f
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no WebSocket message in time")
            if not chunk:
                raise Closed("connection closed")
            self.buf += chunk

    def recv(self, timeout=5.0):
        deadline = time.time() + timeout
        parts = b""
        while True:
            fin, op, data, _ = self._frame(deadline)
            if op == 8:
                self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                raise Closed("close frame %s" % self.close_code)
            if op == 9:   # the bridge's keep-alive: unanswered, it hangs up (RFC 6455 5.5.2)
                self.send_raw(data, opcode=10)
                continue
            if op == 10:
                continue
            parts += data
            if fin:
                return json.loads(parts.decode())

    def wait(self, pred, timeout=5.0, what="message"):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                m = self.recv(max(0.01, deadline - time.time()))
            except TimeoutError:
                break
            if pred(m):
                return m
            seen.append(m)
        raise AssertionError("no %s within %.1f s; saw %s" % (what, timeout, seen[-8:]))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class AsyncWs:
    """asyncio client for peers that run an event loop (aiortc)."""

    async def connect(self, port, path="/ws", host="127.0.0.1", tls=None):
        """tls: an ssl.SSLContext for wss://"""
        self.reader, self.writer = await asyncio.open_connection(
            host, port, ssl=tls, server_hostname=host if tls is not None else None)
        self.writer.write(handshake_request(host, port, path))
        head = await self.reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise Closed("handshake refused")
        self.buf = b""
        return self

    def send(self, obj):
        self.writer.write(encode_frame(json.dumps(obj)))

    async def recv(self):
        parts = b""
        while True:
            f = decode_frame(self.buf)
            if not f:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise Closed("connection closed")
                self.buf += chunk
                continue
            self.buf = self.buf[f[3]:]
            fin, op, data, _ = f
            if op == 8:
                raise Closed("close frame")
            if op == 9:   # keep-alive: answered, or the bridge hangs up after 310 s
                self.writer.write(encode_frame(data, opcode=10))
                self.pings = getattr(self, "pings", 0) + 1
                continue
            if op == 10:
                continue
            parts += data
            if fin:
                return json.loads(parts.decode())
