/*
 * peer - scripted peers in the thread of the code under test (see fuzz.h)
 *
 * poll() and clock_gettime() are wrapped at link time (-Wl,--wrap=poll
 * -Wl,--wrap=clock_gettime; the wrap reaches only our own objects, not
 * GLib or libclamav). Before every poll() the peers get their turn:
 * listeners accept, every connection reads what the code wrote and
 * answers, and a lazy script pair closes its sending side when the code
 * waits on it and there is nothing left to send. A poll() that still
 * finds nothing ready can never be satisfied, since every peer lives in
 * this thread: the monotonic clock jumps by the poll timeout and poll()
 * returns 0, so the code meets its timeout at once, exactly as it would
 * after the real wait.
 *
 * The downstream SMTP server answers like Postfix's reinjection smtpd,
 * with refusals chosen by words in the data (tests/fuzz/README.md lists
 * them), and checks what it gets: no bare CR or LF anywhere (SMTP
 * smuggling), no NUL in a command, only the commands smtpcli sends,
 * well-formed xtext in XFORWARD, ENVID and ORCPT, XFORWARD lines within
 * 512 bytes, every line of the body that starts with a dot stuffed. A
 * broken rule is fuzz_fail(), a crash. It keeps each message it accepts
 * for session.c to compare with what the client sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

#define PEER_KEEP_MAX   (4 * 1024 * 1024)  /* bytes a peer keeps of what it got */
#define PEER_LISTEN_MAX 4
#define SMTP_XF_LINE    510                 /* XFORWARD without CRLF (Postfix: 512) */
#define SMTP_KEEP_BODIES 64                 /* bodies kept per input */

int     __real_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int     __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int     __real_clock_gettime(clockid_t clk, struct timespec *ts);
int     __wrap_clock_gettime(clockid_t clk, struct timespec *ts);

typedef struct PEER {
    int     kind;               /* FUZZ_SMTP, FUZZ_CLAMD, FUZZ_SCRIPT */
    int     id;
    int     fd;                 /* our end, non-blocking; -1 when closed */
    ino_t   code_ino;           /* script pairs: the code's end */
    int     lazy;
    char   *script;             /* FUZZ_SCRIPT: what to send */
    size_t  slen, soff;
    int     shut;               /* our sending side is closed */
    VBUF   *in;                 /* received: unprocessed, or all (scripts) */
    VBUF   *out;                /* to send */
    size_t  ooff;
    int     close_when_sent;
    /* FUZZ_SMTP */
    int     data;               /* reading the body */
    int     rcpts;              /* accepted recipients of this transaction */
    int     mute;               /* never answer again (SLOW-ME) */
    VBUF   *body;               /* the body, un-stuffed, LF line ends */
    /* FUZZ_CLAMD */
    int     cstate;             /* 0 command, 1 chunk length, 2 chunk data */
    size_t  chunk_left;
    struct PEER *next;
} PEER;

typedef struct LISTENER {
    int     kind;
    int     fd;
    char    path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
} LISTENER;

static PEER *peers;
static int peer_next_id = 1;
static LISTENER listeners[PEER_LISTEN_MAX];
static int nlisteners;
static char *listen_script;
static size_t listen_script_len;
static VBUF *smtp_accepted;
static unsigned long smtp_queue_seq;
static VBUF *smtp_bodies[SMTP_KEEP_BODIES];
static char smtp_body_ids[SMTP_KEEP_BODIES][32];
static int smtp_nbodies;
static long long clock_skip_ms;

 /*
  * Buffers.
  */

/* peer_consume - drop the first n bytes of vb */
static void peer_consume(VBUF *vb, size_t n)
{
    if (n >= vbuf_len(vb)) {
        vbuf_reset(vb);
        return;
    }
    memmove(vb->data, vb->data + n, vbuf_len(vb) - n);
    vbuf_truncate(vb, vbuf_len(vb) - n);
}

/* peer_say - queue a reply */
static void peer_say(PEER *p, const char *text)
{
    vbuf_strcat(p->out, text);
}

