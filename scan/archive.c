/*
 * archive - archive members through libarchive (see archive.h)
 *
 * One libarchive reader per archive level. The part is read from memory
 * or from its descriptor with pread (our own offset, so the caller's is
 * never moved), with a seek callback so that the zip reader can use the
 * central directory. Each regular member is read through: its first
 * ARCHIVE_SNIFF_MAX bytes go to the callback, the rest is decompressed and
 * thrown away, so CRCs are checked and every decompressed byte is counted.
 * Whether a member is itself an archive is libarchive's own bidding on
 * those first bytes; such a member is read whole into memory and listed
 * one level deeper (recursion depth is bounded by max_depth).
 *
 * libarchive's "raw" format is enabled, but only to list a compressed
 * stream that holds no archive: raw over no compression filter (text, a
 * PDF) is ARCHIVE_NONE before any content is read. A compressed stream
 * that starts with zero blocks is an empty tar to libarchive; it is
 * listed again as one compressed file, so nothing can hide behind them.
 *
 * Programs (MZ, ELF) get bids from the self-extractor scans of the rar,
 * 7z, cab and lha readers when an archive signature appears anywhere in
 * them; a program in which not even a first member can be read is
 * ARCHIVE_NONE, not a corrupt archive.
 *
 * Compression filters are enabled only when libarchive decodes them
 * itself: a filter that would run an external program (libarchive built
 * without zlib, say) is left out, found out once per process (workers
 * are processes, not threads).
 *
 * libarchive itself is opened (scan/arclib.c) only when a part may be an
 * archive: most parts are text, and a process that never meets an archive
 * never loads it nor its own dependencies. archive_maybe() tells text
 * that no reader or filter we enable could bid on: every format and
 * compression we list needs a control byte somewhere (a magic number, a
 * binary length or level, NUL padding), except the few whose headers can
 * be plain ASCII: tar (an octal checksum at byte 148), cpio ("0707"), ar
 * ("!<"), bzip2 ("BZh") and zstd ("(\265/\375"); those are looked for
 * as loosely as possible. A part on disk is not read twice: it is given
 * to libarchive. When libarchive cannot be loaded, the part is
 * ARCHIVE_ERROR: the message is never passed unlisted for it.
 */
#include "scan/arclib.h"               /* <archive.h> and <archive_entry.h> */

/* libarchive's status codes under names of ours: scan/archive.h gives
 * ARCHIVE_OK another meaning (see there). */
enum {
    LA_OK = ARCHIVE_OK,
    LA_EOF = ARCHIVE_EOF,
    LA_WARN = ARCHIVE_WARN,
    LA_FATAL = ARCHIVE_FATAL,
};

#undef ARCHIVE_OK

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan/archive.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/printable.h"

#define ARCHIVE_BLOCK     (64 * 1024)   /* pread size for a part on disk */
#define ARCHIVE_ERR_SHOW  120           /* bytes of a libarchive error in why */

/* Text from an archive or from libarchive, appended as printable ASCII:
 * a name cut to max bytes keeps "..." and its end, an error its start. */
#define ARCHIVE_SHOW_NAME(out, s, max) \
    printable_append((out), (s), strlen(s), (max) - 3, PRINTABLE_ASCII | PRINTABLE_KEEP_END)
#define ARCHIVE_SHOW_TEXT(out, s, max) \
    printable_append((out), (s), strlen(s), (max), PRINTABLE_ASCII)

/* The compression filters we use, probed once: 1 built in, 0 not usable. */
typedef struct ARCHIVE_FILTER {
    const char *name;
    int     (**enable) (struct archive *);  /* in the table of arclib */
    int     usable;
} ARCHIVE_FILTER;

static ARCHIVE_FILTER archive_filters[] = {
    {"gzip", &arclib.archive_read_support_filter_gzip, -1},
    {"bzip2", &arclib.archive_read_support_filter_bzip2, -1},
    {"xz", &arclib.archive_read_support_filter_xz, -1},
    {"lzma", &arclib.archive_read_support_filter_lzma, -1},
    {"lzip", &arclib.archive_read_support_filter_lzip, -1},
    {"zstd", &arclib.archive_read_support_filter_zstd, -1},
    {"compress", &arclib.archive_read_support_filter_compress, -1},
};

#define ARCHIVE_NFILTERS (sizeof(archive_filters) / sizeof(archive_filters[0]))

