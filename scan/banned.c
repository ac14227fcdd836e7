/*
 * banned - banned file names and true file types (see banned.h)
 *
 * The lists are split once into arrays of lower-case words. A name is
 * normalised as Windows would open it, by pointers into the name rather
 * than a copy of bounded size: the extension is at the end of a name, and
 * a rule that looked at a truncated copy would miss it. The detail quotes
 * the name as the message gave it (printable, start and end when it is
 * long), because that is what a recipient or an administrator will search
 * for.
 *
 * Type rules compare the type libmagic gave (parameters such as
 * "; charset=binary" dropped) with each banned_types entry: exactly, or
 * with fnmatch() when the entry holds a shell pattern character.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "scan/banned.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/printable.h"

typedef struct WORDLIST {
    char  **words;
    int     count;
} WORDLIST;

struct BANNED {
    WORDLIST exts;                      /* "exe", lower case, no dot */
    WORDLIST pats;                      /* fnmatch patterns */
    WORDLIST types;                     /* "application/x-msi", "application/x-*" */
    int     double_extensions;          /* name a double extension */
};

/*
 * Native executable code, under every name file(1) has given it; banned
 * while banned_types is not empty, so that a site's own list, perhaps
 * written for the names of an older file(1), never lets it through.
 * Windows PE is application/vnd.microsoft.portable-executable in file 5.44
 * and application/x-dosexec before; x-dosexec is also MS-DOS MZ and COM
 * programs. x-*executable* is ELF executables and file(1)'s NE and LE/LX
 * executables. Given a buffer (as postsift gives it) file(1) cannot see
 * the execute permission that makes it call an ELF shared object a PIE
 * executable, so x-sharedlib is both.
 */
static const char *const banned_types_core[] = {
    "application/vnd.microsoft.portable-executable",
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-*executable*",
    "application/x-sharedlib",
    "application/x-mach-binary",
};

#define BANNED_CORE_COUNT ((int)(sizeof(banned_types_core) / sizeof(banned_types_core[0])))

/* Characters of a MIME token (RFC 2045) and of a shell pattern. */
#define BANNED_TYPE_CHARS "!#$%&'*+-.^_`{|}~?[]"

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

/* banned_ext_invalid - why a banned_extensions word cannot match, or NULL */
static const char *banned_ext_invalid(const char *word)
{
    if (strpbrk(word, "*?[/\\") != NULL)
        return "is not a file name extension (patterns go in banned_names)";
    if (strchr(word, '.') != NULL)
        return "has a dot inside: only the last extension of a name is compared "
            "(list the last one, or use banned_names)";
    return NULL;
}

/* banned_type_invalid - why a banned_types word is not a MIME type or a
 * pattern of one, or NULL */
static const char *banned_type_invalid(const char *word)
{
    const char *slash = strchr(word, '/');
    const char *cp;
    const char *open;

    if (slash == NULL || slash == word || slash[1] == 0 || strchr(slash + 1, '/') != NULL)
        return "is not a MIME type (write type/subtype, such as application/x-msi, "
            "or a shell pattern such as application/x-*executable*)";
    for (cp = word; *cp; cp++)
        if (cp != slash && !isalnum((unsigned char)*cp) && strchr(BANNED_TYPE_CHARS, *cp) == NULL)
            return "has a character that no MIME type has";
    if ((open = strchr(word, '[')) != NULL && strchr(open, ']') == NULL)
        return "has a \"[\" without \"]\"";
    return NULL;
}

/* banned_check_list - the first invalid word of a list; -1 with why */
static int banned_check_list(const char *setting, const WORDLIST *wl,
                             const char *(*invalid)(const char *), VBUF *err)
{
    char    shown[128];
    const char *why;
    int     i;

    for (i = 0; i < wl->count; i++) {
        if ((why = invalid(wl->words[i])) != NULL) {
            vbuf_sprintf(err, "%s: \"%s\" %s", setting,
                         msg_printable(shown, sizeof(shown), wl->words[i]), why);
            return -1;
        }
    }
    return 0;
}

