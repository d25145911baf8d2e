"""The installed package's tutti.service under systemd 252 as PID 1 (pid1.py), as shipped:
the unit file unchanged, /etc/tutti/tutti.conf replaced by a test copy (bind-mounted in the
namespace) with test ports on 127.0.0.1, recording on and an IRC network.

What it shows: `systemctl start` reaches active (Type=notify: READY=1 arrived); /api/health
answers; the hardening applies to the main process (NoNewPrivs, Seccomp mode 2, only
CAP_NET_BIND_SERVICE, user _tutti, / read-only); a SIPp call streams RTP into a room and an
IRC link (ngircd started here) relays it, both under the system call filter and the address
families; a recording started through the admin API writes under /var/lib/tutti
(StateDirectory); `systemctl reload` keeps the same MainPID and the journal shows it; the
watchdog pings arrive (WatchdogTimestamp set, still active); journal entries carry the
bridge's levels as PRIORITY; `systemctl stop` ends it cleanly; the host's /tmp and /var/tmp
keep a canary file."""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "sip"))
sys.path.insert(0, os.path.join(HERE, "..", "irc"))
from ttlib import check, free_port, free_port_udp_tcp  # noqa: E402
import pid1  # noqa: E402

ROOM = "room1"
CALL_S = 10
RECDIR = "/var/lib/tutti/recordings"


