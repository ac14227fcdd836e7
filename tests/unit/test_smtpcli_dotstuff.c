/*
 * test_smtpcli_dotstuff - dot-stuffing and line-end canonicalization
 *
 * A byte-for-byte table of inputs and the exact DATA bytes expected,
 * including the SMTP smuggling vectors (CVE-2023-51764 and friends). Each
 * input is also fed in every two-chunk split and one byte at a time, and
 * must give the same output; no output may contain a bare CR or LF, or
 * "\r\n.\r\n" before its very end.
 */
#include <string.h>

#include "lib/vbuf.h"
#include "smtpcli/dotstuff.h"
#include "tests/unit/unittest.h"

typedef struct CASE {
    const char *name;
    const char *in;
    size_t      inlen;
    const char *out;
    size_t      outlen;
} CASE;

#define S(s) s, sizeof(s) - 1

static const CASE cases[] = {
    {"empty", S(""), S(".\r\n")},
    {"one line", S("a\r\n"), S("a\r\n.\r\n")},
    {"no final newline", S("abc"), S("abc\r\n.\r\n")},
    {"no final newline after lines", S("a\r\nb"), S("a\r\nb\r\n.\r\n")},
    {"leading dot", S(".abc\r\n"), S("..abc\r\n.\r\n")},
    {"lone dot line", S("a\r\n.\r\nb\r\n"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"dot at start of message", S("."), S("..\r\n.\r\n")},
    {"dots inside a line", S("a.b..c\r\n"), S("a.b..c\r\n.\r\n")},
    {"double dot line", S("..\r\n"), S("...\r\n.\r\n")},
    {"bare LF", S("a\nb\n"), S("a\r\nb\r\n.\r\n")},
    {"bare CR", S("a\rb\r"), S("a\r\nb\r\n.\r\n")},
    {"CR CR LF", S("a\r\r\nb"), S("a\r\n\r\nb\r\n.\r\n")},
    {"LF CR", S("a\n\rb"), S("a\r\n\r\nb\r\n.\r\n")},
    {"empty lines", S("\r\n\r\n"), S("\r\n\r\n.\r\n")},
    {"final CR only", S("x\r"), S("x\r\n.\r\n")},
    {"NUL byte", "a\0b\n", 4, "a\0b\r\n.\r\n", 8},
    {"smuggle LF.LF", S("a\n.\nb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle LF.CRLF", S("a\n.\r\nb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle CR.CR", S("a\r.\rb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle CRLF.LF", S("a\r\n.\nb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle CRLF.CR", S("a\r\n.\rb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle CR.CRLF", S("a\r.\r\nb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle LF.CR", S("a\n.\rb"), S("a\r\n..\r\nb\r\n.\r\n")},
    {"smuggle at start", S(".\nMAIL FROM:<x>\n"), S("..\r\nMAIL FROM:<x>\r\n.\r\n")},
    {"dot after bare CR", S("\r.x"), S("\r\n..x\r\n.\r\n")},
    {"trailing dot line", S("a\r\n."), S("a\r\n..\r\n.\r\n")},
};

/* check_clean - no bare CR/LF, and the only "\r\n.\r\n" is the end */
static void check_clean(const char *name, const VBUF *out)
{
    const char *d = out->data;
    size_t n = out->len, i;
    int bare = 0, early = 0;

    for (i = 0; i < n; i++) {
        if (d[i] == '\r' && (i + 1 >= n || d[i + 1] != '\n'))
            bare = 1;
        if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r'))
            bare = 1;
        if (i + 5 < n && memcmp(d + i, "\r\n.\r\n", 5) == 0)
            early = 1;
    }
    UT_CHECK(!bare, "%s: bare CR or LF in output", name);
    UT_CHECK(!early, "%s: end of data before the end", name);
    UT_CHECK(n >= 3 && memcmp(d + n - 3, ".\r\n", 3) == 0, "%s: no final dot", name);
    UT_CHECK(n == 3 || (n >= 5 && memcmp(d + n - 5, "\r\n.\r\n", 5) == 0),
             "%s: final dot not on its own line", name);
}

/* encode_chunks - encode in pieces of at most step bytes (0 = whole) */
static void encode_chunks(const char *in, size_t len, size_t step, VBUF *out)
{
    DOTSTUFF ds;
    size_t off = 0, n;

    vbuf_reset(out);
    dotstuff_init(&ds);
    if (step == 0)
        step = len ? len : 1;
    while (off < len) {
        n = len - off < step ? len - off : step;
        dotstuff_encode(&ds, in + off, n, out);
        off += n;
    }
    /* an empty chunk must change nothing */
    dotstuff_encode(&ds, in, 0, out);
    dotstuff_finish(&ds, out);
}

/* encode_split - encode as two chunks split at cut */
static void encode_split(const char *in, size_t len, size_t cut, VBUF *out)
{
    DOTSTUFF ds;

    vbuf_reset(out);
    dotstuff_init(&ds);
    dotstuff_encode(&ds, in, cut, out);
    dotstuff_encode(&ds, in + cut, len - cut, out);
    dotstuff_finish(&ds, out);
}

/* test_table - every case whole, split, and one byte at a time */
static void test_table(void)
{
    VBUF *whole = vbuf_alloc(0), *other = vbuf_alloc(0);
    size_t i, cut;
    char what[128];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const CASE *c = &cases[i];

        encode_chunks(c->in, c->inlen, 0, whole);
        UT_EQ_MEM(whole->data, whole->len, c->out, c->outlen, c->name);
        check_clean(c->name, whole);

        encode_chunks(c->in, c->inlen, 1, other);
        snprintf(what, sizeof(what), "%s, one byte at a time", c->name);
        UT_EQ_MEM(other->data, other->len, whole->data, whole->len, what);

        for (cut = 0; cut <= c->inlen; cut++) {
            encode_split(c->in, c->inlen, cut, other);
            snprintf(what, sizeof(what), "%s, split at %zu", c->name, cut);
            UT_EQ_MEM(other->data, other->len, whole->data, whole->len, what);
        }
    }
    vbuf_free(whole);
    vbuf_free(other);
}

/* test_cr_at_chunk_end - a CR ending one chunk and LF starting the next */
static void test_cr_at_chunk_end(void)
{
    VBUF *out = vbuf_alloc(0);
    DOTSTUFF ds;

    dotstuff_init(&ds);
    dotstuff_encode(&ds, "abc\r", 4, out);
    UT_EQ_MEM(out->data, out->len, "abc", 3, "CR held back");
    dotstuff_encode(&ds, "\n.def\r", 6, out);
    UT_EQ_MEM(out->data, out->len, "abc\r\n..def", 10, "CRLF joined across chunks");
    dotstuff_encode(&ds, ".x", 2, out);
    UT_EQ_MEM(out->data, out->len, "abc\r\n..def\r\n..x", 15, "held CR was a bare CR");
    dotstuff_finish(&ds, out);
    UT_EQ_MEM(out->data, out->len, "abc\r\n..def\r\n..x\r\n.\r\n", 20, "finish");
    check_clean("chunk end", out);

    /* the state is fresh after finish: the next message starts anew */
    vbuf_reset(out);
    dotstuff_encode(&ds, ".", 1, out);
    dotstuff_finish(&ds, out);
    UT_EQ_MEM(out->data, out->len, "..\r\n.\r\n", 7, "reuse after finish");
    vbuf_free(out);
}

/* test_random - pseudo-random bytes from a CR/LF/dot-rich alphabet */
static void test_random(void)
{
    static const char alphabet[] = "\r\n.a";
    VBUF *whole = vbuf_alloc(0), *other = vbuf_alloc(0);
    char in[64];
    unsigned seed = 12345;
    int round, i, ok = 1;
    size_t len;

    for (round = 0; round < 2000; round++) {
        len = (size_t)(round % 64);
        for (i = 0; i < (int)len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = alphabet[(seed >> 16) % 4];
        }
        encode_chunks(in, len, 0, whole);
        encode_chunks(in, len, 1, other);
        if (whole->len != other->len || memcmp(whole->data, other->data, whole->len) != 0)
            ok = 0;
        check_clean("random", whole);
    }
    UT_CHECK(ok, "random inputs: byte at a time differs from whole");
    vbuf_free(whole);
    vbuf_free(other);
}

/* main - run the tests */
int main(void)
{
    UT_BEGIN("test_smtpcli_dotstuff");
    test_table();
    test_cr_at_chunk_end();
    test_random();
    return ut_done();
}
