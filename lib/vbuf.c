/*
 * vbuf - a growable, length-tracking byte buffer with a cap (see vbuf.h)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"

/* vbuf_alloc - new empty buffer that never grows past cap */
VBUF *vbuf_alloc(size_t cap)
{
    VBUF *vb = mymalloc(sizeof(*vb));

    vb->cap = cap ? cap : VBUF_DEFAULT_CAP;
    vb->size = 64;
    vb->data = mymalloc(vb->size);
    vb->data[0] = 0;
    vb->len = 0;
    vb->overflow = 0;
    return vb;
}

/* vbuf_free - release, NULL allowed */
void vbuf_free(VBUF *vb)
{
    if (vb) {
        myfree(vb->data);
        myfree(vb);
    }
}

/* vbuf_reset - empty the buffer, forget any overflow */
void vbuf_reset(VBUF *vb)
{
    vb->len = 0;
    vb->data[0] = 0;
    vb->overflow = 0;
}

/* vbuf_space - make room for len more bytes plus the NUL, within the cap */
static int vbuf_space(VBUF *vb, size_t len)
{
    size_t need;

    if (len > vb->cap || vb->len > vb->cap - len) {
        vb->overflow = 1;
        return -1;
    }
    need = vb->len + len + 1;
    if (need > vb->size) {
        size_t nsize = vb->size;

        while (nsize < need)
            nsize = nsize < (SIZE_MAX / 2) ? nsize * 2 : need;
        vb->data = myrealloc(vb->data, nsize);
        vb->size = nsize;
    }
    return 0;
}

/* vbuf_append - add bytes, or refuse all of them at the cap */
int vbuf_append(VBUF *vb, const void *data, size_t len)
{
    if (vbuf_space(vb, len) < 0)
        return -1;
    if (len)
        memcpy(vb->data + vb->len, data, len);
    vb->len += len;
    vb->data[vb->len] = 0;
    return 0;
}

/* vbuf_addch - add one byte */
int vbuf_addch(VBUF *vb, int ch)
{
    char c = (char)ch;

    return vbuf_append(vb, &c, 1);
}

/* vbuf_strcat - add a string */
int vbuf_strcat(VBUF *vb, const char *s)
{
    return vbuf_append(vb, s, strlen(s));
}

/* vbuf_strcpy - replace contents with a string */
int vbuf_strcpy(VBUF *vb, const char *s)
{
    vbuf_reset(vb);
    return vbuf_strcat(vb, s);
}

/* vbuf_quote_append - a quoted, escaped string for logs */
int vbuf_quote_append(VBUF *vb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;
    int ret = vbuf_addch(vb, '"');

    for (p = (const unsigned char *)s; ret == 0 && *p; p++) {
        if (*p == '"' || *p == '\\') {
            ret = vbuf_addch(vb, '\\');
            if (ret == 0)
                ret = vbuf_addch(vb, *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};

            ret = vbuf_append(vb, esc, sizeof(esc));
        } else {
            ret = vbuf_addch(vb, *p);
        }
    }
    return ret == 0 ? vbuf_addch(vb, '"') : ret;
}

/* vbuf_vsprintf_append - formatted append */
int vbuf_vsprintf_append(VBUF *vb, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || vbuf_space(vb, (size_t)n) < 0)
        return -1;
    vsnprintf(vb->data + vb->len, (size_t)n + 1, fmt, ap);
    vb->len += (size_t)n;
    return 0;
}

/* vbuf_sprintf_append - formatted append */
int vbuf_sprintf_append(VBUF *vb, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = vbuf_vsprintf_append(vb, fmt, ap);
    va_end(ap);
    return ret;
}

/* vbuf_sprintf - formatted replace */
int vbuf_sprintf(VBUF *vb, const char *fmt, ...)
{
    va_list ap;
    int ret;

    vbuf_reset(vb);
    va_start(ap, fmt);
    ret = vbuf_vsprintf_append(vb, fmt, ap);
    va_end(ap);
    return ret;
}

/* vbuf_truncate - shorten to len bytes */
void vbuf_truncate(VBUF *vb, size_t len)
{
    if (len < vb->len) {
        vb->len = len;
        vb->data[len] = 0;
    }
}
