/*
 * headers - our trace and status headers, and the ones we do not trust
 * (see headers.h)
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "scan/headers.h"
#include "lib/mymalloc.h"
#include "lib/printable.h"
#include "lib/spool.h"

#define HEADERS_CHUNK      65536            /* bytes read at a time */
#define HEADERS_DETAIL_MAX 200              /* detail in X-Virus-Status */
#define UNTRUSTED_PREFIX   "X-Untrusted-"
#define OUR_TRACE          "postsift"       /* our X-Virus-Scanned value starts so */

 /*
  * The header block is read as a stream, one byte at a time through a
  * small state machine, however long it is and wherever a header sits:
  * memory stays at one read buffer. A header is recognised at the start
  * of a line as one of the names below (any case), optional blanks, then
  * ':'. A copy with renamed headers is made the same way: bytes go from
  * the file to the copy in ranges, and the prefix is written just before
  * each line that needs it.
  */
typedef struct HEADERS_NAME {
    const char *name;
    int     scanned;                /* an X-Virus-Scanned (else -Status) */
    int     renamed;                /* already has our prefix */
} HEADERS_NAME;

static const HEADERS_NAME headers_names[] = {
    {"X-Virus-Scanned", 1, 0},
    {"X-Virus-Status", 0, 0},
    {UNTRUSTED_PREFIX "X-Virus-Scanned", 1, 1},
    {UNTRUSTED_PREFIX "X-Virus-Status", 0, 1},
};

#define HEADERS_NNAMES  (sizeof(headers_names) / sizeof(headers_names[0]))
#define HEADERS_ALL     ((1U << HEADERS_NNAMES) - 1)

typedef enum HEADERS_STATE {
    HS_BOL,                         /* at the start of a line */
    HS_CR_BOL,                      /* a CR at the start of a line */
    HS_NAME,                        /* in a name that may be watched */
    HS_BLANKS,                      /* blanks after a watched name */
    HS_VALUE_BLANKS,                /* blanks after "X-Virus-Scanned:" */
    HS_VALUE,                       /* matching OUR_TRACE */
    HS_SKIP,                        /* the rest of the line does not matter */
    HS_END,                         /* the empty line: the body follows */
} HEADERS_STATE;

typedef struct HEADERS_WALK {
    HEADERS_STATE state;
    unsigned mask;                  /* names still matching in HS_NAME */
    size_t  pos;                    /* bytes matched in HS_NAME, HS_VALUE */
    int     found;                  /* the name matched (HS_BLANKS) */
    off_t   line_start;             /* offset of the current line */
    HEADER_INFO *info;              /* what is counted */
    int     fd;                     /* the message */
    int     out;                    /* the copy with renamed headers, or -1 */
    off_t   copied;                 /* bytes of fd copied to out so far */
    char   *copybuf;                /* HEADERS_CHUNK, when out >= 0 */
} HEADERS_WALK;

/* headers_copy_range - bytes [from, to) of fd appended to out */
static int headers_copy_range(int fd, int out, off_t from, off_t to, char *buf)
{
    ssize_t n;
    size_t  want;

    while (from < to) {
        want = (size_t)(to - from) < HEADERS_CHUNK ? (size_t)(to - from) : HEADERS_CHUNK;
        n = pread(fd, buf, want, from);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;                /* the file shrank under us */
            return -1;
        }
        if (spool_write_all(out, buf, (size_t)n) < 0)
            return -1;
        from += n;
    }
    return 0;
}

/* headers_match - narrow the name candidates by one more byte */
static unsigned headers_match(unsigned mask, size_t pos, int ch)
{
    size_t  i;

    for (i = 0; i < HEADERS_NNAMES; i++)
        if ((mask & (1U << i)) && (strlen(headers_names[i].name) <= pos
                                   || tolower((unsigned char)headers_names[i].name[pos])
                                   != tolower(ch)))
            mask &= ~(1U << i);
    return mask;
}

/* headers_complete - the candidate whose whole name is the pos bytes seen */
static int headers_complete(unsigned mask, size_t pos)
{
    size_t  i;

    for (i = 0; i < HEADERS_NNAMES; i++)
        if ((mask & (1U << i)) && strlen(headers_names[i].name) == pos)
            return (int)i;
    return -1;
}

/* headers_watched - a watched header starts at w->line_start: count it,
 * and in a copy put our prefix before it; -1 with why in err */
static int headers_watched(HEADERS_WALK *w, VBUF *err)
{
    if (headers_names[w->found].renamed)
        return 0;
    w->info->foreign++;
    if (w->out < 0)
        return 0;
    if (headers_copy_range(w->fd, w->out, w->copied, w->line_start, w->copybuf) < 0
        || spool_write_all(w->out, UNTRUSTED_PREFIX, strlen(UNTRUSTED_PREFIX)) < 0) {
        vbuf_sprintf(err, "cannot rewrite untrusted headers: %s", strerror(errno));
        return -1;
    }
    w->copied = w->line_start;
    return 0;
}

/* headers_line_start - the first byte of a line (at offset at) */
static size_t headers_line_start(HEADERS_WALK *w, int ch, off_t at)
{
    w->line_start = at;
    if (ch == '\n') {
        w->state = HS_END;
    } else if (ch == '\r') {
        w->state = HS_CR_BOL;
    } else {
        w->state = HS_NAME;
        w->mask = HEADERS_ALL;
        w->pos = 0;
        return 0;                       /* this byte is the name's first */
    }
    return 1;
}

/* headers_step - one step of the state machine at p (file offset at):
 * how many bytes it took (0: look at this one again), or -1 with why */
