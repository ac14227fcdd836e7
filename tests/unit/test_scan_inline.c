/*
 * test_scan_inline - uuencode, begin-base64, yEnc and BinHex blocks
 * found in text and decoded: the ClamAV test file in its uuencoded and
 * BinHex forms (as ClamAV ships them) must come out byte for byte, our own
 * encodings of it too; blocks cut short, garbled, too many or too big are
 * handled and reported; the same from a file as from memory.
 */
#include <glib.h>

#include "scan/inline.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

#define TESTFILES "/usr/share/clamav-testfiles/"

static char tmpdir[] = "/tmp/test_scan_inline-XXXXXX";

typedef struct GOT {
    int     n;
    INLINE_KIND kind[8];
    char   *name[8];
    char   *data[8];
    size_t  size[8];
    int     on_disk[8];
    const char *problem[8];
} GOT;

/* collect - the inline_scan callback: keep a copy of each file */
static int collect(const INLINE_FILE *f, void *context)
{
    GOT    *g = context;
    int     i = g->n++;

    if (i >= 8)
        return 0;
    g->kind[i] = f->kind;
    g->name[i] = mystrdup(f->name);
    g->size[i] = f->size;
    g->on_disk[i] = f->data == NULL;
    g->problem[i] = f->problem;
    g->data[i] = mymalloc(f->size + 1);
    if (f->data) {
        memcpy(g->data[i], f->data, f->size);
    } else {
        UT_CHECK(pread(f->fd, g->data[i], f->size, 0) == (ssize_t)f->size, "read spooled file");
    }
    return 0;
}

/* got_free - forget what was collected */
static void got_free(GOT *g)
{
    int     i;

    for (i = 0; i < g->n && i < 8; i++) {
        myfree(g->name[i]);
        myfree(g->data[i]);
    }
    memset(g, 0, sizeof(*g));
}

/* scan_text - inline_scan on text, from memory or from a spool file */
static long scan_text(const char *text, size_t len, int from_file, long max_files,
                      long long max_bytes, GOT *g)
{
    INLINE_LIMITS limits;
    VBUF   *err = vbuf_alloc(1024);
    long    found;
    int     fd = -1;

    memset(g, 0, sizeof(*g));
    limits.max_files = max_files;
    limits.max_bytes = max_bytes;
    if (from_file) {
        if ((fd = spool_create(tmpdir, err)) < 0 || spool_write_all(fd, text, len) < 0)
            msg_fatal("spool: %s", vbuf_str(err));
        found = inline_scan(NULL, 0, fd, tmpdir, &limits, collect, g, err);
        close(fd);
    } else {
        found = inline_scan((const unsigned char *)text, len, -1, tmpdir, &limits, collect, g, err);
    }
    UT_CHECK(found >= 0, "inline_scan: %s", vbuf_str(err));
    vbuf_free(err);
    return found;
}

/* slurp - a whole file */
static char *slurp(const char *path, size_t *len)
{
    gchar  *data;
    gsize   glen;

    if (!g_file_get_contents(path, &data, &glen, NULL))
        msg_fatal("cannot read %s (package clamav-testfiles)", path);
    *len = glen;
    return data;
}

/* uuencode - our own uuencoding of data, "begin 644 name" to "end" */
static void uuencode(VBUF *out, const char *name, const unsigned char *data, size_t len)
{
    size_t  i, j, n;

    vbuf_sprintf_append(out, "begin 644 %s\r\n", name);
    for (i = 0; i < len; i += 45) {
        n = len - i < 45 ? len - i : 45;
        vbuf_addch(out, (int)(n ? n + 32 : '`'));
        for (j = 0; j < n; j += 3) {
            unsigned char b[3] = {0, 0, 0};
            int     k;

            for (k = 0; k < 3 && j + k < n; k++)
                b[k] = data[i + j + k];
            vbuf_addch(out, (b[0] >> 2) ? (b[0] >> 2) + 32 : '`');
            vbuf_addch(out, ((b[0] << 4 | b[1] >> 4) & 63) ? ((b[0] << 4 | b[1] >> 4) & 63) + 32 : '`');
            vbuf_addch(out, ((b[1] << 2 | b[2] >> 6) & 63) ? ((b[1] << 2 | b[2] >> 6) & 63) + 32 : '`');
            vbuf_addch(out, (b[2] & 63) ? (b[2] & 63) + 32 : '`');
        }
        vbuf_strcat(out, "\r\n");
    }
    vbuf_strcat(out, "`\r\nend\r\n");
}

