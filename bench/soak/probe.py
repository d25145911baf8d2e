"""probe: what the soak reads of the bridge: RSS and CPU from /proc, tick counters from
GET /api/health, the room from GET /api/rooms/ROOM; and the figures made of them. Stdlib."""
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOM = "soak"
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ---- the bridge's numbers ----

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get_json(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return json.loads(r.read().decode())


def ticks(health, worker=None):
    """(ticks, late, skipped, max late us) of one worker of GET /api/health (the room's:
    an idle worker's punctual ticks would dilute the figure), or summed over all."""
    t = l = s = m = 0
    for w in health.get("workers", []):
        if worker is not None and w.get("index") != worker:
            continue
        t += w.get("ticks", 0)
        l += w.get("late", 0)
        s += w.get("skipped", 0)
        m = max(m, w.get("max_late_us", 0))
    return t, l, s, m


def slope_per_min(points):
    """Least-squares slope of (seconds, KiB) points in KiB per minute, or None."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return 60.0 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def is_asan(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out


# ---- children ----

def room(http_port):
    try:
        return get_json(http_port, "/api/rooms/" + ROOM)
    except Exception:  # noqa: BLE001 - a missing room (404) or a slow answer: no sample
        return None


def sample(pid, http_port, t0):
    s = {"t": round(time.time() - t0, 1), "rss_kib": rss_kib(pid), "cpu_s": cpu_s(pid),
         "load": os.getloadavg()[0]}
    r = room(http_port)
    try:
        s["ticks"], s["late"], s["skipped"], s["max_late_us"] = ticks(
            get_json(http_port, "/api/health"), r.get("worker") if r else None)
    except Exception:  # noqa: BLE001
        s["health_error"] = True
    if r is not None:
        s["worker"] = r.get("worker")
        parts = r.get("participants", [])
        s["by_network"] = {}
        for p in parts:
            s["by_network"][p["network"]] = s["by_network"].get(p["network"], 0) + 1
        s["parts"] = {"%s/%s" % (p["network"], p["name"]): (
            (p.get("media") or {}).get("packets_in"), (p.get("media") or {}).get("packets_out"))
            for p in parts}
        # SIP callers by id: their display names come back ("sipp") once a call is over
        s["sip"] = {p["id"]: ((p.get("media") or {}).get("packets_in"),
                              (p.get("media") or {}).get("packets_out"))
                    for p in parts if p["network"] == "phone"}
    return s


def sip_media(samples):
    """(SIP participants seen in two samples or more, those of them whose packets in or out
    were still 0 at their last sample): SIPp's rtp_stream sends, the bridge sends the mix."""
    seen, last = {}, {}
    for s in samples:
        for pid, io in s.get("sip", {}).items():
            seen[pid] = seen.get(pid, 0) + 1
            last[pid] = io
    long_ = [n for n, k in seen.items() if k >= 2]
    silent = [n for n in long_ if not (last[n][0] or 0) > 0 or not (last[n][1] or 0) > 0]
    return long_, silent


def tick_window(a, b):
    """Late and skipped ticks between two samples of the same worker, or None."""
    if "ticks" not in a or "ticks" not in b or b["ticks"] <= a["ticks"]:
        return None
    nt, nl, ns = b["ticks"] - a["ticks"], b["late"] - a["late"], b["skipped"] - a["skipped"]
    return {"ticks": nt, "late": nl, "skipped": ns, "pct": 100.0 * (nl + ns) / nt,
            "from_s": a["t"], "max_late_us": b.get("max_late_us")}