/* peer_new - a connection of this kind on our end fd */
static PEER *peer_new(int kind, int fd)
{
    PEER   *p = mycalloc(1, sizeof(*p));

    p->kind = kind;
    p->id = peer_next_id++;
    p->fd = fd;
    p->in = vbuf_alloc(PEER_KEEP_MAX);
    p->out = vbuf_alloc(0);
    p->body = vbuf_alloc(PEER_KEEP_MAX);
    p->next = peers;
    peers = p;
    if (kind == FUZZ_SMTP)
        peer_say(p, "220 downstream.fuzz ESMTP Postfix\r\n");
    return p;
}

/* peer_close - close our end (the peer stays until fuzz_peers_reset) */
static void peer_close(PEER *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

 /*
  * The downstream SMTP server.
  */

/* hex_upper - an upper-case hex digit */
static int hex_upper(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* xtext_ok - s[0..len) is RFC 3461 xtext: printable ASCII but '+' and
 * '=', or '+' and two upper-case hex digits */
static int xtext_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            if (i + 2 >= len || !hex_upper(s[i + 1]) || !hex_upper(s[i + 2]))
                return 0;
            i += 2;
        } else if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == '=') {
            return 0;
        }
    }
    return 1;
}

/* smtp_check_xforward - "XFORWARD NAME=xtext ..." within 512 bytes */
static void smtp_check_xforward(const char *line, size_t len)
{
    static const char *const attrs[] = {
        "NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", NULL,
    };
    const char *p = line + 8, *end = line + len, *w, *eq;
    int     i, n = 0;

    if (len > SMTP_XF_LINE)
        fuzz_fail("downstream: XFORWARD line of %zu bytes: %.200s", len, line);
    while (p < end) {
        if (*p++ != ' ')
            fuzz_fail("downstream: XFORWARD syntax: %s", line);
        w = p;
        while (p < end && *p != ' ')
            p++;
        if ((eq = memchr(w, '=', (size_t)(p - w))) == NULL)
            fuzz_fail("downstream: XFORWARD item without '=': %s", line);
        for (i = 0; attrs[i]; i++)
            if (strlen(attrs[i]) == (size_t)(eq - w) && strncmp(w, attrs[i], (size_t)(eq - w)) == 0)
                break;
        if (attrs[i] == NULL)
            fuzz_fail("downstream: XFORWARD attribute not asked for: %s", line);
        if (!xtext_ok(eq + 1, (size_t)(p - eq - 1)))
            fuzz_fail("downstream: XFORWARD value is not xtext: %s", line);
        n++;
    }
    if (n == 0)
        fuzz_fail("downstream: empty XFORWARD");
}

/* smtp_check_path - "FROM:<addr> PARAM..." or "TO:<addr> PARAM...":
 * when the address ends cleanly (the same quoting rules as smtpd), the
 * parameters must be ones smtpcli sends, with well-formed values */
