/*
 * smtpcli - the SMTP/LMTP client protocol (see smtpcli.h)
 *
 * One session is one NETIO with the per-command timeout and the session
 * deadline. Commands are built in a VBUF, checked for line breaks (envelope
 * data must never smuggle a second command in), written, and flushed when
 * the replies are wanted: after every command, or after a batch of MAIL and
 * RCPT commands when the server offers PIPELINING. A reply that does not
 * come, or does not parse, ends the session: its code is 0 and its text
 * says what happened in Postfix's words ("lost connection with X while
 * sending RCPT TO"), and every later call gets the same answer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/vbuf.h"
#include "smtpcli/dotstuff.h"
#include "smtpcli/smtpcli.h"

#define SMTP_DATA_CHUNK     (64 * 1024)     /* bytes read from the source at once */
#define SMTP_PIPE_BATCH     100             /* commands written before replies are read */
#define SMTP_XFORWARD_MAX   512             /* XFORWARD line, CRLF included */
/* no command line is longer: RCPT TO with a quoted SMTP_ADDRESS_MAX address
 * (2x) and an xtext ORCPT of one (3x), NOTIFY and room to spare */
#define SMTP_CMD_CAP        (6 * SMTP_ADDRESS_MAX + 1024)
#define SMTP_NAME_MAX       300

struct SMTPCLI {
    NETIO  *io;                 /* NULL once closed after an error */
    char    name[SMTP_NAME_MAX];    /* the server, for error texts */
    char   *helo;
    int     timeout;
    int     lmtp;
    char  **ext;                /* EHLO reply lines after the first */
    int     next;
    VBUF   *line;               /* one reply line */
    VBUF   *cmd;                /* one command line */
    VBUF   *why;                /* why the session is dead */
    int     dead;               /* no more commands: see why */
    int     naccepted;          /* 2xx RCPT replies since MAIL */
};

static SMTPCLI_TRACE smtpcli_trace_fn;
static void *smtpcli_trace_ctx;

/* smtpcli_set_trace - watch commands and replies */
void smtpcli_set_trace(SMTPCLI_TRACE fn, void *ctx)
{
    smtpcli_trace_fn = fn;
    smtpcli_trace_ctx = ctx;
}

/* smtpcli_trace - report one line to the hook and the verbose log */
static void smtpcli_trace(int dir, const char *line)
{
    if (smtpcli_trace_fn)
        smtpcli_trace_fn(smtpcli_trace_ctx, dir, line);
    if (msg_verbose)
        msg_debug("%c %s", dir, line);
}

/* smtp_reply_copy - dst becomes a copy of src */
static void smtp_reply_copy(SMTP_REPLY *dst, const SMTP_REPLY *src)
{
    if (dst == src)
        return;
    if (dst->text == NULL)
        smtp_reply_init(dst);
    dst->code = src->code;
    memcpy(dst->dsn, src->dsn, sizeof(dst->dsn));
    vbuf_reset(dst->text);
    if (src->text)
        vbuf_append(dst->text, vbuf_str(src->text), vbuf_len(src->text));
}

 /*
  * The session's end: every failure that leaves the protocol out of step.
  */

/* smtpcli_kill - close the connection; later calls answer with why */
static void smtpcli_kill(SMTPCLI *cli, const SMTP_REPLY *reply)
{
    if (!cli->dead) {
        cli->dead = 1;
        vbuf_strcpy(cli->why, reply->text ? vbuf_str(reply->text) : "connection closed");
    }
    if (cli->io) {
        netio_close(cli->io);
        cli->io = NULL;
    }
}

/* smtpcli_io_fail - a read or write failed: code 0, Postfix-style text */
static int smtpcli_io_fail(SMTPCLI *cli, SMTP_REPLY *reply, const char *phase)
{
    const char *suffix = strcmp(phase, "sending end of data") == 0 ?
        " -- message may be sent more than once" : "";

    switch (cli->io ? netio_errkind(cli->io) : NETIO_EOF) {
    case NETIO_TIMEOUT:
        smtp_reply_set(reply, 0, "4.4.2", "conversation with %s timed out while %s%s",
                       cli->name, phase, suffix);
        break;
    case NETIO_TOOLONG:
        smtp_reply_set(reply, 0, "4.5.0", "reply line too long from %s while %s",
                       cli->name, phase);
        break;
    case NETIO_IOERR:
        smtp_reply_set(reply, 0, "4.4.2", "lost connection with %s while %s (%s)%s",
                       cli->name, phase, netio_strerror(cli->io), suffix);
        break;
    default:
        smtp_reply_set(reply, 0, "4.4.2", "lost connection with %s while %s%s",
                       cli->name, phase, suffix);
        break;
    }
    smtpcli_kill(cli, reply);
    return 0;
}

