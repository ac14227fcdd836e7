/*
 * test_smtpcli_session - smtpcli against a scripted SMTP peer
 *
 * Each test forks a peer on one end of a socketpair (or behind a loopback
 * listener). The peer walks a script: "S..." sends bytes, "C..." reads one
 * command line and checks it exactly (CRLF required), "B..." reads DATA
 * bytes through the final dot and compares them byte for byte, "T..."
 * reads to EOF and checks that what came is a prefix of the text and has
 * no final dot, "N" checks that nothing more was sent (no pipelining),
 * "E" expects EOF, "X" hangs up, "W" sleeps. The peer exits 1 on the first
 * mismatch, with the reason on stderr; the test checks its exit status and
 * what smtpcli returned.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"
#include "tests/unit/unittest.h"

#define PEER_WAIT_MS 10000

 /*
  * The scripted peer.
  */

/* peer_fail - report a mismatch and end the peer */
static void peer_fail(int step, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "peer: step %d: ", step);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    _exit(1);
}

/* peer_getc - one byte, -1 on EOF, -2 on a 10 s silence */
static int peer_getc(int fd, int wait_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    unsigned char c;
    ssize_t n;

    if (poll(&pfd, 1, wait_ms) <= 0)
        return -2;
    n = read(fd, &c, 1);
    if (n == 1)
        return c;
    return -1;
}

/* peer_run - walk the script on fd; exits 0 at the end */
static void peer_run(int fd, const char *const *script)
{
    VBUF *got = vbuf_alloc(0);
    int step, c;

    for (step = 0; script[step]; step++) {
        const char *s = script[step];
        const char *arg = s + 1;
        size_t alen = strlen(arg);

        vbuf_reset(got);
        switch (s[0]) {
        case 'S':
            if (write(fd, arg, alen) != (ssize_t)alen)
                peer_fail(step, "write failed");
            break;
        case 'C':
            while ((c = peer_getc(fd, PEER_WAIT_MS)) >= 0 && c != '\n')
                vbuf_addch(got, c);
            if (c != '\n')
                peer_fail(step, "want \"%s\", got %s after \"%s\"", arg,
                          c == -1 ? "EOF" : "silence", vbuf_str(got));
            if (got->len == 0 || got->data[got->len - 1] != '\r')
                peer_fail(step, "command \"%s\" not ended by CRLF", vbuf_str(got));
            vbuf_truncate(got, got->len - 1);
            if (strcmp(vbuf_str(got), arg) != 0)
                peer_fail(step, "want \"%s\", got \"%s\"", arg, vbuf_str(got));
            break;
        case 'B':
            for (;;) {
                if ((c = peer_getc(fd, PEER_WAIT_MS)) < 0)
                    peer_fail(step, "body cut short after %zu bytes", got->len);
                vbuf_addch(got, c);
                if ((got->len == 3 && memcmp(got->data, ".\r\n", 3) == 0)
                    || (got->len >= 5 && memcmp(got->data + got->len - 5, "\r\n.\r\n", 5) == 0))
                    break;
            }
            if (got->len != alen || memcmp(got->data, arg, alen) != 0)
                peer_fail(step, "body differs: got %zu bytes \"%.200s\", want %zu \"%.200s\"",
                          got->len, got->data, alen, arg);
            break;
        case 'T':
            while ((c = peer_getc(fd, PEER_WAIT_MS)) >= 0)
                vbuf_addch(got, c);
            if (c == -2)
                peer_fail(step, "no EOF");
            if (got->len > alen || memcmp(got->data, arg, got->len) != 0)
                peer_fail(step, "partial body is not a prefix of the message");
            if (got->len >= 3 && memcmp(got->data + got->len - 3, ".\r\n", 3) == 0)
                peer_fail(step, "partial body ends with the final dot");
            break;
        case 'N':
            if ((c = peer_getc(fd, 300)) != -2)
                peer_fail(step, "client sent more before the reply (pipelining?)");
            break;
        case 'E':
            if ((c = peer_getc(fd, PEER_WAIT_MS)) != -1)
                peer_fail(step, "want EOF, got %s", c == -2 ? "silence" : "more data");
            break;
        case 'X':
            close(fd);
            _exit(0);
        case 'W':
            sleep((unsigned)atoi(arg));
            break;
        default:
            peer_fail(step, "bad script step \"%s\"", s);
        }
    }
    close(fd);
    _exit(0);
}

