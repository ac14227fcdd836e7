/*
 * rate - sliding-window counts for rate rules (rate.h)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "lib/vbuf.h"
#include "policy/rate.h"

#define RATE_KEY_MAX 400                /* LMDB takes 511 bytes of key */

/* rate_step - see rate.h */
void    rate_step(RATE_REC *rec, int found, const RATE_QUERY *q, RATE_ANSWER *a)
{
    int64_t bstart = ((int64_t)q->now / q->window) * q->window;
    double  weight;

    if (!found || rec->window != q->window || rec->start > bstart) {
        rec->start = bstart;            /* new, another window, or a clock step back */
        rec->window = q->window;
        rec->cur = rec->prev = 0;
    } else if (rec->start == bstart - q->window) {
        rec->prev = rec->cur;
        rec->cur = 0;
        rec->start = bstart;
    } else if (rec->start != bstart) {
        rec->prev = rec->cur = 0;
        rec->start = bstart;
    }
    weight = (double)(q->window - ((int64_t)q->now - bstart)) / (double)q->window;
    a->estimate = rec->prev * weight + rec->cur;
    if (q->count) {
        a->over = a->estimate + 1 > (double)q->limit;
        if (!a->over) {
            rec->cur++;
            a->estimate += 1;
        }
    } else {
        a->over = a->estimate > (double)q->limit;
    }
}

/* rate_stale - see rate.h */
int     rate_stale(const RATE_REC *rec, time_t now)
{
    return rec->window <= 0 || rec->start + 2 * rec->window <= (int64_t)now;
}

/* rate_key - see rate.h */
void    rate_key(VBUF *out, const char *rule, const char *value)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t  i, start;

    vbuf_sprintf(out, "%s|", rule);
    start = vbuf_len(out);
    for (i = 0; value[i]; i++)
        vbuf_addch(out, tolower((unsigned char)value[i]));
    if (vbuf_len(out) <= RATE_KEY_MAX)
        return;
    SHA256((const unsigned char *)vbuf_str(out) + start, vbuf_len(out) - start, md);
    vbuf_truncate(out, start);
    vbuf_strcat(out, "sha256:");
    for (i = 0; i < sizeof(md); i++)
        vbuf_sprintf_append(out, "%02x", md[i]);
}

/* rate_parse_window - see rate.h */
long    rate_parse_window(const char *text)
{
    char   *end;
    long    n, unit = 1;

    if (!isdigit((unsigned char)*text))
        return -1;
    n = strtol(text, &end, 10);
    if (*end && end[1] == 0) {
        switch (*end) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return -1;
        }
    } else if (*end) {
        return -1;
    }
    if (n <= 0 || n > 366L * 86400 / unit)
        return -1;
    return n * unit;
}
