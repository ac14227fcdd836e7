/*
 * mimewalk - the MIME structure of a spooled message, one leaf at a time
 *
 * GMime parses the message from its file (a persistent stream: part
 * contents stay on disk), and every leaf part, nested message/rfc822 parts
 * included, is decoded (base64, quoted-printable, uuencode) into memory
 * when it is small, or into a spool file when it is not, and handed to a
 * callback. The walk also reports what makes the structure untrustworthy:
 * parser warnings that mean another reader may see other parts
 * (conflicting boundaries, headers or parameters, nesting overflow), file
 * name parameters repeated with different values, exceeded limits, and
 * encrypted or fragmented content. Input GMime cannot read as a message at
 * all is handed to the callback as one part: the raw file.
 */
#ifndef POSTSIFT_MIMEWALK_H
#define POSTSIFT_MIMEWALK_H

#include <stddef.h>

#include "lib/vbuf.h"

#define MIMEWALK_MEM_MAX  (1024 * 1024)  /* parts at least this big go to disk */

typedef struct MIMEWALK_PART {
    const char *path;           /* IMAP-style: "1", "2.1", ... */
    int         depth;          /* components in path */
    const char *filename;       /* GMime's decoded file name, "" if none */
    const char *const *names;   /* every decoded filename and name parameter
                                 * of the part's raw headers */
    int         nnames;
    const char *declared;       /* declared type, e.g. "application/pdf" */
    const unsigned char *data;  /* decoded bytes in memory, or NULL */
    size_t      size;           /* decoded size */
    int         fd;             /* decoded bytes in a file (from offset 0), or -1 */
} MIMEWALK_PART;

typedef struct MIMEWALK_INFO {
    int     not_mime;           /* not a message: one part, the raw file */
    VBUF   *ambiguous;          /* why the structure is ambiguous, "" if not */
    VBUF   *limit;              /* which limit was exceeded, "" if none */
    VBUF   *unreadable;         /* encrypted or fragmented content, "" if none */
    int     nparts;             /* leaf parts handed to the callback */
} MIMEWALK_INFO;

/* MIMEWALK_FN - look at one leaf; non-zero stops the walk */
typedef int (*MIMEWALK_FN) (const MIMEWALK_PART *part, void *context);

/* mimewalk_init - GMime, once per process */
void mimewalk_init(void);

void mimewalk_info_init(MIMEWALK_INFO *info);
void mimewalk_info_free(MIMEWALK_INFO *info);

/* mimewalk - walk the message in fd (from offset 0; the offset is restored)
 * with at most max_parts MIME entities and max_depth nesting levels;
 * decoded big parts go to spool files in spool_dir. 0 when the walk
 * finished (or the callback stopped it); -1 with why in err when a part
 * could not be decoded or spooled */
int mimewalk(int fd, const char *spool_dir, long max_parts, long max_depth,
             MIMEWALK_FN fn, void *context, MIMEWALK_INFO *info, VBUF *err);

#endif
