/*
 * daemon - postsift-filter -m smtpd -d: a preforking SMTP filter daemon
 *
 * The master binds smtpd_listen, takes the pid file (flock), detaches
 * unless -F, writes its pid, drops to daemon_user, loads and compiles the
 * scanner, and forks smtpd_workers workers that share the engine pages
 * copy-on-write. Each worker accepts on every listening socket (poll,
 * non-blocking sockets, so a lost race is EAGAIN) and runs smtpd_session()
 * on each connection; after smtpd_max_sessions it exits and the master
 * forks a replacement. A worker that dies otherwise is logged and
 * replaced, with a growing delay when it keeps happening.
 *
 * Reload (SIGHUP, or a changed signature directory seen every
 * signature_check_interval): the master re-reads the settings and loads a
 * new inspector beside the old one while the old workers keep accepting;
 * then it forks a new generation on the new engine, and only once that is
 * complete tells the old one to retire (SIGUSR1: stop accepting, finish
 * the session, exit). Any failure keeps the old settings and engine.
 *
 * SIGTERM/SIGINT: drain. The workers get SIGTERM (stop accepting; the
 * session finishes its transaction, then 421), the master waits up to
 * smtpd_data_deadline, kills what is left, removes the pid file, exits 0.
 * A second SIGTERM/SIGINT kills the workers at once.
 *
 * Signals reach the master only inside ppoll() (blocked elsewhere), so
 * every handler just sets a flag and the loop does the work.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scan/avscan.h"
#include "scan/banned.h"
#include "filter/daemon.h"
#include "scan/inspect.h"
#include "filter/smtpd.h"
#include "scan/verdict.h"
#include "lib/config.h"
#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/progstart.h"
#include "lib/safefile.h"
#include "lib/vbuf.h"

#define DAEMON_BACKLOG      128
#define DAEMON_CRASH_RESET  60.0    /* seconds without a crash reset the backoff */
#define DAEMON_CRASH_MAXDELAY 30    /* longest delay before a replacement */
#define DAEMON_ACCEPT_PAUSE 1       /* seconds a worker waits after EMFILE & co */

typedef struct LISTENER {
    int     fd;
    char   *name;                       /* "127.0.0.1:10025", "[::1]:10025" */
} LISTENER;

typedef struct WORKER {
    pid_t   pid;
    unsigned gen;                       /* engine generation it was forked with */
    int     retiring;                   /* SIGUSR1 sent: finishes its session */
    int     stopping;                   /* SIGTERM or SIGKILL sent */
    double  retired_at;
} WORKER;

 /*
  * Master state. One master per process; the workers inherit a copy.
  */
static LISTENER *listeners;
static int nlisteners;
static WORKER *workers;
static int nworkers, workers_alloc;
static unsigned cur_gen;
static INSPECTOR *cur_in;
static PROG_OPTS opts;                  /* po, with an absolute config path */
static char *config_abs;

static char *pid_path;                  /* absolute */
static int pid_fd = -1;
static pid_t master_pid;
static int ready_fd = -1;               /* to the waiting parent (no -F) */

static char *bound_listen;              /* settings that need a restart */
static char *bound_user;
static char *bound_pid_file;

static int crashes;
static double last_crash;
static double fork_after;               /* crash backoff: no fork before */

static volatile sig_atomic_t got_term, got_hup, got_chld;
static sigset_t sig_blocked;            /* what the loops block */
static sigset_t sig_open;               /* the mask inside ppoll() */

/* Worker state. */
static volatile sig_atomic_t worker_stop;

/* now - monotonic seconds */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* timespec_of - seconds as a ppoll() timeout (never negative) */
static struct timespec timespec_of(double secs)
{
    struct timespec ts;

    if (secs < 0)
        secs = 0;
    if (secs > 86400)
        secs = 86400;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    return ts;
}

 /*
  * Listening sockets.
  */