def why_not():
    """None when systemd can be booted here, else why not (the test then says so)."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("unshare", "nsenter", "systemctl", "journalctl"):
        if not shutil.which(tool):
            return "%s not installed" % tool
    if not os.access("/lib/systemd/systemd", os.X_OK):
        return "no /lib/systemd/systemd (Debian package systemd)"
    from ircenv import have_ngircd
    if not have_ngircd():
        return "ngircd not installed (Debian package ngircd)"
    if not shutil.which("sipp"):
        return "sipp not installed (Debian package sip-tester)"
    if not pid1.cgroup2_base():
        return "no writable cgroup2 hierarchy (/sys/fs/cgroup or /sys/fs/cgroup/unified)"
    return None


def req(port, method, path, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, json.dumps(body) if body is not None else None,
              {"Content-Type": "application/json"} if body is not None else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, data


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = pred()
        except OSError:
            v = None
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def show(sd, *props):
    r = sd.sh("systemctl show tutti -p " + ",".join(props))
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def journal(sd):
    r = sd.sh("journalctl -u tutti -o json --no-pager")
    out = []
    for line in r.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def messages(entries):
    return "\n".join("%s %s" % (e.get("PRIORITY"), e.get("MESSAGE")) for e in entries)


def test_config(conf_text, set_key, http_port, sip_port, irc_port):
    text = conf_text
    for sec, key, val in (("http", "listen", "127.0.0.1"), ("http", "port", http_port),
                          ("media", "address", "127.0.0.1"), ("sip", "listen", "127.0.0.1"),
                          ("sip", "port", sip_port), ("sip", "tls_port", free_port()),
                          ("bridge", "workers", 1), ("recording", "enabled", "true")):
        text = set_key(text, sec, key, val)
    text += ("\n[irc.test]\nserver = 127.0.0.1\nport = %d\nchannels = #chan=%s\n"
             "reconnect_min = 1\nreconnect_max = 2\n" % (irc_port, ROOM))
    return text


def sip_call(sip_port, tmp):
    """A SIPp call into ROOM streaming a PCMU tone for CALL_S seconds: (rc, stats, out)."""
    from sipplib import SCENARIOS, run_sipp, write_ulaw_wav
    write_ulaw_wav(os.path.join(tmp, "tone.wav"), 600, 2.0)
    return run_sipp("127.0.0.1:%d" % sip_port,
                    ["-sf", os.path.join(SCENARIOS, "uac_rtp_stream.xml"), "-s", ROOM,
                     "-m", "1", "-d", str(CALL_S * 1000),
                     "-mp", str(free_port(socket.SOCK_DGRAM))], tmp, timeout=CALL_S + 40)


def run_under_systemd(set_key):
    """The whole check; raises AssertionError with what failed."""
    from ircenv import NgIrcd, RawIrc
    canaries = []
    for d in ("/tmp", "/var/tmp"):
        fd, path = tempfile.mkstemp(prefix="tutti-pid1-canary-", dir=d)
        os.close(fd)
        canaries.append(path)
    tmp = tempfile.mkdtemp(prefix="tutti-sd-")
    os.chmod(tmp, 0o755)
    before = set(glob.glob(os.path.join(RECDIR, "*")) + glob.glob("/var/lib/tutti/*"))
    state_before = set(os.listdir("/var/lib/tutti"))
    state_after = None
    irc = NgIrcd().start()
    alice = None
    sd = None
    try:
        alice = RawIrc(irc.port, "alice")
        alice.send("JOIN #chan")
        alice.wait(":alice!", "JOIN", "#chan")
        http_port, sip_port = free_port(), free_port_udp_tcp()
        conf = os.path.join(tmp, "tutti.conf")
        with open(conf, "w") as f:
            f.write(test_config(open("/etc/tutti/tutti.conf").read(), set_key, http_port,
                                sip_port, irc.port))
        sd = pid1.Pid1(["tutti.service"], conf=conf)
        t0 = time.time()
        check(sd.start(), "systemd did not boot as PID 1 of the namespace:\n" + sd.log()[-3000:])
        print("systemd booted as PID 1 in %.1f s (host PID %d)" % (time.time() - t0, sd.pid),
              flush=True)

        # start: Type=notify, so `systemctl start` returns once READY=1 arrived
        t0 = time.time()
        r = sd.sh("systemctl start tutti", timeout=120)
        st = show(sd, "ActiveState", "SubState", "MainPID", "WatchdogUSec", "NRestarts")
        check(r.returncode == 0 and st.get("ActiveState") == "active",
              "systemctl start tutti: %s %s\n%s\n%s" % (r.returncode, r.stdout, st,
                                                        messages(journal(sd))[-4000:]))
        main_pid = st["MainPID"]
        print("systemctl start: active (%s) in %.1f s, MainPID %s, WatchdogUSec %s"
              % (st["SubState"], time.time() - t0, main_pid, st["WatchdogUSec"]), flush=True)
        status, body = req(http_port, "GET", "/api/health")
        check(status == 200 and body.get("status") == "ok", "/api/health: %s %s"
              % (status, body))

        # the hardening, on the process itself
        proc = sd.sh("cat /proc/%s/status" % main_pid).stdout
        fields = dict(line.split(":", 1) for line in proc.splitlines() if ":" in line)
        got = {k: fields.get(k, "").strip() for k in ("NoNewPrivs", "Seccomp", "CapBnd",
                                                      "CapAmb", "CapEff", "Uid")}
        print("main process: %s" % got, flush=True)
        check(got["NoNewPrivs"] == "1", "NoNewPrivs: %s" % got)
        check(got["Seccomp"] == "2", "no seccomp filter: %s" % got)
        check(int(got["CapBnd"], 16) == 1 << 10 and int(got["CapAmb"], 16) == 1 << 10,
              "capabilities beyond CAP_NET_BIND_SERVICE: %s" % got)
        uid = subprocess.run(["id", "-u", "_tutti"], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
        check(got["Uid"].split()[0] == uid, "not running as _tutti (%s): %s" % (uid, got))
        mounts = sd.sh("cat /proc/%s/mountinfo" % main_pid).stdout
        root_ro = [m for m in mounts.splitlines() if m.split()[4] == "/" and
                   " ro" in " " + m.split()[5].replace(",", " ")]
        check(root_ro, "/ is not read-only for the service (ProtectSystem=strict)")
        check([m for m in mounts.splitlines() if m.split()[4] == "/var/lib/tutti"
               and m.split()[5].startswith("rw")],
              "/var/lib/tutti not writable for the service (StateDirectory)")
        check([m for m in mounts.splitlines() if m.split()[4] == "/tmp" and
               "systemd-private-" in m.split()[3]], "no private /tmp (PrivateTmp=yes):\n"
              + mounts)
        check([m for m in mounts.splitlines() if m.split()[4] == "/proc" and
               "hidepid=invisible" in m], "/proc without hidepid=invisible "
              "(ProtectProc=invisible):\n" + mounts)

        # the IRC link: the bot joins the channel through the filter
        alice.wait_fn(lambda l: (l.startswith(":tutti!") and " JOIN " in l) or
                      (" 353 " in l and "tutti" in l.split(":")[-1]), timeout=30,
                      what="the bridge's bot in #chan")
        mark = alice.mark()

        # a SIP call streaming RTP into the room, recorded through the admin API
        res = {}
        call = threading.Thread(target=lambda: res.update(r=sip_call(sip_port, tmp)))
        call.start()
        try:
            # the room exists from the start (the IRC channel's): wait for the caller
            wait(lambda: [p for p in req(http_port, "GET", "/api/rooms/" + ROOM)[1]
                          .get("participants", []) if p.get("name") == "sipp"], 30,
                 "the SIP caller in room " + ROOM)
            status, rec = req(http_port, "POST", "/api/rooms/%s/recording" % ROOM,
                               {"action": "start"})
            check(status == 201, "recording start: %s %s\n%s" % (status, rec,
                                                                  messages(journal(sd))[-3000:]))
            alice.wait("#chan", "joined the room", since=mark, timeout=20)
            time.sleep(3)
            status, state = req(http_port, "GET", "/api/rooms/%s/recording" % ROOM)
            mix = [f for f in state.get("files", []) if f.get("kind") == "mix"]
            check(mix and mix[0]["bytes"] > 1000, "the recording grows not: %s" % state)
            status, done = req(http_port, "POST", "/api/rooms/%s/recording" % ROOM,
                                {"action": "stop"})
            check(status == 200, "recording stop: %s %s" % (status, done))
        finally:
            call.join(CALL_S + 80)
        rc, stats, out = res.get("r", (None, {}, "no result"))
        check(rc == 0 and stats.get("ok") == 1, "the SIPp call failed (%s, %s):\n%s\n%s"
              % (rc, stats, out[-2000:], messages(journal(sd))[-3000:]))
        new = sorted(set(glob.glob(os.path.join(RECDIR, "*"))) - before)
        sizes = {os.path.basename(p): os.path.getsize(p) for p in new}
        print("recording under %s: %s" % (RECDIR, sizes), flush=True)
        check(any(p.endswith(".opus") and sizes[os.path.basename(p)] > 1000 for p in new)
              and any(p.endswith(".json") for p in new),
              "no recording (mix and manifest) under %s: %s" % (RECDIR, sizes))

        # reload: same process, the journal says so
        r = sd.sh("systemctl reload tutti", timeout=60)
        check(r.returncode == 0, "systemctl reload: %s" % r.stdout)
        wait(lambda: show(sd, "ActiveState", "SubState")["SubState"] == "running", 30,
             "running again after the reload")
        st = show(sd, "ActiveState", "MainPID")
        check(st["ActiveState"] == "active" and st["MainPID"] == main_pid,
              "after reload: %s (MainPID was %s)" % (st, main_pid))
        wait(lambda: [e for e in journal(sd) if "reload" in str(e.get("MESSAGE", "")).lower()
                      and e.get("_PID") == main_pid], 20, "tutti's reload in the journal")
        check([e for e in journal(sd) if str(e.get("MESSAGE", "")).startswith("Reloaded")
               and e.get("_PID") == "1"], "systemd's Reloaded in the journal")
        status, body = req(http_port, "GET", "/api/health")
        check(status == 200, "/api/health after reload: %s" % status)

        # levels: the <N> prefixes became PRIORITY, none is left in a message
        entries = [e for e in journal(sd) if e.get("_PID") == main_pid]
        prios = {}
        for e in entries:
            prios[e.get("PRIORITY")] = prios.get(e.get("PRIORITY"), 0) + 1
        print("journal of tutti: %d entries by PRIORITY %s; not info: %s"
              % (len(entries), prios, [e.get("MESSAGE") for e in entries
                                       if e.get("PRIORITY") != "6"]), flush=True)
        prefixed = [e["MESSAGE"] for e in entries
                    if str(e.get("MESSAGE", ""))[:1] == "<" and str(e["MESSAGE"])[2:3] == ">"]
        check(not prefixed, "level prefixes left in the journal: %s" % prefixed[:3])
        check(prios.get("6", 0) > 3, "no info-level entries: %s" % prios)
        denied = [e["MESSAGE"] for e in entries if "Operation not permitted" in
                  str(e.get("MESSAGE")) or "EPERM" in str(e.get("MESSAGE"))]
        check(not denied, "refused under the unit's filter: %s" % denied[:5])

        # the watchdog, as shipped (WatchdogSec=30s, a ping every 15 s): systemd records a
        # ping after the start's; then a stopped bridge (SIGSTOP: no pings) is killed by the
        # watchdog and restarted (Restart=on-failure)
        first = int(show(sd, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])
        wait(lambda: int(show(sd, "WatchdogTimestampMonotonic")
                         ["WatchdogTimestampMonotonic"]) > first, 40,
             "a watchdog ping after the start (WatchdogTimestamp to move)")
        st = show(sd, "ActiveState", "MainPID", "NRestarts", "WatchdogUSec",
                  "WatchdogTimestamp")
        check(st["ActiveState"] == "active" and st["MainPID"] == main_pid and
              st["NRestarts"] == "0", "after the first ping: %s" % st)
        print("watchdog: WatchdogUSec %s, a ping at %s" % (st["WatchdogUSec"],
                                                         st["WatchdogTimestamp"]), flush=True)
        t0 = time.time()
        sd.sh("kill -STOP %s" % main_pid)
        st = wait(lambda: (lambda x: x if x["NRestarts"] == "1" and x["SubState"] == "running"
                           else None)(show(sd, "NRestarts", "SubState", "MainPID")), 90,
                  "the watchdog to kill and restart a stopped bridge")
        check(st["MainPID"] != main_pid, "the same MainPID after the restart: %s" % st)
        said = [e.get("MESSAGE") for e in journal(sd)
                if "watchdog timeout" in str(e.get("MESSAGE", "")).lower()]
        check(said, "no watchdog timeout in the journal:\n" + messages(journal(sd))[-3000:]
              + sd.log()[-2000:])
        print("watchdog: stopped bridge restarted after %.0f s (%s); MainPID %s -> %s"
              % (time.time() - t0, said[0], main_pid, st["MainPID"]), flush=True)
        wait(lambda: req(http_port, "GET", "/api/health")[0] == 200, 30,
             "/api/health after the watchdog's restart")

        # what systemd itself said about the unit (start, reload, watchdog), and no error
        # from anyone
        entries = journal(sd)
        print("systemd on tutti.service:\n  " + "\n  ".join(
            str(e.get("MESSAGE")) for e in entries if e.get("_PID") == "1"), flush=True)
        errors = [e.get("MESSAGE") for e in entries if e.get("PRIORITY") in ("0", "1", "2", "3")
                  and "watchdog" not in str(e.get("MESSAGE", "")).lower() and
                  "SIGABRT" not in str(e.get("MESSAGE", ""))]
        check(not errors, "errors in the journal of tutti.service: %s" % errors[:5])

        # stop: SIGTERM, clean exit
        r = sd.sh("systemctl stop tutti", timeout=60)
        st = show(sd, "ActiveState", "Result", "ExecMainCode", "ExecMainStatus")
        check(r.returncode == 0 and st["ActiveState"] == "inactive" and
              st["Result"] == "success" and st["ExecMainStatus"] == "0",
              "systemctl stop tutti: %s %s\n%s" % (r.stdout, st, messages(journal(sd))[-3000:]))
        print("systemctl stop: %s" % st, flush=True)
        state_after = set(os.listdir("/var/lib/tutti"))
    finally:
        if sd:
            sd.stop()
        if alice:
            alice.close()
        irc.cleanup()
        # the recording, and a core file the watchdog's SIGABRT may leave in the working
        # directory
        for p in sorted(set(glob.glob(os.path.join(RECDIR, "*")) +
                            glob.glob("/var/lib/tutti/*")) - before):
            if os.path.isfile(p):
                os.remove(p)
        shutil.rmtree(tmp, ignore_errors=True)
        alive = [c for c in canaries if os.path.exists(c)]
        for c in alive:
            os.remove(c)
    check(len(alive) == len(canaries), "the boot removed a canary in the host's /tmp or "
          "/var/tmp: %s left of %s" % (alive, canaries))
    check(sd is None or not sd.in_ns_any(), "processes of the namespace are left")
    # nothing but recordings (and a core file of the watchdog's SIGABRT) in the state
    # directory: anything else would also keep dpkg --purge from removing it
    stray = sorted(n for n in (state_after or set()) - state_before
                   if not n.startswith("core"))
    check(not stray, "the service wrote %s into /var/lib/tutti" % stray)
