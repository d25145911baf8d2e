"""Event stream benchmark: what GET /api/events sustains while N participants join one room
as fast as the bridge takes them (the test gateway, every join written at once, then every
leave; --cycles times per round), against a baseline from the same run: the same joins with
no event client. Rounds interleave (none, stream, none, stream, ...) on one bridge
(tutti-test, a plain build).

Per round: the bridge's CPU (user + system, /proc/PID/stat), the time until the test
gateway answered the last join and leave, and, with a client, the events it received per
second (first to last event) and how long after the bridge's last answer the last event
arrived. Prints a Markdown table and the medians.

  python3 bench/events/bench_events.py [--n 1000] [--rounds 6] [--clients 1]"""
import argparse
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "events"))
from ttlib import Bridge  # noqa: E402
from evlib import Control, EventClient  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Reader(threading.Thread):
    """Reads events until `want` of them came; records when the first and last arrived."""

    def __init__(self, client, want):
        super().__init__(daemon=True)
        self.c, self.want = client, want
        self.n, self.first, self.last, self.error = 0, None, None, None

    def run(self):
        try:
            while self.n < self.want:
                m = self.c.recv(120)
                if "seq" not in m:
                    continue
                now = time.monotonic()
                self.first = self.first or now
                self.last = now
                self.n += 1
        except Exception as e:  # noqa: BLE001 - reported with the round
            self.error = e


def one_round(br, ctl, n, room, clients, cycles):
    # joined + left per participant, and room_ended, per cycle
    want = cycles * (2 * n + 1)
    readers = []
    for _ in range(clients):
        c = EventClient(br.http_port)
        c.recv()   # hello
        r = Reader(c, want)
        r.start()
        readers.append(r)
    cpu0, t0 = cpu_seconds(br.proc.pid), time.monotonic()
    for _ in range(cycles):
        joins = ctl.batch([{"cmd": "join", "room": room, "name": "p%d" % i, "caps": ["text"]}
                           for i in range(n)])
        ids = [j["id"] for j in joins if j.get("ok")]
        if len(ids) != n:
            raise RuntimeError("only %d of %d joined: %s" % (len(ids), n, joins[-1]))
        ctl.batch([{"cmd": "leave", "id": i} for i in ids])
    t_done = time.monotonic()
    for r in readers:
        r.join(120)
    cpu = cpu_seconds(br.proc.pid) - cpu0
    out = {"mode": "stream x%d" % clients if clients else "none", "cpu": cpu,
           "answered_s": t_done - t0}
    if readers:
        r = readers[0]
        if r.error or r.n < want:
            raise RuntimeError("client got %d of %d events: %s" % (r.n, want, r.error))
        out["events_per_s"] = (r.n - 1) / (r.last - r.first) if r.last > r.first else 0
        out["lag_ms"] = 1000 * max(0.0, max(x.last for x in readers) - t_done)
        out["all_s"] = max(x.last for x in readers) - t0
        for x in readers:
            x.c.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--cycles", type=int, default=5,
                    help="joins and leaves of all N per round (CPU is counted in 10 ms ticks)")
    a = ap.parse_args()
    rows = []
    kept = 0
    with Bridge({"rooms": {"max_participants": max(1000, a.n)},
                 "bridge": {"log_level": "warn"}}) as br:
        ctl = Control(br.control)
        one_round(br, ctl, 50, "warmup", a.clients, 1)
        for i in range(a.rounds):
            clients = a.clients if i % 2 else 0
            rows.append(one_round(br, ctl, a.n, "bench%d" % i, clients, a.cycles))
            print(rows[-1], flush=True)
        # the stream's own ceiling, with no joins to wait for: the whole history replayed
        # to a client that reconnects with since=0 (a gap, then every kept event)
        replays = []
        for _ in range(3):
            c = EventClient(br.http_port, "?since=0")
            hello = c.recv()
            kept = hello["seq"] - hello["first"] + 1
            t0 = time.monotonic()
            got = 0
            while got < kept:
                if "seq" in c.recv(120):
                    got += 1
            replays.append(kept / (time.monotonic() - t0))
            c.close()
    print("\n| round | mode | bridge CPU s | joins+leaves answered in s | events/s at the "
          "client | last event after the last answer, ms |")
    print("|---|---|---|---|---|---|")
    for i, r in enumerate(rows):
        print("| %d | %s | %.3f | %.3f | %s | %s |" % (
            i + 1, r["mode"], r["cpu"], r["answered_s"],
            "%.0f" % r["events_per_s"] if "events_per_s" in r else "",
            "%.0f" % r["lag_ms"] if "lag_ms" in r else ""))
    print("\nreplay of the history (%d events) to a reconnecting client, events/s: %s"
          % (kept, ", ".join("%.0f" % r for r in replays)))
    base = [r for r in rows if r["mode"] == "none"]
    st = [r for r in rows if r["mode"] != "none"]
    med = statistics.median
    print("\nmedians: CPU %.3f s without a client, %.3f s with (ratio %.2f); answered in "
          "%.3f s vs %.3f s; %.0f events/s at the client; last event %.0f ms after the "
          "last answer" % (med(r["cpu"] for r in base), med(r["cpu"] for r in st),
                           med(r["cpu"] for r in st) / med(r["cpu"] for r in base),
                           med(r["answered_s"] for r in base), med(r["answered_s"] for r in st),
                           med(r["events_per_s"] for r in st), med(r["lag_ms"] for r in st)))


if __name__ == "__main__":
    main()
