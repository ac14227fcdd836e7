/*
 * test_server_prefork - the preforking server (server/) with a toy front end
 *
 * The front end's engine is a version number read from DIR/engine ("fail":
 * the load fails); a session greets with "hello vN pid P env=..." and
 * echoes every line with the engine's version and the shutdown flag, until
 * "quit". DIR/config holds the number of workers ("bad": the settings are
 * refused). The server runs in a child (as "nobody" when the test runs as
 * root, which also tests the privilege drop), logs to DIR/log, listens on
 * 127.0.0.1:0 and a unix socket. Checked: the pid file, serving on both
 * sockets, worker recycling after max_sessions, SIGHUP reload (a new
 * connection sees the new engine, one in progress keeps the old), the
 * periodic changed() check, a failed load and bad settings keeping the
 * old engine, new settings taking effect, SIGTERM draining a session in
 * progress then exit 0 with the pid file and socket gone; and socket
 * activation: the test binary itself, exec'd with a listening socket as
 * fd 3 and LISTEN_FDS/LISTEN_PID, serves on it and ignores its listen
 * list. Every wait is bounded; nothing is timed.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/params.h"
#include "lib/vbuf.h"
#include "server/server.h"
#include "tests/unit/unittest.h"

#define WAIT_SECS 20                    /* the bound of every wait */

static volatile sig_atomic_t toy_shutdown;
static char toy_dir[256];

typedef struct TOY_ENGINE {
    int     version;
} TOY_ENGINE;

/* read_small - the first line of DIR/name, or "" */
static void read_small(const char *name, char *buf, size_t len)
{
    char    path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", toy_dir, name);
    buf[0] = 0;
    if ((fp = fopen(path, "r")) != NULL) {
        if (fgets(buf, (int)len, fp) == NULL)
            buf[0] = 0;
        fclose(fp);
    }
    buf[strcspn(buf, "\r\n")] = 0;
}

/* write_small - DIR/name holds text (replaced atomically) */
static void write_small(const char *dir, const char *name, const char *text)
{
    char    path[512], tmp[520];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        perror(tmp);
        exit(1);
    }
    fprintf(fp, "%s\n", text);
    fclose(fp);
    chmod(tmp, 0644);
    if (rename(tmp, path) < 0) {
        perror(path);
        exit(1);
    }
}

 /*
  * The toy front end.
  */

/* toy_load - the version in DIR/engine */
static void *toy_load(void *ctx, const char *verb, VBUF *err)
{
    TOY_ENGINE *e;
    char    buf[64];

    (void)ctx;
    read_small("engine", buf, sizeof(buf));
    if (strcmp(buf, "fail") == 0 || *buf == 0) {
        vbuf_strcpy(err, "told to fail");
        return NULL;
    }
    e = mymalloc(sizeof(*e));
    e->version = atoi(buf);
    msg_info("engine %s: version %d", verb, e->version);
    return e;
}

/* toy_unload - free */
static void toy_unload(void *ctx, void *engine)
{
    (void)ctx;
    myfree(engine);
}

/* toy_changed - DIR/engine holds another version */
static int toy_changed(void *ctx, void *engine)
{
    char    buf[64];

    (void)ctx;
    read_small("engine", buf, sizeof(buf));
    return isdigit((unsigned char)buf[0]) && atoi(buf) != ((TOY_ENGINE *)engine)->version;
}

/* toy_configure - DIR/config: the number of workers, or "bad" */
static int toy_configure(void *ctx, SERVER_SETTINGS *set, VBUF *err)
{
    char    buf[64];

    (void)ctx;
    read_small("config", buf, sizeof(buf));
    if (strcmp(buf, "bad") == 0) {
        vbuf_strcpy(err, "bad settings");
        return -1;
    }
    set->workers = atoi(buf) > 0 ? atoi(buf) : 1;
    return 0;
}

/* toy_reload_end - logged, for the test to see */
static void toy_reload_end(void *ctx, int result)
{
    (void)ctx;
    msg_info("reload_end %d", result);
}

