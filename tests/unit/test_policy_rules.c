/*
 * test_policy_rules - the rules file: syntax errors, each kind of
 * condition, actions, and the order of evaluation
 *
 * Table-driven: rule lines that must be refused (with the reason),
 * files whose errors must name FILE, line N; each condition kind against
 * requests that must and must not match; engine_decide() for first match
 * wins, checks that let a request through, and DUNNO when nothing
 * answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/action.h"
#include "policy/engine.h"
#include "policy/request.h"
#include "policy/rules.h"
#include "tests/unit/unittest.h"

static char dir[] = "/tmp/test_policy_rules.XXXXXX";

/* write_file - dir/name with text; the path in a static buffer */
static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* test_bad_lines - rule lines that must be refused, and why */
static void test_bad_lines(void)
{
    static const struct {
        const char *line, *why;
    }       cases[] = {
        {"noname => DUNNO", "NAME:"},
        {": sender=a => DUNNO", "NAME:"},
        {"r: sender=a", "no \"=> ACTION\""},
        {"r: sender=a =>", "no action"},
        {"r: sender=a => ACCEPT", "unknown action"},
        {"r: sender=a => DUNNO please", "takes no text"},
        {"r: sender=a => filter", "needs an argument"},
        {"r: sender=a => filter smtp", "transport:destination"},
        {"r: sendr=a => DUNNO", "unknown attribute \"sendr\""},
        {"r: sender => DUNNO", "expected =, !=, ~/regexp/ or \"in\""},
        {"r: sender~abc => DUNNO", "needs /regexp/"},
        {"r: sender~/abc => DUNNO", "without its closing /"},
        {"r: sender~/a(b/ => DUNNO", "bad regexp"},
        {"r: sender~/a/x => DUNNO", "unexpected text"},
        {"r: sender=\"abc => DUNNO", "unterminated"},
        {"r: client_address in 10.0.0.1/8 => DUNNO", "host bits set"},
        {"r: client_address in 10.0.0.0/33 => DUNNO", "prefix length"},
        {"r: client_address in example.org => DUNNO", "not a numeric address"},
        {"r: sender in file:relative => DUNNO", "absolute path"},
        {"r: sender in file:/nonexistent/table => DUNNO", "cannot open table"},
        {"r: => signed_address maybe", "required or optional"},
        {"r: => rate sasl_username/10", "KEY/N/WINDOW"},
        {"r: => rate nosuch/10/1h", "unknown attribute"},
        {"r: => rate sender/0/1h", "above 0"},
        {"r: => rate sender/x/1h", "above 0"},
        {"r: => rate sender/10/1y", "bad window"},
        {"r: => rate sender/10/400d", "bad window"},
        {"r: => rate sender/10/1h/MAYBE", "unknown action"},
        {"r: => REJECT t\x01xt", "printable"},
    };
    VBUF   *err = vbuf_alloc(1024);
    RULE    rule;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_reset(err);
        UT_CHECK(rules_parse_line(&rule, cases[i].line, err) < 0, "refused: %s", cases[i].line);
        UT_CHECK(strstr(vbuf_str(err), cases[i].why) != NULL, "%s: error \"%s\" says \"%s\"",
                 cases[i].line, vbuf_str(err), cases[i].why);
        rules_rule_free(&rule);
    }
    vbuf_free(err);
}

/* test_good_lines - accepted rules and their answers */
static void test_good_lines(void)
{
    static const struct {
        const char *line;
        RULE_KIND kind;
        const char *answer;
    }       cases[] = {
        {"r: => dunno", RULE_ANSWER, "DUNNO"},
        {"r: sender=a => REJECT 5.7.1 go away", RULE_ANSWER, "REJECT 5.7.1 go away"},
        {"r: => filter smtp:[127.0.0.1]:10025", RULE_ANSWER, "FILTER smtp:[127.0.0.1]:10025"},
        {"r: => 450 4.7.1 later", RULE_ANSWER, "450 4.7.1 later"},
        {"r: => HOLD", RULE_ANSWER, "HOLD"},
        {"r: => signed_address", RULE_SIGNED, NULL},
        {"r: => rate sasl_username/200/1h", RULE_RATE, "DEFER_IF_PERMIT"},
        {"r: => rate sender_domain/5/90/REJECT 5.7.1 slow down", RULE_RATE,
         "REJECT 5.7.1 slow down"},
        {"r-1.x: !sender=\"a b\" sender!=c recipient~/^x\\/y/i => OK", RULE_ANSWER, "OK"},
    };
    VBUF   *err = vbuf_alloc(1024);
    RULE    rule;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_reset(err);
        UT_CHECK(rules_parse_line(&rule, cases[i].line, err) == 0, "%s: %s", cases[i].line,
                 vbuf_str(err));
        UT_EQ_INT(rule.kind, cases[i].kind, cases[i].line);
        if (cases[i].answer)
            UT_EQ_STR(rule.answer, cases[i].answer, cases[i].line);
        rules_rule_free(&rule);
    }
    UT_CHECK(rules_parse_line(&rule, "r: => rate sender/5/2h", err) == 0 && rule.rate_window == 7200
             && rule.rate_limit == 5, "rate window 2h is 7200 s");
    rules_rule_free(&rule);
    UT_CHECK(rules_parse_line(&rule, "r: => signed_address optional", err) == 0
             && rule.required == 0, "signed_address optional");
    rules_rule_free(&rule);
    vbuf_free(err);
}

