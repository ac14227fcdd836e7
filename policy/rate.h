/*
 * rate - sliding-window counts for rate rules
 *
 * The window is approximated with two fixed buckets, the current one and
 * the one before it (as in Cloudflare's and nginx's limiters): the count
 * is prev * (part of the previous bucket still inside the window) + cur.
 * A record is 24 bytes whatever the limit, one read and one write per
 * message, and the error is small when traffic is steady: it assumes the
 * previous bucket's messages were spread evenly. A ring of timestamps
 * would be exact but costs N entries per key (200 messages an hour: 1.6
 * kB rewritten per message) and a search.
 *
 * A message is counted only when it fits (the estimate plus one is at
 * most the limit); a refused attempt is not counted, so a client that
 * keeps retrying gets through once the window has moved on.
 *
 * The arithmetic is here, the storage behind store.h, so that every
 * backend counts the same way.
 */
#ifndef POSTSIFT_POLICY_RATE_H
#define POSTSIFT_POLICY_RATE_H

#include <stdint.h>
#include <time.h>

#include "lib/vbuf.h"

typedef struct RATE_REC {
    int64_t start;                      /* start of the current bucket */
    int64_t window;                     /* seconds; a new window resets */
    uint32_t cur;                       /* messages in the current bucket */
    uint32_t prev;                      /* messages in the one before */
} RATE_REC;

typedef struct RATE_QUERY {
    const char *key;                    /* "rule|value" (rate_key) */
    long    window;                     /* seconds */
    long    limit;                      /* messages per window */
    time_t  now;
    int     count;                      /* 1: count this message; 0: check only */
} RATE_QUERY;

typedef struct RATE_ANSWER {
    double  estimate;                   /* messages in the window, this one included */
    int     over;                       /* over the limit: refuse */
} RATE_ANSWER;

/* rate_step - apply q to rec (found: rec holds a stored record; else it
 * is made new); rec is what to store back */
void    rate_step(RATE_REC *rec, int found, const RATE_QUERY *q, RATE_ANSWER *a);

/* rate_key - the store key of a rule and a value: "rule|value", the
 * value lowercased; a long one as "rule|sha256:HEX" */
void    rate_key(VBUF *out, const char *rule, const char *value);

/* rate_parse_window - "90", "90s", "15m", "1h", "1d" into seconds; -1 */
long    rate_parse_window(const char *text);

/* rate_stale - rec is past use at now (older than two windows) */
int     rate_stale(const RATE_REC *rec, time_t now);

#endif
