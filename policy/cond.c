/*
 * cond - one condition of a rule (cond.h)
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/mymalloc.h"
#include "lib/vbuf.h"
#include "policy/attr.h"
#include "policy/cidr.h"
#include "policy/cond.h"
#include "policy/lookup.h"

#define COND_MAX_WORD 4096

/* cond_word - a plain word (to white space) or a "quoted string" at *pos
 * into out; -1 with why in err */
static int cond_word(const char **pos, VBUF *out, VBUF *err)
{
    const char *cp = *pos;

    vbuf_reset(out);
    if (*cp != '"') {
        while (*cp && !isspace((unsigned char)*cp))
            vbuf_addch(out, *cp++);
        *pos = cp;
        return 0;
    }
    for (cp++; *cp && *cp != '"'; cp++) {
        if (*cp == '\\' && (cp[1] == '"' || cp[1] == '\\'))
            cp++;
        vbuf_addch(out, *cp);
    }
    if (*cp != '"') {
        vbuf_sprintf(err, "unterminated quoted value");
        return -1;
    }
    *pos = cp + 1;
    return 0;
}

/* cond_regex - "/re/" or "/re/i" at *pos, compiled into c */
static int cond_regex(COND *c, const char **pos, VBUF *err)
{
    const char *cp = *pos;
    VBUF   *re = vbuf_alloc(COND_MAX_WORD);
    int     flags = REG_EXTENDED | REG_NOSUB, rc;
    char    why[256];

    if (*cp++ != '/') {
        vbuf_sprintf(err, "%s~ needs /regexp/", c->attr);
        vbuf_free(re);
        return -1;
    }
    for (; *cp && *cp != '/'; cp++) {
        if (*cp == '\\' && cp[1] == '/')
            cp++;
        vbuf_addch(re, *cp);
    }
    if (*cp != '/') {
        vbuf_sprintf(err, "regexp of %s without its closing /", c->attr);
        vbuf_free(re);
        return -1;
    }
    if (*++cp == 'i') {
        flags |= REG_ICASE;
        cp++;
    }
    if ((rc = regcomp(&c->re, vbuf_str(re), flags)) != 0) {
        regerror(rc, &c->re, why, sizeof(why));
        vbuf_sprintf(err, "bad regexp /%s/: %s", vbuf_str(re), why);
        vbuf_free(re);
        return -1;
    }
    vbuf_free(re);
    c->kind = COND_REGEX;
    *pos = cp;
    return 0;
}

/* cond_add_cidr - one network block of a COND_CIDR */
static int cond_add_cidr(void *ctx, const char *text, VBUF *err)
{
    COND   *c = ctx;

    c->cidrs = myrealloc(c->cidrs, (size_t)(c->ncidr + 1) * sizeof(CIDR));
    if (cidr_parse(&c->cidrs[c->ncidr], text, err) < 0)
        return -1;
    c->ncidr++;
    return 0;
}

/* cond_add_key - one value of a COND_SET */
static int cond_add_key(void *ctx, const char *text, VBUF *err)
{
    (void)err;
    lookup_add(((COND *)ctx)->set, text);
    return 0;
}

/* cond_list - "a,b,c" or "file:/path" after "in" */
static int cond_list(COND *c, const char *list, VBUF *err)
{
    int     (*add) (void *, const char *, VBUF *);
    char   *copy, *item, *save = NULL;
    int     status = 0;

    c->kind = (c->flags & ATTR_CLIENT) ? COND_CIDR : COND_SET;
    add = c->kind == COND_CIDR ? cond_add_cidr : cond_add_key;
    if (c->kind == COND_SET)
        c->set = lookup_alloc(c->flags & ATTR_FOLD);
    if (*list == 0) {
        vbuf_sprintf(err, "%s in: empty list", c->attr);
        return -1;
    }
    if (strncmp(list, "file:", 5) == 0) {
        if (list[5] != '/') {
            vbuf_sprintf(err, "%s in %s: the table needs an absolute path", c->attr, list);
            return -1;
        }
        c->file = mystrdup(list + 5);
        status = lookup_each(list + 5, add, c, err);
    } else {
        copy = mystrdup(list);
        for (item = strtok_r(copy, ",", &save); item && status == 0;
             item = strtok_r(NULL, ",", &save))
            status = add(c, item, err);
        myfree(copy);
    }
    if (c->set)
        lookup_sort(c->set);
    return status;
}

