/*
 * test_reinject_status - the pipe contract of reinject_message()
 *
 * A scripted SMTP peer (a forked child on a loopback port) answers each
 * command from a table; we check the exit status, the DSN and the text
 * that reinject_message() derives, and what the peer actually received.
 * The sendmail path runs a fake sendmail script that records its argv
 * and stdin, to show that envelope data reaches it verbatim, without a
 * shell. Also: address quoting and the quarantine round trip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/quarantine.h"
#include "reinject/reinject.h"
#include "unittest.h"

typedef struct PEER_SCRIPT {
    const char *greeting;       /* "220 ..." */
    const char *ehlo;           /* full multi-line EHLO reply */
    const char *mail;           /* reply to MAIL */
    const char *rcpt[4];        /* replies to each RCPT */
    const char *data;           /* reply to DATA */
    const char *final;          /* reply after the dot */
    const char *xforward;       /* reply to XFORWARD (NULL: 250) */
} PEER_SCRIPT;

static char tmpdir[] = "/tmp/test_reinject.XXXXXX";

/* peer_line - read one line from the socket, byte at a time (simple) */
static int peer_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    char ch;

    while (n + 1 < len && read(fd, &ch, 1) == 1) {
        buf[n++] = ch;
        if (ch == '\n')
            break;
    }
    buf[n] = 0;
    return (int)n;
}

/* peer_say - send a reply */
static void peer_say(int fd, const char *text)
{
    (void)!write(fd, text, strlen(text));
    (void)!write(fd, "\r\n", 2);
}

/* peer_run - serve one session per the script, log what came in */
static void peer_run(int lfd, const PEER_SCRIPT *ps, const char *log_path)
{
    int fd = accept(lfd, NULL, NULL), logfd, nrcpt = 0;
    char line[200000];

    logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    peer_say(fd, ps->greeting);
    while (peer_line(fd, line, sizeof(line)) > 0) {
        (void)!write(logfd, line, strlen(line));
        if (strncasecmp(line, "EHLO", 4) == 0) {
            peer_say(fd, ps->ehlo);
        } else if (strncasecmp(line, "XFORWARD", 8) == 0) {
            peer_say(fd, ps->xforward ? ps->xforward : "250 2.0.0 Ok");
        } else if (strncasecmp(line, "MAIL", 4) == 0) {
            peer_say(fd, ps->mail);
        } else if (strncasecmp(line, "RCPT", 4) == 0) {
            peer_say(fd, ps->rcpt[nrcpt < 4 ? nrcpt : 3] ? ps->rcpt[nrcpt < 4 ? nrcpt : 3] : "250 2.1.5 Ok");
            nrcpt++;
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            peer_say(fd, ps->data);
            if (ps->data[0] != '3')
                continue;
            while (peer_line(fd, line, sizeof(line)) > 0) {
                (void)!write(logfd, line, strlen(line));
                if (strcmp(line, ".\r\n") == 0)
                    break;
            }
            peer_say(fd, ps->final);
        } else if (strncasecmp(line, "RSET", 4) == 0) {
            peer_say(fd, "250 2.0.0 Ok");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            peer_say(fd, "221 2.0.0 Bye");
            break;
        } else {
            peer_say(fd, "502 5.5.2 Error: command not recognized");
        }
    }
    close(logfd);
    close(fd);
}

/* peer_start - listen on a loopback port, fork the peer, return target */
static pid_t peer_start(const PEER_SCRIPT *ps, const char *log_path, char *target, size_t len)
{
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    pid_t pid;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 5) < 0
        || getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0) {
        perror("peer listen");
        exit(2);
    }
    snprintf(target, len, "[127.0.0.1]:%d", ntohs(sin.sin_port));
    if ((pid = fork()) == 0) {
        alarm(20);
        peer_run(lfd, ps, log_path);
        _exit(0);
    }
    close(lfd);
    return pid;
}

/* slurp - a whole file as a string (static buffer) */
static const char *slurp(const char *path)
{
    static char buf[262144];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
    return buf;
}

/* message_fd - a spool file holding text */
static int message_fd(const char *text)
{
    VBUF *err = vbuf_alloc(1024);
    int fd = spool_create(tmpdir, err);

    (void)!write(fd, text, strlen(text));
    vbuf_free(err);
    return fd;
}