/* peer_start - fork the peer; our end of the socketpair in *fd */
static pid_t peer_start(const char *const *script, int *fd)
{
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    if ((pid = fork()) == 0) {
        close(sv[0]);
        peer_run(sv[1], script);
    }
    close(sv[1]);
    *fd = sv[0];
    return pid;
}

/* peer_done - the peer's verdict */
static void peer_done(pid_t pid, const char *what)
{
    int st = 0;

    waitpid(pid, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: peer script failed", what);
}

/* peer_kill - stop a peer that sleeps */
static void peer_kill(pid_t pid)
{
    int st;

    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

 /*
  * Data sources.
  */

typedef struct FAILING_SOURCE {
    const char *data;
    size_t      len;
    int         calls;
} FAILING_SOURCE;

/* failing_read - the data once, then an error */
static ssize_t failing_read(void *ctx, char *buf, size_t len)
{
    FAILING_SOURCE *f = ctx;

    if (f->calls++ > 0)
        return -1;
    if (len > f->len)
        len = f->len;
    memcpy(buf, f->data, len);
    return (ssize_t)len;
}

/* mem_source - an SMTP_FD_SOURCE with only a prefix */
static SMTP_FD_SOURCE mem_source(const char *text)
{
    SMTP_FD_SOURCE s = {.prefix = text, .prefix_len = strlen(text), .fd = -1};

    return s;
}

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const SMTPCLI_OPTS opts5 = {.helo = "client.example", .timeout = 5, .deadline = 30};

 /*
  * The tests.
  */

/* test_plain - no extensions: bare MAIL/RCPT, lock-step, body, queue id */
static void test_plain(void)
{
    static const char *const script[] = {
        "S220 mx.example ESMTP\r\n",
        "CEHLO client.example",
        "S250 mx.example\r\n",
        "CMAIL FROM:<s@x.example>",
        "N",
        "S250 2.1.0 Ok\r\n",
        "CRCPT TO:<r@y.example>",
        "N",
        "S250 2.1.5 Ok\r\n",
        "CDATA",
        "S354 End data with <CR><LF>.<CR><LF>\r\n",
        "Bline1\r\n..dot\r\nbare\r\ncr\r\n..\r\n\r\n..\r\nend\r\n.\r\n",
        "S250 2.0.0 Ok: queued as 4ABC123\r\n",
        "CQUIT",
        "S221 2.0.0 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y.example", .notify = "NEVER", .orcpt = "rfc822;r@y.example"};
    SMTP_ENVELOPE env = {.sender = "s@x.example", .ret = "FULL", .envid = "E1", .body = "8BITMIME",
                         .smtputf8 = 1, .size = 99, .rcpt = &rcpt, .nrcpt = 1,
                         .xf_name = "n.example", .xf_addr = "192.0.2.1"};
    SMTP_FD_SOURCE src = mem_source("line1\n.dot\r\nbare\rcr\n.\n\r\n.\rend");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    VBUF *qid = vbuf_alloc(0);
    SMTPCLI *cli;
    int fd, rc;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli != NULL, "plain: open failed: %d %s", reply.code, vbuf_str(reply.text));
    if (cli) {
        UT_CHECK(!smtpcli_has_ext(cli, "PIPELINING"), "plain: no PIPELINING");
        UT_CHECK(smtpcli_ext_param(cli, "SIZE") == NULL, "plain: no SIZE");
        rc = smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res);
        UT_EQ_INT(rc, 0, "plain: send");
        UT_EQ_INT(res.sent, 1, "plain: sent");
        UT_EQ_INT(res.mail.code, 250, "plain: MAIL code");
        UT_EQ_STR(res.mail.dsn, "2.1.0", "plain: MAIL dsn");
        UT_EQ_INT(res.naccepted, 1, "plain: accepted");
        UT_EQ_INT(res.data.code, 250, "plain: final code");
        UT_EQ_STR(smtp_queue_id(&res.data, qid), "4ABC123", "plain: queue id");
        smtpcli_quit(cli);
    }
    peer_done(pid, "plain");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
    vbuf_free(qid);
}

