/*
 * test_filter_milter - the milter session engine against a scripted MTA,
 * and against libmilter's own answers to the same packets
 *
 * The test is the MTA: it builds milter packets as Postfix sends them
 * (option negotiation offering what milter_protocol = 6 offers, macros,
 * connect, helo, mail, rcpt, headers, end of headers, body chunks, end of
 * message, abort, quit, quit-nc), writes a whole script and reads every
 * reply until the milter closes. milter_session() runs in a forked child
 * on a socketpair; the reference is tests/unit/milterref (libmilter,
 * run as its own program on a UNIX-domain socket), told the
 * X-Virus-Scanned value and the reject text that scan/ gives for the
 * same message. Both must answer the same bytes for every packet after
 * the option negotiation, whose actions and flags may differ. Then our
 * packet parser alone, with hostile input: lengths of 0 and over the
 * bound, truncated packets, unknown commands, commands before the
 * negotiation, strings without their NUL, and a script written one byte
 * at a time. The scanner is libclamav with the test signatures, as in
 * test_filter_smtpd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "filter/milter.h"
#include "filter/outcome.h"
#include "scan/avscan.h"
#include "scan/decide.h"
#include "scan/headers.h"
#include "scan/inspect.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/netio.h"
#include "lib/params.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define WAIT_MS     20000       /* the longest a test waits for a reply */

static char tmpdir[] = "/tmp/test_filter_milter-XXXXXX";
static char log_path[sizeof(tmpdir) + 32];
static INSPECTOR *inspector;
static const char *refprog;

static const char clean_body[] =
    "Hello,\r\nthis is clean.\r\n.a dot line\r\n";
static const char eicar_body[] =
    "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    "--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\n"
    "LUZJTEUhJEgrSCo=\r\n--b1--\r\n";
#define EICAR_MARKER "WDVPIVAlQEFQWzRcUFpYNTQo"

/* set - a setting, as -o would give it */
static void set(const char *nameval)
{
    ut_set(nameval);
}

 /*
  * Building packets.
  */

/* pkt - one packet: length, command, data */
static void pkt(VBUF *s, int cmd, const void *data, size_t len)
{
    unsigned char h[5];
    size_t  n = len + 1;

    h[0] = (unsigned char)(n >> 24);
    h[1] = (unsigned char)(n >> 16);
    h[2] = (unsigned char)(n >> 8);
    h[3] = (unsigned char)n;
    h[4] = (unsigned char)cmd;
    vbuf_append(s, h, 5);
    if (len)
        vbuf_append(s, data, len);
}

/* pkt_strs - a packet whose data is NUL-terminated strings (a NULL ends
 * the list); lead: bytes before them (a macro's command code) */
static void pkt_strs(VBUF *s, int cmd, const char *lead, ...)
{
    VBUF   *d = vbuf_alloc(1 << 20);
    const char *str;
    va_list ap;

    if (lead)
        vbuf_append(d, lead, strlen(lead));
    va_start(ap, lead);
    while ((str = va_arg(ap, const char *)) != NULL)
        vbuf_append(d, str, strlen(str) + 1);
    va_end(ap);
    pkt(s, cmd, vbuf_str(d), vbuf_len(d));
    vbuf_free(d);
}

/* optneg - what Postfix offers with milter_protocol = 6 */
static void optneg(VBUF *s)
{
    static const unsigned char o[12] = {0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff};

    pkt(s, 'O', o, sizeof(o));
}

/* connect - macros and connect information of a client */
static void connect_info(VBUF *s)
{
    static const char c[] = "mx.example.org\0" "4\x00\x19" "192.0.2.7";

    pkt_strs(s, 'D', "C", "{client_addr}", "192.0.2.7", "{client_name}", "mx.example.org",
             (char *)0);
    pkt(s, 'C', c, sizeof(c));
}

/* message - one transaction: headers (name, value pairs), the body in
 * chunks of chunk bytes, the end */
