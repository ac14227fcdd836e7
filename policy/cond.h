/*
 * cond - one condition of a rule
 *
 * Forms (a leading '!' negates any of them):
 *     attr=value           equal; without case for addresses and names;
 *                          for domain attributes ".example.org" matches
 *                          every subdomain of example.org, not itself
 *     attr="a value"       the same, with white space ("\"" and "\\")
 *     attr!=value          not equal
 *     attr~/regexp/        POSIX extended regular expression; /regexp/i
 *                          ignores case; "\/" is a slash
 *     attr in a,b,c        one of the values (client_address and
 *                          server_address: network blocks)
 *     attr in file:/path   one of the keys of a table file (lookup.h)
 * Tables are read when the rules are loaded.
 */
#ifndef POSTSIFT_POLICY_COND_H
#define POSTSIFT_POLICY_COND_H

#include <regex.h>

#include "lib/vbuf.h"
#include "policy/cidr.h"
#include "policy/lookup.h"
#include "policy/request.h"

typedef enum COND_KIND {
    COND_EQ,                            /* attr=value */
    COND_REGEX,                         /* attr~/re/ */
    COND_SET,                           /* attr in a,b / file: */
    COND_CIDR,                          /* client_address in blocks / file: */
} COND_KIND;

typedef struct COND {
    COND_KIND kind;
    char   *attr;
    int     flags;                      /* ATTR_* of attr */
    int     negate;
    char   *value;                      /* COND_EQ */
    regex_t re;                         /* COND_REGEX */
    LOOKUP *set;                        /* COND_SET */
    CIDR   *cidrs;                      /* COND_CIDR */
    int     ncidr;
    char   *file;                       /* the table file of "in file:" */
} COND;

/* cond_parse - the condition at *pos (white space before it skipped);
 * *pos moves past it. -1 with why in err */
int     cond_parse(COND *c, const char **pos, VBUF *err);

/* cond_match - does req satisfy c */
int     cond_match(const COND *c, const REQUEST *req, VBUF *scratch);

/* cond_free - release what c holds (not c) */
void    cond_free(COND *c);

#endif