#define EHLO_FULL "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n" \
                  "250-DSN\r\n250-XFORWARD NAME ADDR PROTO HELO IDENT\r\n250 ENHANCEDSTATUSCODES"

typedef struct SMTP_CASE {
    const char *name;
    PEER_SCRIPT script;
    int nrcpt;
    int want_status;
    const char *want_dsn;       /* prefix of res.dsn */
    const char *want_text;      /* substring of res.text */
    int want_data_sent;         /* the peer saw the body */
} SMTP_CASE;

static const SMTP_CASE smtp_cases[] = {
    {"accepted", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {NULL}, "354 go", "250 2.0.0 Ok: queued as 4AbCdE", NULL},
     2, 0, "2.0.0", "queued as 4AbCdE", 1},
    {"all rcpt 5xx", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {"550 5.1.1 <a@x>: no such user", "550 5.1.1 <b@x>: no such user"}, "354 go", "250 ok", NULL},
     2, 69, "5.1.1", "no such user", 0},
    {"partial refusal", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {"250 2.1.5 Ok", "550 5.1.1 <b@x>: no such user"}, "354 go", "250 ok", NULL},
     2, 75, "4.1.1", "1 of 2 recipients accepted", 0},
    {"rcpt 4xx", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {"450 4.2.0 greylisted"}, "354 go", "250 ok", NULL},
     1, 75, "4.2.0", "greylisted", 0},
    {"mail 5xx", {"220 mx", EHLO_FULL, "553 5.7.1 sender refused", {NULL}, "354 go", "250 ok", NULL},
     1, 69, "5.7.1", "sender refused", 0},
    {"data 5xx", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {NULL}, "354 go", "552 5.3.4 message too big", NULL},
     1, 69, "5.3.4", "too big", 1},
    {"data 4xx", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {NULL}, "354 go", "451 4.3.0 try later", NULL},
     1, 75, "4.3.0", "try later", 1},
    {"greeting 554", {"554 5.3.2 go away", EHLO_FULL, "250 ok", {NULL}, "354 go", "250 ok", NULL},
     1, 75, "4.", "go away", 0},
    {"mail 3xx", {"220 mx", EHLO_FULL, "354 3.0.0 what?", {NULL}, "354 go", "250 ok", NULL},
     1, 75, "4.0.0", "what?", 0},
    {"rcpt 5xx and 4xx", {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {"550 5.1.1 <a@x>: no such user", "452 4.5.3 too many"}, "354 go", "250 ok", NULL},
     2, 75, "4.1.1", "no such user", 0},
};

/* test_smtp_cases - the status table against the scripted peer */
static void test_smtp_cases(void)
{
    static const char body[] = "Subject: t\n\n.leading dot\nline\n";
    const char *rcpts[] = {"a@x", "b@x"};
    size_t i;

    for (i = 0; i < sizeof(smtp_cases) / sizeof(smtp_cases[0]); i++) {
        const SMTP_CASE *tc = &smtp_cases[i];
        SMTP_RCPT rc[2] = {{rcpts[0], NULL, NULL}, {rcpts[1], NULL, NULL}};
        SMTP_ENVELOPE env = {0};
        REINJECT_RESULT res;
        char target[64], log_path[256];
        const char *seen;
        pid_t pid;
        int fd = message_fd(body), st;

        snprintf(log_path, sizeof(log_path), "%s/peer.log", tmpdir);
        env.sender = "s@y";
        env.rcpt = rc;
        env.nrcpt = tc->nrcpt;
        env.xf_addr = "192.0.2.1";
        env.xf_ident = "ABC123";
        pid = peer_start(&tc->script, log_path, target, sizeof(target));
        reinject_result_init(&res);
        reinject_message(target, &env, "X-Added: 1\n", 11, fd, 0, 10, &res);
        waitpid(pid, &st, 0);
        seen = slurp(log_path);
        UT_CHECK(res.status == tc->want_status, "%s: status %d, want %d (%s %s)", tc->name,
                 res.status, tc->want_status, res.dsn, vbuf_str(res.text));
        UT_CHECK(strncmp(res.dsn, tc->want_dsn, strlen(tc->want_dsn)) == 0, "%s: dsn %s, want %s",
                 tc->name, res.dsn, tc->want_dsn);
        UT_CHECK(strstr(vbuf_str(res.text), tc->want_text) != NULL, "%s: text \"%s\" lacks \"%s\"",
                 tc->name, vbuf_str(res.text), tc->want_text);
        UT_CHECK((strstr(seen, "X-Added: 1\r\nSubject: t\r\n\r\n..leading dot\r\n") != NULL)
                 == tc->want_data_sent, "%s: body %s at the peer", tc->name,
                 tc->want_data_sent ? "missing" : "sent anyway");
        if (tc->want_status == 0)
            UT_CHECK(strstr(seen, "ADDR=192.0.2.1") && strstr(seen, "IDENT=ABC123"),
                     "%s: XFORWARD attributes missing", tc->name);
        reinject_result_free(&res);
        close(fd);
    }
}

