"""Shutdown always ends: SIGTERM makes the process exit 0 within bridge.shutdown_grace_ms
(plus the 0.5 s margin of the watch thread) whatever the core loop is doing.

- the core thread blocked outright (the test gateway's "stall" command: the loop answers
  nothing, exactly like the core spinning in a library);
- the core busy with an HTTP flood on 127.0.0.1 (bounded in connections and time);
- the polite path still works and is quick when the loop is alive;
- a grace of 0 with the SIP gateway (sofia-sip used to abort in nua_destroy()).
The DNS black hole case is tests/integration/sip/test_dns.py."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import Bridge, check, run  # noqa: E402

GRACE_MS = 1000
MARGIN_S = 0.5       # TT__SHUTDOWN_MARGIN_MS
SLACK_S = 1.5        # process start-up of the exit, a busy 2-core CI machine under ASan


def sigterm_and_wait(br, limit):
    t0 = time.time()
    br.proc.send_signal(signal.SIGTERM)
    try:
        rc = br.proc.wait(timeout=limit + 5.0)
    except subprocess.TimeoutExpired:
        br.kill()
        raise AssertionError("no exit %.1f s after SIGTERM (killed):\n%s"
                             % (time.time() - t0, br.read_log()[-3000:]))
    took = time.time() - t0
    check(rc == 0, "exit code %s after SIGTERM:\n%s" % (rc, br.read_log()[-3000:]))
    check(took < limit, "took %.2f s to exit after SIGTERM (limit %.2f s)" % (took, limit))
    return took


def cleanup(br):
    br.kill()
    for gw in br._gws:
        gw.close()
    br.log.close()
    br.tmp.cleanup()


def test_sigterm_while_the_core_loop_is_stuck():
    br = Bridge({"bridge": {"shutdown_grace_ms": GRACE_MS}}).start()
    try:
        gw = br.testgw()
        # fire and forget: the reply would only come when the stall ends (30 s)
        gw.sock.sendall((json.dumps({"cmd": "stall", "ms": 30000}) + "\n").encode())
        time.sleep(0.3)
        try:
            br.http("GET", "/api/health", timeout=0.5)
            stuck = False
        except OSError:
            stuck = True
        check(stuck, "the stall did not block the core loop (test is not testing)")
        took = sigterm_and_wait(br, GRACE_MS / 1000 + MARGIN_S + SLACK_S)
        check(took >= GRACE_MS / 1000, "exited in %.2f s, before the grace period: the "
              "polite path cannot have run with the loop stuck" % took)
        log = br.read_log()
        check("signal received" in log and "exiting now" in log,
              "the watch thread did not say why it ended the process:\n" + log[-2000:])
    finally:
        cleanup(br)


def flood(port, stop, counters, max_conns):
    """Requests and half-sent requests to the HTTP port until stop is set or max_conns."""
    held = []
    try:
        while not stop.is_set() and counters["conns"] < max_conns:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
            except OSError:
                counters["refused"] += 1
                time.sleep(0.01)
                continue
            counters["conns"] += 1
            try:
                if counters["conns"] % 3:
                    s.sendall(b"GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
                    s.close()
                else:  # hold it open, half a request: the server must keep state for it
                    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
                    held.append(s)
            except OSError:
                s.close()
    finally:
        for s in held:
            s.close()


def test_sigterm_during_an_http_flood():
    br = Bridge({"bridge": {"shutdown_grace_ms": GRACE_MS}}).start()
    stop = threading.Event()
    counters = {"conns": 0, "refused": 0}
    threads = [threading.Thread(target=flood, args=(br.http_port, stop, counters, 6000),
                                daemon=True) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.0)
        check(counters["conns"] > 50, "the flood did not get going: %s" % counters)
        sigterm_and_wait(br, GRACE_MS / 1000 + MARGIN_S + SLACK_S)
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        cleanup(br)


def test_polite_shutdown_is_quick_when_the_loop_is_alive():
    br = Bridge({"bridge": {"shutdown_grace_ms": 5000}}).start()
    try:
        took = sigterm_and_wait(br, 2.0)
        check("exiting now" not in br.read_log(), "the watch thread fired on a live loop")
        check(took < 2.0, "took %.2f s" % took)
    finally:
        cleanup(br)


def test_grace_zero_with_sip():
    """shutdown_grace_ms = 0 leaves sofia-sip no loop iteration to finish nua_shutdown();
    its nua_destroy() used to assert and abort (exit -6) on every SIGTERM."""
    for _ in range(3):
        br = Bridge({"bridge": {"shutdown_grace_ms": 0}}).start()
        try:
            check(br.sip_port, "this build has no SIP gateway: nothing to test")
            sigterm_and_wait(br, MARGIN_S + SLACK_S)
        finally:
            cleanup(br)


if __name__ == "__main__":
    run([test_sigterm_while_the_core_loop_is_stuck, test_sigterm_during_an_http_flood,
         test_polite_shutdown_is_quick_when_the_loop_is_alive, test_grace_zero_with_sip])
