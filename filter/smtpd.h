/*
 * smtpd - postsift-filter's SMTP server side (DESIGN §4)
 *
 * One session engine, three ways to run it: under spawn(8) on
 * stdin/stdout, in a worker of the daemon on an accepted socket, and as a
 * before-queue smtpd_proxy_filter (the same protocol, one message per
 * connection). MAIL and RCPT are relayed in lock-step to the downstream
 * (reinject_target, default [127.0.0.1]:10026) with every ESMTP parameter
 * and XFORWARD attribute; DATA is spooled (ending only at <CRLF>.<CRLF>),
 * inspected through decide_message() exactly as in pipe mode, and on pass
 * streamed to the downstream; its final reply goes upstream. 250 goes
 * upstream only after the downstream's 250.
 */
#ifndef POSTSIFT_SMTPD_H
#define POSTSIFT_SMTPD_H

#include <signal.h>

#include "filter/inspect.h"

/* Set by the daemon's SIGTERM handler: finish the transaction in progress,
 * then answer 421 and close. */
extern volatile sig_atomic_t smtpd_shutdown;

typedef struct SMTPD_PEER {
    const char *addr;       /* the upstream client's address, for logs */
    const char *port;
} SMTPD_PEER;

/* smtpd_session - serve one SMTP session on rfd/wfd until QUIT, EOF, a
 * timeout, too many errors or shutdown. in may be NULL (the scanner could
 * not be set up; open_err says why): every message then gets
 * error_action. rfd and wfd stay open (the session works on duplicates):
 * the caller closes them. Never writes to stderr (under spawn(8) it is
 * the socket). smtpd_shutdown is looked at when a command arrives, so a
 * client that sends nothing keeps the session until smtpd_timeout. */
void smtpd_session(int rfd, int wfd, const SMTPD_PEER *peer, INSPECTOR *in,
                   const char *open_err);

#endif