/* yencode - our own yEnc of data, lines of 128 */
static void yencode(VBUF *out, const char *name, const unsigned char *data, size_t len,
                    long declared_end)
{
    size_t  i, col = 0;

    vbuf_sprintf_append(out, "=ybegin line=128 size=%zu name=%s\r\n", len, name);
    for (i = 0; i < len; i++) {
        int     c = (data[i] + 42) & 255;

        if (c == 0 || c == '\n' || c == '\r' || c == '=') {
            vbuf_addch(out, '=');
            c = (c + 64) & 255;
            col++;
        }
        vbuf_addch(out, c);
        if (++col >= 128) {
            vbuf_strcat(out, "\r\n");
            col = 0;
        }
    }
    vbuf_sprintf_append(out, "\r\n=yend size=%ld\r\n", declared_end < 0 ? (long)len : declared_end);
}

/* binhex - our own BinHex 4.0 of data (run-length compressed; CRCs
 * left zero, which the decoder does not check); dlen as declared */
static void binhex(VBUF *out, const char *name, const unsigned char *data, size_t len,
                   unsigned long dlen)
{
    static const char alphabet[] =
        "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
    VBUF   *raw = vbuf_alloc(0), *rle = vbuf_alloc(0);
    size_t  i, n, col = 0;
    unsigned bits = 0;
    int     nbits = 0;

    vbuf_addch(raw, (int)strlen(name));
    vbuf_strcat(raw, name);
    vbuf_addch(raw, 0);
    vbuf_append(raw, "TEXTttxt\0\0", 10);
    vbuf_addch(raw, (int)(dlen >> 24 & 255));
    vbuf_addch(raw, (int)(dlen >> 16 & 255));
    vbuf_addch(raw, (int)(dlen >> 8 & 255));
    vbuf_addch(raw, (int)(dlen & 255));
    vbuf_append(raw, "\0\0\0\0\0\0", 6);
    vbuf_append(raw, data, len);
    vbuf_append(raw, "\0\0\0\0", 4);
    for (i = 0; i < raw->len; i += n) {
        unsigned char c = (unsigned char)raw->data[i];

        for (n = 1; i + n < raw->len && n < 255 && (unsigned char)raw->data[i + n] == c; n++)
             /* void */ ;
        if (c == 0x90) {
            vbuf_addch(rle, 0x90);
            vbuf_addch(rle, 0);
            n = 1;
        } else if (n >= 3) {
            vbuf_addch(rle, c);
            vbuf_addch(rle, 0x90);
            vbuf_addch(rle, (int)n);
        } else {
            vbuf_addch(rle, c);
            n = 1;
        }
    }
    vbuf_strcat(out, "(This file must be converted with BinHex 4.0)\r\n:");
    for (i = 0; i < rle->len; i++) {
        bits = bits << 8 | (unsigned char)rle->data[i];
        for (nbits += 8; nbits >= 6; nbits -= 6) {
            vbuf_addch(out, alphabet[(bits >> (nbits - 6)) & 63]);
            if (++col % 64 == 63)
                vbuf_strcat(out, "\r\n");
        }
    }
    if (nbits > 0)
        vbuf_addch(out, alphabet[(bits << (6 - nbits)) & 63]);
    vbuf_strcat(out, ":\r\n");
    vbuf_free(raw);
    vbuf_free(rle);
}

/* test_clam_forms - the ClamAV test file as ClamAV ships it encoded */
static void test_clam_forms(void)
{
    size_t  exelen, uulen, hqxlen;
    char   *exe = slurp(TESTFILES "clam.exe", &exelen);
    char   *uu = slurp(TESTFILES "clam.exe.mbox.uu", &uulen);
    char   *hqx = slurp(TESTFILES "clam.exe.binhex", &hqxlen);
    GOT     g;
    int     from_file;

    for (from_file = 0; from_file < 2; from_file++) {
        UT_EQ_INT(scan_text(uu, uulen, from_file, 10, 1 << 20, &g), 1, "clam.exe.mbox.uu: one file");
        UT_EQ_INT(g.kind[0], INLINE_UUENCODE, "uuencoded");
        UT_EQ_STR(g.name[0], "clam.exe", "uuencoded name");
        UT_EQ_MEM(g.data[0], g.size[0], exe, exelen, "uudecoded clam.exe");
        UT_CHECK(g.problem[0] == NULL, "uuencode complete: %s", g.problem[0]);
        got_free(&g);

        UT_EQ_INT(scan_text(hqx, hqxlen, from_file, 10, 1 << 20, &g), 1, "clam.exe.binhex: one file");
        UT_EQ_INT(g.kind[0], INLINE_BINHEX, "BinHex");
        UT_EQ_STR(g.name[0], "clam.exe", "BinHex name");
        UT_EQ_MEM(g.data[0], g.size[0], exe, exelen, "BinHex data fork is clam.exe");
        UT_CHECK(g.problem[0] == NULL, "BinHex complete: %s", g.problem[0]);
        got_free(&g);
    }
    g_free(exe);
    g_free(uu);
    g_free(hqx);
}

