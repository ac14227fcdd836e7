/*
 * session - one connection from Postfix (session.h)
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/netio.h"
#include "lib/params.h"
#include "lib/printable.h"
#include "lib/vbuf.h"
#include "policy/action.h"
#include "policy/engine.h"
#include "policy/request.h"
#include "policy/session.h"

#define SESSION_LOG_MAX 256             /* bytes of an address in the log */

/* session_field - ", name=<value>" (printable, bounded) */
static void session_field(VBUF *line, const char *name, const char *value, const char *open,
                          const char *close)
{
    vbuf_sprintf_append(line, ", %s=%s", name, open);
    printable_append(line, value ? value : "", value ? strlen(value) : 0, SESSION_LOG_MAX, 0);
    vbuf_strcat(line, close);
}

/* session_log - see session.h: "QUEUE_ID: client=NAME[ADDR], from=<>,
 * to=<>, state=S, rule=R, matched=..., action="...", detail="..." */
void    session_log(const REQUEST *req, const DECISION *d)
{
    VBUF   *line = vbuf_alloc(8 * REQUEST_MAX_VALUE);
    const char *qid = request_get(req, "queue_id");
    const char *name = request_get(req, "client_name");
    const char *addr = request_get(req, "client_address");

    printable_append(line, qid && *qid ? qid : "NOQUEUE", qid && *qid ? strlen(qid) : 7, 64, 0);
    vbuf_strcat(line, ": client=");
    printable_append(line, name ? name : "unknown", name ? strlen(name) : 7, SESSION_LOG_MAX, 0);
    vbuf_addch(line, '[');
    printable_append(line, addr ? addr : "unknown", addr ? strlen(addr) : 7, 64, 0);
    vbuf_addch(line, ']');
    session_field(line, "from", request_get(req, "sender"), "<", ">");
    session_field(line, "to", request_get(req, "recipient"), "<", ">");
    session_field(line, "state", request_get(req, "protocol_state"), "", "");
    vbuf_sprintf_append(line, ", rule=%s", d->rule ? d->rule->name : "none");
    if (vbuf_len(d->matched))
        vbuf_sprintf_append(line, ", matched=(%s)", vbuf_str(d->matched));
    vbuf_strcat(line, ", action=");
    vbuf_quote_append(line, vbuf_str(d->action));
    if (vbuf_len(d->detail)) {
        vbuf_strcat(line, ", detail=");
        vbuf_quote_append(line, vbuf_str(d->detail));
    }
    msg_info("%s", vbuf_str(line));
    vbuf_free(line);
}

/* session_answer - "action=TEXT" and the empty line, within policy_timeout */
static int session_answer(NETIO *io, const char *action, const char *peer)
{
    netio_set_timeout(io, (int)var_policy_timeout);
    netio_set_deadline(io, (int)var_policy_timeout);
    if (netio_printf(io, "action=%s\n\n", action) < 0 || netio_flush(io) < 0) {
        msg_warn("%s: cannot send the answer: %s", peer, netio_strerror(io));
        return -1;
    }
    return 0;
}

/* session_bad - a request we cannot answer from the rules */
static const char *session_bad(int status, const char *why, const char *peer)
{
    if (status == REQUEST_OK)           /* no engine */
        msg_warn("%s: no policy rules loaded (%s); answering %s", peer, why, ACTION_TEMPFAIL);
    else
        msg_warn("%s: malformed policy request: %s; answering %s%s", peer, why,
                 ACTION_TEMPFAIL, status == REQUEST_LOST ? " and closing" : "");
    return ACTION_TEMPFAIL;
}

/* session_serve - see session.h */
int     session_serve(int rfd, int wfd, ENGINE *eng, const char *peer,
                      const volatile sig_atomic_t *stop)
{
    NETIO  *io;
    VBUF   *err;
    REQUEST *req = mymalloc(sizeof(*req));
    DECISION d;
    const char *answer;
    int     status, served = 0, r_dup, w_dup = -1;

    /* Our own descriptors: netio_close() closes them, the caller its own. */
    if ((r_dup = dup(rfd)) < 0 || (w_dup = rfd == wfd ? dup(r_dup) : dup(wfd)) < 0) {
        msg_warn("%s: dup: %s", peer, strerror(errno));
        if (r_dup >= 0)
            close(r_dup);
        myfree(req);
        return 0;
    }
    io = netio_fdopen(r_dup, w_dup);
    err = vbuf_alloc(1024);
    request_init(req);
    engine_decision_init(&d);
    netio_set_interrupt(io, stop);
    for (;;) {
        status = request_read(io, req, (int)var_policy_idle_timeout, (int)var_policy_timeout, err);
        if (status == REQUEST_END) {
            if (msg_verbose)
                msg_info("%s: %s after %d requests", peer, vbuf_str(err), served);
            break;
        }
        if (status != REQUEST_OK || eng == NULL) {
            answer = session_bad(status, eng == NULL && status == REQUEST_OK ? "see the earlier "
                                 "error" : vbuf_str(err), peer);
        } else {
            engine_decide(eng, req, time(NULL), &d);
            session_log(req, &d);
            answer = vbuf_str(d.action);
        }
        if (session_answer(io, answer, peer) < 0)
            break;
        served++;
        if (status == REQUEST_LOST || (stop && *stop))
            break;
    }
    request_reset(req);
    myfree(req);
    engine_decision_free(&d);
    vbuf_free(err);
    netio_close(io);
    return served;
}
