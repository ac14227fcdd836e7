/*
 * outcome - what a decision means for a front end (see outcome.h)
 */
#include <string.h>

#include "filter/outcome.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/printable.h"

#define OUTCOME_DETAIL_MAX 300          /* details in SMTP replies */

 /*
  * One row per action. The texts differ by mode: an SMTP reply reads
  * "554 5.7.1 Error: message content rejected: VERDICT: DETAIL", pipe(8)
  * shows "5.7.1 message content rejected: VERDICT: DETAIL". A deferral
  * for a scanning error is 4.3.0 rather than 4.7.1 (not a policy).
  */
typedef struct OUTCOME_ROW {
    OUTCOME_DO todo;
    int     code;
    const char *dsn;
    int     exit_status;
    const char *status[OUTCOME_MODE_COUNT];
    const char *why;
    const char *text[OUTCOME_MODE_COUNT];      /* before ": VERDICT: DETAIL" */
} OUTCOME_ROW;

static const OUTCOME_ROW outcome_table[ACTION_COUNT] = {
    [ACTION_PASS] = {OUTCOME_RELAY, 0, NULL, EXIT_DONE, {"sent", "sent", "sent"}, NULL,
    {NULL, NULL, NULL}},
    [ACTION_TAG] = {OUTCOME_RELAY, 0, NULL, EXIT_DONE, {"sent", "sent", "sent"}, NULL,
    {NULL, NULL, NULL}},
    [ACTION_REJECT] = {OUTCOME_REFUSE, 554, "5.7.1", EXIT_REFUSED,
        {"bounced", "rejected", "rejected"}, "rejected by policy",
        {"message content rejected", "Error: message content rejected",
    "Error: message content rejected"}},
    [ACTION_DISCARD] = {OUTCOME_DROP, 250, "2.0.0", EXIT_DONE,
        {"discarded", "discarded", "discarded"}, "dropped by policy",
    {"discarded", "Ok: discarded", "Ok: discarded"}},
    [ACTION_QUARANTINE] = {OUTCOME_QUARANTINE, 250, "2.0.0", EXIT_DONE,
        {"quarantined", "quarantined", "quarantined"}, NULL,
    {"quarantined as", "Ok: quarantined as", "Ok: quarantined as"}},
    [ACTION_DEFER] = {OUTCOME_DEFER, 451, "4.7.1", EXIT_TEMPFAIL,
        {"deferred", "deferred", "deferred"}, "deferred by policy",
    {"postsift-filter", "Error: message deferred", "Error: message deferred"}},
};

/* outcome_init - an empty outcome */
void outcome_init(OUTCOME *o)
{
    memset(o, 0, sizeof(*o));
    o->text = vbuf_alloc(8192);
    o->why = vbuf_alloc(8192);
    o->queued_as = vbuf_alloc(256);
}

/* outcome_free - release what outcome_init allocated */
void outcome_free(OUTCOME *o)
{
    vbuf_free(o->text);
    vbuf_free(o->why);
    vbuf_free(o->queued_as);
}

/* outcome_row - the row of an action; anything unknown defers */
static const OUTCOME_ROW *outcome_row(ACTION action)
{
    return (unsigned)action < ACTION_COUNT ? &outcome_table[action]
        : &outcome_table[ACTION_DEFER];
}

/* outcome_detail_append - ": VERDICT: DETAIL"; in an SMTP reply the
 * detail is printable ASCII and at most OUTCOME_DETAIL_MAX bytes */
static void outcome_detail_append(VBUF *text, OUTCOME_MODE mode, const DECISION *d)
{
    char    detail[OUTCOME_DETAIL_MAX + 1];
    const char *shown = vbuf_str(d->detail);

    if (mode != OUTCOME_PIPE)
        shown = printable_copy(detail, sizeof(detail), shown, OUTCOME_DETAIL_MAX,
                               PRINTABLE_ASCII);
    vbuf_sprintf_append(text, ": %s: %s", verdict_names[d->verdict], shown);
}

