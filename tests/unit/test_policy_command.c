/*
 * test_policy_command - the "command PATH ATTR..." rule
 *
 * Programs written by the test into a private directory: a clean exit
 * (the next rule answers), exit 1 with a reason (REJECT with it), exit 1
 * with junk or a 4xx code (plain REJECT), a crash (kill -SEGV of itself),
 * a hang past policy_command_timeout (killed in time with its child,
 * DEFER_IF_PERMIT), a program that cannot run, an address full of shell
 * metacharacters (reaches argv byte for byte, runs nothing), an absent
 * attribute (an empty argument), the environment (clean), the cache (one
 * run for the same arguments until the TTL, failures never kept), and
 * the rule syntax errors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/rules.h"
#include "tests/unit/unittest.h"

static char dir[] = "/tmp/test_policy_command.XXXXXX";

/* write_file - dir/name with text and mode; its path (static slot) */
static const char *write_file(const char *name, const char *text, int mode)
{
    static char paths[8][512];
    static int next;
    char   *path = paths[next++ % 8];
    FILE   *fp;

    snprintf(path, 512, "%s/%s", dir, name);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
    return path;
}

/* slurp - a file's contents ("" when absent), into out */
static const char *slurp(const char *name, VBUF *out)
{
    char    path[512], buf[4096];
    ssize_t n;
    int     fd;

    vbuf_reset(out);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY)) >= 0) {
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            vbuf_append(out, buf, (size_t)n);
        close(fd);
    }
    return vbuf_str(out);
}

/* load - an engine for rules text; NULL with the error in err */
static ENGINE *load(const char *text, VBUF *err)
{
    char    set[700];

    snprintf(set, sizeof(set), "policy_rules=%s", write_file("cmd.rules", text, 0644));
    ut_set(set);
    return engine_load(err);
}

/* decide - the answer for one RCPT request to rcpt at now */
static const char *decide(ENGINE *eng, const char *rcpt, time_t now, VBUF *out)
{
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;

    request_init(req);
    engine_decision_init(&d);
    request_add(req, "request", "smtpd_access_policy");
    request_add(req, "protocol_state", "RCPT");
    request_add(req, "sender", "s@example.com");
    request_add(req, "recipient", rcpt);
    engine_decide(eng, req, now, &d);
    vbuf_strcpy(out, vbuf_str(d.action));
    engine_decision_free(&d);
    request_reset(req);
    myfree(req);
    return vbuf_str(out);
}

/* rules_for - "c: => command PROG recipient sender\nrest: => OK\n" */
static const char *rules_for(const char *prog, char *buf, size_t len)
{
    snprintf(buf, len, "c: recipient_domain=example.org\n"
             "  => command %s/%s recipient sender\nrest: => OK\n", dir, prog);
    return buf;
}

/* test_exits - 0 goes on, 1 refuses with or without a reason, others defer */
static void test_exits(void)
{
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    char    rules[1024];
    ENGINE *eng;

    write_file("ok", "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/ok.log\"\nexit 0\n", 0755);
    write_file("no", "#!/bin/sh\necho '5.7.1 no mail for' \"$1\"\necho second line\nexit 1\n", 0755);
    write_file("junk", "#!/bin/sh\nprintf 'bad\\033[1mtext\\n'\nexit 1\n", 0755);
    write_file("four", "#!/bin/sh\necho '4.7.1 try later'\nexit 1\n", 0755);
    write_file("two", "#!/bin/sh\nexit 2\n", 0755);
    write_file("segv", "#!/bin/sh\nkill -SEGV $$\nsleep 5\n", 0755);
    ut_set("policy_command_cache_ttl=0");
    eng = load(rules_for("ok", rules, sizeof(rules)), err);
    UT_CHECK(eng != NULL, "ok rules load: %s", vbuf_str(err));
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out), "OK", "exit 0: the next rule answers");
    UT_EQ_STR(decide(eng, "a@example.net", 1000, out), "OK", "not matched: not run");
    UT_EQ_STR(slurp("ok.log", out), "a@example.org s@example.com\n", "arguments: recipient, sender");
    engine_free(eng);
    eng = load(rules_for("no", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out), "REJECT 5.7.1 no mail for a@example.org",
              "exit 1: REJECT with the first line");
    engine_free(eng);
    eng = load(rules_for("junk", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out), "REJECT", "exit 1, escape codes: plain");
    engine_free(eng);
    eng = load(rules_for("four", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out), "REJECT", "exit 1, a 4.x.x text: plain");
    engine_free(eng);
    eng = load(rules_for("two", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out),
              "DEFER_IF_PERMIT Service temporarily unavailable", "exit 2: defer");
    engine_free(eng);
    eng = load(rules_for("segv", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out),
              "DEFER_IF_PERMIT Service temporarily unavailable", "a crash: defer");
    engine_free(eng);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_hang - past the deadline: killed, with what it started */
static void test_hang(void)
{
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    char    rules[1024];
    ENGINE *eng;
    time_t  t0;

    write_file("hang", "#!/bin/sh\n(sleep 30; echo late > \"$(dirname \"$0\")/late\") &\n"
               "sleep 30\n", 0755);
    ut_set("policy_command_timeout=1s");
    eng = load(rules_for("hang", rules, sizeof(rules)), err);
    t0 = time(NULL);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out),
              "DEFER_IF_PERMIT Service temporarily unavailable", "a hang: defer");
    UT_CHECK(time(NULL) - t0 <= 3, "killed at the deadline (%ld s)", (long)(time(NULL) - t0));
    engine_free(eng);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_meta - shell metacharacters reach argv verbatim and run nothing */
