/*
 * daemon - postsift-filter -m smtpd -d: the SMTP filter as a daemon
 *
 * The glue between the generic preforking server (server/server.h) and
 * the SMTP session engine: the server's settings from smtpd_listen,
 * smtpd_pid_file, daemon_user, smtpd_workers, smtpd_max_sessions,
 * signature_check_interval, smtpd_timeout (a retired worker's last
 * session) and smtpd_data_deadline (the drain); the engine is an
 * INSPECTOR (scan/inspect.h), loaded once in the master and shared by
 * the workers copy-on-write; a session is smtpd_session(); "changed" is
 * the signature directory (avscan_changed()).
 *
 * A reload re-reads the settings (prog_configure with the command line's
 * -c and -o, then the action and banned checks) after taking a snapshot
 * of every raw value: prog_configure() starts from the defaults, so a
 * reload that fails puts the snapshot back, and the old settings stay in
 * force with the old engine.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "filter/daemon.h"
#include "filter/smtpd.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/vbuf.h"
#include "scan/avscan.h"
#include "scan/banned.h"
#include "scan/inspect.h"
#include "scan/verdict.h"
#include "server/server.h"

static PROG_OPTS opts;                  /* po, with an absolute config path */
static char **reload_snap;              /* the settings before a reload */

 /*
  * Settings: a snapshot of every raw value, to put back when a reload
  * fails (prog_configure() starts from the defaults).
  */

/* config_snapshot - "name=raw" for every setting, NULL-terminated */
static char **config_snapshot(void)
{
    char  **snap;
    size_t  n = 0, i;
    VBUF   *buf = vbuf_alloc(1 << 20);

    while (config_params[n].name)
        n++;
    snap = mycalloc(n + 1, sizeof(*snap));
    for (i = 0; i < n; i++) {
        const char *raw = config_lookup(config_params[i].name);

        vbuf_sprintf(buf, "%s=%s", config_params[i].name, raw ? raw : "");
        snap[i] = mystrdup(vbuf_str(buf));
    }
    vbuf_free(buf);
    return snap;
}

/* config_snapshot_free - release */
static void config_snapshot_free(char **snap)
{
    size_t  i;

    for (i = 0; snap[i]; i++)
        myfree(snap[i]);
    myfree(snap);
}

/* config_restore - the settings of the snapshot, and the logger they say */
static void config_restore(char **snap)
{
    VBUF   *err = vbuf_alloc(4096);
    size_t  i;

    config_init();
    for (i = 0; snap[i]; i++)
        if (config_override(snap[i], err) < 0)
            msg_panic("config_restore: %s", vbuf_str(err));
    if (config_finish(err) < 0)
        msg_panic("config_restore: %s", vbuf_str(err));
    msg_set_syslog_name(var_syslog_name);
    msg_set_hostname(var_myhostname);
    if (var_log_file && *var_log_file)
        msg_set_logfile(var_log_file);
    vbuf_free(err);
}

/*
 * The front end's callbacks.
 */

/* daemon_settings - the server's settings from ours */
static void daemon_settings(SERVER_SETTINGS *set)
{
    set->listen = var_smtpd_listen;
    set->pid_file = var_smtpd_pid_file;
    set->user = var_daemon_user;
    set->workers = var_smtpd_workers;
    set->max_sessions = var_smtpd_max_sessions;
    set->check_interval = var_signature_check_interval;
    set->retire_timeout = var_smtpd_timeout;
    set->drain_timeout = var_smtpd_data_deadline;
}

/* daemon_load - a new inspector, timed and logged; NULL with why in err */
static void *daemon_load(void *ctx, const char *verb, VBUF *err)
{
    INSPECTOR *in;
    double  t0 = clock_seconds();

    (void)ctx;
    if ((in = inspector_open(err)) == NULL)
        return NULL;
    msg_info("signatures %s: %lu signatures in %.2fs (%s)", verb,
             avscan_signatures(inspector_avscan(in)), clock_seconds() - t0,
             inspector_engine(in));
    return in;
}

/* daemon_unload - the master's copy of an inspector */
static void daemon_unload(void *ctx, void *engine)
{
    (void)ctx;
    inspector_close(engine);
}

/* daemon_changed - the signature directory changed since the load */
static int daemon_changed(void *ctx, void *engine)
{
    (void)ctx;
    return avscan_changed(inspector_avscan(engine));
}

/* daemon_configure - re-read the settings (SIGHUP); -1 with why in err,
 * the snapshot still to be put back by daemon_reload_end() */
static int daemon_configure(void *ctx, SERVER_SETTINGS *set, VBUF *err)
{
    (void)ctx;
    reload_snap = config_snapshot();
    if (prog_configure(&opts, err) < 0 || action_check(err) < 0
        || banned_settings_check(err) < 0)
        return -1;
    daemon_settings(set);
    return 0;
}

/* daemon_reload_end - keep the new settings, or put the old ones back */
static void daemon_reload_end(void *ctx, int result)
{
    (void)ctx;
    if (result != SERVER_RELOAD_OK)
        config_restore(reload_snap);
    config_snapshot_free(reload_snap);
    reload_snap = NULL;
}

/* daemon_serve - one SMTP session */
static void daemon_serve(void *ctx, void *engine, int fd, const SERVER_PEER *peer)
{
    SMTPD_PEER sp;

    (void)ctx;
    sp.addr = peer->addr;
    sp.port = peer->port;
    smtpd_session(fd, fd, &sp, engine, "");
}

/* daemon_worker_exit - _exit() runs no atexit hook: libclamav's directory
 * goes now (a worker killed instead leaves it to the next one's sweep) */
static void daemon_worker_exit(void *ctx)
{
    (void)ctx;
    avscan_tmpdir_remove();
}

/* daemon_main - see daemon.h */
int daemon_main(const PROG_OPTS *po, int foreground)
{
    static const SERVER_OPS ops = {
        .name = "postsift-filter daemon",
        .engine_name = "scanner",
        .data_name = "signatures",
        .load = daemon_load,
        .unload = daemon_unload,
        .changed = daemon_changed,
        .configure = daemon_configure,
        .reload_end = daemon_reload_end,
        .serve = daemon_serve,
        .worker_exit = daemon_worker_exit,
        .shutdown = &smtpd_shutdown,
    };
    SERVER_SETTINGS set;
    VBUF   *path = vbuf_alloc(PATH_MAX);
    char   *config_abs = NULL;
    char    cwd[PATH_MAX];
    int     status;

    /* The settings are re-read after chdir("/"): keep an absolute path. */
    opts = *po;
    if (po->config && *po->config != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
        vbuf_sprintf(path, "%s/%s", cwd, po->config);
        opts.config = config_abs = mystrdup(vbuf_str(path));
    }
    memset(&set, 0, sizeof(set));
    daemon_settings(&set);
    set.flags = foreground ? SERVER_FOREGROUND : 0;
    set.listen_param = "smtpd_listen";
    set.pid_file_param = "smtpd_pid_file";
    set.user_param = "daemon_user";
    status = server_main(&ops, NULL, &set);
    myfree(config_abs);
    vbuf_free(path);
    return status;
}
