/*
 * milter - postsift-filter's milter side (see milter.h)
 *
 * A command table (code, name, handler, the SMFIP_NR_* flag that spares
 * the reply) over milter_read_packet(). Handlers parse their data with
 * bounds checks only: every string must end in its NUL inside the
 * packet. The transaction state (sender, recipients, the spool file) is
 * reset by MAIL, ABORT, the end of the message, CONNECT and QUIT_NC.
 * Replies are collected in one buffer per event and written at once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "filter/milter.h"
#include "filter/counters.h"
#include "filter/outcome.h"
#include "scan/decide.h"
#include "scan/logline.h"
#include "lib/clock.h"
#include "lib/envelope.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/quarantine.h"
#include "lib/spool.h"
#include "lib/vbuf.h"

volatile sig_atomic_t milter_shutdown;

 /*
  * The protocol's numbers (libmilter's mfdef.h names).
  */
#define SMFI_VERSION_MAX    6           /* the protocol version we speak */

#define SMFIC_ABORT     'A'
#define SMFIC_BODY      'B'
#define SMFIC_CONNECT   'C'
#define SMFIC_MACRO     'D'
#define SMFIC_BODYEOB   'E'
#define SMFIC_HELO      'H'
#define SMFIC_QUIT_NC   'K'
#define SMFIC_HEADER    'L'
#define SMFIC_MAIL      'M'
#define SMFIC_EOH       'N'
#define SMFIC_OPTNEG    'O'
#define SMFIC_QUIT      'Q'
#define SMFIC_RCPT      'R'
#define SMFIC_DATA      'T'
#define SMFIC_UNKNOWN   'U'

#define SMFIR_ADDHEADER     'h'
#define SMFIR_CHGHEADER     'm'
#define SMFIR_CONTINUE      'c'
#define SMFIR_DISCARD       'd'
#define SMFIR_QUARANTINE    'q'
#define SMFIR_REPLYCODE     'y'

#define SMFIF_ADDHDRS       0x001UL
#define SMFIF_CHGHDRS       0x010UL
#define SMFIF_QUARANTINE    0x020UL
#define SMFIF_SETSYMLIST    0x100UL

#define SMFIP_NOHELO        0x00000002UL
#define SMFIP_NR_HDR        0x00000080UL
#define SMFIP_NOUNKNOWN     0x00000100UL
#define SMFIP_NODATA        0x00000200UL
#define SMFIP_NR_CONN       0x00001000UL
#define SMFIP_NR_HELO       0x00002000UL
#define SMFIP_NR_MAIL       0x00004000UL
#define SMFIP_NR_RCPT       0x00008000UL
#define SMFIP_NR_DATA       0x00010000UL
#define SMFIP_NR_UNKN       0x00020000UL
#define SMFIP_NR_EOH        0x00040000UL
#define SMFIP_NR_BODY       0x00080000UL

#define SMFIM_CONNECT   0               /* macro lists, by stage */
#define SMFIM_ENVFROM   2
#define SMFIM_EOM       5
#define SMFIM_EOH       6

/* What we ask for: header changes and the hold queue; no HELO, DATA or
 * unknown commands; no reply before the end of the message. */
#define MILTER_ACTIONS_NEEDED (SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define MILTER_ACTIONS  (MILTER_ACTIONS_NEEDED | SMFIF_QUARANTINE | SMFIF_SETSYMLIST)
#define MILTER_PROTOCOL (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR \
        | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA \
        | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY)

#define MILTER_OBUF         65536       /* spool write buffer */
#define MILTER_RCPT_MAX     10000       /* recipients per message */
#define MILTER_ADDR_MAX     SMTP_ADDRESS_MAX
#define MILTER_NAME_MAX     255         /* client name, address, queue id */
#define MILTER_FOREIGN_MAX  100         /* forged X-Virus-* headers renamed */
#define MILTER_UNTRUSTED    "X-Untrusted-"

 /*
  * A forged header of ours: which of the two names, its index among the
  * headers of that name (1 = the first, as SMFIR_CHGHEADER counts), and
  * the name and value as they came, to add back renamed.
  */
typedef struct MILTER_FOREIGN {
    int     index;
    char   *name;
    char   *value;
} MILTER_FOREIGN;

