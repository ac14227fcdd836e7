/*
 * inline - find and decode uuencode, yEnc and BinHex blocks in text (see
 * inline.h)
 *
 * The text is read a line at a time (long lines in pieces, from memory or
 * through pread), and a line that opens a block starts a decoder that
 * takes the following lines until the block's end line. The decoders are
 * our own and small: uuencode and "begin-base64" line by line, yEnc as a
 * byte stream with its "=" escapes, BinHex as a stream of 6-bit
 * characters with run-length expansion and its header (name, fork
 * lengths); only the data fork of a BinHex file is kept. Decoded bytes go
 * to memory, then to a spool file past INLINE_MEM_MAX; past max_bytes
 * nothing more is kept and the file is "too big". A line that does not
 * belong to the block ends it ("garbled line") and is read again as text,
 * so a block cut short cannot hide a block that follows it. Checksums
 * (yEnc CRC-32, BinHex CRC-16) are not verified: sizes are.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <glib.h>

#include "scan/inline.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"

#define INLINE_PIECE    (64 * 1024)     /* longer lines come in pieces */
#define INLINE_NAME_MAX 1024            /* longer names are cut */

const char *const inline_kind_names[] = {"uuencoded", "base64 (begin-base64)", "yEnc", "BinHex"};

static const char binhex_alphabet[] =
    "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

typedef struct LINES {
    const unsigned char *data;          /* the text in memory, or NULL */
    size_t  size;
    int     fd;                         /* or in a file */
    unsigned char *buf;                 /* file buffer */
    off_t   off;                        /* file offset of buf[0] (or of data) */
    size_t  len;                        /* bytes in buf */
    size_t  pos;                        /* next byte */
    int     eof;
    int     midline;
    int     again;                      /* hand out the last piece again */
    /* the last piece */
    const unsigned char *line;
    size_t  llen;                       /* without the line break */
    int     first;                      /* starts a line */
    int     last;                       /* ends a line */
    size_t  step;                       /* bytes it took, line break included */
} LINES;

typedef struct OUTPUT {
    const char *spool_dir;
    VBUF   *err;
    long long max;
    unsigned char *mem;
    size_t  len;
    size_t  alloc;
    int     fd;
    size_t  size;
    int     over;                       /* bytes were dropped at max */
    int     failed;                     /* a spool write failed */
} OUTPUT;