/* Suffixes of a compressed single file, for the name of its one member. */
static const char *const archive_suffixes[] = {
    ".gz", ".bz2", ".xz", ".lzma", ".lz", ".zst", ".z",        /* any case */
};

/* A part read from a descriptor. */
typedef struct ARCHIVE_FDSRC {
    int     fd;
    off_t   size;               /* from fstat at the start */
    off_t   pos;                /* our offset; the descriptor's is not used */
    int     error;              /* errno of a failed read, else 0 */
    unsigned char *buf;         /* ARCHIVE_BLOCK */
} ARCHIVE_FDSRC;

/* One walk over a part and everything nested in it. */
typedef struct ARCHIVE_WALK {
    ARCHIVE_LIMITS limits;      /* checked copy */
    ARCHIVE_FN fn;
    void   *context;
    VBUF   *why;                /* first reason for unchecked */
    VBUF   *chain;              /* printable container chain */
    long    members;            /* listed so far, whole tree */
    long long bytes;            /* decompressed so far, whole tree */
    int     unchecked;          /* something could not be listed */
    int     stop;               /* end the walk at every level */
    int     stopped;            /* ... because the callback asked */
    unsigned char *scratch;     /* ARCHIVE_SNIFF_MAX, for content we drop */
} ARCHIVE_WALK;

#define ARCHIVE_LIST_RAW    (-1) /* archive_list: try again with raw_only */
#define ARCHIVE_START       4   /* first bytes of a part, for archive_is_exe */

/* archive_data results */
#define ARCHIVE_DATA_MORE   0   /* buffer full, content may go on */
#define ARCHIVE_DATA_END    1   /* end of the member's content */
#define ARCHIVE_DATA_ERROR  2   /* libarchive could not read it */
#define ARCHIVE_DATA_LIMIT  3   /* max_bytes passed */

/* archive_filters_probe - which filters libarchive decodes in-process */
static void archive_filters_probe(void)
{
    struct archive *a;
    size_t  i;

    if (archive_filters[0].usable >= 0)
        return;
    for (i = 0; i < ARCHIVE_NFILTERS; i++) {
        if ((a = arclib.archive_read_new()) == NULL)
            msg_fatal("libarchive: cannot allocate a reader");
        archive_filters[i].usable = ((*archive_filters[i].enable) (a) == LA_OK);
        if (!archive_filters[i].usable)
            msg_warn("libarchive cannot decode %s itself; %s-compressed archives are not listed",
                     archive_filters[i].name, archive_filters[i].name);
        arclib.archive_read_free(a);
    }
}

/* archive_reader - a reader for the formats and filters we list; with
 * raw_only, for the filters and the raw format alone */
static struct archive *archive_reader(int raw_only)
{
    struct archive *a;
    size_t  i;

    archive_filters_probe();
    if ((a = arclib.archive_read_new()) == NULL)
        msg_fatal("libarchive: cannot allocate a reader");
    for (i = 0; i < ARCHIVE_NFILTERS; i++)
        if (archive_filters[i].usable)
            (void) (*archive_filters[i].enable) (a);
    if (raw_only) {
        (void) arclib.archive_read_support_format_raw(a);
        return (a);
    }
    /* A format libarchive lacks (xar without an XML library) just fails. */
    (void) arclib.archive_read_support_format_zip(a);  /* streamable and seekable */
    (void) arclib.archive_read_support_format_7zip(a);
    (void) arclib.archive_read_support_format_rar(a);
    (void) arclib.archive_read_support_format_rar5(a);
    (void) arclib.archive_read_support_format_tar(a);  /* ustar, pax, GNU */
    (void) arclib.archive_read_support_format_cpio(a);
    (void) arclib.archive_read_support_format_cab(a);
    (void) arclib.archive_read_support_format_lha(a);
    (void) arclib.archive_read_support_format_ar(a);
    (void) arclib.archive_read_support_format_xar(a);
    (void) arclib.archive_read_support_format_iso9660(a);
    (void) arclib.archive_read_support_format_raw(a);  /* see the top of this file */
    return (a);
}

/* archive_fd_read - the next block of the part, with pread */
static la_ssize_t archive_fd_read(struct archive *a, void *ctx, const void **buf)
{
    ARCHIVE_FDSRC *src = ctx;
    ssize_t n;

    do {
        n = pread(src->fd, src->buf, ARCHIVE_BLOCK, src->pos);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        src->error = errno;
        arclib.archive_set_error(a, errno, "read: %s", strerror(errno));
        return (-1);
    }
    src->pos += n;
    *buf = src->buf;
    return (n);
}

