/*
 * detach - a server leaves its starter behind (see detach.h)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "lib/exitpolicy.h"
#include "lib/msg.h"
#include "server/detach.h"

static int ready_fd = -1;               /* to the waiting parent */

/* detach_start - see detach.h */
void    detach_start(void)
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

/* detach_ready - see detach.h */
void    detach_ready(void)
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

/* detach_forget - see detach.h */
void    detach_forget(void)
{
    if (ready_fd >= 0)
        (void)close(ready_fd);
    ready_fd = -1;
}

/* detach_close_strays - see detach.h. Descriptors inherited from whoever
 * started us would stay open for the server's life and keep, say, a
 * caller's pipe from seeing EOF. */
void    detach_close_strays(void)
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
