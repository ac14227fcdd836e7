/*
 * test_filter_smtpd - the smtpd session engine between a scripted client
 * and a recording downstream
 *
 * smtpd_session() runs in a forked child on one end of a socketpair; the
 * test is the upstream client on the other end (Postfix's smtp client,
 * pipelining when it likes). The downstream is a small SMTP server in
 * another child on a loopback port (reinject_target points at it): it
 * answers like the reinjection smtpd (550 for recipients containing
 * "reject", 451 after DATA for a message containing "TEMPFAIL-ME") and
 * answers 354 to a MAIL from a sender containing "out-of-step") and
 * appends every command line and every DATA body, byte for byte, to a
 * record file that the tests read back. Sessions run over a socketpair
 * (a UNIX-domain client) or, where the client's address matters, over a
 * loopback TCP connection. The scanner is libclamav with the
 * bundled test signatures, as in test_scan_inspect. The LMTP tests
 * greet with LHLO and read one reply per recipient after the dot.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "scan/inspect.h"
#include "filter/smtpd.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define WAIT_MS     20000       /* the longest a test waits for a reply */

static char tmpdir[] = "/tmp/test_filter_smtpd-XXXXXX";
static char record_path[sizeof(tmpdir) + 32];
static char log_path[sizeof(tmpdir) + 32];
static char qdir[sizeof(tmpdir) + 32];
static char target[64];
static INSPECTOR *inspector;

/* set - a setting, as -o would give it */
static void set(const char *fmt, ...) PS_PRINTF(1, 2);

static void set(const char *fmt, ...)
{
    VBUF   *err = vbuf_alloc(1024);
    VBUF   *nameval = vbuf_alloc(4096);
    va_list ap;

    va_start(ap, fmt);
    vbuf_vsprintf_append(nameval, fmt, ap);
    va_end(ap);
    if (config_override(vbuf_str(nameval), err) < 0 || config_finish(err) < 0)
        msg_fatal("setting %s: %s", vbuf_str(nameval), vbuf_str(err));
    vbuf_free(nameval);
    vbuf_free(err);
}

/* write_all - all of len bytes, or exit */
static void write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

 /*
  * The downstream: a recording SMTP server.
  */

typedef struct DS_IN {
    int     fd;
    char    buf[65536];
    size_t  off, len;
} DS_IN;

/* ds_getc - one byte; -1 on EOF or silence */
static int ds_getc(DS_IN *in)
{
    struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
    ssize_t n;

    if (in->off == in->len) {
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            return -1;
        if ((n = read(in->fd, in->buf, sizeof(in->buf))) <= 0)
            return -1;
        in->off = 0;
        in->len = (size_t)n;
    }
    return (unsigned char)in->buf[in->off++];
}

/* ds_record - append one entry: "KIND LEN\n" BYTES "\n" */
static void ds_record(const char *kind, const char *data, size_t len)
{
    char    head[64];
    int     fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT, 0600);

    if (fd < 0)
        return;
    snprintf(head, sizeof(head), "%s %zu\n", kind, len);
    write_all(fd, head, strlen(head));
    write_all(fd, data, len);
    write_all(fd, "\n", 1);
    close(fd);
}

/* ds_say - a reply */
static void ds_say(int fd, const char *text)
{
    write_all(fd, text, strlen(text));
}

/* ds_session - one downstream connection */
static void ds_session(int fd, int *nqueued)
{
    DS_IN  *in = mycalloc(1, sizeof(*in));
    VBUF   *line = vbuf_alloc(0), *data = vbuf_alloc(0);
    char    reply[128];
    int     c;

    in->fd = fd;
    ds_say(fd, "220 ds.test ESMTP\r\n");
    for (;;) {
        vbuf_reset(line);
        while ((c = ds_getc(in)) >= 0 && c != '\n')
            vbuf_addch(line, c);
        if (c < 0) {
            ds_record("EOF", "", 0);
            break;
        }
        if (vbuf_len(line) == 0 || line->data[vbuf_len(line) - 1] != '\r') {
            ds_record("BADLINE", vbuf_str(line), vbuf_len(line));
            ds_say(fd, "500 5.5.2 bare LF\r\n");
            continue;
        }
        vbuf_truncate(line, vbuf_len(line) - 1);
        ds_record("C", vbuf_str(line), vbuf_len(line));
        if (strncasecmp(vbuf_str(line), "EHLO", 4) == 0) {
            ds_say(fd, "250-ds.test\r\n250-PIPELINING\r\n250-SIZE\r\n250-8BITMIME\r\n"
                   "250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
                   "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n");
        } else if (strncasecmp(vbuf_str(line), "HELO", 4) == 0
                   || strncasecmp(vbuf_str(line), "XFORWARD", 8) == 0
                   || strncasecmp(vbuf_str(line), "NOOP", 4) == 0
                   || strncasecmp(vbuf_str(line), "RSET", 4) == 0) {
            ds_say(fd, "250 2.0.0 Ok\r\n");
        } else if (strncasecmp(vbuf_str(line), "MAIL", 4) == 0) {
            if (strstr(vbuf_str(line), "out-of-step") != NULL)
                ds_say(fd, "354 what?\r\n");
            else
                ds_say(fd, "250 2.1.0 Ok\r\n");
        } else if (strncasecmp(vbuf_str(line), "RCPT", 4) == 0) {
            if (strstr(vbuf_str(line), "reject") != NULL)
                ds_say(fd, "550 5.1.1 <reject@example.net>: Recipient address rejected: "
                       "User unknown in virtual mailbox table\r\n");
            else
                ds_say(fd, "250 2.1.5 Ok\r\n");
        } else if (strcasecmp(vbuf_str(line), "DATA") == 0) {
            ds_say(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
            vbuf_reset(data);
            for (;;) {
                if ((c = ds_getc(in)) < 0)
                    break;
                vbuf_addch(data, c);
                if ((vbuf_len(data) == 3 && memcmp(data->data, ".\r\n", 3) == 0)
                    || (vbuf_len(data) >= 5
                        && memcmp(data->data + vbuf_len(data) - 5, "\r\n.\r\n", 5) == 0))
                    break;
            }
            ds_record(c < 0 ? "PARTIAL" : "D", vbuf_str(data), vbuf_len(data));
            if (c < 0)
                break;
            if (memmem(data->data, vbuf_len(data), "DROP-ME", 7) != NULL) {
                break;          /* gone without a word */
            } else if (memmem(data->data, vbuf_len(data), "SLOW-ME", 7) != NULL) {
                sleep(4);       /* longer than the test's smtpd_data_done_timeout */
                snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as QID%d\r\n", ++*nqueued);
                ds_say(fd, reply);
            } else if (memmem(data->data, vbuf_len(data), "TEMPFAIL-ME", 11) != NULL) {
                ds_say(fd, "451 4.3.0 Error: queue file write error\r\n");
            } else if (memmem(data->data, vbuf_len(data), "CLOSE-AFTER", 11) != NULL) {
                /* as Postfix's smtpd after smtpd_timeout: 421, then gone */
                snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as QID%d\r\n", ++*nqueued);
                ds_say(fd, reply);
                ds_say(fd, "421 4.4.2 ds.test Error: timeout exceeded\r\n");
                break;
            } else {
                snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as QID%d\r\n", ++*nqueued);
                ds_say(fd, reply);
            }
        } else if (strcasecmp(vbuf_str(line), "QUIT") == 0) {
            ds_say(fd, "221 2.0.0 Bye\r\n");
            break;
        } else {
            ds_say(fd, "502 5.5.2 Error: command not recognized\r\n");
        }
    }
    vbuf_free(line);
    vbuf_free(data);
    myfree(in);
}

/* ds_start - the downstream on a loopback port; its pid */
static pid_t ds_start(int *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     lfd, fd, nqueued = 0;
    pid_t   pid;

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 16) < 0
        || getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
        msg_fatal("downstream listener: %s", strerror(errno));
    *port = ntohs(sin.sin_port);
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) == 0) {
        for (;;) {
            if ((fd = accept(lfd, NULL, NULL)) < 0) {
                if (errno == EINTR)
                    continue;
                _exit(1);
            }
            ds_record("CONNECT", "", 0);
            ds_session(fd, &nqueued);
            close(fd);
        }
    }
    close(lfd);
    return pid;
}

/* closed_port - a loopback port nobody listens on */
static int closed_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0
        || getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        msg_fatal("closed port: %s", strerror(errno));
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

 /*
  * The record, read back.
  */

typedef struct RECORD {
    VBUF   *cmds;               /* every command line, each ended by '\n' */
    VBUF   *data[16];           /* the DATA bodies */
    int     ndata;
    int     nconnect;
    int     bad;                /* BADLINE or PARTIAL entries */
} RECORD;

/* rec_reset - start a new record */
static void rec_reset(void)
{
    int fd = open(record_path, O_WRONLY | O_TRUNC | O_CREAT, 0600);

    if (fd >= 0)
        close(fd);
}

/* rec_load - parse the record file */
static void rec_load(RECORD *rec)
{
    VBUF   *all = vbuf_alloc(0);
    char    buf[65536], kind[16];
    ssize_t n;
    size_t  off = 0, len;
    int     fd = open(record_path, O_RDONLY);

    memset(rec, 0, sizeof(*rec));
    rec->cmds = vbuf_alloc(0);
    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
        vbuf_append(all, buf, (size_t)n);
    if (fd >= 0)
        close(fd);
    while (off < vbuf_len(all)) {
        if (sscanf(all->data + off, "%15s %zu", kind, &len) != 2)
            break;
        off = (size_t)((char *)memchr(all->data + off, '\n', vbuf_len(all) - off) - all->data) + 1;
        if (off + len > vbuf_len(all))
            break;
        if (strcmp(kind, "C") == 0) {
            vbuf_append(rec->cmds, all->data + off, len);
            vbuf_addch(rec->cmds, '\n');
        } else if (strcmp(kind, "D") == 0 && rec->ndata < 16) {
            rec->data[rec->ndata] = vbuf_alloc(0);
            vbuf_append(rec->data[rec->ndata++], all->data + off, len);
        } else if (strcmp(kind, "CONNECT") == 0) {
            rec->nconnect++;
        } else if (strcmp(kind, "BADLINE") == 0 || strcmp(kind, "PARTIAL") == 0) {
            rec->bad++;
        }
        off += len + 1;
    }
    vbuf_free(all);
}

/* rec_free - release */
static void rec_free(RECORD *rec)
{
    int i;

    vbuf_free(rec->cmds);
    for (i = 0; i < rec->ndata; i++)
        vbuf_free(rec->data[i]);
}

/* count_str - occurrences of s in text */
static int count_str(const char *text, const char *s)
{
    int n = 0;

    for (; (text = strstr(text, s)) != NULL; text += strlen(s))
        n++;
    return n;
}

/* smtp_clean - no bare CR or LF in len bytes */
static int smtp_clean(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n'))
            return 0;
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            return 0;
    }
    return 1;
}

