/*
 * config - postsift.conf in Postfix main.cf syntax (see config.h)
 *
 * Each setting of config_params[] has a raw value (the text as written:
 * the default, the last line of a file that set it, or -o) and where that
 * value came from. config_finish() expands $name, ${name} and $(name) in
 * the raw values ($$ is a literal $), converts the results to their types,
 * checks bounds, and only when every setting is good stores them in the
 * var_* globals; on an error the globals keep their previous values.
 *
 * Decisions beyond main.cf:
 *   - A setting given with -o wins over any file, whichever is read first.
 *   - An empty myhostname (after expansion) means the system's host name,
 *     and $myhostname in other settings expands to that name.
 *   - A logical line (a line with its continuation lines) may be at most
 *     CFG_LINE_MAX bytes and an expanded value at most CFG_VALUE_MAX bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/vbuf.h"

#define CFG_LINE_MAX    (64 * 1024)         /* one logical line */
#define CFG_VALUE_MAX   (1024 * 1024)       /* one value after expansion */
#define CFG_NAME_CHARS  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

typedef enum CFG_SRC {
    SRC_DEFAULT,                            /* the table's default */
    SRC_FILE,                               /* a line of a file */
    SRC_OVERRIDE,                           /* -o name=value */
} CFG_SRC;

typedef enum CFG_EXP {
    EXP_TODO,                               /* not expanded yet */
    EXP_BUSY,                               /* being expanded: a loop */
    EXP_DONE,                               /* expanded value in exp */
} CFG_EXP;

typedef struct CFG_STATE {
    char       *raw;                        /* value as written */
    CFG_SRC     src;                        /* where raw came from */
    const char *file;                       /* SRC_FILE: in cfg_files */
    long        line;                       /* SRC_FILE: first line */
    unsigned long seq;                      /* order of assignment */
    CFG_EXP     exp_state;                  /* for config_finish */
    char       *exp;                        /* expanded value */
    char       *strval;                     /* what a CFG_STR var_* holds */
} CFG_STATE;

static CFG_STATE *cfg_state;                /* one per config_params[] */
static size_t cfg_count;                    /* settings in the table */
static char **cfg_files;                    /* names of files read */
static size_t cfg_nfiles;
static unsigned long cfg_seq;               /* assignment counter */
static size_t cfg_err_at;                   /* setting of the last error */

/* cfg_index - table index of a setting, -1 if unknown */
static int cfg_index(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < cfg_count; i++)
        if (strncmp(config_params[i].name, name, len) == 0
            && config_params[i].name[len] == 0)
            return (int)i;
    return -1;
}

/* cfg_trim - strip leading and trailing white space in place */
static char *cfg_trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = 0;
    return s;
}

/* cfg_name_ok - a setting name: letters, digits and underscores */
static int cfg_name_ok(const char *name)
{
    if (*name == 0)
        return 0;
    for (; *name; name++)
        if (!isalnum((unsigned char)*name) && *name != '_')
            return 0;
    return 1;
}

/* cfg_quote - append text for an error message, made printable and bounded */
static void cfg_quote(VBUF *err, const char *text)
{
    char buf[200];

    msg_printable(buf, sizeof(buf), text);
    vbuf_sprintf_append(err, "\"%s%s\"", buf, strlen(text) >= sizeof(buf) ? "..." : "");
}

/* cfg_where - "FILE, line N: NAME: ", "-o NAME: " or "default NAME: " */
static void cfg_where(VBUF *err, size_t i)
{
    const CFG_STATE *st = cfg_state + i;
    const char *name = config_params[i].name;

    cfg_err_at = i;
    switch (st->src) {
    case SRC_FILE:
        vbuf_sprintf(err, "%s, line %ld: %s: ", st->file, st->line, name);
        break;
    case SRC_OVERRIDE:
        vbuf_sprintf(err, "-o %s: ", name);
        break;
    case SRC_DEFAULT:
        vbuf_sprintf(err, "default value of %s: ", name);
        break;
    }
}

