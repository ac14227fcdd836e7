/*
 * mymalloc - allocation that succeeds or never returns (see mymalloc.h)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"

/* mymalloc - malloc or fatal */
void *mymalloc(size_t len)
{
    void *p = malloc(len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu bytes", len);
    return p;
}

/* mycalloc - zeroed array or fatal */
void *mycalloc(size_t n, size_t len)
{
    void *p = calloc(n ? n : 1, len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu x %zu bytes", n, len);
    return p;
}

/* myrealloc - resize or fatal */
void *myrealloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory reallocating %zu bytes", len);
    return p;
}

/* mystrdup - copy a string */
char *mystrdup(const char *s)
{
    return mystrndup(s, strlen(s));
}

/* mystrndup - copy at most len bytes of a string */
char *mystrndup(const char *s, size_t len)
{
    size_t n = strnlen(s, len);
    char *p = mymalloc(n + 1);

    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* myfree - free, NULL allowed */
void myfree(void *ptr)
{
    free(ptr);
}

/* myfree_const - free through a const pointer (envelope strings we own) */
void myfree_const(const void *ptr)
{
    free((void *)(uintptr_t)ptr);
}