/* test_extensions - every parameter, only because it is offered */
static void test_extensions(void)
{
    static const char *const script[] = {
        "S220-mx.example ESMTP\r\n220 welcome\r\n",
        "CEHLO client.example",
        "S250-mx.example\r\n250-pipelining\r\n250-SIZE 10240000\r\n250-8bitmime\r\n"
        "250-SMTPUTF8\r\n250-DSN\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n"
        "250 ENHANCEDSTATUSCODES\r\n",
        "CXFORWARD NAME=client.example ADDR=192.0.2.1 PROTO=ESMTP HELO=helo+20x+2By",
        "S250 2.0.0 Ok\r\n",
        /* pipelined: all of MAIL and RCPT before any reply */
        "CMAIL FROM:<s@x.example> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=env+2Bid",
        "CRCPT TO:<r1@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r1@y.example",
        "CRCPT TO:<r2@y.example> ORCPT=rfc822;orig+2Bx@y.example",
        "CRCPT TO:<r3@y.example> NOTIFY=NEVER ORCPT=rfc822;a+20b@y.example",
        "S250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "Bhello\r\n.\r\n",
        "S250 2.0.0 Ok: queued as QID77\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt[] = {
        {.addr = "r1@y.example", .notify = "SUCCESS,FAILURE", .orcpt = "r1@y.example"},
        {.addr = "r2@y.example", .orcpt = "rfc822;orig+x@y.example"},
        {.addr = "r3@y.example", .notify = "NEVER", .orcpt = "a b@y.example"},
    };
    SMTP_ENVELOPE env = {.sender = "s@x.example", .ret = "HDRS", .envid = "env+id",
                         .body = "8BITMIME", .smtputf8 = 1, .size = 1234,
                         .rcpt = rcpt, .nrcpt = 3,
                         .xf_name = "client.example", .xf_addr = "192.0.2.1",
                         .xf_port = "4321", .xf_proto = "ESMTP", .xf_helo = "helo x+y",
                         .xf_ident = "QUEUEID", .xf_source = "REMOTE"};
    SMTP_FD_SOURCE src = mem_source("hello");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli != NULL, "extensions: open failed: %s", vbuf_str(reply.text));
    if (cli) {
        UT_CHECK(smtpcli_has_ext(cli, "PIPELINING"), "lower-case keyword found");
        UT_CHECK(smtpcli_has_ext(cli, "8BITMIME"), "8bitmime found");
        UT_CHECK(!smtpcli_has_ext(cli, "SIZE 1"), "no partial keyword match");
        UT_CHECK(!smtpcli_has_ext(cli, "DS"), "no prefix match");
        UT_EQ_STR(smtpcli_ext_param(cli, "size"), "10240000", "SIZE parameter");
        UT_EQ_STR(smtpcli_ext_param(cli, "DSN"), "", "DSN without parameter");
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), 0,
                  "extensions: send");
        UT_EQ_INT(res.naccepted, 3, "extensions: accepted");
        smtpcli_quit(cli);
    }
    peer_done(pid, "extensions");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_xforward_split - XFORWARD lines stay within 512 bytes */
