"""xmppenv: a throw-away Prosody, tutti attached to it, and scripted XMPP clients.

For the XMPP gateway's integration tests (conn, MUC and Jingle). Stdlib plus the Debian
packages the tests name: prosody, python3-slixmpp, go-sendxmpp.

    import xmppenv
    xmppenv.require()                       # exit 77 (ctest skip) when a program is missing
    with xmppenv.Prosody() as px, px.bridge() as br:
        xmppenv.wait_linked(br)             # both component streams up
        with px.client("alice") as alice:
            alice.join_muc("standup@" + px.muc_domain, "alice")
            alice.send_groupchat("standup@" + px.muc_domain, "hello")
            st = alice.wait_for(lambda s: s.name == "message" and s.body == "hi")

Prosody runs unprivileged (as user "prosody" or "nobody" when the test runs as root) in a
temporary directory holding its config, data, pid and log, with c2s and the component port
on free 127.0.0.1 ports; no s2s, no HTTP; STARTTLS offered with a throw-away self-signed
certificate (go-sendxmpp wants it), not required (the slixmpp clients stay plain). Users: alice, bob, carol, dave (password
"pw-<name>"). Components: conference.localhost and call.localhost, each with its secret.
"""
import ctypes
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ttlib  # noqa: E402

PROSODY = shutil.which("prosody") or "/usr/bin/prosody"
SENDXMPP = shutil.which("go-sendxmpp") or "/usr/bin/go-sendxmpp"
SYSTEM_PYTHON = "/usr/bin/python3"

HOST = "localhost"
USERS = ("alice", "bob", "carol", "dave")


def password(user):
    return "pw-" + user


def _have_slixmpp():
    try:
        import slixmpp  # noqa: F401
        return True
    except ImportError:
        return False


def require(slixmpp=True, sendxmpp=False):
    """Skip (exit 77) with a clear message when a program the test needs is missing. A
    Python without Debian's python3-slixmpp (a pyenv one) re-runs the script with the
    system Python, which has it."""
    if not os.access(PROSODY, os.X_OK):
        print("SKIP: prosody is not installed (apt-get install prosody)")
        sys.exit(77)
    if slixmpp and not _have_slixmpp():
        if os.access(SYSTEM_PYTHON, os.X_OK) and os.path.realpath(sys.executable) != \
                os.path.realpath(SYSTEM_PYTHON) and subprocess.run(
                    [SYSTEM_PYTHON, "-c", "import slixmpp"],
                    stderr=subprocess.DEVNULL).returncode == 0:
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
        print("SKIP: python3-slixmpp is not installed")
        sys.exit(77)
    if sendxmpp and not os.access(SENDXMPP, os.X_OK):
        print("SKIP: go-sendxmpp is not installed")
        sys.exit(77)