typedef struct MILTER_STATE {
    NETIO  *io;
    const char *peer;
    INSPECTOR *in;
    const char *open_err;
    VBUF   *data;                       /* the packet being handled */
    VBUF   *out;                        /* the replies to one event */
    unsigned long actions;              /* negotiated SMFIF_* */
    unsigned long proto;                /* negotiated SMFIP_* */
    int     negotiated;
    /* the connection */
    char    client_name[MILTER_NAME_MAX + 1];
    char    client_addr[MILTER_NAME_MAX + 1];
    char    queue_id[MILTER_NAME_MAX + 1];
    /* the transaction */
    int     in_msg;                     /* MAIL seen, no end or abort yet */
    char   *sender;
    char  **rcpt;
    int     nrcpt, rcpt_alloc;
    char   *body_type;                  /* MAIL BODY=, or NULL */
    int     smtputf8;
    struct timespec mail_time;
    int     fd;                         /* the spool file, or -1 */
    char   *obuf;                       /* spool write buffer */
    off_t   written;                    /* bytes in the spool file */
    size_t  olen;
    long long size;                     /* bytes of the message */
    int     oversize, keep_oversize;
    int     in_body;                    /* the empty line is written */
    int     cr;                         /* a CR ended the last body chunk */
    char    failed[256];                /* why the message must be deferred */
    int     nscanned, nstatus;          /* X-Virus-Scanned/-Status headers */
    MILTER_FOREIGN *foreign;
    int     nforeign;
} MILTER_STATE;

/* What a handler tells the loop. */
#define M_CONT  0                       /* reply continue unless spared */
#define M_DONE  1                       /* replied already, or no reply */
#define M_END   2                       /* end the session */

typedef int (*MILTER_FN) (MILTER_STATE *, const char *, size_t);

typedef struct MILTER_CMD {
    int     code;
    const char *name;
    MILTER_FN fn;
    unsigned long nr;                   /* SMFIP_NR_* that spares the reply */
} MILTER_CMD;

 /*
  * Small helpers.
  */

/* milter_get32 - a big-endian 32-bit number */
static unsigned long milter_get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;

    return ((unsigned long)u[0] << 24) | ((unsigned long)u[1] << 16)
        | ((unsigned long)u[2] << 8) | (unsigned long)u[3];
}

/* milter_put32 - append a big-endian 32-bit number */
static void milter_put32(VBUF *vb, unsigned long v)
{
    unsigned char b[4];

    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
    (void)vbuf_append(vb, b, 4);
}

/* milter_string - the NUL-terminated string at *p (before end), and *p
 * past it; NULL when no NUL ends it inside the packet */
static const char *milter_string(const char **p, const char *end)
{
    const char *s = *p, *nul;

    if (s >= end || (nul = memchr(s, '\0', (size_t)(end - s))) == NULL)
        return NULL;
    *p = nul + 1;
    return s;
}

/* milter_strip - an address without its angle brackets, as a copy */
static char *milter_strip(const char *addr)
{
    size_t  len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
        return mystrndup(addr + 1, len - 2);
    return mystrdup(addr);
}

/* milter_qid - the queue id for logs */
static const char *milter_qid(const MILTER_STATE *st)
{
    return st->queue_id[0] ? st->queue_id : "NOQUEUE";
}

 /*
  * Reading packets.
  */

/* milter_read_exact - len bytes; 0, or -1 (*got says how many came) */
static int milter_read_exact(NETIO *io, char *buf, size_t len, size_t *got)
{
    ssize_t n;

    *got = 0;
    while (*got < len) {
        if ((n = netio_read(io, buf + *got, len - *got)) <= 0)
            return -1;
        *got += (size_t)n;
    }
    return 0;
}

/* milter_read_why - what ended a read early */
static void milter_read_why(NETIO *io, VBUF *err, const char *what)
{
    if (netio_errkind(io) == NETIO_OK || netio_errkind(io) == NETIO_EOF)
        vbuf_sprintf(err, "connection closed in the middle of a %s", what);
    else
        vbuf_sprintf(err, "%s while reading a %s", netio_strerror(io), what);
}

/* milter_read_packet - see milter.h */
int     milter_read_packet(NETIO *io, int *cmd, VBUF *data, VBUF *err)
{
    char    hdr[5], chunk[16384];
    size_t  got, want, left;
    unsigned long len;

    vbuf_reset(data);
    if (milter_read_exact(io, hdr, 5, &got) < 0) {
        if (got == 0 && (netio_errkind(io) == NETIO_EOF || netio_errkind(io) == NETIO_OK))
            return 0;
        if (got == 0 && netio_errkind(io) == NETIO_INTR)
            vbuf_strcpy(err, "shutting down");
        else
            milter_read_why(io, err, "packet header");
        return -1;
    }
    len = milter_get32(hdr);
    if (len == 0 || len > MILTER_PACKET_MAX) {
        vbuf_sprintf(err, "bad packet length %lu (1 to %d)", len, MILTER_PACKET_MAX);
        return -1;
    }
    *cmd = (unsigned char)hdr[4];
    for (left = len - 1; left > 0; left -= want) {
        want = left < sizeof(chunk) ? left : sizeof(chunk);
        if (milter_read_exact(io, chunk, want, &got) < 0) {
            milter_read_why(io, err, "packet");
            return -1;
        }
        if (vbuf_append(data, chunk, want) < 0) {
            vbuf_strcpy(err, "packet too large");
            return -1;
        }
    }
    return 1;
}

 /*
  * Replies: collected in st->out, written at once by milter_flush().
  */

