"""Idle past the server's timeouts: a Prosody that closes a component stream silent for
READ_TIMEOUT_S (network_settings.read_timeout, with a small test module that turns the
read timeout from "send a space" into "close the stream"), and tutti, an XMPP occupant, a
test-gateway participant and a Jingle caller all idle for IDLE_S, several read timeouts.

Stock Prosody 0.12 never drops an idle component stream: when its read timeout fires,
mod_component's own handler sends the component a space and carries on. A NAT or firewall
idle timeout, or a stricter server, does drop it; mod_tt_idle_drop plays that part. A
silent raw component (the control) shows that the server really drops an idle stream, so
the test cannot pass because nothing was ever going to time out.

Afterwards: no component stream went down or reconnected (tutti's whitespace keepalive,
[xmpp] keepalive_interval, kept both busy), the occupant is still in the roster and never
saw itself leave, a message goes both ways, XEP-0410 self-ping answers, and the caller,
silent all along, is still connected and hears a phone that joins after the idle time (and
the phone hears it). Exits 77 (skipped) without prosody or slixmpp; the call part skips
alone without aiortc."""
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import xmppenv  # noqa: E402
from ttlib import BUILD_DIR, check, free_port, run, wait_for  # noqa: E402

READ_TIMEOUT_S = 20
IDLE_S = 105
KEEPALIVE_S = 5
ROOM = "standup"
CONTROL = "idle.localhost"
PY = os.environ.get("TT_AIORTC_PYTHON", "/usr/bin/python3")
CALLER = os.path.join(HERE, "jingle_caller.py")
RTPPEER = os.path.join(BUILD_DIR, "tt_rtppeer")
CALLER_TONE, PHONE_TONE = 750, 450
MARGIN_DB = 20.0
PHONE_S = 12

# Loaded on every component host: a component silent for read_timeout is closed with
# connection-timeout instead of being sent a space (mod_component's handler, priority -1).
IDLE_DROP = """-- tutti's tests: close a component stream that was silent for read_timeout
module:hook("component-read-timeout", function (event)
	local session = event.session;
	(session.log or module._log)("info", "tt_idle_drop: silent for read_timeout, closing");
	session:close({ condition = "connection-timeout", text = "silent for read_timeout" });
	return true;
end, 10);
"""


def have_aiortc():
    return os.access(RTPPEER, os.X_OK) and subprocess.run(
        [PY, "-c", "import aiortc, slixmpp"], stderr=subprocess.DEVNULL).returncode == 0


def roster_names(br):
    status, body = br.http("GET", "/api/rooms/" + ROOM)
    return [p.get("name") for p in body.get("participants", [])] if status == 200 else []


def parts(br, network):
    status, body = br.http("GET", "/api/rooms/" + ROOM)
    return [p for p in body.get("participants", []) if p["network"] == network] \
        if status == 200 else []


class RawComponent:
    """A XEP-0114 component that authenticates and then says nothing (the control)."""

    def __init__(self, port, domain, secret):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept'"
                        " xmlns:stream='http://etherx.jabber.org/streams' to='%s'>" %
                        domain).encode())
        buf = self._read_until(lambda b: re.search(rb"\sid=['\"]([^'\"]+)['\"]", b))
        sid = re.search(rb"\sid=['\"]([^'\"]+)['\"]", buf).group(1).decode()
        self.s.sendall(("<handshake>%s</handshake>" % hashlib.sha1(
            (sid + secret).encode()).hexdigest()).encode())
        self._read_until(lambda b: b"<handshake" in b)

    def _read_until(self, pred):
        buf = b""
        deadline = time.time() + 10
        while not pred(buf):
            check(time.time() < deadline, "the control component: no answer: %r" % buf)
            d = self.s.recv(4096)
            check(d, "the control component: the server closed: %r" % buf)
            buf += d
        return buf

    def closed_by_server(self):
        """(closed, what it received) without waiting for more."""
        self.s.settimeout(0.5)
        got = b""
        try:
            while True:
                d = self.s.recv(4096)
                if not d:
                    return True, got
                got += d
        except socket.timeout:
            return False, got
        except OSError:
            return True, got

    def close(self):
        self.s.close()


def streams(br):
    st = xmppenv.gateway_stats(br)
    return {k: dict(st[k]) for k in ("muc_stream", "call_stream")}


