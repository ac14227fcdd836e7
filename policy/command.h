/*
 * command - the "command PATH ATTR..." rule: ask a program
 *
 * The program is run without a shell (lib/spawn): argv[0] is PATH,
 * argv[1...] the values of the rule's attributes in the order the rule
 * names them (an absent attribute is an empty argument), a clean
 * environment (PATH=/usr/bin:/bin only), stdin /dev/null, a process group
 * of its own, policy_command_timeout seconds and then SIGKILL to the
 * group. Its answer is its exit status:
 *
 *     0            COMMAND_PASS: no objection, the next rules are tried
 *     1            COMMAND_REJECT: "REJECT text", the text being the first
 *                  line of its stdout when that is sane (printable ASCII,
 *                  at most COMMAND_TEXT_MAX bytes, not a 4xx code), else
 *                  plain "REJECT"
 *     other, a signal, the deadline, exec failure
 *                  COMMAND_FAIL: DEFER_IF_PERMIT, logged with the reason
 *
 * PASS and REJECT are kept in a cache of this process for
 * policy_command_cache_ttl seconds (0: no cache), keyed by the SHA-256
 * of the whole argv; failures are never cached (they are temporary).
 * The cache is direct-mapped, COMMAND_CACHE_SLOTS entries of about 600
 * bytes: bounded whatever the traffic, a new key takes the slot of the
 * one it collides with.
 */
#ifndef POSTSIFT_POLICY_COMMAND_H
#define POSTSIFT_POLICY_COMMAND_H

#include <time.h>

#include "lib/vbuf.h"
#include "policy/request.h"

#define COMMAND_MAX_ATTRS   8           /* arguments of one command rule */
#define COMMAND_TEXT_MAX    200         /* bytes of a reject text we take */
#define COMMAND_CACHE_SLOTS 1024

#define COMMAND_PASS    0
#define COMMAND_REJECT  1
#define COMMAND_FAIL    2

typedef struct COMMAND_CACHE COMMAND_CACHE;

COMMAND_CACHE *command_cache_create(void);
void    command_cache_free(COMMAND_CACHE *cache);

/* command_check - PATH's checks at load: absolute, a regular file, ours
 * to execute; -1 with why in err */
int     command_check(const char *path, VBUF *err);

/* command_decide - the answer of path for the values of attrs in req
 * (cached or run now): COMMAND_PASS, COMMAND_REJECT with the answer in
 * answer, COMMAND_FAIL; detail says what the program did */
int     command_decide(COMMAND_CACHE *cache, const char *path, char *const *attrs, int nattr,
                       const REQUEST *req, time_t now, VBUF *answer, VBUF *detail);

#endif
