/*
 * test_policy_redis - the Redis counter store, against a private server
 *
 * The test starts its own redis-server (no persistence, 127.0.0.1, a
 * free port) and checks: policy_rate_db syntax; the Lua script counts
 * exactly as rate_step() does (the same queries through both); two
 * processes counting one key lose nothing and hold the limit; keys
 * expire two windows after their bucket began; the script flushed from
 * the server (EVAL again); the connection killed by the server (one
 * reconnect within the request); the server gone (the fail action,
 * logged) and back (counting again, no restart of ours). Without
 * redis-server the test says so and checks the syntax only.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/rate.h"
#include "policy/store.h"
#include "tests/unit/unittest.h"

static char dir[] = "/tmp/test_policy_redis.XXXXXX";
static int port;
static pid_t server;

/* free_port - a loopback port nobody listens on now */
static int free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     fd = socket(AF_INET, SOCK_STREAM, 0), p;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0
        || getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        msg_fatal("free port: %m");
    p = ntohs(sin.sin_port);
    close(fd);
    return p;
}

/* admin - a command on a connection of the test's own; the reply */
static redisReply *admin(const char *fmt, const char *arg)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r = NULL;

    if (c && !c->err)
        r = redisCommand(c, fmt, arg);
    if (c)
        redisFree(c);
    return r;
}

/* server_start - redis-server on port; waits until it answers */
static int server_start(void)
{
    char    portbuf[16];
    redisReply *r = NULL;
    int     tries;

    snprintf(portbuf, sizeof(portbuf), "%d", port);
    if ((server = fork()) == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execlp("redis-server", "redis-server", "--port", portbuf, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", dir, (char *)0);
        _exit(127);
    }
    for (tries = 0; tries < 100 && r == NULL; tries++) {
        usleep(50000);
        r = admin("PING", NULL);
    }
    if (r)
        freeReplyObject(r);
    return r != NULL;
}

/* server_stop - kill it and wait */
static void server_stop(void)
{
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
}

/* test_syntax - policy_rate_db values */
static void test_syntax(void)
{
    static const char *good[] = {"redis:127.0.0.1:6379", "redis:localhost", "redis:[::1]:7000",
    "redis:unix:/run/redis/redis.sock", "redis:redis.example.org:6380"};
    static const struct {
        const char *spec, *why;
    } bad[] = {
        {"redis:", "redis:HOST:PORT"}, {"redis:host:0", "bad port"}, {"redis:host:x", "bad port"},
        {"redis:host:", "bad port"}, {"redis:host:70000", "bad port"},
        {"redis:unix:relative", "absolute path"}, {"redis:[::1", "bad redis:[ADDRESS]"},
        {"redis:a/b:1", "redis:HOST:PORT"}, {"mysql:x", "is not lmdb:/path"},
    };
    VBUF   *err = vbuf_alloc(1024);
    STORE  *st;
    size_t  i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        st = store_create(good[i], err);
        UT_CHECK(st && st->ops == &store_redis_ops, "%s: %s", good[i], vbuf_str(err));
        store_free(st);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vbuf_reset(err);
        st = store_create(bad[i].spec, err);
        UT_CHECK(st == NULL && strstr(vbuf_str(err), bad[i].why), "%s: got \"%s\", want \"%s\"",
                 bad[i].spec, vbuf_str(err), bad[i].why);
        store_free(st);
    }
    vbuf_free(err);
}

/* spec - "redis:127.0.0.1:PORT" */
static const char *spec(void)
{
    static char buf[64];

    snprintf(buf, sizeof(buf), "redis:127.0.0.1:%d", port);
    return buf;
}

/* test_same_as_rate_step - the script against the C arithmetic */
static void test_same_as_rate_step(void)
{
    static const long steps[][3] = {    /* now offset, count, window */
        {0, 1, 100}, {1, 1, 100}, {2, 1, 100}, {3, 1, 100}, {3, 0, 100}, {99, 1, 100},
        {120, 1, 100}, {150, 1, 100}, {175, 0, 100}, {199, 1, 100}, {260, 1, 100},
        {480, 1, 100}, {481, 1, 60}, {490, 1, 60}, {400, 1, 60}, {401, 1, 60},
    };
    VBUF   *err = vbuf_alloc(1024);
    STORE  *st = store_create(spec(), err);
    RATE_REC rec;
    RATE_QUERY q;
    RATE_ANSWER a, b;
    size_t  i;
    int     same = 0, found = 0;

    memset(&rec, 0, sizeof(rec));
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        q.key = "same|k";
        q.now = 1800000000 + steps[i][0];
        q.count = (int)steps[i][1];
        q.window = steps[i][2];
        q.limit = 4;
        rate_step(&rec, found, &q, &a);
        found = 1;
        if (store_hit(st, &q, &b, err) < 0) {
            UT_CHECK(0, "hit %zu: %s", i, vbuf_str(err));
            break;
        }
        UT_CHECK(fabs(a.estimate - b.estimate) < 1e-9 && a.over == b.over,
                 "step %zu: C %.4f/%d, redis %.4f/%d", i, a.estimate, a.over, b.estimate, b.over);
        same += fabs(a.estimate - b.estimate) < 1e-9 && a.over == b.over;
    }
    UT_EQ_INT(same, (long)(sizeof(steps) / sizeof(steps[0])), "every step the same");
    store_free(st);
    vbuf_free(err);
}