/* body_after_prefix - the DATA body without our X-Virus-* header lines */
static const char *body_after_prefix(const VBUF *d, size_t *len)
{
    const char *p = vbuf_str(d), *end = p + vbuf_len(d), *nl;

    while (p < end && strncmp(p, "X-Virus-", 8) == 0 && (nl = memchr(p, '\n', (size_t)(end - p))))
        p = nl + 1;
    *len = (size_t)(end - p);
    return p;
}

 /*
  * The upstream client.
  */

typedef struct SESSION {
    int     fd;
    pid_t   pid;
    VBUF   *reply;              /* the last reply, all lines */
} SESSION;

/* on_usr1 - the daemon's SIGTERM, for the test */
static void on_usr1(int sig)
{
    (void)sig;
    smtpd_shutdown = 1;
}

/* sess_start_fds - smtpd_session() in a child on srv; the test holds cli */
static void sess_start_fds(SESSION *s, int srv, int cli, INSPECTOR *in, const char *open_err)
{
    SMTPD_PEER peer = {"127.0.0.1", "4711"};

    fflush(stdout);
    fflush(stderr);
    if ((s->pid = fork()) == 0) {
        close(cli);
        signal(SIGUSR1, on_usr1);
        smtpd_session(srv, srv, &peer, in, open_err);
        close(srv);
        /* as spawn mode does; libclamav keeps pointers where LeakSanitizer
         * does not look, so an engine left open reads as a leak */
        inspector_close(inspector);
        exit(0);                /* exit, not _exit: LeakSanitizer checks */
    }
    close(srv);
    s->fd = cli;
    s->reply = vbuf_alloc(0);
}

/* sess_start - a session over a socketpair (a UNIX-domain client) */
static void sess_start(SESSION *s, INSPECTOR *in, const char *open_err)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        msg_fatal("socketpair: %s", strerror(errno));
    sess_start_fds(s, sv[1], sv[0], in, open_err);
}

/* tcp_pair - a loopback TCP connection: the listener bound to laddr,
 * the client connecting to caddr (both numeric; IPv6 or IPv4); -1 when
 * this host cannot (no IPv6) */
static int tcp_pair(const char *laddr, const char *caddr, int *srv, int *cli)
{
    struct sockaddr_storage ls, cs;
    socklen_t llen, clen;
    int     lfd, one = 1;

    memset(&ls, 0, sizeof(ls));
    memset(&cs, 0, sizeof(cs));
    if (inet_pton(AF_INET, laddr, &((struct sockaddr_in *)&ls)->sin_addr) == 1) {
        ls.ss_family = AF_INET;
        llen = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, laddr, &((struct sockaddr_in6 *)&ls)->sin6_addr) == 1) {
        ls.ss_family = AF_INET6;
        llen = sizeof(struct sockaddr_in6);
    } else {
        return -1;
    }
    if ((lfd = socket(ls.ss_family, SOCK_STREAM, 0)) < 0)
        return -1;
    if (ls.ss_family == AF_INET6)
        (void)setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){0}, sizeof(int));
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&ls, llen) < 0 || listen(lfd, 1) < 0
        || getsockname(lfd, (struct sockaddr *)&ls, &llen) < 0) {
        close(lfd);
        return -1;
    }
    if (inet_pton(AF_INET, caddr, &((struct sockaddr_in *)&cs)->sin_addr) == 1) {
        cs.ss_family = AF_INET;
        clen = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, caddr, &((struct sockaddr_in6 *)&cs)->sin6_addr) == 1) {
        cs.ss_family = AF_INET6;
        clen = sizeof(struct sockaddr_in6);
    } else {
        close(lfd);
        return -1;
    }
    /* the same port, whatever the family */
    ((struct sockaddr_in *)&cs)->sin_port = ((struct sockaddr_in *)&ls)->sin_port;
    if ((*cli = socket(cs.ss_family, SOCK_STREAM, 0)) < 0) {
        close(lfd);
        return -1;
    }
    if (connect(*cli, (struct sockaddr *)&cs, clen) < 0
        || (*srv = accept(lfd, NULL, NULL)) < 0) {
        close(*cli);
        close(lfd);
        return -1;
    }
    close(lfd);
    return 0;
}

/* sess_start_tcp - a session over loopback TCP; -1 when not possible */
static int sess_start_tcp(SESSION *s, const char *laddr, const char *caddr, INSPECTOR *in)
{
    int     srv, cli;

    if (tcp_pair(laddr, caddr, &srv, &cli) < 0)
        return -1;
    sess_start_fds(s, srv, cli, in, NULL);
    return 0;
}

/* smtpd_test_elapsed - seconds since t */
static double smtpd_test_elapsed(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

/* sess_send - bytes to the server */
static void sess_send(SESSION *s, const char *text, size_t len)
{
    write_all(s->fd, text, len);
}

#define SEND(s, text) sess_send((s), (text), strlen(text))

/* sess_reply - read one reply (all its lines); "" on EOF or silence */
static const char *sess_reply(SESSION *s)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    size_t  bol = 0;
    char    c;

    vbuf_reset(s->reply);
    for (;;) {
        if (poll(&pfd, 1, WAIT_MS) <= 0 || read(s->fd, &c, 1) != 1) {
            vbuf_reset(s->reply);
            return "";
        }
        vbuf_addch(s->reply, c);
        if (c == '\n') {
            if (vbuf_len(s->reply) - bol < 5 || s->reply->data[bol + 3] != '-')
                return vbuf_str(s->reply);
            bol = vbuf_len(s->reply);
        }
    }
}

/* last_line - the last line of a reply */
static const char *last_line(const char *reply)
{
    const char *p = reply, *nl;

    while ((nl = strchr(p, '\n')) != NULL && nl[1])
        p = nl + 1;
    return p;
}

/* expect - the next reply's last line starts with want */
static void expect(SESSION *s, const char *want, const char *what)
{
    const char *r = sess_reply(s);

    UT_CHECK(strncmp(last_line(r), want, strlen(want)) == 0, "%s: got \"%s\", want \"%s...\"",
             what, r, want);
}

/* sess_eof - the server closed the connection (an orderly close, or a
 * reset when it left input unread) */
static void sess_eof(SESSION *s, const char *what)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
    char    c;
    ssize_t n = -1;

    if (poll(&pfd, 1, WAIT_MS) == 1)
        n = read(s->fd, &c, 1);
    UT_CHECK(n == 0 || (n < 0 && errno == ECONNRESET), "%s: no EOF (read %zd)", what, n);
}

/* sess_end - close, and the server process must exit cleanly */
static void sess_end(SESSION *s, const char *what)
{
    int     st = 0;

    close(s->fd);
    waitpid(s->pid, &st, 0);
    UT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: smtpd child status %d", what, st);
    vbuf_free(s->reply);
}

/* sess_open - start, greeting, EHLO */
static void sess_open(SESSION *s, INSPECTOR *in, const char *what)
{
    rec_reset();
    sess_start(s, in, NULL);
    expect(s, "220 test.example ESMTP postsift", what);
    SEND(s, "EHLO upstream.test\r\n");
    expect(s, "250 XFORWARD", what);
}

/* sess_quit - QUIT, 221, EOF, child gone */
static void sess_quit(SESSION *s, const char *what)
{
    SEND(s, "QUIT\r\n");
    expect(s, "221 2.0.0", what);
    sess_eof(s, what);
    sess_end(s, what);
}

/* envelope - MAIL and one RCPT, both accepted */
static void envelope(SESSION *s, const char *what)
{
    SEND(s, "MAIL FROM:<sender@example.org>\r\n");
    expect(s, "250 2.1.0", what);
    SEND(s, "RCPT TO:<rcpt@example.net>\r\n");
    expect(s, "250 2.1.5", what);
}