/* test_own_encodings - uuencode, begin-base64 and yEnc we make here, in
 * the middle of ordinary text */
static void test_own_encodings(void)
{
    size_t  exelen;
    char   *exe = slurp(TESTFILES "clam.exe", &exelen);
    VBUF   *t = vbuf_alloc(0);
    gchar  *b64 = g_base64_encode((const guchar *)exe, exelen);
    GOT     g;

    vbuf_strcpy(t, "Hello,\r\n\r\nbegin here, begin 644 is not a block\r\nbeginning\r\n");
    uuencode(t, "tool.exe", (const unsigned char *)exe, exelen);
    vbuf_strcat(t, "and some text\r\n");
    yencode(t, "y e n c.bin", (const unsigned char *)exe, exelen, -1);
    vbuf_sprintf_append(t, "begin-base64 600 b64.exe\r\n%s\r\n====\r\nbye\r\n", b64);
    UT_EQ_INT(scan_text(t->data, t->len, 0, 10, 1 << 20, &g), 3, "three blocks");
    UT_EQ_INT(g.n, 3, "three handed over");
    UT_EQ_STR(g.name[0], "tool.exe", "uu name");
    UT_EQ_MEM(g.data[0], g.size[0], exe, exelen, "uu data");
    UT_EQ_INT(g.kind[1], INLINE_YENC, "yEnc kind");
    UT_EQ_STR(g.name[1], "y e n c.bin", "yEnc name keeps its spaces");
    UT_EQ_MEM(g.data[1], g.size[1], exe, exelen, "yEnc data");
    UT_CHECK(g.problem[1] == NULL, "yEnc complete: %s", g.problem[1]);
    UT_EQ_INT(g.kind[2], INLINE_BASE64, "begin-base64 kind");
    UT_EQ_MEM(g.data[2], g.size[2], exe, exelen, "begin-base64 data");
    got_free(&g);

    /* A yEnc block whose =yend size disagrees. */
    vbuf_reset(t);
    yencode(t, "x.bin", (const unsigned char *)exe, exelen, 9999);
    scan_text(t->data, t->len, 0, 10, 1 << 20, &g);
    UT_CHECK(g.n == 1 && g.problem[0] && strcmp(g.problem[0], "size mismatch") == 0,
             "yEnc size mismatch: %s", g.n ? g.problem[0] : "no file");
    got_free(&g);
    vbuf_free(t);
    g_free(b64);
    g_free(exe);
}

/* test_binhex_runs - run-length expansion, literal 0x90, a run bomb */
static void test_binhex_runs(void)
{
    unsigned char data[3000];
    VBUF   *t = vbuf_alloc(0);
    GOT     g;
    size_t  i;

    memset(data, 0, 1000);
    for (i = 1000; i < sizeof(data); i++)
        data[i] = (unsigned char)(i % 7 == 0 ? 0x90 : i % 3 == 0 ? 'A' : i / 10);
    binhex(t, "runs.bin", data, sizeof(data), sizeof(data));
    scan_text(t->data, t->len, 0, 10, 1 << 20, &g);
    UT_EQ_INT(g.n, 1, "BinHex with runs: one file");
    UT_EQ_STR(g.name[0], "runs.bin", "BinHex name");
    UT_EQ_MEM(g.data[0], g.size[0], data, sizeof(data), "runs expanded, 0x90 kept");
    UT_CHECK(g.problem[0] == NULL, "BinHex complete: %s", g.problem[0]);
    got_free(&g);

    /* 4 GB declared, 3000 bytes of zeros in runs: cut at max_bytes. */
    vbuf_reset(t);
    memset(data, 0, sizeof(data));
    binhex(t, "bomb.bin", data, sizeof(data), 0xffffffffUL);
    scan_text(t->data, t->len, 0, 10, 1000, &g);
    UT_CHECK(g.n == 1 && g.size[0] == 1000 && g.problem[0] && strcmp(g.problem[0], "too big") == 0,
             "BinHex bomb: %zu bytes, %s", g.n ? g.size[0] : 0, g.n ? g.problem[0] : "");
    got_free(&g);
    vbuf_free(t);
}

