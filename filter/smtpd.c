/*
 * smtpd - postsift-filter's SMTP server side (see smtpd.h)
 *
 * A table-driven command loop over a small input buffer of our own, so
 * that the DATA reader can stop exactly at the end of the message and
 * leave pipelined commands that follow it in place. MAIL and RCPT are
 * relayed to the downstream in lock-step (smtpcli), so the real Postfix
 * answers for recipients; DATA is read by a state machine that accepts
 * only <CRLF>.<CRLF> as the end, turns every line end (CRLF, bare CR,
 * bare LF) into LF and removes the dot-stuffing, writing the spool file
 * in the same form pipe(8) gives pipe mode. decide_message() then says
 * what to do, as in pipe mode; pass and tag stream the spool to the
 * downstream and return its final reply. Our own failures are always
 * 4xx: mail is never refused or lost because of us.
 *
 * LMTP (RFC 2033) on the same engine: LHLO makes the session an LMTP
 * session (EHLO and HELO are then unknown, as LHLO is in an SMTP
 * session: the command table says so). MAIL and RCPT are answered here
 * (cmd_mail_local, cmd_rcpt_local); after the verdict, pass and tag run
 * the whole transaction downstream (smtpd_lmtp_hand_over: MAIL, each
 * RCPT, DATA, by SMTP) and the final dot gets one reply per accepted
 * recipient, in RCPT order: the downstream's refusal of that recipient,
 * or its reply to the message. Every other outcome is the same reply
 * for each recipient (smtpd_final_reply).
 *
 * Bounds on the client, in Postfix's spirit: smtpd_junk_command_limit
 * (NOOP, RSET and the like), SMTPD_ERROR_MAX errors, a session deadline,
 * XFORWARD only from smtpd_authorized_xforward_hosts (the socket's own
 * peer address), BDAT chunks and input behind a refused DATA never read
 * as commands.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "filter/counters.h"
#include "filter/outcome.h"
#include "filter/smtpd.h"
#include "scan/decide.h"
#include "scan/logline.h"
#include "lib/clock.h"
#include "lib/hostport.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/smtpcode.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "lib/xtext.h"
#include "lib/quarantine.h"
#include "smtpcli/smtpcli.h"

volatile sig_atomic_t smtpd_shutdown;

#define SMTPD_LINE_MAX      2048        /* command line bound, CRLF excluded */
#define SMTPD_IBUF          16384       /* our input buffer */
#define SMTPD_OBUF          65536       /* spool write buffer */
#define SMTPD_ERROR_MAX     20          /* protocol errors per session */
#define SMTPD_RCPT_MAX      1000        /* accepted recipients per message */
#define SMTPD_ADDR_MAX      SMTPD_LINE_MAX  /* envelope address: whatever fits
                                         * a command line, as in Postfix */
#define SMTPD_XF_MAX        255         /* XFORWARD value (Postfix's bound) */
#define SMTPD_ENVID_MAX     100         /* RFC 3461 */
#define SMTPD_ORCPT_MAX     500         /* RFC 3461 */
#define SMTPD_TEXT_MAX      300         /* message details in our replies */
#define SMTPD_REPLY_CAP     (SMTP_LINE_MAX * (SMTP_REPLY_MAX + 1))
#define SMTPD_PRINTABLE(buf, s, max) \
    printable_copy((buf), sizeof(buf), (s), (max), PRINTABLE_ASCII)
                                        /* s as one printable ASCII line of
                                         * at most max bytes, in buf */
#define SMTPD_QUIT_GRACE    2           /* seconds: a close this soon after the
                                         * dot, behind a QUIT, is no give-up */

 /*
  * XFORWARD attributes, in smtpcli's order.
  */
enum { XF_NAME, XF_ADDR, XF_PORT, XF_PROTO, XF_HELO, XF_IDENT, XF_SOURCE, XF_COUNT };
static const char *const xf_names[XF_COUNT] = {
    "NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

static const char *const smtpd_proto_names[] = {
    "none", "SMTP", "LMTP",
};

typedef struct SMTPD_RCPT {
    char   *addr;
    char   *notify;             /* NULL or upper case list */
    char   *orcpt;              /* NULL or "type;decoded value" */
} SMTPD_RCPT;

/* What the ESMTP parameters of one MAIL or RCPT command say (a
 * temporary until the command succeeds; the transaction's MAIL part
 * after that) */
typedef struct SMTPD_PARAMS {
    long long size;             /* MAIL SIZE=, 0 if none */
    char   *body;               /* MAIL BODY=, upper case */
    int     smtputf8;           /* MAIL SMTPUTF8 */
    char   *ret;                /* MAIL RET=, upper case */
    char   *envid;              /* MAIL ENVID=, xtext-decoded */
    char   *notify;             /* RCPT NOTIFY=, upper case */
    char   *orcpt;              /* RCPT ORCPT=, "type;decoded value" */
} SMTPD_PARAMS;

typedef struct SMTPD_STATE {
    NETIO  *io;
    const SMTPD_PEER *peer;
    INSPECTOR *in;
    const char *open_err;
    char    ibuf[SMTPD_IBUF];   /* unread input is ibuf[ioff..ilen) */
    size_t  ioff, ilen;
    VBUF   *line;               /* the command line */
    VBUF   *out;                /* one reply being built */
    int     errors;             /* protocol errors so far */
    int     junk;               /* commands that did no work (NOOP, RSET...) */
    int     helos;              /* HELO and EHLO commands so far */
    SMTPD_PROTO proto;          /* SMTP or LMTP, from the first greeting */
    int     xforward_ok;        /* the client may send XFORWARD */
    struct timespec start;      /* of the session, for its deadline */
    int     quit;               /* end the session after this command */
    const char *where;          /* the last command, for logs */
    char   *helo;
    char   *xf[XF_COUNT];       /* NULL: not given; "": [UNAVAILABLE] */
    /* the transaction */
    int     in_mail;
    char   *sender;
    SMTPD_PARAMS mail;          /* MAIL's parameters */
    SMTPD_RCPT *rcpt;           /* the accepted recipients */
    int     nrcpt, rcpt_alloc;
    int     tx_lost;            /* the downstream went away mid-transaction */
    struct timespec mail_time;
    struct timespec dot_time;   /* the client's final dot */
    int     eof_at_dot;         /* the client had closed its side by then */
    /* the downstream */
    SMTPCLI *cli;
    int     loop;               /* -1 unknown, 0 no, 1 reinject_target is us */
} SMTPD_STATE;

 /*
  * Small helpers.
  */

/* smtpd_elapsed - seconds since t */
static double smtpd_elapsed(const struct timespec *t)
{
    return (double)clock_ms_since(*t) / 1000.0;
}

/* smtpd_hostname - our name for the greeting and replies */
static const char *smtpd_hostname(void)
{
    return var_myhostname && *var_myhostname ? var_myhostname : "localhost";
}

/* smtpd_replace - free *dst, store a copy of s (or NULL) */
static void smtpd_replace(char **dst, const char *s)
{
    myfree(*dst);
    *dst = s ? mystrdup(s) : NULL;
}

/* smtpd_has_ctl - any control character (or DEL) */
static int smtpd_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

 /*
  * Who may send XFORWARD: smtpd_authorized_xforward_hosts.
  */

typedef struct SMTPD_IP {
    int     family;             /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
} SMTPD_IP;

/* smtpd_ip_parse - a numeric address (IPv6 perhaps in brackets; an
 * IPv4-mapped IPv6 address becomes IPv4); -1 when it is none */
static int smtpd_ip_parse(const char *text, size_t len, SMTPD_IP *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char    buf[INET6_ADDRSTRLEN + 8];

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, buf, ip->bytes) == 1) {
        ip->family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, ip->bytes) == 1) {
        ip->family = AF_INET6;
        if (memcmp(ip->bytes, mapped, sizeof(mapped)) == 0) {
            memmove(ip->bytes, ip->bytes + 12, 4);
            memset(ip->bytes + 4, 0, 12);
            ip->family = AF_INET;
        }
    } else {
        return -1;
    }
    return 0;
}

/* smtpd_host_match - addr matches an entry of list; warn: log the
 * entries that are not addresses or networks */
static int smtpd_host_match(const char *list, const char *addr, int warn)
{
    SMTPD_IP want, net;
    const char *p = list ? list : "", *slash;
    size_t  len, alen;
    long    bits;
    int     full, i, match = 0;
    char    entry[80];

    alen = strcspn(addr, "%");          /* no IPv6 scope */
    if (smtpd_ip_parse(addr, alen, &want) < 0)
        return 0;
    for (; *p && !match; p += len) {
        p += strspn(p, ", \t\r\n");
        if ((len = strcspn(p, ", \t\r\n")) == 0)
            break;
        slash = memchr(p, '/', len);
        bits = -1;
        if (slash) {
            char   *e;

            errno = 0;
            bits = strtol(slash + 1, &e, 10);
            if (e != p + len || e == slash + 1 || !isdigit((unsigned char)slash[1]) || errno)
                bits = -2;
        }
        if (bits == -2 || smtpd_ip_parse(p, slash ? (size_t)(slash - p) : len, &net) < 0
            || bits > (net.family == AF_INET ? 32 : 128)) {
            if (warn)
                msg_warn("smtpd_authorized_xforward_hosts: ignoring \"%s\": not a numeric "
                         "address or network", SMTPD_PRINTABLE(entry, p, len < 64 ? len : 64));
            continue;
        }
        if (net.family != want.family)
            continue;
        if (bits < 0)
            bits = net.family == AF_INET ? 32 : 128;
        full = (int)bits / 8;
        if (memcmp(want.bytes, net.bytes, (size_t)full) != 0)
            continue;
        i = (int)bits % 8;
        if (i && ((want.bytes[full] ^ net.bytes[full]) & (0xff << (8 - i)) & 0xff))
            continue;
        match = 1;
    }
    return match;
}

/* smtpd_host_listed - addr matches an entry of list */
int smtpd_host_listed(const char *list, const char *addr)
{
    return smtpd_host_match(list, addr, 1);
}

/* smtpd_xforward_authorized - the client on fd may send XFORWARD: the
 * address of a TCP client; a UNIX-domain client, or input that is not a
 * socket, counts as the loopback address (as Postfix counts it) */
static int smtpd_xforward_authorized(int fd)
{
    const char *list = var_smtpd_authorized_xforward_hosts;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    host[NI_MAXHOST];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        if (errno != ENOTSOCK) {
            msg_warn("smtpd: getsockname: %s: XFORWARD refused", strerror(errno));
            return 0;
        }
        ss.ss_family = AF_UNIX;
    }
    if (ss.ss_family == AF_UNIX)
        return smtpd_host_match(list, "127.0.0.1", 1) || smtpd_host_match(list, "::1", 0);
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
        return 0;
    len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0
        || getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL, 0,
                       NI_NUMERICHOST) != 0)
        return 0;                       /* gone already, or no address */
    return smtpd_host_listed(list, host);
}

 /*
  * Replies to the client. They are buffered and flushed when the client
  * has nothing more pipelined for us (smtpd_read_line) or when it must
  * see them before it goes on (354).
  */

/* smtpd_vreply - one reply line, CRLF added */
static void smtpd_vreply(SMTPD_STATE *st, const char *fmt, va_list ap)
{
    vbuf_reset(st->out);
    if (vbuf_vsprintf_append(st->out, fmt, ap) < 0)
        vbuf_strcpy(st->out, "451 4.3.0 Error: reply too long");
    vbuf_strcat(st->out, "\r\n");
    if (netio_write(st->io, vbuf_str(st->out), vbuf_len(st->out)) < 0)
        st->quit = 1;
}

/* smtpd_reply - one reply line */
static void smtpd_reply(SMTPD_STATE *st, const char *fmt, ...) PS_PRINTF(2, 3);

