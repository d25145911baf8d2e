#!/bin/sh
# Regenerate the SIP gateway's spoken prompts (gateways/sip/prompts/*.wav) and the word
# clips dynamic prompts are made of (gateways/sip/prompts/words/*.wav) with espeak-ng
# (Debian package espeak-ng; only needed to regenerate, the WAVs are committed).
# Mono 16-bit at 11,025 Hz (espeak-ng's 22,050 Hz halved: telephone speech needs no more,
# and the files are half the size), silence trimmed to 30 ms at either end so that spelled
# words follow each other briskly. Clips said together must share one rate; the core
# resamples to the room rate when a prompt plays. The key table said here is the one in
# gateways/sip/keys.h and docs/sip.md: change them together.
set -e
out="$(dirname "$0")/../gateways/sip/prompts"
mkdir -p "$out/words"
# shrink FILE: trim the silence, low-pass ([1 2 1]/4) and keep every second sample
shrink() {
	python3 - "$1" <<'PY'
import sys, wave, array
path = sys.argv[1]
with wave.open(path) as w:
    rate = w.getframerate()
    x = array.array("h", w.readframes(w.getnframes()))
loud = [i for i, v in enumerate(x) if abs(v) > 300]
pad = rate * 30 // 1000
x = x[max(0, loud[0] - pad):loud[-1] + pad] if loud else x
y = array.array("h", ((x[i - 1] + 2 * x[i] + x[i + 1]) // 4 for i in range(1, len(x) - 1, 2)))
with wave.open(path, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate // 2)
    w.writeframes(y.tobytes())
PY
}
say() { espeak-ng -v en-us -s 150 -w "$out/$1.wav" "$2"; shrink "$out/$1.wav"; }
word() { espeak-ng -v en-us -s 160 -w "$out/words/$1.wav" "$2"; shrink "$out/words/$1.wav"; }
say enter_pin "Please enter the conference PIN, followed by the hash key."
say enter_mod_pin "If you have a moderator PIN, enter it, followed by the hash key. \
Otherwise, press the hash key."
say wrong_pin "That PIN is not correct. Please try again."
say goodbye "Sorry, that PIN is not correct. Goodbye."
say welcome "You are now in the conference."
say help "Keys. Star zero: this help. Star one: the list of participants, with their numbers. \
Star two: raise or lower your hand. Star six: mute or unmute yourself."
say help_decline "Star nine: decline the recording, or accept it again."
say help_moderator "Moderator keys. Star seven, a participant's number, then hash: mute or \
unmute that participant. Star seven hash: mute whoever is talking. Star three: lower the \
next raised hand. Star four: mute everyone. Star five: lock or unlock the room. \
Star eight: start or stop the recording. Star hash, then one: end the meeting for everyone."
say doors "This room can also be reached at:"
say not_moderator "Only a moderator can do that."
say mod_muted "You have been muted by a moderator."
say mod_unmuted "A moderator has unmuted you."
say ask_unmute "A moderator asks you to unmute. Press star six to unmute."
say cannot_unmute "You cannot unmute yourself now."
say muted "You are muted."
say unmuted "You are unmuted."
say hand_up "Your hand is raised."
say hand_down "Your hand is lowered."
say hand_lowered "A moderator has lowered your hand."
say recording "This meeting is being recorded."
say recording_decline "To decline, press star nine."
say declined "You declined the recording. You are muted while it runs."
say accepted "You accepted the recording."
say not_available "That is not available in this room."
say no_such "There is no participant with that number."
say no_hands "No hand is raised."
say locked "The room is locked."
say unlocked "The room is unlocked."
say all_muted "Everyone else is muted."
say recording_stopped "The recording has stopped."
say end_confirm "To end the meeting for everyone, press one."
say moderator_now "You are now a moderator."
say moderator_no_more "You are no longer a moderator."
say done "Done."
for c in a b c d e f g h i j k l m n o p q r s t u v w x y z; do word "$c" "$c"; done
for d in 0 1 2 3 4 5 6 7 8 9; do word "$d" "$d"; done
word dot dot; word at at; word colon colon; word slash slash; word dash dash
word underscore underscore; word hash hash; word plus plus; word space space
word sip "S I P"; word sips "S I P S"; word xmpp "X M P P"; word irc "I R C"
word ircs "I R C S"; word http "H T T P"; word https "H T T P S"; word tel "phone"
word participant participant; word participants participants
word net_phone "by phone"; word net_web "on the web"; word net_irc "on I R C"
word net_xmpp "by X M P P"
