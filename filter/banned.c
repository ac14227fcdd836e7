/*
 * banned - banned file names and true file types (see banned.h)
 *
 * The lists are split once into arrays of lower-case words. A name is
 * normalised as Windows would open it before its last extension is looked
 * up; the detail always quotes the name as the message gave it (printable),
 * because that is what a recipient or an administrator will search for.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "filter/banned.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"

typedef struct WORDLIST {
    char  **words;
    int     count;
} WORDLIST;

static WORDLIST banned_exts;            /* "exe", lower case, no dot */
static WORDLIST banned_pats;            /* fnmatch patterns */
static WORDLIST banned_types_list;      /* "application/x-dosexec" */

#define BANNED_NAME_MAX 1024            /* longer names are cut for matching */

/* wordlist_free - forget a list */
static void wordlist_free(WORDLIST *wl)
{
    int i;

    for (i = 0; i < wl->count; i++)
        myfree(wl->words[i]);
    myfree(wl->words);
    wl->words = NULL;
    wl->count = 0;
}

/* wordlist_parse - split on commas and white space; lower-case and strip
 * leading dots when asked */
static void wordlist_parse(WORDLIST *wl, const char *text, int lower, int nodot)
{
    const char *cp = text ? text : "";
    size_t len;
    char   *word;
    int     alloc = 0;
    size_t  i;

    wordlist_free(wl);
    for (;;) {
        cp += strspn(cp, ", \t\r\n");
        if (*cp == 0)
            break;
        len = strcspn(cp, ", \t\r\n");
        word = mystrndup(cp, len);
        cp += len;
        if (nodot) {
            char *dp = word + strspn(word, ".");

            memmove(word, dp, strlen(dp) + 1);
        }
        if (lower)
            for (i = 0; word[i]; i++)
                word[i] = (char)tolower((unsigned char)word[i]);
        if (*word == 0) {
            myfree(word);
            continue;
        }
        if (wl->count == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            wl->words = myrealloc(wl->words, (size_t)alloc * sizeof(char *));
        }
        wl->words[wl->count++] = word;
    }
}

/* wordlist_find - exact, case-insensitive membership */
static int wordlist_find(const WORDLIST *wl, const char *word, size_t len)
{
    int i;

    for (i = 0; i < wl->count; i++)
        if (strlen(wl->words[i]) == len && strncasecmp(wl->words[i], word, len) == 0)
            return 1;
    return 0;
}

/* banned_init - parse the banned_* settings */
void banned_init(void)
{
    wordlist_parse(&banned_exts, var_banned_extensions, 1, 1);
    wordlist_parse(&banned_pats, var_banned_names, 0, 0);
    wordlist_parse(&banned_types_list, var_banned_types, 1, 0);
}

/* banned_free - forget the parsed rules */
void banned_free(void)
{
    wordlist_free(&banned_exts);
    wordlist_free(&banned_pats);
    wordlist_free(&banned_types_list);
}

/* banned_normalize - the name Windows would open: no directories, no
 * "::$DATA" stream suffix, no trailing dots or white space */
static void banned_normalize(char *buf, size_t buflen, const char *name)
{
    const char *base = name;
    const char *cp;
    size_t  len;

    for (cp = name; *cp; cp++)
        if (*cp == '/' || *cp == '\\')
            base = cp + 1;
    len = strlen(base);
    if (len >= buflen)
        len = buflen - 1;
    memcpy(buf, base, len);
    buf[len] = 0;
    for (;;) {
        while (len > 0 && (buf[len - 1] == '.' || isspace((unsigned char)buf[len - 1])))
            buf[--len] = 0;
        if (len >= 7 && strcasecmp(buf + len - 7, "::$data") == 0) {
            len -= 7;
            buf[len] = 0;
            continue;
        }
        break;
    }
}

/* banned_ext_like - a plausible file extension: 1-5 characters, a letter */
static int banned_ext_like(const char *ext, size_t len)
{
    size_t i;
    int     alpha = 0;

    if (len == 0 || len > 5)
        return 0;
    for (i = 0; i < len; i++) {
        if (isspace((unsigned char)ext[i]))
            return 0;
        if (isalpha((unsigned char)ext[i]))
            alpha = 1;
    }
    return alpha;
}

/* banned_name - file name rules */
int banned_name(const char *name, VBUF *detail)
{
    char    norm[BANNED_NAME_MAX];
    char    shown[256];
    char    pat[128];
    const char *last;
    const char *prev;
    int     i;

    if (name == NULL || *name == 0)
        return 0;
    banned_normalize(norm, sizeof(norm), name);
    msg_printable(shown, sizeof(shown), name);

    /* The last extension, and the one before it. */
    if ((last = strrchr(norm, '.')) != NULL
        && wordlist_find(&banned_exts, last + 1, strlen(last + 1))) {
        for (prev = last; prev > norm && prev[-1] != '.'; prev--)
             /* void */ ;
        if (prev > norm)
            prev--;                         /* the dot before the last one */
        if (var_banned_double_extensions && prev < last && *prev == '.' && prev > norm
            && banned_ext_like(prev + 1, (size_t)(last - prev - 1))) {
            vbuf_sprintf(detail, "banned name \"%s\" (double extension %s)", shown,
                         msg_printable(pat, sizeof(pat), prev));
        } else {
            vbuf_sprintf(detail, "banned name \"%s\" (extension %s)", shown,
                         msg_printable(pat, sizeof(pat), last));
        }
        return 1;
    }
    for (i = 0; i < banned_pats.count; i++) {
        if (fnmatch(banned_pats.words[i], norm, FNM_CASEFOLD) == 0
            || fnmatch(banned_pats.words[i], name, FNM_CASEFOLD) == 0) {
            vbuf_sprintf(detail, "banned name \"%s\" (matches \"%s\")", shown,
                         msg_printable(pat, sizeof(pat), banned_pats.words[i]));
            return 1;
        }
    }
    return 0;
}

/* banned_type - true type rules */
int banned_type(const char *type, const char *name, VBUF *detail)
{
    char    shown[256];
    char    tbuf[128];
    size_t  len;
    int     hit;

    if (type == NULL || *type == 0 || banned_types_list.count == 0)
        return 0;
    len = strcspn(type, "; \t");
    hit = wordlist_find(&banned_types_list, type, len);
    if (!hit && len < sizeof(tbuf)) {
        memcpy(tbuf, type, len);
        tbuf[len] = 0;
        hit = strcasecmp(tbuf, "application/x-dosexec") == 0
            || fnmatch("application/x-*executable*", tbuf, FNM_CASEFOLD) == 0;
    }
    if (!hit)
        return 0;
    msg_printable(tbuf, len + 1 < sizeof(tbuf) ? len + 1 : sizeof(tbuf), type);
    if (name && *name)
        vbuf_sprintf(detail, "banned type %s in \"%s\"", tbuf,
                     msg_printable(shown, sizeof(shown), name));
    else
        vbuf_sprintf(detail, "banned type %s", tbuf);
    return 1;
}

/* banned_check - name rules, then type rules */
int banned_check(const char *name, const char *type, VBUF *detail)
{
    return banned_name(name, detail) || banned_type(type, name, detail);
}