/* smtpcli_check_dead - answer for a dead session; 1 when dead */
static int smtpcli_check_dead(SMTPCLI *cli, SMTP_REPLY *reply)
{
    if (!cli->dead)
        return 0;
    smtp_reply_set(reply, 0, "4.4.2", "%s", vbuf_str(cli->why));
    return 1;
}

 /*
  * Replies.
  */

/* smtpcli_read_reply - read and parse one reply; returns its code */
static int smtpcli_read_reply(SMTPCLI *cli, SMTP_REPLY *reply, const char *phase)
{
    char   *lines[SMTP_REPLY_MAX];
    char    bad[120];
    int     n = 0, i, rc;

    if (smtpcli_check_dead(cli, reply))
        return 0;
    for (;;) {
        if (netio_read_line(cli->io, cli->line, SMTP_LINE_MAX, NULL) < 0) {
            for (i = 0; i < n; i++)
                myfree(lines[i]);
            return smtpcli_io_fail(cli, reply, phase);
        }
        lines[n++] = mystrndup(vbuf_str(cli->line), vbuf_len(cli->line));
        smtpcli_trace('<', lines[n - 1]);
        if (vbuf_len(cli->line) < 4 || vbuf_str(cli->line)[3] != '-' || n == SMTP_REPLY_MAX)
            break;
    }
    rc = smtp_reply_parse(reply, (const char *const *)lines, n);
    if (rc < 0) {
        msg_printable(bad, sizeof(bad), lines[n - 1]);
        smtp_reply_set(reply, 0, "4.5.0", "malformed reply from %s while %s: %s",
                       cli->name, phase, bad);
        smtpcli_kill(cli, reply);
    }
    for (i = 0; i < n; i++)
        myfree(lines[i]);
    return reply->code;
}

 /*
  * Commands.
  */

/* smtpcli_cmd_ok - the command in cli->cmd is one line; else a local error */
static int smtpcli_cmd_ok(SMTPCLI *cli, SMTP_REPLY *reply, const char *what)
{
    const char *s = vbuf_str(cli->cmd);

    if (vbuf_overflowed(cli->cmd)) {
        smtp_reply_set(reply, 0, "4.3.0", "%s command is too long", what);
        return 0;
    }
    if (strlen(s) != vbuf_len(cli->cmd) || strpbrk(s, "\r\n") != NULL) {
        smtp_reply_set(reply, 0, "4.3.0", "%s: line break or NUL in envelope data", what);
        return 0;
    }
    return 1;
}

/* smtpcli_put - write cli->cmd and CRLF (buffered); 0 or -1 (reply set) */
static int smtpcli_put(SMTPCLI *cli, SMTP_REPLY *reply, const char *phase)
{
    if (smtpcli_check_dead(cli, reply))
        return -1;
    smtpcli_trace('>', vbuf_str(cli->cmd));
    if (netio_write(cli->io, vbuf_str(cli->cmd), vbuf_len(cli->cmd)) < 0
        || netio_write(cli->io, "\r\n", 2) < 0) {
        smtpcli_io_fail(cli, reply, phase);
        return -1;
    }
    return 0;
}

/* smtpcli_flush - send what is buffered; 0 or -1 (reply set) */
static int smtpcli_flush(SMTPCLI *cli, SMTP_REPLY *reply, const char *phase)
{
    if (smtpcli_check_dead(cli, reply))
        return -1;
    if (netio_flush(cli->io) < 0) {
        smtpcli_io_fail(cli, reply, phase);
        return -1;
    }
    return 0;
}

/* smtpcli_command - send cli->cmd, wait for the reply; returns its code */
static int smtpcli_command(SMTPCLI *cli, SMTP_REPLY *reply, const char *phase)
{
    if (smtpcli_put(cli, reply, phase) < 0 || smtpcli_flush(cli, reply, phase) < 0)
        return 0;
    return smtpcli_read_reply(cli, reply, phase);
}