/* listen_name - "[::1]:10025" or "127.0.0.1:10025" for the logs */
static char *listen_name(const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    VBUF *buf = vbuf_alloc(NI_MAXHOST + NI_MAXSERV + 8);
    char *name;

    if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        vbuf_strcpy(buf, "(unknown)");
    else if (sa->sa_family == AF_INET6)
        vbuf_sprintf(buf, "[%s]:%s", host, port);
    else
        vbuf_sprintf(buf, "%s:%s", host, port);
    name = mystrdup(vbuf_str(buf));
    vbuf_free(buf);
    return name;
}

/* listen_one - bind every address of one "host:port" / "[host]:port" */
static void listen_one(const char *spec)
{
    struct addrinfo hints, *res, *ai;
    char   *copy = mystrdup(spec);
    char   *host, *port, *cp;
    char    shown[256];
    int     fd, on = 1, rc;

    msg_printable(shown, sizeof(shown), spec);
    if (*copy == '[') {
        host = copy + 1;
        if ((cp = strchr(host, ']')) == NULL || cp[1] != ':')
            msg_fatal("smtpd_listen: bad address \"%s\" (use [host]:port)", shown);
        *cp = 0;
        port = cp + 2;
    } else {
        if ((cp = strrchr(copy, ':')) == NULL)
            msg_fatal("smtpd_listen: bad address \"%s\" (use host:port or [host]:port)", shown);
        *cp = 0;
        host = copy;
        port = cp + 1;
        if (strchr(host, ':'))
            msg_fatal("smtpd_listen: bad address \"%s\" (an IPv6 address goes in "
                      "brackets: [::1]:10025)", shown);
    }
    if (*port == 0)
        msg_fatal("smtpd_listen: no port in \"%s\"", shown);
    if (*host == 0 || strcmp(host, "*") == 0)
        host = NULL;                    /* every address */

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
        msg_fatal("smtpd_listen: cannot resolve \"%s\": %s", shown, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        char   *name = listen_name(ai->ai_addr, ai->ai_addrlen);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0)
            msg_fatal("smtpd_listen: cannot create a socket for %s: %s", name, strerror(errno));
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
            msg_fatal("smtpd_listen: SO_REUSEADDR on %s: %s", name, strerror(errno));
        /* so that "*:port" can bind 0.0.0.0 and :: side by side */
        if (ai->ai_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
            msg_fatal("smtpd_listen: IPV6_V6ONLY on %s: %s", name, strerror(errno));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
            msg_fatal("smtpd_listen: cannot bind %s: %s", name, strerror(errno));
        if (listen(fd, DAEMON_BACKLOG) < 0)
            msg_fatal("smtpd_listen: cannot listen on %s: %s", name, strerror(errno));
        listeners = myrealloc(listeners, (size_t)(nlisteners + 1) * sizeof(*listeners));
        listeners[nlisteners].fd = fd;
        listeners[nlisteners].name = name;
        nlisteners++;
    }
    freeaddrinfo(res);
    myfree(copy);
}

/* listen_all - bind every address of smtpd_listen, or die saying which */
static void listen_all(const char *spec)
{
    char   *copy = mystrdup(spec);
    char   *save = NULL, *tok;

    for (tok = strtok_r(copy, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save))
        listen_one(tok);
    myfree(copy);
    if (nlisteners == 0)
        msg_fatal("smtpd_listen is empty: nothing to listen on");
}

/* listen_names - "a, b" for the start-up line */
static void listen_names(VBUF *buf)
{
    int     i;

    vbuf_strcpy(buf, "");
    for (i = 0; i < nlisteners; i++)
        vbuf_sprintf_append(buf, "%s%s", i ? ", " : "", listeners[i].name);
}

/* listen_free - close and forget (the master, at exit) */
static void listen_free(void)
{
    int     i;

    for (i = 0; i < nlisteners; i++) {
        (void)close(listeners[i].fd);
        myfree(listeners[i].name);
    }
    myfree(listeners);
    listeners = NULL;
    nlisteners = 0;
}

 /*
  * The pid file: held with flock() from before the bind until exit, so a
  * second daemon on the same file refuses to start and a stale file from
  * a dead daemon is simply taken over.
  */

