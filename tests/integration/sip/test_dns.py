"""A dead DNS route must not freeze the bridge (reliability issue, bug 5).

The whole script runs in a network and mount namespace of its own (it re-executes itself
under `unshare -n -m`): only loopback is up, and /etc/resolv.conf is bound to a file naming
192.0.2.53, which has no route there, so a DNS query fails at once with ENETUNREACH. No
packet can leave the namespace.

A caller whose Contact (and Via) is a host name joins a room; ending the room through the
admin API makes the bridge send its BYE. Before the fix sofia-sip's resolver spun the core
thread at 100 % in a socket/connect/close loop and nothing answered again, SIGTERM included.
Now the BYE goes to the address the caller's requests came from (tutti resolves no host
name it was sent, docs/sip.md), the DELETE answers, OPTIONS is answered, the core is idle,
and SIGTERM ends the process within the grace period."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ttlib import Bridge, check, run  # noqa: E402
from siplib import UA, StreamUA  # noqa: E402

MARK = "TT_DNS_NAMESPACE"
GRACE_MS = 1500


def enter_namespace():
    """Re-executes this script in new network and mount namespaces; returns only inside."""
    if os.environ.get(MARK) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        conf = tempfile.NamedTemporaryFile("w", prefix="resolv-", suffix=".conf",
                                           delete=False)
        conf.write("nameserver 192.0.2.53\noptions timeout:1 attempts:1\n")
        conf.close()
        subprocess.run(["mount", "--bind", conf.name, "/etc/resolv.conf"], check=True)
        return
    probe = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        print("skip: cannot create network namespaces here (unshare -n -m: %s)"
              % probe.stderr.decode(errors="replace").strip())
        print("0 passed, 0 failed, 1 skipped")
        sys.exit(0)
    env = dict(os.environ, **{MARK: "1"})
    os.execvpe("unshare", ["unshare", "-n", "-m", "--", sys.executable,
                           os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_idle(br, what):
    c0 = cpu_seconds(br.proc.pid)
    time.sleep(1.0)
    used = cpu_seconds(br.proc.pid) - c0
    check(used < 0.5, "%s: the bridge used %.2f s of CPU in 1 s (spinning)" % (what, used))


def stop_within_grace(br):
    t0 = time.time()
    br.proc.send_signal(15)
    try:
        rc = br.proc.wait(timeout=GRACE_MS / 1000 + 3.0)
    except subprocess.TimeoutExpired:
        br.kill()
        raise AssertionError("no exit %.1f s after SIGTERM (killed):\n%s"
                             % (time.time() - t0, br.read_log()[-3000:]))
    took = time.time() - t0
    check(rc == 0, "exit code %s after SIGTERM" % rc)
    check(took < GRACE_MS / 1000 + 1.0, "took %.2f s to exit after SIGTERM" % took)


def host_name_caller(br, room, ua=None, extra=()):
    ua = ua or UA(br.sip_port, user="far")
    ua.contact_host = "phone.host.invalid"
    ua.via_host = "via.host.invalid"
    call = ua.invite(room, ua.sdp_offer(), extra=extra)
    check(call.response and call.response.status == 200,
          "INVITE: %s" % (call.response and call.response.start))
    call.ack()
    return ua, call


def test_bye_to_a_host_name_contact_under_a_dns_black_hole():
    br = Bridge({"bridge": {"shutdown_grace_ms": GRACE_MS}}).start()
    try:
        watcher = UA(br.sip_port, user="watcher")
        watcher.contact_host = "watcher.host.invalid"
        watcher.request("SUBSCRIBE", watcher.room_uri("standup"), "sub-dns@test", 1, "s1",
                        extra=["Event: conference", "Expires: 600",
                               "Accept: application/conference-info+xml"])
        r = watcher.final("sub-dns@test", "SUBSCRIBE")
        check(r is not None and r.status < 300, "SUBSCRIBE: %s" % (r and r.start))
        ua, call = host_name_caller(br, "standup")
        n = watcher.wait(lambda m: m.method == "NOTIFY" and "far" in m.body, 5.0)
        check(n is not None, "no NOTIFY reached the host-name subscriber")
        # the room ends: the bridge sends BYE to a caller known only by host names
        try:
            status, _ = br.http("DELETE", "/api/rooms/standup", timeout=5)
        except OSError as e:
            raise AssertionError("DELETE got no answer (%s): the core is stuck" % e)
        check(status in (200, 204), "DELETE: %s" % status)
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == call.call_id, 5.0)
        check(bye is not None, "no BYE reached the caller at the address it called from")
        other = UA(br.sip_port, user="probe")
        other.via_host = "probe.host.invalid"
        r = other.options(timeout=3.0)
        check(r is not None and r.status == 200, "OPTIONS with a host-name Via: %s"
              % (r and r.start))
        check_idle(br, "after the BYE")
        stop_within_grace(br)
    finally:
        br.kill()
        br.log.close()
        br.tmp.cleanup()


def test_sigterm_with_a_host_name_caller_in_a_call():
    """Shutdown hangs up every call (a BYE to the host-name caller) and still ends in time."""
    br = Bridge({"bridge": {"shutdown_grace_ms": GRACE_MS}}).start()
    try:
        ua, call = host_name_caller(br, "standup")
        stop_within_grace(br)
        bye = ua.wait(lambda m: m.method == "BYE" and m.h("call-id") == call.call_id, 1.0)
        check(bye is not None, "no BYE at shutdown")
    finally:
        br.kill()
        br.log.close()
        br.tmp.cleanup()


def test_record_route_name_and_tcp_caller():
    """A host-name Record-Route (a proxy) over UDP, answered without symmetric_response,
    and a TCP caller known by host names: each BYE reaches the address the call came from,
    the Route header still naming the proxy so that a real one could route it on."""
    br = Bridge({"bridge": {"shutdown_grace_ms": GRACE_MS},
                 "sip": {"symmetric_response": False}}).start()
    try:
        ua, call = host_name_caller(br, "r1",
                                    extra=("Record-Route: <sip:proxy.host.invalid;lr>",))
        tcp = StreamUA(br.sip_port, user="tcpfar")
        tua, tcall = host_name_caller(br, "r2", ua=tcp)
        for room, u, c in (("r1", ua, call), ("r2", tua, tcall)):
            status, _ = br.http("DELETE", "/api/rooms/" + room, timeout=5)
            check(status in (200, 204), "DELETE %s: %s" % (room, status))
            bye = u.wait(lambda m: m.method == "BYE" and m.h("call-id") == c.call_id, 5.0)
            check(bye is not None, "%s: no BYE at the address the call came from" % room)
            if room == "r1":
                check("proxy.host.invalid" in bye.h("route", ""),
                      "the BYE lost its Route header: %s" % bye.raw[:400])
        check_idle(br, "after both BYEs")
        stop_within_grace(br)
    finally:
        br.kill()
        br.log.close()
        br.tmp.cleanup()


if __name__ == "__main__":
    enter_namespace()
    run([test_bye_to_a_host_name_contact_under_a_dns_black_hole,
         test_sigterm_with_a_host_name_caller_in_a_call,
         test_record_route_name_and_tcp_caller])
