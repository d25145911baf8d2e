"""bench_frontdoor: call rate through the Kamailio front door (docs/kamailio/tutti.cfg) to
ten rooms on three tutti nodes, against SIPp straight to one node, in the same run.

One redis-server, three `tutti` nodes on 127.0.0.2-4 ([cluster], as the test
integration_cluster_frontdoor starts them) and one kamailio on 127.0.0.1 with the shipped
cfg. Each round runs both, in alternating order: SIPp's tests/integration/cluster/sipp/
uac_frontdoor.xml places CALLS calls (INVITE, 200, ACK, HOLD ms, BYE along the route set)
cycling over ten rooms, at most CONCURRENT at a time, asked for far more calls/s than
either path gives, so the figure is what the path sustains: successful calls / seconds.
Prints each round and the medians with their spread, and the ratio front door / direct.
"Sustained" is the median of SIPp's per-second successful calls; "overall" is successful
calls / run time, which a call stuck until -recv_timeout (10 s) drags down.

Never a ctest (shared, noisy machines). Run:
    python3 bench/sip/bench_frontdoor.py [--rounds 5] [--calls 2000] [--concurrent 300]
                                         [--hold-ms 200] [--workers 4] [--shm-mb 512]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "cluster"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "sip"))
from frontdoor import Kamailio, Node, missing, sipp_cmd  # noqa: E402
from sipplib import screen_stats  # noqa: E402
from test_cluster import Redis  # noqa: E402
from ttlib import wait_for  # noqa: E402

ROOMS = ["bench%d" % i for i in range(10)]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return total


def kamailio_pids(kam):
    """kamailio's main process and its children (the workers, timers, ctl)."""
    out = subprocess.run(["pgrep", "-P", str(kam.proc.pid)], capture_output=True, text=True)
    return [kam.proc.pid] + [int(x) for x in out.stdout.split()]


def one_run(target, args, kam=None):
    rooms = (ROOMS * (args.calls // len(ROOMS) + 1))[:args.calls]
    with tempfile.TemporaryDirectory() as tmp:
        # a call stuck on one lost message fails after 10 s rather than holding the run
        cmd = sipp_cmd(target, rooms, tmp, args.hold_ms, 100000, timeout=180,
                       extra=["-recv_timeout", "10000", "-trace_stat", "-fd", "1"])
        # concurrency cap instead of sipp_cmd's one call per room
        cmd[cmd.index("-l") + 1] = str(args.concurrent)
        pids = kamailio_pids(kam) if kam else []
        c0, t0 = cpu_seconds(pids), time.time()
        p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=240)
        took = time.time() - t0
        kcpu = cpu_seconds(pids) - c0
        st = screen_stats(p.stdout + p.stderr)
        per_s = per_second(tmp)
        err = os.path.join(tmp, "sipp_errors.log")
        if st.get("failed") and os.path.exists(err):
            with open(err, errors="replace") as f:
                lines = [l for l in f if "unexpected" in l.lower() or "SIP/2.0" in l
                         or "timeout" in l.lower()]
            print("  sipp: %s" % " | ".join(l.strip() for l in lines[:6]))
    ok = st.get("ok", 0)
    return {"rate": statistics.median(per_s) if per_s else 0.0, "overall": ok / took,
            "ok": ok, "failed": st.get("failed"), "s": took, "retrans": st.get("retrans"),
            "kamailio_cpu_ms_per_call": 1000 * kcpu / ok if kam and ok else None}


def per_second(tmp):
    """Successful calls in each full second of the run while calls were still being
    started (SIPp's -trace_stat -fd 1 file): the sustained rate, which one call stuck on a
    lost message until -recv_timeout does not drag down as it drags the overall figure."""
    files = [f for f in os.listdir(tmp) if f.endswith("_.csv")]
    if not files:
        return []
    with open(os.path.join(tmp, files[0])) as f:
        rows = [l.rstrip("\n").split(";") for l in f if l.strip()]
    head = rows[0]
    ok_i, made_i = head.index("SuccessfulCall(P)"), head.index("OutgoingCall(P)")
    vals = [(int(r[ok_i]), int(r[made_i])) for r in rows[1:] if len(r) > ok_i]
    # full seconds with calls being created, the first (ramp-up) left out
    busy = [ok for ok, made in vals[1:] if made > 0]
    return busy[:-1] if len(busy) > 2 else busy


def spread(xs):
    return "%.0f (%.0f-%.0f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrent", type=int, default=300)
    ap.add_argument("--hold-ms", type=int, default=200)
    ap.add_argument("--workers", type=int, default=4, help="kamailio's UDP children")
    ap.add_argument("--shm-mb", type=int, default=512, help="kamailio -m (shared memory)")
    args = ap.parse_args()
    why = missing()
    if why:
        print("cannot run: " + why)
        return 1
    redis = Redis().start()
    nodes, kam = [], None
    try:
        for name, ip in (("a", "127.0.0.2"), ("b", "127.0.0.3"), ("c", "127.0.0.4")):
            # a port pair per concurrent call, on one node in the direct runs
            nodes.append(Node(redis.port, name, ip, 15, binary="tutti",
                              ports=max(400, 4 * args.concurrent)).start())
        kam = Kamailio(redis.port, [n.sip_uri for n in nodes], ping_s=5,
                       workers=args.workers, shm_mb=args.shm_mb).start()
        wait_for(lambda: set(kam.dispatcher().values()) == {"AP"}, 30, "nodes active")
        front = "127.0.0.1:%d" % kam.port
        direct = nodes[0].sip_uri[len("sip:"):]
        res = {"front": [], "direct": []}
        for r in range(args.rounds):
            order = (("front", front), ("direct", direct))
            if r % 2:
                order = order[::-1]
            for what, target in order:
                x = one_run(target, args, kam if what == "front" else None)
                res[what].append(x)
                print("round %d %-6s %6.0f calls/s sustained (%4.0f overall)  ok %d failed %s  "
                      "retrans %s  %s"
                      % (r + 1, what, x["rate"], x["overall"], x["ok"], x["failed"], x["retrans"],
                         "kamailio %.2f ms CPU/call" % x["kamailio_cpu_ms_per_call"]
                         if x["kamailio_cpu_ms_per_call"] else ""), flush=True)
        fr = [x["rate"] for x in res["front"]]
        dr = [x["rate"] for x in res["direct"]]
        ratios = [f / d for f, d in zip(fr, dr)]
        kc = [x["kamailio_cpu_ms_per_call"] for x in res["front"]
              if x["kamailio_cpu_ms_per_call"]]
        print("\nfront door, 10 rooms on 3 nodes: %s calls/s" % spread(fr))
        print("SIPp straight to one node:       %s calls/s" % spread(dr))
        print("ratio front/direct per round: median %.2f (%.2f-%.2f)"
              % (statistics.median(ratios), min(ratios), max(ratios)))
        if kc:
            print("kamailio CPU per call: median %.2f ms (%.2f-%.2f)"
                  % (statistics.median(kc), min(kc), max(kc)))
        errs = [l for l in kam.read_log().splitlines() if "ERROR" in l or "WARN" in l]
        if errs:
            print("kamailio said (%d ERROR/WARNING lines; the first 5):\n  %s"
                  % (len(errs), "\n  ".join(errs[:5])))
        print("failed calls: front %d, direct %d"
              % (sum(x["failed"] or 0 for x in res["front"]),
                 sum(x["failed"] or 0 for x in res["direct"])))
    finally:
        if kam:
            kam.close()
        for n in nodes:
            n.close()
        redis.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
