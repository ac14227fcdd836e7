/*
 * mimescan - bound GMime's work before it starts; sweep raw headers for
 * file names (see mimescan.h)
 *
 * One line at a time (long lines in pieces), a small state machine keeps
 * "this may be a header block" the way GMime enters header blocks: at the
 * start of the file, after a line that is "--" and a known boundary (GMime
 * checks boundaries only outside header blocks, so counting them inside
 * too only over-counts), and after the header block of a message part
 * (or of any part once a multipart/digest was declared, where parts
 * default to message/rfc822). A header block ends at an empty line, as in
 * GMime. Over-counting is safe: the cut then comes a little early and the
 * message is unchecked; under-counting would let GMime build more than the
 * limits allow, so every choice here errs on the side of counting.
 *
 * The sweep uses the same machine without the boundary table: any line
 * that starts with "--" may start a header block.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "scan/mimename.h"
#include "scan/mimescan.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/spool.h"
#include "lib/vbuf.h"

#define MIMESCAN_BUF        (64 * 1024)         /* read buffer */
#define MIMESCAN_PIECE      (32 * 1024)         /* longer lines come in pieces */
#define MIMESCAN_WORK_MAX   (1LL << 28)         /* boundary comparisons GMime may make */
#define MIMESCAN_DEPTH_MAX  1024                /* GMime's nesting limit */
#define MIMESCAN_BOUNDS(max_parts) (4 * (max_parts) + 64)  /* boundary declarations */

typedef struct READER {
    int     fd;
    off_t   off;                        /* file offset of buf[0] */
    char   *buf;
    size_t  len;                        /* bytes in buf */
    size_t  pos;                        /* next byte to hand out */
    int     eof;
    int     midline;                    /* the last piece did not end its line */
} READER;

typedef struct PIECE {
    const char *data;
    size_t  len;
    off_t   off;                        /* file offset of data */
    int     first;                      /* starts a line */
    int     last;                       /* ends a line */
} PIECE;

#define FIELD_NONE  0
#define FIELD_OTHER 1                   /* a header field we only count */
#define FIELD_CT    2                   /* Content-Type */
#define FIELD_CD    3                   /* Content-Disposition */
#define FIELD_JUNK  4                   /* not a header field: GMime keeps nothing */

typedef struct SCAN {
    /* what the pass is for */
    int     sweep;                      /* 0: bound, 1: sweep for names */
    const MIMESCAN_LIMITS *limits;
    MIMESCAN_RESULT *res;
    MIMESCAN_NAME_FN fn;
    void   *context;
    VBUF   *note;
    off_t   cut;                        /* -1 until a limit is passed */
    /* where we are */
    int     header;                     /* may be in a header block */
    int     block_message;              /* this block declares a message */
    int     block_ct;                   /* this block has a Content-Type */
    int     digest;                     /* a multipart/digest was declared */
    int     field;                      /* FIELD_* being read */
    off_t   field_off;
    size_t  field_len;
    VBUF   *value;                      /* Content-Type/-Disposition value */
    /* the line being read */
    off_t   line_off;
    size_t  line_len;
    int     dash;                       /* it starts with "--" */
    int     cand_ok;                    /* cand may still be a boundary line */
    VBUF   *cand;                       /* what follows "--", white space cut */
    /* counts (bound pass) */
    GHashTable *bounds;
    size_t  bmax;                       /* longest boundary */
    long    bdecls;                     /* Content-Type headers with a boundary */
    long    messages;                   /* Content-Type headers of messages */
    long long work;
} SCAN;

/* mimescan_result_init - nothing found yet */
void mimescan_result_init(MIMESCAN_RESULT *res)
{
    res->size = 0;
    res->cut = 0;
    res->why = vbuf_alloc(256);
    res->starts = 0;
    res->items = 0;
    res->nul = 0;
    res->lines = 0;
    res->dash_lines = 0;
}

/* mimescan_result_free - release the buffers */
void mimescan_result_free(MIMESCAN_RESULT *res)
{
    vbuf_free(res->why);
    res->why = NULL;
}

/* reader_next - the next line, or piece of a long line; 1, 0 at the end,
 * -1 on a read error */
