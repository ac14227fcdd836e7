/*
 * test_lib_spoolsweep - spool_sweep() in a shared sticky directory
 *
 * spool_sweep() must remove the private directory of a dead process (its
 * lock free) with what it holds, leave a live one (lock held), follow no
 * symlink, and, as root, never open or empty a directory owned by another
 * user, even with its lock free (/dev/shm is shared by every user).
 * Everything happens under a mkdtemp directory made sticky like /dev/shm.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/spool.h"
#include "tests/unit/unittest.h"

#define PREFIX "postsift-t-"

static char tmpdir[] = "/tmp/test_lib_spoolsweep.XXXXXX";

/* put - a small file at dir/name */
static void put(const char *dir, const char *name)
{
    char    path[512];
    int     fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
        msg_fatal("create %s: %s", path, strerror(errno));
    if (write(fd, "x\n", 2) != 2)
        msg_fatal("write %s: %s", path, strerror(errno));
    (void)close(fd);
}

/* exists - does path exist (not followed) */
static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* test_sweep - dead, live, symlinked and foreign directories */
static void test_sweep(void)
{
    VBUF   *dead = vbuf_alloc(0), *live = vbuf_alloc(0), *err = vbuf_alloc(0);
    char    foreign[512], link[512], inside[600];
    struct passwd *pw = getpwnam("nobody");
    int     fd, live_fd, root = geteuid() == 0 && pw != NULL;

    UT_CHECK((fd = spool_private_dir(tmpdir, PREFIX, dead, err)) >= 0, "dead: %s", vbuf_str(err));
    put(vbuf_str(dead), "left-behind");
    (void)close(fd);                    /* its process is gone: the lock is free */
    UT_CHECK((live_fd = spool_private_dir(tmpdir, PREFIX, live, err)) >= 0, "live: %s",
             vbuf_str(err));
    put(vbuf_str(live), "in-use");
    snprintf(link, sizeof(link), "%s/%slink", tmpdir, PREFIX);
    UT_CHECK(symlink(vbuf_str(live), link) == 0, "symlink: %s", strerror(errno));
    snprintf(foreign, sizeof(foreign), "%s/%sforeign", tmpdir, PREFIX);
    UT_CHECK(mkdir(foreign, 0700) == 0, "mkdir: %s", strerror(errno));
    put(foreign, "theirs");
    snprintf(inside, sizeof(inside), "%s/theirs", foreign);
    if (root) {
        UT_CHECK(chown(inside, pw->pw_uid, pw->pw_gid) == 0, "chown: %s", strerror(errno));
        UT_CHECK(chown(foreign, pw->pw_uid, pw->pw_gid) == 0, "chown: %s", strerror(errno));
    } else {
        printf("note: not root; the foreign owner case is skipped\n");
    }

    UT_EQ_INT(spool_sweep(tmpdir, PREFIX), root ? 1 : 2, "directories removed");
    UT_CHECK(!exists(vbuf_str(dead)), "a dead process's directory is removed");
    UT_CHECK(exists(vbuf_str(live)), "a live process's directory stays");
    UT_CHECK(exists(link), "a symlink is not followed nor removed");
    if (root) {
        UT_CHECK(exists(foreign), "another user's directory stays");
        UT_CHECK(exists(inside), "another user's directory is not emptied");
        /* Its lock was never taken: it is free for its owner now. */
        fd = open(foreign, O_RDONLY | O_DIRECTORY);
        UT_CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "foreign lock free");
        if (fd >= 0)
            (void)close(fd);
        (void)unlink(inside);
        (void)rmdir(foreign);
    }
    (void)unlink(link);
    spool_private_dir_remove(live_fd, vbuf_str(live));
    UT_CHECK(!exists(vbuf_str(live)), "our own directory removed at the end");
    vbuf_free(dead);
    vbuf_free(live);
    vbuf_free(err);
}

/* main - run every test */
int main(void)
{
    UT_BEGIN("test_lib_spoolsweep");
    msg_init("test_lib_spoolsweep", 0);
    if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 01777) < 0) {
        perror("mkdtemp");
        return 1;
    }
    test_sweep();
    (void)rmdir(tmpdir);
    return ut_done();
}
