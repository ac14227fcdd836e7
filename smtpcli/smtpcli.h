/*
 * smtpcli - the SMTP/LMTP client protocol
 *
 * Connect, read the greeting, EHLO (HELO when EHLO is refused), remember
 * the extensions; XFORWARD with the attributes the server offers; MAIL FROM
 * with SIZE, BODY, SMTPUTF8, RET, ENVID when offered; RCPT TO with NOTIFY
 * and ORCPT when DSN is offered; DATA with CRLF canonicalization and
 * dot-stuffing (dotstuff.h). Every reply is parsed and validated
 * (smtp_reply_parse). MAIL and the RCPTs are pipelined when PIPELINING is
 * offered; DATA is sent only after the RCPT replies are in, so a refused
 * recipient never leaves us committed to a message.
 *
 * All I/O goes through netio with a per-command timeout and a transaction
 * deadline. A reply code of 0 means "no reply": connection lost, timeout,
 * or a malformed reply; the text says which.
 */
#ifndef POSTSIFT_SMTPCLI_H
#define POSTSIFT_SMTPCLI_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/envelope.h"
#include "lib/netio.h"
#include "lib/vbuf.h"
#include "lib/xtext.h"

#define SMTP_LINE_MAX   2048    /* reply line bound (RFC 5321 says 512) */

#define SMTP_REPLY_MAX  100     /* most lines in one multi-line reply */

typedef struct SMTP_REPLY {
    int     code;       /* 200..599, or 0 for no valid reply */
    char    dsn[16];    /* "2.0.0"; from the reply, else derived from code */
    VBUF   *text;       /* the reply lines without "NNN-", joined by '\n';
                         * the enhanced code stays in the text */
} SMTP_REPLY;

typedef struct SMTP_RESULT {
    int         xforward_failed;    /* XFORWARD failed: its reply is in mail */
    SMTP_REPLY  mail;
    SMTP_REPLY *rcpt;       /* nrcpt replies, allocated by smtpcli_send */
    int         nrcpt;
    int         naccepted;  /* 2xx RCPT replies */
    SMTP_REPLY  data;       /* the DATA (354) failure or the final reply */
    int         sent;       /* 1 when the final "." went out and got 2xx */
} SMTP_RESULT;

/* A data source: fill buf with up to len bytes; 0 at the end, -1 on error
 * (the connection is then dropped without the final dot, so the server
 * discards the partial message). */
typedef ssize_t (*SMTP_DATA_READ)(void *ctx, char *buf, size_t len);

/* SMTP_FD_SOURCE - a data source of a prefix (added headers) then a file */
typedef struct SMTP_FD_SOURCE {
    const char *prefix;
    size_t      prefix_len;
    size_t      prefix_off;
    int         fd;
    off_t       off;        /* pread offset in fd, start at 0 */
} SMTP_FD_SOURCE;
ssize_t smtp_fd_source_read(void *ctx, char *buf, size_t len);

typedef struct SMTPCLI_OPTS {
    const char *helo;       /* EHLO name */
    int         timeout;    /* seconds per command (and connect) */
    int         deadline;   /* seconds for the whole session, 0 = none */
    int         lmtp;       /* LHLO, one DATA reply per accepted recipient */
} SMTPCLI_OPTS;

typedef struct SMTPCLI SMTPCLI;

void smtp_reply_init(SMTP_REPLY *r);
void smtp_reply_free(SMTP_REPLY *r);
void smtp_reply_set(SMTP_REPLY *r, int code, const char *dsn, const char *fmt, ...) PS_PRINTF(4, 5);
/* smtp_reply_one_line - text with newlines as "; ", for logs and DSNs */
const char *smtp_reply_one_line(const SMTP_REPLY *r, VBUF *buf);

/* smtp_reply_parse - parse reply lines (without CRLF) into r; 0 when the
 * reply is well-formed (all lines share one 3-digit code, '-' on all but
 * the last), -1 otherwise. Used by smtpcli and by its unit tests. */
int smtp_reply_parse(SMTP_REPLY *r, const char *const *lines, int nlines);

/* smtpcli_open - connect, greeting, EHLO; NULL with the reason in reply
 * (code 0 when nothing usable came back, else the server's refusal) */
SMTPCLI *smtpcli_open(const char *target, const SMTPCLI_OPTS *opts, SMTP_REPLY *reply);
SMTPCLI *smtpcli_open_fd(int rfd, int wfd, const SMTPCLI_OPTS *opts, SMTP_REPLY *reply);

/* smtpcli_has_ext - the server announced this EHLO keyword */
int smtpcli_has_ext(const SMTPCLI *cli, const char *keyword);
/* smtpcli_ext_param - the parameters after the keyword ("" when none), NULL if absent */
const char *smtpcli_ext_param(const SMTPCLI *cli, const char *keyword);

/* smtpcli_xforward - send the XFORWARD attributes that the server offers
 * (nothing when it offers none); -1 with the reply on refusal */
int smtpcli_xforward(SMTPCLI *cli, const SMTP_ENVELOPE *env, SMTP_REPLY *reply);

/* Lock-step commands, for the smtpd proxy; each returns the reply code. */
int smtpcli_mail(SMTPCLI *cli, const SMTP_ENVELOPE *env, SMTP_REPLY *reply);
int smtpcli_rcpt(SMTPCLI *cli, const SMTP_RCPT *rcpt, SMTP_REPLY *reply);
int smtpcli_data(SMTPCLI *cli, SMTP_DATA_READ src, void *ctx, SMTP_REPLY *reply);
int smtpcli_rset(SMTPCLI *cli, SMTP_REPLY *reply);
int smtpcli_noop(SMTPCLI *cli, SMTP_REPLY *reply);

/* smtpcli_send - one whole transaction: XFORWARD (when the server offers
 * it; the caller must not send it again), MAIL, RCPT..., DATA.
 * all_or_nothing: when any recipient is refused, RSET instead of DATA.
 * Returns 0 when the message was accepted (res->sent), -1 otherwise;
 * res says where and why. */
int smtpcli_send(SMTPCLI *cli, const SMTP_ENVELOPE *env, int all_or_nothing,
                 SMTP_DATA_READ src, void *ctx, SMTP_RESULT *res);
void smtp_result_init(SMTP_RESULT *res);
void smtp_result_free(SMTP_RESULT *res);

/* smtpcli_set_deadline - an absolute limit for everything that follows,
 * seconds from now, on top of the per-command timeout (0 = none) */
void smtpcli_set_deadline(SMTPCLI *cli, int seconds_from_now);

/* smtpcli_quit - QUIT (best effort) and close */
void smtpcli_quit(SMTPCLI *cli);
/* smtpcli_close - close without QUIT (after an error) */
void smtpcli_close(SMTPCLI *cli);

/* smtpcli_set_trace - call fn for every command line sent (dir '>') and
 * every reply line received (dir '<'), in all sessions of the process;
 * NULL turns it off. The message body is not traced. (postsift-smtpcli -v) */
typedef void (*SMTPCLI_TRACE)(void *ctx, int dir, const char *line);
void smtpcli_set_trace(SMTPCLI_TRACE fn, void *ctx);

/* smtp_queue_id - the id from "250 2.0.0 Ok: queued as ABC123", or "" */
const char *smtp_queue_id(const SMTP_REPLY *r, VBUF *out);

#endif
