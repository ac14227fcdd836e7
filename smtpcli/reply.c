/*
 * reply - SMTP replies: parsing, construction, queue ids, xtext
 *
 * smtp_reply_parse() is strict, because a reply is peer data: every line
 * carries the same three-digit code (2xx to 5xx), every line but the last
 * has '-' after it, the last has a space or nothing. The enhanced status
 * code (RFC 3463) is taken from the first line when it is there and its
 * class matches the reply code, else derived from the code (X.0.0).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/mymalloc.h"
#include "lib/smtpcode.h"
#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"

/* Room for SMTP_REPLY_MAX lines of SMTP_LINE_MAX bytes and their newlines. */
#define SMTP_REPLY_TEXT_CAP  ((SMTP_LINE_MAX + 1) * SMTP_REPLY_MAX)

/* smtp_reply_init - empty reply, code 0 */
void smtp_reply_init(SMTP_REPLY *r)
{
    r->code = 0;
    r->dsn[0] = 0;
    r->text = vbuf_alloc(SMTP_REPLY_TEXT_CAP);
}

/* smtp_reply_free - release the text */
void smtp_reply_free(SMTP_REPLY *r)
{
    vbuf_free(r->text);
    r->text = NULL;
}

/* smtp_reply_derive_dsn - "X.0.0" for a code, "4.0.0" when there is none */
static void smtp_reply_derive_dsn(SMTP_REPLY *r)
{
    int cls = r->code / 100;

    if (cls != 2 && cls != 4 && cls != 5)
        cls = 4;
    snprintf(r->dsn, sizeof(r->dsn), "%d.0.0", cls);
}

/* smtp_reply_set - fill in a reply of our own making */
void smtp_reply_set(SMTP_REPLY *r, int code, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    if (r->text == NULL)
        r->text = vbuf_alloc(SMTP_REPLY_TEXT_CAP);
    r->code = code;
    if (dsn && *dsn && strlen(dsn) < sizeof(r->dsn))
        memcpy(r->dsn, dsn, strlen(dsn) + 1);
    else
        smtp_reply_derive_dsn(r);
    vbuf_reset(r->text);
    va_start(ap, fmt);
    (void)vbuf_vsprintf_append(r->text, fmt, ap);
    va_end(ap);
}

/* smtp_reply_one_line - text with newlines as "; " */
const char *smtp_reply_one_line(const SMTP_REPLY *r, VBUF *buf)
{
    const char *p;

    vbuf_reset(buf);
    if (r->text == NULL)
        return vbuf_str(buf);
    for (p = vbuf_str(r->text); *p; p++) {
        if (*p == '\n')
            vbuf_strcat(buf, "; ");
        else
            vbuf_addch(buf, *p);
    }
    return vbuf_str(buf);
}

/* smtp_reply_parse - parse reply lines into r; 0 well-formed, -1 not */
int smtp_reply_parse(SMTP_REPLY *r, const char *const *lines, int nlines)
{
    int i, code = 0, this_code;
    const char *line;
    size_t len, elen;
    int last;

    if (r->text == NULL)
        r->text = vbuf_alloc(SMTP_REPLY_TEXT_CAP);
    vbuf_reset(r->text);
    r->code = 0;
    r->dsn[0] = 0;
    if (nlines < 1 || nlines > SMTP_REPLY_MAX)
        goto bad;
    for (i = 0; i < nlines; i++) {
        line = lines[i];
        len = strlen(line);
        last = (i == nlines - 1);
        if (len < 3 || len > SMTP_LINE_MAX)
            goto bad;
        if (line[0] < '2' || line[0] > '5'
            || !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]))
            goto bad;
        this_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (i == 0)
            code = this_code;
        else if (this_code != code)
            goto bad;
        if (last ? (line[3] != ' ' && line[3] != 0) : line[3] != '-')
            goto bad;
        if (i > 0)
            vbuf_addch(r->text, '\n');
        if (len > 4)
            vbuf_append(r->text, line + 4, len - 4);
    }
    r->code = code;
    elen = smtpcode_dsn_len(vbuf_str(r->text), code / 100);
    if (elen > 0 && elen < sizeof(r->dsn)) {
        memcpy(r->dsn, vbuf_str(r->text), elen);
        r->dsn[elen] = 0;
    } else {
        smtp_reply_derive_dsn(r);
    }
    return 0;

  bad:
    vbuf_reset(r->text);
    r->code = 0;
    snprintf(r->dsn, sizeof(r->dsn), "4.5.0");
    vbuf_strcpy(r->text, "malformed reply");
    return -1;
}

/* smtp_queue_id - the id from "250 2.0.0 Ok: queued as ABC123", or "" */
const char *smtp_queue_id(const SMTP_REPLY *r, VBUF *out)
{
    static const char marker[] = "queued as ";
    const char *text, *p, *start;

    vbuf_reset(out);
    if (r->text == NULL || r->code < 200 || r->code > 299)
        return vbuf_str(out);
    text = vbuf_str(r->text);
    for (p = text; (p = strstr(p, marker)) != NULL; p += sizeof(marker) - 1) {
        start = p + sizeof(marker) - 1;
        for (p = start; isalnum((unsigned char)*p); p++)
            /* void */ ;
        if (p > start) {
            vbuf_append(out, start, (size_t)(p - start));
            break;
        }
        p = start - (sizeof(marker) - 1);
    }
    return vbuf_str(out);
}
