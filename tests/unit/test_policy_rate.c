/*
 * test_policy_rate - rate limits: the window arithmetic, the LMDB store
 * shared by two processes, and a store that fails
 *
 * rate_step() against hand-computed two-bucket counts; window texts;
 * long keys; two forked processes counting the same key in one LMDB
 * file (no count lost, the limit held across both); the counts after
 * the store is closed and opened again (a restart); a rate rule counting
 * once per message (first recipient) and the N+1st message deferred;
 * a store that cannot be opened answers policy_store_fail_action.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/rate.h"
#include "policy/store.h"
#include "tests/unit/unittest.h"

static char dir[] = "/tmp/test_policy_rate.XXXXXX";

/* test_step - the two-bucket arithmetic */
static void test_step(void)
{
    RATE_REC rec;
    RATE_QUERY q = {"k", 100, 10, 1000, 1};
    RATE_ANSWER a;
    int     i;

    memset(&rec, 0, sizeof(rec));
    rate_step(&rec, 0, &q, &a);
    UT_CHECK(!a.over && a.estimate == 1 && rec.cur == 1 && rec.start == 1000, "first message");
    for (i = 0; i < 9; i++)
        rate_step(&rec, 1, &q, &a);
    UT_CHECK(!a.over && rec.cur == 10, "tenth message fits (cur %u)", rec.cur);
    rate_step(&rec, 1, &q, &a);
    UT_CHECK(a.over && rec.cur == 10, "eleventh is over and not counted");
    q.count = 0;
    rate_step(&rec, 1, &q, &a);
    UT_CHECK(!a.over && a.estimate == 10, "a check at the limit is not over");
    /* 75 s into the next bucket: 10 * 25/100 of the old one is left */
    q.count = 1;
    q.now = 1175;
    rate_step(&rec, 1, &q, &a);
    UT_CHECK(!a.over && rec.prev == 10 && rec.cur == 1 && fabs(a.estimate - 3.5) < 1e-9,
             "sliding: 2.5 left of the last bucket, plus one (%.2f)", a.estimate);
    q.now = 1400;
    rate_step(&rec, 1, &q, &a);
    UT_CHECK(rec.prev == 0 && rec.cur == 1 && a.estimate == 1, "two windows later: fresh");
    q.window = 50;
    rate_step(&rec, 1, &q, &a);
    UT_CHECK(rec.window == 50 && rec.cur == 1, "a new window resets the record");
    UT_CHECK(rate_stale(&rec, 1400 + 100) && !rate_stale(&rec, 1400 + 99), "stale after 2 windows");
    UT_EQ_INT(rate_parse_window("90"), 90, "90");
    UT_EQ_INT(rate_parse_window("15m"), 900, "15m");
    UT_EQ_INT(rate_parse_window("1h"), 3600, "1h");
    UT_EQ_INT(rate_parse_window("2d"), 172800, "2d");
    UT_EQ_INT(rate_parse_window("0"), -1, "0");
    UT_EQ_INT(rate_parse_window("1w"), -1, "w");
    UT_EQ_INT(rate_parse_window("h"), -1, "h alone");
}

/* test_key - keys: lowercased, long ones hashed */
static void test_key(void)
{
    VBUF   *k = vbuf_alloc(2048);
    char    long_value[1000];

    rate_key(k, "r1", "Bob@Example.ORG");
    UT_EQ_STR(vbuf_str(k), "r1|bob@example.org", "key lowercased");
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = 0;
    rate_key(k, "r1", long_value);
    UT_CHECK(vbuf_len(k) == 3 + 7 + 64 && strncmp(vbuf_str(k), "r1|sha256:", 10) == 0,
             "long key hashed: %s", vbuf_str(k));
    vbuf_free(k);
}

