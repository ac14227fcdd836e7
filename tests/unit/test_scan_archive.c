/*
 * test_scan_archive - archive members through libarchive
 *
 * Every archive is made here at run time with libarchive's write API (zip,
 * 7z, tar.gz, encrypted zip), or by hand (a gzip with a stored name, cut
 * and damaged zips), or with zip(1) when it is installed (zip -P). A
 * callback records what archive_walk reports; each case compares the
 * record with what went into the archive.
 *
 * With an argument "bench", prints instead the time of archive_walk on a
 * 4 KB text part, on a 1 MB zip of 100 members, per member of a zip of
 * 5000, and the decompression speed (not run by tests/run).
 */
#include <archive.h>
#include <archive_entry.h>

#undef ARCHIVE_OK                       /* libarchive's; ours follows */

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "scan/archive.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

/* A growing byte buffer for the archives we write. */
typedef struct BUF {
    unsigned char *data;
    size_t  len;
    size_t  size;
} BUF;

/* One member to write. */
typedef struct ENTRY {
    const char *name;
    const void *data;           /* NULL: a directory (or a symlink with target) */
    size_t  len;
    const char *symlink;        /* target of a symbolic link */
} ENTRY;

/* What the callback saw of one member. */
typedef struct SEEN {
    char   *name;
    char   *container;
    int     depth;
    unsigned char *head;        /* copy, or NULL */
    size_t  headlen;
    long long size;
    int     encrypted;
    int     kind;
} SEEN;

typedef struct RECORD {
    SEEN    seen[200];
    int     count;
    int     stop_after;         /* return 1 on this call (1-based), 0: never */
} RECORD;

static ARCHIVE_LIMITS big = {8, 100000, 1024LL * 1024 * 1024};

/* buf_add - append bytes */
static void buf_add(BUF *b, const void *data, size_t len)
{
    if (b->len + len > b->size) {
        b->size = (b->len + len) * 2;
        b->data = myrealloc(b->data, b->size);
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* buf_write - libarchive's write callback into a BUF */
static la_ssize_t buf_write(struct archive *a, void *ctx, const void *data, size_t len)
{
    (void) a;
    buf_add(ctx, data, len);
    return ((la_ssize_t) len);
}

/* make_named - an archive in libarchive's format and filter named fmt
 * and filter (NULL: none), with optional writer options and passphrase */
static BUF make_named(const char *fmt, const char *filter, const char *options,
                      const char *pass, const ENTRY *entries, int n)
{
    struct archive *w = archive_write_new();
    struct archive_entry *e;
    BUF     b = {NULL, 0, 0};
    int     i;

    if (archive_write_set_format_by_name(w, fmt) != 0)
        msg_fatal("format %s: %s", fmt, archive_error_string(w));
    if (filter && archive_write_add_filter_by_name(w, filter) != 0)
        msg_fatal("filter %s: %s", filter, archive_error_string(w));
    if (options && archive_write_set_options(w, options) != 0)
        msg_fatal("options %s: %s", options, archive_error_string(w));
    if (pass && archive_write_set_passphrase(w, pass) != 0)
        msg_fatal("passphrase: %s", archive_error_string(w));
    archive_write_set_bytes_in_last_block(w, 1);
    if (archive_write_open(w, &b, NULL, buf_write, NULL) != 0)
        msg_fatal("open: %s", archive_error_string(w));
    for (i = 0; i < n; i++) {
        e = archive_entry_new();
        archive_entry_set_pathname(e, entries[i].name);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (entries[i].symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, entries[i].symlink);
            archive_entry_set_perm(e, 0777);
        } else if (entries[i].data == NULL) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t) entries[i].len);
        }
        if (archive_write_header(w, e) != 0)
            msg_fatal("header %s: %s", entries[i].name, archive_error_string(w));
        if (entries[i].data && entries[i].len
            && archive_write_data(w, entries[i].data, entries[i].len) != (la_ssize_t) entries[i].len)
            msg_fatal("data %s: %s", entries[i].name, archive_error_string(w));
        archive_entry_free(e);
    }
    if (archive_write_close(w) != 0)
        msg_fatal("close: %s", archive_error_string(w));
    archive_write_free(w);
    return (b);
}

/* make - an archive of format fmt ("zip", "7z", "tar", "raw") with optional
 * gzip compression, writer options and passphrase */
static BUF make(const char *fmt, int gzip, const char *options, const char *pass,
                const ENTRY *entries, int n)
{
    return (make_named(strcmp(fmt, "tar") == 0 ? "paxr" : strcmp(fmt, "7z") == 0 ? "7zip" : fmt,
                       gzip ? "gzip" : NULL, options, pass, entries, n));
}

/* record - the callback: keep a copy of what was reported */
static int record(const ARCHIVE_MEMBER *m, void *context)
{
    RECORD *r = context;
    SEEN   *s;

    if (r->count >= (int) (sizeof(r->seen) / sizeof(r->seen[0])))
        return (1);
    s = r->seen + r->count++;
    s->name = mystrdup(m->name);
    s->container = mystrdup(m->container);
    s->depth = m->depth;
    s->head = NULL;
    if (m->head) {
        s->head = mymalloc(m->headlen + 1);
        memcpy(s->head, m->head, m->headlen);
    }
    s->headlen = m->headlen;
    s->size = m->size;
    s->encrypted = m->encrypted;
    s->kind = m->kind;
    return (r->stop_after && r->count == r->stop_after);
}

/* forget - free a record for the next walk */
static void forget(RECORD *r)
{
    int     i;

    for (i = 0; i < r->count; i++) {
        myfree(r->seen[i].name);
        myfree(r->seen[i].container);
        myfree(r->seen[i].head);
    }
    r->count = 0;
    r->stop_after = 0;
}

/* check_why - why is ASCII without controls, and bounded */
static void check_why(const VBUF *why, const char *label)
{
    size_t  i;
    int     ok = 1;

    for (i = 0; i < vbuf_len(why); i++)
        if (why->data[i] < 0x20 || why->data[i] >= 0x7f)
            ok = 0;
    UT_CHECK(ok && vbuf_len(why) < 600, "%s: why not printable or too long: %s", label,
             vbuf_str(why));
}

/* walk - archive_walk on memory, checked for a printable why */
static int walk(const void *data, size_t len, const char *name, const ARCHIVE_LIMITS *lim,
                RECORD *r, VBUF *why, const char *label)
{
    int     ret;

    forget(r);
    ret = archive_walk(data, len, -1, name, lim, record, r, why);
    check_why(why, label);
    return (ret);
}

/* tmpfd - an unlinked file holding data */
static int tmpfd(const void *data, size_t len)
{
    char    path[] = "/tmp/test_scan_archive-XXXXXX";
    int     fd = mkstemp(path);

    if (fd < 0)
        msg_fatal("mkstemp: %m");
    unlink(path);
    if (write(fd, data, len) != (ssize_t) len)
        msg_fatal("write: %m");
    return (fd);
}