def _die_with_parent():
    """In the server's child: SIGTERM when the test process dies (a ctest timeout's
    SIGKILL), so no Prosody outlives its test."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _unprivileged():
    """(uid, gid) to run Prosody as when we are root, else None (run as ourselves)."""
    if os.getuid() != 0:
        return None
    for name in ("prosody", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise RuntimeError("running as root and neither user prosody nor nobody exists")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Prosody:
    """A Prosody in a temp dir. `components` maps domain -> secret (default: the MUC and
    call domains). Start/stop/restart keep the same ports, data and log."""

    def __init__(self, components=None, muc_domain="conference." + HOST,
                 call_domain="call." + HOST, extra_config="", users=USERS,
                 component_config="", plugins=None):
        """extra_config: Lua lines for the global section. component_config: Lua lines
        for every Component section (e.g. its own modules_enabled). plugins: {name: Lua
        source} written as mod_<name>.lua into a plugin directory Prosody searches."""
        self.users = tuple(users)
        self.dir = tempfile.mkdtemp(prefix="tt-prosody-")
        self.muc_domain = muc_domain
        self.call_domain = call_domain
        self.secrets = dict(components) if components is not None else {
            muc_domain: "muc-secret", call_domain: "call-secret"}
        self.c2s_port = ttlib.free_port()
        self.component_port = ttlib.free_port()
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.data = os.path.join(self.dir, "data")
        self.extra_config = extra_config
        self.component_config = component_config
        self.plugins = dict(plugins or {})
        self.plugin_dir = os.path.join(self.dir, "plugins")
        self.proc = None
        self.ids = _unprivileged()
        self.cert = os.path.join(self.dir, "localhost.crt")
        self.key = os.path.join(self.dir, "localhost.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=" + HOST, "-keyout", self.key, "-out", self.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.makedirs(self.data)
        os.makedirs(self.plugin_dir)
        for name, src in self.plugins.items():
            with open(os.path.join(self.plugin_dir, "mod_%s.lua" % name), "w") as f:
                f.write(src)
        self._write_config()
        self._write_users()
        if self.ids:
            for root, dirs, files in os.walk(self.dir):
                for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(n, *self.ids)

    def _write_config(self):
        comps = "".join('Component %s\n\tcomponent_secret = %s\n%s\n' % (
            _lua_str(d), _lua_str(s), self.component_config) for d, s in self.secrets.items())
        with open(self.config, "w") as f:
            f.write("""-- throw-away Prosody for tutti's tests
daemonize = false
pidfile = {pid}
data_path = {data}
log = {{ debug = {log} }}
admin_socket = {sock}
plugin_paths = {{ {plugins} }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_interfaces = {{ "127.0.0.1" }}
component_ports = {{ {comp} }}
component_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
c2s_direct_tls_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping"; "presence"; "message";
                    "iq"; "admin_socket"; }}
