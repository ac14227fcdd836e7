/*
 * reinject - hand a message back to Postfix (see reinject.h)
 *
 * Two ways: SMTP to the reinjection smtpd, or Postfix's sendmail. Both map
 * the outcome onto the pipe contract (0 / 69 / 75) and keep the
 * downstream's own words, so that the DSN or the log says what Postfix
 * said and not what we guessed.
 */
#include <stdio.h>
#include <string.h>

#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/spawn.h"
#include "lib/vbuf.h"
#include "reinject/reinject.h"

#define REINJECT_TEXT_MAX 4096

/* reinject_result_init - empty result, temporary failure until proven else */
void reinject_result_init(REINJECT_RESULT *res)
{
    res->status = EXIT_TEMPFAIL;
    snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
    res->text = vbuf_alloc(REINJECT_TEXT_MAX);
    res->queue_id = vbuf_alloc(256);
}

/* reinject_result_free - release */
void reinject_result_free(REINJECT_RESULT *res)
{
    vbuf_free(res->text);
    vbuf_free(res->queue_id);
    res->text = res->queue_id = NULL;
}

/* reinject_set - fill a result from a status, DSN and reason */
static void reinject_set(REINJECT_RESULT *res, int status, const char *dsn,
                         const char *fmt, ...) PS_PRINTF(4, 5);
static void reinject_set(REINJECT_RESULT *res, int status, const char *dsn,
                         const char *fmt, ...)
{
    va_list ap;

    res->status = status;
    snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
    vbuf_reset(res->text);
    va_start(ap, fmt);
    vbuf_vsprintf_append(res->text, fmt, ap);
    va_end(ap);
}

/* reinject_words - the reply text without its leading enhanced status code,
 * which pipe(8)'s first line already carries */
static const char *reinject_words(const SMTP_REPLY *r, VBUF *line)
{
    const char *text = smtp_reply_one_line(r, line);
    size_t n = strlen(r->dsn);

    if (n > 0 && strncmp(text, r->dsn, n) == 0 && text[n] == ' ')
        return text + n + 1;
    return text;
}

/* reinject_from_reply - status and words from an SMTP reply */
static void reinject_from_reply(REINJECT_RESULT *res, const char *stage,
                                const char *target, const SMTP_REPLY *r)
{
    VBUF *line = vbuf_alloc(REINJECT_TEXT_MAX);
    int status = r->code ? exit_status_for_code(r->code) : EXIT_TEMPFAIL;
    const char *dsn = r->code ? r->dsn : "4.4.2";

    /* A 2xx at a stage that should have failed cannot happen; be safe. */
    if (status == EXIT_DONE)
        status = EXIT_TEMPFAIL, dsn = "4.3.0";
    if (r->code)
        reinject_set(res, status, dsn, "%s said %d %s %s (in reply to %s)", target,
                     r->code, r->dsn, reinject_words(r, line), stage);
    else
        reinject_set(res, status, dsn, "%s", smtp_reply_one_line(r, line));
    vbuf_free(line);
}

