/*
 * test_scan_headers - forged X-Virus-Scanned / X-Virus-Status headers
 *
 * Every header of those names in the top-level header block is renamed
 * X-Untrusted-..., wherever it is: after megabytes of other headers, after
 * one very long header line, across the boundary of a read, with blanks
 * before the colon, with CRLF line ends. Nothing else changes: not the
 * body, not folded lines, not names that only look alike. Our own trace
 * headers are counted, renamed or not. Each case is a table row: the
 * message, the counts, and the exact copy that headers_neutralize()
 * must write.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/headers.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_scan_headers.XXXXXX";

/* spooled - a spool file holding len bytes of text */
static int spooled(const char *text, size_t len)
{
    VBUF   *err = vbuf_alloc(0);
    int     fd = spool_create(tmpdir, err);

    if (fd < 0 || spool_write_all(fd, text, len) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    vbuf_free(err);
    return fd;
}

/* slurp_fd - all of fd from offset 0 */
static VBUF *slurp_fd(int fd)
{
    VBUF   *vb = vbuf_alloc(0);
    char    buf[65536];
    off_t   off = 0;
    ssize_t n;

    while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
        vbuf_append(vb, buf, (size_t)n);
        off += n;
    }
    return vb;
}

/* check_case - counts from headers_scan, bytes from headers_neutralize */
static void check_case(const char *what, const VBUF *in, int want_foreign, int want_ours,
                       const VBUF *want_out)
{
    HEADER_INFO info;
    VBUF   *err = vbuf_alloc(0);
    VBUF   *got;
    int     fd = spooled(vbuf_str(in), vbuf_len(in));
    int     copy;

    UT_EQ_INT(headers_scan(fd, &info, err), 0, what);
    UT_CHECK(info.foreign == want_foreign, "%s: foreign %d, want %d", what, info.foreign,
             want_foreign);
    UT_CHECK(info.our_trace == want_ours, "%s: our_trace %d, want %d", what, info.our_trace,
             want_ours);
    copy = headers_neutralize(fd, tmpdir, err);
    UT_CHECK(copy >= 0, "%s: neutralize: %s", what, vbuf_str(err));
    if (copy >= 0) {
        got = slurp_fd(copy);
        UT_CHECK(vbuf_len(got) == vbuf_len(want_out)
                 && memcmp(vbuf_str(got), vbuf_str(want_out), vbuf_len(got)) == 0,
                 "%s: copy differs (%zu bytes, want %zu)", what, vbuf_len(got),
                 vbuf_len(want_out));
        vbuf_free(got);
        close(copy);
    }
    close(fd);
    vbuf_free(err);
}

/* text - a VBUF from a string */
static VBUF *text(const char *s)
{
    VBUF   *vb = vbuf_alloc(0);

    vbuf_strcpy(vb, s);
    return vb;
}

/* test_small - the rules, on short messages */
static void test_small(void)
{
    static const struct {
        const char *what, *in;
        int     foreign, ours;
        const char *out;
    } cases[] = {
        {"plain", "X-Virus-Status: Clean\nSubject: s\nX-Virus-Scanned: postsift 0.1 (x) on h\n"
         "x-virus-scanned \t: other\n\nX-Virus-Status: in the body\n", 3, 1,
         "X-Untrusted-X-Virus-Status: Clean\nSubject: s\n"
         "X-Untrusted-X-Virus-Scanned: postsift 0.1 (x) on h\n"
         "X-Untrusted-x-virus-scanned \t: other\n\nX-Virus-Status: in the body\n"},
        {"already renamed", "X-Untrusted-X-Virus-Scanned:postsift 1\nx-untrusted-x-virus-status: a\n"
         "\nbody\n", 0, 1, NULL},
        {"CRLF", "Subject: s\r\nX-Virus-Status: Infected\r\n\r\nX-Virus-Status: body\r\n", 1, 0,
         "Subject: s\r\nX-Untrusted-X-Virus-Status: Infected\r\n\r\nX-Virus-Status: body\r\n"},
        {"look-alikes", "X-Virus-Statusx: a\nX-Virus-Status\nX-Virus-Stat: b\n"
         "Subject: x\n X-Virus-Status: folded\n\tX-Virus-Scanned: folded\n"
         "X-Virus-Status x: c\nXX-Virus-Status: d\n\n", 0, 0, NULL},
        {"no body", "Subject: s\nX-Virus-Status: a", 1, 0,
         "Subject: s\nX-Untrusted-X-Virus-Status: a"},
        {"empty", "", 0, 0, NULL},
        {"only a body", "\nX-Virus-Status: a\n", 0, 0, NULL},
        {"ours, with and without the space", "X-Virus-Scanned:postsift\n"
         "X-Virus-Scanned:  postsifter\nX-Virus-Scanned: Postsift\n\n", 3, 2,
         "X-Untrusted-X-Virus-Scanned:postsift\nX-Untrusted-X-Virus-Scanned:  postsifter\n"
         "X-Untrusted-X-Virus-Scanned: Postsift\n\n"},
        {"ours on the next line only", "X-Virus-Scanned:\n postsift\n\n", 1, 0,
         "X-Untrusted-X-Virus-Scanned:\n postsift\n\n"},
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        VBUF   *in = text(cases[i].in);
        VBUF   *out = text(cases[i].out ? cases[i].out : cases[i].in);

        check_case(cases[i].what, in, cases[i].foreign, cases[i].ours, out);
        vbuf_free(in);
        vbuf_free(out);
    }
}

