#!/usr/bin/env python3
"""run.py: the media benchmark through the real daemon (issue 4).

Starts tutti with one media worker, runs tt_loadgen against it at each N (plain RTP, 48 kHz
Opus room, K talkers with RFC 6464 levels), then the same load against Janus AudioBridge
(Debian's janus, a throw-away config on 127.0.0.1) while it keeps up, and prints a markdown
table: CPU, loss, late ticks, added latency p50/p99, CPU per participant and the
Janus/tutti ratio. Builds nothing: give it the build directory.

  bench/rtp/run.py --build-dir build [--seconds 15] [--ns 100,500,1000,2000]
                   [--out build/bench_rtp.md] [--json build/bench_rtp.json] [--no-janus]
                   [--opus-complexity 4] [--opus-bitrate 51000] [--rounds 1]
                   [--baseline KEY=VAL[,KEY=VAL]] [--baseline build=OTHER_BUILD_DIR]
                   [--no-levels]

Both bridges encode with the same Opus settings: tutti's room is configured with Janus
AudioBridge's defaults for a participant, "quality" (complexity) 4 and no "bitrate" (libopus
picks 51 kbit/s for 48 kHz mono 20 ms frames; janus_audiobridge.c: DEFAULT_COMPLEXITY,
OPUS_SET_BITRATE only when a bitrate was given). Both use OPUS_APPLICATION_VOIP.

--baseline reruns tutti at each N with other [media] settings, or (build=DIR) another
build's binary, in the same run. --rounds repeats everything and prints each round's CPU
and Janus/tutti ratio with their medians: on a shared VM one round says little.

Each daemon is started fresh for each N (clean counters, nothing left over from the previous
run's teardown) and stopped after it. Never a ctest: the numbers need a quiet machine.
"""
import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

JANUS_LIBDIR = "/usr/lib/x86_64-linux-gnu/janus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(0.1)
    return False


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def machine():
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "%s, %d CPUs (os.cpu_count), Linux %s" % (model, os.cpu_count(), platform.release())


def tutti_conf(workdir, http_port, args, media=None):
    path = os.path.join(workdir, "tutti.conf")
    with open(path, "w") as f:
        f.write("[bridge]\nworkers = 1\nlog_level = warn\n"
                "[http]\nport = %d\n"
                "[rooms]\nmax_participants = 20000\n"
                # 10,000 ports below the kernel's ephemeral range (where the load
                # generator's own sockets live)
                "[media]\nport_min = 20000\nport_max = 29999\n"
                # the encoder settings Janus uses (see the docstring)
                "opus_complexity = %d\nopus_bitrate = %d\n"
                % (http_port, args.opus_complexity, args.opus_bitrate)
                + "".join("%s = %s\n" % kv for kv in (media or {}).items()))
    return path


