/*
 * pipe - postsift-filter's pipe mode (see pipe.h)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter/counters.h"
#include "filter/outcome.h"
#include "filter/pipe.h"
#include "scan/decide.h"
#include "scan/inspect.h"
#include "scan/logline.h"
#include "scan/verdict.h"
#include "lib/clock.h"
#include "lib/exitpolicy.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/quarantine.h"
#include "lib/spool.h"
#include "reinject/reinject.h"

/* pipe_elapsed - seconds since the program started */
static double pipe_elapsed(const PIPE_ARGS *pa)
{
    return (double)clock_ms_since(pa->start) / 1000.0;
}

/* pipe_queue_id - the queue id for the logs */
static const char *pipe_queue_id(const PIPE_ARGS *pa)
{
    return pa->queue_id ? pa->queue_id : "NOQUEUE";
}

/* deadline_handler - pipe_deadline passed: tell pipe(8) to retry */
static void deadline_handler(int sig)
{
    static const char text[] = "4.4.7 postsift-filter: pipe_deadline exceeded, will retry\n";

    (void)sig;
    (void)!write(STDOUT_FILENO, text, sizeof(text) - 1);
    _exit(EXIT_TEMPFAIL);
}

/* capture_write - n bytes to the spool; -1 with why in err */
static int capture_write(int fd, const char *p, ssize_t n, VBUF *err)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, (size_t)n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            vbuf_sprintf(err, "write to spool: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= w;
    }
    return 0;
}

