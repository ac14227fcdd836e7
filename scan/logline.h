/*
 * logline - the one log line per message, for every mode
 *
 * QUEUEID: verdict=V, action=A, status=STATUS (why)[, detail="..."],
 * [scanner=test-signatures, ]
 * queued_as=ID, delay=S, size=N, [client=NAME[ADDR], ]from=<s>,
 * to=<r1>,<r2>,<r3>[ (+N more)]
 *
 * What an administrator greps for comes first: the queue id (the
 * upstream Postfix one, NOQUEUE when unknown), then verdict, action and
 * status. The recipient list comes last and is shortened: at most
 * LOGLINE_RCPT_SHOWN recipients, and only as many as fit, then the count
 * of the others. Every field has a bound, and the whole line is at most
 * LOGLINE_MAX bytes, so that msg_info() (which formats into 2048 bytes)
 * never cuts it. The detail is quoted with vbuf_quote_append(), so a line
 * always splits the same way; the other peer-controlled fields are made
 * printable.
 */
#ifndef POSTSIFT_LOGLINE_H
#define POSTSIFT_LOGLINE_H

#include "scan/verdict.h"
#include "lib/vbuf.h"

#define LOGLINE_MAX         2000    /* bytes; msg_vlog() formats into 2048 */
#define LOGLINE_RCPT_SHOWN  3       /* recipients named before "(+N more)" */

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

/* logline_format - the line into out (reset first); at most LOGLINE_MAX
 * bytes */
void logline_format(VBUF *out, const LOGLINE *ll);

/* logline_set_test_signatures - from now on every line of this process
 * says "scanner=test-signatures" (only the bundled test signatures are
 * loaded: clamav_database_directory = bundled), or no longer does */
void logline_set_test_signatures(int on);

/* logline_log - format and msg_info() it */
void logline_log(const LOGLINE *ll);

#endif
