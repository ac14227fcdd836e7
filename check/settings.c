/*
 * settings - the filter's own settings that the rules need, read the way
 * postsift-filter (or postsift-policy) reads them: lib/config's table (lib/params.c) for the
 * defaults, postsift.conf through config_load(), then the -o arguments
 * of the service's argv. Each key (a pipe service, an SMTP filter's
 * address) is read once.
 *
 * When lib/config refuses the file (the finding filter-config), the
 * settings are taken from the file as text instead, so that the other
 * rules judge what the file says and not the defaults.
 *
 * With --snapshot, every postsift.conf is the snapshot's (or -p).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check/check.h"
#include "lib/config.h"
#include "lib/params.h"

/* the settings the rules read, with where CK_SETTINGS keeps each */
static const char *const set_names[] = {
    "reinject_target", "smtpd_listen", "smtpd_workers", "pipe_deadline",
    "smtpd_data_done_timeout", "milter_listen", "milter_workers", "policy_listen",
    "policy_timeout", "policy_command_timeout", "policy_store_timeout", "policy_idle_timeout",
    "scanner", "message_size_limit", "oversize_action", "error_action", NULL,
};

/* set_slot - the field of name */
static const char **set_slot(CK_SETTINGS *set, const char *name)
{
    if (strcmp(name, "reinject_target") == 0)
        return &set->reinject_target;
    if (strcmp(name, "smtpd_listen") == 0)
        return &set->smtpd_listen;
    if (strcmp(name, "smtpd_workers") == 0)
        return &set->smtpd_workers;
    if (strcmp(name, "pipe_deadline") == 0)
        return &set->pipe_deadline;
    if (strcmp(name, "milter_listen") == 0)
        return &set->milter_listen;
    if (strcmp(name, "milter_workers") == 0)
        return &set->milter_workers;
    if (strcmp(name, "policy_listen") == 0)
        return &set->policy_listen;
    if (strcmp(name, "policy_timeout") == 0)
        return &set->policy_timeout;
    if (strcmp(name, "policy_command_timeout") == 0)
        return &set->policy_command_timeout;
    if (strcmp(name, "policy_store_timeout") == 0)
        return &set->policy_store_timeout;
    if (strcmp(name, "policy_idle_timeout") == 0)
        return &set->policy_idle_timeout;
    if (strcmp(name, "scanner") == 0)
        return &set->scanner;
    if (strcmp(name, "message_size_limit") == 0)
        return &set->message_size_limit;
    if (strcmp(name, "oversize_action") == 0)
        return &set->oversize_action;
    if (strcmp(name, "error_action") == 0)
        return &set->error_action;
    return &set->smtpd_data_done_timeout;
}

/* set_from_vars - the values lib/config converted (var_*) */
static void set_from_vars(CK *ck, CK_SETTINGS *set)
{
    set->reinject_target = ck_str(ck, var_reinject_target);
    set->smtpd_listen = ck_str(ck, var_smtpd_listen);
    set->smtpd_workers = ck_fmt(ck, "%ld", var_smtpd_workers);
    set->pipe_deadline = ck_fmt(ck, "%lds", var_pipe_deadline);
    set->smtpd_data_done_timeout = ck_fmt(ck, "%lds", var_smtpd_data_done_timeout);
    set->milter_listen = ck_str(ck, var_milter_listen);
    set->milter_workers = ck_fmt(ck, "%ld", var_milter_workers);
    set->policy_listen = ck_str(ck, var_policy_listen);
    set->policy_timeout = ck_fmt(ck, "%lds", var_policy_timeout);
    set->policy_command_timeout = ck_fmt(ck, "%lds", var_policy_command_timeout);
    set->policy_store_timeout = ck_fmt(ck, "%lds", var_policy_store_timeout);
    set->policy_idle_timeout = ck_fmt(ck, "%lds", var_policy_idle_timeout);
    set->scanner = ck_str(ck, var_scanner);
    set->message_size_limit = ck_fmt(ck, "%ld", var_message_size_limit);
    set->oversize_action = ck_str(ck, var_oversize_action);
    set->error_action = ck_str(ck, var_error_action);
}

