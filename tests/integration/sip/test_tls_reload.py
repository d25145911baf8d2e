"""SIP TLS certificate renewal on SIGHUP without dropping calls, against the real bridge.

A sips: call over TLS (the test's stdlib UA, PCMU RTP both ways) is up when agent.pem is
replaced by another certificate and the bridge gets SIGHUP: the log says the SIP TLS
certificate was reloaded, a new TLS connection is shown the new certificate (its CN), the
call's RTP keeps flowing both ways after the reload, and its BYE over the TLS connection
from before the reload gets a 200. A new call over a new TLS connection works too. Then an
agent.pem whose key is not its certificate's is refused with a line naming the file, and new
connections keep getting the good certificate. And an agent.pem made as from certbot's
files (leaf, intermediate, key) sends its whole chain from the start.

Exits 77 (skipped) when the openssl command is missing."""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from ttlib import Bridge, check, free_port, run, wait_for  # noqa: E402
from siplib import StreamUA, rtp_packet  # noqa: E402


def make_agent(d, cn):
    """agent.pem in sofia's layout (key, then certificate), as <d>/<cn>.pem."""
    key, crt = os.path.join(d, cn + ".key"), os.path.join(d, cn + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "30", "-subj", "/CN=" + cn], check=True, capture_output=True)
    path = os.path.join(d, cn + ".pem")
    with open(path, "w") as out:
        out.write(open(key).read() + open(crt).read())
    return path


def install(certs, src):
    """Replace agent.pem the way a renewal does: write aside, then rename."""
    shutil.copy(src, os.path.join(certs, "agent.pem.new"))
    os.replace(os.path.join(certs, "agent.pem.new"), os.path.join(certs, "agent.pem"))


def served_cn(port):
    """The CN of the certificate a new TLS connection to the sips: port is shown."""
    ctx = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            der = t.getpeercert(binary_form=True)
    out = subprocess.run(["openssl", "x509", "-noout", "-subject"],
                         input=ssl.DER_cert_to_PEM_cert(der), text=True, capture_output=True,
                         check=True).stdout
    return out.strip().split("CN", 1)[1].lstrip(" =")


def make_chain_agent(d):
    """agent.pem as from certbot's files (cat fullchain.pem privkey.pem): a leaf signed by
    a CA of the test's, the CA's certificate, then the leaf's key."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=sip-test-ca")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=sip-leaf")
    ossl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "leaf.crt", "-days", "30")
    path = os.path.join(d, "chain.pem")
    with open(path, "w") as out:
        for f in ("leaf.crt", "ca.crt", "leaf.key"):
            out.write(open(os.path.join(d, f)).read())
    return path


def served_chain(port):
    """The subjects of the certificates a new TLS connection is sent (openssl s_client)."""
    out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                          "-showcerts"], input="", capture_output=True, text=True,
                         timeout=20).stdout
    return [ln.split("s:", 1)[1].strip() for ln in out.splitlines()
            if ln.strip().startswith("0 s:") or ln.strip().startswith("1 s:")]


class RtpLeg:
    """Sends PCMU every 20 ms to the bridge's media address and counts what comes back."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.dest = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self, dest):
        self.dest = dest
        self.thread.start()

    def _run(self):
        seq, ts = 1, 0
        while not self.stop.is_set():
            # an ICMP port unreachable (a packet that came before the bridge's socket was
            # ready) surfaces as ConnectionRefusedError on the next call: not the end
            try:
                self.sock.sendto(rtp_packet(0, seq, ts, 0x7115, b"\xff" * 160), self.dest)
            except OSError:
                pass
            seq, ts = seq + 1, ts + 160
            try:
                while True:
                    data = self.sock.recv(2048)
                    if len(data) >= 12 and data[0] & 0xC0 == 0x80:
                        self.received += 1
            except OSError:   # socket.timeout included
                pass

    def close(self):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)
        self.sock.close()


def packets_in(br, room):
    status, body = br.http("GET", "/api/rooms/%s" % room)
    ps = body.get("participants", []) if status == 200 else []
    return ps[0].get("media", {}).get("packets_in", 0) if ps else -1


def both_ways(br, room, leg, n_in, n_back, when):
    """Waits until the bridge counted more than n_in RTP packets from the leg and the leg
    got more than n_back from the bridge."""
    try:
        wait_for(lambda: packets_in(br, room) > n_in and leg.received > n_back, timeout=20,
                 what="RTP both ways " + when)
    except AssertionError as e:
        raise AssertionError("%s: the bridge counted %d (wanted > %d), the leg got %d "
                             "(wanted > %d)" % (e, packets_in(br, room), n_in, leg.received,
                                                n_back))


