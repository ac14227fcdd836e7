/*
 * test_lib_envelope - the one parser of the -X and -O options that
 * postsift-filter, postsift-reinject and postsift-smtpcli share
 */
#include <string.h>

#include "lib/envelope.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

/* xf_field - the value of XFORWARD attribute name in env */
static const char *xf_field(const SMTP_ENVELOPE *env, const char *name)
{
    if (strcmp(name, "addr") == 0)
        return env->xf_addr;
    if (strcmp(name, "name") == 0)
        return env->xf_name;
    if (strcmp(name, "helo") == 0)
        return env->xf_helo;
    if (strcmp(name, "proto") == 0)
        return env->xf_proto;
    if (strcmp(name, "port") == 0)
        return env->xf_port;
    if (strcmp(name, "source") == 0)
        return env->xf_source;
    if (strcmp(name, "ident") == 0)
        return env->xf_ident;
    return "(no such field)";
}

/* test_xforward - every attribute, in any case; empty values; errors */
static void test_xforward(void)
{
    static const struct {
        const char *arg;
        int     flags, ret;
        const char *field, *value;      /* value NULL: not set */
    } cases[] = {
        {"addr=192.0.2.1", 0, 0, "addr", "192.0.2.1"},
        {"ADDR=192.0.2.1", 0, 0, "addr", "192.0.2.1"},
        {"name=client.example", 0, 0, "name", "client.example"},
        {"helo=[192.0.2.1]", 0, 0, "helo", "[192.0.2.1]"},
        {"Proto=ESMTP", 0, 0, "proto", "ESMTP"},
        {"port=25", 0, 0, "port", "25"},
        {"SOURCE=REMOTE", 0, 0, "source", "REMOTE"},
        {"ident=4F2A1C0B3D", 0, 0, "ident", "4F2A1C0B3D"},
        {"helo=a=b", 0, 0, "helo", "a=b"},
        {"helo=", 0, 0, "helo", NULL},
        {"helo=", ENVELOPE_EMPTY_UNAVAILABLE, 0, "helo", ""},
        {"addr", 0, -1, "addr", NULL},
        {"bogus=1", 0, -1, "addr", NULL},
        {"=1", 0, -1, "addr", NULL},
        {"addrx=1", 0, -1, "addr", NULL},
    };
    VBUF   *err = vbuf_alloc(256);
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SMTP_ENVELOPE env;
        const char *got;

        memset(&env, 0, sizeof(env));
        vbuf_reset(err);
        UT_EQ_INT(envelope_xforward_option(&env, cases[i].arg, cases[i].flags, err),
                  cases[i].ret, cases[i].arg);
        got = xf_field(&env, cases[i].field);
        if (cases[i].value)
            UT_EQ_STR(got, cases[i].value, cases[i].arg);
        else
            UT_CHECK(got == NULL, "%s: set to \"%s\"", cases[i].arg, got);
        if (cases[i].ret < 0)
            UT_CHECK(vbuf_len(err) > 0, "%s: no reason", cases[i].arg);
    }
    vbuf_reset(err);
    envelope_xforward_option(&(SMTP_ENVELOPE) {0}, "addr", 0, err);
    UT_EQ_STR(vbuf_str(err), "-X needs attr=value", "no = reason");
    vbuf_reset(err);
    envelope_xforward_option(&(SMTP_ENVELOPE) {0}, "x=1", 0, err);
    UT_EQ_STR(vbuf_str(err), "-X: unknown attribute (use addr, name, helo, proto, port, "
              "source or ident)", "unknown attribute reason");
    vbuf_free(err);
}

/* test_orcpt - "=" dropped once, empty is none, the length bound */
static void test_orcpt(void)
{
    SMTP_RCPT rcpt[2];
    SMTP_ENVELOPE env;
    VBUF   *err = vbuf_alloc(256);
    char   *big = malloc(SMTP_ADDRESS_MAX + 2);

    memset(&env, 0, sizeof(env));
    memset(rcpt, 0, sizeof(rcpt));
    env.rcpt = rcpt;
    env.nrcpt = 2;
    UT_EQ_INT(envelope_orcpt_option(&env, 0, "=rfc822;a@example.org", err), 0, "-O=");
    UT_EQ_STR(rcpt[0].orcpt, "rfc822;a@example.org", "leading = dropped");
    UT_EQ_INT(envelope_orcpt_option(&env, 1, "b@example.org", err), 0, "-O plain");
    UT_EQ_STR(rcpt[1].orcpt, "b@example.org", "plain value");
    UT_EQ_INT(envelope_orcpt_option(&env, 1, "==x", err), 0, "-O==x");
    UT_EQ_STR(rcpt[1].orcpt, "=x", "only one = dropped");
    UT_EQ_INT(envelope_orcpt_option(&env, 0, "=", err), 0, "-O= empty");
    UT_CHECK(rcpt[0].orcpt == NULL, "empty: no ORCPT");
    UT_EQ_INT(envelope_orcpt_option(&env, 1, "", err), 0, "-O ''");
    UT_CHECK(rcpt[1].orcpt == NULL, "empty: no ORCPT");
    UT_EQ_INT(envelope_orcpt_option(&env, 2, "c@example.org", err), -1, "past the recipients");
    UT_EQ_INT(envelope_orcpt_option(&env, -1, "c@example.org", err), -1, "no recipient yet");

    memset(big, 'o', SMTP_ADDRESS_MAX + 1);
    big[SMTP_ADDRESS_MAX + 1] = 0;
    big[0] = '=';
    UT_EQ_INT(envelope_orcpt_option(&env, 0, big, err), 0, "at the limit after the =");
    UT_CHECK(rcpt[0].orcpt && strlen(rcpt[0].orcpt) == SMTP_ADDRESS_MAX, "limit kept whole");
    big[0] = 'o';
    vbuf_reset(err);
    UT_EQ_INT(envelope_orcpt_option(&env, 1, big, err), -1, "one byte over");
    UT_EQ_STR(vbuf_str(err), "original recipient too long (16385 bytes, at most 16384)",
              "too long reason");
    free(big);
    vbuf_free(err);
}

int main(void)
{
    UT_BEGIN("test_lib_envelope");
    test_xforward();
    test_orcpt();
    return ut_done();
}
