/*
 * test_policy_request - the policy request parser against hostile input,
 * and a scripted spawn-mode session over a socketpair
 *
 * request_read() over a socketpair fed by a child process: a good
 * request, one without its empty line before end of file, 10,000
 * attributes, a 1 MB value, NUL and control bytes, a line without '=', a
 * repeated attribute, no request=smtpd_access_policy, a silent client;
 * after each bad request that could be read to its end the next one
 * must be read intact. Then session_serve() as spawn(8) runs it, with a
 * rules file: answers in order, DEFER_IF_PERMIT for the bad requests, the
 * session going on after them, and closing when the stream is lost.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/request.h"
#include "policy/session.h"
#include "tests/unit/unittest.h"

#define GOOD "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b.example\n" \
    "recipient=c@d.example\nclient_address=192.0.2.7\n\n"

/* writer - a child that writes text (len bytes) to fd, then shuts its
 * sending side (with linger, seconds later); returns its pid */
static pid_t writer(int fd, const char *text, size_t len, int linger)
{
    pid_t   pid = fork();

    if (pid == 0) {
        size_t  off = 0;
        ssize_t n;

        while (off < len && (n = write(fd, text + off, len - off)) > 0)
            off += (size_t)n;
        if (linger)
            sleep((unsigned)linger);
        shutdown(fd, SHUT_WR);          /* the socket, for the parent too */
        _exit(0);
    }
    return pid;
}

/* big_attrs - a request with n attributes */
static char *big_attrs(int n, size_t *len)
{
    VBUF   *b = vbuf_alloc(0);
    char   *out;
    int     i;

    vbuf_strcpy(b, "request=smtpd_access_policy\n");
    for (i = 0; i < n; i++)
        vbuf_sprintf_append(b, "attr%d=value%d\n", i, i);
    vbuf_strcat(b, "\n" GOOD);
    *len = vbuf_len(b);
    out = mystrndup(vbuf_str(b), vbuf_len(b));
    vbuf_free(b);
    return out;
}

/* big_value - a request with a 1 MB value */
static char *big_value(size_t *len)
{
    size_t  n = 1024 * 1024, hlen = strlen("request=smtpd_access_policy\nsender=");
    char   *out = mymalloc(hlen + n + 2 + sizeof(GOOD));

    memcpy(out, "request=smtpd_access_policy\nsender=", hlen);
    memset(out + hlen, 'x', n);
    memcpy(out + hlen + n, "\n\n", 2);
    memcpy(out + hlen + n + 2, GOOD, sizeof(GOOD));
    *len = hlen + n + 2 + sizeof(GOOD) - 1;
    return out;
}

/* read_case - feed text to request_read; the first status, and when
 * want_next the status of the request after it (must be good) */
static int read_case(const char *text, size_t len, int *next, const char *what)
{
    int     sv[2], status, st;
    REQUEST *req = mymalloc(sizeof(*req));
    VBUF   *err = vbuf_alloc(1024);
    NETIO  *io;
    pid_t   pid;

    request_init(req);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = writer(sv[1], text, len, 0);
    close(sv[1]);
    io = netio_fdopen(sv[0], sv[0]);
    status = request_read(io, req, 5, 5, err);
    if (status != REQUEST_OK)
        UT_CHECK(vbuf_len(err) > 0, "%s: a reason (%s)", what, vbuf_str(err));
    if (next) {
        *next = request_read(io, req, 5, 5, err);
        if (*next == REQUEST_OK)
            UT_EQ_STR(request_get(req, "recipient"), "c@d.example", what);
    }
    netio_close(io);
    waitpid(pid, &st, 0);
    request_reset(req);
    myfree(req);
    vbuf_free(err);
    return status;
}