static void message(VBUF *s, const char *qid, const char *const *hdrs, const char *body,
                    size_t chunk)
{
    size_t  len = strlen(body), off;

    pkt_strs(s, 'D', "M", "i", qid, (char *)0);
    pkt_strs(s, 'M', NULL, "<sender@example.org>", "BODY=8BITMIME", (char *)0);
    pkt_strs(s, 'R', NULL, "<rcpt@example.net>", (char *)0);
    pkt_strs(s, 'R', NULL, "<other@example.net>", "NOTIFY=NEVER", (char *)0);
    for (; *hdrs; hdrs += 2)
        pkt_strs(s, 'L', NULL, hdrs[0], hdrs[1], (char *)0);
    pkt_strs(s, 'D', "N", "{i}", qid, (char *)0);
    pkt(s, 'N', "", 0);
    for (off = 0; off < len; off += chunk)
        pkt(s, 'B', body + off, len - off < chunk ? len - off : chunk);
    pkt_strs(s, 'D', "E", "i", qid, (char *)0);
    pkt(s, 'E', "", 0);
}

static const char *const clean_hdrs[] = {
    "From", "<sender@example.org>", "To", "<rcpt@example.net>",
    "X-Virus-Scanned", "forged one", "Subject", "clean",
    "x-virus-status", "Clean (forged)", "X-VIRUS-SCANNED", "forged\n\ttwo", NULL,
};
static const char *const eicar_hdrs[] = {
    "From", "<sender@example.org>", "To", "<rcpt@example.net>", "Subject", "eicar",
    "MIME-Version", "1.0", "Content-Type", "multipart/mixed; boundary=\"b1\"", NULL,
};

/* script - the whole conversation: two clients over one connection
 * (QUIT_NC between), a clean message, an aborted one, a message with
 * EICAR, a clean one in one-byte body chunks */
static void script(VBUF *s)
{
    optneg(s);
    connect_info(s);
    message(s, "QID1", clean_hdrs, clean_body, 7);
    pkt_strs(s, 'M', NULL, "<aborted@example.org>", (char *)0);
    pkt(s, 'A', "", 0);
    pkt(s, 'K', "", 0);
    connect_info(s);
    message(s, "QID2", eicar_hdrs, eicar_body, 65535);
    message(s, "QID3", clean_hdrs, clean_body, 1);
    pkt(s, 'Q', "", 0);
}

 /*
  * Running a script.
  */

/* talk - write script to fd (one_byte: a byte per write), then collect
 * every reply until the peer closes */
static void talk(int fd, const VBUF *s, int one_byte, VBUF *replies)
{
    struct pollfd pfd;
    size_t  off = 0, n;
    char    buf[4096];
    ssize_t got;

    while (off < vbuf_len(s)) {
        n = one_byte ? 1 : vbuf_len(s) - off;
        if ((got = write(fd, vbuf_str(s) + off, n)) <= 0)
            break;
        off += (size_t)got;
    }
    (void)shutdown(fd, SHUT_WR);
    pfd.fd = fd;
    pfd.events = POLLIN;
    while (poll(&pfd, 1, WAIT_MS) > 0 && (got = read(fd, buf, sizeof(buf))) > 0)
        vbuf_append(replies, buf, (size_t)got);
}

/* run_ours - milter_session() in a child; its replies */
static void run_ours(const VBUF *s, int one_byte, VBUF *replies)
{
    int     sv[2], st;
    pid_t   pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        msg_fatal("socketpair: %s", strerror(errno));
    if ((pid = fork()) == 0) {
        close(sv[0]);
        milter_session(sv[1], "test", inspector, "");
        avscan_tmpdir_remove();
        _exit(0);
    }
    close(sv[1]);
    talk(sv[0], s, one_byte, replies);
    close(sv[0]);
    waitpid(pid, &st, 0);
}