-- STARTTLS offered (go-sendxmpp insists on it) but not required (slixmpp clients stay plain)
ssl = {{ certificate = {cert}; key = {key}; }}
modules_disabled = {{ "s2s"; "offline"; "c2s_direct_tls"; }}
authentication = "internal_plain"
storage = "internal"
allow_registration = false
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
limits = {{ c2s = {{ rate = "10mb/s" }} }}
{extra}
VirtualHost {host}
{comps}""".format(pid=_lua_str(os.path.join(self.dir, "prosody.pid")),
                  data=_lua_str(self.data), log=_lua_str(self.log_path),
                  sock=_lua_str(os.path.join(self.dir, "prosody.sock")),
                  plugins=_lua_str(self.plugin_dir),
                  cert=_lua_str(self.cert), key=_lua_str(self.key), c2s=self.c2s_port, comp=self.component_port, extra=self.extra_config,
                  host=_lua_str(HOST), comps=comps))

    def _write_users(self):
        # internal_plain's data file per account (what `prosodyctl register` writes):
        # no prosodyctl run as root that would want to switch users.
        acc = os.path.join(self.data, HOST.replace(".", "%2e"), "accounts")
        os.makedirs(acc)
        for u in self.users:
            with open(os.path.join(acc, u + ".dat"), "w") as f:
                f.write('return {\n\t["password"] = %s;\n};\n' % _lua_str(password(u)))

    # -- lifecycle
    def start(self, timeout=30):
        def pre():
            _die_with_parent()
            if self.ids:
                os.setgroups([])
                os.setgid(self.ids[1])
                os.setuid(self.ids[0])
        env = dict(os.environ, HOME=self.dir)
        self.out = open(os.path.join(self.dir, "prosody.out"), "a")
        self.proc = subprocess.Popen([PROSODY, "-F", "--config", self.config],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     preexec_fn=pre, cwd=self.dir, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prosody exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.read_log()))
            if port_open(self.c2s_port) and port_open(self.component_port):
                return self
            time.sleep(0.1)
        raise RuntimeError("prosody did not listen within %d s:\n%s" % (timeout,
                                                                      self.read_log()))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stop Prosody (SIGTERM: clean, closing streams; SIGKILL: it vanishes)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "out", None):
            self.out.close()
            self.out = None

    def kill(self):
        self.stop(signal.SIGKILL)

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        # the ports stay ours: nothing else on this machine is told them
        deadline = time.time() + 15
        while port_open(self.c2s_port) and time.time() < deadline:
            time.sleep(0.1)
        return self.start()

    def read_log(self):
        out = []
        for name in ("prosody.out", "prosody.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append("---- %s ----\n%s" % (name, f.read()[-20000:]))
            except OSError:
                pass
        return "\n".join(out)

    def log_has(self, text):
        return text in self.read_log()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is not None:
            sys.stderr.write(self.read_log() + "\n")
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    # -- tutti attached to it
    def xmpp_section(self, calls=True, **extra):
        """The [xmpp] section that attaches tutti to this server."""
        sec = {"enabled": True, "server": "127.0.0.1:%d" % self.component_port,
               "domain": self.muc_domain, "secret": self.secrets.get(self.muc_domain, ""),
               "reconnect_min": 1, "reconnect_max": 4}
        if calls and self.call_domain in self.secrets:
            sec.update(call_domain=self.call_domain,
                       call_secret=self.secrets[self.call_domain], allow_loopback=True)
        sec.update(extra)
        return sec

    def bridge(self, sections=None, calls=True, log_level="info,xmpp=debug", **xmpp):
        """A ttlib.Bridge (tutti-test) with the matching [xmpp] section; `sections` are
        merged over it (rooms, irc, ...)."""
        conf = {"rooms": {"on_demand": "true"}, "xmpp": self.xmpp_section(calls, **xmpp)}
        for k, v in (sections or {}).items():
            conf.setdefault(k, {}).update(v)
        return ttlib.Bridge(conf, log_level=log_level)

    # -- clients
    def client(self, user, resource="test", **kw):
        """A connected slixmpp Client for user@localhost (use as a context manager)."""
        return Client("%s@%s/%s" % (user, HOST, resource), password(user), self.c2s_port, **kw)

    def sendxmpp(self, user, to, text, chatroom=False, alias=None, muc_password=None,
                 timeout=30):
        """go-sendxmpp as user sends `text` to `to` (a JID; a room with chatroom=True).
        Returns the CompletedProcess (check .returncode, .stdout, .stderr)."""
        # -n: the throw-away certificate cannot be verified
        args = [SENDXMPP, "-n", "-u", "%s@%s" % (user, HOST), "-p", password(user),
                "-j", "127.0.0.1:%d" % self.c2s_port, "--timeout", str(timeout)]
        if chatroom:
            args.append("-c")
            if alias:
                args += ["-a", alias]
            if muc_password:
                args += ["--muc-password", muc_password]
        args.append(to)
        env = dict(os.environ, HOME=self.dir)
        return subprocess.run(args, input=text, capture_output=True, text=True,
                              timeout=timeout + 15, env=env)


def gateway_stats(br):
    """The xmpp gateway's statistics from GET /api/gateways, or None."""
    status, body = br.http("GET", "/api/gateways")
    if status != 200:
        return None
    items = body if isinstance(body, list) else body.get("gateways", [])
    for g in items:
        if g.get("name") == "xmpp":
            return g.get("stats")
    return None


def wait_linked(br, muc=True, call=True, timeout=30):
    """Wait until the component streams are up (by the gateway's stats); returns them."""
    def linked():
        st = gateway_stats(br)
        if not st:
            return None
        ok = (not muc or st["muc_stream"]["up"]) and (not call or st["call_stream"]["up"])
        return st if ok else None
    try:
        return ttlib.wait_for(linked, timeout, "the XMPP component streams to come up")
    except AssertionError as e:
        raise AssertionError("%s; tutti's log:\n%s" % (e, br.read_log()[-4000:]))


# ---- slixmpp clients, run in a thread of their own ----

