/*
 * store - where rate counters live, behind one small interface
 *
 * A backend gives open, hit and close. hit() applies rate_step() to one
 * key atomically for every process that shares the store, and stores the
 * result: the LMDB backend in one write transaction (LMDB serialises the
 * writers of a file across processes), a Redis backend would run the
 * same arithmetic as one server-side script (store_redis.c).
 * policy_rate_db picks the backend: "lmdb:/path" or a bare "/path", or
 * "redis:HOST:PORT", "redis:[IPV6]:PORT", "redis:unix:/path".
 *
 * A store is opened when it is first used in a process, and again after
 * fork(): LMDB forbids using an environment across fork, and the daemon's
 * workers are forked from the master that loaded the rules.
 */
#ifndef POSTSIFT_POLICY_STORE_H
#define POSTSIFT_POLICY_STORE_H

#include <sys/types.h>

#include "lib/vbuf.h"
#include "policy/rate.h"

typedef struct STORE_OPS {
    const char *name;                   /* "lmdb" */
    const char *prefix;                 /* "lmdb:" */
    /* check - the syntax of where, at load time; -1 with why in err */
    int     (*check) (const char *where, VBUF *err);
    /* open - the backend's handle for where; NULL with why in err */
    void   *(*open) (const char *where, VBUF *err);
    /* hit - rate_step() on the key's record, stored back; -1 with why */
    int     (*hit) (void *handle, const RATE_QUERY *q, RATE_ANSWER *a, VBUF *err);
    void    (*close) (void *handle);
} STORE_OPS;

typedef struct STORE {
    const STORE_OPS *ops;
    char   *where;                      /* the spec without its prefix */
    void   *handle;                     /* NULL: not open in this process */
    pid_t   pid;                        /* the process that opened it */
} STORE;

/* store_create - a store for spec (nothing opened yet); NULL with why */
STORE  *store_create(const char *spec, VBUF *err);

/* store_try - open and close again: a check at load time */
int     store_try(STORE *st, VBUF *err);

/* store_hit - see STORE_OPS.hit; opens the store in this process first */
int     store_hit(STORE *st, const RATE_QUERY *q, RATE_ANSWER *a, VBUF *err);

/* store_free - close (when this process opened it) and release */
void    store_free(STORE *st);

extern const STORE_OPS store_lmdb_ops;
extern const STORE_OPS store_redis_ops;

#endif
