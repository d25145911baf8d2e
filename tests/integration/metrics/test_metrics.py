#!/usr/bin/env python3
"""integration_metrics: GET /metrics on a real tutti-test.

Load: plain RTP participants made through the admin API, each fed 20 ms PCMU packets from
a UDP socket of this test, and text participants of the test gateway. Checked: the
exposition passes `promtool check metrics` (skipped, saying so, without Debian's
prometheus), participant gauges and packet counters move with the load and the gauges come
back to zero when everyone left while counters never go down, the tick histogram fills,
[http] metrics_token is enforced, a real Prometheus server scrapes it, and the log formats
are what they say.
"""
import http.client
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import BUILD_DIR, SOURCE_DIR, Bridge, check, free_port, run, wait_for  # noqa: E402

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, frozenset(labels)): value}; also checks every family's samples are
    together and each has HELP and TYPE (what promtool checks too, for when it is absent)."""
    out, typed, seen_done, current = {}, {}, set(), None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            check(name not in typed, "family %s twice" % name)
            typed[name] = kind
            if current:
                seen_done.add(current)
            current = name
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        check(m, "not a sample line: %r" % line)
        name = m.group(1)
        fam = re.sub(r'_(bucket|sum|count)$', '', name) if name not in typed else name
        check(fam == current, "%s outside its family (in %s)" % (name, current))
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(name, labels)] = float(m.group(4))
    return out, typed


def value(samples, name, **labels):
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def scrape(br, headers=None):
    status, body = br.http("GET", "/metrics", headers=headers)
    check(status == 200, "GET /metrics: %s %r" % (status, body))
    return body.decode()


def promtool_lint(text):
    tool = shutil.which("promtool")
    if not tool:
        print("SKIP promtool lint: promtool not installed (Debian package prometheus); "
              "the format was checked by this test's own parser only", flush=True)
        return
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics: %s%s" % (p.stdout, p.stderr))


def docs_match_scrape(typed):
    """docs/operations.md's table names every family a loaded bridge exposes, with its
    type, and nothing it does not (rows with a pattern, like the XMPP gateway's, are for
    gateways this test does not run)."""
    with open(os.path.join(SOURCE_DIR, "docs", "operations.md")) as f:
        rows = re.findall(r'^\| `([a-z0-9_]+)` \| (\w*) \|', f.read(), re.M)
    documented = dict(rows)
    missing = sorted(set(typed) - set(documented))
    check(not missing, "in /metrics but not in docs/operations.md: %s" % missing)
    extra = sorted(set(documented) - set(typed))
    check(not extra, "in docs/operations.md but not in /metrics: %s" % extra)
    wrong = sorted(n for n in typed if documented[n] != typed[n])
    check(not wrong, "types differ from docs/operations.md: %s" % wrong)


class Sender:
    """One plain RTP participant's peer: sends PCMU every 20 ms from its own socket."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.remote = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent = 0

    def start(self, local):
        host, port = local.rsplit(":", 1)
        self.dest = (host, int(port))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        ssrc, seq, ts = 0x1234 + self.sock.getsockname()[1], 0, 0
        nxt = time.monotonic()
        while not self.stop.is_set():
            pkt = struct.pack("!BBHII", 0x80, 0, seq & 0xffff, ts & 0xffffffff, ssrc)
            self.sock.sendto(pkt + b"\xd5" * 160, self.dest)
            self.sent += 1
            seq, ts = seq + 1, ts + 160
            nxt += 0.02
            time.sleep(max(0, nxt - time.monotonic()))

    def close(self):
        self.stop.set()
        if hasattr(self, "thread"):
            self.thread.join(2)
        self.sock.close()