/* capture - stdin to the spool; all of it is read, whatever happens */
static int capture(int fd, long limit, int keep_oversize, long long *size, int *eightbit,
                   int *oversize, VBUF *err)
{
    char    buf[65536];
    int     writing = 1, ret = 0;
    ssize_t n, i;

    *size = 0;
    *eightbit = 0;
    *oversize = 0;
    for (;;) {
        n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vbuf_sprintf(err, "read message from stdin: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        *size += n;
        if (limit > 0 && *size > limit && !*oversize) {
            *oversize = 1;
            writing = keep_oversize;
        }
        for (i = 0; i < n && !*eightbit; i++)
            if (buf[i] & 0x80)
                *eightbit = 1;
        /* after a write error keep reading: pipe(8) must see us consume
         * it all */
        if (writing && ret == 0 && capture_write(fd, buf, n, err) < 0)
            ret = -1;
    }
    return ret;
}

/* has_utf8 - any non-ASCII byte in the envelope */
static int has_utf8(const PIPE_ARGS *pa)
{
    const char *s;
    int     i;

    for (s = pa->sender; *s; s++)
        if (*s & 0x80)
            return 1;
    for (i = 0; i < pa->nrcpt; i++)
        for (s = pa->rcpts[i]; *s; s++)
            if (*s & 0x80)
                return 1;
    return 0;
}

/* log_result - the one line per message (logline.h, shared with smtpd) */
static void log_result(const PIPE_ARGS *pa, long long size, const DECISION *d,
                       const char *queued_as, const char *status, const char *why)
{
    LOGLINE ll;

    memset(&ll, 0, sizeof(ll));
    ll.queue_id = pa->queue_id;
    ll.sender = pa->sender;
    ll.rcpt = (const char *const *)pa->rcpts;
    ll.nrcpt = pa->nrcpt;
    ll.size = size;
    ll.verdict = d->verdict;
    ll.action = d->action;
    ll.detail = vbuf_str(d->detail);
    ll.queued_as = queued_as;
    ll.delay = pipe_elapsed(pa);
    ll.status = status;
    ll.why = why;
    logline_log(&ll);
    counters_message(METRICS_DESIGN_PIPE, size, d->verdict, d->action, status, why);
}

/* too_long - an envelope address we cannot relay as it came: retry */
PS_NORETURN static void too_long(const PIPE_ARGS *pa, const char *dsn, const char *what,
                                 const char *addr)
{
    msg_warn("%s: %s too long to relay (%zu bytes, at most %d)",
             pipe_queue_id(pa), what, strlen(addr), SMTP_ADDRESS_MAX);
    exit_with(EXIT_TEMPFAIL, dsn, "postsift-filter: %s too long (%zu bytes, at most %d)",
              what, strlen(addr), SMTP_ADDRESS_MAX);
}

/* pipe_envelope - the envelope as Postfix wants to see it again; an
 * address too long to relay exactly as it came is a temporary failure
 * (never the null sender, never a shortened address) */
static void pipe_envelope(const PIPE_ARGS *pa, SMTP_ENVELOPE *env)
{
    VBUF   *buf, *err = vbuf_alloc(256);
    int     i;

    *env = pa->xforward;
    buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
    if ((env->sender = reinject_address(pa->sender, buf)) == NULL)
        too_long(pa, "4.1.7", "sender address", pa->sender);
    env->nrcpt = pa->nrcpt;
    env->rcpt = mycalloc((size_t)pa->nrcpt, sizeof(SMTP_RCPT));
    for (i = 0; i < pa->nrcpt; i++) {
        buf = vbuf_alloc(REINJECT_ADDRESS_BUF);
        if ((env->rcpt[i].addr = reinject_address(pa->rcpts[i], buf)) == NULL)
            too_long(pa, "4.1.3", "recipient address", pa->rcpts[i]);
        if (i < pa->norcpt && envelope_orcpt_option(env, i, pa->orcpts[i], err) < 0)
            too_long(pa, "4.1.3", "original recipient", pa->orcpts[i] + (*pa->orcpts[i] == '='));
    }
    env->smtputf8 = has_utf8(pa);
    if (pa->queue_id)
        env->xf_ident = pa->queue_id;
    vbuf_free(err);
}

/* pipe_fail - a failure of ours before any decision: warn, retry later */
PS_NORETURN static void pipe_fail(const PIPE_ARGS *pa, const char *why)
{
    if (pa)
        msg_warn("%s: %s", pipe_queue_id(pa), why);
    else
        msg_warn("%s", why);
    exit_with(EXIT_TEMPFAIL, "4.3.0", "postsift-filter: %s", why);
}

/* pipe_reinject - pass and tag: hand the message back to Postfix */
PS_NORETURN static void pipe_reinject(const PIPE_ARGS *pa, SMTP_ENVELOPE *env,
                                      const DECISION *d, long long size)
{
    REINJECT_RESULT res;
    int     status, remaining;

    reinject_result_init(&res);
    remaining = var_pipe_deadline > 0 ? (int)(var_pipe_deadline - pipe_elapsed(pa)) : 0;
    status = reinject_message(var_reinject_target, env, vbuf_str(d->prefix),
                              vbuf_len(d->prefix), d->fd, 0, remaining > 0 ? remaining : 1, &res);
    log_result(pa, size, d, vbuf_str(res.queue_id), outcome_relay_status(OUTCOME_PIPE, status),
               vbuf_str(res.text));
    exit_with(status, res.dsn, "%s", vbuf_str(res.text));
}

/* pipe_act - carry out the decision, log, exit */
PS_NORETURN static void pipe_act(const PIPE_ARGS *pa, SMTP_ENVELOPE *env, const DECISION *d,
                                 int fd, long long size)
{
    OUTCOME o;
    VBUF   *id = vbuf_alloc(256), *err = vbuf_alloc(4096);

    outcome_init(&o);
    outcome_for(&o, OUTCOME_PIPE, d);
    if (o.todo == OUTCOME_RELAY)
        pipe_reinject(pa, env, d, size);
    if (o.todo == OUTCOME_QUARANTINE) {
        (void)outcome_method(OUTCOME_PIPE);     /* hold: a warning, then store */
        if (quarantine_store(var_quarantine_dir, env, fd, verdict_names[d->verdict],
                             vbuf_str(d->detail), pa->queue_id, id, err) < 0)
            outcome_stored(&o, OUTCOME_PIPE, d, NULL, vbuf_str(err));
        else
            outcome_stored(&o, OUTCOME_PIPE, d, vbuf_str(id), NULL);
    }
    log_result(pa, size, d, vbuf_len(o.queued_as) ? vbuf_str(o.queued_as) : NULL, o.status,
               vbuf_str(o.why));
    exit_with(o.exit_status, o.dsn, "%s", vbuf_str(o.text));
}

/* pipe_mode - the whole life of one message under pipe(8) */
void    pipe_mode(const PIPE_ARGS *pa)
{
    VBUF   *err = vbuf_alloc(4096);
    SMTP_ENVELOPE env;
    DECISION d;
    INSPECTOR *in = NULL;
    long long size;
    int     fd, eightbit, oversize;

    if (geteuid() == 0)
        exit_with(EXIT_TEMPFAIL, "4.3.5", "postsift-filter must not run as root; "
                  "set user= in the master.cf pipe entry");
    pipe_envelope(pa, &env);
    if (var_pipe_deadline > 0) {
        signal(SIGALRM, deadline_handler);
        alarm((unsigned)var_pipe_deadline);
    }
    if (spool_dir_check(var_spool_dir, err) < 0 || (fd = spool_create(var_spool_dir, err)) < 0)
        pipe_fail(NULL, vbuf_str(err));
    if (capture(fd, var_message_size_limit, outcome_keeps_message(action_for_oversize()),
                &size, &eightbit, &oversize, err) < 0)
        pipe_fail(pa, vbuf_str(err));

    decision_init(&d);
    if (!oversize && (in = inspector_open(err)) == NULL) {
        /* no scanner (no signature database...): defer, whatever
         * error_action says; the first output line says why (fail closed) */
        msg_warn("%s: %s", pipe_queue_id(pa), vbuf_str(err));
        vbuf_strcpy(d.detail, vbuf_str(err));
        pipe_act(pa, &env, &d, fd, size);
    }
    counters_decide(in, vbuf_str(err), fd, oversize, &env, &d);
    if (d.verdict == VERDICT_ERROR)
        msg_warn("%s: %s", pipe_queue_id(pa), vbuf_str(d.detail));

    /* a command scanner's replacement is not read for 8-bit bytes */
    env.body = eightbit || d.replaced ? "8BITMIME" : NULL;
    env.size = (d.replaced ? d.replaced_size : size) + (long long)vbuf_len(d.prefix);
    pipe_act(pa, &env, &d, fd, size);
}