/* smtpcli_word_ok - s is a non-empty run of letters, digits, ',' or '-' */
static int smtpcli_word_ok(const char *s)
{
    if (s == NULL || *s == 0)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != ',' && *s != '-')
            return 0;
    return 1;
}

 /*
  * Opening a session.
  */

/* smtpcli_free - release everything */
static void smtpcli_free(SMTPCLI *cli)
{
    int i;

    if (cli->io)
        netio_close(cli->io);
    for (i = 0; i < cli->next; i++)
        myfree(cli->ext[i]);
    myfree(cli->ext);
    myfree(cli->helo);
    vbuf_free(cli->line);
    vbuf_free(cli->cmd);
    vbuf_free(cli->why);
    myfree(cli);
}

/* smtpcli_new - a session around an open connection */
static SMTPCLI *smtpcli_new(NETIO *io, const char *name, const SMTPCLI_OPTS *opts)
{
    SMTPCLI *cli = mycalloc(1, sizeof(*cli));
    char host[256];

    cli->io = io;
    snprintf(cli->name, sizeof(cli->name), "%.250s", name);
    if (opts->helo && *opts->helo) {
        cli->helo = mystrdup(opts->helo);
    } else {
        if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        cli->helo = mystrdup(host);
    }
    cli->timeout = opts->timeout;
    cli->lmtp = opts->lmtp;
    cli->line = vbuf_alloc(SMTP_LINE_MAX + 2);
    cli->cmd = vbuf_alloc(SMTP_CMD_CAP);
    cli->why = vbuf_alloc(4096);
    netio_set_timeout(io, opts->timeout);
    netio_set_deadline(io, opts->deadline);
    return cli;
}

/* smtpcli_save_ext - remember the EHLO keywords (lines after the first) */
static void smtpcli_save_ext(SMTPCLI *cli, const SMTP_REPLY *r)
{
    const char *p = vbuf_str(r->text), *nl;

    cli->ext = mycalloc(SMTP_REPLY_MAX, sizeof(char *));
    if ((nl = strchr(p, '\n')) == NULL)
        return;
    for (p = nl + 1; *p && cli->next < SMTP_REPLY_MAX; p = nl + 1) {
        nl = strchr(p, '\n');
        cli->ext[cli->next++] = nl ? mystrndup(p, (size_t)(nl - p)) : mystrdup(p);
        if (nl == NULL)
            break;
    }
}

/* smtpcli_start - greeting and EHLO/LHLO (HELO when EHLO is refused) */
static SMTPCLI *smtpcli_start(SMTPCLI *cli, SMTP_REPLY *reply)
{
    const char *verb = cli->lmtp ? "LHLO" : "EHLO";
    int code;

    cli->ext = NULL;
    code = smtpcli_read_reply(cli, reply, "receiving the initial server greeting");
    if (code == 0)
        goto fail;
    if (code / 100 != 2)
        goto refused;
    vbuf_sprintf(cli->cmd, "%s %s", verb, cli->helo);
    if (!smtpcli_cmd_ok(cli, reply, verb))
        goto fail;
    code = smtpcli_command(cli, reply, cli->lmtp ? "sending LHLO" : "sending EHLO");
    if (code / 100 == 5 && !cli->lmtp) {
        vbuf_sprintf(cli->cmd, "HELO %s", cli->helo);
        code = smtpcli_command(cli, reply, "sending HELO");
        if (code / 100 == 2) {
            cli->ext = mycalloc(1, sizeof(char *));
            return cli;
        }
    }
    if (code == 0)
        goto fail;
    if (code / 100 != 2)
        goto refused;
    smtpcli_save_ext(cli, reply);
    return cli;

  refused:
    smtpcli_quit(cli);
    return NULL;
  fail:
    smtpcli_free(cli);
    return NULL;
}