static void test_xforward_split(void)
{
    static char name[201], helo[301], line1[600], line2[600];
    static const char *script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250-mx\r\n250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n",
        line1,
        "S250 Ok\r\n",
        line2,
        "S250 Ok\r\n",
        "CMAIL FROM:<>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "B.\r\n",
        "S250 Ok\r\n",
        "X",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "", .rcpt = &rcpt, .nrcpt = 1,
                         .xf_name = name, .xf_addr = "192.0.2.1", .xf_port = "25",
                         .xf_proto = "SMTP", .xf_helo = helo, .xf_ident = "ID",
                         .xf_source = "REMOTE"};
    SMTP_FD_SOURCE src = mem_source("");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid;

    memset(name, 'n', 200);
    memset(helo, 'h', 300);
    snprintf(line1, sizeof(line1), "CXFORWARD NAME=%s ADDR=192.0.2.1 PORT=25 PROTO=SMTP", name);
    snprintf(line2, sizeof(line2), "CXFORWARD HELO=%s IDENT=ID SOURCE=REMOTE", helo);
    UT_CHECK(strlen(line1) - 1 + 2 <= 512 && strlen(line2) - 1 + 2 <= 512, "script lines fit");
    pid = peer_start(script, &fd);
    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli != NULL, "xforward: open failed");
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), 0,
                  "xforward split: send");
        smtpcli_close(cli);
    }
    peer_done(pid, "xforward split");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_partial_all_or_nothing - a refused recipient: RSET, no DATA */
static void test_partial_all_or_nothing(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250-mx\r\n250 PIPELINING\r\n",
        "CMAIL FROM:<s@x>",
        "CRCPT TO:<ok@y>",
        "CRCPT TO:<bad@y>",
        "S250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <bad@y>: Recipient address rejected\r\n",
        "CRSET",
        "S250 2.0.0 Ok\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt[] = {{.addr = "ok@y"}, {.addr = "bad@y"}};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = rcpt, .nrcpt = 2};
    FAILING_SOURCE src = {"x", 1, 0};
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli != NULL, "partial: open failed");
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, failing_read, &src, &res), -1, "partial: send");
        UT_EQ_INT(res.sent, 0, "partial: not sent");
        UT_EQ_INT(res.naccepted, 1, "partial: accepted");
        UT_EQ_INT(res.rcpt[0].code, 250, "partial: rcpt 0");
        UT_EQ_INT(res.rcpt[1].code, 550, "partial: rcpt 1");
        UT_EQ_STR(res.rcpt[1].dsn, "5.1.1", "partial: rcpt 1 dsn");
        UT_EQ_INT(res.data.code, 0, "partial: no DATA reply");
        UT_EQ_INT(src.calls, 0, "partial: source never read");
        smtpcli_quit(cli);
    }
    peer_done(pid, "partial all-or-nothing");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_partial_some - without all_or_nothing the accepted ones get it */
static void test_partial_some(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S250 2.1.0 Ok\r\n",
        "CRCPT TO:<bad@y>",
        "S450 4.2.0 <bad@y>: try later\r\n",
        "CRCPT TO:<ok@y>",
        "S250 2.1.5 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "Bx\r\n.\r\n",
        "S250 2.0.0 Ok: queued as P1\r\n",
        "X",
        NULL,
    };
    SMTP_RCPT rcpt[] = {{.addr = "bad@y"}, {.addr = "ok@y"}};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = rcpt, .nrcpt = 2};
    SMTP_FD_SOURCE src = mem_source("x");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 0, smtp_fd_source_read, &src, &res), 0, "some: send");
        UT_EQ_INT(res.naccepted, 1, "some: accepted");
        UT_EQ_INT(res.rcpt[0].code, 450, "some: rcpt 0");
        smtpcli_close(cli);
    }
    peer_done(pid, "partial some");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_mail_4xx - MAIL refused: no RCPT goes out (lock-step) */
static void test_mail_4xx(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S451 4.3.0 Error: queue file write error\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt[] = {{.addr = "a@y"}, {.addr = "b@y"}};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = rcpt, .nrcpt = 2};
    SMTP_FD_SOURCE src = mem_source("x");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), -1, "4xx: send");
        UT_EQ_INT(res.mail.code, 451, "4xx: MAIL code");
        UT_EQ_STR(res.mail.dsn, "4.3.0", "4xx: MAIL dsn");
        UT_EQ_INT(res.rcpt[0].code, 0, "4xx: rcpt not sent");
        UT_CHECK(strstr(vbuf_str(res.rcpt[0].text), "not sent") != NULL, "4xx: rcpt reason");
        UT_EQ_INT(res.naccepted, 0, "4xx: none accepted");
        smtpcli_quit(cli);
    }
    peer_done(pid, "MAIL 4xx");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_close_mid_data - the server hangs up during DATA: code 0 */