/* milter_reply - one reply packet: code and len bytes of data */
static void milter_reply(MILTER_STATE *st, int code, const void *data, size_t len)
{
    milter_put32(st->out, (unsigned long)len + 1);
    (void)vbuf_addch(st->out, code);
    if (len > 0)
        (void)vbuf_append(st->out, data, len);
}

/* milter_reply2 - a reply whose data is two strings, each with its NUL,
 * after an optional index (index < 0: none) */
static void milter_reply2(MILTER_STATE *st, int code, long index, const char *a, const char *b)
{
    VBUF   *d = vbuf_alloc(MILTER_PACKET_MAX);

    if (index >= 0)
        milter_put32(d, (unsigned long)index);
    (void)vbuf_append(d, a, strlen(a) + 1);
    (void)vbuf_append(d, b, strlen(b) + 1);
    milter_reply(st, code, vbuf_str(d), vbuf_len(d));
    vbuf_free(d);
}

/* milter_replycode - an SMTP reply for Postfix; '%' doubled, since
 * Postfix (like Sendmail) reads "%%" as one '%' and drops a single one */
static void milter_replycode(MILTER_STATE *st, int code, const char *dsn, const char *text)
{
    VBUF   *r = vbuf_alloc(8192);
    const char *cp;

    vbuf_sprintf(r, "%03d %s ", code, dsn);
    for (cp = text; *cp; cp++) {
        if (*cp == '%')
            (void)vbuf_addch(r, '%');
        if (*cp != '\r' && *cp != '\n')
            (void)vbuf_addch(r, *cp);
    }
    milter_reply(st, SMFIR_REPLYCODE, vbuf_str(r), vbuf_len(r) + 1);
    vbuf_free(r);
}

/* milter_flush - write the collected replies; -1 when that failed */
static int milter_flush(MILTER_STATE *st)
{
    int     ret = 0;

    if (vbuf_len(st->out) > 0
        && (netio_write(st->io, vbuf_str(st->out), vbuf_len(st->out)) < 0
            || netio_flush(st->io) < 0)) {
        msg_warn("milter session from %s: write: %s", st->peer, netio_strerror(st->io));
        ret = -1;
    }
    vbuf_reset(st->out);
    return ret;
}

 /*
  * The spool file.
  */

/* milter_fail - the message will be deferred; the first reason counts */
static void milter_fail(MILTER_STATE *st, const char *why)
{
    if (st->failed[0] == 0)
        snprintf(st->failed, sizeof(st->failed), "%s", why);
}

/* milter_spool_flush - the buffered bytes to the file */
static void milter_spool_flush(MILTER_STATE *st)
{
    char    why[128];

    if (st->olen > 0 && st->fd >= 0) {
        if (spool_write_grow(st->fd, var_spool_dir, st->written, st->obuf, st->olen) < 0) {
            snprintf(why, sizeof(why), "write to spool: %s", strerror(errno));
            milter_fail(st, why);
        } else {
            st->written += (off_t)st->olen;
        }
    }
    st->olen = 0;
}

/* milter_spool_open - the spool file, at the first byte of a message */
static void milter_spool_open(MILTER_STATE *st)
{
    VBUF   *err;

    if (st->fd >= 0 || st->failed[0])
        return;
    err = vbuf_alloc(4096);
    st->written = 0;
    if ((st->fd = spool_create_mem(var_spool_dir, err)) < 0) {
        msg_warn("%s: %s", milter_qid(st), vbuf_str(err));
        milter_fail(st, "cannot create a spool file");
    }
    vbuf_free(err);
    if (st->obuf == NULL)
        st->obuf = mymalloc(MILTER_OBUF);
    st->keep_oversize = outcome_keeps_message(action_for_oversize());
}

/* milter_put - len bytes of the message, counted, kept within the limit
 * unless the oversize action needs them */
static void milter_put(MILTER_STATE *st, const char *p, size_t len)
{
    size_t  room;

    milter_spool_open(st);
    st->size += (long long)len;
    if (var_message_size_limit > 0 && st->size > var_message_size_limit)
        st->oversize = 1;
    if (st->fd < 0 || st->failed[0] || (st->oversize && !st->keep_oversize))
        return;
    while (len > 0) {
        room = MILTER_OBUF - st->olen;
        if (room > len)
            room = len;
        memcpy(st->obuf + st->olen, p, room);
        st->olen += room;
        p += room;
        len -= room;
        if (st->olen == MILTER_OBUF)
            milter_spool_flush(st);
    }
}

/* milter_put_text - text whose CRLF line ends become LF; *cr carries a
 * CR that ended the last piece */