/* test_hostile - each hostile input, then the stream's state after it */
static void test_hostile(void)
{
    static const struct {
        const char *text;
        int     want, next;             /* next -1: do not read on */
        const char *what;
    }       cases[] = {
        {GOOD GOOD, REQUEST_OK, REQUEST_OK, "two good requests"},
        {"request=smtpd_access_policy\nsender=a@b\n", REQUEST_LOST, -1, "no empty line before EOF"},
        {"", REQUEST_END, -1, "EOF before a request"},
        {"request=smtpd_access_policy\nbroken line\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "line without ="},
        {"request=smtpd_access_policy\nsender=a\001b\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "control byte"},
        {"request=smtpd_access_policy\nsender=a\033[2Jb\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "escape"},
        {"request=smtpd_access_policy\nsender=a\nsender=b\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "repeated"},
        {"sender=a\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "no request= attribute"},
        {"request=other\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "wrong request type"},
        {"request=smtpd_access_policy\nsen der=a\n\n" GOOD, REQUEST_BAD, REQUEST_OK, "bad name"},
        {"request=smtpd_access_policy\r\nsender=a\r\n\r\n" GOOD, REQUEST_OK, REQUEST_OK, "CRLF"},
    };
    size_t  i, len;
    int     next, got;
    char   *text;
    static const char nul[] = "request=smtpd_access_policy\nsender=a\0b\n\n" GOOD;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = read_case(cases[i].text, strlen(cases[i].text), cases[i].next >= 0 ? &next : NULL,
                        cases[i].what);
        UT_EQ_INT(got, cases[i].want, cases[i].what);
        if (cases[i].next >= 0)
            UT_EQ_INT(next, cases[i].next, cases[i].what);
    }
    UT_EQ_INT(read_case(nul, sizeof(nul) - 1, &next, "NUL"), REQUEST_BAD, "NUL byte");
    UT_EQ_INT(next, REQUEST_OK, "NUL byte: next request");
    text = big_attrs(10000, &len);
    UT_EQ_INT(read_case(text, len, &next, "10000 attributes"), REQUEST_BAD, "10,000 attributes");
    UT_EQ_INT(next, REQUEST_OK, "10,000 attributes: next request");
    myfree(text);
    text = big_attrs(REQUEST_MAX_ATTRS - 1, &len);
    UT_EQ_INT(read_case(text, len, &next, "at the bound"), REQUEST_OK, "attributes at the bound");
    myfree(text);
    text = big_value(&len);
    UT_EQ_INT(read_case(text, len, &next, "1 MB value"), REQUEST_BAD, "1 MB value");
    UT_EQ_INT(next, REQUEST_OK, "1 MB value: next request");
    myfree(text);
}

/* test_timeouts - a silent client, and one that stops in a request */
static void test_timeouts(void)
{
    int     sv[2], st;
    REQUEST *req = mymalloc(sizeof(*req));
    VBUF   *err = vbuf_alloc(1024);
    NETIO  *io;
    pid_t   pid;
    time_t  t0;
    static const char part[] = "request=smtpd_access_policy\nsender=a\n";

    request_init(req);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = writer(sv[1], part, strlen(part), 4);
    close(sv[1]);
    io = netio_fdopen(sv[0], sv[0]);
    t0 = time(NULL);
    UT_EQ_INT(request_read(io, req, 10, 1, err), REQUEST_LOST, "stalled request");
    UT_CHECK(time(NULL) - t0 <= 3, "stalled request: deadline of 1s kept (%ld s)",
             (long)(time(NULL) - t0));
    UT_CHECK(strstr(vbuf_str(err), "timeout") != NULL, "stalled: says timeout: %s", vbuf_str(err));
    netio_close(io);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = writer(sv[1], "", 0, 4);
    close(sv[1]);
    io = netio_fdopen(sv[0], sv[0]);
    UT_EQ_INT(request_read(io, req, 1, 10, err), REQUEST_END, "idle client: session ends");
    netio_close(io);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    myfree(req);
    vbuf_free(err);
}

/* test_parse - the memory parser agrees */
static void test_parse(void)
{
    REQUEST *req = mymalloc(sizeof(*req));
    VBUF   *err = vbuf_alloc(1024);

    request_init(req);
    UT_EQ_INT(request_parse(req, GOOD, strlen(GOOD), err), REQUEST_OK, "parse good");
    UT_EQ_STR(request_get(req, "sender"), "a@b.example", "parse: sender");
    UT_CHECK(request_get(req, "size") == NULL, "parse: absent attribute");
    UT_EQ_INT(request_parse(req, "request=smtpd_access_policy\n", 28, err), REQUEST_LOST,
              "parse: no empty line");
    UT_EQ_INT(request_parse(req, "x\n\n", 3, err), REQUEST_BAD, "parse: no =");
    UT_EQ_INT(request_parse(req, "request=smtpd_access_policy\n=v\n\n", 33, err), REQUEST_BAD,
              "parse: empty name");
    request_reset(req);
    myfree(req);
    vbuf_free(err);
}

/* write_file - a file with text */
static void write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
}

/* read_answers - everything the session wrote until it closed */
static void read_answers(int fd, VBUF *out)
{
    char    buf[4096];
    ssize_t n;

    vbuf_reset(out);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        vbuf_append(out, buf, (size_t)n);
}

/* test_spawn_session - a scripted client against session_serve() */
static void test_spawn_session(const char *dir)
{
    char    rules[512], set[600];
    VBUF   *err = vbuf_alloc(1024), *out = vbuf_alloc(1 << 20);
    ENGINE *eng;
    int     sv[2], st;
    pid_t   pid;
    size_t  len;
    char   *many = big_attrs(10000, &len);
    VBUF   *script = vbuf_alloc(1 << 22);

    snprintf(rules, sizeof(rules), "%s/session.rules", dir);
    write_file(rules, "# test\nlocal: client_address in 192.0.2.0/24 sender_domain=b.example\n"
               "  => filter scan:[127.0.0.1]:10025\nrest: => REJECT 5.7.1 no\n");
    snprintf(set, sizeof(set), "policy_rules=%s", rules);
    ut_set(set);
    eng = engine_load(err);
    UT_CHECK(eng != NULL, "engine loads: %s", vbuf_str(err));
    if (eng == NULL)
        return;
    vbuf_strcpy(script, GOOD "request=smtpd_access_policy\nsender=x@y\n\n" "junk\n\n");
    vbuf_append(script, many, len);
    vbuf_strcat(script, "request=smtpd_access_policy\nsender=a@b.example\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = writer(sv[1], vbuf_str(script), vbuf_len(script), 0);
    UT_EQ_INT(session_serve(sv[0], sv[0], eng, "test", NULL), 6, "requests answered");
    close(sv[0]);
    read_answers(sv[1], out);
    UT_EQ_STR(vbuf_str(out), "action=FILTER scan:[127.0.0.1]:10025\n\n"
              "action=REJECT 5.7.1 no\n\n"
              "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n"
              "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n"
              "action=FILTER scan:[127.0.0.1]:10025\n\n"
              "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n",
              "the session's answers, in order");
    close(sv[1]);
    waitpid(pid, &st, 0);

    /* No rules loaded: every request is deferred, none is let through. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid = writer(sv[1], GOOD GOOD, strlen(GOOD GOOD), 0);
    UT_EQ_INT(session_serve(sv[0], sv[0], NULL, "test", NULL), 2, "no engine: answered");
    close(sv[0]);
    read_answers(sv[1], out);
    UT_EQ_STR(vbuf_str(out), "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n"
              "action=DEFER_IF_PERMIT Service temporarily unavailable\n\n", "no engine: deferred");
    close(sv[1]);
    waitpid(pid, &st, 0);
    engine_free(eng);
    myfree(many);
    vbuf_free(script);
    vbuf_free(err);
    vbuf_free(out);
}

int     main(void)
{
    char    dir[] = "/tmp/test_policy_request.XXXXXX";

    UT_BEGIN("test_policy_request");
    msg_init("test_policy_request", 0);
    signal(SIGPIPE, SIG_IGN);
    config_init();
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp");
    test_parse();
    test_hostile();
    test_timeouts();
    test_spawn_session(dir);
    {
        char    cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            msg_warn("cannot remove %s", dir);
    }
    return ut_done();
}
