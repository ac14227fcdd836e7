/*
 * test_lib_safefile - what root may open by name, and what it refuses
 *
 * safefile_open() must create a missing file (and say so), open a plain
 * file of ours, and refuse without waiting: a symlink, a hard link (to a
 * file of root's: the /etc/shadow attack), a FIFO, a directory, a file of
 * another user (as root), a file in a directory that everyone may write.
 * The refused file is never written, truncated or changed in mode. Also
 * log_file (msg_set_logfile, msg_logfile_give): a hard link or a symlink
 * there is not written and never given away; a file the process created
 * is given, one that was there before is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/msg.h"
#include "lib/params.h"
#include "lib/safefile.h"
#include "lib/vbuf.h"
#include "tests/unit/unittest.h"

static char tmpdir[] = "/tmp/test_lib_safefile.XXXXXX";

/* tpath - a name in the test directory (static buffers, 4 in rotation) */
static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

/* put - create path with text, mode 0600 */
static void put(const char *path, const char *text)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
        msg_fatal("write %s: %s", path, strerror(errno));
}

/* content - the first bytes of a file, "" if unreadable (static buffer) */
static const char *content(const char *path)
{
    static char buf[256];
    int     fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
    return buf;
}

/* try_open - safefile_open in a child under an alarm: the fd's fate as
 * 0 (opened), 1 (refused), 2 (hung or crashed) */
