/*
 * store_redis - rate counters in Redis, shared by several hosts (store.h)
 *
 * policy_rate_db = redis:HOST:PORT, redis:[IPV6]:PORT, redis:HOST (port
 * 6379) or redis:unix:/path/to/socket. Every key is "postsift:rule|value"
 * and holds a hash {start, window, cur, prev}: the RATE_REC of rate.h.
 *
 * One hit is one server-side Lua script (EVALSHA, and EVAL when the
 * server does not have it yet: after a restart or SCRIPT FLUSH) that
 * does rate_step()'s arithmetic on the record and writes it back. Redis
 * runs a script alone, so counts from several processes and hosts are
 * never lost, in one round trip and without the retries WATCH/MULTI
 * would need under contention. The script sets the key to expire two
 * windows after the current bucket began, when rate_stale() would drop
 * it anyway: counters do not pile up. The time is the policy host's
 * (several hosts must keep their clocks in step, NTP).
 *
 * The connection and every command have policy_store_timeout. After an
 * error the hit reconnects once and tries again, once; when that fails
 * too, the caller answers policy_store_fail_action, and the next request
 * connects afresh (one attempt per request: a dead server costs at most
 * two connect timeouts per request).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "policy/rate.h"
#include "policy/store.h"

#define STORE_REDIS_PREFIX "postsift:"
#define STORE_REDIS_PORT   6379

 /*
  * rate_step() in Lua: KEYS[1], ARGV now, window, limit, count. Returns
  * {estimate as text (Redis would cut a number to an integer), over}.
  */
static const char store_redis_script[] =
"local now, w = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
"local limit, count = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"local r = redis.call('HMGET', KEYS[1], 'start', 'window', 'cur', 'prev')\n"
"local start, win = tonumber(r[1]), tonumber(r[2])\n"
"local cur, prev = tonumber(r[3]) or 0, tonumber(r[4]) or 0\n"
"local b = math.floor(now / w) * w\n"
"if start == nil or win ~= w or start > b then cur, prev = 0, 0\n"
"elseif start == b - w then prev, cur = cur, 0\n"
"elseif start ~= b then cur, prev = 0, 0 end\n"
"local est = prev * ((w - (now - b)) / w) + cur\n"
"local over = 0\n"
"if count == 1 then\n"
"  if est + 1 > limit then over = 1 else cur = cur + 1; est = est + 1 end\n"
"elseif est > limit then over = 1 end\n"
"redis.call('HSET', KEYS[1], 'start', b, 'window', w, 'cur', cur, 'prev', prev)\n"
"redis.call('EXPIREAT', KEYS[1], b + 2 * w)\n"
"return {string.format('%.17g', est), over}\n";

typedef struct STORE_REDIS {
    redisContext *rc;
    char   *host;                       /* NULL: a UNIX-domain socket */
    char   *path;
    int     port;
    char   *where;                      /* for messages */
    char    sha[41];                    /* the script's SHA-1 (EVALSHA) */
} STORE_REDIS;

/* store_redis_parse - where into sr; -1 with why in err */
static int store_redis_parse(STORE_REDIS *sr, const char *where, VBUF *err)
{
    const char *colon, *host = where, *end;
    long    port = STORE_REDIS_PORT;
    char   *ep;

    if (strncmp(where, "unix:", 5) == 0) {
        if (where[5] != '/') {
            vbuf_sprintf(err, "policy_rate_db: redis:unix: needs an absolute path");
            return -1;
        }
        sr->path = mystrdup(where + 5);
        return 0;
    }
    if (*where == '[') {
        host = where + 1;
        if ((end = strchr(host, ']')) == NULL || (end[1] != 0 && end[1] != ':')) {
            vbuf_sprintf(err, "policy_rate_db: bad redis:[ADDRESS]:PORT \"%s\"", where);
            return -1;
        }
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        end = (colon = strrchr(where, ':')) != NULL ? colon : where + strlen(where);
    }
    if (colon && ((port = strtol(colon + 1, &ep, 10)) <= 0 || port > 65535 || *ep
                  || colon[1] == 0)) {
        vbuf_sprintf(err, "policy_rate_db: bad port in redis:%s", where);
        return -1;
    }
    if (end == host || strcspn(host, "/ \t") < (size_t)(end - host)) {
        vbuf_sprintf(err, "policy_rate_db: redis:HOST:PORT or redis:unix:/path, not redis:%s", where);
        return -1;
    }
    sr->host = mystrndup(host, (size_t)(end - host));
    sr->port = (int)port;
    return 0;
}

/* store_redis_check - the syntax of where, at load time */
static int store_redis_check(const char *where, VBUF *err)
{
    STORE_REDIS sr;
    int     status;

    memset(&sr, 0, sizeof(sr));
    status = store_redis_parse(&sr, where, err);
    myfree(sr.host);
    myfree(sr.path);
    return status;
}

