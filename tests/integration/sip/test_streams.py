"""Calls over SIP's stream transports against the real bridge: a whole call over one TCP
connection (INVITE, ACK, the bridge's own BYE when the participant is kicked back on the
same connection), and a sips: call over TLS with SDES-SRTP (RTP/SAVP answered with our key,
the participant's leg SRTP in the API, BYE from the caller)."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, free_port, run, wait_for  # noqa: E402
from siplib import StreamUA  # noqa: E402
from test_rfc4475 import make_cert  # noqa: E402

KEY = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"


def participants(br, room):
    status, body = br.http("GET", "/api/rooms/%s" % room)
    return body.get("participants", []) if status == 200 else []


def test_call_over_tcp_and_bye_from_the_bridge():
    with Bridge({"rooms": {"on_demand": True}}) as br:
        ua = StreamUA(br.sip_port, user="tcpcaller")
        c = ua.invite("streams", ua.sdp_offer(["PCMU/8000"], port=40600))
        check(c.response and c.response.status == 200, "INVITE over TCP: %s"
              % (c.response and c.response.start))
        check("SIP/2.0/TCP" in c.response.h("via", ""), "Via of the answer: %s"
              % c.response.h("via"))
        c.ack()
        p = wait_for(lambda: participants(br, "streams"), what="the TCP caller in the room")[0]
        check(p["network"] == "phone", "participant: %s" % p)
        status, _ = br.http("DELETE", "/api/rooms/streams/participants/%s" % p["id"])
        check(status in (200, 204), "kick: %d" % status)
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 5)
        check(bye is not None, "the bridge's BYE did not come back over the TCP connection")
        wait_for(lambda: not participants(br, "streams"), what="the room to empty")
        ua.close()


def test_sips_call_over_tls_with_srtp():
    certs = tempfile.TemporaryDirectory(prefix="tutti-sip-certs-")
    make_cert(certs.name)
    tls_port = free_port()
    with Bridge({"rooms": {"on_demand": True},
                 "sip": {"tls_port": tls_port, "tls_cert_dir": certs.name}}) as br:
        ua = StreamUA(tls_port, tls=True, user="tlscaller")
        c = ua.invite("secure", ua.sdp_offer(["PCMU/8000"], port=40700,
                                             crypto="1 AES_CM_128_HMAC_SHA1_80 " + KEY))
        check(c.response and c.response.status == 200, "INVITE over TLS: %s"
              % (c.response and c.response.start))
        body = c.response.body
        m = re.search(r"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:(\S+)", body)
        check(re.search(r"m=audio \d+ RTP/SAVP 0", body) and m and
              m.group(1) not in KEY, "SAVP answer with our own key:\n" + body)
        c.ack()
        # media statistics reach the API about once a second
        media = wait_for(lambda: [p["media"] for p in participants(br, "secure")
                                  if p.get("media", {}).get("codec")],
                         what="the TLS caller's media in the API")[0]
        check(media.get("srtp") and media.get("codec") == "pcmu", "media: %s" % media)
        r = c.bye()
        check(r and r.status == 200, "BYE over TLS: %s" % (r and r.start))
        wait_for(lambda: not participants(br, "secure"), what="the room to empty")
        ua.close()
    certs.cleanup()


if __name__ == "__main__":
    run([test_call_over_tcp_and_bye_from_the_bridge, test_sips_call_over_tls_with_srtp])
