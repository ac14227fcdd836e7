/*
 * mymalloc - allocation that succeeds or never returns
 *
 * On failure these call msg_fatal() (exit 75 in the pipe filter), so call
 * sites never check for NULL.
 */
#ifndef POSTSIFT_MYMALLOC_H
#define POSTSIFT_MYMALLOC_H

#include <stddef.h>

void *mymalloc(size_t len);
void *mycalloc(size_t n, size_t len);
void *myrealloc(void *ptr, size_t len);
char *mystrdup(const char *s);
char *mystrndup(const char *s, size_t len);
void myfree(void *ptr);
/* myfree_const - free storage we own but reach through a const pointer */
void myfree_const(const void *ptr);

#endif