/* reinject_smtp - the SMTP hand-over, all recipients or none */
static void reinject_smtp(const char *target, const SMTP_ENVELOPE *env,
                          const char *prefix, size_t prefix_len, int fd, off_t start,
                          int deadline, REINJECT_RESULT *res)
{
    SMTPCLI_OPTS opts = {0};
    SMTP_REPLY reply;
    SMTP_RESULT sres;
    SMTP_FD_SOURCE src = {prefix, prefix_len, 0, fd, start};
    SMTPCLI *cli;
    int i, n5xx = 0;

    opts.helo = var_smtp_helo_name && *var_smtp_helo_name ? var_smtp_helo_name : "localhost";
    opts.timeout = (int)var_reinject_timeout;
    opts.deadline = deadline;
    smtp_reply_init(&reply);
    if ((cli = smtpcli_open(target, &opts, &reply)) == NULL) {
        /* Our own reinjection smtpd refusing us is a setup problem: retry. */
        VBUF *line = vbuf_alloc(REINJECT_TEXT_MAX);

        reinject_set(res, EXIT_TEMPFAIL, reply.code ? "4.3.0" : "4.4.1",
                     "cannot reinject to %s: %s", target, smtp_reply_one_line(&reply, line));
        vbuf_free(line);
        smtp_reply_free(&reply);
        return;
    }
    smtp_reply_free(&reply);

    /* smtpcli_send() sends XFORWARD itself, once. */
    smtp_result_init(&sres);
    if (smtpcli_send(cli, env, 1, smtp_fd_source_read, &src, &sres) == 0) {
        VBUF *line = vbuf_alloc(REINJECT_TEXT_MAX);

        smtp_queue_id(&sres.data, res->queue_id);
        reinject_set(res, EXIT_DONE, sres.data.dsn, "%s", reinject_words(&sres.data, line));
        vbuf_free(line);
        smtpcli_quit(cli);
    } else if (sres.xforward_failed) {
        /* Our own reinjection smtpd refusing XFORWARD is a setup problem
         * (smtpd_authorized_xforward_hosts): retry, never bounce. */
        reinject_from_reply(res, "XFORWARD", target, &sres.mail);
        res->status = EXIT_TEMPFAIL;
        smtpcli_close(cli);
    } else if (sres.mail.code != 250 && sres.mail.code / 100 != 2) {
        reinject_from_reply(res, "MAIL FROM", target, &sres.mail);
        smtpcli_close(cli);
    } else if (sres.naccepted < env->nrcpt) {
        /* Partial or total refusal: nothing was sent (all or nothing). */
        for (i = 0; i < sres.nrcpt; i++)
            if (sres.rcpt[i].code >= 500)
                n5xx++;
        for (i = 0; i < sres.nrcpt && sres.rcpt[i].code / 100 == 2; i++)
            /* find the first refusal */ ;
        if (i < sres.nrcpt)
            reinject_from_reply(res, "RCPT TO", target, &sres.rcpt[i]);
        if (sres.naccepted == 0 && n5xx == env->nrcpt) {
            res->status = EXIT_REFUSED;
        } else {
            res->status = EXIT_TEMPFAIL;
            if (res->dsn[0] != '4')
                res->dsn[0] = '4';
            if (sres.naccepted > 0)
                vbuf_sprintf_append(res->text, "; %d of %d recipients accepted, "
                                    "message not sent, will retry all",
                                    sres.naccepted, env->nrcpt);
        }
        smtpcli_quit(cli);
    } else {
        reinject_from_reply(res, "end of DATA", target, &sres.data);
        smtpcli_close(cli);
    }
    smtp_result_free(&sres);
}

/* reinject_sendmail_argv - "sendmail -G -i [-C dir] -f S -- R...", copies
 * (exec wants non-const strings); NULL-terminated, free with the count */
static char **reinject_sendmail_argv(const SMTP_ENVELOPE *env, int *argc)
{
    char  **argv = mycalloc((size_t)env->nrcpt + 12, sizeof(char *));
    int     n = 0, i;

    argv[n++] = mystrdup(var_sendmail_path);
    argv[n++] = mystrdup("-G");
    argv[n++] = mystrdup("-i");
    if (var_sendmail_config_directory && *var_sendmail_config_directory) {
        argv[n++] = mystrdup("-C");
        argv[n++] = mystrdup(var_sendmail_config_directory);
    }
    argv[n++] = mystrdup("-f");
    argv[n++] = mystrdup(env->sender);
    argv[n++] = mystrdup("--");
    for (i = 0; i < env->nrcpt; i++)
        argv[n++] = mystrdup(env->rcpt[i].addr);
    argv[n] = NULL;
    *argc = n;
    return argv;
}

/* reinject_sendmail - the sendmail hand-over (lib/spawn: no shell, clean
 * environment, own process group, killed at the deadline), prefix and
 * then the file on its stdin */
