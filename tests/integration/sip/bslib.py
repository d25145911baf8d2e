"""bslib: headless baresip (Debian's 1.0) for the SIP gateway tests, plus Goertzel tone
analysis of WAV files.

Each Baresip gets a throw-away config dir: its microphone is a WAV with one sine tone
(aufile), its speaker is ALSA's null device, and the sndfile filter writes what it decoded
to snd_path/dump-*-dec.wav. It is driven through ctrl_tcp (netstring JSON commands)."""
import glob
import json
import math
import os
import random
import socket
import struct
import subprocess
import threading
import time
import wave

from ttlib import free_port


def free_pair():
    """A port p with p (UDP, TCP) and p+1 (TCP: baresip's SIP/TLS) free a moment ago."""
    for _ in range(100):
        p = free_port()
        socks = []
        try:
            for kind, port in ((socket.SOCK_DGRAM, p), (socket.SOCK_STREAM, p + 1)):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    return free_port()


def write_tone(path, freq, seconds=40, rate=48000, amp=8000):
    # an integer frequency repeats every second exactly: one second, written `seconds` times
    step = 2 * math.pi * freq / rate
    one = b"".join(struct.pack("<h", int(amp * math.sin(step * i))) for i in range(rate))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(one * int(seconds))


def read_wav(path):
    with wave.open(path, "rb") as w:
        rate = w.getframerate()
        ch = w.getnchannels()
        raw = w.readframes(w.getnframes())
    samples = struct.unpack("<%dh" % (len(raw) // 2), raw)
    if ch > 1:
        samples = samples[::ch]
    return rate, samples


def goertzel_db(samples, rate, freq):
    """Level of one frequency in dBFS (a full-scale sine gives about 0 dB)."""
    n = len(samples)
    if n == 0:
        return -200.0
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    amp = 2 * math.sqrt(max(power, 0.0)) / n
    return 20 * math.log10(amp / 32768.0 + 1e-12)


def window_levels(path, t0, t1, freqs):
    rate, s = read_wav(path)
    part = s[int(t0 * rate):int(t1 * rate)]
    return {f: goertzel_db(part, rate, f) for f in freqs}, len(part) / float(rate)


class Baresip:
    def __init__(self, tmp, name, tone, codec="PCMU/8000/1", srtp=False, extra_account="",
                 seconds=40):
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "out"))
        self.name = name
        self.tone = tone
        self.codec, self.srtp, self.extra_account = codec, srtp, extra_account
        wav = os.path.join(self.dir, "tone.wav")
        write_tone(wav, tone, seconds)   # baresip hangs up when its microphone file ends
        # ports are picked free but can be taken by others before baresip binds them:
        # start again with new ports when it exits at once
        for attempt in range(6):
            if self._start(wav):
                break
        else:
            raise RuntimeError("baresip did not start:\n" + self.read_log())
        self.events = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.t_dial = None

    def _start(self, wav):
        self.ctrl_port = free_port()
        sip_port = free_pair()
        # below tutti's media ports (20000-29999) and the ephemeral range, so neither the
        # bridge nor the kernel hands these out meanwhile
        rtp = 10000 + 2 * random.randrange(0, 4900)
        modules = ["g711.so", "opus.so", "aufile.so", "alsa.so", "sndfile.so", "srtp.so"]
        conf = ["poll_method epoll", "sip_listen 127.0.0.1:%d" % sip_port,
                "sip_transports udp", "net_interface 127.0.0.1",
                "audio_player alsa,null", "audio_alert alsa,null",
                "audio_source aufile,%s" % wav,
                "ausrc_srate 48000", "auplay_srate 48000", "ausrc_channels 1",
                "auplay_channels 1", "rtp_ports %d-%d" % (rtp, rtp + 100),
                "opus_bitrate 32000",
                "module_path /usr/lib/baresip/modules"]
        conf += ["module " + m for m in modules]
        conf += ["module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
                 "ctrl_tcp_listen 127.0.0.1:%d" % self.ctrl_port,
                 "snd_path %s" % os.path.join(self.dir, "out")]
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join(conf) + "\n")
        acc = "<sip:%s@127.0.0.1>;regint=0;audio_codecs=%s" % (self.name, self.codec)
        if self.srtp:
            acc += ";mediaenc=srtp-mand"
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(acc + self.extra_account + "\n")
        self.log = open(os.path.join(self.dir, "baresip.log"), "w")
        self.proc = subprocess.Popen(["baresip", "-f", self.dir], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.dir)
        self.sock = None
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), 1)
                return True
            except OSError:
                if self.proc.poll() is not None:
                    self.log.close()
                    return False
                time.sleep(0.1)
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        return False

    def _drain(self):
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b":" in buf:
                n, _, rest = buf.partition(b":")
                try:
                    n = int(n.strip())
                except ValueError:
                    buf = rest   # resynchronise on the next length prefix
                    continue
                if len(rest) < n + 1:
                    break
                try:
                    self.events.append(json.loads(rest[:n].decode()))
                except ValueError:
                    pass
                buf = rest[n + 1:]

    def cmd(self, command, params=""):
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.sock.sendall(b"%d:%s," % (len(body), body))

    def dial(self, uri):
        self.t_dial = time.time()
        self.cmd("dial", uri)

    def established(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            # ctrl_tcp events, or the console line when an event was split oddly
            if any(e.get("type") == "CALL_ESTABLISHED" for e in list(self.events)) or \
                    "Call established" in self.read_log():
                return True
            time.sleep(0.05)
        return False

    def closed(self):
        return any(e.get("type") == "CALL_CLOSED" for e in list(self.events))

    def recording(self):
        files = glob.glob(os.path.join(self.dir, "out", "dump-*-dec.wav"))
        return sorted(files)[-1] if files else None

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "baresip.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()
        self.log.close()
