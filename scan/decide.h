/*
 * decide - from a spooled message to a verdict, an action and the headers
 *
 * The one code path shared by the pipe and smtpd modes: loop check, size
 * check, inspection, the configured action, untrusted headers renamed and
 * our own headers built. The caller then carries the action out (reinject,
 * refuse, drop, quarantine, defer) in the way its mode allows.
 *
 * A command scanner may hand back a replacement message: fd is then that
 * message (owned here, replaced is set, replaced_size its size), and it
 * is what pass and tag send on. A quarantine keeps the message as it
 * came. A command that rejects may ask for its own reply code: rejected
 * messages carry reject_code and reject_dsn (554 and 5.7.1 otherwise).
 */
#ifndef POSTSIFT_DECIDE_H
#define POSTSIFT_DECIDE_H

#include <sys/types.h>

#include "scan/inspect.h"
#include "scan/verdict.h"
#include "lib/envelope.h"
#include "lib/vbuf.h"

typedef struct DECISION {
    VERDICT verdict;
    ACTION  action;
    VBUF   *detail;     /* why, one line */
    VBUF   *virname;    /* malware name, when infected */
    VBUF   *prefix;     /* headers to put in front of the message */
    int     fd;         /* the message to send on: the input, or a copy with
                         * untrusted headers renamed, or a command's
                         * replacement (then owned here) */
    int     own_fd;     /* fd is ours to close */
    int     replaced;   /* fd holds a command's replacement message */
    long long replaced_size;    /* its size in bytes, when replaced */
    int     reject_code;        /* the SMTP code of a refusal: 554, or a
                                 * command's own 5xx when it rejected */
    char    reject_dsn[16];     /* its enhanced status: 5.7.1, or the command's */
} DECISION;

void decision_init(DECISION *d);
void decision_free(DECISION *d);

/* decide_message - in may be NULL when the inspector could not be set up
 * (open_err says why: the verdict is then error). oversize: the message
 * passed message_size_limit and is not inspected. */
void decide_message(INSPECTOR *in, const char *open_err, int fd, int oversize, DECISION *d);

/* decide_message_env - the same, with the envelope that the command
 * scanners get in their environment (NULL: none) */
void decide_message_env(INSPECTOR *in, const char *open_err, int fd, int oversize,
                        const SMTP_ENVELOPE *env, DECISION *d);

#endif
