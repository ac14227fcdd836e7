/*
 * lookup - the keys of a table file, for "attr in file:/path"
 *
 * One key per line; blank lines and lines starting with '#' are ignored,
 * white space around a key is dropped. The file is read once, when the
 * rules are loaded; a reload reads it again. Keys are kept sorted, so a
 * lookup is a binary search.
 */
#ifndef POSTSIFT_POLICY_LOOKUP_H
#define POSTSIFT_POLICY_LOOKUP_H

#include <stddef.h>

#include "lib/vbuf.h"

#define LOOKUP_MAX_LINE 1024            /* longest line of a table file */

typedef struct LOOKUP {
    char  **keys;
    size_t  count;
    int     fold;                       /* keys and lookups are lowercased */
} LOOKUP;

/* lookup_each - call fn for each key of path ("FILE, line N" goes into err
 * before fn's complaint when fn returns -1); -1 with why in err */
int     lookup_each(const char *path, int (*fn) (void *ctx, const char *key, VBUF *err),
                    void *ctx, VBUF *err);

/* lookup_load - a sorted table; NULL with why in err */
LOOKUP *lookup_load(const char *path, int fold, VBUF *err);

/* lookup_add - one more key (call lookup_sort after the last) */
void    lookup_add(LOOKUP *lk, const char *key);
void    lookup_sort(LOOKUP *lk);

/* lookup_find - the key is in the table */
int     lookup_find(const LOOKUP *lk, const char *key);

LOOKUP *lookup_alloc(int fold);
void    lookup_free(LOOKUP *lk);

/* lookup_lower - s lowercased (ASCII), in place; returns s */
char   *lookup_lower(char *s);

#endif