/* outcome_for - what decision d means in mode */
void outcome_for(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d)
{
    const OUTCOME_ROW *row = outcome_row(d->action);

    o->todo = row->todo;
    o->code = row->code;
    o->dsn = row->dsn;
    o->exit_status = row->exit_status;
    o->status = row->status[mode];
    vbuf_reset(o->text);
    vbuf_reset(o->why);
    vbuf_reset(o->queued_as);
    if (row->why)
        vbuf_strcpy(o->why, row->why);
    if (row->todo == OUTCOME_DEFER && d->verdict == VERDICT_ERROR)
        o->dsn = "4.3.0";
    if (row->todo == OUTCOME_REFUSE && d->verdict == VERDICT_REJECTED) {
        /* a command scanner's own 5xx code, or 554 5.7.1 */
        o->code = d->reject_code;
        o->dsn = d->reject_dsn;
    }
    if (row->todo == OUTCOME_RELAY || row->todo == OUTCOME_QUARANTINE)
        return;
    vbuf_strcpy(o->text, row->text[mode]);
    outcome_detail_append(o->text, mode, d);
}

/* outcome_stored - a quarantine done, or failed */
void outcome_stored(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d, const char *id,
                    const char *err)
{
    const OUTCOME_ROW *row = &outcome_table[ACTION_QUARANTINE];

    vbuf_reset(o->text);
    vbuf_reset(o->why);
    vbuf_reset(o->queued_as);
    if (id == NULL) {
        /* a failure of ours: try again later */
        o->todo = OUTCOME_DEFER;
        o->code = 451;
        o->dsn = "4.3.0";
        o->exit_status = EXIT_TEMPFAIL;
        o->status = "deferred";
        if (mode != OUTCOME_PIPE) {
            vbuf_strcpy(o->text, "Error: quarantine failed, try again later");
            vbuf_sprintf(o->why, "quarantine failed: %s", err);
        } else {
            vbuf_sprintf(o->text, "quarantine failed: %s", err);
            vbuf_strcpy(o->why, err);
        }
        return;
    }
    o->todo = OUTCOME_QUARANTINE;
    o->code = row->code;
    o->dsn = row->dsn;
    o->exit_status = row->exit_status;
    o->status = row->status[mode];
    vbuf_strcpy(o->queued_as, id);
    vbuf_strcpy(o->why, id);
    vbuf_sprintf(o->text, "%s %s", row->text[mode], id);
    outcome_detail_append(o->text, mode, d);
}

/* outcome_held - a hold in Postfix's hold queue */
void outcome_held(OUTCOME *o, OUTCOME_MODE mode, const DECISION *d)
{
    vbuf_reset(o->text);
    vbuf_reset(o->why);
    vbuf_reset(o->queued_as);
    o->todo = OUTCOME_HOLD;
    o->code = 250;
    o->dsn = "2.0.0";
    o->exit_status = EXIT_DONE;
    o->status = "held";
    vbuf_strcpy(o->text, "held in the Postfix hold queue");
    outcome_detail_append(o->text, mode, d);
    vbuf_strcpy(o->why, "Postfix hold queue");
}

/* outcome_method_check - store or hold */
int     outcome_method_check(VBUF *err)
{
    const char *m = var_quarantine_method ? var_quarantine_method : "store";

    if (strcmp(m, "store") == 0 || strcmp(m, "hold") == 0)
        return 0;
    vbuf_sprintf(err, "quarantine_method: \"%s\" is neither store nor hold", m);
    return -1;
}

/* outcome_method - hold in milter mode only */
int     outcome_method(OUTCOME_MODE mode)
{
    static int warned;

    if (var_quarantine_method == NULL || strcmp(var_quarantine_method, "hold") != 0)
        return OUTCOME_METHOD_STORE;
    if (mode == OUTCOME_MILTER)
        return OUTCOME_METHOD_HOLD;
    if (!warned++)
        msg_warn("quarantine_method = hold works only with -m milter (Postfix's hold "
                 "queue); %s mode stores in quarantine_dir instead",
                 mode == OUTCOME_PIPE ? "pipe" : "smtpd");
    return OUTCOME_METHOD_STORE;
}

/* outcome_relay_status - sent, bounced/rejected or deferred */
const char *outcome_relay_status(OUTCOME_MODE mode, int result)
{
    if (mode == OUTCOME_PIPE)
        return result == EXIT_DONE ? "sent" : result == EXIT_REFUSED ? "bounced" : "deferred";
    return result / 100 == 2 ? "sent" : result / 100 == 5 ? "rejected" : "deferred";
}

/* outcome_keeps_message - the message bytes are needed */
int outcome_keeps_message(ACTION action)
{
    OUTCOME_DO todo = outcome_row(action)->todo;

    return todo == OUTCOME_RELAY || todo == OUTCOME_QUARANTINE;
}
