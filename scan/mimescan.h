/*
 * mimescan - a cheap pass over a spooled message before GMime parses it
 *
 * GMime builds every entity and every header of a message in memory, and
 * checks each line that starts with "--" against every open boundary: a
 * message of tiny parts, of header fields, of parameters or of addresses
 * costs it a hundred times its size in memory, and deep nesting costs it
 * time. mimescan_bound() reads the file once, line by line, and finds the
 * first line where a limit would be passed: the (max_parts+1)-th line
 * that may start an entity, the header field where the count of header
 * fields, parameters and addresses passes max_headers, a Content-Type or
 * Content-Disposition header over MIMESCAN_FIELD_MAX, too many boundary
 * declarations, or too much boundary matching work. GMime then gets the
 * file only up to that line. The count is a superset of what GMime will
 * build: every boundary of every Content-Type header anywhere in the file
 * is known (GMime's own parameter parser and mimename's, so no encoding
 * trick hides one), and every place where GMime may read headers counts.
 *
 * mimescan_sweep() reads Content-Type and Content-Disposition headers
 * from an offset to the end without any MIME parser and hands over every
 * file name they carry: for what lies beyond the cut, or for every reading
 * of an ambiguous message.
 */
#ifndef POSTSIFT_MIMESCAN_H
#define POSTSIFT_MIMESCAN_H

#include <sys/types.h>

#include "scan/mimename.h"
#include "lib/vbuf.h"

#define MIMESCAN_FIELD_MAX  (1024 * 1024)  /* longest Content-Type/-Disposition kept */

typedef struct MIMESCAN_LIMITS {
    long    max_parts;          /* entities GMime may see */
    long    max_headers;        /* header items: fields, words, parameters, addresses */
} MIMESCAN_LIMITS;

typedef struct MIMESCAN_RESULT {
    off_t   size;               /* file size */
    off_t   cut;                /* GMime reads [0, cut); cut == size: all */
    VBUF   *why;                /* the limit that set the cut, "" if none */
    long    starts;             /* lines that may start an entity, before the cut */
    long    items;              /* header items counted before the cut */
    int     nul;                /* NUL bytes seen before the cut */
    long    lines;              /* lines in the whole file */
    long    dash_lines;         /* of them, lines that start with "--" */
} MIMESCAN_RESULT;

void mimescan_result_init(MIMESCAN_RESULT *res);
void mimescan_result_free(MIMESCAN_RESULT *res);

/* mimescan_bound - read fd (pread; the offset is left alone) and find the
 * cut; 0, or -1 with why in err on a read error */
int mimescan_bound(int fd, const MIMESCAN_LIMITS *limits, MIMESCAN_RESULT *res, VBUF *err);

/* mimescan_sweep - from offset from to the end, call fn for every filename
 * and name parameter of what may be a Content-Type or Content-Disposition
 * header, with the header's offset; a header over MIMESCAN_FIELD_MAX is
 * read in part and noted in note. 0, or -1 with why in err */
typedef void (*MIMESCAN_NAME_FN) (off_t offset, const char *value, size_t len, void *context);
int mimescan_sweep(int fd, off_t from, MIMESCAN_NAME_FN fn, void *context, VBUF *note, VBUF *err);

#endif
