/*
 * logline - the one log line per message (see logline.h)
 */
#include "scan/logline.h"
#include "lib/msg.h"

#define LOGLINE_CAP     16384
#define LOGLINE_FIELD   1024    /* most bytes of one printable field */

/* logline_field - s made printable and bounded, appended */
static void logline_field(VBUF *out, const char *s)
{
    char buf[LOGLINE_FIELD];

    vbuf_strcat(out, msg_printable(buf, sizeof(buf), s ? s : ""));
}

/* logline_format - the line into out */
void logline_format(VBUF *out, const LOGLINE *ll)
{
    int i;

    vbuf_reset(out);
    logline_field(out, ll->queue_id && *ll->queue_id ? ll->queue_id : "NOQUEUE");
    vbuf_strcat(out, ": ");
    if (ll->client) {
        vbuf_strcat(out, "client=");
        logline_field(out, ll->client);
        vbuf_strcat(out, ", ");
    }
    vbuf_strcat(out, "from=<");
    logline_field(out, ll->sender);
    vbuf_strcat(out, ">, to=");
    for (i = 0; i < ll->nrcpt; i++) {
        vbuf_strcat(out, i ? ",<" : "<");
        logline_field(out, ll->rcpt[i]);
        vbuf_addch(out, '>');
    }
    vbuf_sprintf_append(out, ", size=%lld, verdict=%s, action=%s", ll->size,
                        verdict_names[ll->verdict], action_names[ll->action]);
    if (ll->detail && *ll->detail) {
        vbuf_strcat(out, ", detail=");
        vbuf_quote_append(out, ll->detail);
    }
    vbuf_strcat(out, ", queued_as=");
    logline_field(out, ll->queued_as && *ll->queued_as ? ll->queued_as : "-");
    vbuf_sprintf_append(out, ", delay=%.2f, status=%s (", ll->delay, ll->status);
    logline_field(out, ll->why);
    vbuf_addch(out, ')');
}

/* logline_log - format and log */
void logline_log(const LOGLINE *ll)
{
    VBUF *line = vbuf_alloc(LOGLINE_CAP);

    logline_format(line, ll);
    msg_info("%s", vbuf_str(line));
    vbuf_free(line);
}