static void smtp_check_path(const char *line, const char *args, int mail)
{
    const char *p = args, *w, *eq, *semi;
    size_t  wlen;
    int     inquote = 0;

    if (*p != '<')
        fuzz_fail("downstream: address without <>: %s", line);
    for (p++; *p; p++) {
        if (inquote && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            inquote = !inquote;
        else if (!inquote && *p == '>')
            break;
    }
    if (*p != '>' || (p[1] != 0 && p[1] != ' '))
        return;                                 /* an odd address: Postfix's problem */
    for (p++; *p; p = w + wlen) {
        p += strspn(p, " ");
        if (*p == 0)
            break;
        w = p;
        wlen = strcspn(w, " ");
        eq = memchr(w, '=', wlen);
        if (mail && wlen == 8 && strncmp(w, "SMTPUTF8", 8) == 0)
            continue;
        if (eq == NULL)
            fuzz_fail("downstream: parameter without a value: %s", line);
#define PARAM_IS(name) ((size_t)(eq - w) == strlen(name) && strncmp(w, name, strlen(name)) == 0)
        if (mail && PARAM_IS("SIZE")) {
            if (strspn(eq + 1, "0123456789") != (size_t)(w + wlen - eq - 1) || w + wlen == eq + 1)
                fuzz_fail("downstream: bad SIZE: %s", line);
        } else if (mail && (PARAM_IS("BODY") || PARAM_IS("RET"))) {
            if (w + wlen == eq + 1)
                fuzz_fail("downstream: empty BODY or RET: %s", line);
        } else if (mail && PARAM_IS("ENVID")) {
            if (!xtext_ok(eq + 1, (size_t)(w + wlen - eq - 1)))
                fuzz_fail("downstream: ENVID is not xtext: %s", line);
        } else if (!mail && PARAM_IS("NOTIFY")) {
            if (w + wlen == eq + 1)
                fuzz_fail("downstream: empty NOTIFY: %s", line);
        } else if (!mail && PARAM_IS("ORCPT")) {
            semi = memchr(eq + 1, ';', (size_t)(w + wlen - eq - 1));
            if (semi == NULL || semi == eq + 1 || !xtext_ok(semi + 1, (size_t)(w + wlen - semi - 1)))
                fuzz_fail("downstream: ORCPT is not type;xtext: %s", line);
        } else {
            fuzz_fail("downstream: unexpected parameter: %s", line);
        }
#undef PARAM_IS
    }
}

/* smtp_end_of_data - the whole body is in: answer it */
static void smtp_end_of_data(PEER *p)
{
    const char *b = vbuf_str(p->body);
    char    id[32], reply[128];

    p->data = 0;
    p->rcpts = 0;
    if (strstr(b, "DROP-ME") != NULL) {
        peer_close(p);                  /* gone without a word */
    } else if (strstr(b, "SLOW-ME") != NULL) {
        p->mute = 1;                    /* never answers: the client times out */
    } else if (strstr(b, "TEMPFAIL-ME") != NULL) {
        peer_say(p, "451 4.3.0 Error: queue file write error\r\n");
    } else if (strstr(b, "REJECT-ME") != NULL) {
        peer_say(p, "554 5.7.1 Error: content rejected by the downstream\r\n");
    } else {
        snprintf(id, sizeof(id), "FZ%lu", ++smtp_queue_seq);
        if (vbuf_len(smtp_accepted))
            vbuf_addch(smtp_accepted, ' ');
        vbuf_strcat(smtp_accepted, id);
        snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as %s\r\n", id);
        peer_say(p, reply);
        if (smtp_nbodies < SMTP_KEEP_BODIES) {
            smtp_bodies[smtp_nbodies] = vbuf_alloc(PEER_KEEP_MAX);
            vbuf_append(smtp_bodies[smtp_nbodies], vbuf_str(p->body), vbuf_len(p->body));
            snprintf(smtp_body_ids[smtp_nbodies++], sizeof(smtp_body_ids[0]), "%s", id);
        }
        if (strstr(b, "CLOSE-AFTER") != NULL) {
            peer_say(p, "421 4.4.2 downstream.fuzz Error: timeout exceeded\r\n");
            p->close_when_sent = 1;
        }
    }
    vbuf_reset(p->body);
}

/* smtp_body_line - one line of the body, without its CRLF */
static void smtp_body_line(PEER *p, const char *line, size_t len)
{
    if (len == 1 && line[0] == '.') {
        smtp_end_of_data(p);
        return;
    }
    if (len > 0 && line[0] == '.') {
        if (len < 2 || line[1] != '.')
            fuzz_fail("downstream: a body line starts with an unstuffed dot: %.200s", line);
        line++;
        len--;
    }
    vbuf_append(p->body, line, len);
    vbuf_addch(p->body, '\n');
}

/* smtp_command - one command line, without its CRLF */
static void smtp_command(PEER *p, char *line, size_t len)
{
    char    reply[SMTP_XF_LINE + 200];
    const char *args;

#define VERB(v) (strncasecmp(line, v, strlen(v)) == 0 \
                 && (line[strlen(v)] == 0 || line[strlen(v)] == ' ' || line[strlen(v)] == ':'))
    if (VERB("EHLO") || VERB("LHLO")) {
        peer_say(p, "250-downstream.fuzz\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                 "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
                 "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n");
    } else if (VERB("HELO") || VERB("NOOP")) {
        peer_say(p, "250 2.0.0 Ok\r\n");
    } else if (VERB("RSET")) {
        p->rcpts = 0;
        peer_say(p, "250 2.0.0 Ok\r\n");
    } else if (VERB("XFORWARD")) {
        smtp_check_xforward(line, len);
        peer_say(p, "250 2.0.0 Ok\r\n");
    } else if (VERB("MAIL")) {
        if (strncasecmp(line, "MAIL FROM:", 10) != 0)
            fuzz_fail("downstream: MAIL syntax: %s", line);
        args = line + 10;
        smtp_check_path(line, args, 1);
        p->rcpts = 0;
        if (strstr(args, "ds-mail-reject") != NULL) {
            snprintf(reply, sizeof(reply), "553 5.7.1 %.300s: Sender address rejected: "
                     "Access denied\r\n", args);
            peer_say(p, reply);
        } else if (strstr(args, "ds-mail-defer") != NULL) {
            peer_say(p, "451 4.3.0 Error: try again later\r\n");
        } else if (strstr(args, "ds-421") != NULL) {
            peer_say(p, "421 4.3.0 downstream.fuzz Error: closing\r\n");
            p->close_when_sent = 1;
        } else {
            peer_say(p, "250 2.1.0 Ok\r\n");
        }
    } else if (VERB("RCPT")) {
        if (strncasecmp(line, "RCPT TO:", 8) != 0)
            fuzz_fail("downstream: RCPT syntax: %s", line);
        args = line + 8;
        smtp_check_path(line, args, 0);
        if (strstr(args, "reject") != NULL) {
            /* the address goes back in the text, as Postfix does */
            snprintf(reply, sizeof(reply), "550 5.1.1 %.300s: Recipient address rejected: "
                     "User unknown in virtual mailbox table\r\n", args);
            peer_say(p, reply);
        } else if (strstr(args, "defer") != NULL) {
            snprintf(reply, sizeof(reply), "450 4.2.0 %.300s: Recipient address rejected: "
                     "Greylisted\r\n", args);
            peer_say(p, reply);
        } else if (strstr(args, "ds-421") != NULL) {
            peer_say(p, "421 4.3.0 downstream.fuzz Error: closing\r\n");
            p->close_when_sent = 1;
        } else if (strstr(args, "ds-multi") != NULL) {
            p->rcpts++;
            peer_say(p, "250-2.1.5 Ok\r\n250-second line \001\377 of the reply\r\n250 2.1.5 end\r\n");
        } else if (strstr(args, "ds-garbage") != NULL) {
            peer_say(p, "2x0 what\r\n");
        } else if (strstr(args, "ds-drop") != NULL) {
            peer_close(p);
        } else {
            p->rcpts++;
            peer_say(p, "250 2.1.5 Ok\r\n");
        }
    } else if (VERB("DATA")) {
        if (line[4] != 0)
            fuzz_fail("downstream: DATA with arguments: %s", line);
        if (p->rcpts == 0) {
            peer_say(p, "554 5.5.1 Error: no valid recipients\r\n");
        } else {
            p->data = 1;
            vbuf_reset(p->body);
            peer_say(p, "354 End data with <CR><LF>.<CR><LF>\r\n");
        }
    } else if (VERB("QUIT")) {
        peer_say(p, "221 2.0.0 Bye\r\n");
        p->close_when_sent = 1;
    } else {
        fuzz_fail("downstream: a command smtpcli never sends: %.200s", line);
    }
#undef VERB
}