/* toy_read_line - one line from fd (EINTR retried); -1 on EOF */
static int toy_read_line(int fd, char *buf, size_t len)
{
    size_t  n = 0;
    ssize_t got;
    char    c;

    for (;;) {
        if ((got = read(fd, &c, 1)) < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        if (c == '\n')
            break;
        if (n + 1 < len)
            buf[n++] = c;
    }
    buf[n] = 0;
    return 0;
}

/* toy_serve - greet, echo, quit */
static void toy_serve(void *ctx, void *engine, int fd, const SERVER_PEER *peer)
{
    TOY_ENGINE *e = engine;
    char    line[256], out[400];
    int     len;

    (void)ctx;
    len = snprintf(out, sizeof(out), "hello v%d pid %ld env=%s peer=%s\n", e->version,
                   (long)getpid(), getenv("LISTEN_FDS") ? "set" : "unset", peer->addr);
    (void)!write(fd, out, (size_t)len);
    while (toy_read_line(fd, line, sizeof(line)) == 0) {
        if (strcmp(line, "quit") == 0) {
            (void)!write(fd, "bye\n", 4);
            return;
        }
        len = snprintf(out, sizeof(out), "echo %s v%d shutdown=%d\n", line, e->version,
                       (int)toy_shutdown);
        (void)!write(fd, out, (size_t)len);
    }
}

/* serve_mode - the server process: run the toy front end over dir */
static int serve_mode(const char *dir, const char *listen)
{
    static const SERVER_OPS ops = {
        .name = "toy server",
        .engine_name = "toy engine",
        .data_name = "data",
        .load = toy_load,
        .unload = toy_unload,
        .changed = toy_changed,
        .configure = toy_configure,
        .reload_end = toy_reload_end,
        .serve = toy_serve,
        .shutdown = &toy_shutdown,
    };
    static char nobody[] = "nobody";
    SERVER_SETTINGS set;
    char    pid_file[512], log_file[512];

    snprintf(toy_dir, sizeof(toy_dir), "%s", dir);
    snprintf(pid_file, sizeof(pid_file), "%s/run/toy.pid", dir);
    snprintf(log_file, sizeof(log_file), "%s/log", dir);
    msg_init("test_server", 0);
    /* root may write a log file that belongs to the server's user */
    if (geteuid() == 0)
        var_daemon_user = nobody;
    msg_set_logfile(log_file);
    memset(&set, 0, sizeof(set));
    set.listen = listen;
    set.pid_file = pid_file;
    set.user = geteuid() == 0 ? "nobody" : getpwuid(geteuid())->pw_name;
    set.workers = 1;
    set.max_sessions = 3;
    set.check_interval = 1;
    set.retire_timeout = 30;
    set.drain_timeout = 30;
    set.flags = SERVER_FOREGROUND | SERVER_UNIX;
    set.listen_param = "toy_listen";
    set.pid_file_param = "toy_pid_file";
    set.user_param = "toy_user";
    return server_main(&ops, NULL, &set);
}

 /*
  * The test's side.
  */

/* make_dir - a fresh directory the server's user can use */
static void make_dir(char *dir, size_t len)
{
    struct passwd *pw;

    snprintf(dir, len, "/tmp/test_server.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    chmod(dir, 0755);
    if (geteuid() == 0 && (pw = getpwnam("nobody")) != NULL)
        (void)!chown(dir, pw->pw_uid, pw->pw_gid);
    write_small(dir, "engine", "1");
    write_small(dir, "config", "1");
}

/* remove_dir - the test directory and what is in it (one level, and run/) */
static void remove_dir(const char *dir)
{
    char    cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)!system(cmd);
}

/* log_has - DIR/log contains text (from byte from on) */
static int log_has(const char *dir, const char *text)
{
    char    path[512];
    char   *buf;
    FILE   *fp;
    long    n;
    int     found;

    snprintf(path, sizeof(path), "%s/log", dir);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    buf = mymalloc(1 << 20);
    n = (long)fread(buf, 1, (1 << 20) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    found = strstr(buf, text) != NULL;
    myfree(buf);
    return found;
}

/* sleep_ms - a short pause between two looks */
static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* wait_log - until DIR/log contains text, at most WAIT_SECS */
static int wait_log(const char *dir, const char *text)
{
    int     i;

    for (i = 0; i < WAIT_SECS * 20; i++) {
        if (log_has(dir, text))
            return 1;
        sleep_ms(50);
    }
    fprintf(stderr, "no \"%s\" in %s/log\n", text, dir);
    return 0;
}

/* log_port - the port of "listening on 127.0.0.1:PORT" */
static int log_port(const char *dir)
{
    char    path[512], line[2048];
    const char *cp;
    FILE   *fp;
    int     port = 0;

    snprintf(path, sizeof(path), "%s/log", dir);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp))
        if ((cp = strstr(line, "listening on 127.0.0.1:")) != NULL)
            port = atoi(cp + strlen("listening on 127.0.0.1:"));
    fclose(fp);
    return port;
}

