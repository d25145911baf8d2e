#!/bin/sh
# Makes bridge/record/prompts/recording.wav, the notice played into a room when a recording
# starts, with espeak-ng (mono, 16-bit, 16 kHz; the core resamples it to the room's rate).
set -eu
out="$(dirname "$0")/../bridge/record/prompts"
mkdir -p "$out"
tmp="$(mktemp)"
espeak-ng -v en-us -s 150 -w "$tmp" "This meeting is being recorded."
# espeak-ng writes 22050 Hz; sox is not assumed, so Python's wave and audioop-free resampling
python3 - "$tmp" "$out/recording.wav" <<'PY'
import struct, sys, wave
src = wave.open(sys.argv[1], "rb")
assert src.getnchannels() == 1 and src.getsampwidth() == 2
rate, n = src.getframerate(), src.getnframes()
x = struct.unpack("<%dh" % n, src.readframes(n))
dst_rate = 16000
m = int(n * dst_rate / rate)
y = []
for i in range(m):
    t = i * rate / dst_rate
    k = int(t); f = t - k
    a = x[min(k, n - 1)]; b = x[min(k + 1, n - 1)]
    y.append(int(a + (b - a) * f))
out = wave.open(sys.argv[2], "wb")
out.setnchannels(1); out.setsampwidth(2); out.setframerate(dst_rate)
out.writeframes(struct.pack("<%dh" % m, *y))
PY
rm -f "$tmp"
