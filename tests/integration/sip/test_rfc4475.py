"""RFC 4475 torture messages against the SIP gateway: every message of the shared corpus
is sent as one UDP datagram from a fresh socket, the outcome compared with MANIFEST.tsv,
and the bridge must answer OPTIONS right after each one.

Replies: the bridge answers UDP requests to their source address (symmetric response,
[sip] symmetric_response, on by default for NAT), so this test does not need the Via
sent-by addresses of the corpus (192.0.2.x, example.com names) to exist."""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import SHARED_DIR, Bridge, check, free_port, run  # noqa: E402
from siplib import UA, Msg  # noqa: E402

CORPUS = os.path.join(SHARED_DIR, "corpora", "sip", "rfc4475")


def manifest():
    rows = []
    with open(os.path.join(CORPUS, "MANIFEST.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, section, expected, note = line.rstrip("\n").split("\t", 3)
            rows.append((name, section, expected, note))
    return rows


def outcome_ok(expected, status):
    """expected: 'process', 'drop', 'NNN/MMM', alternatives joined with '|'."""
    for alt in expected.split("|"):
        if alt == "drop" and status is None:
            return True
        if alt == "process" and status is not None and status != 400:
            return True
        if alt[:1].isdigit() and status is not None and str(status) in alt.split("/"):
            return True
    return False


def top_via_transport(data):
    """Transport of the first Via: sofia drops a request whose Via names another transport
    than the one it came on, so a TCP-Via message goes over TCP as RFC 4475 meant it."""
    m = re.search(rb"^(?:via|v)\s*:\s*SIP\s*/\s*[\d.]+\s*/\s*(\w+)", data,
                  re.IGNORECASE | re.MULTILINE)
    return m.group(1).decode().upper() if m else "UDP"


# sofia-sip's transport layer drops these before any application code sees them (a Via that
# does not parse, a Via naming TCP on a UDP datagram); the gateway's guard (gateways/sip/
# guard.h) answers them from the raw datagram. They go over UDP whatever their Via says.
GUARDED = {"badvers.dat", "intmeth.dat"}


def make_cert(d):
    """A self-signed certificate in sofia's layout (agent.pem = key + certificate)."""
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    with open(os.path.join(d, "agent.pem"), "w") as out:
        out.write(open(key).read() + open(crt).read())
    with open(os.path.join(d, "cafile.pem"), "w") as out:
        out.write(open(crt).read())


def send_tls(port, data, wait):
    return send_tcp(port, data, wait, tls=True)


def send_tcp(port, data, wait, tls=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE   # our own throw-away certificate
        s = ctx.wrap_socket(s)
    buf = b""
    try:
        s.sendall(data)
        deadline = time.time() + wait
        while time.time() < deadline:
            s.settimeout(max(0.001, deadline - time.time()))
            try:
                chunk = s.recv(65535)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            while b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                cl = re.search(rb"^(?:content-length|l)\s*:\s*(\d+)", head,
                               re.IGNORECASE | re.MULTILINE)
                n = int(cl.group(1)) if cl else 0
                m = Msg(head + b"\r\n\r\n" + rest[:n], None)
                buf = rest[n:]
                if m.status and m.status >= 200:
                    return m
        return None
    finally:
        s.close()


def send_one(port, data, wait):
    """Final status of the first final response to one datagram, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        s.sendto(data, ("127.0.0.1", port))
        deadline = time.time() + wait
        while time.time() < deadline:
            s.settimeout(max(0.001, deadline - time.time()))
            try:
                raw, _ = s.recvfrom(65535)
            except (socket.timeout, ConnectionRefusedError):
                continue
            m = Msg(raw, None)
            if m.status and m.status >= 200:
                return m
        return None
    finally:
        s.close()


def test_corpus_outcomes_and_options_after_each():
    if not os.path.exists(os.path.join(CORPUS, "MANIFEST.tsv")):
        print("skip: no RFC 4475 corpus at %s (set TT_SHARED_DIR)" % CORPUS, flush=True)
        return
    rows = manifest()
    check(len(rows) == 49, "MANIFEST has %d rows, expected 49" % len(rows))
    certs = tempfile.TemporaryDirectory(prefix="tutti-sip-certs-")
    make_cert(certs.name)
    tls_port = free_port()
    with Bridge({"rooms": {"on_demand": False},
                 "sip": {"tls_port": tls_port, "tls_cert_dir": certs.name}}) as br:
        ua = UA(br.sip_port)
        bad = []
        for name, section, expected, note in rows:
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read()
            may_drop = "drop" in expected
            transport = "UDP" if name in GUARDED else top_via_transport(data)
            send = {"TCP": send_tcp, "TLS": send_tls}.get(transport, send_one)
            port = tls_port if transport == "TLS" else br.sip_port
            m = send(port, data, 0.6 if may_drop else 2.0)
            status = m.status if m else None
            if name in GUARDED and m:
                call_id = re.search(rb"^Call-ID:[ \t]*(.*?)\r$", data, re.M | re.I).group(1)
                if m.h("call-id", "").encode("utf-8", "surrogateescape") != call_id:
                    bad.append("%s: the answer's Call-ID is not the request's" % name)
                if ";tag=" not in m.h("to", ""):
                    bad.append("%s: the answer's To has no tag" % name)
                if status == 501 and not m.h("allow"):
                    bad.append("%s: 501 without Allow" % name)
            if not outcome_ok(expected, status):
                bad.append("%s (%s): expected %s, got %s" % (name, section, expected, status))
            if m and status == 420:
                if not m.h("unsupported"):
                    bad.append("%s: 420 without Unsupported" % name)
            if m and status == 415 and not m.h("accept"):
                bad.append("%s: 415 without Accept" % name)
            r = ua.options()
            if not r or r.status != 200:
                bad.append("%s: OPTIONS afterwards got %s" % (name, r and r.status))
            print("  %-16s %-10s %-4s %-12s -> %s" % (name, section, transport, expected,
                                                     status), flush=True)
        ua.close()
        certs.cleanup()
        check(not bad, "RFC 4475 outcomes:\n  " + "\n  ".join(bad))


def test_guard_and_sofia_interleaved():
    """Back-to-back datagrams from one socket, alternating what sofia answers (OPTIONS) and
    what the guard answers (SIP/7.0, an unknown method): every one gets its own answer."""
    with Bridge({"rooms": {"on_demand": False}}) as br:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        me = "127.0.0.1:%d" % s.getsockname()[1]
        want = {}
        for i in range(150):
            kind = ("OPTIONS", "SIP/2.0", 200) if i % 3 == 0 else \
                   ("OPTIONS", "SIP/7.0", 505) if i % 3 == 1 else ("FROBNICATE", "SIP/2.0", 501)
            cid = "burst-%d@test" % i
            want[cid] = kind[2]
            s.sendto(("%s sip:127.0.0.1:%d %s\r\nVia: %s/UDP %s;branch=z9hG4bK-b%d;rport\r\n"
                      "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=b%d\r\n"
                      "To: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
                      "Content-Length: 0\r\n\r\n"
                      % (kind[0], br.sip_port, kind[1], kind[1], me, i, i, cid, kind[0]))
                     .encode(), ("127.0.0.1", br.sip_port))
        got = {}
        deadline = time.time() + 8
        while len(got) < len(want) and time.time() < deadline:
            s.settimeout(max(0.001, deadline - time.time()))
            try:
                raw, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            m = Msg(raw, None)
            if m.status and m.status >= 200:
                got.setdefault(m.h("call-id"), []).append(m.status)
        s.close()
        wrong = {c: (want[c], got.get(c)) for c in want if got.get(c) != [want[c]]}
        print("  %d datagrams back to back: %d answered as expected" % (len(want),
              len(want) - len(wrong)), flush=True)
        check(not wrong, "answers (wanted, got): %s" % dict(list(wrong.items())[:10]))


# What the bridge answers when a request whose Via names TCP or TLS comes over UDP: sofia
# drops those, the guard answers as the gateway would (gateways/sip/guard_parsed.c) on the
# transport it came on (RFC 3261 18.2.1). longreq is an INVITE: sofia will not start its
# transaction, so it is refused with a reason instead of processed.
VIA_OVER_UDP = {"bext01.dat": 420, "esc02.dat": 501, "intmeth.dat": 501, "longreq.dat": 400,
                "novelsc.dat": 416, "regaut01.dat": 405, "scalar02.dat": 400,
                "trws.dat": 400, "unkscm.dat": 416, "scalarlg.dat": None}


def test_tcp_and_tls_vias_over_udp_are_answered():
    """Every corpus message whose Via names TCP or TLS, sent over UDP: each request gets an
    answer (none before the fix: sofia dropped them without a log line), said at
    sip=debug; an ACK is never answered but its drop is logged."""
    if not os.path.exists(os.path.join(CORPUS, "MANIFEST.tsv")):
        print("skip: no RFC 4475 corpus at %s (set TT_SHARED_DIR)" % CORPUS, flush=True)
        return
    with Bridge({"rooms": {"on_demand": False},
                 "bridge": {"log_level": "info,sip=debug"}}) as br:
        bad = []
        seen = set()
        for name, section, expected, note in manifest():
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read()
            if top_via_transport(data) not in ("TCP", "TLS"):
                continue
            seen.add(name)
            m = send_one(br.sip_port, data, 1.0 if VIA_OVER_UDP.get(name) is None else 2.0)
            status = m.status if m else None
            print("  %-14s %s over UDP -> %s" % (name, top_via_transport(data), status),
                  flush=True)
            if name not in VIA_OVER_UDP or status != VIA_OVER_UDP[name]:
                bad.append("%s: expected %s, got %s" % (name, VIA_OVER_UDP.get(name, "?"),
                                                       status))
            if name == "longreq.dat" and m and not m.start.endswith(" Via Transport Mismatch"):
                bad.append("longreq: %r" % m.start)
            if name == "bext01.dat" and m and not m.h("unsupported"):
                bad.append("bext01: 420 without Unsupported")
        if seen != set(VIA_OVER_UDP):
            bad.append("corpus TCP/TLS-Via messages: %s" % sorted(seen))
        # an ACK is never answered, and its drop is said
        ack = ("ACK sip:room@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK-a\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\n"
               "To: <sip:room@127.0.0.1>;tag=2\r\nCall-ID: via-ack@test\r\nCSeq: 1 ACK\r\n"
               "Content-Length: 0\r\n\r\n").encode()
        if send_one(br.sip_port, ack, 0.5):
            bad.append("an ACK was answered")
        r = UA(br.sip_port).options()
        if not r or r.status != 200:
            bad.append("OPTIONS afterwards: %s" % (r and r.status))
        log = br.read_log()
        for want in ("INVITE over UDP with a TCP Via (sofia-sip drops it): answered 400",
                     "OPTIONS over UDP with a TLS Via (sofia-sip drops it): answered 420",
                     "ACK over UDP with a TCP Via dropped"):
            if want not in log:
                bad.append("log lacks %r" % want)
        check(not bad, "TCP/TLS Vias over UDP:\n  " + "\n  ".join(bad))


def rfc5118_options(port, ruri, frm="sip:a@[2001:db8::10]", contact=None,
                    via="[2001:db8::9:1]"):
    """One OPTIONS with the given URIs over UDP; the final status, or None."""
    data = ("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-5118-%d\r\n"
            "Max-Forwards: 70\r\nFrom: <%s>;tag=5118\r\nTo: <sip:user@[2001:db8::10]>\r\n"
            "Call-ID: rfc5118-%d@test\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n"
            % (ruri, via, time.monotonic_ns(), frm, time.monotonic_ns(),
               "Contact: <%s>\r\n" % contact if contact else "")).encode()
    m = send_one(port, data, 2.0)
    return m.status if m else None


def test_rfc5118_ipv6_references():
    """RFC 5118 4.10: an IPv6 reference with three colons is not one (400), the same address
    written right is (200); 4.3/4.4/4.9's valid forms; the same bad reference in From,
    Contact or Via (400); 4.2's unbracketed address in the Request-URI (400, not silence)."""
    with Bridge({"rooms": {"on_demand": False}}) as br:
        bad = []
        for ruri, frm, contact, want in (
                ("sip:user@[2001:db8:::192.0.2.1]", None, None, 400),
                ("sip:user@[2001:db8::192.0.2.1]", None, None, 200),
                ("sip:[2001:db8::10:5070]", None, None, 200),
                ("sip:[2001:db8::10]:5070", None, None, 200),
                ("sip:[::ffff:192.0.2.10]", None, None, 200),
                ("sip:[1::2::3]", None, None, 400),
                ("sip:user@192.0.2.256", None, None, 400),
                ("sip:user@[2001:db8::10]", "sip:a@[2001:db8:::192.0.2.1]", None, 400),
                ("sip:user@[2001:db8::10]", None, "sip:a@[2001:db8:::192.0.2.1]", 400),
                # 4.2: sofia cannot parse this Request-URI and dropped it unanswered
                ("sip:2001:db8::10", None, None, 400),
                # Via sent-by (4.5's forms are valid; a three-colon one is not)
                ("sip:[2001:db8::10]", "via [2001:db8::9:1]:6050;received=2001:db8::9:255",
                 None, 200),
                ("sip:[2001:db8::10]", "via [2001:db8:::9:1]", None, 400)):
            args = {"frm": frm} if frm and not frm.startswith("via ") else {}
            if frm and frm.startswith("via "):
                args["via"] = frm[4:]
            st = rfc5118_options(br.sip_port, ruri, contact=contact, **args)
            print("  %-34s %-30s -> %s" % (ruri, frm or contact or "", st), flush=True)
            if st != want:
                bad.append("%s (From %s, Contact %s): expected %d, got %s"
                           % (ruri, frm, contact, want, st))
        check(not bad, "RFC 5118:\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    run([test_corpus_outcomes_and_options_after_each, test_guard_and_sofia_interleaved,
         test_tcp_and_tls_vias_over_udp_are_answered, test_rfc5118_ipv6_references])