/* count_files - entries in a directory, . and .. aside */
static int count_files(const char *dir)
{
    DIR    *d = opendir(dir);
    struct dirent *e;
    int     n = 0;

    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

/* log_has - the log file contains s */
static int log_has(const char *s)
{
    VBUF   *all = vbuf_alloc(0);
    char    buf[8192];
    ssize_t n;
    int     fd = open(log_path, O_RDONLY), found;

    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
        vbuf_append(all, buf, (size_t)n);
    if (fd >= 0)
        close(fd);
    found = strstr(vbuf_str(all), s) != NULL;
    vbuf_free(all);
    return found;
}

 /*
  * The tests.
  */

static const char eicar_msg[] =
    "From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: eicar\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    "--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\r\n"
    "LUZJTEUhJEgrSCo=\r\n--b1--\r\n.\r\n";

/* test_protocol - greeting, EHLO, refusals, syntax, sequence, line bound */
static void test_protocol(void)
{
    SESSION s;
    RECORD  rec;
    const char *r;
    char   *longline;

    rec_reset();
    sess_start(&s, inspector, NULL);
    expect(&s, "220 test.example ESMTP postsift", "greeting");
    SEND(&s, "EHLO upstream.test\r\n");
    r = sess_reply(&s);
    UT_CHECK(strncmp(r, "250-test.example\r\n", 18) == 0, "EHLO first line: %s", r);
    UT_CHECK(strstr(r, "250-PIPELINING\r\n") != NULL, "PIPELINING: %s", r);
    UT_CHECK(strstr(r, "250-SIZE 52428800\r\n") != NULL, "SIZE: %s", r);
    UT_CHECK(strstr(r, "250-8BITMIME\r\n") != NULL, "8BITMIME: %s", r);
    UT_CHECK(strstr(r, "250-SMTPUTF8\r\n") != NULL, "SMTPUTF8: %s", r);
    UT_CHECK(strstr(r, "250-DSN\r\n") != NULL, "DSN: %s", r);
    UT_CHECK(strstr(r, "250-ENHANCEDSTATUSCODES\r\n") != NULL, "ENHANCEDSTATUSCODES: %s", r);
    UT_CHECK(strstr(r, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n") != NULL,
             "XFORWARD: %s", r);
    UT_CHECK(strstr(r, "STARTTLS") == NULL && strstr(r, "AUTH") == NULL
             && strstr(r, "CHUNKING") == NULL, "nothing we cannot relay: %s", r);
    SEND(&s, "HELO upstream.test\r\n");
    expect(&s, "250 test.example", "HELO");
    SEND(&s, "STARTTLS\r\n");
    expect(&s, "502 5.5.1", "STARTTLS");
    SEND(&s, "AUTH PLAIN AGZvbwBiYXI=\r\n");
    expect(&s, "502 5.5.1", "AUTH");
    SEND(&s, "BDAT 10 LAST\r\n0123456789");
    expect(&s, "502 5.5.1", "BDAT");
    SEND(&s, "FROBNICATE\r\n");
    expect(&s, "500 5.5.2", "unknown command");
    SEND(&s, "\r\n");
    expect(&s, "500 5.5.2", "empty line");
    SEND(&s, "MAIL TO:<a@example.org>\r\n");
    expect(&s, "501 5.5.4", "MAIL syntax");
    SEND(&s, "MAIL FROM:<a@example.org> FROB=1\r\n");
    expect(&s, "555 5.5.4", "unknown MAIL parameter");
    SEND(&s, "EHLO\r\n");
    expect(&s, "501 5.5.4", "EHLO without a name");
    SEND(&s, "RCPT TO:<a@example.org>\r\n");
    expect(&s, "503 5.5.1", "RCPT before MAIL");
    SEND(&s, "DATA\r\n");
    expect(&s, "503 5.5.1", "DATA before MAIL");
    SEND(&s, "NOOP\r\n");
    expect(&s, "250 2.0.0", "NOOP");
    SEND(&s, "RSET\r\n");
    expect(&s, "250 2.0.0", "RSET");
    /* over the line bound: refused, and the session stays in step */
    longline = mymalloc(5003);
    memset(longline, 'A', 5000);
    memcpy(longline + 5000, "\r\n", 3);
    sess_send(&s, longline, 5002);
    myfree(longline);
    expect(&s, "500 5.5.2 Error: line too long", "long command line");
    SEND(&s, "NOOP\r\n");
    expect(&s, "250 2.0.0", "NOOP after the long line");
    sess_quit(&s, "protocol");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 0, "no downstream connection without MAIL");
    rec_free(&rec);
}

/* test_errors - the error bound ends the session with 421 */
static void test_errors(void)
{
    SESSION s;
    int     i;

    rec_reset();
    sess_start(&s, inspector, NULL);
    expect(&s, "220 ", "errors greeting");
    /* Exactly the bound: commands the server never reads would make its
     * close a reset, which may throw away the 421 before we read it. */
    for (i = 0; i < 20; i++)
        SEND(&s, "FROBNICATE\r\n");
    for (i = 0; i < 20; i++)
        expect(&s, "500 5.5.2", "error reply");
    expect(&s, "421 4.7.0", "too many errors");
    sess_eof(&s, "too many errors");
    sess_end(&s, "too many errors");
}

/* test_relay - XFORWARD, ESMTP parameters and replies relayed */
static void test_relay(void)
{
    static const char want_cmds[] =
        "EHLO test.example\n"
        "XFORWARD NAME=mail.example.org ADDR=192.0.2.1 PORT=4711 PROTO=ESMTP "
        "HELO=[UNAVAILABLE] IDENT=4XyZ123 SOURCE=REMOTE\n"
        "MAIL FROM:<sender@example.org> SIZE=123 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=env+2Bid\n"
        "RCPT TO:<rcpt@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rcpt+2Borig@example.net\n"
        "RCPT TO:<reject@example.net>\n"
        "DATA\n"
        "QUIT\n";
    SESSION s;
    RECORD  rec;
    const char *r;

    sess_open(&s, inspector, "relay");
    SEND(&s, "XFORWARD NAME=mail.example.org ADDR=192.0.2.1 PORT=4711 PROTO=ESMTP "
         "HELO=[UNAVAILABLE]\r\n");
    expect(&s, "250 2.0.0", "XFORWARD 1");
    SEND(&s, "XFORWARD IDENT=4XyZ123 SOURCE=REMOTE\r\n");
    expect(&s, "250 2.0.0", "XFORWARD 2");
    SEND(&s, "XFORWARD COLOUR=blue\r\n");
    expect(&s, "501 5.5.4", "XFORWARD unknown attribute");
    SEND(&s, "MAIL FROM:<sender@example.org> SIZE=123 BODY=8BITMIME SMTPUTF8 RET=HDRS "
         "ENVID=env+2Bid\r\n");
    expect(&s, "250 2.1.0 Ok", "MAIL relayed");
    SEND(&s, "XFORWARD NAME=late.example.org\r\n");
    expect(&s, "503 5.5.1", "XFORWARD inside a transaction");
    SEND(&s, "RCPT TO:<rcpt@example.net> NOTIFY=SUCCESS,FAILURE "
         "ORCPT=rfc822;rcpt+2Borig@example.net\r\n");
    expect(&s, "250 2.1.5 Ok", "RCPT relayed");
    SEND(&s, "RCPT TO:<reject@example.net>\r\n");
    r = sess_reply(&s);
    UT_EQ_STR(r, "550 5.1.1 <reject@example.net>: Recipient address rejected: "
              "User unknown in virtual mailbox table\r\n", "downstream's RCPT refusal verbatim");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "DATA");
    SEND(&s, "Subject: relay\r\n\r\nhello\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as QID", "end of data relayed");
    sess_quit(&s, "relay");
    rec_load(&rec);
    UT_EQ_STR(vbuf_str(rec.cmds), want_cmds, "downstream commands");
    UT_EQ_INT(rec.ndata, 1, "one message downstream");
    UT_EQ_INT(rec.bad, 0, "no bad lines downstream");
    rec_free(&rec);
    UT_CHECK(log_has("4XyZ123: verdict=clean, action=pass, "
                     "status=sent (250 2.0.0 Ok: queued as QID"), "log line start");
    UT_CHECK(log_has(", queued_as=QID"), "log line queued_as");
    UT_CHECK(log_has(", size=22, client=mail.example.org[192.0.2.1], from=<sender@example.org>, "
                     "to=<rcpt@example.net>\n"), "log line end");
}

/* test_long_address - an address as long as a command line allows is
 * relayed (Postfix accepted it: a 5xx here would become a bounce) */
static void test_long_address(void)
{
    SESSION s;
    RECORD  rec;
    VBUF   *cmd = vbuf_alloc(2100), *addr = vbuf_alloc(2100);
    size_t  i;

    for (i = 0; i < 1900; i++)
        vbuf_addch(addr, (char)('a' + i % 26));
    vbuf_strcat(addr, "@example.net");
    sess_open(&s, inspector, "long address");
    vbuf_sprintf(cmd, "MAIL FROM:<%s>\r\n", vbuf_str(addr));
    SEND(&s, vbuf_str(cmd));
    expect(&s, "250 2.1.0", "MAIL with a 1912-byte address");
    vbuf_sprintf(cmd, "RCPT TO:<%s>\r\n", vbuf_str(addr));
    SEND(&s, vbuf_str(cmd));
    expect(&s, "250 2.1.5", "RCPT with a 1912-byte address");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "DATA");
    SEND(&s, "Subject: long\r\n\r\nhello\r\n.\r\n");
    expect(&s, "250 2.0.0", "end of data relayed");
    sess_quit(&s, "long address");
    rec_load(&rec);
    vbuf_sprintf(cmd, "RCPT TO:<%s>\n", vbuf_str(addr));
    UT_CHECK(strstr(vbuf_str(rec.cmds), vbuf_str(cmd)) != NULL, "the address relayed whole");
    UT_EQ_INT(rec.ndata, 1, "one message downstream");
    rec_free(&rec);
    vbuf_free(cmd);
    vbuf_free(addr);
}

/* test_bytes - dot-stuffing and line ends, byte for byte */
static void test_bytes(void)
{
    static const char in[] = "Subject: dots\r\n\r\n..leading dot\r\n...two\r\nbare\nlf\r\n"
        "bare\rcr\r\n.x\r\n\r\nend\r\n.\r\n";
    static const char want[] = "Subject: dots\r\n\r\n..leading dot\r\n...two\r\nbare\r\nlf\r\n"
        "bare\r\ncr\r\nx\r\n\r\nend\r\n.\r\n";
    SESSION s;
    RECORD  rec;
    const char *body;
    size_t  len;

    sess_open(&s, inspector, "bytes");
    envelope(&s, "bytes");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "bytes DATA");
    SEND(&s, in);
    expect(&s, "250 2.0.0", "bytes end of data");
    sess_quit(&s, "bytes");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "bytes: one message");
    if (rec.ndata == 1) {
        UT_CHECK(strncmp(vbuf_str(rec.data[0]), "X-Virus-Scanned: postsift ", 26) == 0,
                 "X-Virus-Scanned first: %.80s", vbuf_str(rec.data[0]));
        body = body_after_prefix(rec.data[0], &len);
        UT_EQ_MEM(body, len, want, sizeof(want) - 1, "bytes downstream");
        UT_CHECK(smtp_clean(vbuf_str(rec.data[0]), vbuf_len(rec.data[0])), "no bare CR/LF");
    }
    rec_free(&rec);
}

/* test_smuggling - no vector ends the data or starts a second message */
static void test_smuggling(void)
{
    static const char *const vectors[] = {
        "\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r.\r\n",
    };
    static const char *const names[] = {
        "<LF>.<LF>", "<LF>.<CRLF>", "<CR>.<CR>", "<CRLF>.<LF>", "<CR>.<CRLF>",
    };
    static const char want[] = "Subject: smuggle\r\n\r\nhello\r\n..\r\n"
        "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
        "\r\nsmuggled\r\n.\r\n";
    VBUF   *msg = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;
    const char *body;
    size_t  len, i, j, k;
    char    what[64];

    /* j = 0: all at once; j = 1: one byte per write (short reads) */
    for (k = 0; k < 2 * sizeof(vectors) / sizeof(vectors[0]); k++) {
        i = k % (sizeof(vectors) / sizeof(vectors[0]));
        snprintf(what, sizeof(what), "smuggling %s%s", names[i],
                 k >= sizeof(vectors) / sizeof(vectors[0]) ? " bytewise" : "");
        vbuf_sprintf(msg, "Subject: smuggle\r\n\r\nhello%sMAIL FROM:<evil@example.org>\r\n"
                     "RCPT TO:<victim@example.net>\r\nDATA\r\n\r\nsmuggled\r\n.\r\n", vectors[i]);
        sess_open(&s, inspector, what);
        envelope(&s, what);
        SEND(&s, "DATA\r\n");
        expect(&s, "354 ", what);
        if (k < sizeof(vectors) / sizeof(vectors[0])) {
            sess_send(&s, vbuf_str(msg), vbuf_len(msg));
        } else {
            for (j = 0; j < vbuf_len(msg); j++) {
                sess_send(&s, vbuf_str(msg) + j, 1);
                usleep(200);
            }
        }
        expect(&s, "250 2.0.0", what);
        /* a second message would have produced more replies: QUIT must get 221 */
        sess_quit(&s, what);
        rec_load(&rec);
        UT_CHECK(rec.ndata == 1, "%s: %d messages downstream", what, rec.ndata);
        UT_CHECK(count_str(vbuf_str(rec.cmds), "MAIL FROM") == 1, "%s: commands %s", what,
                 vbuf_str(rec.cmds));
        UT_CHECK(rec.bad == 0, "%s: bad lines downstream", what);
        if (rec.ndata == 1) {
            UT_CHECK(smtp_clean(vbuf_str(rec.data[0]), vbuf_len(rec.data[0])),
                     "%s: bare CR or LF downstream", what);
            body = body_after_prefix(rec.data[0], &len);
            UT_EQ_MEM(body, len, want, sizeof(want) - 1, what);
        }
        rec_free(&rec);
    }
    vbuf_free(msg);
}

