/*
 * test_lib_text - the small shared helpers of lib/: host:port, xtext,
 * enhanced status codes, printable text, the monotonic clock
 */
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/hostport.h"
#include "lib/printable.h"
#include "lib/smtpcode.h"
#include "lib/vbuf.h"
#include "lib/xtext.h"
#include "tests/unit/unittest.h"

/* test_hostport - every form the settings use, and what is refused */
static void test_hostport(void)
{
    static const struct {
        const char *spec, *defport;
        int     flags, ok;
        const char *host, *port;
        int     bracketed;
    } cases[] = {
        {"127.0.0.1:10026", NULL, 0, 1, "127.0.0.1", "10026", 0},
        {"[::1]:10025", NULL, 0, 1, "::1", "10025", 1},
        {"[mail.example.org]:smtp", NULL, 0, 1, "mail.example.org", "smtp", 1},
        {"inet:localhost:10025", NULL, HOSTPORT_INET, 1, "localhost", "10025", 0},
        {"inet:localhost:10025", NULL, 0, 0, NULL, NULL, 0},
        {"MX.Example.ORG:25", NULL, HOSTPORT_LOWER, 1, "mx.example.org", "25", 0},
        {"host", "25", 0, 1, "host", "25", 0},
        {"[10.0.0.1]", "25", 0, 1, "10.0.0.1", "25", 1},
        {"host", NULL, 0, 0, NULL, NULL, 0},
        {"host:", NULL, 0, 0, NULL, NULL, 0},
        {"::1:10025", NULL, 0, 0, NULL, NULL, 0},
        {"[::1", NULL, 0, 0, NULL, NULL, 0},
        {"[::1]x:25", NULL, 0, 0, NULL, NULL, 0},
        {"[]:25", NULL, 0, 0, NULL, NULL, 0},
        {":25", NULL, 0, 0, NULL, NULL, 0},
        {":25", NULL, HOSTPORT_ANY_HOST, 1, "", "25", 0},
        {"*:10025", NULL, HOSTPORT_ANY_HOST, 1, "", "10025", 0},
        {"*:10025", NULL, 0, 0, NULL, NULL, 0},
        {"host:10 25", NULL, 0, 0, NULL, NULL, 0},
    };
    char    longname[400];
    HOSTPORT hp;
    const char *why;
    size_t  i;
    int     rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        why = NULL;
        rc = hostport_parse(cases[i].spec, cases[i].defport, cases[i].flags, &hp, &why);
        UT_EQ_INT(rc, cases[i].ok ? 0 : -1, cases[i].spec);
        if (rc == 0 && cases[i].ok) {
            UT_EQ_STR(hp.host, cases[i].host, cases[i].spec);
            UT_EQ_STR(hp.port, cases[i].port, cases[i].spec);
            UT_EQ_INT(hp.bracketed, cases[i].bracketed, cases[i].spec);
        } else if (rc < 0) {
            UT_CHECK(why != NULL && *why != 0, "%s: a reason", cases[i].spec);
        }
    }
    UT_CHECK(hostport_parse("::1:25", NULL, 0, &hp, &why) < 0 && strstr(why, "brackets"),
             "bare IPv6: the reason names the brackets");
    memset(longname, 'a', sizeof(longname) - 4);
    strcpy(longname + sizeof(longname) - 4, ":25");
    UT_EQ_INT(hostport_parse(longname, NULL, 0, &hp, &why), -1, "host name too long");
}

/* test_xtext - both ways, strict and lenient */
static void test_xtext(void)
{
    VBUF   *out = vbuf_alloc(1024);

    xtext_encode(out, "a+b=c d\x01\xc3\xa9");
    UT_EQ_STR(vbuf_str(out), "a+2Bb+3Dc+20d+01+C3+A9", "encode");
    UT_EQ_INT(xtext_decode(out, "a+2Bb+3dc+20d", XTEXT_STRICT), 0, "decode, either case");
    UT_EQ_STR(vbuf_str(out), "a+b=c d", "decoded text");
    UT_EQ_INT(xtext_decode(out, "a+2", XTEXT_STRICT), -1, "strict: short escape");
    UT_EQ_INT(xtext_decode(out, "a=b", XTEXT_STRICT), -1, "strict: raw =");
    UT_EQ_INT(xtext_decode(out, "a b", XTEXT_STRICT), -1, "strict: raw space");
    UT_EQ_INT(xtext_decode(out, "a+00b", XTEXT_STRICT), -1, "strict: encoded NUL");
    UT_EQ_INT(xtext_decode(out, "a b+zz+41", XTEXT_LENIENT), 0, "lenient: raw bytes kept");
    UT_EQ_STR(vbuf_str(out), "a b+zzA", "lenient text");
    UT_EQ_INT(xtext_decode(out, "ab+00cd", XTEXT_LENIENT), 0, "lenient: NUL ends");
    UT_EQ_STR(vbuf_str(out), "ab", "lenient: text up to the NUL");
    vbuf_free(out);
}

