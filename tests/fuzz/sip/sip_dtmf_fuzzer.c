/* sip_dtmf_fuzzer.c: the keys a caller presses, as they reach the SIP gateway: SIP INFO
 * bodies (application/dtmf-relay "Signal=5", application/dtmf "5") and RFC 4733
 * telephone-event packets (transport/rtp.c's receiver state across packets), into the PIN
 * lobby and the key table (gateways/sip/dtmf.c and keys.c), with the PIN timers firing
 * between keys. Over a fake core; the call's SIP side (BYE, prompts) and the commands'
 * effects (meeting.c) are stubbed: "*6" and "*2" toggle the state as meeting.c does.
 *
 * Input: byte 0 picks the setup (bit 0: a PIN room, so the caller starts in the lobby;
 * bit 1: prompts are loaded, so a wrong PIN hangs up after the goodbye prompt; bit 2: the
 * room is gone, so every PIN is wrong). Then records of one type byte and, for I and R, a
 * length byte and that many bytes:
 *   I CT LEN BODY   an INFO body; CT picks the Content-Type (below)
 *   R LEN PACKET    an RTP packet (telephone-event when its PT is 101)
 *   D KEY           a key straight from the media layer (tt__sip_on_dtmf)
 *   T               the PIN timer fires now
 * Checks: the PIN buffer holds at most 16 digits, and only digits; the lobby is left only
 * with the right PIN ("4321"); after a hang-up no key has an effect; wrong PINs are counted
 * to [sip] pin_attempts at most. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tutti/errno.h>
#include <tutti/log.h>
#include <tutti/rtp.h>

#include "sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tt_core { int unused; };
struct tt_gw_handle { int unused; };
struct tt_participant {
	unsigned state;
	bool alive;
	void *gw_data;
};

static struct tt_core the_core;
static struct tt_gw_handle the_h;
static struct tt_participant part;
static bool room_gone, admitted, prompts;
static int hangups;

/* ---- the call's SIP side ---- */

void tt__sip_call_hang_up(struct sipgw *gw, struct sip_call *c, const char *why)
{
	hangups++;
	c->state = CALL_ENDED;
	if (c->p) {
		part.alive = false;
		c->p = NULL;
	}
}

unsigned tt__sip_prompt_play(struct sipgw *gw, struct sip_call *c, enum sip_prompt_id id)
{
	if (!c->p)
		__builtin_trap();   /* a prompt to a call that left */
	return prompts ? 1500 : 0;
}

static int p_set_state(struct tt_participant *p, unsigned bits, bool on);

void tt__sip_admitted(struct sipgw *gw, struct sip_call *c, bool welcome)
{
	if (welcome)
		tt__sip_prompt_play(gw, c, SIP_PROMPT_WELCOME);
}

void tt__sip_key_command(struct sipgw *gw, struct sip_call *c, enum sip_key_cmd cmd,
			 unsigned n)
{
	(void)gw;
	if (!c->p || c->lobby)
		__builtin_trap();   /* a command from a call that left, or from the lobby */
	if (cmd == SIP_KEY_MUTE_ONE && n > 999)
		__builtin_trap();   /* more digits than keys.h allows */
	if (cmd == SIP_KEY_MUTE_SELF || cmd == SIP_KEY_HAND) {
		unsigned bit = cmd == SIP_KEY_HAND ? TT_PS_HAND : TT_PS_MUTED;
		p_set_state(c->p, bit, !(c->p->state & bit));
	}
}

/* ---- the fake core ---- */

static int lobby_admit(struct tt_participant *p, const char *pin)
{
	if (!p->alive)
		__builtin_trap();
	if (room_gone)
		return -ENOENT;
	if (strcmp(pin, "4321"))
		return -EACCES;
	admitted = true;
	return 0;
}
static unsigned p_state(const struct tt_participant *p) { return p->state; }
static int p_set_state(struct tt_participant *p, unsigned bits, bool on)
{
	if (!p->alive)
		__builtin_trap();
	p->state = on ? p->state | bits : p->state & ~bits;
	return 0;
}
static bool p_alive(const struct tt_participant *p) { return p->alive; }
static void *p_gw_data(const struct tt_participant *p) { return p->gw_data; }
static const char *p_id(const struct tt_participant *p) { return "p1"; }
static int room_count(struct tt_core *c, const char *room) { return 3; }
static struct tt_core *core_of(struct tt_gw_handle *h) { return &the_core; }

static const struct tt_core_api api = {
	.api_version = TT_CORE_API_VERSION,
	.lobby_admit = lobby_admit,
	.participant_state = p_state,
	.participant_set_state = p_set_state,
	.participant_alive = p_alive,
	.participant_gw_data = p_gw_data,
	.participant_id = p_id,
	.room_count = room_count,
	.core_of = core_of,
};

static void fire_timer(struct sip_call *c)
{
	GSource *src = c->pin_timer ? g_main_context_find_source_by_id(NULL, c->pin_timer) : NULL;
	if (!src)
		return;
	g_source_set_ready_time(src, 0);
	g_main_context_iteration(NULL, FALSE);
}