/* find - the record of a member by name, or NULL */
static const SEEN *find(const RECORD *r, const char *name)
{
    int     i;

    for (i = 0; i < r->count; i++)
        if (strcmp(r->seen[i].name, name) == 0)
            return (r->seen + i);
    return (NULL);
}

/* crc32_of - the gzip CRC, bit by bit (test data only) */
static uint32_t crc32_of(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    int     k;

    while (len--) {
        crc ^= *p++;
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return (crc ^ 0xffffffffu);
}

/* gzip_stored - a gzip stream with a stored name and one stored block */
static BUF gzip_stored(const char *fname, const void *data, size_t len)
{
    BUF     b = {NULL, 0, 0};
    unsigned char hdr[10] = {0x1f, 0x8b, 8, fname ? 8 : 0, 0, 0, 0, 0, 0, 3};
    unsigned char blk[5];
    unsigned char tail[8];
    uint32_t crc = crc32_of(data, len);
    int     i;

    buf_add(&b, hdr, sizeof(hdr));
    if (fname)
        buf_add(&b, fname, strlen(fname) + 1);
    blk[0] = 1;                                 /* final block, stored */
    blk[1] = len & 0xff;
    blk[2] = (len >> 8) & 0xff;
    blk[3] = ~blk[1];
    blk[4] = ~blk[2];
    buf_add(&b, blk, sizeof(blk));
    buf_add(&b, data, len);
    for (i = 0; i < 4; i++) {
        tail[i] = (crc >> (8 * i)) & 0xff;
        tail[4 + i] = (len >> (8 * i)) & 0xff;
    }
    buf_add(&b, tail, sizeof(tail));
    return (b);
}

/* find_bytes - offset of needle in hay, or -1 */
static long find_bytes(const BUF *hay, const void *needle, size_t len)
{
    size_t  i;

    for (i = 0; i + len <= hay->len; i++)
        if (memcmp(hay->data + i, needle, len) == 0)
            return ((long) i);
    return (-1);
}

static const char exe[] = "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0 this is the invoice program";

/* test_zip_exe - a zip with invoice.exe: name, head, depth, container */
static void test_zip_exe(RECORD *r, VBUF *why)
{
    ENTRY   e[] = {{"docs/", NULL, 0, NULL}, {"invoice.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     z = make("zip", 0, NULL, NULL, e, 2);
    const SEEN *s;

    UT_EQ_INT(walk(z.data, z.len, "mail.zip", &big, r, why, "zip"), ARCHIVE_OK, "zip result");
    UT_EQ_INT(r->count, 2, "zip members");
    s = find(r, "invoice.exe");
    UT_CHECK(s != NULL, "zip: invoice.exe not seen");
    if (s) {
        UT_CHECK(s->head != NULL, "zip: no head");
        if (s->head)
            UT_EQ_MEM(s->head, s->headlen, exe, sizeof(exe) - 1, "zip head");
        UT_EQ_INT(s->depth, 1, "zip depth");
        UT_EQ_STR(s->container, "mail.zip", "zip container");
        UT_EQ_INT(s->size, sizeof(exe) - 1, "zip size");
        UT_EQ_INT(s->kind, ARCHIVE_MEMBER_FILE, "zip kind");
        UT_EQ_INT(s->encrypted, 0, "zip encrypted");
    }
    s = find(r, "docs/");
    UT_CHECK(s && s->kind == ARCHIVE_MEMBER_DIR && s->head == NULL, "zip: directory by name only");
    myfree(z.data);
}

/* test_nested - a zip in a zip: depth 2 with the container chain */
static void test_nested(RECORD *r, VBUF *why)
{
    ENTRY   in[] = {{"invoice.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     inner = make("zip", 0, NULL, NULL, in, 1);
    ENTRY   out[] = {{"readme.txt", "hello\n", 6, NULL}, {"inner.zip", inner.data, inner.len, NULL}};
    BUF     outer = make("zip", 0, NULL, NULL, out, 2);
    const SEEN *s;

    UT_EQ_INT(walk(outer.data, outer.len, "outer.zip", &big, r, why, "nested"), ARCHIVE_OK,
              "nested result");
    UT_EQ_INT(r->count, 3, "nested members");
    s = find(r, "inner.zip");
    UT_CHECK(s && s->depth == 1 && s->head && s->headlen == inner.len
             && memcmp(s->head, "PK\3\4", 4) == 0, "nested: inner.zip itself at depth 1");
    s = find(r, "invoice.exe");
    UT_CHECK(s != NULL, "nested: invoice.exe not seen");
    if (s) {
        UT_EQ_INT(s->depth, 2, "nested depth");
        UT_EQ_STR(s->container, "outer.zip/inner.zip", "nested container");
        UT_CHECK(s->head && s->headlen == sizeof(exe) - 1 && memcmp(s->head, exe, s->headlen) == 0,
                 "nested: head of invoice.exe");
    }
    /* No part name: the chain starts with the nested archive. */
    UT_EQ_INT(walk(outer.data, outer.len, NULL, &big, r, why, "nested noname"), ARCHIVE_OK,
              "nested noname result");
    s = find(r, "invoice.exe");
    UT_CHECK(s && strcmp(s->container, "inner.zip") == 0, "nested noname container: %s",
             s ? s->container : "-");
    s = find(r, "readme.txt");
    UT_CHECK(s && strcmp(s->container, "") == 0, "nested noname: depth-1 container empty");
    myfree(inner.data);
    myfree(outer.data);
}

/* test_big_nested - a tar.gz larger than the sniff size, stored in a zip:
 * bidding on its first bytes only still finds the archive */
static void test_big_nested(RECORD *r, VBUF *why)
{
    size_t  n = 300 * 1024;
    unsigned char *noise = mymalloc(n);
    uint32_t x = 12345;
    size_t  i;
    BUF     tgz, zip;
    const SEEN *s;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (unsigned char) (x >> 16);
    }
    {
        ENTRY   t[] = {{"noise.bin", noise, n, NULL}, {"payload.scr", exe, sizeof(exe) - 1, NULL}};

        tgz = make("tar", 1, NULL, NULL, t, 2);
    }
    {
        ENTRY   z[] = {{"backup.tar.gz", tgz.data, tgz.len, NULL}};

        zip = make("zip", 0, "zip:compression=store", NULL, z, 1);
    }
    UT_CHECK(tgz.len > ARCHIVE_SNIFF_MAX, "big nested: tar.gz of %zu bytes is not bigger than the head",
             tgz.len);
    UT_EQ_INT(walk(zip.data, zip.len, "b.zip", &big, r, why, "big nested"), ARCHIVE_OK,
              "big nested result");
    s = find(r, "payload.scr");
    UT_CHECK(s && s->depth == 2 && strcmp(s->container, "b.zip/backup.tar.gz") == 0,
             "big nested: payload.scr at depth 2");
    s = find(r, "noise.bin");
    UT_CHECK(s && s->headlen == ARCHIVE_SNIFF_MAX && s->size == (long long) n
             && memcmp(s->head, noise, s->headlen) == 0, "big nested: head of noise.bin");
    myfree(noise);
    myfree(tgz.data);
    myfree(zip.data);
}

/* test_targz - tar.gz with a directory, a file and a symlink */
static void test_targz(RECORD *r, VBUF *why)
{
    ENTRY   e[] = {{"dir/", NULL, 0, NULL}, {"dir/run.bat", "@echo off\r\n", 11, NULL},
                   {"dir/link.lnk", NULL, 0, "run.bat"}};
    BUF     t = make("tar", 1, NULL, NULL, e, 3);
    const SEEN *s;

    UT_EQ_INT(walk(t.data, t.len, "x.tar.gz", &big, r, why, "targz"), ARCHIVE_OK, "targz result");
    UT_EQ_INT(r->count, 3, "targz members");
    s = find(r, "dir/run.bat");
    UT_CHECK(s && s->head && s->headlen == 11 && memcmp(s->head, "@echo off\r\n", 11) == 0,
             "targz: head of dir/run.bat");
    s = find(r, "dir/link.lnk");
    UT_CHECK(s && s->kind == ARCHIVE_MEMBER_LINK && s->head == NULL, "targz: symlink by name only");
    s = find(r, "dir");
    if (s == NULL)
        s = find(r, "dir/");
    UT_CHECK(s && s->kind == ARCHIVE_MEMBER_DIR, "targz: directory");
    myfree(t.data);
}

/* test_7z - a 7z archive written by libarchive */
static void test_7z(RECORD *r, VBUF *why)
{
    ENTRY   e[] = {{"a.txt", "alpha\n", 6, NULL}, {"setup.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     z = make("7z", 0, NULL, NULL, e, 2);
    const SEEN *s;

    UT_EQ_INT(walk(z.data, z.len, "x.7z", &big, r, why, "7z"), ARCHIVE_OK, "7z result");
    UT_EQ_INT(r->count, 2, "7z members");
    s = find(r, "setup.exe");
    UT_CHECK(s && s->head && s->headlen == sizeof(exe) - 1 && memcmp(s->head, exe, s->headlen) == 0,
             "7z: head of setup.exe");
    myfree(z.data);
}

/* test_formats - the other formats and compressions libarchive writes */
static void test_formats(RECORD *r, VBUF *why)
{
    static const char *const cases[][2] = {
        {"cpio", NULL}, {"newc", NULL}, {"odc", NULL}, {"arsvr4", NULL}, {"arbsd", NULL},
        {"iso9660", NULL}, {"xar", NULL}, {"gnutar", NULL}, {"ustar", NULL},
        {"paxr", "bzip2"}, {"paxr", "xz"}, {"paxr", "lzma"}, {"paxr", "lzip"},
        {"paxr", "zstd"}, {"paxr", "compress"}, {"zip", "xz"}, {"cpio", "gzip"},
    };
    ENTRY   e[] = {{"invoice.exe", exe, sizeof(exe) - 1, NULL}, {"b.txt", "bee\n", 4, NULL}};
    char    label[64];
    const SEEN *s;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        BUF     b = make_named(cases[i][0], cases[i][1], NULL, NULL, e, 2);

        snprintf(label, sizeof(label), "%s%s%s", cases[i][0], cases[i][1] ? "+" : "",
                 cases[i][1] ? cases[i][1] : "");
        UT_EQ_INT(walk(b.data, b.len, "p", &big, r, why, label), ARCHIVE_OK, label);
        s = find(r, "invoice.exe");
        if (s == NULL)
            s = find(r, "INVOICE.EXE");             /* plain ISO 9660 names */
        UT_CHECK(s && s->head && s->headlen == sizeof(exe) - 1 && memcmp(s->head, exe, s->headlen) == 0,
                 "%s: invoice.exe and its head (%d members, why %s)", label, r->count, vbuf_str(why));
        myfree(b.data);
    }
}

/* test_not_archive - text, a PDF, nothing: ARCHIVE_NONE, from memory and fd */
static void test_not_archive(RECORD *r, VBUF *why)
{
    static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        "stream\nPK\3\4 looks like zip inside\nendstream\n%%EOF\n";
    char    text[4096];
    size_t  i;
    int     fd;

    for (i = 0; i < sizeof(text); i++)
        text[i] = (i % 64 == 63) ? '\n' : "Dear customer, please find the invoice attached. "[i % 49];
    UT_EQ_INT(walk(text, sizeof(text), "a.txt", &big, r, why, "text"), ARCHIVE_NONE, "text");
    UT_EQ_INT(r->count, 0, "text: no members");
    UT_EQ_INT(vbuf_len(why), 0, "text: why empty");
    UT_EQ_INT(walk(pdf, sizeof(pdf) - 1, "a.pdf", &big, r, why, "pdf"), ARCHIVE_NONE, "pdf");
    UT_EQ_INT(walk("", 0, "empty", &big, r, why, "empty"), ARCHIVE_NONE, "empty part");
    UT_EQ_INT(walk("x", 1, NULL, &big, r, why, "one byte"), ARCHIVE_NONE, "one byte");
    fd = tmpfd(text, sizeof(text));
    UT_EQ_INT(archive_walk(NULL, 0, fd, "a.txt", &big, record, r, why), ARCHIVE_NONE, "text fd");
    close(fd);
    fd = tmpfd(pdf, sizeof(pdf) - 1);
    UT_EQ_INT(archive_walk(NULL, 0, fd, "a.pdf", &big, record, r, why), ARCHIVE_NONE, "pdf fd");
    close(fd);
    UT_EQ_INT(r->count, 0, "not archives: no members");
}

/* test_exe - a program with an archive signature inside is no archive;
 * a program with a zip appended (self-extracting) is listed */
static void test_exe(RECORD *r, VBUF *why)
{
    size_t  n = 140 * 1024;
    unsigned char *prog = mymalloc(n);
    ENTRY   e[] = {{"invoice.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     z = make("zip", 0, NULL, NULL, e, 1);
    BUF     sfx = {NULL, 0, 0};
    int     fd;

    memset(prog, 0x90, n);
    memcpy(prog, "MZ", 2);
    memcpy(prog + 0x10000, "Rar!\032\007\000", 7);     /* where libarchive looks */
    UT_EQ_INT(walk(prog, n, "tool.exe", &big, r, why, "exe with rar signature"), ARCHIVE_NONE,
              "exe with rar signature");
    UT_EQ_INT(vbuf_len(why), 0, "exe with rar signature: why empty");
    fd = tmpfd(prog, n);
    UT_EQ_INT(archive_walk(NULL, 0, fd, "tool.exe", &big, record, r, why), ARCHIVE_NONE,
              "exe with rar signature, fd");
    close(fd);
    buf_add(&sfx, prog, 4096);
    buf_add(&sfx, z.data, z.len);
    UT_EQ_INT(walk(sfx.data, sfx.len, "setup.exe", &big, r, why, "sfx"), ARCHIVE_OK, "sfx zip");
    UT_CHECK(find(r, "invoice.exe") != NULL, "sfx zip: invoice.exe listed");
    myfree(prog);
    myfree(sfx.data);
    myfree(z.data);
}

/* test_zeros - a member of zeros looks like an empty tar to libarchive:
 * not a nested archive, so no nesting limit at the last level */
static void test_zeros(RECORD *r, VBUF *why)
{
    unsigned char *zeros = mycalloc(1, 100000);
    ENTRY   e[] = {{"disk.img", zeros, 100000, NULL}};
    BUF     z = make("zip", 0, NULL, NULL, e, 1);
    ARCHIVE_LIMITS lim = big;

    lim.max_depth = 1;
    UT_EQ_INT(walk(z.data, z.len, "z.zip", &lim, r, why, "zeros"), ARCHIVE_OK, "zeros member");
    UT_EQ_INT(r->count, 1, "zeros: one member");
    myfree(zeros);
    myfree(z.data);
}

/* test_gzip_single - a compressed file that is no archive: one member,
 * named from the gzip header or from the part's name */
static void test_gzip_single(RECORD *r, VBUF *why)
{
    BUF     g = gzip_stored("invoice.exe", exe, sizeof(exe) - 1);
    BUF     n = gzip_stored(NULL, exe, sizeof(exe) - 1);

    UT_EQ_INT(walk(g.data, g.len, "notes.gz", &big, r, why, "gz fname"), ARCHIVE_OK, "gz fname result");
    UT_CHECK(r->count == 1 && strcmp(r->seen[0].name, "invoice.exe") == 0 && r->seen[0].head
             && r->seen[0].headlen == sizeof(exe) - 1, "gz: member named from the gzip header");
    UT_EQ_INT(walk(n.data, n.len, "scan.exe.gz", &big, r, why, "gz noname"), ARCHIVE_OK,
              "gz noname result");
    UT_CHECK(r->count == 1 && strcmp(r->seen[0].name, "scan.exe") == 0,
             "gz: member named from the part: %s", r->count ? r->seen[0].name : "-");
    /* Zero blocks first look like an empty tar: the stream is listed as
     * one compressed file all the same. */
    {
        unsigned char *hidden = mycalloc(1, 1024 + sizeof(exe));
        BUF     h;

        memcpy(hidden + 1024, exe, sizeof(exe) - 1);
        h = gzip_stored("invoice.exe", hidden, 1024 + sizeof(exe) - 1);
        UT_EQ_INT(walk(h.data, h.len, "notes.gz", &big, r, why, "gz zeros"), ARCHIVE_OK, "gz zeros result");
        UT_CHECK(r->count == 1 && strcmp(r->seen[0].name, "invoice.exe") == 0 && r->seen[0].head
                 && r->seen[0].headlen == 1024 + sizeof(exe) - 1, "gz zeros: one member, whole");
        {
            ENTRY   e[] = {{"notes.gz", h.data, h.len, NULL}};
            BUF     z = make("zip", 0, NULL, NULL, e, 1);
            const SEEN *s;

            UT_EQ_INT(walk(z.data, z.len, "n.zip", &big, r, why, "gz zeros nested"), ARCHIVE_OK,
                      "gz zeros nested result");
            s = find(r, "invoice.exe");
            UT_CHECK(s && s->depth == 2 && strcmp(s->container, "n.zip/notes.gz") == 0,
                     "gz zeros nested: invoice.exe at depth 2");
            myfree(z.data);
        }
        myfree(h.data);
        myfree(hidden);
    }
    /* A compressed empty file holds nothing to list. */
    {
        BUF     e = gzip_stored("empty.txt", "", 0);

        UT_EQ_INT(walk(e.data, e.len, "empty.gz", &big, r, why, "gz empty"), ARCHIVE_OK, "gz empty");
        UT_EQ_INT(r->count, 0, "gz empty: no members");
        myfree(e.data);
    }
    /* Cut inside the data: corrupt compressed data is unchecked. */
    UT_EQ_INT(walk(g.data, g.len - 20, "notes.gz", &big, r, why, "gz cut"), ARCHIVE_UNCHECKED,
              "gz cut result");
    UT_CHECK(strncmp(vbuf_str(why), "corrupt archive", 15) == 0, "gz cut why: %s", vbuf_str(why));
    myfree(g.data);
    myfree(n.data);
}

/* test_corrupt - truncated, bad CRC, garbage after a local header */
static void test_corrupt(RECORD *r, VBUF *why)
{
    static const char secret[] = "the second member's stored bytes";
    ENTRY   e[] = {{"first.txt", "first member\n", 13, NULL}, {"second.exe", secret, sizeof(secret) - 1, NULL}};
    BUF     z = make("zip", 0, "zip:compression=store", NULL, e, 2);
    BUF     g = {NULL, 0, 0};
    long    off = find_bytes(&z, secret, sizeof(secret) - 1);
    long    second = find_bytes(&z, "second.exe", 10);
    unsigned char *bad;
    uint32_t x = 7;
    int     i;

    UT_CHECK(off > 0 && second > 0, "corrupt: stored data not found");
    /* Truncated inside the second member's data. */
    UT_EQ_INT(walk(z.data, (size_t) off + 5, "t.zip", &big, r, why, "truncated"), ARCHIVE_UNCHECKED,
              "truncated result");
    UT_CHECK(strncmp(vbuf_str(why), "corrupt archive: ", 17) == 0, "truncated why: %s", vbuf_str(why));
    UT_CHECK(find(r, "first.txt") != NULL, "truncated: the first member was still listed");
    /* Bad CRC: one byte of stored data changed. */
    bad = mymalloc(z.len);
    memcpy(bad, z.data, z.len);
    bad[off + 3] ^= 0x20;
    UT_EQ_INT(walk(bad, z.len, "c.zip", &big, r, why, "bad crc"), ARCHIVE_UNCHECKED, "bad crc result");
    UT_CHECK(strncmp(vbuf_str(why), "corrupt archive: ", 17) == 0, "bad crc why: %s", vbuf_str(why));
    UT_CHECK(find(r, "second.exe") != NULL, "bad crc: name still given");
    myfree(bad);
    /* Bad CRC at the end of a member longer than the head. */
    {
        size_t  n = 3 * ARCHIVE_SNIFF_MAX;
        unsigned char *noise = mymalloc(n);
        BUF     big_zip;
        long    at;

        for (i = 0; i < (int) n; i++) {
            x = x * 1103515245u + 12345u;
            noise[i] = (unsigned char) (x >> 16);
        }
        {
            ENTRY   b[] = {{"big.bin", noise, n, NULL}, {"after.txt", "after\n", 6, NULL}};

            big_zip = make("zip", 0, "zip:compression=store", NULL, b, 2);
        }
        at = find_bytes(&big_zip, noise + n - 64, 64);
        UT_CHECK(at > 0, "bad crc big: data not found");
        big_zip.data[at + 10] ^= 1;
        UT_EQ_INT(walk(big_zip.data, big_zip.len, "c.zip", &big, r, why, "bad crc big"), ARCHIVE_UNCHECKED,
                  "bad crc big result");
        UT_CHECK(strncmp(vbuf_str(why), "corrupt archive: ", 17) == 0, "bad crc big why: %s", vbuf_str(why));
        myfree(big_zip.data);
        myfree(noise);
    }
    /* A valid first local header (up to the second one), then garbage. */
    buf_add(&g, z.data, (size_t) second - 30 + 4);
    for (i = 0; i < 3000; i++) {
        unsigned char c;

        x = x * 1103515245u + 12345u;
        c = (unsigned char) (x >> 16);
        buf_add(&g, &c, 1);
    }
    UT_EQ_INT(walk(g.data, g.len, "g.zip", &big, r, why, "garbage"), ARCHIVE_UNCHECKED, "garbage result");
    UT_CHECK(strncmp(vbuf_str(why), "corrupt archive: ", 17) == 0, "garbage why: %s", vbuf_str(why));
    myfree(g.data);
    /* Every member whole, the central directory cut off: libarchive reads
     * the local headers and would call it complete; a zip tool refuses it. */
    {
        long    cd = find_bytes(&z, "PK\001\002", 4);
        BUF     cut = {NULL, 0, 0};
        BUF     outer;
        int     fd;

        UT_CHECK(cd > 0, "no central directory found");
        buf_add(&cut, z.data, (size_t) cd + 20);        /* a piece of the first entry */
        buf_add(&cut, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
        UT_EQ_INT(walk(cut.data, cut.len, "cd.zip", &big, r, why, "no cd"), ARCHIVE_UNCHECKED,
                  "no central directory: result");
        UT_CHECK(strstr(vbuf_str(why), "central directory") != NULL, "no cd why: %s", vbuf_str(why));
        UT_CHECK(find(r, "second.exe") != NULL, "no cd: the members were still listed");
        fd = tmpfd(cut.data, cut.len);
        forget(r);
        UT_EQ_INT(archive_walk(NULL, 0, fd, "cd.zip", &big, record, r, why), ARCHIVE_UNCHECKED,
                  "no central directory from a file: result");
        close(fd);
        {
            ENTRY   in[] = {{"cd.zip", cut.data, cut.len, NULL}};

            outer = make("zip", 0, "zip:compression=store", NULL, in, 1);
        }
        UT_EQ_INT(walk(outer.data, outer.len, "outer.zip", &big, r, why, "nested no cd"),
                  ARCHIVE_UNCHECKED, "nested zip without central directory: result");
        UT_CHECK(find(r, "second.exe") != NULL, "nested no cd: inner members listed");
        /* The intact zip stays complete, from memory and from a file. */
        UT_EQ_INT(walk(z.data, z.len, "ok.zip", &big, r, why, "intact"), ARCHIVE_OK, "intact zip");
        fd = tmpfd(z.data, z.len);
        forget(r);
        UT_EQ_INT(archive_walk(NULL, 0, fd, "ok.zip", &big, record, r, why), ARCHIVE_OK,
                  "intact zip from a file");
        close(fd);
        myfree(outer.data);
        myfree(cut.data);
    }
    myfree(z.data);
}

/* test_encrypted - names given, head NULL, unchecked */
static void test_encrypted(RECORD *r, VBUF *why)
{
    static const char *const methods[] = {"zip:encryption=zipcrypt", "zip:encryption=aes256"};
    ENTRY   e[] = {{"invoice.exe", exe, sizeof(exe) - 1, NULL}, {"readme.txt", "read me\n", 8, NULL}};
    const SEEN *s;
    size_t  i;

    for (i = 0; i < 2; i++) {
        BUF     z = make("zip", 0, methods[i], "secret", e, 2);

        UT_EQ_INT(walk(z.data, z.len, "e.zip", &big, r, why, methods[i]), ARCHIVE_UNCHECKED, methods[i]);
        UT_EQ_STR(vbuf_str(why), "encrypted archive member", methods[i]);
        UT_EQ_INT(r->count, 2, methods[i]);
        s = find(r, "invoice.exe");
        UT_CHECK(s && s->encrypted == 1 && s->head == NULL, "%s: invoice.exe name only", methods[i]);
        myfree(z.data);
    }
}

/* test_zip_command - zip -P, when zip(1) is installed */
static void test_zip_command(RECORD *r, VBUF *why)
{
    char    dir[] = "/tmp/test_scan_archive-XXXXXX";
    char    cmd[512];
    char    path[256];
    struct stat st;
    unsigned char *data;
    FILE   *fp;
    int     fd;

    if (system("command -v zip >/dev/null 2>&1") != 0) {
        fprintf(stderr, "zip(1) not installed: zip -P case skipped\n");
        return;
    }
    if (mkdtemp(dir) == NULL)
        msg_fatal("mkdtemp: %m");
    snprintf(path, sizeof(path), "%s/invoice.exe", dir);
    if ((fp = fopen(path, "w")) == NULL)
        msg_fatal("%s: %m", path);
    fwrite(exe, 1, sizeof(exe) - 1, fp);
    fclose(fp);
    snprintf(cmd, sizeof(cmd), "cd %s && zip -q -P secret e.zip invoice.exe", dir);
    UT_CHECK(system(cmd) == 0, "zip -P failed");
    snprintf(path, sizeof(path), "%s/e.zip", dir);
    if ((fd = open(path, O_RDONLY)) >= 0 && fstat(fd, &st) == 0) {
        data = mymalloc((size_t) st.st_size);
        UT_CHECK(read(fd, data, (size_t) st.st_size) == st.st_size, "read e.zip");
        UT_EQ_INT(walk(data, (size_t) st.st_size, "e.zip", &big, r, why, "zip -P"), ARCHIVE_UNCHECKED,
                  "zip -P result");
        UT_EQ_STR(vbuf_str(why), "encrypted archive member", "zip -P why");
        UT_CHECK(r->count == 1 && strcmp(r->seen[0].name, "invoice.exe") == 0 && r->seen[0].encrypted
                 && r->seen[0].head == NULL, "zip -P: name given, head NULL");
        myfree(data);
        close(fd);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# cleanup of %s failed\n", dir);
}

/* test_members - more members than max_members */
static void test_members(RECORD *r, VBUF *why)
{
    ENTRY   e[20];
    char    names[20][16];
    ARCHIVE_LIMITS lim = big;
    BUF     z;
    int     i;

    for (i = 0; i < 20; i++) {
        snprintf(names[i], sizeof(names[i]), "f%02d.txt", i);
        e[i] = (ENTRY) {names[i], "x", 1, NULL};
    }
    z = make("zip", 0, NULL, NULL, e, 20);
    lim.max_members = 5;
    UT_EQ_INT(walk(z.data, z.len, "m.zip", &lim, r, why, "members"), ARCHIVE_UNCHECKED, "members result");
    UT_EQ_STR(vbuf_str(why), "archive member limit exceeded", "members why");
    UT_EQ_INT(r->count, 5, "members listed");
    lim.max_members = 20;
    UT_EQ_INT(walk(z.data, z.len, "m.zip", &lim, r, why, "members exact"), ARCHIVE_OK, "members exact");
    UT_EQ_INT(r->count, 20, "members exact listed");
    myfree(z.data);
}

/* test_bomb - 50 MB of zeros: stopped at max_bytes, nested or not */
static void test_bomb(RECORD *r, VBUF *why)
{
    size_t  n = 50 * 1024 * 1024;
    unsigned char *zeros = mycalloc(1, n);
    ENTRY   e[] = {{"zeros.bin", zeros, n, NULL}, {"after.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     z = make("zip", 0, NULL, NULL, e, 2);
    BUF     outer;
    ARCHIVE_LIMITS lim = big;
    struct timespec t0, t1;
    double  secs;

    myfree(zeros);
    UT_CHECK(z.len < 200 * 1024, "bomb: %zu bytes compressed", z.len);
    lim.max_bytes = 10 * 1024 * 1024;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    UT_EQ_INT(walk(z.data, z.len, "bomb.zip", &lim, r, why, "bomb"), ARCHIVE_UNCHECKED, "bomb result");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    UT_EQ_STR(vbuf_str(why), "archive size limit exceeded", "bomb why");
    UT_CHECK(find(r, "zeros.bin") != NULL, "bomb: the big member's name was given");
    UT_CHECK(secs < 5, "bomb: took %.2f s", secs);
    /* With room, the same archive is listed whole. */
    lim.max_bytes = 60 * 1024 * 1024;
    UT_EQ_INT(walk(z.data, z.len, "bomb.zip", &lim, r, why, "bomb room"), ARCHIVE_OK, "bomb with room");
    UT_CHECK(find(r, "after.exe") != NULL, "bomb with room: after.exe listed");
    /* Exactly as many bytes as there are is still within the limit. */
    lim.max_bytes = (long long) n + (long long) sizeof(exe) - 1;
    UT_EQ_INT(walk(z.data, z.len, "bomb.zip", &lim, r, why, "bomb exact"), ARCHIVE_OK, "bomb exact");
    lim.max_bytes -= 1;
    UT_EQ_INT(walk(z.data, z.len, "bomb.zip", &lim, r, why, "bomb exact-1"), ARCHIVE_UNCHECKED,
              "bomb exact - 1");
    /* A gzip of zeros declares no size: stopped by counting alone. */
    zeros = mycalloc(1, n);
    {
        ENTRY   g[] = {{"zeros", zeros, n, NULL}};
        BUF     gz = make("raw", 1, NULL, NULL, g, 1);

        myfree(zeros);
        lim.max_bytes = 10 * 1024 * 1024;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        UT_EQ_INT(walk(gz.data, gz.len, "zeros.gz", &lim, r, why, "gz bomb"), ARCHIVE_UNCHECKED,
                  "gz bomb result");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        UT_EQ_STR(vbuf_str(why), "archive size limit exceeded", "gz bomb why");
        UT_CHECK(r->count == 1 && r->seen[0].size == -1 && strcmp(r->seen[0].name, "zeros") == 0,
                 "gz bomb: one member of unknown size, named from the part");
        UT_CHECK(secs < 5, "gz bomb: took %.2f s", secs);
        lim.max_bytes = (long long) n;
        UT_EQ_INT(walk(gz.data, gz.len, "zeros.gz", &lim, r, why, "gz bomb exact"), ARCHIVE_OK,
                  "gz bomb exact");
        myfree(gz.data);
    }
    /* Nested: the inner zip counts, then its members count again. */
    {
        ENTRY   o[] = {{"inner.zip", z.data, z.len, NULL}};

        outer = make("zip", 0, NULL, NULL, o, 1);
    }
    lim.max_bytes = 10 * 1024 * 1024;
    UT_EQ_INT(walk(outer.data, outer.len, "o.zip", &lim, r, why, "nested bomb"), ARCHIVE_UNCHECKED,
              "nested bomb");
    UT_EQ_STR(vbuf_str(why), "archive size limit exceeded (o.zip/inner.zip)", "nested bomb why");
    /* A budget smaller than the inner zip itself: stopped while reading it. */
    lim.max_bytes = (long long) z.len / 2;
    UT_EQ_INT(walk(outer.data, outer.len, "o.zip", &lim, r, why, "nested bomb small"),
              ARCHIVE_UNCHECKED, "nested bomb small");
    UT_EQ_STR(vbuf_str(why), "archive size limit exceeded", "nested bomb small why");
    myfree(outer.data);
    myfree(z.data);
}

/* test_depth - zip in zip in zip against max_depth */
static void test_depth(RECORD *r, VBUF *why)
{
    ENTRY   e3[] = {{"deep.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     z3 = make("zip", 0, NULL, NULL, e3, 1);
    ENTRY   e2[] = {{"l3.zip", z3.data, z3.len, NULL}};
    BUF     z2 = make("zip", 0, NULL, NULL, e2, 1);
    ENTRY   e1[] = {{"l2.zip", z2.data, z2.len, NULL}, {"sibling.txt", "s\n", 2, NULL}};
    BUF     z1 = make("zip", 0, NULL, NULL, e1, 2);
    ARCHIVE_LIMITS lim = big;
    const SEEN *s;

    lim.max_depth = 2;
    UT_EQ_INT(walk(z1.data, z1.len, "l1.zip", &lim, r, why, "depth 2"), ARCHIVE_UNCHECKED, "depth 2");
    UT_EQ_STR(vbuf_str(why), "archive nesting limit exceeded (l1.zip/l2.zip/l3.zip)", "depth why");
    UT_CHECK(find(r, "deep.exe") == NULL, "depth 2: deep.exe must not be listed");
    s = find(r, "l3.zip");
    UT_CHECK(s && s->depth == 2 && s->head != NULL, "depth 2: l3.zip given with its head");
    UT_CHECK(find(r, "sibling.txt") != NULL, "depth 2: the sibling after it still listed");
    lim.max_depth = 3;
    UT_EQ_INT(walk(z1.data, z1.len, "l1.zip", &lim, r, why, "depth 3"), ARCHIVE_OK, "depth 3");
    s = find(r, "deep.exe");
    UT_CHECK(s && s->depth == 3 && strcmp(s->container, "l1.zip/l2.zip/l3.zip") == 0,
             "depth 3: deep.exe at depth 3");
    lim.max_depth = 1;
    UT_EQ_INT(walk(z1.data, z1.len, "l1.zip", &lim, r, why, "depth 1"), ARCHIVE_UNCHECKED, "depth 1");
    UT_EQ_INT(r->count, 2, "depth 1: members of the part only");
    UT_EQ_STR(vbuf_str(why), "archive nesting limit exceeded (l1.zip/l2.zip)", "depth 1 why");
    myfree(z1.data);
    myfree(z2.data);
    myfree(z3.data);
}

/* test_stop - the callback ends the walk */
static void test_stop(RECORD *r, VBUF *why)
{
    ENTRY   e[] = {{"a.exe", exe, sizeof(exe) - 1, NULL}, {"b.txt", "b", 1, NULL}, {"c.txt", "c", 1, NULL}};
    BUF     z = make("zip", 0, NULL, NULL, e, 3);
    int     ret;

    forget(r);
    r->stop_after = 1;
    ret = archive_walk(z.data, z.len, -1, "s.zip", &big, record, r, why);
    UT_EQ_INT(ret, ARCHIVE_OK, "stop result");
    UT_EQ_INT(r->count, 1, "stop: one call only");
    myfree(z.data);
}

/* same_record - two records list the same members */
static void same_record(const RECORD *a, const RECORD *b, const char *label)
{
    int     i;
    int     same = (a->count == b->count);

    for (i = 0; same && i < a->count; i++) {
        const SEEN *x = a->seen + i, *y = b->seen + i;

        same = strcmp(x->name, y->name) == 0 && strcmp(x->container, y->container) == 0
            && x->depth == y->depth && x->size == y->size && x->kind == y->kind
            && x->encrypted == y->encrypted && x->headlen == y->headlen
            && (x->head == NULL) == (y->head == NULL)
            && (x->head == NULL || memcmp(x->head, y->head, x->headlen) == 0);
    }
    UT_CHECK(same, "%s: fd and memory differ (%d and %d members)", label, a->count, b->count);
}

/* test_fd - a part on disk gives what memory gives; offset untouched */
static void test_fd(RECORD *r, VBUF *why)
{
    ENTRY   in[] = {{"invoice.exe", exe, sizeof(exe) - 1, NULL}};
    BUF     inner = make("zip", 0, NULL, NULL, in, 1);
    ENTRY   e[] = {{"readme.txt", "hello\n", 6, NULL}, {"inner.zip", inner.data, inner.len, NULL},
                   {"dir/", NULL, 0, NULL}};
    BUF     parts[3];
    static RECORD mem;
    int     i, fd, ret1, ret2;
    off_t   pos;

    parts[0] = make("zip", 0, NULL, NULL, e, 3);
    parts[1] = make("tar", 1, NULL, NULL, e, 3);
    parts[2] = make("7z", 0, NULL, NULL, e, 3);
    for (i = 0; i < 3; i++) {
        ret1 = walk(parts[i].data, parts[i].len, "p", &big, &mem, why, "fd mem");
        fd = tmpfd(parts[i].data, parts[i].len);
        lseek(fd, 123, SEEK_SET);
        forget(r);
        ret2 = archive_walk(NULL, 0, fd, "p", &big, record, r, why);
        pos = lseek(fd, 0, SEEK_CUR);
        UT_EQ_INT(ret1, ARCHIVE_OK, "fd: memory result");
        UT_EQ_INT(ret2, ARCHIVE_OK, "fd: fd result");
        UT_EQ_INT(r->count, 4, "fd: members");
        same_record(&mem, r, i == 0 ? "zip" : i == 1 ? "tar.gz" : "7z");
        UT_EQ_INT(pos, 123, "fd: caller's offset unchanged");
        close(fd);
        myfree(parts[i].data);
    }
    forget(&mem);
    myfree(inner.data);
    /* A descriptor that cannot be read is unchecked, never clean. */
    fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    UT_EQ_INT(archive_walk(NULL, 0, fd, "d", &big, record, r, why), ARCHIVE_UNCHECKED, "unreadable fd");
    UT_CHECK(strncmp(vbuf_str(why), "cannot read the part: ", 22) == 0, "unreadable fd why: %s",
             vbuf_str(why));
    close(fd);
}

/* test_names - a long name reaches the callback whole; container and why
 * are bounded and printable */
static void test_names(RECORD *r, VBUF *why)
{
    char    longname[400];
    char    longzip[300];
    char    partname[] = "bad\001name\033[31m.zip";
    BUF     inner, outer;
    const SEEN *s;

    memset(longname, 'a', sizeof(longname));
    strcpy(longname + 300, ".pdf.exe");
    memset(longzip, 'z', sizeof(longzip));
    strcpy(longzip + 200, "\n.zip");
    {
        ENTRY   e[] = {{longname, exe, sizeof(exe) - 1, NULL}, {"x.bin", "x", 1, NULL}};

        inner = make("zip", 0, "zip:encryption=zipcrypt", "pw", e, 2);
    }
    {
        ENTRY   e[] = {{longzip, inner.data, inner.len, NULL}};

        outer = make("zip", 0, NULL, NULL, e, 1);
    }
    UT_EQ_INT(walk(outer.data, outer.len, partname, &big, r, why, "names"), ARCHIVE_UNCHECKED, "names result");
    s = find(r, longname);
    UT_CHECK(s != NULL, "names: the long name was not given whole");
    if (s) {
        size_t  i, clen = strlen(s->container);
        int     printable = 1;

        for (i = 0; i < clen; i++)
            if (s->container[i] < 0x20 || s->container[i] >= 0x7f)
                printable = 0;
        UT_CHECK(printable && clen <= 2 * (ARCHIVE_NAME_SHOW + 1), "names: container %s", s->container);
        UT_CHECK(clen > 4 && strcmp(s->container + clen - 4, ".zip") == 0, "names: container end kept");
        UT_CHECK(strncmp(s->container, "bad?name?[31m.zip/...", 21) == 0, "names: container %s",
                 s->container);
    }
    UT_CHECK(strncmp(vbuf_str(why), "encrypted archive member (bad?name", 34) == 0, "names why: %s",
             vbuf_str(why));
    /* A UTF-8 name reaches the callback as its bytes. */
    {
        ENTRY   e[] = {{"caf\303\251.exe", exe, sizeof(exe) - 1, NULL}};
        BUF     z = make("zip", 0, NULL, NULL, e, 1);

        UT_EQ_INT(walk(z.data, z.len, "caf\303\251.zip", &big, r, why, "utf-8"), ARCHIVE_OK, "utf-8 result");
        UT_CHECK(r->count == 1 && strcmp(r->seen[0].name, "caf\303\251.exe") == 0, "utf-8 name: %s",
                 r->count ? r->seen[0].name : "-");
        UT_CHECK(r->count == 1 && strcmp(r->seen[0].container, "caf??.zip") == 0, "utf-8 container: %s",
                 r->count ? r->seen[0].container : "-");
        myfree(z.data);
    }
    myfree(inner.data);
    myfree(outer.data);
}

/* now_us - a monotonic clock in microseconds */
static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3);
}

/* count - a callback that only counts */
static int count(const ARCHIVE_MEMBER *m, void *context)
{
    (void) m;
    ++*(int *) context;
    return (0);
}

/* bench - time archive_walk on a text part, zips of 100 and 5000 members,
 * and on 51 MB of zeros and 32 MB of words */
static void bench(void)
{
    char    text[4096];
    ENTRY   e[100];
    char    names[100][32];
    unsigned char *content = mymalloc(1024 * 1024);
    uint32_t x = 99;
    VBUF   *why = vbuf_alloc(1024);
    BUF     z;
    double  t0, t;
    int     i, n, fd, runs;

    for (i = 0; i < (int) sizeof(text); i++)
        text[i] = (i % 64 == 63) ? '\n' : "Dear customer, please find the invoice attached. "[i % 49];
    for (i = 0; i < 1024 * 1024; i++) {
        x = x * 1103515245u + 12345u;
        content[i] = (unsigned char) (x >> 16);     /* does not compress */
    }
    for (i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "dir/file%03d.dat", i);
        e[i] = (ENTRY) {names[i], content + i * 10485, 10485, NULL};
    }
    z = make("zip", 0, NULL, NULL, e, 100);
    fd = tmpfd(text, sizeof(text));

    runs = 2000;
    t0 = now_us();
    for (i = 0; i < runs; i++)
        (void) archive_walk((unsigned char *) text, sizeof(text), -1, "a.txt", NULL, count, &n, why);
    t = (now_us() - t0) / runs;
    printf("bench: 4 KB text in memory: %.1f us per walk\n", t);
    t0 = now_us();
    for (i = 0; i < runs; i++)
        (void) archive_walk(NULL, 0, fd, "a.txt", NULL, count, &n, why);
    t = (now_us() - t0) / runs;
    printf("bench: 4 KB text from fd: %.1f us per walk\n", t);
    close(fd);
    fd = tmpfd(z.data, z.len);
    runs = 50;
    n = 0;
    t0 = now_us();
    for (i = 0; i < runs; i++)
        (void) archive_walk(z.data, z.len, -1, "z.zip", NULL, count, &n, why);
    t = (now_us() - t0) / runs;
    printf("bench: %zu-byte zip, 100 members, memory: %.0f us per walk (%d members)\n",
           z.len, t, n / runs);
    t0 = now_us();
    for (i = 0; i < runs; i++)
        (void) archive_walk(NULL, 0, fd, "z.zip", NULL, count, &n, why);
    t = (now_us() - t0) / runs;
    printf("bench: %zu-byte zip, 100 members, fd: %.0f us per walk\n", z.len, t);
    close(fd);
    myfree(z.data);
    /* The cost of one member: 5000 members of 10 bytes. */
    {
        ENTRY  *many = mymalloc(5000 * sizeof(ENTRY));
        char   *manynames = mymalloc(5000 * 32);

        for (i = 0; i < 5000; i++) {
            snprintf(manynames + 32 * i, 32, "m%04d.txt", i);
            many[i] = (ENTRY) {manynames + 32 * i, content + i, 10, NULL};
        }
        z = make("zip", 0, NULL, NULL, many, 5000);
        runs = 5;
        n = 0;
        t0 = now_us();
        for (i = 0; i < runs; i++)
            (void) archive_walk(z.data, z.len, -1, "m.zip", NULL, count, &n, why);
        t = (now_us() - t0) / runs;
        printf("bench: %zu-byte zip, 5000 members of 10 bytes: %.0f us per walk, %.1f us per member\n",
               z.len, t, t / 5000);
        myfree(z.data);
        myfree(many);
        myfree(manynames);
    }
    /* Decompression speed: 50 MB of zeros and 8 MB of noise, listed whole. */
    {
        size_t  big_len = 50 * 1024 * 1024;
        unsigned char *zeros = mycalloc(1, big_len);
        ENTRY   b[] = {{"zeros.bin", zeros, big_len, NULL}, {"noise.bin", content, 1024 * 1024, NULL}};

        z = make("zip", 0, NULL, NULL, b, 2);
        myfree(zeros);
        n = 0;
        t0 = now_us();
        i = archive_walk(z.data, z.len, -1, "b.zip", NULL, count, &n, why);
        t = now_us() - t0;
        printf("bench: %zu-byte zip of 51 MB: %.0f ms per walk (result %d)\n", z.len, t / 1000, i);
        myfree(z.data);
    }
    /* Decompression speed on text-like data: 32 MB of random words. */
    {
        static const char *const words[] = {"invoice ", "payment ", "the ", "of ", "and ",
            "customer ", "attached ", "please ", "order ", "2024 ", "total ", "EUR ", "\n"};
        size_t  text_len = 32 * 1024 * 1024, pos = 0;
        char   *words_text = mymalloc(text_len);
        ENTRY   b[1];

        while (pos < text_len) {
            const char *wd;
            size_t  wl;

            x = x * 1103515245u + 12345u;
            wd = words[(x >> 16) % 13];
            wl = strlen(wd);
            if (wl > text_len - pos)
                wl = text_len - pos;
            memcpy(words_text + pos, wd, wl);
            pos += wl;
        }
        b[0] = (ENTRY) {"words.txt", words_text, text_len, NULL};
        z = make("zip", 0, NULL, NULL, b, 1);
        myfree(words_text);
        t0 = now_us();
        i = archive_walk(z.data, z.len, -1, "w.zip", NULL, count, &n, why);
        t = now_us() - t0;
        printf("bench: %zu-byte zip of 32 MB of words: %.0f ms per walk, %.0f MB/s (result %d)\n",
               z.len, t / 1000, 32.0 / (t / 1e6), i);
        myfree(z.data);
    }
    myfree(content);
    vbuf_free(why);
}

int     main(int argc, char **argv)
{
    static RECORD r;
    VBUF   *why = vbuf_alloc(4096);

    UT_BEGIN("test_scan_archive");
    msg_init("test_scan_archive", MSG_STDERR);
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return (0);
    }
    test_zip_exe(&r, why);
    test_nested(&r, why);
    test_big_nested(&r, why);
    test_targz(&r, why);
    test_7z(&r, why);
    test_formats(&r, why);
    test_not_archive(&r, why);
    test_exe(&r, why);
    test_zeros(&r, why);
    test_gzip_single(&r, why);
    test_corrupt(&r, why);
    test_encrypted(&r, why);
    test_zip_command(&r, why);
    test_members(&r, why);
    test_bomb(&r, why);
    test_depth(&r, why);
    test_stop(&r, why);
    test_fd(&r, why);
    test_names(&r, why);
    forget(&r);
    vbuf_free(why);
    return (ut_done());
}
