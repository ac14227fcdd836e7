/*
 * test_smtpcli_reply - reply parsing, xtext, queue ids
 *
 * smtp_reply_parse() against a table of well-formed and malformed replies
 * (mismatched codes, bad codes, missing separators, over-long lines,
 * enhanced codes present, absent and of the wrong class), then
 * xtext_encode() and smtp_queue_id().
 */
#include <string.h>

#include "lib/vbuf.h"
#include "smtpcli/smtpcli.h"
#include "tests/unit/unittest.h"

typedef struct CASE {
    const char *name;
    const char *lines[4];   /* NULL-terminated */
    int         ok;
    int         code;
    const char *dsn;
    const char *text;
} CASE;

static const CASE cases[] = {
    {"single", {"250 Ok"}, 1, 250, "2.0.0", "Ok"},
    {"single with dsn", {"250 2.1.0 Ok"}, 1, 250, "2.1.0", "2.1.0 Ok"},
    {"code only", {"250"}, 1, 250, "2.0.0", ""},
    {"code and space", {"354 "}, 1, 354, "4.0.0", ""},
    {"multi-line", {"250-mx.example.com", "250-PIPELINING", "250 DSN"}, 1, 250, "2.0.0",
     "mx.example.com\nPIPELINING\nDSN"},
    {"multi-line dsn", {"550-5.7.1 first", "550 5.7.1 second"}, 1, 550, "5.7.1",
     "5.7.1 first\n5.7.1 second"},
    {"4xx derived", {"451 try later"}, 1, 451, "4.0.0", "try later"},
    {"5xx derived", {"554 no"}, 1, 554, "5.0.0", "no"},
    {"dsn wrong class", {"550 2.1.0 odd"}, 1, 550, "5.0.0", "2.1.0 odd"},
    {"dsn long parts", {"451 4.123.456 x"}, 1, 451, "4.123.456", "4.123.456 x"},
    {"dsn too long part", {"451 4.1234.1 x"}, 1, 451, "4.0.0", "4.1234.1 x"},
    {"dsn glued", {"250 2.0.0Ok"}, 1, 250, "2.0.0", "2.0.0Ok"},
    {"dsn alone", {"250 2.6.0"}, 1, 250, "2.6.0", "2.6.0"},
    {"dsn not a number", {"250 2.x.0 Ok"}, 1, 250, "2.0.0", "2.x.0 Ok"},
    {"mismatched codes", {"250-a", "251 b"}, 0, 0, NULL, NULL},
    {"mismatched class", {"250-a", "550 b"}, 0, 0, NULL, NULL},
    {"continuation last", {"250-a"}, 0, 0, NULL, NULL},
    {"space in middle", {"250 a", "250 b"}, 0, 0, NULL, NULL},
    {"bad separator", {"250xOk"}, 0, 0, NULL, NULL},
    {"four digits", {"2500 Ok"}, 0, 0, NULL, NULL},
    {"two digits", {"25 Ok"}, 0, 0, NULL, NULL},
    {"not digits", {"abc Ok"}, 0, 0, NULL, NULL},
    {"1xx", {"199 Ok"}, 0, 0, NULL, NULL},
    {"6xx", {"600 Ok"}, 0, 0, NULL, NULL},
    {"0xx", {"099 Ok"}, 0, 0, NULL, NULL},
    {"empty line", {""}, 0, 0, NULL, NULL},
    {"letters in code", {"2a0 Ok"}, 0, 0, NULL, NULL},
    {"tab separator", {"250\tOk"}, 0, 0, NULL, NULL},
};

/* test_table - parse every case */
static void test_table(void)
{
    SMTP_REPLY r;
    size_t i;
    int n, rc;

    smtp_reply_init(&r);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const CASE *c = &cases[i];

        for (n = 0; n < 4 && c->lines[n]; n++)
            /* void */ ;
        rc = smtp_reply_parse(&r, c->lines, n);
        UT_EQ_INT(rc, c->ok ? 0 : -1, c->name);
        UT_EQ_INT(r.code, c->code, c->name);
        if (c->ok) {
            UT_EQ_STR(r.dsn, c->dsn, c->name);
            UT_EQ_STR(vbuf_str(r.text), c->text, c->name);
        }
    }
    smtp_reply_free(&r);
}

