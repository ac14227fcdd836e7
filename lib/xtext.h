/*
 * xtext - RFC 3461 xtext, the encoding of ENVID, ORCPT and XFORWARD
 * values, and of the envelope lines of a quarantine file
 *
 * Encoding writes "+HH" (upper-case hex) for every byte outside '!'..'~'
 * and for '+' and '='. Strict decoding (what a peer sends): "+" must be
 * followed by two hex digits (either case), a raw byte outside '!'..'~'
 * or a raw '=' is an error, and so is an encoded NUL (a C string could
 * not hold it). Lenient decoding (a file of ours that a person may have
 * edited): "+HH" is decoded, every other byte kept as it is, and an
 * encoded NUL ends the text.
 */
#ifndef POSTSIFT_XTEXT_H
#define POSTSIFT_XTEXT_H

#include "lib/vbuf.h"

/* xtext_encode - the xtext of s appended to out */
void    xtext_encode(VBUF *out, const char *s);

#define XTEXT_STRICT  0
#define XTEXT_LENIENT 1

/* xtext_decode - out = the text of xtext s; 0, or -1 when s is not xtext
 * (XTEXT_STRICT) or out overflowed */
int     xtext_decode(VBUF *out, const char *s, int mode);

#endif