/* set_text_line - one logical line of a refused file: a setting we need */
static void set_text_line(CK *ck, CK_SETTINGS *set, const char *line)
{
    const char *eq = strchr(line, '='), *v;
    size_t  len;
    int     i;

    if (eq == NULL)
        return;
    for (len = (size_t)(eq - line); len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t');)
        len--;
    for (i = 0; set_names[i]; i++) {
        if (strlen(set_names[i]) != len || strncmp(line, set_names[i], len) != 0)
            continue;
        v = eq + 1 + strspn(eq + 1, " \t");
        len = strlen(v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        *set_slot(set, set_names[i]) = ck_strn(ck, v, len);
    }
}

/* set_from_text - what a file lib/config refused says, read as text:
   comments, blank lines and continuation lines as in main.cf */
static void set_from_text(CK *ck, CK_SETTINGS *set, const char *path)
{
    FILE   *fp;
    VBUF   *logical = vbuf_alloc(64 * 1024);
    char    line[8192];

    if ((fp = fopen(path, "r")) == NULL) {
        vbuf_free(logical);
        return;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[strspn(line, " \t")] == 0 || line[strspn(line, " \t")] == '#')
            continue;
        if (line[0] == ' ' || line[0] == '\t') {
            vbuf_addch(logical, ' ');
            vbuf_strcat(logical, line + strspn(line, " \t"));
            continue;
        }
        set_text_line(ck, set, vbuf_str(logical));
        vbuf_strcpy(logical, line);
    }
    set_text_line(ck, set, vbuf_str(logical));
    fclose(fp);
    vbuf_free(logical);
}

/* set_load - defaults, file, overrides; -1 with why in err */
static int set_load(const char *conf, const CK_LIST *ovr, int *missing, VBUF *err)
{
    struct stat st;
    size_t  i;

    config_init();
    *missing = stat(conf, &st) < 0 && errno == ENOENT;
    if (!*missing && config_load(conf, 1, err) < 0)
        return -1;
    for (i = 0; ovr && i < ovr->n; i++)
        if (config_override(ovr->v[i], err) < 0)
            return -1;
    return config_finish(err);
}

/* ck_settings - the settings of key: conf with the -o name=value of ovr */
CK_SETTINGS *ck_settings(CK *ck, const char *key, const char *conf, const CK_LIST *ovr)
{
    CK_SETTINGS *set;
    VBUF   *err;
    size_t  i;
    int     missing;

    for (i = 0; i < ck->settings.n; i++)
        if (strcmp((set = ck->settings.v[i])->key, key) == 0)
            return set;
    set = ck_alloc(ck, sizeof(*set));
    set->key = ck_str(ck, key);
    set->conf = ck_str(ck, conf);
    ck_list_add(ck, &ck->settings, set);
    err = vbuf_alloc(4096);
    config_init();
    set_from_vars(ck, set);                     /* the defaults */
    if (set_load(conf, ovr, &missing, err) == 0) {
        set_from_vars(ck, set);
        if (missing)
            ck_say(ck, "note: no %s; the filter's defaults are assumed (give -p)", conf);
        else
            ck_say(ck, "settings of %s: %s%s%s", key, conf, ovr && ovr->n ? " -o " : "",
                   ovr && ovr->n ? ck_join(ck, ovr, " -o ") : "");
    } else {
        set->error = ck_str(ck, vbuf_str(err));
        ck_say(ck, "settings of %s: read from %s as text (the filter refuses it)", key, conf);
        set_from_text(ck, set, conf);
        for (i = 0; ovr && i < ovr->n; i++) {
            const char *o = ovr->v[i], *eq = strchr(o, '=');
            int     j;

            for (j = 0; eq && set_names[j]; j++)
                if (strncmp(o, set_names[j], (size_t)(eq - o)) == 0
                    && set_names[j][eq - o] == 0)
                    *set_slot(set, set_names[j]) = ck_str(ck, eq + 1);
        }
    }
    config_init();
    vbuf_free(err);
    return set;
}

/* ck_conf_path - postsift.conf as named (live), or the snapshot's */
static const char *ck_conf_path(CK *ck, const char *named)
{
    if (ck->opts->conf)
        return ck->opts->conf;
    if (ck->opts->snapshot)
        return postconf_snap_path(ck, "postsift.conf");
    return named;
}

/* set_argv - the settings of the program (postsift-filter, postsift-policy)
   that a pipe(8) or spawn(8) service runs (its -c and -o arguments); NULL
   when the service runs another program */
static CK_SETTINGS *set_argv(CK *ck, const char *key, const CK_SERVICE *svc, const char *name)
{
    CK_LIST argv = {0}, ovr = {0};
    const char *prog, *base, *conf = NULL;
    size_t  i;

    ck_argv(ck, svc, &argv);
    if (argv.n == 0)
        return NULL;
    prog = argv.v[0];
    base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
    if (strncmp(base, name, strlen(name)) != 0)
        return NULL;
    for (i = 1; i + 1 < argv.n; i++) {
        if (strcmp(argv.v[i], "-c") == 0)
            conf = argv.v[++i];
        else if (strcmp(argv.v[i], "-o") == 0)
            ck_list_add(ck, &ovr, argv.v[++i]);
    }
    if (ck->opts->snapshot || conf == NULL)
        conf = ck_conf_path(ck, CK_DEFAULT_CONF);
    return ck_settings(ck, key, conf, &ovr);
}

/* ck_argv_settings - the settings of a postsift-filter that a pipe(8) or
   spawn(8) service runs; NULL when the service does not run it */
CK_SETTINGS *ck_argv_settings(CK *ck, const char *key, const CK_SERVICE *svc)
{
    return set_argv(ck, key, svc, "postsift-filter");
}

/* ck_policy_settings - the settings of the postsift-policy that a
   spawn(8) service runs; NULL when the service does not run it */
CK_SETTINGS *ck_policy_settings(CK *ck, const char *key, const CK_SERVICE *svc)
{
    return set_argv(ck, key, svc, "postsift-policy");
}

/* ck_daemon_settings - for the postsift-filter daemon: -p or the default */
CK_SETTINGS *ck_daemon_settings(CK *ck, const char *key)
{
    return ck_settings(ck, key, ck_conf_path(ck, CK_DEFAULT_CONF), NULL);
}
