"""Scrape benchmark: how long one GET /metrics takes (the core loop renders it in one go, so
this is also how long it holds the loop) with N plain RTP participants in one room, for
N = 10 and N = 1,000 on one bridge, in interleaved rounds. The participants send nothing
(inactivity_s = 0 keeps them); their legs still report statistics every second, which is
what a scrape sums. Also the time of GET /api/health, the smallest request, measured the
same way, as the floor of an HTTP round trip.

  python3 bench/metrics/bench_scrape.py [--n 10,1000] [--rounds 5] [--scrapes 40]"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from ttlib import Bridge  # noqa: E402


def timed(br, path, k):
    out, size = [], 0
    for _ in range(k):
        t0 = time.perf_counter()
        st, body = br.http("GET", path)
        out.append(time.perf_counter() - t0)
        if st != 200:
            raise SystemExit("%s: %s" % (path, st))
        size = len(body) if isinstance(body, bytes) else 0
    return out, size


def fill(br, room, n):
    st, body = br.http("PUT", "/api/rooms/" + room, {"max_participants": max(n, 10)})
    if st not in (200, 201):
        raise SystemExit("PUT room: %s %s" % (st, body))
    for i in range(n):
        st, body = br.http("POST", "/api/rooms/%s/participants" % room,
                           {"name": "p%d" % i, "remote": "127.0.0.1:%d" % (30000 + i),
                            "codec": ("pcmu", "opus", "g722")[i % 3]}, timeout=30)
        if st != 201:
            raise SystemExit("POST participant %d: %s %s" % (i, st, body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="10,1000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scrapes", type=int, default=40)
    a = ap.parse_args()
    sizes = [int(x) for x in a.n.split(",")]
    res = {n: [] for n in sizes}
    health = {n: [] for n in sizes}
    nbytes = {}
    for n in sizes:
        with Bridge({"media": {"inactivity_s": 0}, "rooms": {"on_demand": True}},
                    start_timeout=30) as br:
            fill(br, "bench", n)
            time.sleep(2.5)   # every leg reported at least once
            for r in range(a.rounds):
                t, nbytes[n] = timed(br, "/metrics", a.scrapes)
                res[n].append(statistics.median(t))
                h, _ = timed(br, "/api/health", a.scrapes)
                health[n].append(statistics.median(h))
    print("| participants | GET /metrics, median of round medians | worst round | bytes |"
          " GET /api/health |")
    print("|---|---|---|---|---|")
    for n in sizes:
        print("| %d | %.2f ms | %.2f ms | %d | %.2f ms |" % (
            n, 1e3 * statistics.median(res[n]), 1e3 * max(res[n]), nbytes[n],
            1e3 * statistics.median(health[n])))
    if len(sizes) == 2:
        lo, hi = sizes
        print("\nratio %d/%d: %.1fx the time for %.0fx the participants" % (
            hi, lo, statistics.median(res[hi]) / statistics.median(res[lo]), hi / lo))


if __name__ == "__main__":
    main()
