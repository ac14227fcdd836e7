/*
 * fuzz_archive - archive member listing on arbitrary bytes (scan/archive.c)
 *
 * Input: byte 0 picks the limits (bits 0-1 max_depth 1..4, bits 2-3
 * max_members 2, 10, 100 or 1000, bits 4-5 max_bytes 64, 4096, 64 KB or
 * 1 MB, bit 6 whether the part has a name), the rest is a decoded part.
 * archive_walk() lists it twice: from memory and from a file (the two ways
 * inspect.c calls it), with libarchive's zip, 7z, rar, tar, cpio, cab,
 * lha, ar, xar, iso9660 readers and every compression filter.
 *
 * Checks: the result is ARCHIVE_NONE, ARCHIVE_OK or ARCHIVE_UNCHECKED;
 * the reason is empty unless unchecked, and then one printable line of
 * bounded length; every member has a name, a depth within max_depth, a
 * kind from the table, at most ARCHIVE_SNIFF_MAX first bytes (none when
 * encrypted), a printable container chain; no more members than
 * max_members; and both readings give the same result, reason and list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scan/archive.h"
#include "lib/vbuf.h"
#include "tests/fuzz/fuzz.h"

#define WHY_MAX 1024            /* "a few hundred bytes at most" */

static VBUF *list_mem, *list_fd, *why_mem, *why_fd;

typedef struct WALK {
    VBUF   *list;               /* one line per member */
    const ARCHIVE_LIMITS *limits;
    long    members;
} WALK;

/* archive_free - at exit */
static void archive_free(void)
{
    vbuf_free(list_mem);
    vbuf_free(list_fd);
    vbuf_free(why_mem);
    vbuf_free(why_fd);
}

/* LLVMFuzzerInitialize - once per process */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup("archive");
    list_mem = vbuf_alloc(0);
    list_fd = vbuf_alloc(0);
    why_mem = vbuf_alloc(4096);
    why_fd = vbuf_alloc(4096);
    fuzz_at_exit(archive_free);
    return 0;
}

/* printable - bytes 0x20..0x7e only */
static int printable(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* fnv - a hash of the first bytes, for the comparison of the two lists */
static unsigned long fnv(const unsigned char *p, size_t len)
{
    unsigned long h = 2166136261ul;

    while (len-- > 0)
        h = (h ^ *p++) * 16777619ul;
    return h;
}

/* record - archive_walk callback: check one member, note it */
static int record(const ARCHIVE_MEMBER *m, void *context)
{
    WALK   *w = context;

    if (m->name == NULL || m->container == NULL)
        fuzz_fail("member without a name or container");
    if (m->depth < 1 || m->depth > w->limits->max_depth)
        fuzz_fail("member depth %d, max_depth %d", m->depth, w->limits->max_depth);
    if (m->kind < ARCHIVE_MEMBER_FILE || m->kind > ARCHIVE_MEMBER_OTHER)
        fuzz_fail("member kind %d", m->kind);
    if (m->headlen > ARCHIVE_SNIFF_MAX || (m->head == NULL && m->headlen != 0))
        fuzz_fail("member head of %zu bytes", m->headlen);
    if (m->encrypted && m->head != NULL)
        fuzz_fail("encrypted member with content");
    if (m->kind != ARCHIVE_MEMBER_FILE && m->head != NULL)
        fuzz_fail("member of kind %d with content", m->kind);
    if (!printable(m->container, strlen(m->container)))
        fuzz_fail("container chain not printable");
    if (++w->members > w->limits->max_members)
        fuzz_fail("%ld members, max_members %ld", w->members, w->limits->max_members);
    vbuf_sprintf_append(w->list, "%d %d %d %lld %zu %lx [", m->depth, m->kind, m->encrypted,
                        m->size, m->headlen, m->head ? fnv(m->head, m->headlen) : 0ul);
    vbuf_append(w->list, m->name, strlen(m->name));
    vbuf_sprintf_append(w->list, "] in [%s]\n", m->container);
    return 0;
}

/* walk - one listing; its result, checked */
static int walk(const unsigned char *data, size_t size, int fd, const char *name,
                const ARCHIVE_LIMITS *limits, VBUF *list, VBUF *why)
{
    WALK    w = {list, limits, 0};
    int     rc;

    vbuf_reset(list);
    vbuf_strcpy(why, "left over");             /* archive_walk empties it */
    rc = archive_walk(data, size, fd, name, limits, record, &w, why);
    if (rc != ARCHIVE_NONE && rc != ARCHIVE_OK && rc != ARCHIVE_UNCHECKED)
        fuzz_fail("archive_walk returned %d", rc);
    if ((rc == ARCHIVE_UNCHECKED) != (vbuf_len(why) > 0))
        fuzz_fail("result %d with reason \"%s\"", rc, vbuf_str(why));
    if (vbuf_len(why) > WHY_MAX || !printable(vbuf_str(why), vbuf_len(why)))
        fuzz_fail("reason of %zu bytes, not one printable line", vbuf_len(why));
    if (rc == ARCHIVE_NONE && vbuf_len(list) > 0)
        fuzz_fail("not an archive, yet members were listed");
    return rc;
}

/* LLVMFuzzerTestOneInput - list from memory and from a file, compare */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long members[] = {2, 10, 100, 1000};
    static const long long bytes[] = {64, 4096, 65536, 1024 * 1024};
    ARCHIVE_LIMITS limits;
    const char *name;
    int     fd, rc_mem, rc_fd;

    if (size < 1)
        return 0;
    limits.max_depth = (data[0] & 3) + 1;
    limits.max_members = members[(data[0] >> 2) & 3];
    limits.max_bytes = bytes[(data[0] >> 4) & 3];
    name = (data[0] & 0x40) ? "attachment.zip" : NULL;
    data++;
    size--;

    rc_mem = walk(data, size, -1, name, &limits, list_mem, why_mem);
    fd = fuzz_memfd(data, size);
    rc_fd = walk(NULL, 0, fd, name, &limits, list_fd, why_fd);
    if (lseek(fd, 0, SEEK_CUR) != 0)
        fuzz_fail("archive_walk moved the file offset");
    close(fd);
    if (fuzz_verbose() > 1)
        fprintf(stderr, "archive: %d \"%s\"\n%s", rc_mem, vbuf_str(why_mem), vbuf_str(list_mem));
    if (!fuzz_known("archive-fd-differs")
        && (rc_mem != rc_fd || strcmp(vbuf_str(list_mem), vbuf_str(list_fd)) != 0
            || strcmp(vbuf_str(why_mem), vbuf_str(why_fd)) != 0))
        fuzz_fail("memory and file readings differ: %d \"%s\" vs %d \"%s\"\n%s---\n%s", rc_mem,
                  vbuf_str(why_mem), rc_fd, vbuf_str(why_fd), vbuf_str(list_mem),
                  vbuf_str(list_fd));
    return 0;
}