static void test_close_mid_data(size_t body_len)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "X",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = &rcpt, .nrcpt = 1};
    char *body = mymalloc(body_len + 1);
    SMTP_FD_SOURCE src;
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    memset(body, 'a', body_len);
    body[body_len] = 0;
    src = mem_source(body);
    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), -1,
                  "close mid-DATA: send");
        UT_EQ_INT(res.data.code, 0, "close mid-DATA: code 0");
        UT_CHECK(strstr(vbuf_str(res.data.text), "lost connection with fd ") != NULL,
                 "close mid-DATA: text \"%s\"", vbuf_str(res.data.text));
        UT_CHECK(strstr(vbuf_str(res.data.text), body_len > 100000 ?
                        "while sending message body" : "while sending end of data") != NULL,
                 "close mid-DATA: phase in \"%s\"", vbuf_str(res.data.text));
        UT_EQ_INT(res.sent, 0, "close mid-DATA: not sent");
        /* a dead session answers at once, with the same reason */
        UT_EQ_INT(smtpcli_noop(cli, &reply), 0, "close mid-DATA: NOOP after");
        smtpcli_quit(cli);
    }
    peer_done(pid, "close mid-DATA");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
    myfree(body);
}

/* test_silent_server - no greeting: timeout within the limit */
static void test_silent_server(int timeout, int deadline)
{
    static const char *const script[] = {"W20", NULL};
    SMTPCLI_OPTS o = {.helo = "c", .timeout = timeout, .deadline = deadline};
    SMTP_REPLY reply;
    SMTPCLI *cli;
    long long t0, ms;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    t0 = now_ms();
    cli = smtpcli_open_fd(fd, fd, &o, &reply);
    ms = now_ms() - t0;
    UT_CHECK(cli == NULL, "silent: open succeeded");
    UT_EQ_INT(reply.code, 0, "silent: code 0");
    UT_CHECK(strstr(vbuf_str(reply.text), "timed out while receiving the initial server greeting"),
             "silent: text \"%s\"", vbuf_str(reply.text));
    UT_CHECK(ms >= 900 && ms < 2500, "silent: took %lld ms for a 1 s limit", ms);
    if (cli)
        smtpcli_close(cli);
    peer_kill(pid);
    smtp_reply_free(&reply);
}

/* test_silent_mail - MAIL never answered: the transaction times out */
static void test_silent_mail(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250-mx\r\n250 PIPELINING\r\n",
        "W20",
        NULL,
    };
    SMTPCLI_OPTS o = {.helo = "client.example", .timeout = 1, .deadline = 0};
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = &rcpt, .nrcpt = 1};
    SMTP_FD_SOURCE src = mem_source("x");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    long long t0, ms;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &o, &reply);
    if (cli) {
        t0 = now_ms();
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), -1, "silent MAIL");
        ms = now_ms() - t0;
        UT_EQ_INT(res.mail.code, 0, "silent MAIL: code 0");
        UT_CHECK(strstr(vbuf_str(res.mail.text), "timed out while sending MAIL FROM"),
                 "silent MAIL: text \"%s\"", vbuf_str(res.mail.text));
        UT_CHECK(ms >= 900 && ms < 2500, "silent MAIL: took %lld ms", ms);
        smtpcli_close(cli);
    }
    peer_kill(pid);
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_source_error - the source fails: hang up without the final dot */
static void test_source_error(void)
{
    static char partial[8000];
    static char expect[10000];
    static const char *script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        expect,
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = &rcpt, .nrcpt = 1};
    FAILING_SOURCE src;
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd, i;
    pid_t pid;

    /* lines of "abc", some starting with a dot: what may arrive, at most */
    for (i = 0; i + 5 <= (int)sizeof(partial) - 1; i += 5)
        memcpy(partial + i, i % 10 ? "abc\r\n" : ".bc\r\n", 5);
    partial[i] = 0;
    src.data = partial;
    src.len = strlen(partial);
    src.calls = 0;
    expect[0] = 'T';
    {
        char *p = expect + 1;
        const char *q;

        for (q = partial; *q; q += 5) {
            if (*q == '.')
                *p++ = '.';
            memcpy(p, q, 5);
            p += 5;
        }
        *p = 0;
    }
    pid = peer_start(script, &fd);
    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, failing_read, &src, &res), -1, "source error: send");
        UT_EQ_INT(res.data.code, 0, "source error: code 0");
        UT_CHECK(strstr(vbuf_str(res.data.text), "error reading the message content") != NULL,
                 "source error: text \"%s\"", vbuf_str(res.data.text));
        UT_EQ_INT(res.sent, 0, "source error: not sent");
        smtpcli_quit(cli);         /* no QUIT goes out: the connection is gone */
    }
    peer_done(pid, "source error");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_greeting_554 - refused at the greeting: QUIT, reply returned */
