/*
 * spool - private temporary files, unlinked from birth (see spool.h)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/params.h"
#include "lib/spool.h"

#define SPOOL_TREE_DEPTH 64     /* deepest directory a sweep goes into */

/* spool_dir_check - the directory exists, is ours, and is private */
int spool_dir_check(const char *dir, VBUF *err)
{
    struct stat st;

    if (dir == NULL || *dir != '/') {
        vbuf_sprintf(err, "spool directory \"%s\" is not an absolute path", dir ? dir : "");
        return -1;
    }
    if (lstat(dir, &st) < 0) {
        if (errno != ENOENT || mkdir(dir, 0700) < 0 || lstat(dir, &st) < 0) {
            vbuf_sprintf(err, "cannot create spool directory %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        vbuf_sprintf(err, "%s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        vbuf_sprintf(err, "%s is owned by uid %ld, not by us (uid %ld)", dir,
                     (long)st.st_uid, (long)geteuid());
        return -1;
    }
    if (st.st_mode & 077) {
        if (chmod(dir, 0700) < 0) {
            vbuf_sprintf(err, "%s is open to group or other and cannot be made private: %s",
                         dir, strerror(errno));
            return -1;
        }
        msg_warn("%s was mode %04o; made it 0700", dir, (unsigned)(st.st_mode & 07777));
    }
    if (access(dir, W_OK | X_OK) < 0) {
        vbuf_sprintf(err, "cannot write to spool directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* spool_random_name - unpredictable alphanumerics */
void spool_random_name(char *buf, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char rnd[64];
    size_t i, n;

    if (len == 0)
        return;
    n = len - 1 < sizeof(rnd) ? len - 1 : sizeof(rnd);
    if (getrandom(rnd, n, 0) != (ssize_t)n)
        msg_fatal("getrandom: %s", strerror(errno));
    for (i = 0; i < n; i++)
        buf[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
    buf[n] = 0;
}

/* spool_create - an anonymous 0600 file in dir */
int spool_create(const char *dir, VBUF *err)
{
    char path[4096];
    char name[25];
    int fd, tries;

    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        vbuf_sprintf(err, "cannot create spool file in %s: %s", dir, strerror(errno));
        return -1;
    }
    for (tries = 0; tries < 10; tries++) {
        spool_random_name(name, sizeof(name));
        if (snprintf(path, sizeof(path), "%s/ps%s", dir, name) >= (int)sizeof(path)) {
            vbuf_sprintf(err, "spool directory name too long: %s", dir);
            return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            (void)unlink(path);
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    vbuf_sprintf(err, "cannot create spool file in %s: %s", dir, strerror(errno));
    return -1;
}

/* spool_create_mem - a memfd (no name on disk, made 0600), or
 * a disk spool file when memory is not to be used or fails */
int spool_create_mem(const char *dir, VBUF *err)
{
    int     fd;

    /* checked even for memory: a message may outgrow it, and a broken
     * spool_dir is better refused at once (two cheap system calls) */
    if (spool_dir_check(dir, err) < 0)
        return -1;
    if (var_memory_spool_limit > 0) {
        /* a memfd is born 0777; through /proc/PID/fd it would be open to
         * anyone who may look into the process: 0600 like the rest */
        if ((fd = memfd_create("postsift-spool", MFD_CLOEXEC)) >= 0) {
            if (fchmod(fd, 0600) == 0)
                return fd;
            msg_warn("memfd: fchmod: %s; spooling to disk", strerror(errno));
            (void)close(fd);
        }
        if (errno != ENOSYS && errno != EINVAL)
            msg_warn("memfd_create: %s; spooling to disk", strerror(errno));
    }
    return spool_create(dir, err);
}

/* spool_is_mem - a memfd answers F_GET_SEALS, a file on disk does not */
int spool_is_mem(int fd)
{
    return fcntl(fd, F_GET_SEALS) >= 0;
}

/* spool_to_disk - move a memory spool file of have bytes to disk, under
 * the same descriptor number, its offset at the end */
static int spool_to_disk(int fd, const char *dir, off_t have)
{
    VBUF   *err = vbuf_alloc(1024);
    int     dfd, saved;

    if (spool_dir_check(dir, err) < 0 || (dfd = spool_create(dir, err)) < 0) {
        msg_warn("%s", vbuf_str(err));
        vbuf_free(err);
        errno = EIO;
        return -1;
    }
    vbuf_free(err);
    errno = 0;
    if (spool_copy_fd(fd, dfd) < 0 || lseek(dfd, 0, SEEK_END) != have
        || dup3(dfd, fd, O_CLOEXEC) < 0) {
        saved = errno ? errno : EIO;
        (void)close(dfd);
        errno = saved;
        return -1;
    }
    (void)close(dfd);
    return 0;
}

/* spool_write_grow - append, out of memory onto disk past the limit */
int spool_write_grow(int fd, const char *dir, off_t have, const void *buf, size_t len)
{
    if (have + (off_t)len > var_memory_spool_limit && spool_is_mem(fd)
        && spool_to_disk(fd, dir, have) < 0)
        return -1;
    return spool_write_all(fd, buf, len);
}

/* spool_copy_fd - copy src from offset 0 (a pipe: what it still holds)
 * to the current offset of dst */
int spool_copy_fd(int src, int dst)
{
    char buf[65536];
    off_t off = 0;
    ssize_t n;
    int stream = 0;

    for (;;) {
        n = stream ? read(src, buf, sizeof(buf)) : pread(src, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ESPIPE && !stream && off == 0) {
            /* a pipe or socket (a shell filter's "... | postsift-reinject") */
            stream = 1;
            continue;
        }
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        off += n;
        if (spool_write_all(dst, buf, (size_t)n) < 0)
            return -1;
    }
}

/* spool_write_all - write everything or fail */
int spool_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* spool_size - bytes in an open file */
off_t spool_size(int fd)
{
    struct stat st;

    return fstat(fd, &st) < 0 ? -1 : st.st_size;
}

/* spool_private_dir - a new directory for this process alone, locked */
int spool_private_dir(const char *dir, const char *prefix, VBUF *path, VBUF *err)
{
    struct stat fst, lst;
    char    name[17];
    int     fd, tries;

    for (tries = 0; tries < 10; tries++) {
        spool_random_name(name, sizeof(name));
        if (vbuf_sprintf(path, "%s/%s%s", dir, prefix, name) < 0) {
            vbuf_sprintf(err, "spool directory name too long: %s", dir);
            return -1;
        }
        if (mkdir(vbuf_str(path), 0700) < 0) {
            if (errno == EEXIST)
                continue;
            vbuf_sprintf(err, "cannot create a directory in %s: %s", dir, strerror(errno));
            return -1;
        }
        /* Until we hold the lock, a sweep may take it for a dead
         * process's; such a one is gone (or going) when we get the lock,
         * and we start again with another name. */
        if ((fd = open(vbuf_str(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            if (errno == ENOENT)
                continue;
            vbuf_sprintf(err, "cannot open %s: %s", vbuf_str(path), strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int     saved = errno;

            (void)close(fd);
            if (saved == EWOULDBLOCK)
                continue;
            vbuf_sprintf(err, "cannot lock %s: %s", vbuf_str(path), strerror(saved));
            return -1;
        }
        if (fstat(fd, &fst) < 0 || fst.st_nlink == 0 || lstat(vbuf_str(path), &lst) < 0
            || fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino) {
            (void)close(fd);
            continue;
        }
        return fd;
    }
    vbuf_sprintf(err, "cannot make a private directory in %s: too many tries", dir);
    return -1;
}

/* spool_empty_dir - remove what the open directory fd holds; 0, or -1
 * when something stayed (warned) */
static int spool_empty_dir(int fd, const char *shown, int depth)
{
    DIR    *dp;
    struct dirent *de;
    int     dfd, sub, ret = 0;

    if ((dfd = dup(fd)) < 0 || (dp = fdopendir(dfd)) == NULL) {
        if (dfd >= 0)
            (void)close(dfd);
        msg_warn("cannot read %s: %s", shown, strerror(errno));
        return -1;
    }
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, de->d_name, 0) == 0)
            continue;
        if (errno != EISDIR && errno != EPERM) {
            msg_warn("cannot remove %s/%s: %s", shown, de->d_name, strerror(errno));
            ret = -1;
            continue;
        }
        /* a directory: what it holds first (never through a symlink) */
        if (depth >= SPOOL_TREE_DEPTH
            || (sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            msg_warn("cannot remove %s/%s: %s", shown, de->d_name,
                     depth >= SPOOL_TREE_DEPTH ? "nested too deep" : strerror(errno));
            ret = -1;
            continue;
        }
        if (spool_empty_dir(sub, shown, depth + 1) < 0)
            ret = -1;
        (void)close(sub);
        if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0) {
            msg_warn("cannot remove %s/%s: %s", shown, de->d_name, strerror(errno));
            ret = -1;
        }
    }
    closedir(dp);
    return ret;
}

/* spool_sweep_open - the directory base_fd/name, ours and locked for
 * good (its process is gone): its descriptor, or -1 to leave it be */
static int spool_sweep_open(int base_fd, const char *name)
{
    struct stat before, fst, lst;
    int     fd;

    /* In a shared sticky directory (/dev/shm) another user's entry is
     * not ours to judge: never opened (its lock never taken), never
     * emptied. Checked before the open, and again on what was opened. */
    if (fstatat(base_fd, name, &before, AT_SYMLINK_NOFOLLOW) < 0
        || !S_ISDIR(before.st_mode) || before.st_uid != geteuid())
        return -1;
    fd = openat(base_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;                      /* gone, or not a directory */
    /* A held lock is a live process: never touched. */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0
        || fstat(fd, &fst) < 0
        || fst.st_dev != before.st_dev || fst.st_ino != before.st_ino
        || fst.st_uid != geteuid()
        || fstatat(base_fd, name, &lst, AT_SYMLINK_NOFOLLOW) < 0
        || fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* spool_sweep - remove the private directories of dead processes */
int spool_sweep(const char *dir, const char *prefix)
{
    DIR    *dp;
    struct dirent *de;
    size_t  plen = strlen(prefix);
    int     base_fd, fd, dfd, count = 0;

    if ((base_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return 0;
    if ((dfd = dup(base_fd)) < 0 || (dp = fdopendir(dfd)) == NULL) {
        if (dfd >= 0)
            (void)close(dfd);
        (void)close(base_fd);
        return 0;
    }
    while ((de = readdir(dp)) != NULL) {
        if (strncmp(de->d_name, prefix, plen) != 0)
            continue;
        if ((fd = spool_sweep_open(base_fd, de->d_name)) < 0)
            continue;
        (void)spool_empty_dir(fd, de->d_name, 1);
        if (unlinkat(base_fd, de->d_name, AT_REMOVEDIR) == 0)
            count++;
        else
            msg_warn("cannot remove %s/%s: %s", dir, de->d_name, strerror(errno));
        (void)close(fd);
    }
    closedir(dp);
    (void)close(base_fd);
    return count;
}

/* spool_private_dir_remove - our own private directory, at the end */
void spool_private_dir_remove(int fd, const char *path)
{
    struct stat fst, lst;

    if (fd < 0)
        return;
    if (fstat(fd, &fst) == 0 && lstat(path, &lst) == 0
        && fst.st_dev == lst.st_dev && fst.st_ino == lst.st_ino) {
        (void)spool_empty_dir(fd, path, 1);
        if (rmdir(path) < 0)
            msg_warn("cannot remove %s: %s", path, strerror(errno));
    }
    (void)close(fd);
}
