/* line.h: the strict IRC line parser (IRCv3 tags, prefix, command, params).
 *
 * Thread: any (pure functions). Ownership: a parsed tt__irc_msg owns one copy of the line;
 * every string in it points into that copy and lives until tt__irc_msg_free(). */
#ifndef TT_IRC_LINE_H
#define TT_IRC_LINE_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 1459/2812: 512 bytes including CR LF, not counting the IRCv3 tag section. */
#define TT_IRC_LINE_MAX 512
/* IRCv3 message-tags: the tag section, '@' and the trailing space included. */
#define TT_IRC_TAGS_MAX 8191
#define TT_IRC_MAX_PARAMS 15
#define TT_IRC_MAX_TAGS 64

struct tt__irc_tag {
	const char *key;    /* "time", "+draft/reply", "vendor.example/x" */
	const char *value;  /* unescaped; "" when the tag had no value */
};

struct tt__irc_msg {
	size_t ntags;
	struct tt__irc_tag tags[TT_IRC_MAX_TAGS];
	const char *prefix;     /* NULL when the line had none */
	const char *nick;       /* prefix up to '!' or '@' (a server name when no '!'/'@') */
	const char *user;       /* NULL when absent */
	const char *host;       /* NULL when absent */
	const char *command;    /* upper-cased letters, or three digits */
	size_t nparams;
	const char *params[TT_IRC_MAX_PARAMS];
	char *buf;              /* private: the copy the strings point into */
};

/* Parses one line, without its CR LF (a trailing CR or CR LF is tolerated and ignored).
 * On success *mp is a new message the caller frees with tt__irc_msg_free(); on failure
 * *mp is untouched and the result is -EINVAL (malformed: NUL, CR or LF inside, bad tag,
 * bad command, too many params) or -EMSGSIZE (over the length limits). */
int tt__irc_msg_parse(struct tt__irc_msg **mp, const char *line, size_t len);
void tt__irc_msg_free(struct tt__irc_msg *m);

/* The value of tag `key`, or NULL. */
const char *tt__irc_msg_tag(const struct tt__irc_msg *m, const char *key);
/* params[i], or NULL when there are fewer params. */
const char *tt__irc_msg_param(const struct tt__irc_msg *m, size_t i);

/* True when `s` may be sent as a middle parameter (no space, not starting with ':', not
 * empty, no NUL/CR/LF). Used to validate channel names and nicks taken from config. */
bool tt__irc_middle_ok(const char *s);

#endif