static void milter_put_text(MILTER_STATE *st, const char *p, size_t len, int *cr)
{
    const char *end = p + len, *q;

    if (*cr && len > 0) {
        *cr = 0;
        if (*p != '\n')
            milter_put(st, "\r", 1);
    }
    while (p < end) {
        if ((q = memchr(p, '\r', (size_t)(end - p))) == NULL) {
            milter_put(st, p, (size_t)(end - p));
            return;
        }
        milter_put(st, p, (size_t)(q - p));
        if (q + 1 == end) {
            *cr = 1;                    /* decided by the next byte */
            return;
        }
        if (q[1] != '\n')
            milter_put(st, "\r", 1);
        p = q + 1;
    }
}

 /*
  * The transaction and the connection.
  */

/* milter_tx_reset - forget the message */
static void milter_tx_reset(MILTER_STATE *st)
{
    int     i;

    for (i = 0; i < st->nrcpt; i++)
        myfree(st->rcpt[i]);
    st->nrcpt = 0;
    myfree(st->sender);
    st->sender = NULL;
    myfree(st->body_type);
    st->body_type = NULL;
    for (i = 0; i < st->nforeign; i++) {
        myfree(st->foreign[i].name);
        myfree(st->foreign[i].value);
    }
    st->nforeign = 0;
    if (st->fd >= 0)
        (void)close(st->fd);
    st->fd = -1;
    st->olen = 0;
    st->size = 0;
    st->smtputf8 = st->oversize = st->in_body = st->cr = st->in_msg = 0;
    st->nscanned = st->nstatus = 0;
    st->failed[0] = 0;
}

/* milter_conn_reset - forget the client too (CONNECT, QUIT_NC) */
static void milter_conn_reset(MILTER_STATE *st)
{
    milter_tx_reset(st);
    st->client_name[0] = st->client_addr[0] = st->queue_id[0] = 0;
}

/* milter_set_name - a printable copy of a peer's string in dst */
static void milter_set_name(char *dst, const char *s)
{
    printable_copy(dst, MILTER_NAME_MAX + 1, s, MILTER_NAME_MAX, PRINTABLE_ASCII);
}

/* milter_client - "name[addr]" for the log */
static const char *milter_client(const MILTER_STATE *st, VBUF *buf)
{
    const char *name = st->client_name[0] && st->client_name[0] != '[' ? st->client_name
        : "unknown";
    const char *addr = st->client_addr[0] ? st->client_addr : "unknown";

    vbuf_sprintf(buf, "%s[%s]", name, addr);
    return vbuf_str(buf);
}

/* milter_log - the one line for this message */
static void milter_log(const MILTER_STATE *st, VERDICT verdict, ACTION action, const char *detail,
                       const char *queued_as, const char *status, const char *why)
{
    LOGLINE ll;
    VBUF   *client = vbuf_alloc(1024);

    memset(&ll, 0, sizeof(ll));
    ll.queue_id = st->queue_id;
    ll.client = milter_client(st, client);
    ll.sender = st->sender ? st->sender : "";
    ll.rcpt = (const char *const *)st->rcpt;
    ll.nrcpt = st->nrcpt;
    ll.size = st->size;
    ll.verdict = verdict;
    ll.action = action;
    ll.detail = detail;
    ll.queued_as = queued_as;
    ll.delay = (double)clock_ms_since(st->mail_time) / 1000.0;
    ll.status = status;
    ll.why = why;
    logline_log(&ll);
    counters_message(METRICS_DESIGN_MILTER, st->size, verdict, action, status, why);
    vbuf_free(client);
}

 /*
  * Commands. Each handler gets the packet's data.
  */

/* cmd_optneg - the versions, actions and events; our answer, with the
 * macros we want when Postfix lets us name them */
static int cmd_optneg(MILTER_STATE *st, const char *p, size_t len)
{
    static const struct {
        unsigned long stage;
        const char *macros;
    } lists[] = {
        {SMFIM_CONNECT, "{client_addr} {client_name}"},
        {SMFIM_ENVFROM, "i"},
        {SMFIM_EOH, "i"},
        {SMFIM_EOM, "i"},
    };
    unsigned long version, actions, proto;
    VBUF   *r;
    size_t  i;

    if (len < 12) {
        msg_warn("milter session from %s: option negotiation of %zu bytes", st->peer, len);
        return M_END;
    }
    version = milter_get32(p);
    actions = milter_get32(p + 4);
    proto = milter_get32(p + 8);
    if (version < 2 || (actions & MILTER_ACTIONS_NEEDED) != MILTER_ACTIONS_NEEDED) {
        msg_warn("milter session from %s: the MTA offers protocol version %lu, actions "
                 "0x%lx: we need version 2 or later and the right to add and change headers",
                 st->peer, version, actions);
        return M_END;
    }
    st->actions = actions & MILTER_ACTIONS;
    st->proto = proto & MILTER_PROTOCOL;
    st->negotiated = 1;
    r = vbuf_alloc(1024);
    milter_put32(r, version < SMFI_VERSION_MAX ? version : SMFI_VERSION_MAX);
    milter_put32(r, st->actions);
    milter_put32(r, st->proto);
    for (i = 0; (st->actions & SMFIF_SETSYMLIST) && i < sizeof(lists) / sizeof(lists[0]); i++) {
        milter_put32(r, lists[i].stage);
        (void)vbuf_append(r, lists[i].macros, strlen(lists[i].macros) + 1);
    }
    milter_reply(st, SMFIC_OPTNEG, vbuf_str(r), vbuf_len(r));
    vbuf_free(r);
    return M_DONE;
}