/* smtp_process - handle every complete line received */
static void smtp_process(PEER *p)
{
    char   *nl, *line, *cr;
    size_t  len;

    while (p->fd >= 0 && !p->mute && !p->close_when_sent) {
        if ((nl = memchr(p->in->data, '\n', vbuf_len(p->in))) == NULL)
            return;
        line = p->in->data;
        len = (size_t)(nl - line);
        if (len == 0 || line[len - 1] != '\r')
            fuzz_fail("downstream: bare LF (%s): %.200s", p->data ? "body" : "command", line);
        len--;
        if ((cr = memchr(line, '\r', len)) != NULL)
            fuzz_fail("downstream: bare CR (%s): %.200s", p->data ? "body" : "command", line);
        line[len] = 0;
        if (p->data) {
            smtp_body_line(p, line, len);
        } else {
            if (strlen(line) != len)
                fuzz_fail("downstream: NUL in a command: %.200s", line);
            smtp_command(p, line, len);
        }
        peer_consume(p->in, len + 2);
    }
}

 /*
  * The clamd.
  */

/* clamd_verdict - the INSTREAM reply for what was sent */
static void clamd_verdict(PEER *p)
{
    const char *b = vbuf_str(p->body);
    size_t  n = vbuf_len(p->body);

    if (memmem(b, n, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", 34) != NULL)
        peer_say(p, "stream: Eicar-Test-Signature FOUND");
    else if (memmem(b, n, "FUZZ-CLAMD-ENCRYPTED", 20) != NULL)
        peer_say(p, "stream: Heuristics.Encrypted.Zip FOUND");
    else if (memmem(b, n, "FUZZ-CLAMD-ERROR", 16) != NULL)
        peer_say(p, "stream: Can't allocate memory ERROR");
    else if (memmem(b, n, "FUZZ-CLAMD-SIZE", 15) != NULL)
        peer_say(p, "INSTREAM size limit exceeded. ERROR");
    else
        peer_say(p, "stream: OK");
    vbuf_addch(p->out, 0);
    p->close_when_sent = 1;
}

/* clamd_process - commands and INSTREAM chunks */
static void clamd_process(PEER *p)
{
    const unsigned char *u;
    char   *nul;
    size_t  n;

    while (p->fd >= 0 && !p->close_when_sent) {
        if (p->cstate == 0) {
            if ((nul = memchr(p->in->data, 0, vbuf_len(p->in))) == NULL)
                return;
            if (strcmp(p->in->data, "zVERSION") == 0) {
                peer_say(p, "ClamAV 1.4.6/27000/Thu Jan  1 00:00:00 2026");
                vbuf_addch(p->out, 0);
                p->close_when_sent = 1;
            } else if (strcmp(p->in->data, "zINSTREAM") == 0) {
                p->cstate = 1;
                vbuf_reset(p->body);
            } else {
                fuzz_fail("clamd: unexpected command %.100s", p->in->data);
            }
            peer_consume(p->in, (size_t)(nul - p->in->data) + 1);
        } else if (p->cstate == 1) {
            if (vbuf_len(p->in) < 4)
                return;
            u = (const unsigned char *)p->in->data;
            p->chunk_left = ((size_t)u[0] << 24) | ((size_t)u[1] << 16) | ((size_t)u[2] << 8) | u[3];
            peer_consume(p->in, 4);
            if (p->chunk_left == 0)
                clamd_verdict(p);
            else
                p->cstate = 2;
        } else {
            n = vbuf_len(p->in) < p->chunk_left ? vbuf_len(p->in) : p->chunk_left;
            if (n == 0)
                return;
            vbuf_append(p->body, p->in->data, n);
            peer_consume(p->in, n);
            if ((p->chunk_left -= n) == 0)
                p->cstate = 1;
        }
    }
}

 /*
  * Servicing: the peers' turn.
  */

/* peer_send - send what is queued; 1 when something went */
static int peer_send(PEER *p)
{
    const char *buf;
    size_t  len, *off;
    ssize_t n;
    int     moved = 0;

    if (p->kind == FUZZ_SCRIPT) {
        buf = p->script;
        len = p->slen;
        off = &p->soff;
    } else {
        buf = p->out->data;
        len = vbuf_len(p->out);
        off = &p->ooff;
    }
    while (p->fd >= 0 && *off < len) {
        n = send(p->fd, buf + *off, len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            *off += (size_t)n;
            moved = 1;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return moved;
        } else {
            peer_close(p);              /* the code has gone */
            return 1;
        }
    }
    if (p->kind != FUZZ_SCRIPT && p->ooff > 0 && p->ooff == vbuf_len(p->out)) {
        vbuf_reset(p->out);
        p->ooff = 0;
    }
    if (p->fd >= 0 && p->kind == FUZZ_SCRIPT && !p->lazy && !p->shut) {
        (void)shutdown(p->fd, SHUT_WR);
        p->shut = 1;
        moved = 1;
    }
    if (p->fd >= 0 && p->close_when_sent && vbuf_len(p->out) == 0) {
        peer_close(p);
        moved = 1;
    }
    return moved;
}

/* peer_receive - read what the code wrote and act on it; 1 when
 * something came */
static int peer_receive(PEER *p)
{
    char    buf[16384];
    ssize_t n;
    int     moved = 0;

    while (p->fd >= 0) {
        n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            /* the code closed its side (or reset it): we are done */
            peer_close(p);
            return 1;
        }
        moved = 1;
        if (p->kind == FUZZ_SCRIPT) {
            (void)vbuf_append(p->in, buf, (size_t)n);   /* kept up to the cap */
            continue;
        }
        if (p->mute)
            continue;
        if (vbuf_append(p->in, buf, (size_t)n) < 0)
            fuzz_fail("peer: more than %d bytes without a line end", PEER_KEEP_MAX);
        if (p->kind == FUZZ_SMTP)
            smtp_process(p);
        else
            clamd_process(p);
        (void)peer_send(p);
    }
    return moved;
}

/* peer_accept - new connections on the listeners */
static int peer_accept(void)
{
    PEER   *p;
    int     i, fd, moved = 0;

    for (i = 0; i < nlisteners; i++) {
        while ((fd = accept4(listeners[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            p = peer_new(listeners[i].kind, fd);
            if (p->kind == FUZZ_SCRIPT) {
                p->script = mymalloc(listen_script_len + 1);
                if (listen_script_len)
                    memcpy(p->script, listen_script, listen_script_len);
                p->slen = listen_script_len;
            }
            moved = 1;
        }
    }
    return moved;
}

/* peer_service - everyone's turn until nobody moves */
static void peer_service(void)
{
    PEER   *p;
    int     moved, rounds = 0;

    do {
        moved = peer_accept();
        for (p = peers; p; p = p->next) {
            if (p->fd < 0)
                continue;
            moved |= peer_send(p);
            moved |= peer_receive(p);
        }
        if (++rounds > 100000)
            fuzz_fail("peers: no end to the traffic");
    } while (moved);
}

/* peer_wake - the code waits for input on a lazy script pair that has
 * nothing more to send: close our sending side (the client is done) */
static int peer_wake(const struct pollfd *fds, nfds_t nfds)
{
    struct stat st;
    PEER   *p;
    nfds_t  i;
    int     woke = 0;

    for (i = 0; i < nfds; i++) {
        if (!(fds[i].events & POLLIN) || fstat(fds[i].fd, &st) < 0)
            continue;
        for (p = peers; p; p = p->next) {
            if (p->kind == FUZZ_SCRIPT && p->lazy && p->fd >= 0 && !p->shut
                && p->soff == p->slen && p->code_ino == st.st_ino) {
                (void)shutdown(p->fd, SHUT_WR);
                p->shut = 1;
                woke = 1;
            }
        }
    }
    return woke;
}

/* __wrap_poll - the peers' turn, then poll without waiting */
int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    int     n;

    if (peers == NULL && nlisteners == 0)
        return __real_poll(fds, nfds, timeout);
    peer_service();
    if ((n = __real_poll(fds, nfds, 0)) != 0 || timeout == 0)
        return n;
    if (peer_wake(fds, nfds)) {
        peer_service();
        if ((n = __real_poll(fds, nfds, 0)) != 0)
            return n;
    }
    /* Nothing can ever arrive: let the time pass at once. */
    if (timeout < 0)
        fuzz_fail("poll() without a timeout would wait forever");
    clock_skip_ms += timeout;
    return 0;
}

/* __wrap_clock_gettime - the monotonic clocks run ahead by the skipped time */
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
    int     ret = __real_clock_gettime(clk, ts);

    if (ret == 0 && clock_skip_ms > 0 && (clk == CLOCK_MONOTONIC || clk == CLOCK_MONOTONIC_RAW
                                          || clk == CLOCK_MONOTONIC_COARSE
                                          || clk == CLOCK_BOOTTIME)) {
        ts->tv_sec += clock_skip_ms / 1000;
        ts->tv_nsec += (clock_skip_ms % 1000) * 1000000;
        if (ts->tv_nsec >= 1000000000) {
            ts->tv_sec++;
            ts->tv_nsec -= 1000000000;
        }
    }
    return ret;
}

 /*
  * The interface.
  */

/* fuzz_script_pair - a socket pair with a script on our end */
int fuzz_script_pair(const void *data, size_t len, int lazy, int *code_fd)
{
    struct stat st;
    PEER   *p;
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        fuzz_fail("socketpair: %s", strerror(errno));
    if (fstat(sv[1], &st) < 0)
        fuzz_fail("fstat: %s", strerror(errno));
    if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) < 0)
        fuzz_fail("O_NONBLOCK: %s", strerror(errno));
    p = peer_new(FUZZ_SCRIPT, sv[0]);
    p->script = mymalloc(len + 1);
    if (len)
        memcpy(p->script, data, len);
    p->slen = len;
    p->lazy = lazy;
    p->code_ino = st.st_ino;
    (void)peer_send(p);
    *code_fd = sv[1];
    return p->id;
}

