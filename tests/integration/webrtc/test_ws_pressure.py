"""Signalling sockets under pressure (bridge/http/ws.c and the WebRTC gateway's roster fan-out):

- a client that joins and leaves a room over and over, 30 sockets at a time from one address,
  must not get the other browsers in the room closed: they read, so they are not slow readers,
  and a burst of roster events is not a reason to drop them;
- a client that stops reading altogether is still closed with 1008 "not reading" once what
  the bridge holds for it has waited longer than [webrtc] max_send_stall_ms (the protection
  the fix must keep), while a client that reads the same stream is not;
- a flooding client gets the documented close code 1008 in a Close frame (not a reset that
  loses it and the replies before it), and the bridge logs the flood once for it, not once
  per message it had already read."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from wsclient import Closed, WsClient, encode_frame  # noqa: E402

SANITIZED = bool(os.environ.get("TT_SANITIZED"))
CONF = {"webrtc": {"allow_loopback": True, "max_per_address": 40}}


def client(br, rcvbuf=None):
    c = WsClient(br.http_port, timeout=10, rcvbuf=rcvbuf)
    check(c.recv(10)["type"] == "hello", "no hello")
    return c


def join(c, room, name):
    c.send({"type": "join", "room": room, "name": name})
    j = c.wait(lambda m: m["type"] in ("joined", "error"), timeout=10, what="joined")
    check(j["type"] == "joined", "join: %s" % j)
    return j


class Reader:
    """A healthy browser: a thread that reads everything as it comes."""

    def __init__(self, c):
        self.c, self.msgs, self.closed, self.stop = c, [], None, False
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                m = self.c.recv(0.2)
            except TimeoutError:
                continue
            except (Closed, OSError) as e:
                self.closed = "%s (close code %s)" % (e, self.c.close_code)
                return
            with self.lock:
                self.msgs.append(m)

    def count(self, pred):
        with self.lock:
            return sum(1 for m in self.msgs if pred(m))

    def wait(self, pred, timeout=10, what="message"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for m in self.msgs:
                    if pred(m):
                        return m
            check(self.closed is None, "closed while waiting for %s: %s" % (what, self.closed))
            time.sleep(0.02)
        raise AssertionError("no %s within %.0f s" % (what, timeout))

    def halt(self):
        self.stop = True
        self.t.join(5)


def churn(port, room, cycles, width):
    """`cycles` join/leave cycles over `width` sockets at a time, then reads until the bridge
    closes it. Every other cycle sends join and leave in one write (the bridge reads both
    in one loop pass); the others wait for "joined" first (two passes at least). Returns
    (cycles done, handshakes refused)."""
    left = [cycles]
    refused = [0]
    lock = threading.Lock()
    join = encode_frame('{"type":"join","room":"%s","name":"churn"}' % room)
    leave = encode_frame('{"type":"leave"}')

    def worker():
        deadline = time.time() + 120
        while time.time() < deadline:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
                n = left[0]
            try:   # the per-address count lags the closes a little: then try again
                c = WsClient(port, timeout=10)
                c.recv(10)   # hello
            except (Closed, OSError, TimeoutError):
                with lock:
                    left[0] += 1
                    refused[0] += 1
                time.sleep(0.05)
                continue
            try:
                if n % 2:
                    c.sock.sendall(join + leave)
                else:
                    c.sock.sendall(join)
                    c.wait(lambda m: m["type"] in ("joined", "error"), timeout=10)
                    c.sock.sendall(leave)
                while True:
                    c.recv(10)
            except Closed:
                pass
            finally:
                c.close()

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(width)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(300)
    return cycles - left[0], refused[0]


def test_churn_does_not_drop_readers():
    cycles = 150 if SANITIZED else 400
    with Bridge(CONF) as br:
        readers = []
        for i in range(3):
            c = client(br)
            join(c, "busy", "reader%d" % i)
            readers.append(Reader(c))
        t0 = time.time()
        done, refused = churn(br.http_port, "busy", cycles, 30)
        took = time.time() - t0
        time.sleep(0.5)
        joins = br.read_log().count("joined busy as churn")
        print("churn: %d cycles (%d joins) in %.1f s (%d handshakes refused); roster messages "
              "per reader: %s" % (done, joins, took, refused,
                                  [r.count(lambda m: m["type"] == "roster") for r in readers]))
        check(done == cycles and joins == cycles, "churn incomplete: %d cycles, %d joins"
              % (done, joins))
        for i, r in enumerate(readers):
            check(r.closed is None, "reader%d was closed by a churn: %s" % (i, r.closed))
            n = r.count(lambda m: m["type"] == "roster")
            check(n > 0, "reader%d saw no roster" % i)
            # 2 events per cycle one by one; coalesced per loop pass, a join and a leave
            # read in one pass (half the cycles) cancel out
            check(n < 1.5 * done, "reader%d: %d roster messages for %d cycles: not coalesced"
                  % (i, n, done))
        # they are still in the call: chat and roster reach them
        readers[0].c.send({"type": "chat", "text": "still here"})
        for r in readers[1:]:
            r.wait(lambda m: m["type"] == "chat" and m["text"] == "still here", what="chat")
        late = client(br)
        jl = join(late, "busy", "late")
        for r in readers:
            r.wait(lambda m, i=jl["id"]: m["type"] == "roster" and m["event"] == "joined" and
                   m["who"]["id"] == i, what="late's roster joined")
        names = sorted(e["name"] for e in jl["roster"])
        check(names == ["late", "reader0", "reader1", "reader2"],
              "churners left behind in the roster: %s" % names)
        for r in readers:
            r.halt()
        log = br.read_log()
        check("not reading" not in log, "someone was closed as not reading:\n%s" %
              "\n".join(l for l in log.splitlines() if "not reading" in l)[:2000])


def test_stalled_reader_still_closed():
    stall_ms = 1500
    conf = dict(CONF, webrtc=dict(CONF["webrtc"], max_send_stall_ms=stall_ms),
                bridge={"max_text_bytes": 65536})
    with Bridge(conf) as br:
        gw = br.testgw()
        bot = gw.join("stall", "bot", caps=["text"])
        good = client(br)
        join(good, "stall", "good")
        reader = Reader(good)
        slow = client(br, rcvbuf=4096)
        js = join(slow, "stall", "slow")
        line = "x" * 60000
        t0 = time.time()
        gone = None
        sent = 0
        while time.time() - t0 < 60 and gone is None:   # ~1 MB a second to both
            gw.say(bot, line)
            sent += 1
            time.sleep(0.05)
            if "not reading" in br.read_log():
                gone = time.time() - t0
        check(gone is not None, "a client that stopped reading was never closed")
        print("slow reader dropped after %.1f s, %d lines of 60 kB sent" % (gone, sent))
        check(gone >= stall_ms / 1000.0, "dropped before the stall time: %.1f s" % gone)
        # It reads now: what the kernel held, then the Close frame with 1008 "not reading".
        try:
            while True:
                slow.recv(10)
        except Closed:
            pass
        check(slow.close_code == 1008, "slow reader's close code: %s" % slow.close_code)
        check(reader.closed is None, "the reading client was closed too: %s" % reader.closed)
        n = reader.count(lambda m: m["type"] == "chat")
        check(n >= sent - 2, "the reading client got %d of %d lines" % (n, sent))
        reader.halt()
        check(br.read_log().count("not reading") == 1, "log: %s" % [
            l for l in br.read_log().splitlines() if "not reading" in l])
        # and its participant is gone from the room
        ev = gw.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "left" and
                           e["who"]["id"] == js["id"], timeout=10, what="slow reader left")


def flood(c, seconds):
    """Send pings in 100-frame writes, for `seconds` or until the bridge is gone."""
    burst = encode_frame('{"type":"ping"}') * 100
    end = time.time() + seconds
    try:
        while time.time() < end:
            c.sock.sendall(burst)
    except OSError:
        pass


def test_flood_gets_close_frame_and_one_log_line():
    with Bridge(CONF) as br:
        codes = []
        # pings without pause (the default rate is 50/s, bursts of 100): 100 are served,
        # then 101 dropped in a row close the socket. One flooder reads as it floods; two
        # have a small receive buffer and start reading only a while later, so the
        # bridge's replies and Close frame wait in its kernel when it closes.
        for delay, rcvbuf in ((0, None), (1, 4096), (3, 4096)):
            c = client(br, rcvbuf=rcvbuf)
            t = threading.Thread(target=flood, args=(c, delay + 1), daemon=True)
            t.start()
            time.sleep(delay)
            got = []
            try:
                while True:
                    got.append(c.recv(10))
            except (Closed, ConnectionResetError):
                pass
            codes.append(c.close_code)
            pongs = sum(m["type"] == "pong" for m in got)
            limited = sum(m.get("code") == "rate_limited" for m in got)
            t.join()
            c.close()
            check(pongs >= 90 and limited >= 90,
                  "replies before the close lost (reading after %d s): %d pongs, %d "
                  "rate_limited" % (delay, pongs, limited))
        check(codes == [1008] * 3, "close codes seen by flooders: %s" % codes)
        time.sleep(0.3)
        n = br.read_log().count("flood, closing")
        check(n == 3, "%d flood log lines for 3 flooding connections" % n)


def test_refusals_logged_once_per_address():
    conf = dict(CONF, webrtc=dict(CONF["webrtc"], max_per_address=3))
    with Bridge(conf) as br:
        open_ = [client(br) for _ in range(3)]
        for _ in range(50):   # a client retrying in a loop at its address's limit
            try:
                WsClient(br.http_port, timeout=5).recv(2)
                check(False, "a 4th connection was served")
            except (Closed, TimeoutError, ConnectionError):
                pass
        open_[0].close()
        time.sleep(0.5)
        log = br.read_log()
        lines = [l for l in log.splitlines() if "refused" in l]
        check(len(lines) == 2 and "refused 49 more WebSockets" in lines[1],
              "refusal log lines: %s" % lines[:5])
        open_[0] = client(br)   # the address is under its limit again
        for c in open_:
            c.close()


if __name__ == "__main__":
    ALL = [test_churn_does_not_drop_readers, test_stalled_reader_still_closed,
           test_flood_gets_close_frame_and_one_log_line, test_refusals_logged_once_per_address]
    run([t for t in ALL if not sys.argv[1:] or t.__name__ in sys.argv[1:]])