/* smtpcli_open - connect, greeting, EHLO */
SMTPCLI *smtpcli_open(const char *target, const SMTPCLI_OPTS *opts, SMTP_REPLY *reply)
{
    VBUF   *err = vbuf_alloc(1024);
    NETIO  *io;
    int     timeout = opts->timeout;

    if (opts->deadline > 0 && (timeout <= 0 || opts->deadline < timeout))
        timeout = opts->deadline;
    if ((io = netio_connect(target, timeout, err)) == NULL) {
        smtp_reply_set(reply, 0, "4.4.1", "%s", vbuf_str(err));
        vbuf_free(err);
        return NULL;
    }
    vbuf_free(err);
    return smtpcli_start(smtpcli_new(io, strncmp(target, "inet:", 5) == 0 ?
                                     target + 5 : target, opts), reply);
}

/* smtpcli_open_fd - the same over an open descriptor pair */
SMTPCLI *smtpcli_open_fd(int rfd, int wfd, const SMTPCLI_OPTS *opts, SMTP_REPLY *reply)
{
    char    name[64];

    if (rfd == wfd)
        snprintf(name, sizeof(name), "fd %d", rfd);
    else
        snprintf(name, sizeof(name), "fd %d/%d", rfd, wfd);
    return smtpcli_start(smtpcli_new(netio_fdopen(rfd, wfd), name, opts), reply);
}

/* smtpcli_find_ext - the EHLO line of keyword, or NULL */
static const char *smtpcli_find_ext(const SMTPCLI *cli, const char *keyword)
{
    size_t klen = strlen(keyword);
    int i;

    for (i = 0; i < cli->next; i++) {
        const char *e = cli->ext[i];

        if (strncasecmp(e, keyword, klen) == 0 && (e[klen] == 0 || e[klen] == ' '))
            return e;
    }
    return NULL;
}

/* smtpcli_has_ext - the server announced this EHLO keyword */
int smtpcli_has_ext(const SMTPCLI *cli, const char *keyword)
{
    return smtpcli_find_ext(cli, keyword) != NULL;
}

/* smtpcli_ext_param - the parameters after the keyword */
const char *smtpcli_ext_param(const SMTPCLI *cli, const char *keyword)
{
    const char *e = smtpcli_find_ext(cli, keyword);

    if (e == NULL)
        return NULL;
    e += strlen(keyword);
    while (*e == ' ')
        e++;
    return e;
}

 /*
  * XFORWARD.
  */

/* smtpcli_xf_offered - attr is in the server's XFORWARD list */
static int smtpcli_xf_offered(const char *list, const char *attr)
{
    size_t alen = strlen(attr), wlen;
    const char *p = list;

    while (*p) {
        p += strspn(p, " ");
        wlen = strcspn(p, " ");
        if (wlen == alen && strncasecmp(p, attr, alen) == 0)
            return 1;
        p += wlen;
    }
    return 0;
}

/* smtpcli_xforward - send the XFORWARD attributes the server offers */
int smtpcli_xforward(SMTPCLI *cli, const SMTP_ENVELOPE *env, SMTP_REPLY *reply)
{
    static const char *const attrs[] = {
        "NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
    };
    const char *vals[7];
    const char *list;
    VBUF   *piece;
    int     i, code;
    size_t  room, cut;

    if (smtpcli_check_dead(cli, reply))
        return -1;
    if ((list = smtpcli_ext_param(cli, "XFORWARD")) == NULL)
        return 0;
    vals[0] = env->xf_name;
    vals[1] = env->xf_addr;
    vals[2] = env->xf_port;
    vals[3] = env->xf_proto;
    vals[4] = env->xf_helo;
    vals[5] = env->xf_ident;
    vals[6] = env->xf_source;
    piece = vbuf_alloc(SMTP_CMD_CAP);
    vbuf_strcpy(cli->cmd, "XFORWARD");
    for (i = 0; i < 7; i++) {
        if (vals[i] == NULL || !smtpcli_xf_offered(list, attrs[i]))
            continue;
        vbuf_sprintf(piece, " %s=", attrs[i]);
        xtext_encode(piece, *vals[i] ? vals[i] : "[UNAVAILABLE]");
        room = SMTP_XFORWARD_MAX - 2 - strlen("XFORWARD");
        if (vbuf_len(piece) > room) {
            /* one value longer than a line: cut it, never inside "+XX" */
            cut = room;
            if (cut >= 1 && piece->data[cut - 1] == '+')
                cut -= 1;
            else if (cut >= 2 && piece->data[cut - 2] == '+')
                cut -= 2;
            vbuf_truncate(piece, cut);
        }
        if (vbuf_len(cli->cmd) + vbuf_len(piece) > SMTP_XFORWARD_MAX - 2) {
            code = smtpcli_command(cli, reply, "sending XFORWARD");
            if (code / 100 != 2) {
                vbuf_free(piece);
                return -1;
            }
            vbuf_strcpy(cli->cmd, "XFORWARD");
        }
        vbuf_append(cli->cmd, vbuf_str(piece), vbuf_len(piece));
    }
    vbuf_free(piece);
    if (vbuf_len(cli->cmd) > strlen("XFORWARD")) {
        code = smtpcli_command(cli, reply, "sending XFORWARD");
        if (code / 100 != 2)
            return -1;
    }
    return 0;
}

 /*
  * MAIL and RCPT.
  */