def test_metrics_follow_the_load():
    recdir = tempfile.mkdtemp(prefix="tt-metrics-rec-")
    with Bridge({"rooms": {"on_demand": True},
                 "recording": {"enabled": True, "dir": recdir}}) as br:
        text = scrape(br)
        promtool_lint(text)
        s0, typed = parse(text)
        check(typed.get("tutti_worker_tick_duration_seconds") == "histogram", "tick histogram")
        check(typed.get("tutti_leg_packets_in_total") == "counter", "packet counter")
        check(value(s0, "tutti_build_info") == 1, "build_info")
        check(value(s0, "process_open_fds") > 0 and value(s0, "process_max_fds") > 0, "fds")
        check(value(s0, "process_resident_memory_bytes") > 1e6, "rss")
        check(value(s0, "tutti_participants") == 0, "nobody yet")
        ticks0 = value(s0, "tutti_worker_tick_duration_seconds_count")

        senders, ids = [], []
        for i in range(3):
            snd = Sender()
            st, body = br.http("POST", "/api/rooms/load/participants",
                               {"name": "peer%d" % i, "remote": snd.remote, "codec": "pcmu"})
            check(st == 201, "POST participant: %s %s" % (st, body))
            snd.start(body["local"])
            senders.append(snd)
            ids.append(body["id"])
        gw = br.testgw()
        text_ids = [gw.join("load", "reader%d" % i, caps=("text",)) for i in range(2)]
        st, body = br.http("POST", "/api/rooms/load/recording", {"action": "start"})
        check(st in (200, 201), "recording: %s %s" % (st, body))
        try:
            # a worker reports once a second: wait for packets to show
            def moved():
                s, _ = parse(scrape(br))
                return s if value(s, "tutti_leg_packets_in_total", gateway="rtp",
                                  codec="pcmu") >= 100 else None
            s1 = wait_for(moved, timeout=30, what="packets_in to reach 100")
            check(value(s1, "tutti_participants", gateway="rtp", codec="pcmu") == 3,
                  "3 rtp participants: %s" % value(s1, "tutti_participants", gateway="rtp"))
            check(value(s1, "tutti_participants", gateway="testgw", codec="none") == 2,
                  "2 text participants")
            check(value(s1, "tutti_rooms") == 1, "one room")
            check(value(s1, "tutti_joins_total", gateway="rtp") == 3, "3 rtp joins")
            check(value(s1, "tutti_leg_bytes_in_total", gateway="rtp") >= 100 * 172,
                  "bytes in")
            check(value(s1, "tutti_leg_packets_out_total", gateway="rtp") > 0, "packets out")
            check(value(s1, "tutti_mixer_decodes_total") > 0, "decodes")
            check(value(s1, "tutti_mixer_inputs") == 3, "3 mixer inputs")
            check(value(s1, "tutti_worker_tick_duration_seconds_count") > ticks0,
                  "the tick histogram counts")
            check(value(s1, "tutti_leg_jitter_seconds_count") > 0, "jitter observed")
            check(value(s1, "tutti_gateway_rtp_participants") == 3, "the rtp gateway's table")
            docs_match_scrape(parse(scrape(br))[1])
            check(value(s1, "tutti_recordings") == 1, "one recording")
            wait_for(lambda: value(parse(scrape(br))[0], "tutti_recording_bytes_total") > 0,
                     timeout=20, what="recording bytes")
            promtool_lint(scrape(br))
        finally:
            for snd in senders:
                snd.close()
        for pid in ids:
            st, _ = br.http("DELETE", "/api/rooms/load/participants/" + pid)
            check(st == 200, "DELETE participant")
        for pid in text_ids:
            gw.leave(pid)

        def empty():
            s, _ = parse(scrape(br))
            return s if value(s, "tutti_participants") == 0 and \
                value(s, "tutti_rooms") == 0 else None
        s2 = wait_for(empty, timeout=20, what="participants and rooms back to 0")
        # counters of legs and rooms that are gone stay: _total never goes down
        for name in ("tutti_leg_packets_in_total", "tutti_leg_bytes_in_total",
                     "tutti_mixer_decodes_total", "tutti_mixer_ticks_total",
                     "tutti_recording_bytes_total"):
            check(value(s2, name) >= value(s1, name),
                  "%s went down: %s -> %s" % (name, value(s1, name), value(s2, name)))
        check(value(s2, "tutti_leaves_total", gateway="rtp") == 3, "3 rtp leaves")
        check(value(s2, "tutti_leaves_total", gateway="testgw") == 2, "2 testgw leaves")
        check(value(s2, "tutti_leg_talking") == 0, "no talking legs left")
        check(value(s2, "tutti_recordings") == 0, "the recording ended with the room")
        check(value(s2, "tutti_recording_bytes_total") > 0, "its bytes stay counted")
        promtool_lint(scrape(br))
    shutil.rmtree(recdir, ignore_errors=True)


