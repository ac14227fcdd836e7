/*
 * printable - text from outside made safe for one log line or one reply
 *
 * Control bytes (below 0x20, and DEL) become '?', so that nothing a peer
 * sends can end a log line or an SMTP reply early or move a terminal's
 * cursor. Bytes from 0x80 up are kept for the logs (UTF-8 names stay
 * readable) and replaced in SMTP replies, which must be ASCII.
 */
#ifndef POSTSIFT_PRINTABLE_H
#define POSTSIFT_PRINTABLE_H

#include <stddef.h>

#include "lib/vbuf.h"

#define PRINTABLE_ASCII    (1 << 0)     /* bytes from 0x80 up become '?' too */
#define PRINTABLE_KEEP_END (1 << 1)     /* when cut, keep the end ("...end") */

#define PRINTABLE_ALL ((size_t)-1)      /* max: no bound but the buffer */

/* printable_copy - at most max bytes of s (NULL: "") into dst (dstlen
 * bytes, NUL included), made printable; returns dst */
char   *printable_copy(char *dst, size_t dstlen, const char *s, size_t max, int flags);

/* printable_append - len bytes at s made printable, appended to out; with
 * more than max bytes, the first max (or with PRINTABLE_KEEP_END "..."
 * and the last max) */
void    printable_append(VBUF *out, const char *s, size_t len, size_t max, int flags);

#endif
