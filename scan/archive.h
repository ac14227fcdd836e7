/*
 * archive - the names and true types of the members of an archive
 *
 * A decoded MIME part (or an inline payload) may be an archive: zip, 7z,
 * rar, tar, cpio, cab, lha, ar, xar, iso9660, possibly compressed (gzip,
 * bzip2, xz, lzma, zstd). libarchive lists its members; each member's
 * name and first bytes (for libmagic) go to a callback, so the banned
 * rules see what is inside. A member that is itself an archive is listed
 * too, to a bounded depth. Malware scanning of members is not done here:
 * libclamav unpacks archives itself.
 *
 * What cannot be listed completely (a corrupt or truncated archive, an
 * encrypted member whose content cannot be typed, a limit exceeded) is
 * reported as unchecked with the reason; it is never clean.
 *
 * Formats listed: zip, 7zip, rar, rar5, tar (ustar, pax, GNU), cpio, cab,
 * lha, ar, xar, iso9660, each possibly inside gzip, bzip2, xz, lzma, lzip,
 * zstd or compress. A compressed stream that holds no archive (a plain
 * invoice.exe.gz) is listed as one member, named from the gzip header or
 * from the part's name without the compression suffix (libarchive's raw
 * format, used only behind a compression filter). Formats that match
 * ordinary text (mtree, warc, empty) are never enabled, and a stream that
 * is neither an archive nor compressed (text, PDF) is ARCHIVE_NONE.
 *
 * Everything is bounded: members and decompressed bytes are counted over
 * the whole tree, nested archives are read whole into memory within
 * max_bytes, and the walk recurses at most max_depth levels.
 *
 * The file that includes <archive.h> (libarchive) must include it before
 * this header and #undef ARCHIVE_OK in between: the names clash (only
 * scan/archive.c does).
 */
#ifndef POSTSIFT_ARCHIVE_H
#define POSTSIFT_ARCHIVE_H

#include <stddef.h>

#include "lib/vbuf.h"

#define ARCHIVE_SNIFF_MAX  (64 * 1024)  /* first bytes of a member given for typing */
#define ARCHIVE_DEPTH_LIMIT 32          /* a larger max_depth is taken as this */
#define ARCHIVE_NAME_SHOW  64           /* bytes of one name in container and why */

/* Recommended defaults for the settings archive_max_depth,
 * archive_max_members and archive_max_bytes (also used when limits is NULL). */
#define ARCHIVE_DEF_MAX_DEPTH    5
#define ARCHIVE_DEF_MAX_MEMBERS  10000
#define ARCHIVE_DEF_MAX_BYTES    (100LL * 1024 * 1024)

/* What a member is; only regular files have content. */
#define ARCHIVE_MEMBER_FILE   0         /* regular file (a hard link has size 0) */
#define ARCHIVE_MEMBER_DIR    1         /* directory: name only */
#define ARCHIVE_MEMBER_LINK   2         /* symbolic link: name only */
#define ARCHIVE_MEMBER_OTHER  3         /* device, fifo, socket: name only */

typedef struct ARCHIVE_MEMBER {
    const char *name;           /* path as stored in the archive (UTF-8 or raw bytes),
                                 * whole, never NULL (may be empty) */
    const char *container;      /* printable chain of archive names, for details,
                                 * e.g. "outer.zip/inner.zip" (the part's name first,
                                 * when it has one; each name at most
                                 * ARCHIVE_NAME_SHOW bytes, its end kept) */
    int     depth;              /* 1: member of the part itself; 2: of a nested archive */
    const unsigned char *head;  /* first bytes of the member's content (at most
                                 * ARCHIVE_SNIFF_MAX), or NULL when it could not be
                                 * read (encrypted, error, limit) or for a member
                                 * that is not a regular file */
    size_t  headlen;
    long long size;             /* content size when known, else -1 */
    int     encrypted;          /* content encrypted: head is NULL */
    int     kind;               /* ARCHIVE_MEMBER_FILE etc. */
} ARCHIVE_MEMBER;

/* All pointers in an ARCHIVE_MEMBER are valid during the callback only. */

/* ARCHIVE_FN - look at one member; non-zero stops the walk */
typedef int (*ARCHIVE_FN) (const ARCHIVE_MEMBER *member, void *context);

typedef struct ARCHIVE_LIMITS {
    int     max_depth;          /* nesting levels listed (1: no nested archives) */
    long    max_members;        /* members listed in all, nested ones included */
    long long max_bytes;        /* content bytes decompressed in all (nested archives
                                 * are read whole into memory within this bound) */
} ARCHIVE_LIMITS;

#define ARCHIVE_NONE        0   /* not an archive format we list */
#define ARCHIVE_OK          1   /* every member listed */
#define ARCHIVE_UNCHECKED   2   /* listed in part: why in the reason buffer */
#define ARCHIVE_ERROR       3   /* not listed, our failure (libarchive cannot
                                 * be loaded): why in the reason buffer */

/* archive_walk - list the archive in data[0..size) (data != NULL) or in
 * fd from offset 0 (data == NULL; the offset is not used or changed);
 * name is the part's file name for details (may be NULL); limits NULL
 * means the ARCHIVE_DEF_* values. Returns ARCHIVE_NONE, ARCHIVE_OK, or
 * ARCHIVE_UNCHECKED with the first reason in why (printable ASCII, a few
 * hundred bytes at most): "encrypted archive member", "corrupt archive:
 * ERROR", "encrypted archive: ERROR" (names encrypted too), "archive
 * member limit exceeded", "archive size limit exceeded", "archive nesting
 * limit exceeded", "cannot read the part: ERROR"; the chain of a nested
 * archive follows the reason in parentheses. why is emptied first. Stops
 * early, with ARCHIVE_OK, when the callback returns non-zero.
 * ARCHIVE_ERROR, with why ("libarchive: cannot load ..."), when the part
 * may be an archive but libarchive cannot be opened (scan/arclib.c): the
 * caller must not pass the message unlisted (a temporary failure). A
 * part in memory that is plain text never loads libarchive. */
int archive_walk(const unsigned char *data, size_t size, int fd, const char *name,
                 const ARCHIVE_LIMITS *limits, ARCHIVE_FN fn, void *context, VBUF *why);

#endif
