/*
 * unittest - a minimal table-driven test harness for postsift's unit tests
 *
 * Each test program calls UT_CHECK()/UT_EQ_STR()/UT_EQ_MEM()/UT_EQ_INT() and
 * ends with "return ut_done();", which prints "NAME: N passed, N failed" and
 * exits non-zero on any failure. UT_FATAL_EXPECTED(expr) runs expr in a
 * child and checks that it exits with msg_fatal()'s status (75).
 * ut_set() applies one setting as -o would; ut_gone() waits for a
 * process to be gone.
 */
#ifndef POSTSIFT_UNITTEST_H
#define POSTSIFT_UNITTEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/vbuf.h"

static int ut_pass, ut_fail;
static const char *ut_name = "unit";

#define UT_BEGIN(name) (ut_name = (name))

#define UT_CHECK(cond, ...) do { \
    if (cond) { ut_pass++; } else { ut_fail++; \
        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define UT_EQ_INT(got, want, what) do { long long ut_g = (got), ut_w = (want); \
    UT_CHECK(ut_g == ut_w, "%s: got %lld, want %lld", (what), ut_g, ut_w); } while (0)

#define UT_EQ_STR(got, want, what) do { const char *ut_g = (got), *ut_w = (want); \
    UT_CHECK(ut_g && ut_w && strcmp(ut_g, ut_w) == 0, "%s: got \"%s\", want \"%s\"", \
             (what), ut_g ? ut_g : "(null)", ut_w ? ut_w : "(null)"); } while (0)

#define UT_EQ_MEM(got, glen, want, wlen, what) do { \
    UT_CHECK((glen) == (wlen) && memcmp((got), (want), (wlen)) == 0, \
             "%s: got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", (what), \
             (size_t)(glen), (int)(glen), (const char *)(got), \
             (size_t)(wlen), (int)(wlen), (const char *)(want)); } while (0)

/* UT_FATAL_EXPECTED - expr must end the process with status 75 */
#define UT_FATAL_EXPECTED(expr, what) do { pid_t ut_pid = fork(); int ut_st = 0; \
    if (ut_pid == 0) { freopen("/dev/null", "w", stderr); expr; _exit(0); } \
    waitpid(ut_pid, &ut_st, 0); \
    UT_CHECK(WIFEXITED(ut_st) && WEXITSTATUS(ut_st) == 75, "%s: no fatal exit 75", (what)); \
    } while (0)

/* ut_read_exact - exactly len bytes from fd (EINTR retried), for the
 * scripted peers; 0, or -1 on EOF or error */
static inline int ut_read_exact(int fd, void *buf, size_t len)
{
    char   *cp = buf;
    ssize_t n;

    while (len > 0) {
        if ((n = read(fd, cp, len)) <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        cp += (size_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* ut_set - a setting, as -o would give it; fatal when refused */
static inline void ut_set(const char *nameval)
{
    VBUF   *err = vbuf_alloc(1024);

    if (config_override(nameval, err) < 0 || config_finish(err) < 0)
        msg_fatal("setting %s: %s", nameval, vbuf_str(err));
    vbuf_free(err);
}

/* ut_gone - process pid no longer runs (missing, or a zombie of init's);
 * waits up to 2 s for init to collect it */
static inline int ut_gone(long pid)
{
    char    path[64], buf[256];
    FILE   *fp;
    char   *cp;
    int     tries;

    if (pid <= 0)
        return 0;
    for (tries = 0; tries < 100; tries++) {
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        if ((fp = fopen(path, "r")) == NULL)
            return 1;
        cp = fgets(buf, sizeof(buf), fp);
        fclose(fp);
        if (cp && (cp = strrchr(buf, ')')) != NULL && (cp[2] == 'Z' || cp[2] == 'X'))
            return 1;
        usleep(20000);
    }
    return 0;
}

static inline int ut_done(void)
{
    printf("%s: %d passed, %d failed\n", ut_name, ut_pass, ut_fail);
    return ut_fail ? 1 : 0;
}

#endif
