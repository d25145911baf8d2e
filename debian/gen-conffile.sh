#!/bin/sh
# gen-conffile.sh TUTTI: /etc/tutti/tutti.conf on stdout: the binary's own sample
# (--print-default-config: every key, commented, with its default and help) with the few
# lines a typical server install changes switched on.
set -eu
bin=$1
cat <<'HEAD'
# /etc/tutti/tutti.conf: the tutti service's configuration (a conffile: upgrades keep
# your changes). Check it with `tutti --check-config /etc/tutti/tutti.conf`; apply it with
# `systemctl reload tutti` (keys not marked "reloadable" need `systemctl restart tutti`).
# Switched on below for a server: HTTP, SIP and media on every interface, recordings
# under /var/lib/tutti. Browsers need HTTPS for the microphone: set [http] tls_cert and
# tls_key (readable by the _tutti user). With HTTP on every interface, /metrics asks
# what admin calls ask (metrics_token = true): a Prometheus on this host scrapes it as is;
# one elsewhere needs [http] admin_token as its bearer token. Recording stays off until
# [recording] enabled = true. See docs/deploy.md and tutti(1).
#
HEAD
"$bin" --print-default-config | awk '
	# on SECTION KEY VALUE: the commented default line of KEY in [SECTION] becomes active
	BEGIN {
		on["http", "listen"] = "0.0.0.0"
		on["media", "address"] = "0.0.0.0"
		on["sip", "listen"] = "0.0.0.0"
		on["recording", "dir"] = "/var/lib/tutti/recordings"
		on["http", "metrics_token"] = "true"
	}
	/^\[/ { section = substr($0, 2, length($0) - 2) }
	/^#[a-z_0-9]+ = / || /^#[a-z_0-9]+ =$/ {
		key = substr($1, 2)
		if ((section, key) in on) {
			print key " = " on[section, key]
			done[section, key] = 1
			next
		}
	}
	{ print }
	END {
		for (k in on) if (!(k in done)) {
			split(k, p, SUBSEP)
			printf "gen-conffile.sh: no key %s.%s in this build\n", p[1], p[2] > "/dev/stderr"
			bad = 1
		}
		exit bad
	}'
