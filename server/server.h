/*
 * server - a preforking server for postsift's daemons
 *
 * The master binds the listening sockets (or takes those a service
 * manager passed: LISTEN_PID/LISTEN_FDS), takes the pid file, detaches
 * (unless SERVER_FOREGROUND) with a pipe that tells the waiting parent
 * when it is up, drops privileges to the server's user, loads the front
 * end's engine and forks workers that share it copy-on-write. Each worker
 * accepts on every listening socket and serves one session at a time
 * through the front end's serve(); after max_sessions it exits and the
 * master forks a replacement. A worker that dies otherwise is logged and
 * replaced, with a growing delay when it keeps happening.
 *
 * Reload (SIGHUP, or changed() every check_interval): configure() re-reads
 * the front end's settings, then load() makes a new engine beside the old
 * one while the old workers keep accepting. On success the old engine is
 * unloaded in the master, a new generation of workers is forked on the new
 * one and, once it is complete, the old workers are told to retire
 * (SIGUSR1: stop accepting, finish the session, exit; still busy after
 * retire_timeout: SIGTERM). Any failure keeps the old engine and, through
 * reload_end(), the old settings.
 *
 * SIGUSR2 (logrotate's postrotate): log_file is opened again by name in
 * the master and every worker; nothing is reloaded.
 *
 * With NOTIFY_SOCKET set (systemd Type=notify, with -F), the master
 * sends READY=1 once the engine is loaded and the workers are forked,
 * RELOADING=1/READY=1 around a reload and STOPPING=1 at the drain.
 *
 * SIGTERM/SIGINT: drain. The workers get SIGTERM (stop accepting; the
 * front end's shutdown flag is set so the session ends soon), the master
 * waits up to drain_timeout, kills what is left, removes the pid file and
 * returns 0. A second SIGTERM/SIGINT kills the workers at once.
 *
 * The server knows nothing of what a session is: SMTP, milter or policy
 * requests are the front end's, through SERVER_OPS. Its own settings come
 * in SERVER_SETTINGS; it reads no configuration itself.
 */
#ifndef POSTSIFT_SERVER_H
#define POSTSIFT_SERVER_H

#include <signal.h>

#include "lib/vbuf.h"

#define SERVER_FOREGROUND (1 << 0)      /* do not detach (systemd, tests) */
#define SERVER_UNIX       (1 << 1)      /* "unix:/path" listen entries */

 /*
  * The server's settings. The strings are copied: the caller may free or
  * replace them once server_main() or configure() has returned.
  */
typedef struct SERVER_SETTINGS {
    const char *listen;                 /* "host:port, [host]:port, *:port", and
                                         * "unix:/path" with SERVER_UNIX; not
                                         * used when sockets are passed */
    const char *pid_file;               /* NULL: none */
    const char *user;                   /* who serves; never root */
    long    workers;                    /* worker processes */
    long    max_sessions;               /* sessions per worker */
    long    check_interval;             /* seconds between changed(); 0: never */
    long    retire_timeout;             /* a retired worker's last session */
    long    drain_timeout;              /* SIGTERM: the sessions' time to end */
    int     unix_mode;                  /* a unix socket's mode (0: 0666) */
    int     flags;                      /* SERVER_FOREGROUND, SERVER_UNIX */
    /* The names of the settings above, for messages ("smtpd_listen"). */
    const char *listen_param;
    const char *pid_file_param;
    const char *user_param;
} SERVER_SETTINGS;

typedef struct SERVER_PEER {
    const char *addr;                   /* numeric; "local" on a unix socket,
                                         * "unknown" when it cannot be told */
    const char *port;                   /* numeric; "" when there is none */
    const char *listener;               /* the socket it came in on */
} SERVER_PEER;

/* reload_end() results */
#define SERVER_RELOAD_OK        0       /* new settings and engine in use */
#define SERVER_RELOAD_BAD_SETTINGS 1    /* configure() failed */
#define SERVER_RELOAD_BAD_LOAD  2       /* configure() worked, load() did not */

 /*
  * The front end. ctx is passed back to every call. Called in the master:
  * load, unload, changed, configure, reload_end; in a worker: serve,
  * worker_exit. The master calls nothing while a worker serves.
  */
typedef struct SERVER_OPS {
    const char *name;                   /* "postsift-filter daemon": who holds
                                         * a pid file */
    const char *engine_name;            /* "scanner": "cannot set up the scanner" */
    const char *data_name;              /* "signatures": "reload (signatures
                                         * changed)", "keeping the old settings
                                         * and signatures" */

    /* load - a new engine (verb: "loaded" at start, "reloaded"); logs what
     * it loaded; NULL with why in err */
    void   *(*load) (void *ctx, const char *verb, VBUF *err);
    /* unload - free an engine (the master's copy; workers keep theirs) */
    void    (*unload) (void *ctx, void *engine);
    /* changed - 1 when the engine's data changed on disk: reload. NULL:
     * never asked */
    int     (*changed) (void *ctx, void *engine);
    /* configure - on reload, before load(): re-read the front end's
     * settings and put the server's into *set (its fields start as the
     * ones in force). -1 with why in err. NULL: settings never change. */
    int     (*configure) (void *ctx, SERVER_SETTINGS *set, VBUF *err);
    /* reload_end - after each reload that called configure(): keep the
     * new settings (SERVER_RELOAD_OK) or put the old ones back */
    void    (*reload_end) (void *ctx, int result);
    /* serve - one session on fd (blocking; the server closes it); stop
     * signals are open meanwhile and set *shutdown on SIGTERM */
    void    (*serve) (void *ctx, void *engine, int fd, const SERVER_PEER *peer);
    /* worker_exit - a worker is about to _exit(0). NULL: nothing. */
    void    (*worker_exit) (void *ctx);
    /* helper - an extra process beside the workers (the metrics
     * endpoint), forked by the master once the engine is loaded, with
     * the workers' privileges, default signals and nothing blocked; forked
     * again when it dies (at most once a second), sent SIGTERM at the
     * drain, and SIGTERM by the kernel when the master dies. It may start
     * threads: it forks nothing. Returns when done; then _exit(0). NULL:
     * none. */
    void    (*helper) (void *ctx);
    /* metrics_design - the workers' busy and idle gauges are of this
     * design (lib/metrics.h, METRICS_DESIGN_*); 0: no gauges */
    int     metrics_design;
    /* shutdown - set to 1 in a worker on SIGTERM (drain): the session
     * should end as soon as it can without losing anything. NULL: none. */
    volatile sig_atomic_t *shutdown;
} SERVER_OPS;

/* server_main - run until SIGTERM; the exit status (0). Start-up
 * failures are fatal (msg_fatal: the pid file is removed again). */
int     server_main(const SERVER_OPS *ops, void *ctx, const SERVER_SETTINGS *set);

#endif