static void test_meta(void)
{
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    const char *evil = "a;touch /tmp/x$(id)@example.org";
    char    rules[1024], made[256];
    ENGINE *eng;

    snprintf(made, sizeof(made), "/tmp/x$(id)@example.org");
    unlink(made);
    write_file("arg", "#!/bin/sh\nprintf '%s' \"$1\" > \"$(dirname \"$0\")/arg.out\"\n"
               "env > \"$(dirname \"$0\")/env.out\"\nexit 0\n", 0755);
    eng = load(rules_for("arg", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, evil, 1000, out), "OK", "metacharacters: exit 0");
    UT_EQ_STR(slurp("arg.out", out), evil, "argv[1] byte for byte");
    UT_CHECK(access(made, F_OK) < 0 && access("/tmp/xuid=0(root)", F_OK) < 0
             && access("/tmp/x", F_OK) < 0, "nothing was run");
    slurp("env.out", out);
    UT_CHECK(strstr(vbuf_str(out), "PATH=/usr/bin:/bin") != NULL
             && strstr(vbuf_str(out), "HOME=") == NULL, "a clean environment: %s", vbuf_str(out));
    engine_free(eng);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_cache - one run per argv until the TTL; failures not kept */
static void test_cache(void)
{
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1024);
    char    rules[1024];
    ENGINE *eng;

    write_file("count", "#!/bin/sh\necho x >> \"$(dirname \"$0\")/count.log\"\n"
               "case $1 in bad*) echo 'no'; exit 1;; fail*) exit 3;; esac\nexit 0\n", 0755);
    ut_set("policy_command_cache_ttl=60s");
    ut_set("policy_command_timeout=5s");
    eng = load(rules_for("count", rules, sizeof(rules)), err);
    UT_EQ_STR(decide(eng, "a@example.org", 1000, out), "OK", "cache: first");
    UT_EQ_STR(decide(eng, "a@example.org", 1030, out), "OK", "cache: again");
    UT_EQ_STR(slurp("count.log", out), "x\n", "one run for two requests");
    UT_EQ_STR(decide(eng, "b@example.org", 1030, out), "OK", "cache: another address");
    UT_EQ_STR(decide(eng, "a@example.org", 1061, out), "OK", "cache: past the TTL");
    UT_EQ_STR(slurp("count.log", out), "x\nx\nx\n", "runs again past the TTL");
    UT_EQ_STR(decide(eng, "bad@example.org", 1100, out), "REJECT no", "cache: reject");
    UT_EQ_STR(decide(eng, "bad@example.org", 1101, out), "REJECT no", "cache: reject kept");
    UT_EQ_STR(decide(eng, "fail@example.org", 1100, out),
              "DEFER_IF_PERMIT Service temporarily unavailable", "cache: failure");
    UT_EQ_STR(decide(eng, "fail@example.org", 1101, out),
              "DEFER_IF_PERMIT Service temporarily unavailable", "cache: failure again");
    UT_EQ_STR(slurp("count.log", out), "x\nx\nx\nx\nx\nx\n", "reject kept, failure run twice");
    engine_free(eng);
    vbuf_free(err);
    vbuf_free(out);
}

/* test_syntax - rule errors */
static void test_syntax(void)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"c: => command", "needs PATH"},
        {"c: => command relative/prog recipient", "absolute path"},
        {"c: => command /nonexistent/prog recipient", "No such file"},
        {"c: => command /tmp recipient", "not a regular file"},
        {"c: => command /bin/true", "needs PATH ATTR"},
        {"c: => command /bin/true recipent", "unknown attribute \"recipent\""},
        {"c: => command /bin/true a b c d e f g h i", "unknown attribute"},
        {"c: => command /bin/true sender sender sender sender sender sender sender sender sender",
         "at most 8"},
    };
    VBUF   *err = vbuf_alloc(1024);
    RULE    rule;
    size_t  i;
    char    plain[700];

    snprintf(plain, sizeof(plain), "c: => command %s recipient",
             write_file("plain", "#!/bin/sh\n", 0644));
    UT_CHECK(rules_parse_line(&rule, plain, err) < 0 && strstr(vbuf_str(err), "not executable"),
             "mode 0644: %s", vbuf_str(err));
    rules_rule_free(&rule);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_reset(err);
        UT_CHECK(rules_parse_line(&rule, cases[i].text, err) < 0
                 && strstr(vbuf_str(err), cases[i].why) != NULL,
                 "%s: got \"%s\", want \"%s\"", cases[i].text, vbuf_str(err), cases[i].why);
        rules_rule_free(&rule);
    }
    UT_CHECK(rules_parse_line(&rule, "c: sasl=yes => command /bin/true sasl_username sender", err) == 0
             && rule.kind == RULE_COMMAND && rule.cmd_nattr == 2
             && strcmp(rule.cmd_attrs[1], "sender") == 0, "a good rule: %s", vbuf_str(err));
    rules_rule_free(&rule);
    vbuf_free(err);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_policy_command");
    msg_init("test_policy_command", 0);
    config_init();
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_syntax();
    test_exits();
    test_hang();
    test_meta();
    test_cache();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        msg_warn("cannot remove %s", dir);
    return ut_done();
}
