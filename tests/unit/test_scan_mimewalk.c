/*
 * test_scan_mimewalk - the MIME walk within limits: the pre-scan cut
 * (parts, header items, boundary work), parts deeper than the depth limit
 * and beyond the part limit, every file name of a part (more than 16, NUL
 * bytes, RFC 2231 and 2047 forms), preambles and epilogues, and GMime's
 * boundaries inside long lines; mimename's parameter parser on its own.
 */
#include <sys/resource.h>

#include <glib.h>

#include "scan/mimename.h"
#include "scan/mimescan.h"
#include "scan/mimewalk.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define HDR "From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: test\r\nMIME-Version: 1.0\r\n"

static char tmpdir[] = "/tmp/test_scan_mimewalk-XXXXXX";

typedef struct SEEN {
    int     leaves, names_only, faces, cheap;
    VBUF   *names;                      /* every name, "|"-separated */
    VBUF   *paths;                      /* "path:kind," for each piece */
    VBUF   *faces_text;                 /* preamble and epilogue text */
} SEEN;

/* seen_fn - the mimewalk callback: remember what came */
static int seen_fn(const MIMEWALK_PART *p, void *context)
{
    SEEN   *s = context;
    int     i;

    switch (p->kind) {
    case MIMEWALK_LEAF:
        s->leaves++;
        break;
    case MIMEWALK_NAMES:
        s->names_only++;
        break;
    case MIMEWALK_PREAMBLE:
    case MIMEWALK_EPILOGUE:
        s->faces++;
        vbuf_append(s->faces_text, p->data, p->size);
        vbuf_strcat(s->faces_text, "|");
        break;
    }
    s->cheap += p->cheap;
    if (vbuf_len(s->paths) < 4000)
        vbuf_sprintf_append(s->paths, "%s:%d%s,", p->path ? p->path : "raw", (int)p->kind,
                            p->cheap ? "c" : "");
    for (i = 0; i < p->nnames && vbuf_len(s->names) < 60000; i++) {
        vbuf_strcat(s->names, p->names[i]);
        vbuf_strcat(s->names, "|");
    }
    return 0;
}

