"""ircenv: a throw-away ngircd and raw IRC clients for the IRC gateway's integration tests.

Stdlib only. Each NgIrcd runs in its own temp dir on free 127.0.0.1 ports and is killed at
the end; a RawIrc is a person on IRC typing raw protocol lines."""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

NGIRCD = shutil.which("ngircd") or "/usr/sbin/ngircd"
INSPIRCD = shutil.which("inspircd") or "/usr/sbin/inspircd"


def _die_with_parent():
    """In the server's child process: SIGTERM when the test process dies, even by SIGKILL
    (a ctest timeout), so no IRC server outlives its test."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# ngircd started as root drops to "nobody", and a uid change clears the parent-death signal:
# a small shell that keeps it (and kills ngircd when it gets SIGTERM) sits in between.
GUARD = 'trap \'kill $c 2>/dev/null; wait $c; exit 0\' TERM INT; "$0" "$@" & c=$!; wait $c'


def have_ngircd():
    return os.access(NGIRCD, os.X_OK)


def have_inspircd():
    return os.access(INSPIRCD, os.X_OK)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class NgIrcd:
    """ngircd on a free port; with tls, also a TLS port with a self-signed certificate for
    127.0.0.1 whose PEM is `ca` (the bridge's tls_ca)."""

    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="tt-ngircd-")
        os.chmod(self.dir, 0o755)  # ngircd drops privileges to nobody when run as root
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.ca = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "key.pem")
        self.proc = None
        if tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-keyout", self.key, "-out", self.ca],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.chmod(self.key, 0o644)
        conf = ("[Global]\nName = irc.test\nInfo = tutti test\nListen = 127.0.0.1\n"
                "Ports = %d\nMotdPhrase = hi\n"
                "[Limits]\nMaxConnectionsIP = 0\nMaxNickLength = 30\n"
                "[Options]\nPAM = no\nIdent = no\nDNS = no\n"
                % self.port)
        if tls:
            conf += "[SSL]\nCertFile = %s\nKeyFile = %s\nPorts = %d\n" % (
                self.ca, self.key, self.tls_port)
        self.conf = os.path.join(self.dir, "ngircd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        self.proc = subprocess.Popen(["/bin/sh", "-c", GUARD, NGIRCD, "-n", "-f", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        for p in [self.port] + ([self.tls_port] if self.tls_port else []):
            while not port_open(p):
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("ngircd did not listen on %d" % p)
                time.sleep(0.02)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False


class InspIrcd(NgIrcd):
    """InspIRCd 3 with the IRCv3 modules, so the paths *with* echo-message, server-time,
    message-tags and away-notify run too (ngircd offers only multi-prefix). No TLS here:
    ngircd covers it."""

    # no fake lag and no per-address limit: puppets all come from 127.0.0.1
    CONNECT = {"maxchans": "20", "timeout": "20", "pingfreq": "120", "hardsendq": "1048576",
               "softsendq": "262144", "recvq": "16384", "threshold": "1000",
               "commandrate": "100000", "fakelag": "no", "localmax": "1000",
               "globalmax": "1000", "resolvehostnames": "no", "useident": "no",
               "limit": "5000"}

    def __init__(self, tls=False, connect=None):
        """connect: <connect> attributes over CONNECT, e.g. Debian's flood limits."""
        if tls:
            raise ValueError("InspIrcd: TLS is tested with ngircd")
        self.dir = tempfile.mkdtemp(prefix="tt-inspircd-")
        self.port = free_port()
        self.tls_port = None
        self.proc = None
        motd = os.path.join(self.dir, "motd")
        with open(motd, "w") as f:
            f.write("hi\n")
        modules = ["cap", "ircv3", "ircv3_capnotify", "ircv3_echomessage", "ircv3_servertime",
                   "ircv3_ctctags", "namesx"]
        conf = [
            '<config format="xml">',
            '<server name="irc.test" description="tutti test" network="TestNet">',
            '<admin name="test" nick="test" email="test@example.invalid">',
            '<bind address="127.0.0.1" port="%d" type="clients">' % self.port,
            '<connect name="main" allow="*" %s>' % " ".join(
                '%s="%s"' % kv for kv in dict(self.CONNECT, **(connect or {})).items()),
            '<files motd="%s">' % motd,
            '<pid file="%s">' % os.path.join(self.dir, "inspircd.pid"),
            '<dns timeout="1">',
            '<limits maxnick="30" maxchan="64" maxmodes="20" maxident="11" maxhost="64" '
            'maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxaway="200">',
        ] + ['<module name="%s">' % m for m in modules]
        self.conf = os.path.join(self.dir, "inspircd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self.proc = subprocess.Popen([INSPIRCD, "--nofork", "--runasroot",
                                      "--config=%s" % self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        while not port_open(self.port):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("inspircd did not listen on %d" % self.port)
            time.sleep(0.02)
        return self


class RawIrc:
    """A raw IRC client: every received line is kept; wait() finds lines after a mark."""

    def __init__(self, port, nick):
        self.nick = nick
        self.port = port
        self.lines = []
        self.cv = threading.Condition()
        self.sock = None
        self.connect()

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        threading.Thread(target=self._read, args=(self.sock,), daemon=True).start()
        mark = self.mark()
        self.send("NICK %s" % self.nick)
        self.send("USER %s 0 * :raw test client" % self.nick)
        self.wait(" 001 ", since=mark)
        # The timeout was for connecting: on the reader it would end reading after 10 s of
        # a quiet channel, and idle tests idle longer.
        self.sock.settimeout(None)

    def _read(self, sock):
        buf = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                if line.startswith("PING "):
                    self.send("PONG " + line[5:])
                with self.cv:
                    self.lines.append(line)
                    self.cv.notify_all()

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def mark(self):
        with self.cv:
            return len(self.lines)

    def wait(self, *subs, since=0, timeout=15):
        """The first line at or after index `since` holding every substring."""
        return self.wait_fn(lambda line: all(s in line for s in subs), since=since,
                            timeout=timeout, what=repr(subs))

    def wait_fn(self, pred, since=0, timeout=15, what="line"):
        return self.next_fn(pred, since, timeout, what)[0]

    def next(self, *subs, since=0, timeout=15):
        """(line, index after it) of the first line at or after `since` with every substring."""
        return self.next_fn(lambda line: all(s in line for s in subs), since, timeout,
                            repr(subs))

    def next_fn(self, pred, since=0, timeout=15, what="line"):
        deadline = time.time() + timeout
        with self.cv:
            while True:
                for i in range(since, len(self.lines)):
                    if pred(self.lines[i]):
                        return self.lines[i], i + 1
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("%s: no line with %s within %d s; last lines:\n%s" % (
                        self.nick, what, timeout, "\n".join(self.lines[-15:])))
                self.cv.wait(left)

    def count(self, *subs, since=0):
        with self.cv:
            return sum(1 for line in self.lines[since:] if all(s in line for s in subs))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SilentIrcd:
    """A fake IRC server on a free port: it welcomes each connection (001), records what
    the client sends, and then says nothing more, like a server that hangs. With
    `farewell` it instead sends that ERROR line to the n-th connection (from 2) and closes."""

    def __init__(self, farewell=None):
        self.port = free_port()
        self.farewell = farewell
        self.conns = []       # one list of received lines per connection
        self.cv = threading.Condition()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", self.port))
        self.lsock.listen(8)
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            with self.cv:
                self.conns.append([])
                n = len(self.conns)
                self.socks.append(s)
                self.cv.notify_all()
            threading.Thread(target=self._serve, args=(s, n), daemon=True).start()

    def _serve(self, s, n):
        buf, welcomed = b"", False
        while True:
            try:
                chunk = s.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.rstrip(b"\r").decode("utf-8", "replace")
                with self.cv:
                    self.conns[n - 1].append(line)
                    self.cv.notify_all()
                if line.startswith("USER ") and not welcomed:
                    welcomed = True
                    if self.farewell and n >= 2:
                        s.sendall(("ERROR :%s\r\n" % self.farewell).encode())
                        s.close()
                        return
                    s.sendall(b":srv 001 tutti :Welcome\r\n")

    def wait_conns(self, n, timeout):
        deadline = time.time() + timeout
        with self.cv:
            while len(self.conns) < n:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("%d connections, expected %d within %d s" % (
                        len(self.conns), n, timeout))
                self.cv.wait(left)

    def close(self):
        self.lsock.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