/* test_smtpcode - enhanced status codes */
static void test_smtpcode(void)
{
    UT_EQ_INT(smtpcode_dsn_len("4.7.1 try later", 4), 5, "4.7.1");
    UT_EQ_INT(smtpcode_dsn_len("5.100.999", 5), 9, "three digits each");
    UT_EQ_INT(smtpcode_dsn_len("2.0.0", 0), 5, "any class");
    UT_EQ_INT(smtpcode_dsn_len("3.0.0", 0), 0, "class 3 is none");
    UT_EQ_INT(smtpcode_dsn_len("4.7.1 x", 5), 0, "wrong class");
    UT_EQ_INT(smtpcode_dsn_len("4.1000.1", 4), 0, "four digits");
    UT_EQ_INT(smtpcode_dsn_len("4..1", 4), 0, "empty field");
    UT_EQ_INT(smtpcode_dsn_len("4.7.1x", 4), 0, "glued text");
    UT_EQ_INT(smtpcode_dsn_len("4.7", 4), 0, "two fields");
}

/* test_printable - control bytes, 8-bit bytes, bounds, the end kept */
static void test_printable(void)
{
    char    buf[8];
    VBUF   *out = vbuf_alloc(256);

    UT_EQ_STR(printable_copy(buf, sizeof(buf), "a\nb\x7f\xc3\xa9", PRINTABLE_ALL, 0),
              "a?b?\xc3\xa9", "logs keep UTF-8");
    UT_EQ_STR(printable_copy(buf, sizeof(buf), "a\nb\xc3\xa9", PRINTABLE_ALL, PRINTABLE_ASCII),
              "a?b??", "replies are ASCII");
    UT_EQ_STR(printable_copy(buf, sizeof(buf), "abcdefghijk", PRINTABLE_ALL, 0), "abcdefg",
              "cut at the buffer");
    UT_EQ_STR(printable_copy(buf, sizeof(buf), "abcdef", 3, 0), "abc", "cut at max");
    UT_EQ_STR(printable_copy(buf, sizeof(buf), NULL, 3, 0), "", "NULL is empty");
    printable_append(out, "evil\r\n.exe", 10, 64, 0);
    UT_EQ_STR(vbuf_str(out), "evil??.exe", "append");
    vbuf_reset(out);
    printable_append(out, "aaaaaaaaaa.exe", 14, 6, PRINTABLE_KEEP_END);
    UT_EQ_STR(vbuf_str(out), "...aa.exe", "the end kept");
    vbuf_reset(out);
    printable_append(out, "aaaaaaaaaa.exe", 14, 6, 0);
    UT_EQ_STR(vbuf_str(out), "aaaaaa", "the start kept");
    vbuf_free(out);
}

/* test_clock - monotonic, in milliseconds */
static void test_clock(void)
{
    struct timespec a = clock_now(), b = a, pause = {0, 20 * 1000 * 1000};
    double  s = clock_seconds();

    b.tv_sec += 2;
    b.tv_nsec = a.tv_nsec >= 500000000 ? a.tv_nsec - 500000000 : a.tv_nsec + 500000000;
    if (a.tv_nsec >= 500000000)
        b.tv_sec++;
    UT_EQ_INT(clock_ms_between(a, b), 2500, "2.5 s apart");
    UT_EQ_INT(clock_ms_between(b, a), -2500, "the other way");
    nanosleep(&pause, NULL);
    UT_CHECK(clock_ms_since(a) >= 20, "20 ms slept: %lld ms", clock_ms_since(a));
    UT_CHECK(clock_seconds() - s >= 0.02, "seconds move on");
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_lib_text");
    test_hostport();
    test_xtext();
    test_smtpcode();
    test_printable();
    test_clock();
    return ut_done();
}
