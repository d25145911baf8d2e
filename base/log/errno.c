/* errno.c: tt_strerror(), the one place errors become text. */
#include <tutti/errno.h>
#include <string.h>

const char *tt_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0: return "success";
	case EUSERS: return "room is full";
	case EILSEQ: return "not valid UTF-8 text";
	case EMSGSIZE: return "message too long";
	default: return strerror(err);  /* glibc: static strings for known codes */
	}
}
