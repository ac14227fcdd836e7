/*
 * test_scan_command - the command scanner backend (postprox's contract)
 * through avscan, the inspector and decide
 *
 * Each scripted command is a small shell script that the test writes into
 * its temporary directory: the command may be a script; what is tested is
 * that postsift itself runs it without a shell and never lets the shell
 * see envelope data as code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/avscan.h"
#include "scan/decide.h"
#include "scan/inspect.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_scan_command-XXXXXX";

static const char message[] = "From: a@example.org\nSubject: hello\n\nsome text\n";

/* tpath - a name in the test directory (static buffer, 4 in rotation) */
static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

/* script - write an executable script name with body; its path */
static const char *script(const char *name, const char *body)
{
    const char *path = tpath(name);
    FILE   *fp = fopen(path, "w");

    if (fp == NULL)
        msg_fatal("create %s: %s", path, strerror(errno));
    fprintf(fp, "#!/bin/sh\n%s\n", body);
    if (fclose(fp) != 0 || chmod(path, 0700) < 0)
        msg_fatal("write %s: %s", path, strerror(errno));
    return path;
}

/* slurp - a whole file as a string (static buffer), "" when missing */
static const char *slurp(const char *path)
{
    static char buf[65536];
    int     fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* slurp_fd - a whole descriptor from offset 0 (static buffer) */
static const char *slurp_fd(int fd)
{
    static char buf[65536];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* message_fd - the test message in a spool file */
static int message_fd(const char *text)
{
    VBUF   *err = vbuf_alloc(1024);
    int     fd = spool_create(var_spool_dir, err);

    if (fd < 0 || spool_write_all(fd, text, strlen(text)) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    vbuf_free(err);
    return fd;
}

/* open_command - the backend for one script */
static AVSCAN *open_command(const char *path)
{
    VBUF   *err = vbuf_alloc(1024);
    char    spec[600];
    AVSCAN *av;

    snprintf(spec, sizeof(spec), "command:%s", path);
    if ((av = avscan_open(spec, "", err)) == NULL)
        msg_fatal("avscan_open %s: %s", spec, vbuf_str(err));
    vbuf_free(err);
    return av;
}

/* run - one script on the test message; AV_*, reply and err filled */
static int run(const char *path, const SMTP_ENVELOPE *env, AVSCAN_REPLY *reply, VBUF *err)
{
    AVSCAN *av = open_command(path);
    int     fd = message_fd(message);
    int     rc;

    rc = avscan_scan_message(av, fd, env, reply, err);
    close(fd);
    avscan_close(av);
    return rc;
}

/* leftovers - entries of spool_dir left by command runs */
static int leftovers(void)
{
    DIR    *dp = opendir(var_spool_dir);
    struct dirent *de;
    int     n = 0;

    while (dp && (de = readdir(dp)) != NULL)
        if (strncmp(de->d_name, "cmdtmp-", 7) == 0)
            n++;
    if (dp)
        closedir(dp);
    return n;
}

/* test_contract - exit 0, 1 (with and without a code), 2, a signal */
static void test_contract(void)
{
    AVSCAN_REPLY reply;
    VBUF   *err = vbuf_alloc(0);

    avscan_reply_init(&reply);
    UT_EQ_INT(run(script("clean", "cat > /dev/null; exit 0"), NULL, &reply, err), AV_CLEAN,
              "exit 0 passes");
    UT_EQ_INT(reply.fd, -1, "no replacement from an empty OUTFILE");

    UT_EQ_INT(run(script("reject", "echo noise >&2; echo '550 5.7.1 no thanks' >&2; exit 1"),
                  NULL, &reply, err), AV_REJECT, "exit 1 rejects");
    UT_EQ_INT(reply.code, 550, "own code kept");
    UT_EQ_STR(reply.dsn, "5.7.1", "own enhanced code kept");
    UT_EQ_STR(vbuf_str(reply.text), "no thanks", "reason: the last line, without codes");
    UT_EQ_STR(vbuf_str(reply.scanner), "command reject", "the scanner named");

    UT_EQ_INT(run(script("reject2", "echo 'contains the word \"spam\"' >&2\n"
                         "echo >&2\nexit 1"), NULL, &reply, err), AV_REJECT, "plain reject");
    UT_EQ_INT(reply.code, 554, "default code");
    UT_EQ_STR(reply.dsn, "5.7.1", "default enhanced code");
    UT_EQ_STR(vbuf_str(reply.text), "contains the word \"spam\"", "last non-empty line");

    UT_EQ_INT(run(script("reject3", "echo '451 4.7.1 later' >&2; exit 1"), NULL, &reply, err),
              AV_REJECT, "4xx under exit 1 still rejects");
    UT_EQ_INT(reply.code, 554, "a 4xx code is not a reject code");
    UT_EQ_STR(vbuf_str(reply.text), "451 4.7.1 later", "the line kept whole");

    UT_EQ_INT(run(script("silent1", "exit 1"), NULL, &reply, err), AV_REJECT, "quiet reject");
    UT_EQ_STR(vbuf_str(reply.text), "rejected by silent1", "a reason all the same");

    UT_EQ_INT(run(script("error", "echo 'database unavailable' >&2; exit 2"), NULL,
                  &reply, err), AV_ERROR, "exit 2 is an error");
    UT_CHECK(strstr(vbuf_str(err), "command error: exited with status 2: database "
                    "unavailable") != NULL, "error text: %s", vbuf_str(err));
    UT_EQ_INT(run(script("error75", "exit 75"), NULL, &reply, err), AV_ERROR, "exit 75");

    UT_EQ_INT(run(script("killed", "kill -KILL $$"), NULL, &reply, err), AV_ERROR,
              "death by a signal is an error");
    UT_CHECK(strstr(vbuf_str(err), "killed by signal 9") != NULL, "signal text: %s",
             vbuf_str(err));
    UT_EQ_INT(leftovers(), 0, "run directories removed");
    avscan_reply_free(&reply);
    vbuf_free(err);
}

/* test_deadline - past command_timeout: an error, and nothing left */
static void test_deadline(void)
{
    AVSCAN_REPLY reply;
    VBUF   *err = vbuf_alloc(0);
    char    body[1024];
    double  t0;

    ut_set("command_timeout=1s");
    snprintf(body, sizeof(body), "echo $$ > %s; sleep 30 & echo $! > %s; wait",
             tpath("sh.pid"), tpath("bg.pid"));
    avscan_reply_init(&reply);
    t0 = clock_seconds();
    UT_EQ_INT(run(script("slow", body), NULL, &reply, err), AV_ERROR, "timeout is an error");
    t0 = clock_seconds() - t0;
    UT_CHECK(t0 >= 0.9 && t0 < 4, "timeout took %.2fs", t0);
    UT_CHECK(strstr(vbuf_str(err), "timed out") != NULL, "timeout text: %s", vbuf_str(err));
    UT_CHECK(ut_gone(atol(slurp(tpath("sh.pid")))), "the command outlived its deadline");
    UT_CHECK(ut_gone(atol(slurp(tpath("bg.pid")))), "its child outlived the deadline");
    UT_EQ_INT(leftovers(), 0, "run directory removed after a timeout");
    ut_set("command_timeout=60s");
    avscan_reply_free(&reply);
    vbuf_free(err);
}

/* test_flood - megabytes on stdout and stderr: no hang, the last line */
static void test_flood(void)
{
    AVSCAN_REPLY reply;
    VBUF   *err = vbuf_alloc(0);
    double  t0 = clock_seconds();

    avscan_reply_init(&reply);
    UT_EQ_INT(run(script("flood", "yes stdout | head -c 8000000\n"
                         "yes stderr | head -c 8000000 >&2; echo >&2\n"
                         "echo '553 5.7.0 flooded' >&2\nexit 1"), NULL, &reply, err),
              AV_REJECT, "flood: rejected");
    UT_CHECK(clock_seconds() - t0 < 20, "flood took %.2fs", clock_seconds() - t0);
    UT_EQ_INT(reply.code, 553, "flood: code");
    UT_EQ_STR(vbuf_str(reply.text), "flooded", "flood: the last line");
    avscan_reply_free(&reply);
    vbuf_free(err);
}

/* test_replacement - OUTFILE replaces the message, through decide */
static void test_replacement(void)
{
    static const char repl[] = "Subject: replaced\n\nnew body\n";
    AVSCAN_REPLY reply;
    INSPECTOR *in;
    DECISION d;
    VBUF   *err = vbuf_alloc(0);
    char    spec[600], body[600];
    int     fd;

    snprintf(body, sizeof(body), "cat \"$EMAIL\" > %s\nprintf 'Subject: replaced\\n\\n"
             "new body\\n' > \"$OUTFILE\"", tpath("seen"));
    script("replace", body);
    avscan_reply_init(&reply);
    UT_EQ_INT(run(tpath("replace"), NULL, &reply, err), AV_CLEAN, "replace: clean");
    UT_CHECK(reply.fd >= 0, "replace: a replacement");
    if (reply.fd >= 0)
        UT_EQ_STR(slurp_fd(reply.fd), repl, "replacement content");
    UT_EQ_STR(slurp(tpath("seen")), message, "$EMAIL is the message");
    avscan_reply_free(&reply);

    snprintf(spec, sizeof(spec), "scanner=command:%s", tpath("replace"));
    ut_set(spec);
    if ((in = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    fd = message_fd(message);
    decision_init(&d);
    decide_message(in, NULL, fd, 0, &d);
    UT_EQ_INT(d.verdict, VERDICT_CLEAN, "decide: clean");
    UT_EQ_INT(d.action, ACTION_PASS, "decide: pass");
    UT_CHECK(d.replaced && d.fd != fd, "decide: the replacement is sent on");
    UT_EQ_INT(d.replaced_size, strlen(repl), "decide: its size");
    UT_EQ_STR(slurp_fd(d.fd), repl, "decide: replacement content");
    UT_CHECK(strstr(vbuf_str(d.prefix), "(command replace)") != NULL, "engine named: %s",
             vbuf_str(d.prefix));
    UT_EQ_STR(slurp_fd(fd), message, "the original is untouched");
    decision_free(&d);
    close(fd);
    inspector_close(in);
    vbuf_free(err);
}

/* test_rejected_action - a rejection becomes rejected_action (reject) */
static void test_rejected_action(void)
{
    INSPECTOR *in;
    DECISION d;
    VBUF   *err = vbuf_alloc(0);
    char    spec[600];
    int     fd;

    snprintf(spec, sizeof(spec), "scanner=command:%s", tpath("reject"));
    ut_set(spec);
    if ((in = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    fd = message_fd(message);
    decision_init(&d);
    decide_message(in, NULL, fd, 0, &d);
    UT_EQ_INT(d.verdict, VERDICT_REJECTED, "verdict rejected");
    UT_EQ_INT(d.action, ACTION_REJECT, "rejected_action is reject by default");
    UT_EQ_STR(vbuf_str(d.detail), "no thanks (command reject)", "detail");
    UT_EQ_INT(d.reject_code, 550, "reply code for the front ends");
    UT_EQ_STR(d.reject_dsn, "5.7.1", "enhanced code for the front ends");
    decision_free(&d);
    ut_set("rejected_action=tag");
    decision_init(&d);
    decide_message(in, NULL, fd, 0, &d);
    UT_EQ_INT(d.action, ACTION_TAG, "rejected_action=tag");
    UT_CHECK(strstr(vbuf_str(d.prefix), "X-Virus-Status: Rejected (no thanks (command reject))")
             != NULL, "tagged: %s", vbuf_str(d.prefix));
    decision_free(&d);
    ut_set("rejected_action=reject");
    inspector_close(in);

    /* a command that fails: error, deferred */
    snprintf(spec, sizeof(spec), "scanner=command:%s", tpath("error"));
    ut_set(spec);
    if ((in = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    decision_init(&d);
    decide_message(in, NULL, fd, 0, &d);
    UT_EQ_INT(d.verdict, VERDICT_ERROR, "command error: verdict error");
    UT_EQ_INT(d.action, ACTION_DEFER, "command error: deferred");
    decision_free(&d);
    inspector_close(in);
    close(fd);
    vbuf_free(err);
}

/* test_envelope - the variables, literal, never run as shell code */
static void test_envelope(void)
{
    static const char *const evil[] = {
        "$(touch ", "`touch ", "a; touch ", "line\ntouch ",
    };
    static const char *const evil_end[] = {
        "/pwned1)@x", "/pwned2`@x", "/pwned3@x", "/pwned4@x",
    };
    char    values[4][600];
    SMTP_RCPT rcpt[4];
    SMTP_ENVELOPE env;
    AVSCAN_REPLY reply;
    VBUF   *err = vbuf_alloc(0);
    char    body[2048], want[4096], name[64];
    size_t  i;

    memset(&env, 0, sizeof(env));
    for (i = 0; i < 4; i++) {
        snprintf(values[i], sizeof(values[i]), "%s%s%s", evil[i], tmpdir, evil_end[i]);
        rcpt[i].addr = values[i];
        rcpt[i].notify = rcpt[i].orcpt = NULL;
    }
    env.sender = values[0];
    env.rcpt = rcpt;
    env.nrcpt = 4;
    env.xf_addr = "192.0.2.1";
    env.xf_helo = values[1];
    env.xf_ident = "4ABC123";
    snprintf(body, sizeof(body),
             "printf '%%s' \"$SENDER\" > %s/SENDER\nprintf '%%s' \"$RECIPIENTS\" > %s/RCPTS\n"
             "printf '%%s|%%s|%%s|%%s|%%s' \"$RECIPIENT\" \"$RECIPIENTCOUNT\" \"$REMOTEIP\" "
             "\"$HELO\" \"$QUEUE_ID\" > %s/OTHER\ncat > %s/STDIN\nexit 0",
             tmpdir, tmpdir, tmpdir, tmpdir);
    avscan_reply_init(&reply);
    UT_EQ_INT(run(script("env", body), &env, &reply, err), AV_CLEAN, "env: clean");
    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "pwned%zu", i + 1);
        UT_CHECK(access(tpath(name), F_OK) != 0, "envelope data ran as code: %s", name);
    }
    UT_EQ_STR(slurp(tpath("SENDER")), values[0], "SENDER literal");
    snprintf(want, sizeof(want), "%s\n%s\n%s\n%s", values[0], values[1], values[2], values[3]);
    UT_EQ_STR(slurp(tpath("RCPTS")), want, "RECIPIENTS, one a line");
    snprintf(want, sizeof(want), "%s|4|192.0.2.1|%s|4ABC123", values[0], values[1]);
    UT_EQ_STR(slurp(tpath("OTHER")), want, "the other variables");
    UT_EQ_STR(slurp(tpath("STDIN")), message, "stdin is the message");
    avscan_reply_free(&reply);
    vbuf_free(err);
}

/* test_open - what the setting accepts */
static void test_open(void)
{
    VBUF   *err = vbuf_alloc(0);
    AVSCAN *av;

    av = avscan_open("command:relative/path", "", err);
    UT_CHECK(av == NULL && strstr(vbuf_str(err), "absolute"), "relative: %s", vbuf_str(err));
    av = avscan_open("command:/nonexistent/check", "", err);
    UT_CHECK(av == NULL && strstr(vbuf_str(err), "No such file"), "missing: %s",
             vbuf_str(err));
    av = avscan_open("command:/etc/passwd", "", err);
    UT_CHECK(av == NULL && strstr(vbuf_str(err), "not an executable"), "not exec: %s",
             vbuf_str(err));
    /* two commands: both run, in order; the second sees the first's output */
    script("first", "printf 'Subject: one\\n\\n' > \"$OUTFILE\"");
    script("second", "grep -q 'Subject: one' \"$EMAIL\" || exit 2; exit 0");
    {
        char    spec[1200];
        AVSCAN_REPLY reply;
        int     fd = message_fd(message);

        snprintf(spec, sizeof(spec), "command:%s, command:%s", tpath("first"), tpath("second"));
        av = avscan_open(spec, "", err);
        UT_CHECK(av != NULL, "two commands: %s", vbuf_str(err));
        UT_EQ_STR(avscan_version(av), "command first, command second", "two versions");
        UT_EQ_INT(avscan_has_message_scanners(av), 1, "message scanners");
        avscan_reply_init(&reply);
        UT_EQ_INT(avscan_scan_message(av, fd, NULL, &reply, err), AV_CLEAN, "chain");
        UT_CHECK(reply.fd >= 0 && strcmp(slurp_fd(reply.fd), "Subject: one\n\n") == 0,
                 "chain: the first's replacement stays");
        UT_EQ_INT(avscan_scan_mem(av, "x", 1, err, err), AV_CLEAN, "no part scanner: clean");
        avscan_reply_free(&reply);
        avscan_close(av);
        close(fd);
    }
    vbuf_free(err);
}

/* cleanup - remove the test directory and what is in it */
static void cleanup(void)
{
    DIR    *dp = opendir(tmpdir);
    struct dirent *de;

    while (dp && (de = readdir(dp)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            if (unlink(tpath(de->d_name)) < 0)
                (void)rmdir(tpath(de->d_name));
    if (dp)
        closedir(dp);
    (void)rmdir(tmpdir);
}

int     main(void)
{
    char    nameval[600];

    UT_BEGIN("test_scan_command");
    msg_init("test_scan_command", MSG_STDERR);
    signal(SIGPIPE, SIG_IGN);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(nameval, sizeof(nameval), "spool_dir=%s/spool", tmpdir);
    ut_set(nameval);
    {
        VBUF   *err = vbuf_alloc(1024);

        if (spool_dir_check(var_spool_dir, err) < 0)
            msg_fatal("spool_dir: %s", vbuf_str(err));
        vbuf_free(err);
    }
    test_open();
    test_contract();
    test_deadline();
    test_flood();
    test_replacement();
    test_rejected_action();
    test_envelope();
    cleanup();
    return ut_done();
}
