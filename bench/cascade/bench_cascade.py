"""One large room cascaded over three nodes against the same room on one node, in the same
run and interleaved (docs/benchmarks.md, "Cascaded rooms"): tt_loadgen drives N plain RTP
participants through the admin API (spread round-robin over the three nodes' URLs for the
cascade) and sums the nodes' CPU; the trunks' bytes come from the trunk participants'
statistics. Three nodes on 127.0.0.2-4 and one redis-server, as integration_cascade starts
them. N, rounds and seconds: TT_BENCH_CASCADE_N (default 600), _ROUNDS (3), _SECONDS (12)."""
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "cluster"))
import test_cascade as tc  # noqa: E402
from test_cluster import Redis  # noqa: E402
from ttlib import BUILD_DIR, render_config  # noqa: E402

LOADGEN = os.path.join(BUILD_DIR, "bench", "loadgen", "tt_loadgen")
N = int(os.environ.get("TT_BENCH_CASCADE_N", "600"))
ROUNDS = int(os.environ.get("TT_BENCH_CASCADE_ROUNDS", "3"))
SECONDS = int(os.environ.get("TT_BENCH_CASCADE_SECONDS", "12"))


def trunk_bytes(nodes, room):
    """Bytes sent over every trunk end of room, summed over the nodes."""
    total = 0
    for n in nodes:
        for t in n.trunks(room):
            if not t.get("participant"):
                continue
            st, p = n.http("GET", "/api/rooms/%s/participants/%s" % (room, t["participant"]))
            if st == 200 and p.get("media"):
                total += p["media"].get("bytes_out", 0)
    return total


def room_size(nodes, room):
    """Participants of the nodes as their heartbeats publish them (nothing asked of the
    nodes themselves, which would cost them CPU during the measurement)."""
    return sum(int(tc.REDIS.cmd("HGET", "tutti:node:%s" % n.name, "participants") or 0)
               for n in nodes)


def loadgen(urls, pids, room):
    cmd = [LOADGEN, "-n", str(N), "--talkers", "3", "--seconds", str(SECONDS), "--json",
           "--room", room, "--url", urls[0], "--pid", str(pids[0])]
    for u in urls[1:]:
        cmd += ["--also-url", u]
    for p in pids[1:]:
        cmd += ["--also-pid", str(p)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def one(nodes, cascade, r):
    room = "%s%d" % ("casc" if cascade else "one", r)
    use = nodes if cascade else nodes[:1]
    p = loadgen([n.url for n in use], [n.proc.pid for n in use], room)
    rate = {}
    if cascade:
        def sample():
            # once every participant is in (the talkers talk from then on), inside the run
            deadline = time.time() + 120
            while time.time() < deadline and room_size(nodes, room) < N:
                time.sleep(0.2)
            time.sleep(2)
            b0, t0 = trunk_bytes(nodes, room), time.time()
            time.sleep(min(5, SECONDS * 0.4))
            rate["bps"] = (trunk_bytes(nodes, room) - b0) * 8 / (time.time() - t0)
        th = threading.Thread(target=sample)
        th.start()
    so, se = p.communicate(timeout=SECONDS + N + 120)
    if cascade:
        th.join()
    if p.returncode not in (0, 1):
        raise SystemExit("tt_loadgen failed: %s" % se)
    res = json.loads(so)
    return res, rate.get("bps")


def main():
    tc.REDIS = Redis().start()
    nodes = tc.nodes()
    for n in nodes:
        n.conf["rooms"] = {"max_participants": max(1000, N + 10)}
        n.conf["media"]["inactivity_s"] = 30
        with open(n.config_path, "w") as f:
            f.write(render_config(n.conf))
        n.start()
    rows = []
    try:
        for r in range(ROUNDS):
            for cascade in ((False, True) if r % 2 == 0 else (True, False)):
                res, bps = one(nodes, cascade, r)
                row = {"cascade": cascade, "cpu_pct": res["cpu_pct"],
                       "cpu_per_participant": res["cpu_pct"] / N,
                       "loss_pct": res["loss_pct"], "latency_ms_median": res["latency_ms_median"],
                       "latency_ms_p99": res["latency_ms_p99"], "trunk_bps": bps}
                rows.append(row)
                print(json.dumps(row), flush=True)
                time.sleep(2)
    finally:
        for n in nodes:
            tc.close(n)
        tc.REDIS.close()
    one_node = [x["cpu_pct"] for x in rows if not x["cascade"]]
    casc = [x["cpu_pct"] for x in rows if x["cascade"]]
    bps = [x["trunk_bps"] for x in rows if x["cascade"] and x["trunk_bps"]]
    print("N = %d, %d rounds of %d s: CPU one node %s %%, cascaded (three nodes summed) %s %%;"
          " ratio cascade/one %.2f; trunk traffic (both ways, both trunks) %s kbit/s" %
          (N, ROUNDS, SECONDS, [round(x) for x in one_node], [round(x) for x in casc],
           sum(casc) / max(1e-9, sum(one_node)), [round(b / 1000) for b in bps]))


if __name__ == "__main__":
    main()
