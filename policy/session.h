/*
 * session - one connection from Postfix: requests and answers
 *
 * Requests are answered in order until the client closes, sends nothing
 * for policy_idle_timeout, or the stream is lost. Each answer is
 * "action=...", then an empty line. A malformed request gets
 * "action=DEFER_IF_PERMIT Service temporarily unavailable" and a logged
 * warning, and the session goes on when the request could be read to its
 * end; so does a request that comes when no rules could be loaded (eng
 * NULL). One log line per decision (session_log).
 */
#ifndef POSTSIFT_POLICY_SESSION_H
#define POSTSIFT_POLICY_SESSION_H

#include <signal.h>

#include "policy/engine.h"
#include "policy/request.h"

/* session_serve - serve requests on rfd/wfd (left open: the caller
 * closes them); peer
 * names the client in the logs; *stop (may be NULL), once set, ends the
 * session after the request in progress. Returns the number of requests
 * answered. */
int     session_serve(int rfd, int wfd, ENGINE *eng, const char *peer,
                      const volatile sig_atomic_t *stop);

/* session_log - the log line of one decision */
void    session_log(const REQUEST *req, const DECISION *d);

#endif
