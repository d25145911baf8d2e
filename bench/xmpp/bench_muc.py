"""MUC benchmark: N occupants join one room at R joins/s, against tutti's MUC service and
against Prosody's own MUC (mod_muc) on the same Prosody, in interleaved rounds.

The occupants are users of a load component (muc_load.py), so both runs see the same
stanzas from the same client. Per round: each join's time to its self-presence, the time
until every occupant had every other's presence (fan-out), and the CPU (user + system,
/proc) of tutti and of Prosody during the joins. In tutti's run Prosody only routes; in
Prosody's run it routes and is the MUC, so the fair comparison is "MUC work + routing" in
both: tutti + Prosody against Prosody alone.

  python3 bench/xmpp/bench_muc.py [--occupants 500] [--rate 50] [--rounds 3]

Needs prosody (Debian); a release build (TT_BUILD_DIR, default build/). Prints Markdown."""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration", "xmpp"))
sys.path.insert(0, HERE)
import xmppenv  # noqa: E402
import muc_load  # noqa: E402

LOAD = "load.localhost"
PMUC = "pmuc.localhost"
SECRET = "bench-secret"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pids, fn):
    """Run fn() and return (its result, CPU seconds of each pid meanwhile)."""
    before = [cpu_seconds(p) for p in pids]
    out = fn()
    return out, [round(cpu_seconds(p) - b, 2) for p, b in zip(pids, before)]


def one_round(px, br, target, room, args):
    muc = px.muc_domain if target == "tutti" else PMUC
    pids = [px.proc.pid] + ([br.proc.pid] if target == "tutti" else [])
    res, cpu = measured(pids, lambda: muc_load.run(
        "127.0.0.1", px.component_port, LOAD, SECRET, muc, room, args.occupants, args.rate,
        timeout=args.timeout))
    res["cpu_prosody_s"] = cpu[0]
    res["cpu_tutti_s"] = cpu[1] if target == "tutti" else 0.0
    res["cpu_total_s"] = round(res["cpu_prosody_s"] + res["cpu_tutti_s"], 2)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--occupants", type=int, default=500)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args()
    xmppenv.require(slixmpp=False)
    comps = {"conference.localhost": SECRET, LOAD: SECRET}
    extra = ('Component "%s" "muc"\n\tmuc_room_locking = false\n'
             '\tmuc_room_default_public = true\n\tmuc_tombstones = false\n' % PMUC)
    rows = {"tutti": [], "prosody": []}
    with xmppenv.Prosody(components=comps, call_domain=None, extra_config=extra) as px, \
            xmppenv.ttlib.Bridge({"rooms": {"on_demand": "true", "max_participants": 100000},
                                  "xmpp": px.xmpp_section(calls=False)},
                                 binary="tutti", log_level="warn") as br:
        xmppenv.wait_linked(br, call=False)
        for r in range(args.rounds):
            for target in ("tutti", "prosody") if r % 2 == 0 else ("prosody", "tutti"):
                res = one_round(px, br, target, "bench%d" % r, args)
                rows[target].append(res)
                print("round %d %s: %s" % (r, target, res), file=sys.stderr, flush=True)
                time.sleep(2)
    med = {t: {k: statistics.median(x[k] for x in v) for k in
               ("join_ms_p50", "join_ms_p95", "fanout_s", "cpu_prosody_s", "cpu_tutti_s",
                "cpu_total_s", "presences")} for t, v in rows.items()}
    print("| MUC | join p50 ms | join p95 ms | fan-out s | presences | CPU s: Prosody | "
          "CPU s: tutti | CPU s: total |")
    print("|---|---|---|---|---|---|---|---|")
    for t, name in (("tutti", "tutti's MUC service (component)"),
                    ("prosody", "Prosody's mod_muc")):
        m = med[t]
        print("| %s | %.1f | %.1f | %.2f | %d | %.2f | %.2f | %.2f |" % (
            name, m["join_ms_p50"], m["join_ms_p95"], m["fanout_s"], m["presences"],
            m["cpu_prosody_s"], m["cpu_tutti_s"], m["cpu_total_s"]))
    t, p = med["tutti"], med["prosody"]
    print("\n%d occupants at %g joins/s, median of %d interleaved rounds: total CPU tutti+"
          "Prosody / Prosody's MUC = %.2f; tutti alone / Prosody's MUC = %.2f; fan-out time "
          "ratio %.2f" % (args.occupants, args.rate, args.rounds,
                          t["cpu_total_s"] / p["cpu_total_s"],
                          t["cpu_tutti_s"] / p["cpu_total_s"], t["fanout_s"] / p["fanout_s"]))


if __name__ == "__main__":
    main()
