/* nick.h: IRC nicks: made from display names, compared with the server's case mapping,
 * and made unique.
 *
 * Thread: any (pure functions). Returned strings are new; the caller g_free()s them. */
#ifndef TT_IRC_NICK_H
#define TT_IRC_NICK_H

#include <stdbool.h>
#include <stddef.h>

/* A valid RFC 2812 nick of at most `maxlen` bytes (>= 2) made from a display name:
 * transliterated to ASCII, characters a nick cannot hold dropped, a leading digit or '-'
 * prefixed with '_', `suffix` (may be NULL) appended within maxlen, "guest" when nothing
 * is left. */
char *tt__irc_nick_from_name(const char *name, const char *suffix, size_t maxlen);

/* True when s is a valid nick of at most maxlen bytes. */
bool tt__irc_nick_valid(const char *s, size_t maxlen);

/* rfc1459 case-insensitive equality ({}|^ are the lower case of []\~), which is also
 * correct for servers that announce "ascii" except for those four characters. */
bool tt__irc_nick_eq(const char *a, const char *b);
/* A new key for hash tables under the same mapping. */
char *tt__irc_nick_fold(const char *s);

/* Is `nick` taken? */
typedef bool (*tt__irc_nick_taken_h)(const char *nick, void *arg);

/* The first of base, base1, base2 ... (the base shortened to fit maxlen) that `taken` says
 * is free; NULL after 9999 tries. `attempt` > 0 starts later in that sequence (after a
 * server said 433 for the earlier ones). */
char *tt__irc_nick_unique(const char *base, size_t maxlen, unsigned attempt,
			  tt__irc_nick_taken_h taken, void *arg);

#endif
