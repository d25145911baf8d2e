/* ice.h: the ICE + DTLS-SRTP media transport (WebRTC): a libnice full ICE
 * agent with trickle candidates and RFC 7675 consent freshness, DTLS (OpenSSL) whose peer
 * certificate is checked against the signalled fingerprint, and SRTP keys exported from the
 * handshake (AEAD_AES_128_GCM preferred, AES_CM_128_HMAC_SHA1_80 as fallback). RTP and RTCP
 * share the one component (rtcp-mux is required). Everything after the handshake is the
 * generic transport of transport.h: send, flush, stats and close work as for plain UDP.
 *
 * Objects:
 * - struct tt_dtls_cert: our certificate and key (ECDSA P-256, generated or loaded), with
 *   its SHA-256 fingerprint. Refcounted, immutable after creation: any thread.
 * - struct tt_ice_policy: the settings every ICE transport of a gateway shares (addresses,
 *   loopback, STUN/TURN, port range, certificate). Refcounted, immutable: any thread.
 * - struct tt_ice: the ICE side of one transport, returned by tt_transport_ice_alloc next to
 *   the generic transport, owned by it (freed by tt_transport_free). Worker thread only. */
#ifndef TUTTI_ICE_H
#define TUTTI_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tutti/transport.h"

struct tt_dtls_cert;
struct tt_ice_policy;
struct tt_ice;

/* "sha-256 AB:CD:..." : 8 + 32 * 3 - 1 characters. */
#define TT_DTLS_FP_MAX 104
#define TT_ICE_UFRAG_MAX 64     /* RFC 8839 allows 256; we refuse longer than this */
#define TT_ICE_PWD_MAX 256

/* ---- certificate (any thread) ---- */

/* A fresh ECDSA P-256 self-signed certificate valid for 30 days. -ENOMEM, -EIO. */
int tt_dtls_cert_generate(struct tt_dtls_cert **cp);
/* Load PEM certificate and key files. -ENOENT, -EINVAL (unusable), -ENOMEM. */
int tt_dtls_cert_load(struct tt_dtls_cert **cp, const char *cert_file, const char *key_file);
struct tt_dtls_cert *tt_dtls_cert_ref(struct tt_dtls_cert *c);
struct tt_dtls_cert *tt_dtls_cert_unref(struct tt_dtls_cert *c);   /* returns NULL */
/* "sha-256 AB:CD:...", borrowed for the certificate's life. */
const char *tt_dtls_cert_fingerprint(const struct tt_dtls_cert *c);

/* Check an a=fingerprint value ("sha-256 AB:..", hash name case-insensitive): 0 or -EINVAL.
 * Only sha-256 is accepted (-ENOTSUP for other hashes). */
int tt_dtls_fingerprint_check(const char *fp);

/* ---- policy (any thread) ---- */

struct tt_ice_settings {
	const char *addresses;          /* comma-separated local IPs to gather on; NULL or "":
					   every non-loopback interface */
	bool allow_loopback;            /* also gather on 127.0.0.1 (tests, local use) */
	const char *stun_server;        /* "host" numeric IP or NULL */
	unsigned stun_port;             /* 0: 3478 */
	const char *turn_server;        /* numeric IP or NULL */
	unsigned turn_port;             /* 0: 3478 */
	const char *turn_user, *turn_password;
	const char *turn_secret;        /* set: REST-API credentials (tt_turn_rest_credential)
					   with turn_user as their user part, made anew for
					   each transport and valid turn_ttl s; turn_password
					   is then unused */
	unsigned turn_ttl;
	unsigned port_min, port_max;    /* 0: any port */
	bool consent_freshness;         /* RFC 7675 (default on in configs) */
	struct tt_dtls_cert *cert;      /* a reference is taken */
	bool lite;                      /* ICE-lite on the worker's shared UDP port for legs
					   that give one (tt_ice_cfg.mux) and are controlled;
					   stun/turn settings and port_min/max then do not
					   apply to them (docs/transport.md) */
};

/* Copies everything. -EINVAL (no cert, bad port range), -ENOMEM. */
int tt_ice_policy_alloc(struct tt_ice_policy **pp, const struct tt_ice_settings *s);
struct tt_ice_policy *tt_ice_policy_ref(struct tt_ice_policy *p);
struct tt_ice_policy *tt_ice_policy_unref(struct tt_ice_policy *p);  /* returns NULL */
const struct tt_dtls_cert *tt_ice_policy_cert(const struct tt_ice_policy *p);
bool tt_ice_policy_lite(const struct tt_ice_policy *p);
/* A new policy like `from` (its certificate referenced, everything else copied) but for
 * the TURN REST-API secret (NULL or "": none) and turn_ttl (0: 86400): what a reload
 * gives legs made after it, while those made before keep `from` (they hold a reference).
 * -EINVAL without `from`. */
int tt_ice_policy_with_turn_secret(struct tt_ice_policy **pp, const struct tt_ice_policy *from,
				   const char *turn_secret, unsigned turn_ttl);

