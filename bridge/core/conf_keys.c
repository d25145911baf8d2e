/* conf_keys.c: the core's configuration table. Gateways bring their own rows. */
#include "core/core_priv.h"
#include <stddef.h>

#define R TT_CONF_RELOADABLE
const struct tt_conf_key tt__core_conf_keys[] = {
	{ "bridge", "workers", TT_CONF_INT, "0", 0, 256, NULL, 0,
	  "Media worker threads; 0 = one per CPU core." },
	{ "bridge", "log_level", TT_CONF_STRING, "info", 0, 512, NULL, R,
	  "Log levels: a default and per-subsystem overrides, e.g. 'info,sip=debug,mixer=warn'." },
	{ "bridge", "max_text_bytes", TT_CONF_INT, "4096", 16, 65536, NULL, R,
	  "Longest chat message accepted on the text bus, in bytes of UTF-8." },
	{ "bridge", "shutdown_grace_ms", TT_CONF_INT, "1500", 0, 10000, NULL, R,
	  "On SIGTERM, how long gateways get to hang up politely before the process exits; "
	  "the process ends 0.5 s after that even when the core is stuck." },

	{ "http", "enabled", TT_CONF_BOOL, "true", 0, 0, NULL, 0,
	  "Serve the web client and the JSON API." },
	{ "http", "listen", TT_CONF_STRING, "127.0.0.1", 0, 255, NULL, 0,
	  "Address to listen on ('0.0.0.0' or '::' for all interfaces)." },
	{ "http", "port", TT_CONF_INT, "8080", 1, 65535, NULL, 0,
	  "TCP port for HTTP (HTTPS when tls_cert is set)." },
	{ "http", "web_root", TT_CONF_STRING, NULL, 0, 4096, NULL, 0,
	  "Directory with the browser client, served at /; unset: the one built with tutti." },
	{ "http", "tls_cert", TT_CONF_STRING, NULL, 0, 4096, NULL, R,
	  "PEM certificate (chain) file; when set the server speaks HTTPS/WSS only. Read again "
	  "on SIGHUP (connections up keep the old one); HTTP <-> HTTPS needs a restart." },
	{ "http", "tls_key", TT_CONF_STRING, NULL, 0, 4096, NULL, R,
	  "PEM private key for tls_cert, without a passphrase." },
	{ "http", "admin_token", TT_CONF_STRING, NULL, 0, 256, NULL, TT_CONF_SECRET | R,
	  "Bearer token for the admin API; unset: admin calls only from loopback, and never "
	  "through a reverse proxy (a request with Forwarded or X-Forwarded-For)." },
	{ "http", "metrics_token", TT_CONF_BOOL, "false", 0, 0, NULL, R,
	  "GET /metrics needs what admin calls need (admin_token, or loopback when it is "
	  "unset). false: /metrics is open to anyone who can reach the HTTP port (listen is "
	  "loopback by default); it shows counts and gateway names, never rooms or people." },

	{ "events", "history", TT_CONF_INT, "10000", 1, 1000000, NULL, 0,
	  "Events kept for clients of GET /api/events that reconnect with ?since=N; an "
	  "older N gets a \"gap\" message." },
	{ "events", "webhook_url", TT_CONF_STRING, NULL, 0, 2048, NULL, R,
	  "POST every event, in batches, to this http:// URL (no https); unset: no webhook." },
	{ "events", "webhook_secret", TT_CONF_STRING, NULL, 0, 256, NULL, TT_CONF_SECRET | R,
	  "Key of the X-Tutti-Signature header: sha256=HEX(HMAC-SHA256(secret, body)); unset: "
	  "requests are not signed." },
	{ "events", "webhook_queue", TT_CONF_INT, "10000", 1, 1000000, NULL, R,
	  "Events waiting for the webhook at most; when full the oldest are dropped (counted "
	  "in the log and in the next request's \"dropped\")." },
	{ "events", "webhook_batch", TT_CONF_INT, "100", 1, 10000, NULL, R,
	  "Events per webhook request at most." },
	{ "events", "webhook_timeout_ms", TT_CONF_INT, "10000", 100, 120000, NULL, R,
	  "A webhook request without an answer within this time failed." },
	{ "events", "webhook_retry_ms", TT_CONF_INT, "500", 10, 60000, NULL, R,
	  "The first pause before a failed webhook request is sent again; it doubles after "
	  "each failure, up to 60 s." },

	{ "recording", "enabled", TT_CONF_BOOL, "false", 0, 0, NULL, R,
	  "Allow recordings (moderators and the admin API start them; everyone is told)." },
	{ "recording", "dir", TT_CONF_STRING, "/var/lib/tutti/recordings", 1, 4096, NULL, R,
	  "Where recordings go (made if missing). Never served over HTTP." },
	{ "recording", "name", TT_CONF_STRING, "{room}-{id}", 1, 200, NULL, R,
	  "File name without extension: {room}, {id} (date-time and 4 hex digits) and {date} "
	  "(UTC, YYYYmmdd-HHMMSS); other characters than A-Z a-z 0-9 . - _ become _. The mix is "
	  "NAME.opus, tracks NAME-PARTICIPANT.opus, the manifest NAME.json." },
	{ "recording", "tracks", TT_CONF_BOOL, "false", 0, 0, NULL, R,
	  "Also one Ogg Opus track per participant, aligned to the recording's start." },
	{ "recording", "retention_days", TT_CONF_INT, "0", 0, 36500, NULL, R,
	  "Remove .opus and .json files older than this from dir, at start and daily, whoever "
	  "made them: dir must be the recordings' own; 0 = keep." },
	{ "recording", "queue", TT_CONF_INT, "500", 10, 30000, NULL, R,
	  "Ticks (20 ms each) that may wait for the disk; when more would, the recording stops "
	  "(the disk is too slow) and the room goes on." },
	{ "recording", "prompts_dir", TT_CONF_STRING, "", 0, 4096, NULL, 0,
	  "Directory with recording.wav, the notice played into the room when a recording starts "
	  "(mono 16-bit PCM); empty: the one shipped with tutti." },

	{ "rooms", "on_demand", TT_CONF_BOOL, "true", 0, 0, NULL, R,
	  "Create a room when someone joins a name that is not configured." },
	{ "rooms", "rate", TT_CONF_ENUM, "48000", 0, 0, "8000|16000|24000|48000", R,
	  "Default mixing sample rate in Hz." },
	{ "rooms", "speakers", TT_CONF_INT, "3", 1, 16, NULL, R,
	  "Default number of loudest voices mixed at once." },
	{ "rooms", "max_participants", TT_CONF_INT, "1000", 1, 100000, NULL, R,
	  "Default limit of participants per room." },
	{ "rooms", "self_unmute", TT_CONF_BOOL, "true", 0, 0, NULL, R,
	  "A participant muted by a moderator may unmute themselves." },
	{ "rooms", "unmute", TT_CONF_ENUM, "direct", 0, 0, "direct|ask", R,
	  "What a moderator's unmute does: direct unmutes; ask only asks the participant to "
	  "unmute (and lets them)." },
	{ "rooms", "recording_decline", TT_CONF_BOOL, "false", 0, 0, NULL, R,
	  "Participants may decline a recording (SIP key, web button): they are muted while "
	  "it runs and left out of per-participant tracks." },

	{ "media", "address", TT_CONF_STRING, "127.0.0.1", 0, 63, NULL, 0,
	  "Local address RTP sockets bind to ('0.0.0.0' or '::' for all)." },
	{ "media", "port_min", TT_CONF_INT, "20000", 1024, 65535, NULL, 0,
	  "Lowest UDP port for media." },
	{ "media", "port_max", TT_CONF_INT, "29999", 1024, 65535, NULL, 0,
	  "Highest UDP port for media." },
	{ "media", "shared_port", TT_CONF_BOOL, "true", 0, 0, NULL, 0,
	  "Plain RTP participants with a fixed remote address (the HTTP API without latch) "
	  "share one UDP port per media worker, told apart by source address: one system call "
	  "per tick instead of one per participant, and one port per worker to open in a "
	  "firewall. false: a port each. Latching ones (SIP) always get a port each." },
	{ "media", "inactivity_s", TT_CONF_INT, "30", 0, 3600, NULL, R,
	  "End a participant whose media stopped for this long; 0: never." },
	{ "media", "hold_inactivity_s", TT_CONF_INT, "3600", 0, 86400, NULL, R,
	  "The same for a participant on hold, which may rightly send no RTP (SIP session "
	  "timers still end dead calls); 0: never." },
	{ "media", "rtcp_interval_ms", TT_CONF_INT, "5000", 0, 60000, NULL, R,
	  "How often we send RTCP reports; 0: never." },
	{ "media", "opus_bitrate", TT_CONF_INT, "32000", 6000, 510000, NULL, R,
	  "Opus bit rate we encode with, bit/s." },
	{ "media", "opus_complexity", TT_CONF_INT, "5", 0, 10, NULL, R,
	  "Opus encoder complexity (CPU against quality)." },
	{ "media", "opus_mode", TT_CONF_ENUM, "auto", 0, 0, "auto|voice|celt", R,
	  "What the Opus encoder codes mixes with. voice: SILK/hybrid, modelled on one voice "
	  "(what Janus and browsers use for speech); celt: CELT-only, good fullband speech "
	  "from 40 kbit/s, a quarter of hybrid's CPU and no in-band FEC; auto: celt from 40 "
	  "kbit/s unless the listener asked for FEC, else voice." },
	{ "media", "opus_vad", TT_CONF_BOOL, "true", 0, 0, NULL, R,
	  "An Opus input without RFC 6464 audio levels (most phones) is taken as quiet, "
	  "without decoding it, while its SILK/hybrid frames' voice-activity flags are clear; "
	  "false decodes every such input to measure its level (CPU for every quiet caller)." },
	{ "media", "mixer_cpu", TT_CONF_ENUM, "auto", 0, 0, "auto|scalar|sse2|avx2|avx512", R,
	  "SIMD level of the mixer; a level the CPU lacks is lowered (also $TT_MIXER_CPU)." },

	{ "cluster", "redis", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	  "Redis of the room directory shared by several tutti nodes: HOST:PORT, [V6]:PORT or a "
	  "unix socket's /path; empty: a single node (no directory)." },
	{ "cluster", "node", TT_CONF_STRING, "", 0, 64, NULL, 0,
	  "This node's id in the directory (A-Z a-z 0-9 . _ -); empty: the host name." },
	{ "cluster", "public_url", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	  "This node's https:// base URL; other nodes send browsers to it + /ROOM." },
	{ "cluster", "sip_uri", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	  "This node's SIP address for the Kamailio front door (docs/kamailio/tutti.cfg), "
	  "exactly as its dispatcher list names it (sip:HOST:PORT); empty: the front door "
	  "sends this node's rooms by hash only." },
	{ "cluster", "ttl_s", TT_CONF_INT, "15", 3, 3600, NULL, 0,
	  "Expiry of this node's directory entries in seconds, refreshed every ttl_s/3: how "
	  "long a dead node's rooms stay homed on it." },
	{ "cluster", "key_prefix", TT_CONF_STRING, "tutti:", 0, 64, NULL, 0,
	  "Prefix of every Redis key (several clusters can share one Redis)." },
	{ "cluster", "redis_user", TT_CONF_STRING, "", 0, 128, NULL, 0,
	  "Redis 6+ ACL user the node logs in as (AUTH USER PASSWORD); empty: the default "
	  "user, or no AUTH when redis_password is empty too." },
	{ "cluster", "redis_password", TT_CONF_STRING, "", 0, 512, NULL, TT_CONF_SECRET,
	  "Password sent with AUTH right after each connect (requirepass, or redis_user's ACL "
	  "password); empty: no AUTH." },
	{ "cluster", "api_url", TT_CONF_STRING, "", 0, 1024, NULL, 0,
	  "This node's http:// base URL for other nodes' trunk requests (cascaded rooms), "
	  "published in the directory; empty: no cascade (a room on two nodes is split). "
	  "Nodes call each other's admin API with this node's [http] admin_token." },
	{ "cluster", "trunk_bitrate", TT_CONF_INT, "64000", 16000, 510000, NULL, 0,
	  "Opus bit/s of a trunk between nodes (each way, per room and node pair)." },

	{ "room.*", "rate", TT_CONF_ENUM, NULL, 0, 0, "8000|16000|24000|48000", R,
	  "Mixing sample rate in Hz (default: [rooms] rate)." },
	{ "room.*", "speakers", TT_CONF_INT, NULL, 1, 16, NULL, R,
	  "Loudest voices mixed at once (default: [rooms] speakers)." },
	{ "room.*", "max_participants", TT_CONF_INT, NULL, 1, 100000, NULL, R,
	  "Participant limit (default: [rooms] max_participants)." },
	{ "room.*", "pin", TT_CONF_STRING, NULL, 0, 32, NULL, TT_CONF_SECRET | R,
	  "PIN (digits) needed to join; unset: none." },
	{ "room.*", "moderator_pin", TT_CONF_STRING, NULL, 0, 32, NULL, TT_CONF_SECRET | R,
	  "PIN (digits) that joins as moderator." },
	{ "room.*", "locked", TT_CONF_BOOL, "false", 0, 0, NULL, R,
	  "A locked room admits nobody new (but moderator PIN holders); moderators lock and "
	  "unlock it too, which wins over this until the room ends." },
	{ "room.*", "self_unmute", TT_CONF_BOOL, NULL, 0, 0, NULL, R,
	  "As [rooms] self_unmute, for this room." },
	{ "room.*", "unmute", TT_CONF_ENUM, NULL, 0, 0, "direct|ask", R,
	  "As [rooms] unmute, for this room." },
	{ "room.*", "recording_decline", TT_CONF_BOOL, NULL, 0, 0, NULL, R,
	  "As [rooms] recording_decline, for this room." },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};