/* archive_fd_seek - move our offset within the part */
static la_int64_t archive_fd_seek(struct archive *a, void *ctx, la_int64_t offset, int whence)
{
    ARCHIVE_FDSRC *src = ctx;
    la_int64_t base;

    (void) a;
    switch (whence) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = src->pos;
        break;
    case SEEK_END:
        base = src->size;
        break;
    default:
        return (LA_FATAL);
    }
    if (offset < -base || offset > src->size - base)
        return (LA_FATAL);
    src->pos = (off_t) (base + offset);
    return (src->pos);
}

/* archive_fd_skip - skip forward, not past the end */
static la_int64_t archive_fd_skip(struct archive *a, void *ctx, la_int64_t request)
{
    ARCHIVE_FDSRC *src = ctx;
    la_int64_t avail = src->size - src->pos;

    (void) a;
    if (request > avail)
        request = avail;
    if (request < 0)
        request = 0;
    src->pos += (off_t) request;
    return (request);
}

/* archive_open - a reader on data[0..size), or when data is NULL on the
 * part behind src from its start; libarchive's status of the opening */
static int archive_open(struct archive **ap, const unsigned char *data, size_t size,
                        ARCHIVE_FDSRC *src, int raw_only)
{
    struct archive *a = *ap = archive_reader(raw_only);

    if (data != NULL)
        return (arclib.archive_read_open_memory(a, data, size));
    src->pos = 0;
    src->error = 0;
    arclib.archive_read_set_read_callback(a, archive_fd_read);
    arclib.archive_read_set_seek_callback(a, archive_fd_seek);
    arclib.archive_read_set_skip_callback(a, archive_fd_skip);
    arclib.archive_read_set_callback_data(a, src);
    return (arclib.archive_read_open1(a));
}

/*
 * archive_open_failed - what a failed opening means. libarchive 3.6 leaves
 * no filter at all when a compression filter bid and then could not decode
 * (ARCHIVE_UNCHECKED), only "none" when nothing bid (ARCHIVE_NONE), and the
 * filter and "none" when the stream decoded to nothing, since the raw
 * format bids on a single byte (ARCHIVE_OK: nothing to list).
 */
static int archive_open_failed(struct archive *a)
{
    int     count = arclib.archive_filter_count(a);

    return (count == 1 ? ARCHIVE_NONE : count == 0 ? ARCHIVE_UNCHECKED : ARCHIVE_OK);
}

/* archive_unchecked - note why the walk is incomplete; the first reason
 * stays. err is libarchive's error text, or NULL */
static void archive_unchecked(ARCHIVE_WALK *w, int depth, const char *reason,
                              const char *err)
{
    if (w->unchecked++)
        return;
    vbuf_strcpy(w->why, reason);
    if (depth > 1) {
        vbuf_strcat(w->why, " (");
        ARCHIVE_SHOW_NAME(w->why, vbuf_str(w->chain), 3 * ARCHIVE_NAME_SHOW);
        vbuf_strcat(w->why, ")");
    }
    if (err) {
        vbuf_strcat(w->why, ": ");
        ARCHIVE_SHOW_TEXT(w->why, *err ? err : "unknown error", ARCHIVE_ERR_SHOW);
    }
}

/* archive_error - libarchive's last error on a, never NULL */
static const char *archive_error(struct archive *a)
{
    const char *err = arclib.archive_error_string(a);

    return (err ? err : "unknown error");
}

/* archive_data - read the current member's content into buf[0..len),
 * counting every byte against max_bytes; *got is what was read */
static int archive_data(ARCHIVE_WALK *w, struct archive *a, unsigned char *buf,
                        size_t len, size_t *got)
{
    la_ssize_t n;
    long long room;
    size_t  want;

    *got = 0;
    while (*got < len) {
        /* Ask for one byte past the budget, to tell "exactly" from "over". */
        room = w->limits.max_bytes - w->bytes + 1;
        want = len - *got;
        if (room < (long long) want)
            want = (size_t) room;
        n = arclib.archive_read_data(a, buf + *got, want);
        if (n < 0)
            return (ARCHIVE_DATA_ERROR);
        if (n == 0)
            return (ARCHIVE_DATA_END);
        *got += (size_t) n;
        w->bytes += n;
        if (w->bytes > w->limits.max_bytes)
            return (ARCHIVE_DATA_LIMIT);
    }
    return (ARCHIVE_DATA_MORE);
}

