/*
 * fuzz_inline - files carried inside text (scan/inline.c): uuencode,
 * begin-base64, yEnc and BinHex 4.0
 *
 * Input: byte 0 picks the limits (bits 0-2 max_files 1..8, bits 3-4
 * max_bytes 16, 4096, just over INLINE_MEM_MAX or 8 MB, so that BinHex's
 * run-length coding can reach the spool file), the rest is a decoded text
 * part. inline_scan() runs twice: on the text in memory and on the text
 * in a file (read in pieces, so that a line can straddle two reads).
 *
 * Checks: files are numbered 1, 2, ... and no more than max_files are
 * handed over; each has a kind from the table, a name, its bytes either
 * in memory or in a file of exactly its size at offset 0, never more than
 * max_bytes (a file cut there says why); the return value counts every
 * block found; and both readings give the same files, bytes and problems.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/inline.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

static VBUF *list_mem, *list_fd, *err;
static char spool[4096];

typedef struct SEEN {
    VBUF   *list;               /* one line per file */
    const INLINE_LIMITS *limits;
    int     files;
} SEEN;

/* inline_free - at exit */
static void inline_free(void)
{
    vbuf_free(list_mem);
    vbuf_free(list_fd);
    vbuf_free(err);
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("inline");
    fuzz_path(spool, sizeof(spool), "spool");
    list_mem = vbuf_alloc(0);
    list_fd = vbuf_alloc(0);
    err = vbuf_alloc(4096);
    fuzz_at_exit(inline_free);
    return 0;
}

/* fnv_add - hash more bytes */
static unsigned long fnv_add(unsigned long h, const unsigned char *p, size_t len)
{
    while (len-- > 0)
        h = (h ^ *p++) * 16777619ul;
    return h;
}

/* file_hash - the hash of the bytes of a spooled file; checks its size */
static unsigned long file_hash(int fd, size_t size)
{
    unsigned char buf[65536];
    unsigned long h = 2166136261ul;
    size_t  total = 0;
    ssize_t n;
    struct stat st;

    if (fstat(fd, &st) < 0 || (size_t)st.st_size != size)
        fuzz_fail("spooled inline file of %lld bytes, said %zu", (long long)st.st_size, size);
    if (lseek(fd, 0, SEEK_CUR) != 0)
        fuzz_fail("spooled inline file not at offset 0");
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        h = fnv_add(h, buf, (size_t)n);
        total += (size_t)n;
    }
    if (n < 0 || total != size)
        fuzz_fail("spooled inline file: read %zu of %zu bytes", total, size);
    return h;
}

/* record - inline_scan callback: check one file, note it */
static int record(const INLINE_FILE *f, void *context)
{
    SEEN   *s = context;
    unsigned long h;

    if (f->kind < INLINE_UUENCODE || f->kind > INLINE_BINHEX)
        fuzz_fail("inline kind %d", (int)f->kind);
    if (f->index != ++s->files || s->files > s->limits->max_files)
        fuzz_fail("inline file %d handed over as number %d (max_files %ld)", s->files,
                  f->index, s->limits->max_files);
    if (f->name == NULL)
        fuzz_fail("inline file without a name");
    if ((f->data == NULL) == (f->fd < 0))
        fuzz_fail("inline file both or neither in memory and in a file");
    if ((long long)f->size > s->limits->max_bytes)
        fuzz_fail("inline file of %zu bytes, max_bytes %lld", f->size, s->limits->max_bytes);
    if (f->data == NULL && f->size <= INLINE_MEM_MAX)
        fuzz_fail("inline file of %zu bytes spooled", f->size);
    h = f->data ? fnv_add(2166136261ul, f->data, f->size) : file_hash(f->fd, f->size);
    vbuf_sprintf_append(s->list, "%d %zu %lx [%s] [", (int)f->kind, f->size, h,
                        f->problem ? f->problem : "");
    vbuf_append(s->list, f->name, strlen(f->name));
    vbuf_strcat(s->list, "]\n");
    return 0;
}

/* scan - one reading; the number of blocks found, checked */
static long scan(const unsigned char *data, size_t size, int fd, const INLINE_LIMITS *limits,
                 VBUF *list)
{
    SEEN    s = {list, limits, 0};
    long    found;

    vbuf_reset(list);
    found = inline_scan(data, size, fd, spool, limits, record, &s, err);
    if (found < 0)
        fuzz_fail("inline_scan failed: %s", vbuf_str(err));
    if (vbuf_len(err) > 0)
        fuzz_fail("inline_scan succeeded with an error: %s", vbuf_str(err));
    if (found < s.files || (found > s.files && s.files != limits->max_files))
        fuzz_fail("inline_scan found %ld, handed over %d (max_files %ld)", found, s.files,
                  limits->max_files);
    return found;
}

/* LLVMFuzzerTestOneInput - scan from memory and from a file, compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long bytes[] = {16, 4096, INLINE_MEM_MAX + 65536, 8 * 1024 * 1024};
    INLINE_LIMITS limits;
    long    found_mem, found_fd;
    int     fd;

    if (size < 1)
        return 0;
    limits.max_files = (data[0] & 7) + 1;
    limits.max_bytes = bytes[(data[0] >> 3) & 3];
    data++;
    size--;

    found_mem = scan(data, size, -1, &limits, list_mem);
    fd = fuzz_memfd(data, size);
    found_fd = scan(NULL, 0, fd, &limits, list_fd);
    if (lseek(fd, 0, SEEK_CUR) != 0)
        fuzz_fail("inline_scan moved the file offset");
    close(fd);
    fuzz_empty_dir(spool);
    if (fuzz_verbose() > 1)
        fprintf(stderr, "inline: %ld\n%s", found_mem, vbuf_str(list_mem));
    if (found_mem != found_fd || strcmp(vbuf_str(list_mem), vbuf_str(list_fd)) != 0)
        fuzz_fail("memory and file readings differ: %ld vs %ld\n%s---\n%s", found_mem, found_fd,
                  vbuf_str(list_mem), vbuf_str(list_fd));
    return 0;
}