/* test_broken - cut short, garbled, NUL in the name, limits */
static void test_broken(void)
{
    size_t  exelen, hqxlen;
    char   *exe = slurp(TESTFILES "clam.exe", &exelen);
    char   *hqx = slurp(TESTFILES "clam.exe.binhex", &hqxlen);
    unsigned char big[3 * INLINE_MEM_MAX / 2];
    VBUF   *t = vbuf_alloc(0);
    VBUF   *u = vbuf_alloc(0);
    GOT     g;
    size_t  i, cut;

    /* No end: everything up to the end of the text, marked. */
    uuencode(u, "a.exe", (const unsigned char *)exe, exelen);
    cut = (size_t)(strstr(u->data, "`\r\nend") - u->data);
    vbuf_append(t, u->data, cut);
    scan_text(t->data, t->len, 0, 10, 1 << 20, &g);
    UT_EQ_INT(g.n, 1, "cut short: still a file");
    UT_EQ_MEM(g.data[0], g.size[0], exe, exelen, "cut short: decoded as far as it goes");
    UT_CHECK(g.problem[0] && strcmp(g.problem[0], "no end line") == 0, "no end line: %s", g.problem[0]);
    got_free(&g);

    /* A garbled line ends the block; a block right after it is found. */
    vbuf_reset(t);
    vbuf_append(t, u->data, 200);
    vbuf_strcat(t, "\r\nthis {is} not uuencode\r\n");
    vbuf_append(t, u->data, u->len);
    UT_EQ_INT(scan_text(t->data, t->len, 0, 10, 1 << 20, &g), 2, "garbled: two blocks");
    UT_CHECK(g.problem[0] && strcmp(g.problem[0], "garbled line") == 0, "garbled: %s", g.problem[0]);
    UT_CHECK(g.size[0] > 0 && g.size[0] < exelen, "garbled: a prefix, %zu bytes", g.size[0]);
    UT_EQ_MEM(g.data[0], g.size[0], exe, g.size[0], "garbled: the prefix is right");
    UT_EQ_MEM(g.data[1], g.size[1], exe, exelen, "the block after it");
    got_free(&g);

    /* BinHex cut in its data fork. */
    scan_text(hqx, hqxlen / 2, 0, 10, 1 << 20, &g);
    UT_CHECK(g.n == 1 && g.problem[0] != NULL, "BinHex cut short: %s", g.n ? g.problem[0] : "none");
    got_free(&g);

    /* A NUL in the begin line does not hide the end of the name. */
    vbuf_reset(t);
    vbuf_strcat(t, "begin 644 evil");
    vbuf_addch(t, 0);
    vbuf_strcat(t, ".exe\r\n#8V%T\r\n`\r\nend\r\n");
    scan_text(t->data, t->len, 0, 10, 1 << 20, &g);
    UT_CHECK(g.n == 1 && strcmp(g.name[0], "evil.exe") == 0, "NUL in name: \"%s\"", g.n ? g.name[0] : "");
    UT_EQ_MEM(g.data[0], g.size[0], "cat", 3, "three bytes");
    got_free(&g);

    /* More files than allowed: counted, not handed over. */
    vbuf_reset(t);
    for (i = 0; i < 3; i++)
        vbuf_append(t, u->data, u->len);
    UT_EQ_INT(scan_text(t->data, t->len, 0, 2, 1 << 20, &g), 3, "three found");
    UT_EQ_INT(g.n, 2, "two handed over");
    got_free(&g);

    /* Too big: cut at max_bytes and marked. */
    scan_text(u->data, u->len, 0, 10, 100, &g);
    UT_CHECK(g.n == 1 && g.size[0] == 100 && g.problem[0] && strcmp(g.problem[0], "too big") == 0,
             "too big: %zu bytes, %s", g.n ? g.size[0] : 0, g.n ? g.problem[0] : "");
    got_free(&g);

    /* Big enough for a spool file, from a file. */
    for (i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7 + i / 251);
    vbuf_reset(t);
    uuencode(t, "big.bin", big, sizeof(big));
    scan_text(t->data, t->len, 1, 10, 1LL << 30, &g);
    UT_EQ_INT(g.n, 1, "big: one file");
    UT_CHECK(g.on_disk[0], "big: decoded to a spool file");
    UT_EQ_MEM(g.data[0], g.size[0], big, sizeof(big), "big: every byte");
    got_free(&g);

    /* Nothing there. */
    {
        static const char plain[] = "no blocks\r\nbegin\r\n=ybegins\r\nbegin 644\r\n";

        UT_EQ_INT(scan_text(plain, strlen(plain), 0, 10, 100, &g), 0, "plain text");
    }
    got_free(&g);
    vbuf_free(t);
    vbuf_free(u);
    g_free(exe);
    g_free(hqx);
}

int     main(void)
{
    UT_BEGIN("test_scan_inline");
    msg_init("test_scan_inline", MSG_STDERR);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_clam_forms();
    test_own_encodings();
    test_binhex_runs();
    test_broken();
    if (rmdir(tmpdir) < 0)
        UT_CHECK(0, "rmdir %s: %s (left files behind?)", tmpdir, strerror(errno));
    return ut_done();
}
