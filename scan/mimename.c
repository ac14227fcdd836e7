/*
 * mimename - parameter values of a raw MIME header as bytes (see
 * mimename.h)
 *
 * The header text is walked once: the type or disposition is skipped up
 * to the first ";" outside quotes and comments, then each parameter is
 * attribute, "=", value (quoted string or token). Values of the wanted
 * attributes are decoded into scratch buffers and handed out at once;
 * RFC 2231 continuation segments are kept until the end of the header
 * and then joined in index order. Decoding never converts charsets: a
 * UTF-16 name decodes to bytes with NULs between the letters, which the
 * caller's NUL handling turns back into the name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "scan/mimename.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"

#define MIMENAME_INDEX_MAX  99999       /* highest continuation index used */

typedef struct SEGMENT {
    int     attr;                       /* index into attrs */
    long    index;                      /* RFC 2231 continuation number */
    long    order;                      /* position in the header, for a stable sort */
    int     extended;                   /* percent-encoded ("*" after the number) */
    char   *data;                       /* the value as written, unescaped */
    size_t  len;
} SEGMENT;

typedef struct PARSE {
    const char *const *attrs;
    MIMENAME_FN fn;
    void   *context;
    int     count;                      /* values handed out */
    SEGMENT *segs;
    long    nsegs;
    long    asegs;
    VBUF   *value;                      /* the value as written, unescaped */
    VBUF   *out;                        /* decoded */
} PARSE;

/* mimename_space - white space or a line break (folding) */
static int mimename_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* mimename_skip_comment - past a (possibly nested) comment at cp */
static const char *mimename_skip_comment(const char *cp, const char *end)
{
    int     depth = 0;

    for (; cp < end; cp++) {
        if (*cp == '\\' && cp + 1 < end) {
            cp++;
        } else if (*cp == '(') {
            depth++;
        } else if (*cp == ')' && --depth == 0) {
            return cp + 1;
        }
    }
    return end;
}

/* mimename_skip_cfws - past white space, folding and comments */
static const char *mimename_skip_cfws(const char *cp, const char *end)
{
    while (cp < end) {
        if (mimename_space((unsigned char)*cp))
            cp++;
        else if (*cp == '(')
            cp = mimename_skip_comment(cp, end);
        else
            break;
    }
    return cp;
}

/* mimename_next_semi - the next ";" outside quotes and comments, or end */
static const char *mimename_next_semi(const char *cp, const char *end)
{
    while (cp < end && *cp != ';') {
        if (*cp == '"') {
            for (cp++; cp < end && *cp != '"'; cp++)
                if (*cp == '\\' && cp + 1 < end)
                    cp++;
            if (cp < end)
                cp++;
        } else if (*cp == '(') {
            cp = mimename_skip_comment(cp, end);
        } else {
            cp++;
        }
    }
    return cp;
}

/* mimename_emit - hand one decoded value to the caller */
static void mimename_emit(PARSE *p, int attr, const char *data, size_t len)
{
    p->fn(p->attrs[attr], data, len, p->context);
    p->count++;
}

/* mimename_hex - value of a hex digit, or -1 */
static int mimename_hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* mimename_percent - RFC 2231 decoding of data into out (appended); the
 * initial segment's charset'language' prefix is dropped */
static void mimename_percent(VBUF *out, const char *data, size_t len, int initial)
{
    const char *cp = data, *end = data + len, *q1, *q2;
    int     hi, lo;

    if (initial && (q1 = memchr(cp, '\'', len)) != NULL
        && (q2 = memchr(q1 + 1, '\'', (size_t)(end - q1 - 1))) != NULL)
        cp = q2 + 1;
    for (; cp < end; cp++) {
        if (*cp == '%' && cp + 2 < end
            && (hi = mimename_hex((unsigned char)cp[1])) >= 0
            && (lo = mimename_hex((unsigned char)cp[2])) >= 0) {
            vbuf_addch(out, hi * 16 + lo);
            cp += 2;
        } else {
            vbuf_addch(out, (unsigned char)*cp);
        }
    }
}

/* mimename_word - decode one RFC 2047 encoded word at cp; the end of the
 * word, or NULL when cp does not start one */
