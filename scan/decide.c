/*
 * decide - from a spooled message to a verdict, an action and the headers
 * (see decide.h)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scan/decide.h"
#include "scan/headers.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"

/* decision_init - nothing decided */
void decision_init(DECISION *d)
{
    d->verdict = VERDICT_ERROR;
    d->action = ACTION_DEFER;
    d->detail = vbuf_alloc(4096);
    d->virname = vbuf_alloc(1024);
    d->prefix = vbuf_alloc(8192);
    d->fd = -1;
    d->own_fd = 0;
    d->replaced = 0;
    d->replaced_size = 0;
    d->reject_code = 554;
    snprintf(d->reject_dsn, sizeof(d->reject_dsn), "5.7.1");
}

/* decision_free - release */
void decision_free(DECISION *d)
{
    vbuf_free(d->detail);
    vbuf_free(d->virname);
    vbuf_free(d->prefix);
    if (d->own_fd && d->fd >= 0)
        (void)close(d->fd);
    d->fd = -1;
    d->own_fd = 0;
}

/* decide_take - fd becomes the message to send on, owned here */
static void decide_take(DECISION *d, int fd)
{
    if (d->own_fd && d->fd >= 0)
        (void)close(d->fd);
    d->fd = fd;
    d->own_fd = 1;
}

/* decide_inspect - the inspection's verdict into d; a replacement
 * message becomes d->fd, and *hinfo is then about its headers */
static void decide_inspect(INSPECTOR *in, int fd, const SMTP_ENVELOPE *env, DECISION *d,
                           HEADER_INFO *hinfo, VBUF *err)
{
    INSPECT_RESULT res;

    inspect_result_init(&res);
    inspect_message_env(in, fd, env, &res);
    d->verdict = res.verdict;
    vbuf_strcpy(d->detail, vbuf_str(res.detail));
    vbuf_strcpy(d->virname, vbuf_str(res.virname));
    if (res.verdict == VERDICT_REJECTED && res.reject_code >= 500 && res.reject_code <= 599) {
        d->reject_code = res.reject_code;
        snprintf(d->reject_dsn, sizeof(d->reject_dsn), "%s", res.reject_dsn);
    }
    if (res.replacement >= 0 && res.verdict < VERDICT_REJECTED) {
        decide_take(d, res.replacement);
        res.replacement = -1;
        d->replaced = 1;
        d->replaced_size = (long long)spool_size(d->fd);
        if (d->replaced_size < 0 || headers_scan(d->fd, hinfo, err) < 0) {
            d->verdict = VERDICT_ERROR;
            vbuf_sprintf(d->detail, "replacement message: %s",
                         d->replaced_size < 0 ? "cannot tell its size" : vbuf_str(err));
        }
    }
    inspect_result_free(&res);
}

/* decide_headers - for pass and tag: untrusted headers renamed (in a copy)
 * and ours built; -1 with why in err */
static int decide_headers(DECISION *d, const HEADER_INFO *hinfo, const char *engine, VBUF *err)
{
    int     copy;

    if (hinfo->foreign > 0) {
        if ((copy = headers_neutralize(d->fd, var_spool_dir, err)) < 0)
            return -1;
        decide_take(d, copy);
    }
    headers_build(d->prefix, engine, var_myhostname, d->verdict,
                  vbuf_str(d->detail), d->action == ACTION_TAG);
    return 0;
}

/* decide_message - verdict, action, headers, without envelope */
void decide_message(INSPECTOR *in, const char *open_err, int fd, int oversize, DECISION *d)
{
    decide_message_env(in, open_err, fd, oversize, NULL, d);
}

/* decide_message_env - verdict, action, headers */
void decide_message_env(INSPECTOR *in, const char *open_err, int fd, int oversize,
                        const SMTP_ENVELOPE *env, DECISION *d)
{
    HEADER_INFO hinfo = {0, 0};
    VBUF *err = vbuf_alloc(4096);
    const char *engine = in ? inspector_engine(in) : "scanner unavailable";

    d->fd = fd;
    if (headers_scan(fd, &hinfo, err) < 0) {
        d->verdict = VERDICT_ERROR;
        vbuf_strcpy(d->detail, vbuf_str(err));
    } else if (hinfo.our_trace >= var_max_trace_headers) {
        /* A loop: the message came back to us too often. Never pass it. */
        d->verdict = VERDICT_ERROR;
        d->action = ACTION_DEFER;
        vbuf_sprintf(d->detail, "mail forwarding loop: %d X-Virus-Scanned headers of ours "
                     "(max_trace_headers = %ld)", hinfo.our_trace, var_max_trace_headers);
        vbuf_free(err);
        return;
    } else if (oversize) {
        d->verdict = VERDICT_UNCHECKED;
        vbuf_sprintf(d->detail, "message size limit %ld exceeded, not scanned",
                     var_message_size_limit);
    } else if (in == NULL) {
        d->verdict = VERDICT_ERROR;
        vbuf_strcpy(d->detail, open_err ? open_err : "scanner unavailable");
    } else {
        decide_inspect(in, fd, env, d, &hinfo, err);
    }
    d->action = oversize ? action_for_oversize() : action_for(d->verdict);

    /* Only what leaves the filter needs headers. */
    if ((d->action == ACTION_PASS || d->action == ACTION_TAG)
        && decide_headers(d, &hinfo, engine, err) < 0) {
        d->verdict = VERDICT_ERROR;
        d->action = ACTION_DEFER;
        vbuf_strcpy(d->detail, vbuf_str(err));
    }
    vbuf_free(err);
}
