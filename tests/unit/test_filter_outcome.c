/*
 * test_filter_outcome - every action in every mode: the reply code,
 * enhanced status code and text of smtpd and milter mode, the exit
 * status and output line of pipe mode, and the log line's status and
 * reason, as the modes gave them before they shared one table; the held
 * outcome of the milter and quarantine_method
 */
#include <string.h>

#include "filter/outcome.h"
#include "lib/config.h"
#include "lib/exitpolicy.h"
#include "lib/params.h"
#include "tests/unit/unittest.h"

typedef struct WANT {
    ACTION  action;
    VERDICT verdict;
    OUTCOME_MODE mode;
    OUTCOME_DO todo;
    int     code;
    const char *dsn;
    int     exit_status;
    const char *text, *status, *why;
} WANT;

static const WANT wants[] = {
    {ACTION_PASS, VERDICT_CLEAN, OUTCOME_PIPE, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent", ""},
    {ACTION_PASS, VERDICT_CLEAN, OUTCOME_SMTPD, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent", ""},
    {ACTION_TAG, VERDICT_UNCHECKED, OUTCOME_PIPE, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent", ""},
    {ACTION_TAG, VERDICT_UNCHECKED, OUTCOME_SMTPD, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent",
    ""},
    {ACTION_REJECT, VERDICT_BANNED, OUTCOME_PIPE, OUTCOME_REFUSE, 554, "5.7.1", EXIT_REFUSED,
        "message content rejected: banned: DETAIL", "bounced", "rejected by policy"},
    {ACTION_REJECT, VERDICT_BANNED, OUTCOME_SMTPD, OUTCOME_REFUSE, 554, "5.7.1", EXIT_REFUSED,
        "Error: message content rejected: banned: DETAIL", "rejected", "rejected by policy"},
    {ACTION_DISCARD, VERDICT_UNCHECKED, OUTCOME_PIPE, OUTCOME_DROP, 250, "2.0.0", EXIT_DONE,
        "discarded: unchecked: DETAIL", "discarded", "dropped by policy"},
    {ACTION_DISCARD, VERDICT_UNCHECKED, OUTCOME_SMTPD, OUTCOME_DROP, 250, "2.0.0", EXIT_DONE,
        "Ok: discarded: unchecked: DETAIL", "discarded", "dropped by policy"},
    {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_PIPE, OUTCOME_QUARANTINE, 250, "2.0.0",
        EXIT_DONE, "", "quarantined", ""},
    {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_SMTPD, OUTCOME_QUARANTINE, 250, "2.0.0",
        EXIT_DONE, "", "quarantined", ""},
    {ACTION_DEFER, VERDICT_INFECTED, OUTCOME_PIPE, OUTCOME_DEFER, 451, "4.7.1", EXIT_TEMPFAIL,
        "postsift-filter: infected: DETAIL", "deferred", "deferred by policy"},
    {ACTION_DEFER, VERDICT_INFECTED, OUTCOME_SMTPD, OUTCOME_DEFER, 451, "4.7.1", EXIT_TEMPFAIL,
        "Error: message deferred: infected: DETAIL", "deferred", "deferred by policy"},
    {ACTION_DEFER, VERDICT_ERROR, OUTCOME_PIPE, OUTCOME_DEFER, 451, "4.3.0", EXIT_TEMPFAIL,
        "postsift-filter: error: DETAIL", "deferred", "deferred by policy"},
    {ACTION_DEFER, VERDICT_ERROR, OUTCOME_SMTPD, OUTCOME_DEFER, 451, "4.3.0", EXIT_TEMPFAIL,
        "Error: message deferred: error: DETAIL", "deferred", "deferred by policy"},
    {ACTION_COUNT, VERDICT_CLEAN, OUTCOME_PIPE, OUTCOME_DEFER, 451, "4.7.1", EXIT_TEMPFAIL,
        "postsift-filter: clean: DETAIL", "deferred", "deferred by policy"},
    {ACTION_COUNT, VERDICT_CLEAN, OUTCOME_SMTPD, OUTCOME_DEFER, 451, "4.7.1", EXIT_TEMPFAIL,
        "Error: message deferred: clean: DETAIL", "deferred", "deferred by policy"},
    {ACTION_PASS, VERDICT_CLEAN, OUTCOME_MILTER, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent", ""},
    {ACTION_TAG, VERDICT_UNCHECKED, OUTCOME_MILTER, OUTCOME_RELAY, 0, NULL, EXIT_DONE, "", "sent",
    ""},
    {ACTION_REJECT, VERDICT_INFECTED, OUTCOME_MILTER, OUTCOME_REFUSE, 554, "5.7.1", EXIT_REFUSED,
        "Error: message content rejected: infected: DETAIL", "rejected", "rejected by policy"},
    {ACTION_DISCARD, VERDICT_UNCHECKED, OUTCOME_MILTER, OUTCOME_DROP, 250, "2.0.0", EXIT_DONE,
        "Ok: discarded: unchecked: DETAIL", "discarded", "dropped by policy"},
    {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_MILTER, OUTCOME_QUARANTINE, 250, "2.0.0",
        EXIT_DONE, "", "quarantined", ""},
    {ACTION_DEFER, VERDICT_ERROR, OUTCOME_MILTER, OUTCOME_DEFER, 451, "4.3.0", EXIT_TEMPFAIL,
        "Error: message deferred: error: DETAIL", "deferred", "deferred by policy"},
};

/* check_outcome - o is what w wants */
static void check_outcome(const OUTCOME *o, const WANT *w, const char *what)
{
    UT_EQ_INT(o->todo, w->todo, what);
    UT_EQ_INT(o->code, w->code, what);
    UT_CHECK(w->dsn ? o->dsn && strcmp(o->dsn, w->dsn) == 0 : o->dsn == NULL,
             "%s: dsn %s", what, o->dsn ? o->dsn : "(null)");
    UT_EQ_INT(o->exit_status, w->exit_status, what);
    UT_EQ_STR(vbuf_str(o->text), w->text, what);
    UT_EQ_STR(o->status, w->status, what);
    UT_EQ_STR(vbuf_str(o->why), w->why, what);
}

/* test_table - every action in both modes */
static void test_table(void)
{
    DECISION d;
    OUTCOME o;
    char    what[128];
    size_t  i;

    decision_init(&d);
    outcome_init(&o);
    vbuf_strcpy(d.detail, "DETAIL");
    for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        snprintf(what, sizeof(what), "action %d verdict %d mode %d", (int)wants[i].action,
                 (int)wants[i].verdict, (int)wants[i].mode);
        d.action = wants[i].action;
        d.verdict = wants[i].verdict;
        outcome_for(&o, wants[i].mode, &d);
        check_outcome(&o, &wants[i], what);
    }
    outcome_free(&o);
    decision_free(&d);
}

/* test_quarantine - stored, or not */
static void test_quarantine(void)
{
    static const WANT stored[] = {
        {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_PIPE, OUTCOME_QUARANTINE, 250, "2.0.0",
            EXIT_DONE, "quarantined as ID16: infected: Eicar-Signature", "quarantined", "ID16"},
        {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_SMTPD, OUTCOME_QUARANTINE, 250, "2.0.0",
            EXIT_DONE, "Ok: quarantined as ID16: infected: Eicar-Signature", "quarantined",
        "ID16"},
    };
    static const WANT failed[] = {
        {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_PIPE, OUTCOME_DEFER, 451, "4.3.0",
            EXIT_TEMPFAIL, "quarantine failed: disk full", "deferred", "disk full"},
        {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_SMTPD, OUTCOME_DEFER, 451, "4.3.0",
            EXIT_TEMPFAIL, "Error: quarantine failed, try again later", "deferred",
        "quarantine failed: disk full"},
    };
    DECISION d;
    OUTCOME o;
    int     i;

    decision_init(&d);
    outcome_init(&o);
    vbuf_strcpy(d.detail, "Eicar-Signature");
    d.verdict = VERDICT_INFECTED;
    d.action = ACTION_QUARANTINE;
    for (i = 0; i < 2; i++) {
        outcome_for(&o, stored[i].mode, &d);
        outcome_stored(&o, stored[i].mode, &d, "ID16", NULL);
        check_outcome(&o, &stored[i], "stored");
        UT_EQ_STR(vbuf_str(o.queued_as), "ID16", "queued_as");
        outcome_for(&o, failed[i].mode, &d);
        outcome_stored(&o, failed[i].mode, &d, NULL, "disk full");
        check_outcome(&o, &failed[i], "failed");
        UT_EQ_STR(vbuf_str(o.queued_as), "", "no queued_as");
    }
    outcome_free(&o);
    decision_free(&d);
}

/* test_held - the milter's hold, and quarantine_method */
static void test_held(void)
{
    static const WANT held = {ACTION_QUARANTINE, VERDICT_INFECTED, OUTCOME_MILTER, OUTCOME_HOLD,
        250, "2.0.0", EXIT_DONE, "held in the Postfix hold queue: infected: Eicar?%",
    "held", "Postfix hold queue"};
    DECISION d;
    OUTCOME o;
    VBUF   *err = vbuf_alloc(1024);

    decision_init(&d);
    outcome_init(&o);
    vbuf_strcpy(d.detail, "Eicar\t%");
    d.verdict = VERDICT_INFECTED;
    d.action = ACTION_QUARANTINE;
    outcome_for(&o, OUTCOME_MILTER, &d);
    outcome_held(&o, OUTCOME_MILTER, &d);
    check_outcome(&o, &held, "held");

    config_init();
    UT_CHECK(outcome_method_check(err) == 0, "store by default");
    UT_EQ_INT(outcome_method(OUTCOME_MILTER), OUTCOME_METHOD_STORE, "milter: store");
    ut_set("quarantine_method=hold");
    UT_CHECK(outcome_method_check(err) == 0, "hold is good");
    UT_EQ_INT(outcome_method(OUTCOME_MILTER), OUTCOME_METHOD_HOLD, "milter: hold");
    UT_EQ_INT(outcome_method(OUTCOME_SMTPD), OUTCOME_METHOD_STORE, "smtpd: store, not hold");
    UT_EQ_INT(outcome_method(OUTCOME_PIPE), OUTCOME_METHOD_STORE, "pipe: store, not hold");
    ut_set("quarantine_method=bounce");
    UT_CHECK(outcome_method_check(err) < 0, "bounce refused");
    UT_EQ_STR(vbuf_str(err), "quarantine_method: \"bounce\" is neither store nor hold",
              "why bounce is refused");
    vbuf_free(err);
    outcome_free(&o);
    decision_free(&d);
}

/* test_detail - a reply gets printable ASCII, at most 300 bytes; the
 * pipe(8) line the detail as it is */
static void test_detail(void)
{
    DECISION d;
    OUTCOME o;
    char    want[400];

    decision_init(&d);
    outcome_init(&o);
    d.verdict = VERDICT_BANNED;
    d.action = ACTION_REJECT;
    vbuf_strcpy(d.detail, "name \"a\tb\xc3\xa9.exe\"");
    outcome_for(&o, OUTCOME_SMTPD, &d);
    UT_EQ_STR(vbuf_str(o.text), "Error: message content rejected: banned: name \"a?b??.exe\"",
              "reply made printable ASCII");
    outcome_for(&o, OUTCOME_PIPE, &d);
    UT_EQ_STR(vbuf_str(o.text), "message content rejected: banned: name \"a\tb\xc3\xa9.exe\"",
              "pipe line as it is");
    vbuf_reset(d.detail);
    for (int i = 0; i < 500; i++)
        vbuf_addch(d.detail, 'x');
    outcome_for(&o, OUTCOME_SMTPD, &d);
    snprintf(want, sizeof(want), "Error: message content rejected: banned: %.300s",
             vbuf_str(d.detail));
    UT_EQ_STR(vbuf_str(o.text), want, "reply detail cut at 300 bytes");
    outcome_for(&o, OUTCOME_PIPE, &d);
    UT_EQ_INT(vbuf_len(o.text), strlen("message content rejected: banned: ") + 500,
              "pipe detail whole");
    outcome_free(&o);
    decision_free(&d);
}

/* test_relay_status - the log status of a relay, and what keeps bytes */
static void test_relay_status(void)
{
    UT_EQ_STR(outcome_relay_status(OUTCOME_PIPE, EXIT_DONE), "sent", "pipe 0");
    UT_EQ_STR(outcome_relay_status(OUTCOME_PIPE, EXIT_REFUSED), "bounced", "pipe 69");
    UT_EQ_STR(outcome_relay_status(OUTCOME_PIPE, EXIT_TEMPFAIL), "deferred", "pipe 75");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, 250), "sent", "smtpd 250");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, 554), "rejected", "smtpd 554");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, 451), "deferred", "smtpd 451");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, 421), "deferred", "smtpd 421");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, 0), "deferred", "smtpd no reply");
    UT_EQ_STR(outcome_relay_status(OUTCOME_SMTPD, -1), "deferred", "smtpd error");
    UT_EQ_STR(outcome_relay_status(OUTCOME_MILTER, 250), "sent", "milter 250");
    UT_CHECK(outcome_keeps_message(ACTION_PASS), "pass keeps");
    UT_CHECK(outcome_keeps_message(ACTION_TAG), "tag keeps");
    UT_CHECK(outcome_keeps_message(ACTION_QUARANTINE), "quarantine keeps");
    UT_CHECK(!outcome_keeps_message(ACTION_REJECT), "reject drops");
    UT_CHECK(!outcome_keeps_message(ACTION_DISCARD), "discard drops");
    UT_CHECK(!outcome_keeps_message(ACTION_DEFER), "defer drops");
}

int main(void)
{
    UT_BEGIN("test_filter_outcome");
    test_table();
    test_quarantine();
    test_held();
    test_detail();
    test_relay_status();
    return ut_done();
}