/* cmd_macro - name/value pairs for the next command: we keep {i} (the
 * queue id) and the client's name and address */
static int cmd_macro(MILTER_STATE *st, const char *p, size_t len)
{
    const char *end = p + len, *name, *value;
    size_t  nlen;

    if (len < 1)
        return M_DONE;
    p++;                                /* the command they are for */
    while ((name = milter_string(&p, end)) != NULL && (value = milter_string(&p, end)) != NULL) {
        nlen = strlen(name);
        if (nlen >= 2 && name[0] == '{' && name[nlen - 1] == '}') {
            name++;
            nlen -= 2;
        }
        if (nlen == 1 && name[0] == 'i')
            milter_set_name(st->queue_id, value);
        else if (nlen == 11 && strncmp(name, "client_addr", nlen) == 0 && !st->client_addr[0])
            milter_set_name(st->client_addr, value);
        else if (nlen == 11 && strncmp(name, "client_name", nlen) == 0 && !st->client_name[0])
            milter_set_name(st->client_name, value);
    }
    return M_DONE;
}

/* cmd_connect - hostname, family, port, address: the client */
static int cmd_connect(MILTER_STATE *st, const char *p, size_t len)
{
    const char *end = p + len, *host, *addr;

    /* the macros that came before this packet stay */
    milter_tx_reset(st);
    if ((host = milter_string(&p, end)) == NULL || p >= end) {
        msg_warn("milter session from %s: malformed connect information", st->peer);
        return M_END;
    }
    milter_set_name(st->client_name, host);
    if (*p++ != 'U' && end - p >= 2) {
        p += 2;                         /* the port */
        if ((addr = milter_string(&p, end)) != NULL)
            milter_set_name(st->client_addr, addr);
    }
    return M_CONT;
}

/* cmd_helo - nothing we need */
static int cmd_helo(MILTER_STATE *st, const char *p, size_t len)
{
    (void)st;
    (void)p;
    (void)len;
    return M_CONT;
}

/* cmd_mail - a new transaction: the sender and its parameters */
static int cmd_mail(MILTER_STATE *st, const char *p, size_t len)
{
    const char *end = p + len, *arg;
    char    qid[MILTER_NAME_MAX + 1];

    /* {i} may come with this command's macros, before it */
    memcpy(qid, st->queue_id, sizeof(qid));
    milter_tx_reset(st);
    memcpy(st->queue_id, qid, sizeof(qid));
    if ((arg = milter_string(&p, end)) == NULL || strlen(arg) > MILTER_ADDR_MAX) {
        msg_warn("milter session from %s: malformed MAIL", st->peer);
        return M_END;
    }
    st->sender = milter_strip(arg);
    while ((arg = milter_string(&p, end)) != NULL) {
        if (strncasecmp(arg, "BODY=", 5) == 0 && st->body_type == NULL && strlen(arg) < 32)
            st->body_type = mystrdup(arg + 5);
        else if (strcasecmp(arg, "SMTPUTF8") == 0)
            st->smtputf8 = 1;
    }
    st->in_msg = 1;
    st->mail_time = clock_now();
    return M_CONT;
}

/* cmd_rcpt - one more recipient */
static int cmd_rcpt(MILTER_STATE *st, const char *p, size_t len)
{
    const char *arg;

    if ((arg = milter_string(&p, p + len)) == NULL || strlen(arg) > MILTER_ADDR_MAX) {
        msg_warn("milter session from %s: malformed RCPT", st->peer);
        return M_END;
    }
    if (st->nrcpt >= MILTER_RCPT_MAX) {
        milter_fail(st, "too many recipients");
        return M_CONT;
    }
    if (st->nrcpt == st->rcpt_alloc) {
        st->rcpt_alloc = st->rcpt_alloc ? 2 * st->rcpt_alloc : 8;
        st->rcpt = myrealloc(st->rcpt, (size_t)st->rcpt_alloc * sizeof(*st->rcpt));
    }
    st->rcpt[st->nrcpt++] = milter_strip(arg);
    return M_CONT;
}

/* cmd_data - nothing we need */
static int cmd_data(MILTER_STATE *st, const char *p, size_t len)
{
    return cmd_helo(st, p, len);
}

/* milter_foreign - an X-Virus-Scanned or X-Virus-Status header from
 * outside: note its index, name and value to rename it */
