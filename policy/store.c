/*
 * store - where rate counters live (store.h)
 */
#include <string.h>
#include <unistd.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/store.h"

static const STORE_OPS *const store_backends[] = {
    &store_lmdb_ops,
    &store_redis_ops,
    NULL,
};

/* store_create - see store.h */
STORE  *store_create(const char *spec, VBUF *err)
{
    const STORE_OPS *const *op;
    const char *where = spec;
    const STORE_OPS *ops = &store_lmdb_ops;     /* a bare path */
    STORE  *st;

    for (op = store_backends; *op; op++)
        if (strncmp(spec, (*op)->prefix, strlen((*op)->prefix)) == 0) {
            ops = *op;
            where = spec + strlen((*op)->prefix);
            break;
        }
    if (*op == NULL && *spec != '/') {
        vbuf_sprintf(err, "policy_rate_db: \"%s\" is not lmdb:/path, an absolute path,"
                     " redis:HOST:PORT or redis:unix:/path", spec);
        return NULL;
    }
    if (ops->check(where, err) < 0)
        return NULL;
    st = mycalloc(1, sizeof(*st));
    st->ops = ops;
    st->where = mystrdup(where);
    return st;
}

/* store_ready - the store open in this process; -1 with why in err */
static int store_ready(STORE *st, VBUF *err)
{
    if (st->handle && st->pid != getpid())
        st->handle = NULL;              /* the parent's: never touched here */
    if (st->handle == NULL) {
        if ((st->handle = st->ops->open(st->where, err)) == NULL)
            return -1;
        st->pid = getpid();
    }
    return 0;
}

/* store_try - see store.h */
int     store_try(STORE *st, VBUF *err)
{
    if (store_ready(st, err) < 0)
        return -1;
    st->ops->close(st->handle);
    st->handle = NULL;
    return 0;
}

/* store_hit - see store.h */
int     store_hit(STORE *st, const RATE_QUERY *q, RATE_ANSWER *a, VBUF *err)
{
    if (store_ready(st, err) < 0)
        return -1;
    if (st->ops->hit(st->handle, q, a, err) < 0) {
        st->ops->close(st->handle);     /* open afresh next time */
        st->handle = NULL;
        return -1;
    }
    return 0;
}

/* store_free - see store.h */
void    store_free(STORE *st)
{
    if (st == NULL)
        return;
    if (st->handle && st->pid == getpid())
        st->ops->close(st->handle);
    myfree(st->where);
    myfree(st);
}