static const char *mimename_word(VBUF *out, const char *cp, const char *end)
{
    const char *charset = cp + 2, *enc, *text, *stop;
    int     hi, lo;

    for (enc = charset; enc < end && *enc != '?'; enc++)
        if (mimename_space((unsigned char)*enc))
            return NULL;
    if (enc == charset || enc + 2 >= end || enc[2] != '?'
        || enc[1] == 0 || strchr("BbQq", enc[1]) == NULL)
        return NULL;
    text = enc + 3;
    for (stop = text; stop + 1 < end && !(stop[0] == '?' && stop[1] == '='); stop++)
         /* void */ ;
    if (stop + 1 >= end)
        return NULL;
    if (enc[1] == 'B' || enc[1] == 'b') {
        guchar  buf[256];
        gint    state = 0;
        guint   save = 0;
        const char *cq;
        size_t  chunk, n;

        for (cq = text; cq < stop; cq += chunk) {
            chunk = (size_t)(stop - cq) < 192 ? (size_t)(stop - cq) : 192;
            n = g_base64_decode_step(cq, chunk, buf, &state, &save);
            vbuf_append(out, buf, n);
        }
    } else {
        for (; text < stop; text++) {
            if (*text == '_') {
                vbuf_addch(out, ' ');
            } else if (*text == '=' && text + 2 < stop
                       && (hi = mimename_hex((unsigned char)text[1])) >= 0
                       && (lo = mimename_hex((unsigned char)text[2])) >= 0) {
                vbuf_addch(out, hi * 16 + lo);
                text += 2;
            } else {
                vbuf_addch(out, (unsigned char)*text);
            }
        }
    }
    return stop + 2;
}

/* mimename_rfc2047 - data with its encoded words decoded into out; 1 when
 * there was at least one */
static int mimename_rfc2047(VBUF *out, const char *data, size_t len)
{
    const char *cp = data, *end = data + len, *next;
    const char *ws = NULL;              /* white space not yet copied */
    int     words = 0, last_word = 0;

    vbuf_reset(out);
    while (cp < end) {
        if (mimename_space((unsigned char)*cp)) {
            if (ws == NULL)
                ws = cp;
            cp++;
            continue;
        }
        /* White space between two encoded words is dropped. */
        if (ws != NULL && !last_word) {
            vbuf_append(out, ws, (size_t)(cp - ws));
            ws = NULL;
        }
        if (cp[0] == '=' && cp + 1 < end && cp[1] == '?'
            && (next = mimename_word(out, cp, end)) != NULL) {
            ws = NULL;
            words++;
            last_word = 1;
            cp = next;
            continue;
        }
        if (ws != NULL) {
            vbuf_append(out, ws, (size_t)(cp - ws));
            ws = NULL;
        }
        last_word = 0;
        vbuf_addch(out, (unsigned char)*cp++);
    }
    if (ws != NULL)
        vbuf_append(out, ws, (size_t)(cp - ws));
    return words > 0;
}

/* mimename_plain - a value without RFC 2231 encoding: as written, and with
 * its encoded words decoded when it has any */
static void mimename_plain(PARSE *p, int attr, const char *data, size_t len)
{
    mimename_emit(p, attr, data, len);
    if (len > 1 && memmem(data, len, "=?", 2) != NULL && mimename_rfc2047(p->out, data, len)
        && (vbuf_len(p->out) != len || memcmp(vbuf_str(p->out), data, len) != 0))
        mimename_emit(p, attr, vbuf_str(p->out), vbuf_len(p->out));
}

/* mimename_attr - which wanted attribute an attribute name is, with its
 * continuation index (-1 when none) and whether it is extended; -1 when
 * not wanted */
static int mimename_attr(PARSE *p, const char *name, size_t len, long *index, int *extended)
{
    const char *star = memchr(name, '*', len);
    size_t  blen = star ? (size_t)(star - name) : len;
    const char *cp;
    int     i;

    for (i = 0; p->attrs[i]; i++)
        if (strlen(p->attrs[i]) == blen && strncasecmp(p->attrs[i], name, blen) == 0)
            break;
    if (p->attrs[i] == NULL)
        return -1;
    *index = -1;
    *extended = 0;
    if (star == NULL)
        return i;
    cp = star + 1;
    if (cp == name + len) {             /* name*= */
        *extended = 1;
        return i;
    }
    if (isdigit((unsigned char)*cp)) {
        long    n = 0;

        for (; cp < name + len && isdigit((unsigned char)*cp); cp++)
            if ((n = n * 10 + (*cp - '0')) > MIMENAME_INDEX_MAX)
                n = MIMENAME_INDEX_MAX;
        if (cp == name + len || (*cp == '*' && cp + 1 == name + len)) {
            *index = n;
            *extended = (cp < name + len);
            return i;
        }
    }
    return i;                           /* odd: read it as a plain value */
}

/* mimename_keep - remember a continuation segment */
static void mimename_keep(PARSE *p, int attr, long index, int extended,
                          const char *data, size_t len)
{
    SEGMENT *s;

    if (p->nsegs == p->asegs) {
        p->asegs = p->asegs ? p->asegs * 2 : 8;
        p->segs = myrealloc(p->segs, (size_t)p->asegs * sizeof(*p->segs));
    }
    s = p->segs + p->nsegs;
    s->attr = attr;
    s->index = index;
    s->order = p->nsegs++;
    s->extended = extended;
    s->data = mymalloc(len + 1);
    memcpy(s->data, data, len);
    s->data[len] = 0;
    s->len = len;
}

