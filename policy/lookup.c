/*
 * lookup - the keys of a table file (lookup.h)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/lookup.h"

/* lookup_lower - ASCII lowercase in place */
char   *lookup_lower(char *s)
{
    char   *cp;

    for (cp = s; *cp; cp++)
        *cp = (char)tolower((unsigned char)*cp);
    return s;
}

/* lookup_alloc - an empty table */
LOOKUP *lookup_alloc(int fold)
{
    LOOKUP *lk = mycalloc(1, sizeof(*lk));

    lk->fold = fold;
    return lk;
}

/* lookup_free - release */
void    lookup_free(LOOKUP *lk)
{
    size_t  i;

    if (lk == NULL)
        return;
    for (i = 0; i < lk->count; i++)
        myfree(lk->keys[i]);
    myfree(lk->keys);
    myfree(lk);
}

/* lookup_add - one more key */
void    lookup_add(LOOKUP *lk, const char *key)
{
    if ((lk->count & (lk->count - 1)) == 0)     /* 0, 1, 2, 4...: grow */
        lk->keys = myrealloc(lk->keys, (lk->count ? lk->count * 2 : 1) * sizeof(char *));
    lk->keys[lk->count] = mystrdup(key);
    if (lk->fold)
        lookup_lower(lk->keys[lk->count]);
    lk->count++;
}

/* lookup_cmp - qsort/bsearch order */
static int lookup_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* lookup_sort - make the table searchable */
void    lookup_sort(LOOKUP *lk)
{
    if (lk->count > 1)
        qsort(lk->keys, lk->count, sizeof(char *), lookup_cmp);
}

/* lookup_find - binary search */
int     lookup_find(const LOOKUP *lk, const char *key)
{
    char    small[256];
    char   *k = (char *)small, *heap = NULL;
    size_t  len = strlen(key);
    int     found;

    if (lk->count == 0)
        return 0;
    if (!lk->fold)
        return bsearch(&key, lk->keys, lk->count, sizeof(char *), lookup_cmp) != NULL;
    if (len >= sizeof(small))
        k = heap = mymalloc(len + 1);
    memcpy(k, key, len + 1);
    lookup_lower(k);
    found = bsearch(&k, lk->keys, lk->count, sizeof(char *), lookup_cmp) != NULL;
    myfree(heap);
    return found;
}

/* lookup_trim - the key of a line: NULL for a blank or comment line */
static char *lookup_trim(char *line)
{
    char   *end;

    while (isspace((unsigned char)*line))
        line++;
    if (*line == 0 || *line == '#')
        return NULL;
    end = line + strlen(line);
    while (end > line && isspace((unsigned char)end[-1]))
        *--end = 0;
    return line;
}

/* lookup_each - see lookup.h */
int     lookup_each(const char *path, int (*fn) (void *, const char *, VBUF *),
                    void *ctx, VBUF *err)
{
    FILE   *fp;
    char    line[LOOKUP_MAX_LINE + 2], *key;
    int     lineno = 0, status = 0;
    VBUF   *why = vbuf_alloc(1024);

    if ((fp = fopen(path, "re")) == NULL) {
        vbuf_sprintf(err, "cannot open table %s: %s", path, strerror(errno));
        vbuf_free(why);
        return -1;
    }
    while (status == 0 && fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            vbuf_sprintf(err, "%s, line %d: longer than %d bytes", path, lineno, LOOKUP_MAX_LINE);
            status = -1;
        } else if ((key = lookup_trim(line)) != NULL && fn(ctx, key, why) < 0) {
            vbuf_sprintf(err, "%s, line %d: %s", path, lineno, vbuf_str(why));
            status = -1;
        }
    }
    if (status == 0 && ferror(fp)) {
        vbuf_sprintf(err, "cannot read table %s: %s", path, strerror(errno));
        status = -1;
    }
    fclose(fp);
    vbuf_free(why);
    return status;
}

/* lookup_add_cb - lookup_each callback of lookup_load */
static int lookup_add_cb(void *ctx, const char *key, VBUF *err)
{
    (void)err;
    lookup_add(ctx, key);
    return 0;
}

/* lookup_load - see lookup.h */
LOOKUP *lookup_load(const char *path, int fold, VBUF *err)
{
    LOOKUP *lk = lookup_alloc(fold);

    if (lookup_each(path, lookup_add_cb, lk, err) < 0) {
        lookup_free(lk);
        return NULL;
    }
    lookup_sort(lk);
    return lk;
}
