/*
 * logline - the one log line per message, for the pipe and smtpd modes
 *
 * QUEUEID: [client=NAME[ADDR], ]from=<s>, to=<r1>,<r2>, size=N,
 * verdict=V, action=A[, detail="..."], queued_as=ID, delay=S,
 * status=STATUS (why)
 *
 * QUEUEID is the upstream (Postfix) queue id, NOQUEUE when unknown. The
 * detail is quoted with vbuf_quote_append(), so a line always splits the
 * same way; the other peer-controlled fields are made printable.
 */
#ifndef POSTSIFT_LOGLINE_H
#define POSTSIFT_LOGLINE_H

#include "scan/verdict.h"
#include "lib/vbuf.h"

typedef struct LOGLINE {
    const char *queue_id;       /* NULL or "": NOQUEUE */
    const char *client;         /* NULL: no client= field (pipe mode) */
    const char *sender;
    const char *const *rcpt;
    int         nrcpt;
    long long   size;
    VERDICT     verdict;
    ACTION      action;
    const char *detail;         /* NULL or "": no detail= field */
    const char *queued_as;      /* NULL or "": "-" */
    double      delay;          /* seconds */
    const char *status;         /* sent, bounced, deferred, discarded, quarantined, rejected */
    const char *why;
} LOGLINE;

/* logline_format - the line into out (reset first) */
void logline_format(VBUF *out, const LOGLINE *ll);

/* logline_log - format and msg_info() it */
void logline_log(const LOGLINE *ll);

#endif
