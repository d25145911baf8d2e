"""STUN/TURN for browsers: Chromium reaches the bridge's media only through a real coturn.

The test makes a network namespace of its own joined to this one by a veth pair:
  root side  10.A.B.1  the bridge (HTTP + its only ICE address)
             10.A.B.3  turnserver (coturn, use-auth-secret), started here with its own config
  namespace  10.A.B.2  node + headless Chromium (ip netns exec)
and an nftables table inside the namespace drops all UDP to and from 10.A.B.1: the browser
reaches the bridge's web page and WebSocket (TCP) but none of its ICE ports. A plain RTP
participant (127.0.0.1, admin API) plays a tone into the room.

Control: with the page's RTCPeerConnection given no ICE servers, the browser does not
connect (the block works). Then, with the bridge's [webrtc] ice_servers and REST-API
credentials from turn_secret: it connects, hears the RTP participant's tone, the RTP
participant hears the browser's tone, getStats' selected pair is a relay candidate of
coturn's relay address to the bridge's address, and the credentials are the ones coturn
expects (checked here with Python's hmac).

Needs root, ip netns, nft, turnserver (coturn), chromium, node and tests/e2e/node_modules;
exits 77 (ctest: skipped) with the reason otherwise."""
import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from ttlib import Bridge, check, free_port, run  # noqa: E402
from test_e2e import CHROMIUM, FREQ_A, FREQ_R, RtpPeer, prerequisites as e2e_prereq, write_tone  # noqa: E402