/* lines_next - the next line or piece; 1, 0 at the end, -1 on error */
static int lines_next(LINES *l)
{
    const unsigned char *base, *nl;
    size_t  avail;
    ssize_t n;

    if (l->again) {
        l->again = 0;
        return 1;
    }
    for (;;) {
        base = l->data ? l->data : l->buf;
        avail = (l->data ? l->size : l->len) - l->pos;
        if ((nl = memchr(base + l->pos, '\n', avail < INLINE_PIECE ? avail : INLINE_PIECE)) != NULL) {
            l->llen = (size_t)(nl - (base + l->pos));
            l->step = l->llen + 1;
            l->last = 1;
            break;
        }
        if (avail >= INLINE_PIECE || ((l->data || l->eof) && avail > 0)) {
            l->llen = l->step = avail < INLINE_PIECE ? avail : INLINE_PIECE;
            l->last = (l->data || l->eof) && avail <= INLINE_PIECE;
            break;
        }
        if (l->data || l->eof)
            return 0;
        memmove(l->buf, l->buf + l->pos, l->len - l->pos);
        l->off += (off_t)l->pos;
        l->len -= l->pos;
        l->pos = 0;
        do {
            n = pread(l->fd, l->buf + l->len, 2 * INLINE_PIECE - l->len, l->off + (off_t)l->len);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return -1;
        if (n == 0)
            l->eof = 1;
        l->len += (size_t)n;
    }
    l->line = base + l->pos;
    l->first = !l->midline;
    l->midline = !l->last;
    l->pos += l->step;
    if (l->llen > 0 && l->last && l->line[l->llen - 1] == '\r')
        l->llen--;
    return 1;
}

/* out_flush - move what is in memory to a new spool file */
static int out_spill(OUTPUT *o)
{
    if ((o->fd = spool_create(o->spool_dir, o->err)) < 0
        || spool_write_all(o->fd, o->mem, o->len) < 0) {
        if (o->fd >= 0)
            vbuf_sprintf(o->err, "cannot write an inline file to the spool: %s", strerror(errno));
        o->failed = 1;
        return -1;
    }
    o->len = 0;
    return 0;
}

/* out_put - keep decoded bytes, within max */
static void out_put(OUTPUT *o, const unsigned char *bytes, size_t n)
{
    if (o->failed)
        return;
    if ((long long)(o->size + n) > o->max) {
        n = o->max > (long long)o->size ? (size_t)(o->max - (long long)o->size) : 0;
        o->over = 1;
    }
    if (n == 0)
        return;
    if (o->fd < 0 && o->len + n > INLINE_MEM_MAX && out_spill(o) < 0)
        return;
    if (o->fd >= 0) {
        if (spool_write_all(o->fd, bytes, n) < 0) {
            vbuf_sprintf(o->err, "cannot write an inline file to the spool: %s", strerror(errno));
            o->failed = 1;
            return;
        }
    } else {
        if (o->len + n > o->alloc) {
            o->alloc = (o->len + n) * 2 < INLINE_MEM_MAX ? (o->len + n) * 2 : INLINE_MEM_MAX;
            o->mem = myrealloc(o->mem, o->alloc);
        }
        memcpy(o->mem + o->len, bytes, n);
        o->len += n;
    }
    o->size += n;
}

/* out_byte - keep one decoded byte */
static void out_byte(OUTPUT *o, int ch)
{
    unsigned char b = (unsigned char)ch;

    out_put(o, &b, 1);
}

/* line_is - the line, trailing white space aside, is word */
static int line_is(const LINES *l, const char *word)
{
    size_t  n = l->llen, wlen = strlen(word);

    while (n > 0 && (l->line[n - 1] == ' ' || l->line[n - 1] == '\t'))
        n--;
    return l->first && l->last && n == wlen && memcmp(l->line, word, wlen) == 0;
}

/* line_starts - a whole line that starts with prefix (case as given) */
static int line_starts(const LINES *l, const char *prefix, int nocase)
{
    size_t  plen = strlen(prefix);

    return l->first && l->last && l->llen >= plen
        && (nocase ? strncasecmp((const char *)l->line, prefix, plen)
            : memcmp(l->line, prefix, plen)) == 0;
}

/* set_name - a name from the text: NULs dropped, white space trimmed */
static void set_name(VBUF *name, const unsigned char *cp, size_t len)
{
    size_t  i;

    vbuf_reset(name);
    while (len > 0 && (cp[len - 1] == ' ' || cp[len - 1] == '\t' || cp[len - 1] == '\r'))
        len--;
    while (len > 0 && (*cp == ' ' || *cp == '\t')) {
        cp++;
        len--;
    }
    for (i = 0; i < len && vbuf_len(name) < INLINE_NAME_MAX; i++)
        if (cp[i] != 0)
            vbuf_addch(name, cp[i]);
}

/* uu_begin - "begin MODE NAME" or "begin-base64 MODE NAME": the kind, or -1 */
static int uu_begin(const LINES *l, VBUF *name)
{
    const unsigned char *cp = l->line, *end = l->line + l->llen;
    int     kind, digits;

    if (line_starts(l, "begin-base64 ", 0)) {
        kind = INLINE_BASE64;
        cp += 13;
    } else if (line_starts(l, "begin ", 0)) {
        kind = INLINE_UUENCODE;
        cp += 6;
    } else {
        return -1;
    }
    while (cp < end && *cp == ' ')
        cp++;
    for (digits = 0; cp < end && *cp >= '0' && *cp <= '7'; cp++)
        digits++;
    if (digits < 1 || digits > 4 || cp >= end || *cp != ' ')
        return -1;
    set_name(name, cp, (size_t)(end - cp));
    return vbuf_len(name) > 0 ? kind : -1;
}

/* uu_char - the 6-bit value of a uuencoded character, or -1 */
static int uu_char(int ch)
{
    return (ch >= ' ' && ch <= '`') ? ((ch - ' ') & 63) : -1;
}

/* uu_decode - the lines of a uuencoded block; the problem, or NULL. The
 * data ends at a line of length zero ("`"), which "end" follows; a block
 * with the first but not the second is complete all the same. */
static const char *uu_decode(LINES *l, OUTPUT *o, VBUF *err)
{
    unsigned char out[66];
    int     rc, n, i, v[4], j, zero = 0;
    const char *problem = NULL;

    while ((rc = lines_next(l)) > 0) {
        if (line_is(l, "end"))
            return problem;
        if (zero) {
            l->again = 1;
            return problem;
        }
        /* A line of length zero whose space a mailer stripped is empty. */
        if (l->first && l->last && l->llen == 0) {
            zero = 1;
            continue;
        }
        if (!l->first || !l->last || l->llen == 0 || (n = uu_char(l->line[0])) < 0) {
            l->again = 1;
            return "garbled line";
        }
        for (i = 1; i < (int)l->llen; i++)
            if (uu_char(l->line[i]) < 0)
                break;
        if (i < (int)l->llen) {
            l->again = 1;
            return "garbled line";
        }
        if (n == 0) {
            zero = 1;
            continue;
        }
        /* Each 4 characters give 3 bytes; missing ones count as zero. */
        if ((int)l->llen - 1 < (4 * n + 2) / 3 && problem == NULL)
            problem = "short line";
        for (i = 0; i < n; i += 3) {
            for (j = 0; j < 4; j++) {
                int     at = 1 + i / 3 * 4 + j;

                v[j] = at < (int)l->llen ? uu_char(l->line[at]) : 0;
            }
            out[i] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            out[i + 1] = (unsigned char)(v[1] << 4 | v[2] >> 2);
            out[i + 2] = (unsigned char)(v[2] << 6 | v[3]);
        }
        out_put(o, out, (size_t)n);
    }
    if (rc < 0) {
        vbuf_sprintf(err, "cannot read text: %s", strerror(errno));
        return NULL;
    }
    return zero ? problem : "no end line";
}

/* b64_decode - the lines of a begin-base64 block */
static const char *b64_decode(LINES *l, OUTPUT *o, VBUF *err)
{
    guchar  out[(INLINE_PIECE / 4) * 3 + 8];
    gint    state = 0;
    guint   save = 0;
    int     rc;
    size_t  i;

    while ((rc = lines_next(l)) > 0) {
        if (line_is(l, "===="))
            return NULL;
        for (i = 0; i < l->llen; i++) {
            int     ch = l->line[i];

            if (!(g_ascii_isalnum(ch) || ch == '+' || ch == '/' || ch == '=' || ch == ' '
                  || ch == '\t' || ch == '\r')) {
                l->again = 1;
                return "garbled line";
            }
        }
        out_put(o, out, g_base64_decode_step((const gchar *)l->line, l->llen, out, &state, &save));
    }
    if (rc < 0) {
        vbuf_sprintf(err, "cannot read text: %s", strerror(errno));
        return NULL;
    }
    return "no end line";
}

/* yenc_param - the value of "key=" in a yEnc keyword line, or -1 */
static long long yenc_param(const LINES *l, const char *key)
{
    size_t  klen = strlen(key), i;
    long long v = 0;

    for (i = 0; i + klen < l->llen; i++) {
        if ((i == 0 || l->line[i - 1] == ' ') && memcmp(l->line + i, key, klen) == 0) {
            const unsigned char *cp = l->line + i + klen;
            const unsigned char *end = l->line + l->llen;

            if (cp >= end || *cp < '0' || *cp > '9')
                return -1;
            for (; cp < end && *cp >= '0' && *cp <= '9' && v < (1LL << 40); cp++)
                v = v * 10 + (*cp - '0');
            return v;
        }
    }
    return -1;
}

/* yenc_begin - "=ybegin ... name=NAME": 1 with the name, else 0 */
static int yenc_begin(const LINES *l, VBUF *name)
{
    const unsigned char *cp;

    if (!line_starts(l, "=ybegin ", 0))
        return 0;
    for (cp = l->line + 7; cp + 5 <= l->line + l->llen; cp++)
        if (cp[-1] == ' ' && memcmp(cp, "name=", 5) == 0)
            break;
    if (cp + 5 > l->line + l->llen)
        vbuf_reset(name);
    else
        set_name(name, cp + 5, (size_t)(l->line + l->llen - cp - 5));
    return 1;
}

/* yenc_decode - the data lines after "=ybegin" (and "=ypart") */
static const char *yenc_decode(LINES *l, OUTPUT *o, long long size, VBUF *err)
{
    unsigned char out[INLINE_PIECE];
    int     rc, escape = 0, partial = 0;
    long long want;
    size_t  i, n;

    while ((rc = lines_next(l)) > 0) {
        if (line_starts(l, "=ypart ", 0) && o->size == 0 && !partial) {
            partial = 1;
            if (yenc_param(l, "begin=") > 0 && yenc_param(l, "end=") >= yenc_param(l, "begin="))
                size = yenc_param(l, "end=") - yenc_param(l, "begin=") + 1;
            continue;
        }
        if (line_starts(l, "=yend", 0)) {
            want = yenc_param(l, "size=");
            if (want < 0)
                want = size;
            if (want >= 0 && want != (long long)o->size && !o->over)
                return "size mismatch";
            return partial ? "one part of a multi-part yEnc file" : NULL;
        }
        for (i = n = 0; i < l->llen; i++) {
            int     ch = l->line[i];

            if (escape) {
                out[n++] = (unsigned char)(ch - 64 - 42);
                escape = 0;
            } else if (ch == '=') {
                escape = 1;
            } else if (ch != '\r' && ch != '\n') {
                out[n++] = (unsigned char)(ch - 42);
            }
        }
        out_put(o, out, n);
        if (l->last)
            escape = 0;
    }
    if (rc < 0) {
        vbuf_sprintf(err, "cannot read text: %s", strerror(errno));
        return NULL;
    }
    return "no end line";
}

typedef struct BINHEX {
    OUTPUT *o;
    VBUF   *name;
    unsigned char hdr[64 + 22];         /* name length, name, version, ..., CRC */
    size_t  hlen;                       /* header bytes so far */
    size_t  hneed;                      /* header size, once the name length is known */
    unsigned long dlen;                 /* data fork length */
    unsigned long dgot;                 /* data fork bytes so far */
    int     last;                       /* the byte before, for run lengths */
    int     marker;                     /* 0x90 seen: a count follows */
    unsigned bits;                      /* 6-bit groups */
    int     nbits;
} BINHEX;

/* binhex_byte - one byte after run-length expansion */
static void binhex_byte(BINHEX *b, int ch)
{
    if (b->hneed == 0 || b->hlen < b->hneed) {
        if (b->hlen < sizeof(b->hdr))
            b->hdr[b->hlen++] = (unsigned char)ch;
        if (b->hlen == 1)
            b->hneed = (size_t)(b->hdr[0] & 63) + 22;
        if (b->hneed && b->hlen == b->hneed) {
            const unsigned char *d = b->hdr + 1 + b->hneed - 22 + 11;

            set_name(b->name, b->hdr + 1, b->hdr[0] & 63);
            b->dlen = (unsigned long)d[0] << 24 | (unsigned long)d[1] << 16
                | (unsigned long)d[2] << 8 | d[3];
        }
        return;
    }
    if (b->dgot < b->dlen) {
        b->dgot++;
        out_byte(b->o, ch);
    }
}

/* binhex_rle - one decoded 8-bit byte: run-length expansion (0x90 n) */
static void binhex_rle(BINHEX *b, int ch)
{
    int     i;

    if (b->marker) {
        b->marker = 0;
        if (ch == 0) {
            binhex_byte(b, 0x90);
            b->last = 0x90;
        } else {
            /* The byte before, ch times in all; stop once nothing is kept. */
            for (i = 1; i < ch; i++) {
                if (b->hneed && b->hlen >= b->hneed && (b->dgot >= b->dlen || b->o->over))
                    break;
                binhex_byte(b, b->last);
            }
        }
    } else if (ch == 0x90) {
        b->marker = 1;
    } else {
        binhex_byte(b, ch);
        b->last = ch;
    }
}

/* binhex_decode - the text after the BinHex line: ":" data ":" */
static const char *binhex_decode(LINES *l, OUTPUT *o, VBUF *name, VBUF *err)
{
    BINHEX  b;
    int     rc, started = 0;
    size_t  i;
    const char *pos;

    memset(&b, 0, sizeof(b));
    b.o = o;
    b.name = name;
    vbuf_reset(name);
    while ((rc = lines_next(l)) > 0) {
        i = 0;
        if (!started) {
            /* Blank lines may come before the opening colon. */
            while (i < l->llen && (l->line[i] == ' ' || l->line[i] == '\t'))
                i++;
            if (i == l->llen && l->last)
                continue;
            if (l->line[i] != ':') {
                l->again = 1;
                return "garbled line";
            }
            started = 1;
            i++;
        }
        for (; i < l->llen; i++) {
            int     ch = l->line[i];

            if (ch == ':')
                goto done;
            if (ch == ' ' || ch == '\t' || ch == '\r')
                continue;
            if (ch == 0 || (pos = strchr(binhex_alphabet, ch)) == NULL) {
                l->again = 1;
                return "garbled line";
            }
            b.bits = (b.bits << 6) | (unsigned)(pos - binhex_alphabet);
            if ((b.nbits += 6) >= 8) {
                b.nbits -= 8;
                binhex_rle(&b, (int)((b.bits >> b.nbits) & 0xff));
            }
        }
    }
    if (rc < 0) {
        vbuf_sprintf(err, "cannot read text: %s", strerror(errno));
        return NULL;
    }
    return "no end colon";
done:
    if (b.hneed == 0 || b.hlen < b.hneed)
        return "header cut short";
    if (b.dgot < b.dlen && !o->over)
        return "data cut short";
    return NULL;
}

/* What inline_scan was asked to do. */
typedef struct INLINE_JOB {
    const char *spool_dir;
    const INLINE_LIMITS *limits;
    INLINE_FN fn;
    void   *context;
    VBUF   *err;
} INLINE_JOB;

/* inline_decode - decode one file whose begin line was just read and hand
 * it to the callback: 1 when the callback says stop, 0 to go on, -1 on
 * an error (why in err) */
static int inline_decode(const INLINE_JOB *job, LINES *l, int kind, VBUF *name,
                         long long ysize, long index)
{
    OUTPUT  o;
    INLINE_FILE f;
    const char *problem;
    int     ret = -1;

    memset(&o, 0, sizeof(o));
    o.spool_dir = job->spool_dir;
    o.err = job->err;
    o.max = job->limits->max_bytes;
    o.fd = -1;
    if (kind == INLINE_UUENCODE)
        problem = uu_decode(l, &o, job->err);
    else if (kind == INLINE_BASE64)
        problem = b64_decode(l, &o, job->err);
    else if (kind == INLINE_YENC)
        problem = yenc_decode(l, &o, ysize, job->err);
    else
        problem = binhex_decode(l, &o, name, job->err);
    if (o.failed || vbuf_len(job->err)) {
        if (vbuf_len(job->err) == 0)
            vbuf_strcpy(job->err, "cannot decode an inline file");
    } else if (o.fd >= 0 && (o.len > 0 || lseek(o.fd, 0, SEEK_SET) < 0)) {
        vbuf_sprintf(job->err, "cannot rewind an inline file: %s", strerror(errno));
    } else {
        f.kind = (INLINE_KIND)kind;
        f.index = (int)index;
        f.name = vbuf_str(name);
        f.data = o.fd >= 0 ? NULL : (o.mem ? o.mem : (const unsigned char *)"");
        f.size = o.size;
        f.fd = o.fd;
        f.problem = o.over ? "too big" : problem;
        ret = job->fn(&f, job->context) != 0;
    }
    if (o.fd >= 0)
        close(o.fd);
    myfree(o.mem);
    return ret;
}

/* inline_scan - every block in the text */
long inline_scan(const unsigned char *data, size_t size, int fd, const char *spool_dir,
                 const INLINE_LIMITS *limits, INLINE_FN fn, void *context, VBUF *err)
{
    INLINE_JOB job = {spool_dir, limits, fn, context, err};
    LINES   l;
    VBUF   *name = vbuf_alloc(INLINE_NAME_MAX + 16);
    long    found = 0;
    long long ysize = -1;
    int     rc = 0, kind, stop = 0;

    memset(&l, 0, sizeof(l));
    l.data = data;
    l.size = size;
    l.fd = fd;
    if (data == NULL)
        l.buf = mymalloc(2 * INLINE_PIECE);
    vbuf_reset(err);
    while (!stop && (rc = lines_next(&l)) > 0) {
        if ((kind = uu_begin(&l, name)) < 0) {
            if (yenc_begin(&l, name)) {
                kind = INLINE_YENC;
                ysize = yenc_param(&l, "size=");
            } else if (line_starts(&l, "(This file must be converted with BinHex", 1)) {
                kind = INLINE_BINHEX;
            } else {
                continue;
            }
        }
        if (++found > limits->max_files)
            continue;
        if ((stop = inline_decode(&job, &l, kind, name, ysize, found)) < 0) {
            found = -1;
            break;
        }
    }
    if (found >= 0 && rc < 0) {
        vbuf_sprintf(err, "cannot read text: %s", strerror(errno));
        found = -1;
    }
    myfree(l.buf);
    vbuf_free(name);
    return found;
}