static ssize_t headers_step(HEADERS_WALK *w, const char *p, const char *end, off_t at,
                            VBUF *err)
{
    int     ch = (unsigned char)*p;
    const char *nl;

    if (ch == '\n' && w->state != HS_BOL && w->state != HS_CR_BOL) {
        w->state = HS_BOL;
        return 1;
    }
    switch (w->state) {
    case HS_BOL:
        return (ssize_t)headers_line_start(w, ch, at);
    case HS_CR_BOL:
        w->state = ch == '\n' ? HS_END : HS_SKIP;
        return 1;
    case HS_NAME:
        if (ch == ' ' || ch == '\t' || ch == ':') {
            if ((w->found = headers_complete(w->mask, w->pos)) < 0) {
                w->state = HS_SKIP;
                return 1;
            }
            w->state = HS_BLANKS;
            return 0;                   /* look at it again as a blank or ':' */
        }
        if ((w->mask = headers_match(w->mask, w->pos++, ch)) == 0)
            w->state = HS_SKIP;
        return 1;
    case HS_BLANKS:
        if (ch == ' ' || ch == '\t')
            return 1;
        if (ch != ':') {
            w->state = HS_SKIP;
            return 1;
        }
        if (headers_watched(w, err) < 0)
            return -1;
        w->state = headers_names[w->found].scanned ? HS_VALUE_BLANKS : HS_SKIP;
        return 1;
    case HS_VALUE_BLANKS:
        if (ch == ' ' || ch == '\t')
            return 1;
        w->state = HS_VALUE;
        w->pos = 0;
        return 0;
    case HS_VALUE:
        if (ch != OUR_TRACE[w->pos]) {
            w->state = HS_SKIP;
        } else if (++w->pos == strlen(OUR_TRACE)) {
            w->info->our_trace++;
            w->state = HS_SKIP;
        }
        return 1;
    case HS_SKIP:
        /* nothing matters before the next line end */
        nl = memchr(p, '\n', (size_t)(end - p));
        return nl ? nl - p : end - p;
    case HS_END:
        break;
    }
    return 1;
}

/* headers_walk - stream the top-level header block of fd: count our trace
 * headers and the ones to rename; with out >= 0, also write the whole
 * message to out with those renamed. 0, or -1 with why in err. */
static int headers_walk(int fd, HEADER_INFO *info, int out, VBUF *err)
{
    HEADERS_WALK w;
    char   *buf = mymalloc(HEADERS_CHUNK);
    const char *p, *end;
    off_t   off = 0, size;
    ssize_t n, step;
    int     ret = -1;

    memset(info, 0, sizeof(*info));
    memset(&w, 0, sizeof(w));
    w.state = HS_BOL;
    w.found = -1;
    w.info = info;
    w.fd = fd;
    w.out = out;
    w.copybuf = out >= 0 ? mymalloc(HEADERS_CHUNK) : NULL;
    while (w.state != HS_END) {
        if ((n = pread(fd, buf, HEADERS_CHUNK, off)) < 0) {
            if (errno == EINTR)
                continue;
            vbuf_sprintf(err, "read spool file: %s", strerror(errno));
            goto done;
        }
        if (n == 0)
            break;                          /* no body: all headers */
        for (p = buf, end = buf + n; p < end && w.state != HS_END; p += step)
            if ((step = headers_step(&w, p, end, off + (p - buf), err)) < 0)
                goto done;
        off += n;
    }
    /* The rest of the message, unchanged. */
    if (out >= 0 && ((size = spool_size(fd)) < 0
                     || headers_copy_range(fd, out, w.copied, size, w.copybuf) < 0)) {
        vbuf_sprintf(err, "cannot rewrite untrusted headers: %s", strerror(errno));
        goto done;
    }
    ret = 0;

done:
    myfree(buf);
    if (w.copybuf)
        myfree(w.copybuf);
    return ret;
}

/* headers_scan - count our trace headers and the ones to rename */
int headers_scan(int fd, HEADER_INFO *info, VBUF *err)
{
    return headers_walk(fd, info, -1, err);
}

/* headers_neutralize - copy with untrusted headers renamed */
int headers_neutralize(int fd, const char *dir, VBUF *err)
{
    HEADER_INFO info;
    int     out;

    if ((out = spool_create(dir, err)) < 0)
        return -1;
    if (headers_walk(fd, &info, out, err) < 0) {
        (void)close(out);
        return -1;
    }
    return out;
}

/* HEADERS_TEXT - printable ASCII, one line, at most max bytes and "..." */
#define HEADERS_TEXT(out, text, max) do { \
        const char *ht_text = (text) ? (text) : ""; \
        size_t  ht_len = strlen(ht_text); \
        printable_append((out), ht_text, ht_len, (max), PRINTABLE_ASCII); \
        if (ht_len > (max)) \
            (void)vbuf_strcat((out), "..."); \
    } while (0)

/* headers_build - X-Virus-Scanned, and X-Virus-Status when tagging */
void headers_build(VBUF *out, const char *engine, const char *host,
                   VERDICT verdict, const char *detail, int tag)
{
    (void)vbuf_strcat(out, "X-Virus-Scanned: postsift " POSTSIFT_VERSION " (");
    HEADERS_TEXT(out, engine, HEADERS_DETAIL_MAX);
    (void)vbuf_strcat(out, ") on ");
    HEADERS_TEXT(out, host, 255);
    (void)vbuf_addch(out, '\n');
    if (tag) {
        (void)vbuf_sprintf_append(out, "X-Virus-Status: %s", verdict_titles[verdict]);
        if (detail && *detail) {
            (void)vbuf_strcat(out, " (");
            HEADERS_TEXT(out, detail, HEADERS_DETAIL_MAX);
            (void)vbuf_addch(out, ')');
        }
        (void)vbuf_addch(out, '\n');
    }
}
