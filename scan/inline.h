/*
 * inline - files carried inside text: uuencode, yEnc and BinHex 4.0
 *
 * Mail clients show a uuencoded block in a text body ("begin 644
 * name" ... "end") as an attachment, and news readers do the same for
 * yEnc ("=ybegin ... name=" ... "=yend") and BinHex 4.0 ("(This file must
 * be converted with BinHex 4.0)" then ":...:"). inline_scan() finds such
 * blocks in decoded text, decodes each one into memory (or a spool file
 * when it is big) and hands it over with its name, so that it gets what a
 * MIME attachment gets: true type, banned rules, archive listing and the
 * malware scan. A block that is cut short or garbled is decoded as far as
 * it goes and marked truncated with the reason; the caller decides what
 * that means (postsift: unchecked, unless something worse is found in
 * what was decoded). Work is linear in the text; the number of files and
 * the decoded size of each are bounded.
 */
#ifndef POSTSIFT_INLINE_H
#define POSTSIFT_INLINE_H

#include <stddef.h>

#include "lib/vbuf.h"

#define INLINE_MEM_MAX  (1024 * 1024)   /* bigger files go to a spool file */

typedef enum INLINE_KIND {
    INLINE_UUENCODE,
    INLINE_BASE64,              /* "begin-base64 644 name" ... "====" */
    INLINE_YENC,
    INLINE_BINHEX,
} INLINE_KIND;

extern const char *const inline_kind_names[];  /* "uuencoded", ... */

typedef struct INLINE_FILE {
    INLINE_KIND kind;
    int     index;              /* 1, 2, ... in the text */
    const char *name;           /* as the text gives it, "" if none */
    const unsigned char *data;  /* decoded bytes in memory, or NULL */
    size_t  size;               /* decoded size */
    int     fd;                 /* decoded bytes in a file (offset 0), or -1 */
    const char *problem;        /* why it is incomplete ("no end line", "garbled
                                 * line", "size mismatch", ...), or NULL */
} INLINE_FILE;

typedef struct INLINE_LIMITS {
    long    max_files;          /* files handed over; more are counted only */
    long long max_bytes;        /* decoded bytes of one file; beyond: cut short */
} INLINE_LIMITS;

/* INLINE_FN - look at one file; non-zero stops the scan */
typedef int (*INLINE_FN) (const INLINE_FILE *file, void *context);

/* inline_scan - the text is data[0..size) (data != NULL) or fd from
 * offset 0 (pread: the offset is left alone). Returns how many files were
 * found (more than max_files when some were not handed over), or -1 with
 * why in err when a spool file or the text could not be read or written */
long inline_scan(const unsigned char *data, size_t size, int fd, const char *spool_dir,
                 const INLINE_LIMITS *limits, INLINE_FN fn, void *context, VBUF *err);

#endif