/* archive_drain - read and drop the rest of the current member */
static int archive_drain(ARCHIVE_WALK *w, struct archive *a)
{
    size_t  got;
    int     status;

    while ((status = archive_data(w, a, w->scratch, ARCHIVE_SNIFF_MAX, &got)) == ARCHIVE_DATA_MORE)
         /* void */ ;
    return (status);
}

/* archive_is_exe - do these bytes start an executable (Windows or ELF):
 * libarchive bids on them when it finds an archive signature inside */
static int archive_is_exe(const unsigned char *p, size_t len)
{
    return ((len >= 2 && p[0] == 'M' && p[1] == 'Z')
            || (len >= 4 && memcmp(p, "\177ELF", 4) == 0));
}

/* archive_is_archive - does libarchive bid on these first bytes of a
 * member: a format other than raw, or any compression */
static int archive_is_archive(const unsigned char *head, size_t len)
{
    struct archive *a;
    struct archive_entry *entry;
    int     status;
    int     yes;

    if (len == 0)
        return (0);
    a = archive_reader(0);
    if (arclib.archive_read_open_memory(a, head, len) < LA_WARN) {
        /* Compressed data cut short may fail already here. */
        yes = archive_open_failed(a) == ARCHIVE_UNCHECKED;
    } else if ((status = arclib.archive_read_next_header(a, &entry)) == LA_EOF) {
        /* Nothing in it (tar bids on zero blocks): nothing to list, unless
         * compressed (see archive_list). */
        yes = arclib.archive_filter_count(a) > 1;
    } else if (status < LA_WARN) {
        /* A format bid (raw never fails): its header may lie past the head. */
        yes = !archive_is_exe(head, len);
    } else {
        yes = arclib.archive_format(a) != ARCHIVE_FORMAT_RAW || arclib.archive_filter_count(a) > 1;
    }
    arclib.archive_read_free(a);
    return (yes);
}

/* archive_raw_name - the name of the one member of a compressed single
 * file: the gzip header's, else the source's without its suffix */
static const char *archive_raw_name(const char *given, const char *source, VBUF *buf)
{
    size_t  slen, xlen;
    size_t  i;

    if (given && *given && strcmp(given, "data") != 0)
        return (given);
    if (source == NULL || *source == 0)
        return (given ? given : "");
    slen = strlen(source);
    for (i = 0; i < sizeof(archive_suffixes) / sizeof(archive_suffixes[0]); i++) {
        xlen = strlen(archive_suffixes[i]);
        if (slen > xlen && strcasecmp(source + slen - xlen, archive_suffixes[i]) == 0) {
            vbuf_reset(buf);
            vbuf_append(buf, source, slen - xlen);
            return (vbuf_str(buf));
        }
    }
    return (source);
}

/* archive_chain_push - add a nested archive's name to the container
 * chain; returns the length to go back to */
static size_t archive_chain_push(ARCHIVE_WALK *w, const char *name)
{
    size_t  mark = vbuf_len(w->chain);

    if (mark > 0)
        vbuf_addch(w->chain, '/');
    ARCHIVE_SHOW_NAME(w->chain, name, ARCHIVE_NAME_SHOW);
    return (mark);
}

static int archive_list(ARCHIVE_WALK *, struct archive *, int, const char *, int);

#define ARCHIVE_EOCD_WINDOW (22 + 65535)   /* end record plus the longest comment */

/* archive_zip_tail_ok - does a zip end with an end-of-central-directory
 * record? libarchive falls back to reading local headers one after the
 * other when it finds none, and then lists happily what a zip tool, which
 * reads the central directory, refuses or reads otherwise. data (size
 * bytes) or the descriptor of src */
static int archive_zip_tail_ok(const unsigned char *data, size_t size, ARCHIVE_FDSRC *src)
{
    unsigned char *tail = NULL;
    const unsigned char *p;
    size_t  len;
    ssize_t n;
    int     found = 0;

    if (data == NULL) {
        len = src->size < ARCHIVE_EOCD_WINDOW ? (size_t) src->size : ARCHIVE_EOCD_WINDOW;
        tail = mymalloc(len ? len : 1);
        do {
            n = pread(src->fd, tail, len, src->size - (off_t) len);
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t) len) {
            myfree(tail);
            return (0);
        }
        data = tail;
    } else {
        len = size < ARCHIVE_EOCD_WINDOW ? size : ARCHIVE_EOCD_WINDOW;
        data += size - len;
    }
    for (p = data + len; !found && p >= data + 22; p--)
        found = memcmp(p - 22, "PK\005\006", 4) == 0;
    myfree(tail);
    return (found);
}