static int reader_next(READER *r, PIECE *p)
{
    char   *nl;
    ssize_t n;

    for (;;) {
        if ((nl = memchr(r->buf + r->pos, '\n', r->len - r->pos)) != NULL) {
            p->last = 1;
            p->len = (size_t)(nl - (r->buf + r->pos));
            break;
        }
        if (r->len - r->pos >= MIMESCAN_PIECE || (r->eof && r->pos < r->len)) {
            p->last = r->eof && r->len - r->pos < MIMESCAN_PIECE;
            p->len = r->len - r->pos;
            break;
        }
        if (r->eof)
            return 0;
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->off += (off_t)r->pos;
        r->len -= r->pos;
        r->pos = 0;
        do {
            n = pread(r->fd, r->buf + r->len, MIMESCAN_BUF - r->len, r->off + (off_t)r->len);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return -1;
        if (n == 0)
            r->eof = 1;
        r->len += (size_t)n;
    }
    p->data = r->buf + r->pos;
    p->off = r->off + (off_t)r->pos;
    p->first = !r->midline;
    r->midline = !p->last;
    r->pos += p->len + (p->last && r->pos + p->len < r->len);
    return 1;
}

/* scan_cut - a limit is passed: GMime reads up to offset off */
static void scan_cut(SCAN *s, off_t off, const char *why)
{
    if (s->sweep || s->cut >= 0)
        return;
    s->cut = off;
    vbuf_strcpy(s->res->why, why);
}

/* scan_lwsp - what GMime skips after a boundary */
static int scan_lwsp(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* scan_add_boundary - remember one declared boundary (C string part) */
static void scan_add_boundary(SCAN *s, const char *b, size_t len)
{
    size_t  clen = strnlen(b, len);

    if (clen == 0 || g_hash_table_contains(s->bounds, b))
        return;
    g_hash_table_add(s->bounds, g_strndup(b, clen));
    if (clen > s->bmax)
        s->bmax = clen;
}

/* scan_boundary_fn - mimename callback: a boundary parameter */
static void scan_boundary_fn(const char *attr, const char *value, size_t len, void *context)
{
    SCAN   *s = context;

    (void)attr;
    scan_add_boundary(s, value, len);
}

/* scan_content_type - a Content-Type header of the bound pass: its
 * boundaries, and whether it makes the next block headers */
static void scan_content_type(SCAN *s)
{
    static const char *const battrs[] = {"boundary", NULL};
    const char *text = vbuf_str(s->value);
    GMimeContentType *ct;
    int     message = 0, found = 0;

    if ((ct = g_mime_content_type_parse(NULL, text)) != NULL) {
        const char *type = g_mime_content_type_get_media_type(ct);
        const char *sub = g_mime_content_type_get_media_subtype(ct);
        const char *b = g_mime_content_type_get_parameter(ct, "boundary");

        if (type && strcasecmp(type, "message") == 0)
            message = 1;
        if (sub && strcasecmp(sub, "digest") == 0)
            s->digest = 1;
        if (b && *b) {
            scan_add_boundary(s, b, strlen(b));
            found = 1;
        }
        g_object_unref(ct);
    }
    if (mimename_params(text, vbuf_len(s->value), battrs, scan_boundary_fn, s) > 0)
        found = 1;
    if (strcasestr(text, "message/") != NULL)
        message = 1;
    if (strcasestr(text, "digest") != NULL)
        s->digest = 1;
    if (found && ++s->bdecls > MIMESCAN_BOUNDS(s->limits->max_parts))
        scan_cut(s, s->field_off, "too many MIME boundaries");
    if (message) {
        s->block_message = 1;
        if (s->res->starts + ++s->messages > s->limits->max_parts)
            scan_cut(s, s->field_off, "too many MIME parts");
    }
}

/* scan_names_fn - mimename callback of the sweep */
static void scan_names_fn(const char *attr, const char *value, size_t len, void *context)
{
    SCAN   *s = context;

    (void)attr;
    s->fn(s->field_off, value, len, s->context);
}

/* scan_finish_field - a header field is complete */
static void scan_finish_field(SCAN *s)
{
    static const char *const nattrs[] = {"filename", "name", NULL};
    int     field = s->field;

    s->field = FIELD_NONE;
    if (field != FIELD_CT && field != FIELD_CD)
        return;
    if (s->sweep) {
        if (s->field_len > MIMESCAN_FIELD_MAX && s->note != NULL
            && strstr(vbuf_str(s->note), "oversized MIME header") == NULL)
            vbuf_strcat(s->note, vbuf_len(s->note) ? ", oversized MIME header" : "oversized MIME header");
        if (field == FIELD_CT) {
            s->block_ct = 1;
            if (strcasestr(vbuf_str(s->value), "message/") != NULL)
                s->block_message = 1;
            if (strcasestr(vbuf_str(s->value), "digest") != NULL)
                s->digest = 1;
        }
        (void)mimename_params(vbuf_str(s->value), vbuf_len(s->value), nattrs, scan_names_fn, s);
        return;
    }
    if (s->field_len > MIMESCAN_FIELD_MAX) {
        scan_cut(s, s->field_off, "oversized MIME header");
        return;
    }
    if (field == FIELD_CT) {
        s->block_ct = 1;
        scan_content_type(s);
    }
}

/* scan_end_block - an empty line ends a header block */
static void scan_end_block(SCAN *s)
{
    scan_finish_field(s);
    s->header = s->block_message || (s->digest && !s->block_ct);
    s->block_message = s->block_ct = 0;
}

/* scan_field_kind - what a line that starts a header field is: GMime
 * keeps a header only when a name without blanks or control characters
 * (blanks may follow it) comes before a colon */
static int scan_field_kind(const char *d, size_t len)
{
    size_t  i;
    int     blank = 0;

    for (i = 0; i < len && d[i] != ':'; i++) {
        unsigned char ch = (unsigned char)d[i];

        if (ch == ' ' || ch == '\t')
            blank = 1;
        else if (blank || ch < 32 || ch == 127)
            return FIELD_JUNK;
    }
    if (i == 0 || i == len)
        return FIELD_JUNK;
    while (i > 0 && (d[i - 1] == ' ' || d[i - 1] == '\t'))
        i--;
    if (i == 12 && strncasecmp(d, "content-type", 12) == 0)
        return FIELD_CT;
    if (i == 19 && strncasecmp(d, "content-disposition", 19) == 0)
        return FIELD_CD;
    return FIELD_OTHER;
}

/* scan_items - what GMime allocates for in a header line: parameters
 * (";"), addresses (","), and, because it decodes every value when a
 * warning callback is set, words and encoded words */
static long scan_items(const char *d, size_t len)
{
    long    n = 0;
    size_t  i;
    int     space = 1;

    for (i = 0; i < len; i++) {
        int     ch = (unsigned char)d[i];

        if (ch == ' ' || ch == '\t' || ch == '\r') {
            space = 1;
            continue;
        }
        n += space + (ch == ';' || ch == ',' || (ch == '=' && i + 1 < len && d[i + 1] == '?'));
        space = 0;
    }
    return n;
}

/* scan_value - collect the value of a Content-Type/-Disposition field */
static void scan_value(SCAN *s, const char *d, size_t len, int with_newline)
{
    size_t  room;

    if (s->field != FIELD_CT && s->field != FIELD_CD)
        return;
    room = MIMESCAN_FIELD_MAX > vbuf_len(s->value) ? MIMESCAN_FIELD_MAX - vbuf_len(s->value) : 0;
    vbuf_append(s->value, d, len < room ? len : room);
    if (with_newline && vbuf_len(s->value) < MIMESCAN_FIELD_MAX)
        vbuf_addch(s->value, '\n');
}

/* scan_first - the first piece of a line */
static void scan_first(SCAN *s, const PIECE *p)
{
    const char *d = p->data;
    size_t  len = p->len, clen;
    const char *colon;

    s->line_off = p->off;
    s->line_len = 0;
    s->dash = len >= 2 && d[0] == '-' && d[1] == '-';
    s->cand_ok = 0;
    if (s->dash && !s->sweep) {
        for (clen = len; clen > 2 && scan_lwsp((unsigned char)d[clen - 1]); clen--)
             /* void */ ;
        if (clen - 2 <= s->bmax + 2) {
            vbuf_reset(s->cand);
            vbuf_append(s->cand, d + 2, clen - 2);
            s->cand_ok = 1;
        }
    }
    if (!s->header)
        return;
    if (p->last && (len == 0 || (len == 1 && d[0] == '\r'))) {
        scan_end_block(s);
        return;
    }
    if ((d[0] == ' ' || d[0] == '\t') && s->field != FIELD_NONE) {
        scan_value(s, d, len, p->last);
    } else {
        scan_finish_field(s);
        s->field_off = p->off;
        s->field_len = 0;
        s->field = scan_field_kind(d, len);
        if (!s->sweep && s->field != FIELD_JUNK && ++s->res->items > s->limits->max_headers)
            scan_cut(s, s->field_off, "too many MIME header fields");
        vbuf_reset(s->value);
        if ((s->field == FIELD_CT || s->field == FIELD_CD)
            && (colon = memchr(d, ':', len)) != NULL)
            scan_value(s, colon + 1, len - (size_t)(colon + 1 - d), p->last);
    }
}

/* scan_more - a later piece of a long line */
static void scan_more(SCAN *s, const PIECE *p)
{
    size_t  i;

    for (i = 0; s->cand_ok && i < p->len; i++)
        if (!scan_lwsp((unsigned char)p->data[i]))
            s->cand_ok = 0;
    if (s->header && s->field != FIELD_NONE)
        scan_value(s, p->data, p->len, p->last);
}

/* scan_line_end - a line is complete: boundary lines */
static void scan_line_end(SCAN *s)
{
    int     start = 0;
    long    depth;

    if (!s->dash)
        return;
    if (s->sweep) {
        if (!s->header) {
            s->header = 1;
            s->block_message = s->block_ct = 0;
        }
        return;
    }
    if (s->cand_ok && g_hash_table_contains(s->bounds, vbuf_str(s->cand)))
        start = 1;
    if (s->header) {
        if (start && s->res->starts + s->messages + 1 > s->limits->max_parts)
            scan_cut(s, s->line_off, "too many MIME parts");
        s->res->starts += start;
        return;
    }
    /* GMime compares every "--" line outside headers with each open boundary. */
    depth = s->bdecls < MIMESCAN_DEPTH_MAX ? s->bdecls : MIMESCAN_DEPTH_MAX;
    s->work += (long long)depth * (long long)((s->line_len < s->bmax + 4 ? s->line_len : s->bmax + 4) + 1);
    if (s->work > MIMESCAN_WORK_MAX)
        scan_cut(s, s->line_off, "too many MIME boundary lines");
    if (start) {
        if (s->res->starts + s->messages + 1 > s->limits->max_parts)
            scan_cut(s, s->line_off, "too many MIME parts");
        s->res->starts++;
        s->header = 1;
        s->block_message = s->block_ct = 0;
    }
}

/* scan_run - one pass from offset from; 0, or -1 with why in err */
static int scan_run(SCAN *s, int fd, off_t from, VBUF *err)
{
    READER  r;
    PIECE   p;
    int     rc;

    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.off = from;
    r.buf = mymalloc(MIMESCAN_BUF);
    s->value = vbuf_alloc(MIMESCAN_FIELD_MAX + 16);
    s->cand = vbuf_alloc(VBUF_DEFAULT_CAP);
    s->header = 1;
    s->field = FIELD_NONE;
    s->cut = -1;
    while ((rc = reader_next(&r, &p)) > 0) {
        /* After the cut the bound pass only counts lines (for the cost of
         * a raw scan); the sweep stops nowhere. */
        if (!s->sweep && p.first) {
            s->res->lines++;
            s->res->dash_lines += (p.len >= 2 && p.data[0] == '-' && p.data[1] == '-');
        }
        if (s->cut >= 0)
            continue;
        if (!s->sweep && memchr(p.data, 0, p.len) != NULL)
            s->res->nul = 1;
        if (p.first)
            scan_first(s, &p);
        else
            scan_more(s, &p);
        s->line_len += p.len;
        if (s->header && s->field != FIELD_NONE) {
            s->field_len += p.len + p.last;
            if (!s->sweep && s->field != FIELD_JUNK
                && (s->res->items += scan_items(p.data, p.len)) > s->limits->max_headers)
                scan_cut(s, s->field_off, "too many MIME header fields");
        }
        if (p.last)
            scan_line_end(s);
    }
    if (s->cut < 0 && rc == 0)
        scan_finish_field(s);
    myfree(r.buf);
    vbuf_free(s->value);
    vbuf_free(s->cand);
    if (rc < 0 && s->cut < 0) {
        vbuf_sprintf(err, "cannot read the message file: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* mimescan_bound - find where GMime must stop */
int mimescan_bound(int fd, const MIMESCAN_LIMITS *limits, MIMESCAN_RESULT *res, VBUF *err)
{
    SCAN    s;
    off_t   size;
    int     rc;

    g_mime_init();
    if ((size = spool_size(fd)) < 0) {
        vbuf_sprintf(err, "cannot read the message file: %s", strerror(errno));
        return -1;
    }
    res->size = size;
    res->starts = res->items = 0;
    res->lines = res->dash_lines = 0;
    res->nul = 0;
    vbuf_reset(res->why);
    memset(&s, 0, sizeof(s));
    s.limits = limits;
    s.res = res;
    s.bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rc = scan_run(&s, fd, 0, err);
    g_hash_table_destroy(s.bounds);
    res->cut = (rc == 0 && s.cut >= 0) ? s.cut : size;
    return rc;
}

/* mimescan_sweep - file names of every raw Content-Type/-Disposition */
int mimescan_sweep(int fd, off_t from, MIMESCAN_NAME_FN fn, void *context, VBUF *note, VBUF *err)
{
    MIMESCAN_RESULT dummy;
    SCAN    s;

    memset(&s, 0, sizeof(s));
    memset(&dummy, 0, sizeof(dummy));
    s.sweep = 1;
    s.res = &dummy;
    s.fn = fn;
    s.context = context;
    s.note = note;
    return scan_run(&s, fd, from, err);
}
