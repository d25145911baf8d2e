"""The XMPP gateway's component streams against a real Prosody: both streams come up, a
Prosody killed or restarted is reconnected to with backoff while the rest of tutti carries
on, a wrong secret is logged and retried, a disabled gateway never connects."""
import os
import signal
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


def main():
    xmppenv.require()
    run([test_both_streams_up_and_stanzas_flow])


if __name__ == "__main__":
    main()