/* test_limits - over-long lines, too many lines, no lines */
static void test_limits(void)
{
    SMTP_REPLY r;
    char *longline = malloc(SMTP_LINE_MAX + 10);
    const char *lines[SMTP_REPLY_MAX + 1];
    int i;

    smtp_reply_init(&r);
    memcpy(longline, "250 ", 4);
    memset(longline + 4, 'x', SMTP_LINE_MAX - 4);
    longline[SMTP_LINE_MAX] = 0;
    lines[0] = longline;
    UT_EQ_INT(smtp_reply_parse(&r, lines, 1), 0, "line at the bound");
    longline[SMTP_LINE_MAX] = 'x';
    longline[SMTP_LINE_MAX + 1] = 0;
    UT_EQ_INT(smtp_reply_parse(&r, lines, 1), -1, "line over the bound");
    UT_EQ_INT(r.code, 0, "over-long gives code 0");

    for (i = 0; i < SMTP_REPLY_MAX; i++)
        lines[i] = "250-x";
    lines[SMTP_REPLY_MAX - 1] = "250 x";
    UT_EQ_INT(smtp_reply_parse(&r, lines, SMTP_REPLY_MAX), 0, "most lines");
    lines[SMTP_REPLY_MAX - 1] = "250-x";
    lines[SMTP_REPLY_MAX] = "250 x";
    UT_EQ_INT(smtp_reply_parse(&r, lines, SMTP_REPLY_MAX + 1), -1, "too many lines");
    UT_EQ_INT(smtp_reply_parse(&r, lines, 0), -1, "no lines");
    free(longline);
    smtp_reply_free(&r);
}

/* test_set_one_line - replies of our own and their one-line form */
static void test_set_one_line(void)
{
    SMTP_REPLY r;
    VBUF *buf = vbuf_alloc(0);
    const char *lines[] = {"550-5.1.1 first", "550 5.1.1 second"};

    smtp_reply_init(&r);
    smtp_reply_set(&r, 451, "4.3.0", "internal %s", "error");
    UT_EQ_INT(r.code, 451, "set code");
    UT_EQ_STR(r.dsn, "4.3.0", "set dsn");
    UT_EQ_STR(vbuf_str(r.text), "internal error", "set text");
    smtp_reply_set(&r, 554, NULL, "x");
    UT_EQ_STR(r.dsn, "5.0.0", "set derives dsn");
    smtp_reply_parse(&r, lines, 2);
    UT_EQ_STR(smtp_reply_one_line(&r, buf), "5.1.1 first; 5.1.1 second", "one line");
    smtp_reply_free(&r);
    vbuf_free(buf);
}

/* test_xtext - RFC 3461 encoding */
static void test_xtext(void)
{
    static const struct { const char *in, *out; } x[] = {
        {"", ""},
        {"user@example.com", "user@example.com"},
        {"a+b=c", "a+2Bb+3Dc"},
        {"a b", "a+20b"},
        {"[UNAVAILABLE]", "[UNAVAILABLE]"},
        {"\r\n", "+0D+0A"},
        {"\x7f\xc3\xa9", "+7F+C3+A9"},
        {"~!", "~!"},
    };
    VBUF *out = vbuf_alloc(0);
    size_t i;

    for (i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
        vbuf_reset(out);
        xtext_encode(out, x[i].in);
        UT_EQ_STR(vbuf_str(out), x[i].out, x[i].in);
    }
    vbuf_strcpy(out, "pre:");
    xtext_encode(out, "=");
    UT_EQ_STR(vbuf_str(out), "pre:+3D", "xtext appends");
    vbuf_free(out);
}

/* test_queue_id - "queued as" as Postfix says it */
static void test_queue_id(void)
{
    static const struct { const char *line; const char *id; } q[] = {
        {"250 2.0.0 Ok: queued as 4F1C52A0B3C", "4F1C52A0B3C"},
        {"250 2.0.0 Ok: queued as 4Xq9Kz0Bv3z1lNx", "4Xq9Kz0Bv3z1lNx"},
        {"250 Ok: queued as ABC123", "ABC123"},
        {"250 2.0.0 Ok: queued as ABC123 (extra)", "ABC123"},
        {"250 2.0.0 Ok", ""},
        {"250 2.0.0 queued as ", ""},
        {"250 queued as  , queued as XY1", "XY1"},
        {"451 4.3.0 queued as NOTREALLY", ""},
    };
    SMTP_REPLY r;
    VBUF *out = vbuf_alloc(0);
    const char *lines[1];
    size_t i;

    smtp_reply_init(&r);
    for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        lines[0] = q[i].line;
        UT_EQ_INT(smtp_reply_parse(&r, lines, 1), 0, q[i].line);
        UT_EQ_STR(smtp_queue_id(&r, out), q[i].id, q[i].line);
    }
    {
        const char *ml[] = {"250-2.0.0 Ok", "250 2.0.0 queued as MULTI9"};

        smtp_reply_parse(&r, ml, 2);
        UT_EQ_STR(smtp_queue_id(&r, out), "MULTI9", "queue id on a later line");
    }
    smtp_reply_free(&r);
    vbuf_free(out);
}

/* main - run the tests */
int main(void)
{
    UT_BEGIN("test_smtpcli_reply");
    test_table();
    test_limits();
    test_set_one_line();
    test_xtext();
    test_queue_id();
    return ut_done();
}
