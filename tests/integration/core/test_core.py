"""Integration tests of the core through the real binary: HTTP, rooms, the text bus, roster
events, signals and the config tools."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import (BUILD_DIR, SOURCE_DIR, Bridge, BridgeError, check, default_sections,  # noqa: E402
                   run)


def test_health_rooms_and_sigterm():
    br = Bridge(binary="tutti").start()
    try:
        status, body = br.http("GET", "/api/health")
        check(status == 200 and body["status"] == "ok", "health: %s %s" % (status, body))
        status, body = br.http("GET", "/api/rooms")
        check(status == 200 and body == {"rooms": []}, "rooms: %s %s" % (status, body))
        status, body = br.http("GET", "/api/rooms/nope")
        check(status == 404 and "error" in body, "missing room: %s" % body)
        status, body = br.http("DELETE", "/api/health")
        check(status == 405, "DELETE health: %s" % status)
        status, page = br.http("GET", "/some-room")
        check(status == 200 and b"<html" in page, "room page: %s" % status)
        status, _ = br.http("GET", "/../../etc/passwd")
        check(status in (400, 403, 404), "path traversal answered %s" % status)
    finally:
        rc, took = br.stop()
        br.tmp.cleanup()
    check(rc == 0, "exit code %s after SIGTERM" % rc)
    check(took < 2.0, "took %.2f s to exit" % took)


def listening(port):
    """The local addresses a TCP socket of ours listens on at `port` (from /proc/net)."""
    found = []
    for name, width in (("tcp", 8), ("tcp6", 32)):
        with open("/proc/net/" + name) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:   # 0A: LISTEN
                    found.append(addr if width == 8 else "v6:" + addr)
    return found


def test_http_listens_only_where_told():
    """[http] listen = 127.0.0.1 (the default) binds the loopback address only: lws 4.1 binds
    an IPv4 iface to every address when it makes an IPv6 socket (libwebsockets#2290)."""
    with Bridge() as br:
        got = listening(br.http_port)
        check(got == ["0100007F"], "[http] listen 127.0.0.1 listens on %s" % got)


def test_join_roster_text_fanout():
    with Bridge() as br:
        g1, g2 = br.testgw(), br.testgw()
        a = g1.join("standup", "alice")
        b = g1.join("standup", "bob", caps=["text"])
        ev = g2.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "joined"
                           and e["who"]["name"] == "bob", what="bob joined")
        check(ev["who"]["network"] == "test" and not ev["who"]["audio"], "entry: %s" % ev)
        status, body = br.http("GET", "/api/rooms/standup")
        names = sorted(p["name"] for p in body["participants"])
        check(status == 200 and names == ["alice", "bob"], "room: %s" % body)
        g2.drain()
        r = g1.say(a, "hello room")
        check(r["ok"], "say: %s" % r)
        texts = [e for e in g2.drain(0.5) if e["ev"] == "text"]
        check(len(texts) == 1, "text delivered %d times to the test gateway" % len(texts))
        check(texts[0]["text"] == "hello room" and texts[0]["from"]["name"] == "alice",
              "text: %s" % texts[0])
        # bad text changes nothing and gets a clear error
        for bad, code in (("", "Invalid argument"), ("bell\x07", "not valid UTF-8 text"),
                          ("x" * 5000, "message too long")):
            r = g1.say(a, bad)
            check(not r["ok"] and r["error"] == code, "bad text %r: %s" % (bad[:10], r))
        check(not [e for e in g2.drain(0.3) if e["ev"] == "text"], "bad text was delivered")
        # a second participant of the same name gets a unique name
        c = g1.join("standup", "Alice")
        r = g1.cmd(cmd="roster", room="standup")
        names = sorted(p["name"] for p in r["roster"])
        check(names == ["Alice (2)", "alice", "bob"], "unique names: %s" % names)
        g1.leave(c)
        g1.cmd(cmd="state", id=a, muted=True)
        ev = g2.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "state",
                           what="muted event")
        check(ev["who"]["muted"], "muted: %s" % ev)
        g1.leave(a)
        g2.wait_event(lambda e: e["ev"] == "roster" and e["type"] == "left"
                      and e["who"]["id"] == a, what="alice left")
        g1.leave(b)
        time.sleep(0.1)
        status, body = br.http("GET", "/api/rooms")
        check(body["rooms"] == [], "on-demand room should end when empty: %s" % body)