/* test_long_line - 150 KB in one line passes intact */
static void test_long_line(void)
{
    VBUF   *msg = vbuf_alloc(0), *want = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;
    const char *body;
    size_t  len, i;

    vbuf_strcpy(msg, "Subject: long\r\n\r\n");
    for (i = 0; i < 150000; i++)
        vbuf_addch(msg, 'a' + (int)(i % 26));
    vbuf_strcat(msg, "\r\n.\r\n");
    vbuf_append(want, vbuf_str(msg), vbuf_len(msg));
    sess_open(&s, inspector, "long line");
    envelope(&s, "long line");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "long line DATA");
    sess_send(&s, vbuf_str(msg), vbuf_len(msg));
    expect(&s, "250 2.0.0", "long line end of data");
    sess_quit(&s, "long line");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "long line: one message");
    if (rec.ndata == 1) {
        body = body_after_prefix(rec.data[0], &len);
        UT_CHECK(len == vbuf_len(want) && memcmp(body, vbuf_str(want), len) == 0,
                 "long line: %zu bytes downstream, want %zu", len, vbuf_len(want));
    }
    rec_free(&rec);
    vbuf_free(msg);
    vbuf_free(want);
}

/* test_virus - EICAR rejected, then quarantined */
static void test_virus(void)
{
    SESSION s;
    RECORD  rec;

    set("virus_action=reject");
    sess_open(&s, inspector, "eicar reject");
    envelope(&s, "eicar reject");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "eicar reject DATA");
    SEND(&s, eicar_msg);
    expect(&s, "554 5.7.1", "eicar rejected");
    UT_CHECK(strstr(vbuf_str(s.reply), "infected") != NULL, "verdict in reply: %s",
             vbuf_str(s.reply));
    sess_quit(&s, "eicar reject");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "eicar reject: nothing sent downstream");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "RCPT TO:<rcpt@example.net>\nRSET\n") != NULL,
             "eicar reject: RSET downstream: %s", vbuf_str(rec.cmds));
    rec_free(&rec);
    UT_CHECK(log_has("verdict=infected, action=reject"), "reject logged");

    set("virus_action=quarantine");
    sess_open(&s, inspector, "eicar quarantine");
    envelope(&s, "eicar quarantine");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "eicar quarantine DATA");
    SEND(&s, eicar_msg);
    expect(&s, "250 2.0.0 Ok: quarantined as ", "eicar quarantined");
    sess_quit(&s, "eicar quarantine");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "eicar quarantine: nothing sent downstream");
    rec_free(&rec);
    UT_EQ_INT(count_files(qdir), 1, "one file in quarantine_dir");
}

/* test_downstream_trouble - down at MAIL, 451 after DATA */
static void test_downstream_trouble(void)
{
    SESSION s;
    RECORD  rec;

    set("reinject_target=[127.0.0.1]:%d", closed_port());
    sess_open(&s, inspector, "downstream down");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\n");
    expect(&s, "451 4.4.1", "downstream down: MAIL");
    SEND(&s, "RCPT TO:<rcpt@example.net>\r\n");
    expect(&s, "503 5.5.1", "downstream down: no transaction");
    sess_quit(&s, "downstream down");
    set("reinject_target=%s", target);

    /* smtpd_data_done_timeout bounds scan and hand-over: a downstream that
     * would answer 250 only after it gets 451, never a late 250 */
    set("smtpd_data_done_timeout=1s");
    sess_open(&s, inspector, "data done timeout");
    envelope(&s, "data done timeout");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "data done timeout DATA");
    SEND(&s, "Subject: x\r\n\r\nSLOW-ME\r\n.\r\n");
    expect(&s, "451 4.3.0", "data done timeout: 451 before the downstream's late 250");
    sess_quit(&s, "data done timeout");
    set("smtpd_data_done_timeout=300s");

    sess_open(&s, inspector, "downstream 451");
    envelope(&s, "downstream 451");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "downstream 451 DATA");
    SEND(&s, "Subject: x\r\n\r\nTEMPFAIL-ME\r\n.\r\n");
    UT_EQ_STR(sess_reply(&s), "451 4.3.0 Error: queue file write error\r\n",
              "downstream's 451 relayed");
    /* the session goes on */
    envelope(&s, "after downstream 451");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "after downstream 451 DATA");
    SEND(&s, "Subject: x\r\n\r\nfine\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "after downstream 451");
    sess_quit(&s, "downstream 451");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 2, "downstream 451: both tries downstream");
    rec_free(&rec);
}

/* test_downstream_gone - a cached downstream connection that timed out
 * is reopened; one lost during DATA is a 451, never a 5xx or a 250 */
static void test_downstream_gone(void)
{
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "downstream gone");
    envelope(&s, "downstream gone");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "downstream gone DATA");
    SEND(&s, "Subject: x\r\n\r\nCLOSE-AFTER\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "downstream gone: first message");
    envelope(&s, "downstream gone: reconnected");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "downstream gone DATA 2");
    SEND(&s, "Subject: x\r\n\r\nDROP-ME\r\n.\r\n");
    expect(&s, "451 4.3.0", "downstream lost during DATA");
    envelope(&s, "downstream gone: reconnected again");
    sess_quit(&s, "downstream gone");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 3, "downstream gone: reconnections");
    /* the second body arrived whole, but was never acknowledged */
    UT_EQ_INT(rec.ndata, 2, "downstream gone: bodies received");
    rec_free(&rec);
}

/* test_upstream_gone - the client vanishes in the middle of DATA */
static void test_upstream_gone(void)
{
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "upstream gone");
    envelope(&s, "upstream gone");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "upstream gone DATA");
    SEND(&s, "Subject: x\r\n\r\nhalf a message\r\n.");
    sess_end(&s, "upstream gone");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "upstream gone: nothing sent");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "QUIT\n") != NULL, "upstream gone: downstream QUIT");
    rec_free(&rec);
}

 /*
  * A clamd that answers each INSTREAM only after reading a byte from a
  * gate (a pipe): the scan lasts exactly as long as the test wants.
  */

/* gated_session - one clamd command on fd */
static void gated_session(int fd, int gate)
{
    unsigned char hdr[4];
    char    cmd[32], junk[4096], c;
    size_t  n = 0, clen;

    while (n < sizeof(cmd) - 1 && ut_read_exact(fd, cmd + n, 1) == 0 && cmd[n] != 0)
        n++;
    cmd[n] = 0;
    if (strcmp(cmd, "zVERSION") == 0) {
        write_all(fd, "ClamAV 1.4.6/27000/Mon Nov 23 09:00:00 2026", 44);
        return;
    }
    while (strcmp(cmd, "zINSTREAM") == 0 && ut_read_exact(fd, hdr, 4) == 0) {
        clen = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
        if (clen == 0) {
            if (read(gate, &c, 1) != 1)     /* until the test opens the gate */
                return;
            write_all(fd, "stream: OK", 11);
            return;
        }
        for (; clen > 0; clen -= n)
            if ((n = (size_t)read(fd, junk, clen < sizeof(junk) ? clen : sizeof(junk))) == 0
                || n > sizeof(junk))
                return;
    }
}

/* gated_clamd - fork the gated clamd on a unix socket at path */
static pid_t gated_clamd(const char *path, int gate)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int     lfd, fd;
    pid_t   pid;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
        || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 8) < 0)
        msg_fatal("clamd socket %s: %s", path, strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
        for (;;) {
            if ((fd = accept(lfd, NULL, NULL)) < 0)
                _exit(errno == EINTR ? 0 : 1);
            gated_session(fd, gate);
            close(fd);
        }
    }
    close(lfd);
    return pid;
}

static INSPECTOR *gated_inspector;
static pid_t gated_pid;
static int gate_fd[2];

/* gated_start - the gated clamd, and an inspector that uses it */
static void gated_start(void)
{
    char    path[sizeof(tmpdir) + 32];
    VBUF   *err = vbuf_alloc(1024);

    snprintf(path, sizeof(path), "%s/clamd.sock", tmpdir);
    (void)unlink(path);
    if (pipe(gate_fd) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    gated_pid = gated_clamd(path, gate_fd[0]);
    set("scanner=clamd:unix:%s", path);
    if ((gated_inspector = inspector_open(err)) == NULL)
        msg_fatal("inspector_open (clamd): %s", vbuf_str(err));
    vbuf_free(err);
}

/* gated_stop - back to the in-process scanner */
static void gated_stop(void)
{
    int     st;

    inspector_close(gated_inspector);
    gated_inspector = NULL;
    set("scanner=clamav");
    kill(gated_pid, SIGKILL);
    waitpid(gated_pid, &st, 0);
    close(gate_fd[0]);
    close(gate_fd[1]);
}

/* test_client_gave_up - a client that closes during the scan (its
 * data-done timeout) gets nothing handed on: it will send the message
 * again, and a copy relayed now would arrive twice; a scan longer than
 * our own smtpd_data_done_timeout gets 451 4.4.7 */
static void test_client_gave_up(void)
{
    SESSION s;
    RECORD  rec;

    gated_start();
    sess_open(&s, gated_inspector, "gave up");
    envelope(&s, "gave up");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "gave up DATA");
    /* QUIT pipelined after the dot, as Postfix's smtp(8) does; it gives
     * up only after waiting (its smtp_data_done_timeout), so well after
     * the dot */
    SEND(&s, "Subject: slow scan\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    sleep(3);
    close(s.fd);                /* the client gives up while the scan runs */
    s.fd = -1;
    write_all(gate_fd[1], "x", 1); /* then the scan ends: clean */
    sess_end(&s, "gave up");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "client gone during the scan: nothing handed on");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "DATA\n") == NULL, "client gone: no downstream DATA");
    rec_free(&rec);
    UT_CHECK(log_has("status=deferred (client gone before the hand-over)"),
             "client gone: logged as deferred");

    /* the same scan, a client that waits */
    write_all(gate_fd[1], "x", 1);
    sess_open(&s, gated_inspector, "waited");
    envelope(&s, "waited");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "waited DATA");
    SEND(&s, "Subject: slow scan\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "a client that waits: relayed");
    expect(&s, "221 2.0.0", "a client that waits: QUIT");
    sess_eof(&s, "waited");
    sess_end(&s, "waited");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "a client that waits: one message downstream");
    rec_free(&rec);

    /* a scan that outlasts smtpd_data_done_timeout: 451 4.4.7 and the
     * downstream transaction dropped, never a late hand-over */
    set("smtpd_data_done_timeout=1s");
    sess_open(&s, gated_inspector, "slow scan");
    envelope(&s, "slow scan");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "slow scan DATA");
    SEND(&s, "Subject: slow scan\r\n\r\nhello\r\n.\r\n");
    sleep(2);
    write_all(gate_fd[1], "x", 1); /* the scan ends after the time allowed */
    expect(&s, "451 4.4.7 Error: scanning took too long", "slow scan: 451 4.4.7");
    sess_quit(&s, "slow scan");
    set("smtpd_data_done_timeout=300s");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "slow scan: nothing handed on");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "RSET\n") != NULL, "slow scan: downstream RSET");
    rec_free(&rec);
    UT_CHECK(log_has("smtpd_data_done_timeout (1s) passed before the hand-over"),
             "slow scan: warning logged");
    gated_stop();
}