/* run_ref - libmilter's milterref on a unix socket; its replies */
static void run_ref(const VBUF *s, const char *scanned, const char *reject, VBUF *replies)
{
    struct sockaddr_un sun;
    char    conn[sizeof(sun.sun_path) + 8];
    int     fd = -1, i, st;
    pid_t   pid;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ref.sock", tmpdir);
    snprintf(conn, sizeof(conn), "unix:%s", sun.sun_path);
    unlink(sun.sun_path);
    if ((pid = fork()) == 0) {
        execl(refprog, refprog, conn, scanned, EICAR_MARKER, reject, (char *)0);
        _exit(127);
    }
    for (i = 0; i < 200; i++) {
        if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0
            && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
        usleep(20000);
    }
    UT_CHECK(fd >= 0, "cannot connect to %s (%s)", conn, refprog);
    if (fd >= 0) {
        talk(fd, s, 0, replies);
        close(fd);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

/* next_reply - the packet at *off of r: its command and data */
static int next_reply(const VBUF *r, size_t *off, int *cmd, const char **data, size_t *len)
{
    const unsigned char *p = (const unsigned char *)vbuf_str(r) + *off;
    size_t  n;

    if (*off + 5 > vbuf_len(r))
        return 0;
    n = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (n == 0 || *off + 4 + n > vbuf_len(r))
        return 0;
    *cmd = p[4];
    *data = (const char *)p + 5;
    *len = n - 1;
    *off += 4 + n;
    return 1;
}

/* count_replies - how many packets of cmd in r; all of them when cmd is 0 */
static int count_replies(const VBUF *r, int want)
{
    size_t  off = 0, len;
    const char *data;
    int     cmd, n = 0;

    while (next_reply(r, &off, &cmd, &data, &len))
        n += want == 0 || cmd == want;
    return n;
}

/* find_reply - the data of the first packet cmd whose data starts with
 * prefix (len bytes), or NULL */
static const char *find_reply(const VBUF *r, int want, const char *prefix, size_t plen)
{
    size_t  off = 0, len;
    const char *data;
    int     cmd;

    while (next_reply(r, &off, &cmd, &data, &len))
        if (cmd == want && len >= plen && memcmp(data, prefix, plen) == 0)
            return data;
    return NULL;
}

 /*
  * What scan/ says, independently of the protocol.
  */

/* expected - our X-Virus-Scanned value, and the reject text for the
 * EICAR message as decide_message() and outcome give it */
static void expected(VBUF *scanned, VBUF *reject)
{
    VBUF   *err = vbuf_alloc(1024), *msg = vbuf_alloc(1 << 16);
    const char *const *h;
    const char *cp;
    DECISION d;
    OUTCOME o;
    int     fd;

    vbuf_reset(scanned);
    headers_build(scanned, inspector_engine(inspector), var_myhostname, VERDICT_CLEAN, "", 0);
    cp = strchr(vbuf_str(scanned), ':') + 2;
    vbuf_strcpy(msg, cp);
    vbuf_strcpy(scanned, vbuf_str(msg));
    vbuf_truncate(scanned, vbuf_len(scanned) - 1);
    vbuf_reset(msg);
    for (h = eicar_hdrs; *h; h += 2)
        vbuf_sprintf_append(msg, "%s: %s\n", h[0], h[1]);
    vbuf_strcat(msg, "\n");
    for (cp = eicar_body; *cp; cp++)
        if (*cp != '\r')
            vbuf_addch(msg, *cp);
    if ((fd = spool_create(var_spool_dir, err)) < 0
        || spool_write_all(fd, vbuf_str(msg), vbuf_len(msg)) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    decision_init(&d);
    outcome_init(&o);
    decide_message(inspector, NULL, fd, 0, &d);
    outcome_for(&o, OUTCOME_MILTER, &d);
    vbuf_strcpy(reject, vbuf_str(o.text));
    UT_EQ_INT(o.code, 554, "the EICAR message is rejected");
    outcome_free(&o);
    decision_free(&d);
    close(fd);
    vbuf_free(msg);
    vbuf_free(err);
}

/* log_has - the log file holds s */
static int log_has(const char *s)
{
    char    buf[1 << 16];
    int     fd = open(log_path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return strstr(buf, s) != NULL;
}

/* log_line_has - one line of the log holds both a and b */
static int log_line_has(const char *a, const char *b)
{
    char    buf[1 << 16], *line, *save;
    int     fd = open(log_path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, a) && strstr(line, b))
            return 1;
    return 0;
}

 /*
  * The tests.
  */

/* test_reference - libmilter and we answer the same script the same */
static void test_reference(void)
{
    VBUF   *s = vbuf_alloc(1 << 20), *ours = vbuf_alloc(1 << 20), *ref = vbuf_alloc(1 << 20);
    VBUF   *scanned = vbuf_alloc(4096), *reject = vbuf_alloc(4096), *want = vbuf_alloc(4096);
    size_t  oo = 0, ro = 0, ol, rl;
    const char *od, *rd;
    int     oc, rc, n = 0;

    expected(scanned, reject);
    script(s);
    run_ours(s, 0, ours);
    run_ref(s, vbuf_str(scanned), vbuf_str(reject), ref);
    UT_CHECK(next_reply(ours, &oo, &oc, &od, &ol) && oc == 'O' && ol >= 12
             && od[3] == 6 && (od[7] & 0x11) == 0x11, "ours: option negotiation, version 6");
    UT_CHECK(next_reply(ref, &ro, &rc, &rd, &rl) && rc == 'O', "libmilter: option negotiation");
    while (next_reply(ours, &oo, &oc, &od, &ol)) {
        n++;
        UT_CHECK(next_reply(ref, &ro, &rc, &rd, &rl), "reply %d: libmilter has no more", n);
        if (rc != oc || rl != ol || memcmp(od, rd, ol) != 0) {
            UT_CHECK(0, "reply %d: ours '%c' \"%.*s\", libmilter's '%c' \"%.*s\"", n, oc,
                     (int)ol, od, rc, (int)rl, rd);
            break;
        }
    }
    UT_CHECK(!next_reply(ref, &ro, &rc, &rd, &rl), "libmilter has more replies than we");
    UT_EQ_INT(n, 17, "replies after the negotiation");
    /* and what they are, without the reference */
    UT_EQ_INT(count_replies(ours, 'm'), 6, "three forged headers deleted, twice");
    UT_CHECK(find_reply(ours, 'm', "\0\0\0\2X-VIRUS-SCANNED\0", 21) != NULL,
             "the second X-Virus-Scanned deleted by its index");
    UT_CHECK(find_reply(ours, 'h', "X-Untrusted-X-VIRUS-SCANNED\0forged\n\ttwo", 39) != NULL,
             "a forged header added back renamed, folded value and all");
    vbuf_sprintf(want, "X-Virus-Scanned%c%s", 0, vbuf_str(scanned));
    UT_CHECK(find_reply(ours, 'h', vbuf_str(want), vbuf_len(want) + 1) != NULL,
             "ours X-Virus-Scanned added");
    vbuf_sprintf(want, "554 5.7.1 %s", vbuf_str(reject));
    UT_CHECK(find_reply(ours, 'y', vbuf_str(want), vbuf_len(want) + 1) != NULL,
             "EICAR refused 554 5.7.1 %s", vbuf_str(reject));
    UT_EQ_INT(count_replies(ours, 'c'), 2, "two clean messages go on");
    UT_CHECK(log_line_has("QID1: verdict=clean, action=pass, status=",
                          ", client=mx.example.org[192.0.2.7], from=<sender@example.org>, "
                          "to=<rcpt@example.net>,<other@example.net>"), "QID1 logged");
    UT_CHECK(log_line_has("QID2: verdict=", ", client=mx.example.org[192.0.2.7], "
                          "from=<sender@example.org>, "), "QID2 logged after QUIT_NC");
    UT_CHECK(log_has("verdict=infected, action=reject"), "EICAR logged");
    UT_CHECK(!log_has("aborted@example.org"), "the aborted message not logged");
    vbuf_free(s);
    vbuf_free(ours);
    vbuf_free(ref);
    vbuf_free(scanned);
    vbuf_free(reject);
    vbuf_free(want);
}

/* test_one_byte - the same script, written a byte at a time */
static void test_one_byte(void)
{
    VBUF   *s = vbuf_alloc(1 << 20), *whole = vbuf_alloc(1 << 20), *bytes = vbuf_alloc(1 << 20);

    script(s);
    run_ours(s, 0, whole);
    run_ours(s, 1, bytes);
    UT_CHECK(vbuf_len(whole) > 0 && vbuf_len(whole) == vbuf_len(bytes)
             && memcmp(vbuf_str(whole), vbuf_str(bytes), vbuf_len(whole)) == 0,
             "one byte at a time: the same %zu reply bytes (got %zu)", vbuf_len(whole),
             vbuf_len(bytes));
    vbuf_free(s);
    vbuf_free(whole);
    vbuf_free(bytes);
}

/* hostile - a negotiation, then tail; the milter must answer the
 * negotiation and nothing else, and close */
static void hostile(const char *what, int negotiate, const void *tail, size_t len)
{
    VBUF   *s = vbuf_alloc(1 << 20), *r = vbuf_alloc(1 << 20);

    if (negotiate)
        optneg(s);
    vbuf_append(s, tail, len);
    run_ours(s, 0, r);
    UT_EQ_INT(count_replies(r, 0), negotiate, what);
    UT_EQ_INT(count_replies(r, 'O'), negotiate, what);
    vbuf_free(s);
    vbuf_free(r);
}

/* test_hostile - what ends a session at once */
static void test_hostile(void)
{
    static const char huge[] = "\x7f\xff\xff\xff" "B";
    static const char over[] = "\x00\x10\x00\x01" "B";
    static const char zero[] = "\0\0\0\0";
    static const char cut[] = "\0\0\0\x64" "Lname\0val";
    static const char unknown[] = "\0\0\0\1Z";
    static const char mail[] = "\0\0\0\x04M<>\0";
    static const char nonul[] = "\0\0\0\x04Labc";
    static const char shortneg[] = "\0\0\0\x05O\0\0\0\6";

    hostile("a length of 2 GB", 1, huge, sizeof(huge) - 1);
    hostile("a length one over the bound", 1, over, sizeof(over) - 1);
    hostile("a length of 0", 1, zero, sizeof(zero) - 1);
    hostile("a truncated packet", 1, cut, sizeof(cut) - 1);
    hostile("an unknown command", 1, unknown, sizeof(unknown) - 1);
    hostile("MAIL before the negotiation", 0, mail, sizeof(mail) - 1);
    hostile("a header without its NUL", 1, nonul, sizeof(nonul) - 1);
    hostile("a negotiation of 4 bytes", 0, shortneg, sizeof(shortneg) - 1);
}

/* test_read_packet - the parser's own answers */
static void test_read_packet(void)
{
    static const struct {
        const char *in;
        size_t  len;
        int     ret;
        const char *err;
    } cases[] = {
        {"", 0, 0, ""},
        {"\0\0\0\3Mab", 8, 1, ""},
        {"\0\0", 2, -1, "connection closed in the middle of a packet header"},
        {"\0\0\0\5Mab", 7, -1, "connection closed in the middle of a packet"},
        {"\0\0\0\0M", 5, -1, "bad packet length 0 (1 to 1048576)"},
        {"\0\x10\0\1M", 5, -1, "bad packet length 1048577 (1 to 1048576)"},
    };
    VBUF   *data = vbuf_alloc(MILTER_PACKET_MAX), *err = vbuf_alloc(1024);
    NETIO  *io;
    size_t  i;
    int     p[2], cmd = 0, ret;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (pipe(p) < 0)
            msg_fatal("pipe: %s", strerror(errno));
        if (write(p[1], cases[i].in, cases[i].len) != (ssize_t)cases[i].len)
            msg_fatal("write: %s", strerror(errno));
        close(p[1]);
        io = netio_fdopen(p[0], -1);
        netio_set_timeout(io, 5);
        vbuf_reset(err);
        ret = milter_read_packet(io, &cmd, data, err);
        UT_EQ_INT(ret, cases[i].ret, "milter_read_packet result");
        UT_EQ_STR(vbuf_str(err), cases[i].err, "milter_read_packet error");
        if (ret == 1) {
            UT_EQ_INT(cmd, 'M', "command");
            UT_EQ_MEM(vbuf_str(data), vbuf_len(data), "ab", (size_t)2, "data");
        }
        netio_close(io);
    }
    vbuf_free(data);
    vbuf_free(err);
}

/* test_actions - discard, hold, store, defer, as milter replies */
static void test_actions(void)
{
    static const char *const none[] = {"Subject", "x", NULL};
    VBUF   *s = vbuf_alloc(1 << 20), *r = vbuf_alloc(1 << 20);

    optneg(s);
    connect_info(s);
    message(s, "QID4", eicar_hdrs, eicar_body, 100);
    pkt(s, 'Q', "", 0);

    set("virus_action=discard");
    run_ours(s, 0, r);
    UT_EQ_INT(count_replies(r, 'd'), 1, "discard: SMFIR_DISCARD");
    set("virus_action=quarantine");
    set("quarantine_method=hold");
    vbuf_reset(r);
    run_ours(s, 0, r);
    UT_CHECK(find_reply(r, 'q', "postsift: infected: ", 20) != NULL, "hold: SMFIR_QUARANTINE");
    UT_EQ_INT(count_replies(r, 'c'), 1, "hold: then continue");
    UT_CHECK(log_line_has("QID4: verdict=infected, action=quarantine, status=held (Postfix hold queue)",
                          ", client="),
             "hold logged held");
    set("quarantine_method=store");
    vbuf_reset(r);
    run_ours(s, 0, r);
    UT_EQ_INT(count_replies(r, 'd'), 1, "store: stored, then SMFIR_DISCARD");
    UT_CHECK(log_has("status=quarantined ("), "store logged quarantined");
    set("virus_action=defer");
    vbuf_reset(r);
    run_ours(s, 0, r);
    UT_CHECK(find_reply(r, 'y', "451 4.7.1 ", 10) != NULL, "defer: 451 4.7.1");
    set("virus_action=reject");

    /* a spool that cannot be made: 451 4.3.0, never 5xx */
    set("spool_dir=/proc/no-such-dir/spool");
    vbuf_reset(s);
    vbuf_reset(r);
    optneg(s);
    connect_info(s);
    message(s, "QID5", none, "body\r\n", 100);
    run_ours(s, 0, r);
    UT_CHECK(find_reply(r, 'y', "451 4.3.0 ", 10) != NULL, "no spool: 451 4.3.0");
    vbuf_free(s);
    vbuf_free(r);
}

int     main(int argc, char **argv)
{
    VBUF   *err = vbuf_alloc(1024);
    char    spool[sizeof(tmpdir) + 64], qdir[sizeof(tmpdir) + 64], *slash;
    static char prog[4096];

    UT_BEGIN("test_filter_milter");
    msg_init("test_filter_milter", MSG_STDERR);
    msg_verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    signal(SIGPIPE, SIG_IGN);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    /* milterref is built beside us */
    snprintf(prog, sizeof(prog), "%s", argv[0]);
    if ((slash = strrchr(prog, '/')) != NULL)
        snprintf(slash + 1, sizeof(prog) - (size_t)(slash + 1 - prog), "milterref");
    else
        snprintf(prog, sizeof(prog), "./milterref");
    refprog = prog;
    snprintf(log_path, sizeof(log_path), "%s/log", tmpdir);
    msg_set_logfile(log_path);
    snprintf(spool, sizeof(spool), "%s/spool", tmpdir);
    if (mkdir(spool, 0700) < 0)         /* as milter.c's spool_dir_check() would */
        msg_fatal("mkdir %s: %s", spool, strerror(errno));
    snprintf(spool, sizeof(spool), "spool_dir=%s/spool", tmpdir);
    snprintf(qdir, sizeof(qdir), "quarantine_dir=%s/quarantine", tmpdir);
    set(spool);
    set(qdir);
    set("myhostname=test.example");
    set("scanner=clamav");
    set("clamav_database_directory=bundled");
    set("milter_timeout=20s");
    set("virus_action=reject");
    if ((inspector = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));

    test_read_packet();
    test_hostile();
    test_reference();
    test_one_byte();
    test_actions();

    inspector_close(inspector);
    vbuf_free(err);
    if (!msg_verbose) {
        char    cmd[sizeof(tmpdir) + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            UT_CHECK(0, "cannot remove %s", tmpdir);
    }
    return ut_done();
}