def test_configured_rooms_pin_and_on_demand_off():
    with Bridge({"rooms": {"on_demand": False},
                 "room.board": {"pin": "1234", "moderator_pin": "9999", "speakers": 5}}) as br:
        g = br.testgw()
        r = g.cmd(cmd="join", room="random", name="x")
        check(not r["ok"] and r["code"] == -2, "unknown room must be ENOENT: %s" % r)
        r = g.cmd(cmd="join", room="board", name="x")
        check(not r["ok"] and r["code"] == -13, "missing PIN must be EACCES: %s" % r)
        r = g.cmd(cmd="join", room="board", name="x", pin="0000")
        check(not r["ok"] and r["code"] == -13, "wrong PIN must be EACCES: %s" % r)
        g.join("board", "x", pin="1234")
        m = g.join("board", "chair", pin="9999")
        r = g.cmd(cmd="roster", room="board")
        mods = [p["name"] for p in r["roster"] if p["moderator"]]
        check(mods == ["chair"], "moderator flag: %s" % r)
        status, body = br.http("GET", "/api/rooms/board")
        check(body["speakers"] == 5 and body["pin"] is True, "settings: %s" % body)
        g.leave(m)


def test_sighup_reload():
    with Bridge({"room.r1": {"pin": "1"}}) as br:
        g = br.testgw()
        # change a reloadable key (the PIN) and a static one (the HTTP port)
        conf = open(br.config_path).read().replace("pin = 1", "pin = 2")
        conf = conf.replace("port = %d" % br.http_port, "port = %d" % (br.http_port + 1))
        open(br.config_path, "w").write(conf)
        br.signal(signal.SIGHUP)
        time.sleep(0.5)
        log = br.read_log()
        check("need a restart" in log and "http.port" in log, "static key report:\n" + log)
        r = g.cmd(cmd="join", room="r1", name="x", pin="1")
        check(not r["ok"], "old PIN still works after reload: %s" % r)
        g.join("r1", "x", pin="2")
        # a broken file is refused and the running config stays
        open(br.config_path, "w").write("[bridge]\nworkers = lots\n")
        br.signal(signal.SIGHUP)
        time.sleep(0.5)
        check("reload refused" in br.read_log(), "refusal not logged")
        status, _ = br.http("GET", "/api/health")
        check(status == 200, "bridge died after a bad reload")