static void smtpd_reply(SMTPD_STATE *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    smtpd_vreply(st, fmt, ap);
    va_end(ap);
}

/* smtpd_error - a protocol error reply: counts toward SMTPD_ERROR_MAX */
static void smtpd_error(SMTPD_STATE *st, const char *fmt, ...) PS_PRINTF(2, 3);

static void smtpd_error(SMTPD_STATE *st, const char *fmt, ...)
{
    va_list ap;

    st->errors++;
    va_start(ap, fmt);
    smtpd_vreply(st, fmt, ap);
    va_end(ap);
}

/* smtpd_final_replies - how many replies the end of data gets: one per
 * accepted recipient in LMTP (RFC 2033 4.2), else one */
static int smtpd_final_replies(const SMTPD_STATE *st)
{
    return st->proto == SMTPD_PROTO_LMTP ? st->nrcpt : 1;
}

/* smtpd_final_reply - the reply to the end of data (or to what stands
 * for it), one line: once, or in LMTP once for each recipient */
static void smtpd_final_reply(SMTPD_STATE *st, const char *fmt, ...) PS_PRINTF(2, 3);

static void smtpd_final_reply(SMTPD_STATE *st, const char *fmt, ...)
{
    VBUF   *line = vbuf_alloc(SMTP_LINE_MAX);
    va_list ap;
    int     i, n = smtpd_final_replies(st);

    va_start(ap, fmt);
    if (vbuf_vsprintf_append(line, fmt, ap) < 0)
        vbuf_strcpy(line, "451 4.3.0 Error: reply too long");
    va_end(ap);
    for (i = 0; i < n; i++)
        smtpd_reply(st, "%s", vbuf_str(line));
    vbuf_free(line);
}

/* smtpd_junk - a command that did no work (NOOP, RSET, ...): past
 * smtpd_junk_command_limit of them, each one is an error too, as in
 * Postfix; the count starts again after each completed transaction */
static void smtpd_junk(SMTPD_STATE *st)
{
    if (++st->junk > var_smtpd_junk_command_limit)
        st->errors++;
}

/* smtpd_time_left - whole seconds (rounded up) before the session
 * deadline, 0 when it has passed */
static int smtpd_time_left(const SMTPD_STATE *st)
{
    double  left = (double)var_smtpd_session_deadline - smtpd_elapsed(&st->start);

    if (left <= 0)
        return 0;
    if (left >= INT_MAX)
        return INT_MAX;
    return (int)left + (left > (int)left);
}

/* smtpd_flush - send the buffered replies */
static int smtpd_flush(SMTPD_STATE *st)
{
    if (netio_flush(st->io) < 0) {
        st->quit = 1;
        return -1;
    }
    return 0;
}

/* smtpd_relay_reply - the downstream's reply, with code (the reply's own,
 * or a 4xx of ours in its place), every line made printable and given an
 * enhanced status code of the right class when it lacks one */
static void smtpd_relay_reply(SMTPD_STATE *st, const SMTP_REPLY *r, int code)
{
    const char *p = vbuf_str(r->text), *nl;
    char    line[SMTP_LINE_MAX + 1];
    char    dsn[16];
    size_t  len;
    int     cls = code / 100;

    if (r->dsn[0] == '0' + cls)
        snprintf(dsn, sizeof(dsn), "%s", r->dsn);
    else
        snprintf(dsn, sizeof(dsn), "%d.0.0", cls);
    do {
        nl = strchr(p, '\n');
        len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > SMTP_LINE_MAX - 20)
            len = SMTP_LINE_MAX - 20;
        memcpy(line, p, len);
        line[len] = 0;
        SMTPD_PRINTABLE(line, line, sizeof(line) - 1);
        if (smtpcode_dsn_len(line, cls))
            smtpd_reply(st, "%03d%c%s", code, nl ? '-' : ' ', line);
        else
            smtpd_reply(st, "%03d%c%s%s%s", code, nl ? '-' : ' ', dsn, *line ? " " : "", line);
        p = nl ? nl + 1 : p;
    } while (nl);
}

 /*
  * Input: our own buffer over netio, so that DATA stops at its end.
  */

/* smtpd_fill - more input; >0 bytes, 0 EOF, -1 error (netio says which) */
static ssize_t smtpd_fill(SMTPD_STATE *st)
{
    ssize_t n;

    if (st->ioff == st->ilen) {
        st->ioff = st->ilen = 0;
    } else if (st->ioff > 0) {
        memmove(st->ibuf, st->ibuf + st->ioff, st->ilen - st->ioff);
        st->ilen -= st->ioff;
        st->ioff = 0;
    }
    n = netio_read(st->io, st->ibuf + st->ilen, sizeof(st->ibuf) - st->ilen);
    if (n > 0)
        st->ilen += (size_t)n;
    return n;
}

/* smtpd_pending - the client has sent more than we have read */
static int smtpd_pending(const SMTPD_STATE *st)
{
    return st->ioff < st->ilen || netio_pending(st->io) > 0;
}

/* smtpd_deadline_passed - smtpd_session_deadline ran out: 421, end */
static void smtpd_deadline_passed(SMTPD_STATE *st)
{
    msg_info("session deadline (%lds) exceeded after %s from %s%s", var_smtpd_session_deadline,
             st->where, st->peer && st->peer->addr ? st->peer->addr : "unknown",
             st->in_mail ? ": transaction abandoned, nothing handed on" : "");
    netio_set_deadline(st->io, 0);
    smtpd_reply(st, "421 4.4.2 %s Error: session deadline exceeded, closing connection",
                smtpd_hostname());
    (void)netio_flush(st->io);
    st->quit = 1;
}

/* smtpd_input_lost - log why input ended, answer a timeout */
static void smtpd_input_lost(SMTPD_STATE *st)
{
    const char *client = st->peer && st->peer->addr ? st->peer->addr : "unknown";

    /* the 421 goes out whatever deadline ran out (smtpd_timeout still
     * bounds the write) */
    netio_set_deadline(st->io, 0);
    if (netio_errkind(st->io) == NETIO_INTR) {
        smtpd_reply(st, "421 4.3.2 %s Service shutting down, closing connection",
                    smtpd_hostname());
        (void)netio_flush(st->io);
    } else if (netio_errkind(st->io) == NETIO_TIMEOUT && smtpd_time_left(st) == 0) {
        smtpd_deadline_passed(st);
    } else if (netio_errkind(st->io) == NETIO_TIMEOUT) {
        msg_info("timeout after %s from %s", st->where, client);
        smtpd_reply(st, "421 4.4.2 %s Error: timeout exceeded", smtpd_hostname());
        (void)netio_flush(st->io);
    } else {
        msg_info("lost connection after %s from %s", st->where, client);
    }
    st->quit = 1;
}

/* smtpd_read_line - the next command line into st->line; 1 a line, 0 a
 * line over the bound (consumed to its end), -1 EOF or timeout */
static int smtpd_read_line(SMTPD_STATE *st)
{
    int     toolong = 0;
    char   *p, *nl;
    size_t  take;

    /* replies already made (a 250 for a message handed on) go out even
     * when the session deadline has passed; reading must end by then */
    netio_set_deadline(st->io, 0);
    if (!smtpd_pending(st) && smtpd_flush(st) < 0)
        return -1;
    netio_set_deadline(st->io, smtpd_time_left(st) > 0 ? smtpd_time_left(st) : 1);
    vbuf_reset(st->line);
    for (;;) {
        if (st->ioff == st->ilen && smtpd_fill(st) <= 0)
            return -1;
        p = st->ibuf + st->ioff;
        nl = memchr(p, '\n', st->ilen - st->ioff);
        take = nl ? (size_t)(nl - p) : st->ilen - st->ioff;
        if (!toolong && (vbuf_len(st->line) + take > SMTPD_LINE_MAX + 1
                         || vbuf_append(st->line, p, take) < 0)) {
            toolong = 1;
            vbuf_reset(st->line);
        }
        st->ioff += take;
        if (nl) {
            st->ioff++;
            break;
        }
    }
    if (vbuf_len(st->line) > 0 && st->line->data[vbuf_len(st->line) - 1] == '\r')
        vbuf_truncate(st->line, vbuf_len(st->line) - 1);
    if (toolong || vbuf_len(st->line) > SMTPD_LINE_MAX) {
        vbuf_reset(st->line);
        return 0;
    }
    return 1;
}

