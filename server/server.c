/*
 * server - the master of the preforking server (see server.h)
 *
 * Signals reach the master only inside ppoll() (blocked elsewhere), so
 * every handler just sets a flag and the loop does the work.
 *
 * The service manager hears from the master through sd_notify(3) (a
 * no-op unless NOTIFY_SOCKET is set, as in a Type=notify unit): READY=1
 * only once the engine is loaded and the first workers are forked,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 at the drain, and
 * a STATUS= line with each. libsystemd is opened at run time, and only
 * when NOTIFY_SOCKET is set.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/dynlib.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "server/detach.h"
#include "server/listener.h"
#include "server/pidfile.h"
#include "server/privs.h"
#include "server/server.h"
#include "server/worker.h"

#define SERVER_CRASH_RESET    60.0      /* seconds without a crash reset the backoff */
#define SERVER_CRASH_MAXDELAY 30        /* longest delay before a replacement */
#define SERVER_LONGEST_WAIT   86400.0   /* one ppoll() at most */

typedef struct WORKER {
    pid_t   pid;
    unsigned gen;                       /* engine generation it was forked with */
    int     retiring;                   /* SIGUSR1 sent: finishes its session */
    int     stopping;                   /* SIGTERM or SIGKILL sent */
    double  retired_at;
} WORKER;

 /*
  * Our copy of the settings: the strings are our own.
  */
typedef struct SETTINGS {
    SERVER_SETTINGS set;
    char   *strings[6];                 /* what set's strings point to */
} SETTINGS;

 /*
  * Master state. One master per process; the workers inherit a copy.
  */
static const SERVER_OPS *ops;
static void *ctx;
static SETTINGS cfg;
static LISTENERS listeners;
static PRIVS id;
static WORKER *workers;
static int nworkers, workers_alloc;
static unsigned cur_gen;
static void *cur_engine;
static WORKER_ENV wenv;                 /* what the next worker gets */

static int crashes;
static double last_crash;
static double fork_after;               /* crash backoff: no fork before */

static volatile sig_atomic_t got_term, got_hup, got_chld, got_usr2;
static pid_t helper_pid;                /* ops->helper's process; 0: none */
static double helper_after;             /* not forked again before this */

/* settings_copy - dst becomes a copy of src that owns its strings */
static void settings_copy(SETTINGS *dst, const SERVER_SETTINGS *src)
{
    const char **fields[6];
    int     i;

    dst->set = *src;
    fields[0] = &dst->set.listen;
    fields[1] = &dst->set.pid_file;
    fields[2] = &dst->set.user;
    fields[3] = &dst->set.listen_param;
    fields[4] = &dst->set.pid_file_param;
    fields[5] = &dst->set.user_param;
    for (i = 0; i < 6; i++) {
        dst->strings[i] = *fields[i] ? mystrdup(*fields[i]) : NULL;
        *fields[i] = dst->strings[i];
    }
}

/* settings_free - release the strings */
static void settings_free(SETTINGS *s)
{
    int     i;

    for (i = 0; i < 6; i++) {
        myfree(s->strings[i]);
        s->strings[i] = NULL;
    }
}

