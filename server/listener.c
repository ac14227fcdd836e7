/*
 * listener - the listening sockets of a server (see listener.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/hostport.h"
#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/printable.h"
#include "server/listener.h"

#define LISTENER_BACKLOG  128
#define LISTENER_FD_START 3                     /* the first passed socket */
#define LISTENER_FD_MAX   1024                  /* more is a broken manager */

/* listener_add - one more socket */
static void listener_add(LISTENERS *ls, int fd, char *name, char *unlink_path)
{
    ls->items = myrealloc(ls->items, (size_t)(ls->count + 1) * sizeof(*ls->items));
    ls->items[ls->count].fd = fd;
    ls->items[ls->count].name = name;
    ls->items[ls->count].unlink_path = unlink_path;
    ls->count++;
}

/* listener_name - "[::1]:10025", "127.0.0.1:10025" or "unix:/path" */
static char *listener_name(const struct sockaddr *sa, socklen_t len)
{
    char    host[NI_MAXHOST], port[NI_MAXSERV];
    VBUF   *buf = vbuf_alloc(NI_MAXHOST + NI_MAXSERV + 8);
    char   *name;

    if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
        size_t  n = len > offsetof(struct sockaddr_un, sun_path)
            ? (size_t)len - offsetof(struct sockaddr_un, sun_path) : 0;

        /* an abstract name starts with a NUL; shown as "@name" */
        vbuf_strcpy(buf, n > 0 && sun->sun_path[0] == 0 ? "unix:@" : "unix:");
        if (n > 0 && sun->sun_path[0] == 0)
            printable_append(buf, sun->sun_path + 1, n - 1, PRINTABLE_ALL, 0);
        else
            printable_append(buf, sun->sun_path, strnlen(sun->sun_path, n), PRINTABLE_ALL, 0);
    } else if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
                           NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        vbuf_strcpy(buf, "(unknown)");
    } else if (sa->sa_family == AF_INET6) {
        vbuf_sprintf(buf, "[%s]:%s", host, port);
    } else {
        vbuf_sprintf(buf, "%s:%s", host, port);
    }
    name = mystrdup(vbuf_str(buf));
    vbuf_free(buf);
    return name;
}

/* listener_local_name - the name of a bound socket as the kernel has it
 * (the real port after ":0"); fallback when it cannot say */
static char *listener_local_name(int fd, char *fallback)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return fallback;
    myfree(fallback);
    return listener_name((struct sockaddr *)&ss, len);
}

 /*
  * Socket activation.
  */

/* listener_env_number - a decimal environment value; -1 when not one */
static long listener_env_number(const char *text)
{
    char   *end;
    long    val;

    if (text == NULL || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    val = strtol(text, &end, 10);
    if (errno != 0 || *end != 0)
        return -1;
    return val;
}

/* listener_adopt - check one passed descriptor and make it ours */
static void listener_adopt(LISTENERS *ls, int fd)
{
    struct stat st;
    int     val, flags;
    socklen_t len = sizeof(val);

    if (fstat(fd, &st) < 0)
        msg_fatal("socket activation: descriptor %d: %s", fd, strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        msg_fatal("socket activation: descriptor %d is not a socket", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) < 0 || val != SOCK_STREAM)
        msg_fatal("socket activation: descriptor %d is not a stream socket", fd);
    len = sizeof(val);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || val == 0)
        msg_fatal("socket activation: descriptor %d is not a listening socket", fd);
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        msg_fatal("socket activation: descriptor %d: %s", fd, strerror(errno));
    listener_add(ls, fd, listener_local_name(fd, mystrdup("(unknown)")), NULL);
}

/* listener_inherit - see listener.h */
int     listener_inherit(LISTENERS *ls)
{
    long    pid = listener_env_number(getenv("LISTEN_PID"));
    const char *fds_text = getenv("LISTEN_FDS");
    long    nfds = listener_env_number(fds_text);
    char    shown[64];
    int     fd;

    if (fds_text == NULL)
        return 0;
    /* Nothing we start may take these for its own. */
    (void)unsetenv("LISTEN_PID");
    (void)unsetenv("LISTEN_FDS");
    (void)unsetenv("LISTEN_FDNAMES");
    if (pid != (long)getpid())
        return 0;                       /* meant for another process */
    if (nfds < 0 || nfds > LISTENER_FD_MAX - LISTENER_FD_START)
        msg_fatal("socket activation: bad LISTEN_FDS \"%s\"",
                  printable_copy(shown, sizeof(shown), fds_text, PRINTABLE_ALL, 0));
    for (fd = LISTENER_FD_START; fd < LISTENER_FD_START + (int)nfds; fd++)
        listener_adopt(ls, fd);
    ls->inherited = (nfds > 0);
    return (int)nfds;
}

 /*
  * Binding.
  */