/* walk - spool msg and walk it; the return of mimewalk */
static int walk(const void *msg, size_t len, long max_parts, long max_depth, long max_headers,
                SEEN *s, MIMEWALK_INFO *info)
{
    MIMEWALK_LIMITS limits;
    VBUF   *err = vbuf_alloc(1024);
    int     fd = spool_create(tmpdir, err), rc;

    if (fd < 0 || spool_write_all(fd, msg, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
        msg_fatal("spool: %s", vbuf_str(err));
    memset(s, 0, sizeof(*s));
    s->names = vbuf_alloc(0);
    s->paths = vbuf_alloc(0);
    s->faces_text = vbuf_alloc(0);
    limits.max_parts = max_parts;
    limits.max_depth = max_depth;
    limits.max_headers = max_headers;
    mimewalk_info_init(info);
    rc = mimewalk(fd, tmpdir, &limits, seen_fn, s, info, err);
    UT_CHECK(rc == 0, "mimewalk: %s", vbuf_str(err));
    UT_EQ_INT(lseek(fd, 0, SEEK_CUR), 0, "offset restored");
    close(fd);
    vbuf_free(err);
    return rc;
}

/* seen_free - forget */
static void seen_free(SEEN *s, MIMEWALK_INFO *info)
{
    vbuf_free(s->names);
    vbuf_free(s->paths);
    vbuf_free(s->faces_text);
    mimewalk_info_free(info);
}

/* has - "|"-list membership */
static int has(const VBUF *list, const char *name)
{
    size_t  n = strlen(name);
    const char *cp;

    for (cp = vbuf_str(list); (cp = strstr(cp, name)) != NULL; cp++)
        if ((cp == vbuf_str(list) || cp[-1] == '|') && cp[n] == '|')
            return 1;
    return 0;
}

/* maxrss_mb - peak resident size so far */
static long maxrss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* test_many_parts - 200,000 tiny parts, then a named one: GMime gets the
 * file only up to part 1001, the name at the end is still seen */
static void test_many_parts(void)
{
    VBUF   *m = vbuf_alloc(0);
    MIMEWALK_INFO info;
    SEEN    s;
    long    before = maxrss_mb(), grown;
    int     i;

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for (i = 0; i < 200000; i++)
        vbuf_strcat(m, "--b\r\n\r\n");
    vbuf_strcat(m, "--b\r\nContent-Type: application/octet-stream; name=\"late.exe\"\r\n\r\nMZ\r\n--b--\r\n");
    walk(m->data, m->len, 1000, 20, 50000, &s, &info);
    grown = maxrss_mb() - before;
    UT_EQ_INT(s.leaves, 1000, "200000 parts: 1000 walked");
    UT_CHECK(strstr(vbuf_str(info.limit), "too many MIME parts") != NULL, "limit: \"%s\"",
             vbuf_str(info.limit));
    UT_CHECK(has(s.names, "late.exe"), "the name after the cut: \"%.200s\"", vbuf_str(s.names));
    UT_CHECK(s.names_only <= 5, "names-only pieces: %d (GMime read past the cut?)", s.names_only);
    printf("200000 parts: %d leaves, %d names-only, peak RSS grew %ld MB\n", s.leaves,
           s.names_only, grown);
#ifndef __SANITIZE_ADDRESS__
    /* GMime spends about 1.3 KB a part: unbounded, this is 260 MB. */
    UT_CHECK(grown < 64, "peak RSS grew %ld MB", grown);
#endif
    seen_free(&s, &info);
    vbuf_free(m);
}

/* test_scan_limits - mimescan_bound on its own */
static void test_scan_limits(void)
{
    MIMESCAN_LIMITS limits = {10, 100};
    MIMESCAN_RESULT res;
    VBUF   *m = vbuf_alloc(0), *err = vbuf_alloc(256);
    int     fd, i;

    /* 12 parts: the cut is at the start of the 11th boundary line. */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed;\r\n boundary*0=\"x\"; boundary*1=\"y\"\r\n\r\n");
    for (i = 0; i < 12; i++)
        vbuf_sprintf_append(m, "--xy\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
    vbuf_strcat(m, "--xy--\r\n");
    fd = spool_create(tmpdir, err);
    spool_write_all(fd, m->data, m->len);
    mimescan_result_init(&res);
    UT_EQ_INT(mimescan_bound(fd, &limits, &res, err), 0, "bound");
    UT_EQ_INT(res.cut, strstr(m->data, "part 9\r\n") - m->data + 8, "cut before part 11 (RFC 2231 boundary)");
    UT_EQ_STR(vbuf_str(res.why), "too many MIME parts", "why");
    close(fd);

    /* Header items: an address list. */
    vbuf_strcpy(m, "From: a@example.org\r\nTo: ");
    for (i = 0; i < 200; i++)
        vbuf_strcat(m, "x@example.org, ");
    vbuf_strcat(m, "y@example.org\r\nSubject: s\r\n\r\nbody\r\n");
    fd = spool_create(tmpdir, err);
    spool_write_all(fd, m->data, m->len);
    UT_EQ_INT(mimescan_bound(fd, &limits, &res, err), 0, "bound");
    UT_EQ_INT(res.cut, strlen("From: a@example.org\r\n"), "cut before the To: field");
    UT_EQ_STR(vbuf_str(res.why), "too many MIME header fields", "why");
    close(fd);

    /* Deep nesting and many "--" lines: GMime's boundary work is bounded. */
#define LONGB "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"" LONGB "0\"\r\n\r\n");
    for (i = 1; i < 10; i++)
        vbuf_sprintf_append(m, "--" LONGB "%d\r\nContent-Type: multipart/mixed; boundary=\""
                            LONGB "%d\"\r\n\r\n", i - 1, i);
    for (i = 0; i < 500000; i++)
        vbuf_strcat(m, "--" LONGB "x\r\n");
    fd = spool_create(tmpdir, err);
    spool_write_all(fd, m->data, m->len);
    UT_EQ_INT(mimescan_bound(fd, &limits, &res, err), 0, "bound");
    UT_CHECK(res.cut < res.size, "deep: cut at %lld of %lld", (long long)res.cut, (long long)res.size);
    UT_EQ_STR(vbuf_str(res.why), "too many MIME boundary lines", "why");
    close(fd);
    mimescan_result_free(&res);
    vbuf_free(m);
    vbuf_free(err);
}

/* test_deep_and_beyond - parts deeper than max_depth come for the cheap
 * checks; parts GMime read beyond max_parts come with their names */
static void test_deep_and_beyond(void)
{
    VBUF   *m = vbuf_alloc(0);
    MIMEWALK_INFO info;
    SEEN    s;
    int     i;

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
    for (i = 1; i < 6; i++)
        vbuf_sprintf_append(m, "--d%d\r\nContent-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n",
                            i - 1, i);
    vbuf_strcat(m, "--d5\r\nContent-Type: application/octet-stream; name=\"deep.exe\"\r\n\r\nMZ\r\n");
    for (i = 5; i >= 0; i--)
        vbuf_sprintf_append(m, "--d%d--\r\n", i);
    walk(m->data, m->len, 1000, 3, 50000, &s, &info);
    UT_EQ_INT(s.leaves, 1, "deep leaf handed over");
    UT_EQ_INT(s.cheap, 1, "marked for the cheap checks");
    UT_CHECK(has(s.names, "deep.exe"), "deep name: \"%s\"", vbuf_str(s.names));
    UT_CHECK(strstr(vbuf_str(info.limit), "MIME nesting too deep") != NULL, "limit \"%s\"",
             vbuf_str(info.limit));
    seen_free(&s, &info);
    vbuf_free(m);
}

/* test_names - every name a part carries */
static void test_names(void)
{
    VBUF   *m = vbuf_alloc(0);
    MIMEWALK_INFO info;
    SEEN    s;
    int     i;

    /* 20 names: the last one counts too, and so many is a finding. */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                "Content-Type: application/octet-stream");
    for (i = 0; i < 40; i++)
        vbuf_sprintf_append(m, ";\r\n name=\"file%02d.txt\"", i);
    vbuf_strcat(m, ";\r\n name=\"last.exe\"\r\n\r\ndata\r\n--b--\r\n");
    walk(m->data, m->len, 1000, 20, 50000, &s, &info);
    UT_CHECK(has(s.names, "last.exe"), "41st name: \"%.100s...\"", vbuf_str(s.names));
    UT_CHECK(has(s.names, "file00.txt"), "first name");
    UT_CHECK(strstr(vbuf_str(info.ambiguous), "file names in part 1") != NULL, "ambiguous \"%s\"",
             vbuf_str(info.ambiguous));
    seen_free(&s, &info);

    /* NUL bytes: RFC 2231, RFC 2047 Q and B, and a raw NUL in the header. */
    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                "--b\r\nContent-Disposition: attachment; filename*=UTF-8''evil%00.js\r\n\r\nx\r\n"
                "--b\r\nContent-Type: text/plain; name=\"=?UTF-8?Q?bad=00.vbs?=\"\r\n\r\nx\r\n"
                "--b\r\nContent-Type: text/plain; name=\"=?UTF-8?B?d29yc2UALmJhdA==?=\"\r\n\r\nx\r\n"
                "--b\r\nContent-Type: text/plain; name=\"raw");
    vbuf_addch(m, 0);
    vbuf_strcat(m, ".cmd\"\r\n\r\nx\r\n--b--\r\n");
    walk(m->data, m->len, 1000, 20, 50000, &s, &info);
    UT_CHECK(has(s.names, "evil.js") && has(s.names, ".js"), "2231 NUL: \"%s\"", vbuf_str(s.names));
    UT_CHECK(has(s.names, "bad.vbs"), "2047 Q NUL: \"%s\"", vbuf_str(s.names));
    UT_CHECK(has(s.names, "worse.bat"), "2047 B NUL: \"%s\"", vbuf_str(s.names));
    UT_CHECK(has(s.names, "raw.cmd"), "raw NUL: \"%s\"", vbuf_str(s.names));
    UT_CHECK(info.nul, "NUL bytes noted");
    seen_free(&s, &info);
    vbuf_free(m);
}

