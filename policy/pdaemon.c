/*
 * pdaemon - postsift-policy -m daemon (pdaemon.h)
 *
 * The glue between the preforking server (server/server.h) and the
 * policy session: the server's settings from policy_listen,
 * policy_pid_file, daemon_user, policy_workers, policy_max_sessions and
 * policy_timeout (a retired worker's last request, the drain); the
 * engine is the compiled rules with the secret and the store (engine.h),
 * loaded in the master and shared copy-on-write (the store is opened
 * afresh in each worker); "changed" is a rules, table or secret file
 * that changed on disk, checked every PDAEMON_CHECK_INTERVAL seconds.
 *
 * A reload (SIGHUP) re-reads the settings after a snapshot of every raw
 * value, and puts the snapshot back when the settings or the rules are
 * bad, so the old settings stay in force with the old rules.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/vbuf.h"
#include "policy/engine.h"
#include "policy/pdaemon.h"
#include "policy/session.h"
#include "server/server.h"

#define PDAEMON_CHECK_INTERVAL 60

static PROG_OPTS opts;                  /* with an absolute config path */
static CONFIG_SNAPSHOT *reload_snap;    /* the settings before a reload */
static volatile sig_atomic_t pdaemon_shutdown;

/* pdaemon_restore - the snapshot's settings (lib/config) and logger
   again when apply is set; the snapshot freed */
static void pdaemon_restore(CONFIG_SNAPSHOT *snap, int apply)
{
    VBUF   *err = vbuf_alloc(4096);

    if (apply) {
        if (config_snapshot_restore(snap, err) < 0)
            msg_panic("pdaemon_restore: %s", vbuf_str(err));
        msg_set_syslog_name(var_syslog_name);
        msg_set_hostname(var_myhostname);
        if (var_log_file && *var_log_file)
            msg_set_logfile(var_log_file);
    }
    config_snapshot_free(snap);
    vbuf_free(err);
}

/* pdaemon_settings - the server's settings from ours */
static void pdaemon_settings(SERVER_SETTINGS *set)
{
    set->listen = var_policy_listen;
    set->pid_file = var_policy_pid_file;
    set->user = var_daemon_user;
    set->workers = var_policy_workers;
    set->max_sessions = var_policy_max_sessions;
    set->check_interval = PDAEMON_CHECK_INTERVAL;
    set->retire_timeout = var_policy_timeout;
    set->drain_timeout = var_policy_timeout;
}

/* pdaemon_load - a new engine, logged; NULL with why in err */
static void *pdaemon_load(void *ctx, const char *verb, VBUF *err)
{
    ENGINE *eng;
    VBUF   *what;

    (void)ctx;
    if ((eng = engine_load(err)) == NULL)
        return NULL;
    what = vbuf_alloc(4096);
    engine_describe(eng, what);
    msg_info("policy rules %s: %s", verb, vbuf_str(what));
    vbuf_free(what);
    return eng;
}

/* pdaemon_unload - the master's copy of an engine */
static void pdaemon_unload(void *ctx, void *engine)
{
    (void)ctx;
    engine_free(engine);
}

/* pdaemon_changed - a file the engine read has changed */
static int pdaemon_changed(void *ctx, void *engine)
{
    (void)ctx;
    return engine_changed(engine);
}

/* pdaemon_configure - re-read the settings (SIGHUP) */
static int pdaemon_configure(void *ctx, SERVER_SETTINGS *set, VBUF *err)
{
    (void)ctx;
    reload_snap = config_snapshot();
    if (prog_configure(&opts, err) < 0)
        return -1;
    pdaemon_settings(set);
    return 0;
}

/* pdaemon_reload_end - keep the new settings, or put the old ones back */
static void pdaemon_reload_end(void *ctx, int result)
{
    (void)ctx;
    pdaemon_restore(reload_snap, result != SERVER_RELOAD_OK);
    reload_snap = NULL;
}

/* pdaemon_serve - one connection from a Postfix smtpd */
static void pdaemon_serve(void *ctx, void *engine, int fd, const SERVER_PEER *peer)
{
    (void)ctx;
    (void)session_serve(fd, fd, engine, peer->addr, &pdaemon_shutdown);
}

/* pdaemon_main - see pdaemon.h */
int     pdaemon_main(const PROG_OPTS *po, int foreground)
{
    static const SERVER_OPS ops = {
        .name = "postsift-policy daemon",
        .engine_name = "policy rules",
        .data_name = "rules",
        .load = pdaemon_load,
        .unload = pdaemon_unload,
        .changed = pdaemon_changed,
        .configure = pdaemon_configure,
        .reload_end = pdaemon_reload_end,
        .serve = pdaemon_serve,
        .worker_exit = NULL,
        .shutdown = &pdaemon_shutdown,
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
    pdaemon_settings(&set);
    set.flags = foreground ? SERVER_FOREGROUND : 0;
    set.listen_param = "policy_listen";
    set.pid_file_param = "policy_pid_file";
    set.user_param = "daemon_user";
    status = server_main(&ops, NULL, &set);
    myfree(config_abs);
    vbuf_free(path);
    return status;
}