/* same_string - both NULL, or equal */
static int same_string(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

 /*
  * libsystemd is opened (lib/dynlib.c) only when a service manager waits
  * for word from us, so that no other process pays for loading it and
  * what it depends on.
  */
#ifndef SERVER_SYSTEMD_SONAME
#define SERVER_SYSTEMD_SONAME "libsystemd.so.0"
#endif

static struct {
    __typeof__(sd_notifyf) *sd_notifyf;        /* NULL: nobody listens */
} master_sd;

static const DYNLIB_SYM master_sd_syms[] = {
    DYNLIB_SYM_OF(master_sd, sd_notifyf),
};

/* master_notify_open - open libsystemd when NOTIFY_SOCKET is set; a
 * fatal error when it cannot be, as the manager would wait in vain */
static void master_notify_open(void)
{
    VBUF   *err;

    if (master_sd.sd_notifyf != NULL || getenv("NOTIFY_SOCKET") == NULL)
        return;
    err = vbuf_alloc(1024);
    if (dynlib_open(SERVER_SYSTEMD_SONAME, master_sd_syms, 1, err) == NULL)
        msg_fatal("NOTIFY_SOCKET is set, but the service manager cannot be told "
                  "that the daemon is ready: %s", vbuf_str(err));
    vbuf_free(err);
}

/* master_notify - tell the service manager (nothing without NOTIFY_SOCKET) */
static void master_notify(const char *state, const char *status)
{
    int     rc;

    if (master_sd.sd_notifyf == NULL)
        return;
    rc = master_sd.sd_notifyf(0, "%s\nSTATUS=%s", state, status);
    if (rc < 0)
        msg_warn("cannot notify the service manager (%s): %s", state, strerror(-rc));
}

/* master_wait - ppoll() for at most secs with the signals open */
static void master_wait(double secs)
{
    struct timespec ts;

    if (secs < 0)
        secs = 0;
    if (secs > SERVER_LONGEST_WAIT)
        secs = SERVER_LONGEST_WAIT;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    (void)ppoll(NULL, 0, &ts, &wenv.sig_open);
}

 /*
  * Workers.
  */

/* workers_fork - one more worker of the current generation; -1 on failure */
static int workers_fork(void)
{
    pid_t   pid;

    wenv.engine = cur_engine;
    wenv.max_sessions = cfg.set.max_sessions;
    if ((pid = fork()) < 0) {
        msg_warn("cannot fork a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        worker_main(&wenv);
    if (nworkers == workers_alloc) {
        workers_alloc = workers_alloc ? 2 * workers_alloc : 16;
        workers = myrealloc(workers, (size_t)workers_alloc * sizeof(*workers));
    }
    workers[nworkers].pid = pid;
    workers[nworkers].gen = cur_gen;
    workers[nworkers].retiring = 0;
    workers[nworkers].stopping = 0;
    workers[nworkers].retired_at = 0;
    nworkers++;
    msg_debug("worker %ld started (generation %u)", (long)pid, cur_gen);
    return 0;
}

/* workers_current - the workers of the current generation still accepting */
static int workers_current(void)
{
    int     i, n = 0;

    for (i = 0; i < nworkers; i++)
        if (workers[i].gen == cur_gen && !workers[i].retiring && !workers[i].stopping)
            n++;
    return n;
}

/* workers_fill - fork up to the number of workers; once the current
 * generation is complete, retire every older one */
static void workers_fill(int force)
{
    int     i;

    if (!force && clock_seconds() < fork_after)
        return;
    while (workers_current() < cfg.set.workers)
        if (workers_fork() < 0) {
            fork_after = clock_seconds() + 1;
            return;
        }
    for (i = 0; i < nworkers; i++) {
        if (workers[i].gen != cur_gen && !workers[i].retiring && !workers[i].stopping) {
            (void)kill(workers[i].pid, SIGUSR1);
            workers[i].retiring = 1;
            workers[i].retired_at = clock_seconds();
        }
    }
}

/* workers_signal - send sig to every worker; mark them stopping */
static void workers_signal(int sig)
{
    int     i;

    for (i = 0; i < nworkers; i++) {
        (void)kill(workers[i].pid, sig);
        workers[i].stopping = 1;
    }
}

/* workers_backoff - one more worker died: the next replacement waits
 * (the first at once, then 1, 2, 4... s) */
static void workers_backoff(void)
{
    double  t = clock_seconds(), delay;

    if (t - last_crash > SERVER_CRASH_RESET)
        crashes = 0;
    crashes++;
    last_crash = t;
    delay = crashes <= 1 ? 0 : (double)(1 << (crashes - 2 > 5 ? 5 : crashes - 2));
    if (delay > SERVER_CRASH_MAXDELAY)
        delay = SERVER_CRASH_MAXDELAY;
    if (delay > 0) {
        msg_warn("%d workers died in a row: next replacement in %.0fs", crashes, delay);
        if (t + delay > fork_after)
            fork_after = t + delay;
    }
}

/* helper_reaped - the helper died: log it; helper_fill() forks another */
static void helper_reaped(int status)
{
    if (WIFSIGNALED(status) && !(got_term && WTERMSIG(status) == SIGTERM))
        msg_warn("helper %ld killed by signal %d (%s)", (long)helper_pid, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        msg_warn("helper %ld exited with status %d", (long)helper_pid, WEXITSTATUS(status));
    helper_pid = 0;
}

/* helper_fill - fork ops->helper when there is none (not while draining) */
static void helper_fill(void)
{
    sigset_t none;
    pid_t   pid;

    if (ops->helper == NULL || helper_pid != 0 || got_term || clock_seconds() < helper_after)
        return;
    helper_after = clock_seconds() + 1;
    if ((pid = fork()) < 0) {
        msg_warn("cannot fork the helper: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        signal(SIGUSR2, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (getppid() != wenv.master_pid)
            _exit(0);                   /* the master died meanwhile */
        ops->helper(ctx);
        _exit(0);
    }
    helper_pid = pid;
}

/* workers_reap - collect exited workers; log the unexpected ends and set
 * the backoff for their replacements */
static void workers_reap(int draining)
{
    pid_t   pid;
    int     status, i;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == helper_pid) {
            helper_reaped(status);
            continue;
        }
        for (i = 0; i < nworkers && workers[i].pid != pid; i++)
            /* void */ ;
        if (i == nworkers)
            continue;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            msg_debug("worker %ld exited", (long)pid);
            if (!workers[i].stopping && !workers[i].retiring)
                crashes = 0;
        } else {
            if (WIFSIGNALED(status))
                msg_warn("worker %ld killed by signal %d (%s)", (long)pid,
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
            else
                msg_warn("worker %ld exited with status %d", (long)pid,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            if (!draining && !workers[i].stopping)
                workers_backoff();
        }
        workers[i] = workers[--nworkers];
    }
}

/* workers_hurry - retired workers get retire_timeout to end their
 * session, then they are asked to stop like in a drain */
static void workers_hurry(void)
{
    double  t = clock_seconds();
    int     i;

    for (i = 0; i < nworkers; i++)
        if (workers[i].retiring && !workers[i].stopping
            && t - workers[i].retired_at >= (double)cfg.set.retire_timeout) {
            msg_info("worker %ld of an older generation still busy; asking it to stop",
                     (long)workers[i].pid);
            (void)kill(workers[i].pid, SIGTERM);
            workers[i].stopping = 1;
        }
}

 /*
  * Master.
  */

/* master_term - SIGTERM/SIGINT */
static void master_term(int sig)
{
    (void)sig;
    got_term++;
}

/* master_hup - SIGHUP */
static void master_hup(int sig)
{
    (void)sig;
    got_hup = 1;
}

/* master_usr2 - SIGUSR2: reopen log_file (logrotate), nothing else */
static void master_usr2(int sig)
{
    (void)sig;
    got_usr2 = 1;
    msg_reopen_request();
}

/* master_chld - SIGCHLD */
static void master_chld(int sig)
{
    (void)sig;
    got_chld = 1;
}

/* master_signals - handlers, and every signal blocked outside ppoll() */
static void master_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    size_t  i;

    sigemptyset(&wenv.sig_blocked);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&wenv.sig_blocked, sigs[i]);
    sigprocmask(SIG_BLOCK, &wenv.sig_blocked, &wenv.sig_open);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigdelset(&wenv.sig_open, sigs[i]);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = master_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = master_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = master_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = master_chld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &sa, NULL);
}

/* master_restart_only - warn about settings a reload cannot change */
static void master_restart_only(const SERVER_SETTINGS *next)
{
    const SERVER_SETTINGS *now = &cfg.set;

    if (!listeners.inherited && !same_string(next->listen, now->listen))
        msg_warn("reload: %s changed; it takes effect only after a restart", now->listen_param);
    if (!same_string(next->user, now->user))
        msg_warn("reload: %s changed; it takes effect only after a restart", now->user_param);
    if (!same_string(next->pid_file, now->pid_file))
        msg_warn("reload: %s changed; it takes effect only after a restart",
                 now->pid_file_param);
}

/* master_configure - the front end's new settings into *next; -1 when
 * they are bad (logged, the old ones put back) */
static int master_configure(SETTINGS *next, VBUF *err)
{
    SERVER_SETTINGS set = cfg.set;

    if (ops->configure == NULL) {
        settings_copy(next, &cfg.set);
        return 0;
    }
    if (ops->configure(ctx, &set, err) < 0) {
        msg_warn("reload: configuration error: %s; keeping the old settings and %s",
                 vbuf_str(err), ops->data_name);
        if (ops->reload_end)
            ops->reload_end(ctx, SERVER_RELOAD_BAD_SETTINGS);
        return -1;
    }
    /* What a restart would take is not the front end's to change now. */
    settings_copy(next, &set);
    master_restart_only(&next->set);
    next->set.flags = cfg.set.flags;
    next->set.unix_mode = cfg.set.unix_mode;
    return 0;
}

/* master_reload - new settings and engine beside the old ones; then a new
 * generation of workers; the old one retires; all or nothing */
static void master_reload(const char *why)
{
    VBUF   *err = vbuf_alloc(4096);
    SETTINGS next;
    void   *engine, *old;

    msg_info("reload (%s): loading %s%s", why, ops->configure ? "settings and " : "",
             ops->data_name);
    master_notify("RELOADING=1", "reloading");
    if (master_configure(&next, err) < 0) {
        master_notify("READY=1", "serving; the last reload failed (bad settings)");
        vbuf_free(err);
        return;
    }
    if ((engine = ops->load(ctx, "reloaded", err)) == NULL) {
        msg_warn("reload failed: %s; keeping the old settings and %s", vbuf_str(err),
                 ops->data_name);
        if (ops->configure && ops->reload_end)
            ops->reload_end(ctx, SERVER_RELOAD_BAD_LOAD);
        settings_free(&next);
        master_notify("READY=1", "serving; the last reload failed (old engine kept)");
        vbuf_free(err);
        return;
    }
    settings_free(&cfg);
    cfg = next;
    old = cur_engine;
    cur_engine = engine;
    cur_gen++;
    /* Free the old engine before forking, or every new worker would
     * carry both (the old workers keep their own copy-on-write copy and
     * go on serving meanwhile). */
    ops->unload(ctx, old);
    if (ops->configure && ops->reload_end)
        ops->reload_end(ctx, SERVER_RELOAD_OK);
    /* The new generation; workers_fill() retires the old one only when
     * the new one is complete. */
    workers_fill(1);
    master_notify("READY=1", "serving; reloaded");
    vbuf_free(err);
}

/* master_drain - SIGTERM: no new sessions, the running ones finish */
static void master_drain(void)
{
    double  deadline = clock_seconds() + (double)cfg.set.drain_timeout;
    int     killed = 0;

    msg_info("stopping: draining %d worker(s), at most %lds", nworkers,
             cfg.set.drain_timeout);
    master_notify("STOPPING=1", "stopping: draining the workers");
    workers_signal(SIGTERM);
    if (helper_pid > 0)
        (void)kill(helper_pid, SIGTERM);
    got_term = 0;
    while (nworkers > 0) {
        got_chld = 0;
        workers_reap(1);
        if (nworkers == 0)
            break;
        if (!killed && got_term) {
            msg_warn("stopping: second signal, killing %d worker(s)", nworkers);
            workers_signal(SIGKILL);
            killed = 1;
        } else if (!killed && clock_seconds() >= deadline) {
            msg_warn("stopping: %d worker(s) still busy after %lds, killing them",
                     nworkers, cfg.set.drain_timeout);
            workers_signal(SIGKILL);
            killed = 1;
        }
        if (!got_chld)
            master_wait(killed ? 1 : deadline - clock_seconds());
    }
}

/* master_wake - when the loop has something to do next */
static double master_wake(double next_check)
{
    double  wake = next_check;
    double  until;
    int     i;

    if (workers_current() < cfg.set.workers && fork_after < wake)
        wake = fork_after;
    if (ops->helper && helper_pid == 0 && helper_after < wake)
        wake = helper_after;
    for (i = 0; i < nworkers; i++) {
        until = workers[i].retired_at + (double)cfg.set.retire_timeout;
        if (workers[i].retiring && !workers[i].stopping && until < wake)
            wake = until;
    }
    return wake;
}

/* master_next_check - when changed() is asked next (never: far away) */
static double master_next_check(void)
{
    if (ops->changed == NULL || cfg.set.check_interval <= 0)
        return clock_seconds() + SERVER_LONGEST_WAIT;
    return clock_seconds() + (double)cfg.set.check_interval;
}

/* master_reopen - SIGUSR2: log_file again by name, here and in every
 * worker (which reopens before its next line); no reload */
static void master_reopen(void)
{
    int     i;

    got_usr2 = 0;
    msg_reopen();
    msg_info("log file reopened (SIGUSR2)");
    for (i = 0; i < nworkers; i++)
        (void)kill(workers[i].pid, SIGUSR2);
}

/* master_loop - keep the workers going; reload when asked or needed */
static void master_loop(void)
{
    double  next_check = master_next_check();
    VBUF   *why = vbuf_alloc(100);

    while (!got_term) {
        if (got_chld) {
            got_chld = 0;
            workers_reap(0);
        }
        if (got_hup) {
            got_hup = 0;
            master_reload("SIGHUP");
            next_check = master_next_check();
        } else if (clock_seconds() >= next_check) {
            if (ops->changed && ops->changed(ctx, cur_engine)) {
                vbuf_sprintf(why, "%s changed", ops->data_name);
                master_reload(vbuf_str(why));
            }
            next_check = master_next_check();
        }
        if (got_usr2)
            master_reopen();
        workers_hurry();
        workers_fill(0);
        helper_fill();

        if (got_term || got_hup || got_chld || got_usr2)
            continue;
        master_wait(master_wake(next_check) - clock_seconds() + 0.001);
    }
    vbuf_free(why);
}

/* master_cleanup - msg_fatal()'s hook in the master */
static void master_cleanup(void)
{
    pidfile_remove();
}

/* master_listen - the passed sockets, or bind the listen list */
static void master_listen(void)
{
    LISTENER_UNIX ux;

    if (listeners.inherited) {
        msg_info("using the %d listening socket(s) passed by the service manager; "
                 "%s is not used", listeners.count, cfg.set.listen_param);
        return;
    }
    ux.allowed = (cfg.set.flags & SERVER_UNIX) != 0;
    ux.mode = (mode_t)(cfg.set.unix_mode ? cfg.set.unix_mode : 0666);
    ux.uid = id.uid;
    ux.gid = id.gid;
    ux.chown = id.drop;
    listener_bind_all(&listeners, cfg.set.listen ? cfg.set.listen : "",
                      cfg.set.listen_param, &ux);
}

/* master_start - everything before the first worker: sockets, pid file,
 * detach, privileges, the engine */
static void master_start(void)
{
    VBUF   *err = vbuf_alloc(4096);
    VBUF   *names = vbuf_alloc(4096);

    msg_set_cleanup(master_cleanup);
    master_notify_open();
    privs_lookup(&id, cfg.set.user ? cfg.set.user : "", cfg.set.user_param);
    if (cfg.set.pid_file)
        pidfile_take(cfg.set.pid_file, cfg.set.pid_file_param, ops->name, id.uid, id.gid,
                     id.drop);
    master_listen();
    if (!(cfg.set.flags & SERVER_FOREGROUND))
        detach_start();
    wenv.master_pid = getpid();
    pidfile_write();
    if (id.drop)
        msg_logfile_give(id.uid, id.gid);
    privs_drop(&id);
    master_signals();

    if ((cur_engine = ops->load(ctx, "loaded", err)) == NULL)
        msg_fatal("cannot set up the %s: %s", ops->engine_name, vbuf_str(err));
    listener_names(&listeners, names);
    msg_info("daemon started: pid %ld, user %s, listening on %s, %ld workers, "
             "%ld sessions each", (long)getpid(), id.name, vbuf_str(names),
             cfg.set.workers, cfg.set.max_sessions);
    detach_ready();
    vbuf_free(names);
    vbuf_free(err);
}

/* server_main - see server.h */
int     server_main(const SERVER_OPS *server_ops, void *server_ctx,
                    const SERVER_SETTINGS *set)
{
    SERVER_SETTINGS named = *set;

    ops = server_ops;
    ctx = server_ctx;
    wenv.ops = ops;
    wenv.ctx = ctx;
    wenv.ls = &listeners;
    if (named.listen_param == NULL)
        named.listen_param = "listen";
    if (named.pid_file_param == NULL)
        named.pid_file_param = "pid_file";
    if (named.user_param == NULL)
        named.user_param = "user";
    settings_copy(&cfg, &named);

    /* Sockets a service manager passed are adopted (made close-on-exec)
     * before the strays are closed. */
    (void)listener_inherit(&listeners);
    detach_close_strays();
    master_start();

    workers_fill(1);
    helper_fill();
    master_notify("READY=1", "serving");
    master_loop();
    master_drain();

    ops->unload(ctx, cur_engine);
    cur_engine = NULL;
    listener_close_all(&listeners, 1);
    pidfile_remove();
    msg_info("daemon stopped");
    myfree(workers);
    workers = NULL;
    nworkers = workers_alloc = 0;
    privs_free(&id);
    settings_free(&cfg);
    return 0;
}