static void test_greeting_554(void)
{
    static const char *const script[] = {
        "S554 5.7.1 mx.example: no service for you\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_REPLY reply;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli == NULL, "554 greeting: open succeeded");
    UT_EQ_INT(reply.code, 554, "554 greeting: code");
    UT_EQ_STR(reply.dsn, "5.7.1", "554 greeting: dsn");
    UT_EQ_STR(vbuf_str(reply.text), "5.7.1 mx.example: no service for you", "554 greeting: text");
    peer_done(pid, "greeting 554");
    smtp_reply_free(&reply);
}

/* test_helo_fallback - EHLO refused with 5xx: HELO, and no parameters */
static void test_helo_fallback(void)
{
    static const char *const script[] = {
        "S220 old.example SMTP\r\n",
        "CEHLO client.example",
        "S502 5.5.2 Error: command not recognized\r\n",
        "CHELO client.example",
        "S250 old.example\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "Bhi\r\n.\r\n",
        "S250 Ok\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y", .notify = "NEVER", .orcpt = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .size = 10, .body = "8BITMIME", .ret = "FULL",
                         .envid = "x", .smtputf8 = 1, .rcpt = &rcpt, .nrcpt = 1,
                         .xf_name = "n"};
    SMTP_FD_SOURCE src = mem_source("hi\n");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    UT_CHECK(cli != NULL, "HELO fallback: open failed: %s", vbuf_str(reply.text));
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), 0, "HELO: send");
        UT_CHECK(!smtpcli_has_ext(cli, "DSN"), "HELO: no extensions");
        smtpcli_quit(cli);
    }
    peer_done(pid, "HELO fallback");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_lmtp - one reply per accepted recipient after the dot */
static void test_lmtp(void)
{
    static const char *const script[] = {
        "S220 lmtp.example LMTP\r\n",
        "CLHLO client.example",
        "S250-lmtp.example\r\n250 PIPELINING\r\n",
        "CMAIL FROM:<s@x>",
        "CRCPT TO:<a@y>",
        "CRCPT TO:<b@y>",
        "CRCPT TO:<c@y>",
        "S250 Ok\r\n250 Ok\r\n550 5.1.1 no b\r\n250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        "Bm\r\n.\r\n",
        "S250 2.0.0 <a@y> Ok: queued as LA\r\n452 4.2.2 <c@y> mailbox full\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTPCLI_OPTS o = {.helo = "client.example", .timeout = 5, .lmtp = 1};
    SMTP_RCPT rcpt[] = {{.addr = "a@y"}, {.addr = "b@y"}, {.addr = "c@y"}};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = rcpt, .nrcpt = 3};
    SMTP_FD_SOURCE src = mem_source("m");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    VBUF *qid = vbuf_alloc(0);
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &o, &reply);
    UT_CHECK(cli != NULL, "LMTP: open failed: %s", vbuf_str(reply.text));
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 0, smtp_fd_source_read, &src, &res), -1, "LMTP: send");
        UT_EQ_INT(res.naccepted, 2, "LMTP: accepted");
        UT_EQ_INT(res.rcpt[0].code, 250, "LMTP: a delivered");
        UT_EQ_STR(smtp_queue_id(&res.rcpt[0], qid), "LA", "LMTP: a queue id");
        UT_EQ_INT(res.rcpt[1].code, 550, "LMTP: b refused at RCPT");
        UT_EQ_INT(res.rcpt[2].code, 452, "LMTP: c failed after data");
        UT_EQ_INT(res.data.code, 452, "LMTP: data is the first failure");
        UT_EQ_INT(res.sent, 0, "LMTP: not all sent");
        smtpcli_quit(cli);
    }
    peer_done(pid, "LMTP");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
    vbuf_free(qid);
}