static void check(const struct sipgw *gw, const struct sip_call *c)
{
	size_t n = strnlen(c->pin, sizeof c->pin);
	if (n >= sizeof c->pin || strspn(c->pin, "0123456789") != n)
		__builtin_trap();
	if (c->pin_tries > gw->pin_attempts)
		__builtin_trap();
}

static char digit_of(const char *ct, const char *body)
{
	char copy[64];
	g_strlcpy(copy, body, sizeof copy);
	sip_payload_t pl = { .pl_data = copy, .pl_len = strlen(copy) };
	sip_content_type_t ctype = { .c_type = ct };
	sip_t sip = { .sip_payload = &pl, .sip_content_type = &ctype };
	return tt__sip_info_digit(&sip);
}

/* Bodies real phones send, once per run (the replay in ctest included): '#' as
 * "Signal=11" must not be read as '1'. */
static void known_answers(void)
{
	static const struct { const char *ct, *body; char want; } k[] = {
		{ "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5' },
		{ "application/dtmf-relay", "Signal= #\r\nDuration=160\r\n", '#' },
		{ "application/dtmf-relay", "Signal=11\r\nDuration=160\r\n", '#' },
		{ "application/dtmf-relay", "Signal=10\r\nDuration=160\r\n", '*' },
		{ "application/dtmf-relay", "signal=d\r\n", 'D' },
		{ "application/dtmf-relay", "Signal=16\r\n", 0 },
		{ "application/dtmf-relay", "Signal=111\r\n", 0 },
		{ "application/dtmf", "7", '7' },
		{ "application/dtmf", "x", 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(k); i++)
		if (digit_of(k[i].ct, k[i].body) != k[i].want)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"application/dtmf-relay", "application/dtmf", "APPLICATION/DTMF", "text/plain", "",
	};
	static bool quiet;
	if (!quiet) {
		tt_log_set_levels("error", NULL);
		known_answers();
		quiet = true;
	}
	if (size < 1 || size > 4096)
		return 0;
	struct sipgw gw = { .h = &the_h, .core = &api, .pin_attempts = 3, .pin_timeout = 30 };
	gw.calls = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct sip_call c = { .gw = &gw, .p = &part, .state = CALL_UP, .lobby = data[0] & 1 };
	memset(&part, 0, sizeof part);
	part.alive = true;
	part.gw_data = &c;
	prompts = data[0] & 2;
	room_gone = data[0] & 4;
	admitted = false;
	hangups = 0;
	g_hash_table_add(gw.calls, &c);
	if (c.lobby)
		tt__sip_pin_start(&gw, &c);
	struct tt_dtmf_rx rx = { 0 };
	for (size_t i = 1; i < size;) {
		uint8_t type = data[i++];
		bool was_lobby = c.lobby, was_up = c.p != NULL;
		unsigned state_before = part.state;
		if (type == 'I' && i + 2 <= size) {
			const char *ct = types[data[i] % G_N_ELEMENTS(types)];
			size_t len = data[i + 1];
			i += 2;
			if (len > size - i)
				len = size - i;
			/* sofia's payload is not NUL-terminated: an exact copy lets ASan see over-reads */
			char *body = malloc(len ? len : 1);
			memcpy(body, data + i, len);
			i += len;
			sip_payload_t pl = { .pl_data = body, .pl_len = len };
			sip_content_type_t ctype = { .c_type = ct };
			sip_t sip = { .sip_payload = &pl, .sip_content_type = *ct ? &ctype : NULL };
			char d = tt__sip_info_digit(&sip);
			if (d && !strchr("0123456789*#ABCD", d))
				__builtin_trap();   /* only keys reach the lobby */
			if (d && c.p)
				tt__sip_dtmf(&gw, &c, d);
			free(body);
		} else if (type == 'R' && i + 1 <= size) {
			size_t len = data[i++];
			if (len > size - i)
				len = size - i;
			uint8_t *pkt = malloc(len ? len : 1);
			memcpy(pkt, data + i, len);
			i += len;
			struct tt_rtp_hdr h;
			char d;
			if (tt_rtp_parse(&h, pkt, len) == 0 && h.pt == 101 &&
			    tt_dtmf_rx_input(&rx, &h, &d) == 1) {
				if (!strchr("0123456789*#ABCD", d))
					__builtin_trap();
				tt__sip_on_dtmf(&gw, &part, d);
			}
			free(pkt);
		} else if (type == 'D' && i + 1 <= size) {
			tt__sip_on_dtmf(&gw, &part, (char)data[i++]);
		} else if (type == 'T') {
			fire_timer(&c);
		}
		check(&gw, &c);
		if (was_lobby && !c.lobby && !admitted)
			__builtin_trap();   /* out of the lobby without the PIN */
		if (!was_up && (c.p || part.state != state_before))
			__builtin_trap();   /* a key after the hang-up changed something */
		if (c.lobby && part.state != state_before)
			__builtin_trap();   /* commands in the lobby */
	}
	if (c.pin_timer)
		g_source_remove(c.pin_timer);
	g_hash_table_destroy(gw.calls);
	return 0;
}
