/* fuzz_line.c: the IRC line parser and the text helpers fed the same bytes. */
#include <stdint.h>
#include <string.h>
#include <glib.h>

#include "line.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(const char *p, size_t len, void *arg)
{
	size_t *total = arg;
	*total += len;
	(void)p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct tt__irc_msg *m = NULL;
	if (tt__irc_msg_parse(&m, s, size) == 0) {
		/* touch every string so ASan sees any dangling pointer */
		size_t n = strlen(m->command);
		for (size_t i = 0; i < m->nparams; i++)
			n += strlen(m->params[i]);
		for (size_t i = 0; i < m->ntags; i++)
			n += strlen(m->tags[i].key) + strlen(m->tags[i].value);
		if (m->prefix)
			n += strlen(m->prefix) + strlen(m->nick);
		char *verb = NULL, *args = NULL;
		if (m->nparams > 1 && tt__irc_ctcp_parse(m->params[1], &verb, &args)) {
			g_free(verb);
			g_free(args);
		}
		tt__irc_msg_free(m);
		(void)n;
	}
	char *t = tt__irc_strip(s, size);
	g_free(t);
	size_t total = 0;
	if (size > 0)
		tt__irc_split(s, size, 1 + data[0] % 64 + 3, sink, &total);
	return 0;
}
