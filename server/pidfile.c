/*
 * pidfile - a server's pid file (see pidfile.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/mymalloc.h"
#include "lib/safefile.h"
#include "lib/vbuf.h"
#include "server/pidfile.h"

static char *pid_path;                  /* absolute; NULL: not ours */
static const char *pid_param;           /* the setting, for messages */
static int pid_fd = -1;
static pid_t pid_owner;                 /* who removes it at exit */

/* pidfile_mkdir - one directory we create: 0755 despite our umask (the
 * pid file is for everyone to read), set up through a descriptor of it,
 * never by name, which could be swapped for a symlink to /etc meanwhile */
static void pidfile_mkdir(const char *dir, uid_t uid, gid_t gid, int chown_ok)
{
    struct stat st;
    int     dfd;

    if (mkdir(dir, 0755) < 0)
        msg_fatal("%s: cannot create directory %s: %s", pid_param, dir, strerror(errno));
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
        || fstat(dfd, &st) < 0)
        msg_fatal("%s: cannot open directory %s: %s", pid_param, dir, strerror(errno));
    if (st.st_uid != geteuid())
        msg_fatal("%s: directory %s was replaced while being set up", pid_param, dir);
    if (fchmod(dfd, 0755) < 0 || (chown_ok && fchown(dfd, uid, gid) < 0))
        msg_fatal("%s: cannot set up directory %s: %s", pid_param, dir, strerror(errno));
    (void)close(dfd);
}

/* pidfile_mkdirs - create the missing directories above path; those we
 * create belong to the server's user when we start as root */
static void pidfile_mkdirs(const char *path, uid_t uid, gid_t gid, int chown_ok)
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
            if (errno != ENOENT)
                msg_fatal("%s: cannot create directory %s: %s", pid_param, dir, strerror(errno));
            pidfile_mkdir(dir, uid, gid, chown_ok);
        } else if (!S_ISDIR(st.st_mode)) {
            msg_fatal("%s: %s is not a directory", pid_param, dir);
        }
        if (saved == 0)
            break;
        *cp = saved;
    }
    myfree(dir);
}

/* pidfile_absolute - path made absolute (the server changes directory) */
static char *pidfile_absolute(const char *path)
{
    char    cwd[PATH_MAX];
    VBUF   *abs;
    char   *result;

    if (*path == '/')
        return mystrdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        msg_fatal("getcwd: %s", strerror(errno));
    abs = vbuf_alloc(PATH_MAX);
    vbuf_sprintf(abs, "%s/%s", cwd, path);
    result = mystrdup(vbuf_str(abs));
    vbuf_free(abs);
    return result;
}

/* pidfile_busy - the lock is someone else's: say whose, and give up */
PS_NORETURN static void pidfile_busy(int err, const char *path, const char *who)
{
    char    buf[32];
    ssize_t n;

    n = pread(pid_fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    buf[strspn(buf, "0123456789")] = 0;
    (void)close(pid_fd);
    pid_fd = -1;
    myfree(pid_path);
    pid_path = NULL;                    /* not ours: never remove it */
    if (err == EWOULDBLOCK)
        msg_fatal("another %s%s%s%s holds %s: not starting",
                  who, *buf ? " (pid " : "", buf, *buf ? ")" : "", path);
    msg_fatal("%s: cannot lock %s: %s", pid_param, path, strerror(err));
}

/* pidfile_take - see pidfile.h */
void    pidfile_take(const char *path, const char *param, const char *who,
                     uid_t uid, gid_t gid, int chown_ok)
{
    VBUF   *why;
    int     created;

    pid_param = param;
    if (*path == 0)
        msg_fatal("%s is empty", param);
    pid_path = pidfile_absolute(path);
    pid_owner = getpid();
    pidfile_mkdirs(pid_path, uid, gid, chown_ok);
    /* Root truncates and writes this file: only one that is what it seems
     * (a hard link to /etc/shadow, or a symlink, is refused). */
    why = vbuf_alloc(1024);
    if ((pid_fd = safefile_open(pid_path, O_RDWR, 0644, uid, &created, why)) < 0)
        msg_fatal("%s %s: it %s", param, pid_path, vbuf_str(why));
    vbuf_free(why);
    /* 0644 despite our umask, for a file we made: for everyone to read */
    if (created)
        (void)fchmod(pid_fd, 0644);
    if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0)
        pidfile_busy(errno, path, who);
}

/* pidfile_write - see pidfile.h */
void    pidfile_write(void)
{
    char    buf[32];
    int     len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (pid_fd < 0)
        return;
    pid_owner = getpid();
    if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, buf, (size_t)len, 0) != len)
        msg_fatal("%s: cannot write %s: %s", pid_param, pid_path, strerror(errno));
}

/* pidfile_remove - see pidfile.h */
void    pidfile_remove(void)
{
    if (pid_fd < 0 || getpid() != pid_owner)
        return;
    if (pid_path && unlink(pid_path) < 0 && errno != ENOENT) {
        msg_debug("cannot remove %s: %s; emptying it", pid_path, strerror(errno));
        (void)!ftruncate(pid_fd, 0);
    }
    (void)close(pid_fd);
    pid_fd = -1;
    myfree(pid_path);
    pid_path = NULL;
}

/* pidfile_forget - see pidfile.h */
void    pidfile_forget(void)
{
    if (pid_fd >= 0)
        (void)close(pid_fd);
    pid_fd = -1;
}
