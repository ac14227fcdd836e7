/*
 * mimename - parameter values of a raw Content-Type or Content-Disposition
 * header, decoded as bytes
 *
 * GMime hands out parameter values as C strings: a value that decodes to
 * a NUL byte (filename*=UTF-8''evil%00.js, an encoded word with =00, a raw
 * NUL in the header) stops at the NUL there, and GMime keeps one value of
 * a repeated parameter. This parser reads the header text as bytes and
 * returns every value of the wanted parameters, NULs kept: RFC 2231
 * extended values (charset'language'%XX), continuations joined in index
 * order, RFC 2047 encoded words (B and Q), quoted strings and tokens. It
 * is tolerant rather than strict: where a value could be read in two ways
 * (an unquoted value with white space in it, an encoded word), both
 * readings are returned. Linear in the header length; nothing is kept.
 */
#ifndef POSTSIFT_MIMENAME_H
#define POSTSIFT_MIMENAME_H

#include <stddef.h>

/* MIMENAME_FN - one value of parameter attr (its name without the RFC
 * 2231 "*" and index, lower case); value[0..len) may contain NUL bytes */
typedef void (*MIMENAME_FN) (const char *attr, const char *value, size_t len, void *context);

/* mimename_params - every value of the parameters named in attrs (a NULL
 * terminated list of lower-case names, e.g. "filename", "name") in the raw
 * header value text[0..len) (what follows the colon, folding and NUL bytes
 * allowed); returns how many values were handed to fn */
int mimename_params(const char *text, size_t len, const char *const *attrs,
                    MIMENAME_FN fn, void *context);

#endif