/* test_connect_refused - nobody listening: 75, never 69 */
static void test_connect_refused(void)
{
    SMTP_RCPT rc = {"a@x", NULL, NULL};
    SMTP_ENVELOPE env = {0};
    REINJECT_RESULT res;
    int fd = message_fd("Subject: t\n\nbody\n");

    env.sender = "";
    env.rcpt = &rc;
    env.nrcpt = 1;
    reinject_result_init(&res);
    reinject_message("[127.0.0.1]:1", &env, "", 0, fd, 0, 5, &res);
    UT_EQ_INT(res.status, 75, "connection refused status");
    UT_CHECK(res.dsn[0] == '4', "connection refused dsn %s", res.dsn);
    reinject_result_free(&res);
    close(fd);
}

/* test_sendmail - argv verbatim, stdin intact, exit status mapped */
static void test_sendmail(void)
{
    static char two_dir[] = "/etc/postfix-two";
    char script[512], argv_log[512], in_log[512];
    const char *rcpts[] = {"a b@x", "$(touch /tmp/pwned)@x", "-oi@x"};
    SMTP_RCPT rc[3] = {{rcpts[0], NULL, NULL}, {rcpts[1], NULL, NULL}, {rcpts[2], NULL, NULL}};
    SMTP_ENVELOPE env = {0};
    REINJECT_RESULT res;
    FILE *fp;
    int fd = message_fd("Subject: t\n\n.\nbody\n"), exit_code;

    snprintf(script, sizeof(script), "%s/sendmail", tmpdir);
    snprintf(argv_log, sizeof(argv_log), "%s/argv", tmpdir);
    snprintf(in_log, sizeof(in_log), "%s/stdin", tmpdir);
    for (exit_code = 0; exit_code <= 75; exit_code += 75) {
        fp = fopen(script, "w");
        fprintf(fp, "#!/bin/sh\nfor a in \"$@\"; do printf '[%%s]' \"$a\"; done > %s\n"
                "cat > %s\necho 'postdrop: some words' >&2\nexit %d\n", argv_log, in_log, exit_code);
        fclose(fp);
        chmod(script, 0700);
        var_sendmail_path = script;
        var_sendmail_config_directory = two_dir;
        env.sender = "s@y";
        env.rcpt = rc;
        env.nrcpt = 3;
        reinject_result_init(&res);
        reinject_message("sendmail", &env, "X-Added: 1\n", 11, fd, 0, 10, &res);
        UT_EQ_INT(res.status, exit_code, "sendmail exit mapped");
        UT_EQ_STR(slurp(argv_log), "[-G][-i][-C][/etc/postfix-two][-f][s@y][--][a b@x]"
                  "[$(touch /tmp/pwned)@x][-oi@x]", "sendmail argv");
        UT_EQ_STR(slurp(in_log), "X-Added: 1\nSubject: t\n\n.\nbody\n", "sendmail stdin");
        if (exit_code)
            UT_CHECK(strstr(vbuf_str(res.text), "postdrop: some words") != NULL,
                     "sendmail words kept: %s", vbuf_str(res.text));
        reinject_result_free(&res);
    }
    UT_CHECK(access("/tmp/pwned", F_OK) != 0, "envelope data reached a shell");
    close(fd);
}

