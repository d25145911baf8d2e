"""TLS an operator can live with (issue 17): the HTTPS/WSS certificate is read again on
SIGHUP without dropping anything.

- Two WebRTC calls (python3-aiortc) and a chat client are up over wss:// when the
  certificate and key files are replaced (as an ACME client renews them in place) and the
  bridge gets SIGHUP: the calls go on hearing each other and the chat still flows, while a
  new connection is shown the new certificate.
- A reload with a key that is not the certificate's is refused with a line naming the
  file; the certificate served stays the good one.
- At start and at --check-config, an unreadable file or a mismatched key is an error
  that names the file, not lws's "cannot listen"; SIP's agent.pem is checked alike.
Exits 77 (skipped) when aiortc or the openssl command is missing."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from ttlib import BUILD_DIR, Bridge, BridgeError, check, run, wait_for  # noqa: E402
from wsclient import WsClient  # noqa: E402

PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
PEER = os.path.join(HERE, "peer.py")


def make_pair(d, name):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=" + name], check=True, capture_output=True)
    return cert, key


def served_cn(port):
    """The CN of the certificate a new TLS connection is shown."""
    ctx = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            der = t.getpeercert(binary_form=True)
    pem = ssl.DER_cert_to_PEM_cert(der)
    out = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, text=True,
                         capture_output=True, check=True).stdout
    return out.strip().split("CN", 1)[1].lstrip(" =")


def install(d, cert, key):
    """Replace the served files the way a renewal does: write aside, then rename."""
    for src, dst in ((cert, "live.crt"), (key, "live.key")):
        shutil.copy(src, os.path.join(d, dst + ".new"))
        os.replace(os.path.join(d, dst + ".new"), os.path.join(d, dst))


def conf_for(d):
    return {"webrtc": {"allow_loopback": True},
            "http": {"tls_cert": os.path.join(d, "live.crt"),
                     "tls_key": os.path.join(d, "live.key")}}


def chat_client(port):
    c = WsClient(port, tls=ssl._create_unverified_context())
    check(c.recv()["type"] == "hello", "no hello over wss")
    return c


def test_reload_swaps_certificate_calls_go_on():
    with tempfile.TemporaryDirectory() as d:
        a, b, other = make_pair(d, "tutti-a"), make_pair(d, "tutti-b"), make_pair(d, "other")
        install(d, *a)
        with Bridge(conf_for(d)) as br:
            check(served_cn(br.http_port) == "tutti-a", "not serving the first certificate")
            check("valid until" in br.read_log() and "CN=tutti-a" in br.read_log(),
                  "the start does not log the certificate:\n" + br.read_log())
            ann, bob = chat_client(br.http_port), chat_client(br.http_port)
            ann.send({"type": "join", "room": "tls", "name": "Ann"})
            bob.send({"type": "join", "room": "tls", "name": "Bob"})
            for c in (ann, bob):
                c.wait(lambda m: m["type"] == "joined", what="joined")
            calls = [subprocess.Popen([PY, PEER, "--port", str(br.http_port), "--tls",
                                       "--room", "tls", "--tone", str(tone),
                                       "--listen", "600,1000", "--seconds", "16"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for tone in (600, 1000)]
            try:
                wait_for(lambda: sum(1 for p in br.http("GET", "/api/rooms/tls")[1]
                                     ["participants"] if "audio" in p.get("caps", [])) >= 2,
                         timeout=20, what="both calls in the room")
                time.sleep(2.0)
                # the renewal: new files in place, then SIGHUP
                install(d, *b)
                mark = len(br.read_log())
                br.signal(signal.SIGHUP)
                wait_for(lambda: "reloaded certificate" in br.read_log()[mark:], timeout=10,
                         what="the reload")
                check(served_cn(br.http_port) == "tutti-b",
                      "a new connection is not shown the new certificate")
                # the connections from before are up and work
                ann.send({"type": "chat", "text": "after the renewal"})
                m = bob.wait(lambda m: m["type"] == "chat", what="chat after the reload")
                check(m["text"] == "after the renewal", "%s" % m)
                # a key that is not the certificate's: refused, the good pair stays
                shutil.copy(other[1], os.path.join(d, "live.key"))
                mark = len(br.read_log())
                br.signal(signal.SIGHUP)
                wait_for(lambda: "configuration reloaded" in br.read_log()[mark:],
                         timeout=10, what="the second reload")
                log = br.read_log()[mark:]
                check("is not the key of certificate" in log and "live.key" in log,
                      "a mismatched key was not reported:\n" + log)
                check(served_cn(br.http_port) == "tutti-b", "the good certificate was lost")
                outs = [c.communicate(timeout=60) for c in calls]
            finally:
                for c in calls:
                    if c.poll() is None:
                        c.kill()
            for i, (out, err) in enumerate(outs):
                evs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
                done = [e for e in evs if e["ev"] == "done"]
                check(done, "peer.py gave no result: %s\n%s" % (out[-500:], err[-2000:]))
                p = done[0]["peers"][0]
                print("  call %d: %s" % (i, p), flush=True)
                check(p["connected"] and p["bye"] is None and not p.get("ws_closed"),
                      "call %d did not last through the reloads: %s" % (i, p))
                heard = p["tones_db"]["1000" if i == 0 else "600"]
                own = p["tones_db"]["600" if i == 0 else "1000"]
                check(heard > -40, "call %d did not hear the other: %s" % (i, p["tones_db"]))
                check(heard - own > 15, "call %d heard itself: %s" % (i, p["tones_db"]))
                # 16 s at 50 frames/s, less set-up: a call cut at the reload has far fewer
                check(p["frames_rx"] > 450, "call %d received %d frames" % (i, p["frames_rx"]))
            ann.send({"type": "chat", "text": "still here"})
            bob.wait(lambda m: m["type"] == "chat" and m["text"] == "still here",
                     what="chat at the end")
            ann.close()
            bob.close()


def test_bad_files_at_start_and_check_config():
    with tempfile.TemporaryDirectory() as d:
        a, other = make_pair(d, "tutti-a"), make_pair(d, "other")
        install(d, a[0], other[1])   # the certificate of one, the key of another
        conf = conf_for(d)
        try:
            Bridge(conf).start().kill()
            check(False, "started with a mismatched key")
        except BridgeError as e:
            check("is not the key of certificate" in str(e) and "live.key" in str(e),
                  "no clear error for a mismatched key: %s" % e)
        br = Bridge(conf)
        p = subprocess.run([os.path.join(BUILD_DIR, "tutti-test"), "--check-config",
                            br.config_path], capture_output=True, text=True, timeout=30)
        check(p.returncode != 0 and "[http] tls_cert:" in p.stdout and
              "is not the key of certificate" in p.stdout,
              "--check-config: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        br.tmp.cleanup()
        # SIP's TLS reads <tls_cert_dir>/agent.pem itself (sofia-sip): checked the same way
        br = Bridge({"sip": {"tls_cert_dir": d}})
        p = subprocess.run([os.path.join(BUILD_DIR, "tutti-test"), "--check-config",
                            br.config_path], capture_output=True, text=True, timeout=30)
        check(p.returncode != 0 and "[sip] tls_cert_dir:" in p.stdout and
              "agent.pem: cannot read" in p.stdout,
              "--check-config, no agent.pem: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        br.tmp.cleanup()
        os.unlink(os.path.join(d, "live.key"))
        try:
            Bridge(conf).start().kill()
            check(False, "started without its key file")
        except BridgeError as e:
            check("live.key: cannot read" in str(e), "no clear error for a missing key: %s" % e)


def main():
    if subprocess.run([PY, "-c", "import aiortc"], capture_output=True).returncode != 0:
        print("SKIP: python3-aiortc is not installed")
        sys.exit(77)
    if not shutil.which("openssl"):
        print("SKIP: the openssl command is not installed")
        sys.exit(77)
    run([test_reload_swaps_certificate_calls_go_on, test_bad_files_at_start_and_check_config])


if __name__ == "__main__":
    main()
