#!/bin/sh
# gen-manpage.sh TUTTI OUT: tutti(1) from the binary itself: help2man reads --help and
# --version; the CONFIGURATION section is every key of --print-default-config (section,
# key, default, bounds, help), so the page and the program cannot disagree.
set -eu
bin=$1
out=$2
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
{
	cat <<'EOF2'
[DESCRIPTION]
.B tutti
puts people on SIP phones, browsers (WebRTC), XMPP clients and IRC into the same rooms;
one mixer mixes the loudest voices for everyone. An HTTP JSON API (GET /api/health,
/api/rooms, ...) manages rooms, participants, moderation and recordings; the browser
client is served at http://HOST:PORT/ROOM.

[SIGNALS]
.TP
.B SIGTERM, SIGINT
Hang everyone up politely and exit 0 within bridge.shutdown_grace_ms (0.5 s later at most
even when the core is stuck).
.TP
.B SIGHUP
Reload the configuration file: log levels, room settings and the keys marked reloadable;
the others are named in the log and need a restart. A file with errors is refused and the
running configuration stays.

[SYSTEMD]
Under systemd (Type=notify) tutti sends READY=1 once its gateways run and HTTP listens,
RELOADING=1 and READY=1 around a reload, STOPPING=1 when it shuts down, and, when the unit
sets WatchdogSec=, WATCHDOG=1 at half that period but only while every media worker thread
ticks: a stuck worker or core loop makes systemd restart the service.

[FILES]
.TP
.I /etc/tutti/tutti.conf
The service's configuration.
.TP
.I /usr/share/tutti/web
The browser client (http.web_root when unset).
.TP
.I /usr/share/tutti/prompts
The SIP prompts (sip.prompts_dir) and the recording notice (recording.prompts_dir).
.TP
.I /var/lib/tutti/recordings
Recordings (recording.dir).

[CONFIGURATION]
An INI file given with \fB\-\-config\fR; without one the defaults below run. Unknown
sections and keys are errors. Sections named NAME.* (e.g. [room.standup], [irc.libera])
may appear many times. Each key with its default:
EOF2
	"$bin" --print-default-config | awk '
	function roff(s) {
		gsub(/\\/, "\\e", s)
		gsub(/-/, "\\-", s)
		if (s ~ /^[.\047]/)
			s = "\\&" s
		return s
	}
	/^\[/ { sect_seen = 1; printf ".SS %s\n", roff($0); help = ""; next }
	!sect_seen { next }   # the header of the sample
	/^# / { help = help (help == "" ? "" : " ") substr($0, 3); next }
	/^#[a-z_0-9]+ =/ {
		printf ".TP\n.B %s\n%s\n", roff(substr($0, 2)), roff(help)
		help = ""
	}
	'
} > "$inc"
LC_ALL=C help2man --no-info --no-discard-stderr --section=1 \
	--name="multiprotocol audio conferencing bridge" \
	--include="$inc" --output="$out" "$bin"
# GLib writes "[OPTION…]" in --help, and "[OPTION?]" in the C locale help2man runs in
sed -i 's/\[OPTION?\]/[OPTION...]/' "$out"
