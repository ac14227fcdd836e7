/*
 * exitpolicy - the pipe-mode exit contract (see exitpolicy.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/exitpolicy.h"

/* exit_status_for_code - map an SMTP reply code to 0, 69 or 75 */
int exit_status_for_code(int smtp_code)
{
    if (smtp_code >= 200 && smtp_code <= 299)
        return EXIT_DONE;
    if (smtp_code >= 500 && smtp_code <= 599)
        return EXIT_REFUSED;
    return EXIT_TEMPFAIL;
}

/* exit_with - say why on stdout for pipe(8), then exit */
void exit_with(int status, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    if (status != EXIT_DONE && status != EXIT_REFUSED && status != EXIT_TEMPFAIL) {
        msg_warn("exit status %d is outside the pipe contract; using 75", status);
        status = EXIT_TEMPFAIL;
    }
    if (dsn != NULL) {
        printf("%s ", dsn);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
    fflush(stdout);
    exit(status);
}
