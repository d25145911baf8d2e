"""The Debian package, end to end:

- dpkg-buildpackage -b -uc -us in a temporary copy of the tree (the source tree stays
  clean), timed;
- lintian: every tag printed, errors fail (the remaining tags are justified in
  docs/deploy.md or debian/tutti.lintian-overrides);
- the .deb holds the binary, the web client, the prompts, the conffile, the man page and
  the unit, and the packaged binary accepts the packaged config (--check-config);
- only as root and with CI or TT_TEST_INSTALL set (it changes the machine): dpkg -i, the
  _tutti user and /var/lib/tutti exist, /usr/bin/tutti runs as _tutti on a copy of
  /etc/tutti/tutti.conf with test ports and answers /api/health, serves the web client
  from /usr/share/tutti and found its prompts; systemd-analyze verify and security on the
  installed unit; the installed unit under systemd as PID 1 of a namespace
  (under_systemd.py, pid1.py); dpkg --purge removes it all (also after a failure)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from ttlib import check, free_port, free_port_udp_tcp, run  # noqa: E402
import under_systemd  # noqa: E402

SRC = os.environ.get("TT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
MAX_EXPOSURE = 3.0   # systemd-analyze security: the unit measured 1.5 ("OK") when written


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          **kw)


def copy_tree(dst):
    """The tree as git sees it (tracked and new files, nothing ignored: no build dirs);
    a plain copy without build* when it is no git checkout."""
    ls = subprocess.run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
                         "--exclude-standard"], stdout=subprocess.PIPE)
    if ls.returncode == 0:
        for rel in ls.stdout.decode().split("\0"):
            src = os.path.join(SRC, rel)
            if not rel or not os.path.isfile(src):   # deleted but still in the index
                continue
            os.makedirs(os.path.dirname(os.path.join(dst, rel)) or dst, exist_ok=True)
            shutil.copy2(src, os.path.join(dst, rel))
    else:
        shutil.copytree(SRC, dst, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("build*", ".git", "node_modules"))


def set_key(text, section, key, value):
    """text with `key = value` in [section]: its line (commented default or not) replaced."""
    out, cur, done = [], None, False
    for line in text.splitlines():
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            cur = m.group(1)
        if cur == section and not done and re.match(r"^#?%s\s*=" % re.escape(key), line):
            line, done = "%s = %s" % (key, value), True
        out.append(line)
    check(done, "no %s.%s in the packaged config" % (section, key))
    return "\n".join(out) + "\n"


def http_get(port, path, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), body


class Ctx:
    tmp = None
    deb = None
    changes = None
    installed = False
    state_before = True


def test_build_the_package():
    Ctx.tmp = tempfile.mkdtemp(prefix="tutti-deb-")
    src = os.path.join(Ctx.tmp, "tutti")
    os.makedirs(src)
    copy_tree(src)
    check(os.path.isfile(os.path.join(src, "debian", "rules")), "no debian/ in the copy")
    t0 = time.time()
    jobs = min(os.cpu_count() or 1, 2)
    r = sh(["dpkg-buildpackage", "-b", "-uc", "-us", "-j%d" % jobs], cwd=src)
    took = time.time() - t0
    log = os.path.join(Ctx.tmp, "build.log")
    with open(log, "w") as f:
        f.write(r.stdout)
    check(r.returncode == 0, "dpkg-buildpackage failed (%d):\n%s" % (r.returncode,
                                                                  r.stdout[-6000:]))
    debs = [f for f in os.listdir(Ctx.tmp) if re.match(r"tutti_.*\.deb$", f)]
    changes = [f for f in os.listdir(Ctx.tmp) if f.endswith(".changes")]
    check(len(debs) == 1 and len(changes) == 1, "built: %s" % os.listdir(Ctx.tmp))
    Ctx.deb = os.path.join(Ctx.tmp, debs[0])
    Ctx.changes = os.path.join(Ctx.tmp, changes[0])
    print("built %s in %.0f s (-j%d)" % (debs[0], took, jobs), flush=True)


def test_lintian():
    check(Ctx.deb, "no package")
    if not shutil.which("lintian"):
        print("lintian not installed (Debian package lintian): not run")
        return
    r = sh(["lintian", "--pedantic", "--info", Ctx.changes])
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
    print("lintian tags (%d):%s" % (len(tags), "".join("\n  " + t for t in tags)), flush=True)
    errors = [t for t in tags if t.startswith("E:")]
    check(not errors, "lintian errors:\n" + "\n".join(errors))


def test_contents():
    check(Ctx.deb, "no package")
    r = sh(["dpkg-deb", "-c", Ctx.deb])
    files = {line.split()[-1].lstrip(".") for line in r.stdout.splitlines()}
    for want in ("/usr/bin/tutti", "/etc/tutti/tutti.conf", "/usr/share/tutti/web/index.html",
                 "/usr/share/tutti/web/app.js", "/usr/share/tutti/prompts/sip/welcome.wav",
                 "/usr/share/tutti/prompts/recording/recording.wav",
                 "/usr/share/man/man1/tutti.1.gz", "/lib/systemd/system/tutti.service",
                 "/usr/lib/sysusers.d/tutti.conf", "/usr/lib/tmpfiles.d/tutti.conf"):
        check(want in files, "%s is not in the package" % want)
    check(any("/prompts/sip/words/" in f for f in files), "no SIP prompt words/")
    conffiles = sh(["dpkg-deb", "-I", Ctx.deb, "conffiles"]).stdout.split()
    check("/etc/tutti/tutti.conf" in conffiles, "tutti.conf is no conffile: %s" % conffiles)
    # the packaged binary accepts the packaged config
    x = os.path.join(Ctx.tmp, "x")
    check(sh(["dpkg-deb", "-x", Ctx.deb, x]).returncode == 0, "dpkg-deb -x failed")
    r = sh([x + "/usr/bin/tutti", "--check-config", x + "/etc/tutti/tutti.conf"])
    check(r.returncode == 0, "the packaged config does not check:\n" + r.stdout)
    conf = open(x + "/etc/tutti/tutti.conf").read()
    check(re.search(r"^dir = /var/lib/tutti/recordings$", conf, re.M),
          "recording.dir is not switched on in the conffile")
    check(re.search(r"^metrics_token = true$", conf, re.M),
          "/metrics is not kept to this host (or the admin token) in the conffile")
    man = sh(["zcat", x + "/usr/share/man/man1/tutti.1.gz"]).stdout
    check("print\\-default\\-config" in man and "webhook_url" in man,
          "the man page lacks --help or the configuration keys")


def syscall_set(group):
    """The system calls of a systemd-analyze syscall-filter group, groups expanded."""
    out, names = sh(["systemd-analyze", "syscall-filter", group]).stdout, set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        names |= syscall_set(word) if word.startswith("@") else {word}
    return names


def check_syscalls(trace):
    """Every system call tutti made (start, health, a page, reload, stop) passes the unit's
    SystemCallFilter=@system-service ~@privileged ~@resources, and no mapping was writable
    and executable at once (MemoryDenyWriteExecute=yes)."""
    unit = open("/lib/systemd/system/tutti.service").read()
    check("SystemCallFilter=@system-service" in unit and "~@privileged @resources" in unit,
          "the unit's SystemCallFilter changed: update this check")
    allowed = syscall_set("@system-service") - syscall_set("@privileged") - \
        syscall_set("@resources")
    check(len(allowed) > 100, "systemd-analyze syscall-filter gave %d names" % len(allowed))
    used, wx = set(), []
    with open(trace) as f:
        for line in f:
            m = re.match(r"^\d+\s+([a-z_0-9]+)\(", line)
            if m:
                used.add(m.group(1))
            if re.search(r"PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE", line):
                wx.append(line.strip())
    denied = sorted(used - allowed)
    print("system calls: %d used, all within the unit's filter: %s" % (len(used), not denied))
    check(not denied, "tutti used system calls the unit's filter refuses: %s" % denied)
    check(not wx, "writable and executable memory (MemoryDenyWriteExecute=yes): %s" % wx[:3])


def may_install():
    if os.geteuid() != 0:
        return "not root"
    if not (os.environ.get("CI") or os.environ.get("TT_TEST_INSTALL")):
        return "neither CI nor TT_TEST_INSTALL is set"
    st = sh(["dpkg-query", "-W", "-f=${Status}", "tutti"]).stdout
    if "installed" in st and "not-installed" not in st:
        return "a tutti package is already installed here; the test does not replace it"
    return None


def test_install_run_verify():
    check(Ctx.deb, "no package")
    why = may_install()
    if why:
        print("install part not run: %s (it changes the machine: run as root with "
              "CI=1 or TT_TEST_INSTALL=1)" % why)
        return
    proc = None
    run_dir = tempfile.mkdtemp(prefix="tutti-deb-run-")
    try:
        Ctx.installed = True   # from here on test_purge (or main's finally) purges
        Ctx.state_before = os.path.exists("/var/lib/tutti")
        r = sh(["dpkg", "-i", Ctx.deb])
        check(r.returncode == 0, "dpkg -i failed:\n" + r.stdout[-4000:])
        check(sh(["id", "_tutti"]).returncode == 0, "no _tutti user after installation")
        st = os.stat("/var/lib/tutti")
        check(sh(["stat", "-c", "%U", "/var/lib/tutti"]).stdout.strip() == "_tutti",
              "/var/lib/tutti is not _tutti's (mode %o)" % st.st_mode)
        r = sh(["/usr/bin/tutti", "--check-config", "/etc/tutti/tutti.conf"])
        check(r.returncode == 0, "installed config does not check:\n" + r.stdout)

        # the installed config on test ports and loopback (a copy: /etc stays as installed)
        port, sip = free_port(), free_port_udp_tcp()
        text = open("/etc/tutti/tutti.conf").read()
        for sec, key, val in (("http", "listen", "127.0.0.1"), ("http", "port", port),
                              ("media", "address", "127.0.0.1"), ("sip", "listen", "127.0.0.1"),
                              ("sip", "port", sip), ("sip", "tls_port", free_port()),
                              ("bridge", "workers", 1)):
            text = set_key(text, sec, key, val)
        os.chmod(run_dir, 0o755)
        conf = os.path.join(run_dir, "tutti.conf")
        with open(conf, "w") as f:
            f.write(text)
        os.chmod(conf, 0o644)
        log_path = os.path.join(run_dir, "tutti.log")
        log = open(log_path, "w")
        # as the service runs it: user _tutti; under strace (as _tutti too, tracing its
        # own child) when installed, to hold its system calls against the unit's filter
        cmd = ["/usr/bin/tutti", "--config", conf]
        trace = os.path.join(run_dir, "strace.out")
        if shutil.which("strace"):
            open(trace, "w").close()
            shutil.chown(trace, "_tutti")
            cmd = ["strace", "-f", "-qq", "-o", trace] + cmd
        proc = subprocess.Popen(["setpriv", "--reuid=_tutti", "--regid=_tutti",
                                 "--init-groups"] + cmd, stdout=log,
                                stderr=subprocess.STDOUT, cwd="/var/lib/tutti")
        body = None
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            try:
                status, _, body = http_get(port, "/api/health")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        text_log = open(log_path).read()
        check(body and b'"status":"ok"' in body.replace(b" ", b""),
              "no healthy /api/health from the installed tutti:\n" + text_log[-3000:])
        status, ctype, page = http_get(port, "/standup")
        check(status == 200 and b"<html" in page.lower(),
              "the web client is not served from /usr/share/tutti: %s" % status)
        bad = [line for line in text_log.splitlines()
               if ("prompt" in line or "notice" in line) and "missing" in line]
        check(not bad, "prompts not found in /usr/share/tutti:\n" + "\n".join(bad))
        status, ctype, metrics = http_get(port, "/metrics")
        check(status == 200 and ctype.startswith("text/plain"),
              "/metrics from the installed tutti: %s %s" % (status, ctype))
        for name in (b"tutti_build_info", b"tutti_rooms", b"process_cpu_seconds_total"):
            check(name in metrics, "/metrics lacks %s" % name.decode())
        print("/metrics answered (%d bytes)" % len(metrics))
        # strace would detach on SIGTERM: the signal goes to tutti itself, and strace
        # exits with its status
        tutti_pid = proc.pid
        if cmd[0] == "strace":
            kids = sh(["pgrep", "-P", str(proc.pid)]).stdout.split()
            check(kids, "no tutti under strace")
            tutti_pid = int(kids[0])
        os.kill(tutti_pid, signal.SIGTERM)
        rc = proc.wait(timeout=60)
        check(rc == 0, "the installed tutti exited %s:\n%s" % (rc, open(log_path).read()))
        proc = None
        if cmd[0] == "strace" and shutil.which("systemd-analyze"):
            check_syscalls(trace)
        else:
            print("strace not installed (Debian package strace): system calls not checked")

        if shutil.which("systemd-analyze"):
            r = sh(["systemd-analyze", "verify", "/lib/systemd/system/tutti.service"])
            check(r.returncode == 0 and not r.stdout.strip(),
                  "systemd-analyze verify:\n" + r.stdout)
            r = sh(["systemd-analyze", "security", "--offline=true",
                    "/lib/systemd/system/tutti.service"])
            m = re.search(r"Overall exposure level for tutti.service: ([0-9.]+)", r.stdout)
            check(m, "no exposure level:\n" + r.stdout[-2000:])
            print("systemd-analyze security: exposure %s" % m.group(1))
            check(float(m.group(1)) <= MAX_EXPOSURE,
                  "exposure %s > %.1f:\n%s" % (m.group(1), MAX_EXPOSURE, r.stdout))
        else:
            print("systemd-analyze not installed: unit not verified")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_under_systemd_pid1():
    """The installed unit under systemd as PID 1 of a namespace (under_systemd.py)."""
    if not Ctx.installed:
        print("systemd part not run: the package is not installed (see above)")
        return
    why = under_systemd.why_not()
    if why:
        print("SKIP systemd part: %s" % why)
        return
    t0 = time.time()
    under_systemd.run_under_systemd(set_key)
    print("under systemd as PID 1: %.0f s" % (time.time() - t0))


def test_purge():
    if not Ctx.installed:
        print("nothing installed, nothing to purge")
        return
    Ctx.installed = False
    r = sh(["dpkg", "--purge", "tutti"])
    check(r.returncode == 0, "dpkg --purge failed:\n" + r.stdout)
    for gone in ("/usr/bin/tutti", "/etc/tutti/tutti.conf", "/usr/share/tutti",
                 "/lib/systemd/system/tutti.service"):
        check(not os.path.exists(gone), "%s is left after dpkg --purge" % gone)
    if not Ctx.state_before:   # the test's own files are gone: the folder goes too
        left = [os.path.join(r, f) for r, _, fs in os.walk("/var/lib/tutti") for f in fs]
        check(not os.path.exists("/var/lib/tutti"),
              "/var/lib/tutti is left after dpkg --purge, holding %s" % left)


def main():
    missing = [p for p, b in (("dpkg-dev", "dpkg-buildpackage"), ("debhelper", "dh"))
               if not shutil.which(b)]
    if missing:
        print("SKIP: %s not installed (Debian packages %s; scripts/setup.sh installs them)"
              % (", ".join(missing), " ".join(missing)))
        sys.exit(77)  # ctest SKIP_RETURN_CODE
    try:
        run([test_build_the_package, test_lintian, test_contents, test_install_run_verify,
             test_under_systemd_pid1, test_purge])
    finally:
        if Ctx.installed:
            sh(["dpkg", "--purge", "tutti"])
        if Ctx.tmp:
            shutil.rmtree(Ctx.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