/* test_address - RFC 5321 quoting of pipe(8) addresses */
static void test_address(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"user@example.com", "user@example.com"},
        {"first.last@example.com", "first.last@example.com"},
        {"john doe@example.com", "\"john doe\"@example.com"},
        {"\"john doe\"@example.com", "\"john doe\"@example.com"},
        {"a..b@example.com", "\"a..b\"@example.com"},
        {"we\"ird@example.com", "\"we\\\"ird\"@example.com"},
        {"", ""},
        {"postmaster", "postmaster"},
        {"j\xc3\xb6rg@example.com", "j\xc3\xb6rg@example.com"},
    };
    VBUF *out = vbuf_alloc(REINJECT_ADDRESS_BUF);
    VBUF *small = vbuf_alloc(16);
    char *longest = mymalloc(SMTP_ADDRESS_MAX + 2);
    char *want = mymalloc(2 * SMTP_ADDRESS_MAX + 3);
    const char *got;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        UT_EQ_STR(reinject_address(cases[i].in, out), cases[i].want, cases[i].in);

    /* Longer than RFC 5321's 256 octets and Postfix's default
     * line_length_limit: relayed exactly as it came. */
    memset(longest, 'a', 3000);
    memcpy(longest + 3000, "@example.com", 13);
    UT_EQ_STR(reinject_address(longest, out), longest, "3012-byte address kept whole");
    /* The longest we relay, and one that must be quoted (doubled). */
    memset(longest, ' ', SMTP_ADDRESS_MAX);
    longest[SMTP_ADDRESS_MAX - 2] = '@';
    longest[SMTP_ADDRESS_MAX - 1] = 'x';
    longest[SMTP_ADDRESS_MAX] = 0;
    want[0] = '"';
    memset(want + 1, ' ', SMTP_ADDRESS_MAX - 2);
    memcpy(want + SMTP_ADDRESS_MAX - 1, "\"@x", 4);
    got = reinject_address(longest, out);
    UT_CHECK(got != NULL && strcmp(got, want) == 0, "longest address, quoted: %s",
             got ? "differs" : "refused");
    /* One byte more: refused (NULL), never empty, never cut. */
    memset(longest, 'b', SMTP_ADDRESS_MAX + 1);
    longest[SMTP_ADDRESS_MAX + 1] = 0;
    UT_CHECK(reinject_address(longest, out) == NULL, "over SMTP_ADDRESS_MAX: refused");
    /* A buffer too small for the form: refused, not "" (the null sender). */
    UT_CHECK(reinject_address("someone.rather.long@example.com", small) == NULL,
             "form longer than the buffer: refused");
    UT_CHECK(reinject_address("john doe@example.com", small) == NULL,
             "quoted form longer than the buffer: refused");
    myfree(longest);
    myfree(want);
    vbuf_free(small);
    vbuf_free(out);
}

/* peer_transcript - run one hand-over against the scripted peer; the
 * result, and what the peer received in log_path */
static const char *peer_transcript(const PEER_SCRIPT *ps, const SMTP_ENVELOPE *env,
                                   REINJECT_RESULT *res)
{
    static const char body[] = "Subject: t\n\n.leading dot\nline\n";
    char target[64], log_path[256];
    pid_t pid;
    int fd = message_fd(body), st;

    snprintf(log_path, sizeof(log_path), "%s/transcript.log", tmpdir);
    pid = peer_start(ps, log_path, target, sizeof(target));
    reinject_result_init(res);
    reinject_message(target, env, "X-Added: 1\n", 11, fd, 0, 10, res);
    waitpid(pid, &st, 0);
    close(fd);
    return slurp(log_path);
}

/* test_transcript - exactly one XFORWARD, in its place; a refused XFORWARD
 * is 75; a long sender goes out whole */