/* listener_bind_inet - bind every address of one "host:port" */
static void listener_bind_inet(LISTENERS *ls, const char *spec, const char *param)
{
    struct addrinfo hints, *res, *ai;
    HOSTPORT hp;
    const char *why;
    char    shown[256];
    int     fd, on = 1, rc;

    printable_copy(shown, sizeof(shown), spec, PRINTABLE_ALL, 0);
    if (hostport_parse(spec, NULL, HOSTPORT_ANY_HOST, &hp, &why) < 0)
        msg_fatal("%s: bad address \"%s\": %s", param, shown, why);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((rc = getaddrinfo(hp.host[0] ? hp.host : NULL, hp.port, &hints, &res)) != 0)
        msg_fatal("%s: cannot resolve \"%s\": %s", param, shown, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        char   *name = listener_name(ai->ai_addr, ai->ai_addrlen);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0)
            msg_fatal("%s: cannot create a socket for %s: %s", param, name, strerror(errno));
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
            msg_fatal("%s: SO_REUSEADDR on %s: %s", param, name, strerror(errno));
        /* so that "*:port" can bind 0.0.0.0 and :: side by side */
        if (ai->ai_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
            msg_fatal("%s: IPV6_V6ONLY on %s: %s", param, name, strerror(errno));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
            msg_fatal("%s: cannot bind %s: %s", param, name, strerror(errno));
        if (listen(fd, LISTENER_BACKLOG) < 0)
            msg_fatal("%s: cannot listen on %s: %s", param, name, strerror(errno));
        listener_add(ls, fd, listener_local_name(fd, name), NULL);
    }
    freeaddrinfo(res);
}

/* listener_clear_unix - a socket file left at path by a server that is
 * gone is removed; a live one, or anything else, is fatal */
static void listener_clear_unix(const struct sockaddr_un *sun, const char *param,
                                const char *name)
{
    struct stat st;
    int     fd, live;

    if (lstat(sun->sun_path, &st) < 0) {
        if (errno != ENOENT)
            msg_fatal("%s: cannot bind %s: %s", param, name, strerror(errno));
        return;
    }
    if (!S_ISSOCK(st.st_mode))
        msg_fatal("%s: cannot bind %s: a file that is not a socket is in the way", param, name);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        msg_fatal("%s: cannot create a socket for %s: %s", param, name, strerror(errno));
    live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
    (void)close(fd);
    if (live)
        msg_fatal("%s: cannot bind %s: another server listens there", param, name);
    if (unlink(sun->sun_path) < 0 && errno != ENOENT)
        msg_fatal("%s: cannot remove the old socket %s: %s", param, name, strerror(errno));
}

/* listener_bind_unix - bind "unix:/path" with the mode and owner asked */
static void listener_bind_unix(LISTENERS *ls, const char *spec, const char *param,
                               const LISTENER_UNIX *ux)
{
    struct sockaddr_un sun;
    const char *path = spec + 5;
    char   *name;
    VBUF   *buf = vbuf_alloc(256);
    int     fd;

    vbuf_strcpy(buf, "unix:");
    printable_append(buf, path, strlen(path), PRINTABLE_ALL, 0);
    name = mystrdup(vbuf_str(buf));
    vbuf_free(buf);
    if (*path != '/')
        msg_fatal("%s: bad address \"%s\": a unix socket needs an absolute path", param, name);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path))
        msg_fatal("%s: bad address \"%s\": the path is too long", param, name);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    listener_clear_unix(&sun, param, name);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        msg_fatal("%s: cannot create a socket for %s: %s", param, name, strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
        msg_fatal("%s: cannot bind %s: %s", param, name, strerror(errno));
    /* The socket is made with our umask (stricter than asked); the mode
     * and owner follow, before anyone is let in by listen(). */
    if (chmod(path, ux->mode) < 0 || (ux->chown && lchown(path, ux->uid, ux->gid) < 0))
        msg_fatal("%s: cannot set up %s: %s", param, name, strerror(errno));
    if (listen(fd, LISTENER_BACKLOG) < 0)
        msg_fatal("%s: cannot listen on %s: %s", param, name, strerror(errno));
    listener_add(ls, fd, name, mystrdup(path));
}

/* listener_bind_all - see listener.h */
void    listener_bind_all(LISTENERS *ls, const char *spec, const char *param,
                          const LISTENER_UNIX *ux)
{
    char   *copy = mystrdup(spec);
    char   *save = NULL, *tok;

    for (tok = strtok_r(copy, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
        if (ux->allowed && strncmp(tok, "unix:", 5) == 0)
            listener_bind_unix(ls, tok, param, ux);
        else
            listener_bind_inet(ls, tok, param);
    }
    myfree(copy);
    if (ls->count == 0)
        msg_fatal("%s is empty: nothing to listen on", param);
}

/* listener_names - see listener.h */
void    listener_names(const LISTENERS *ls, VBUF *buf)
{
    int     i;

    vbuf_strcpy(buf, "");
    for (i = 0; i < ls->count; i++)
        vbuf_sprintf_append(buf, "%s%s", i ? ", " : "", ls->items[i].name);
}

/* listener_close_all - see listener.h */
void    listener_close_all(LISTENERS *ls, int remove_files)
{
    int     i;

    for (i = 0; i < ls->count; i++) {
        (void)close(ls->items[i].fd);
        if (ls->items[i].unlink_path) {
            if (remove_files && unlink(ls->items[i].unlink_path) < 0 && errno != ENOENT)
                msg_debug("cannot remove %s: %s", ls->items[i].name, strerror(errno));
            myfree(ls->items[i].unlink_path);
        }
        myfree(ls->items[i].name);
    }
    if (ls->items)
        myfree(ls->items);
    ls->items = NULL;
    ls->count = 0;
}
