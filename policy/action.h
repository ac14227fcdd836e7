/*
 * action - the answers a policy server may give (access(5) actions)
 *
 * A rule's answer, a rate rule's answer when over the limit and
 * policy_store_fail_action are checked when they are loaded, so that a
 * typo is a load error and never an answer Postfix does not understand
 * (which Postfix treats as a server error: 451 4.3.5 for the client).
 */
#ifndef POSTSIFT_POLICY_ACTION_H
#define POSTSIFT_POLICY_ACTION_H

#include "lib/vbuf.h"

#define ACTION_MAX_TEXT 512             /* longest answer text */

/* action_parse - "verb [text]" into out in Postfix's form (the verb in
 * capitals; "filter" gives FILTER); -1 with why in err */
int     action_parse(const char *text, VBUF *out, VBUF *err);

/* action_defer - the answer to a request we cannot decide */
#define ACTION_TEMPFAIL "DEFER_IF_PERMIT Service temporarily unavailable"

#endif