/* archive_zip_check - after a zip was listed: unchecked when it has no
 * end-of-central-directory record */
static void archive_zip_check(ARCHIVE_WALK *w, struct archive *a, int depth,
                              const unsigned char *data, size_t size, ARCHIVE_FDSRC *src)
{
    /* Under a compression filter the bytes at hand are not the zip's. */
    if (w->stop == 0 && (arclib.archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP
        && arclib.archive_filter_count(a) <= 1 && !archive_zip_tail_ok(data, size, src))
        archive_unchecked(w, depth, "corrupt archive", "zip without a central directory");
}

/* archive_nested - read the rest of a member that is an archive (unless
 * head holds all of it) into memory and list it one level deeper; 0, or
 * -1 when the current level cannot go on (its own data failed) */
static int archive_nested(ARCHIVE_WALK *w, struct archive *a, int depth, const char *name,
                          const unsigned char *head, size_t headlen, int complete)
{
    unsigned char *buf;
    size_t  len = headlen;
    size_t  cap = complete ? headlen : headlen * 2;
    size_t  got;
    size_t  mark;
    int     status = complete ? ARCHIVE_DATA_END : ARCHIVE_DATA_MORE;
    struct archive *child;

    buf = mymalloc(cap);
    memcpy(buf, head, headlen);
    while (status == ARCHIVE_DATA_MORE) {
        if (len == cap) {
            /* Never more than the budget allows, plus the byte that tells. */
            long long room = w->limits.max_bytes - w->bytes + 1;

            cap = (room < (long long) cap) ? cap + (size_t) room : cap * 2;
            buf = myrealloc(buf, cap);
        }
        status = archive_data(w, a, buf + len, cap - len, &got);
        len += got;
    }
    if (status == ARCHIVE_DATA_ERROR) {
        archive_unchecked(w, depth, "corrupt archive", archive_error(a));
        myfree(buf);
        return (-1);
    }
    if (status == ARCHIVE_DATA_LIMIT) {
        archive_unchecked(w, depth, "archive size limit exceeded", NULL);
        w->stop = 1;
        myfree(buf);
        return (0);
    }
    mark = archive_chain_push(w, name);
    if (archive_open(&child, buf, len, NULL, 0) < LA_WARN) {
        /* It bid on its head; whole, it may still turn out not to be one. */
        if (archive_open_failed(child) == ARCHIVE_UNCHECKED)
            archive_unchecked(w, depth + 1, "corrupt archive", archive_error(child));
    } else if ((status = archive_list(w, child, depth + 1, name, archive_is_exe(buf, len)))
               == ARCHIVE_LIST_RAW) {
        arclib.archive_read_free(child);
        if (archive_open(&child, buf, len, NULL, 1) < LA_WARN) {
            if (archive_open_failed(child) == ARCHIVE_UNCHECKED)
                archive_unchecked(w, depth + 1, "corrupt archive", archive_error(child));
        }
        else
            (void) archive_list(w, child, depth + 1, name, 0);
    } else if (status == ARCHIVE_OK) {
        archive_zip_check(w, child, depth + 1, buf, len, NULL);
    }
    arclib.archive_read_free(child);
    vbuf_truncate(w->chain, mark);
    myfree(buf);
    return (0);
}

/* archive_next - the next member's header into *entry: 1, or 0 at the
 * end of this level (an error noted as unchecked, *result set when the
 * level is to be read otherwise; see archive_list) */
static int archive_next(ARCHIVE_WALK *w, struct archive *a, int depth, int first, int exe,
                        struct archive_entry **entry, int *result)
{
    int     status;

    *entry = NULL;
    status = arclib.archive_read_next_header(a, entry);
    if (status == LA_EOF) {
        /* Zero blocks are an empty tar to libarchive; when compressed,
         * hiding the rest of the stream behind them is too easy. */
        if (first && arclib.archive_format(a) != ARCHIVE_FORMAT_RAW && arclib.archive_filter_count(a) > 1)
            *result = ARCHIVE_LIST_RAW;
        return (0);
    }
    if (status >= LA_WARN)
        return (1);
    if (first && exe) {
        /* An archive signature inside a program, no archive. */
        *result = ARCHIVE_NONE;
    } else if ((*entry && arclib.archive_entry_is_metadata_encrypted(*entry))
               || strstr(archive_error(a), "ncrypt") != 0) {
        /* Names encrypted too (rar -hp, 7z -mhe): only the wording
         * differs, so libarchive's text may decide it. */
        archive_unchecked(w, depth, "encrypted archive", archive_error(a));
    } else {
        archive_unchecked(w, depth, "corrupt archive", archive_error(a));
    }
    return (0);
}

/* archive_member_kind - what a member is */
static int archive_member_kind(struct archive_entry *entry)
{
    switch (arclib.archive_entry_filetype(entry)) {
    case AE_IFDIR:
        return (ARCHIVE_MEMBER_DIR);
    case AE_IFLNK:
        return (ARCHIVE_MEMBER_LINK);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
    case AE_IFSOCK:
        return (ARCHIVE_MEMBER_OTHER);
    default:
        return (ARCHIVE_MEMBER_FILE);
    }
}

/* archive_member_file - a regular member: its first bytes to the
 * callback, then into it when it is an archive, else to its end (CRCs
 * checked, bytes counted); 0, or -1 when this level cannot go on */
static int archive_member_file(ARCHIVE_WALK *w, struct archive *a, int depth,
                               ARCHIVE_MEMBER *member, unsigned char *head)
{
    size_t  headlen, mark;
    int     status, nested;

    status = archive_data(w, a, head, ARCHIVE_SNIFF_MAX, &headlen);
    if (headlen > 0 || status != ARCHIVE_DATA_ERROR)
        member->head = head;
    member->headlen = headlen;
    if (status == ARCHIVE_DATA_END)
        member->size = (long long) headlen;
    nested = (status == ARCHIVE_DATA_END || status == ARCHIVE_DATA_MORE)
        && archive_is_archive(head, headlen);
    if (w->fn(member, w->context) != 0) {
        w->stop = w->stopped = 1;
        return (-1);
    }
    if (status == ARCHIVE_DATA_MORE && member->size > (long long) headlen
        && member->size - (long long) headlen > w->limits.max_bytes - w->bytes)
        status = ARCHIVE_DATA_LIMIT;    /* no need to find out the slow way */
    if (nested && depth < w->limits.max_depth
        && (status == ARCHIVE_DATA_MORE || status == ARCHIVE_DATA_END))
        return (archive_nested(w, a, depth, member->name, head, headlen,
                               status == ARCHIVE_DATA_END));
    if (nested && depth >= w->limits.max_depth) {
        mark = archive_chain_push(w, member->name);
        archive_unchecked(w, depth + 1, "archive nesting limit exceeded", NULL);
        vbuf_truncate(w->chain, mark);
    }
    if (status == ARCHIVE_DATA_MORE)
        status = archive_drain(w, a);
    if (status == ARCHIVE_DATA_ERROR) {
        archive_unchecked(w, depth, "corrupt archive", archive_error(a));
        return (-1);
    }
    if (status == ARCHIVE_DATA_LIMIT) {
        archive_unchecked(w, depth, "archive size limit exceeded", NULL);
        w->stop = 1;
        return (-1);
    }
    return (0);
}

/* archive_member - one member of any kind: to the callback, with its
 * content when it has some; 0, or -1 when this level cannot go on */
static int archive_member(ARCHIVE_WALK *w, struct archive *a, int depth,
                          struct archive_entry *entry, const char *name, unsigned char *head)
{
    ARCHIVE_MEMBER member;

    memset(&member, 0, sizeof(member));
    member.name = name ? name : "";
    member.container = vbuf_str(w->chain);
    member.depth = depth;
    member.size = arclib.archive_entry_size_is_set(entry) ? (long long) arclib.archive_entry_size(entry) : -1;
    member.kind = archive_member_kind(entry);
    if (member.kind != ARCHIVE_MEMBER_FILE) {
        member.size = -1;
        if (w->fn(&member, w->context) != 0)
            w->stop = w->stopped = 1;
        return (0);
    }
    if (arclib.archive_entry_is_encrypted(entry)) {
        /* Name only; libarchive skips the content on the next header. */
        member.encrypted = 1;
        if (w->fn(&member, w->context) != 0) {
            w->stop = w->stopped = 1;
            return (-1);
        }
        archive_unchecked(w, depth, "encrypted archive member", NULL);
        return (0);
    }
    return (archive_member_file(w, a, depth, &member, head));
}

/* archive_list - list every member of an opened reader at this depth;
 * ARCHIVE_NONE when it is neither an archive nor compressed, or is an
 * executable in which no archive could be read (exe: it starts like one);
 * ARCHIVE_LIST_RAW when a compressed stream held an empty archive, to be
 * listed again as one compressed file */
static int archive_list(ARCHIVE_WALK *w, struct archive *a, int depth, const char *source,
                        int exe)
{
    struct archive_entry *entry;
    unsigned char *head;
    VBUF   *rawname = NULL;
    const char *name;
    int     first = 1;
    int     result = ARCHIVE_OK;

    head = mymalloc(ARCHIVE_SNIFF_MAX);
    while (w->stop == 0 && archive_next(w, a, depth, first, exe, &entry, &result)) {
        name = arclib.archive_entry_pathname(entry);
        if (name == NULL)
            name = arclib.archive_entry_pathname_utf8(entry);
        if (arclib.archive_format(a) == ARCHIVE_FORMAT_RAW) {
            if (first && arclib.archive_filter_count(a) <= 1) {
                result = ARCHIVE_NONE;
                break;
            }
            if (rawname == NULL)
                rawname = vbuf_alloc(VBUF_DEFAULT_CAP);
            name = archive_raw_name(name, source, rawname);
        }
        first = 0;
        if (++w->members > w->limits.max_members) {
            archive_unchecked(w, depth, "archive member limit exceeded", NULL);
            w->stop = 1;
            break;
        }
        if (archive_member(w, a, depth, entry, name, head) < 0)
            break;
    }
    myfree(head);
    if (rawname)
        vbuf_free(rawname);
    return (result);
}

/* archive_walk_init - the walk's state, limits checked */
static void archive_walk_init(ARCHIVE_WALK *w, const ARCHIVE_LIMITS *limits, ARCHIVE_FN fn,
                              void *context, VBUF *why)
{
    static const ARCHIVE_LIMITS defaults = {
        ARCHIVE_DEF_MAX_DEPTH, ARCHIVE_DEF_MAX_MEMBERS, ARCHIVE_DEF_MAX_BYTES,
    };

    memset(w, 0, sizeof(*w));
    w->limits = limits ? *limits : defaults;
    if (w->limits.max_depth < 1)
        w->limits.max_depth = 1;
    if (w->limits.max_depth > ARCHIVE_DEPTH_LIMIT)
        w->limits.max_depth = ARCHIVE_DEPTH_LIMIT;
    if (w->limits.max_members < 0)
        w->limits.max_members = 0;
    if (w->limits.max_bytes < 0)
        w->limits.max_bytes = 0;
    w->fn = fn;
    w->context = context;
    w->why = why;
}

/* archive_walk_source - the part's first bytes into start (their number
 * in *startlen), and src set up when it is read from fd; -1 with why */
static int archive_walk_source(const unsigned char *data, size_t size, int fd,
                               ARCHIVE_FDSRC *src, unsigned char *start, size_t *startlen,
                               VBUF *why)
{
    struct stat st;
    ssize_t n;

    memset(src, 0, sizeof(*src));
    if (data != NULL) {
        *startlen = size < ARCHIVE_START ? size : ARCHIVE_START;
        memcpy(start, data, *startlen);
        return (0);
    }
    if (fd < 0)
        msg_panic("archive_walk: neither data nor a descriptor");
    if (fstat(fd, &st) < 0) {
        vbuf_sprintf(why, "cannot read the part: fstat: %s", strerror(errno));
        return (-1);
    }
    src->fd = fd;
    src->size = st.st_size;
    src->buf = mymalloc(ARCHIVE_BLOCK);
    do {
        n = pread(fd, start, ARCHIVE_START, 0);
    } while (n < 0 && errno == EINTR);
    *startlen = n > 0 ? (size_t) n : 0;
    return (0);
}

#define ARCHIVE_TAR_SUM     148  /* offset of a tar header's checksum field */
#define ARCHIVE_TAR_BLOCK   512

/* archive_text_byte - a byte that text has and no binary header needs */
static int archive_text_byte(unsigned char c)
{
    return (c >= 0x20 || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
            || c == 0x1b);              /* ESC: ISO-2022-JP mail */
}

/* archive_tar_sum_maybe - could data start a tar header: its checksum
 * field holds octal digits and spaces only (a header must check out, and
 * no digits reads as 0, which a block of text never sums to) */
static int archive_tar_sum_maybe(const unsigned char *data, size_t size)
{
    const unsigned char *p;
    int     digits = 0;

    if (size < ARCHIVE_TAR_BLOCK)
        return (0);
    for (p = data + ARCHIVE_TAR_SUM; p < data + ARCHIVE_TAR_SUM + 8; p++) {
        if (*p >= '0' && *p <= '7')
            digits++;
        else if (*p != ' ')
            return (0);
    }
    return (digits > 0);
}

/* archive_maybe - might libarchive bid on data[0..size) (see the top of
 * this file); 1 when in doubt */
static int archive_maybe(const unsigned char *data, size_t size)
{
    static const struct {
        const char *text;
        size_t  len;
    }       ascii[] = {
        {"0707", 4}, {"!<", 2}, {"BZh", 3}, {"(\265/\375", 4},
    };
    size_t  i;

    for (i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
        if (size >= ascii[i].len && memcmp(data, ascii[i].text, ascii[i].len) == 0)
            return (1);
    if (archive_tar_sum_maybe(data, size))
        return (1);
    for (i = 0; i < size; i++)
        if (!archive_text_byte(data[i]))
            return (1);
    return (0);
}

/* archive_walk_error - why the part could not be read, in why */
static void archive_walk_error(VBUF *why, int error)
{
    vbuf_strcpy(why, "cannot read the part: ");
    ARCHIVE_SHOW_TEXT(why, strerror(error), ARCHIVE_ERR_SHOW);
}

/* archive_walk - list an archive's members, nested ones too */
int     archive_walk(const unsigned char *data, size_t size, int fd, const char *name,
                     const ARCHIVE_LIMITS *limits, ARCHIVE_FN fn, void *context, VBUF *why)
{
    ARCHIVE_WALK w;
    ARCHIVE_FDSRC src;
    struct archive *a;
    unsigned char start[ARCHIVE_START];
    size_t  startlen = 0;
    int     result;

    vbuf_reset(why);
    if (data != NULL && !archive_maybe(data, size))
        return (ARCHIVE_NONE);
    if (arclib_load(why) < 0)
        return (ARCHIVE_ERROR);
    archive_walk_init(&w, limits, fn, context, why);
    if (archive_walk_source(data, size, fd, &src, start, &startlen, why) < 0)
        return (ARCHIVE_UNCHECKED);
    if (archive_open(&a, data, size, &src, 0) < LA_WARN) {
        if (src.error) {
            archive_walk_error(why, src.error);
            result = ARCHIVE_UNCHECKED;
        } else if ((result = archive_open_failed(a)) == ARCHIVE_UNCHECKED) {
            vbuf_strcpy(why, "corrupt archive: ");
            ARCHIVE_SHOW_TEXT(why, archive_error(a), ARCHIVE_ERR_SHOW);
        }
        arclib.archive_read_free(a);
        myfree(src.buf);
        return (result);
    }

    w.chain = vbuf_alloc(VBUF_DEFAULT_CAP);
    if (name)
        ARCHIVE_SHOW_NAME(w.chain, name, ARCHIVE_NAME_SHOW);
    w.scratch = mymalloc(ARCHIVE_SNIFF_MAX);
    result = archive_list(&w, a, 1, name, archive_is_exe(start, startlen));
    if (result == ARCHIVE_OK)
        archive_zip_check(&w, a, 1, data, size, &src);
    if (result == ARCHIVE_LIST_RAW) {
        arclib.archive_read_free(a);
        if (archive_open(&a, data, size, &src, 1) < LA_WARN) {
            if (archive_open_failed(a) == ARCHIVE_UNCHECKED)
                archive_unchecked(&w, 1, "corrupt archive", archive_error(a));
        } else
            result = archive_list(&w, a, 1, name, 0);
    }
    arclib.archive_read_free(a);
    if (src.error && w.stopped == 0) {
        /* A read error of ours looks like a corrupt archive to libarchive. */
        w.unchecked = 1;
        archive_walk_error(why, src.error);
    }
    myfree(src.buf);
    myfree(w.scratch);
    vbuf_free(w.chain);
    if (result == ARCHIVE_NONE || w.stopped || w.unchecked == 0) {
        vbuf_reset(why);
        return (result == ARCHIVE_NONE ? ARCHIVE_NONE : ARCHIVE_OK);
    }
    return (ARCHIVE_UNCHECKED);
}
