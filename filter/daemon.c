/*
 * daemon - postsift-filter -m smtpd -d and -m milter: the daemons
 *
 * The glue between the generic preforking server (server/server.h) and
 * the two session engines. SMTP: the server's settings from
 * smtpd_listen, smtpd_pid_file, daemon_user, smtpd_workers,
 * smtpd_max_sessions, signature_check_interval, smtpd_timeout (a retired
 * worker's last session) and smtpd_data_deadline (the drain); a session
 * is smtpd_session(). Milter: milter_listen (Postfix's syntax, mapped to
 * the server's), milter_pid_file, milter_workers, milter_max_sessions,
 * milter_timeout, the same drain; a session is milter_session(), with
 * TCP_NODELAY on TCP sockets (a milter reply is small and waited for).
 * Both: the engine is an INSPECTOR (scan/inspect.h), loaded once in the
 * master and shared by the workers copy-on-write; "changed" is the
 * signature directory (avscan_changed()).
 *
 * A reload re-reads the settings (prog_configure with the command line's
 * -c and -o, then the action and banned checks) after taking a snapshot
 * of every raw value: prog_configure() starts from the defaults, so a
 * reload that fails puts the snapshot back, and the old settings stay in
 * force with the old engine.
 */
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter/counters.h"
#include "filter/daemon.h"
#include "filter/metricsd.h"
#include "filter/milter.h"
#include "filter/outcome.h"
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
static CONFIG_SNAPSHOT *reload_snap;    /* the settings before a reload */
static int daemon_kind;                 /* DAEMON_SMTPD or DAEMON_MILTER */
static VBUF *milter_listen;             /* milter_listen in the server's syntax */

/* daemon_restore - the settings of the snapshot (lib/config), and the
   logger they say */
static void daemon_restore(const CONFIG_SNAPSHOT *snap)
{
    VBUF   *err = vbuf_alloc(4096);

    if (config_snapshot_restore(snap, err) < 0)
        msg_panic("daemon_restore: %s", vbuf_str(err));
    msg_set_syslog_name(var_syslog_name);
    msg_set_hostname(var_myhostname);
    if (var_log_file && *var_log_file)
        msg_set_logfile(var_log_file);
    vbuf_free(err);
}

/*
 * The front end's callbacks.
 */

/* daemon_milter_listen - Postfix's milter addresses (inet:HOST:PORT,
 * inet6:HOST:PORT, unix:/PATH or local:/PATH; comma or space list) in
 * the server's syntax (HOST:PORT, [HOST]:PORT, unix:/PATH); -1 with why
 * in err */
int     daemon_milter_listen(const char *spec, VBUF *out, VBUF *err)
{
    char   *copy = mystrdup(spec), *cp = copy, *item, *host;
    int     ret = 0;

    vbuf_reset(out);
    while (ret == 0 && (item = strsep(&cp, ", \t")) != NULL) {
        if (*item == 0)
            continue;
        if (vbuf_len(out) > 0)
            vbuf_strcat(out, ", ");
        if (strncmp(item, "unix:/", 6) == 0 || strncmp(item, "local:/", 7) == 0) {
            vbuf_sprintf_append(out, "unix:%s", strchr(item, ':') + 1);
        } else if ((strncmp(item, "inet:", 5) == 0 || strncmp(item, "inet6:", 6) == 0)
                   && (host = strchr(item, ':') + 1, strrchr(host, ':') != NULL)
                   && strrchr(host, ':') != host && strrchr(host, ':')[1] != 0) {
            char   *colon = strrchr(host, ':');

            *colon = 0;
            if (*host != '[' && strchr(host, ':') != NULL)
                vbuf_sprintf_append(out, "[%s]:%s", host, colon + 1);
            else
                vbuf_sprintf_append(out, "%s:%s", host, colon + 1);
        } else {
            vbuf_sprintf(err, "milter_listen: \"%s\" is not inet:host:port, "
                         "inet6:host:port or unix:/path", item);
            ret = -1;
        }
    }
    if (ret == 0 && vbuf_len(out) == 0) {
        vbuf_strcpy(err, "milter_listen is empty");
        ret = -1;
    }
    myfree(copy);
    return ret;
}

