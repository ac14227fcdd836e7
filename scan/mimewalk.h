/*
 * mimewalk - the MIME structure of a spooled message, one piece at a time
 *
 * A cheap pass (mimescan) first finds where the message passes the MIME
 * limits; GMime then parses the file only up to there (a persistent
 * stream: part contents stay on disk), so its memory and time stay
 * linear in the limits, not in what an attacker sends. Every leaf part,
 * nested message/rfc822 parts included, is decoded (base64,
 * quoted-printable, uuencode) into memory when it is small, or into a
 * spool file when it is not, and handed to a callback; so is the text
 * before the first and after the last boundary of every multipart
 * (preamble and epilogue). Parts deeper than max_depth still come, marked
 * for the cheap checks only; parts GMime read beyond max_parts come with
 * their file names only, and so do the file names of the raw headers in
 * the rest of the file (and, when the structure is ambiguous, in all of
 * it). The walk also reports what makes the structure untrustworthy:
 * parser warnings that mean another reader may see other parts
 * (conflicting boundaries, headers or parameters, nesting overflow, a
 * boundary GMime found inside a line), file name parameters repeated with
 * different values, exceeded limits, and encrypted or fragmented content.
 * Input GMime cannot read as a message at all is handed to the callback as
 * one part: the raw file.
 */
#ifndef POSTSIFT_MIMEWALK_H
#define POSTSIFT_MIMEWALK_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/vbuf.h"

#define MIMEWALK_MEM_MAX    (1024 * 1024)   /* parts at least this big go to disk */
#define MIMEWALK_NAMES_SANE 32              /* more file names on one part are a finding */

typedef enum MIMEWALK_KIND {
    MIMEWALK_LEAF,              /* a leaf part, decoded */
    MIMEWALK_PREAMBLE,          /* text before a multipart's first boundary */
    MIMEWALK_EPILOGUE,          /* text after a multipart's last boundary */
    MIMEWALK_NAMES,             /* file names only: a part beyond the part limit,
                                 * or raw headers (path NULL) */
} MIMEWALK_KIND;

typedef struct MIMEWALK_PART {
    MIMEWALK_KIND kind;
    const char *path;           /* IMAP-style: "1", "2.1", ...; "" for the
                                 * message's own multipart; NULL: raw headers */
    int         depth;          /* components in path */
    int         cheap;          /* deeper than max_depth: names, type, banned
                                 * rules and archives, no malware scan */
    off_t       offset;         /* raw headers: where the header is */
    const char *filename;       /* GMime's decoded file name, "" if none */
    const char *const *names;   /* every file name the part's headers give
                                 * (every filename and name parameter, decoded;
                                 * a name with NUL bytes also without them and
                                 * after the last one) */
    int         nnames;
    const char *declared;       /* declared type, e.g. "application/pdf" */
    const unsigned char *data;  /* decoded bytes in memory, or NULL */
    size_t      size;           /* decoded size */
    int         fd;             /* decoded bytes in a file (from offset 0), or -1 */
} MIMEWALK_PART;

typedef struct MIMEWALK_LIMITS {
    long    max_parts;          /* MIME entities inspected */
    long    max_depth;          /* nesting levels fully inspected */
    long    max_headers;        /* header items: fields, words, parameters, addresses */
} MIMEWALK_LIMITS;

typedef struct MIMEWALK_INFO {
    int     not_mime;           /* not a message: one part, the raw file */
    int     nul;                /* NUL bytes in what GMime read: its preamble,
                                 * epilogue and header strings stop at them */
    VBUF   *ambiguous;          /* why the structure is ambiguous, "" if not */
    VBUF   *limit;              /* which limit was exceeded, "" if none */
    VBUF   *unreadable;         /* encrypted or fragmented content, "" if none */
    int     nparts;             /* leaf parts handed to the callback */
    long    lines;              /* lines in the message */
    long    dash_lines;         /* lines that start with "--" */
} MIMEWALK_INFO;

/* MIMEWALK_FN - look at one piece; non-zero stops the walk */
typedef int (*MIMEWALK_FN) (const MIMEWALK_PART *part, void *context);

/* mimewalk_init - GMime, once per process */
void mimewalk_init(void);

void mimewalk_info_init(MIMEWALK_INFO *info);
void mimewalk_info_free(MIMEWALK_INFO *info);

/* mimewalk - walk the message in fd (from offset 0; the offset is restored)
 * within limits; decoded big parts go to spool files in spool_dir. 0 when
 * the walk finished (or the callback stopped it); -1 with why in err when
 * the file could not be read or a part could not be decoded or spooled */
int mimewalk(int fd, const char *spool_dir, const MIMEWALK_LIMITS *limits,
             MIMEWALK_FN fn, void *context, MIMEWALK_INFO *info, VBUF *err);

#endif