/* hit_n - n counted hits of key from a store of our own; how many fit */
static int hit_n(const char *key, int n, long limit, time_t now)
{
    VBUF   *err = vbuf_alloc(1024);
    STORE  *st = store_create(spec(), err);
    RATE_QUERY q = {key, 3600, limit, now, 1};
    RATE_ANSWER a;
    int     i, fit = 0;

    for (i = 0; i < n; i++)
        if (store_hit(st, &q, &a, err) == 0 && !a.over)
            fit++;
    store_free(st);
    vbuf_free(err);
    return fit;
}

/* test_two_processes - no count lost, the limit held across both */
static void test_two_processes(void)
{
    time_t  now = 1800000000;
    pid_t   kids[2];
    int     i, st, total = 0;

    for (i = 0; i < 2; i++)
        if ((kids[i] = fork()) == 0)
            _exit(hit_n("two|bob", 500, 100000, now) == 500 ? 0 : 1);
    for (i = 0; i < 2; i++)
        if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st))
            total += WEXITSTATUS(st) == 0 ? 500 : 0;
    UT_EQ_INT(total, 1000, "two processes: every hit fit");
    UT_EQ_INT(hit_n("two|bob", 1, 100000, now), 1, "one more fits");
    {
        redisReply *r = admin("HGET postsift:two|bob %s", "cur");

        UT_CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "1001") == 0,
                 "1001 counted: %s", r && r->str ? r->str : "(none)");
        if (r)
            freeReplyObject(r);
    }
    for (i = 0; i < 2; i++)
        if ((kids[i] = fork()) == 0)
            _exit(hit_n("lim|carol", 60, 50, now));
    for (total = 0, i = 0; i < 2; i++)
        if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st))
            total += WEXITSTATUS(st);
    UT_EQ_INT(total, 50, "a limit of 50 held across two processes");
}

/* test_expiry - a key lives two windows from its bucket's start */
static void test_expiry(void)
{
    time_t  now = time(NULL);
    redisReply *r;

    hit_n("exp|dave", 1, 10, now);
    r = admin("TTL %s", "postsift:exp|dave");
    UT_CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer > 3600 && r->integer <= 7200,
             "TTL between one and two windows: %lld", r ? (long long)r->integer : -1LL);
    if (r)
        freeReplyObject(r);
    hit_n("exp|old", 1, 10, now - 3 * 3600);
    r = admin("EXISTS %s", "postsift:exp|old");
    UT_CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0,
             "a counter past two windows is gone at once");
    if (r)
        freeReplyObject(r);
}

/* test_failures - script flushed, connection killed, server gone and back */
static void test_failures(void)
{
    char    set[700];
    VBUF   *err = vbuf_alloc(1024);
    ENGINE *eng;
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;
    redisReply *r;
    FILE   *fp;

    snprintf(set, sizeof(set), "%s/rate.rules", dir);
    fp = fopen(set, "w");
    fputs("lim: => rate sasl_username/100/1h\nrest: => OK\n", fp);
    fclose(fp);
    snprintf(set, sizeof(set), "policy_rules=%s/rate.rules", dir);
    ut_set(set);
    snprintf(set, sizeof(set), "policy_rate_db=%s", spec());
    ut_set(set);
    ut_set("policy_store_timeout=1s");
    eng = engine_load(err);
    UT_CHECK(eng != NULL, "redis rules load: %s", vbuf_str(err));
    if (eng == NULL)
        return;
    request_init(req);
    request_add(req, "request", "smtpd_access_policy");
    request_add(req, "protocol_state", "RCPT");
    request_add(req, "sasl_username", "erin");
    request_add(req, "recipient_count", "0");
    engine_decision_init(&d);
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "OK", "counted");
    if ((r = admin("SCRIPT %s", "FLUSH")) != NULL)
        freeReplyObject(r);
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "OK", "script flushed: EVAL again");
    if ((r = admin("CLIENT KILL TYPE %s", "normal")) != NULL)
        freeReplyObject(r);
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "OK", "connection killed: reconnected in the request");
    server_stop();
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "DEFER_IF_PERMIT Service temporarily unavailable",
              "server gone: the fail action");
    UT_CHECK(strstr(vbuf_str(d.detail), "redis") != NULL, "why: %s", vbuf_str(d.detail));
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "DEFER_IF_PERMIT Service temporarily unavailable",
              "still gone: the fail action");
    UT_CHECK(server_start(), "redis-server back");
    engine_decide(eng, req, time(NULL), &d);
    UT_EQ_STR(vbuf_str(d.action), "OK", "server back: counting again");
    r = admin("HGET postsift:lim|erin %s", "cur");
    UT_CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") == 0,
             "a fresh server counts from 1: %s", r && r->str ? r->str : "(none)");
    if (r)
        freeReplyObject(r);
    engine_decision_free(&d);
    request_reset(req);
    myfree(req);
    engine_free(eng);
    vbuf_free(err);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_policy_redis");
    msg_init("test_policy_redis", 0);
    config_init();
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_syntax();
    if (system("command -v redis-server >/dev/null 2>&1") != 0) {
        printf("SKIP: redis-server is not installed (scripts/install-deps installs it);"
               " only the syntax was tested\n");
    } else {
        port = free_port();
        UT_CHECK(server_start(), "a private redis-server on 127.0.0.1:%d", port);
        test_same_as_rate_step();
        test_two_processes();
        test_expiry();
        test_failures();
        server_stop();
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        msg_warn("cannot remove %s", dir);
    return ut_done();
}