/* hit_n - n counts of key in a store; how many were let through */
static int hit_n(const char *spec, const char *key, int n, long limit, time_t now)
{
    VBUF   *err = vbuf_alloc(1024);
    STORE  *st = store_create(spec, err);
    RATE_QUERY q = {key, 3600, limit, now, 1};
    RATE_ANSWER a;
    int     i, fits = 0;

    for (i = 0; st && i < n; i++) {
        if (store_hit(st, &q, &a, err) < 0) {
            fprintf(stderr, "store_hit: %s\n", vbuf_str(err));
            break;
        }
        fits += !a.over;
    }
    store_free(st);
    vbuf_free(err);
    return fits;
}

/* estimate - the count of key without adding to it; -1 on error */
static double estimate(const char *spec, const char *key, time_t now)
{
    VBUF   *err = vbuf_alloc(1024);
    STORE  *st = store_create(spec, err);
    RATE_QUERY q = {key, 3600, 1000000, now, 0};
    RATE_ANSWER a;
    double  e = -1;

    if (st && store_hit(st, &q, &a, err) == 0)
        e = a.estimate;
    store_free(st);
    vbuf_free(err);
    return e;
}

/* test_two_processes - one LMDB file, two writers */
static void test_two_processes(void)
{
    char    spec[600];
    pid_t   pid[2];
    int     i, st, fits = 0;
    time_t  now = 1800000000;

    snprintf(spec, sizeof(spec), "lmdb:%s/db/rate.lmdb", dir);
    for (i = 0; i < 2; i++)
        if ((pid[i] = fork()) == 0)
            _exit(hit_n(spec, "shared", 500, 1000000, now) == 500 ? 0 : 1);
    for (i = 0; i < 2; i++) {
        waitpid(pid[i], &st, 0);
        UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process %d counted 500", i);
    }
    UT_CHECK(estimate(spec, "shared", now) == 1000, "no count lost: %.0f of 1000",
             estimate(spec, "shared", now));
    UT_CHECK(estimate(spec + 5, "shared", now) == 1000, "a bare path is the same store");

    /* the limit holds across processes: 2 x 40 tries, 50 let through */
    for (i = 0; i < 2; i++)
        if ((pid[i] = fork()) == 0)
            _exit(hit_n(spec, "limited", 40, 50, now));
    for (i = 0; i < 2; i++) {
        waitpid(pid[i], &st, 0);
        fits += WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    }
    UT_EQ_INT(fits, 50, "exactly the limit let through by two processes");
    /* now starts a bucket: half way into the next one, half of it is left */
    UT_CHECK(estimate(spec, "limited", now + 1800) == 50, "same bucket: 50");
    UT_CHECK(estimate(spec, "limited", now + 5400) == 25, "half a window on: 25 left (%.1f)",
             estimate(spec, "limited", now + 5400));
    UT_CHECK(hit_n(spec, "limited", 30, 50, now + 5400) == 25, "and 25 more fit");
}

