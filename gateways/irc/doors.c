/* doors.c: the ways into a room this gateway offers (gateway.h doors): each bridged channel
 * of the room as an irc:// or ircs:// URI on its network's configured server and port.
 *
 * The URI follows the irc: URL draft most clients take (draft-butcher-irc-url): the
 * channel percent-encoded in the path, so '#' is %23 and not a fragment; the port only
 * when it is not the scheme's usual one (6667 plain, 6697 TLS). A channel key is never put
 * in the URI or the text (it would be shown on the room's web page); the text says one is
 * needed. Thread: core thread. */
#include <string.h>

#include "gw.h"

void tt__irc_doors(struct tt__irc_gw *gw, const char *room, tt_door_h fn, void *arg)
{
	for (guint i = 0; i < gw->nets->len; i++) {
		struct tt__irc_net *net = gw->nets->pdata[i];
		for (guint j = 0; j < net->chans->len; j++) {
			struct tt__irc_chan *ch = net->chans->pdata[j];
			if (strcmp(ch->room, room) != 0)
				continue;
			bool tls = net->cfg.tls;
			bool usual = net->cfg.port == (tls ? 6697 : 6667);
			char *host = strchr(net->cfg.server, ':')   /* an IPv6 literal */
				? g_strdup_printf("[%s]", net->cfg.server) : g_strdup(net->cfg.server);
			char *port = usual ? g_strdup("") : g_strdup_printf(":%d", net->cfg.port);
			char *chan = g_uri_escape_string(ch->name, NULL, FALSE);
			char *uri = g_strdup_printf("%s://%s%s/%s", tls ? "ircs" : "irc", host, port,
						    chan);
			char *label = g_strdup_printf("IRC (%s)", net->name);
			char *text = g_strdup_printf("join %s on %s, port %d%s%s", ch->name,
						     net->cfg.server, net->cfg.port,
						     tls ? " (TLS)" : "",
						     ch->key ? ", a channel key is needed" : "");
			struct tt_door d = {.network = "irc", .label = label, .uri = uri,
					    .text = text};
			fn(&d, arg);
			g_free(text);
			g_free(label);
			g_free(uri);
			g_free(chan);
			g_free(port);
			g_free(host);
		}
	}
}