/* smtpcli_build_mail - MAIL FROM with the parameters the server offers */
static int smtpcli_build_mail(SMTPCLI *cli, const SMTP_ENVELOPE *env, SMTP_REPLY *reply)
{
    int dsn = smtpcli_has_ext(cli, "DSN");

    vbuf_sprintf(cli->cmd, "MAIL FROM:<%s>", env->sender ? env->sender : "");
    if (env->size > 0 && smtpcli_has_ext(cli, "SIZE"))
        vbuf_sprintf_append(cli->cmd, " SIZE=%lld", env->size);
    if (env->body && *env->body && smtpcli_has_ext(cli, "8BITMIME")) {
        if (!smtpcli_word_ok(env->body)) {
            smtp_reply_set(reply, 0, "4.3.0", "invalid BODY value");
            return 0;
        }
        vbuf_sprintf_append(cli->cmd, " BODY=%s", env->body);
    }
    if (env->smtputf8 && smtpcli_has_ext(cli, "SMTPUTF8"))
        vbuf_strcat(cli->cmd, " SMTPUTF8");
    if (dsn && env->ret && *env->ret) {
        if (!smtpcli_word_ok(env->ret)) {
            smtp_reply_set(reply, 0, "4.3.0", "invalid RET value");
            return 0;
        }
        vbuf_sprintf_append(cli->cmd, " RET=%s", env->ret);
    }
    if (dsn && env->envid && *env->envid) {
        vbuf_strcat(cli->cmd, " ENVID=");
        xtext_encode(cli->cmd, env->envid);
    }
    return smtpcli_cmd_ok(cli, reply, "MAIL FROM");
}

/* smtpcli_orcpt_type_len - length of "type" in "type;value", 0 if not so */
static size_t smtpcli_orcpt_type_len(const char *orcpt)
{
    const char *p;

    for (p = orcpt; isalnum((unsigned char)*p) || *p == '-'; p++)
        /* void */ ;
    return (*p == ';' && p > orcpt) ? (size_t)(p - orcpt) : 0;
}

/* smtpcli_build_rcpt - RCPT TO with NOTIFY and ORCPT when DSN is offered */
static int smtpcli_build_rcpt(SMTPCLI *cli, const SMTP_RCPT *rcpt, SMTP_REPLY *reply)
{
    int dsn = smtpcli_has_ext(cli, "DSN");
    size_t tlen;

    vbuf_sprintf(cli->cmd, "RCPT TO:<%s>", rcpt->addr ? rcpt->addr : "");
    if (dsn && rcpt->notify && *rcpt->notify) {
        if (!smtpcli_word_ok(rcpt->notify)) {
            smtp_reply_set(reply, 0, "4.3.0", "invalid NOTIFY value");
            return 0;
        }
        vbuf_sprintf_append(cli->cmd, " NOTIFY=%s", rcpt->notify);
    }
    if (dsn && rcpt->orcpt && *rcpt->orcpt) {
        vbuf_strcat(cli->cmd, " ORCPT=");
        if ((tlen = smtpcli_orcpt_type_len(rcpt->orcpt)) > 0) {
            vbuf_append(cli->cmd, rcpt->orcpt, tlen + 1);
            xtext_encode(cli->cmd, rcpt->orcpt + tlen + 1);
        } else {
            vbuf_strcat(cli->cmd, "rfc822;");
            xtext_encode(cli->cmd, rcpt->orcpt);
        }
    }
    return smtpcli_cmd_ok(cli, reply, "RCPT TO");
}

