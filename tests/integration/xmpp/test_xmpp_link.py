"""The XMPP gateway's component streams against a real Prosody: both streams come up, a
Prosody killed or restarted is reconnected to with backoff while the rest of tutti carries
on, a wrong secret is logged and retried, a disabled gateway never connects."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xmppenv  # noqa: E402
from ttlib import check, run, wait_for  # noqa: E402


def test_both_streams_up_and_stanzas_flow():
    with xmppenv.Prosody() as px, px.bridge() as br:
        st = xmppenv.wait_linked(br)
        check(st["muc_stream"]["connects"] == 1, "one handshake: %s" % st)
        check("component stream up" in br.read_log(), "the log says the stream is up")
        # A stanza from a real client reaches tutti over the component stream, and the
        # answer comes back over it (whatever the MUC service says, it says something).
        with px.client("alice") as alice:
            r = alice.disco_info(px.muc_domain)
            check(r.type in ("result", "error"), "an answer to disco#info: %s" % r)
            check(r.from_ == px.muc_domain, "answered by the component: %s" % r)
        st = xmppenv.gateway_stats(br)
        check(st["muc_stream"]["stanzas_in"] >= 1 and st["muc_stream"]["stanzas_out"] >= 1,
              "stanzas counted both ways: %s" % st)
        # an independent client (go-sendxmpp, Go's XMPP stack) reaches the component too
        if os.access(xmppenv.SENDXMPP, os.X_OK):
            before = st["muc_stream"]["stanzas_in"]
            r = px.sendxmpp("bob", "standup@" + px.muc_domain, "hello from go-sendxmpp")
            check(r.returncode == 0, "go-sendxmpp: %s %s" % (r.stdout, r.stderr))
            wait_for(lambda: xmppenv.gateway_stats(br)["muc_stream"]["stanzas_in"] > before,
                     20, "go-sendxmpp's message at the component")


def in_room(br, room, name):
    status, body = br.http("GET", "/api/rooms/" + room)
    return status == 200 and any(p.get("name") == name for p in body.get("participants", []))


def test_prosody_killed_and_restarted():
    """Prosody vanishes (SIGKILL): tutti notices, retries with backoff, links again when it
    is back; the room and its other participants never notice."""
    with xmppenv.Prosody() as px, px.bridge() as br:
        xmppenv.wait_linked(br)
        gw = br.testgw()
        gw.join("standup", "carol")
        px.kill()
        wait_for(lambda: not xmppenv.gateway_stats(br)["muc_stream"]["up"], 30,
                 "the MUC stream to be seen down")
        # Down for a while: several attempts, further and further apart.
        wait_for(lambda: xmppenv.gateway_stats(br)["muc_stream"]["failures"] >= 2, 30,
                 "two failed attempts")
        log = br.read_log()
        check("component stream lost" in log, "the loss is logged:\n" + log[-2000:])
        check("reconnecting in" in log, "the retry is logged")
        check(in_room(br, "standup", "carol"), "carol is still in her room")
        px.start()
        st = xmppenv.wait_linked(br, timeout=60)
        check(st["muc_stream"]["connects"] == 2 and st["call_stream"]["connects"] == 2,
              "each stream linked a second time: %s" % st)
        check(st["muc_stream"]["disconnects"] == 1, "one loss counted: %s" % st)
        check(in_room(br, "standup", "carol"), "carol is still in her room")
        with px.client("alice") as alice:
            r = alice.disco_info(px.muc_domain)
            check(r.from_ == px.muc_domain, "the component answers again: %s" % r)


def test_server_closes_the_stream():
    """A clean Prosody restart (SIGTERM: it closes every stream with system-shutdown)."""
    with xmppenv.Prosody() as px, px.bridge() as br:
        xmppenv.wait_linked(br)
        px.restart()
        wait_for(lambda: xmppenv.gateway_stats(br)["muc_stream"]["disconnects"] == 1, 30,
                 "the closed stream to be noticed")
        st = xmppenv.wait_linked(br, timeout=60)
        check(st["muc_stream"]["connects"] == 2, "linked again: %s" % st)


def test_wrong_secret_logged_and_retried():
    with xmppenv.Prosody() as px, px.bridge(secret="not-the-secret") as br:
        wait_for(lambda: br.read_log().count("refused the component secret") >= 2, 60,
                 "two refused attempts")
        st = xmppenv.gateway_stats(br)
        check(not st["muc_stream"]["up"], "not linked with a wrong secret")
        check(st["muc_stream"]["failures"] >= 2, "failures counted: %s" % st)
        # the call stream has a secret of its own, and links
        xmppenv.wait_linked(br, muc=False)


def test_restart_of_tutti_links_at_once():
    """tutti's stop closes its streams with </stream:stream>, so Prosody forgets them and a
    tutti started right after links at its first attempt (no "conflict")."""
    with xmppenv.Prosody() as px:
        with px.bridge() as br:
            xmppenv.wait_linked(br)
        with px.bridge() as br:
            st = xmppenv.wait_linked(br)
            check(st["muc_stream"]["failures"] == 0 and st["muc_stream"]["connects"] == 1,
                  "first attempt: %s" % st)
        check(px.log_has("component disconnected: conference.localhost"),
              "Prosody saw the stream close")


def test_disabled_gateway_does_not_connect():
    with xmppenv.Prosody() as px, px.bridge(enabled=False) as br:
        time.sleep(3)
        status, body = br.http("GET", "/api/gateways")
        xg = [g for g in body["gateways"] if g["name"] == "xmpp"]
        check(not xg or not xg[0].get("running"), "the gateway is not running: %s" % xg)
        check(not px.log_has("External component successfully authenticated"),
              "Prosody saw no component")


def main():
    xmppenv.require()
    run([test_both_streams_up_and_stanzas_flow, test_prosody_killed_and_restarted,
         test_server_closes_the_stream, test_wrong_secret_logged_and_retried,
         test_restart_of_tutti_links_at_once, test_disabled_gateway_does_not_connect])


if __name__ == "__main__":
    main()