/* mimename_segcmp - by attribute, index, then position */
static int mimename_segcmp(const void *a, const void *b)
{
    const SEGMENT *x = a, *y = b;

    if (x->attr != y->attr)
        return x->attr < y->attr ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* mimename_join - the continuations of each attribute, in order */
static void mimename_join(PARSE *p)
{
    long    i, j;

    if (p->nsegs == 0)
        return;
    qsort(p->segs, (size_t)p->nsegs, sizeof(*p->segs), mimename_segcmp);
    for (i = 0; i < p->nsegs; i = j) {
        vbuf_reset(p->out);
        for (j = i; j < p->nsegs && p->segs[j].attr == p->segs[i].attr; j++) {
            if (p->segs[j].extended)
                mimename_percent(p->out, p->segs[j].data, p->segs[j].len, p->segs[j].index == 0);
            else
                vbuf_append(p->out, p->segs[j].data, p->segs[j].len);
        }
        mimename_emit(p, p->segs[i].attr, vbuf_str(p->out), vbuf_len(p->out));
    }
    for (i = 0; i < p->nsegs; i++)
        myfree(p->segs[i].data);
}

/* mimename_value - read the value at cp into p->value (quoted strings
 * unescaped, folding dropped); returns the end of the value; *token_len
 * is the length of its first white-space separated word when it is an
 * unquoted value with white space in it, else 0 */
static const char *mimename_value(PARSE *p, const char *cp, const char *end,
                                  size_t *token_len)
{
    vbuf_reset(p->value);
    *token_len = 0;
    if (cp < end && *cp == '"') {
        for (cp++; cp < end && *cp != '"'; cp++) {
            if (*cp == '\\' && cp + 1 < end)
                cp++;
            if (*cp != '\r' && *cp != '\n')
                vbuf_addch(p->value, (unsigned char)*cp);
        }
        return cp < end ? cp + 1 : cp;
    }
    for (; cp < end && *cp != ';'; cp++) {
        if (*cp == '\r' || *cp == '\n')
            continue;
        if ((*cp == ' ' || *cp == '\t') && *token_len == 0)
            *token_len = vbuf_len(p->value);
        vbuf_addch(p->value, (unsigned char)*cp);
    }
    while (vbuf_len(p->value) > 0 && mimename_space((unsigned char)p->value->data[vbuf_len(p->value) - 1]))
        vbuf_truncate(p->value, vbuf_len(p->value) - 1);
    if (*token_len >= vbuf_len(p->value))
        *token_len = 0;
    return cp;
}

/* mimename_params - every value of the wanted parameters */
int mimename_params(const char *text, size_t len, const char *const *attrs,
                    MIMENAME_FN fn, void *context)
{
    const char *cp = text, *end = text + len, *name;
    PARSE   p;
    size_t  token_len;
    long    index;
    int     extended, attr;

    memset(&p, 0, sizeof(p));
    p.attrs = attrs;
    p.fn = fn;
    p.context = context;
    p.value = vbuf_alloc(len + 16);
    p.out = vbuf_alloc(len + 16);

    cp = mimename_next_semi(cp, end);
    while (cp < end) {
        cp = mimename_skip_cfws(cp + 1, end);
        for (name = cp; cp < end && *cp != '=' && *cp != ';' && *cp != '"' && *cp != '('
             && !mimename_space((unsigned char)*cp); cp++)
             /* void */ ;
        attr = (cp > name) ? mimename_attr(&p, name, (size_t)(cp - name), &index, &extended) : -1;
        cp = mimename_skip_cfws(cp, end);
        if (cp >= end || *cp != '=' || attr < 0) {
            cp = mimename_next_semi(cp, end);
            continue;
        }
        cp = mimename_skip_cfws(cp + 1, end);
        cp = mimename_value(&p, cp, end, &token_len);
        if (index >= 0) {
            mimename_keep(&p, attr, index, extended, vbuf_str(p.value), vbuf_len(p.value));
        } else if (extended) {
            vbuf_reset(p.out);
            mimename_percent(p.out, vbuf_str(p.value), vbuf_len(p.value), 1);
            mimename_emit(&p, attr, vbuf_str(p.out), vbuf_len(p.out));
        } else {
            mimename_plain(&p, attr, vbuf_str(p.value), vbuf_len(p.value));
            if (token_len > 0)
                mimename_emit(&p, attr, vbuf_str(p.value), token_len);
        }
        cp = mimename_next_semi(cp, end);
    }
    mimename_join(&p);
    myfree(p.segs);
    vbuf_free(p.value);
    vbuf_free(p.out);
    return p.count;
}