PID = os.getpid()
NS = "tt-turn-%d" % PID
VETH_ROOT, VETH_NS = "ttt%da" % (PID % 10000000), "ttt%db" % (PID % 10000000)
NET = "10.%d.%d" % (100 + PID % 150, (PID // 150) % 250)
BRIDGE_IP, BROWSER_IP, TURN_IP = NET + ".1", NET + ".2", NET + ".3"
SECRET = "tutti-turn-test-%d" % PID
TURN_USER = "tutti"
TTL = 3600


def sh(*args, ns=False, check_rc=True):
    cmd = (["ip", "netns", "exec", NS] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check_rc and p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


def prerequisites():
    why = e2e_prereq()
    if why:
        return why
    if os.geteuid() != 0:
        return "not root: network namespaces and nftables need it"
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables"), ("turnserver", "coturn")):
        if not shutil.which(tool):
            return "%s not found (apt-get install %s)" % (tool, pkg)
    # root in a container may still lack CAP_SYS_ADMIN/CAP_NET_ADMIN or nf_tables: try it
    try:
        net_up()
        sh("nft", "add", "table", "inet", "tt_probe", ns=True)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        return "cannot make a network namespace with a veth pair and nftables here: %s" % e
    finally:
        net_down()
    return None


def net_up():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", VETH_ROOT, "type", "veth", "peer", "name", VETH_NS)
    sh("ip", "link", "set", VETH_NS, "netns", NS)
    sh("ip", "addr", "add", BRIDGE_IP + "/29", "dev", VETH_ROOT)
    sh("ip", "addr", "add", TURN_IP + "/29", "dev", VETH_ROOT)
    sh("ip", "link", "set", VETH_ROOT, "up")
    sh("ip", "addr", "add", BROWSER_IP + "/29", "dev", VETH_NS, ns=True)
    sh("ip", "link", "set", VETH_NS, "up", ns=True)
    sh("ip", "link", "set", "lo", "up", ns=True)


def block_bridge_udp(tmp):
    """Inside the namespace only: the browser's UDP to and from the bridge's address is
    dropped; the TURN server's address is not touched."""
    rules = os.path.join(tmp, "block.nft")
    with open(rules, "w") as f:
        f.write("table inet tt_turn {\n"
                " chain out {\n  type filter hook output priority 0; policy accept;\n"
                "  ip daddr %s meta l4proto udp counter drop\n }\n"
                " chain in {\n  type filter hook input priority 0; policy accept;\n"
                "  ip saddr %s meta l4proto udp counter drop\n }\n"
                "}\n" % (BRIDGE_IP, BRIDGE_IP))
    sh("nft", "-f", rules, ns=True)


def dropped_packets():
    out = sh("nft", "list", "table", "inet", "tt_turn", ns=True).stdout
    return sum(int(w.split()[0]) for w in out.split("counter packets ")[1:])


def net_down():
    # deleting the namespace deletes its end of the veth pair, and so the pair; the
    # explicit link delete covers a namespace that was never made
    sh("ip", "netns", "del", NS, check_rc=False)
    sh("ip", "link", "del", VETH_ROOT, check_rc=False)


def start_turn(tmp):
    port = free_port()
    conf = os.path.join(tmp, "turnserver.conf")
    log = os.path.join(tmp, "turn.log")
    with open(conf, "w") as f:
        f.write("\n".join([
            "listening-ip=%s" % TURN_IP, "listening-port=%d" % port,
            "relay-ip=%s" % TURN_IP, "min-port=40000", "max-port=49999",
            "use-auth-secret", "static-auth-secret=%s" % SECRET, "realm=tutti.test",
            "fingerprint", "no-tls", "no-dtls", "no-tcp-relay", "no-cli",
            "no-multicast-peers", "userdb=%s" % os.path.join(tmp, "turndb"),
            "pidfile=%s" % os.path.join(tmp, "turn.pid"), "log-file=%s" % log,
            "simple-log", "verbose", ""]))
    proc = subprocess.Popen(["turnserver", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, cwd=tmp)
    # ready when it listens (ss shows the UDP socket on its address and port)
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("turnserver exited %d: %s" % (proc.returncode, read(log)))
        if ("%s:%d" % (TURN_IP, port)) in sh("ss", "-uln", check_rc=False).stdout:
            return proc, port, log
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("turnserver did not listen on %s:%d: %s" % (TURN_IP, port, read(log)))


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


@contextlib.contextmanager
def turn_net():
    """The namespace, the nftables block and a coturn; everything undone on the way out."""
    tmp = tempfile.mkdtemp(prefix="tutti-turn-")
    turn = None
    try:
        net_up()
        block_bridge_udp(tmp)
        turn, turn_port, turn_log = start_turn(tmp)
        yield tmp, turn_port, turn_log
    finally:
        if turn:
            turn.terminate()
            try:
                turn.wait(5)
            except subprocess.TimeoutExpired:
                turn.kill()
                turn.wait()
        net_down()
        shutil.rmtree(tmp, ignore_errors=True)


def browse(br, tmp, steps, room="turn", control_ms=20000):
    """An RTP participant plays FREQ_R into the room; turn.mjs runs `steps` in Chromium in
    the namespace. Returns turn.mjs's result, what the RTP participant heard once the
    measured page joined, and the admin API's answers (for secrets)."""
    wav = os.path.join(tmp, "a.wav")
    write_tone(wav, FREQ_A, 4)
    peer = RtpPeer()
    try:
        peer.join(br, room)
        cfg = {"base": "http://%s:%d" % (BRIDGE_IP, br.http_port), "room": room,
               "wav": wav, "chromium": CHROMIUM, "freqs": [FREQ_A, FREQ_R],
               "controlMs": control_ms, "steps": steps}
        t_start = time.monotonic()
        proc = subprocess.run(["ip", "netns", "exec", NS, "node",
                               os.path.join(HERE, "turn.mjs")], cwd=HERE,
                              env=dict(os.environ, TT_TURN=json.dumps(cfg)),
                              capture_output=True, text=True, timeout=150)
        sys.stderr.write(proc.stderr)
        # the measured page joins after the control's time
        skip = control_ms / 1000 if "control" in steps else 0
        heard_r, n = peer.heard(t_start + skip)
        api = [br.http("GET", p)[1] for p in ("/api/gateways", "/api/rooms",
                                               "/api/rooms/" + room)]
    finally:
        peer.close()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    check(lines, "turn.mjs printed no result (exit %d)" % proc.returncode)
    out = json.loads(lines[-1])
    print("result:", json.dumps(out))
    print("RTP participant hears (dB):", {k: round(v, 1) for k, v in heard_r.items()}, n)
    check(out.get("ok"), "browser run failed: %s" % out.get("error"))
    return out, heard_r, api


def check_tones(out, heard_r):
    h = {int(k): v for k, v in out["heard"].items()}
    check(h[FREQ_R] > -60 and h[FREQ_R] > h[FREQ_A] + 15,
          "the browser does not hear the RTP participant's %d Hz: %s" % (FREQ_R, h))
    check(heard_r[FREQ_A] > -45 and heard_r[FREQ_A] > heard_r[FREQ_R] + 15,
          "the RTP participant does not hear the browser's %d Hz: %s" % (FREQ_A, heard_r))


def test_browser_through_turn_only():
    with turn_net() as (tmp, turn_port, turn_log):
        sections = {
            "http": {"listen": "0.0.0.0"},
            "webrtc": {"ice_addresses": BRIDGE_IP,
                       "ice_servers": "stun:%s:%d, turn:%s:%d?transport=udp"
                                      % (TURN_IP, turn_port, TURN_IP, turn_port),
                       "turn_secret": SECRET, "turn_user": TURN_USER, "turn_ttl": TTL},
        }
        with Bridge(sections) as br:
            out, heard_r, api = browse(br, tmp, ["control", "relay"])
            dropped = dropped_packets()
            print("UDP packets nftables dropped between the browser and the bridge:", dropped)
            bridge_log = br.read_log()
        tl = read(turn_log)
    check(SECRET not in bridge_log, "the bridge's log shows turn_secret")
    check(SECRET not in json.dumps(api), "the admin API shows turn_secret")
    # control: with no ICE servers the browser cannot reach the bridge's media
    c = out["control"]
    check(c["joined"] and not c["connected"] and "checking" in c["ice_seen"] and
          "connected" not in c["ice_seen"] and "completed" not in c["ice_seen"],
          "control: the browser connected without TURN, the block does not work: %s" % c)
    check(dropped > 0, "nftables dropped nothing: the control proves nothing")
    # the credentials handed out are coturn's REST-API ones
    servers = out["ice_servers"]
    turns = [s for s in servers if any(u.startswith("turn:") for u in s["urls"])]
    stuns = [s for s in servers if all(u.startswith("stun:") for u in s["urls"])]
    check(len(turns) == 1 and len(stuns) == 1, "ice_servers: %s" % servers)
    check("username" not in stuns[0], "a STUN entry got credentials: %s" % stuns[0])
    user, cred = turns[0]["username"], turns[0]["credential"]
    expiry, _, who = user.partition(":")
    check(who == TURN_USER and abs(int(expiry) - (time.time() + TTL)) < 300,
          "username %r: not <now + %d>:%s" % (user, TTL, TURN_USER))
    want = base64.b64encode(hmac.new(SECRET.encode(), user.encode(),
                                     hashlib.sha1).digest()).decode()
    check(cred == want, "credential %r, HMAC-SHA1 gives %r" % (cred, want))
    # media went through the browser's relay, both ways
    pair = out["pair"]
    check(pair and pair["local"]["type"] == "relay",
          "selected pair is not a relay candidate: %s" % pair)
    check(pair["local"]["address"] == TURN_IP and pair["remote"]["address"] == BRIDGE_IP,
          "selected pair: relay on %s to the bridge's %s expected: %s"
          % (TURN_IP, BRIDGE_IP, pair))
    check_tones(out, heard_r)
    check("ALLOCATE processed, success" in tl, "coturn's log shows no allocation:\n" + tl[-2000:])


def test_bridge_relay():
    """The bridge's own libnice agent allocates on coturn with REST-API credentials from
    turn_secret ([webrtc] turn_server): a page given no ICE servers at all connects to the
    bridge's relayed candidate, which the block does not touch."""
    with turn_net() as (tmp, turn_port, turn_log):
        sections = {
            "http": {"listen": "0.0.0.0"},
            "webrtc": {"ice_addresses": BRIDGE_IP, "turn_server": TURN_IP,
                       "turn_port": turn_port, "turn_secret": SECRET, "turn_user": TURN_USER},
        }
        with Bridge(sections) as br:
            out, heard_r, _ = browse(br, tmp, ["bridge_relay"])
            bridge_log = br.read_log()
        tl = read(turn_log)
    check(SECRET not in bridge_log, "the bridge's log shows turn_secret")
    check(out["ice_servers"] == [], "ice_servers without any configured: %s" % out["ice_servers"])
    pair = out["pair"]
    check(pair and pair["remote"]["type"] == "relay" and pair["remote"]["address"] == TURN_IP
          and pair["local"]["address"] == BROWSER_IP,
          "selected pair: the browser's host to the bridge's relay on %s expected: %s"
          % (TURN_IP, pair))
    check_tones(out, heard_r)
    check("ALLOCATE processed, success" in tl and (":" + TURN_USER) in tl,
          "coturn's log shows no allocation by the bridge:\n" + tl[-2000:])


if __name__ == "__main__":
    why = prerequisites()
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    run([test_browser_through_turn_only, test_bridge_relay])