/* smtpd_readable_now - input (or EOF) waits in the kernel, no waiting */
static int smtpd_readable_now(const SMTPD_STATE *st)
{
    struct pollfd pfd = {.fd = netio_fd(st->io), .events = POLLIN};

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* smtpd_input_waiting - the client has sent bytes we have not used yet
 * (buffered, or in the kernel); EOF alone does not count */
static int smtpd_input_waiting(const SMTPD_STATE *st)
{
    char    c;

    if (smtpd_pending(st))
        return 1;
    if (!smtpd_readable_now(st))
        return 0;
    /* readable: data, or only EOF (a socket tells; anything else is
     * taken as data) */
    return recv(netio_fd(st->io), &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
}

/* smtpd_quit_pipelined - the client's unread input, as far as it has
 * arrived, holds a whole QUIT command line (Postfix's smtp(8) sends QUIT
 * right behind the final dot) */
static int smtpd_quit_pipelined(SMTPD_STATE *st)
{
    const char *p, *nl, *end;
    size_t  len;

    /* take in what is there, without waiting */
    while (st->ilen - st->ioff < sizeof(st->ibuf)
           && (netio_pending(st->io) > 0 || smtpd_readable_now(st)))
        if (smtpd_fill(st) <= 0)
            break;
    end = st->ibuf + st->ilen;
    for (p = st->ibuf + st->ioff; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
        for (len = (size_t)(nl - p); len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '); len--)
            /* void */ ;
        if (len == 4 && strncasecmp(p, "QUIT", 4) == 0)
            return 1;
    }
    return 0;
}

 /*
  * DATA: a state machine over any chunking of the input. A line ends at
  * CRLF, bare CR or bare LF, and is written to the spool with LF. The data
  * ends only at "." CRLF after a CRLF (or first thing after 354): every
  * other dot line is data. A dot at the start of a longer line is
  * stuffing and removed.
  */
typedef enum DATA_STATE {
    DS_BOL,                     /* at the start of a line */
    DS_TEXT,                    /* inside a line */
    DS_CR,                      /* CR seen: CRLF or a bare CR */
    DS_DOT,                     /* "." at the start of a line */
    DS_DOT_CR,                  /* "." CR at the start of a line */
} DATA_STATE;

static const char *const data_state_names[] = {
    "bol", "text", "cr", "dot", "dot-cr",
};

typedef struct DATA_RX {
    DATA_STATE state;
    int     prev_crlf;          /* the previous line ended with CRLF */
    int     fd;                 /* the spool */
    int     writing;            /* bytes still go to the spool */
    int     keep_oversize;      /* keep the bytes past the size limit */
    long    limit;              /* message_size_limit, 0 none */
    long long size;             /* message bytes (LF form) */
    int     oversize;
    int     werr;               /* spool write failed: errno */
    off_t   written;            /* bytes in the spool */
    char   *obuf;
    size_t  olen;
} DATA_RX;

/* data_flush - the buffered bytes to the spool (in memory until the
 * message passes var_memory_spool_limit) */
static void data_flush(DATA_RX *rx)
{
    if (rx->writing && rx->olen > 0) {
        if (spool_write_grow(rx->fd, var_spool_dir, rx->written, rx->obuf, rx->olen) < 0) {
            /* keep reading to the end: the session must stay in step */
            rx->werr = errno ? errno : ENOSPC;
            rx->writing = 0;
        } else {
            rx->written += (off_t)rx->olen;
        }
    }
    rx->olen = 0;
}

/* data_put - one byte of the message */
static void data_put(DATA_RX *rx, int c)
{
    rx->size++;
    if (rx->limit > 0 && rx->size > rx->limit && !rx->oversize) {
        rx->oversize = 1;
        if (!rx->keep_oversize) {
            rx->olen = 0;
            rx->writing = 0;
        }
    }
    if (!rx->writing)
        return;
    rx->obuf[rx->olen++] = (char)c;
    if (rx->olen == SMTPD_OBUF)
        data_flush(rx);
}

/* data_eol - the end of a line; crlf: it was a CRLF */
static void data_eol(DATA_RX *rx, int crlf)
{
    data_put(rx, '\n');
    rx->prev_crlf = crlf;
    rx->state = DS_BOL;
}

/* data_scan - feed len bytes; returns the bytes used, *end set when the
 * end of data was seen (the bytes after it are not used) */
static size_t data_scan(DATA_RX *rx, const char *buf, size_t len, int *end)
{
    size_t  i;
    int     c;

    *end = 0;
    for (i = 0; i < len; i++) {
        c = (unsigned char)buf[i];
      again:
        switch (rx->state) {
        case DS_BOL:
            if (c == '.')
                rx->state = DS_DOT;
            else if (c == '\r')
                rx->state = DS_CR;
            else if (c == '\n')
                data_eol(rx, 0);
            else {
                data_put(rx, c);
                rx->state = DS_TEXT;
            }
            break;
        case DS_TEXT:
            if (c == '\r')
                rx->state = DS_CR;
            else if (c == '\n')
                data_eol(rx, 0);
            else
                data_put(rx, c);
            break;
        case DS_CR:
            if (c == '\n') {
                data_eol(rx, 1);
            } else {
                data_eol(rx, 0);        /* a bare CR ends the line */
                goto again;
            }
            break;
        case DS_DOT:
            if (c == '\r') {
                rx->state = DS_DOT_CR;
            } else if (c == '\n') {
                /* "." LF: not the end; the dot is data */
                data_put(rx, '.');
                data_eol(rx, 0);
            } else {
                /* dot-stuffing: drop the first dot of a longer line */
                rx->state = DS_TEXT;
                goto again;
            }
            break;
        case DS_DOT_CR:
            if (c == '\n' && rx->prev_crlf) {
                *end = 1;
                data_flush(rx);
                return i + 1;
            }
            data_put(rx, '.');
            if (c == '\n') {
                data_eol(rx, 1);        /* "." CRLF after a bare line end */
            } else {
                data_eol(rx, 0);        /* "." and a bare CR */
                goto again;
            }
            break;
        }
    }
    return len;
}

 /*
  * The downstream.
  */

/* smtpd_is_local - a loopback, wildcard or our own name */
static int smtpd_is_local(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0
        || strcmp(host, "localhost") == 0 || strcasecmp(host, smtpd_hostname()) == 0
        || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || *host == 0;
}

/* smtpd_is_wildcard - a listen host that means every address */
static int smtpd_is_wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || *host == 0;
}

/* smtpd_loop_check - 1 when reinject_target is one of smtpd_listen. The
 * target is read as netio_connect() reads it (port 25 when none is
 * given), the listen addresses as the daemon binds them ("*" or an empty
 * host is every address). A target that hostport_parse() refuses (an
 * IPv6 address without brackets) cannot be connected to anyway: it is a
 * loop only when it is the listen setting itself. */
static int smtpd_loop_check(void)
{
    HOSTPORT target, bound;
    const char *why;
    char   *list, *save = NULL, *item;
    int     loop = 0;

    if (var_reinject_target == NULL || var_smtpd_listen == NULL)
        return 0;
    if (hostport_parse(var_reinject_target, "25", HOSTPORT_INET | HOSTPORT_LOWER
                       | HOSTPORT_ANY_HOST, &target, &why) < 0)
        return strcmp(var_reinject_target, var_smtpd_listen) == 0;
    list = mystrdup(var_smtpd_listen);
    for (item = strtok_r(list, ", \t", &save); item && !loop;
         item = strtok_r(NULL, ", \t", &save)) {
        if (hostport_parse(item, NULL, HOSTPORT_INET | HOSTPORT_LOWER | HOSTPORT_ANY_HOST,
                           &bound, &why) < 0)
            continue;
        if (strcmp(target.port, bound.port) != 0)
            continue;
        if (strcmp(target.host, bound.host) == 0)
            loop = 1;
        else if (smtpd_is_wildcard(bound.host) && smtpd_is_local(target.host))
            loop = 1;
    }
    myfree(list);
    return loop;
}

/* smtpd_envelope - a transaction as an SMTP_ENVELOPE: sender and mail
 * (the MAIL command's parameters) given, the recipients and XFORWARD
 * attributes of st (rcpt array allocated, the rest borrowed) */
static void smtpd_envelope(const SMTPD_STATE *st, const char *sender, const SMTPD_PARAMS *mail,
                           SMTP_ENVELOPE *env)
{
    int     i;

    memset(env, 0, sizeof(*env));
    env->sender = sender ? sender : "";
    env->ret = mail->ret;
    env->envid = mail->envid;
    env->body = mail->body;
    env->smtputf8 = mail->smtputf8;
    env->size = mail->size;
    env->nrcpt = st->nrcpt;
    env->rcpt = mycalloc(st->nrcpt > 0 ? (size_t)st->nrcpt : 1, sizeof(SMTP_RCPT));
    for (i = 0; i < st->nrcpt; i++) {
        env->rcpt[i].addr = st->rcpt[i].addr;
        env->rcpt[i].notify = st->rcpt[i].notify;
        env->rcpt[i].orcpt = st->rcpt[i].orcpt;
    }
    env->xf_name = st->xf[XF_NAME];
    env->xf_addr = st->xf[XF_ADDR];
    env->xf_port = st->xf[XF_PORT];
    env->xf_proto = st->xf[XF_PROTO];
    env->xf_helo = st->xf[XF_HELO];
    env->xf_ident = st->xf[XF_IDENT];
    env->xf_source = st->xf[XF_SOURCE];
}

/* smtpd_one_line - a reply's text as one line, in the reply's own text
 * buffer (the reply is not used afterwards) */
static const char *smtpd_one_line(SMTP_REPLY *r)
{
    VBUF   *tmp = vbuf_alloc(SMTPD_REPLY_CAP);

    smtp_reply_one_line(r, tmp);
    vbuf_reset(r->text);
    vbuf_append(r->text, vbuf_str(tmp), vbuf_len(tmp) < 1000 ? vbuf_len(tmp) : 1000);
    vbuf_free(tmp);
    return vbuf_str(r->text);
}

/* smtpd_gone - a reply that says the downstream connection is over */
static int smtpd_gone(int code)
{
    return code <= 0 || code == 421;
}

/* smtpd_drop_cli - forget a downstream connection that went away */
static void smtpd_drop_cli(SMTPD_STATE *st)
{
    smtpcli_close(st->cli);
    st->cli = NULL;
}

/* smtpd_downstream_rset - end the downstream transaction (best effort) */
static void smtpd_downstream_rset(SMTPD_STATE *st)
{
    SMTP_REPLY r;

    if (st->cli == NULL)
        return;
    smtp_reply_init(&r);
    if (smtpd_gone(smtpcli_rset(st->cli, &r)))
        smtpd_drop_cli(st);
    smtp_reply_free(&r);
}

/* smtpd_downstream_mail - (re)connect, XFORWARD, MAIL FROM; the reply
 * code (0: no usable reply, r says why) */
static int smtpd_downstream_mail(SMTPD_STATE *st, const SMTP_ENVELOPE *env, SMTP_REPLY *r)
{
    SMTPCLI_OPTS opts;
    SMTP_REPLY xr;
    int     attempt, fresh, code = 0;
    char    buf[SMTP_LINE_MAX];

    memset(&opts, 0, sizeof(opts));
    opts.helo = var_smtp_helo_name;
    opts.timeout = (int)var_reinject_timeout;
    smtp_reply_init(&xr);
    for (attempt = 0; attempt < 2; attempt++) {
        fresh = 0;
        if (st->cli == NULL) {
            if ((st->cli = smtpcli_open(var_reinject_target, &opts, r)) == NULL) {
                msg_warn("cannot relay to %s: %s", var_reinject_target,
                         smtp_reply_one_line(r, xr.text));
                code = 0;
                break;
            }
            fresh = 1;
        }
        if (smtpcli_xforward(st->cli, env, &xr) < 0) {
            if (smtpd_gone(xr.code)) {
                smtpd_drop_cli(st);
                if (!fresh)
                    continue;       /* a cached connection that timed out */
                smtp_reply_set(r, 0, "4.4.1", "%s",
                               SMTPD_PRINTABLE(buf, vbuf_str(xr.text), 500));
                code = 0;
                break;
            }
            /* XFORWARD only improves the logs: go on without it */
            msg_warn("%s refused XFORWARD: %s", var_reinject_target,
                     SMTPD_PRINTABLE(buf, vbuf_str(xr.text), 500));
        }
        code = smtpcli_mail(st->cli, env, r);
        if (smtpd_gone(code)) {
            smtpd_drop_cli(st);
            if (!fresh)
                continue;
        }
        break;
    }
    smtp_reply_free(&xr);
    return code;
}

 /*
  * The transaction.
  */

/* smtpd_params_free - what a SMTPD_PARAMS holds, and zero it */
static void smtpd_params_free(SMTPD_PARAMS *p)
{
    myfree(p->body);
    myfree(p->ret);
    myfree(p->envid);
    myfree(p->notify);
    myfree(p->orcpt);
    memset(p, 0, sizeof(*p));
}

/* smtpd_tx_reset - forget the transaction (and the XFORWARD attributes,
 * as Postfix does); rset: end it downstream too (in LMTP the downstream
 * has no part of it before the dot) */
static void smtpd_tx_reset(SMTPD_STATE *st, int rset)
{
    int     i;

    if (rset && st->in_mail && st->proto != SMTPD_PROTO_LMTP)
        smtpd_downstream_rset(st);
    st->in_mail = 0;
    st->tx_lost = 0;
    smtpd_replace(&st->sender, NULL);
    smtpd_params_free(&st->mail);
    for (i = 0; i < st->nrcpt; i++) {
        myfree(st->rcpt[i].addr);
        myfree(st->rcpt[i].notify);
        myfree(st->rcpt[i].orcpt);
    }
    st->nrcpt = 0;
    for (i = 0; i < XF_COUNT; i++)
        smtpd_replace(&st->xf[i], NULL);
}

/* smtpd_client - "name[addr]" of the original client, for the log */
static const char *smtpd_client(const SMTPD_STATE *st, VBUF *buf)
{
    const char *name = st->xf[XF_NAME] && *st->xf[XF_NAME] ? st->xf[XF_NAME] : "unknown";
    const char *addr = st->xf[XF_ADDR] && *st->xf[XF_ADDR] ? st->xf[XF_ADDR]
        : st->xf[XF_ADDR] ? "unknown"
        : st->peer && st->peer->addr && *st->peer->addr ? st->peer->addr : "unknown";

    if (strncasecmp(addr, "IPv6:", 5) == 0)
        addr += 5;
    vbuf_sprintf(buf, "%s[%s]", name, addr);
    return vbuf_str(buf);
}

/* smtpd_queue_id - the upstream queue id, NULL when unknown */
static const char *smtpd_queue_id(const SMTPD_STATE *st)
{
    return st->xf[XF_IDENT] && *st->xf[XF_IDENT] ? st->xf[XF_IDENT] : NULL;
}

static int smtpd_spawned;          /* under spawn(8): counted as "spawn" */

/* smtpd_log - the one line for this message */
static void smtpd_log(const SMTPD_STATE *st, long long size, VERDICT verdict, ACTION action,
                      const char *detail, const char *queued_as, const char *status,
                      const char *why)
{
    LOGLINE ll;
    VBUF   *client = vbuf_alloc(1024);
    const char **rcpts = mycalloc(st->nrcpt > 0 ? (size_t)st->nrcpt : 1, sizeof(char *));
    int     i;

    for (i = 0; i < st->nrcpt; i++)
        rcpts[i] = st->rcpt[i].addr;
    memset(&ll, 0, sizeof(ll));
    ll.queue_id = smtpd_queue_id(st);
    ll.client = smtpd_client(st, client);
    ll.sender = st->sender ? st->sender : "";
    ll.rcpt = rcpts;
    ll.nrcpt = st->nrcpt;
    ll.size = size;
    ll.verdict = verdict;
    ll.action = action;
    ll.detail = detail;
    ll.queued_as = queued_as;
    ll.delay = smtpd_elapsed(&st->mail_time);
    ll.status = status;
    ll.why = why;
    logline_log(&ll);
    counters_message(st->proto == SMTPD_PROTO_LMTP ? METRICS_DESIGN_LMTP
                     : smtpd_spawned ? METRICS_DESIGN_SPAWN : METRICS_DESIGN_SMTPD,
                     size, verdict, action, status, why);
    myfree(rcpts);
    vbuf_free(client);
}

/* smtpd_client_gave_up - the client closed the connection during the
 * scan: it will send the message again, and handing this copy on would
 * deliver it twice. Postfix pipelines QUIT after the dot, so unread
 * input (even a QUIT) does not mean that the client is still there. But
 * a client that sent QUIT and closed its side at once (shutdown after
 * its last write, as a script does) waits for the replies: its close
 * came with the data, or too soon after the dot to be a timeout. */
static int smtpd_client_gave_up(SMTPD_STATE *st)
{
    return netio_peer_gone(st->io)
        && !(smtpd_quit_pipelined(st)
             && (st->eof_at_dot || smtpd_elapsed(&st->dot_time) < SMTPD_QUIT_GRACE));
}

/* smtpd_hand_over_result - the downstream's reply to the message, told
 * to the client; o gets the log status and reason */
static void smtpd_hand_over_result(SMTPD_STATE *st, SMTP_REPLY *r, int code, OUTCOME *o)
{
    VBUF   *err = vbuf_alloc(4096);
    const char *qid = smtpd_queue_id(st);
    char    text[SMTPD_TEXT_MAX + 1];

    smtp_reply_one_line(r, err);
    if (code > 0)
        vbuf_sprintf(o->why, "%d %s", code, vbuf_str(err));
    else
        vbuf_strcpy(o->why, vbuf_str(err));
    o->status = outcome_relay_status(OUTCOME_SMTPD, code);
    if (code / 100 == 2) {
        smtpd_relay_reply(st, r, code);
        smtp_queue_id(r, o->queued_as);
    } else if (code <= 0 || code / 100 == 3) {
        /* no answer, or nonsense: our failure, never a 5xx */
        o->status = "deferred";
        msg_warn("%s: relay to %s failed: %s", qid ? qid : "NOQUEUE", var_reinject_target,
                 vbuf_str(o->why));
        smtpd_reply(st, "451 4.3.0 Error: %s",
                    SMTPD_PRINTABLE(text, vbuf_str(o->why), SMTPD_TEXT_MAX));
        smtpd_drop_cli(st);
    } else {
        smtpd_relay_reply(st, r, code == 421 ? 451 : code);
        if (code == 421)
            smtpd_drop_cli(st);
        else
            smtpd_downstream_rset(st);
    }
    vbuf_free(err);
}

/* smtpd_hand_over_time - whole seconds (rounded up) left for the
 * hand-over; 0 after the 451 for each recipient when none are left.
 * The client waits for our answer, and gives up (then perhaps delivers
 * twice) after its data-done timeout: the scan and the hand-over share
 * smtpd_data_done_timeout from the final dot. */
static int smtpd_hand_over_time(SMTPD_STATE *st, OUTCOME *o)
{
    const char *qid = smtpd_queue_id(st);
    double  remaining = (double)var_smtpd_data_done_timeout - smtpd_elapsed(&st->dot_time);

    if (remaining > 0)
        return remaining >= INT_MAX ? INT_MAX : (int)remaining + (remaining > (int)remaining);
    msg_warn("%s: smtpd_data_done_timeout (%lds) passed before the hand-over",
             qid ? qid : "NOQUEUE", var_smtpd_data_done_timeout);
    smtpd_final_reply(st, "451 4.4.7 Error: scanning took too long, try again later");
    o->status = "deferred";
    vbuf_strcpy(o->why, "smtpd_data_done_timeout exceeded");
    smtpd_downstream_rset(st);
    return 0;
}

/* smtpd_fd_source - the data source of a hand-over: our header block,
 * then the spool */
static void smtpd_fd_source(SMTP_FD_SOURCE *src, const DECISION *d)
{
    memset(src, 0, sizeof(*src));
    src->prefix = vbuf_str(d->prefix);
    src->prefix_len = vbuf_len(d->prefix);
    src->fd = d->fd;
}

/* smtpd_hand_over - pass and tag: the message to the downstream, its
 * reply to the client */
static void smtpd_hand_over(SMTPD_STATE *st, const DECISION *d, OUTCOME *o)
{
    SMTP_FD_SOURCE src;
    SMTP_REPLY r;
    int     code, secs;

    o->status = "deferred";
    if (st->cli == NULL || st->tx_lost) {
        smtpd_final_reply(st, "451 4.3.0 Error: connection to the downstream lost, "
                          "try again later");
        vbuf_strcpy(o->why, "downstream connection lost");
        return;
    }
    if ((secs = smtpd_hand_over_time(st, o)) == 0)
        return;
    smtpd_fd_source(&src, d);
    smtpcli_set_deadline(st->cli, secs);
    smtp_reply_init(&r);
    code = smtpcli_data(st->cli, smtp_fd_source_read, &src, &r);
    if (st->cli)
        smtpcli_set_deadline(st->cli, 0);
    smtpd_hand_over_result(st, &r, code, o);
    smtp_reply_free(&r);
}

 /*
  * The LMTP hand-over: the whole transaction goes downstream after the
  * verdict, and each recipient gets its own reply (RFC 2033 4.2).
  */

/* smtpd_reply_copy - dst (initialized) becomes a copy of src */
static void smtpd_reply_copy(SMTP_REPLY *dst, const SMTP_REPLY *src)
{
    if (dst == src)
        return;
    dst->code = src->code;
    memcpy(dst->dsn, src->dsn, sizeof(dst->dsn));
    vbuf_reset(dst->text);
    vbuf_append(dst->text, vbuf_str(src->text), vbuf_len(src->text));
}

/* smtpd_lmtp_ours - a reply that answers nothing (none, a 3xx, a 421)
 * becomes a 451 of ours: our failure, never a 5xx */
static void smtpd_lmtp_ours(SMTP_REPLY *r)
{
    char    text[SMTPD_TEXT_MAX + 1];

    if (r->code == 421) {
        r->code = 451;                  /* its text and 4.x.x code stay */
    } else if (r->code <= 0 || r->code / 100 == 3) {
        SMTPD_PRINTABLE(text, smtpd_one_line(r), SMTPD_TEXT_MAX);
        smtp_reply_set(r, 451, "4.3.0", "Error: %s", text);
    }
}

/* smtpd_lmtp_fail_all - the transaction failed as a whole with r: every
 * recipient the downstream has not refused on its own gets r */
static void smtpd_lmtp_fail_all(SMTPD_STATE *st, SMTP_REPLY *rr, const SMTP_REPLY *r)
{
    int     i;

    for (i = 0; i < st->nrcpt; i++)
        if (rr[i].code == 0 || rr[i].code / 100 == 2)
            smtpd_reply_copy(&rr[i], r);
}

/* smtpd_lmtp_envelope - XFORWARD, MAIL and each RCPT downstream, rr[i]
 * the reply for recipient i; the number of recipients accepted, 0 when
 * there is nothing to send (every one of rr then has its reply) */
static int smtpd_lmtp_envelope(SMTPD_STATE *st, SMTP_REPLY *rr, int secs)
{
    SMTP_ENVELOPE env;
    SMTP_RCPT rcpt;
    SMTP_REPLY r;
    int     i, code, n = 0;

    smtpd_envelope(st, st->sender, &st->mail, &env);
    smtp_reply_init(&r);
    code = smtpd_downstream_mail(st, &env, &r);
    if (code / 100 != 2) {
        /* a 3xx to MAIL: that connection is out of step, never reuse it */
        if (code / 100 == 3 && st->cli)
            smtpd_drop_cli(st);
        smtpd_lmtp_fail_all(st, rr, &r);
    } else {
        smtpcli_set_deadline(st->cli, secs);
        for (i = 0; i < st->nrcpt; i++) {
            memset(&rcpt, 0, sizeof(rcpt));
            rcpt.addr = st->rcpt[i].addr;
            rcpt.notify = st->rcpt[i].notify;
            rcpt.orcpt = st->rcpt[i].orcpt;
            code = smtpcli_rcpt(st->cli, &rcpt, &rr[i]);
            if (code / 100 == 2) {
                n++;
            } else if (code <= 0 || code / 100 == 3 || code == 421) {
                /* the connection is lost, or out of step */
                smtpd_drop_cli(st);
                smtpd_lmtp_fail_all(st, rr, &rr[i]);
                n = 0;
                break;
            }
        }
    }
    myfree(env.rcpt);
    smtp_reply_free(&r);
    return n;
}

/* smtpd_lmtp_refused - log each recipient the downstream refused while
 * it took others; their number */
static int smtpd_lmtp_refused(const SMTPD_STATE *st, const SMTP_REPLY *rr)
{
    const char *qid = smtpd_queue_id(st);
    VBUF   *text = vbuf_alloc(SMTPD_REPLY_CAP);
    char    addr[SMTPD_ADDR_MAX + 1], why[SMTPD_TEXT_MAX + 1];
    int     i, n = 0;

    for (i = 0; i < st->nrcpt; i++) {
        if (rr[i].code / 100 == 2)
            continue;
        n++;
        smtp_reply_one_line(&rr[i], text);
        msg_info("%s: to=<%s>, refused by %s: %d %s", qid ? qid : "NOQUEUE",
                 SMTPD_PRINTABLE(addr, st->rcpt[i].addr, SMTPD_ADDR_MAX), var_reinject_target,
                 rr[i].code, SMTPD_PRINTABLE(why, vbuf_str(text), SMTPD_TEXT_MAX));
    }
    vbuf_free(text);
    return n;
}

/* smtpd_lmtp_data - DATA downstream; each recipient the downstream
 * accepted gets its reply to the message; o the log's status */
static void smtpd_lmtp_data(SMTPD_STATE *st, const DECISION *d, SMTP_REPLY *rr, OUTCOME *o)
{
    const char *qid = smtpd_queue_id(st);
    VBUF   *text = vbuf_alloc(SMTPD_REPLY_CAP);
    SMTP_FD_SOURCE src;
    SMTP_REPLY r;
    int     code, i;

    smtpd_fd_source(&src, d);
    smtp_reply_init(&r);
    code = smtpcli_data(st->cli, smtp_fd_source_read, &src, &r);
    smtp_reply_one_line(&r, text);
    vbuf_sprintf(o->why, "%d %s", code, vbuf_str(text));
    o->status = outcome_relay_status(OUTCOME_SMTPD, code);
    if (code / 100 == 2) {
        smtp_queue_id(&r, o->queued_as);
    } else if (code <= 0 || code / 100 == 3 || code == 421) {
        if (code != 421)
            msg_warn("%s: relay to %s failed: %s", qid ? qid : "NOQUEUE", var_reinject_target,
                     vbuf_str(o->why));
        o->status = "deferred";
        smtpd_drop_cli(st);
    } else {
        smtpd_downstream_rset(st);
    }
    for (i = 0; i < st->nrcpt; i++)
        if (rr[i].code / 100 == 2)
            smtpd_reply_copy(&rr[i], &r);
    smtp_reply_free(&r);
    vbuf_free(text);
}

/* smtpd_lmtp_unsent - nothing went downstream: the log's status and
 * reason from the recipients' replies (rejected when all are 5xx) */
static void smtpd_lmtp_unsent(const SMTPD_STATE *st, const SMTP_REPLY *rr, OUTCOME *o)
{
    VBUF   *text = vbuf_alloc(SMTPD_REPLY_CAP);
    int     i, permanent = 0;

    for (i = 0; i < st->nrcpt; i++)
        permanent += rr[i].code / 100 == 5;
    o->status = permanent == st->nrcpt ? "rejected" : "deferred";
    smtp_reply_one_line(&rr[0], text);
    vbuf_sprintf(o->why, "%d %s", rr[0].code, vbuf_str(text));
    vbuf_free(text);
}

/* smtpd_lmtp_hand_over - pass and tag in LMTP: the transaction
 * downstream now, then one reply per recipient in RCPT order */
static void smtpd_lmtp_hand_over(SMTPD_STATE *st, const DECISION *d, OUTCOME *o)
{
    SMTP_REPLY *rr;
    int     i, secs, accepted, refused;

    o->status = "deferred";
    if ((secs = smtpd_hand_over_time(st, o)) == 0)
        return;
    rr = mycalloc((size_t)st->nrcpt, sizeof(*rr));
    for (i = 0; i < st->nrcpt; i++)
        smtp_reply_init(&rr[i]);
    if ((accepted = smtpd_lmtp_envelope(st, rr, secs)) > 0) {
        refused = smtpd_lmtp_refused(st, rr);
        smtpd_lmtp_data(st, d, rr, o);
        if (refused > 0)
            vbuf_sprintf_append(o->why, "; %d of %d recipients refused downstream", refused,
                                st->nrcpt);
    } else {
        smtpd_downstream_rset(st);
        for (i = 0; i < st->nrcpt; i++)
            smtpd_lmtp_ours(&rr[i]);
        smtpd_lmtp_unsent(st, rr, o);
    }
    if (st->cli)
        smtpcli_set_deadline(st->cli, 0);
    for (i = 0; i < st->nrcpt; i++) {
        smtpd_lmtp_ours(&rr[i]);
        smtpd_relay_reply(st, &rr[i], rr[i].code);
        smtp_reply_free(&rr[i]);
    }
    myfree(rr);
}

/* smtpd_quarantine - store the message; o says how it went */
static void smtpd_quarantine(SMTPD_STATE *st, const DECISION *d, int fd, OUTCOME *o)
{
    const char *qid = smtpd_queue_id(st);
    SMTP_ENVELOPE env;
    VBUF   *id = vbuf_alloc(256), *err = vbuf_alloc(4096);

    smtpd_envelope(st, st->sender, &st->mail, &env);
    (void)outcome_method(OUTCOME_SMTPD);        /* hold: a warning, then store */
    if (quarantine_store(var_quarantine_dir, &env, fd, verdict_names[d->verdict],
                         vbuf_str(d->detail), qid, id, err) < 0) {
        msg_warn("%s: quarantine failed: %s", qid ? qid : "NOQUEUE", vbuf_str(err));
        outcome_stored(o, OUTCOME_SMTPD, d, NULL, vbuf_str(err));
    } else {
        outcome_stored(o, OUTCOME_SMTPD, d, vbuf_str(id), NULL);
    }
    myfree(env.rcpt);
    vbuf_free(id);
    vbuf_free(err);
}

/* smtpd_act - carry out the decision for the message in fd, answer the
 * client, log the line */
static void smtpd_act(SMTPD_STATE *st, int fd, long long size, int oversize)
{
    const char *qid = smtpd_queue_id(st);
    SMTP_ENVELOPE env;
    DECISION d;
    OUTCOME o;

    decision_init(&d);
    outcome_init(&o);
    /* a command scanner gets the envelope */
    smtpd_envelope(st, st->sender, &st->mail, &env);
    counters_decide(st->in, st->open_err, fd, oversize, &env, &d);
    myfree(env.rcpt);
    if (d.verdict == VERDICT_ERROR)
        msg_warn("%s: %s", qid ? qid : "NOQUEUE", vbuf_str(d.detail));
    outcome_for(&o, OUTCOME_SMTPD, &d);
    if (smtpd_client_gave_up(st)) {
        msg_warn("%s: the client closed the connection during the scan: message not "
                 "handed on (the client will send it again)", qid ? qid : "NOQUEUE");
        o.status = "deferred";
        vbuf_strcpy(o.why, "client gone before the hand-over");
        vbuf_reset(o.queued_as);
        smtpd_downstream_rset(st);
        st->quit = 1;
    } else if (o.todo == OUTCOME_RELAY && st->proto == SMTPD_PROTO_LMTP) {
        smtpd_lmtp_hand_over(st, &d, &o);
    } else if (o.todo == OUTCOME_RELAY) {
        smtpd_hand_over(st, &d, &o);
    } else {
        if (o.todo == OUTCOME_QUARANTINE)
            smtpd_quarantine(st, &d, fd, &o);
        smtpd_final_reply(st, "%03d %s %s", o.code, o.dsn, vbuf_str(o.text));
        /* every case but a hand-over ends the downstream transaction */
        smtpd_downstream_rset(st);
    }
    smtpd_log(st, size, d.verdict, d.action, vbuf_str(d.detail),
              vbuf_len(o.queued_as) ? vbuf_str(o.queued_as) : NULL, o.status, vbuf_str(o.why));
    outcome_free(&o);
    decision_free(&d);
}

 /*
  * Commands. Each handler gets the text after the verb (spaces skipped).
  */

/* smtpd_parse_path - "FROM:<addr> params" (prefix "FROM:"): *addr and
 * *params point into args (NUL-terminated); -1 on bad syntax */
static int smtpd_parse_path(char *args, const char *prefix, char **addr, char **params)
{
    size_t  plen = strlen(prefix);
    char   *p, *q, *colon;
    int     inquote = 0;

    if (strncasecmp(args, prefix, plen) != 0)
        return -1;
    p = args + plen;
    while (*p == ' ')
        p++;
    if (*p == '<') {
        for (q = p + 1; *q; q++) {
            if (inquote && *q == '\\' && q[1]) {
                q++;
            } else if (*q == '"') {
                inquote = !inquote;
            } else if (!inquote && *q == '>') {
                break;
            }
        }
        if (*q != '>' || (q[1] != 0 && q[1] != ' '))
            return -1;
        *q = 0;
        *addr = p + 1;
        *params = q + 1;
    } else {
        /* Postfix accepts a bare address too */
        if (*p == 0)
            return -1;
        *addr = p;
        q = p + strcspn(p, " ");
        if (*q)
            *q++ = 0;
        *params = q;
    }
    /* a source route "@a,@b:user@c" goes */
    if (**addr == '@' && (colon = strchr(*addr, ':')) != NULL)
        *addr = colon + 1;
    while (**params == ' ')
        (*params)++;
    return 0;
}

/* smtpd_next_param - split off the next space-separated parameter */
static char *smtpd_next_param(char **params)
{
    char   *p = *params, *e;

    while (*p == ' ')
        p++;
    if (*p == 0)
        return NULL;
    e = p + strcspn(p, " ");
    if (*e)
        *e++ = 0;
    *params = e;
    return p;
}

/* smtpd_word_list - value is a comma list of words from allowed */
static int smtpd_word_list(const char *value, const char *const *allowed)
{
    const char *p = value;
    size_t  n;
    int     i, ok;

    if (*p == 0)
        return 0;
    while (*p) {
        n = strcspn(p, ",");
        for (ok = 0, i = 0; allowed[i]; i++)
            if (strlen(allowed[i]) == n && strncasecmp(p, allowed[i], n) == 0)
                ok = 1;
        if (!ok)
            return 0;
        p += n;
        if (*p == ',' && *++p == 0)
            return 0;
    }
    return 1;
}

/* smtpd_upper - s in upper case, allocated */
static char *smtpd_upper(const char *s)
{
    char   *u = mystrdup(s), *p;

    for (p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

/* smtpd_addr_ok - an envelope address we can relay */
static int smtpd_addr_ok(const char *addr)
{
    return strlen(addr) <= SMTPD_ADDR_MAX && !smtpd_has_ctl(addr);
}

/* cmd_helo_common - HELO, EHLO and LHLO (verb): the greeting, and the
 * session's protocol (the command table keeps an LMTP session from
 * EHLO and HELO, an SMTP session from LHLO) */
static void cmd_helo_common(SMTPD_STATE *st, char *args, const char *verb)
{
    char    buf[256];
    int     ehlo = strcmp(verb, "HELO") != 0;

    if (*args == 0) {
        smtpd_error(st, "501 5.5.4 Syntax: %s hostname", verb);
        return;
    }
    /* one greeting is all a client needs (no STARTTLS here) */
    if (st->helos++ > 0)
        smtpd_junk(st);
    smtpd_tx_reset(st, 1);
    st->proto = strcmp(verb, "LHLO") == 0 ? SMTPD_PROTO_LMTP : SMTPD_PROTO_SMTP;
    if (msg_verbose)
        msg_debug("%s: %s session", verb, smtpd_proto_names[st->proto]);
    smtpd_replace(&st->helo, SMTPD_PRINTABLE(buf, args, sizeof(buf) - 1));
    if (!ehlo) {
        smtpd_reply(st, "250 %s", smtpd_hostname());
        return;
    }
    smtpd_reply(st, "250-%s", smtpd_hostname());
    smtpd_reply(st, "250-PIPELINING");
    if (var_message_size_limit > 0)
        smtpd_reply(st, "250-SIZE %ld", var_message_size_limit);
    else
        smtpd_reply(st, "250-SIZE");
    smtpd_reply(st, "250-8BITMIME");
    smtpd_reply(st, "250-SMTPUTF8");
    smtpd_reply(st, "250-DSN");
    if (st->xforward_ok) {
        smtpd_reply(st, "250-ENHANCEDSTATUSCODES");
        smtpd_reply(st, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE");
    } else {
        smtpd_reply(st, "250 ENHANCEDSTATUSCODES");
    }
}

static void cmd_helo(SMTPD_STATE *st, char *args)
{
    cmd_helo_common(st, args, "HELO");
}

static void cmd_ehlo(SMTPD_STATE *st, char *args)
{
    cmd_helo_common(st, args, "EHLO");
}

/* cmd_lhlo - LHLO (RFC 2033): EHLO's answer, and an LMTP session */
static void cmd_lhlo(SMTPD_STATE *st, char *args)
{
    cmd_helo_common(st, args, "LHLO");
}

/* cmd_xforward - client attributes from the upstream Postfix */
static void cmd_xforward(SMTPD_STATE *st, char *args)
{
    char   *vals[XF_COUNT] = {NULL};
    char   *item, *eq, *p;
    VBUF   *dec = vbuf_alloc(SMTPD_XF_MAX * 3 + 1);
    int     i, seen = 0;

    if (*args == 0) {
        smtpd_error(st, "501 5.5.4 Syntax: XFORWARD attribute=value...");
        goto out;
    }
    while ((item = smtpd_next_param(&args)) != NULL) {
        if ((eq = strchr(item, '=')) == NULL || eq[1] == 0) {
            smtpd_error(st, "501 5.5.4 Error: attribute=value expected");
            goto out;
        }
        *eq = 0;
        for (i = 0; i < XF_COUNT && strcasecmp(item, xf_names[i]) != 0; i++)
            /* void */ ;
        if (i == XF_COUNT) {
            char buf[64];

            smtpd_error(st, "501 5.5.4 Error: bad XFORWARD attribute name: %s",
                        SMTPD_PRINTABLE(buf, item, 40));
            goto out;
        }
        if (strcasecmp(eq + 1, "[UNAVAILABLE]") == 0) {
            vbuf_reset(dec);
        } else if (xtext_decode(dec, eq + 1, XTEXT_STRICT) < 0 || vbuf_len(dec) > SMTPD_XF_MAX) {
            smtpd_error(st, "501 5.5.4 Error: bad XFORWARD %s value", xf_names[i]);
            goto out;
        }
        /* values go into logs and headers downstream: printable only */
        for (p = dec->data; *p; p++)
            if ((unsigned char)*p < 0x21 || *p == 0x7f)
                *p = '?';
        myfree(vals[i]);
        vals[i] = mystrdup(vbuf_str(dec));
        seen = 1;
    }
    /* Postfix sends one or two before each MAIL: as junk, they are free
     * as long as transactions get done */
    smtpd_junk(st);
    if (seen) {
        for (i = 0; i < XF_COUNT; i++) {
            if (vals[i]) {
                myfree(st->xf[i]);
                st->xf[i] = vals[i];
                vals[i] = NULL;
            }
        }
    }
    smtpd_reply(st, "250 2.0.0 Ok");
  out:
    for (i = 0; i < XF_COUNT; i++)
        myfree(vals[i]);
    vbuf_free(dec);
}

 /*
  * ESMTP parameters of MAIL and RCPT: a table of handlers each, parsed
  * into a temporary SMTPD_PARAMS that the command commits only when all
  * are valid and the downstream accepted the command.
  */
typedef struct SMTPD_PARAM {
    const char *name;
    int     (*parse) (SMTPD_PARAMS *, const char *, VBUF *);   /* 0, or -1: refuse */
    const char *refusal;        /* the 501 reply when parse fails */
} SMTPD_PARAM;

/* param_size - SIZE=digits */
static int param_size(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    (void)dec;
    if (val == NULL || *val == 0 || strspn(val, "0123456789") != strlen(val) || strlen(val) > 18)
        return -1;
    p->size = strtoll(val, NULL, 10);
    return 0;
}

/* param_body - BODY=7BIT|8BITMIME */
static int param_body(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    (void)dec;
    if (val == NULL || (strcasecmp(val, "7BIT") != 0 && strcasecmp(val, "8BITMIME") != 0))
        return -1;
    myfree(p->body);
    p->body = smtpd_upper(val);
    return 0;
}

/* param_smtputf8 - SMTPUTF8, no value */
static int param_smtputf8(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    (void)dec;
    if (val != NULL)
        return -1;
    p->smtputf8 = 1;
    return 0;
}

/* param_ret - RET=FULL|HDRS */
static int param_ret(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    (void)dec;
    if (val == NULL || (strcasecmp(val, "FULL") != 0 && strcasecmp(val, "HDRS") != 0))
        return -1;
    myfree(p->ret);
    p->ret = smtpd_upper(val);
    return 0;
}

/* param_envid - ENVID=xtext, decoded */
static int param_envid(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    if (val == NULL || xtext_decode(dec, val, XTEXT_STRICT) < 0 || vbuf_len(dec) == 0
        || vbuf_len(dec) > SMTPD_ENVID_MAX || smtpd_has_ctl(vbuf_str(dec)))
        return -1;
    smtpd_replace(&p->envid, vbuf_str(dec));
    return 0;
}

/* param_ignored - AUTH=: not announced; a client sending it anyway
 * loses nothing */
static int param_ignored(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    (void)p;
    (void)val;
    (void)dec;
    return 0;
}

/* param_notify - NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY */
static int param_notify(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    static const char *const notify_words[] = {"SUCCESS", "FAILURE", "DELAY", NULL};

    (void)dec;
    if (val == NULL || (strcasecmp(val, "NEVER") != 0 && !smtpd_word_list(val, notify_words)))
        return -1;
    myfree(p->notify);
    p->notify = smtpd_upper(val);
    return 0;
}

/* param_orcpt - ORCPT=type;xtext, kept as "type;decoded value" */
static int param_orcpt(SMTPD_PARAMS *p, const char *val, VBUF *dec)
{
    const char *semi;
    size_t  tlen;

    if (val == NULL || (semi = strchr(val, ';')) == NULL || semi == val)
        return -1;
    tlen = (size_t)(semi - val);
    if (strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != tlen
        || xtext_decode(dec, semi + 1, XTEXT_STRICT) < 0 || vbuf_len(dec) == 0
        || vbuf_len(dec) > SMTPD_ORCPT_MAX || smtpd_has_ctl(vbuf_str(dec)))
        return -1;
    myfree(p->orcpt);
    p->orcpt = mymalloc(tlen + 1 + vbuf_len(dec) + 1);
    memcpy(p->orcpt, val, tlen + 1);
    memcpy(p->orcpt + tlen + 1, vbuf_str(dec), vbuf_len(dec) + 1);
    return 0;
}

static const SMTPD_PARAM smtpd_mail_params[] = {
    {"SIZE", param_size, "501 5.5.4 Bad message size syntax"},
    {"BODY", param_body, "501 5.5.4 Unsupported BODY parameter"},
    {"SMTPUTF8", param_smtputf8, "501 5.5.4 Bad SMTPUTF8 syntax"},
    {"RET", param_ret, "501 5.5.4 Bad RET parameter syntax"},
    {"ENVID", param_envid, "501 5.5.4 Bad ENVID parameter syntax"},
    {"AUTH", param_ignored, NULL},
    {NULL, NULL, NULL},
};

static const SMTPD_PARAM smtpd_rcpt_params[] = {
    {"NOTIFY", param_notify, "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
    {"ORCPT", param_orcpt, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
    {NULL, NULL, NULL},
};

/* smtpd_params - every parameter in params through table into p (a
 * later one of the same name wins); 0, or -1 after the error reply,
 * with p freed */
static int smtpd_params(SMTPD_STATE *st, char *params, const SMTPD_PARAM *table,
                        SMTPD_PARAMS *p)
{
    const SMTPD_PARAM *pp;
    VBUF   *dec = vbuf_alloc(SMTPD_ORCPT_MAX * 3 + 1);
    char   *name, *eq;
    char    buf[SMTP_LINE_MAX];
    int     ret = 0;

    memset(p, 0, sizeof(*p));
    while (ret == 0 && (name = smtpd_next_param(&params)) != NULL) {
        if ((eq = strchr(name, '=')) != NULL)
            *eq = 0;
        for (pp = table; pp->name && strcasecmp(name, pp->name) != 0; pp++)
            /* void */ ;
        if (pp->name == NULL) {
            smtpd_error(st, "555 5.5.4 Unsupported option: %s",
                        SMTPD_PRINTABLE(buf, name, 64));
            ret = -1;
        } else if (pp->parse(p, eq ? eq + 1 : NULL, dec) < 0) {
            smtpd_error(st, "%s", pp->refusal);
            ret = -1;
        }
    }
    if (ret < 0)
        smtpd_params_free(p);
    vbuf_free(dec);
    return ret;
}

/* smtpd_relay_check - reinject_target is somewhere we can relay to in
 * lock-step: never ourselves, only by SMTP; else the 451 is sent */
static int smtpd_relay_check(SMTPD_STATE *st)
{
    if (st->loop < 0)
        st->loop = smtpd_loop_check();
    if (st->loop) {
        msg_warn("mail forwarding loop: reinject_target %s is one of our own smtpd_listen "
                 "addresses (%s): refusing to relay to ourselves", var_reinject_target,
                 var_smtpd_listen);
        smtpd_reply(st, "451 4.4.6 Error: mail forwarding loop: reinject_target is our own "
                    "listen address");
        return -1;
    }
    if (strcmp(var_reinject_target, "sendmail") == 0) {
        msg_warn("configuration error: reinject_target = sendmail does not work in smtpd "
                 "mode; use the reinjection smtpd ([host]:port or unix:/path)");
        smtpd_reply(st, "451 4.3.5 Error: filter configuration error");
        return -1;
    }
    return 0;
}

/* smtpd_mail_parse - MAIL's address and parameters, checked, and
 * somewhere to relay to; 0, or -1 after the error reply */
static int smtpd_mail_parse(SMTPD_STATE *st, char *args, char **addr, SMTPD_PARAMS *mail)
{
    char   *params;

    if (smtpd_parse_path(args, "FROM:", addr, &params) < 0) {
        smtpd_error(st, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return -1;
    }
    if (!smtpd_addr_ok(*addr)) {
        smtpd_error(st, "501 5.1.7 Bad sender address syntax");
        return -1;
    }
    if (smtpd_params(st, params, smtpd_mail_params, mail) < 0)
        return -1;
    if (smtpd_relay_check(st) < 0) {
        smtpd_params_free(mail);
        return -1;
    }
    /* MAIL without a greeting: an SMTP session, as Postfix allows */
    if (st->proto == SMTPD_PROTO_NONE)
        st->proto = SMTPD_PROTO_SMTP;
    st->mail_time = clock_now();
    return 0;
}

/* smtpd_mail_begin - the transaction begins (it owns mail now) */
static void smtpd_mail_begin(SMTPD_STATE *st, const char *addr, SMTPD_PARAMS *mail)
{
    st->sender = mystrdup(addr);
    st->mail = *mail;
    st->nrcpt = 0;
    st->tx_lost = 0;
    st->in_mail = 1;
}

/* cmd_mail_local - MAIL FROM in LMTP: answered here, relayed with the
 * message (smtpd_lmtp_hand_over) */
static void cmd_mail_local(SMTPD_STATE *st, char *args)
{
    SMTPD_PARAMS mail;
    char   *addr;

    if (smtpd_mail_parse(st, args, &addr, &mail) < 0)
        return;
    smtpd_mail_begin(st, addr, &mail);
    smtpd_reply(st, "250 2.1.0 Ok");
}

/* cmd_mail - MAIL FROM, relayed in lock-step; the transaction begins
 * only when the downstream accepted it */
static void cmd_mail(SMTPD_STATE *st, char *args)
{
    SMTPD_PARAMS mail;
    SMTP_ENVELOPE env;
    SMTP_REPLY r;
    char   *addr;
    char    buf[SMTP_LINE_MAX];
    int     code;

    if (smtpd_mail_parse(st, args, &addr, &mail) < 0)
        return;
    smtpd_envelope(st, addr, &mail, &env);
    smtp_reply_init(&r);
    code = smtpd_downstream_mail(st, &env, &r);
    if (code / 100 == 2) {
        smtpd_mail_begin(st, addr, &mail);
        smtpd_relay_reply(st, &r, code);
    } else {
        /* a 3xx to MAIL: that connection is out of step, never reuse it */
        if (code / 100 == 3 && st->cli)
            smtpd_drop_cli(st);
        if (code <= 0 || code / 100 == 3)
            smtpd_reply(st, "451 4.4.1 Error: cannot relay to the downstream: %s",
                        SMTPD_PRINTABLE(buf, smtpd_one_line(&r), 500));
        else
            smtpd_relay_reply(st, &r, code == 421 ? 451 : code);
        smtpd_params_free(&mail);
    }
    myfree(env.rcpt);
    smtp_reply_free(&r);
}

/* smtpd_rcpt_add - an accepted recipient joins the transaction (its
 * NOTIFY and ORCPT taken from p) */
static void smtpd_rcpt_add(SMTPD_STATE *st, const char *addr, SMTPD_PARAMS *p)
{
    if (st->nrcpt == st->rcpt_alloc) {
        st->rcpt_alloc = st->rcpt_alloc ? 2 * st->rcpt_alloc : 8;
        st->rcpt = myrealloc(st->rcpt, (size_t)st->rcpt_alloc * sizeof(SMTPD_RCPT));
    }
    st->rcpt[st->nrcpt].addr = mystrdup(addr);
    st->rcpt[st->nrcpt].notify = p->notify;
    st->rcpt[st->nrcpt].orcpt = p->orcpt;
    st->nrcpt++;
    p->notify = p->orcpt = NULL;
}

/* smtpd_rcpt_relay - one recipient to the downstream, its reply to the
 * client */
static void smtpd_rcpt_relay(SMTPD_STATE *st, const char *addr, SMTPD_PARAMS *p)
{
    SMTP_RCPT rcpt;
    SMTP_REPLY r;
    char    buf[SMTP_LINE_MAX];
    int     code;

    memset(&rcpt, 0, sizeof(rcpt));
    rcpt.addr = addr;
    rcpt.notify = p->notify;
    rcpt.orcpt = p->orcpt;
    smtp_reply_init(&r);
    code = smtpcli_rcpt(st->cli, &rcpt, &r);
    if (code / 100 == 2) {
        smtpd_rcpt_add(st, addr, p);
        smtpd_relay_reply(st, &r, code);
    } else if (code <= 0 || code / 100 == 3) {
        smtpd_reply(st, "451 4.4.1 Error: lost the downstream: %s",
                    SMTPD_PRINTABLE(buf, smtpd_one_line(&r), 500));
        st->tx_lost = 1;
        smtpd_drop_cli(st);
    } else {
        smtpd_relay_reply(st, &r, code == 421 ? 451 : code);
        if (code == 421) {
            st->tx_lost = 1;
            smtpd_drop_cli(st);
        }
    }
    smtp_reply_free(&r);
}

/* smtpd_rcpt_parse - RCPT's address and parameters, checked, and room
 * for one more recipient; 0, or -1 after the reply */
static int smtpd_rcpt_parse(SMTPD_STATE *st, char *args, char **addr, SMTPD_PARAMS *p)
{
    char   *params;

    if (smtpd_parse_path(args, "TO:", addr, &params) < 0) {
        smtpd_error(st, "501 5.5.4 Syntax: RCPT TO:<address>");
        return -1;
    }
    if (**addr == 0 || !smtpd_addr_ok(*addr)) {
        smtpd_error(st, "501 5.1.3 Bad recipient address syntax");
        return -1;
    }
    if (st->nrcpt >= SMTPD_RCPT_MAX) {
        smtpd_junk(st);
        smtpd_reply(st, "452 4.5.3 Error: too many recipients");
        return -1;
    }
    return smtpd_params(st, params, smtpd_rcpt_params, p);
}

/* cmd_rcpt_local - RCPT TO in LMTP: answered here; the downstream's
 * answer comes after the final dot, as this recipient's reply */
static void cmd_rcpt_local(SMTPD_STATE *st, char *args)
{
    SMTPD_PARAMS p;
    char   *addr;

    if (smtpd_rcpt_parse(st, args, &addr, &p) < 0)
        return;
    smtpd_rcpt_add(st, addr, &p);
    smtpd_reply(st, "250 2.1.5 Ok");
    smtpd_params_free(&p);
}

/* cmd_rcpt - RCPT TO, relayed in lock-step */
static void cmd_rcpt(SMTPD_STATE *st, char *args)
{
    SMTPD_PARAMS p;
    char   *addr;

    if (smtpd_rcpt_parse(st, args, &addr, &p) < 0)
        return;
    if (st->tx_lost || st->cli == NULL) {
        smtpd_junk(st);
        smtpd_reply(st, "451 4.4.1 Error: connection to the downstream lost, try again later");
    } else {
        smtpd_rcpt_relay(st, addr, &p);
    }
    smtpd_params_free(&p);
}

/* smtpd_data_sync - after DATA was refused: input behind DATA is a
 * message the client sent without waiting for 354 (RFC 2920 forbids
 * it); read as commands it could start a transaction of its own, so
 * the session ends instead */
static void smtpd_data_sync(SMTPD_STATE *st)
{
    if (st->quit || !smtpd_input_waiting(st))
        return;
    msg_info("improper command pipelining after DATA from %s",
             st->peer && st->peer->addr ? st->peer->addr : "unknown");
    smtpd_reply(st, "421 4.5.0 %s Error: SMTP protocol synchronization, closing connection",
                smtpd_hostname());
    st->quit = 1;
}

/* smtpd_data_open - the spool file, then 354; -1 when DATA was refused
 * (or the 354 could not be sent) */
static int smtpd_data_open(SMTPD_STATE *st)
{
    VBUF   *err;
    int     fd;

    /* in LMTP the downstream comes after the verdict */
    if (st->proto != SMTPD_PROTO_LMTP && (st->tx_lost || st->cli == NULL)) {
        smtpd_reply(st, "451 4.4.1 Error: connection to the downstream lost, try again later");
        smtpd_data_sync(st);
        return -1;
    }
    err = vbuf_alloc(4096);
    if ((fd = spool_create_mem(var_spool_dir, err)) < 0) {
        msg_warn("%s", vbuf_str(err));
        smtpd_reply(st, "451 4.3.0 Error: cannot create a spool file, try again later");
        vbuf_free(err);
        smtpd_data_sync(st);
        return -1;
    }
    vbuf_free(err);
    smtpd_reply(st, "354 End data with <CR><LF>.<CR><LF>");
    if (smtpd_flush(st) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* smtpd_data_read - the message into the spool fd, through rx; 1 when
 * its end was seen, 0 when the input ended first */
static int smtpd_data_read(SMTPD_STATE *st, int fd, DATA_RX *rx)
{
    int     end = 0, limit;

    memset(rx, 0, sizeof(*rx));
    rx->state = DS_BOL;
    rx->prev_crlf = 1;                  /* the 354 line counts as a CRLF */
    rx->fd = fd;
    rx->writing = 1;
    rx->keep_oversize = outcome_keeps_message(action_for_oversize());
    rx->limit = var_message_size_limit;
    rx->obuf = mymalloc(SMTPD_OBUF);
    /* smtpd_data_deadline, or what is left of smtpd_session_deadline */
    limit = (int)var_smtpd_data_deadline;
    if (smtpd_time_left(st) < limit)
        limit = smtpd_time_left(st) > 0 ? smtpd_time_left(st) : 1;
    netio_set_deadline(st->io, limit);
    while (!end) {
        if (st->ioff == st->ilen && smtpd_fill(st) <= 0)
            break;
        st->ioff += data_scan(rx, st->ibuf + st->ioff, st->ilen - st->ioff, &end);
    }
    netio_set_deadline(st->io, 0);
    st->dot_time = clock_now();
    /* closed together with the data: not a client that gave up waiting */
    st->eof_at_dot = end && netio_peer_gone(st->io);
    myfree(rx->obuf);
    rx->obuf = NULL;
    if (msg_verbose)
        msg_debug("DATA: %lld bytes, end %d, state %s", rx->size, end, data_state_names[rx->state]);
    return end;
}

/* cmd_data - receive, decide, act (the state table has checked that
 * there is a transaction with a recipient) */
static void cmd_data(SMTPD_STATE *st, char *args)
{
    DATA_RX rx;
    char    why[256];
    int     fd, end;

    (void)args;
    if ((fd = smtpd_data_open(st)) < 0)
        return;
    end = smtpd_data_read(st, fd, &rx);
    if (!end) {
        st->where = "DATA";
        smtpd_input_lost(st);
    } else if (rx.werr) {
        snprintf(why, sizeof(why), "write to spool: %s", strerror(rx.werr));
        msg_warn("%s: %s", smtpd_queue_id(st) ? smtpd_queue_id(st) : "NOQUEUE", why);
        smtpd_final_reply(st, "451 4.3.0 Error: spool write error, try again later");
        smtpd_log(st, rx.size, VERDICT_ERROR, ACTION_DEFER, why, NULL, "deferred",
                  "spool write error");
        smtpd_downstream_rset(st);
    } else {
        smtpd_act(st, fd, rx.size, rx.oversize);
    }
    if (end) {
        /* a whole message is work, not junk: forgive what came before
         * (Postfix does so after each message it receives) */
        st->junk = 0;
        st->errors = 0;
    }
    close(fd);
    smtpd_tx_reset(st, 0);
}

/* cmd_rset - end the transaction, here and downstream */
static void cmd_rset(SMTPD_STATE *st, char *args)
{
    (void)args;
    smtpd_junk(st);
    smtpd_tx_reset(st, 1);
    smtpd_reply(st, "250 2.0.0 Ok");
}

/* cmd_noop - nothing */
static void cmd_noop(SMTPD_STATE *st, char *args)
{
    (void)args;
    smtpd_junk(st);
    smtpd_reply(st, "250 2.0.0 Ok");
}

/* cmd_quit - goodbye */
static void cmd_quit(SMTPD_STATE *st, char *args)
{
    (void)args;
    smtpd_reply(st, "221 2.0.0 Bye");
    st->quit = 1;
}

/* cmd_bdat - CHUNKING is not offered, so BDAT is refused; but the chunk
 * that follows it is skipped, so that its bytes (perhaps a message with
 * SMTP commands in it) are never taken for commands */
static void cmd_bdat(SMTPD_STATE *st, char *args)
{
    size_t  n = strspn(args, "0123456789"), take;
    long long size;

    if (n > 0 && n <= 18 && (args[n] == 0 || args[n] == ' ')) {
        for (size = strtoll(args, NULL, 10); size > 0; size -= (long long)take) {
            if (st->ioff == st->ilen && smtpd_fill(st) <= 0) {
                smtpd_input_lost(st);
                return;
            }
            take = st->ilen - st->ioff;
            if ((long long)take > size)
                take = (size_t)size;
            st->ioff += take;
        }
    }
    smtpd_error(st, "502 5.5.1 Error: command not implemented");
}

/* cmd_refused - what we cannot relay (STARTTLS, AUTH, ...) */
static void cmd_refused(SMTPD_STATE *st, char *args)
{
    (void)args;
    smtpd_error(st, "502 5.5.1 Error: command not implemented");
}

 /*
  * The command table: each verb's handler, and the states in which it is
  * allowed. One place (smtpd_state_refusal) answers a command given in
  * the wrong state, before its handler runs; the rules are checked in
  * the order of smtpd_state_rules.
  */
#define SMTPD_NO_ARGS       (1 << 0)    /* 501 with arguments */
#define SMTPD_XF_CLIENT     (1 << 1)    /* 550 unless the client may XFORWARD */
#define SMTPD_OUTSIDE_TX    (1 << 2)    /* 503 inside a transaction */
#define SMTPD_NOT_NESTED    (1 << 3)    /* 503 inside a transaction (MAIL) */
#define SMTPD_NEEDS_MAIL    (1 << 4)    /* 503 outside a transaction */
#define SMTPD_NEEDS_RCPT    (1 << 5)    /* 503 outside a transaction, 554
                                         * without an accepted recipient */
#define SMTPD_SYNC          (1 << 6)    /* a refusal is a synchronisation
                                         * point (smtpd_data_sync) */
#define SMTPD_SMTP_ONLY     (1 << 7)    /* 500 in an LMTP session */
#define SMTPD_LMTP_ONLY     (1 << 8)    /* 500 in an SMTP session */

 /*
  * What the state is, as the rules see it.
  */
#define SMTPD_WHEN_ARGS     (1 << 0)    /* the command has arguments */
#define SMTPD_WHEN_NO_XF    (1 << 1)    /* the client may not XFORWARD */
#define SMTPD_WHEN_IN_MAIL  (1 << 2)    /* a transaction is open */
#define SMTPD_WHEN_NO_MAIL  (1 << 3)    /* no transaction */
#define SMTPD_WHEN_NO_RCPT  (1 << 4)    /* no accepted recipient */
#define SMTPD_WHEN_SMTP     (1 << 5)    /* an SMTP session */
#define SMTPD_WHEN_LMTP     (1 << 6)    /* an LMTP session */

typedef struct SMTPD_RULE {
    int     flag;               /* the commands it applies to */
    int     when;               /* the state it refuses (all these bits) */
    const char *reply;          /* counted as an error */
    int     add_verb;           /* the verb follows the reply text */
} SMTPD_RULE;

static const SMTPD_RULE smtpd_state_rules[] = {
    {SMTPD_SMTP_ONLY, SMTPD_WHEN_LMTP, "500 5.5.1 Error: command not recognized in an LMTP "
     "session: ", 1},
    {SMTPD_LMTP_ONLY, SMTPD_WHEN_SMTP, "500 5.5.1 Error: command not recognized in an SMTP "
     "session: ", 1},
    {SMTPD_NO_ARGS, SMTPD_WHEN_ARGS, "501 5.5.4 Syntax: ", 1},
    {SMTPD_XF_CLIENT, SMTPD_WHEN_NO_XF, "550 5.7.0 Error: insufficient authorization", 0},
    {SMTPD_OUTSIDE_TX, SMTPD_WHEN_IN_MAIL, "503 5.5.1 Error: MAIL transaction in progress", 0},
    {SMTPD_NOT_NESTED, SMTPD_WHEN_IN_MAIL, "503 5.5.1 Error: nested MAIL command", 0},
    {SMTPD_NEEDS_MAIL, SMTPD_WHEN_NO_MAIL, "503 5.5.1 Error: need MAIL command", 0},
    {SMTPD_NEEDS_RCPT, SMTPD_WHEN_NO_MAIL, "503 5.5.1 Error: need RCPT command", 0},
    /* RFC 2033 4.2: 503, where SMTP servers say 554 */
    {SMTPD_NEEDS_RCPT, SMTPD_WHEN_NO_RCPT | SMTPD_WHEN_LMTP,
     "503 5.5.1 Error: no valid recipients", 0},
    {SMTPD_NEEDS_RCPT, SMTPD_WHEN_NO_RCPT, "554 5.5.1 Error: no valid recipients", 0},
    {0, 0, NULL, 0},
};

typedef struct SMTPD_CMD {
    const char *verb;
    void    (*action) (SMTPD_STATE *, char *);
    int     flags;              /* SMTPD_NO_ARGS, ... */
    void    (*lmtp_action) (SMTPD_STATE *, char *);  /* in LMTP, when not action */
} SMTPD_CMD;

static const SMTPD_CMD smtpd_cmd_table[] = {
    {"EHLO", cmd_ehlo, SMTPD_SMTP_ONLY, NULL},
    {"HELO", cmd_helo, SMTPD_SMTP_ONLY, NULL},
    {"LHLO", cmd_lhlo, SMTPD_LMTP_ONLY, NULL},
    {"XFORWARD", cmd_xforward, SMTPD_XF_CLIENT | SMTPD_OUTSIDE_TX, NULL},
    {"MAIL", cmd_mail, SMTPD_NOT_NESTED, cmd_mail_local},
    {"RCPT", cmd_rcpt, SMTPD_NEEDS_MAIL, cmd_rcpt_local},
    {"DATA", cmd_data, SMTPD_NO_ARGS | SMTPD_NEEDS_RCPT | SMTPD_SYNC, NULL},
    {"RSET", cmd_rset, SMTPD_NO_ARGS, NULL},
    {"NOOP", cmd_noop, 0, NULL},
    {"QUIT", cmd_quit, 0, NULL},
    {"STARTTLS", cmd_refused, 0, NULL},
    {"AUTH", cmd_refused, 0, NULL},
    {"BDAT", cmd_bdat, 0, NULL},
    {"VRFY", cmd_refused, 0, NULL},
    {"EXPN", cmd_refused, 0, NULL},
    {"ETRN", cmd_refused, 0, NULL},
    {"XCLIENT", cmd_refused, 0, NULL},
    {NULL, NULL, 0, NULL},
};

/* smtpd_cmd_find - the table entry of a verb of vlen bytes, NULL if none */
static const SMTPD_CMD *smtpd_cmd_find(const char *verb, size_t vlen)
{
    const SMTPD_CMD *cmd;

    for (cmd = smtpd_cmd_table; cmd->verb; cmd++)
        if (strlen(cmd->verb) == vlen && strncasecmp(verb, cmd->verb, vlen) == 0)
            return cmd;
    return NULL;
}

/* smtpd_state_refusal - the first rule that refuses cmd in state when */
static const SMTPD_RULE *smtpd_state_refusal(const SMTPD_CMD *cmd, int when)
{
    const SMTPD_RULE *rule;

    for (rule = smtpd_state_rules; rule->flag; rule++)
        if ((cmd->flags & rule->flag) && (when & rule->when) == rule->when)
            return rule;
    return NULL;
}

/* smtpd_when - the state as the rules see it */
static int smtpd_when(SMTPD_PROTO proto, int in_mail, int nrcpt, int xforward_ok,
                      const char *args)
{
    return (*args ? SMTPD_WHEN_ARGS : 0) | (xforward_ok ? 0 : SMTPD_WHEN_NO_XF)
        | (in_mail ? SMTPD_WHEN_IN_MAIL : SMTPD_WHEN_NO_MAIL)
        | (nrcpt == 0 ? SMTPD_WHEN_NO_RCPT : 0)
        | (proto == SMTPD_PROTO_SMTP ? SMTPD_WHEN_SMTP : 0)
        | (proto == SMTPD_PROTO_LMTP ? SMTPD_WHEN_LMTP : 0);
}

/* smtpd_state_reply_proto - the state table's answer (see smtpd.h) */
int     smtpd_state_reply_proto(const char *verb, SMTPD_PROTO proto, int in_mail, int nrcpt,
                                int xforward_ok, const char *args, VBUF *reply)
{
    const SMTPD_CMD *cmd = smtpd_cmd_find(verb, strlen(verb));
    const SMTPD_RULE *rule;

    vbuf_reset(reply);
    if (cmd == NULL)
        return -1;
    rule = smtpd_state_refusal(cmd, smtpd_when(proto, in_mail, nrcpt, xforward_ok, args));
    if (rule == NULL)
        return 0;
    vbuf_sprintf(reply, "%s%s", rule->reply, rule->add_verb ? cmd->verb : "");
    return 1;
}

/* smtpd_state_reply - the state table's answer before the protocol is
 * known (see smtpd.h) */
int     smtpd_state_reply(const char *verb, int in_mail, int nrcpt, int xforward_ok,
                          const char *args, VBUF *reply)
{
    return smtpd_state_reply_proto(verb, SMTPD_PROTO_NONE, in_mail, nrcpt, xforward_ok, args,
                                   reply);
}

/* smtpd_command - one command line */
static void smtpd_command(SMTPD_STATE *st)
{
    char   *line = st->line->data, *args;
    const SMTPD_CMD *cmd;
    const SMTPD_RULE *rule;
    size_t  vlen;

    if (strlen(line) != vbuf_len(st->line)) {
        smtpd_error(st, "500 5.5.2 Error: NUL character in command");
        return;
    }
    while (*line == ' ')
        line++;
    vlen = strcspn(line, " ");
    if (vlen == 0) {
        smtpd_error(st, "500 5.5.2 Error: bad syntax");
        return;
    }
    if ((cmd = smtpd_cmd_find(line, vlen)) == NULL) {
        smtpd_error(st, "500 5.5.2 Error: command not recognized");
        return;
    }
    if (smtpd_has_ctl(line)) {
        smtpd_error(st, "501 5.5.4 Error: control character in command");
        return;
    }
    st->where = cmd->verb;
    args = line + vlen;
    while (*args == ' ')
        args++;
    /* trailing spaces are not part of the last argument */
    for (vlen = strlen(args); vlen > 0 && args[vlen - 1] == ' '; vlen--)
        args[vlen - 1] = 0;
    rule = smtpd_state_refusal(cmd, smtpd_when(st->proto, st->in_mail, st->nrcpt,
                                               st->xforward_ok, args));
    if (rule == NULL) {
        if (st->proto == SMTPD_PROTO_LMTP && cmd->lmtp_action)
            cmd->lmtp_action(st, args);
        else
            cmd->action(st, args);
        return;
    }
    smtpd_error(st, "%s%s", rule->reply, rule->add_verb ? cmd->verb : "");
    if (cmd->flags & SMTPD_SYNC)
        smtpd_data_sync(st);
}

/* smtpd_session - serve one SMTP session */
void smtpd_session(int rfd, int wfd, const SMTPD_PEER *peer, INSPECTOR *in,
                   const char *open_err)
{
    SMTPD_STATE *st;
    int     r_dup, w_dup, got;
    const char *client = peer && peer->addr ? peer->addr : "unknown";

    /* the caller keeps its descriptors: netio closes copies */
    if ((r_dup = dup(rfd)) < 0 || (w_dup = dup(wfd)) < 0) {
        msg_warn("smtpd session from %s: dup: %s", client, strerror(errno));
        if (r_dup >= 0)
            close(r_dup);
        return;
    }
    st = mycalloc(1, sizeof(*st));
    st->io = netio_fdopen(r_dup, w_dup);
    netio_set_timeout(st->io, (int)var_smtpd_timeout);
    st->peer = peer;
    st->in = in;
    st->open_err = open_err;
    st->line = vbuf_alloc(SMTPD_LINE_MAX + 2);
    st->out = vbuf_alloc(SMTPD_REPLY_CAP);
    st->where = "CONNECT";
    st->loop = -1;
    st->mail_time = clock_now();
    st->start = st->mail_time;
    st->xforward_ok = smtpd_xforward_authorized(rfd);

    smtpd_reply(st, "220 %s ESMTP postsift", smtpd_hostname());
    while (!st->quit) {
        if (st->errors >= SMTPD_ERROR_MAX) {
            msg_info("too many errors after %s from %s", st->where, client);
            smtpd_reply(st, "421 4.7.0 %s Error: too many errors", smtpd_hostname());
            break;
        }
        if (smtpd_time_left(st) == 0) {
            smtpd_deadline_passed(st);
            break;
        }
        /* Outside a transaction a shutdown need not wait for the client's
         * next command: the read gives up at once (NETIO_INTR). */
        netio_set_interrupt(st->io, st->in_mail ? NULL : &smtpd_shutdown);
        got = smtpd_read_line(st);
        netio_set_interrupt(st->io, NULL);
        if (got < 0) {
            smtpd_input_lost(st);
            break;
        }
        if (smtpd_shutdown && !st->in_mail) {
            smtpd_reply(st, "421 4.3.2 %s Service shutting down, closing connection",
                        smtpd_hostname());
            break;
        }
        if (got == 0) {
            smtpd_error(st, "500 5.5.2 Error: line too long");
            continue;
        }
        smtpd_command(st);
    }
    netio_set_deadline(st->io, 0);
    (void)netio_flush(st->io);

    smtpd_tx_reset(st, 0);
    if (st->cli)
        smtpcli_quit(st->cli);
    myfree(st->helo);
    myfree(st->rcpt);
    vbuf_free(st->line);
    vbuf_free(st->out);
    netio_close(st->io);
    myfree(st);
}


/* smtpd_spawn_session - one session on stdin/stdout, as spawn(8) runs us */
int     smtpd_spawn_session(void)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char    host[NI_MAXHOST] = "unknown", port[NI_MAXSERV] = "";
    SMTPD_PEER peer;
    INSPECTOR *in = NULL;
    VBUF   *err = vbuf_alloc(4096);

    smtpd_spawned = 1;
    if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &sslen) == 0)
        (void)getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), port,
                          sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
    peer.addr = host;
    peer.port = port;
    if (geteuid() == 0) {
        msg_warn("postsift-filter must not run as root; set user= in the master.cf spawn entry");
        vbuf_sprintf(err, "postsift-filter runs as root");
    } else if ((in = inspector_open(err)) == NULL) {
        msg_warn("%s", vbuf_str(err));
    }
    smtpd_session(STDIN_FILENO, STDOUT_FILENO, &peer, in, vbuf_str(err));
    inspector_close(in);
    vbuf_free(err);
    return 0;
}
