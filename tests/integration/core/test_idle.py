"""Long-lived connections left idle past their timeouts. One bridge, everything idle at once
for about 100 s (past RFC 4028's smallest Session-Expires, 90 s):
- a signalling WebSocket that sends nothing at all (not even the client's ping) stays open
  and still carries chat both ways afterwards;
- a SIP call whose Session-Expires names the bridge as refresher (refresher=uas) is refreshed
  by the bridge before it expires, and stays up;
- a SIP call whose caller refreshes (refresher=uac, a re-INVITE at half the interval) stays up;
- a SIP call whose caller promised to refresh and never does is ended by the bridge with a
  BYE (RFC 4028 10), and leaves the room: an idle timeout still does its job.
Quick happy paths hid real faults before (the IRC link that dropped every 60 s); this runs the
same connections as long as their timers need."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sip"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "webrtc"))
from ttlib import Bridge, check, run, wait_for  # noqa: E402
from siplib import UA  # noqa: E402
from wsclient import WsClient  # noqa: E402

SE = 90          # the smallest Session-Expires the bridge accepts (min_se's floor)
IDLE = SE + 12   # past the expiry, with margin for a refresh that came late


def roster(gw, room):
    r = gw.cmd(cmd="roster", room=room)
    return r.get("roster", []) if r.get("ok") else []


def phones(gw, room):
    return sorted(e["name"] for e in roster(gw, room) if e["network"] == "phone")


class Caller(threading.Thread):
    """One SIP call on its own UA, answering whatever the bridge sends (re-INVITE or UPDATE
    refreshes, BYE) for the whole idle time; `refresh_at` makes it refresh itself."""

    def __init__(self, br, name, refresher, refresh_at=None):
        super().__init__(daemon=True)
        self.ua = UA(br.sip_port, user=name)
        self.name = name
        self.call = self.ua.invite("idle", self.ua.sdp_offer(), extra=[
            "Supported: timer", "Session-Expires: %d;refresher=%s" % (SE, refresher)])
        r = self.call.response
        check(r and r.status == 200, "%s: call: %s" % (name, r and r.start))
        se = r.h("session-expires", "")
        check(se.startswith(str(SE)) and ("refresher=" + refresher) in se,
              "%s: Session-Expires in the 200: %r" % (name, se))
        self.call.ack()
        self.t0 = time.time()
        self.refresh_at = refresh_at
        self.refreshes = []    # (seconds after the call began, method) the bridge sent us
        self.bye_at = None
        self.ours = []         # our own refreshes' final responses
        self.stop = False

    def run(self):
        while not self.stop and self.bye_at is None:
            if self.refresh_at is not None and time.time() - self.t0 >= self.refresh_at:
                self.refresh_at = None
                extra = ["Supported: timer", "Session-Expires: %d;refresher=uac" % SE]
                self.call.cseq += 1
                self.call.send_invite(self.ua.sdp_offer(), extra)
                r = self.ua.final(self.call.call_id, "INVITE", 5)
                if r and r.status >= 200:
                    self.call.ack()
                self.ours.append(r.status if r else None)
                continue
            m = self.ua.wait(lambda m: m.method is not None, 0.5)
            if m is None or m.h("call-id") != self.call.call_id:
                continue
            at = time.time() - self.t0
            if m.method in ("INVITE", "UPDATE"):
                self.refreshes.append((round(at, 1), m.method))
            elif m.method == "BYE":
                self.bye_at = at

    def finish(self):
        self.stop = True
        self.join(5)


def test_everything_idle_past_its_timeouts():
    conf = {"media": {"inactivity_s": 600, "hold_inactivity_s": 0},
            "sip": {"session_timer": SE, "min_se": SE}}
    with Bridge(conf) as br:
        gw = br.testgw()
        bot = gw.join("idle", "bot", caps=["text"])
        ws = WsClient(br.http_port)
        check(ws.recv()["type"] == "hello", "no hello")
        ws.send({"type": "join", "room": "idle", "name": "quiet"})
        j = ws.wait(lambda m: m["type"] == "joined", what="joined")

        by_bridge = Caller(br, "uas-refreshed", "uas")
        by_caller = Caller(br, "uac-refreshes", "uac", refresh_at=SE / 2)
        forgetful = Caller(br, "uac-forgets", "uac")
        callers = (by_bridge, by_caller, forgetful)
        for c in callers:
            c.start()
        wait_for(lambda: len(phones(gw, "idle")) == 3, what="three callers in the room")

        deadline = time.time() + IDLE
        while time.time() < deadline:
            time.sleep(1)
        for c in callers:
            c.finish()
        print("  bridge's refreshes of %s: %s; %s's own: %s; %s got BYE at %s s"
              % (by_bridge.name, by_bridge.refreshes, by_caller.name, by_caller.ours,
                 forgetful.name, forgetful.bye_at and round(forgetful.bye_at, 1)), flush=True)

        check(by_bridge.refreshes and by_bridge.refreshes[0][0] < SE,
              "the bridge, refresher by its own 200, never refreshed within %d s: %s"
              % (SE, by_bridge.refreshes))
        check(by_bridge.bye_at is None, "the call the bridge refreshes got BYE at %.1f s"
              % (by_bridge.bye_at or 0))
        check(by_caller.ours == [200], "the caller's refresh was answered %s" % by_caller.ours)
        check(by_caller.bye_at is None, "a call refreshed by its caller got BYE at %.1f s"
              % (by_caller.bye_at or 0))
        check(forgetful.bye_at is not None and SE / 3 <= forgetful.bye_at <= SE + 5,
              "a caller that never refreshed: BYE at %s (want before about %d s)"
              % (forgetful.bye_at, SE))
        left = wait_for(lambda: phones(gw, "idle") == ["uac-refreshes", "uas-refreshed"]
                        and phones(gw, "idle"), what="only the refreshed calls in the room")
        check(left == ["uac-refreshes", "uas-refreshed"], "phones: %s" % left)
        for c in (by_bridge, by_caller):
            r = c.call.in_dialog("OPTIONS")
            check(r and r.status == 200, "%s: in-dialog OPTIONS after %d s: %s"
                  % (c.name, IDLE, r and r.start))
        for c in callers:
            c.ua.close()

        # the silent WebSocket: still open, chat both ways
        gw.say(bot, "still there?")
        m = ws.wait(lambda m: m["type"] == "chat" and m["text"] == "still there?",
                    what="chat after %d s idle" % IDLE)
        check(m["from"]["name"] == "bot", "%s" % m)
        ws.send({"type": "chat", "text": "yes"})
        t = gw.wait_event(lambda e: e["ev"] == "text" and e["text"] == "yes",
                          what="the idle browser's line")
        check(t["from"]["id"] == j["id"], "%s" % t)
        ws.close()


if __name__ == "__main__":
    run([test_everything_idle_past_its_timeouts])
