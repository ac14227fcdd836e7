/*
 * test_lib_exitpolicy - the pipe-mode exit contract: 0, 69 or 75
 *
 * exit_status_for_code() over the reply code ranges, and exit_with() run
 * in a child: its exit status and the first line it leaves on stdout.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "tests/unit/unittest.h"

/* test_codes - reply code to exit status */
static void test_codes(void)
{
    static const struct {
        int     code;
        int     status;
    } cases[] = {
        {200, 0}, {250, 0}, {251, 0}, {299, 0},
        {500, 69}, {550, 69}, {554, 69}, {599, 69},
        {421, 75}, {450, 75}, {451, 75}, {499, 75},
        {354, 75}, {300, 75}, {199, 75}, {600, 75}, {0, 75}, {-1, 75}, {25, 75},
    };
    size_t i;
    char what[32];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(what, sizeof(what), "code %d", cases[i].code);
        UT_EQ_INT(exit_status_for_code(cases[i].code), cases[i].status, what);
    }
}

/* test_exit_with - status and DSN line of exit_with in a child */
static void test_exit_with(void)
{
    static const struct {
        int     status;
        const char *dsn;
        int     want_status;
        const char *want_out;
    } cases[] = {
        {0, "2.0.0", 0, "2.0.0 delivered x\n"},
        {69, "5.7.1", 69, "5.7.1 delivered x\n"},
        {75, "4.3.0", 75, "4.3.0 delivered x\n"},
        {1, "5.0.0", 75, "5.0.0 delivered x\n"},    /* outside the contract */
        {75, NULL, 75, ""},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256], what[64];
        size_t got = 0;
        ssize_t n;
        int fds[2], st = 0;
        pid_t pid;

        snprintf(what, sizeof(what), "exit_with(%d, %s)", cases[i].status,
                 cases[i].dsn ? cases[i].dsn : "NULL");
        if (pipe(fds) < 0 || (pid = fork()) < 0) {
            perror("pipe/fork");
            exit(1);
        }
        if (pid == 0) {
            close(fds[0]);
            dup2(fds[1], STDOUT_FILENO);
            msg_init("test", 0);
            exit_with(cases[i].status, cases[i].dsn, "delivered %s", "x");
        }
        close(fds[1]);
        while (got < sizeof(out) - 1 && (n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
            got += (size_t)n;
        out[got] = 0;
        close(fds[0]);
        waitpid(pid, &st, 0);
        UT_CHECK(WIFEXITED(st), "%s: did not exit", what);
        UT_EQ_INT(WEXITSTATUS(st), cases[i].want_status, what);
        UT_EQ_STR(out, cases[i].want_out, what);
    }
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_lib_exitpolicy");
    test_codes();
    test_exit_with();
    return ut_done();
}