/* test_deep - forged headers after a megabyte and more of other headers */
static void test_deep(void)
{
    VBUF   *in = vbuf_alloc(0), *out = vbuf_alloc(0);
    VBUF   *line = vbuf_alloc(0);
    int     i;

    /* 1.5 MB of ordinary headers, then the forgeries, then the body */
    for (i = 0; vbuf_len(in) < 1536 * 1024; i++) {
        vbuf_sprintf(line, "X-Filler-%d: %0100d\n", i, i);
        vbuf_append(in, vbuf_str(line), vbuf_len(line));
    }
    vbuf_append(out, vbuf_str(in), vbuf_len(in));
    vbuf_strcat(in, "X-Virus-Status: Clean\nX-Virus-Scanned: postsift 9 (forged) on x\n"
                "\nX-Virus-Status: body\n");
    vbuf_strcat(out, "X-Untrusted-X-Virus-Status: Clean\n"
                "X-Untrusted-X-Virus-Scanned: postsift 9 (forged) on x\n"
                "\nX-Virus-Status: body\n");
    check_case("after 1.5 MB of headers", in, 2, 1, out);

    /* one header line of 3 MB, then a forgery */
    vbuf_reset(in);
    vbuf_strcat(in, "Subject: ");
    for (i = 0; i < 3 * 1024 * 1024; i++)
        vbuf_addch(in, 'a' + i % 26);
    vbuf_strcat(in, "\n");
    vbuf_reset(out);
    vbuf_append(out, vbuf_str(in), vbuf_len(in));
    vbuf_strcat(in, "X-Virus-Status: Clean\n\nbody\n");
    vbuf_strcat(out, "X-Untrusted-X-Virus-Status: Clean\n\nbody\n");
    check_case("after a 3 MB header line", in, 1, 0, out);
    vbuf_free(in);
    vbuf_free(out);
    vbuf_free(line);
}

/* test_boundaries - a forged header at every offset around a read boundary */
static void test_boundaries(void)
{
    static const char forged[] = "X-Virus-Scanned \t : postsift 1 (x) on h\n";
    VBUF   *in = vbuf_alloc(0), *out = vbuf_alloc(0);
    char    what[64];
    size_t  start, pad;

    for (start = 65536 - (sizeof(forged) + 2); start <= 65536 + 2; start++) {
        vbuf_reset(in);
        vbuf_strcat(in, "X-Pad: ");
        /* the forged line starts at offset start */
        for (pad = vbuf_len(in); pad + 1 < start; pad++)
            vbuf_addch(in, 'p');
        vbuf_addch(in, '\n');
        vbuf_reset(out);
        vbuf_append(out, vbuf_str(in), vbuf_len(in));
        vbuf_strcat(in, forged);
        vbuf_strcat(in, "\n");
        vbuf_strcat(out, "X-Untrusted-");
        vbuf_strcat(out, forged);
        vbuf_strcat(out, "\n");
        snprintf(what, sizeof(what), "forged header at offset %zu", start);
        check_case(what, in, 1, 1, out);
    }
    /* the empty line that ends the headers split by the boundary too */
    for (start = 65536 - 3; start <= 65536 + 1; start++) {
        vbuf_reset(in);
        vbuf_strcat(in, "X-Pad: ");
        for (pad = vbuf_len(in); pad + 2 < start; pad++)
            vbuf_addch(in, 'p');
        vbuf_strcat(in, "\r\n\r\nX-Virus-Status: body\r\n");
        snprintf(what, sizeof(what), "end of headers at offset %zu", start);
        check_case(what, in, 0, 0, in);
    }
    vbuf_free(in);
    vbuf_free(out);
}

/* test_build - our headers: the engine text as the scanner gives it, so
 * that the test signatures (clamav_database_directory = bundled) show */
static void test_build(void)
{
    VBUF   *out = vbuf_alloc(4096);

    headers_build(out, "ClamAV 1.4.6, TEST SIGNATURES ONLY", "mx.example", VERDICT_CLEAN,
                  "", 0);
    UT_EQ_STR(vbuf_str(out), "X-Virus-Scanned: postsift " POSTSIFT_VERSION
              " (ClamAV 1.4.6, TEST SIGNATURES ONLY) on mx.example\n", "test signatures");
    vbuf_reset(out);
    headers_build(out, "ClamAV 1.4.6/27000", "mx.example", VERDICT_INFECTED,
                  "Eicar-Test-Signature in part 2", 1);
    UT_EQ_STR(vbuf_str(out), "X-Virus-Scanned: postsift " POSTSIFT_VERSION
              " (ClamAV 1.4.6/27000) on mx.example\n"
              "X-Virus-Status: Infected (Eicar-Test-Signature in part 2)\n", "tagged");
    vbuf_free(out);
}

int     main(void)
{
    UT_BEGIN("test_scan_headers");
    msg_init("test_scan_headers", MSG_STDERR);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_small();
    test_deep();
    test_boundaries();
    test_build();
    if (rmdir(tmpdir) < 0)
        fprintf(stderr, "note: %s not removed: %s\n", tmpdir, strerror(errno));
    return ut_done();
}
