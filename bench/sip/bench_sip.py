"""bench_sip: what the SIP gateway sustains, against the real `tutti` binary on 127.0.0.1.

1. Call rate: SIPp's built-in UAC scenario (Debian's sip-tester; --client sipp, the default
   when it is installed) or the stdlib UAC (tests/integration/sip/loadgen.py, --client py)
   at RATE calls/s for SECONDS, each call INVITE/200/ACK, HOLD s of media (the bridge sends
   its mix to every caller), BYE. Reports failures, set-up latency (the stdlib UAC) and the
   bridge's CPU.
2. CPU per concurrent call: N calls held open; every caller sends 50 packets/s (G.711: a
   tone in mu-law; Opus: a constant valid 20 ms frame), the bridge decodes, mixes, encodes
   and sends. CPU of the tutti process from /proc over a window, minus the same window
   idle, divided by N.

Never a ctest (shared, noisy machines). Run:
    python3 bench/sip/bench_sip.py [--client sipp|py] [--rate 100] [--seconds 60] [--hold 5]
                                   [--calls 100] [--skip-rate] [--skip-cpu]
"""
import argparse
import math
import os
import select
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "sip"))
import tempfile  # noqa: E402
import ttlib  # noqa: E402
from loadgen import LoadGen  # noqa: E402
from sipplib import SIPP, run_sipp  # noqa: E402
from siplib import UA, rtp_packet  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def ulaw(sample):
    s = max(-32635, min(32635, sample))
    sign = 0x80 if s < 0 else 0
    s = abs(s) + 132
    exp = max(0, int(math.log2(s >> 7)) if s >> 7 else 0)
    exp = min(exp, 7)
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def tone_ulaw(freq=440):
    return bytes(ulaw(int(8000 * math.sin(2 * math.pi * freq * i / 8000))) for i in range(160))


OPUS_FRAME = bytes([0xF8, 0xFF, 0xFE])   # CELT FB 20 ms mono, a valid (silent) frame


def call_rate(args):
    # SIPp calls one room: lift the room size limit (1,000 by default) above the concurrency
    conf = {"rooms": {"on_demand": True, "max_participants": 100000},
            "bridge": {"log_level": "warn", "workers": 0},
            "sip": {"rate_limit": 100000, "rate_burst": 100000}}
    with ttlib.Bridge(conf, binary="tutti") as br:
        pid = br.proc.pid
        c0, t0 = cpu_seconds(pid), time.time()
        if args.client == "sipp":
            calls = int(args.rate * args.seconds)
            with tempfile.TemporaryDirectory() as tmp:
                # one room: SIPp's built-in scenario calls one Request-URI user (-s)
                rc, stats, out = run_sipp("127.0.0.1:%d" % br.sip_port,
                                          ["-sn", "uac", "-s", "sippbench", "-r", str(args.rate),
                                           "-m", str(calls), "-d", str(int(args.hold * 1000)),
                                           "-l", str(int(args.rate * (args.hold + 5) * 2)),
                                           "-mp", str(ttlib.free_port(socket.SOCK_DGRAM))],
                                          tmp, timeout=args.seconds + args.hold + 60)
            res = {"client": "sipp", "exit": rc, "calls": calls, **stats,
                   "elapsed_s": time.time() - t0}
        else:
            res = LoadGen(br.sip_port, hold=args.hold, rooms=args.rooms, rtp_calls=5,
                          timeout=10).run(args.rate, args.seconds)
        res["bridge_cpu_pct"] = 100 * (cpu_seconds(pid) - c0) / (time.time() - t0)
        return res


def held_calls(br, n, codec):
    """n calls held open, each with its own RTP socket; returns [(call, sock, dest)]."""
    out = []
    ua = UA(br.sip_port, user="bench")
    rtpmap = "PCMU/8000" if codec == "pcmu" else "opus/48000/2"
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        c = ua.invite("bench%d" % (i % 10), ua.sdp_offer([rtpmap], port=s.getsockname()[1],
                                                       dtmf=False))
        if not c.response or c.response.status != 200:
            raise RuntimeError("call %d: %s" % (i, c.response and c.response.start))
        c.ack()
        host, port, pt = c.remote_media()
        out.append((c, s, (host, port), pt))
    return ua, out


def cpu_per_call(args, codec):
    conf = {"rooms": {"on_demand": True}, "bridge": {"log_level": "warn", "workers": 0},
            "sip": {"rate_limit": 100000, "rate_burst": 100000, "codecs": codec}}
    with ttlib.Bridge(conf, binary="tutti") as br:
        pid = br.proc.pid
        time.sleep(1)
        c0, t0 = cpu_seconds(pid), time.time()
        time.sleep(args.window)
        idle = (cpu_seconds(pid) - c0) / (time.time() - t0)
        ua, calls = held_calls(br, args.calls, codec)
        payload = tone_ulaw() if codec == "pcmu" else OPUS_FRAME
        step = 160 if codec == "pcmu" else 960
        seq = 0
        start = time.time()
        measure_from = start + 2.0   # let jitter buffers settle
        c0 = None
        next_t = start
        received = 0
        while time.time() < measure_from + args.window:
            now = time.time()
            if c0 is None and now >= measure_from:
                c0, t0 = cpu_seconds(pid), now
            if now >= next_t:
                for (c, s, dest, pt) in calls:
                    s.sendto(rtp_packet(pt, seq, seq * step, 0x1000 + id(s) % 1000, payload),
                             dest)
                    try:
                        while True:
                            s.recv(2048)
                            received += 1
                    except (BlockingIOError, OSError):
                        pass
                seq += 1
                next_t += 0.02
            else:
                time.sleep(max(0, min(0.005, next_t - now)))
        busy = (cpu_seconds(pid) - c0) / (time.time() - t0)
        for (c, s, dest, pt) in calls:
            c.bye(timeout=2)
            s.close()
        ua.close()
        return {"codec": codec, "calls": args.calls, "idle_cpu_pct": 100 * idle,
                "busy_cpu_pct": 100 * busy,
                "per_call_cpu_pct": 100 * (busy - idle) / args.calls,
                "packets_back_per_call_per_s": received / args.calls / (time.time() - start)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--hold", type=float, default=5)
    ap.add_argument("--rooms", type=int, default=10)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--window", type=float, default=10)
    ap.add_argument("--skip-rate", action="store_true")
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--client", choices=("sipp", "py"), default="sipp" if SIPP else "py")
    a = ap.parse_args()
    ttlib.BUILD_DIR = os.environ.get("TT_BUILD_DIR", os.path.join(SRC, "build"))
    if not a.skip_rate:
        print("call rate:", call_rate(a), flush=True)
    for codec in () if a.skip_cpu else ("pcmu", "opus"):
        print("cpu per call:", cpu_per_call(a, codec), flush=True)


if __name__ == "__main__":
    main()