class Stanza:
    """A received stanza, flattened for tests: name, type, from_, to, id, body, subject,
    the raw XML string (xml) and the ElementTree element (el)."""

    def __init__(self, st):
        self.el = st.xml
        self.name = st.xml.tag.split("}")[-1]
        self.type = st.xml.get("type")
        self.from_ = st.xml.get("from")
        self.to = st.xml.get("to")
        self.id = st.xml.get("id")
        body = st.xml.find("{jabber:client}body")
        self.body = body.text if body is not None else None
        subj = st.xml.find("{jabber:client}subject")
        self.subject = subj.text if subj is not None else None
        self.xml = str(st)

    def find(self, path):
        """ElementTree find on the stanza element ("{ns}tag/{ns}tag")."""
        return self.el.find(path)

    def findall(self, path):
        return self.el.findall(path)

    def __repr__(self):
        return self.xml


class Client:
    """A slixmpp ClientXMPP on its own asyncio loop in a thread. Every stanza it receives
    (message, presence, iq) is queued; wait_for() takes the first that matches. Calls are
    thread-safe: they run on the client's loop and return its result."""

    def __init__(self, jid, pw, port, timeout=30, plugins=("xep_0030", "xep_0045",
                                                             "xep_0199")):
        self.jid = jid
        self.password = pw
        self.port = port
        self.timeout = timeout
        self.plugins = plugins
        self.inbox = queue.Queue()
        self.seen = []
        self._ready = threading.Event()
        self._error = None
        self.xmpp = None
        self.loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self._ready.wait(self.timeout):
            raise TimeoutError("%s did not connect within %d s" % (self.jid, self.timeout))
        if self._error:
            raise RuntimeError("%s: %s" % (self.jid, self._error))
        return self

    def _run(self):
        import asyncio
        import slixmpp
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        x = slixmpp.ClientXMPP(self.jid, self.password)
        self.xmpp = x
        for p in self.plugins:
            x.register_plugin(p)
        x["feature_mechanisms"].unencrypted_plain = True
        x.enable_starttls = False
        x.enable_direct_tls = False

        async def on_start(_):
            x.send_presence()
            self._ready.set()

        def on_fail(ev):
            self._error = "authentication failed"
            self._ready.set()

        def on_stanza(st):
            self.inbox.put(Stanza(st))

        x.add_event_handler("session_start", on_start)
        x.add_event_handler("failed_auth", on_fail)
        for kind in ("message", "presence", "iq"):
            from slixmpp.xmlstream.handler import Callback
            from slixmpp.xmlstream.matcher import MatchXPath
            x.register_handler(Callback("tt-" + kind,
                                        MatchXPath("{jabber:client}%s" % kind), on_stanza))
        x.connect(("127.0.0.1", self.port), force_starttls=False, disable_starttls=True)
        try:
            self.loop.run_forever()
        finally:
            # slixmpp leaves tasks behind (its filters): end them before the loop closes
            pending = asyncio.all_tasks(self.loop)
            for t in pending:
                t.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def call(self, fn, *args, **kw):
        """fn(*args) on the client's loop; its result (awaited if a coroutine)."""
        import asyncio
        import concurrent.futures

        async def run():
            r = fn(*args, **kw)
            if asyncio.iscoroutine(r) or isinstance(r, asyncio.Future):
                r = await r
            return r
        fut = asyncio.run_coroutine_threadsafe(run(), self.loop)
        try:
            return fut.result(self.timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError("%s: call timed out" % self.jid)

    def stop(self):
        if not self.xmpp or not self.loop or self.loop.is_closed():
            return
        try:
            async def bye():
                self.xmpp.disconnect(wait=1.0)
                await self.xmpp.disconnected
            self.call(bye)
        except Exception:  # noqa: BLE001 - a dead connection is disconnected too
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    # -- sending
    def send_xml(self, xml):
        """Send a raw XML string (tests of malformed stanzas, Jingle built by hand)."""
        self.call(self.xmpp.send_raw, xml)

    def send_message(self, to, body, mtype="chat", **attrs):
        def send():
            m = self.xmpp.make_message(mto=to, mbody=body, mtype=mtype)
            for k, v in attrs.items():
                m[k] = v
            m.send()
            return m["id"]
        return self.call(send)

    def send_groupchat(self, room, body):
        """A groupchat message to room (a bare room JID); returns its id."""
        return self.send_message(room, body, mtype="groupchat")

    def send_presence(self, to, ptype=None, extra_xml=None):
        def send():
            p = self.xmpp.make_presence(pto=to, ptype=ptype)
            if extra_xml is not None:
                p.append(extra_xml)
            p.send()
        self.call(send)

    def join_muc(self, room, nick, password=None, wait=True, history=None):
        """Join room (bare JID) as nick. With wait, return the self-presence (status 110)
        or raise on an error presence; the stanzas before it stay in the inbox."""
        import xml.etree.ElementTree as ET
        x = ET.Element("{http://jabber.org/protocol/muc}x")
        if password is not None:
            ET.SubElement(x, "{http://jabber.org/protocol/muc}password").text = password
        if history is not None:
            ET.SubElement(x, "{http://jabber.org/protocol/muc}history",
                          maxstanzas=str(history))
        self.send_presence("%s/%s" % (room, nick), extra_xml=x)
        if not wait:
            return None
        full = "%s/%s" % (room, nick)
        st = self.wait_for(lambda s: s.name == "presence" and s.from_ == full and (
            s.type == "error" or is_self_presence(s)), keep=True,
            what="self-presence from %s" % full)
        if st.type == "error":
            raise RuntimeError("join %s refused: %s" % (full, st.xml))
        return st

    def leave_muc(self, room, nick):
        self.send_presence("%s/%s" % (room, nick), ptype="unavailable")

    def iq(self, to, xml_payload, itype="get"):
        """An IQ with one payload element (ElementTree or XML string); returns the reply
        Stanza (result or error)."""
        import xml.etree.ElementTree as ET

        async def send():
            q = self.xmpp.make_iq(ito=to, itype=itype)
            q.append(ET.fromstring(xml_payload) if isinstance(xml_payload, str)
                     else xml_payload)
            from slixmpp.exceptions import IqError
            try:
                r = await q.send(timeout=self.timeout)
            except IqError as e:
                r = e.iq
            return Stanza(r)
        return self.call(send)

    def disco_info(self, to):
        return self.iq(to, '<query xmlns="http://jabber.org/protocol/disco#info"/>')

    # -- receiving
    def wait_for(self, pred, timeout=None, keep=False, what="stanza"):
        """The first received stanza (oldest first) for which pred(stanza) is true. Stanzas
        passed over are kept for later waits. keep=True leaves the match itself in the
        record too (see `seen`)."""
        timeout = timeout or self.timeout
        deadline = time.time() + timeout
        for i, st in enumerate(self.seen):
            if pred(st):
                if not keep:
                    del self.seen[i]
                return st
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("%s: no %s within %.0f s; got:\n%s" % (
                    self.jid, what, timeout, "\n".join(s.xml for s in self.seen[-20:])))
            try:
                st = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if pred(st):
                if keep:
                    self.seen.append(st)
                return st
            self.seen.append(st)

    def drain(self, seconds=0.5):
        """Everything received within `seconds` plus what was kept; clears both."""
        deadline = time.time() + seconds
        while True:
            left = deadline - time.time()
            if left <= 0:
                break
            try:
                self.seen.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        out, self.seen = self.seen, []
        return out


def is_self_presence(st):
    """A MUC presence with status code 110."""
    for x in st.findall("{http://jabber.org/protocol/muc#user}x"):
        for s in x.findall("{http://jabber.org/protocol/muc#user}status"):
            if s.get("code") == "110":
                return True
    return False