static void milter_foreign(MILTER_STATE *st, const char *name, const char *value)
{
    size_t  nlen = strlen(name);
    int     index;

    while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
        nlen--;
    if (nlen == 15 && strncasecmp(name, "X-Virus-Scanned", 15) == 0)
        index = ++st->nscanned;
    else if (nlen == 14 && strncasecmp(name, "X-Virus-Status", 14) == 0)
        index = ++st->nstatus;
    else
        return;
    if (st->nforeign >= MILTER_FOREIGN_MAX) {
        milter_fail(st, "too many X-Virus-* headers to rename");
        return;
    }
    if (st->foreign == NULL)
        st->foreign = mycalloc(MILTER_FOREIGN_MAX, sizeof(*st->foreign));
    st->foreign[st->nforeign].index = index;
    st->foreign[st->nforeign].name = mystrdup(name);
    st->foreign[st->nforeign].value = mystrdup(value);
    st->nforeign++;
}

/* cmd_header - "Name: value" into the spool, as it came (LF line ends) */
static int cmd_header(MILTER_STATE *st, const char *p, size_t len)
{
    const char *end = p + len, *name, *value;
    int     cr = 0;

    if ((name = milter_string(&p, end)) == NULL || (value = milter_string(&p, end)) == NULL) {
        msg_warn("milter session from %s: malformed header", st->peer);
        return M_END;
    }
    milter_foreign(st, name, value);
    milter_put(st, name, strlen(name));
    milter_put(st, ": ", 2);
    milter_put_text(st, value, strlen(value), &cr);
    if (cr)
        milter_put(st, "\r", 1);
    milter_put(st, "\n", 1);
    return M_CONT;
}

/* cmd_eoh - the empty line after the headers */
static int cmd_eoh(MILTER_STATE *st, const char *p, size_t len)
{
    (void)p;
    (void)len;
    if (!st->in_body) {
        milter_put(st, "\n", 1);
        st->in_body = 1;
    }
    return M_CONT;
}

/* cmd_body - a body chunk (CRLF line ends become LF) */
static int cmd_body(MILTER_STATE *st, const char *p, size_t len)
{
    (void)cmd_eoh(st, p, 0);
    milter_put_text(st, p, len, &st->cr);
    return M_CONT;
}

/* cmd_abort - the message is off; the connection goes on */
static int cmd_abort(MILTER_STATE *st, const char *p, size_t len)
{
    (void)p;
    (void)len;
    milter_tx_reset(st);
    st->queue_id[0] = 0;
    return M_DONE;
}

/* cmd_quit - the end */
static int cmd_quit(MILTER_STATE *st, const char *p, size_t len)
{
    (void)st;
    (void)p;
    (void)len;
    return M_END;
}

/* cmd_quit_nc - the end of one client; another one follows */
static int cmd_quit_nc(MILTER_STATE *st, const char *p, size_t len)
{
    (void)p;
    (void)len;
    milter_conn_reset(st);
    return M_DONE;
}

/* cmd_unknown - an SMTP command Postfix did not know */
static int cmd_unknown(MILTER_STATE *st, const char *p, size_t len)
{
    return cmd_helo(st, p, len);
}

 /*
  * The end of the message: decide, act, log.
  */

/* milter_envelope - for a command scanner and the quarantine (free
 * env->rcpt after) */
static void milter_envelope(const MILTER_STATE *st, SMTP_ENVELOPE *env)
{
    int     i;

    memset(env, 0, sizeof(*env));
    env->sender = st->sender ? st->sender : "";
    if (st->body_type && strcasecmp(st->body_type, "8BITMIME") == 0)
        env->body = "8BITMIME";
    else if (st->body_type && strcasecmp(st->body_type, "7BIT") == 0)
        env->body = "7BIT";
    env->smtputf8 = st->smtputf8;
    env->rcpt = mycalloc(st->nrcpt > 0 ? (size_t)st->nrcpt : 1, sizeof(*env->rcpt));
    for (i = 0; i < st->nrcpt; i++)
        env->rcpt[i].addr = st->rcpt[i];
    env->nrcpt = st->nrcpt;
    env->xf_ident = st->queue_id[0] ? st->queue_id : NULL;
    env->xf_addr = st->client_addr[0] ? st->client_addr : NULL;
    env->xf_name = st->client_name[0] ? st->client_name : NULL;
}

/* milter_add_headers - an SMFIR_ADDHEADER for each "Name: value" line
 * of block (LF-terminated lines) */
static void milter_add_headers(MILTER_STATE *st, const char *block)
{
    const char *p, *nl, *colon, *value;
    char   *name, *val;

    for (p = block; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        if ((colon = memchr(p, ':', (size_t)(nl - p))) == NULL)
            continue;
        value = colon + 1;
        if (value < nl && *value == ' ')
            value++;                    /* Postfix puts the space back */
        name = mystrndup(p, (size_t)(colon - p));
        val = mystrndup(value, (size_t)(nl - value));
        milter_reply2(st, SMFIR_ADDHEADER, -1, name, val);
        myfree(name);
        myfree(val);
    }
}