/* test_files - errors in files name the file and the line */
static void test_files(void)
{
    static const struct {
        const char *text, *why;
    }       cases[] = {
        {"# c\n\na: => DUNNO\nb: sender=x\n", ", line 4: rule b has no"},
        {"a: sender=x\n  => DUNNO\nb: => BOGUS\n", ", line 3: unknown action"},
        {"a: sender=x\n  => DUNNO\na: => OK\n", ", line 3: rule name a already used in line 1"},
        {"  => DUNNO\n", ", line 1: continuation line without a rule"},
    };
    VBUF   *err = vbuf_alloc(1024);
    RULES  *rules;
    const char *path;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        path = write_file("bad.rules", cases[i].text);
        rules = rules_load(path, err);
        UT_CHECK(rules == NULL, "file %zu refused", i);
        UT_CHECK(strncmp(vbuf_str(err), path, strlen(path)) == 0
                 && strstr(vbuf_str(err), cases[i].why) != NULL,
                 "file %zu: error \"%s\" names the file and \"%s\"", i, vbuf_str(err), cases[i].why);
        rules_free(rules);
    }
    rules = rules_load("/nonexistent/rules", err);
    UT_CHECK(rules == NULL && strstr(vbuf_str(err), "cannot open") != NULL, "missing file");
    path = write_file("good.rules", "a: sender=x\n  recipient=y\n  => DUNNO\n\nb: => OK\n");
    rules = rules_load(path, err);
    UT_CHECK(rules && rules->count == 2 && rules->rules[0].ncond == 2 && rules->rules[1].line == 5,
             "continuation lines join one rule: %s", vbuf_str(err));
    rules_free(rules);
    vbuf_free(err);
}

/* req_of - a request from "name=value;name=value" */
static void req_of(REQUEST *req, const char *spec)
{
    char   *copy = mystrdup(spec), *item, *save = NULL, *eq;

    request_reset(req);
    request_add(req, "request", "smtpd_access_policy");
    for (item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save))
        if ((eq = strchr(item, '=')) != NULL) {
            *eq = 0;
            request_add(req, item, eq + 1);
        }
    myfree(copy);
}

