/*
 * check - one run of the linter (see check.h): read the instance, find
 * its filters, run the rules, and say how it went.
 *
 * A run allocates from a pool of its own (a list of blocks freed together
 * at the end), so the many small strings of the model need no owner.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "lib/config.h"
#include "lib/mymalloc.h"

struct CK_POOL {
    struct CK_POOL *next;
    /* the block follows */
};

/* ck_alloc - zeroed memory that lives until the end of the run */
void   *ck_alloc(CK *ck, size_t len)
{
    CK_POOL *blk;
    size_t  head = (sizeof(CK_POOL) + 15) & ~(size_t)15;

    blk = mycalloc(1, head + len + 1);
    blk->next = ck->pool;
    ck->pool = blk;
    return (char *)blk + head;
}

/* ck_pool_release - free every block of the run */
void    ck_pool_release(CK *ck)
{
    CK_POOL *blk, *next;

    for (blk = ck->pool; blk != NULL; blk = next) {
        next = blk->next;
        myfree(blk);
    }
    ck->pool = NULL;
}

/* ck_strn - a pooled copy of len bytes of s */
const char *ck_strn(CK *ck, const char *s, size_t len)
{
    char   *copy = ck_alloc(ck, len + 1);

    memcpy(copy, s, len);
    return copy;
}

/* ck_str - a pooled copy of s */
const char *ck_str(CK *ck, const char *s)
{
    return ck_strn(ck, s, strlen(s));
}

/* ck_fmt - a pooled formatted string */
const char *ck_fmt(CK *ck, const char *fmt, ...)
{
    VBUF   *vb = vbuf_alloc(VBUF_DEFAULT_CAP);
    const char *s;
    va_list ap;

    va_start(ap, fmt);
    vbuf_vsprintf_append(vb, fmt, ap);
    va_end(ap);
    s = ck_strn(ck, vbuf_str(vb), vbuf_len(vb));
    vbuf_free(vb);
    return s;
}

/* ck_list_add - append a pointer; the array grows in the pool */
void    ck_list_add(CK *ck, CK_LIST *list, const void *item)
{
    void  **grown;

    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        grown = ck_alloc(ck, list->cap * sizeof(*grown));
        if (list->n)
            memcpy(grown, list->v, list->n * sizeof(*grown));
        list->v = grown;
    }
    list->v[list->n++] = CK_UNCONST(item);
}

/* ck_list_has - a list of strings holds s */
int     ck_list_has(const CK_LIST *list, const char *s)
{
    size_t  i;

    for (i = 0; i < list->n; i++)
        if (strcmp(list->v[i], s) == 0)
            return 1;
    return 0;
}

/* ck_join - a list of strings joined with sep */
const char *ck_join(CK *ck, const CK_LIST *list, const char *sep)
{
    VBUF   *vb = vbuf_alloc(VBUF_DEFAULT_CAP);
    const char *s;
    size_t  i;

    for (i = 0; i < list->n; i++) {
        if (i)
            vbuf_strcat(vb, sep);
        vbuf_strcat(vb, list->v[i]);
    }
    s = ck_strn(ck, vbuf_str(vb), vbuf_len(vb));
    vbuf_free(vb);
    return s;
}

/* ck_words - append the words of text (separated by white space) */
void    ck_words(CK *ck, CK_LIST *list, const char *text)
{
    const char *cp = text;
    size_t  len;

    for (;;) {
        cp += strspn(cp, " \t\r\n");
        if (*cp == 0)
            break;
        len = strcspn(cp, " \t\r\n");
        ck_list_add(ck, list, ck_strn(ck, cp, len));
        cp += len;
    }
}

/* ck_say - a line for -v */
void    ck_say(CK *ck, const char *fmt, ...)
{
    va_list ap;

    if (!ck->opts->verbose)
        return;
    fprintf(ck->out, "%s: ", CK_PROG);
    va_start(ap, fmt);
    vfprintf(ck->out, fmt, ap);
    va_end(ap);
    fputc('\n', ck->out);
}

/* check_usage - complain (what, then arg, then more) and return the usage
   exit status */
int     check_usage(const char *what, const char *arg, const char *more)
{
    if (what)
        fprintf(stderr, "%s: %s%s%s\n", CK_PROG, what, arg, more);
    fprintf(stderr, "usage: %s check [-v] [-c config_dir] [-p postsift.conf] "
            "[--snapshot dir] [--clamd-conf file]\n", CK_PROG);
    return CK_EXIT_USAGE;
}

/* check_run - one run; the exit status (0 clean, 1 findings, 2 unreadable) */
int     check_run(const CK_OPTS *opts, FILE *out, FILE *errfp)
{
    CK      ck;
    VBUF   *err = vbuf_alloc(64 * 1024);
    int     status;

    memset(&ck, 0, sizeof(ck));
    ck.opts = opts;
    ck.out = out;
    config_init();
    if (postconf_read(&ck, err) < 0) {
        fprintf(errfp, "%s: error: %s\n", CK_PROG, vbuf_str(err));
        status = CK_EXIT_USAGE;
    } else {
        ck_say(&ck, "instance %s: %zu master.cf services", ck.config_dir, ck.services.n);
        ck_discover(&ck);
        ck_run_rules(&ck);
        if (ck.requests.n == 0 && ck.reinjs.n == 0)
            ck_say(&ck, "no content filter found in %s (content_filter, FILTER actions, "
                   "smtpd_proxy_filter)", ck.config_dir);
        if (ck.nfind > 0)
            ck_say(&ck, "%d finding(s)", ck.nfind);
        else
            ck_say(&ck, "no findings");
        status = ck.nfind > 0 ? CK_EXIT_FINDINGS : CK_EXIT_CLEAN;
    }
    fflush(out);
    ck_pool_release(&ck);
    vbuf_free(err);
    return status;
}