def start_caller(px):
    total = IDLE_S + PHONE_S + 15
    return subprocess.Popen(
        [PY, CALLER, "--port", str(px.c2s_port), "--jid", "carol@%s/call" % xmppenv.HOST,
         "--password", xmppenv.password("carol"), "--room", "%s@%s" % (ROOM, px.call_domain),
         "--tone", str(CALLER_TONE), "--listen", "%d,%d" % (PHONE_TONE, CALLER_TONE),
         "--silent-for", str(IDLE_S + 5), "--listen-from", str(IDLE_S + 5),
         "--seconds", str(total)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def phone(br):
    return subprocess.Popen([RTPPEER, "--url", "http://127.0.0.1:%d" % br.http_port, "--room",
                             ROOM, "--name", "phone", "--codec", "pcmu", "--tone",
                             str(PHONE_TONE), "--listen", "%d,%d" % (PHONE_TONE, CALLER_TONE),
                             "--seconds", str(PHONE_S)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def media_sections():
    lo = free_port(socket.SOCK_DGRAM)
    lo = max(1024, lo - (lo % 2))
    return {"media": {"port_min": lo, "port_max": min(65535, lo + 200)}}


def test_idle_past_the_servers_timeouts():
    secrets = {"conference.localhost": "muc-secret", "call.localhost": "call-secret",
               CONTROL: "idle-secret"}
    calls = have_aiortc()
    if not calls:
        print("skip the call part: python3-aiortc or tt_rtppeer missing")
    with xmppenv.Prosody(components=secrets, plugins={"tt_idle_drop": IDLE_DROP},
                         component_config='\tmodules_enabled = { "tt_idle_drop" }',
                         extra_config="network_settings = { read_timeout = %d }" %
                         READ_TIMEOUT_S) as px, \
            px.bridge(media_sections(), keepalive_interval=KEEPALIVE_S) as br:
        xmppenv.wait_linked(br)
        control = RawComponent(px.component_port, CONTROL, secrets[CONTROL])
        room = "%s@%s" % (ROOM, px.muc_domain)
        gw = br.testgw()
        bob = gw.join(ROOM, "bob")
        caller = start_caller(px) if calls else None
        with px.client("alice") as alice:
            alice.join_muc(room, "alice")
            if caller:
                wait_for(lambda: parts(br, "xmpp") and [p for p in parts(br, "xmpp")
                                                        if p["name"] == "carol"],
                         60, "the caller in the room")
            before = streams(br)
            t0 = time.time()
            time.sleep(IDLE_S)
            idled = time.time() - t0

            # the server drops a silent component: the control proves the setup bites
            closed, got = control.closed_by_server()
            control.close()
            check(closed, "the silent control component is still connected after %.0f s "
                  "(read_timeout %d s): the server would not drop an idle stream; got %r" %
                  (idled, READ_TIMEOUT_S, got[-200:]))
            check(px.log_has("tt_idle_drop: silent for read_timeout"),
                  "Prosody did not log the control's drop")

            after = streams(br)
            for k in ("muc_stream", "call_stream"):
                b, a = before[k], after[k]
                print("%s: up %s, connects %d, disconnects %d, reconnects %d, stanzas out "
                      "+%d, keepalives +%d during %.0f s idle" % (
                          k, a["up"], a["connects"], a["disconnects"], a["reconnects"],
                          a["stanzas_out"] - b["stanzas_out"],
                          a.get("keepalives", 0) - b.get("keepalives", 0), idled))
                check(a["up"] and a["disconnects"] == b["disconnects"] and
                      a["reconnects"] == b["reconnects"] and a["connects"] == b["connects"],
                      "%s went down while idle: before %s, after %s" % (k, b, a))
                check(a.get("keepalives", 0) > b.get("keepalives", 0),
                      "%s sent no keepalive in %.0f s: %s" % (k, idled, a))

            # the occupant is still there, and never saw itself leave
            check("alice" in roster_names(br), "alice left the roster: %s" % roster_names(br))
            gone = [s for s in alice.drain(0.5) if s.name == "presence" and
                    s.type == "unavailable"]
            check(not gone, "unavailable presence while idle: %s" % gone)
            r = alice.iq(room + "/alice", '<ping xmlns="urn:xmpp:ping"/>')
            check(r.type == "result", "XEP-0410 self-ping after the idle time: %s" % r)
            # a message both ways
            gw.drain()
            alice.send_groupchat(room, "still here after %d s" % IDLE_S)
            gw.wait_event(lambda e: e.get("ev") == "text" and e["text"] ==
                          "still here after %d s" % IDLE_S, timeout=15,
                          what="alice's line on the bus")
            gw.say(bob, "me too")
            m = alice.wait_for(lambda s: s.name == "message" and s.body == "me too",
                               what="bob's line")
            check(m.from_ == room + "/bob", "from bob: %s" % m)

            if caller:
                if caller.poll() is not None:
                    check(False, "the caller ended while idle: %s" %
                          (caller.stdout.read()[-1500:],))
                ph = phone(br)
                so, se = ph.communicate(timeout=PHONE_S + 60)
                check(ph.returncode == 0, "tt_rtppeer: %s" % se[-2000:])
                out, err = caller.communicate(timeout=PHONE_S + 90)
                evs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
                done = [e for e in evs if e["ev"] == "done"]
                check(done, "jingle_caller.py gave no result:\n%s\n%s" % (out[-1500:],
                                                                        err[-3000:]))
                res = done[0]
                check(res["connected"] and res["terminated"] is None,
                      "the call did not stay up: %s" % evs)
                t = {int(k): v for k, v in res["tones_db"].items()}
                tp = {int(k): v for k, v in json.loads(so)["tones_db"].items()}
                print("after %.0f s silent: the caller hears %s (%d frames), the phone hears "
                      "%s" % (idled, t, res["frames"], tp))
                check(res["frames"] > 150, "the caller decoded only %d frames after the idle "
                      "time" % res["frames"])
                check(t[PHONE_TONE] - t[CALLER_TONE] >= MARGIN_DB and t[PHONE_TONE] > -40,
                      "the caller should hear the phone after the idle time: %s" % t)
                check(tp[CALLER_TONE] - tp[PHONE_TONE] >= MARGIN_DB and tp[CALLER_TONE] > -40,
                      "the phone should hear the caller after the idle time: %s" % tp)


if __name__ == "__main__":
    xmppenv.require()
    run([test_idle_past_the_servers_timeouts])
