"""tutti speaks systemd's notify protocol (bridge/notify/): the test owns the NOTIFY_SOCKET
(a unix datagram socket) and asks for a watchdog with WATCHDOG_USEC, as systemd would.

- READY=1 arrives (after the gateways started and HTTP listens);
- WATCHDOG=1 arrives again and again (at half of WATCHDOG_USEC) while the bridge is well;
- SIGHUP gives RELOADING=1 then READY=1;
- with the core loop stuck (the test gateway's "stall"), WATCHDOG=1 stops, and comes back
  when the loop does;
- SIGTERM gives STOPPING=1 and exit 0;
- with one media worker thread stopped (ptrace stops that thread alone: PTRACE_SEIZE and
  PTRACE_INTERRUPT on its task id) while the core loop and the other worker run, WATCHDOG=1
  stops, and comes back once the thread runs again. Needs ptrace rights (root, or
  CAP_SYS_PTRACE); skipped with a message without them.
tests/unit/core/test_notify.c checks the same decision on real workers in-process."""
import ctypes
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


PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000  # __WALL: wait for a thread (clone child) too


def thread_id(pid, name):
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() == name:
                    return int(tid)
        except OSError:
            pass
    return None


class ThreadStop:
    """Stops one thread of another process (not the others: ptrace is per thread); the
    stop ends at resume() or when this process exits (the kernel detaches)."""

    def __init__(self, tid):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                     ctypes.c_void_p]
        self.libc.ptrace.restype = ctypes.c_long
        self.tid = tid
        self.attached = False

    def stop(self):
        if self.libc.ptrace(PTRACE_SEIZE, self.tid, None, None) != 0:
            return os.strerror(ctypes.get_errno())
        self.attached = True
        if self.libc.ptrace(PTRACE_INTERRUPT, self.tid, None, None) != 0:
            return os.strerror(ctypes.get_errno())
        os.waitpid(self.tid, WALL)
        return None

    def resume(self):
        if self.attached:
            self.libc.ptrace(PTRACE_DETACH, self.tid, None, None)
            self.attached = False


def test_watchdog_stops_while_one_worker_is_stopped():
    nt = Notify()
    os.environ["NOTIFY_SOCKET"] = nt.path
    os.environ["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
    try:
        br = Bridge({"bridge": {"workers": 2}})
        br.start()
    finally:
        del os.environ["NOTIFY_SOCKET"]
        del os.environ["WATCHDOG_USEC"]
    ts = None
    try:
        nt.wait("READY=1", 20, "READY=1")
        nt.wait("WATCHDOG=1", 10, "a first WATCHDOG=1")
        tid = thread_id(br.proc.pid, "tt-media-1")
        check(tid, "no thread tt-media-1 in tutti")
        ts = ThreadStop(tid)
        err = ts.stop()
        if err:
            print("skipped: cannot ptrace the worker thread (%s); needs root or "
                  "CAP_SYS_PTRACE" % err)
            return
        time.sleep(1.0)        # a check that saw the last ticks may still ping
        nt.recv(0.05)
        during = nt.recv(2.0).count("WATCHDOG=1")
        # the core loop still answers: only the worker is stopped
        status, _ = br.http("GET", "/api/health", timeout=10)
        check(status == 200, "health with one worker stopped: %s" % status)
        check(during == 0, "%d WATCHDOG=1 while a media worker was stopped" % during)
        ts.resume()
        nt.wait("WATCHDOG=1", 15, "WATCHDOG=1 once the worker runs again")
        log = br.read_log()
        check("a media worker has not ticked" in log and "every media worker ticks again"
              in log, "the log does not tell the held-back pings:\n" + log[-2000:])
        rc, _ = br.stop(timeout=20)
        check(rc == 0, "exit code %s after SIGTERM" % rc)
    except Exception:
        sys.stderr.write("---- tutti log ----\n%s\n" % br.read_log()[-4000:])
        raise
    finally:
        if ts:
            ts.resume()
        br.kill()
        for g in br._gws:
            g.close()
        br.log.close()
        br.tmp.cleanup()
        nt.close()


if __name__ == "__main__":
    run([test_ready_watchdog_reload_stall_stop, test_watchdog_stops_while_one_worker_is_stopped])