/* ---- STUN and TURN servers for peers (pure; any thread) ---- */

/* Check an ICE server URL as a browser's RTCPeerConnection takes it: stun:/stuns:
 * host[:port] (RFC 7064), turn:/turns: host[:port][?transport=udp|tcp] (RFC 7065); host a
 * name, an IPv4 address or a [bracketed] IPv6 address. 0, or -EINVAL with *why (a static
 * string; why may be NULL) saying what is wrong. */
int tt_ice_server_url_check(const char *url, const char **why);
/* Whether url's scheme is turn: or turns: (which need credentials). */
bool tt_ice_server_url_is_turn(const char *url);
/* TURN REST-API credentials for a shared secret (coturn's use-auth-secret and
 * static-auth-secret): *userp = "<expiry>:<user>" ("<expiry>" when user is NULL or ""),
 * *credp = base64(HMAC-SHA1(secret, *userp)). expiry is a Unix time in seconds: the TURN
 * server refuses the credentials after it. On success *userp and *credp are new strings
 * (g_free); -EINVAL (no secret, expiry < 0), -EIO. */
int tt_turn_rest_credential(char **userp, char **credp, const char *secret, const char *user,
			    long long expiry);

/* ---- one transport (worker thread) ---- */

/* A local candidate, trickled: `cand` is an SDP attribute value without "a=", e.g.
 * "candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ host"; NULL when gathering is done.
 * Borrowed for the call. Runs on the worker thread, from the agent's sources. */
typedef void (*tt_ice_cand_h)(void *arg, const char *cand);

enum tt_dtls_setup {
	TT_DTLS_ACTIVE,     /* we are the DTLS client */
	TT_DTLS_PASSIVE,    /* we are the DTLS server */
};

struct tt_ice_cfg {
	struct tt_ice_policy *policy;   /* a reference is taken */
	bool controlling;               /* ICE role: the offerer controls */
	tt_ice_cand_h cand_h;
	void *cand_arg;
	struct tt_udp_mux *mux;         /* the worker's shared port (transport.h), or NULL: with
					   a lite policy and controlling false, the transport is
					   ICE-lite on it (no libnice agent); else full ICE */
};

/* Make an ICE+DTLS transport on cfg->ctx and start gathering (candidates arrive through
 * icfg->cand_h). *tp is the generic transport (owner: the caller); *icep is its ICE side,
 * valid until tt_transport_free(*tp). The SRTP of cfg is set by the handshake, never by
 * the caller. -ENOMEM, -EINVAL, -EIO (libnice refused). */
int tt_transport_ice_alloc(struct tt_transport **tp, struct tt_ice **icep,
			   const struct tt_transport_cfg *cfg, const struct tt_ice_cfg *icfg);

/* Our credentials (borrowed for the transport's life). */
const char *tt_ice_ufrag(const struct tt_ice *ice);
const char *tt_ice_pwd(const struct tt_ice *ice);

/* The peer's credentials, DTLS fingerprint ("sha-256 AB:..") and our DTLS role. Once,
 * at any time after alloc: remote candidates given before are kept, and checks start
 * when both are known. -EINVAL (bad values), -EALREADY, -EIO. */
int tt_ice_set_remote(struct tt_ice *ice, const char *ufrag, const char *pwd, const char *fp,
		      enum tt_dtls_setup setup);
/* Whether tt_ice_set_remote would take these values: ufrag 4..TT_ICE_UFRAG_MAX and pwd
 * 22..TT_ICE_PWD_MAX ice-chars (RFC 8839), fp as tt_dtls_fingerprint_check. 0, -EINVAL,
 * -ENOTSUP (a hash other than sha-256, or a build without libnice). Pure; any thread. */
int tt_ice_credentials_check(const char *ufrag, const char *pwd, const char *fp);
/* One remote candidate ("candidate:..." with or without "a="), or NULL / "" for the end
 * of candidates. Candidates that cannot be used (mDNS ".local" names, TCP, other
 * components) are ignored with 0; garbage gives -EINVAL. */
int tt_ice_add_candidate(struct tt_ice *ice, const char *cand);
/* Check one candidate line ("candidate:..." with or without "a=") against RFC 8839's
 * grammar and libnice's parser, without an ICE transport: 1 usable, 0 well formed but one
 * tt_ice_add_candidate ignores (mDNS, TCP, another component), -EINVAL not a candidate
 * line (-ENOTSUP in a build without libnice). Pure; any thread. */
int tt_ice_candidate_check(const char *cand);

/* Progress, for statistics and tests. */
struct tt_ice_info {
	bool connected;                 /* ICE has a working pair */
	bool dtls_done;                 /* handshake done, fingerprint verified, SRTP on */
	bool dtls_failed;
	const char *srtp_suite;         /* "AEAD_AES_128_GCM", ... or NULL */
	char remote[64];                /* selected remote address, "" before */
	bool lite;                      /* ICE-lite on the shared port (tt_ice_cfg.mux) */
};
void tt_ice_info(const struct tt_ice *ice, struct tt_ice_info *info);

#endif
