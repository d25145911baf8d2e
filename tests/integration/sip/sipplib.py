"""sipplib: SIPp (Debian's sip-tester) for the SIP gateway tests, G.711 mu-law in Python,
and a loopback sniffer that keeps the UDP payloads sent between two ports.

SIPp runs headless (-nostdin -bg is not used: the test waits for it), writes its screen to
stdout at the end, and exits 0 only when every call succeeded."""
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

SIPP = shutil.which("sipp")
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")


def run_sipp(target, args, cwd, timeout):
    """Runs sipp against target ("host:port"); returns (exit code, stats dict, output)."""
    cmd = [SIPP, target, "-i", "127.0.0.1", "-p", "0", "-nostdin", "-timeout",
           "%ds" % int(timeout), "-timeout_error", "-trace_err",
           "-error_file", os.path.join(cwd, "sipp_errors.log")] + list(args)
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout + 30)
    out = p.stdout + p.stderr
    return p.returncode, screen_stats(out), out


def screen_stats(out):
    """The cumulative counters of SIPp's last statistics screen."""
    stats = {}
    for name, key in (("Successful call", "ok"), ("Failed call", "failed"),
                      ("Outgoing calls created", "created")):
        found = re.findall(r"%s\s*\|\s*\d+\s*\|\s*(\d+)" % re.escape(name), out)
        if found:
            stats[key] = int(found[-1])
    m = re.findall(r"Retrans\s+Timeout.*?\n(.*?)-{10,}", out, re.S)
    stats["retrans"] = sum(int(x) for x in re.findall(r"^\s*\S+\s+-+>\s+\d+\s+(\d+)",
                                                         m[-1], re.M)) if m else None
    return stats


def ulaw_encode(x):
    """One 16-bit sample to G.711 mu-law (the reference coder: 14-bit magnitude, bias 33)."""
    x >>= 2
    mask = 0xFF
    if x < 0:
        x, mask = -x, 0x7F
    x = min(x, 8159) + 0x21
    seg = max(0, x.bit_length() - 6)
    if seg > 7:
        return 0x7F ^ mask
    return ((seg << 4) | ((x >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_decode(u):
    u = ~u & 0xFF
    exp = (u >> 4) & 0x07
    x = (((u & 0x0F) << 3) + 0x84) << exp
    x -= 0x84
    return -x if u & 0x80 else x


ULAW_TABLE = [ulaw_decode(u) for u in range(256)]


def write_ulaw_wav(path, freq, seconds, amp=8000, rate=8000):
    """A WAV header (format 7, mu-law) in front of raw mu-law bytes: SIPp skips the RIFF
    header and sends the bytes as they are, 160 per 20 ms packet."""
    step = 2 * math.pi * freq / rate
    data = bytes(ulaw_encode(int(amp * math.sin(step * i))) for i in range(int(rate * seconds)))
    fmt = struct.pack("<HHIIHH", 7, 1, rate, rate, 1, 8)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def can_sniff():
    """Reading loopback packets needs CAP_NET_RAW (root in CI)."""
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)).close()
        return True
    except (PermissionError, OSError, AttributeError):
        return False


class LoopSniffer:
    """Keeps (time, src port, dst port, UDP payload) of every IPv4 UDP packet on lo whose
    destination port is in `ports` (a set, updated while it runs) or any when None."""

    def __init__(self, ports=None):
        self.ports = ports
        self.packets = []
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                frame, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:   # lo shows each packet twice
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 0x0F) * 4
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            if self.ports is None or dport in self.ports:
                self.packets.append((time.time(), sport, dport, ip[ihl + 8:ihl + ulen]))

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def rtp_pcmu_samples(payloads):
    """Concatenated PCMU audio of RTP packets (in sequence order), as 16-bit samples."""
    pkts, last, ext = [], None, 0
    for p in payloads:
        if len(p) < 12 or p[0] >> 6 != 2 or (p[1] & 0x7F) != 0:
            continue
        cc = p[0] & 0x0F
        off = 12 + 4 * cc
        if p[0] & 0x10 and len(p) >= off + 4:
            off += 4 + 4 * struct.unpack("!H", p[off + 2:off + 4])[0]
        seq = struct.unpack("!H", p[2:4])[0]
        if last is not None:   # unwrap: arrival order is close to sequence order
            ext += (seq - last + 32768) % 65536 - 32768
        last = seq
        pkts.append((ext, p[off:]))
    pkts.sort()
    return [ULAW_TABLE[b] for _, body in pkts for b in body]
