/* speech.h: dynamic prompts (the doors on *0, the list on *1) said by concatenating
 * committed word WAVs (gateways/sip/prompts/words, made by scripts/make-sip-prompts.sh).
 *
 * Why words and not libespeak-ng at run time: what we must say that is not fixed is room
 * names, host names, numbers and URIs, which a phone user has to write down anyway, so
 * they are spelled out character by character; a few dozen clips cover every one of them,
 * cost nothing at run time (no synthesis thread, no extra build dependency) and sound the
 * same on every install. A name is spelled, never pronounced.
 *
 * Pure (no NUA, no core): these functions only append clip names (static strings) to a
 * GPtrArray the caller owns. */
#ifndef TT_SIP_SPEECH_H
#define TT_SIP_SPEECH_H

#include <glib.h>

/* The clip that says character ch ("a", "7", "dot", "at" ...), or NULL: not said
 * (letters are case-folded; other bytes, UTF-8 included, are skipped). */
const char *tt_sip_speech_char(char ch);

/* Appends the clips that spell `text` (at most max characters said; 0: no limit). */
void tt_sip_speech_spell(GPtrArray *out, const char *text, unsigned max);

/* Appends the clips of a number, digit by digit ("12": "1", "2"). */
void tt_sip_speech_number(GPtrArray *out, unsigned n);

/* Appends a URI to say: its scheme's name as a word where one exists (sip, xmpp, irc,
 * ircs, http, https), then the rest spelled up to a '?' (the query is for programs);
 * "//" after the scheme is left out (nobody dictates it). */
void tt_sip_speech_uri(GPtrArray *out, const char *uri);

#endif