/* smtpcli_mail - MAIL FROM, lock-step */
int smtpcli_mail(SMTPCLI *cli, const SMTP_ENVELOPE *env, SMTP_REPLY *reply)
{
    if (smtpcli_check_dead(cli, reply))
        return 0;
    cli->naccepted = 0;
    if (!smtpcli_build_mail(cli, env, reply))
        return 0;
    return smtpcli_command(cli, reply, "sending MAIL FROM");
}

/* smtpcli_rcpt - RCPT TO, lock-step */
int smtpcli_rcpt(SMTPCLI *cli, const SMTP_RCPT *rcpt, SMTP_REPLY *reply)
{
    int code;

    if (smtpcli_check_dead(cli, reply))
        return 0;
    if (!smtpcli_build_rcpt(cli, rcpt, reply))
        return 0;
    code = smtpcli_command(cli, reply, "sending RCPT TO");
    if (code / 100 == 2)
        cli->naccepted++;
    return code;
}

/* smtpcli_simple - a command without arguments, lock-step */
static int smtpcli_simple(SMTPCLI *cli, const char *verb, SMTP_REPLY *reply)
{
    char phase[32];

    if (smtpcli_check_dead(cli, reply))
        return 0;
    snprintf(phase, sizeof(phase), "sending %s", verb);
    vbuf_strcpy(cli->cmd, verb);
    return smtpcli_command(cli, reply, phase);
}

/* smtpcli_rset - RSET */
int smtpcli_rset(SMTPCLI *cli, SMTP_REPLY *reply)
{
    cli->naccepted = 0;
    return smtpcli_simple(cli, "RSET", reply);
}

/* smtpcli_noop - NOOP */
int smtpcli_noop(SMTPCLI *cli, SMTP_REPLY *reply)
{
    return smtpcli_simple(cli, "NOOP", reply);
}

 /*
  * DATA.
  */

/* smtpcli_body - stream the source, dot-stuffed, and the final dot; 0 ok,
 * -1 source error (connection closed), -2 write error (reply set) */
static int smtpcli_body(SMTPCLI *cli, SMTP_DATA_READ src, void *ctx, SMTP_REPLY *reply)
{
    char   *in = mymalloc(SMTP_DATA_CHUNK);
    VBUF   *out = vbuf_alloc(2 * SMTP_DATA_CHUNK + 16);
    DOTSTUFF ds;
    ssize_t n;
    int     ret = 0;

    dotstuff_init(&ds);
    for (;;) {
        n = src(ctx, in, SMTP_DATA_CHUNK);
        if (n < 0) {
            smtp_reply_set(reply, 0, "4.3.0", "error reading the message content; "
                           "connection with %s closed before the end of data", cli->name);
            smtpcli_kill(cli, reply);
            ret = -1;
            break;
        }
        if (n == 0)
            dotstuff_finish(&ds, out);
        else
            dotstuff_encode(&ds, in, (size_t)n, out);
        if (netio_write(cli->io, vbuf_str(out), vbuf_len(out)) < 0) {
            smtpcli_io_fail(cli, reply, "sending message body");
            ret = -2;
            break;
        }
        vbuf_reset(out);
        if (n == 0)
            break;
    }
    myfree(in);
    vbuf_free(out);
    return ret;
}

/* smtpcli_data_x - DATA, body, final replies (one per accepted recipient
 * with LMTP: stored in the accepted ones of res when res is given);
 * *refused says that DATA itself was refused (the transaction is open) */
static int smtpcli_data_x(SMTPCLI *cli, SMTP_DATA_READ src, void *ctx,
                          SMTP_REPLY *reply, SMTP_RESULT *res, int *refused)
{
    SMTP_REPLY tmp, *r;
    int     code, i, nreplies, have_fail = 0, rc;

    if (smtpcli_check_dead(cli, reply))
        return 0;
    vbuf_strcpy(cli->cmd, "DATA");
    code = smtpcli_command(cli, reply, "sending DATA");
    if (code / 100 != 3) {
        if (refused)
            *refused = (code != 0);
        return code;
    }
    if ((rc = smtpcli_body(cli, src, ctx, reply)) == -1)
        return -1;
    if (rc < 0 || smtpcli_flush(cli, reply, "sending end of data") < 0)
        return 0;
    if (!cli->lmtp)
        return smtpcli_read_reply(cli, reply, "sending end of data");

    /* LMTP: the first failure, else the last success */
    nreplies = res ? res->naccepted : cli->naccepted;
    smtp_reply_init(&tmp);
    for (i = 0, rc = 0; rc < nreplies; i++) {
        if (res) {
            if (i >= res->nrcpt)
                break;
            if (res->rcpt[i].code / 100 != 2)
                continue;
            r = &res->rcpt[i];
        } else {
            r = &tmp;
        }
        rc++;
        code = smtpcli_read_reply(cli, r, "sending end of data");
        if (!have_fail) {
            smtp_reply_copy(reply, r);
            have_fail = (code / 100 != 2);
        }
        if (code == 0)
            break;
    }
    smtp_reply_free(&tmp);
    return reply->code;
}

