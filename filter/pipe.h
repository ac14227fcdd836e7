/*
 * pipe - postsift-filter's pipe mode: one message under pipe(8)
 *
 * The message on stdin, the envelope from the command line; capture to
 * an anonymous spool file (all of stdin is read, whatever happens),
 * decide_message(), then carry the outcome out (outcome.h): reinject,
 * drop, quarantine, refuse or defer, with one log line and exactly one
 * of the exit statuses 0, 69 and 75 (docs/DESIGN.md, Contracts).
 * pipe_deadline is an alarm whose handler writes the 4.4.7 line and
 * exits 75.
 */
#ifndef POSTSIFT_PIPE_H
#define POSTSIFT_PIPE_H

#include <time.h>

#include "lib/envelope.h"
#include "lib/msg.h"

typedef struct PIPE_ARGS {
    struct timespec start;      /* when the program started, for delay= */
    const char *sender;         /* -f */
    const char *queue_id;       /* -q, NULL when not given */
    char   *const *rcpts;       /* after -- */
    int     nrcpt;
    const char **orcpts;        /* -O, in order: the n-th for the n-th recipient */
    int     norcpt;
    SMTP_ENVELOPE xforward;     /* -X attributes (envelope_xforward_option) */
} PIPE_ARGS;

/* pipe_mode - the whole life of one message; never returns */
PS_NORETURN void pipe_mode(const PIPE_ARGS *pa);

#endif
