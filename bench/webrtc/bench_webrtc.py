"""WebRTC benchmark: the bridge's CPU per WebRTC participant (ICE + DTLS-SRTP + Opus) with N
concurrent aiortc peers, against a baseline measured in the same run: N plain RTP Opus
participants from tt_loadgen on the same bridge. Both runs: one room, K talkers (a tone),
the rest silent listeners, one media worker. CPU from /proc/PID/stat (user + system).

  python3 bench/webrtc/bench_webrtc.py [--peers 50] [--talkers 3] [--seconds 20]

Needs python3-aiortc for Debian's /usr/bin/python3. Prints a Markdown table row set."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from ttlib import BUILD_DIR, Bridge  # noqa: E402

PEER = os.path.join(SRC, "tests", "integration", "webrtc", "peer.py")
PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def bridge():
    return Bridge({"webrtc": {"allow_loopback": True, "max_per_address": 1000},
                   "rooms": {"max_participants": 10000}}, binary="tutti")


def run_rtp(n, talkers, seconds):
    with bridge() as br:
        idle = measure(br.proc.pid, 3)
        lg = os.path.join(BUILD_DIR, "bench", "loadgen", "tt_loadgen")
        out = subprocess.run([lg, "--url", "http://127.0.0.1:%d" % br.http_port, "--room",
                              "bench", "-n", str(n), "--talkers", str(talkers), "--codec",
                              "opus", "--seconds", str(seconds), "--pid", str(br.proc.pid),
                              "--json"], capture_output=True, text=True, timeout=seconds + 60)
        js = json.loads(out.stdout[out.stdout.index("{"):])
        return idle, js["cpu_pct"]


def run_webrtc(n, talkers, seconds):
    with bridge() as br:
        idle = measure(br.proc.pid, 3)
        setup = 5 + n * 0.15
        proc = subprocess.Popen([PY, PEER, "--port", str(br.http_port), "--room", "bench",
                                 "--count", str(n), "--talkers", str(talkers),
                                 "--seconds", str(setup + seconds + 5)],
                                stdout=subprocess.PIPE, text=True)
        connected, t0 = 0, time.monotonic()
        while connected < n and time.monotonic() - t0 < setup + 20:
            line = proc.stdout.readline()
            if not line:
                break
            if '"connected"' in line:
                connected += 1
        setup_s = time.monotonic() - t0
        time.sleep(2)   # let the last handshakes settle
        cpu = measure(br.proc.pid, seconds)
        peer_cpu = None
        try:
            peer_cpu = measure(proc.pid, 2)
        except OSError:
            pass
        rest = proc.communicate(timeout=setup + seconds + 60)[0]
        done = [json.loads(ln) for ln in rest.splitlines() if '"done"' in ln]
        frames = [p["frames_rx"] for p in done[0]["peers"]] if done else []
        return idle, cpu, connected, setup_s, frames, peer_cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=int, default=50)
    ap.add_argument("--talkers", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    a = ap.parse_args()
    idle_r, rtp = run_rtp(a.peers, a.talkers, a.seconds)
    idle_w, web, conn, setup_s, frames, peer_cpu = run_webrtc(a.peers, a.talkers, a.seconds)
    per_rtp = (rtp - idle_r) / a.peers
    per_web = (web - idle_w) / a.peers
    print("peers %d, talkers %d, %d s measured; %d/%d WebRTC peers connected in %.1f s; "
          "frames received per peer min %s; aiortc process %.0f%% CPU"
          % (a.peers, a.talkers, a.seconds, conn, a.peers, setup_s,
             min(frames) if frames else "?", peer_cpu or -1))
    print("| transport | bridge CPU (% of one core) | idle | per participant | ratio |")
    print("|---|---|---|---|---|")
    print("| plain RTP, Opus (tt_loadgen) | %.1f | %.1f | %.3f | 1.00 |" % (rtp, idle_r, per_rtp))
    print("| ICE + DTLS-SRTP, Opus (aiortc) | %.1f | %.1f | %.3f | %.2f |"
          % (web, idle_w, per_web, per_web / per_rtp if per_rtp > 0 else float("nan")))


if __name__ == "__main__":
    main()