/* test_half_close - a client that sends the dot and QUIT in one write
 * and then shuts down its sending side still reads the replies: the
 * message is handed on, 250, then 221; one that closes after the dot
 * without QUIT is gone, as before */
static void test_half_close(void)
{
    SESSION s;
    RECORD  rec;

    /* the scan in the process: the close arrives with the data */
    sess_open(&s, inspector, "half close");
    envelope(&s, "half close");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "half close DATA");
    SEND(&s, "Subject: half close\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    shutdown(s.fd, SHUT_WR);
    expect(&s, "250 2.0.0 Ok: queued as", "half close: handed on");
    expect(&s, "221 2.0.0", "half close: QUIT answered");
    sess_eof(&s, "half close");
    sess_end(&s, "half close");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "half close: one message downstream");
    rec_free(&rec);

    gated_start();
    /* a scan that lasts: the close is seen only after it */
    sess_open(&s, gated_inspector, "half close, slow scan");
    envelope(&s, "half close, slow scan");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "half close, slow scan DATA");
    SEND(&s, "Subject: half close\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    shutdown(s.fd, SHUT_WR);
    usleep(500000);
    write_all(gate_fd[1], "x", 1);
    expect(&s, "250 2.0.0 Ok: queued as", "half close, slow scan: handed on");
    expect(&s, "221 2.0.0", "half close, slow scan: QUIT answered");
    sess_eof(&s, "half close, slow scan");
    sess_end(&s, "half close, slow scan");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "half close, slow scan: one message downstream");
    rec_free(&rec);

    /* the dot, no QUIT, and the client closes at once: gone */
    sess_open(&s, gated_inspector, "closed without QUIT");
    envelope(&s, "closed without QUIT");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "closed without QUIT DATA");
    SEND(&s, "Subject: closed\r\n\r\nhello\r\n.\r\n");
    shutdown(s.fd, SHUT_WR);
    usleep(200000);
    write_all(gate_fd[1], "x", 1);
    UT_EQ_STR(sess_reply(&s), "", "closed without QUIT: no reply");
    sess_end(&s, "closed without QUIT");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "closed without QUIT: nothing handed on");
    rec_free(&rec);
    gated_stop();
}

/* test_session - several transactions, RSET, pipelining, one connection */
static void test_session(void)
{
    static const char want_cmds[] =
        "EHLO test.example\n"
        "MAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\nRCPT TO:<reject@example.net>\nDATA\n"
        "MAIL FROM:<c@example.org>\nRCPT TO:<d@example.net>\nRSET\n"
        "MAIL FROM:<e@example.org>\nRCPT TO:<f@example.net>\nDATA\n"
        "QUIT\n";
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "session");
    SEND(&s, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
         "RCPT TO:<reject@example.net>\r\nDATA\r\n");
    expect(&s, "250 2.1.0", "pipelined MAIL");
    expect(&s, "250 2.1.5", "pipelined RCPT");
    expect(&s, "550 5.1.1", "pipelined RCPT refused");
    expect(&s, "354 ", "pipelined DATA");
    SEND(&s, "Subject: one\r\n\r\nfirst\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "first message");
    SEND(&s, "MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.net>\r\nRSET\r\n");
    expect(&s, "250 2.1.0", "second MAIL");
    expect(&s, "250 2.1.5", "second RCPT");
    expect(&s, "250 2.0.0", "RSET");
    SEND(&s, "MAIL FROM:<e@example.org>\r\nRCPT TO:<f@example.net>\r\nDATA\r\n");
    expect(&s, "250 2.1.0", "third MAIL");
    expect(&s, "250 2.1.5", "third RCPT");
    expect(&s, "354 ", "third DATA");
    /* QUIT pipelined right after the final dot */
    SEND(&s, "Subject: three\r\n\r\nthird\r\n.\r\nQUIT\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "third message");
    expect(&s, "221 2.0.0", "pipelined QUIT");
    sess_eof(&s, "session");
    sess_end(&s, "session");
    rec_load(&rec);
    UT_EQ_STR(vbuf_str(rec.cmds), want_cmds, "session: downstream commands");
    UT_EQ_INT(rec.nconnect, 1, "session: one downstream connection");
    UT_EQ_INT(rec.ndata, 2, "session: two messages");
    rec_free(&rec);
}

/* test_no_recipients - DATA needs an accepted recipient */
static void test_no_recipients(void)
{
    SESSION s;

    sess_open(&s, inspector, "no recipients");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\n");
    expect(&s, "250 2.1.0", "no recipients MAIL");
    SEND(&s, "RCPT TO:<reject@example.net>\r\n");
    expect(&s, "550 5.1.1", "no recipients RCPT");
    SEND(&s, "DATA\r\n");
    expect(&s, "554 5.5.1", "no valid recipients");
    sess_quit(&s, "no recipients");
}

/* test_no_scanner - in == NULL: error_action (defer) */
static void test_no_scanner(void)
{
    SESSION s;
    RECORD  rec;

    rec_reset();
    sess_start(&s, NULL, "scanner unavailable for the test");
    expect(&s, "220 ", "no scanner greeting");
    envelope(&s, "no scanner");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "no scanner DATA");
    SEND(&s, "Subject: x\r\n\r\nhi\r\n.\r\n");
    expect(&s, "451 4.3.0", "no scanner: deferred");
    sess_quit(&s, "no scanner");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "no scanner: nothing downstream");
    rec_free(&rec);
}

/* test_loop - reinject_target is our own listen address */
static void test_loop(void)
{
    SESSION s;
    RECORD  rec;

    set("smtpd_listen=127.0.0.1:10025, %s", target);
    sess_open(&s, inspector, "loop");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\n");
    expect(&s, "451 4.4.6", "loop refused");
    sess_quit(&s, "loop");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 0, "loop: never relayed to ourselves");
    rec_free(&rec);
    set("smtpd_listen=127.0.0.1:10025");
}

/* test_oversize - past message_size_limit: read to the end, oversize_action */
static void test_oversize(void)
{
    VBUF   *msg = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;
    size_t  i;

    set("message_size_limit=1000");
    set("oversize_action=tag");
    vbuf_strcpy(msg, "Subject: big\r\n\r\n");
    for (i = 0; i < 100; i++)
        vbuf_strcat(msg, "0123456789012345678901234567890123456789\r\n");
    vbuf_strcat(msg, ".\r\n");
    sess_open(&s, inspector, "oversize");
    envelope(&s, "oversize");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "oversize DATA");
    sess_send(&s, vbuf_str(msg), vbuf_len(msg));
    expect(&s, "250 2.0.0", "oversize passed");
    sess_quit(&s, "oversize");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "oversize: sent");
    if (rec.ndata == 1)
        UT_CHECK(strstr(vbuf_str(rec.data[0]), "X-Virus-Status: Unchecked") != NULL,
                 "oversize: tagged: %.200s", vbuf_str(rec.data[0]));
    rec_free(&rec);

    set("oversize_action=reject");
    sess_open(&s, inspector, "oversize reject");
    envelope(&s, "oversize reject");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "oversize reject DATA");
    sess_send(&s, vbuf_str(msg), vbuf_len(msg));
    expect(&s, "554 5.7.1", "oversize rejected after reading it all");
    SEND(&s, "NOOP\r\n");
    expect(&s, "250 2.0.0", "oversize: still in step");
    sess_quit(&s, "oversize reject");
    set("message_size_limit=52428800");
    set("oversize_action=tag");
    vbuf_free(msg);
}

/* test_shutdown - finish the transaction, then 421 at once */
static void test_shutdown(void)
{
    SESSION s;

    sess_open(&s, inspector, "shutdown");
    envelope(&s, "shutdown");
    kill(s.pid, SIGUSR1);
    usleep(100000);
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "shutdown: DATA goes on");
    SEND(&s, "Subject: x\r\n\r\nlast one\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "shutdown: transaction finished");
    /* idle again: no need to wait for the next command */
    expect(&s, "421 4.3.2", "shutdown: 421 once the transaction is done");
    sess_eof(&s, "shutdown");
    sess_end(&s, "shutdown");
}

/* test_shutdown_idle - an idle session ends at once on shutdown, without
 * waiting for the client's next command (smtpd_timeout is 300s here) */
static void test_shutdown_idle(void)
{
    SESSION s;

    sess_open(&s, inspector, "shutdown idle");
    SEND(&s, "NOOP\r\n");
    expect(&s, "250 ", "shutdown idle: NOOP");
    kill(s.pid, SIGUSR1);
    expect(&s, "421 4.3.2", "shutdown idle: 421 without a command");
    sess_eof(&s, "shutdown idle");
    sess_end(&s, "shutdown idle");
}

/* replies_are - the next replies' last lines start with want[0], want[1]...
 * (NULL-terminated); on a mismatch one failure is reported, 0 returned */
static int replies_are(SESSION *s, const char *const *want)
{
    const char *r;

    for (; *want; want++) {
        r = sess_reply(s);
        if (strncmp(last_line(r), *want, strlen(*want)) != 0) {
            UT_CHECK(0, "got \"%s\", want \"%s...\"", r, *want);
            return 0;
        }
    }
    return 1;
}

/* junk_run - n commands cmd (pipelined), each answered want; then the
 * session must end with 421 4.7.0 */
static void junk_run(SESSION *s, const char *cmd, const char *want, int n, const char *what)
{
    VBUF   *all = vbuf_alloc(0);
    int     i, good = 0;

    for (i = 0; i < n; i++)
        vbuf_strcat(all, cmd);
    sess_send(s, vbuf_str(all), vbuf_len(all));
    for (i = 0; i < n; i++)
        if (strncmp(last_line(sess_reply(s)), want, strlen(want)) == 0)
            good++;
    UT_EQ_INT(good, n, what);
    expect(s, "421 4.7.0", what);
    sess_eof(s, what);
    sess_end(s, what);
    vbuf_free(all);
}

/* test_junk - commands that do no work are answered, but only so many:
 * past smtpd_junk_command_limit each is an error, and the error bound
 * ends the session */
