/*
 * worker - one worker process of the preforking server (see worker.h)
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/metrics.h"
#include "lib/mymalloc.h"
#include "server/detach.h"
#include "server/pidfile.h"
#include "server/worker.h"

#define WORKER_ACCEPT_PAUSE 1           /* seconds to wait after EMFILE & co */
#define WORKER_WARN_EVERY   60.0        /* seconds between those warnings */

static const WORKER_ENV *env;
static volatile sig_atomic_t worker_stop;
static double last_warn = -1e9;

/* worker_term - SIGTERM/SIGINT: stop accepting; the session ends soon */
static void worker_term(int sig)
{
    (void)sig;
    worker_stop = 1;
    if (env->ops->shutdown)
        *env->ops->shutdown = 1;
}

/* worker_retire - SIGUSR1 (a new generation took over): stop accepting,
 * let the session in progress end normally */
static void worker_retire(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* worker_reopen - SIGUSR2 (from the master, after logrotate): the next
 * log line goes to log_file opened again by name, even mid-session */
static void worker_reopen(int sig)
{
    (void)sig;
    msg_reopen_request();
}

/* worker_setup - nothing of the master's; our own signal handlers */
static void worker_setup(void)
{
    struct sigaction sa;

    /* No pid file, no cleanup hook, no pipe to the starter. */
    msg_set_cleanup(NULL);
    pidfile_forget();
    detach_forget();
    /* A master killed with SIGKILL leaves no orphans serving. */
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != env->master_pid)
        _exit(0);
    /* Only the master talks to the service manager (NotifyAccess=main). */
    (void)unsetenv("NOTIFY_SOCKET");

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = worker_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = worker_retire;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = worker_reopen;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    /* still blocked from the master: SIGTERM, SIGINT, SIGUSR1, SIGUSR2 */
}

/* worker_serve - one session on an accepted socket, signals open */
static void worker_serve(int fd, const LISTENER *lr, const struct sockaddr_storage *ss,
                         socklen_t len)
{
    char    host[NI_MAXHOST] = "unknown", port[NI_MAXSERV] = "";
    SERVER_PEER peer;

    if (ss->ss_family == AF_UNIX) {
        snprintf(host, sizeof(host), "local");
    } else if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), port,
                           sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(host, sizeof(host), "unknown");
        port[0] = 0;
    }
    peer.addr = host;
    peer.port = port;
    peer.listener = lr->name;
    msg_debug("connect from %s port %s", host, port);
    sigprocmask(SIG_SETMASK, &env->sig_open, NULL);
    metrics_worker(env->ops->metrics_design, METRICS_WORKER_BUSY);
    env->ops->serve(env->ctx, env->engine, fd, &peer);
    metrics_worker(env->ops->metrics_design, METRICS_WORKER_IDLE);
    sigprocmask(SIG_SETMASK, &env->sig_blocked, NULL);
    (void)close(fd);
}

/* worker_pause - after EMFILE and the like: wait, but stay stoppable */
static void worker_pause(void)
{
    struct timespec ts = {WORKER_ACCEPT_PAUSE, 0};

    (void)ppoll(NULL, 0, &ts, &env->sig_open);
}

/* worker_accept_failed - an accept() error: skip what is the client's or
 * another worker's, wait for relief from a shortage */
static void worker_accept_failed(const LISTENER *lr)
{
    switch (errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM:
        /* another worker won, or the client left: next */
        return;
    default:
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
        if (clock_seconds() - last_warn >= WORKER_WARN_EVERY) {
            msg_warn("worker: accept on %s: %s; pausing", lr->name, strerror(errno));
            last_warn = clock_seconds();
        }
        worker_pause();
        return;
    }
}

/* worker_round - one poll of every socket, at most one session; 1 when a
 * session was served. *start: the socket to try first, so none starves */
static int worker_round(struct pollfd *pfd, int *start)
{
    const LISTENERS *ls = env->ls;
    struct sockaddr_storage ss;
    socklen_t sslen;
    int     i, k, fd;

    for (i = 0; i < ls->count; i++) {
        pfd[i].fd = ls->items[i].fd;
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
    if (ppoll(pfd, (nfds_t)ls->count, NULL, &env->sig_open) < 0) {
        if (errno != EINTR) {
            msg_warn("worker: poll: %s", strerror(errno));
            worker_pause();
        }
        return 0;
    }
    for (i = 0; i < ls->count; i++) {
        k = (*start + i) % ls->count;
        if (pfd[k].revents == 0)
            continue;
        sslen = sizeof(ss);
        if ((fd = accept4(ls->items[k].fd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC)) < 0) {
            worker_accept_failed(&ls->items[k]);
            continue;
        }
        *start = k + 1;
        worker_serve(fd, &ls->items[k], &ss, sslen);
        return 1;                       /* check the stop flag again */
    }
    return 0;
}

/* worker_main - see worker.h */
void    worker_main(const WORKER_ENV *worker_env)
{
    struct pollfd *pfd;
    long    sessions = 0;
    int     start = 0;

    env = worker_env;
    worker_setup();
    pfd = mycalloc((size_t)env->ls->count, sizeof(*pfd));
    metrics_worker(env->ops->metrics_design, METRICS_WORKER_IDLE);
    while (!worker_stop && sessions < env->max_sessions)
        sessions += worker_round(pfd, &start);
    myfree(pfd);
    msg_debug("worker done after %ld session(s)%s", sessions,
              worker_stop ? " (told to stop)" : "");
    metrics_worker(env->ops->metrics_design, METRICS_WORKER_GONE);
    if (env->ops->worker_exit)
        env->ops->worker_exit(env->ctx);
    _exit(0);
}
