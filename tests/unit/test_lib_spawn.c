/*
 * test_lib_spawn - lib/spawn: exit codes, signals, deadlines, output
 * bounds, stdin feeding, exec failures, and nothing left behind
 *
 * The programs are /bin/sh and a few standard tools, run through argv as
 * any program is (spawn itself never calls a shell).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/msg.h"
#include "lib/spawn.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_lib_spawn-XXXXXX";

/* S - a string for an argv or envp (exec's types are not const) */
static char *S(const char *s)
{
    union {
        const char *c;
        char   *v;
    } u;

    u.c = s;
    return u.v;
}

/* tpath - a name in the test directory (static buffer, 4 in rotation) */
static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

/* sh - run "/bin/sh -c script" with an empty environment */
static SPAWN_STATUS sh(const char *script, double timeout, SPAWN_RESULT *res)
{
    char   *argv[] = {S("/bin/sh"), S("-c"), S(script), NULL};
    SPAWN_REQUEST req;

    spawn_request_init(&req);
    req.argv = argv;
    req.timeout = timeout;
    return spawn_run(&req, res);
}

/* read_pid - a number from a file, or -1 */
static long read_pid(const char *path)
{
    FILE   *fp = fopen(path, "r");
    long    pid = -1;

    if (fp) {
        if (fscanf(fp, "%ld", &pid) != 1)
            pid = -1;
        fclose(fp);
    }
    return pid;
}

/* no_children - spawn left no child of ours, not even a zombie */
static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* test_exit - exit codes, signals, output and last lines */
static void test_exit(void)
{
    SPAWN_RESULT res;

    spawn_result_init(&res);
    UT_EQ_INT(sh("exit 3", 10, &res), SPAWN_EXITED, "exit 3: status");
    UT_EQ_INT(res.code, 3, "exit 3: code");
    UT_EQ_INT(sh("echo a; echo b >&2; echo; echo c >&2; printf 'd\\r\\n' >&2", 10, &res),
              SPAWN_EXITED, "output: status");
    UT_EQ_INT(res.code, 0, "output: code");
    UT_EQ_STR(vbuf_str(res.out), "a\n\n", "stdout kept");
    UT_EQ_STR(vbuf_str(res.err), "b\nc\nd\r\n", "stderr kept");
    UT_EQ_STR(vbuf_str(res.out_last), "a", "last non-empty line of stdout");
    UT_EQ_STR(vbuf_str(res.err_last), "d", "last line of stderr, CR dropped");
    UT_EQ_INT(sh("printf 'one\\ntwo' >&2", 10, &res), SPAWN_EXITED, "unended: status");
    UT_EQ_STR(vbuf_str(res.err_last), "two", "an unended last line counts");
    UT_EQ_INT(sh("kill -TERM $$", 10, &res), SPAWN_SIGNALED, "signal: status");
    UT_EQ_INT(res.code, SIGTERM, "signal: number");
    UT_CHECK(no_children(), "a child was left");
    spawn_result_free(&res);
}

/* test_exec_failure - a program that cannot start is not an exit status */
static void test_exec_failure(void)
{
    char   *missing[] = {S("/nonexistent/program"), NULL};
    char   *notexec[] = {S("/etc/passwd"), NULL};
    char   *pwd[] = {S("/bin/pwd"), NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT res;
    VBUF   *text = vbuf_alloc(0);

    spawn_result_init(&res);
    spawn_request_init(&req);
    req.timeout = 10;
    req.argv = missing;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXEC_FAILED, "missing program");
    UT_EQ_INT(res.code, ENOENT, "missing program: errno");
    spawn_describe(&req, &res, text);
    UT_CHECK(strstr(vbuf_str(text), "cannot execute /nonexistent/program") != NULL,
             "describe: %s", vbuf_str(text));
    req.argv = notexec;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXEC_FAILED, "not executable");
    UT_EQ_INT(res.code, EACCES, "not executable: errno");
    req.argv = pwd;
    req.cwd = "/nonexistent-dir";
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXEC_FAILED, "bad directory");
    req.cwd = tmpdir;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "cwd: status");
    UT_CHECK(strncmp(vbuf_str(res.out), tmpdir, strlen(tmpdir)) == 0, "cwd: %s",
             vbuf_str(res.out));
    UT_CHECK(no_children(), "a child was left");
    spawn_result_free(&res);
    vbuf_free(text);
}

