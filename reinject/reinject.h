/*
 * reinject - hand a message back to Postfix
 *
 * By SMTP to the reinjection smtpd (default [127.0.0.1]:10026, with XFORWARD
 * and DSN parameters when offered), or by "sendmail -G -i -f S [-C DIR] --
 * R..." run without a shell, with a clean environment, in its own process
 * group, under the deadline. The outcome is the pipe contract: 0 delivered
 * to Postfix, 69 refused for good (5xx from SMTP), 75 anything else, with
 * the downstream's own words in text ("4.x.x ..." / "5.x.x ...").
 *
 * A partial acceptance (some recipients 2xx, some refused) sends nothing
 * (RSET) and is 75, or 69 when every refusal was 5xx and none were
 * accepted: pipe(8) has one status for all recipients.
 */
#ifndef POSTSIFT_REINJECT_H
#define POSTSIFT_REINJECT_H

#include <sys/types.h>

#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"

typedef struct REINJECT_RESULT {
    int     status;     /* 0, 69 or 75 */
    char    dsn[16];    /* enhanced status for pipe(8)'s first line */
    VBUF   *text;       /* reason, one line, without the dsn */
    VBUF   *queue_id;   /* downstream queue id when known, else "" */
} REINJECT_RESULT;

void reinject_result_init(REINJECT_RESULT *res);
void reinject_result_free(REINJECT_RESULT *res);

/* reinject_message - send prefix (our added headers, may be empty) and
 * then the file fd (read from offset start) with envelope env to target
 * (var_reinject_target syntax: "[host]:port", "host:port", "unix:/path",
 * or "sendmail"). deadline: seconds for the whole hand-over. */
int reinject_message(const char *target, const SMTP_ENVELOPE *env,
                     const char *prefix, size_t prefix_len, int fd, off_t start,
                     int deadline, REINJECT_RESULT *res);

/* reinject_address - RFC 5321 form of an address as pipe(8) passes it
 * (quoted with flag q, or not): quote the local part when it needs it.
 * NULL when addr is longer than SMTP_ADDRESS_MAX or its form does not fit
 * out (give it REINJECT_ADDRESS_BUF): the caller must fail with 75, never
 * send something else (an empty result would be the null sender). */
const char *reinject_address(const char *addr, VBUF *out);

/* REINJECT_ADDRESS_BUF - the cap of a VBUF that holds any address that
 * reinject_address() accepts, quoted */
#define REINJECT_ADDRESS_BUF (2 * SMTP_ADDRESS_MAX + 3)

#endif