/* banned_drop_invalid - remove invalid words, with a warning each */
static void banned_drop_invalid(const char *setting, WORDLIST *wl,
                                const char *(*invalid)(const char *))
{
    char    shown[128];
    const char *why;
    int     i, j;

    for (i = j = 0; i < wl->count; i++) {
        if ((why = invalid(wl->words[i])) != NULL) {
            msg_warn("%s: \"%s\" %s; ignored", setting,
                     msg_printable(shown, sizeof(shown), wl->words[i]), why);
            myfree(wl->words[i]);
        } else {
            wl->words[j++] = wl->words[i];
        }
    }
    wl->count = j;
}

/* banned_settings_check - validate the lists without keeping them */
int banned_settings_check(VBUF *err)
{
    WORDLIST exts = {NULL, 0};
    WORDLIST types = {NULL, 0};
    int     ret;

    wordlist_parse(&exts, var_banned_extensions, 1, 1);
    wordlist_parse(&types, var_banned_types, 1, 0);
    ret = banned_check_list("banned_extensions", &exts, banned_ext_invalid, err) < 0
        || banned_check_list("banned_types", &types, banned_type_invalid, err) < 0 ? -1 : 0;
    wordlist_free(&exts);
    wordlist_free(&types);
    return ret;
}

/* banned_open - the rules of the banned_* settings */
BANNED *banned_open(void)
{
    BANNED *b = mycalloc(1, sizeof(*b));

    wordlist_parse(&b->exts, var_banned_extensions, 1, 1);
    wordlist_parse(&b->pats, var_banned_names, 0, 0);
    wordlist_parse(&b->types, var_banned_types, 1, 0);
    banned_drop_invalid("banned_extensions", &b->exts, banned_ext_invalid);
    banned_drop_invalid("banned_types", &b->types, banned_type_invalid);
    b->double_extensions = var_banned_double_extensions;
    return b;
}

/* banned_close - forget the rules, NULL allowed */
void banned_close(BANNED *b)
{
    if (b == NULL)
        return;
    wordlist_free(&b->exts);
    wordlist_free(&b->pats);
    wordlist_free(&b->types);
    myfree(b);
}

/* banned_normalize - the name Windows would open, as [*start, *end) of
 * name: no directories, no "::$DATA" stream suffix, no trailing dots or
 * white space; the whole name, however long */
static void banned_normalize(const char *name, const char **start, const char **end)
{
    const char *base = name;
    const char *cp;
    size_t  len;

    for (cp = name; *cp; cp++)
        if (*cp == '/' || *cp == '\\')
            base = cp + 1;
    len = (size_t)(cp - base);
    for (;;) {
        while (len > 0 && (base[len - 1] == '.' || isspace((unsigned char)base[len - 1])))
            len--;
        if (len >= 7 && strncasecmp(base + len - 7, "::$data", 7) == 0) {
            len -= 7;
            continue;
        }
        break;
    }
    *start = base;
    *end = base + len;
}

/* banned_last_dot - the last '.' in [start, end), or NULL */
static const char *banned_last_dot(const char *start, const char *end)
{
    while (end > start)
        if (*--end == '.')
            return end;
    return NULL;
}

/* banned_shown - a name for a detail: printable and shorter than dstlen;
 * a long name keeps its start and its end (where the extension is),
 * joined by "...", and no UTF-8 sequence is cut */
