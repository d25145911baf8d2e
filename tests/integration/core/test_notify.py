"""tutti speaks systemd's notify protocol (bridge/notify/): the test owns the NOTIFY_SOCKET
(a unix datagram socket) and asks for a watchdog with WATCHDOG_USEC, as systemd would.

- READY=1 arrives (after the gateways started and HTTP listens);
- WATCHDOG=1 arrives again and again (at half of WATCHDOG_USEC) while the bridge is well;
- SIGHUP gives RELOADING=1 then READY=1;
- with the core loop stuck (the test gateway's "stall"), WATCHDOG=1 stops, and comes back
  when the loop does;
- SIGTERM gives STOPPING=1 and exit 0.
A stalled media worker stopping the pings is tests/unit/core/test_notify.c (real workers):
nothing outside the process can stall one worker thread alone."""
import json
import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import Bridge, check, run  # noqa: E402

WATCHDOG_USEC = 1000000   # pings every 0.5 s


class Notify:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="tutti-notify-")
        self.path = os.path.join(self.dir.name, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.got = []  # (time, line)

    def recv(self, timeout):
        """Every state line that arrives within timeout seconds."""
        end = time.time() + timeout
        lines = []
        while True:
            left = end - time.time()
            if left <= 0:
                return lines
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return lines
            for line in data.decode().splitlines():
                lines.append(line)
                self.got.append((time.time(), line))

    def wait(self, want, timeout, what):
        """Lines up to and including the first `want`."""
        end = time.time() + timeout
        seen = []
        while time.time() < end:
            for line in self.recv(min(0.2, max(0.01, end - time.time()))):
                seen.append(line)
                if line == want:
                    return seen
        raise AssertionError("no %s within %.0f s (got %s)" % (what, timeout, seen))

    def close(self):
        self.sock.close()
        self.dir.cleanup()


def test_ready_watchdog_reload_stall_stop():
    nt = Notify()
    os.environ["NOTIFY_SOCKET"] = nt.path
    os.environ["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
    try:
        br = Bridge({"bridge": {"workers": 2, "shutdown_grace_ms": 1000}})
        br.start()   # returns once /api/health answers
    finally:
        del os.environ["NOTIFY_SOCKET"]
        del os.environ["WATCHDOG_USEC"]
    try:
        nt.wait("READY=1", 20, "READY=1")
        # several pings: the timer runs and the workers tick (generous window: ASan)
        lines = nt.recv(4.0)
        pings = lines.count("WATCHDOG=1")
        check(pings >= 3, "%d WATCHDOG=1 in 4 s at WATCHDOG_USEC=%d" % (pings, WATCHDOG_USEC))
        check("watchdog: pinging systemd every 500 ms" in br.read_log(),
              "the log does not say the watchdog runs:\n" + br.read_log()[-2000:])

        br.signal(signal.SIGHUP)
        seen = nt.wait("READY=1", 20, "READY=1 after SIGHUP")
        check("RELOADING=1" in seen, "READY=1 without RELOADING=1 before it: %s" % seen)
        check("configuration reloaded" in br.read_log(), "SIGHUP did not reload")

        # the core loop stuck for 4 s: no ping may claim the bridge is alive
        gw = br.testgw()
        gw.sock.sendall((json.dumps({"cmd": "stall", "ms": 4000}) + "\n").encode())
        time.sleep(1.0)        # a ping already on its way may still land
        nt.recv(0.05)
        during = nt.recv(2.0).count("WATCHDOG=1")
        check(during == 0, "%d WATCHDOG=1 while the core loop was stuck" % during)
        nt.wait("WATCHDOG=1", 15, "WATCHDOG=1 once the core loop runs again")
        status, body = br.http("GET", "/api/health", timeout=10)
        check(status == 200, "health after the stall: %s" % status)

        rc, _ = br.stop(timeout=20)
        check(rc == 0, "exit code %s after SIGTERM" % rc)
        lines = nt.recv(0.5)
        check("STOPPING=1" in [line for _, line in nt.got],
              "no STOPPING=1 on SIGTERM (got %s)" % lines)
    except Exception:
        sys.stderr.write("---- tutti log ----\n%s\n" % br.read_log()[-4000:])
        raise
    finally:
        br.kill()
        for g in br._gws:
            g.close()
        br.log.close()
        br.tmp.cleanup()
        nt.close()


if __name__ == "__main__":
    run([test_ready_watchdog_reload_stall_stop])
