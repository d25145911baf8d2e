/* record_none.c: the recording interface (record.h) in a build that cannot record yet. */
#include "record/record.h"

#include <errno.h>
#include <stddef.h>

int tt__record_start(struct tt_room *room, const struct tt_record_opts *opts)
{
	(void)room;
	(void)opts;
	return -ENOTSUP;
}

int tt__record_stop(struct tt_room *room, const char *why)
{
	(void)room;
	(void)why;
	return -EALREADY;
}

const char *tt__record_id(const struct tt_recording *rec)
{
	(void)rec;
	return NULL;
}

int64_t tt__record_since(const struct tt_recording *rec)
{
	(void)rec;
	return 0;
}

json_t *tt__record_json(const struct tt_recording *rec)
{
	(void)rec;
	return json_object();
}