def test_check_config_and_sample():
    tutti = os.path.join(BUILD_DIR, "tutti")
    out = subprocess.run([tutti, "--print-default-config"], capture_output=True, text=True)
    check(out.returncode == 0, "print-default-config failed")
    sample = open(os.path.join(SOURCE_DIR, "docs", "tutti.conf.sample")).read()
    check(out.stdout == sample, "docs/tutti.conf.sample is out of date: run "
          "build/tutti --print-default-config > docs/tutti.conf.sample")
    with Bridge(binary="tutti") as br:
        bad = os.path.join(br.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("# comment\n[bridge]\nworkers = 999\nbogus = 1\n[nosuch]\nx = 1\n"
                    "[rooms]\nrate = 44100\njunk line\n")
        out = subprocess.run([tutti, "--check-config", bad], capture_output=True, text=True)
        check(out.returncode == 1, "check-config exit %d" % out.returncode)
        for want in ("bad.conf:4: bogus: unknown key", "bad.conf:5: nosuch: unknown section",
                     "bad.conf:9: junk line: expected"):
            check(want in out.stdout, "missing %r in:\n%s" % (want, out.stdout))
        # values are checked once the file parses
        with open(bad, "w") as f:
            f.write("[bridge]\nworkers = 999\n[rooms]\nrate = 44100\non_demand = maybe\n")
        out = subprocess.run([tutti, "--check-config", bad], capture_output=True, text=True)
        for want in ("bad.conf:2: workers: 999 is out of range [0, 256]",
                     "bad.conf:4: rate: '44100' is not one of 8000|16000|24000|48000",
                     "bad.conf:5: on_demand: expected a boolean"):
            check(want in out.stdout, "missing %r in:\n%s" % (want, out.stdout))
        good = os.path.join(br.dir, "good.conf")
        with open(good, "w") as f:
            f.write(sample)
        out = subprocess.run([tutti, "--check-config", good], capture_output=True, text=True)
        check(out.returncode == 0, "the sample itself must be valid: %s" % out.stdout)
        out = subprocess.run([tutti, "--config", bad], capture_output=True, text=True)
        check(out.returncode == 1 and "workers" in out.stderr, "bad config must not start")
    out = subprocess.run([tutti, "--version"], capture_output=True, text=True)
    check(out.returncode == 0 and out.stdout.startswith("tutti "), "--version")
    out = subprocess.run([tutti, "--help"], capture_output=True, text=True)
    check(out.returncode == 0 and "--check-config" in out.stdout, "--help")


def test_check_config_asks_enabled_gateways():
    """--check-config runs a gateway's own check (a key another one makes required) for the
    gateways the file enables: the xmpp gateway names a missing secret."""
    tutti = os.path.join(BUILD_DIR, "tutti")
    if "xmpp" not in default_sections(tutti):
        print("(no xmpp gateway in this build: skipped)")
        return
    import tempfile
    with tempfile.TemporaryDirectory(prefix="tutti-conf-") as d:
        path = os.path.join(d, "x.conf")
        with open(path, "w") as f:
            f.write("[bridge]\nworkers = 1\n[xmpp]\nenabled = true\n"
                    "domain = conference.example.org\n")
        out = subprocess.run([tutti, "--check-config", path], capture_output=True, text=True)
        check(out.returncode == 1, "a missing secret must fail: %s" % out.stdout)
        check("x.conf:4: [xmpp] secret: required" in out.stdout,
              "the secret named at the section's enabled line: %r" % out.stdout)
        # the daemon itself, on free ports: another suite may hold 8080 or 5060, and a
        # refusal for that would hide the one this checks
        import ttlib
        with open(path, "a") as f:
            f.write("[http]\nport = %d\n" % ttlib.free_port())
            if "sip" in default_sections(tutti):
                f.write("[sip]\nport = %d\n" % ttlib.free_port_udp_tcp())
        out = subprocess.run([tutti, "--config", path], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 1 and "[xmpp] secret: required" in out.stderr,
              "the daemon refuses it too: %r" % out.stderr[-500:])
        with open(path, "w") as f:
            f.write("[xmpp]\nenabled = false\n")
        out = subprocess.run([tutti, "--check-config", path], capture_output=True, text=True)
        check(out.returncode == 0, "a disabled gateway is not asked: %s" % out.stdout)
        with open(path, "w") as f:
            f.write("[xmpp]\nenabled = true\ndomain = c.example.org\nsecret = s\n")
        out = subprocess.run([tutti, "--check-config", path], capture_output=True, text=True)
        check(out.returncode == 0, "complete: %s" % out.stdout)


def test_shutdown_hangs_up_politely():
    br = Bridge().start()
    try:
        g = br.testgw()
        g.join("r", "a")
        g.join("r", "b")
    finally:
        rc, took = br.stop()
        log = br.read_log()
        br.tmp.cleanup()
    check(rc == 0 and took < 2.0, "exit %s in %.2f s" % (rc, took))
    check(log.count("left r") == 2, "participants not hung up:\n" + log)


def test_https_when_a_certificate_is_configured():
    import http.client
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tutti-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    out = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                          "-days", "1", "-subj", "/CN=localhost"], capture_output=True)
    check(out.returncode == 0, "openssl: %s" % out.stderr)
    with Bridge({"http": {"tls_cert": cert, "tls_key": key}}) as br:
        status, body = br.http("GET", "/api/health")  # over TLS, checked against cert
        check(status == 200 and body["status"] == "ok", "https health: %s" % status)
        try:
            plain = http.client.HTTPConnection("127.0.0.1", br.http_port, timeout=3)
            plain.request("GET", "/api/health")
            answered = plain.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            answered = False
        check(not answered, "plain HTTP must not be served when TLS is configured")
        garbage_then_healthy(br)


def garbage_then_healthy(br):
    """Junk on the HTTP port (half requests, binary, huge headers) must not hurt the bridge."""
    import socket
    junk = [b"\x16\x03\x01\x00\x05hello", b"GET / HTTP/1.1\r\n", b"\x00" * 1000,
            b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
            b"POST /api/rooms/x/participants HTTP/1.1\r\nContent-Length: 100\r\n\r\n{",
            b"PUT /api/rooms/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]
    for j in junk:
        s = socket.create_connection(("127.0.0.1", br.http_port), timeout=2)
        try:
            s.sendall(j)
            s.settimeout(0.3)
            try:
                s.recv(4096)
            except OSError:
                pass
        finally:
            s.close()
    status, body = br.http("GET", "/api/health")
    check(status == 200, "bridge unhealthy after junk input")


def test_http_junk_input():
    with Bridge() as br:
        garbage_then_healthy(br)
        status, body = br.http("POST", "/api/rooms/x/participants", b"x" * 70000)
        check(status == 413, "oversized body: %s" % status)


if __name__ == "__main__":
    run([test_health_rooms_and_sigterm, test_http_listens_only_where_told,
         test_join_roster_text_fanout,
         test_configured_rooms_pin_and_on_demand_off, test_sighup_reload,
         test_check_config_and_sample, test_check_config_asks_enabled_gateways,
         test_shutdown_hangs_up_politely,
         test_https_when_a_certificate_is_configured, test_http_junk_input])
