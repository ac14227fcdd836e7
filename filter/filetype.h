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

/* filetype_buffer - MIME type of bytes in memory (only the first
 * FILETYPE_BYTES_MAX are looked at); the string belongs to ft and is valid
 * until the next call */
const char *filetype_buffer(FILETYPE *ft, const void *buf, size_t len);

/* filetype_fd - the same for a file, read from offset 0 with pread, so
 * the descriptor's offset is left alone */
const char *filetype_fd(FILETYPE *ft, int fd);

void filetype_close(FILETYPE *ft);

#endif
