"""Call-rate load test (the sipp UAC substitute): INVITE/200/ACK/BYE with SDP at 50 calls/s,
0 failed calls allowed; a few calls also send RTP and must get the bridge's RTP back.
ctest runs it for TT_SIP_LOAD_SECONDS (default 4 s); the issue's full run is
TT_SIP_LOAD_SECONDS=30."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from loadgen import LoadGen  # noqa: E402

SECONDS = float(os.environ.get("TT_SIP_LOAD_SECONDS", "4"))
RATE = float(os.environ.get("TT_SIP_LOAD_RATE", "50"))


def test_call_rate_no_failures_and_rtp_comes_back():
    with Bridge({"rooms": {"on_demand": True}, "bridge": {"log_level": "warn"}}) as br:
        res = LoadGen(br.sip_port, hold=1.0, rooms=4, rtp_calls=5).run(RATE, SECONDS)
        print("  %s" % res, flush=True)
        check(res["calls"] == int(RATE * SECONDS), "calls made: %s" % res)
        check(res["failed"] == 0, "failed calls: %s" % res)
        check(all(n >= 10 for n in res["rtp_calls"]), "bridge RTP did not come back: %s"
              % res["rtp_calls"])
        status, body = br.http("GET", "/api/rooms")
        check(body["rooms"] == [], "rooms left behind: %s" % body)


if __name__ == "__main__":
    run([test_call_rate_no_failures_and_rtp_comes_back])