/* daemon_settings - the server's settings from ours */
static void daemon_settings(SERVER_SETTINGS *set)
{
    set->user = var_daemon_user;
    set->check_interval = var_signature_check_interval;
    set->drain_timeout = var_smtpd_data_deadline;
    if (daemon_kind == DAEMON_MILTER) {
        set->listen = vbuf_str(milter_listen);
        set->pid_file = var_milter_pid_file;
        set->workers = var_milter_workers;
        set->max_sessions = var_milter_max_sessions;
        set->retire_timeout = var_milter_timeout;
        return;
    }
    set->listen = var_smtpd_listen;
    set->pid_file = var_smtpd_pid_file;
    set->workers = var_smtpd_workers;
    set->max_sessions = var_smtpd_max_sessions;
    set->retire_timeout = var_smtpd_timeout;
}

/* daemon_check - the settings only a daemon needs checked; -1 with why */
static int daemon_check(VBUF *err)
{
    if (outcome_method_check(err) < 0 || metricsd_check(err) < 0)
        return -1;
    if (daemon_kind == DAEMON_MILTER
        && daemon_milter_listen(var_milter_listen, milter_listen, err) < 0)
        return -1;
    return 0;
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
    /* the master runs as daemon_user now: the counter file is its */
    counters_setup();
    counters_signatures(in);
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
        || banned_settings_check(err) < 0 || daemon_check(err) < 0)
        return -1;
    daemon_settings(set);
    return 0;
}

/* daemon_reload_end - keep the new settings, or put the old ones back */
static void daemon_reload_end(void *ctx, int result)
{
    VBUF   *err;

    (void)ctx;
    metrics_reload(result == SERVER_RELOAD_OK);
    if (result != SERVER_RELOAD_OK) {
        daemon_restore(reload_snap);
        err = vbuf_alloc(1024);
        (void)daemon_check(err);        /* milter_listen as it was */
        vbuf_free(err);
    }
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

/* daemon_serve_milter - one milter session; TCP_NODELAY on TCP: each
 * reply is one small packet that Postfix waits for */
static void daemon_serve_milter(void *ctx, void *engine, int fd, const SERVER_PEER *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     on = 1;

    (void)ctx;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0
        && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    milter_session(fd, peer->addr, engine, "");
}

/* daemon_worker_exit - _exit() runs no atexit hook: libclamav's directory
 * goes now (a worker killed instead leaves it to the next one's sweep) */
static void daemon_worker_exit(void *ctx)
{
    (void)ctx;
    avscan_tmpdir_remove();
}

/* daemon_helper - the helper process: the metrics endpoint */
static void daemon_helper(void *ctx)
{
    (void)ctx;
    metricsd_main();
}

/* daemon_main - see daemon.h */
int     daemon_main(const PROG_OPTS *po, int foreground, int kind)
{
    /* One table; the milter differs in name, session and shutdown flag. */
    static const SERVER_OPS smtpd_ops = {
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
        .metrics_design = METRICS_DESIGN_SMTPD,
    };
    SERVER_OPS ops = smtpd_ops;
    SERVER_SETTINGS set;
    VBUF   *path = vbuf_alloc(PATH_MAX), *err = vbuf_alloc(4096);
    char   *config_abs = NULL;
    char    cwd[PATH_MAX];
    int     status;

    if (kind == DAEMON_MILTER) {
        ops.name = "postsift-filter milter daemon";
        ops.serve = daemon_serve_milter;
        ops.shutdown = &milter_shutdown;
        ops.metrics_design = METRICS_DESIGN_MILTER;
    }

    daemon_kind = kind;
    milter_listen = vbuf_alloc(4096);
    if (daemon_check(err) < 0)
        msg_fatal("%s", vbuf_str(err));
    /* The settings are re-read after chdir("/"): keep an absolute path. */
    opts = *po;
    if (po->config && *po->config != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
        vbuf_sprintf(path, "%s/%s", cwd, po->config);
        opts.config = config_abs = mystrdup(vbuf_str(path));
    }
    memset(&set, 0, sizeof(set));
    daemon_settings(&set);
    set.flags = (foreground ? SERVER_FOREGROUND : 0) | (kind == DAEMON_MILTER ? SERVER_UNIX : 0);
    set.listen_param = kind == DAEMON_MILTER ? "milter_listen" : "smtpd_listen";
    set.pid_file_param = kind == DAEMON_MILTER ? "milter_pid_file" : "smtpd_pid_file";
    set.user_param = "daemon_user";
    /* metrics_listen is read at start only: a change needs a restart */
    ops.helper = *var_metrics_listen ? daemon_helper : NULL;
    status = server_main(&ops, NULL, &set);
    myfree(config_abs);
    vbuf_free(path);
    vbuf_free(err);
    vbuf_free(milter_listen);
    return status;
}