def janus_conf(workdir, http_port):
    """An isolated Janus config: only the AudioBridge plugin and the HTTP transport are in
    the folders it loads from (symlinks), no admin API, no STUN/TURN, no NAT 1:1 mapping, ICE
    gathering on lo only, no event handlers."""
    d = os.path.join(workdir, "janus")
    for sub in ("conf", "plugins", "transports", "empty"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for sub, lib in (("plugins", "libjanus_audiobridge.so"), ("transports", "libjanus_http.so")):
        dst = os.path.join(d, sub, lib)
        if not os.path.exists(dst):
            os.symlink(os.path.join(JANUS_LIBDIR, sub, lib), dst)
    conf = os.path.join(d, "conf")
    with open(os.path.join(conf, "janus.jcfg"), "w") as f:
        f.write("""general: {
	configs_folder = "%(conf)s"
	plugins_folder = "%(d)s/plugins"
	transports_folder = "%(d)s/transports"
	events_folder = "%(d)s/empty"
	loggers_folder = "%(d)s/empty"
	debug_level = 3
	session_timeout = 60
}
media: {
	rtp_port_range = "30000-30999"
}
nat: {
	nice_debug = false
	ignore_mdns = true
	ice_enforce_list = "lo"
}
plugins: {
}
transports: {
}
events: {
	broadcast = false
}
""" % {"conf": conf, "d": d})
    with open(os.path.join(conf, "janus.transport.http.jcfg"), "w") as f:
        f.write("""general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = %d
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
""" % http_port)
    with open(os.path.join(conf, "janus.plugin.audiobridge.jcfg"), "w") as f:
        # Plain RTP ports below the ephemeral range too; no static rooms.
        f.write("""general: {
	rtp_port_range = "10000-19999"
	local_ip = "127.0.0.1"
	events = false
}
""")
    return conf


def loadgen(build, args, n, extra):
    cmd = [os.path.join(build, "bench/loadgen/tt_loadgen"), "-n", str(n),
           "--talkers", str(args.talkers), "--codec", "opus", "--seconds", str(args.seconds),
           "--sample", str(args.sample), "--check", "--json"] + \
        (["--no-levels"] if args.no_levels else []) + extra
    t0 = time.time()
    load0 = os.getloadavg()[0]
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        res = json.loads(p.stdout)
    except ValueError:
        res = {"error": (p.stderr or p.stdout)[-400:]}
    res["rc"] = p.returncode
    # The machine is shared: the 1-minute load average before and after, and the load
    # generator's own late send ticks, say how far to trust the point.
    res["loadavg"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    res["wall_s"] = round(time.time() - t0, 1)
    if p.returncode and p.stderr:
        res["stderr"] = p.stderr[-400:]
    return cmd, res


def run_tutti(build, args, workdir, n, log, media=None):
    port = free_port()
    conf = tutti_conf(workdir, port, args, media)
    proc = subprocess.Popen([os.path.join(build, "tutti"), "-c", conf],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_http("http://127.0.0.1:%d/api/health" % port):
            return None, {"error": "tutti did not start"}
        return loadgen(build, args, n, ["--url", "http://127.0.0.1:%d" % port,
                                        "--pid", str(proc.pid)])
    finally:
        stop(proc)


def run_janus(build, args, workdir, n, log):
    port = free_port()
    conf = janus_conf(workdir, port)
    proc = subprocess.Popen(["janus", "-F", conf, "-C", os.path.join(conf, "janus.jcfg"),
                             "-i", "127.0.0.1", "-o"], stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_http("http://127.0.0.1:%d/janus/info" % port):
            return None, {"error": "janus did not start"}
        return loadgen(build, args, n, ["--janus", "http://127.0.0.1:%d/janus" % port,
                                        "--room", "4242", "--pid", str(proc.pid)])
    finally:
        stop(proc)


def fmt(v, spec="%.1f"):
    return "—" if v is None or (isinstance(v, (int, float)) and v < 0) else spec % v


def per_part(r):
    """CPU per participant in % of one core, or None."""
    if not r or r.get("cpu_pct", -1) < 0 or not r.get("participants"):
        return None
    return r["cpu_pct"] / r["participants"]


def table(rows):
    out = ["| N | tutti CPU % | tutti CPU/participant (% core) | participants/core (implied) "
           "| loss % | bridge late / skipped ticks | latency p50 / p99 ms | N-1 | "
           "Janus CPU % | Janus CPU/participant | Janus loss % | Janus latency p50 / p99 ms "
           "| Janus N-1 | ratio Janus/tutti per participant | generator late sends "
           "tutti / Janus | load avg tutti / Janus |",
           "|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|:-:|---:|---:|---:|"]
    for n, t, j in rows:
        tp, jp = per_part(t), per_part(j)
        late = "—"
        if t and "bridge_ticks" in t:
            late = "%d / %d of %d" % (t["bridge_late_ticks"], t["bridge_skipped_ticks"],
                                      t["bridge_ticks"])
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                   "| %s / %s | %s / %s |" % (
            n, fmt(t.get("cpu_pct") if t else None), fmt(tp, "%.4f"),
            fmt(100.0 / tp if tp else None, "%.0f"),
            fmt(t.get("loss_pct") if t else None, "%.2f")
            + (" (%d streams missing)" % t["streams_missing"] if t and t.get("streams_missing")
               else ""), late,
            "%s / %s" % (fmt(t.get("latency_ms_median")), fmt(t.get("latency_ms_p99")))
            if t else "—",
            ("ok" if t.get("check_ok") else "FAIL") if t else "—",
            fmt(j.get("cpu_pct") if j else None), fmt(jp, "%.4f"),
            fmt(j.get("loss_pct") if j else None, "%.2f")
            + (" (%d streams missing)" % j["streams_missing"] if j and j.get("streams_missing")
               else ""),
            "%s / %s" % (fmt(j.get("latency_ms_median")), fmt(j.get("latency_ms_p99")))
            if j else "not run",
            ("ok" if j.get("check_ok") else "FAIL") if j else "—",
            fmt(jp / tp if tp and jp else None, "%.1f"),
            t.get("late_ticks", "—") if t else "—", j.get("late_ticks", "—") if j else "—",
            "%.1f-%.1f" % tuple(t["loadavg"]) if t and "loadavg" in t else "—",
            "%.1f-%.1f" % tuple(j["loadavg"]) if j and "loadavg" in j else "—"))
    return "\n".join(out)


def table_head(cols, baselines, per_baseline):
    """A markdown header: the fixed columns, then per_baseline's for each baseline ({}
    is the baseline's name)."""
    names = cols + [c.format(b) for b in baselines for c in per_baseline]
    return ["| " + " | ".join(names) + " |", "|" + "---:|" * len(names)]


def baseline_table(ns, raw, baselines):
    """tutti's CPU with the settings under test against each same-run baseline."""
    out = table_head(["N", "tutti CPU % (as configured)"], baselines,
                     ["with {}: CPU %", "ratio", "loss %", "p50 ms"])
    for n in ns:
        a = raw["tutti"].get(n) or {}
        ca = a.get("cpu_pct")
        row = "| %d | %s |" % (n, fmt(ca))
        for b in baselines:
            r = raw.get("baselines", {}).get(b, {}).get(n) or {}
            cb = r.get("cpu_pct")
            row += " %s | %s | %s | %s |" % (fmt(cb), fmt(cb / ca if ca and cb else None, "%.2f"),
                                            fmt(r.get("loss_pct"), "%.2f"),
                                            fmt(r.get("latency_ms_median")))
        out.append(row)
    return "\n".join(out)


def report(label, n, r):
    print("%s N=%d: cpu %s%% loss %s%% p50 %s ms check %s" % (
        label, n, r.get("cpu_pct"), r.get("loss_pct"), r.get("latency_ms_median"),
        r.get("check_ok")), file=sys.stderr)


def one_round(build, args, workdir, log, ns, janus_ns):
    rnd = {"tutti": {}, "janus": {}, "baselines": {}, "commands": {},
           "started": time.strftime("%H:%M:%S")}
    for n in ns:
        cmd, r = run_tutti(build, args, workdir, n, log)
        rnd["tutti"][n] = r
        rnd["commands"]["tutti"] = cmd
        report("tutti", n, r)
        for b in args.baseline:
            media = dict(kv.split("=", 1) for kv in b.split(","))
            other = os.path.abspath(media.pop("build")) if "build" in media else build
            _, r = run_tutti(other, args, workdir, n, log, media or None)
            rnd["baselines"].setdefault(b, {})[n] = r
            report("tutti (%s)" % b, n, r)
    # Janus grows N while it keeps up: the first N with loss > 1 %, a failed N-1 check or CPU
    # at 90 % of every core (Janus is multi-threaded) is the last one run.
    cpu_cap = 90.0 * (os.cpu_count() or 1)
    for n in janus_ns:
        cmd, r = run_janus(build, args, workdir, n, log)
        rnd["janus"][n] = r
        rnd["commands"]["janus"] = cmd
        report("janus", n, r)
        if (r.get("loss_pct", 100) > 1.0 or not r.get("check_ok")
                or r.get("cpu_pct", 0) >= cpu_cap):
            print("janus: stopping at N=%d (loss, N-1 check or CPU)" % n, file=sys.stderr)
            break
    return rnd


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def rounds_table(ns, rounds, baselines):
    """Every round's CPU, the Janus/tutti ratio and each baseline's ratio to tutti."""
    out = table_head(["N", "round", "started", "tutti CPU %", "Janus CPU %",
                      "ratio Janus/tutti"], baselines, ["{}: CPU %", "/ tutti"])
    for n in ns:
        cols = {"t": [], "j": [], "r": []}
        for b in baselines:
            cols[b] = []
            cols[b + "/"] = []
        for k, rnd in enumerate(rounds):
            t = (rnd["tutti"].get(n) or {}).get("cpu_pct")
            j = (rnd["janus"].get(n) or {}).get("cpu_pct") if rnd["janus"].get(n) else None
            tp, jp = per_part(rnd["tutti"].get(n)), per_part(rnd["janus"].get(n))
            ratio = jp / tp if tp and jp else None
            cols["t"].append(t)
            cols["j"].append(j)
            cols["r"].append(ratio)
            row = "| %d | %d | %s | %s | %s | %s |" % (n, k + 1, rnd["started"], fmt(t, "%.2f"),
                                                      fmt(j), fmt(ratio, "%.1f"))
            for b in baselines:
                cb = (rnd["baselines"].get(b, {}).get(n) or {}).get("cpu_pct")
                rb = cb / t if cb and t else None
                cols[b].append(cb)
                cols[b + "/"].append(rb)
                row += " %s | %s |" % (fmt(cb, "%.2f"), fmt(rb, "%.2f"))
            out.append(row)
        rs = [x for x in cols["r"] if x is not None]
        row = "| %d | **median** | | %s | %s | **%s**%s |" % (
            n, fmt(median(cols["t"]), "%.2f"), fmt(median(cols["j"])),
            fmt(median(cols["r"]), "%.1f"),
            " (%d of %d at or past 20)" % (sum(1 for x in rs if x >= 20), len(rs)) if rs else "")
        for b in baselines:
            row += " %s | %s |" % (fmt(median(cols[b]), "%.2f"),
                                   fmt(median(cols[b + "/"]), "%.2f"))
        out.append(row)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--ns", default="100,500,1000,2000")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--talkers", type=int, default=3)
    ap.add_argument("--sample", type=int, default=24,
                    help="listeners decoded for N-1 checks and latency onsets")
    ap.add_argument("--no-janus", action="store_true")
    ap.add_argument("--no-levels", action="store_true",
                    help="participants as phones: no RFC 6464 levels, Opus VOIP mode (quiet "
                         "ones send SILK frames of silence); compare --baseline opus_vad=false")
    ap.add_argument("--opus-complexity", type=int, default=4,
                    help="tutti's [media] opus_complexity (Janus's default quality: 4)")
    ap.add_argument("--opus-bitrate", type=int, default=51000,
                    help="tutti's [media] opus_bitrate (what libopus picks for Janus: 51000)")
    ap.add_argument("--baseline", action="append", default=[], metavar="KEY=VAL[,KEY=VAL]",
                    help="also run tutti with these [media] settings at each N, as a "
                         "same-run baseline (e.g. shared_port=false, opus_mode=voice); "
                         "may be repeated")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the whole run; the main table is round 1's, the rounds "
                         "table has every round's CPU and ratio and their medians")
    ap.add_argument("--out", help="write the markdown table here too")
    ap.add_argument("--json", help="write every raw tt_loadgen result here")
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    ns = [int(x) for x in args.ns.split(",")]

    # One UDP socket per participant on each side, plus Janus's threads' descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 2 * max(ns) + 256:
        print("warning: open-file limit %d is low for N=%d" % (want, max(ns)), file=sys.stderr)

    janus = not args.no_janus and shutil.which("janus") and os.path.isdir(JANUS_LIBDIR)
    if not args.no_janus and not janus:
        print("janus not installed (apt-get install janus): tutti only", file=sys.stderr)
    workdir = tempfile.mkdtemp(prefix="tt-bench-rtp-")
    log = open(os.path.join(workdir, "daemons.log"), "w")
    raw = {"machine": machine(), "ncpu": os.cpu_count(), "seconds": args.seconds,
           "talkers": args.talkers, "opus_complexity": args.opus_complexity,
           "opus_bitrate": args.opus_bitrate, "no_levels": args.no_levels, "tutti": {}, "janus": {}, "commands": {}}
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print("machine: %s; started %s; work dir %s" % (raw["machine"], started, workdir),
          file=sys.stderr)
    rounds = []
    janus_ns = ns if janus else []
    for k in range(args.rounds):
        rnd = one_round(build, args, workdir, log, ns, janus_ns)
        rounds.append(rnd)
        if k == 0:
            janus_ns = sorted(rnd["janus"])    # later rounds: only where Janus kept up
    raw.update(rounds[0])
    raw["commands"] = rounds[0].pop("commands")
    if args.rounds > 1:
        raw["rounds"] = rounds
    log.close()
    md = table([(n, raw["tutti"].get(n), raw["janus"].get(n)) for n in ns])
    if args.baseline:
        md += "\n\n" + baseline_table(ns, raw, args.baseline)
    if args.rounds > 1:
        md += "\n\n" + rounds_table(ns, rounds, args.baseline)
    print(md)
    if args.out:
        with open(args.out, "w") as f:
            f.write("Machine: %s. Run started %s, %d s per point. tutti: opus_complexity %d, "
                    "opus_bitrate %d.%s\n\n%s\n" % (
                        raw["machine"], started, args.seconds, args.opus_complexity,
                        args.opus_bitrate, " Participants as phones (--no-levels): no audio "
                        "levels, Opus VOIP mode." if args.no_levels else "", md))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1, default=str)
    ok = all(r.get("rc") == 0 for rnd in rounds for r in rnd["tutti"].values())
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("kept %s (daemons.log) for the failed run" % workdir, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