/* fuzz_script_received - what the code wrote to script peer id */
const char *fuzz_script_received(int id, size_t *len)
{
    PEER   *p;

    for (p = peers; p; p = p->next) {
        if (p->id == id) {
            (void)peer_receive(p);
            *len = vbuf_len(p->in);
            return vbuf_str(p->in);
        }
    }
    *len = 0;
    return "";
}

/* listeners_close - at exit */
static void listeners_close(void)
{
    int     i;

    fuzz_peers_reset();
    for (i = 0; i < nlisteners; i++) {
        close(listeners[i].fd);
        (void)unlink(listeners[i].path);
    }
    nlisteners = 0;
    myfree(listen_script);
    listen_script = NULL;
    vbuf_free(smtp_accepted);
    smtp_accepted = NULL;
}

/* fuzz_listen - a served unix socket in the work directory */
const char *fuzz_listen(int kind, const char *name)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    LISTENER *l;
    char    path[4096];

    if (nlisteners == PEER_LISTEN_MAX)
        fuzz_fail("too many listeners");
    fuzz_path(path, sizeof(path), name);
    if (strlen(path) >= sizeof(sun.sun_path))
        fuzz_fail("socket path too long: %s (set POSTSIFT_FUZZ_TMPDIR to a short path)", path);
    if (nlisteners == 0) {
        fuzz_at_exit(listeners_close);
        smtp_accepted = vbuf_alloc(0);
    }
    l = listeners + nlisteners;
    snprintf(l->path, sizeof(l->path), "%s", path);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0
        || bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(l->fd, 64) < 0)
        fuzz_fail("listen on %s: %s", path, strerror(errno));
    l->kind = kind;
    nlisteners++;
    return l->path;
}