/* test_match - each condition kind, matching and not */
static void test_match(void)
{
    char   *table = mystrdup(write_file("senders", "# senders\nBoss@Example.ORG\n  .lists.example\n"));
    char   *nets = mystrdup(write_file("nets", "10.1.0.0/16\n2001:db8::/32\n"));
    char    line[1024];
    static const struct {
        const char *cond, *req;
        int     want;
    }       cases[] = {
        {"sender=a@b.example", "sender=A@B.Example", 1},
        {"sender=a@b.example", "sender=a@c.example", 0},
        {"sasl_username=Bob", "sasl_username=bob", 0},
        {"sasl_username=Bob", "sasl_username=Bob", 1},
        {"sender_domain=b.example", "sender=x@B.EXAMPLE", 1},
        {"sender_domain=.example", "sender=x@b.example", 1},
        {"sender_domain=.example", "sender=x@example", 0},
        {"recipient_domain=d.example", "recipient=y@d.example", 1},
        {"sender=", "protocol_state=RCPT", 1},
        {"sender=", "sender=a@b", 0},
        {"!sender=a@b", "sender=a@b", 0},
        {"sender!=a@b", "sender=c@d", 1},
        {"sasl=yes", "sasl_username=bob", 1},
        {"sasl=no", "sasl_username=", 1},
        {"sender~/^[a-z]+@b\\.example$/", "sender=abc@b.example", 1},
        {"sender~/^[a-z]+@b\\.example$/", "sender=ABC@b.example", 0},
        {"sender~/^[a-z]+@b\\.example$/i", "sender=ABC@b.example", 1},
        {"recipient~/a\\/b/", "recipient=xa/by", 1},
        {"client_address in 192.0.2.0/24,198.51.100.7", "client_address=192.0.2.200", 1},
        {"client_address in 192.0.2.0/24,198.51.100.7", "client_address=198.51.100.7", 1},
        {"client_address in 192.0.2.0/24,198.51.100.7", "client_address=198.51.100.8", 0},
        {"client_address in 192.0.2.0/25", "client_address=192.0.2.128", 0},
        {"client_address in 2001:db8::/32", "client_address=2001:db8:1::5", 1},
        {"client_address in 2001:db8::/32", "client_address=2001:db9::5", 0},
        {"client_address in 192.0.2.0/24", "client_address=::ffff:192.0.2.9", 1},
        {"client_address in 192.0.2.0/24", "client_address=unknown", 0},
        {"sender in a@b,c@d", "sender=C@D", 1},
        {"sender in a@b,c@d", "sender=e@f", 0},
        {"helo_name in .example.org", "helo_name=mx.example.org", 1},
        {"protocol_state in RCPT,DATA", "protocol_state=rcpt", 0},
    };
    REQUEST *req = mymalloc(sizeof(*req));
    VBUF   *err = vbuf_alloc(1024), *scratch = vbuf_alloc(1024);
    RULE    rule;
    size_t  i;
    const struct {
        const char *cond, *req;
        int     want;
    }       files[] = {
        {"sender in file:", "sender=boss@example.org", 1},
        {"sender in file:", "sender=other@example.org", 0},
        {"sender_domain in file:", "sender=x@a.lists.example", 1},
        {"client_address in file:", "client_address=10.1.2.3", 1},
        {"client_address in file:", "client_address=10.2.2.3", 0},
        {"client_address in file:", "client_address=2001:db8::1", 1},
    };

    request_init(req);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "r: %s => OK", cases[i].cond);
        UT_CHECK(rules_parse_line(&rule, line, err) == 0, "%s: %s", line, vbuf_str(err));
        req_of(req, cases[i].req);
        UT_EQ_INT(rules_match(&rule, req, scratch), cases[i].want, line);
        rules_rule_free(&rule);
    }
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(line, sizeof(line), "r: %s%s => OK", files[i].cond, i < 3 ? table : nets);
        UT_CHECK(rules_parse_line(&rule, line, err) == 0, "%s: %s", line, vbuf_str(err));
        req_of(req, files[i].req);
        UT_EQ_INT(rules_match(&rule, req, scratch), files[i].want, line);
        rules_rule_free(&rule);
    }
    request_reset(req);
    myfree(req);
    myfree(table);
    myfree(nets);
    vbuf_free(err);
    vbuf_free(scratch);
}

/* decide - the engine's answer and rule for a request */
static void decide(ENGINE *eng, const char *spec, const char *action, const char *rule)
{
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;

    request_init(req);
    engine_decision_init(&d);
    req_of(req, spec);
    engine_decide(eng, req, 1000000000, &d);
    UT_EQ_STR(vbuf_str(d.action), action, spec);
    UT_EQ_STR(d.rule ? d.rule->name : "none", rule, spec);
    engine_decision_free(&d);
    request_reset(req);
    myfree(req);
}

/* test_order - first answer wins; checks that pass go on */
static void test_order(void)
{
    char    set[600];
    VBUF   *err = vbuf_alloc(1024);
    ENGINE *eng;

    snprintf(set, sizeof(set), "policy_rules=%s", write_file("order.rules",
             "open: sasl=no recipient_domain=d.example => signed_address optional\n"
             "first: sender_domain=b.example => REJECT 5.7.1 first\n"
             "second: sender_domain=b.example => OK\n"
             "third: client_address in 192.0.2.0/24 => filter scan:[127.0.0.1]:10025\n"));
    ut_set(set);
    snprintf(set, sizeof(set), "policy_secret_file=%s",
             write_file("key", "0123456789abcdef0123456789abcdef\n"));
    chmod(strchr(set, '=') + 1, 0600);
    ut_set(set);
    eng = engine_load(err);
    UT_CHECK(eng != NULL, "order rules load: %s", vbuf_str(err));
    if (eng == NULL)
        return;
    decide(eng, "sender=x@b.example;recipient=r@d.example", "REJECT 5.7.1 first", "first");
    decide(eng, "sender=x@c.example;client_address=192.0.2.1", "FILTER scan:[127.0.0.1]:10025",
           "third");
    decide(eng, "sender=x@c.example;client_address=192.0.3.1", "DUNNO", "none");
    engine_free(eng);
    snprintf(set, sizeof(set), "policy_rules=%s", write_file("broken.rules", "a: => BOGUS\n"));
    ut_set(set);
    UT_CHECK(engine_load(err) == NULL && strstr(vbuf_str(err), "line 1") != NULL,
             "a broken file is refused whole: %s", vbuf_str(err));
    vbuf_free(err);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_policy_rules");
    msg_init("test_policy_rules", 0);
    config_init();
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_bad_lines();
    test_good_lines();
    test_files();
    test_match();
    test_order();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        msg_warn("cannot remove %s", dir);
    return ut_done();
}
