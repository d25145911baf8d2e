"""A browser survives its node: two tutti nodes (a, b) sharing a real redis-server, headless
Chromium in a room on a. a is killed (SIGKILL, no clean stop): the page notices, finds a
unreachable, tries b (learnt from a's GET /api/cluster after the join), is told the room is
still at home on a until a's entries expire (ttl_s), keeps trying, and is joined on b once
the room has no home and its join claims it there. Checked: it connects again on b by
itself, the directory names b as the home, b's room has the browser, and a plain RTP
participant (a phone) added on b then and the browser hear each other (not themselves).

Needs redis-server, chromium, node and tests/e2e/node_modules; exits 77 (ctest: skipped)
with the reason otherwise."""
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
sys.path.insert(0, os.path.join(HERE, "..", "integration", "cluster"))
from ttlib import Bridge, check, free_port, run, wait_for  # noqa: E402
from test_e2e import CHROMIUM, FREQ_A, FREQ_R, RtpPeer, prerequisites as e2e_prereq, write_tone  # noqa: E402
from test_cluster import Redis  # noqa: E402

TTL = 3
ROOM = "failover"


def node(redis, name):
    port = free_port()
    b = Bridge({"http": {"port": port}, "webrtc": {"allow_loopback": True},
                "cluster": {"redis": "127.0.0.1:%d" % redis.port, "node": name,
                            "public_url": "http://127.0.0.1:%d" % port, "ttl_s": TTL}})
    b.http_port = port
    b.url = "http://127.0.0.1:%d" % port
    return b


def next_event(proc):
    """The next JSON line failover.mjs prints ({} when it ended without one)."""
    for line in proc.stdout:
        if line.startswith("{"):
            return json.loads(line)
    return {}


def test_browser_fails_over_to_another_node():
    tmp = tempfile.mkdtemp(prefix="tutti-failover-")
    wav = os.path.join(tmp, "eve.wav")
    write_tone(wav, FREQ_A, 4)
    redis = Redis().start()
    a, b = node(redis, "a").start(), node(redis, "b").start()
    peer = RtpPeer()
    proc = None
    try:
        wait_for(lambda: redis.cmd("EXISTS", "tutti:node:a", "tutti:node:b") == 2, 20,
                 "both nodes registered")
        st, body = b.http("GET", "/api/cluster")
        check(st == 200 and body.get("node") == "b", "b's /api/cluster: %s %s" % (st, body))
        cfg = {"base": a.url, "room": ROOM, "wav": wav, "chromium": CHROMIUM,
               "freqs": [FREQ_A, FREQ_R]}
        proc = subprocess.Popen(["node", os.path.join(HERE, "failover.mjs")], cwd=HERE,
                                env=dict(os.environ, TT_FAILOVER=json.dumps(cfg)),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=sys.stderr, text=True)
        joined = next_event(proc)
        check(joined.get("event") == "joined", "the page did not join on a: %s" % joined)
        print("joined:", joined)
        check(joined["node"] == "a" and joined["peers"] == [b.url],
              "the page learnt a and its one peer b: %s" % joined)
        check(redis.cmd("GET", "tutti:room:" + ROOM) == "a", "a is the room's home")
        t_kill = time.monotonic()
        a.kill()
        ev = next_event(proc)
        check(ev.get("event") == "reconnected", "the page did not fail over: %s" % ev)
        print("reconnected:", ev)
        check(ev["base"] == b.url, "the page is on b now: %s" % ev["base"])
        print("  connected again on b %.1f s after its node was lost (ttl_s = %d)"
              % (ev["failover_ms"] / 1000, TTL))
        check(any("waiting for the room to move" in s for s in ev["states"]),
              "b said the room was still at a's until a's entry expired: %s" % ev["states"])
        check(redis.cmd("GET", "tutti:room:" + ROOM) == "b", "b is the room's home now")
        st, room = b.http("GET", "/api/rooms/" + ROOM)
        nets = [p.get("network") for p in room.get("participants", [])]
        check(st == 200 and nets == ["web"], "b's room has the browser: %s %s" % (st, nets))
        # a phone on b: the browser and the phone hear each other there
        peer.join(b, ROOM)
        time.sleep(1.5)
        t_phone = time.monotonic()
        proc.stdin.write("hear\n")
        proc.stdin.flush()
        out = next_event(proc)
        proc.wait(60)
        print("result:", json.dumps(out))
        check(out.get("ok"), "the page failed: %s" % out.get("error"))
        h = {int(k): v for k, v in out["heard"].items()}
        check(h[FREQ_R] > -60 and h[FREQ_R] > h[FREQ_A] + 15,
              "the browser hears the phone on b, not itself: %s" % h)
        check(sorted(out["roster"]) == ["rtp", "web"], "the page's roster: %s" % out["roster"])
        heard, n = peer.heard(t_phone)
        check(n > 8000 * 2 and heard[FREQ_A] > -45 and heard[FREQ_A] > heard[FREQ_R] + 15,
              "the phone hears the browser on b, not itself: %s (%d samples)" % (heard, n))
        del t_kill
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        peer.close()
        b.stop()
        a.kill()
        redis.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    why = e2e_prereq()
    if not why and not shutil.which("redis-server"):
        why = "redis-server not installed (Debian package redis-server)"
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    run([test_browser_fails_over_to_another_node])
