"""Browser test of a meeting (docs/meetings.md, Web): two real Chromium browsers through
playwright-core (meeting.mjs). Mia starts from the page at / (it asks for the room) with the
moderator PIN; Bob joins plainly. Asserts: controls on Bob's line for Mia and none for Bob;
Mia's mute of Bob silences his tone for her (a listener) and holds against Bob's own unmute
(self_unmute = false) until she unmutes him; Bob's moderate is answered not_allowed; the hand
queue in the order hands went up; lock refuses a third browser with a clear message; the
ways-in panel lists the doors of every configured network; Mia's recording puts a banner on
Bob's page, his decline keeps him muted, the stop takes it away; the end hangs Bob up. Writes the
moderator view and the doors panel (meeting-moderator.png, meeting-doors.png) to the build
tree, or to docs/ with TT_UPDATE_DOCS=1.
Exits 77 (ctest: skipped) without chromium or node_modules."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from ttlib import BUILD_DIR, Bridge, check, run  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "webrtc"))
from test_e2e import CHROMIUM, prerequisites, write_tone  # noqa: E402
from test_meeting import door_sections  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Screenshots go to the build tree; TT_UPDATE_DOCS=1 writes them to docs/ (looked at before
# they are committed), so that a test run never changes the checkout.
DOCS = (os.path.join(HERE, "..", "..", "docs") if os.environ.get("TT_UPDATE_DOCS")
        else os.path.join(BUILD_DIR, "test-output", "e2e"))
OUT_DIR = os.path.join(BUILD_DIR, "test-output", "e2e")
FREQ_A, FREQ_B = 500, 800


def test_meeting_in_two_browsers():
    os.makedirs(OUT_DIR, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tutti-meeting-")
    wav_a, wav_b = os.path.join(tmp, "a.wav"), os.path.join(tmp, "b.wav")
    write_tone(wav_a, FREQ_A, 4)
    write_tone(wav_b, FREQ_B, 4)
    room = "team"
    sections = {"webrtc": {"allow_loopback": True,   # TT_ICE_LITE=off: full ICE
                           "ice_lite": os.environ.get("TT_ICE_LITE", "auto")},
                "room.team": {"moderator_pin": "1357", "self_unmute": False,
                              "recording_decline": True},
                "recording": {"enabled": True, "dir": os.path.join(tmp, "rec")}}
    doors, want = door_sections()   # SIP, IRC and XMPP configured: their doors on the page
    sections.update(doors)
    with Bridge(sections) as br:
        cfg = {"base": "http://127.0.0.1:%d" % br.http_port, "room": room, "modPin": "1357",
               "wavA": wav_a, "wavB": wav_b, "freqA": FREQ_A, "freqB": FREQ_B,
               "out": OUT_DIR, "docs": DOCS, "chromium": CHROMIUM}
        proc = subprocess.run(["node", os.path.join(HERE, "meeting.mjs")], cwd=HERE,
                              env=dict(os.environ, TT_E2E=json.dumps(cfg)),
                              capture_output=True, text=True, timeout=150)
        sys.stderr.write(proc.stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    check(lines, "meeting.mjs printed no result (exit %d)" % proc.returncode)
    out = json.loads(lines[-1])
    print("result:", json.dumps(out, indent=1))
    check(out.get("ok"), "browser run failed: %s" % out.get("error"))
    check(out["root_asks_room"] and out["root_refused_empty"], "/ asks for a room: %s" % out)
    check(out["root_path"] == "/" + room, "after joining from /, the URL is %s" % out["root_path"])
    check(sorted(out["mod_ctl_on_bob"]) == ["grant", "kick", "mute"],
          "Mia's controls on Bob: %s" % out["mod_ctl_on_bob"])
    check(out["mod_ctl_on_self"] == [], "controls on Mia's own line: %s" % out["mod_ctl_on_self"])
    check(out["controls_reachable"], "a control that is no labelled button in the tab order")
    check(out["focus_after_mute"] == "unmute", "the keyboard focus after muting Bob: %s"
          % out["focus_after_mute"])
    check(out["bob_ctl_count"] == 0 and not out["bob_mod_box"] and out["mod_box"],
          "Bob sees moderator controls: %s" % out)
    before, muted, after = ({int(k): v for k, v in h.items()}
                            for h in (out["heard_before"], out["heard_muted"],
                                      out["heard_unmuted"]))
    # Bob's tone peaks near -25 dB in Mia's mix; muted it is gone (only codec noise, below
    # -60 dB measured); unmuted it is back
    check(before[FREQ_B] > -50, "Mia does not hear Bob before the mute: %s" % before)
    check(muted[FREQ_B] < before[FREQ_B] - 20, "Bob's tone did not go: %s -> %s" % (before, muted))
    check(after[FREQ_B] > -50, "Bob's tone did not come back: %s" % after)
    check(out["bob_button_after_mute"] == "Unmute" and "muted you" in out["bob_notice"],
          "Bob's page after the mute: %s" % out)
    check(out["bob_still_muted"], "Bob unmuted himself past the moderator")
    refused = [e for e in out["bob_errors"] if e.startswith("not_allowed")]
    check(len(refused) >= 2, "Bob's refusals: %s" % out["bob_errors"])
    check(out["queue_a"] == ["Bob", "Mia (you)"] and out["queue_b"] == ["Bob (you)", "Mia"],
          "hand queue: %s / %s" % (out["queue_a"], out["queue_b"]))
    check(out["hand_button_b"] == "true", "Bob's hand button: %s" % out["hand_button_b"])
    check("lower_hand" in out["hand_ctl"], "no lower-hand control: %s" % out["hand_ctl"])
    check(out["queue_after_lower"] == ["Mia"], "after lowering: %s" % out["queue_after_lower"])
    check("locked" in out["locked_status"] and
          any(e.startswith("locked") for e in out["locked_errors"]),
          "a third browser in a locked room: %s %s" % (out["locked_status"], out["locked_errors"]))
    check("(locked)" in out["locked_title"], "the title while locked: %s" % out["locked_title"])
    check(out["cat_joined_after_unlock"], "unlock")
    check("mute" in out["granted_ctl"] and "revoke" in out["granted_ctl"] and
          out["revoked_ctl_count"] == 0, "grant and revoke: %s %s"
          % (out["granted_ctl"], out["revoked_ctl_count"]))
    nets = {d["network"]: d for d in out["doors"]}
    check(set(nets) == want, "doors on the page: %s, want %s" % (out["doors"], sorted(want)))
    check(nets.get("web", {}).get("uri") == "%s/%s" % (cfg["base"], room) and
          all(d["copy"] for d in out["doors"]), "doors: %s" % out["doors"])
    for a in ("mute", "unmute", "lower_hand", "lock", "unlock"):
        check(a in out["bob_meetings"], "Bob was not told of %s: %s" % (a, out["bob_meetings"]))
    b = out["banner"]
    check("being recorded" in b["text"] and b["decline"] and b["role"] == "alert",
          "recording banner: %s" % b)
    check(out["record_button"] == "Stop recording", "record button: %s" % out["record_button"])
    check(out["bob_declined_muted"] and out["banner_gone"], "decline and stop: %s" % out)
    for a in ("record_start", "record_stop"):
        check(a in out["bob_meetings"], "Bob was not told of %s" % a)
    for line in ("Mia muted you", "Mia unmuted you", "Mia lowered your hand",
                 "Mia locked the room: nobody new can join"):
        check(line in out["bob_meeting_texts"], "Bob's page lacks %r: %s"
              % (line, out["bob_meeting_texts"]))
    check("ended by Mia" in out["bob_end_status"], "end: %s" % out["bob_end_status"])
    check(out["unlabelled"] == [], "inputs without a label: %s" % out["unlabelled"])
    for png in ("meeting-moderator.png", "meeting-doors.png"):
        p = os.path.join(DOCS, png)
        check(os.path.getsize(p) > 5000, "screenshot %s too small" % p)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    why = prerequisites()
    if why:
        print("SKIP: " + why)
        sys.exit(77)
    run([test_meeting_in_two_browsers])