def call(port, room, leg):
    ua = StreamUA(port, tls=True, user="renewal")
    c = ua.invite(room, ua.sdp_offer(["PCMU/8000"], port=leg.port))
    check(c.response and c.response.status == 200, "INVITE over TLS: %s"
          % (c.response and c.response.start))
    c.ack()
    media = c.remote_media()
    check(media, "no media address in the answer:\n" + c.response.body)
    leg.start(media[:2])
    return ua, c


def test_sighup_swaps_sip_tls_certificate_call_goes_on():
    with tempfile.TemporaryDirectory(prefix="tutti-siptls-") as d:
        certs = os.path.join(d, "certs")
        os.mkdir(certs)
        a, b = make_agent(d, "sip-a"), make_agent(d, "sip-b")
        other = make_agent(d, "other")
        install(certs, a)
        tls_port = free_port()
        with Bridge({"rooms": {"on_demand": True},
                     "sip": {"tls_port": tls_port, "tls_cert_dir": certs}}) as br:
            check(served_cn(tls_port) == "sip-a", "not serving the first certificate")
            log = br.read_log()
            check("sips: certificate" in log and "CN=sip-a" in log and "valid until" in log,
                  "the start does not log the SIP TLS certificate:\n" + log)
            check("was not found" not in log, "sofia's TLS context not found:\n" + log)
            leg = RtpLeg()
            ua, c = call(tls_port, "renew", leg)
            try:
                both_ways(br, "renew", leg, 25, 25, "before the reload")
                install(certs, b)
                mark = len(br.read_log())
                br.signal(signal.SIGHUP)
                wait_for(lambda: "configuration reloaded" in br.read_log()[mark:], timeout=10,
                         what="the reload")
                log = br.read_log()[mark:]
                check("sips: reloaded certificate" in log and "CN=sip-b" in log,
                      "the SIP TLS reload is not logged:\n" + log)
                check("kept part of its old configuration" not in log,
                      "the SIP gateway refused the reload:\n" + log)
                check(served_cn(tls_port) == "sip-b",
                      "a new TLS connection is not shown the new certificate")
                # the call from before: media both ways, and its TLS connection carries BYE
                pin, got = packets_in(br, "renew"), leg.received
                both_ways(br, "renew", leg, pin + 25, got + 25, "after the reload")
                r = c.bye()
                check(r and r.status == 200, "BYE over the old TLS connection: %s"
                      % (r and r.start))
            finally:
                leg.close()
                ua.close()
            # a call over a new TLS connection, which has the new certificate
            leg2 = RtpLeg()
            ua2, c2 = call(tls_port, "renew2", leg2)
            try:
                wait_for(lambda: leg2.received > 10, timeout=15, what="RTP on the new call")
                r = c2.bye()
                check(r and r.status == 200, "BYE on the new call: %s" % (r and r.start))
            finally:
                leg2.close()
                ua2.close()
            # a key that is not the certificate's: refused, the good certificate stays
            with open(os.path.join(certs, "agent.pem"), "w") as out:
                out.write(open(other).read().split("-----BEGIN CERTIFICATE", 1)[0] +
                          "-----BEGIN CERTIFICATE" + open(b).read()
                          .split("-----BEGIN CERTIFICATE", 1)[1])
            mark = len(br.read_log())
            br.signal(signal.SIGHUP)
            wait_for(lambda: "configuration reloaded" in br.read_log()[mark:], timeout=10,
                     what="the second reload")
            log = br.read_log()[mark:]
            check("is not the key of certificate" in log and "agent.pem" in log and
                  "SIP TLS keeps the certificate it had" in log,
                  "a mismatched agent.pem was not reported:\n" + log)
            check(served_cn(tls_port) == "sip-b", "the good certificate was lost")


def test_fullchain_agent_pem_sends_its_chain():
    """sofia-sip loads only the first certificate of agent.pem; the gateway loads the whole
    chain into its context at start, so clients get the intermediate too."""
    with tempfile.TemporaryDirectory(prefix="tutti-siptls-") as d:
        certs = os.path.join(d, "certs")
        os.mkdir(certs)
        install(certs, make_chain_agent(d))
        tls_port = free_port()
        with Bridge({"sip": {"tls_port": tls_port, "tls_cert_dir": certs}}):
            chain = served_chain(tls_port)
            check(len(chain) == 2 and "sip-leaf" in chain[0] and "sip-test-ca" in chain[1],
                  "the chain sent at start: %s" % chain)


if __name__ == "__main__":
    if not shutil.which("openssl"):
        print("SKIP: the openssl command is not installed")
        sys.exit(77)
    run([test_sighup_swaps_sip_tls_certificate_call_goes_on,
         test_fullchain_agent_pem_sends_its_chain])