static char *banned_shown(char *dst, size_t dstlen, const char *s, size_t len)
{
    size_t  head, tail;
    const char *tp;

    if (len < dstlen)
        return printable_copy(dst, dstlen, s, len, 0);
    tail = (dstlen - 4) / 3;
    head = dstlen - 4 - tail;
    while (head > 0 && ((unsigned char)s[head] & 0xC0) == 0x80)
        head--;
    tp = s + len - tail;
    while (tp < s + len && ((unsigned char)*tp & 0xC0) == 0x80)
        tp++;
    printable_copy(dst, head + 1, s, head, 0);
    memcpy(dst + head, "...", 3);
    printable_copy(dst + head + 3, dstlen - head - 3, tp, (size_t)(s + len - tp), 0);
    return dst;
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
int banned_name(const BANNED *b, const char *name, VBUF *detail)
{
    char    shown[BANNED_SHOWN_MAX];
    char    pat[128];
    const char *start;
    const char *end;
    const char *last;
    const char *prev;
    char   *norm;
    int     i, hit = 0;

    if (name == NULL || *name == 0)
        return 0;
    banned_normalize(name, &start, &end);

    /* The last extension, and the one before it. */
    if ((last = banned_last_dot(start, end)) != NULL
        && wordlist_find(&b->exts, last + 1, (size_t)(end - last - 1))) {
        banned_shown(shown, sizeof(shown), name, strlen(name));
        prev = banned_last_dot(start, last);
        if (b->double_extensions && prev != NULL && prev > start
            && banned_ext_like(prev + 1, (size_t)(last - prev - 1))) {
            vbuf_sprintf(detail, "banned name \"%s\" (double extension %s)", shown,
                         banned_shown(pat, sizeof(pat), prev, (size_t)(end - prev)));
        } else {
            vbuf_sprintf(detail, "banned name \"%s\" (extension %s)", shown,
                         banned_shown(pat, sizeof(pat), last, (size_t)(end - last)));
        }
        return 1;
    }
    if (b->pats.count == 0)
        return 0;
    norm = mystrndup(start, (size_t)(end - start));
    for (i = 0; !hit && i < b->pats.count; i++) {
        if (fnmatch(b->pats.words[i], norm, FNM_CASEFOLD) == 0
            || fnmatch(b->pats.words[i], name, FNM_CASEFOLD) == 0) {
            vbuf_sprintf(detail, "banned name \"%s\" (matches \"%s\")",
                         banned_shown(shown, sizeof(shown), name, strlen(name)),
                         msg_printable(pat, sizeof(pat), b->pats.words[i]));
            hit = 1;
        }
    }
    myfree(norm);
    return hit;
}

/* banned_type_match - one rule against a lower-case type */
static int banned_type_match(const char *rule, const char *type)
{
    if (strpbrk(rule, "*?[") != NULL)
        return fnmatch(rule, type, FNM_CASEFOLD) == 0;
    return strcasecmp(rule, type) == 0;
}

/* banned_type_find - the rule for a type without parameters, or NULL */
static const char *banned_type_find(const BANNED *b, const char *type)
{
    int     i;

    if (b->types.count == 0)
        return NULL;
    for (i = 0; i < b->types.count; i++)
        if (banned_type_match(b->types.words[i], type))
            return b->types.words[i];
    for (i = 0; i < BANNED_CORE_COUNT; i++)
        if (banned_type_match(banned_types_core[i], type))
            return banned_types_core[i];
    return NULL;
}

/* banned_type_bare - the type without parameters, lower case; NULL when
 * there is none */
static char *banned_type_bare(const char *type)
{
    char   *bare;
    size_t  i;

    if (type == NULL)
        return NULL;
    type += strspn(type, " \t");
    if (*type == 0 || *type == ';')
        return NULL;
    bare = mystrndup(type, strcspn(type, "; \t"));
    for (i = 0; bare[i]; i++)
        bare[i] = (char)tolower((unsigned char)bare[i]);
    return bare;
}

/* banned_type_rule - the rule that bans a type */
const char *banned_type_rule(const BANNED *b, const char *type)
{
    char   *bare = banned_type_bare(type);
    const char *rule = bare ? banned_type_find(b, bare) : NULL;

    myfree(bare);
    return rule;
}

/* banned_type - true type rules */
int banned_type(const BANNED *b, const char *type, const char *name, VBUF *detail)
{
    char    shown[BANNED_SHOWN_MAX];
    char    tbuf[128];
    char   *bare;

    if ((bare = banned_type_bare(type)) == NULL)
        return 0;
    if (banned_type_find(b, bare) == NULL) {
        myfree(bare);
        return 0;
    }
    msg_printable(tbuf, sizeof(tbuf), bare);
    myfree(bare);
    if (name && *name)
        vbuf_sprintf(detail, "banned type %s in \"%s\"", tbuf,
                     banned_shown(shown, sizeof(shown), name, strlen(name)));
    else
        vbuf_sprintf(detail, "banned type %s", tbuf);
    return 1;
}

/* banned_check - name rules, then type rules */
int banned_check(const BANNED *b, const char *name, const char *type, VBUF *detail)
{
    return banned_name(b, name, detail) || banned_type(b, type, name, detail);
}