/* children - how many processes have ppid as their parent */
static int children(pid_t ppid)
{
    DIR    *d = opendir("/proc");
    struct dirent *de;
    char    path[300], buf[512], *cp;
    FILE   *fp;
    int     n = 0;

    while (d && (de = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        /* pid (comm) state ppid: the comm may hold anything but ')' last */
        if (fgets(buf, sizeof(buf), fp) && (cp = strrchr(buf, ')')) != NULL
            && atol(cp + 4) == (long)ppid)
            n++;
        fclose(fp);
    }
    if (d)
        closedir(d);
    return n;
}

/* wait_children - until ppid has n children, at most WAIT_SECS */
static int wait_children(pid_t ppid, int n)
{
    int     i;

    for (i = 0; i < WAIT_SECS * 20; i++) {
        if (children(ppid) == n)
            return 1;
        sleep_ms(50);
    }
    return 0;
}

/* connect_tcp - a connection to 127.0.0.1:port; -1 on failure */
static int connect_tcp(int port)
{
    struct sockaddr_in sin;
    int     fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* connect_unix - a connection to a unix socket; -1 on failure */
static int connect_unix(const char *path)
{
    struct sockaddr_un sun;
    int     fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* get_line - one line from the server, at most WAIT_SECS; "" on failure */
static const char *get_line(int fd)
{
    static char buf[512];
    size_t  n = 0;
    struct pollfd pfd;
    char    c;

    buf[0] = 0;
    if (fd < 0)
        return buf;
    for (;;) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, WAIT_SECS * 1000) <= 0 || read(fd, &c, 1) != 1)
            break;
        if (c == '\n')
            break;
        if (n + 1 < sizeof(buf))
            buf[n++] = c;
    }
    buf[n] = 0;
    return buf;
}

/* say - send one line, return the answer */
static const char *say(int fd, const char *line)
{
    char    out[300];
    int     len = snprintf(out, sizeof(out), "%s\n", line);

    if (fd < 0 || write(fd, out, (size_t)len) != len)
        return "";
    return get_line(fd);
}

/* greeting_pid - the pid in "hello vN pid P ..."; 0 when there is none */
static long greeting_pid(const char *greeting)
{
    const char *cp = strstr(greeting, " pid ");

    return cp ? atol(cp + 5) : 0;
}

/* session - connect, greeting into buf, quit; the worker's pid */
static long session(int port, char *buf, size_t len)
{
    int     fd = connect_tcp(port);
    long    pid;

    snprintf(buf, len, "%s", get_line(fd));
    pid = greeting_pid(buf);
    say(fd, "quit");
    if (fd >= 0)
        close(fd);
    return pid;
}