/* cfg_set - give setting i a new raw value from src */
static void cfg_set(size_t i, const char *value, CFG_SRC src, const char *file, long line)
{
    CFG_STATE *st = cfg_state + i;

    myfree(st->raw);
    st->raw = mystrdup(value);
    st->src = src;
    st->file = file;
    st->line = line;
    st->seq = ++cfg_seq;
}

/* config_parse_time - seconds from "N" or "N" plus one of s, m, h, d, w */
int config_parse_time(const char *text, long *seconds)
{
    long val = 0, mult;
    const char *cp = text;

    if (!isdigit((unsigned char)*cp))
        return -1;
    for (; isdigit((unsigned char)*cp); cp++) {
        if (val > (LONG_MAX - (*cp - '0')) / 10)
            return -1;
        val = val * 10 + (*cp - '0');
    }
    switch (*cp) {
    case 0:
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (*cp && cp[1] != 0)
        return -1;
    if (val > LONG_MAX / mult)
        return -1;
    *seconds = val * mult;
    return 0;
}

/* config_parse_size - bytes from "N" or "N" plus one of k, m, g (1024-based) */
int config_parse_size(const char *text, long *bytes)
{
    long val = 0, mult;
    const char *cp = text;

    if (!isdigit((unsigned char)*cp))
        return -1;
    for (; isdigit((unsigned char)*cp); cp++) {
        if (val > (LONG_MAX - (*cp - '0')) / 10)
            return -1;
        val = val * 10 + (*cp - '0');
    }
    switch (*cp) {
    case 0:
        mult = 1;
        break;
    case 'k':
    case 'K':
        mult = 1024L;
        break;
    case 'm':
    case 'M':
        mult = 1024L * 1024L;
        break;
    case 'g':
    case 'G':
        mult = 1024L * 1024L * 1024L;
        break;
    default:
        return -1;
    }
    if (*cp && cp[1] != 0)
        return -1;
    if (val > LONG_MAX / mult)
        return -1;
    *bytes = val * mult;
    return 0;
}

/* config_parse_bool - yes/no, true/false, 1/0, any case */
int config_parse_bool(const char *text, int *value)
{
    if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0
        || strcmp(text, "1") == 0) {
        *value = 1;
        return 0;
    }
    if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0
        || strcmp(text, "0") == 0) {
        *value = 0;
        return 0;
    }
    return -1;
}

/* cfg_parse_int - a non-negative decimal number */
static int cfg_parse_int(const char *text, long *value)
{
    long val = 0;
    const char *cp = text;

    if (!isdigit((unsigned char)*cp))
        return -1;
    for (; isdigit((unsigned char)*cp); cp++) {
        if (val > (LONG_MAX - (*cp - '0')) / 10)
            return -1;
        val = val * 10 + (*cp - '0');
    }
    if (*cp)
        return -1;
    *value = val;
    return 0;
}

/* cfg_hostname - the system's host name, for an empty myhostname */
static char *cfg_hostname(void)
{
    char host[256];

    if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0) {
        msg_warn("gethostname: %s; using \"localhost\"", strerror(errno));
        return mystrdup("localhost");
    }
    host[sizeof(host) - 1] = 0;
    return mystrdup(host);
}

static int cfg_expand(size_t i, VBUF *err);

/* cfg_expand_ref - append the value of the setting named name[0..len) */
static int cfg_expand_ref(size_t i, const char *name, size_t len, VBUF *out, VBUF *err)
{
    int j;
    char *copy;

    if (len == 0) {
        cfg_where(err, i);
        vbuf_strcat(err, "\"$\" is not followed by a setting name (write $$ for a literal $)");
        return -1;
    }
    if ((j = cfg_index(name, len)) < 0) {
        cfg_where(err, i);
        copy = mystrndup(name, len);
        vbuf_strcat(err, "unknown setting ");
        cfg_quote(err, copy);
        vbuf_strcat(err, " in $ expansion");
        myfree(copy);
        return -1;
    }
    if (cfg_state[j].exp_state == EXP_BUSY) {
        cfg_where(err, i);
        vbuf_sprintf_append(err, "expansion loop through $%s", config_params[j].name);
        return -1;
    }
    if (cfg_expand((size_t)j, err) < 0)
        return -1;
    if (vbuf_strcat(out, cfg_state[j].exp) < 0) {
        cfg_where(err, i);
        vbuf_sprintf_append(err, "value is longer than %d bytes after expansion",
                            CFG_VALUE_MAX);
        return -1;
    }
    return 0;
}