static void test_junk(void)
{
    SESSION s;
    VBUF   *cmd = vbuf_alloc(0);
    int     i;

    /* the default limit (100), then 20 errors */
    sess_open(&s, inspector, "NOOP flood");
    junk_run(&s, "NOOP\r\n", "250 2.0.0", 120, "NOOP flood");

    set("smtpd_junk_command_limit=3");
    sess_open(&s, inspector, "RSET flood");
    junk_run(&s, "RSET\r\n", "250 2.0.0", 23, "RSET flood");
    sess_open(&s, inspector, "EHLO again");     /* its first EHLO is free */
    junk_run(&s, "EHLO upstream.test\r\n", "250 XFORWARD", 23, "EHLO again");
    sess_open(&s, inspector, "HELO again");
    junk_run(&s, "HELO upstream.test\r\n", "250 test.example", 23, "HELO again");
    sess_open(&s, inspector, "XFORWARD flood");
    junk_run(&s, "XFORWARD NAME=a.example\r\n", "250 2.0.0", 23, "XFORWARD flood");

    /* recipients over the limit of 1000: 452, and junk */
    sess_open(&s, inspector, "too many recipients");
    vbuf_strcpy(cmd, "MAIL FROM:<sender@example.org>\r\n");
    for (i = 0; i < 1000; i++)
        vbuf_sprintf_append(cmd, "RCPT TO:<r%d@example.net>\r\n", i);
    sess_send(&s, vbuf_str(cmd), vbuf_len(cmd));
    expect(&s, "250 2.1.0", "too many recipients: MAIL");
    for (i = 0; i < 1000; i++)
        if (strncmp(sess_reply(&s), "250 2.1.5", 9) != 0)
            break;
    UT_EQ_INT(i, 1000, "too many recipients: 1000 accepted");
    junk_run(&s, "RCPT TO:<more@example.net>\r\n", "452 4.5.3", 23, "too many recipients");
    set("smtpd_junk_command_limit=100");
    vbuf_free(cmd);
}

/* test_junk_reset - a completed transaction forgives the junk before it:
 * a cached connection carrying 1000 messages, each after an RSET probe
 * and two XFORWARD commands (Postfix's smtp(8)), keeps working; so does
 * one whose messages are all rejected */
static void test_junk_reset(void)
{
    SESSION s;
    VBUF   *cmd = vbuf_alloc(0);
    int     i, queued = 0, rejected = 0;

    sess_open(&s, inspector, "junk reset");
    for (i = 0; i < 1000; i++) {
        vbuf_sprintf(cmd, "RSET\r\nXFORWARD NAME=mx.example.org ADDR=192.0.2.1 PORT=25\r\n"
                     "XFORWARD PROTO=ESMTP HELO=mx.example.org IDENT=Q%d SOURCE=REMOTE\r\n"
                     "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n", i);
        sess_send(&s, vbuf_str(cmd), vbuf_len(cmd));
        if (!replies_are(&s, (const char *[]) {"250 2.0.0", "250 2.0.0", "250 2.0.0",
                                               "250 2.1.0", "250 2.1.5", "354 ", NULL}))
            break;
        SEND(&s, "Subject: one of many\r\n\r\nhello\r\n.\r\n");
        if (!replies_are(&s, (const char *[]) {"250 2.0.0 Ok: queued as", NULL}))
            break;
        queued++;
    }
    UT_EQ_INT(queued, 1000, "junk reset: 1000 messages over one connection");
    sess_quit(&s, "junk reset");

    /* rejected messages complete their transactions too */
    set("smtpd_junk_command_limit=3");
    set("virus_action=reject");
    sess_open(&s, inspector, "junk reset, rejected");
    for (i = 0; i < 10; i++) {
        SEND(&s, "RSET\r\nXFORWARD NAME=mx.example.org\r\nXFORWARD IDENT=Q1\r\n"
             "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
        if (!replies_are(&s, (const char *[]) {"250 2.0.0", "250 2.0.0", "250 2.0.0",
                                               "250 2.1.0", "250 2.1.5", "354 ", NULL}))
            break;
        SEND(&s, eicar_msg);
        if (!replies_are(&s, (const char *[]) {"554 5.7.1", NULL}))
            break;
        rejected++;
    }
    UT_EQ_INT(rejected, 10, "junk reset: 10 rejected messages");
    sess_quit(&s, "junk reset, rejected");
    set("smtpd_junk_command_limit=100");
    set("virus_action=quarantine");
    vbuf_free(cmd);
}

/* test_deadline - smtpd_session_deadline: 421 4.4.2 at once between
 * transactions, in one (nothing handed on), in DATA (nothing handed
 * on); after the final dot the message is finished first */
static void test_deadline(void)
{
    static const char want[] = "421 4.4.2 test.example Error: session deadline exceeded";
    struct timespec t0;
    SESSION s;
    RECORD  rec;

    /* the defaults leave room for a cached connection's last message */
    UT_CHECK(strcmp(config_lookup("smtpd_session_deadline"), "7200s") == 0,
             "smtpd_session_deadline default");
    UT_CHECK(7200 >= 300 + var_smtpd_data_deadline + 600,
             "default deadline: 300 s of reuse, a whole DATA and a data-done timeout fit");

    set("smtpd_session_deadline=2s");
    set("smtpd_timeout=60s");   /* so that only the deadline can end these */

    clock_gettime(CLOCK_MONOTONIC, &t0);
    sess_open(&s, inspector, "deadline idle");
    expect(&s, want, "deadline idle: 421 without a command");
    UT_CHECK(smtpd_test_elapsed(&t0) < 10, "deadline idle: on time");
    sess_eof(&s, "deadline idle");
    sess_end(&s, "deadline idle");

    sess_open(&s, inspector, "deadline in a transaction");
    envelope(&s, "deadline in a transaction");
    expect(&s, want, "deadline in a transaction: 421");
    sess_eof(&s, "deadline in a transaction");
    sess_end(&s, "deadline in a transaction");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "deadline in a transaction: nothing handed on");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "RCPT TO:<rcpt@example.net>\nQUIT\n") != NULL,
             "deadline in a transaction: downstream transaction ended: %s", vbuf_str(rec.cmds));
    rec_free(&rec);

    sess_open(&s, inspector, "deadline in DATA");
    envelope(&s, "deadline in DATA");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "deadline in DATA: 354");
    SEND(&s, "Subject: slow\r\n\r\nhalf a mess");
    expect(&s, want, "deadline in DATA: 421");
    sess_eof(&s, "deadline in DATA");
    sess_end(&s, "deadline in DATA");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "deadline in DATA: nothing handed on");
    rec_free(&rec);

    /* the deadline passes during the scan: the message is finished */
    gated_start();
    sess_open(&s, gated_inspector, "deadline after the dot");
    envelope(&s, "deadline after the dot");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "deadline after the dot: 354");
    SEND(&s, "Subject: x\r\n\r\nscanned past the deadline\r\n.\r\n");
    sleep(3);
    write_all(gate_fd[1], "x", 1);
    expect(&s, "250 2.0.0 Ok: queued as", "deadline after the dot: handed on, 250");
    expect(&s, want, "deadline after the dot: then 421");
    sess_eof(&s, "deadline after the dot");
    sess_end(&s, "deadline after the dot");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "deadline after the dot: one message");
    rec_free(&rec);
    gated_stop();

    set("smtpd_session_deadline=7200s");
    set("smtpd_timeout=20s");
}

/* xf_try - greeting, EHLO, XFORWARD: XFORWARD offered and accepted, or
 * neither; QUIT */
static void xf_try(SESSION *s, int want_ok, const char *what)
{
    const char *r;

    rec_reset();
    expect(s, "220 ", what);
    SEND(s, "EHLO upstream.test\r\n");
    r = sess_reply(s);
    UT_CHECK(strncmp(r, "250-test.example\r\n", 18) == 0, "%s: EHLO: %s", what, r);
    UT_CHECK((strstr(r, "XFORWARD") != NULL) == want_ok, "%s: XFORWARD %soffered: %s", what,
             want_ok ? "" : "not ", r);
    SEND(s, "XFORWARD NAME=spoofed.example ADDR=192.0.2.66\r\n");
    expect(s, want_ok ? "250 2.0.0" : "550 5.7.0 Error: insufficient authorization", what);
    sess_quit(s, what);
}

/* test_xforward_auth - XFORWARD only from smtpd_authorized_xforward_hosts */
static void test_xforward_auth(void)
{
    static const struct {
        const char *list, *addr;
        int     want;
    } table[] = {
        {"127.0.0.0/8, [::1]/128", "127.0.0.1", 1},
        {"127.0.0.0/8, [::1]/128", "127.1.2.3", 1},
        {"127.0.0.0/8, [::1]/128", "::1", 1},
        {"127.0.0.0/8, [::1]/128", "::ffff:127.0.0.1", 1},
        {"127.0.0.0/8, [::1]/128", "192.0.2.1", 0},
        {"127.0.0.0/8, [::1]/128", "::2", 0},
        {"", "127.0.0.1", 0},
        {"192.0.2.0/25", "192.0.2.127", 1},
        {"192.0.2.0/25", "192.0.2.128", 0},
        {"192.0.2.1", "192.0.2.1", 1},
        {"192.0.2.1", "192.0.2.2", 0},
        {"192.0.2.1\t198.51.100.0/24", "198.51.100.77", 1},
        {"2001:db8::/32", "2001:db8:1::5", 1},
        {"[2001:db8::]/33", "2001:db8:8000::1", 0},
        {"::1", "::1", 1},
        {"0.0.0.0/0", "203.0.113.9", 1},
        {"0.0.0.0/0", "2001:db8::1", 0},
        {"fe80::/10", "fe80::1%eth0", 1},
        /* not numeric, bad bits: ignored, the rest still counts */
        {"localhost, 127.0.0.1/33, 10.0.0.0/x, 10.0.0.0/, 192.0.2.9", "192.0.2.9", 1},
        {"localhost", "127.0.0.1", 0},
        {"127.0.0.1", "not-an-address", 0},
    };
    SESSION s;
    RECORD  rec;
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        UT_CHECK(smtpd_host_listed(table[i].list, table[i].addr) == table[i].want,
                 "smtpd_host_listed(\"%s\", \"%s\") != %d", table[i].list, table[i].addr,
                 table[i].want);

    /* TCP from 127.0.0.1: the default allows it, a list without it not */
    if (sess_start_tcp(&s, "127.0.0.1", "127.0.0.1", inspector) < 0)
        msg_fatal("no loopback TCP connection");
    xf_try(&s, 1, "TCP 127.0.0.1, default");
    set("smtpd_authorized_xforward_hosts=192.0.2.0/24");
    if (sess_start_tcp(&s, "127.0.0.1", "127.0.0.1", inspector) < 0)
        msg_fatal("no loopback TCP connection");
    xf_try(&s, 0, "TCP 127.0.0.1, not listed");

    /* refused XFORWARD: nothing forwarded, the log names the real peer */
    if (sess_start_tcp(&s, "127.0.0.1", "127.0.0.1", inspector) < 0)
        msg_fatal("no loopback TCP connection");
    expect(&s, "220 ", "refused XFORWARD, a message");
    SEND(&s, "EHLO upstream.test\r\n");
    expect(&s, "250 ENHANCEDSTATUSCODES", "refused XFORWARD: EHLO");
    SEND(&s, "XFORWARD NAME=spoofed.example ADDR=192.0.2.66 IDENT=SPOOF1\r\n");
    expect(&s, "550 5.7.0", "refused XFORWARD");
    envelope(&s, "refused XFORWARD");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "refused XFORWARD: DATA");
    SEND(&s, "Subject: x\r\n\r\nfrom a stranger\r\n.\r\n");
    expect(&s, "250 2.0.0 Ok: queued as", "refused XFORWARD: message relayed");
    sess_quit(&s, "refused XFORWARD");
    rec_load(&rec);
    UT_CHECK(strstr(vbuf_str(rec.cmds), "XFORWARD") == NULL, "refused XFORWARD: not forwarded: %s",
             vbuf_str(rec.cmds));
    rec_free(&rec);
    UT_CHECK(!log_has("SPOOF1") && !log_has("spoofed.example"), "refused XFORWARD: not logged");

    /* a UNIX-domain client counts as the loopback address */
    sess_start(&s, inspector, NULL);
    xf_try(&s, 0, "UNIX-domain, not listed");
    set("smtpd_authorized_xforward_hosts=127.0.0.1");
    sess_start(&s, inspector, NULL);
    xf_try(&s, 1, "UNIX-domain, 127.0.0.1 listed");
    set("smtpd_authorized_xforward_hosts=[::1]");
    sess_start(&s, inspector, NULL);
    xf_try(&s, 1, "UNIX-domain, ::1 listed");
    set("smtpd_authorized_xforward_hosts=");
    sess_start(&s, inspector, NULL);
    xf_try(&s, 0, "UNIX-domain, empty list");

    /* IPv6, and IPv4 through a dual-stack socket, where the host has it */
    set("smtpd_authorized_xforward_hosts=127.0.0.0/8");
    if (sess_start_tcp(&s, "::1", "::1", inspector) == 0)
        xf_try(&s, 0, "TCP ::1, not listed");
    else
        msg_info("no IPv6 loopback: IPv6 cases not run");
    if (sess_start_tcp(&s, "::", "127.0.0.1", inspector) == 0)
        xf_try(&s, 1, "TCP ::ffff:127.0.0.1 counts as 127.0.0.1");
    set("smtpd_authorized_xforward_hosts=127.0.0.0/8, [::1]/128");
    if (sess_start_tcp(&s, "::1", "::1", inspector) == 0)
        xf_try(&s, 1, "TCP ::1, default");
}

