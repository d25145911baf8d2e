/* stats_json.c: a statistics struct to JSON, driven by its field table: the one place the
 * API turns counters into JSON. */
#include "stats.h"

#include <string.h>

static json_t *value(const struct tt_stat_field *f, const void *s)
{
	const char *at = (const char *)s + f->offset;
	switch (f->type) {
	case TT_STAT_U64: {
		uint64_t v;
		memcpy(&v, at, sizeof v);
		/* JSON integers are signed 64-bit in jansson; a counter never gets there */
		return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
	}
	case TT_STAT_I64: {
		int64_t v;
		memcpy(&v, at, sizeof v);
		return json_integer(v);
	}
	case TT_STAT_U32: {
		uint32_t v;
		memcpy(&v, at, sizeof v);
		return json_integer(v);
	}
	case TT_STAT_I32: {
		int32_t v;
		memcpy(&v, at, sizeof v);
		return json_integer(v);
	}
	case TT_STAT_DOUBLE: {
		double v;
		memcpy(&v, at, sizeof v);
		return json_real(v);
	}
	case TT_STAT_BOOL: {
		bool v;
		memcpy(&v, at, sizeof v);
		return json_boolean(v);
	}
	case TT_STAT_STR: {
		/* not UTF-8 (a gateway's bug): null rather than a member missing */
		json_t *j = json_string(at);
		return j ? j : json_null();
	}
	}
	return json_null();
}

json_t *tt__stats_json(const struct tt_stat_field *fields, const void *s)
{
	json_t *o = json_object();
	for (const struct tt_stat_field *f = fields; f && f->name; f++) {
		json_t *into = o;
		if (f->group) {
			into = json_object_get(o, f->group);
			if (!into) {
				into = json_object();
				json_object_set_new(o, f->group, into);
			}
		}
		json_object_set_new(into, f->name, value(f, s));
	}
	return o;
}
