"""systemd as PID 1 of a private PID, mount, UTS and cgroup namespace, for the package test.

The namespace shares the host's network (the test reaches the service on 127.0.0.1) and its
root file system, which is why the boot is fenced in before systemd runs:

- `mount --make-rprivate /`: nothing mounted inside propagates out;
- fresh tmpfs over /tmp, /var/tmp, /run, /var/log/journal and /var/lib/systemd: what
  systemd-tmpfiles or journald would clean or write (the D/R/x lines of tmpfiles.d) is the
  namespace's own (a boot without this wiped the host's /tmp once);
- tmpfs over every unit and generator folder (/etc/systemd/system, /lib/systemd/system,
  /run/systemd/...-generators): systemd sees only the units this module copies in: journald,
  the unit under test, and empty stand-ins for the targets a service's default dependencies
  pull in (sysinit.target, basic.target, ...). Nothing the host has enabled starts, no
  tmpfiles service exists to run, no generator reads the host's /etc/fstab;
- the boot target is our own (`--unit=tt-boot.target`), which wants only journald;
- a cgroup2 mount of a cgroup made for the run, in a new cgroup namespace: the host's
  /sys/fs/cgroup is a read-only hybrid layout systemd cannot manage;
- `container=tutti-test`: systemd does what it does in a container (no clock, no modules).

Teardown kills the namespace's PID 1 with SIGKILL, which kills every process in it, and
removes the cgroup. Not thread-safe; one instance at a time per test."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

UNITS = "/lib/systemd/system"


def cgroup2_base():
    """Where the host mounts cgroup2 writable (unified or hybrid layout), or None."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, where, kind = line.split()[:3]
            if kind == "cgroup2" and where in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified") \
                    and os.access(where, os.W_OK):
                return where
    return None

BOOT = r"""set -e
mount --make-rprivate /
# the units and the config first: $STAGE may be under /tmp, covered below
for d in /etc/systemd/system /lib/systemd/system /lib/systemd/system-generators \
         /etc/systemd/system-generators /usr/lib/systemd/system-environment-generators; do
    if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 tmpfs "$d"; fi
done
cp -a "$STAGE"/units/. /lib/systemd/system/
if [ -f "$STAGE/tutti.conf" ]; then mount --bind "$STAGE/tutti.conf" /etc/tutti/tutti.conf; fi
# PID 1 writes to /dev/console, which is the host's: a file of ours instead
mount --bind "$STAGE/console.log" /dev/console
for d in /tmp /var/tmp /run /var/log/journal /var/lib/systemd; do
    if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 tmpfs "$d"; fi
done
chmod 1777 /tmp /var/tmp
mount -t proc proc /proc
umount -R /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/systemd/journald.conf.d
# volatile, and neither reading nor writing the host's kernel log
printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\nReadKMsg=no\n' \
    > /run/systemd/journald.conf.d/tt.conf
exec /lib/systemd/systemd --system --unit=tt-boot.target --log-target=journal \
    --show-status=0 --log-level=info
"""

TARGET = """[Unit]
Description=%s (tutti test stand-in)
DefaultDependencies=no
%s
"""


class Pid1:
    """Boot with start(); run commands inside with sh(); stop() always (a finally block)."""

    def __init__(self, units, conf=None, dropins=None):
        """units: unit files to copy in from /lib/systemd/system (besides journald's);
        conf: a file bind-mounted over /etc/tutti/tutti.conf inside; dropins: {unit: text}
        written as UNIT.d/test.conf."""
        self.stage = tempfile.mkdtemp(prefix="tutti-pid1-")
        os.chmod(self.stage, 0o755)
        self.cgroup = None
        self.proc = None
        self.pid = None
        self.ns = None
        self.log_file = None
        self.log_path = os.path.join(self.stage, "systemd.log")
        self.console_path = os.path.join(self.stage, "console.log")
        open(self.console_path, "w").close()
        u = os.path.join(self.stage, "units")
        os.makedirs(u)
        for name in ["systemd-journald.service", "systemd-journald.socket",
                     "systemd-journald-dev-log.socket"] + list(units):
            shutil.copy(os.path.join(UNITS, name), u)
        stand_ins = {"tt-boot.target": "Wants=systemd-journald.service",
                     "sysinit.target": "", "basic.target": "", "sockets.target": "",
                     "network-online.target": "", "network.target": "",
                     "shutdown.target": "", "paths.target": "", "timers.target": "",
                     "slices.target": "", "local-fs.target": ""}
        for name, deps in stand_ins.items():
            with open(os.path.join(u, name), "w") as f:
                f.write(TARGET % (name, deps))
        dropins = dict(dropins or {})
        # journald logs about itself to /dev/kmsg, the host's kernel log: not here
        dropins.setdefault("systemd-journald.service",
                           "[Service]\nEnvironment=SYSTEMD_LOG_TARGET=null\n")
        for unit, text in dropins.items():
            os.makedirs(os.path.join(u, unit + ".d"))
            with open(os.path.join(u, unit + ".d", "test.conf"), "w") as f:
                f.write(text)
        if conf:
            shutil.copy(conf, os.path.join(self.stage, "tutti.conf"))
            os.chmod(os.path.join(self.stage, "tutti.conf"), 0o644)

    def start(self, timeout=60):
        self.cgroup = os.path.join(cgroup2_base(), os.path.basename(self.stage))
        os.mkdir(self.cgroup)
        procs = os.path.join(self.cgroup, "cgroup.procs")

        def enter():   # in the child before exec: into the run's cgroup, then unshare
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        self.log_file = open(self.log_path, "w")
        env = dict(os.environ, STAGE=self.stage, container="tutti-test")
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--uts", "--cgroup",
             "--propagation", "private", "sh", "-c", BOOT],
            stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            preexec_fn=enter)
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                                  stdout=subprocess.PIPE, text=True).stdout.split()
            if kids and self.pid is None:
                self.pid = int(kids[0])
                self.ns = os.readlink("/proc/%d/ns/pid" % self.pid)
            if self.pid and self.sh("systemctl is-system-running").stdout.strip() in (
                    "running", "degraded"):
                return True
            time.sleep(0.3)
        return False

    def sh(self, cmd, timeout=60):
        """cmd (a shell line) inside the namespace: its mounts (so systemctl finds
        /run/systemd/private) and its PIDs."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", "-u", "sh", "-c",
                               cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)

    def in_ns(self, pid):
        try:
            return self.ns is not None and os.readlink("/proc/%d/ns/pid" % pid) == self.ns
        except OSError:
            return False

    def in_ns_any(self):
        """Host PIDs of processes still in the namespace (none after stop())."""
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and self.in_ns(int(p))]

    def log(self):
        """What the boot script and systemd's console said (systemd's own messages go to
        the journal once journald runs)."""
        out = ""
        for path in (self.log_path, self.console_path):
            try:
                with open(path, errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    def stop(self):
        """SIGKILL to the namespace's PID 1 ends every process in it; then the cgroup."""
        if self.pid is None and self.proc and self.proc.poll() is None:
            kids = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                                  stdout=subprocess.PIPE, text=True).stdout.split()
            self.pid = int(kids[0]) if kids else None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.cgroup and os.path.isdir(self.cgroup):
            for _ in range(50):
                for root, dirs, _files in os.walk(self.cgroup, topdown=False):
                    for d in dirs:
                        try:
                            os.rmdir(os.path.join(root, d))
                        except OSError:
                            pass
                try:
                    os.rmdir(self.cgroup)
                    break
                except OSError:
                    time.sleep(0.1)
        if self.log_file:
            self.log_file.close()
        shutil.rmtree(self.stage, ignore_errors=True)