/* test_environment - exactly the environment given, and nothing open */
static void test_environment(void)
{
    char   *env[] = {S("A=$(touch x); `y`\nz"), S("B=2"), NULL};
    char   *argv[] = {S("/usr/bin/env"), NULL};
    char   *ls[] = {S("/bin/ls"), S("/proc/self/fd"), NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT res;
    int     leak = open("/dev/null", O_RDONLY);     /* not close-on-exec */

    spawn_result_init(&res);
    spawn_request_init(&req);
    req.timeout = 10;
    req.argv = argv;
    req.envp = env;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "env: status");
    UT_EQ_STR(vbuf_str(res.out), "A=$(touch x); `y`\nz\nB=2\n", "the environment given");
    req.envp = NULL;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "empty env: status");
    UT_EQ_STR(vbuf_str(res.out), "", "an empty environment");
    /* fds 0, 1, 2 and the one ls opens to list them */
    req.argv = ls;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "fds: status");
    UT_EQ_STR(vbuf_str(res.out), "0\n1\n2\n3\n", "only 0-2 inherited");
    close(leak);
    spawn_result_free(&res);
}

/* test_deadline - killed at the deadline with all it started */
static void test_deadline(void)
{
    SPAWN_RESULT res;
    char    script[1024];
    double  t0;

    spawn_result_init(&res);
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; echo $$ > %s; wait",
             tpath("bg.pid"), tpath("sh.pid"));
    t0 = clock_seconds();
    UT_EQ_INT(sh(script, 0.5, &res), SPAWN_TIMEOUT, "deadline: status");
    t0 = clock_seconds() - t0;
    UT_CHECK(t0 >= 0.4 && t0 < 3, "deadline took %.2fs", t0);
    UT_CHECK(ut_gone(read_pid(tpath("sh.pid"))), "the program outlived its deadline");
    UT_CHECK(ut_gone(read_pid(tpath("bg.pid"))), "its child outlived the deadline");
    UT_CHECK(no_children(), "a child was left");

    /* a normal exit: what it left running in its group is killed */
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; exit 0", tpath("bg.pid"));
    UT_EQ_INT(sh(script, 10, &res), SPAWN_EXITED, "stray: status");
    UT_CHECK(ut_gone(read_pid(tpath("bg.pid"))), "a stray outlived the program");

    /* a stray holding stdout open does not hold us up */
    snprintf(script, sizeof(script), "(sleep 30; echo late) & exit 0");
    t0 = clock_seconds();
    UT_EQ_INT(sh(script, 20, &res), SPAWN_EXITED, "stray with stdout: status");
    UT_CHECK(clock_seconds() - t0 < 3, "waited for a stray's output");
    UT_CHECK(no_children(), "a child was left");
    spawn_result_free(&res);
}

/* test_flood - megabytes of output: cut, drained, no hang */
static void test_flood(void)
{
    char   *argv[] = {S("/bin/sh"), S("-c"),
        S("head -c 5000000 /dev/zero; head -c 5000000 /dev/zero >&2; "
            "echo >&2; echo the end >&2; exit 4"), NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT res;
    double  t0 = clock_seconds();

    spawn_result_init(&res);
    spawn_request_init(&req);
    req.argv = argv;
    req.timeout = 30;
    req.output_max = 4096;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "flood: status");
    UT_EQ_INT(res.code, 4, "flood: code");
    UT_CHECK(clock_seconds() - t0 < 10, "flood took %.2fs", clock_seconds() - t0);
    UT_EQ_INT(vbuf_len(res.out), 4096, "stdout cut");
    UT_EQ_INT(vbuf_len(res.err), 4096, "stderr cut");
    UT_CHECK(res.out_cut && res.err_cut, "cut not reported");
    UT_CHECK(res.out->size <= 2 * 4096 + 64 && res.err->size <= 2 * 4096 + 64,
             "buffers grew: %zu, %zu", res.out->size, res.err->size);
    UT_EQ_STR(vbuf_str(res.err_last), "the end", "last line after a flood");
    UT_CHECK(vbuf_len(res.err_last) <= SPAWN_LINE_MAX, "last line bounded");
    spawn_result_free(&res);
}