/* cond_operator - the operator and operand after the attribute name */
static int cond_operator(COND *c, const char **pos, VBUF *word, VBUF *err)
{
    const char *cp = *pos;

    if (cp[0] == '!' && cp[1] == '=') {
        c->negate = !c->negate;
        cp++;
    }
    if (*cp == '=') {
        *pos = cp + 1;
        if (cond_word(pos, word, err) < 0)
            return -1;
        c->kind = COND_EQ;
        c->value = mystrdup(vbuf_str(word));
        if (c->flags & ATTR_FOLD)
            lookup_lower(c->value);
        return 0;
    }
    if (*cp == '~') {
        *pos = cp + 1;
        return cond_regex(c, pos, err);
    }
    if (isspace((unsigned char)*cp)) {
        while (isspace((unsigned char)*cp))
            cp++;
        if (strncmp(cp, "in", 2) == 0 && isspace((unsigned char)cp[2])) {
            for (cp += 2; isspace((unsigned char)*cp); cp++)
                 /* void */ ;
            *pos = cp;
            if (cond_word(pos, word, err) < 0)
                return -1;
            return cond_list(c, vbuf_str(word), err);
        }
    }
    vbuf_sprintf(err, "after %s: expected =, !=, ~/regexp/ or \"in\"", c->attr);
    return -1;
}

/* cond_parse - see cond.h */
int     cond_parse(COND *c, const char **pos, VBUF *err)
{
    const char *cp = *pos, *start;
    VBUF   *word = vbuf_alloc(COND_MAX_WORD);
    int     status;

    memset(c, 0, sizeof(*c));
    c->kind = COND_EQ;
    while (isspace((unsigned char)*cp))
        cp++;
    if (*cp == '!') {
        c->negate = 1;
        cp++;
    }
    for (start = cp; islower((unsigned char)*cp) || isdigit((unsigned char)*cp) || *cp == '_'; cp++)
         /* void */ ;
    c->attr = mystrndup(start, (size_t)(cp - start));
    if (cp == start) {
        vbuf_sprintf(err, "expected an attribute name at \"%.20s\"", start);
        status = -1;
    } else if ((c->flags = attr_flags(c->attr)) < 0) {
        vbuf_sprintf(err, "unknown attribute \"%s\"", c->attr);
        status = -1;
    } else {
        *pos = cp;
        status = cond_operator(c, pos, word, err);
    }
    if (status == 0 && **pos && !isspace((unsigned char)**pos)) {
        vbuf_sprintf(err, "unexpected text after the condition on %s: \"%.20s\"", c->attr, *pos);
        status = -1;
    }
    vbuf_free(word);
    return status;
}

/* cond_eq - value equals want (want already lowercased when folding);
 * for a domain attribute ".example.org" matches any subdomain */
static int cond_eq(const COND *c, const char *want, const char *value)
{
    size_t  vlen, wlen;
    int     (*cmp) (const char *, const char *) = (c->flags & ATTR_FOLD) ? strcasecmp : strcmp;

    if ((c->flags & ATTR_DOMAIN) && want[0] == '.') {
        vlen = strlen(value);
        wlen = strlen(want);
        return vlen > wlen && cmp(value + vlen - wlen, want) == 0;
    }
    return cmp(value, want) == 0;
}

/* cond_set_find - value, or for a domain attribute one of its parent
 * domains written ".parent", is in the set */
static int cond_set_find(const COND *c, const char *value)
{
    const char *dot;

    if (lookup_find(c->set, value))
        return 1;
    if (c->flags & ATTR_DOMAIN)
        for (dot = strchr(value, '.'); dot; dot = strchr(dot + 1, '.'))
            if (lookup_find(c->set, dot))
                return 1;
    return 0;
}

/* cond_match - see cond.h */
int     cond_match(const COND *c, const REQUEST *req, VBUF *scratch)
{
    const char *value = attr_value(req, c->attr, scratch);
    int     hit = 0, i;

    switch (c->kind) {
    case COND_EQ:
        hit = cond_eq(c, c->value, value);
        break;
    case COND_REGEX:
        hit = regexec(&c->re, value, 0, NULL, 0) == 0;
        break;
    case COND_SET:
        hit = cond_set_find(c, value);
        break;
    case COND_CIDR:
        for (i = 0; i < c->ncidr && !hit; i++)
            hit = cidr_match(&c->cidrs[i], value);
        break;
    }
    return c->negate ? !hit : hit;
}

/* cond_free - release */
void    cond_free(COND *c)
{
    myfree(c->attr);
    myfree(c->value);
    if (c->kind == COND_REGEX)
        regfree(&c->re);
    lookup_free(c->set);
    myfree(c->cidrs);
    myfree(c->file);
    memset(c, 0, sizeof(*c));
}