static void test_transcript(void)
{
    static const PEER_SCRIPT ok = {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {NULL}, "354 go",
                                   "250 2.0.0 Ok: queued as 4XyZ", NULL};
    static const PEER_SCRIPT xf_refused = {"220 mx", EHLO_FULL, "250 2.1.0 Ok", {NULL},
                                           "354 go", "250 2.0.0 Ok",
                                           "550 5.7.0 Error: insufficient authorization"};
    SMTP_RCPT rc = {"a@x", NULL, NULL};
    SMTP_ENVELOPE env = {0};
    REINJECT_RESULT res;
    VBUF *want = vbuf_alloc(0);
    char *sender;

    env.sender = "s@y";
    env.rcpt = &rc;
    env.nrcpt = 1;
    env.xf_addr = "192.0.2.1";
    env.xf_name = "client.example";
    env.xf_port = "4321";               /* not offered by EHLO_FULL */
    env.xf_ident = "ABC123";
    UT_EQ_STR(peer_transcript(&ok, &env, &res),
              "EHLO test.local\r\n"
              "XFORWARD NAME=client.example ADDR=192.0.2.1 IDENT=ABC123\r\n"
              "MAIL FROM:<s@y>\r\n"
              "RCPT TO:<a@x>\r\n"
              "DATA\r\n"
              "X-Added: 1\r\nSubject: t\r\n\r\n..leading dot\r\nline\r\n.\r\n"
              "QUIT\r\n", "transcript: XFORWARD once, before MAIL");
    UT_EQ_INT(res.status, 0, "transcript: status");
    reinject_result_free(&res);

    (void)peer_transcript(&xf_refused, &env, &res);
    UT_EQ_INT(res.status, 75, "XFORWARD refused: 75, never a bounce");
    UT_CHECK(res.dsn[0] == '4', "XFORWARD refused: dsn %s", res.dsn);
    UT_CHECK(strstr(vbuf_str(res.text), "insufficient authorization") != NULL
             && strstr(vbuf_str(res.text), "XFORWARD") != NULL,
             "XFORWARD refused: text \"%s\"", vbuf_str(res.text));
    reinject_result_free(&res);

    /* A sender of 5000 bytes (Postfix with a raised line_length_limit). */
    sender = mymalloc(5001);
    memset(sender, 'l', 4990);
    memcpy(sender + 4990, "@long.test", 11);
    env.sender = sender;
    env.xf_addr = env.xf_name = env.xf_port = env.xf_ident = NULL;
    vbuf_sprintf(want, "EHLO test.local\r\nMAIL FROM:<%s>\r\nRCPT TO:<a@x>\r\n", sender);
    UT_CHECK(strncmp(peer_transcript(&ok, &env, &res), vbuf_str(want), vbuf_len(want)) == 0,
             "long sender: sent whole");
    UT_EQ_INT(res.status, 0, "long sender: status");
    reinject_result_free(&res);
    myfree(sender);
    vbuf_free(want);
}

/* test_quarantine - store, list fields back, refuse bad ids, remove */
static void test_quarantine(void)
{
    char qdir[512];
    SMTP_RCPT rc[2] = {{"a b@x", "SUCCESS", "rfc822;a@x"}, {"c@x", NULL, NULL}};
    SMTP_ENVELOPE env = {0};
    QUARANTINE_ENTRY qe;
    VBUF *id = vbuf_alloc(64), *err = vbuf_alloc(1024);
    struct stat st;
    char buf[1024];
    ssize_t n;
    int fd = message_fd("Subject: q\n\nline\r\nnext\n");

    snprintf(qdir, sizeof(qdir), "%s/quarantine", tmpdir);
    env.sender = "";
    env.rcpt = rc;
    env.nrcpt = 2;
    env.xf_addr = "192.0.2.9";
    UT_CHECK(quarantine_store(qdir, &env, fd, "infected", "Eicar\nnewline", "QID1", id, err) == 0,
             "store: %s", vbuf_str(err));
    snprintf(buf, sizeof(buf), "%s/%s", qdir, vbuf_str(id));
    UT_CHECK(stat(buf, &st) == 0 && (st.st_mode & 0777) == 0600, "quarantine file mode");
    UT_CHECK(stat(qdir, &st) == 0 && (st.st_mode & 0777) == 0700, "quarantine dir mode");
    UT_CHECK(quarantine_open(qdir, vbuf_str(id), &qe, err) == 0, "open: %s", vbuf_str(err));
    UT_EQ_STR(qe.env.sender, "", "null sender kept");
    UT_EQ_INT(qe.env.nrcpt, 2, "recipients");
    UT_EQ_STR(qe.env.rcpt[0].addr, "a b@x", "rcpt 0");
    UT_EQ_STR(qe.env.rcpt[0].notify, "SUCCESS", "notify 0");
    UT_EQ_STR(qe.env.rcpt[0].orcpt, "rfc822;a@x", "orcpt 0");
    UT_EQ_STR(qe.env.rcpt[1].addr, "c@x", "rcpt 1");
    UT_EQ_STR(qe.reason, "Eicar\nnewline", "reason with newline survives");
    UT_EQ_STR(qe.env.xf_addr, "192.0.2.9", "client address");
    n = pread(qe.fd, buf, sizeof(buf), qe.body_offset);
    UT_EQ_MEM(buf, (size_t)(n > 0 ? n : 0), "Subject: q\n\nline\r\nnext\n", 23, "message bytes");
    quarantine_close(&qe);
    UT_CHECK(quarantine_open(qdir, "../../etc/passwd", &qe, err) < 0, "path traversal refused");
    UT_CHECK(quarantine_open(qdir, "AAAAAAAAAAAAAAAA", &qe, err) < 0, "unknown id refused");
    UT_CHECK(quarantine_remove(qdir, vbuf_str(id), err) == 0, "remove: %s", vbuf_str(err));
    UT_CHECK(quarantine_open(qdir, vbuf_str(id), &qe, err) < 0, "gone after remove");
    vbuf_free(id);
    vbuf_free(err);
    close(fd);
}