def test_websocket_counters():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webrtc"))
    from wsclient import WsClient  # noqa: E402
    with Bridge() as br:
        s0, _ = parse(scrape(br))
        check(value(s0, "tutti_websocket_connections") == 0, "no WebSocket yet")
        ws = WsClient(br.http_port, path="/api/events")   # the core's own endpoint
        s1 = wait_for(lambda: (lambda s: s if value(s, "tutti_websocket_connections") == 1
                               else None)(parse(scrape(br))[0]), timeout=10,
                      what="one WebSocket connection")
        check(value(s1, "tutti_websocket_opened_total") == 1, "opened_total")
        ws.close()
        s2 = wait_for(lambda: (lambda s: s if value(s, "tutti_websocket_connections") == 0
                               else None)(parse(scrape(br))[0]), timeout=10,
                      what="the WebSocket to close")
        check(value(s2, "tutti_websocket_closed_total") == 1, "closed_total")
        check(value(s2, "tutti_websocket_dropped_not_reading_total") == 0, "no drops")


def test_sip_requests_and_responses_counted():
    with Bridge({"room.secret": {"pin": "1234"}}) as br:
        if not br.sip_port:
            print("SKIP test_sip_requests_and_responses_counted: this build has no SIP "
                  "gateway", flush=True)
            return
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        msg = ("OPTIONS sip:bridge@127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-metrics1\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=m1\r\n"
               "To: <sip:bridge@127.0.0.1>\r\nCall-ID: metrics-1@127.0.0.1\r\n"
               "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") % (br.sip_port, port)
        u.sendto(msg.encode(), ("127.0.0.1", br.sip_port))
        u.settimeout(10)
        reply = u.recv(65536).decode(errors="replace")
        check(reply.startswith("SIP/2.0 200"), "OPTIONS answered: %r" % reply[:80])
        # a MESSAGE to a room with a PIN: 404 (no hint to an outsider), a 4xx we send
        body = "hello"
        msg = ("MESSAGE sip:secret@127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-metrics2\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=m2\r\n"
               "To: <sip:secret@127.0.0.1>\r\nCall-ID: metrics-2@127.0.0.1\r\n"
               "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n"
               "Content-Length: %d\r\n\r\n%s") % (br.sip_port, port, len(body), body)
        u.sendto(msg.encode(), ("127.0.0.1", br.sip_port))
        reply = u.recv(65536).decode(errors="replace")
        u.close()
        check(reply.startswith("SIP/2.0 404"), "MESSAGE to a PIN room answered: %r" % reply[:80])
        s, _ = parse(scrape(br))
        for cls, want in (("1xx", 0), ("2xx", 1), ("4xx", 1), ("5xx", 0)):
            got = value(s, "tutti_gateway_sip_responses_%s_total" % cls)
            check(got == want, "%s responses counted: %s, want %s" % (cls, got, want))
        check(value(s, "tutti_gateway_sip_requests_options_total") == 1,
              "OPTIONS counted: %s" % value(s, "tutti_gateway_sip_requests_options_total"))
        check(value(s, "tutti_gateway_sip_requests_invite_total") == 0, "no INVITE")
        check(value(s, "tutti_gateway_sip_requests_message_total") == 1, "one MESSAGE")