/* pid_mkdirs - create the missing directories above path (0755); those
 * we create belong to the daemon user when we start as root */
static void pid_mkdirs(const char *path, uid_t uid, gid_t gid, int chown_ok)
{
    char   *dir = mystrdup(path);
    char   *cp, saved;
    struct stat st;

    if ((cp = strrchr(dir, '/')) == NULL || cp == dir) {
        myfree(dir);
        return;
    }
    *cp = 0;
    for (cp = dir + 1; /* void */ ; cp++) {
        if (*cp != '/' && *cp != 0)
            continue;
        saved = *cp;
        *cp = 0;
        if (stat(dir, &st) < 0) {
            int     dfd;

            if (errno != ENOENT || mkdir(dir, 0755) < 0)
                msg_fatal("smtpd_pid_file: cannot create directory %s: %s", dir, strerror(errno));
            /* 0755 despite our umask: the pid file is for everyone to read.
             * Through a descriptor of the directory we just made, never by
             * name: a name can be swapped for a symlink to /etc meanwhile. */
            if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
                || fstat(dfd, &st) < 0)
                msg_fatal("smtpd_pid_file: cannot open directory %s: %s", dir, strerror(errno));
            if (st.st_uid != geteuid())
                msg_fatal("smtpd_pid_file: directory %s was replaced while being set up", dir);
            if (fchmod(dfd, 0755) < 0 || (chown_ok && fchown(dfd, uid, gid) < 0))
                msg_fatal("smtpd_pid_file: cannot set up directory %s: %s", dir, strerror(errno));
            (void)close(dfd);
        } else if (!S_ISDIR(st.st_mode)) {
            msg_fatal("smtpd_pid_file: %s is not a directory", dir);
        }
        if (saved == 0)
            break;
        *cp = saved;
    }
    myfree(dir);
}

/* pid_take - open and lock the pid file; another live daemon is fatal */
static void pid_take(const char *path, uid_t uid, gid_t gid, int chown_ok)
{
    char    buf[32];
    ssize_t n;
    VBUF   *abs = vbuf_alloc(PATH_MAX);
    VBUF   *why;
    int     created;

    if (*path == 0)
        msg_fatal("smtpd_pid_file is empty");
    if (*path != '/') {
        char    cwd[PATH_MAX];

        if (getcwd(cwd, sizeof(cwd)) == NULL)
            msg_fatal("getcwd: %s", strerror(errno));
        vbuf_sprintf(abs, "%s/%s", cwd, path);
    } else {
        vbuf_strcpy(abs, path);
    }
    pid_path = mystrdup(vbuf_str(abs));
    vbuf_free(abs);

    pid_mkdirs(pid_path, uid, gid, chown_ok);
    /* Root truncates and writes this file: only one that is what it seems
     * (a hard link to /etc/shadow, or a symlink, is refused). */
    why = vbuf_alloc(1024);
    if ((pid_fd = safefile_open(pid_path, O_RDWR, 0644, uid, &created, why)) < 0)
        msg_fatal("smtpd_pid_file %s: it %s", pid_path, vbuf_str(why));
    vbuf_free(why);
    /* 0644 despite our umask, for a file we made: for everyone to read */
    if (created)
        (void)fchmod(pid_fd, 0644);
    if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0) {
        int     saved = errno;

        n = pread(pid_fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        buf[strspn(buf, "0123456789")] = 0;
        (void)close(pid_fd);
        pid_fd = -1;
        myfree(pid_path);
        pid_path = NULL;                /* not ours: never remove it */
        if (saved == EWOULDBLOCK)
            msg_fatal("another postsift-filter daemon%s%s%s holds %s: not starting",
                      *buf ? " (pid " : "", buf, *buf ? ")" : "", path);
        msg_fatal("smtpd_pid_file: cannot lock %s: %s", path, strerror(saved));
    }
}

