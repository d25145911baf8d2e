/* textbus.h: text posted in a room reaches every other network in it, once. Core thread. */
#ifndef TT_TEXTBUS_H
#define TT_TEXTBUS_H

#include "core/core_types.h"

struct tt_room;

/* 0, or -EILSEQ, -EMSGSIZE, -EINVAL, -EPERM, -ENOENT (see core.h text_post). */
int tt__text_validate(const struct tt_core *core, const char *text, size_t len);
int tt__text_post(struct tt_participant *p, const char *text, size_t len, unsigned flags);
int tt__text_notice(struct tt_gw_handle *gw, const char *room, const char *text);

#endif