/* test_garbled - a malformed reply: code 0, and the session is over */
static void test_garbled(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S25O oops\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = &rcpt, .nrcpt = 1};
    SMTP_FD_SOURCE src = mem_source("x");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), -1, "garbled: send");
        UT_EQ_INT(res.rcpt[0].code, 0, "garbled: code 0");
        UT_CHECK(strstr(vbuf_str(res.rcpt[0].text), "malformed reply from fd ")
                 && strstr(vbuf_str(res.rcpt[0].text), "while sending RCPT TO: 25O oops"),
                 "garbled: text \"%s\"", vbuf_str(res.rcpt[0].text));
        smtpcli_quit(cli);
    }
    peer_done(pid, "garbled");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_injection - a line break in envelope data never reaches the server */
static void test_injection(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250-mx\r\n250 DSN\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<ok@y> ORCPT=rfc822;x+0D+0ADATA@y",
        "S250 Ok\r\n",
        "CRSET",
        "S250 Ok\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        "E",
        NULL,
    };
    SMTP_RCPT rcpt[] = {{.addr = "ok@y", .orcpt = "x\r\nDATA@y"},
                        {.addr = "evil@y>\r\nDATA"},
                        {.addr = "n@y", .notify = "NEVER ORCPT=x"}};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = rcpt, .nrcpt = 3};
    SMTP_FD_SOURCE src = mem_source("x");
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd;
    pid_t pid = peer_start(script, &fd);

    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), -1, "inject: send");
        UT_EQ_INT(res.rcpt[1].code, 0, "inject: CRLF address refused locally");
        UT_EQ_INT(res.rcpt[2].code, 0, "inject: bad NOTIFY refused locally");
        smtpcli_quit(cli);
    }
    peer_done(pid, "injection");
    smtp_result_free(&res);
    smtp_reply_free(&reply);
}

/* test_big_body - a body over several 64 KB chunks arrives byte-exactly */
static void test_big_body(void)
{
    static const char *script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CMAIL FROM:<s@x>",
        "S250 Ok\r\n",
        "CRCPT TO:<r@y>",
        "S250 Ok\r\n",
        "CDATA",
        "S354 go\r\n",
        NULL,               /* "B" + the expected bytes */
        "S250 Ok: queued as BIG\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        NULL,
    };
    SMTP_RCPT rcpt = {.addr = "r@y"};
    SMTP_ENVELOPE env = {.sender = "s@x", .rcpt = &rcpt, .nrcpt = 1};
    VBUF *in = vbuf_alloc(0), *want = vbuf_alloc(0);
    char tmpl[] = "/tmp/test_smtpcli_XXXXXX";
    SMTP_FD_SOURCE src = {.prefix = "X-Added: yes\n", .prefix_len = 13};
    SMTP_REPLY reply;
    SMTP_RESULT res;
    SMTPCLI *cli;
    int fd, i, tfd;
    pid_t pid;

    /* lines cut at awkward places: CRs at 64 KB borders, dots, bare LFs */
    vbuf_strcat(want, "BX-Added: yes\r\n");
    for (i = 0; i < 30000; i++) {
        switch (i % 4) {
        case 0:
            vbuf_strcat(in, ".leading dot\r");
            vbuf_strcat(want, "..leading dot\r\n");
            break;
        case 1:
            vbuf_strcat(in, "\nbare lf\n");
            vbuf_strcat(want, "bare lf\r\n");
            break;
        case 2:
            vbuf_strcat(in, "crlf line\r\n");
            vbuf_strcat(want, "crlf line\r\n");
            break;
        default:
            vbuf_strcat(in, "x\r");
            vbuf_strcat(want, "x\r\n");
            break;
        }
    }
    vbuf_strcat(want, ".\r\n");
    tfd = mkstemp(tmpl);
    unlink(tmpl);
    UT_CHECK(write(tfd, in->data, in->len) == (ssize_t)in->len, "big: temp file");
    src.fd = tfd;
    src.off = 0;
    script[9] = want->data;

    pid = peer_start(script, &fd);
    smtp_reply_init(&reply);
    smtp_result_init(&res);
    cli = smtpcli_open_fd(fd, fd, &opts5, &reply);
    if (cli) {
        UT_EQ_INT(smtpcli_send(cli, &env, 1, smtp_fd_source_read, &src, &res), 0, "big: send");
        UT_EQ_INT(src.off, (long long)in->len, "big: whole file read");
        smtpcli_quit(cli);
    }
    peer_done(pid, "big body");
    close(tfd);
    smtp_result_free(&res);
    smtp_reply_free(&reply);
    vbuf_free(in);
    vbuf_free(want);
}