def test_irc_links_per_network():
    """Two [irc.NAME] networks, one a real ngircd and one a closed port: /metrics tells them
    apart by their network label (link up 1 and 0, drops growing on the dead one), and both
    series stay while a link is down (a series that vanishes reads as no data)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "irc"))
    from ircenv import NgIrcd, have_ngircd  # noqa: E402
    if not have_ngircd():
        print("SKIP test_irc_links_per_network: no ngircd (Debian package ngircd)",
              flush=True)
        return
    closed = free_port()   # bound once and released: nothing listens there
    net = {"server": "127.0.0.1", "channels": "#chan=links", "reconnect_min": 1,
           "reconnect_max": 2}
    with NgIrcd() as srv:
        sections = {"rooms": {"on_demand": True},
                    "irc.libera": dict(net, port=srv.port),
                    "irc.dead": dict(net, port=closed)}
        with Bridge(sections) as br:
            def link(name, s):
                return value(s, "tutti_gateway_irc_link_up", network=name)

            def labelled(s, name):
                return {dict(ls).get("network") for (n, ls), _ in s.items() if n == name}

            def dead_dropped_twice():
                s, _ = parse(scrape(br))
                return s if link("libera", s) == 1 and value(
                    s, "tutti_gateway_irc_drops_total", network="dead") >= 2 else None
            s1 = wait_for(dead_dropped_twice, timeout=60,
                          what="libera up and two drops on the dead network")
            check(link("dead", s1) == 0, "dead link_up: %s" % link("dead", s1))
            check(value(s1, "tutti_gateway_irc_registrations_total", network="libera") == 1,
                  "libera registered once")
            check(value(s1, "tutti_gateway_irc_registrations_total", network="dead") == 0,
                  "dead never registered")
            check(value(s1, "tutti_gateway_irc_drops_total", network="libera") == 0,
                  "libera never dropped")
            check(value(s1, "tutti_gateway_irc_up_seconds", network="dead") == 0,
                  "dead up_seconds")
            check(value(s1, "tutti_gateway_irc_last_error_age_seconds", network="dead") > 0,
                  "dead last_error_age_seconds")
            check(value(s1, "tutti_gateway_irc_networks") == 2 and
                  value(s1, "tutti_gateway_irc_links_up") == 1, "the totals")
            for name in ("tutti_gateway_irc_link_up", "tutti_gateway_irc_drops_total",
                         "tutti_gateway_irc_registrations_total",
                         "tutti_gateway_irc_lines_queued"):
                check(labelled(s1, name) == {"libera", "dead"}, "%s: %s" % (
                    name, labelled(s1, name)))
            d1 = value(s1, "tutti_gateway_irc_drops_total", network="dead")
            text = scrape(br)
            promtool_lint(text)
            docs_match_scrape(parse(text)[1])

            # the server goes: libera's link is down and its series stay, at 0
            srv.stop()

            def libera_down():
                s, _ = parse(scrape(br))
                return s if link("libera", s) == 0 and value(
                    s, "tutti_gateway_irc_drops_total", network="libera") >= 1 else None
            s2 = wait_for(libera_down, timeout=60, what="libera's link to drop")
            check(labelled(s2, "tutti_gateway_irc_link_up") == {"libera", "dead"},
                  "both series stay: %s" % labelled(s2, "tutti_gateway_irc_link_up"))
            check(value(s2, "tutti_gateway_irc_registrations_total", network="libera") == 1,
                  "a counter stays when its link is down")
            check(value(s2, "tutti_gateway_irc_drops_total", network="dead") >= d1,
                  "drops never go down")
            check(value(s2, "tutti_gateway_irc_links_up") == 0, "no link up")
            _, body = br.http("GET", "/api/gateways")
            irc = [g for g in body["gateways"] if g["name"] == "irc"][0]
            nets = {i["network"]: i for i in irc["instances"]}
            check(set(nets) == {"libera", "dead"} and not nets["dead"]["link_up"] and
                  nets["dead"]["last_error"], "JSON instances: %s" % irc["instances"])
            promtool_lint(scrape(br))


def test_metrics_token():
    token = "s3cret-token"
    with Bridge({"http": {"admin_token": token}}) as br:
        check(br.http("GET", "/metrics")[0] == 200, "open by default")
    with Bridge({"http": {"admin_token": token, "metrics_token": True}}) as br:
        st, body = br.http("GET", "/metrics")
        check(st == 401, "no token: %s" % st)
        st, _ = br.http("GET", "/metrics", headers={"Authorization": "Bearer wrong"})
        check(st == 401, "wrong token: %s" % st)
        text = scrape(br, headers={"Authorization": "Bearer " + token})
        check("tutti_build_info" in text, "with the token")
        st, _ = br.http("POST", "/metrics")
        check(st == 405, "POST /metrics: %s" % st)


def test_prometheus_scrapes_it():
    """A real Prometheus server scrapes the bridge (with the token required) and can query
    what it got: the format, the content type and the bearer token as a server sees them."""
    tool = shutil.which("prometheus")
    if not tool:
        print("SKIP test_prometheus_scrapes_it: no prometheus server (Debian package "
              "prometheus)", flush=True)
        return
    token = "scrape-token"
    with Bridge({"http": {"admin_token": token, "metrics_token": True}}) as br:
        pdir = tempfile.mkdtemp(prefix="tt-prom-")
        port = free_port()
        with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: tutti\n"
                    "    authorization:\n      credentials: %s\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                    % (token, br.http_port))
        log = open(os.path.join(pdir, "prometheus.log"), "w")
        proc = subprocess.Popen([tool, "--config.file=" + os.path.join(pdir, "prometheus.yml"),
                                 "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=log, stderr=subprocess.STDOUT, cwd=pdir)
        try:
            def query(q):
                url = "/api/v1/query?query=" + urllib.parse.quote(q)
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", url)
                    r = json.loads(c.getresponse().read())
                    c.close()
                except (OSError, ValueError):
                    return None
                res = r.get("data", {}).get("result", [])
                return float(res[0]["value"][1]) if res else None
            wait_for(lambda: query('up{job="tutti"}') == 1, timeout=60,
                     what="Prometheus to scrape tutti (up == 1)")
            check(query("tutti_build_info") == 1, "tutti_build_info through Prometheus")
            check(query("sum(tutti_worker_ticks_total)") > 0, "ticks through Prometheus")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            shutil.rmtree(pdir, ignore_errors=True)


def test_log_formats():
    for fmt in ("json", "logfmt"):
        with Bridge(args=["--log-format", fmt]) as br:
            br.http("GET", "/api/rooms/nope")   # something to log besides start-up
            log = br.read_log()
        lines = [l for l in log.splitlines() if l.strip()]
        check(len(lines) >= 3, "%s: too few lines" % fmt)
        started = []
        for l in lines:
            if fmt == "json":
                o = json.loads(l)
                check(list(o)[:3] == ["ts", "level", "domain"] and list(o)[-1] == "msg",
                      "json keys: %s" % l)
                check(all(re.match(r"^[a-z0-9_]+$", k) and isinstance(v, str)
                          for k, v in o.items()), "json fields: %s" % l)
                check(o["level"] in ("error", "warn", "info", "debug"), "level: %s" % l)
                if o.get("event") == "gateway_started":
                    started.append(o.get("gateway"))
            else:
                # fields of events (event=join room=ops ...) sit between domain and msg,
                # bare when plain, quoted otherwise
                m = re.match(r'^ts=\S+Z level=(error|warn|info|debug) domain=\S+ '
                             r'((?:[a-z0-9_]+=(?:[^\s"=\\]+|"(?:[^"\\]|\\.)*") )*)'
                             r'msg="(?:[^"\\]|\\.)*"$', l)
                check(m, "logfmt: %s" % l)
                g = re.search(r"(?:^| )event=gateway_started gateway=(\S+) ", m.group(2))
                if g:
                    started.append(g.group(1))
        check("rtp" in started, "%s: no event=gateway_started gateway=rtp line" % fmt)
    # stderr is "the journal" when JOURNAL_STREAM names its device and inode: the log file
    # is made first, so its inode is known (the Bridge opens it again, truncating)
    for fmt, first in (("logfmt", "<6>ts="), ("json", "<6>{")):
        br = Bridge(args=["--log-format", fmt])
        open(br.log_path, "w").close()
        st = os.stat(br.log_path)
        os.environ["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        try:
            with br:
                log = br.read_log()
        finally:
            del os.environ["JOURNAL_STREAM"]
        lines = [l for l in log.splitlines() if l.strip()]
        check(lines and all(re.match(r"^<[3467]>", l) for l in lines),
              "journal prefixes: %s" % lines[:3])
        check(any(l.startswith(first) for l in lines), "an info line: %s" % lines[:3])
    # a JOURNAL_STREAM that is not our stderr (a wrapper redirected it): no prefix
    br = Bridge(args=["--log-format", "logfmt"])
    os.environ["JOURNAL_STREAM"] = "1:1"
    try:
        with br:
            log = br.read_log()
    finally:
        del os.environ["JOURNAL_STREAM"]
    check(log.startswith("ts="), "no prefix for another stream: %s" % log[:60])
    p = subprocess.run([os.path.join(BUILD_DIR, "tutti-test"),
                        "--log-format", "yaml"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "log-format" in p.stderr, "bad --log-format: %s" % p.stderr)


if __name__ == "__main__":
    run([test_metrics_follow_the_load, test_websocket_counters, test_sip_requests_and_responses_counted,
         test_irc_links_per_network, test_metrics_token, test_prometheus_scrapes_it, test_log_formats])
