/*
 * printable - text made safe for one line (see printable.h)
 */
#include "lib/printable.h"

/* printable_byte - ch, or '?' when it may not be shown */
static char printable_byte(unsigned char ch, int flags)
{
    if (ch < 0x20 || ch == 0x7f || ((flags & PRINTABLE_ASCII) && ch >= 0x80))
        return '?';
    return (char)ch;
}

/* printable_copy - at most max bytes of s into dst, made printable */
char   *printable_copy(char *dst, size_t dstlen, const char *s, size_t max, int flags)
{
    size_t  i = 0;

    if (dstlen == 0)
        return dst;
    for (; s && *s && i < max && i + 1 < dstlen; s++)
        dst[i++] = printable_byte((unsigned char)*s, flags);
    dst[i] = 0;
    return dst;
}

/* printable_append - len bytes at s made printable, appended to out */
void printable_append(VBUF *out, const char *s, size_t len, size_t max, int flags)
{
    size_t  i;

    if (len > max && (flags & PRINTABLE_KEEP_END)) {
        vbuf_strcat(out, "...");
        s += len - max;
        len = max;
    } else if (len > max) {
        len = max;
    }
    for (i = 0; i < len; i++)
        vbuf_addch(out, printable_byte((unsigned char)s[i], flags));
}