/* test_inet - smtpcli_open over loopback TCP, and a refused connection */
static void test_inet(void)
{
    static const char *const script[] = {
        "S220 mx\r\n",
        "CEHLO client.example",
        "S250 mx\r\n",
        "CNOOP",
        "S250 2.0.0 Ok\r\n",
        "CQUIT",
        "S221 Bye\r\n",
        NULL,
    };
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char target[64], want[128];
    SMTP_REPLY reply;
    SMTPCLI *cli;
    int lfd, cfd, port, st;
    pid_t pid;

    smtp_reply_init(&reply);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1) < 0
        || getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
        UT_CHECK(0, "inet: cannot listen on loopback");
        return;
    }
    port = ntohs(sin.sin_port);
    if ((pid = fork()) == 0) {
        cfd = accept(lfd, NULL, NULL);
        close(lfd);
        peer_run(cfd, script);
    }
    close(lfd);
    snprintf(target, sizeof(target), "[127.0.0.1]:%d", port);
    cli = smtpcli_open(target, &opts5, &reply);
    UT_CHECK(cli != NULL, "inet: open %s: %s", target, vbuf_str(reply.text));
    if (cli) {
        UT_EQ_INT(smtpcli_noop(cli, &reply), 250, "inet: NOOP");
        smtpcli_quit(cli);
    }
    waitpid(pid, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "inet: peer script failed");

    /* the port is closed now: refused, in Postfix's words */
    cli = smtpcli_open(target, &opts5, &reply);
    UT_CHECK(cli == NULL, "refused: open succeeded");
    snprintf(want, sizeof(want), "connect to [127.0.0.1]:%d: Connection refused", port);
    UT_EQ_STR(vbuf_str(reply.text), want, "refused: text");
    UT_EQ_INT(reply.code, 0, "refused: code 0");
    snprintf(target, sizeof(target), "inet:127.0.0.1:%d", port);
    cli = smtpcli_open(target, &opts5, &reply);
    UT_EQ_STR(vbuf_str(reply.text), want, "refused: inet: form");

    cli = smtpcli_open("unix:/nonexistent/postsift-test.sock", &opts5, &reply);
    UT_EQ_STR(vbuf_str(reply.text),
              "connect to /nonexistent/postsift-test.sock: No such file or directory",
              "unix: text");
    cli = smtpcli_open("::1:25", &opts5, &reply);
    UT_CHECK(cli == NULL && strstr(vbuf_str(reply.text), "bad address"), "bare IPv6 refused");
    smtp_reply_free(&reply);
}

/* main - run the tests */
int main(void)
{
    UT_BEGIN("test_smtpcli_session");
    alarm(120);
    test_plain();
    test_extensions();
    test_xforward_split();
    test_partial_all_or_nothing();
    test_partial_some();
    test_mail_4xx();
    test_close_mid_data(10);
    test_close_mid_data(1024 * 1024);
    test_silent_server(1, 0);
    test_silent_server(10, 1);
    test_silent_mail();
    test_source_error();
    test_greeting_554();
    test_helo_fallback();
    test_lmtp();
    test_garbled();
    test_injection();
    test_big_body();
    test_inet();
    return ut_done();
}
