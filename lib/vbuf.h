/*
 * vbuf - a growable, length-tracking byte buffer with a cap
 *
 * Everything read from a peer goes into a VBUF. The data is always
 * NUL-terminated (not counted in len), so text can be used as a C string.
 * An append that would pass the cap appends nothing and returns -1, and
 * the buffer remembers it overflowed (vbuf_overflowed) until reset.
 */
#ifndef POSTSIFT_VBUF_H
#define POSTSIFT_VBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/msg.h"

typedef struct VBUF {
    char   *data;       /* NUL-terminated */
    size_t  len;        /* bytes in use */
    size_t  size;       /* bytes allocated */
    size_t  cap;        /* most bytes ever allowed */
    int     overflow;   /* an append was refused */
} VBUF;

#define VBUF_DEFAULT_CAP (64 * 1024 * 1024)

VBUF   *vbuf_alloc(size_t cap);
void    vbuf_free(VBUF *vb);
void    vbuf_reset(VBUF *vb);
int     vbuf_append(VBUF *vb, const void *data, size_t len);
int     vbuf_addch(VBUF *vb, int ch);
int     vbuf_strcat(VBUF *vb, const char *s);
int     vbuf_strcpy(VBUF *vb, const char *s);
int     vbuf_sprintf(VBUF *vb, const char *fmt, ...) PS_PRINTF(2, 3);
int     vbuf_sprintf_append(VBUF *vb, const char *fmt, ...) PS_PRINTF(2, 3);
int     vbuf_vsprintf_append(VBUF *vb, const char *fmt, va_list ap);
void    vbuf_truncate(VBUF *vb, size_t len);
/* vbuf_quote_append - s in double quotes for a log line: '"' and '\\' get a
 * backslash, control bytes become \xHH (UTF-8 stays as it is), so that a
 * line is always split by its quotes the same way */
int     vbuf_quote_append(VBUF *vb, const char *s);

#define vbuf_str(vb)         ((const char *)(vb)->data)
#define vbuf_len(vb)         ((vb)->len)
#define vbuf_overflowed(vb)  ((vb)->overflow)

#endif