/* store_redis_connect - (re)connect; -1 with why in err */
static int store_redis_connect(STORE_REDIS *sr, VBUF *err)
{
    struct timeval tv = {var_policy_store_timeout, 0};

    if (sr->rc)
        redisFree(sr->rc);
    sr->rc = sr->path ? redisConnectUnixWithTimeout(sr->path, tv)
        : redisConnectWithTimeout(sr->host, sr->port, tv);
    if (sr->rc == NULL || sr->rc->err || redisSetTimeout(sr->rc, tv) != REDIS_OK) {
        vbuf_sprintf(err, "policy_rate_db: cannot connect to redis:%s: %s", sr->where,
                     sr->rc ? sr->rc->errstr : "out of memory");
        if (sr->rc)
            redisFree(sr->rc);
        sr->rc = NULL;
        return -1;
    }
    return 0;
}

/* store_redis_close - release */
static void store_redis_close(void *handle)
{
    STORE_REDIS *sr = handle;

    if (sr == NULL)
        return;
    if (sr->rc)
        redisFree(sr->rc);
    myfree(sr->host);
    myfree(sr->path);
    myfree(sr->where);
    myfree(sr);
}

/* store_redis_open - parse and connect */
static void *store_redis_open(const char *where, VBUF *err)
{
    STORE_REDIS *sr = mycalloc(1, sizeof(*sr));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;

    sr->where = mystrdup(where);
    if (EVP_Digest(store_redis_script, strlen(store_redis_script), md, &mdlen, EVP_sha1(), NULL) != 1
        || mdlen != 20)
        msg_fatal("policy_rate_db: SHA-1 failed");
    for (i = 0; i < mdlen; i++)
        snprintf(sr->sha + 2 * i, 3, "%02x", md[i]);
    if (store_redis_parse(sr, where, err) < 0 || store_redis_connect(sr, err) < 0) {
        store_redis_close(sr);
        return NULL;
    }
    return sr;
}

/* store_redis_eval - the script on q: the reply (NULL: I/O error) */
static redisReply *store_redis_eval(STORE_REDIS *sr, const char *key, const RATE_QUERY *q)
{
    char    now[32], window[32], limit[32];
    const char *argv[8] = {"EVALSHA", sr->sha, "1", key, now, window, limit, q->count ? "1" : "0"};
    redisReply *reply;

    snprintf(now, sizeof(now), "%lld", (long long)q->now);
    snprintf(window, sizeof(window), "%ld", q->window);
    snprintf(limit, sizeof(limit), "%ld", q->limit);
    reply = redisCommandArgv(sr->rc, 8, argv, NULL);
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(reply);
        argv[0] = "EVAL";
        argv[1] = store_redis_script;   /* loads it for the next EVALSHA */
        reply = redisCommandArgv(sr->rc, 8, argv, NULL);
    }
    return reply;
}

/* store_redis_answer - the script's reply into a; -1 with why */
static int store_redis_answer(const redisReply *reply, RATE_ANSWER *a, VBUF *err)
{
    char   *end;

    if (reply->type == REDIS_REPLY_ERROR) {
        vbuf_sprintf(err, "policy_rate_db: redis: %.200s", reply->str);
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_INTEGER) {
        vbuf_sprintf(err, "policy_rate_db: redis: unexpected reply type %d", reply->type);
        return -1;
    }
    a->estimate = strtod(reply->element[0]->str, &end);
    a->over = reply->element[1]->integer != 0;
    if (*end) {
        vbuf_sprintf(err, "policy_rate_db: redis: bad count \"%.40s\"", reply->element[0]->str);
        return -1;
    }
    return 0;
}

/* store_redis_hit - one script run; one reconnect and retry after an I/O error */
static int store_redis_hit(void *handle, const RATE_QUERY *q, RATE_ANSWER *a, VBUF *err)
{
    STORE_REDIS *sr = handle;
    VBUF   *key = vbuf_alloc(1024);
    redisReply *reply = NULL;
    int     status = -1, attempt;

    vbuf_sprintf(key, "%s%s", STORE_REDIS_PREFIX, q->key);
    for (attempt = 0; attempt < 2 && reply == NULL; attempt++) {
        if (attempt > 0) {
            msg_warn("policy_rate_db: redis:%s: %s; reconnecting", sr->where,
                     sr->rc ? sr->rc->errstr : "not connected");
            if (store_redis_connect(sr, err) < 0)
                break;
        }
        if (sr->rc)
            reply = store_redis_eval(sr, vbuf_str(key), q);
    }
    if (reply != NULL) {
        status = store_redis_answer(reply, a, err);
        freeReplyObject(reply);
    } else if (vbuf_len(err) == 0) {
        vbuf_sprintf(err, "policy_rate_db: redis:%s: %s", sr->where,
                     sr->rc ? sr->rc->errstr : "not connected");
    }
    vbuf_free(key);
    return status;
}

const STORE_OPS store_redis_ops = {
    .name = "redis",
    .prefix = "redis:",
    .check = store_redis_check,
    .open = store_redis_open,
    .hit = store_redis_hit,
    .close = store_redis_close,
};