/* fuzz_listen_script - what the next FUZZ_SCRIPT connection sends */
void fuzz_listen_script(const void *data, size_t len)
{
    myfree(listen_script);
    listen_script = mymalloc(len + 1);
    if (len)
        memcpy(listen_script, data, len);
    listen_script_len = len;
}

/* fuzz_smtp_accepted - queue ids the downstream gave out since the reset */
const char *fuzz_smtp_accepted(void)
{
    return smtp_accepted ? vbuf_str(smtp_accepted) : "";
}

/* fuzz_smtp_body - the body of the message the downstream accepted as id */
const VBUF *fuzz_smtp_body(const char *id)
{
    int     i;

    for (i = 0; i < smtp_nbodies; i++)
        if (strcmp(smtp_body_ids[i], id) == 0)
            return smtp_bodies[i];
    return NULL;
}

/* fuzz_peers_reset - close and forget every connection */
void fuzz_peers_reset(void)
{
    PEER   *p;

    while ((p = peers) != NULL) {
        peers = p->next;
        peer_close(p);
        myfree(p->script);
        vbuf_free(p->in);
        vbuf_free(p->out);
        vbuf_free(p->body);
        myfree(p);
    }
    if (smtp_accepted)
        vbuf_reset(smtp_accepted);
    while (smtp_nbodies > 0)
        vbuf_free(smtp_bodies[--smtp_nbodies]);
}

/* fuzz_clock_skipped - how far the clock has jumped */
long long fuzz_clock_skipped(void)
{
    return clock_skip_ms;
}
