"""The soak's XMPP occupants (python3-slixmpp, run with Debian's /usr/bin/python3): COUNT
clients in one process, one asyncio loop, each joins ROOM (a MUC JID on tutti's service) as
its localpart, and once the soak says go (SIGUSR1: everyone is in the room, so that no
client of another network misses an early line) says "soak xmpp K line N" every EVERY
seconds (staggered) until the epoch second UNTIL, counts the live lines it receives by origin (history, marked with a delay, is
not counted), and every INTERVAL seconds prints one JSON line:

  {"ev":"stats","t":S,"occ":[{"i":k,"joined":b,"tx":n,"rx_irc":n,"rx_web":n,"rx_xmpp":n,
                              "rx_self":n,"left":b,"errors":[..]},...]}

rx_xmpp counts the other occupants' lines, rx_self its own reflected back (XEP-0045 7.2.8).
SIGTERM: every occupant leaves the room and disconnects, then {"ev":"done",...}.

  occupants.py --port C2S --room ROOM@MUC --users u1,u2,.. [--password-prefix pw-]
               --until EPOCH [--every 5] [--interval 5]"""
import argparse
import asyncio
import json
import signal
import sys
import time
import xml.etree.ElementTree as ET

import slixmpp

NS_MUC = "http://jabber.org/protocol/muc"
NS_DELAY = "urn:xmpp:delay"


def emit(obj):
    print(json.dumps(obj), flush=True)


class Occupant:
    def __init__(self, i, jid, password, room, nick, port):
        self.i, self.room, self.nick = i, room, nick
        self.st = {"i": i, "joined": False, "tx": 0, "rx_irc": 0, "rx_web": 0, "rx_xmpp": 0,
                   "rx_self": 0, "left": False, "errors": []}
        x = self.x = slixmpp.ClientXMPP(jid, password)
        x["feature_mechanisms"].unencrypted_plain = True
        x.enable_starttls = False
        x.enable_direct_tls = False
        self.ready = asyncio.Event()
        x.add_event_handler("session_start", self.on_start)
        x.add_event_handler("message", self.on_message)   # groupchat_message needs xep_0045
        x.add_event_handler("presence", self.on_presence)
        x.add_event_handler("failed_auth", lambda _: self.st["errors"].append("auth"))
        x.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)

    async def on_start(self, _):
        self.x.send_presence()
        p = self.x.make_presence(pto="%s/%s" % (self.room, self.nick))
        el = ET.Element("{%s}x" % NS_MUC)
        ET.SubElement(el, "{%s}history" % NS_MUC, maxstanzas="0")
        p.append(el)
        p.send()

    def on_presence(self, pr):
        if str(pr["from"]) != "%s/%s" % (self.room, self.nick):
            return
        if pr["type"] == "error":
            self.st["errors"].append("join: %s" % pr["error"]["condition"])
        elif pr["type"] == "unavailable":
            self.st["left"] = True
            self.st["joined"] = False
        else:
            self.st["joined"] = True
            self.ready.set()

    def on_message(self, m):
        if m["type"] != "groupchat" or m.xml.find("{%s}delay" % NS_DELAY) is not None:
            return   # history
        body = m["body"] or ""
        if body.startswith("soak irc "):
            self.st["rx_irc"] += 1
        elif body.startswith("soak web "):
            self.st["rx_web"] += 1
        elif body.startswith("soak xmpp %d " % self.i):
            self.st["rx_self"] += 1
        elif body.startswith("soak xmpp "):
            self.st["rx_xmpp"] += 1

    def say(self):
        self.st["tx"] += 1
        self.x.send_message(mto=self.room, mbody="soak xmpp %d line %d" %
                            (self.i, self.st["tx"]), mtype="groupchat")

    async def leave(self):
        if self.st["joined"]:
            self.x.send_presence(pto="%s/%s" % (self.room, self.nick), ptype="unavailable")
            await asyncio.sleep(0.5)
        self.x.disconnect(wait=2.0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--room", required=True)
    ap.add_argument("--users", required=True, help="comma-separated localparts")
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--password-prefix", default="pw-")
    ap.add_argument("--until", type=float, required=True, help="stop chatting (epoch s)")
    ap.add_argument("--every", type=float, default=5)
    ap.add_argument("--interval", type=float, default=5)
    a = ap.parse_args()
    stop = asyncio.Event()
    loop = asyncio.get_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    go = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, go.set)
    users = [u for u in a.users.split(",") if u]
    occ = [Occupant(i, "%s@%s/soak" % (u, a.host), a.password_prefix + u, a.room, u, a.port)
           for i, u in enumerate(users)]
    t0 = time.monotonic()

    def stats(ev="stats"):
        emit({"ev": ev, "t": round(time.monotonic() - t0, 1), "occ": [o.st for o in occ]})

    async def chat(o):
        await o.ready.wait()
        await go.wait()
        # staggered: K occupants say a line each every `every` s, not all at once
        try:
            await asyncio.wait_for(stop.wait(), a.every * (o.i + 1) / max(1, len(occ)))
            return
        except asyncio.TimeoutError:
            pass
        while not stop.is_set() and time.time() < a.until:
            o.say()
            try:
                await asyncio.wait_for(stop.wait(), a.every)
            except asyncio.TimeoutError:
                pass

    async def reporter():
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), a.interval)
            except asyncio.TimeoutError:
                stats()

    tasks = [asyncio.ensure_future(chat(o)) for o in occ] + [asyncio.ensure_future(reporter())]
    # the soak waits for every occupant's "joined" before its other clients start
    joined_said = set()
    while not stop.is_set() and len(joined_said) < len(occ):
        for o in occ:
            if o.st["joined"] and o.i not in joined_said:
                joined_said.add(o.i)
                emit({"ev": "joined", "i": o.i})
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except asyncio.TimeoutError:
            pass
    await stop.wait()
    stats()
    await asyncio.gather(*(o.leave() for o in occ), return_exceptions=True)
    for t in tasks:
        t.cancel()
    stats("done")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
