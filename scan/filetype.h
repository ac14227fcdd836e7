/*
 * filetype - the true type of decoded bytes, from libmagic
 *
 * One libmagic handle per process (or thread), opened once with the
 * system's magic database, asked for MIME types only ("application/pdf").
 * Work is bounded: at most FILETYPE_BYTES_MAX bytes are looked at, and
 * libmagic never decompresses (MAGIC_NO_CHECK_COMPRESS: no helper
 * processes; gzip or zip data is still recognised as such). When libmagic
 * fails on one input the type is "application/octet-stream" and a warning
 * is logged; failing to load the database is a broken environment.
 *
 * A few formats whose telling structure is not at the start are
 * recognised here as well, with a bounded number of small reads (see
 * filetype.c): Windows Installer packages and patches by the class of
 * their root storage, wherever the directory lies ("application/x-msi"),
 * Apple UDIF images and fixed VHDs by their 512-byte trailer
 * ("application/x-apple-diskimage", "application/x-virtualbox-vhd"), and
 * VHDX images, which libmagic names without a MIME type
 * ("application/x-virtualbox-vhdx").
 *
 * Plain text with no marker of a script, markup or program may skip
 * libmagic (filetype_text_fast): it is text/plain, as libmagic would say,
 * at a fraction of the cost.
 */
#ifndef POSTSIFT_FILETYPE_H
#define POSTSIFT_FILETYPE_H

#include <stddef.h>

#include "lib/vbuf.h"

#define FILETYPE_BYTES_MAX  (1024 * 1024)   /* bytes libmagic looks at */
#define FILETYPE_UNKNOWN    "application/octet-stream"

typedef struct FILETYPE FILETYPE;

/* filetype_open - load the magic database; NULL with why in err */
FILETYPE *filetype_open(VBUF *err);

/* filetype_buffer - MIME type of bytes in memory (libmagic looks at the
 * first FILETYPE_BYTES_MAX; the trailer checks at the real end); the
 * string belongs to ft and is valid until the next call */
const char *filetype_buffer(FILETYPE *ft, const void *buf, size_t len);

/* filetype_fd - the same for a file, read from offset 0 with pread, so
 * the descriptor's offset is left alone */
const char *filetype_fd(FILETYPE *ft, int fd);

/* filetype_text_fast - let plain text without a marker of a script
 * skip libmagic (text/plain), unless banned_types (a banned_types value)
 * bans a type libmagic could give such text; off until called */
void filetype_text_fast(FILETYPE *ft, const char *banned_types);

void filetype_close(FILETYPE *ft);

#endif
