/* text.h: text between the room and IRC: UTF-8-safe splitting, formatting codes, CTCP,
 * the relay format.
 *
 * Thread: any (pure functions). Returned strings are new; the caller g_free()s them. */
#ifndef TT_IRC_TEXT_H
#define TT_IRC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Called once per piece, in order; `piece` is not NUL-terminated. */
typedef void (*tt__irc_piece_h)(const char *piece, size_t len, void *arg);

/* Splits room text for IRC: each line (\n, \r\n or \r end a line; empty lines are skipped)
 * is cut into pieces of at most `max` bytes, only between UTF-8 characters, preferring a
 * cut after a space in the last quarter of the piece (the space stays at the piece's end,
 * so the pieces of a line concatenate back to the line). Other C0 control characters are
 * not removed here: see tt__irc_sanitize_out(). Returns the number of pieces, or -EINVAL
 * when max < 4 (no character fits). */
int tt__irc_split(const char *text, size_t len, size_t max, tt__irc_piece_h fn, void *arg);

/* IRC -> room: removes mIRC formatting (bold ^B, colour ^C[fg[,bg]], hex colour ^D,
 * italic ^], underline ^_, strike ^^, monospace ^Q, reverse ^V, reset ^O) and every other
 * C0 control except tab, and repairs invalid UTF-8 (each bad byte becomes U+FFFD). */
char *tt__irc_strip(const char *s, size_t len);

/* room -> IRC: removes C0 controls except tab and newlines so that room text can never
 * inject CTCP or formatting (newlines are handled by tt__irc_split). */
char *tt__irc_sanitize_out(const char *s, size_t len);

/* CTCP: when `text` is "\001VERB[ args][\001]", returns true and sets *verb (new, upper
 * case) and *args (new, "" when none). */
bool tt__irc_ctcp_parse(const char *text, char **verb, char **args);

/* Expands {name}, {network}, {room} and {text} in `fmt`; "{{" is a literal '{'. Unknown
 * placeholders are copied as they are. */
char *tt__irc_format(const char *fmt, const char *name, const char *network,
		     const char *room, const char *text);

#endif
