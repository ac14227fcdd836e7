/*
 * spool - private temporary files, unlinked from birth (see spool.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/spool.h"

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

/* spool_copy_fd - copy src from offset 0 to the current offset of dst */
int spool_copy_fd(int src, int dst)
{
    char buf[65536];
    off_t off = 0;
    ssize_t n;

    for (;;) {
        n = pread(src, buf, sizeof(buf), off);
        if (n < 0 && errno == EINTR)
            continue;
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