/* test_data_sync - a message sent behind a refused DATA, without waiting
 * for 354, is never read as commands: the session ends */
static void test_data_sync(void)
{
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "data sync");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\nRCPT TO:<reject@example.net>\r\nDATA\r\n"
         "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
         "Subject: smuggled\r\n\r\nhi\r\n.\r\nQUIT\r\n");
    expect(&s, "250 2.1.0", "data sync: MAIL");
    expect(&s, "550 5.1.1", "data sync: RCPT refused");
    expect(&s, "554 5.5.1", "data sync: DATA refused");
    expect(&s, "421 4.5.0", "data sync: the session ends");
    sess_eof(&s, "data sync");
    sess_end(&s, "data sync");
    rec_load(&rec);
    UT_CHECK(strstr(vbuf_str(rec.cmds), "evil") == NULL, "data sync: nothing smuggled: %s",
             vbuf_str(rec.cmds));
    UT_EQ_INT(rec.ndata, 0, "data sync: no message");
    rec_free(&rec);
}

/* test_bdat - BDAT is refused and its chunk skipped: the commands in it
 * are never run */
static void test_bdat(void)
{
    static const char chunk[] = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
        "DATA\r\nSubject: chunk\r\n\r\nhi\r\n.\r\n";
    VBUF   *msg = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "bdat");
    vbuf_sprintf(msg, "BDAT %zu LAST\r\n%s", sizeof(chunk) - 1, chunk);
    sess_send(&s, vbuf_str(msg), vbuf_len(msg));
    expect(&s, "502 5.5.1", "bdat: refused");
    SEND(&s, "NOOP\r\n");
    expect(&s, "250 2.0.0 Ok", "bdat: the chunk skipped, in step");
    sess_quit(&s, "bdat");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 0, "bdat: no command of the chunk relayed");
    rec_free(&rec);
    vbuf_free(msg);
}

/* test_mail_out_of_step - a downstream that answers MAIL with a 3xx is
 * out of step: 451 4.4.1, and its connection is never used again */
static void test_mail_out_of_step(void)
{
    SESSION s;
    RECORD  rec;

    sess_open(&s, inspector, "out of step");
    SEND(&s, "MAIL FROM:<out-of-step@example.org>\r\n");
    expect(&s, "451 4.4.1", "out of step: MAIL");
    envelope(&s, "out of step: next MAIL");
    sess_quit(&s, "out of step");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 2, "out of step: a new downstream connection");
    rec_free(&rec);
}

 /*
  * LMTP (RFC 2033): LHLO, MAIL and RCPT answered here, one reply per
  * accepted recipient after the final dot.
  */

/* lmtp_open - start, greeting, LHLO */
static void lmtp_open(SESSION *s, const char *what)
{
    rec_reset();
    sess_start(s, inspector, NULL);
    expect(s, "220 test.example", what);
    SEND(s, "LHLO upstream.test\r\n");
    expect(s, "250 XFORWARD", what);
}

/* lmtp_envelope - MAIL and the recipients (NULL-terminated), each
 * answered here */
static void lmtp_envelope(SESSION *s, const char *const *rcpts, const char *what)
{
    char    cmd[256];

    SEND(s, "MAIL FROM:<sender@example.org>\r\n");
    expect(s, "250 2.1.0 Ok", what);
    for (; *rcpts; rcpts++) {
        snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", *rcpts);
        SEND(s, cmd);
        expect(s, "250 2.1.5 Ok", what);
    }
}

/* lmtp_replies - the next n replies, one line each, into got */
static void lmtp_replies(SESSION *s, int n, VBUF *got)
{
    vbuf_reset(got);
    while (n-- > 0)
        vbuf_strcat(got, sess_reply(s));
}

/* test_lmtp_greeting - LHLO, and what each protocol refuses */
static void test_lmtp_greeting(void)
{
    VBUF   *reply = vbuf_alloc(256);
    SESSION s;
    const char *r;

    rec_reset();
    sess_start(&s, inspector, NULL);
    expect(&s, "220 test.example", "LHLO greeting");
    SEND(&s, "LHLO upstream.test\r\n");
    r = sess_reply(&s);
    UT_CHECK(strncmp(r, "250-test.example\r\n", 18) == 0, "LHLO first line: %s", r);
    UT_CHECK(strstr(r, "250-PIPELINING\r\n") && strstr(r, "250-SIZE 52428800\r\n")
             && strstr(r, "250-8BITMIME\r\n") && strstr(r, "250-SMTPUTF8\r\n")
             && strstr(r, "250-DSN\r\n") && strstr(r, "250-ENHANCEDSTATUSCODES\r\n")
             && strstr(r, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n"),
             "LHLO announces what EHLO does: %s", r);
    SEND(&s, "EHLO upstream.test\r\n");
    expect(&s, "500 5.5.1", "EHLO in an LMTP session");
    SEND(&s, "HELO upstream.test\r\n");
    expect(&s, "500 5.5.1", "HELO in an LMTP session");
    SEND(&s, "LHLO\r\n");
    expect(&s, "501 5.5.4 Syntax: LHLO hostname", "LHLO without a name");
    SEND(&s, "LHLO again.test\r\n");
    expect(&s, "250 XFORWARD", "LHLO again");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\nDATA\r\n");
    expect(&s, "250 2.1.0", "LMTP MAIL");
    expect(&s, "503 5.5.1 Error: no valid recipients", "LMTP DATA without RCPT: 503");
    sess_quit(&s, "LHLO");

    sess_open(&s, inspector, "LHLO in SMTP");
    SEND(&s, "LHLO upstream.test\r\n");
    expect(&s, "500 5.5.1", "LHLO in an SMTP session");
    envelope(&s, "SMTP after a refused LHLO");
    SEND(&s, "RSET\r\n");
    expect(&s, "250 2.0.0", "SMTP after a refused LHLO: RSET");
    sess_quit(&s, "LHLO in SMTP");

    UT_EQ_INT(smtpd_state_reply_proto("LHLO", SMTPD_PROTO_NONE, 0, 0, 1, "x", reply), 0,
              "table: LHLO first");
    UT_EQ_INT(smtpd_state_reply_proto("EHLO", SMTPD_PROTO_LMTP, 0, 0, 1, "x", reply), 1,
              "table: EHLO in LMTP");
    UT_EQ_STR(vbuf_str(reply), "500 5.5.1 Error: command not recognized in an LMTP session: EHLO",
              "table: EHLO in LMTP reply");
    UT_EQ_INT(smtpd_state_reply_proto("lhlo", SMTPD_PROTO_SMTP, 0, 0, 1, "x", reply), 1,
              "table: LHLO in SMTP");
    UT_EQ_INT(smtpd_state_reply_proto("DATA", SMTPD_PROTO_LMTP, 1, 0, 1, "", reply), 1,
              "table: LMTP DATA without RCPT");
    UT_EQ_STR(vbuf_str(reply), "503 5.5.1 Error: no valid recipients", "table: 503 in LMTP");
    UT_EQ_INT(smtpd_state_reply_proto("DATA", SMTPD_PROTO_SMTP, 1, 0, 1, "", reply), 1,
              "table: SMTP DATA without RCPT");
    UT_EQ_STR(vbuf_str(reply), "554 5.5.1 Error: no valid recipients", "table: 554 in SMTP");
    vbuf_free(reply);
}

/* test_lmtp_mixed - the downstream refuses one recipient of three: that
 * one gets its refusal after the dot, the others the message's 250 */
static void test_lmtp_mixed(void)
{
    static const char msg[] = "Subject: lmtp\r\n\r\n..dot\r\nhello\r\n.\r\n";
    static const char want[] = "Subject: lmtp\r\n\r\n..dot\r\nhello\r\n.\r\n";
    static const char want_cmds[] = "MAIL FROM:<sender@example.org>\n"
        "RCPT TO:<a@example.net> NOTIFY=FAILURE ORCPT=rfc822;orig+2Ba@example.net\n"
        "RCPT TO:<reject@example.net>\nRCPT TO:<c@example.net>\nDATA\nQUIT\n";
    VBUF   *got = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;
    const char *body, *p;
    size_t  len;

    lmtp_open(&s, "lmtp mixed");
    SEND(&s, "XFORWARD NAME=mail.example.org ADDR=192.0.2.1 IDENT=LMTPQ1\r\n");
    expect(&s, "250 2.0.0", "lmtp mixed: XFORWARD");
    SEND(&s, "MAIL FROM:<sender@example.org>\r\n");
    expect(&s, "250 2.1.0 Ok", "lmtp mixed: MAIL");
    SEND(&s, "RCPT TO:<a@example.net> NOTIFY=FAILURE ORCPT=rfc822;orig+2Ba@example.net\r\n");
    expect(&s, "250 2.1.5 Ok", "lmtp mixed: RCPT a");
    SEND(&s, "RCPT TO:<reject@example.net>\r\n");
    expect(&s, "250 2.1.5 Ok", "lmtp mixed: RCPT reject, answered here");
    SEND(&s, "RCPT TO:<c@example.net>\r\n");
    expect(&s, "250 2.1.5 Ok", "lmtp mixed: RCPT c");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 0, "lmtp mixed: no downstream before the dot");
    rec_free(&rec);
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp mixed: DATA");
    SEND(&s, msg);
    lmtp_replies(&s, 3, got);
    p = vbuf_str(got);
    UT_CHECK(strncmp(p, "250 2.0.0 Ok: queued as QID", 27) == 0, "a: 250: %s", p);
    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "";
    UT_CHECK(strncmp(p, "550 5.1.1 <reject@example.net>: Recipient address rejected", 58) == 0,
             "reject@: its own 550 after the dot: %s", p);
    len = strcspn(vbuf_str(got), "\n");
    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "";
    UT_CHECK(strlen(p) == len + 1 && strncmp(p, vbuf_str(got), len) == 0,
             "c: the same 250 as a: %s", vbuf_str(got));
    sess_quit(&s, "lmtp mixed");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 1, "lmtp mixed: delivered once");
    UT_CHECK(strstr(vbuf_str(rec.cmds), want_cmds) != NULL, "lmtp mixed: downstream: %s",
             vbuf_str(rec.cmds));
    UT_CHECK(strstr(vbuf_str(rec.cmds), "IDENT=LMTPQ1") != NULL, "lmtp mixed: XFORWARD relayed");
    if (rec.ndata == 1) {
        body = body_after_prefix(rec.data[0], &len);
        UT_EQ_MEM(body, len, want, sizeof(want) - 1, "lmtp mixed: the message, byte for byte");
    }
    rec_free(&rec);
    UT_CHECK(log_has("LMTPQ1: to=<reject@example.net>, refused by "), "refusal logged");
    UT_CHECK(log_has("; 1 of 3 recipients refused downstream)"), "log line counts it");
    vbuf_free(got);
}

