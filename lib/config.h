/*
 * config - postsift.conf in Postfix main.cf syntax
 *
 * "name = value" lines, '#' comments (whole lines only, as in main.cf),
 * continuation lines begin with white space, $name and ${name} expand to
 * other settings. Every setting is declared once in params.c with its type
 * and default and lands in a var_* global (params.h). An unknown name or a
 * malformed value is an error naming the file and line; -o overrides name
 * "-o" instead of a line. Times take Postfix units (s, m, h, d, w; a bare
 * number is seconds); sizes are bytes with an optional k/m/g suffix.
 */
#ifndef POSTSIFT_CONFIG_H
#define POSTSIFT_CONFIG_H

#include <stdio.h>

#include "lib/vbuf.h"

typedef enum CFG_TYPE {
    CFG_STR,        /* any text */
    CFG_INT,        /* non-negative integer */
    CFG_BOOL,       /* yes/no (also true/false, 1/0) */
    CFG_TIME,       /* seconds, with s/m/h/d/w units */
    CFG_SIZE,       /* bytes, with optional k/m/g */
} CFG_TYPE;

typedef struct CFG_PARAM {
    const char *name;
    CFG_TYPE    type;
    const char *defval;     /* as written in the file */
    void       *target;     /* char **, long *, int * for BOOL */
    long        min, max;   /* bounds for INT/TIME/SIZE (max 0 = none) */
    const char *help;       /* one line, for postsift.conf(5) and -n -v */
} CFG_PARAM;

#define CONFIG_DEFAULT_PATH POSTSIFT_SYSCONFDIR "/postsift/postsift.conf"

/* config_init - apply every default; call once before anything else */
void config_init(void);

/* config_load - read FILE; -1 with "FILE, line N: why" in err on error.
   A missing file is an error only when must_exist is set. */
int config_load(const char *path, int must_exist, VBUF *err);

/* config_override - apply "name=value" from -o; -1 with why in err */
int config_override(const char *nameval, VBUF *err);

/* config_finish - expand $name references and convert values to var_*;
   -1 with "FILE, line N: why" (or "-o name: why") in err */
int config_finish(VBUF *err);

/* config_print - "name = value" for every setting that differs from its
   default (all settings when all is set), sorted by name, as postconf -n */
void config_print(FILE *fp, int all);

/* config_lookup - the raw value of a setting after finish, NULL if unknown */
const char *config_lookup(const char *name);

/* CONFIG_SNAPSHOT - the raw value of every setting, taken before a
   reload and put back when the reload fails */
typedef struct CONFIG_SNAPSHOT CONFIG_SNAPSHOT;

/* config_snapshot - the raw values of every setting now */
CONFIG_SNAPSHOT *config_snapshot(void);

/* config_snapshot_restore - the settings of snap again (from the defaults,
   each raw value as an override, then finish); -1 with why in err. The
   caller sets up logging again, as after prog_configure() */
int config_snapshot_restore(const CONFIG_SNAPSHOT *snap, VBUF *err);

/* config_snapshot_free - release (NULL is fine) */
void config_snapshot_free(CONFIG_SNAPSHOT *snap);

/* config_parse_time / config_parse_size - the unit parsers, for tests */
int config_parse_time(const char *text, long *seconds);
int config_parse_size(const char *text, long *bytes);
int config_parse_bool(const char *text, int *value);

/* the settings table, defined in params.c */
extern const CFG_PARAM config_params[];

#endif