/* milter_pass - pass and tag: forged headers renamed (deleted, the last
 * of each name first so that no index moves, then added back under the
 * new name), ours added, and on */
static void milter_pass(MILTER_STATE *st, const DECISION *d)
{
    VBUF   *name = vbuf_alloc(1024);
    int     i;

    if (d->replaced)
        msg_warn("%s: a milter cannot replace the message: the command scanner's "
                 "replacement is not used", milter_qid(st));
    for (i = st->nforeign - 1; i >= 0; i--)
        milter_reply2(st, SMFIR_CHGHEADER, st->foreign[i].index, st->foreign[i].name, "");
    for (i = 0; i < st->nforeign; i++) {
        vbuf_sprintf(name, MILTER_UNTRUSTED "%s", st->foreign[i].name);
        milter_reply2(st, SMFIR_ADDHEADER, -1, vbuf_str(name), st->foreign[i].value);
    }
    milter_add_headers(st, vbuf_str(d->prefix));
    milter_reply(st, SMFIR_CONTINUE, NULL, 0);
    vbuf_free(name);
}

/* milter_quarantine - the hold queue, or quarantine_dir and a discard;
 * o says how it went */
static void milter_quarantine(MILTER_STATE *st, const SMTP_ENVELOPE *env, const DECISION *d,
                              OUTCOME *o)
{
    VBUF   *id = vbuf_alloc(256), *err = vbuf_alloc(4096);
    char    detail[301];

    if (outcome_method(OUTCOME_MILTER) == OUTCOME_METHOD_HOLD) {
        if (st->actions & SMFIF_QUARANTINE) {
            outcome_held(o, OUTCOME_MILTER, d);
            vbuf_sprintf(id, "postsift: %s: %s", verdict_names[d->verdict],
                         printable_copy(detail, sizeof(detail), vbuf_str(d->detail), 300,
                                        PRINTABLE_ASCII));
            milter_reply(st, SMFIR_QUARANTINE, vbuf_str(id), vbuf_len(id) + 1);
            milter_reply(st, SMFIR_CONTINUE, NULL, 0);
            vbuf_free(id);
            vbuf_free(err);
            return;
        }
        msg_warn("%s: the MTA does not let us quarantine: storing in quarantine_dir",
                 milter_qid(st));
    }
    if (quarantine_store(var_quarantine_dir, env, st->fd, verdict_names[d->verdict],
                         vbuf_str(d->detail), env->xf_ident, id, err) < 0) {
        msg_warn("%s: quarantine failed: %s", milter_qid(st), vbuf_str(err));
        outcome_stored(o, OUTCOME_MILTER, d, NULL, vbuf_str(err));
        milter_replycode(st, o->code, o->dsn, vbuf_str(o->text));
    } else {
        outcome_stored(o, OUTCOME_MILTER, d, vbuf_str(id), NULL);
        milter_reply(st, SMFIR_DISCARD, NULL, 0);
    }
    vbuf_free(id);
    vbuf_free(err);
}

/* milter_decide - decide_message(), then the replies that carry it out */
static void milter_decide(MILTER_STATE *st)
{
    SMTP_ENVELOPE env;
    DECISION d;
    OUTCOME o;

    decision_init(&d);
    outcome_init(&o);
    milter_envelope(st, &env);
    counters_decide(st->in, st->open_err, st->fd, st->oversize, &env, &d);
    if (d.verdict == VERDICT_ERROR)
        msg_warn("%s: %s", milter_qid(st), vbuf_str(d.detail));
    outcome_for(&o, OUTCOME_MILTER, &d);
    switch (o.todo) {
    case OUTCOME_RELAY:
        milter_pass(st, &d);
        break;
    case OUTCOME_QUARANTINE:
        milter_quarantine(st, &env, &d, &o);
        break;
    case OUTCOME_DROP:
        milter_reply(st, SMFIR_DISCARD, NULL, 0);
        break;
    default:
        milter_replycode(st, o.code, o.dsn, vbuf_str(o.text));
        break;
    }
    milter_log(st, d.verdict, d.action, vbuf_str(d.detail),
               vbuf_len(o.queued_as) ? vbuf_str(o.queued_as) : NULL, o.status, vbuf_str(o.why));
    myfree(env.rcpt);
    outcome_free(&o);
    decision_free(&d);
}

/* cmd_eob - the last body chunk: the message is complete */
static int cmd_eob(MILTER_STATE *st, const char *p, size_t len)
{
    char    text[320];

    (void)cmd_body(st, p, len);
    if (st->cr) {
        milter_put(st, "\r", 1);
        st->cr = 0;
    }
    milter_spool_open(st);
    milter_spool_flush(st);
    if (st->failed[0]) {
        msg_warn("%s: %s", milter_qid(st), st->failed);
        snprintf(text, sizeof(text), "Error: %s, try again later", st->failed);
        milter_replycode(st, 451, "4.3.0", text);
        milter_log(st, VERDICT_ERROR, ACTION_DEFER, st->failed, NULL, "deferred", st->failed);
    } else {
        milter_decide(st);
    }
    milter_tx_reset(st);
    st->queue_id[0] = 0;
    return M_DONE;
}

 /*
  * The session.
  */

