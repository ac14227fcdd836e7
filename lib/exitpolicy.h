/*
 * exitpolicy - the pipe-mode exit contract (docs/DESIGN.md, Contracts)
 *
 * pipe(8) defers only on 75 (and 71, and death by signal) and bounces on
 * every other non-zero status. So a pipe-mode program ends in exactly one
 * of three ways: 0 (done), 69 (a deliberate 5xx refusal) or 75 (everything
 * else). The first line on stdout is what pipe(8) puts in the DSN: an
 * enhanced status code and a short reason.
 */
#ifndef POSTSIFT_EXITPOLICY_H
#define POSTSIFT_EXITPOLICY_H

#include "lib/msg.h"

#define EXIT_DONE      0    /* EX_OK */
#define EXIT_REFUSED   69   /* EX_UNAVAILABLE: bounce */
#define EXIT_TEMPFAIL  75   /* EX_TEMPFAIL: Postfix retries */

/* exit_status_for_code - 2xx -> 0, 5xx -> 69, anything else -> 75 */
int exit_status_for_code(int smtp_code);

/* exit_with - print "DSN text" on stdout (when dsn is not NULL) and exit;
   a status other than 0, 69 or 75 is a bug and becomes 75 */
PS_NORETURN void exit_with(int status, const char *dsn, const char *fmt, ...) PS_PRINTF(3, 4);

#endif
