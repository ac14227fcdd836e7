/*
 * verdict - what scanning concluded, and what to do about it
 *
 * Verdicts are ordered by severity (docs/DESIGN.md, Contracts): the message verdict is the
 * worst finding. Each verdict maps to an action through the *_action
 * settings; action_check() validates those settings once at start-up.
 */
#ifndef POSTSIFT_VERDICT_H
#define POSTSIFT_VERDICT_H

#include "lib/vbuf.h"

typedef enum VERDICT {
    VERDICT_CLEAN = 0,
    VERDICT_UNCHECKED,      /* could not be inspected: encrypted, limits, ambiguous MIME */
    VERDICT_REJECTED,       /* the external command said reject */
    VERDICT_BANNED,         /* banned name or true type */
    VERDICT_INFECTED,       /* malware found */
    VERDICT_ERROR,          /* scanning failed */
    VERDICT_COUNT
} VERDICT;

typedef enum ACTION {
    ACTION_PASS = 0,        /* send on unchanged but for X-Virus-Scanned */
    ACTION_TAG,             /* send on with X-Virus-Status too */
    ACTION_REJECT,          /* refuse: 5.7.1 (a bounce in after-queue designs) */
    ACTION_DISCARD,         /* accept and drop */
    ACTION_QUARANTINE,      /* store, then drop */
    ACTION_DEFER,           /* temporary failure: Postfix retries */
    ACTION_COUNT
} ACTION;

extern const char *const verdict_names[VERDICT_COUNT];    /* "clean", ... */
extern const char *const verdict_titles[VERDICT_COUNT];   /* "Clean", "Infected", ... for headers */
extern const char *const action_names[ACTION_COUNT];      /* "pass", ... */

/* action_parse - name to ACTION; -1 when unknown */
int action_parse(const char *name, ACTION *action);

/* action_check - validate every *_action setting; -1 with why in err */
int action_check(VBUF *err);

/* action_for - the configured action for a verdict; oversize when the
 * message passed message_size_limit */
ACTION action_for(VERDICT verdict);
ACTION action_for_oversize(void);

/* verdict_worse - the more severe of two */
VERDICT verdict_worse(VERDICT a, VERDICT b);

#endif
