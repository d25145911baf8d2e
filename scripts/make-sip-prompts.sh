#!/bin/sh
# Regenerate the SIP gateway's spoken prompts (gateways/sip/prompts/*.wav) with espeak-ng
# (Debian package espeak-ng; only needed to regenerate, the WAVs are committed).
# 16 kHz mono 16-bit; the gateway resamples to the room rate when it loads them.
set -e
out="$(dirname "$0")/../gateways/sip/prompts"
mkdir -p "$out"
say() { espeak-ng -v en-us -s 150 -w "$out/$1.wav" "$2"; }
say enter_pin "Please enter the conference PIN, followed by the hash key."
say wrong_pin "That PIN is not correct. Please try again."
say goodbye "Sorry, that PIN is not correct. Goodbye."
say welcome "You are now in the conference."