/* test_feed - stdin from a prefix and a file, from a file, or /dev/null */
static void test_feed(void)
{
    char   *cat[] = {S("/bin/cat"), NULL};
    char   *yes[] = {S("/bin/true"), NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT res;
    static char big[1 << 20];
    int     fd = open(tpath("input"), O_RDWR | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, "0123456789", 10) != 10)
        msg_fatal("write %s: %s", tpath("input"), strerror(errno));
    spawn_result_init(&res);
    spawn_request_init(&req);
    req.argv = cat;
    req.timeout = 10;
    req.feed_fd = fd;
    req.feed_prefix = "X-Added: 1\n";
    req.feed_prefix_len = 11;
    req.feed_offset = 3;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "feed: status");
    UT_EQ_STR(vbuf_str(res.out), "X-Added: 1\n3456789", "prefix, then the file from 3");
    UT_EQ_INT(res.feed_errno, 0, "feed complete");
    spawn_request_init(&req);
    req.argv = cat;
    req.timeout = 10;
    req.stdin_fd = fd;
    (void)lseek(fd, 5, SEEK_SET);
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "stdin fd: status");
    UT_EQ_STR(vbuf_str(res.out), "56789", "stdin is the file, where it stands");
    req.stdin_fd = -1;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "no stdin: status");
    UT_EQ_STR(vbuf_str(res.out), "", "stdin /dev/null");

    /* a child that reads nothing: no hang, no SIGPIPE for us */
    if (pwrite(fd, big, sizeof(big), 10) != (ssize_t)sizeof(big))
        msg_fatal("write %s: %s", tpath("input"), strerror(errno));
    spawn_request_init(&req);
    req.argv = yes;
    req.timeout = 10;
    req.feed_fd = fd;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "unread feed: status");
    UT_EQ_INT(res.code, 0, "unread feed: code");
    close(fd);
    UT_CHECK(no_children(), "a child was left");
    spawn_result_free(&res);
}

/* test_merge - stderr into stdout's buffer */
static void test_merge(void)
{
    char   *argv[] = {S("/bin/sh"), S("-c"),
        S("echo a; echo b >&2; echo c"), NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT res;

    spawn_result_init(&res);
    spawn_request_init(&req);
    req.argv = argv;
    req.timeout = 10;
    req.merge_stderr = 1;
    UT_EQ_INT(spawn_run(&req, &res), SPAWN_EXITED, "merge: status");
    UT_EQ_STR(vbuf_str(res.out), "a\nb\nc\n", "merged output");
    UT_EQ_STR(vbuf_str(res.err), "", "nothing apart");
    UT_EQ_STR(vbuf_str(res.out_last), "c", "last merged line");
    spawn_result_free(&res);
}

int     main(void)
{
    const char *names[] = {"bg.pid", "sh.pid", "input"};
    size_t  i;

    UT_BEGIN("test_lib_spawn");
    msg_init("test_lib_spawn", MSG_STDERR);
    signal(SIGPIPE, SIG_DFL);           /* spawn must not need it ignored */
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_exit();
    test_exec_failure();
    test_environment();
    test_deadline();
    test_flood();
    test_feed();
    test_merge();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        (void)unlink(tpath(names[i]));
    (void)rmdir(tmpdir);
    return ut_done();
}
