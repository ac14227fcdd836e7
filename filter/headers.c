/*
 * headers - our trace and status headers, and the ones we do not trust
 * (see headers.h)
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filter/headers.h"
#include "lib/spool.h"

#define HEADERS_READ_MAX   (1024 * 1024)    /* header block we look at */
#define HEADERS_DETAIL_MAX 200              /* detail in X-Virus-Status */
#define UNTRUSTED_PREFIX   "X-Untrusted-"

static const char *const headers_watched[] = {"X-Virus-Scanned", "X-Virus-Status", NULL};

/* headers_name_is - line starts with "name:" (optional white space before ':') */
static const char *headers_name_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);

    if (len <= n || strncasecmp(line, name, n) != 0)
        return NULL;
    for (line += n, len -= n; len > 0 && (*line == ' ' || *line == '\t'); line++, len--)
        /* skip */ ;
    return (len > 0 && *line == ':') ? line + 1 : NULL;
}

/* headers_watched_at - index of the watched header this line starts, or -1 */
static int headers_watched_at(const char *line, size_t len, int *ours, int *renamed)
{
    size_t plen = strlen(UNTRUSTED_PREFIX);
    const char *value;
    int i;

    *ours = *renamed = 0;
    for (i = 0; headers_watched[i]; i++) {
        if ((value = headers_name_is(line, len, headers_watched[i])) == NULL
            && len > plen && strncasecmp(line, UNTRUSTED_PREFIX, plen) == 0
            && (value = headers_name_is(line + plen, len - plen, headers_watched[i])) != NULL)
            *renamed = 1;
        if (value) {
            while (*value == ' ' || *value == '\t')
                value++;
            *ours = (i == 0 && (size_t)(value - line) + 8 <= len
                     && strncmp(value, "postsift", 8) == 0);
            return i;
        }
    }
    return -1;
}

/* headers_read - the first bytes of the message, up to the header end */
static ssize_t headers_read(int fd, VBUF *buf, VBUF *err)
{
    char chunk[16384];
    off_t off = 0;
    ssize_t n;

    vbuf_reset(buf);
    while (vbuf_len(buf) < HEADERS_READ_MAX) {
        n = pread(fd, chunk, sizeof(chunk), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vbuf_sprintf(err, "read spool file: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        (void)vbuf_append(buf, chunk, (size_t)n);
        off += n;
        if (strstr(vbuf_str(buf), "\n\n") || strstr(vbuf_str(buf), "\n\r\n"))
            break;
    }
    return (ssize_t)vbuf_len(buf);
}

/* headers_scan - count our trace headers and the ones to rename */
int headers_scan(int fd, HEADER_INFO *info, VBUF *err)
{
    VBUF *buf = vbuf_alloc(HEADERS_READ_MAX + 16384);
    const char *p, *end, *eol;
    int ours, renamed;

    memset(info, 0, sizeof(*info));
    if (headers_read(fd, buf, err) < 0) {
        vbuf_free(buf);
        return -1;
    }
    for (p = vbuf_str(buf), end = p + vbuf_len(buf); p < end; p = eol + 1) {
        if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
            eol = end;
        if (eol == p || (eol == p + 1 && *p == '\r'))
            break;                          /* end of the header block */
        if (headers_watched_at(p, (size_t)(eol - p), &ours, &renamed) >= 0) {
            info->our_trace += ours;
            info->foreign += !renamed;
        }
    }
    vbuf_free(buf);
    return 0;
}

/* headers_neutralize - copy with untrusted headers renamed */
int headers_neutralize(int fd, const char *dir, VBUF *err)
{
    VBUF *buf = vbuf_alloc(HEADERS_READ_MAX + 16384);
    const char *p, *start, *end, *eol;
    char chunk[65536];
    off_t off;
    ssize_t n;
    int out, ours, renamed, in_headers = 1;

    if (headers_read(fd, buf, err) < 0 || (out = spool_create(dir, err)) < 0) {
        vbuf_free(buf);
        return -1;
    }
    start = p = vbuf_str(buf);
    end = p + vbuf_len(buf);
    for (; p < end; p = eol + 1) {
        if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
            eol = end - 1;
        if (in_headers && (eol == p || (eol == p + 1 && *p == '\r')))
            in_headers = 0;
        if (in_headers && headers_watched_at(p, (size_t)(eol - p), &ours, &renamed) >= 0 && !renamed)
            if (spool_write_all(out, UNTRUSTED_PREFIX, strlen(UNTRUSTED_PREFIX)) < 0)
                goto fail;
        if (spool_write_all(out, p, (size_t)(eol - p) + 1) < 0)
            goto fail;
    }
    /* The rest of the message, unchanged. */
    for (off = (off_t)(end - start);; off += n) {
        n = pread(fd, chunk, sizeof(chunk), off);
        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        if (spool_write_all(out, chunk, (size_t)n) < 0)
            goto fail;
    }
    vbuf_free(buf);
    return out;

fail:
    vbuf_sprintf(err, "cannot rewrite untrusted headers: %s", strerror(errno));
    (void)close(out);
    vbuf_free(buf);
    return -1;
}

/* headers_clean_text - printable ASCII, one line, bounded */
static void headers_clean_text(VBUF *out, const char *text, size_t max)
{
    size_t n = 0;

    for (; text && *text && n < max; text++, n++) {
        unsigned char ch = (unsigned char)*text;

        (void)vbuf_addch(out, (ch < 0x20 || ch >= 0x7f) ? '?' : ch);
    }
    if (text && *text)
        (void)vbuf_strcat(out, "...");
}

/* headers_build - X-Virus-Scanned, and X-Virus-Status when tagging */
void headers_build(VBUF *out, const char *engine, const char *host,
                   VERDICT verdict, const char *detail, int tag)
{
    (void)vbuf_strcat(out, "X-Virus-Scanned: postsift " POSTSIFT_VERSION " (");
    headers_clean_text(out, engine, HEADERS_DETAIL_MAX);
    (void)vbuf_strcat(out, ") on ");
    headers_clean_text(out, host, 255);
    (void)vbuf_addch(out, '\n');
    if (tag) {
        (void)vbuf_sprintf_append(out, "X-Virus-Status: %s", verdict_titles[verdict]);
        if (detail && *detail) {
            (void)vbuf_strcat(out, " (");
            headers_clean_text(out, detail, HEADERS_DETAIL_MAX);
            (void)vbuf_addch(out, ')');
        }
        (void)vbuf_addch(out, '\n');
    }
}