static const MILTER_CMD milter_cmds[] = {
    {SMFIC_OPTNEG, "OPTNEG", cmd_optneg, 0},
    {SMFIC_MACRO, "MACRO", cmd_macro, 0},
    {SMFIC_CONNECT, "CONNECT", cmd_connect, SMFIP_NR_CONN},
    {SMFIC_HELO, "HELO", cmd_helo, SMFIP_NR_HELO},
    {SMFIC_MAIL, "MAIL", cmd_mail, SMFIP_NR_MAIL},
    {SMFIC_RCPT, "RCPT", cmd_rcpt, SMFIP_NR_RCPT},
    {SMFIC_DATA, "DATA", cmd_data, SMFIP_NR_DATA},
    {SMFIC_HEADER, "HEADER", cmd_header, SMFIP_NR_HDR},
    {SMFIC_EOH, "EOH", cmd_eoh, SMFIP_NR_EOH},
    {SMFIC_BODY, "BODY", cmd_body, SMFIP_NR_BODY},
    {SMFIC_BODYEOB, "BODYEOB", cmd_eob, 0},
    {SMFIC_ABORT, "ABORT", cmd_abort, 0},
    {SMFIC_QUIT, "QUIT", cmd_quit, 0},
    {SMFIC_QUIT_NC, "QUIT_NC", cmd_quit_nc, 0},
    {SMFIC_UNKNOWN, "UNKNOWN", cmd_unknown, SMFIP_NR_UNKN},
    {0, NULL, NULL, 0},
};

/* milter_dispatch - one packet: the handler, then the replies; -1 ends
 * the session */
static int milter_dispatch(MILTER_STATE *st, int code)
{
    const MILTER_CMD *c;
    int     how;

    for (c = milter_cmds; c->name && c->code != code; c++)
         /* void */ ;
    if (c->name == NULL) {
        msg_warn("milter session from %s: unknown command 0x%02x", st->peer, (unsigned)code);
        return -1;
    }
    if (!st->negotiated && code != SMFIC_OPTNEG) {
        msg_warn("milter session from %s: %s before the option negotiation", st->peer, c->name);
        return -1;
    }
    if (msg_verbose)
        msg_debug("milter %s: %zu bytes", c->name, vbuf_len(st->data));
    how = c->fn(st, vbuf_str(st->data), vbuf_len(st->data));
    if (how == M_END)
        return -1;
    if (how == M_CONT && (st->proto & c->nr) == 0)
        milter_reply(st, SMFIR_CONTINUE, NULL, 0);
    return milter_flush(st);
}

/* milter_session - see milter.h */
void    milter_session(int fd, const char *peer, INSPECTOR *in, const char *open_err)
{
    MILTER_STATE *st;
    VBUF   *err;
    int     dfd, cmd, got;

    if ((dfd = dup(fd)) < 0) {
        msg_warn("milter session from %s: dup: %s", peer ? peer : "unknown", strerror(errno));
        return;
    }
    st = mycalloc(1, sizeof(*st));
    st->io = netio_fdopen(dfd, dfd);
    netio_set_timeout(st->io, (int)var_milter_timeout);
    netio_set_quickack(st->io, 1);
    st->peer = peer ? peer : "unknown";
    st->in = in;
    st->open_err = open_err;
    st->data = vbuf_alloc(MILTER_PACKET_MAX);
    st->out = vbuf_alloc(VBUF_DEFAULT_CAP);
    st->fd = -1;
    err = vbuf_alloc(1024);
    while (!(milter_shutdown && !st->in_msg)) {
        /* idle between messages, a shutdown need not wait for Postfix */
        netio_set_deadline(st->io, (int)var_milter_timeout);
        netio_set_interrupt(st->io, st->in_msg ? NULL : &milter_shutdown);
        got = milter_read_packet(st->io, &cmd, st->data, err);
        netio_set_interrupt(st->io, NULL);
        if (got < 0 && !(milter_shutdown && !st->in_msg))
            msg_warn("milter session from %s: %s", st->peer, vbuf_str(err));
        if (got <= 0 || milter_dispatch(st, cmd) < 0)
            break;
    }
    if (st->in_msg)
        msg_info("%s: milter session from %s ended in the middle of a message",
                 milter_qid(st), st->peer);
    milter_tx_reset(st);
    myfree(st->rcpt);
    myfree(st->obuf);
    myfree(st->foreign);
    vbuf_free(st->data);
    vbuf_free(st->out);
    vbuf_free(err);
    netio_close(st->io);
    myfree(st);
}
