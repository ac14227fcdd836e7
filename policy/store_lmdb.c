/*
 * store_lmdb - rate counters in an LMDB file (store.h)
 *
 * One file (MDB_NOSUBDIR) and its lock file PATH-lock, in a directory
 * that must be the running user's and writable by no one else (it is
 * made, mode 0700, when it is missing). Keys are "rule|value", values
 * RATE_RECs. Every hit is one write transaction: LMDB lets one writer at
 * a time have the file, across processes, so two processes counting the
 * same key never lose a count. Records older than two windows are swept
 * every STORE_LMDB_SWEEP hits of a process, and when the map is full.
 */
#include <errno.h>
#include <stdint.h>
#include <lmdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/rate.h"
#include "policy/store.h"

#define STORE_LMDB_MAPSIZE (64UL * 1024 * 1024)
#define STORE_LMDB_SWEEP   1000

typedef struct STORE_LMDB {
    MDB_env *env;
    MDB_dbi dbi;
    unsigned long hits;
} STORE_LMDB;

/* store_lmdb_dir - the file's directory: ours and private; -1 with why */
static int store_lmdb_dir(const char *path, VBUF *err)
{
    char   *dir = mystrdup(path), *slash = strrchr(dir, '/');
    struct stat st;
    int     status = -1;

    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;
    if (lstat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0700) == 0)
        msg_info("created directory %s for policy_rate_db", dir);
    if (lstat(dir, &st) < 0)
        vbuf_sprintf(err, "policy_rate_db directory %s: %s", dir, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        vbuf_sprintf(err, "policy_rate_db directory %s is not a directory", dir);
    else if (st.st_uid != geteuid())
        vbuf_sprintf(err, "policy_rate_db directory %s is not owned by uid %ld",
                     dir, (long)geteuid());
    else if (st.st_mode & 022)
        vbuf_sprintf(err, "policy_rate_db directory %s is writable by others (mode %04o)",
                     dir, (unsigned)(st.st_mode & 07777));
    else
        status = 0;
    myfree(dir);
    return status;
}

/* store_lmdb_close - release */
static void store_lmdb_close(void *handle)
{
    STORE_LMDB *sl = handle;

    if (sl == NULL)
        return;
    if (sl->env)
        mdb_env_close(sl->env);
    myfree(sl);
}

/* store_lmdb_open - the environment and its one database */
static void *store_lmdb_open(const char *path, VBUF *err)
{
    STORE_LMDB *sl = mycalloc(1, sizeof(*sl));
    MDB_txn *txn;
    int     rc, dead;

    if (store_lmdb_dir(path, err) < 0) {
        myfree(sl);
        return NULL;
    }
    if ((rc = mdb_env_create(&sl->env)) != 0
        || (rc = mdb_env_set_mapsize(sl->env, STORE_LMDB_MAPSIZE)) != 0
        || (rc = mdb_env_open(sl->env, path, MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC, 0600)) != 0
        || (rc = mdb_reader_check(sl->env, &dead)) != 0
        || (rc = mdb_txn_begin(sl->env, NULL, 0, &txn)) != 0) {
        vbuf_sprintf(err, "policy_rate_db %s: %s", path, mdb_strerror(rc));
        store_lmdb_close(sl);
        return NULL;
    }
    if ((rc = mdb_dbi_open(txn, NULL, 0, &sl->dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
        if (rc != 0)
            vbuf_sprintf(err, "policy_rate_db %s: %s", path, mdb_strerror(rc));
        store_lmdb_close(sl);
        return NULL;
    }
    return sl;
}

/* store_lmdb_sweep - delete the records no window needs; 0 or an LMDB error */
static int store_lmdb_sweep(STORE_LMDB *sl, time_t now)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    RATE_REC rec;
    int     rc;
    long    gone = 0;

    if ((rc = mdb_txn_begin(sl->env, NULL, 0, &txn)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, sl->dbi, &cur)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        if (v.mv_size == sizeof(rec))
            memcpy(&rec, v.mv_data, sizeof(rec));
        if ((v.mv_size != sizeof(rec) || rate_stale(&rec, now))
            && mdb_cursor_del(cur, 0) == 0)
            gone++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return rc;
    }
    if ((rc = mdb_txn_commit(txn)) == 0 && msg_verbose)
        msg_info("policy_rate_db: swept %ld old counters", gone);
    return rc;
}

/* store_lmdb_update - one read-modify-write transaction */
static int store_lmdb_update(STORE_LMDB *sl, const RATE_QUERY *q, RATE_ANSWER *a)
{
    MDB_txn *txn;
    MDB_val k, v;
    RATE_REC rec;
    int     rc, found;

    if ((rc = mdb_txn_begin(sl->env, NULL, 0, &txn)) != 0)
        return rc;
    k.mv_data = (void *)(uintptr_t)q->key;   /* LMDB does not write keys */
    k.mv_size = strlen(q->key);
    rc = mdb_get(txn, sl->dbi, &k, &v);
    found = rc == 0 && v.mv_size == sizeof(rec);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return rc;
    }
    if (found)
        memcpy(&rec, v.mv_data, sizeof(rec));
    rate_step(&rec, found, q, a);
    v.mv_data = &rec;
    v.mv_size = sizeof(rec);
    if ((rc = mdb_put(txn, sl->dbi, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* store_lmdb_hit - count, sweeping first when the map is full */
static int store_lmdb_hit(void *handle, const RATE_QUERY *q, RATE_ANSWER *a, VBUF *err)
{
    STORE_LMDB *sl = handle;
    int     rc;

    if (++sl->hits % STORE_LMDB_SWEEP == 0 && (rc = store_lmdb_sweep(sl, q->now)) != 0)
        msg_warn("policy_rate_db: sweep: %s", mdb_strerror(rc));
    rc = store_lmdb_update(sl, q, a);
    if (rc == MDB_MAP_FULL && store_lmdb_sweep(sl, q->now) == 0)
        rc = store_lmdb_update(sl, q, a);
    if (rc != 0) {
        vbuf_sprintf(err, "policy_rate_db: %s", mdb_strerror(rc));
        return -1;
    }
    return 0;
}

/* store_lmdb_check - an absolute path */
static int store_lmdb_check(const char *where, VBUF *err)
{
    if (*where == '/')
        return 0;
    vbuf_sprintf(err, "policy_rate_db: lmdb needs an absolute path");
    return -1;
}

const STORE_OPS store_lmdb_ops = {
    .name = "lmdb",
    .prefix = "lmdb:",
    .check = store_lmdb_check,
    .open = store_lmdb_open,
    .hit = store_lmdb_hit,
    .close = store_lmdb_close,
};
