"""WebRTC benchmark: the bridge's CPU per WebRTC participant (ICE + DTLS-SRTP + Opus) with N
concurrent aiortc peers, against a baseline measured in the same run: N plain RTP Opus
participants from tt_loadgen on the same bridge. Both runs: one room, K talkers (a tone),
the rest silent listeners, one media worker. CPU from /proc/PID/stat (user + system).
WebRTC runs twice per round, with `[webrtc] ice_lite = off` (full ICE, libnice, a port per
peer) and `on` (ICE-lite on the worker's shared port); rounds interleave the three, and the
table gives medians with the spread (min-max) over the rounds.

  python3 bench/webrtc/bench_webrtc.py [--peers 50] [--talkers 3] [--seconds 20] [--rounds 3]

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


def bridge(lite="off"):
    return Bridge({"webrtc": {"allow_loopback": True, "max_per_address": 1000,
                              "ice_lite": lite},
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


def run_webrtc(n, talkers, seconds, lite):
    with bridge(lite) as br:
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


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def spread(xs, fmt="%.3f"):
    return (fmt + " (" + fmt + "-" + fmt + ")") % (median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", type=int, default=50)
    ap.add_argument("--talkers", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    per = {"rtp": [], "off": [], "on": []}
    ratio = {"off": [], "on": []}
    peer_cpu = {"off": [], "on": []}
    for r in range(a.rounds):
        # interleaved, the order turning each round so that drift hits every kind alike
        kinds = ["rtp", "off", "on"]
        kinds = kinds[r % 3:] + kinds[:r % 3]
        got = {}
        for k in kinds:
            if k == "rtp":
                idle, cpu = run_rtp(a.peers, a.talkers, a.seconds)
                got[k] = (cpu - idle) / a.peers
                print("round %d rtp: %.1f %% (idle %.1f)" % (r + 1, cpu, idle), flush=True)
            else:
                idle, cpu, conn, setup_s, frames, pc = run_webrtc(a.peers, a.talkers,
                                                                  a.seconds, k)
                got[k] = (cpu - idle) / a.peers
                if pc is not None:
                    peer_cpu[k].append(pc)
                print("round %d ice_lite=%s: %.1f %% (idle %.1f); %d/%d connected in %.1f s; "
                      "frames per peer min %s; aiortc %.0f %%"
                      % (r + 1, k, cpu, idle, conn, a.peers, setup_s,
                         min(frames) if frames else "?", pc or -1), flush=True)
        for k in got:
            per[k].append(got[k])
        for k in ("off", "on"):
            ratio[k].append(got[k] / got["rtp"] if got["rtp"] > 0 else float("nan"))
    print()
    print("peers %d, talkers %d, %d s measured, %d rounds; aiortc process (one core at most) "
          "%s %% CPU with full ICE, %s %% with lite"
          % (a.peers, a.talkers, a.seconds, a.rounds,
             spread(peer_cpu["off"], "%.0f") if peer_cpu["off"] else "?",
             spread(peer_cpu["on"], "%.0f") if peer_cpu["on"] else "?"))
    print("| transport | per participant, % of one core: median (min-max) | ratio to plain RTP |")
    print("|---|---|---|")
    print("| plain RTP, Opus (tt_loadgen) | %s | 1.00 |" % spread(per["rtp"]))
    print("| WebRTC, full ICE (libnice), Opus (aiortc) | %s | %s |"
          % (spread(per["off"]), spread(ratio["off"], "%.2f")))
    print("| WebRTC, ICE-lite on the shared port, Opus (aiortc) | %s | %s |"
          % (spread(per["on"]), spread(ratio["on"], "%.2f")))


if __name__ == "__main__":
    main()