/* wait_exit - the status of pid, at most WAIT_SECS; -1 when it does not end */
static int wait_exit(pid_t pid)
{
    int     i, status;

    for (i = 0; i < WAIT_SECS * 20; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* start_server - fork one running serve_mode(dir, listen) */
static pid_t start_server(const char *dir, const char *listen)
{
    pid_t   pid;

    fflush(NULL);
    if ((pid = fork()) < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0)
        _exit(serve_mode(dir, listen));
    return pid;
}

/* test_start - up, the pid file, both sockets; returns the port */
static int test_start(const char *dir, pid_t master, const char *sock)
{
    char    path[512], buf[64];
    int     port, fd;

    UT_CHECK(wait_log(dir, "daemon started"), "the server starts");
    port = log_port(dir);
    UT_CHECK(port > 0, "the started line names the port");
    snprintf(path, sizeof(path), "%s/run/toy.pid", dir);
    snprintf(buf, sizeof(buf), "%ld", (long)master);
    snprintf(toy_dir, sizeof(toy_dir), "%s/run", dir);
    read_small("toy.pid", path, sizeof(path));
    UT_EQ_STR(path, buf, "the pid file holds the master's pid");
    UT_CHECK(wait_children(master, 1), "one worker");

    fd = connect_unix(sock);
    UT_CHECK(strncmp(get_line(fd), "hello v1 ", 9) == 0, "served on the unix socket");
    UT_EQ_STR(say(fd, "quit"), "bye", "unix socket: quit");
    if (fd >= 0)
        close(fd);
    return port;
}

/* test_recycle - 3 sessions per worker, then another worker */
static void test_recycle(int port)
{
    char    g[512];
    long    second, third, fourth;

    /* the unix session was the first of this worker's 3 */
    second = session(port, g, sizeof(g));
    UT_CHECK(strncmp(g, "hello v1 ", 9) == 0 && strstr(g, "env=unset peer=127.0.0.1"),
             "greeting: %s", g);
    third = session(port, g, sizeof(g));
    UT_EQ_INT(third, second, "the third session: the same worker");
    fourth = session(port, g, sizeof(g));
    UT_CHECK(fourth > 0 && fourth != third, "the fourth session: a new worker (%ld after %ld)",
             fourth, third);
}

/* test_reload - SIGHUP: new connections see the new engine, the one in
 * progress keeps the old */
static void test_reload(const char *dir, pid_t master, int port)
{
    int     held, fd;
    char    g[512];

    held = connect_tcp(port);
    UT_CHECK(strncmp(get_line(held), "hello v1 ", 9) == 0, "held session on v1");
    UT_EQ_STR(say(held, "a"), "echo a v1 shutdown=0", "held session echoes");
    write_small(dir, "engine", "2");
    kill(master, SIGHUP);
    UT_CHECK(wait_log(dir, "engine reloaded: version 2"), "SIGHUP reloads");
    UT_CHECK(log_has(dir, "reload (SIGHUP): loading settings and data"), "reload logged");
    UT_CHECK(log_has(dir, "reload_end 0"), "reload_end OK");
    fd = connect_tcp(port);
    snprintf(g, sizeof(g), "%s", get_line(fd));
    UT_CHECK(strncmp(g, "hello v2 ", 9) == 0, "a new connection sees v2: %s", g);
    say(fd, "quit");
    if (fd >= 0)
        close(fd);
    UT_EQ_STR(say(held, "b"), "echo b v1 shutdown=0", "the held session keeps v1");
    UT_EQ_STR(say(held, "quit"), "bye", "held session: quit");
    if (held >= 0)
        close(held);

    write_small(dir, "engine", "3");
    UT_CHECK(wait_log(dir, "engine reloaded: version 3"), "a change is seen without SIGHUP");
    UT_CHECK(log_has(dir, "reload (data changed): loading settings and data"),
             "the periodic reload logged");
    session(port, g, sizeof(g));
    UT_CHECK(strncmp(g, "hello v3 ", 9) == 0, "then new connections see v3: %s", g);
}

/* test_reload_fails - a failed load and bad settings keep the old engine;
 * good settings take effect */
static void test_reload_fails(const char *dir, pid_t master, int port)
{
    char    g[512];

    write_small(dir, "engine", "fail");
    kill(master, SIGHUP);
    UT_CHECK(wait_log(dir, "reload failed: told to fail; keeping the old settings and data"),
             "a failed load is logged");
    UT_CHECK(wait_log(dir, "reload_end 2"), "reload_end BAD_LOAD");
    session(port, g, sizeof(g));
    UT_CHECK(strncmp(g, "hello v3 ", 9) == 0, "after a failed load: still v3: %s", g);

    write_small(dir, "config", "bad");
    write_small(dir, "engine", "4");
    kill(master, SIGHUP);
    UT_CHECK(wait_log(dir, "reload: configuration error: bad settings; keeping the old "
                      "settings and data"), "bad settings are logged");
    UT_CHECK(wait_log(dir, "reload_end 1"), "reload_end BAD_SETTINGS");
    session(port, g, sizeof(g));
    UT_CHECK(strncmp(g, "hello v3 ", 9) == 0, "after bad settings: still v3: %s", g);
    UT_CHECK(wait_children(master, 1), "still one worker");

    write_small(dir, "config", "2");
    kill(master, SIGHUP);
    UT_CHECK(wait_log(dir, "engine reloaded: version 4"), "good settings: reloaded");
    UT_CHECK(wait_children(master, 2), "the new settings: 2 workers");
}

/* test_drain - SIGTERM: the session in progress completes, then exit 0 */
static void test_drain(const char *dir, pid_t master, int port, const char *sock)
{
    char    path[512];
    const char *reply = "";
    int     held, status, i;

    held = connect_tcp(port);
    UT_CHECK(strncmp(get_line(held), "hello v4 ", 9) == 0, "drain: held session on v4");
    kill(master, SIGTERM);
    UT_CHECK(wait_log(dir, "stopping: draining "), "drain logged");
    UT_CHECK(log_has(dir, "at most 30s"), "drain: the time limit logged");
    /* the master logs before it signals the workers: ask until it arrived */
    for (i = 0; i < WAIT_SECS * 20; i++) {
        reply = say(held, "c");
        if (strcmp(reply, "echo c v4 shutdown=0") != 0)
            break;
        sleep_ms(50);
    }
    UT_EQ_STR(reply, "echo c v4 shutdown=1", "the held session goes on, told to stop");
    UT_CHECK(waitpid(master, &status, WNOHANG) == 0, "the master waits for it");
    UT_EQ_STR(say(held, "quit"), "bye", "the held session ends");
    if (held >= 0)
        close(held);
    status = wait_exit(master);
    UT_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "exit 0 after the drain (status %d)", status);
    UT_CHECK(log_has(dir, "daemon stopped"), "stop logged");
    snprintf(path, sizeof(path), "%s/run/toy.pid", dir);
    UT_CHECK(access(path, F_OK) < 0, "the pid file is removed");
    UT_CHECK(access(sock, F_OK) < 0, "the unix socket is removed");
    UT_CHECK(connect_tcp(port) < 0, "nothing listens any more");
}

/* test_main_server - the whole life of one server */
static void test_main_server(void)
{
    char    dir[64], listen[200], sock[100];
    pid_t   master;
    int     port;

    make_dir(dir, sizeof(dir));
    snprintf(sock, sizeof(sock), "%s/toy.sock", dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:0, unix:%s", sock);
    master = start_server(dir, listen);
    port = test_start(dir, master, sock);
    if (port > 0) {
        test_recycle(port);
        test_reload(dir, master, port);
        test_reload_fails(dir, master, port);
        test_drain(dir, master, port, sock);
    }
    if (waitpid(master, NULL, WNOHANG) == 0) {
        kill(master, SIGKILL);
        waitpid(master, NULL, 0);
    }
    remove_dir(dir);
}

/* test_activation - a listening socket passed as fd 3 (LISTEN_FDS) */
static void test_activation(const char *self)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char    dir[64], pidbuf[32], g[512];
    int     lfd, status, port;
    pid_t   pid;

    make_dir(dir, sizeof(dir));
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 16) < 0
        || getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
        perror("activation socket");
        exit(1);
    }
    port = ntohs(sin.sin_port);
    fflush(NULL);
    if ((pid = fork()) == 0) {
        if (lfd != 3 && (dup2(lfd, 3) < 0 || close(lfd) < 0))
            _exit(1);
        snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
        setenv("LISTEN_PID", pidbuf, 1);
        setenv("LISTEN_FDS", "1", 1);
        /* the listen list is nonsense: binding it would be fatal */
        execl(self, self, "--serve", dir, "nonsense", (char *)0);
        _exit(127);
    }
    close(lfd);
    UT_CHECK(wait_log(dir, "daemon started"), "activation: the server starts");
    UT_CHECK(log_has(dir, "using the 1 listening socket(s) passed by the service manager; "
                     "toy_listen is not used"), "activation: logged");
    UT_CHECK(log_has(dir, "listening on 127.0.0.1:"), "activation: the socket's name");
    session(port, g, sizeof(g));
    UT_CHECK(strncmp(g, "hello v1 ", 9) == 0 && strstr(g, "env=unset"),
             "activation: served on the passed socket, LISTEN_FDS gone: %s", g);
    kill(pid, SIGTERM);
    status = wait_exit(pid);
    UT_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "activation: exit 0 (status %d)", status);
    remove_dir(dir);
}