/* smtpcli_data - DATA, the body, the final reply */
int smtpcli_data(SMTPCLI *cli, SMTP_DATA_READ src, void *ctx, SMTP_REPLY *reply)
{
    return smtpcli_data_x(cli, src, ctx, reply, NULL, NULL);
}

 /*
  * A whole transaction.
  */

/* smtp_result_init - empty result */
void smtp_result_init(SMTP_RESULT *res)
{
    memset(res, 0, sizeof(*res));
    smtp_reply_init(&res->mail);
    smtp_reply_init(&res->data);
}

/* smtp_result_free - release the replies */
void smtp_result_free(SMTP_RESULT *res)
{
    int i;

    smtp_reply_free(&res->mail);
    smtp_reply_free(&res->data);
    for (i = 0; i < res->nrcpt; i++)
        smtp_reply_free(&res->rcpt[i]);
    myfree(res->rcpt);
    res->rcpt = NULL;
    res->nrcpt = 0;
}

/* smtpcli_read_batch - the replies to the commands written so far */
static int smtpcli_read_batch(SMTPCLI *cli, SMTP_RESULT *res, const int *pend, int npend)
{
    SMTP_REPLY *r;
    int i;

    if (npend > 0 && smtpcli_flush(cli, pend[0] < 0 ? &res->mail : &res->rcpt[pend[0]],
                                   pend[0] < 0 ? "sending MAIL FROM" : "sending RCPT TO") < 0)
        return -1;
    for (i = 0; i < npend; i++) {
        r = pend[i] < 0 ? &res->mail : &res->rcpt[pend[i]];
        if (smtpcli_read_reply(cli, r, pend[i] < 0 ? "sending MAIL FROM" : "sending RCPT TO") == 0)
            return -1;
        if (pend[i] >= 0 && r->code / 100 == 2)
            res->naccepted++;
    }
    return 0;
}

/* smtpcli_unsent - give the recipients that got no reply a reason; -1 */
static int smtpcli_unsent(SMTP_RESULT *res, const char *why)
{
    int i;

    for (i = 0; i < res->nrcpt; i++)
        if (res->rcpt[i].code == 0 && vbuf_len(res->rcpt[i].text) == 0)
            smtp_reply_set(&res->rcpt[i], 0, "4.0.0", "%s", why);
    return -1;
}

/* smtpcli_result_reset - a fresh result: empty replies for every recipient */
static void smtpcli_result_reset(SMTP_RESULT *res, const SMTP_ENVELOPE *env)
{
    int     i;

    for (i = 0; i < res->nrcpt; i++)
        smtp_reply_free(&res->rcpt[i]);
    myfree(res->rcpt);
    if (res->mail.text == NULL)
        smtp_reply_init(&res->mail);
    if (res->data.text == NULL)
        smtp_reply_init(&res->data);
    res->mail.code = res->data.code = 0;
    res->mail.dsn[0] = res->data.dsn[0] = 0;
    vbuf_reset(res->mail.text);
    vbuf_reset(res->data.text);
    res->nrcpt = env->nrcpt > 0 ? env->nrcpt : 0;
    res->rcpt = mycalloc(res->nrcpt ? (size_t)res->nrcpt : 1, sizeof(SMTP_REPLY));
    for (i = 0; i < res->nrcpt; i++)
        smtp_reply_init(&res->rcpt[i]);
    res->naccepted = 0;
    res->sent = 0;
    res->xforward_failed = 0;
}

