/*
 * safefile - open a file that a privileged process writes by name (see
 * safefile.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mymalloc.h"
#include "lib/safefile.h"

/* safefile_dir_ok - the directory of path is not open to everyone's
 * writes (a sticky one is: others cannot replace what we own there) */
static int safefile_dir_ok(const char *path, VBUF *err)
{
    const char *slash = strrchr(path, '/');
    char   *dir;
    struct stat st;
    int     ret = -1;

    if (slash == NULL)
        dir = mystrdup(".");
    else if (slash == path)
        dir = mystrdup("/");
    else
        dir = mystrndup(path, (size_t)(slash - path));
    if (stat(dir, &st) < 0)
        vbuf_sprintf(err, "directory %s: %s", dir, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        vbuf_sprintf(err, "%s is not a directory", dir);
    else if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
        vbuf_sprintf(err, "directory %s is writable by everyone", dir);
    else
        ret = 0;
    myfree(dir);
    return ret;
}

/* safefile_check - one file's status is acceptable; -1 with why in err */
static int safefile_check(const struct stat *st, uid_t owner, VBUF *err)
{
    if (S_ISLNK(st->st_mode)) {
        vbuf_strcpy(err, "is a symbolic link");
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        vbuf_strcpy(err, "is not a regular file");
        return -1;
    }
    if (st->st_nlink != 1) {
        vbuf_sprintf(err, "has %lu hard links, not one", (unsigned long)st->st_nlink);
        return -1;
    }
    if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != owner) {
        vbuf_sprintf(err, "is owned by uid %ld", (long)st->st_uid);
        return -1;
    }
    return 0;
}

/* safefile_open - see safefile.h */
int safefile_open(const char *path, int flags, mode_t mode, uid_t owner,
                  int *created, VBUF *err)
{
    struct stat lst, fst;
    int     fd, tries;

    *created = 0;
    if (safefile_dir_ok(path, err) < 0)
        return -1;
    flags |= O_CLOEXEC | O_NOFOLLOW;
    for (tries = 0; tries < 3; tries++) {
        if (lstat(path, &lst) < 0) {
            if (errno != ENOENT) {
                vbuf_sprintf(err, "cannot look at it: %s", strerror(errno));
                return -1;
            }
            /* Missing: ours only if we are the ones who make it. */
            if ((fd = open(path, flags | O_CREAT | O_EXCL, mode)) < 0) {
                if (errno == EEXIST)
                    continue;           /* made meanwhile: look at it */
                vbuf_sprintf(err, "cannot create it: %s", strerror(errno));
                return -1;
            }
            *created = 1;
            return fd;
        }
        if (safefile_check(&lst, owner, err) < 0)
            return -1;
        /* O_NONBLOCK: should it have become a FIFO meanwhile, no wait */
        if ((fd = open(path, (flags & ~O_CREAT) | O_NONBLOCK)) < 0) {
            if (errno == ENOENT)
                continue;               /* removed meanwhile: again */
            vbuf_sprintf(err, "cannot open it: %s", strerror(errno));
            return -1;
        }
        if (fstat(fd, &fst) < 0) {
            vbuf_sprintf(err, "cannot look at it: %s", strerror(errno));
            (void)close(fd);
            return -1;
        }
        if (fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino) {
            vbuf_strcpy(err, "was replaced while it was being opened");
            (void)close(fd);
            return -1;
        }
        if (safefile_check(&fst, owner, err) < 0) {
            (void)close(fd);
            return -1;
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
            vbuf_sprintf(err, "fcntl: %s", strerror(errno));
            (void)close(fd);
            return -1;
        }
        return fd;
    }
    vbuf_strcpy(err, "keeps changing while it is being opened");
    return -1;
}