/* test_start_failures - a second server on the same pid file, a bad
 * listen list: both fatal (75), the first one's pid file untouched */
static void test_start_failures(void)
{
    char    dir[64], listen[300];
    pid_t   master, second;
    int     status;

    make_dir(dir, sizeof(dir));
    snprintf(listen, sizeof(listen), "127.0.0.1:0");
    master = start_server(dir, listen);
    UT_CHECK(wait_log(dir, "daemon started"), "failures: the first server starts");
    second = start_server(dir, listen);
    status = wait_exit(second);
    UT_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 75,
             "a second server on the pid file: exit 75 (status %d)", status);
    UT_CHECK(log_has(dir, "another toy server (pid "), "the holder is named");
    kill(master, SIGTERM);
    status = wait_exit(master);
    UT_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "failures: the first one stops with 0");

    second = start_server(dir, "::1:25");
    status = wait_exit(second);
    UT_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 75,
             "an IPv6 address without brackets: exit 75");
    UT_CHECK(log_has(dir, "toy_listen: bad address \"::1:25\": an IPv6 address goes in brackets"),
             "says why");
    remove_dir(dir);
}

int     main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--serve") == 0)
        return serve_mode(argv[2], argv[3]);
    UT_BEGIN("test_server_prefork");
    signal(SIGPIPE, SIG_IGN);
    if (geteuid() == 0 && getpwnam("nobody") == NULL) {
        printf("SKIP test_server_prefork: root without a user nobody\n");
        return 77;
    }
    test_main_server();
    test_activation("/proc/self/exe");
    test_start_failures();
    return ut_done();
}