/* test_faces - preambles and epilogues, of the message and nested */
static void test_faces(void)
{
    VBUF   *m = vbuf_alloc(0);
    MIMEWALK_INFO info;
    SEEN    s;

    vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
                "outer preamble\r\n--o\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                "--o\r\nContent-Type: multipart/alternative; boundary=\"i\"\r\n\r\n"
                "inner preamble\r\n--i\r\nContent-Type: text/plain\r\n\r\nalt\r\n--i--\r\n"
                "inner epilogue\r\n--o--\r\nouter epilogue\r\n");
    walk(m->data, m->len, 1000, 20, 50000, &s, &info);
    UT_EQ_INT(s.leaves, 2, "two leaves");
    UT_EQ_INT(s.faces, 4, "four faces");
    UT_CHECK(strstr(vbuf_str(s.faces_text), "outer preamble") != NULL
             && strstr(vbuf_str(s.faces_text), "inner preamble") != NULL
             && strstr(vbuf_str(s.faces_text), "inner epilogue") != NULL
             && strstr(vbuf_str(s.faces_text), "outer epilogue") != NULL,
             "faces \"%s\"", vbuf_str(s.faces_text));
    UT_CHECK(strstr(vbuf_str(s.paths), ":1,") != NULL && strstr(vbuf_str(s.paths), "2:1,") != NULL,
             "preamble paths \"%s\"", vbuf_str(s.paths));
    UT_EQ_STR(vbuf_str(info.ambiguous), "", "nothing ambiguous");
    seen_free(&s, &info);
    vbuf_free(m);
}

