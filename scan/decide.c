/*
 * decide - from a spooled message to a verdict, an action and the headers
 * (see decide.h)
 */
#include <unistd.h>

#include "scan/decide.h"
#include "scan/headers.h"
#include "lib/msg.h"
#include "lib/params.h"

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

/* decide_message - verdict, action, headers */
void decide_message(INSPECTOR *in, const char *open_err, int fd, int oversize, DECISION *d)
{
    HEADER_INFO hinfo;
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
        INSPECT_RESULT res;

        inspect_result_init(&res);
        inspect_message(in, fd, &res);
        d->verdict = res.verdict;
        vbuf_strcpy(d->detail, vbuf_str(res.detail));
        vbuf_strcpy(d->virname, vbuf_str(res.virname));
        inspect_result_free(&res);
    }
    d->action = oversize ? action_for_oversize() : action_for(d->verdict);

    /* Only what leaves the filter needs headers. */
    if (d->action == ACTION_PASS || d->action == ACTION_TAG) {
        if (hinfo.foreign > 0) {
            int copy = headers_neutralize(fd, var_spool_dir, err);

            if (copy < 0) {
                d->verdict = VERDICT_ERROR;
                d->action = ACTION_DEFER;
                vbuf_strcpy(d->detail, vbuf_str(err));
                vbuf_free(err);
                return;
            }
            d->fd = copy;
            d->own_fd = 1;
        }
        headers_build(d->prefix, engine, var_myhostname, d->verdict,
                      vbuf_str(d->detail), d->action == ACTION_TAG);
    }
    vbuf_free(err);
}