/* pid_write - our pid into the locked file */
static void pid_write(void)
{
    char    buf[32];
    int     len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, buf, (size_t)len, 0) != len)
        msg_fatal("smtpd_pid_file: cannot write %s: %s", pid_path, strerror(errno));
}

/* pid_remove - at exit, by the master only; when the directory is not
 * ours to change (it belongs to root), empty the file instead */
static void pid_remove(void)
{
    if (pid_fd < 0 || getpid() != master_pid)
        return;
    if (pid_path && unlink(pid_path) < 0 && errno != ENOENT) {
        msg_debug("cannot remove %s: %s; emptying it", pid_path, strerror(errno));
        (void)!ftruncate(pid_fd, 0);
    }
    (void)close(pid_fd);
    pid_fd = -1;
}

/* master_cleanup - msg_fatal()'s hook in the master */
static void master_cleanup(void)
{
    pid_remove();
}

 /*
  * Privileges.
  */

typedef struct DAEMON_ID {
    uid_t   uid;
    gid_t   gid;
    char   *name;
    int     drop;                       /* started as root: change user */
} DAEMON_ID;

/* daemon_id - look up daemon_user before anything else happens */
static void daemon_id(DAEMON_ID *id)
{
    struct passwd *pw;
    char    shown[256];

    msg_printable(shown, sizeof(shown), var_daemon_user);
    if (*var_daemon_user == 0)
        msg_fatal("daemon_user is empty");
    errno = 0;
    if ((pw = getpwnam(var_daemon_user)) == NULL)
        msg_fatal("daemon_user %s: no such user%s%s", shown, errno ? ": " : "",
                  errno ? strerror(errno) : "");
    if (pw->pw_uid == 0)
        msg_fatal("daemon_user %s has uid 0: the daemon never serves as root", shown);
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    id->name = mystrdup(pw->pw_name);
    id->drop = (geteuid() == 0);
    if (!id->drop && id->uid != geteuid())
        msg_fatal("started as uid %ld, not root: cannot become daemon_user %s; "
                  "start as root, or set daemon_user to this user", (long)geteuid(), shown);
}

/* drop_privileges - groups, gid, uid; then make sure root cannot come back */
static void drop_privileges(const DAEMON_ID *id)
{
    uid_t   ru, eu, su;
    gid_t   rg, eg, sg;

    if (id->drop) {
        if (initgroups(id->name, id->gid) < 0)
            msg_fatal("initgroups(%s): %s", id->name, strerror(errno));
        if (setresgid(id->gid, id->gid, id->gid) < 0)
            msg_fatal("setresgid(%ld): %s", (long)id->gid, strerror(errno));
        if (setresuid(id->uid, id->uid, id->uid) < 0)
            msg_fatal("setresuid(%ld): %s", (long)id->uid, strerror(errno));
        if (setuid(0) == 0 || seteuid(0) == 0)
            msg_panic("could become root again after dropping privileges");
    }
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        msg_fatal("getresuid/getresgid: %s", strerror(errno));
    if (ru == 0 || eu == 0 || su == 0)
        msg_fatal("still root after dropping privileges: refusing to serve");
    if (id->drop && (ru != id->uid || eu != id->uid || su != id->uid
                     || rg != id->gid || eg != id->gid || sg != id->gid))
        msg_fatal("privileges not dropped to %s as asked", id->name);
}

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
  * Workers.
  */

/* worker_term - SIGTERM/SIGINT: stop accepting, end after the transaction */
static void worker_term(int sig)
{
    (void)sig;
    worker_stop = 1;
    smtpd_shutdown = 1;
}

/* worker_retire - SIGUSR1 (a new generation took over): stop accepting,
 * let the session in progress end normally */