/* cfg_expand - expand the raw value of setting i into its exp, once */
static int cfg_expand(size_t i, VBUF *err)
{
    CFG_STATE *st = cfg_state + i;
    VBUF *out;
    const char *cp, *name;
    size_t len;
    int ret = -1;

    if (st->exp_state == EXP_DONE)
        return 0;
    st->exp_state = EXP_BUSY;
    out = vbuf_alloc(CFG_VALUE_MAX);
    for (cp = st->raw; *cp; ) {
        if (*cp != '$') {
            len = strcspn(cp, "$");
            if (vbuf_append(out, cp, len) < 0)
                goto toolong;
            cp += len;
            continue;
        }
        cp++;
        if (*cp == '$') {                               /* $$ */
            if (vbuf_addch(out, '$') < 0)
                goto toolong;
            cp++;
        } else if (*cp == '{' || *cp == '(') {          /* ${name} $(name) */
            int closer = (*cp == '{') ? '}' : ')';

            name = ++cp;
            len = strspn(cp, CFG_NAME_CHARS);
            if (cp[len] != closer) {
                cfg_where(err, i);
                vbuf_sprintf_append(err, "bad reference \"$%c%.*s\": "
                                    "expected a setting name and \"%c\"",
                                    closer == '}' ? '{' : '(', (int)(len > 64 ? 64 : len),
                                    name, closer);
                goto out;
            }
            if (cfg_expand_ref(i, name, len, out, err) < 0)
                goto out;
            cp += len + 1;
        } else {                                        /* $name */
            name = cp;
            len = strspn(cp, CFG_NAME_CHARS);
            if (cfg_expand_ref(i, name, len, out, err) < 0)
                goto out;
            cp += len;
        }
    }
    myfree(st->exp);
    if (vbuf_len(out) == 0 && strcmp(config_params[i].name, "myhostname") == 0)
        st->exp = cfg_hostname();
    else
        st->exp = mystrdup(vbuf_str(out));
    st->exp_state = EXP_DONE;
    ret = 0;
    goto out;

toolong:
    cfg_where(err, i);
    vbuf_sprintf_append(err, "value is longer than %d bytes after expansion", CFG_VALUE_MAX);
out:
    if (ret < 0)
        st->exp_state = EXP_TODO;
    vbuf_free(out);
    return ret;
}

/* cfg_convert - check the expanded value of setting i; number in *num */
static int cfg_convert(size_t i, long *num, VBUF *err)
{
    const CFG_PARAM *p = config_params + i;
    const char *val = cfg_state[i].exp;
    int flag;

    *num = 0;
    switch (p->type) {
    case CFG_STR:
        return 0;
    case CFG_BOOL:
        if (config_parse_bool(val, &flag) < 0) {
            cfg_where(err, i);
            vbuf_strcat(err, "invalid boolean value ");
            cfg_quote(err, val);
            vbuf_strcat(err, " (use yes or no)");
            return -1;
        }
        *num = flag;
        return 0;
    case CFG_INT:
        if (cfg_parse_int(val, num) < 0) {
            cfg_where(err, i);
            vbuf_strcat(err, "invalid number ");
            cfg_quote(err, val);
            vbuf_strcat(err, " (use digits only)");
            return -1;
        }
        break;
    case CFG_TIME:
        if (config_parse_time(val, num) < 0) {
            cfg_where(err, i);
            vbuf_strcat(err, "invalid time value ");
            cfg_quote(err, val);
            vbuf_strcat(err, " (use s, m, h, d or w)");
            return -1;
        }
        break;
    case CFG_SIZE:
        if (config_parse_size(val, num) < 0) {
            cfg_where(err, i);
            vbuf_strcat(err, "invalid size value ");
            cfg_quote(err, val);
            vbuf_strcat(err, " (use bytes, or k, m or g)");
            return -1;
        }
        break;
    }
    if (*num < p->min) {
        cfg_where(err, i);
        vbuf_sprintf_append(err, "value %ld is below the minimum %ld", *num, p->min);
        return -1;
    }
    if (p->max > 0 && *num > p->max) {
        cfg_where(err, i);
        vbuf_sprintf_append(err, "value %ld is above the maximum %ld", *num, p->max);
        return -1;
    }
    return 0;
}

