/*
 * test_filter_state - the smtpd command table's states: every command
 * in every state, and the reply (501, 503, 550, 554) the session gives
 * before the command's handler runs, or none. The expected replies are
 * what each handler answered on its own before the table had state
 * flags, checked in the same order.
 */
#include <string.h>

#include "filter/smtpd.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static const char *const verbs[] = {
    "EHLO", "HELO", "XFORWARD", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT",
    "STARTTLS", "AUTH", "BDAT", "VRFY", "EXPN", "ETRN", "XCLIENT", NULL,
};

/* expected - the refusal of verb in a state, NULL when it may run */
static const char *expected(const char *verb, int in_mail, int nrcpt, int xf_ok,
                            const char *args)
{
    if (strcmp(verb, "XFORWARD") == 0) {
        if (!xf_ok)
            return "550 5.7.0 Error: insufficient authorization";
        if (in_mail)
            return "503 5.5.1 Error: MAIL transaction in progress";
    } else if (strcmp(verb, "MAIL") == 0) {
        if (in_mail)
            return "503 5.5.1 Error: nested MAIL command";
    } else if (strcmp(verb, "RCPT") == 0) {
        if (!in_mail)
            return "503 5.5.1 Error: need MAIL command";
    } else if (strcmp(verb, "DATA") == 0) {
        if (*args)
            return "501 5.5.4 Syntax: DATA";
        if (!in_mail)
            return "503 5.5.1 Error: need RCPT command";
        if (nrcpt == 0)
            return "554 5.5.1 Error: no valid recipients";
    } else if (strcmp(verb, "RSET") == 0) {
        if (*args)
            return "501 5.5.4 Syntax: RSET";
    }
    return NULL;
}

/* test_every_state - each command in each state */
static void test_every_state(void)
{
    static const struct {
        int     in_mail, nrcpt;
        const char *name;
    } states[] = {
        {0, 0, "no transaction"},
        {1, 0, "after MAIL"},
        {1, 2, "after RCPT"},
    };
    static const char *const argss[] = {"", "FROM:<a@b>"};
    VBUF   *reply = vbuf_alloc(256);
    char    what[160];
    const char *want;
    int     v, s, xf, a, got;

    for (v = 0; verbs[v]; v++) {
        for (s = 0; s < 3; s++) {
            for (xf = 0; xf < 2; xf++) {
                for (a = 0; a < 2; a++) {
                    snprintf(what, sizeof(what), "%s %s, %s, %s", verbs[v], states[s].name,
                             xf ? "XFORWARD allowed" : "no XFORWARD",
                             a ? "with arguments" : "no arguments");
                    want = expected(verbs[v], states[s].in_mail, states[s].nrcpt, xf, argss[a]);
                    got = smtpd_state_reply(verbs[v], states[s].in_mail, states[s].nrcpt, xf,
                                            argss[a], reply);
                    UT_EQ_INT(got, want != NULL, what);
                    UT_EQ_STR(vbuf_str(reply), want ? want : "", what);
                }
            }
        }
    }
    vbuf_free(reply);
}

/* test_verbs - any case; unknown verbs are not the table's business */
static void test_verbs(void)
{
    VBUF   *reply = vbuf_alloc(256);

    UT_EQ_INT(smtpd_state_reply("data", 0, 0, 1, "", reply), 1, "lower case verb");
    UT_EQ_STR(vbuf_str(reply), "503 5.5.1 Error: need RCPT command", "lower case reply");
    UT_EQ_INT(smtpd_state_reply("Rset", 1, 1, 1, "x", reply), 1, "mixed case verb");
    UT_EQ_STR(vbuf_str(reply), "501 5.5.4 Syntax: RSET", "the table's spelling of the verb");
    UT_EQ_INT(smtpd_state_reply("BOGUS", 0, 0, 1, "", reply), -1, "unknown verb");
    UT_EQ_INT(smtpd_state_reply("MAI", 0, 0, 1, "", reply), -1, "a prefix is no verb");
    UT_EQ_INT(smtpd_state_reply("MAILX", 0, 0, 1, "", reply), -1, "nor a longer word");
    vbuf_free(reply);
}

int main(void)
{
    UT_BEGIN("test_filter_state");
    test_every_state();
    test_verbs();
    return ut_done();
}
