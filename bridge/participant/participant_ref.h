/* participant_ref.h: a participant as an opaque, refcounted handle, for code that holds
 * participants but must not look inside them (the media workers). Any thread. */
#ifndef TT_PARTICIPANT_REF_H
#define TT_PARTICIPANT_REF_H

#include <stdbool.h>

struct tt_participant;

/* A new reference to p (p must hold one already); returns p. */
struct tt_participant *tt__participant_ref(struct tt_participant *p);
/* Drops one reference, frees at zero (on whichever thread drops the last). NULL is allowed.
 * Always returns NULL. */
struct tt_participant *tt__participant_unref(struct tt_participant *p);
/* True once p has left (participant_leave): it stays valid memory for every holder, but
 * nothing should be done for it any more. */
bool tt__participant_left(const struct tt_participant *p);
/* Its id ("p7"), for logs; borrowed for p's life. */
const char *tt__participant_id(const struct tt_participant *p);

#endif