/* smtpcli_send - one whole transaction: XFORWARD, MAIL, RCPT..., DATA */
int smtpcli_send(SMTPCLI *cli, const SMTP_ENVELOPE *env, int all_or_nothing,
                 SMTP_DATA_READ src, void *ctx, SMTP_RESULT *res)
{
    int     pend[SMTP_PIPE_BATCH + 1];
    int     npend = 0, i, batch, code, refused = 0;
    SMTP_REPLY tmp;

    smtpcli_result_reset(res, env);
    cli->naccepted = 0;

    if (smtpcli_check_dead(cli, &res->mail))
        return -1;
    if (smtpcli_xforward(cli, env, &res->mail) < 0) {
        res->xforward_failed = 1;
        return -1;
    }
    if (!smtpcli_build_mail(cli, env, &res->mail))
        return -1;

    /* MAIL and RCPTs, in batches when pipelining, else one at a time */
    batch = smtpcli_has_ext(cli, "PIPELINING") ? SMTP_PIPE_BATCH : 1;
    if (smtpcli_put(cli, &res->mail, "sending MAIL FROM") < 0)
        return -1;
    pend[npend++] = -1;
    for (i = 0; i < res->nrcpt; i++) {
        if (npend >= batch) {
            if (smtpcli_read_batch(cli, res, pend, npend) < 0)
                return smtpcli_unsent(res, vbuf_str(cli->why));
            npend = 0;
            if (res->mail.code / 100 != 2)
                break;
        }
        if (!smtpcli_build_rcpt(cli, &env->rcpt[i], &res->rcpt[i]))
            continue;
        if (smtpcli_put(cli, &res->rcpt[i], "sending RCPT TO") < 0)
            return smtpcli_unsent(res, vbuf_str(cli->why));
        pend[npend++] = i;
    }
    if (npend > 0 && smtpcli_read_batch(cli, res, pend, npend) < 0)
        return smtpcli_unsent(res, vbuf_str(cli->why));
    cli->naccepted = res->naccepted;
    if (res->mail.code / 100 != 2)
        return smtpcli_unsent(res, "not sent: MAIL FROM was refused");

    /* DATA only when the recipients are as the caller wants them */
    if (res->naccepted == 0 || (all_or_nothing && res->naccepted < res->nrcpt)) {
        smtp_reply_init(&tmp);
        (void)smtpcli_rset(cli, &tmp);
        smtp_reply_free(&tmp);
        return -1;
    }
    code = smtpcli_data_x(cli, src, ctx, &res->data, res, &refused);
    if (code / 100 == 2) {
        res->sent = 1;
        return 0;
    }
    if (refused && !cli->dead) {
        /* DATA itself was refused: the transaction is still open */
        smtp_reply_init(&tmp);
        (void)smtpcli_rset(cli, &tmp);
        smtp_reply_free(&tmp);
    }
    return -1;
}

 /*
  * The end.
  */

/* smtpcli_set_deadline - limit the time of all that follows */
void smtpcli_set_deadline(SMTPCLI *cli, int seconds_from_now)
{
    if (cli->io)
        netio_set_deadline(cli->io, seconds_from_now);
}

/* smtpcli_quit - QUIT (best effort) and close */
void smtpcli_quit(SMTPCLI *cli)
{
    SMTP_REPLY r;

    if (cli == NULL)
        return;
    if (!cli->dead) {
        smtp_reply_init(&r);
        (void)smtpcli_simple(cli, "QUIT", &r);
        smtp_reply_free(&r);
    }
    smtpcli_free(cli);
}

/* smtpcli_close - close without QUIT (after an error) */
void smtpcli_close(SMTPCLI *cli)
{
    if (cli != NULL)
        smtpcli_free(cli);
}

/* smtp_fd_source_read - the prefix, then the file from its offset */
ssize_t smtp_fd_source_read(void *ctx, char *buf, size_t len)
{
    SMTP_FD_SOURCE *s = ctx;
    size_t n;
    ssize_t got;

    if (s->prefix && s->prefix_off < s->prefix_len) {
        n = s->prefix_len - s->prefix_off;
        if (n > len)
            n = len;
        memcpy(buf, s->prefix + s->prefix_off, n);
        s->prefix_off += n;
        return (ssize_t)n;
    }
    if (s->fd < 0)
        return 0;
    for (;;) {
        got = pread(s->fd, buf, len, s->off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0)
            s->off += got;
        return got;
    }
}