/* write_entry - a quarantine file made by hand, as damage or an attacker
 * with access to the directory would make it */
static void write_entry(const char *qdir, const char *id, const char *text, size_t len)
{
    char path[600];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", qdir, id);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0)
        UT_CHECK(0, "write %s: %s", path, strerror(errno));
}

/* open_in_child - quarantine_open in a child that may block: 0 when it
 * returned -1 (refused), 1 when it accepted, 2 when it hung */
static int open_in_child(const char *qdir, const char *id)
{
    QUARANTINE_ENTRY qe;
    VBUF *err = vbuf_alloc(1024);
    pid_t pid;
    int st;

    if ((pid = fork()) == 0) {
        alarm(5);
        _exit(quarantine_open(qdir, id, &qe, err) < 0 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    vbuf_free(err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

#define NUL_IN_ENVELOPE \
    "postsift-quarantine 1\nsender: a\0@x\nrecipient: c@x\n\nbody\n"
#define NUL_IN_MESSAGE \
    "postsift-quarantine 1\nsender: a@x\nrecipient: c@x\n\nbo\0dy\n"

#define GOOD_ENTRY "postsift-quarantine 1\nsender: a+1B[2Jb+0Afake@x\n" \
    "recipient: c\\d@x\nverdict: infected\nreason: evil+0AX-Injected: 1+0A+0Abody\n" \
    "\nSubject: q\n"

/* test_quarantine_hostile - what a damaged or hostile quarantine holds */
static void test_quarantine_hostile(void)
{
    static const struct {
        const char *what, *text;
        size_t len;                     /* 0: strlen */
        int ok;
    } cases[] = {
        {"repeated sender", "postsift-quarantine 1\nsender: a@x\nsender: b@x\n"
         "recipient: c@x\n\nbody\n", 0, 0},
        {"repeated reason", "postsift-quarantine 1\nsender: a@x\nrecipient: c@x\n"
         "reason: one\nreason: two\n\nbody\n", 0, 0},
        {"repeated orcpt", "postsift-quarantine 1\nsender: a@x\nrecipient: c@x\n"
         "orcpt: rfc822;c@x\norcpt: rfc822;d@x\n\nbody\n", 0, 0},
        {"orcpt without recipient", "postsift-quarantine 1\nsender: a@x\n"
         "orcpt: rfc822;c@x\nrecipient: c@x\n\nbody\n", 0, 0},
        {"repeated smtputf8", "postsift-quarantine 1\nsender: a@x\nrecipient: c@x\n"
         "smtputf8: yes\nsmtputf8: yes\n\nbody\n", 0, 0},
        {"NUL in the envelope", NUL_IN_ENVELOPE, sizeof(NUL_IN_ENVELOPE) - 1, 0},
        {"NUL in the message", NUL_IN_MESSAGE, sizeof(NUL_IN_MESSAGE) - 1, 1},
        {"two recipients, an orcpt each, an unknown key", "postsift-quarantine 1\n"
         "sender: a@x\nrecipient: c@x\norcpt: rfc822;c@x\nrecipient: d@x\n"
         "orcpt: rfc822;d@x\nnotify: NEVER\nfuture_key: 1\n\nbody\n", 0, 1},
    };
    char qdir[512], path[600];
    QUARANTINE_ENTRY qe;
    VBUF *err = vbuf_alloc(1024), *hdr = vbuf_alloc(0);
    FILE *fp;
    char listing[4096];
    size_t i, n;
    int rc;

    snprintf(qdir, sizeof(qdir), "%s/hostile", tmpdir);
    UT_CHECK(mkdir(qdir, 0700) == 0, "mkdir %s: %s", qdir, strerror(errno));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_entry(qdir, "CaseAAAAAAAAAAAA", cases[i].text,
                    cases[i].len ? cases[i].len : strlen(cases[i].text));
        rc = quarantine_open(qdir, "CaseAAAAAAAAAAAA", &qe, err);
        UT_CHECK((rc == 0) == cases[i].ok, "%s: open gave %d (%s)", cases[i].what, rc,
                 vbuf_str(err));
        if (!cases[i].ok)
            UT_CHECK(strstr(vbuf_str(err), "more than once") || strstr(vbuf_str(err), "before any")
                     || strstr(vbuf_str(err), "not a postsift"), "%s: says why: %s",
                     cases[i].what, vbuf_str(err));
        if (rc == 0)
            quarantine_close(&qe);
    }
    snprintf(path, sizeof(path), "%s/CaseAAAAAAAAAAAA", qdir);
    unlink(path);

    /* A FIFO, a directory and a symlink under valid ids: refused at once */
    snprintf(path, sizeof(path), "%s/FifoAAAAAAAAAAAA", qdir);
    UT_CHECK(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
    UT_EQ_INT(open_in_child(qdir, "FifoAAAAAAAAAAAA"), 0, "FIFO: refused, not waited on");
    snprintf(path, sizeof(path), "%s/DirAAAAAAAAAAAAA", qdir);
    UT_CHECK(mkdir(path, 0700) == 0, "mkdir: %s", strerror(errno));
    UT_EQ_INT(open_in_child(qdir, "DirAAAAAAAAAAAAA"), 0, "directory: refused");
    snprintf(path, sizeof(path), "%s/LinkAAAAAAAAAAAA", qdir);
    UT_CHECK(symlink("/etc/passwd", path) == 0, "symlink: %s", strerror(errno));
    UT_EQ_INT(open_in_child(qdir, "LinkAAAAAAAAAAAA"), 0, "symlink: refused");

    /* One real entry whose envelope holds terminal escapes and a newline,
     * and a reason that would end the header block of a release. */
    write_entry(qdir, "GoodAAAAAAAAAAAA", GOOD_ENTRY, sizeof(GOOD_ENTRY) - 1);
    {
        struct timeval tv[2] = {{1700000000, 0}, {1700000000, 0}};

        snprintf(path, sizeof(path), "%s/GoodAAAAAAAAAAAA", qdir);
        UT_CHECK(utimes(path, tv) == 0, "utimes: %s", strerror(errno));
        setenv("TZ", "Europe/Paris", 1);
        tzset();
    }
    if ((fp = tmpfile()) != NULL && fork() == 0) {
        alarm(5);
        rc = quarantine_list(qdir, fp, 0, err);
        fflush(fp);
        _exit(rc == 1 ? 0 : 1);
    }
    wait(&rc);
    UT_CHECK(fp != NULL && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
             "list: one entry, the FIFO skipped without waiting (status %d)", rc);
    if (fp) {
        rewind(fp);
        n = fread(listing, 1, sizeof(listing) - 1, fp);
        listing[n] = 0;
        UT_EQ_STR(listing, "GoodAAAAAAAAAAAA from=<a\\x1B[2Jb\\x0Afake@x> to=<c\\\\d@x> "
                  "verdict=infected detail=\"evil\\x0AX-Injected: 1\\x0A\\x0Abody\" "
                  "time=2023-11-14T23:13:20+01:00 size=11 queue_id=-\n",
                  "list: control bytes escaped, one line");
        fclose(fp);
    }
    UT_CHECK(quarantine_open(qdir, "GoodAAAAAAAAAAAA", &qe, err) == 0, "open: %s", vbuf_str(err));
    quarantine_release_header(hdr, "GoodAAAAAAAAAAAA", &qe);
    UT_EQ_STR(vbuf_str(hdr), "X-Postsift-Released: GoodAAAAAAAAAAAA from quarantine "
              "(infected: evil?X-Injected: 1??body)\n", "release header: one line");
    quarantine_close(&qe);
    vbuf_free(err);
    vbuf_free(hdr);
}

int main(void)
{
    static char helo[] = "test.local";
    UT_BEGIN("test_reinject_status");
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmpdir) == NULL)
        return 2;
    config_init();
    var_smtp_helo_name = helo;
    var_reinject_timeout = 5;
    test_smtp_cases();
    test_connect_refused();
    test_sendmail();
    test_address();
    test_transcript();
    test_quarantine();
    test_quarantine_hostile();
    {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        (void)!system(cmd);
    }
    return ut_done();
}