/* cfg_finish - expand and convert everything; commit only when all is good */
static int cfg_finish(VBUF *err)
{
    long *nums = mycalloc(cfg_count, sizeof(*nums));
    VBUF *why = vbuf_alloc(4096);
    unsigned long err_seq = 0;
    int failed = 0;
    size_t i;

    /*
     * Look at every setting and report the error of the one assigned first,
     * which is usually the first bad line of the file.
     */
    for (i = 0; i < cfg_count; i++)
        cfg_state[i].exp_state = EXP_TODO;
    for (i = 0; i < cfg_count; i++) {
        vbuf_reset(why);
        if (cfg_expand(i, why) < 0 || cfg_convert(i, nums + i, why) < 0) {
            if (!failed || cfg_state[cfg_err_at].seq < err_seq) {
                vbuf_strcpy(err, vbuf_str(why));
                err_seq = cfg_state[cfg_err_at].seq;
            }
            failed = 1;
        }
    }
    if (!failed) {
        for (i = 0; i < cfg_count; i++) {
            const CFG_PARAM *p = config_params + i;
            CFG_STATE *st = cfg_state + i;

            switch (p->type) {
            case CFG_STR:
                myfree(st->strval);
                st->strval = mystrdup(st->exp);
                *(char **)p->target = st->strval;
                break;
            case CFG_BOOL:
                *(int *)p->target = (int)nums[i];
                break;
            case CFG_INT:
            case CFG_TIME:
            case CFG_SIZE:
                *(long *)p->target = nums[i];
                break;
            }
        }
    }
    vbuf_free(why);
    myfree(nums);
    return failed ? -1 : 0;
}

/* config_init - forget everything and apply every default */
void config_init(void)
{
    VBUF *err;
    size_t i;

    if (cfg_state == NULL) {
        while (config_params[cfg_count].name != NULL)
            cfg_count++;
        cfg_state = mycalloc(cfg_count, sizeof(*cfg_state));
    }
    for (i = 0; i < cfg_count; i++) {
        CFG_STATE *st = cfg_state + i;

        if (cfg_index(config_params[i].name, strlen(config_params[i].name)) != (int)i)
            msg_panic("config_init: setting %s is declared twice", config_params[i].name);
        myfree(st->exp);
        st->exp = NULL;
        st->exp_state = EXP_TODO;
        cfg_set(i, config_params[i].defval, SRC_DEFAULT, NULL, 0);
        st->seq = 0;
    }
    for (i = 0; i < cfg_nfiles; i++)
        myfree(cfg_files[i]);
    myfree(cfg_files);
    cfg_files = NULL;
    cfg_nfiles = 0;
    cfg_seq = 0;

    err = vbuf_alloc(4096);
    if (cfg_finish(err) < 0)
        msg_panic("config_init: %s", vbuf_str(err));
    vbuf_free(err);
}

/* cfg_assign - one logical line: "name = value" */
static int cfg_assign(char *text, const char *file, long line, VBUF *err)
{
    char *eq, *name, *value;
    int i;

    if ((eq = strchr(text, '=')) == NULL) {
        vbuf_sprintf(err, "%s, line %ld: missing \"=\" in ", file, line);
        cfg_quote(err, text);
        vbuf_strcat(err, " (expected name = value)");
        return -1;
    }
    *eq = 0;
    name = cfg_trim(text);
    value = cfg_trim(eq + 1);
    if (*name == 0) {
        vbuf_sprintf(err, "%s, line %ld: missing setting name before \"=\"", file, line);
        return -1;
    }
    if (!cfg_name_ok(name)) {
        vbuf_sprintf(err, "%s, line %ld: bad setting name ", file, line);
        cfg_quote(err, name);
        return -1;
    }
    if ((i = cfg_index(name, strlen(name))) < 0) {
        vbuf_sprintf(err, "%s, line %ld: unknown setting ", file, line);
        cfg_quote(err, name);
        return -1;
    }
    if (cfg_state[i].src != SRC_OVERRIDE)
        cfg_set((size_t)i, value, SRC_FILE, file, line);
    return 0;
}