/* test_long_line - GMime takes "--b" at a 4 KB piece of a long line for a
 * boundary: ambiguous, and the raw headers are swept for names */
static void test_long_line(void)
{
    VBUF   *m = vbuf_alloc(0);
    MIMEWALK_INFO info;
    SEEN    s;
    int     pad, hits = 0, swept = 0;

    for (pad = 3900; pad < 4300; pad++) {
        vbuf_strcpy(m, HDR "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
                    "--BB\r\nContent-Type: text/plain\r\n\r\n");
        while (m->len < (size_t)pad + 100)
            vbuf_addch(m, 'x');
        vbuf_strcat(m, "--BB--\r\n--BB\r\nContent-Type: application/octet-stream; name=\"hid.exe\"\r\n\r\n"
                    "MZ\r\n--BB--\r\n");
        walk(m->data, m->len, 1000, 20, 50000, &s, &info);
        if (vbuf_len(info.ambiguous)) {
            hits++;
            swept += has(s.names, "hid.exe");
        } else {
            /* Not split there: GMime saw two parts, as everyone does. */
            UT_CHECK(has(s.names, "hid.exe"), "pad %d: name seen", pad);
        }
        seen_free(&s, &info);
    }
    UT_CHECK(hits > 0, "some padding makes GMime split the line (%d)", hits);
    UT_EQ_INT(swept, hits, "the hidden part's name is swept each time");
    vbuf_free(m);
}

typedef struct VALUES {
    VBUF   *out;
} VALUES;

/* values_fn - mimename callback: "attr=value|" with NULs as "^@" */
static void values_fn(const char *attr, const char *value, size_t len, void *context)
{
    VALUES *v = context;
    size_t  i;

    vbuf_sprintf_append(v->out, "%s=", attr);
    for (i = 0; i < len; i++) {
        if (value[i] == 0)
            vbuf_strcat(v->out, "^@");
        else
            vbuf_addch(v->out, (unsigned char)value[i]);
    }
    vbuf_strcat(v->out, "|");
}

/* test_mimename - the parameter parser */
static void test_mimename(void)
{
    static const char *const attrs[] = {"filename", "name", NULL};
    static const struct {
        const char *header;
        const char *want;
    }       cases[] = {
        {" attachment; filename=\"a.pdf\"", "filename=a.pdf|"},
        {" text/plain (a comment; name=no.exe); name=yes.txt", "name=yes.txt|"},
        {" attachment; filename*=UTF-8'en'%e2%82%ac.exe", "filename=\xe2\x82\xac.exe|"},
        {" attachment; filename*0=\"in\"; filename*2*=%2Eexe; filename*1=voice",
         "filename=invoice.exe|"},
        {" a; FILENAME = \"q\\\"uo;ted.js\" ; x=y", "filename=q\"uo;ted.js|"},
        {" a; filename=my file.exe", "filename=my file.exe|filename=my|"},
        {" a; name=\"=?utf-8?q?a=00b?= =?utf-8?b?LmV4ZQ==?=\"",
         "name==?utf-8?q?a=00b?= =?utf-8?b?LmV4ZQ==?=|name=a^@b.exe|"},
        {" a; filename*=''ev%00il.js; name=\"two\r\n words\"", "filename=ev^@il.js|name=two words|"},
        {" multipart/mixed; boundary=x", ""},
        {"", ""},
    };
    VALUES  v;
    size_t  i;

    v.out = vbuf_alloc(0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vbuf_reset(v.out);
        mimename_params(cases[i].header, strlen(cases[i].header), attrs, values_fn, &v);
        UT_EQ_STR(vbuf_str(v.out), cases[i].want, cases[i].header);
    }
    vbuf_free(v.out);
}

int     main(void)
{
    UT_BEGIN("test_scan_mimewalk");
    msg_init("test_scan_mimewalk", MSG_STDERR);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_many_parts();                  /* first: it measures the peak RSS */
    test_mimename();
    test_scan_limits();
    test_deep_and_beyond();
    test_names();
    test_faces();
    test_long_line();
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s (left files behind?)", tmpdir, strerror(errno));
    return ut_done();
}