static void reinject_sendmail(const SMTP_ENVELOPE *env, const char *prefix,
                              size_t prefix_len, int fd, off_t start,
                              int deadline, REINJECT_RESULT *res)
{
    static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    static char *const clean_env[] = {path_env, NULL};
    SPAWN_REQUEST req;
    SPAWN_RESULT sr;
    char    text[512];
    int     argc, i;
    char  **argv = reinject_sendmail_argv(env, &argc);

    spawn_request_init(&req);
    req.argv = argv;
    req.envp = clean_env;
    req.feed_fd = fd;
    req.feed_prefix = prefix;
    req.feed_prefix_len = prefix_len;
    req.feed_offset = start;
    req.merge_stderr = 1;
    req.output_max = REINJECT_TEXT_MAX;
    req.timeout = deadline > 0 ? deadline : 600;
    spawn_result_init(&sr);
    spawn_run(&req, &sr);
    /* the last line sendmail wrote, printable */
    msg_printable(text, sizeof(text), vbuf_str(sr.out_last));
    if (sr.status == SPAWN_TIMEOUT)
        reinject_set(res, EXIT_TEMPFAIL, "4.4.7", "%s timed out", var_sendmail_path);
    else if (sr.status == SPAWN_FAILED || sr.status == SPAWN_EXEC_FAILED)
        reinject_set(res, EXIT_TEMPFAIL, "4.3.0", "%s", vbuf_str(sr.why));
    else if (sr.feed_errno != 0)
        reinject_set(res, EXIT_TEMPFAIL, "4.3.0", "write to sendmail: %s%s%s",
                     strerror(sr.feed_errno), *text ? ": " : "", text);
    else if (sr.status == SPAWN_EXITED && sr.code == 0)
        reinject_set(res, EXIT_DONE, "2.0.0", "handed to %s", var_sendmail_path);
    else if (sr.status == SPAWN_EXITED)
        reinject_set(res, EXIT_TEMPFAIL, "4.3.0", "%s exited with status %d%s%s",
                     var_sendmail_path, sr.code, *text ? ": " : "", text);
    else
        reinject_set(res, EXIT_TEMPFAIL, "4.3.0", "%s killed by signal %d",
                     var_sendmail_path, sr.code);
    spawn_result_free(&sr);
    for (i = 0; i < argc; i++)
        myfree(argv[i]);
    myfree(argv);
}

/* reinject_message - send the message on, by SMTP or sendmail */
int reinject_message(const char *target, const SMTP_ENVELOPE *env,
                     const char *prefix, size_t prefix_len, int fd, off_t start,
                     int deadline, REINJECT_RESULT *res)
{
    vbuf_reset(res->queue_id);
    if (env->nrcpt <= 0)
        reinject_set(res, EXIT_TEMPFAIL, "4.5.3", "no recipients");
    else if (strcmp(target, "sendmail") == 0)
        reinject_sendmail(env, prefix, prefix_len, fd, start, deadline, res);
    else
        reinject_smtp(target, env, prefix, prefix_len, fd, start, deadline, res);
    /* pipe(8) reads the class from the first line: it must say what the
     * exit status does, whatever class a confused downstream gave */
    res->dsn[0] = res->status == EXIT_DONE ? '2' : res->status == EXIT_REFUSED ? '5' : '4';
    return res->status;
}

/* reinject_atom_char - RFC 5321 atext */
static int reinject_atom_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
        || (ch & 0x80) || strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* reinject_address - RFC 5321 form of a pipe(8) address; NULL when it is
 * too long (never a shortened or empty address) */
const char *reinject_address(const char *addr, VBUF *out)
{
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t)(at - addr) : strlen(addr);
    int dot_atom = local_len > 0;
    size_t i;

    vbuf_reset(out);
    if (strlen(addr) > SMTP_ADDRESS_MAX)
        return NULL;
    if (local_len >= 2 && addr[0] == '"' && addr[local_len - 1] == '"') {
        /* already quoted (pipe flag q) */
        (void)vbuf_strcat(out, addr);
        return vbuf_overflowed(out) ? NULL : vbuf_str(out);
    }
    for (i = 0; i < local_len && dot_atom; i++) {
        unsigned char ch = (unsigned char)addr[i];

        if (ch == '.')
            dot_atom = i > 0 && i + 1 < local_len && addr[i + 1] != '.';
        else
            dot_atom = reinject_atom_char(ch);
    }
    if (dot_atom || local_len == 0) {
        (void)vbuf_strcat(out, addr);
        return vbuf_overflowed(out) ? NULL : vbuf_str(out);
    }
    (void)vbuf_addch(out, '"');
    for (i = 0; i < local_len; i++) {
        if (addr[i] == '"' || addr[i] == '\\')
            (void)vbuf_addch(out, '\\');
        (void)vbuf_addch(out, addr[i]);
    }
    (void)vbuf_addch(out, '"');
    if (at)
        (void)vbuf_strcat(out, at);
    /* vbuf refuses an append past its cap: a partial form is no answer */
    return vbuf_overflowed(out) ? NULL : vbuf_str(out);
}