static void worker_retire(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* worker_serve - one session on an accepted socket, signals open */
static void worker_serve(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    char    host[NI_MAXHOST] = "unknown", port[NI_MAXSERV] = "";
    SMTPD_PEER peer;

    if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(host, sizeof(host), "unknown");
        port[0] = 0;
    }
    peer.addr = host;
    peer.port = port;
    msg_debug("connect from %s port %s", host, port);
    sigprocmask(SIG_SETMASK, &sig_open, NULL);
    smtpd_session(fd, fd, &peer, cur_in, "");
    sigprocmask(SIG_SETMASK, &sig_blocked, NULL);
    (void)close(fd);
}

/* worker_pause - after EMFILE and the like: wait, but stay stoppable */
static void worker_pause(void)
{
    struct timespec ts = timespec_of(DAEMON_ACCEPT_PAUSE);

    (void)ppoll(NULL, 0, &ts, &sig_open);
}

/* worker_main - accept and serve until told to stop or max sessions */
PS_NORETURN static void worker_main(void)
{
    struct sigaction sa;
    struct pollfd *pfd;
    struct sockaddr_storage ss;
    socklen_t sslen;
    double  last_warn = -1e9;
    long    sessions = 0;
    int     i, n, fd, start = 0;

    /* Nothing of the master's: no pid file, no cleanup hook. */
    msg_set_cleanup(NULL);
    if (pid_fd >= 0)
        (void)close(pid_fd);
    pid_fd = -1;
    if (ready_fd >= 0)
        (void)close(ready_fd);
    ready_fd = -1;
    /* A master killed with SIGKILL leaves no orphans serving mail. */
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master_pid)
        _exit(0);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = worker_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = worker_retire;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    /* still blocked from the master: SIGTERM, SIGINT, SIGUSR1 */

    pfd = mycalloc((size_t)nlisteners, sizeof(*pfd));
    while (!worker_stop && sessions < var_smtpd_max_sessions) {
        for (i = 0; i < nlisteners; i++) {
            pfd[i].fd = listeners[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        if ((n = ppoll(pfd, (nfds_t)nlisteners, NULL, &sig_open)) < 0) {
            if (errno != EINTR) {
                msg_warn("worker: poll: %s", strerror(errno));
                worker_pause();
            }
            continue;
        }
        /* Take turns among the sockets, so that none starves. */
        for (i = 0; i < nlisteners; i++) {
            int     k = (start + i) % nlisteners;

            if (pfd[k].revents == 0)
                continue;
            sslen = sizeof(ss);
            fd = accept4(listeners[k].fd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
            if (fd < 0) {
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
                    break;
                default:
                    /* EMFILE, ENFILE, ENOBUFS, ENOMEM: wait for relief */
                    if (now() - last_warn >= 60) {
                        msg_warn("worker: accept on %s: %s; pausing", listeners[k].name,
                                 strerror(errno));
                        last_warn = now();
                    }
                    worker_pause();
                    break;
                }
                continue;
            }
            start = k + 1;
            sessions++;
            worker_serve(fd, &ss, sslen);
            break;                      /* check the stop flag again */
        }
    }
    msg_debug("worker done after %ld session(s)%s", sessions,
              worker_stop ? " (told to stop)" : "");
    /* _exit() runs no atexit hook: libclamav's directory goes now (a
     * worker killed instead leaves it to the next one's sweep) */
    avscan_tmpdir_remove();
    _exit(0);
}

/* worker_fork - one more worker of the current generation; -1 on failure */
static int worker_fork(void)
{
    pid_t   pid;

    if ((pid = fork()) < 0) {
        msg_warn("cannot fork a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        worker_main();
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

/* workers_fill - fork up to smtpd_workers; once the current generation is
 * complete, retire every older one */
static void workers_fill(int force)
{
    int     i;

    if (!force && now() < fork_after)
        return;
    while (workers_current() < var_smtpd_workers)
        if (worker_fork() < 0) {
            fork_after = now() + 1;
            return;
        }
    for (i = 0; i < nworkers; i++) {
        if (workers[i].gen != cur_gen && !workers[i].retiring && !workers[i].stopping) {
            (void)kill(workers[i].pid, SIGUSR1);
            workers[i].retiring = 1;
            workers[i].retired_at = now();
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

/* workers_reap - collect exited workers; log the unexpected ends and set
 * the backoff for their replacements */
static void workers_reap(int draining)
{
    pid_t   pid;
    int     status, i;
    double  t, delay;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
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
            if (!draining && !workers[i].stopping) {
                t = now();
                if (t - last_crash > DAEMON_CRASH_RESET)
                    crashes = 0;
                crashes++;
                last_crash = t;
                /* the first one is replaced at once, then 1, 2, 4... s */
                delay = crashes <= 1 ? 0 : (double)(1 << (crashes - 2 > 5 ? 5 : crashes - 2));
                if (delay > DAEMON_CRASH_MAXDELAY)
                    delay = DAEMON_CRASH_MAXDELAY;
                if (delay > 0) {
                    msg_warn("%d workers died in a row: next replacement in %.0fs",
                             crashes, delay);
                    if (t + delay > fork_after)
                        fork_after = t + delay;
                }
            }
        }
        workers[i] = workers[--nworkers];
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

/* master_chld - SIGCHLD */
static void master_chld(int sig)
{
    (void)sig;
    got_chld = 1;
}

/* master_signals - handlers, and every signal blocked outside ppoll() */
static void master_signals(void)
{
    struct sigaction sa;

    sigemptyset(&sig_blocked);
    sigaddset(&sig_blocked, SIGTERM);
    sigaddset(&sig_blocked, SIGINT);
    sigaddset(&sig_blocked, SIGHUP);
    sigaddset(&sig_blocked, SIGCHLD);
    sigaddset(&sig_blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &sig_blocked, &sig_open);
    sigdelset(&sig_open, SIGTERM);
    sigdelset(&sig_open, SIGINT);
    sigdelset(&sig_open, SIGHUP);
    sigdelset(&sig_open, SIGCHLD);
    sigdelset(&sig_open, SIGUSR1);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = master_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = master_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = master_chld;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR1, &sa, NULL);
}

/* master_load - a new inspector, timed and logged; NULL with why in err */
static INSPECTOR *master_load(const char *verb, VBUF *err)
{
    INSPECTOR *in;
    double  t0 = now();

    if ((in = inspector_open(err)) == NULL)
        return NULL;
    msg_info("signatures %s: %lu signatures in %.2fs (%s)", verb,
             avscan_signatures(inspector_avscan(in)), now() - t0, inspector_engine(in));
    return in;
}

/* master_restart_only - warn about settings a reload cannot change */
static void master_restart_only(void)
{
    static const struct {
        const char *name;
        char  **now_val;
        char  **bound;
    } fixed[] = {
        {"smtpd_listen", &var_smtpd_listen, &bound_listen},
        {"daemon_user", &var_daemon_user, &bound_user},
        {"smtpd_pid_file", &var_smtpd_pid_file, &bound_pid_file},
    };
    size_t  i;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(*fixed[i].now_val, *fixed[i].bound) != 0)
            msg_warn("reload: %s changed; it takes effect only after a restart", fixed[i].name);
}

/* master_reload - new settings and engine beside the old ones; then a new
 * generation of workers; the old one retires; all or nothing */
static void master_reload(const char *why)
{
    VBUF   *err = vbuf_alloc(4096);
    char  **snap = config_snapshot();
    INSPECTOR *in, *old;

    msg_info("reload (%s): loading settings and signatures", why);
    if (prog_configure(&opts, err) < 0 || action_check(err) < 0
        || banned_settings_check(err) < 0) {
        msg_warn("reload: configuration error: %s; keeping the old settings and signatures",
                 vbuf_str(err));
        config_restore(snap);
        config_snapshot_free(snap);
        vbuf_free(err);
        return;
    }
    master_restart_only();
    if ((in = master_load("reloaded", err)) == NULL) {
        msg_warn("reload failed: %s; keeping the old settings and signatures", vbuf_str(err));
        config_restore(snap);
        banned_init();                  /* the old rules, whatever the attempt did */
        config_snapshot_free(snap);
        vbuf_free(err);
        return;
    }
    old = cur_in;
    cur_in = in;
    cur_gen++;
    /* Free the old engine before forking, or every new worker would
     * carry both (the old workers keep their own copy-on-write copy and
     * go on serving meanwhile). inspector_close() forgets the banned
     * rules, which are global; the next workers need them. */
    inspector_close(old);
    banned_init();
    /* The new generation; workers_fill() retires the old one only when
     * the new one is complete. */
    workers_fill(1);
    config_snapshot_free(snap);
    vbuf_free(err);
}

/* master_drain - SIGTERM: no new sessions, the running ones finish */
static void master_drain(void)
{
    double  deadline = now() + (double)var_smtpd_data_deadline;
    int     killed = 0;
    struct timespec ts;

    msg_info("stopping: draining %d worker(s), at most %lds", nworkers, var_smtpd_data_deadline);
    workers_signal(SIGTERM);
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
        } else if (!killed && now() >= deadline) {
            msg_warn("stopping: %d worker(s) still busy after %lds, killing them",
                     nworkers, var_smtpd_data_deadline);
            workers_signal(SIGKILL);
            killed = 1;
        }
        ts = timespec_of(killed ? 1 : deadline - now());
        if (!got_chld)
            (void)ppoll(NULL, 0, &ts, &sig_open);
    }
}

/* master_loop - keep the workers going; reload when asked or needed */
static void master_loop(void)
{
    double  next_check = now() + (double)var_signature_check_interval;
    double  t, wake;
    int     i;
    struct timespec ts;

    while (!got_term) {
        if (got_chld) {
            got_chld = 0;
            workers_reap(0);
        }
        if (got_hup) {
            got_hup = 0;
            master_reload("SIGHUP");
            next_check = now() + (double)var_signature_check_interval;
        } else if (now() >= next_check) {
            if (avscan_changed(inspector_avscan(cur_in)))
                master_reload("signatures changed");
            next_check = now() + (double)var_signature_check_interval;
        }
        /* Retired workers get smtpd_timeout to end their session, then
         * they are asked to stop like in a drain. */
        t = now();
        for (i = 0; i < nworkers; i++)
            if (workers[i].retiring && !workers[i].stopping
                && t - workers[i].retired_at >= (double)var_smtpd_timeout) {
                msg_info("worker %ld of an older generation still busy; asking it to stop",
                         (long)workers[i].pid);
                (void)kill(workers[i].pid, SIGTERM);
                workers[i].stopping = 1;
            }
        workers_fill(0);

        if (got_term || got_hup || got_chld)
            continue;
        wake = next_check;
        if (workers_current() < var_smtpd_workers && fork_after < wake)
            wake = fork_after;
        for (i = 0; i < nworkers; i++)
            if (workers[i].retiring && !workers[i].stopping
                && workers[i].retired_at + (double)var_smtpd_timeout < wake)
                wake = workers[i].retired_at + (double)var_smtpd_timeout;
        ts = timespec_of(wake - now() + 0.001);
        (void)ppoll(NULL, 0, &ts, &sig_open);
    }
}

/* detach - fork; the parent waits until the child is ready, so that a
 * start-up failure shows in its exit status (the log says why) */
static void detach(void)
{
    int     fds[2];
    pid_t   pid;
    char    c;
    ssize_t n;

    if (pipe2(fds, O_CLOEXEC) < 0)
        msg_fatal("pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        msg_fatal("fork: %s", strerror(errno));
    if (pid > 0) {
        (void)close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        /* _exit: the pid file and its lock belong to the child now */
        _exit(n == 1 && c == 'r' ? 0 : EXIT_TEMPFAIL);
    }
    (void)close(fds[0]);
    ready_fd = fds[1];
    if (setsid() < 0)
        msg_fatal("setsid: %s", strerror(errno));
    if (chdir("/") < 0)
        msg_fatal("chdir /: %s", strerror(errno));
}

/* detach_done - tell the parent we are up; stdio to /dev/null */
static void detach_done(void)
{
    int     fd;

    if (ready_fd < 0)
        return;
    (void)!write(ready_fd, "r", 1);
    (void)close(ready_fd);
    ready_fd = -1;
    msg_set_flags(msg_get_flags() & ~MSG_STDERR);
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        (void)dup2(fd, STDIN_FILENO);
        (void)dup2(fd, STDOUT_FILENO);
        (void)dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            (void)close(fd);
    }
}

/* close_strays - descriptors inherited from whoever started us (those
 * without close-on-exec: everything we open ourselves has it, the log
 * file and the syslog socket included) would stay open for the daemon's
 * life and keep, say, a caller's pipe from seeing EOF */
static void close_strays(void)
{
    DIR    *dir;
    struct dirent *de;
    int     fd, flags, dfd;

    if ((dir = opendir("/proc/self/fd")) == NULL) {
        for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
            if ((flags = fcntl(fd, F_GETFD)) >= 0 && !(flags & FD_CLOEXEC))
                (void)close(fd);
        return;
    }
    dfd = dirfd(dir);
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        fd = atoi(de->d_name);
        if (fd <= STDERR_FILENO || fd == dfd)
            continue;
        if ((flags = fcntl(fd, F_GETFD)) >= 0 && !(flags & FD_CLOEXEC))
            (void)close(fd);
    }
    closedir(dir);
}

/* daemon_main - see daemon.h */
int daemon_main(const PROG_OPTS *po, int foreground)
{
    DAEMON_ID id;
    VBUF   *err = vbuf_alloc(4096);
    VBUF   *names = vbuf_alloc(4096);
    char    cwd[PATH_MAX];

    /* The settings are re-read after chdir("/"): keep an absolute path. */
    opts = *po;
    if (po->config && *po->config != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
        vbuf_sprintf(err, "%s/%s", cwd, po->config);
        opts.config = config_abs = mystrdup(vbuf_str(err));
    }
    bound_listen = mystrdup(var_smtpd_listen);
    bound_user = mystrdup(var_daemon_user);
    bound_pid_file = mystrdup(var_smtpd_pid_file);

    close_strays();
    master_pid = getpid();
    msg_set_cleanup(master_cleanup);
    daemon_id(&id);
    pid_take(var_smtpd_pid_file, id.uid, id.gid, id.drop);
    listen_all(var_smtpd_listen);
    if (!foreground) {
        detach();
        master_pid = getpid();
    }
    pid_write();
    if (id.drop)
        msg_logfile_give(id.uid, id.gid);
    drop_privileges(&id);
    master_signals();

    if ((cur_in = master_load("loaded", err)) == NULL)
        msg_fatal("cannot set up the scanner: %s", vbuf_str(err));
    listen_names(names);
    msg_info("daemon started: pid %ld, user %s, listening on %s, %ld workers, "
             "%ld sessions each", (long)getpid(), id.name, vbuf_str(names),
             var_smtpd_workers, var_smtpd_max_sessions);
    detach_done();

    workers_fill(1);
    master_loop();
    master_drain();

    inspector_close(cur_in);
    cur_in = NULL;
    listen_free();
    pid_remove();
    msg_info("daemon stopped");
    myfree(workers);
    myfree(id.name);
    myfree(pid_path);
    myfree(bound_listen);
    myfree(bound_user);
    myfree(bound_pid_file);
    if (config_abs)
        myfree(config_abs);
    vbuf_free(names);
    vbuf_free(err);
    return 0;
}