/* test_lmtp_tempfail - a downstream 451 after DATA, a downstream that is
 * down, every recipient refused */
static void test_lmtp_tempfail(void)
{
    static const char *const three[] = {"a@example.net", "reject@example.net",
        "c@example.net", NULL};
    static const char *const two[] = {"a@example.net", "b@example.net", NULL};
    static const char *const refused[] = {"reject1@example.net", "reject2@example.net", NULL};
    VBUF   *got = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;

    lmtp_open(&s, "lmtp 451");
    lmtp_envelope(&s, three, "lmtp 451");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp 451: DATA");
    SEND(&s, "Subject: x\r\n\r\nTEMPFAIL-ME\r\n.\r\n");
    lmtp_replies(&s, 3, got);
    UT_EQ_STR(vbuf_str(got), "451 4.3.0 Error: queue file write error\r\n"
              "550 5.1.1 <reject@example.net>: Recipient address rejected: User unknown in "
              "virtual mailbox table\r\n451 4.3.0 Error: queue file write error\r\n",
              "lmtp 451: the message's 451 for each, the refusal for its recipient");
    sess_quit(&s, "lmtp 451");

    set("reinject_target=[127.0.0.1]:%d", closed_port());
    lmtp_open(&s, "lmtp down");
    lmtp_envelope(&s, two, "lmtp down");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp down: DATA");
    SEND(&s, "Subject: x\r\n\r\nhello\r\n.\r\n");
    expect(&s, "451 4.", "lmtp down: a");
    expect(&s, "451 4.", "lmtp down: b");
    sess_quit(&s, "lmtp down");
    set("reinject_target=%s", target);

    lmtp_open(&s, "lmtp all refused");
    lmtp_envelope(&s, refused, "lmtp all refused");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp all refused: DATA");
    SEND(&s, "Subject: x\r\n\r\nhello\r\n.\r\n");
    expect(&s, "550 5.1.1", "lmtp all refused: 1");
    expect(&s, "550 5.1.1", "lmtp all refused: 2");
    sess_quit(&s, "lmtp all refused");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "lmtp all refused: no message downstream");
    UT_CHECK(strstr(vbuf_str(rec.cmds), "RCPT TO:<reject2@example.net>\nRSET\n") != NULL,
             "lmtp all refused: RSET, no DATA: %s", vbuf_str(rec.cmds));
    rec_free(&rec);
    UT_CHECK(log_has("status=rejected (550 5.1.1 <reject@example.net>"), "logged rejected");
    vbuf_free(got);
}

/* test_lmtp_verdicts - reject and quarantine: the same reply for every
 * recipient, and the downstream never hears of the message */
static void test_lmtp_verdicts(void)
{
    static const char *const two[] = {"a@example.net", "reject@example.net", NULL};
    SESSION s;
    RECORD  rec;

    set("virus_action=reject");
    lmtp_open(&s, "lmtp reject");
    lmtp_envelope(&s, two, "lmtp reject");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp reject: DATA");
    SEND(&s, eicar_msg);
    expect(&s, "554 5.7.1", "lmtp reject: a");
    expect(&s, "554 5.7.1", "lmtp reject: reject@ too");
    sess_quit(&s, "lmtp reject");
    rec_load(&rec);
    UT_EQ_INT(rec.nconnect, 0, "lmtp reject: the downstream never contacted");
    rec_free(&rec);

    set("virus_action=quarantine");
    lmtp_open(&s, "lmtp quarantine");
    lmtp_envelope(&s, two, "lmtp quarantine");
    SEND(&s, "DATA\r\n");
    expect(&s, "354 ", "lmtp quarantine: DATA");
    SEND(&s, eicar_msg);
    expect(&s, "250 2.0.0 Ok: quarantined as ", "lmtp quarantine: a");
    expect(&s, "250 2.0.0 Ok: quarantined as ", "lmtp quarantine: b");
    sess_quit(&s, "lmtp quarantine");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 0, "lmtp quarantine: nothing downstream");
    rec_free(&rec);
}

/* test_lmtp_pipelined - Postfix's lmtp(8) pipelines: two transactions,
 * each sent in one piece, over one downstream connection */
static void test_lmtp_pipelined(void)
{
    VBUF   *got = vbuf_alloc(0);
    SESSION s;
    RECORD  rec;

    rec_reset();
    sess_start(&s, inspector, NULL);
    expect(&s, "220 test.example", "lmtp pipelined: greeting");
    SEND(&s, "LHLO upstream.test\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.net>\r\n"
         "RCPT TO:<b@example.net>\r\nDATA\r\n");
    expect(&s, "250 XFORWARD", "lmtp pipelined: LHLO");
    lmtp_replies(&s, 4, got);
    UT_EQ_STR(vbuf_str(got), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
              "354 End data with <CR><LF>.<CR><LF>\r\n", "lmtp pipelined: envelope 1");
    SEND(&s, "Subject: one\r\n\r\none\r\n.\r\nMAIL FROM:<s@example.org>\r\n"
         "RCPT TO:<reject@example.net>\r\nRCPT TO:<d@example.net>\r\nDATA\r\n");
    expect(&s, "250 2.0.0 Ok: queued as QID", "lmtp pipelined: message 1, a");
    expect(&s, "250 2.0.0 Ok: queued as QID", "lmtp pipelined: message 1, b");
    lmtp_replies(&s, 4, got);
    UT_EQ_STR(vbuf_str(got), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
              "354 End data with <CR><LF>.<CR><LF>\r\n", "lmtp pipelined: envelope 2");
    SEND(&s, "Subject: two\r\n\r\ntwo\r\n.\r\nQUIT\r\n");
    expect(&s, "550 5.1.1", "lmtp pipelined: message 2, reject@");
    expect(&s, "250 2.0.0 Ok: queued as QID", "lmtp pipelined: message 2, d");
    expect(&s, "221 2.0.0", "lmtp pipelined: QUIT");
    sess_eof(&s, "lmtp pipelined");
    sess_end(&s, "lmtp pipelined");
    rec_load(&rec);
    UT_EQ_INT(rec.ndata, 2, "lmtp pipelined: two messages, once each");
    UT_EQ_INT(rec.nconnect, 1, "lmtp pipelined: one downstream connection");
    UT_EQ_INT(count_str(vbuf_str(rec.cmds), "MAIL FROM"), 2, "lmtp pipelined: two MAILs");
    rec_free(&rec);
    vbuf_free(got);
}

/* test_lmtp - the LMTP tests */
static void test_lmtp(void)
{
    test_lmtp_greeting();
    test_lmtp_mixed();
    test_lmtp_tempfail();
    test_lmtp_verdicts();
    test_lmtp_pipelined();
}

int     main(int argc, char **argv)
{
    VBUF   *err = vbuf_alloc(1024);
    RECORD  rec;
    pid_t   ds_pid;
    int     port, st;

    UT_BEGIN("test_filter_smtpd");
    msg_init("test_filter_smtpd", MSG_STDERR);
    msg_verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    signal(SIGPIPE, SIG_IGN);
    config_init();
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    snprintf(record_path, sizeof(record_path), "%s/record", tmpdir);
    snprintf(log_path, sizeof(log_path), "%s/log", tmpdir);
    snprintf(qdir, sizeof(qdir), "%s/quarantine", tmpdir);
    msg_set_logfile(log_path);
    set("spool_dir=%s/spool", tmpdir);
    set("quarantine_dir=%s", qdir);
    set("myhostname=test.example");
    set("scanner=clamav");
    set("clamav_database_directory=bundled");
    set("smtpd_timeout=20s");
    set("reinject_timeout=20s");
    set("message_size_limit=52428800");
    set("smtpd_listen=127.0.0.1:10025");
    if (mkdir(qdir, 0700) < 0)
        msg_fatal("mkdir %s: %s", qdir, strerror(errno));

    if ((inspector = inspector_open(err)) == NULL)
        msg_fatal("inspector_open: %s", vbuf_str(err));
    ds_pid = ds_start(&port);
    snprintf(target, sizeof(target), "[127.0.0.1]:%d", port);
    set("reinject_target=%s", target);

    test_protocol();
    test_errors();
    test_relay();
    test_long_address();
    test_bytes();
    test_smuggling();
    test_long_line();
    test_virus();
    test_downstream_trouble();
    test_downstream_gone();
    test_upstream_gone();
    test_client_gave_up();
    test_half_close();
    test_session();
    test_no_recipients();
    test_no_scanner();
    test_loop();
    test_oversize();
    test_shutdown();
    test_shutdown_idle();
    test_junk();
    test_junk_reset();
    test_deadline();
    test_xforward_auth();
    test_data_sync();
    test_bdat();
    test_mail_out_of_step();
    test_lmtp();

    kill(ds_pid, SIGKILL);
    waitpid(ds_pid, &st, 0);
    inspector_close(inspector);
    vbuf_free(err);
    rec_load(&rec);
    rec_free(&rec);
    if (!msg_verbose) {
        char    cmd[sizeof(tmpdir) + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            UT_CHECK(0, "cannot remove %s", tmpdir);
    }
    return ut_done();
}
