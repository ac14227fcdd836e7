/*
 * logline - the one log line per message (see logline.h)
 *
 * The bounds, in bytes: the queue id 64, the status reason 300, the
 * detail 500 before quoting, the client and the sender 300 each, a
 * recipient 256. The fixed part of the line stays well below LOGLINE_MAX
 * with every field at its bound; the recipients get what is left, and a
 * last cut (marked "...") guards against the quoting of a detail full of
 * control characters.
 */
#include <string.h>

#include "scan/logline.h"
#include "lib/msg.h"

#define LOGLINE_CAP         16384
#define LOGLINE_QUEUE_ID    64
#define LOGLINE_WHY         300
#define LOGLINE_DETAIL      500
#define LOGLINE_ADDR        300
#define LOGLINE_RCPT        256
#define LOGLINE_MORE        24      /* room kept for " (+NNNNN more)" */

/* logline_field - s made printable, at most max bytes (then "..."), appended */
static void logline_field(VBUF *out, const char *s, size_t max)
{
    char    buf[LOGLINE_ADDR + 1];

    if (s == NULL)
        s = "";
    if (max > sizeof(buf) - 1)
        max = sizeof(buf) - 1;
    vbuf_strcat(out, msg_printable(buf, max + 1, s));
    if (strlen(s) > max)
        vbuf_strcat(out, "...");
}

/* logline_detail - the detail, cut at LOGLINE_DETAIL bytes, quoted */
static void logline_detail(VBUF *out, const char *detail)
{
    char    cut[LOGLINE_DETAIL + 4];
    size_t  len = strlen(detail);

    if (len > LOGLINE_DETAIL) {
        memcpy(cut, detail, LOGLINE_DETAIL);
        memcpy(cut + LOGLINE_DETAIL, "...", 4);
        detail = cut;
    }
    vbuf_strcat(out, ", detail=");
    vbuf_quote_append(out, detail);
}

/* logline_rcpts - as many recipients as fit (at most LOGLINE_RCPT_SHOWN),
 * then how many more there are */
static void logline_rcpts(VBUF *out, const LOGLINE *ll)
{
    size_t  need;
    int     i;

    vbuf_strcat(out, ", to=");
    for (i = 0; i < ll->nrcpt && i < LOGLINE_RCPT_SHOWN; i++) {
        need = strlen(ll->rcpt[i] ? ll->rcpt[i] : "");
        if (need > LOGLINE_RCPT)
            need = LOGLINE_RCPT + 3;
        if (vbuf_len(out) + need + 3 + LOGLINE_MORE > LOGLINE_MAX)
            break;
        vbuf_strcat(out, i ? ",<" : "<");
        logline_field(out, ll->rcpt[i], LOGLINE_RCPT);
        vbuf_addch(out, '>');
    }
    if (i < ll->nrcpt)
        vbuf_sprintf_append(out, "%s(+%d more)", i ? " " : "", ll->nrcpt - i);
}

static int logline_test_signatures;     /* see logline_set_test_signatures() */

/* logline_set_test_signatures - see logline.h */
void    logline_set_test_signatures(int on)
{
    logline_test_signatures = on;
}

/* logline_format - the line into out */
void logline_format(VBUF *out, const LOGLINE *ll)
{
    vbuf_reset(out);
    logline_field(out, ll->queue_id && *ll->queue_id ? ll->queue_id : "NOQUEUE",
                  LOGLINE_QUEUE_ID);
    vbuf_sprintf_append(out, ": verdict=%s, action=%s, status=%s (",
                        verdict_names[ll->verdict], action_names[ll->action],
                        ll->status ? ll->status : "-");
    logline_field(out, ll->why, LOGLINE_WHY);
    vbuf_addch(out, ')');
    if (ll->detail && *ll->detail)
        logline_detail(out, ll->detail);
    if (logline_test_signatures)
        vbuf_strcat(out, ", scanner=test-signatures");
    vbuf_strcat(out, ", queued_as=");
    logline_field(out, ll->queued_as && *ll->queued_as ? ll->queued_as : "-", LOGLINE_QUEUE_ID);
    vbuf_sprintf_append(out, ", delay=%.2f, size=%lld", ll->delay, ll->size);
    if (ll->client) {
        vbuf_strcat(out, ", client=");
        logline_field(out, ll->client, LOGLINE_ADDR);
    }
    vbuf_strcat(out, ", from=<");
    logline_field(out, ll->sender, LOGLINE_ADDR);
    vbuf_addch(out, '>');
    logline_rcpts(out, ll);
    if (vbuf_len(out) > LOGLINE_MAX) {
        vbuf_truncate(out, LOGLINE_MAX - 3);
        vbuf_strcat(out, "...");
    }
}

/* logline_log - format and log */
void logline_log(const LOGLINE *ll)
{
    VBUF   *line = vbuf_alloc(LOGLINE_CAP);

    logline_format(line, ll);
    msg_info("%s", vbuf_str(line));
    vbuf_free(line);
}
