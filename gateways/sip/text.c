/* text.c: SIP MESSAGE (RFC 3428) to and from the room's text bus. In a dialog the caller
 * posts as its participant; out of dialog, to the room URI, as a short-lived text-only
 * participant (so the room sees who wrote, under the same PIN rules as a call). Room text
 * goes to every call whose INVITE said Allow: MESSAGE, inside the dialog. */
#define TT_LOG_DOMAIN "sip"
#include "sip.h"

#include <string.h>

#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include <tutti/errno.h>
#include <tutti/log.h>

static int status_of_post(int rc, const char **phrase)
{
	switch (rc) {
	case 0: *phrase = "OK"; return 200;
	case -EMSGSIZE: *phrase = "Message Too Large"; return 413;
	case -EPERM: *phrase = "Forbidden"; return 403;
	case -EINVAL:
	case -EILSEQ: *phrase = "Bad Text"; return 400;
	default: *phrase = "Not Found"; return 404;
	}
}

void tt__sip_message(struct sipgw *gw, nua_handle_t *nh, struct sip_call *c,
		     const sip_t *sip)
{
	const struct tt_core_api *core = gw->core;
	const char *body = sip->sip_payload ? sip->sip_payload->pl_data : "";
	size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
	/* the text bus wants a NUL-terminated string without NUL inside */
	char *text = g_strndup(body, len);
	int rc;
	if (strlen(text) != len) {
		rc = -EILSEQ;
	} else if (c) {
		rc = c->p ? core->text_post(c->p, text, len, 0) : -ENOENT;
	} else {
		const char *room = tt__sip_room_of(gw, sip->sip_request->rq_url);
		const sip_from_t *f = sip->sip_from;
		char *name = g_strdup(f->a_display && *f->a_display ? f->a_display
				      : f->a_url->url_user ? f->a_url->url_user : "phone");
		g_strdelimit(name, "\"", ' ');
		g_strstrip(name);
		struct tt_join j = { .room = room, .name = name, .caps = TT_CAP_TEXT };
		struct tt_participant *p = NULL;
		rc = room ? core->participant_join(gw->h, &j, &p) : -ENOENT;
		if (rc == -EACCES || rc == -EBUSY || rc == -EUSERS)
			rc = -ENOENT;   /* no hint about the room to an outsider */
		if (!rc) {
			rc = core->text_post(p, text, len, 0);
			core->participant_leave(p, 0);
		}
		g_free(name);
	}
	g_free(text);
	const char *phrase = NULL;
	int st = status_of_post(rc, &phrase);
	sip_respond(gw, nh, st, phrase, NUTAG_WITH_THIS(gw->nua), TAG_END());
	if (!c)
		nua_handle_destroy(nh);
}

/* The bus calls this once per caller that joined with TT_CAP_TEXT (its INVITE allowed
 * MESSAGE), never for the sender: only whether the dialog can carry a MESSAGE yet is ours
 * to decide. */
void tt__sip_on_text_to(void *state, struct tt_participant *p, const struct tt_text *msg)
{
	struct sipgw *gw = state;
	struct sip_call *c = gw->core->participant_gw_data(p);
	if (!c || c->p != p || !c->text || c->state != CALL_UP)
		return;   /* a drive-by MESSAGE's participant, or a dialog not up yet */
	char *line = msg->flags & TT_TEXT_NOTICE ? g_strdup(msg->text)
		     : msg->flags & TT_TEXT_ACTION
			     ? g_strdup_printf("* %s %s", msg->from.name, msg->text)
			     : g_strdup_printf("%s: %s", msg->from.name, msg->text);
	nua_message(c->nh, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"),
		    SIPTAG_PAYLOAD_STR(line), TAG_END());
	g_free(line);
}