static int try_open(const char *path, int flags, uid_t owner)
{
    VBUF   *err = vbuf_alloc(1024);
    pid_t   pid;
    int     st, created, fd;

    if ((pid = fork()) == 0) {
        alarm(5);
        fd = safefile_open(path, flags, 0644, owner, &created, err);
        if (fd >= 0 && (flags & O_ACCMODE) != O_RDONLY)
            (void)!write(fd, "WRITTEN", 7);
        _exit(fd >= 0 ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    vbuf_free(err);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

/* test_open - the table of what is found at the path */
static void test_open(void)
{
    VBUF   *err = vbuf_alloc(1024);
    struct stat st;
    int     fd, created;

    /* missing: created with the mode (less the umask, 077), and we are told */
    fd = safefile_open(tpath("new"), O_WRONLY | O_APPEND, 0640, SAFEFILE_NO_OWNER, &created, err);
    UT_CHECK(fd >= 0 && created, "missing file: created (%s)", vbuf_str(err));
    UT_CHECK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600,
             "missing file: mode 0640 & ~umask");
    if (fd >= 0)
        close(fd);
    /* there now: opened, not created */
    fd = safefile_open(tpath("new"), O_WRONLY | O_APPEND, 0640, SAFEFILE_NO_OWNER, &created, err);
    UT_CHECK(fd >= 0 && !created, "existing file: opened, not created (%s)", vbuf_str(err));
    if (fd >= 0)
        close(fd);

    /* the victim: a file of ours (root's, when run as root), mode 0600 */
    put(tpath("victim"), "secret\n");
    UT_CHECK(link(tpath("victim"), tpath("hardlink")) == 0, "link: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("hardlink"), O_RDWR, SAFEFILE_NO_OWNER), 1, "hard link refused");
    UT_EQ_INT(try_open(tpath("victim"), O_RDWR, SAFEFILE_NO_OWNER), 1,
              "the file itself, while it has two links, refused");
    UT_CHECK(symlink(tpath("victim"), tpath("symlink")) == 0, "symlink: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("symlink"), O_WRONLY | O_APPEND, SAFEFILE_NO_OWNER), 1,
              "symlink refused");
    UT_EQ_STR(content(tpath("victim")), "secret\n", "victim not written");
    UT_CHECK(stat(tpath("victim"), &st) == 0 && (st.st_mode & 0777) == 0600,
             "victim mode unchanged");
    UT_CHECK(mkfifo(tpath("fifo"), 0600) == 0, "mkfifo: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("fifo"), O_WRONLY | O_APPEND, SAFEFILE_NO_OWNER), 1,
              "FIFO refused, without waiting");
    UT_CHECK(mkdir(tpath("dir"), 0700) == 0, "mkdir: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("dir"), O_RDONLY, SAFEFILE_NO_OWNER), 1, "directory refused");
    UT_CHECK(unlink(tpath("hardlink")) == 0, "unlink: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("victim"), O_RDWR, SAFEFILE_NO_OWNER), 0,
              "one link again: opened");

    /* directories open to everyone: refused, unless sticky */
    UT_CHECK(mkdir(tpath("open"), 0700) == 0 && chmod(tpath("open"), 0777) == 0,
             "mkdir open: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("open/log"), O_WRONLY | O_APPEND, SAFEFILE_NO_OWNER), 1,
              "in a world-writable directory: refused");
    UT_CHECK(chmod(tpath("open"), 01777) == 0, "chmod: %s", strerror(errno));
    UT_EQ_INT(try_open(tpath("open/log"), O_WRONLY | O_APPEND, SAFEFILE_NO_OWNER), 0,
              "in a sticky world-writable directory: created");

    /* another user's file, as root: refused unless it is the named owner */
    if (geteuid() == 0) {
        put(tpath("foreign"), "theirs\n");
        UT_CHECK(chown(tpath("foreign"), 4242, 4242) == 0, "chown: %s", strerror(errno));
        UT_EQ_INT(try_open(tpath("foreign"), O_WRONLY | O_APPEND, SAFEFILE_NO_OWNER), 1,
                  "file of another user: refused");
        UT_EQ_INT(try_open(tpath("foreign"), O_WRONLY | O_APPEND, 4242), 0,
                  "file of the named owner: opened");
    } else {
        printf("note: not root; the owner checks are skipped\n");
    }
    vbuf_free(err);
}

/* test_logfile - log_file: never written or given away through a link */
static void test_logfile(void)
{
    static char daemon_user[] = "daemon";
    struct passwd *pw;
    struct stat st;

    if (geteuid() != 0) {
        printf("note: not root; the log_file give-away checks are skipped\n");
        return;
    }
    /* the /etc/shadow attack: a hard link to a file of root's */
    put(tpath("shadow"), "root:x:0:\n");
    UT_CHECK(link(tpath("shadow"), tpath("log.hard")) == 0, "link: %s", strerror(errno));
    msg_set_logfile(tpath("log.hard"));
    msg_info("a line that must not reach the linked file");
    msg_logfile_give(4242, 4242);
    UT_CHECK(stat(tpath("shadow"), &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
             "hard link: the target is still root's (uid %ld)", (long)st.st_uid);
    UT_EQ_STR(content(tpath("shadow")), "root:x:0:\n", "hard link: the target not written");

    /* a symlink to it */
    UT_CHECK(symlink(tpath("shadow"), tpath("log.sym")) == 0, "symlink: %s", strerror(errno));
    msg_set_logfile(tpath("log.sym"));
    msg_info("a line that must not reach the linked file");
    msg_logfile_give(4242, 4242);
    UT_CHECK(stat(tpath("shadow"), &st) == 0 && st.st_uid == 0,
             "symlink: the target is still root's");
    UT_EQ_STR(content(tpath("shadow")), "root:x:0:\n", "symlink: the target not written");

    /* an existing root file of its own: written, but not given away */
    put(tpath("log.old"), "");
    msg_set_logfile(tpath("log.old"));
    msg_info("line one");
    msg_logfile_give(4242, 4242);
    UT_CHECK(stat(tpath("log.old"), &st) == 0 && st.st_uid == 0,
             "existing log_file: not given away");
    UT_CHECK(strstr(content(tpath("log.old")), "line one") != NULL, "existing log_file: written");

    /* one the process creates: given to the daemon user */
    msg_set_logfile(tpath("log.new"));
    msg_logfile_give(4242, 4242);
    UT_CHECK(stat(tpath("log.new"), &st) == 0 && st.st_uid == 4242 && st.st_gid == 4242,
             "created log_file: given (uid %ld)", (long)st.st_uid);
    msg_info("line two");
    UT_CHECK(strstr(content(tpath("log.new")), "line two") != NULL, "created log_file: written");
    /* and reopened later (a reload): the daemon user's file is accepted
     * when it is daemon_user's */
    msg_set_logfile(tpath("log.new"));
    msg_info("line three");
    UT_CHECK(strstr(content(tpath("log.new")), "line three") == NULL,
             "a file of a user other than daemon_user: refused");
    if ((pw = getpwnam("daemon")) != NULL && pw->pw_uid != 0) {
        var_daemon_user = daemon_user;
        UT_CHECK(chown(tpath("log.new"), pw->pw_uid, pw->pw_gid) == 0, "chown: %s",
                 strerror(errno));
        msg_set_logfile(tpath("log.new"));
        msg_info("line four");
        UT_CHECK(strstr(content(tpath("log.new")), "line four") != NULL,
                 "a file of daemon_user: used");
    }
    msg_set_logfile(NULL);
}

int     main(void)
{
    char    cmd[600];

    UT_BEGIN("test_lib_safefile");
    msg_init("test_lib_safefile", 0);
    config_init();
    umask(077);
    if (mkdtemp(tmpdir) == NULL)
        msg_fatal("mkdtemp: %s", strerror(errno));
    test_open();
    test_logfile();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    (void)!system(cmd);
    return ut_done();
}