/* cfg_read_line - one physical line without its newline; 0 at EOF, -1 error */
static int cfg_read_line(FILE *fp, VBUF *buf)
{
    int ch;

    vbuf_reset(buf);
    while ((ch = getc(fp)) != EOF && ch != '\n') {
        if (ch == 0)
            return -2;
        if (vbuf_addch(buf, ch) < 0) {
            while ((ch = getc(fp)) != EOF && ch != '\n')
                 /* skip the rest */ ;
            return -3;
        }
    }
    if (ferror(fp))
        return -1;
    return (ch == EOF && vbuf_len(buf) == 0) ? 0 : 1;
}

/* config_load - read one file of name = value lines */
int config_load(const char *path, int must_exist, VBUF *err)
{
    FILE *fp;
    VBUF *phys, *logical;
    const char *file;
    long lineno = 0, start = 0;
    int ret = 0, rc;

    if (cfg_state == NULL)
        msg_panic("config_load: config_init was not called");
    if ((fp = fopen(path, "r")) == NULL) {
        if (errno == ENOENT && !must_exist)
            return 0;
        vbuf_sprintf(err, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    cfg_files = myrealloc(cfg_files, (cfg_nfiles + 1) * sizeof(*cfg_files));
    file = cfg_files[cfg_nfiles++] = mystrdup(path);

    phys = vbuf_alloc(CFG_LINE_MAX);
    logical = vbuf_alloc(CFG_LINE_MAX);
    for (;;) {
        char *text;

        rc = cfg_read_line(fp, phys);
        if (rc > 0)
            lineno++;
        if (rc == -1) {
            vbuf_sprintf(err, "error reading %s: %s", path, strerror(errno));
            ret = -1;
            break;
        }
        if (rc == -2 || rc == -3) {
            if (rc == -2)
                vbuf_sprintf(err, "%s, line %ld: line contains a NUL byte", path, lineno + 1);
            else
                vbuf_sprintf(err, "%s, line %ld: line is longer than %d bytes",
                             path, lineno + 1, CFG_LINE_MAX);
            ret = -1;
            break;
        }
        text = rc > 0 ? cfg_trim(phys->data) : NULL;
        if (text != NULL && (*text == 0 || *text == '#'))
            continue;                                   /* blank or comment */
        if (text != NULL && text != phys->data) {       /* continuation */
            if (vbuf_len(logical) == 0) {
                vbuf_sprintf(err, "%s, line %ld: continuation line (it starts with white space) "
                             "without a setting before it", path, lineno);
                ret = -1;
                break;
            }
            if (vbuf_addch(logical, ' ') < 0 || vbuf_strcat(logical, text) < 0) {
                vbuf_sprintf(err, "%s, line %ld: setting is longer than %d bytes",
                             path, start, CFG_LINE_MAX);
                ret = -1;
                break;
            }
            continue;
        }
        if (vbuf_len(logical) > 0 && cfg_assign(logical->data, file, start, err) < 0) {
            ret = -1;
            break;
        }
        if (text == NULL)
            break;                                      /* EOF */
        vbuf_strcpy(logical, text);
        start = lineno;
    }
    vbuf_free(phys);
    vbuf_free(logical);
    fclose(fp);
    return ret;
}

/* config_override - apply "name=value" from -o */
int config_override(const char *nameval, VBUF *err)
{
    char *copy, *eq, *name, *value;
    int i, ret = -1;

    if (cfg_state == NULL)
        msg_panic("config_override: config_init was not called");
    copy = mystrdup(nameval);
    if ((eq = strchr(copy, '=')) == NULL) {
        vbuf_strcpy(err, "-o ");
        cfg_quote(err, copy);
        vbuf_strcat(err, ": missing \"=\" (use -o name=value)");
        goto out;
    }
    *eq = 0;
    name = cfg_trim(copy);
    value = cfg_trim(eq + 1);
    if (*name == 0) {
        vbuf_strcpy(err, "-o ");
        cfg_quote(err, nameval);
        vbuf_strcat(err, ": missing setting name (use -o name=value)");
        goto out;
    }
    if (!cfg_name_ok(name) || (i = cfg_index(name, strlen(name))) < 0) {
        char buf[200];

        vbuf_sprintf(err, "-o %s: unknown setting", msg_printable(buf, sizeof(buf), name));
        goto out;
    }
    cfg_set((size_t)i, value, SRC_OVERRIDE, NULL, 0);
    ret = 0;
out:
    myfree(copy);
    return ret;
}

/* config_finish - expand and convert into the var_* globals */
int config_finish(VBUF *err)
{
    if (cfg_state == NULL)
        msg_panic("config_finish: config_init was not called");
    return cfg_finish(err);
}

/* cfg_name_cmp - qsort by setting name */
static int cfg_name_cmp(const void *a, const void *b)
{
    return strcmp(config_params[*(const size_t *)a].name,
                  config_params[*(const size_t *)b].name);
}

/* config_print - "name = value" lines, sorted, raw values as written */
void config_print(FILE *fp, int all)
{
    size_t *order, i;

    if (cfg_state == NULL)
        msg_panic("config_print: config_init was not called");
    order = mycalloc(cfg_count, sizeof(*order));
    for (i = 0; i < cfg_count; i++)
        order[i] = i;
    qsort(order, cfg_count, sizeof(*order), cfg_name_cmp);
    for (i = 0; i < cfg_count; i++) {
        const CFG_STATE *st = cfg_state + order[i];

        if (!all && strcmp(st->raw, config_params[order[i]].defval) == 0)
            continue;
        fprintf(fp, "%s =%s%s\n", config_params[order[i]].name,
                *st->raw ? " " : "", st->raw);
    }
    myfree(order);
}

/* config_lookup - raw value of a setting, NULL if there is no such setting */
const char *config_lookup(const char *name)
{
    int i;

    if (cfg_state == NULL || (i = cfg_index(name, strlen(name))) < 0)
        return NULL;
    return cfg_state[i].raw;
}

 /*
  * Snapshots: "name=raw" for every setting, put back as overrides.
  */
struct CONFIG_SNAPSHOT {
    char  **items;              /* NULL-terminated */
};

/* config_snapshot - see config.h */
CONFIG_SNAPSHOT *config_snapshot(void)
{
    CONFIG_SNAPSHOT *snap = mymalloc(sizeof(*snap));
    VBUF   *buf = vbuf_alloc(1 << 20);
    size_t  n = 0, i;

    while (config_params[n].name)
        n++;
    snap->items = mycalloc(n + 1, sizeof(*snap->items));
    for (i = 0; i < n; i++) {
        const char *raw = config_lookup(config_params[i].name);

        vbuf_sprintf(buf, "%s=%s", config_params[i].name, raw ? raw : "");
        snap->items[i] = mystrdup(vbuf_str(buf));
    }
    vbuf_free(buf);
    return snap;
}

/* config_snapshot_restore - see config.h */
int     config_snapshot_restore(const CONFIG_SNAPSHOT *snap, VBUF *err)
{
    size_t  i;

    config_init();
    for (i = 0; snap->items[i]; i++)
        if (config_override(snap->items[i], err) < 0)
            return -1;
    return config_finish(err);
}

/* config_snapshot_free - see config.h */
void    config_snapshot_free(CONFIG_SNAPSHOT *snap)
{
    size_t  i;

    if (snap == NULL)
        return;
    for (i = 0; snap->items[i]; i++)
        myfree(snap->items[i]);
    myfree(snap->items);
    myfree(snap);
}
