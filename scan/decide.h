/*
 * decide - from a spooled message to a verdict, an action and the headers
 *
 * The one code path shared by the pipe and smtpd modes: loop check, size
 * check, inspection, the configured action, untrusted headers renamed and
 * our own headers built. The caller then carries the action out (reinject,
 * refuse, drop, quarantine, defer) in the way its mode allows.
 */
#ifndef POSTSIFT_DECIDE_H
#define POSTSIFT_DECIDE_H

#include <sys/types.h>

#include "scan/inspect.h"
#include "scan/verdict.h"
#include "lib/vbuf.h"

typedef struct DECISION {
    VERDICT verdict;
    ACTION  action;
    VBUF   *detail;     /* why, one line */
    VBUF   *virname;    /* malware name, when infected */
    VBUF   *prefix;     /* headers to put in front of the message */
    int     fd;         /* the message to send on: the input, or a copy with
                         * untrusted headers renamed (then owned here) */
    int     own_fd;     /* fd is ours to close */
} DECISION;

void decision_init(DECISION *d);
void decision_free(DECISION *d);

/* decide_message - in may be NULL when the inspector could not be set up
 * (open_err says why: the verdict is then error). oversize: the message
 * passed message_size_limit and is not inspected. */
void decide_message(INSPECTOR *in, const char *open_err, int fd, int oversize, DECISION *d);

#endif