/* write_rules - dir/name with text; its path (static) */
static const char *write_rules(const char *name, const char *text)
{
    static char path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* decide - the answer for one RCPT request */
static const char *decide(ENGINE *eng, const char *user, const char *count, time_t now,
                          VBUF *out)
{
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;

    request_init(req);
    engine_decision_init(&d);
    request_add(req, "request", "smtpd_access_policy");
    request_add(req, "protocol_state", "RCPT");
    request_add(req, "sasl_username", user);
    request_add(req, "recipient_count", count);
    engine_decide(eng, req, now, &d);
    vbuf_strcpy(out, vbuf_str(d.action));
    engine_decision_free(&d);
    request_reset(req);
    myfree(req);
    return vbuf_str(out);
}

/* test_rule - once per message, the N+1st deferred, the window moving */
static void test_rule(void)
{
    char    set[700];
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    ENGINE *eng;
    time_t  now = 1800000000;
    int     i;

    snprintf(set, sizeof(set), "policy_rules=%s", write_rules("rate.rules",
             "lim: => rate sasl_username/3/1h\nrest: => OK\n"));
    ut_set(set);
    snprintf(set, sizeof(set), "policy_rate_db=%s/db/rule.lmdb", dir);
    ut_set(set);
    eng = engine_load(err);
    UT_CHECK(eng != NULL, "rate rules load: %s", vbuf_str(err));
    if (eng == NULL)
        return;
    for (i = 0; i < 3; i++) {
        UT_EQ_STR(decide(eng, "bob", "0", now, out), "OK", "first recipient of a message");
        UT_EQ_STR(decide(eng, "bob", "1", now, out), "OK", "second recipient: not counted");
    }
    UT_EQ_STR(decide(eng, "bob", "0", now, out), "DEFER_IF_PERMIT", "the 4th message");
    UT_EQ_STR(decide(eng, "Bob", "0", now, out), "DEFER_IF_PERMIT", "the same user in capitals");
    UT_EQ_STR(decide(eng, "carol", "0", now, out), "OK", "another user");
    UT_EQ_STR(decide(eng, "", "0", now, out), "OK", "no user: not counted");
    UT_EQ_STR(decide(eng, "bob", "0", now + 7200, out), "OK", "after the window");
    engine_free(eng);

    /* survives a restart */
    eng = engine_load(err);
    UT_EQ_STR(decide(eng, "carol", "0", now, out), "OK", "restart: carol's 2nd");
    UT_EQ_STR(decide(eng, "carol", "0", now, out), "OK", "restart: carol's 3rd");
    UT_EQ_STR(decide(eng, "carol", "0", now, out), "DEFER_IF_PERMIT", "restart: carol's 4th");
    engine_free(eng);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_store_fail - a store that cannot work: the fail action */
static void test_store_fail(void)
{
    char    set[700], path[600];
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    ENGINE *eng;
    int     fd;

    /* a file that is not an LMDB database */
    snprintf(path, sizeof(path), "%s/junk", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/junk/rate.lmdb", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    UT_CHECK(fd >= 0 && write(fd, "this is not a database, not at all; " "0123456789abcdef"
                              "0123456789abcdef0123456789abcdef0123456789abcdef", 100) == 100,
             "junk written");
    close(fd);
    snprintf(set, sizeof(set), "policy_rate_db=%s", path);
    ut_set(set);
    eng = engine_load(err);
    UT_CHECK(eng != NULL, "a broken store does not stop the load: %s", vbuf_str(err));
    if (eng) {
        UT_EQ_STR(decide(eng, "bob", "0", 1800000000, out),
                  "DEFER_IF_PERMIT Service temporarily unavailable", "junk store: fail action");
        engine_free(eng);
    }
    /* a directory others may write; a chosen fail action */
    snprintf(path, sizeof(path), "%s/open", dir);
    mkdir(path, 0777);
    chmod(path, 0777);
    snprintf(set, sizeof(set), "policy_rate_db=%s/open/rate.lmdb", dir);
    ut_set(set);
    ut_set("policy_store_fail_action=DUNNO");
    eng = engine_load(err);
    if (eng) {
        UT_EQ_STR(decide(eng, "bob", "0", 1800000000, out), "DUNNO", "open directory: DUNNO");
        engine_free(eng);
    }
    ut_set("policy_store_fail_action=MAYBE");
    UT_CHECK(engine_load(err) == NULL && strstr(vbuf_str(err), "policy_store_fail_action"),
             "a bad fail action is a load error: %s", vbuf_str(err));
    ut_set("policy_rate_db=relative/path");
    ut_set("policy_store_fail_action=DEFER_IF_PERMIT");
    UT_CHECK(engine_load(err) == NULL && strstr(vbuf_str(err), "policy_rate_db"),
             "a relative path is a load error: %s", vbuf_str(err));
    vbuf_free(err);
    vbuf_free(out);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_policy_rate");
    msg_init("test_policy_rate", 0);
    config_init();
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_step();
    test_key();
    test_two_processes();
    test_rule();
    test_store_fail();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        msg_warn("cannot remove %s", dir);
    return ut_done();
}
