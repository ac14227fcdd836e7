/*
 * xtext - RFC 3461 xtext (see xtext.h)
 */
#include "lib/xtext.h"

static const char xtext_hex[] = "0123456789ABCDEF";

/* xtext_nibble - the value of one hex digit, or -1 */
static int xtext_nibble(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* xtext_encode - the xtext of s appended to out */
void xtext_encode(VBUF *out, const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (*p >= '!' && *p <= '~' && *p != '+' && *p != '=') {
            vbuf_addch(out, *p);
        } else {
            vbuf_addch(out, '+');
            vbuf_addch(out, xtext_hex[*p >> 4]);
            vbuf_addch(out, xtext_hex[*p & 0xf]);
        }
    }
}

/* xtext_decode - out = the text of xtext s; 0, or -1 when malformed */
int xtext_decode(VBUF *out, const char *s, int mode)
{
    int     hi, lo;

    vbuf_reset(out);
    for (; *s; s++) {
        if (*s == '+' && (hi = xtext_nibble((unsigned char)s[1])) >= 0
            && (lo = xtext_nibble((unsigned char)s[2])) >= 0) {
            if (hi * 16 + lo == 0) {
                if (mode == XTEXT_STRICT)
                    return -1;
                break;
            }
            vbuf_addch(out, hi * 16 + lo);
            s += 2;
        } else if (mode == XTEXT_STRICT
                   && (*s == '+' || *s == '=' || (unsigned char)*s < 0x21
                       || (unsigned char)*s > 0x7e)) {
            return -1;
        } else {
            vbuf_addch(out, *s);
        }
    }
    return vbuf_overflowed(out) ? -1 : 0;
}
